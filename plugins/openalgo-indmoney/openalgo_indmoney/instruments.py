"""The INDstocks instrument files (brokers/indmoney 3.6) parsed into :class:`Instrument` rows.

Three CSV files from ``/market/instruments?source=equity|fno|index`` (behind
``Authorization``):

- ``equity`` and ``fno``: a header line and 16 columns (``EXCH, SEGMENT, SECURITY_ID,
  INSTRUMENT_NAME, EXPIRY_CODE, TRADING_SYMBOL, LOT_UNITS, CUSTOM_SYMBOL, EXPIRY_DATE,
  STRIKE_PRICE, OPTION_TYPE, TICK_SIZE, EXPIRY_FLAG, SEM_EXCH_INSTRUMENT_TYPE, SERIES,
  SYMBOL_NAME``), read by header name;
- ``index``: three columns, ``EXCH, SEGMENT, SECURITY_ID``, where the column labelled
  ``SEGMENT`` holds the index name: read by position.

OpenAlgo symbols: equities are their ``TRADING_SYMBOL``; futures and options are rebuilt
from the underlying (the part of ``NIFTY-Aug2026-24450-CE`` before ``-Aug2026-``, so
``BAJAJ-AUTO-Aug2026-FUT`` keeps its hyphen), the expiry, the strike and the option type;
indices take OpenAlgo's alias of their name. A file may also come wrapped in JSON
(``{"data": "<csv>"}``, ⚠ one third-party client reads it so): it is unwrapped.

Cells the files leave empty or write as ``NaN`` (they crashed OpenAlgo's parser while it
reported success, openalgo#1486) make their row unreadable: it is skipped and counted in
one warning, never fatal and never silent. Rows of segments or instrument types INDstocks
does not trade through this plugin (currency, commodity) are dropped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator, Mapping
from operator import itemgetter
from typing import Final

from openalgo_core import BrokerResponseError, Instrument
from openalgo_core.kit import BAD_ROW, InstrumentBuilder

from . import INFO, mapping
from .mapping import (
    EXPIRY_LAYOUTS,
    FILE_SEGMENTS,
    INDEX_FILES,
    INSTRUMENT_KINDS,
    PREFERRED_SERIES,
    SCRIP_SEGMENTS,
    TICK_SCALE,
)

__all__ = ["SOURCES", "parse_instruments", "underlying"]

#: The files, in the order they are read (the first row of a symbol wins).
SOURCES: Final = ("equity", "fno", "index")
#: The columns read from the equity and F&O files, by name.
COLUMNS: Final = ("EXCH", "SEGMENT", "SECURITY_ID", "INSTRUMENT_NAME", "TRADING_SYMBOL",
                  "LOT_UNITS", "EXPIRY_DATE", "STRIKE_PRICE", "OPTION_TYPE", "TICK_SIZE",
                  "SERIES", "SYMBOL_NAME")
_REQUIRED: Final = COLUMNS[:10]
#: ``NIFTY-Aug2026-24450-CE`` / ``BAJAJ-AUTO-Aug2026-FUT``: the underlying, then the
#: contract month (``Mon`` + year) after a hyphen.
_UNDERLYING: Final = re.compile(r"(.+?)-[A-Za-z]{3}\d{4}(?:-|$)")
_EMPTY: Final = frozenset({"", "nan", "null", "none"})


def underlying(trading_symbol: str) -> str:
    """The underlying of a derivative's ``TRADING_SYMBOL``: ``NIFTY-Aug2026-24450-CE`` ->
    ``NIFTY``, ``BAJAJ-AUTO-Aug2026-FUT`` -> ``BAJAJ-AUTO``.

    Raises:
        ValueError: not in that spelling.
    """
    match = _UNDERLYING.match(trading_symbol)
    if match is None:
        raise ValueError("trading symbol")
    return match.group(1)


def _cell(value: str, what: str) -> str:
    """A cell that must hold something (not blank, not ``NaN``)."""
    text = value.strip()
    if text.lower() in _EMPTY:
        raise ValueError(what)
    return text


def _expiry(text: str) -> dt.date:
    for layout in EXPIRY_LAYOUTS:
        try:
            return dt.datetime.strptime(text, layout).date()
        except ValueError:
            continue
    raise ValueError(f"expiry {text[:40]!r}")


def parse_instruments(files: Mapping[str, bytes | str]) -> list[Instrument]:
    """Every usable row of the three files (``{"equity": ..., "fno": ..., "index": ...}``)
    as an :class:`Instrument`; the instrument's ``broker_exchange`` is its scrip-code
    segment (``NSE``, ``BSE``, ``NFO``, ``BFO``, ``NIDX``, ``BIDX``).

    Raises:
        BrokerResponseError: a file that is not a CSV with the documented columns, or not
            one usable row in all three.
    """
    with InstrumentBuilder(INFO.id, tick_scale=TICK_SCALE, parse_expiry=_expiry) as build:
        for source in SOURCES:
            text = csv_text(files[source], source)
            if source == "index":
                _read_indices(build, text)
            else:
                _read_contracts(build, text, source)
    return build.result()


def csv_text(content: bytes | str, source: str) -> str:
    """A file's CSV text; a JSON-wrapped one (``{"data": "<csv>"}``) unwrapped.

    Raises:
        BrokerResponseError: not UTF-8, or JSON without the file (an error reply).
    """
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise _bad(source, "is not UTF-8 text", content) from None
    if not content.lstrip().startswith("{"):
        return content
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        raise _bad(source, "is neither CSV nor JSON", content) from None
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, str):
        return data
    said = body.get("message") if isinstance(body, dict) else None
    raise _bad(source, "is a JSON reply without the file"
               + (f" ({str(said)[:120]})" if said else ""), content)


def _bad(source: str, problem: str, content: bytes | str) -> BrokerResponseError:
    return BrokerResponseError(f"instruments file {source!r} {problem}", broker=INFO.id,
                               raw=content[:200])


def _records(text: str, source: str) -> tuple[Mapping[str, int], Iterator[list[str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise _bad(source, "has no header line", text)
    names = {name.strip().strip('"').strip(): i for i, name in enumerate(header)}
    return names, reader


def _read_contracts(build: InstrumentBuilder, text: str, source: str) -> None:
    """Equity or F&O rows into ``build``; unreadable rows skipped and counted.

    The loop is written out with every lookup local: it runs once per row of a
    100k-row file."""
    names, reader = _records(text, source)
    missing = [c for c in _REQUIRED if c not in names]
    if missing:
        raise _bad(source, f"lacks the columns {', '.join(missing)}", text)
    # a column the file lacks, and a cell a short row lacks, read as "" (row padded)
    where_in = [names.get(c, len(names)) for c in COLUMNS]
    width = max(where_in) + 1
    fields = itemgetter(*where_in)
    segments, kinds, scrip = FILE_SEGMENTS, INSTRUMENT_KINDS, SCRIP_SEGMENTS
    default_tick = mapping.DEFAULT_TICK
    skipped = build.skipped
    for record in reader:
        if not record:
            continue
        try:
            if len(record) < width:
                record = record + [""] * (width - len(record))
            (exch, segment, token, kind_name, symbol, lot, expiry, strike, option, tick,
             series, name) = fields(record)
            exchange = segments.get((exch, segment))
            if exchange is None:
                _cell(exch, "EXCH")  # a blank cell is a bad row; another segment is
                _cell(segment, "SEGMENT")  # one this plugin does not offer
                continue
            kind = kinds.get(kind_name)
            if kind is None:
                _cell(kind_name, "INSTRUMENT_NAME")
                continue
            token = _cell(token, "SECURITY_ID")
            symbol = _cell(symbol, "TRADING_SYMBOL")
            if default_tick is not None and tick.strip().lower() in _EMPTY:
                tick = str(default_tick)
            where = scrip[exchange]
            if kind == "EQ":
                build.equity(symbol, exchange, symbol, where, token,
                             name.strip() or symbol, lot, tick,
                             later=bool(series.strip()) and series.strip() != PREFERRED_SERIES)
            elif kind == "FUT":
                build.future(underlying(symbol), exchange, symbol, where, token, lot, tick,
                             expiry)
            else:
                build.option(underlying(symbol), exchange, symbol, where, token, lot, tick,
                             expiry, strike, option.strip())
        except BAD_ROW as exc:
            skipped[type(exc).__name__] += 1


def _read_indices(build: InstrumentBuilder, text: str) -> None:
    """The index file, read by position: ``EXCH``, the index name, ``SECURITY_ID``."""
    _, reader = _records(text, "index")
    skipped = build.skipped
    for record in reader:
        if not record:
            continue
        try:
            exch, name, token = record[0], record[1], record[2]
            exchange = INDEX_FILES.get(exch)
            if exchange is None:
                _cell(exch, "EXCH")
                continue
            name = _cell(name, "index name")
            build.index(name, exchange, name, SCRIP_SEGMENTS[exchange],
                        _cell(token, "SECURITY_ID"))
        except BAD_ROW as exc:
            skipped[type(exc).__name__] += 1
