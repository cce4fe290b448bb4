"""Definedge's ``allmaster.zip`` (brokers/definedge 2.6) parsed into :class:`Instrument` rows.

The zip holds ``allmaster.csv``: no header, one row per instrument of every segment,
columns by position::

    0 segment  1 token  2 name  3 trading symbol  4 instrument type  5 expiry DDMMYYYY
    6 tick (x 10^precision)  7 lot  8 CE|PE  9 strike (x multiplier x 10^precision)
    10 precision  11 multiplier  12 ISIN  13 price factor  14 company name

Only columns 0-11 are read. Tick sizes and strikes are scaled by each row's own
precision and multiplier (currency rows have precision 4: nothing is divided by 100
blindly), and column 6 is the tick, column 7 the lot (OpenAlgo #1450 swapped them).
The core's :class:`~openalgo_core.kit.builder.InstrumentBuilder` pauses the GC,
converts lots and expiries once per distinct value, counts skipped rows and checks the
result; the loop over the rows is written out here for speed (see :func:`_read`). Rows
on segments or of instrument types this plugin does not offer are dropped; unreadable
rows are skipped and counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import lzma
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Final

from openalgo_core import BrokerResponseError, Instrument
from openalgo_core.kit import BAD_ROW, InstrumentBuilder
from openalgo_core.kit.builder import Converted
from openalgo_core.kit.rows import number, whole_number
from openalgo_core.kit.symbols import (
    EQUITY_SERIES,
    INDEX_ALIASES,
    equity_symbol,
    index_symbol,
    strike_text,
)

from . import INFO

__all__ = ["DERIVATIVE_SEGMENTS", "INDEX_ALIASES_DEFINEDGE", "INDEX_SEGMENTS", "KINDS",
           "MAX_MEMBER_BYTES", "MEMBER", "parse_allmaster"]

log = logging.getLogger("openalgo.instruments")

#: The member of ``allmaster.zip`` (pyintegrate extracts exactly this name).
MEMBER: Final = "allmaster.csv"
#: A member declaring more than this many bytes is refused unread (the real one is
#: ~15 MB; ⚠ size unverified).
MAX_MEMBER_BYTES: Final = 512 * 1024 * 1024

#: Instrument type (column 4) -> kind: EQ (cash), INDEX, FUT or OPT. On BSE any other
#: type is read as cash too: ⚠ Noren BSE masters may put the BSE group (A, B, T, X...)
#: there, and OpenAlgo keeps every BSE row. On NSE only EQ and BE are cash (as OpenAlgo).
KINDS: Final = {
    "EQ": "EQ", "BE": "EQ", "IDX": "INDEX", "INDEX": "INDEX",
    "FUTIDX": "FUT", "FUTSTK": "FUT", "FUTCUR": "FUT", "FUTIRC": "FUT", "FUTCOM": "FUT",
    "OPTIDX": "OPT", "OPTSTK": "OPT", "OPTCUR": "OPT", "OPTIRC": "OPT", "OPTFUT": "OPT",
}
#: Segments of futures and options (the OpenAlgo exchange has the same name).
DERIVATIVE_SEGMENTS: Final = frozenset({"NFO", "BFO", "CDS", "MCX"})
#: Segment of an index row -> OpenAlgo exchange (MCX indices are not offered).
INDEX_SEGMENTS: Final = {"NSE": "NSE_INDEX", "BSE": "BSE_INDEX"}
_PREFERRED_SERIES: Final = EQUITY_SERIES[0]
#: The largest price precision (column 10) believed: Definedge writes 2, currency 4.
_MAX_PRECISION: Final = 8

#: Definedge's index names (upper-cased, spaces and hyphens removed) that OpenAlgo knows
#: under another symbol, beyond the core's table. ⚠ From OpenAlgo's Definedge parser
#: (commit 60156bc5): Definedge's own short names, chiefly BSE's.
INDEX_ALIASES_DEFINEDGE: Final[Mapping[str, str]] = {
    **INDEX_ALIASES,
    "NIFTYFIN": "FINNIFTY",
    "NIFTYMCAP50": "NIFTYMIDCAP50",
    "NIFTYMIDSMALLCAP400": "NIFTYMIDSML400",
    "NIFTYSMALLCAP50": "NIFTYSMLCAP50",
    "NIFTYSMALLCAP100": "NIFTYSMLCAP100",
    "NIFTYSMALLCAP250": "NIFTYSMLCAP250",
    "NIFTY100EQUALWEIGHT": "NIFTY100EQLWGT",
    "NIFTY100LOWVOLATILITY30": "NIFTY100LOWVOL30",
    "NIFTYMID100FREE": "NIFTYMIDCAP100",
    "SNXT50": "BSESENSEXNEXT50",
    "MID150": "BSE150MIDCAPINDEX",
    "LMI250": "BSE250LARGEMIDCAPINDEX",
    "MSL400": "BSE400MIDSMALLCAPINDEX",
    "ENERGY": "BSEENERGY",
    "FIN": "BSEFINANCIALSERVICES",
    "FINSER": "BSEFINANCIALSERVICES",
    "INDSTR": "BSEINDUSTRIALS",
    "LRGCAP": "BSELARGECAP",
    "MIDSEL": "BSEMIDCAPSELECTINDEX",
    "SMLSEL": "BSESMALLCAPSELECTINDEX",
    "TELCOM": "BSETELECOM",
    "BSECAPGOOD": "BSECAPITALGOODS",
    "BSECG": "BSECAPITALGOODS",
    "BSECARBON": "BSECARBONEX",
    "BSECONSDUR": "BSECONSUMERDURABLES",
    "BSECD": "BSECONSUMERDURABLES",
    "BSEDOL30": "BSEDOLLEX30",
    "BSEDOL100": "BSEDOLLEX100",
    "BSEDOL200": "BSEDOLLEX200",
    "BSEFMCG": "BSEFASTMOVINGCONSUMERGOODS",
    "BSEFMC": "BSEFASTMOVINGCONSUMERGOODS",
    "BSEGREENX": "BSEGREENEX",
    "BSEHEALTHC": "BSEHEALTHCARE",
    "BSEHC": "BSEHEALTHCARE",
    "BSEINDIA150": "BSE150MIDCAPINDEX",
    "BSEINFRA": "BSEINDIAINFRASTRUCTUREINDEX",
    "BSEIT": "BSEINFORMATIONTECHNOLOGY",
    "BSESMLCAP": "BSESMALLCAP",
    "BSEPBI": "BSEPSU",
    "BSEPSUBANK": "BSEPSU",
}

_NOT_A_ZIP = (zipfile.BadZipFile, KeyError, EOFError, OSError, RuntimeError, NotImplementedError,
              zlib.error, lzma.LZMAError)


def parse_allmaster(content: bytes) -> list[Instrument]:
    """Every usable row of Definedge's ``allmaster.zip`` as an :class:`Instrument`.

    OpenAlgo symbols: NSE equities without their series (``SBIN-EQ`` -> ``SBIN``; when a
    name is listed in two series the ``-EQ`` row wins), BSE equities as written; indices
    by OpenAlgo's alias of the trading symbol (``Nifty 50`` -> ``NIFTY``) on
    NSE_INDEX/BSE_INDEX; futures ``NAME DDMMMYY FUT``; options ``NAME DDMMMYY strike CE|PE``
    with decimal strikes kept (``VEDL25APR24292.5CE``). ``broker_symbol`` is the trading
    symbol orders send, ``broker_exchange`` the segment, ``name`` column 2; tick sizes
    and strikes are in rupees.

    Raises:
        BrokerResponseError: not a zip holding ``allmaster.csv``, or not one usable row.
    """
    text = _member_text(content)
    with InstrumentBuilder(INFO.id, parse_expiry=_ddmmyyyy) as build:
        _read(build, csv.reader(io.StringIO(text)))
    return build.result()


def _read(build: InstrumentBuilder, records: Iterator[list[str]]) -> None:
    """Each CSV record into ``build``; one that raises :data:`BAD_ROW` (or that the CSV
    reader refuses) is skipped and counted.

    The loop is written out with every lookup local and rows built positionally, because
    it runs once per row of a ~150k-row file; conversions are cached per distinct raw
    value (tick per precision, strike per precision and multiplier)."""
    keep, keep_later, skipped = build.rows.append, build.later.append, build.skipped
    lots, expiries = build.lots, build.expiries
    ticks: Converted[str, Converted[str, Decimal]] = Converted(_tick_table)
    strikes: Converted[tuple[str, str], Converted[str, tuple[Decimal, str]]] = Converted(
        _strike_table)
    indices: Converted[str, str] = Converted(_index_symbol)
    kinds, derivatives, index_segments = KINDS, DERIVATIVE_SEGMENTS, INDEX_SEGMENTS
    new, cls = tuple.__new__, Instrument  # a NamedTuple built without its Python __new__
    while True:
        try:
            for record in records:
                try:
                    (segment, token, name, symbol, itype, expiry, tick, lot, option, strike,
                     precision, multiplier) = record[:12]
                    kind = kinds.get(itype)
                    if kind is None:
                        if segment != "BSE":
                            continue
                        kind = "EQ"
                    if not token or not symbol:
                        raise ValueError("token or trading symbol")
                    if kind == "EQ":
                        if segment == "NSE":
                            bare = equity_symbol(symbol)
                            (keep if bare == symbol or symbol.endswith(_PREFERRED_SERIES)
                             else keep_later)(new(cls, (
                                 bare, segment, symbol, segment, token, name, "EQ", lots[lot],
                                 ticks[precision][tick], None, None, None)))
                        elif segment == "BSE":
                            keep(new(cls, (symbol, segment, symbol, segment, token, name, "EQ",
                                           lots[lot], ticks[precision][tick], None, None,
                                           None)))
                        continue
                    if kind == "INDEX":
                        exchange = index_segments.get(segment)
                        if exchange is not None:
                            keep(new(cls, (indices[symbol], exchange, symbol, segment, token,
                                           name, "INDEX", 1, ticks[precision][tick], None,
                                           None, None)))
                        continue
                    if segment not in derivatives:
                        continue
                    if not name:
                        raise ValueError("name")
                    day, code = expiries[expiry]
                    if kind == "FUT":
                        keep(new(cls, (f"{name}{code}FUT", segment, symbol, segment, token, name,
                                       "FUT", lots[lot], ticks[precision][tick], day, None,
                                       None)))
                        continue
                    if option != "CE" and option != "PE":
                        raise ValueError("option type")
                    value, text = strikes[precision, multiplier][strike]
                    keep(new(cls, (f"{name}{code}{text}{option}", segment, symbol, segment,
                                   token, name, option, lots[lot], ticks[precision][tick], day,
                                   value, option)))
                except BAD_ROW as exc:
                    if record:  # a blank line is no row
                        skipped[type(exc).__name__] += 1
            return
        except csv.Error:  # e.g. a field over the csv module's size limit: the reader
            skipped["csv.Error"] += 1  # resumes at the next line


def _member_text(content: bytes) -> str:
    """The text of ``allmaster.csv`` in the zip ``content`` (bytes that are not UTF-8
    are replaced, and logged)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            member = archive.getinfo(MEMBER)
            if member.file_size > MAX_MEMBER_BYTES:
                raise BrokerResponseError(
                    f"master contract: {MEMBER} declares {member.file_size} bytes",
                    broker=INFO.id)
            data = archive.read(member)
    except _NOT_A_ZIP:
        raise BrokerResponseError(f"master contract is not a zip holding {MEMBER}",
                                  broker=INFO.id, raw=content[:200]) from None
    text = data.decode("utf-8", errors="replace")
    if "\ufffd" in text:
        log.warning("%s master contract: bytes that are not UTF-8 were replaced", INFO.id)
    return text


def _ddmmyyyy(text: str) -> dt.date:
    """``30092025`` -> 2025-09-30 (exactly eight digits)."""
    if len(text) != 8 or not text.isdigit():
        raise ValueError(f"expiry {text!r}")
    return dt.date(int(text[4:]), int(text[2:4]), int(text[:2]))


def _scale(precision: str) -> Decimal:
    """10^precision for a column-10 value from 0 to ``_MAX_PRECISION``."""
    places = whole_number(precision)
    if not 0 <= places <= _MAX_PRECISION:
        raise ValueError(f"price precision {precision!r}")
    return Decimal(10) ** places


def _tick_table(precision: str) -> Converted[str, Decimal]:
    """raw tick -> rupees (> 0), for rows of one precision."""
    scale = _scale(precision)

    def convert(raw: str) -> Decimal:
        value = number(raw) / scale
        if value <= 0:
            raise ValueError(f"tick size {raw!r}")
        return _rupees(value)

    return Converted(convert)


def _strike_table(key: tuple[str, str]) -> Converted[str, tuple[Decimal, str]]:
    """raw strike -> (rupees > 0, OpenAlgo text), for rows of one (precision, multiplier);
    a strike that does not divide exactly is refused (the scaling is not understood)."""
    precision, multiplier = key
    factor = whole_number(multiplier)
    if factor < 1:
        raise ValueError(f"multiplier {multiplier!r}")
    scale = _scale(precision) * factor

    def convert(raw: str) -> tuple[Decimal, str]:
        scaled = number(raw)
        value = scaled / scale
        if value <= 0 or value * scale != scaled:
            raise ValueError(f"strike {raw!r}")
        value = _rupees(value)
        return value, strike_text(value)

    return Converted(convert)


def _index_symbol(name: str) -> str:
    symbol = index_symbol(name, INDEX_ALIASES_DEFINEDGE)
    if not symbol:
        raise ValueError("index name")
    return symbol


def _rupees(value: Decimal) -> Decimal:
    """``Decimal('24000.00')`` -> ``Decimal('24000')``; ``0.0500`` -> ``0.05``."""
    return Decimal(format(value.normalize(), "f"))
