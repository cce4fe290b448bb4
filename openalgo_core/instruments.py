"""Master-contract index and its daily on-disk cache.

:class:`InstrumentIndex` resolves ``(symbol, exchange)`` to an
:class:`~openalgo_core.models.Instrument` in O(1), and a broker token or broker
symbol back to the OpenAlgo symbol. :class:`InstrumentCache` keeps one file per
broker per IST day in a columnar text format that loads without building every
row: rows are materialised on first lookup.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path

from .errors import UnknownSymbolError, ValidationError
from .models import IST, Instrument, OrderRequest

__all__ = ["InstrumentCache", "InstrumentIndex", "check_order"]

FIELDS = tuple(f.name for f in dataclasses.fields(Instrument))
_TEXT_FIELDS = frozenset({"symbol", "exchange", "broker_symbol", "broker_exchange", "token",
                          "name", "instrument_type"})
_SEP = "\x1f"
_FORMAT = 1


def _encode(value: object) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return text.replace(_SEP, " ").replace("\n", " ")


class _Columns:
    """Rows stored as string columns, turned into Instruments on demand."""

    def __init__(self, columns: dict[str, list[str]]) -> None:
        self.columns = columns
        self._memo: dict[int, Instrument] = {}

    def __len__(self) -> int:
        return len(self.columns["symbol"])

    def __getitem__(self, i: int) -> Instrument:
        row = self._memo.get(i)
        if row is None:
            c = self.columns
            expiry, strike, option = c["expiry"][i], c["strike"][i], c["option_type"][i]
            row = Instrument(
                symbol=c["symbol"][i], exchange=c["exchange"][i],
                broker_symbol=c["broker_symbol"][i], broker_exchange=c["broker_exchange"][i],
                token=c["token"][i], name=c["name"][i], instrument_type=c["instrument_type"][i],
                lot_size=int(c["lot_size"][i]), tick_size=Decimal(c["tick_size"][i]),
                expiry=dt.date.fromisoformat(expiry) if expiry else None,
                strike=Decimal(strike) if strike else None, option_type=option or None)
            self._memo[i] = row
        return row

    def column(self, name: str) -> Sequence[str]:
        return self.columns[name]


class _Rows:
    def __init__(self, rows: list[Instrument]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> Instrument:
        return self.rows[i]

    def column(self, name: str) -> Sequence[str]:
        if name in _TEXT_FIELDS:
            return [getattr(r, name) for r in self.rows]
        return [_encode(getattr(r, name)) for r in self.rows]


def _first_wins(keys: Iterable[str], n: int) -> dict[str, int]:
    keys = list(keys)
    return dict(zip(reversed(keys), range(n - 1, -1, -1), strict=True))


class InstrumentIndex:
    """O(1) lookups over one broker's instruments. The first row of a key wins."""

    def __init__(self, broker: str, source: _Rows | _Columns) -> None:
        self.broker = broker
        self._source = source
        self._n = len(source)
        sym, exch = source.column("symbol"), source.column("exchange")
        self._by_symbol = _first_wins(map(_key, exch, sym), self._n)
        self._by_token: dict[str, int] | None = None
        self._by_brsym: dict[str, int] | None = None
        self._row: Callable[[int], Instrument] = (
            source.rows.__getitem__ if isinstance(source, _Rows) else source.__getitem__)

    @classmethod
    def from_instruments(cls, broker: str, instruments: Iterable[Instrument]) -> InstrumentIndex:
        return cls(broker, _Rows(list(instruments)))

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[Instrument]:
        return (self._row(i) for i in range(self._n))

    def get(self, symbol: str, exchange: str) -> Instrument | None:
        i = self._by_symbol.get(exchange + _SEP + symbol)
        return None if i is None else self._row(i)

    def resolve(self, symbol: str, exchange: str) -> Instrument:
        """The instrument for an OpenAlgo ``(symbol, exchange)``.

        Raises:
            UnknownSymbolError: with up to three close matches on that exchange.
        """
        i = self._by_symbol.get(exchange + _SEP + symbol)
        if i is None:
            raise UnknownSymbolError(symbol, exchange, self._suggest(symbol, exchange))
        return self._row(i)

    def by_token(self, token: str, broker_exchange: str) -> Instrument | None:
        """Map a broker token (as in the broker's position rows) back to the instrument."""
        if self._by_token is None:
            self._by_token = _first_wins(
                map(_key, self._source.column("broker_exchange"), self._source.column("token")),
                self._n)
        i = self._by_token.get(broker_exchange + _SEP + token)
        return None if i is None else self._row(i)

    def by_broker_symbol(self, broker_symbol: str, broker_exchange: str) -> Instrument | None:
        if self._by_brsym is None:
            self._by_brsym = _first_wins(
                map(_key, self._source.column("broker_exchange"),
                    self._source.column("broker_symbol")), self._n)
        i = self._by_brsym.get(broker_exchange + _SEP + broker_symbol)
        return None if i is None else self._row(i)

    def search(self, text: str, limit: int = 20) -> list[Instrument]:
        """Instruments whose symbol or name contains ``text`` (case-insensitive)."""
        needle = text.strip().upper()
        symbols, names = self._source.column("symbol"), self._source.column("name")
        hits: list[Instrument] = []
        for i in range(self._n):
            if needle in symbols[i] or needle in names[i].upper():
                hits.append(self._row(i))
                if len(hits) >= limit:
                    break
        return hits

    def _suggest(self, symbol: str, exchange: str) -> list[str]:
        prefix = exchange + _SEP + symbol.upper()[:3]
        pool = [k.split(_SEP, 1)[1] for k in self._by_symbol if k.startswith(prefix)]
        if not pool:
            pool = [k.split(_SEP, 1)[1] for k in self._by_symbol
                    if k.startswith(exchange + _SEP + symbol.upper()[:1])]
        return difflib.get_close_matches(symbol.upper(), pool[:5000], n=3, cutoff=0.6)

    def dump_columns(self) -> dict[str, Sequence[str]]:
        return {name: self._source.column(name) for name in FIELDS}


def _join(column: Sequence[str]) -> str:
    joined = _SEP.join(column)
    if "\n" in joined or joined.count(_SEP) != max(len(column) - 1, 0):
        joined = _SEP.join(map(_encode, column))
    return joined


def _key(exchange: str, value: str) -> str:
    return exchange + _SEP + value


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

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path(self, broker: str, day: dt.date | None = None) -> Path:
        day = day or dt.datetime.now(IST).date()
        return self.directory / f"instruments-{broker}-{day:%Y%m%d}.txt"

    def load(self, broker: str, day: dt.date | None = None) -> InstrumentIndex | None:
        """Today's index from disk, or None if there is no (valid) cache for today."""
        path = self.path(broker, day)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        header, _, body = text.partition("\n")
        try:
            meta = json.loads(header)
            lines = body.split("\n")
            if meta.get("format") != _FORMAT or meta.get("fields") != list(FIELDS):
                return None
            count = int(meta["count"])
            columns = {name: (lines[i].split(_SEP) if count else [])
                       for i, name in enumerate(FIELDS)}
        except (ValueError, KeyError, IndexError):
            return None
        if any(len(col) != count for col in columns.values()):
            return None
        return InstrumentIndex(broker, _Columns(columns))

    def save(self, index: InstrumentIndex, day: dt.date | None = None) -> Path:
        """Write atomically (temp file + rename) so a reader never sees half a file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(index.broker, day)
        columns = index.dump_columns()
        header = json.dumps({"format": _FORMAT, "broker": index.broker, "count": len(index),
                             "fields": list(FIELDS)})
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(header + "\n")
            out.write("\n".join(_join(columns[name]) for name in FIELDS))
        os.replace(tmp, path)
        for old in self.directory.glob(f"instruments-{index.broker}-*.txt"):
            if old != path:
                old.unlink(missing_ok=True)
        return path
