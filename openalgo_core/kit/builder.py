"""Build a master contract's :class:`~openalgo_core.models.Instrument` rows fast.

Master contracts hold 150k+ rows, so :class:`InstrumentBuilder` does what makes that
cheap, once, for every broker: rows are built positionally (``Instrument`` is a
``NamedTuple``: no keyword parsing per row), the few distinct tick sizes, lot sizes,
expiries, strikes and index names are converted once and cached, OpenAlgo symbols are
spelled by :mod:`~openalgo_core.kit.symbols`, and the cyclic GC is paused while the
list grows. A bad row is skipped and counted, never fatal and never silent. A plugin
reading a very big file in its own loop uses the builder's conversion tables
(``build.ticks[raw]``, ``build.lots``, ``build.expiries``, ``build.strikes(segment)``,
``build.indices``: dicts that convert on first sight) and appends to ``build.rows``::

    def read(raw):                     # may raise on a bad row: it is skipped, counted
        build.equity(raw["sym"], "NSE", raw["sym"] + "-EQ", "NSE", raw["tok"], raw["name"],
                     raw["lot"], raw["tick"])

    with InstrumentBuilder("mybroker", tick_scale=Decimal(100)) as build:
        build.each(rows, read)
    instruments = build.result()       # logs how many rows were skipped, and why
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from types import TracebackType
from typing import Any, TypeVar

from ..errors import BrokerResponseError
from ..instruments import gc_paused
from ..models import Instrument
from .rows import number, whole_number
from .symbols import expiry_code, index_symbol, strike_text

__all__ = ["BAD_ROW", "Converted", "InstrumentBuilder"]

log = logging.getLogger("openalgo.instruments")

#: What reading a malformed row may raise (a :class:`~openalgo_core.kit.rows.Row` reader
#: raises BrokerResponseError); such a row is skipped and counted.
BAD_ROW = (KeyError, IndexError, TypeError, ValueError, AttributeError, ArithmeticError,
           InvalidOperation, BrokerResponseError)
_NEW = tuple.__new__
_Raw = TypeVar("_Raw")
_K = TypeVar("_K")
_V = TypeVar("_V")


def _ddmmmyyyy(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d%b%Y").date()


class InstrumentBuilder:
    """Collects one master contract's instruments.

    Args:
        broker: the broker id (for errors and the skipped-rows log line).
        tick_scale: what a raw tick size is divided by to give rupees (100 for paise).
        strike_scale: the same for strikes (a function of the broker exchange when it
            differs by segment, e.g. Angel's currency strikes are x10^7).
        parse_expiry: raw expiry text -> date (default ``28MAR2024``).
    """

    def __init__(self, broker: str, *, tick_scale: Decimal = Decimal(1),
                 strike_scale: Decimal | Callable[[str], Decimal] = Decimal(1),
                 parse_expiry: Callable[[str], dt.date] = _ddmmmyyyy) -> None:
        self.broker = broker
        self.rows: list[Instrument] = []
        self.later: list[Instrument] = []
        self.skipped: Counter[str] = Counter()
        self._tick_scale = tick_scale
        self._strike_scale = strike_scale if callable(strike_scale) \
            else (lambda exchange, s=strike_scale: s)
        self._parse_expiry = parse_expiry
        #: raw -> converted, converted on first sight (a hit is one dict subscript): for
        #: a plugin's own tight loop over a big file; the row methods use them too.
        self.ticks: Converted[Any, Decimal] = Converted(self._tick)
        self.lots: Converted[Any, int] = Converted(self._lot)
        self.expiries: Converted[Any, tuple[dt.date, str]] = Converted(self._expiry)
        self.indices: Converted[str, str] = Converted(index_symbol)
        self._strikes: dict[str, Converted[Any, tuple[Decimal, str]]] = {}
        self._gc = gc_paused()

    def __enter__(self) -> InstrumentBuilder:
        self._gc.__enter__()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._gc.__exit__(kind, exc, tb)

    def each(self, rows: Iterable[_Raw], read: Callable[[_Raw], object]) -> None:
        """``read(row)`` for every raw row; a row whose reading raises one of
        :data:`BAD_ROW` is skipped and counted by the exception's name."""
        skipped = self.skipped
        for raw in rows:
            try:
                read(raw)
            except BAD_ROW as exc:
                skipped[type(exc).__name__] += 1

    # -- cached conversions (each raises ValueError on a bad value) --------------------
    def _tick(self, raw: Any) -> Decimal:
        value = number(raw) / self._tick_scale
        if value <= 0:
            raise ValueError(f"tick size {raw!r}")
        return _rupees(value)

    def _lot(self, raw: Any) -> int:
        value = whole_number(raw)
        if value < 1:
            raise ValueError(f"lot size {raw!r}")
        return value

    def _expiry(self, raw: Any) -> tuple[dt.date, str]:
        if isinstance(raw, dt.date):
            day = raw
        elif isinstance(raw, str):
            day = self._parse_expiry(raw.strip())
        else:
            raise ValueError(f"expiry {raw!r}")
        return day, expiry_code(day)

    def strikes(self, broker_exchange: str) -> Converted[Any, tuple[Decimal, str]]:
        """raw strike -> (rupees, OpenAlgo text), > 0, on one broker exchange."""
        found = self._strikes.get(broker_exchange)
        if found is None:
            scale = self._strike_scale(broker_exchange)

            def convert(raw: Any) -> tuple[Decimal, str]:
                value = _rupees(number(raw) / scale)
                if value <= 0:
                    raise ValueError(f"strike {raw!r}")
                return value, strike_text(value)

            found = self._strikes[broker_exchange] = Converted(convert)
        return found

    # -- rows ---------------------------------------------------------------------------
    def equity(self, symbol: str, exchange: str, broker_symbol: str, broker_exchange: str,
               token: str, name: str, lot: Any, tick: Any, *, later: bool = False) -> None:
        """A cash listing; ``later`` rows go after every other row (so that, for one
        symbol listed in two series, the preferred one wins)."""
        _texts(symbol, broker_symbol, name)
        (self.later if later else self.rows).append(_NEW(Instrument, (
            symbol, exchange, broker_symbol, broker_exchange, _token(token), name, "EQ",
            self.lots[lot], self.ticks[tick], None, None, None)))

    def index(self, name: str, exchange: str, broker_symbol: str, broker_exchange: str,
              token: str, tick: Any = "0.05", *, symbol: str | None = None) -> None:
        """An index (quotes only), under OpenAlgo's alias of ``name``."""
        _texts(name, broker_symbol)
        self.rows.append(_NEW(Instrument, (
            symbol or self.indices[name], exchange, broker_symbol, broker_exchange,
            _token(token), name, "INDEX", 1, self.ticks[tick], None, None, None)))

    def future(self, name: str, exchange: str, broker_symbol: str, broker_exchange: str,
               token: str, lot: Any, tick: Any, expiry: Any, *,
               symbol: str | None = None) -> None:
        """A future; its symbol is spelled ``NAME DDMMMYY FUT`` unless ``symbol`` is given
        (a broker whose own symbol already is OpenAlgo's)."""
        _texts(name, broker_symbol)
        day, code = self.expiries[expiry]
        self.rows.append(_NEW(Instrument, (
            symbol or f"{name}{code}FUT", exchange, broker_symbol, broker_exchange,
            _token(token), name, "FUT", self.lots[lot], self.ticks[tick], day, None, None)))

    def option(self, name: str, exchange: str, broker_symbol: str, broker_exchange: str,
               token: str, lot: Any, tick: Any, expiry: Any, strike: Any, option_type: str,
               *, symbol: str | None = None) -> None:
        """An option (``CE``/``PE``); symbol ``NAME DDMMMYY strike CE|PE`` unless given."""
        if option_type != "CE" and option_type != "PE":
            raise ValueError(f"option type {option_type!r}")
        _texts(name, broker_symbol)
        day, code = self.expiries[expiry]
        value, text = self.strikes(broker_exchange)[strike]
        self.rows.append(_NEW(Instrument, (
            symbol or f"{name}{code}{text}{option_type}", exchange, broker_symbol,
            broker_exchange, _token(token), name, option_type, self.lots[lot], self.ticks[tick],
            day, value, option_type)))

    def result(self) -> list[Instrument]:
        """Every row built, ``later`` ones last; logs the skipped rows by reason.

        Raises:
            BrokerResponseError: not one usable row.
        """
        rows = self.rows + self.later if self.later else self.rows
        skipped = sum(self.skipped.values())
        if skipped:
            log.warning("%s master contract: %d rows skipped as unreadable (%s)", self.broker,
                        skipped, ", ".join(f"{n} {why}" for why, n in self.skipped.items()))
        if not rows:
            raise BrokerResponseError(f"master contract has no usable rows ({skipped} skipped)",
                                      broker=self.broker)
        return rows


class Converted(dict[_K, _V]):
    """A dict that converts a missing key on first sight and keeps the result; a bad
    key raises the converter's error and is not kept."""

    __slots__ = ("convert",)

    def __init__(self, convert: Callable[[_K], _V]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, raw: _K) -> _V:
        value = self[raw] = self.convert(raw)
        return value


def _token(token: str) -> str:
    if type(token) is not str or not token:
        raise ValueError("token")
    return token


def _texts(*values: str) -> None:
    """Symbols and names must be text (a JSON master may hold anything)."""
    for value in values:
        if type(value) is not str:
            raise TypeError("symbol or name")


def _rupees(value: Decimal) -> Decimal:
    """``Decimal('22500.00000000')`` -> ``Decimal('22500')``; ``0.0500`` -> ``0.05``."""
    return Decimal(format(value.normalize(), "f"))
