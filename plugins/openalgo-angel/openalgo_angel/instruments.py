"""OpenAPIScripMaster.json (brokers/angel 1.6) parsed into unified :class:`Instrument` rows.

The file is one JSON array of ~150k+ objects whose values are all strings. It is
decoded by ``msgspec`` straight into slotted rows (no dict per row); a file holding
any other value is decoded generically and read row by row, with the same result for
every readable row. The core's :class:`~openalgo_core.kit.builder.InstrumentBuilder`
pauses the GC, converts tick sizes, lots, expiries, strikes and index names (refusing
``NaN``, zero and absurd values), counts skipped rows and checks the result; the loop
over the rows is written out here (see :func:`_read_rows`). Rows on segments or of
instrument types this plugin does not offer are dropped; unreadable rows are skipped
and counted.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

import msgspec

from openalgo_core import BrokerResponseError, Instrument
from openalgo_core.kit import BAD_ROW, InstrumentBuilder
from openalgo_core.kit.symbols import EQUITY_SERIES, equity_symbol

from . import INFO
from .mapping import (
    CASH_SEGMENTS,
    INDEX_SEGMENTS,
    INSTRUMENT_KINDS,
    REBUILT_SEGMENTS,
    SEGMENTS,
    TICK_SCALE,
    strike_scale,
)

__all__ = ["parse_scrip_master"]

_KEYS = ("token", "symbol", "name", "expiry", "strike", "lotsize", "instrumenttype",
         "exch_seg", "tick_size")


class _Row(msgspec.Struct, gc=False):
    """One row as Angel writes it. A missing key or a ``null`` reads as ``None``,
    which is rejected like any other bad value; unknown keys are ignored."""

    token: str | None = None
    symbol: str | None = None
    name: str | None = None
    expiry: str | None = None
    strike: str | None = None
    lotsize: str | None = None
    instrumenttype: str | None = None
    exch_seg: str | None = None
    tick_size: str | None = None


_ROWS = msgspec.json.Decoder(list[_Row])
_ANY_JSON = msgspec.json.Decoder()
_ROW_FIELDS: Callable[[Any], tuple[Any, ...]] = attrgetter(*_KEYS)
_PREFERRED_SERIES = EQUITY_SERIES[0]


def _raw_fields(row: Any) -> tuple[Any, ...]:
    """The same fields from a generically decoded row (missing keys -> ``None``)."""
    return tuple(map(row.get, _KEYS))


def parse_scrip_master(content: bytes | str) -> list[Instrument]:
    """Every usable row of Angel's scrip master as an :class:`Instrument`.

    OpenAlgo symbols: equities without their series suffix (``SBIN-EQ`` -> ``SBIN``;
    when a name is listed in two series the ``-EQ`` row wins); indices by OpenAlgo's
    alias on NSE_INDEX/BSE_INDEX; NFO symbols as Angel writes them; BFO, MCX and CDS
    derivatives rebuilt as ``NAME DDMMMYY FUT`` or ``NAME DDMMMYY <strike> CE|PE``.
    Strikes and tick sizes are in rupees.

    Raises:
        BrokerResponseError: not a JSON array, or not one usable row in it.
    """
    with InstrumentBuilder(INFO.id, tick_scale=TICK_SCALE, strike_scale=strike_scale) as build:
        rows, fields = _decode(content)
        _read_rows(build, rows, fields)
    return build.result()


def _read_rows(build: InstrumentBuilder, rows: list[Any],
               fields: Callable[[Any], tuple[Any, ...]]) -> None:
    """Each row (its ``fields``, in ``_KEYS`` order) into ``build``; a row that raises
    :data:`BAD_ROW` is skipped and counted.

    The conversions are the builder's, cached in local dicts; the loop is written out
    with every lookup local and rows built positionally, because it runs once per row
    of a 200k-row file: through the builder's per-row methods (``each`` and ``option``
    ...) parse+index took ~15-20% longer. A stopgap until the kit's row methods cost
    no more than this loop."""
    ticks, lots, expiries, indices = build.ticks, build.lots, build.expiries, build.indices
    strikes = {segment: build.strikes(segment) for segment in SEGMENTS}
    kinds, segments, index_segments, cash, rebuilt = (
        INSTRUMENT_KINDS, SEGMENTS, INDEX_SEGMENTS, CASH_SEGMENTS, REBUILT_SEGMENTS)
    keep, keep_later, skipped = build.rows.append, build.later.append, build.skipped
    new, cls = tuple.__new__, Instrument  # a NamedTuple built without its Python __new__

    for row in rows:
        try:
            token, symbol, name, expiry, strike, lot, itype, segment, tick = fields(row)
            kind = kinds.get(itype)
            if kind is None:
                continue
            if type(token) is not str or type(symbol) is not str or type(name) is not str \
                    or not token:
                raise TypeError("token, symbol or name")
            tick_size, lot_size = ticks[tick], lots[lot]
            if kind == "EQ":
                if segment in cash:
                    bare = equity_symbol(symbol)
                    (keep if bare == symbol or symbol.endswith(_PREFERRED_SERIES)
                     else keep_later)(new(cls, (bare, segment, symbol, segment, token, name,
                                                "EQ", lot_size, tick_size, None, None, None)))
                continue
            if kind == "INDEX":
                exchange = index_segments.get(segment)
                if exchange is not None:
                    keep(new(cls, (indices[name or symbol], exchange, symbol, segment, token,
                                   name, "INDEX", lot_size, tick_size, None, None, None)))
                continue
            exchange = segments.get(segment)
            if exchange is None:
                continue
            day, code = expiries[expiry]
            if kind == "FUT":
                ours = f"{name}{code}FUT" if segment in rebuilt else symbol
                keep(new(cls, (ours, exchange, symbol, segment, token, name, "FUT", lot_size,
                               tick_size, day, None, None)))
                continue
            option_type = symbol[-2:]
            if option_type != "CE" and option_type != "PE":
                raise ValueError("option type")
            value, text = strikes[segment][strike]
            ours = f"{name}{code}{text}{option_type}" if segment in rebuilt else symbol
            keep(new(cls, (ours, exchange, symbol, segment, token, name, option_type,
                           lot_size, tick_size, day, value, option_type)))
        except BAD_ROW as exc:
            skipped[type(exc).__name__] += 1


def _decode(content: bytes | str) -> tuple[list[Any], Callable[[Any], tuple[Any, ...]]]:
    """The rows and how to read their fields: slotted rows when every value is a string
    (or ``null``), else generically decoded objects."""
    try:
        return _ROWS.decode(content), _ROW_FIELDS
    except msgspec.ValidationError:  # not all objects of strings: read row by row
        pass
    except (msgspec.DecodeError, RecursionError):
        raise _bad(content, "is not valid JSON") from None
    try:
        rows = _ANY_JSON.decode(content)
    except (msgspec.DecodeError, RecursionError):
        raise _bad(content, "is not valid JSON") from None
    if not isinstance(rows, list):
        raise _bad(content, "is not a JSON array")
    return rows, _raw_fields


def _bad(content: bytes | str, problem: str) -> BrokerResponseError:
    return BrokerResponseError(f"scrip master {problem}", broker=INFO.id, raw=content[:200])
