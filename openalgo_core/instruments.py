"""Master-contract index and its daily on-disk cache.

:class:`InstrumentIndex` resolves ``(symbol, exchange)`` to an
:class:`~openalgo_core.models.Instrument` in O(1), and a broker token or broker
symbol back to the OpenAlgo symbol. :class:`InstrumentCache` keeps one file per
broker per IST day: a header, three lines of precomputed lookup keys, then one
line per row. Loading splits only the key line; a row is parsed on first use.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import gc
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path

from .errors import ConfigurationError, UnknownSymbolError, ValidationError
from .models import IST, Instrument, OrderRequest

__all__ = ["InstrumentCache", "InstrumentIndex", "check_order", "gc_paused"]

FIELDS = Instrument._fields
_SEP = "\x1f"  # between the fields of a row, and exchange | symbol in a key
_RS = "\x1e"  # between the keys of a key line
_FORMAT = 4
KeyKind = str  # "symbol", "token" or "broker_symbol"


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while a large acyclic structure is built: its repeated
    passes over a growing heap would otherwise cost more than the work itself."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _clean(value: object) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return text.replace(_SEP, " ").replace(_RS, " ").replace("\n", " ")


def _row_keys(rows: Sequence[Instrument], kind: KeyKind) -> list[str]:
    if kind == "token":
        return [r[3] + _SEP + r[4] for r in rows]
    return [r[3] + _SEP + r[2] for r in rows]


def _symbol_table(rows: Sequence[Instrument]) -> dict[str, dict[str, _Entry]]:
    """exchange -> symbol -> row (first wins): two lookups on cached string hashes,
    no key built per lookup."""
    table: dict[str, dict[str, _Entry]] = {}
    for row in rows:
        by_symbol = table.get(row[1])
        if by_symbol is None:
            by_symbol = table[row[1]] = {}
        if row[0] not in by_symbol:
            by_symbol[row[0]] = row
    return table


def _exchange_of(row: Instrument) -> str:
    return row[1]


def _first_wins(keys: list[str], values: Sequence[_Entry]) -> dict[str, _Entry]:
    return dict(zip(reversed(keys), reversed(values), strict=True))


def _parse_row(line: str) -> Instrument:
    try:
        (symbol, exchange, broker_symbol, broker_exchange, token, name, itype, lot, tick,
         expiry, strike, option) = line.split(_SEP)
        return Instrument(symbol, exchange, broker_symbol, broker_exchange, token, name, itype,
                          int(lot), Decimal(tick),
                          dt.date.fromisoformat(expiry) if expiry else None,
                          Decimal(strike) if strike else None, option or None)
    except (ValueError, ArithmeticError):
        raise ConfigurationError(
            "the instrument cache is corrupt; run `openalgo instruments <broker> --refresh`"
        ) from None


#: A row as the plugin built it, or its still unparsed line from the cache.
_Entry = Instrument | str


class InstrumentIndex:
    """O(1) lookups over one broker's instruments. The first row of a key wins.

    Tables map a key straight to its row; a row loaded from the cache stays an
    unparsed line until first looked up, then is replaced by its Instrument.
    """

    def __init__(self, broker: str, entries: Sequence[_Entry],
                 symbols: dict[str, dict[str, _Entry]],
                 keys: Callable[[KeyKind], list[str]]) -> None:
        self.broker = broker
        self._entries = entries
        self._by_symbol = symbols
        self._keys = keys
        self._reverse: dict[KeyKind, dict[str, _Entry]] = {}

    @classmethod
    def from_instruments(cls, broker: str, instruments: Iterable[Instrument]) -> InstrumentIndex:
        rows = instruments if isinstance(instruments, list) else list(instruments)
        with gc_paused():
            table = _symbol_table(rows)
        return cls(broker, rows, table, lambda kind: _row_keys(rows, kind))

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Instrument]:
        return (_parse_row(e) if isinstance(e, str) else e for e in self._entries)

    @staticmethod
    def _take(table: dict[str, _Entry] | None, key: str) -> Instrument | None:
        if table is None:
            return None
        found = table.get(key)
        if isinstance(found, str):
            found = table[key] = _parse_row(found)
        return found

    def get(self, symbol: str, exchange: str) -> Instrument | None:
        return self._take(self._by_symbol.get(exchange), symbol)

    def resolve(self, symbol: str, exchange: str) -> Instrument:
        """The instrument for an OpenAlgo ``(symbol, exchange)``.

        Raises:
            UnknownSymbolError: with up to three close matches on that exchange.
        """
        table = self._by_symbol.get(exchange)
        found = table.get(symbol) if table is not None else None
        if type(found) is Instrument:  # the hot path: one call, two dict lookups
            return found
        found = self._take(table, symbol)
        if found is None:
            raise UnknownSymbolError(symbol, exchange, self._suggest(symbol, exchange))
        return found

    def _lookup(self, kind: KeyKind, key: str) -> Instrument | None:
        table = self._reverse.get(kind)
        if table is None:
            with gc_paused():
                table = self._reverse[kind] = _first_wins(self._keys(kind), self._entries)
        return self._take(table, key)

    def by_token(self, token: str, broker_exchange: str) -> Instrument | None:
        """Map a broker token (as in the broker's position rows) back to the instrument."""
        return self._lookup("token", broker_exchange + _SEP + token)

    def by_broker_symbol(self, broker_symbol: str, broker_exchange: str) -> Instrument | None:
        return self._lookup("broker_symbol", broker_exchange + _SEP + broker_symbol)

    def search(self, text: str, limit: int = 20) -> list[Instrument]:
        """Instruments whose symbol or name contains ``text`` (case-insensitive)."""
        needle = text.strip().upper()
        hits: list[Instrument] = []
        for entry in self._entries:
            if isinstance(entry, str):
                if needle not in entry.upper():
                    continue
                entry = _parse_row(entry)
            if needle in entry.symbol or needle in entry.name.upper():
                hits.append(entry)
                if len(hits) >= limit:
                    break
        return hits

    def _suggest(self, symbol: str, exchange: str) -> list[str]:
        wanted = symbol.upper()
        same = list(self._by_symbol.get(exchange, ()))
        pool = [s for s in same if s[:3] == wanted[:3]] or [s for s in same if s[:1] == wanted[:1]]
        return difflib.get_close_matches(wanted, pool[:5000], n=3, cutoff=0.6)

    def dump(self) -> tuple[list[tuple[str, int]], dict[KeyKind, str], list[str]]:
        """What :class:`InstrumentCache` stores: rows grouped by exchange (order kept
        within an exchange, so the first row of a key still wins), as
        ``(groups, key lines, row lines)``."""
        rows = [_parse_row(e) if isinstance(e, str) else e for e in self._entries]
        rows.sort(key=_exchange_of)  # stable
        groups: dict[str, int] = {}
        for row in rows:
            groups[row[1]] = groups.get(row[1], 0) + 1
        lines = [_SEP.join(map(_clean, row)) for row in rows]
        keys = {"symbol": _RS.join(_clean(row[0]) for row in rows)}
        keys.update({kind: _RS.join(k.replace(_RS, " ").replace("\n", " ")
                                    for k in _row_keys(rows, kind))
                     for kind in ("token", "broker_symbol")})
        return list(groups.items()), keys, lines


def check_order(order: OrderRequest, instrument: Instrument) -> None:
    """Check quantity against lot size and prices against tick size.

    Raises:
        ValidationError: naming the field, the value and the rule.
    """
    lot = instrument.lot_size
    if lot > 1 and order.quantity % lot:
        raise ValidationError(
            f"quantity: {order.quantity} is not a multiple of the lot size {lot}"
            f" of {instrument.symbol}", field="quantity")
    tick = instrument.tick_size
    if tick > 0:
        for name in ("price", "trigger_price"):
            value: Decimal = getattr(order, name)
            if value and value % tick:
                raise ValidationError(
                    f"{name}: {value} is not a multiple of the tick size {tick}"
                    f" of {instrument.symbol}", field=name)


class InstrumentCache:
    """One file per broker per IST day under ``directory``."""

    KINDS = ("symbol", "token", "broker_symbol")

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path(self, broker: str, day: dt.date | None = None) -> Path:
        day = day or dt.datetime.now(IST).date()
        return self.directory / f"instruments-{broker}-{day:%Y%m%d}.txt"

    def load(self, broker: str, day: dt.date | None = None) -> InstrumentIndex | None:
        """Today's index from disk, or None if there is no (valid) cache for today."""
        try:
            text = self.path(broker, day).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        with gc_paused():
            lines = text.split("\n")  # one pass, no intermediate copies of the body
        try:
            meta = json.loads(lines[0])
            count = int(meta["count"])
            if meta.get("format") != _FORMAT or meta.get("fields") != list(FIELDS) \
                    or meta.get("length") != len(text) - len(lines[0]) - 1 \
                    or len(lines) != count + 4:
                return None
        except (ValueError, KeyError, TypeError):
            return None
        keys = dict(zip(self.KINDS, lines[1:4], strict=True))
        if any(keys[k].count(_RS) != max(count - 1, 0) for k in self.KINDS):
            return None
        del lines[:4]
        if not count:
            lines = []
        symbols = keys["symbol"].split(_RS) if count else []
        table: dict[str, dict[str, _Entry]] = {}
        start = 0
        with gc_paused():
            for exchange, size in meta.get("groups", []):
                end = start + size
                table[exchange] = dict(zip(reversed(symbols[start:end]),
                                           reversed(lines[start:end]), strict=True))
                start = end
        if start != count:
            return None
        return InstrumentIndex(broker, lines, table,
                               lambda kind: keys[kind].split(_RS) if count else [])

    def save(self, index: InstrumentIndex, day: dt.date | None = None) -> Path:
        """Write atomically (temp file + rename) so a reader never sees half a file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(index.broker, day)
        groups, keys, lines = index.dump()
        body = "\n".join([*(keys[k] for k in self.KINDS), *lines])
        header = json.dumps({"format": _FORMAT, "broker": index.broker, "count": len(index),
                             "fields": list(FIELDS), "length": len(body), "groups": groups})
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(header + "\n" + body)
        os.replace(tmp, path)
        for old in self.directory.glob(f"instruments-{index.broker}-*.txt"):
            if old != path:
                old.unlink(missing_ok=True)
        return path
