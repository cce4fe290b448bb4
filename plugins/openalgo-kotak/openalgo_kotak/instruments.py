"""Kotak's scrip master (brokers/kotak-icici A.6): per-segment CSVs parsed into
:class:`Instrument` rows.

``GET {baseUrl}/script-details/1.0/masterscrip/file-paths`` lists the day's files on
another host (``.../transformed/nse_fo.csv``, ``.../transformed-v1/nse_cm-v1.csv``...);
:func:`segment_of` names the segment of each, and :func:`parse_scrip_master` reads them.
Every file has one header line whose names carry stray spaces and a ``;``
(``dTickSize ``, ``dStrikePrice;``): they are stripped. Columns read:

==============  ==============================================================
``pSymbol``      the exchange token (quotes, positions ``tok``)
``pTrdSymbol``   what orders send in ``ts`` (``RELIANCE-EQ``, ``NIFTY24APRFUT``):
                 copied, never constructed
``pSymbolName``  the OpenAlgo base symbol (cash) or underlying (F&O)
``pGroup``       NSE cash rows kept: EQ and BE (as OpenAlgo)
``pISIN``        empty on an index row
``pOptionType``  XX (future), CE, PE
``dTickSize``    paise; ``dStrikePrice``: paise; ``lLotSize``: units
``lExpiryDate``  nse_fo, cde_fo: seconds since 1980-01-01 (IST); bse_fo, mcx_fo: Unix
==============  ==============================================================

OpenAlgo symbols: cash ``RELIANCE``; indices by the core's alias of their name on
NSE_INDEX/BSE_INDEX; futures ``NAME DDMMMYY FUT``; options ``NAME DDMMMYY strike CE|PE``.
``broker_exchange`` is the segment (``nse_cm``), as Kotak's books name it. Rows of other
kinds are dropped; unreadable ones are skipped and counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Final

from openalgo_core import BrokerResponseError, Instrument
from openalgo_core.kit import BAD_ROW, InstrumentBuilder
from openalgo_core.kit.builder import Converted
from openalgo_core.kit.rows import whole_number
from openalgo_core.models import IST

from . import INFO

__all__ = ["COLUMNS", "EXPIRY_EPOCHS", "SEGMENT_FILES", "parse_scrip_master", "segment_of"]

#: The segments whose files the plugin reads (not nse_com: the older NSE cash format,
#: which nse_cm-v1 replaces). cde_fo (NSE currency) is read so that the books name a
#: currency leg traded in Kotak's app; orders on CDS are not offered (``INFO.exchanges``).
SEGMENT_FILES: Final = ("nse_cm", "bse_cm", "nse_fo", "bse_fo", "cde_fo", "mcx_fo")
_FILE = re.compile(r"(?:^|/)(nse_cm|bse_cm|nse_fo|bse_fo|cde_fo|mcx_fo)(?:-v\d+)?\.csv$")
#: Where a segment's ``lExpiryDate`` counts from (⚠ OpenAlgo adds 315513000 s to nse_fo
#: and cde_fo, i.e. 1980-01-01 00:00 IST, and reads bse_fo and mcx_fo as Unix time).
EXPIRY_EPOCHS: Final = {"nse_fo": dt.datetime(1980, 1, 1, tzinfo=IST),
                        "cde_fo": dt.datetime(1980, 1, 1, tzinfo=IST),
                        "bse_fo": dt.datetime(1970, 1, 1, tzinfo=dt.UTC),
                        "mcx_fo": dt.datetime(1970, 1, 1, tzinfo=dt.UTC)}
#: The columns read, by their stripped header names.
COLUMNS: Final = ("pSymbol", "pGroup", "pSymbolName", "pTrdSymbol", "pOptionType", "pISIN",
                  "pDesc", "dTickSize", "lLotSize", "lExpiryDate", "dStrikePrice")
_CASH_GROUPS: Final = {"EQ": False, "BE": True}  # group -> listed after the others
_INDEX_EXCHANGES: Final = {"nse_cm": "NSE_INDEX", "bse_cm": "BSE_INDEX"}
_DERIVATIVES: Final = {"nse_fo": "NFO", "bse_fo": "BFO", "cde_fo": "CDS", "mcx_fo": "MCX"}
_PAISE: Final = Decimal(100)


def segment_of(url: str) -> str | None:
    """The segment a file of ``file-paths`` holds (``.../nse_cm-v1.csv`` -> ``nse_cm``),
    or None for a file the plugin does not read."""
    found = _FILE.search(url.split("?", 1)[0])
    return found.group(1) if found else None


def parse_scrip_master(files: Mapping[str, bytes]) -> list[Instrument]:
    """Every usable row of the segment files ``{segment: bytes}`` as an :class:`Instrument`.

    Raises:
        BrokerResponseError: a file without the columns, or not one usable row.
    """
    with InstrumentBuilder(INFO.id, tick_scale=_PAISE, strike_scale=_PAISE) as build:
        for segment, data in files.items():
            text = data.decode("utf-8-sig", errors="replace")
            records = csv.reader(io.StringIO(text))
            columns = _columns(segment, next(records, None))
            reader = _cash if segment in _INDEX_EXCHANGES else _derivative
            reader(build, segment, columns, records)
    return build.result()


def _columns(segment: str, header: list[str] | None) -> tuple[int, ...]:
    """The positions of :data:`COLUMNS` in a file's header line."""
    names = [name.replace(";", "").strip() for name in header or ()]
    missing = [name for name in COLUMNS if name not in names]
    if missing:
        raise BrokerResponseError(f"scrip master {segment}: columns missing from the header:"
                                  f" {', '.join(missing)}", broker=INFO.id)
    return tuple(names.index(name) for name in COLUMNS)


def _rows(build: InstrumentBuilder, records: Iterator[list[str]], width: int,
          read: Callable[[list[str]], None]) -> None:
    """``read`` each record of at least ``width`` fields; a bad one is skipped and counted
    (a CSV error too: the reader resumes at the next line)."""
    skipped = build.skipped
    while True:
        try:
            for record in records:
                if len(record) < width:
                    if record:
                        skipped["short row"] += 1
                    continue
                try:
                    read(record)
                except BAD_ROW as exc:
                    skipped[type(exc).__name__] += 1
            return
        except csv.Error:
            skipped["csv.Error"] += 1


def _cash(build: InstrumentBuilder, segment: str, columns: tuple[int, ...],
          records: Iterator[list[str]]) -> None:
    """nse_cm / bse_cm: equities (NSE: groups EQ and BE) and indices (no ISIN)."""
    token_at, group_at, name_at, symbol_at, _, isin_at, desc_at, tick_at, lot_at = columns[:9]
    exchange, index_exchange = ("NSE" if segment == "nse_cm" else "BSE"), \
        _INDEX_EXCHANGES[segment]
    nse = segment == "nse_cm"

    def read(record: list[str]) -> None:
        name, broker_symbol = record[name_at].strip(), record[symbol_at].strip()
        if not name or not broker_symbol:
            raise ValueError("symbol")
        if not record[isin_at].strip():  # its tick is -1: an index is not traded
            build.index(name, index_exchange, broker_symbol, segment, record[token_at].strip(),
                        "5")
            return
        later = _CASH_GROUPS.get(record[group_at].strip()) if nse else False
        if later is None:
            return
        build.equity(name, exchange, broker_symbol, segment, record[token_at].strip(),
                     record[desc_at].strip() or name, record[lot_at].strip(),
                     record[tick_at].strip(), later=later)

    _rows(build, records, max(columns) + 1, read)


def _derivative(build: InstrumentBuilder, segment: str, columns: tuple[int, ...],
                records: Iterator[list[str]]) -> None:
    """nse_fo / bse_fo / cde_fo / mcx_fo: futures (option type XX) and options (CE, PE)."""
    (token_at, _, name_at, symbol_at, option_at, _, _, tick_at, lot_at, expiry_at,
     strike_at) = columns
    exchange, epoch = _DERIVATIVES[segment], EXPIRY_EPOCHS[segment]
    expiries: Converted[str, dt.date] = Converted(lambda raw: _expiry(raw, epoch))

    def read(record: list[str]) -> None:
        name, broker_symbol, token = (record[name_at].strip(), record[symbol_at].strip(),
                                      record[token_at].strip())
        if not name or not broker_symbol:
            raise ValueError("symbol")
        kind = record[option_at].strip()
        day = expiries[record[expiry_at].strip()]
        lot, tick = record[lot_at].strip(), record[tick_at].strip()
        if kind == "XX":
            build.future(name, exchange, broker_symbol, segment, token, lot, tick, day)
        else:
            build.option(name, exchange, broker_symbol, segment, token, lot, tick, day,
                         record[strike_at].strip(), kind)

    _rows(build, records, max(columns) + 1, read)


def _expiry(raw: str, epoch: dt.datetime) -> dt.date:
    """The IST date ``raw`` seconds after ``epoch``."""
    seconds = whole_number(raw)
    if not 0 < seconds < 4_000_000_000:
        raise ValueError(f"expiry {raw!r}")
    return (epoch + dt.timedelta(seconds=seconds)).astimezone(IST).date()

