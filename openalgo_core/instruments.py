"""Master-contract index and its daily on-disk cache.

:class:`InstrumentIndex` resolves ``(symbol, exchange)`` to an
:class:`~openalgo_core.models.Instrument` in O(1), and a broker token or broker
symbol back to the OpenAlgo symbol. :class:`InstrumentCache` keeps one file per
broker per IST day: a header, three lines of precomputed lookup keys, the rows'
byte offsets, then one line per row. Loading splits only the symbol key line
and maps each symbol to its row number; a row is parsed on first use.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import gc
import json
import os
import sys
import tempfile
from array import array
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from itertools import accumulate
from pathlib import Path
from typing import NamedTuple

from .errors import ConfigurationError, UnknownSymbolError, ValidationError
from .models import IST, Instrument, OrderRequest

__all__ = ["InstrumentCache", "InstrumentIndex", "check_order", "gc_paused"]

FIELDS = Instrument._fields
_SEP = "\x1f"  # between the fields of a row, and exchange | symbol in a key
_RS = "\x1e"  # between the keys of a key line
_FORMAT = 6
#: header, symbols, token keys, broker-symbol keys, first rows, row offsets; then rows
_HEAD_LINES = 6
KEY_LINES: tuple[KeyKind, ...] = ("token", "broker_symbol")
_OFFSET_TYPE = "I"  # unsigned 32-bit: a body up to 4 GiB
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


def _symbol_table(rows: Sequence[Instrument]) -> dict[str, dict[str, Instrument]]:
    """exchange -> symbol -> row (first wins): two lookups on cached string hashes,
    no key built per lookup."""
    table: defaultdict[str, dict[str, Instrument]] = defaultdict(dict)
    for row in reversed(rows):  # earlier rows overwrite later ones: the first wins
        table[row[1]][row[0]] = row
    return dict(table)


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


#: In a token or broker-symbol table: the row, or its row number until first use.
_Entry = Instrument | int


class _CachedRows(Sequence[Instrument]):
    """The rows of a cache file: its bytes, where the rows start, and each row's
    offset from there; a row is decoded and parsed when asked for."""

    def __init__(self, data: bytes, start: int, offsets: array[int]) -> None:
        self._data = data
        self._start = start
        self._offsets = offsets
        self._upper: bytes | None = None  # the rows upper-cased, for search

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def line(self, i: int) -> str:
        start, offsets = self._start, self._offsets
        return self._data[start + offsets[i]:start + offsets[i + 1] - 1].decode("utf-8")

    def __getitem__(self, i: int) -> Instrument:  # type: ignore[override]
        if not 0 <= i < len(self):
            raise IndexError(i)
        return _parse_row(self.line(i))

    def holding(self, words: Sequence[str]) -> Iterator[int]:
        """The numbers of the rows whose text holds every one of ``words`` (ASCII, upper
        case), in order: found by ``bytes.find`` over the rows upper-cased once (the
        longest word first), no row decoded."""
        if self._upper is None:
            self._upper = self._data[self._start:].upper()
        upper, offsets = self._upper, self._offsets
        needles = sorted((w.encode("ascii") for w in words), key=len, reverse=True)
        first, others = needles[0], needles[1:]
        at = upper.find(first)
        while at >= 0:
            row = bisect_right(offsets, at) - 1
            if row >= len(self):
                return
            line = upper[offsets[row]:offsets[row + 1]]
            if all(needle in line for needle in others):
                yield row
            at = upper.find(first, offsets[row + 1])


class _SortedSymbols:
    """A loaded cache's symbol lookup: per exchange, its distinct symbols sorted, each
    with the number of its first row; found by binary search. Loading it is one
    split of one line, where a hash table would cost a dict entry per row."""

    def __init__(self, symbols: list[str], rows: array[int],
                 ranges: dict[str, tuple[int, int]]) -> None:
        self.symbols = symbols
        self.rows = rows
        self.ranges = ranges

    def find(self, symbol: str, exchange: str) -> int | None:
        bounds = self.ranges.get(exchange)
        if bounds is None:
            return None
        lo, hi = bounds
        i = bisect_left(self.symbols, symbol, lo, hi)
        return self.rows[i] if i < hi and self.symbols[i] == symbol else None

    def of(self, exchange: str) -> list[str]:
        lo, hi = self.ranges.get(exchange, (0, 0))
        return self.symbols[lo:hi]


class InstrumentIndex:
    """Lookups over one broker's instruments. The first row of a key wins.

    ``(symbol, exchange)`` resolves through exchange -> symbol -> row tables: O(1).
    An index loaded from the cache fills those tables as symbols are looked up,
    finding a symbol the first time by binary search and parsing its row then.
    Token and broker-symbol tables are built on first use.
    """

    def __init__(self, broker: str, entries: Sequence[Instrument],
                 symbols: dict[str, dict[str, Instrument]],
                 keys: Callable[[KeyKind], list[str]],
                 sorted_symbols: _SortedSymbols | None = None) -> None:
        self.broker = broker
        self._entries = entries
        self._by_symbol = symbols
        self._keys = keys
        self._sorted = sorted_symbols
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
        return iter(self._entries)

    def _find(self, symbol: str, exchange: str) -> Instrument | None:
        """A symbol not yet in the tables: look it up in the loaded cache, if any."""
        row = self._sorted.find(symbol, exchange) if self._sorted is not None else None
        if row is None:
            return None
        found = self._by_symbol.setdefault(exchange, {})[symbol] = self._entries[row]
        return found

    def get(self, symbol: str, exchange: str) -> Instrument | None:
        table = self._by_symbol.get(exchange)
        found = table.get(symbol) if table is not None else None
        return found if found is not None else self._find(symbol, exchange)

    def resolve(self, symbol: str, exchange: str) -> Instrument:
        """The instrument for an OpenAlgo ``(symbol, exchange)``.

        Raises:
            UnknownSymbolError: with up to three close matches on that exchange.
        """
        try:  # the hot path: one call, two dict subscripts
            return self._by_symbol[exchange][symbol]
        except KeyError:
            found = self._find(symbol, exchange)
        if found is None:
            raise UnknownSymbolError(symbol, exchange, self._suggest(symbol, exchange))
        return found

    def _lookup(self, kind: KeyKind, key: str) -> Instrument | None:
        table = self._reverse.get(kind)
        if table is None:
            with gc_paused():
                table = self._reverse[kind] = _first_wins(self._keys(kind),
                                                          range(len(self._entries)))
        found = table.get(key)
        if type(found) is int:
            found = table[key] = self._entries[found]
        return found  # type: ignore[return-value]

    def by_token(self, token: str, broker_exchange: str) -> Instrument | None:
        """Map a broker token (as in the broker's position rows) back to the instrument."""
        return self._lookup("token", broker_exchange + _SEP + token)

    def by_broker_symbol(self, broker_symbol: str, broker_exchange: str) -> Instrument | None:
        return self._lookup("broker_symbol", broker_exchange + _SEP + broker_symbol)

    def search(self, text: str, limit: int = 20, *,
               exchange: str | None = None) -> list[Instrument]:
        """Instruments (on ``exchange``, if given) whose symbol, name or broker symbol
        contains every word of ``text``, case-insensitive (``NIFTY 24000 CE``); at most
        ``limit``, in the index's order. On a loaded cache the rows holding every word
        are found as bytes first; only those are parsed."""
        words = text.upper().split()
        entries = self._entries
        rows: Iterable[int] = range(len(entries))
        if isinstance(entries, _CachedRows) and words and all(w.isascii() for w in words):
            rows = entries.holding(words)
        hits: list[Instrument] = []
        for i in rows:
            entry = entries[i]
            if exchange is not None and entry.exchange != exchange:
                continue
            fields = f"{entry.symbol} {entry.name} {entry.broker_symbol}".upper()
            if all(word in fields for word in words):
                hits.append(entry)
                if len(hits) >= limit:
                    break
        return hits

    def _suggest(self, symbol: str, exchange: str) -> list[str]:
        wanted = symbol.upper()
        same = self._sorted.of(exchange) if self._sorted is not None \
            else list(self._by_symbol.get(exchange, ()))
        pool = [s for s in same if s[:3] == wanted[:3]] or [s for s in same if s[:1] == wanted[:1]]
        return difflib.get_close_matches(wanted, pool[:5000], n=3, cutoff=0.6)

    def dump(self) -> _Dump:
        """What :class:`InstrumentCache` stores: rows grouped by exchange (order kept
        within an exchange), each exchange's distinct symbols sorted with the number
        of their first row, and the token and broker-symbol keys of every row."""
        rows = sorted(self._entries, key=_exchange_of)  # stable
        firsts: defaultdict[str, dict[str, int]] = defaultdict(dict)
        for number in range(len(rows) - 1, -1, -1):  # earlier rows overwrite: first wins
            row = rows[number]
            firsts[row[1]][_clean(row[0])] = number
        groups: dict[str, int] = {}
        for row in rows:
            groups[row[1]] = groups.get(row[1], 0) + 1
        symbols: list[str] = []
        numbers: list[int] = []
        for exchange in groups:
            for symbol, number in sorted(firsts[exchange].items()):
                symbols.append(symbol)
                numbers.append(number)
        keys = {kind: _RS.join(k.replace(_RS, " ").replace("\n", " ")
                               for k in _row_keys(rows, kind))
                for kind in ("token", "broker_symbol")}
        return _Dump([(e, n, len(firsts[e])) for e, n in groups.items()], _RS.join(symbols),
                     numbers, keys, [_SEP.join(map(_clean, row)) for row in rows])


class _Dump(NamedTuple):
    groups: list[tuple[str, int, int]]  # (exchange, rows, distinct symbols)
    symbols: str
    first_rows: list[int]
    keys: dict[KeyKind, str]
    lines: list[str]


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
        try:
            data = self.path(broker, day).read_bytes()
        except FileNotFoundError:
            return None
        try:
            ends = [data.index(b"\n")]
            for _ in range(_HEAD_LINES - 1):
                ends.append(data.index(b"\n", ends[-1] + 1))
            meta = json.loads(data[:ends[0]])
            count = int(meta["count"])
            groups = [(str(e), int(n), int(u)) for e, n, u in meta["groups"]]
            distinct = sum(u for _, _, u in groups)
            symbols = data[ends[0] + 1:ends[1]].decode().split(_RS) if distinct else []
            first_rows = array(_OFFSET_TYPE, bytes.fromhex(data[ends[3] + 1:ends[4]].decode()))
            offsets = array(_OFFSET_TYPE, bytes.fromhex(data[ends[4] + 1:ends[5]].decode()))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None
        if meta.get("format") != _FORMAT or meta.get("fields") != list(FIELDS) \
                or meta.get("byteorder") != sys.byteorder \
                or meta.get("length") != len(data) - ends[-1] - 1 \
                or len(offsets) != count + 1 or offsets[-1] != meta["length"] \
                or sum(n for _, n, _ in groups) != count \
                or len(symbols) != distinct or len(first_rows) != distinct \
                or (distinct and max(first_rows) >= count):
            return None
        ranges: dict[str, tuple[int, int]] = {}
        start = 0
        for exchange, _, size in groups:
            ranges[exchange] = (start, start + size)
            start += size
        lines = {"token": (ends[1] + 1, ends[2]), "broker_symbol": (ends[2] + 1, ends[3])}

        def keys(kind: KeyKind) -> list[str]:
            found = data[slice(*lines[kind])].decode().split(_RS) if count else []
            if len(found) != count:
                raise ConfigurationError(
                    "the instrument cache is corrupt; run"
                    f" `openalgo instruments {broker} --refresh`")
            return found

        return InstrumentIndex(broker, _CachedRows(data, ends[-1] + 1, offsets), {}, keys,
                               _SortedSymbols(symbols, first_rows, ranges))

    def latest(self, broker: str, *, before: dt.date) -> tuple[dt.date, InstrumentIndex] | None:
        """The newest valid cache of a day before ``before`` (the master a failed download
        falls back on), with its day; None when there is none."""
        days = []
        for path in self.directory.glob(f"instruments-{broker}-*.txt"):
            stamp = path.stem.rsplit("-", 1)[-1]
            try:
                day = dt.datetime.strptime(stamp, "%Y%m%d").date()
            except ValueError:
                continue
            if day < before:
                days.append(day)
        for day in sorted(days, reverse=True):
            index = self.load(broker, day)
            if index is not None:
                return day, index
        return None

    def save(self, index: InstrumentIndex, day: dt.date | None = None) -> Path:
        """Write atomically (temp file + rename) so a reader never sees half a file."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(index.broker, day)
        dump = index.dump()
        rows = [(line + "\n").encode("utf-8") for line in dump.lines]
        offsets = array(_OFFSET_TYPE, accumulate(map(len, rows), initial=0))
        header = json.dumps({"format": _FORMAT, "broker": index.broker, "count": len(index),
                             "fields": list(FIELDS), "length": offsets[-1],
                             "byteorder": sys.byteorder, "groups": dump.groups})
        head = "\n".join([header, dump.symbols, *(dump.keys[k] for k in KEY_LINES),
                          array(_OFFSET_TYPE, dump.first_rows).tobytes().hex(),
                          offsets.tobytes().hex(), ""])
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".txt")
        with os.fdopen(fd, "wb") as out:
            out.write(head.encode("utf-8"))
            out.writelines(rows)
        os.replace(tmp, path)
        for old in self.directory.glob(f"instruments-{index.broker}-*.txt"):
            if old != path:
                old.unlink(missing_ok=True)
        return path
