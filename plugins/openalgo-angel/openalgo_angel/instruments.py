"""OpenAPIScripMaster.json (brokers/angel 1.6) parsed into unified :class:`Instrument` rows.

The file is one JSON array of ~150k+ objects whose values are all strings. It is
decoded by ``msgspec`` straight into slotted rows (no dict per row), then read in
one pass with no per-row regex: the few distinct tick sizes, expiries, strikes and
index names are converted once and cached. Rows on segments or of instrument types
this plugin does not offer, or that cannot be read, are skipped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from operator import attrgetter
from typing import Any

import msgspec

from openalgo_core import BrokerClient, BrokerResponseError, Instrument
from openalgo_core.http import ProgressCallback
from openalgo_core.instruments import gc_paused

from . import _api
from .mapping import (
    CASH_SEGMENTS,
    EQUITY_SUFFIXES,
    INDEX_SEGMENTS,
    INSTRUMENT_KINDS,
    MONTHS,
    REBUILT_SEGMENTS,
    SEGMENTS,
    TICK_DIVISOR,
    equity_symbol,
    index_symbol,
    strike_divisor,
)

_KEYS = ("token", "symbol", "name", "expiry", "strike", "lotsize", "instrumenttype",
         "exch_seg", "tick_size")


class _Row(msgspec.Struct, gc=False):
    """One row as Angel writes it. A missing key or a ``null`` reads as ``None``,
    which the row checks reject like any other bad value; unknown keys are ignored."""

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
_ROW_FIELDS = attrgetter(*_KEYS)


def _raw_fields(row: Any) -> tuple[Any, ...]:
    """The same fields from a generically decoded row (missing keys -> ``None``)."""
    return tuple(map(row.get, _KEYS))


_PREFERRED_SERIES = EQUITY_SUFFIXES[0]
#: What a bad row can raise while being read; such a row is skipped.
_BAD_ROW = (KeyError, TypeError, ValueError, AttributeError, ArithmeticError)


def fetch_instruments(client: BrokerClient, progress: ProgressCallback) -> list[Instrument]:
    """Download the scrip master (public, no auth) and parse it."""
    content = client.download(client.url("master", _api.SCRIP_MASTER_PATH), progress=progress)
    return parse_scrip_master(content)


def parse_scrip_master(content: bytes | str) -> list[Instrument]:
    """Every usable row of Angel's scrip master as an :class:`Instrument`.

    OpenAlgo symbols: equities without their series suffix (``SBIN-EQ`` -> ``SBIN``;
    when a name is listed in two series the ``-EQ`` row comes first, so it wins);
    indices by OpenAlgo's alias on NSE_INDEX/BSE_INDEX; NFO symbols as Angel
    writes them; BFO, MCX and CDS derivatives rebuilt as ``NAME DDMMMYY FUT`` or
    ``NAME DDMMMYY <strike> CE|PE``. Strikes and tick sizes are in rupees.

    Raises:
        BrokerResponseError: not a JSON array, or not one usable row in it.
    """
    first: list[Instrument] = []
    later: list[Instrument] = []
    with gc_paused():
        rows: list[Any]
        try:
            rows, fields = _ROWS.decode(content), _ROW_FIELDS
        except msgspec.ValidationError:  # not all objects of strings: read row by row
            rows, fields = _decode_any(content), _raw_fields
        except msgspec.DecodeError:
            raise BrokerResponseError("scrip master is not valid JSON", broker=_api.BROKER,
                                      raw=content[:200]) from None
        _build_rows(rows, fields, first.append, later.append)
        first += later
    if not first:
        raise BrokerResponseError(f"scrip master has no usable rows (of {len(rows)})",
                                  broker=_api.BROKER, raw=content[:200])
    return first


def _decode_any(content: bytes | str) -> list[Any]:
    try:
        rows = _ANY_JSON.decode(content)
    except msgspec.DecodeError:
        raise BrokerResponseError("scrip master is not valid JSON", broker=_api.BROKER,
                                  raw=content[:200]) from None
    if not isinstance(rows, list):
        raise BrokerResponseError("scrip master is not a JSON array", broker=_api.BROKER,
                                  raw=content[:200])
    return rows


def _build_rows(rows: list[Any], fields: Callable[[Any], tuple[Any, ...]],
                keep: Callable[[Instrument], None],
                keep_later: Callable[[Instrument], None]) -> None:
    """Turn each row (its ``fields``, in ``_KEYS`` order) into an Instrument and pass
    it to ``keep`` (or ``keep_later``: equities of a series other than ``-EQ``). Rows
    not offered are dropped, and so is a bad row (one that raises ``_BAD_ROW``).
    Repeated conversions (tick sizes, expiries, strikes, index names) are computed
    once and cached. One loop with everything local: this runs once per row of a
    200k-row file."""
    ticks: dict[Any, Decimal] = {}
    lots: dict[Any, int] = {}
    expiries: dict[str, tuple[dt.date, str]] = {}
    strikes: dict[str, dict[str, tuple[Decimal, str]]] = {segment: {} for segment in SEGMENTS}
    indices: dict[str, str] = {}
    kinds, segments, index_segments = INSTRUMENT_KINDS, SEGMENTS, INDEX_SEGMENTS
    # Instrument is a NamedTuple: built straight from a tuple, without its Python __new__
    new, cls = tuple.__new__, Instrument

    for row in rows:
        try:
            token, symbol, name, expiry, strike, lot, itype, segment, tick = fields(row)
            kind = kinds.get(itype)
            if kind is None or type(token) is not str or type(symbol) is not str \
                    or type(name) is not str or not token:
                continue
            tick_size = ticks.get(tick)
            if tick_size is None:
                tick_size = ticks[tick] = _rupees(Decimal(tick) / TICK_DIVISOR)
            lot_size = lots.get(lot)
            if lot_size is None:
                lot_size = lots[lot] = int(lot)
            if kind == "EQ":
                if segment not in CASH_SEGMENTS:
                    continue
                ours = equity_symbol(symbol)
                (keep if ours == symbol or symbol.endswith(_PREFERRED_SERIES) else keep_later)(
                    new(cls, (ours, segment, symbol, segment, token, name, "EQ", lot_size,
                              tick_size, None, None, None)))
                continue
            if kind == "INDEX":
                exchange = index_segments.get(segment)
                if exchange is None:
                    continue
                key = name or symbol
                alias = indices.get(key)
                if alias is None:
                    alias = indices[key] = index_symbol(key)
                keep(new(cls, (alias, exchange, symbol, segment, token, name, "INDEX",
                               lot_size, tick_size, None, None, None)))
                continue
            exchange = segments.get(segment)
            if exchange is None:
                continue
            expiry_parts = expiries.get(expiry)
            if expiry_parts is None:
                expiry_parts = expiries[expiry] = _expiry(expiry)
            rebuilt = segment in REBUILT_SEGMENTS
            if kind == "FUT":
                ours = f"{name}{expiry_parts[1]}FUT" if rebuilt else symbol
                keep(new(cls, (ours, exchange, symbol, segment, token, name, "FUT", lot_size,
                               tick_size, expiry_parts[0], None, None)))
                continue
            option_type = symbol[-2:]
            if option_type != "CE" and option_type != "PE":
                continue
            segment_strikes = strikes[segment]
            strike_parts = segment_strikes.get(strike)
            if strike_parts is None:
                strike_parts = segment_strikes[strike] = _strike(strike, segment)
            ours = f"{name}{expiry_parts[1]}{strike_parts[1]}{option_type}" if rebuilt \
                else symbol
            keep(new(cls, (ours, exchange, symbol, segment, token, name, option_type, lot_size,
                           tick_size, expiry_parts[0], strike_parts[0], option_type)))
        except _BAD_ROW:
            continue


def _expiry(text: str) -> tuple[dt.date, str]:
    """``28MAR2024`` -> (date, ``28MAR24``)."""
    if len(text) != 9:
        raise ValueError(f"expiry {text!r}")
    return dt.date(int(text[5:]), MONTHS[text[2:5]], int(text[:2])), text[:5] + text[7:]


def _strike(text: str, segment: str) -> tuple[Decimal, str]:
    """Master strike (paise, or x10^7 on CDS) -> (rupees, text with no trailing zeros)."""
    value = _rupees(Decimal(text) / strike_divisor(segment))
    if value <= 0:
        raise ValueError(f"strike {text!r}")
    return value, format(value, "f")


def _rupees(value: Decimal) -> Decimal:
    """``Decimal('22500.00000000')`` -> ``Decimal('22500')``; ``0.0500`` -> ``0.05``."""
    return Decimal(format(value.normalize(), "f"))
