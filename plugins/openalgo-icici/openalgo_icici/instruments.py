"""ICICI's ``SecurityMaster.zip`` (brokers/kotak-icici B.6) parsed into :class:`Instrument` rows.

The zip holds one comma-separated text file per exchange, each with a header line whose
names are double-quoted and, in the cash files, space-padded (``Token, "ShortName",
...``); columns are found by name, in any case (⚠ the cash files' exact names and order
past ``CompanyName`` are not known). Read here:

=========================  =================================================================
member                     columns read
=========================  =================================================================
``NSEScripMaster.txt``     ``Token``, ``ShortName`` (ICICI's stock code: ``RELIND``),
``BSEScripMaster.txt``     ``Series`` (``0``: an index), ``CompanyName``, ``ExchangeCode``
                           (the exchange's symbol: ``RELIANCE``), ``LotSize``, ``TickSize``
``FONSEScripMaster.txt``   ``Token``, ``InstrumentName`` (``OPTIDX``, ``FUTSTK``...),
                           ``ShortName`` (the underlying's stock code: ``CNXBAN``),
                           ``ExpiryDate`` (``29-Sep-2026``), ``StrikePrice`` (rupees),
                           ``OptionType`` (``XX`` future, ``CE``, ``PE``), ``LotSize``,
                           ``TickSize``, ``ExchangeCode`` (the underlying: ``NIFTY BANK``)
=========================  =================================================================

Tick sizes are in paise (5 for 0.05: the FONSE sample; ⚠ assumed for the cash files too).
The other members (``FOBSE``, ``CDNSE``, ``MCX``) are not read: this plugin trades NSE,
BSE and NFO. OpenAlgo symbols: a stock (and a stock derivative's underlying) is its
``ExchangeCode``; an index (``Series`` 0) and an index derivative's underlying
(``InstrumentName`` ``...IDX``) are OpenAlgo's alias of the name (``NIFTY BANK`` ->
``BANKNIFTY``). A derivative's broker symbol is :func:`contract_key` (stock code, expiry,
strike, right), which is how a book row that names no token is mapped back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Final

from openalgo_core import BrokerResponseError, Instrument
from openalgo_core.kit import InstrumentBuilder
from openalgo_core.kit.symbols import index_symbol, strike_text

from . import INFO
from .mapping import INDEX_ALIASES

__all__ = ["CASH_MEMBERS", "FNO_MEMBER", "MAX_MEMBER_BYTES", "contract_key", "expiry_date",
           "parse_security_master"]

#: Cash members and their exchange.
CASH_MEMBERS: Final = {"NSEScripMaster.txt": "NSE", "BSEScripMaster.txt": "BSE"}
FNO_MEMBER: Final = "FONSEScripMaster.txt"
#: A member declaring more than this is refused unread (the real zip is ~2.5 MB).
MAX_MEMBER_BYTES: Final = 256 * 1024 * 1024
_CASH_COLUMNS: Final = ("Token", "ShortName", "Series", "CompanyName", "ExchangeCode",
                        "LotSize", "TickSize")
_FNO_COLUMNS: Final = ("Token", "InstrumentName", "ShortName", "ExpiryDate", "StrikePrice",
                       "OptionType", "LotSize", "TickSize", "ExchangeCode")
_MONTHS: Final = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
_NOT_A_ZIP: Final = (zipfile.BadZipFile, zlib.error, EOFError, KeyError, NotImplementedError,
                     ValueError)


def expiry_date(text: str) -> dt.date:
    """``29-Sep-2026`` (the master's and the books' spelling, any case) or ISO
    ``2026-09-29`` / ``2026-09-29T06:00:00.000Z`` (what Breeze is sent).

    Raises:
        ValueError: neither.
    """
    text = text.strip()
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return dt.date.fromisoformat(text[:10])
    day, month, year = text.split("-")
    return dt.date(int(year), _MONTHS[month.upper()], int(day))


def contract_key(stock_code: str, expiry: dt.date, strike: Decimal | None, kind: str) -> str:
    """A derivative's broker symbol: ``CNXBAN:2026-09-29:72600:CE``, ``NIFTY:2026-09-29:FUT``
    (kind ``FUT``, ``CE`` or ``PE``)."""
    if kind == "FUT" or strike is None:
        return f"{stock_code}:{expiry.isoformat()}:FUT"
    return f"{stock_code}:{expiry.isoformat()}:{strike_text(strike)}:{kind}"


def parse_security_master(content: bytes) -> list[Instrument]:
    """Every NSE, BSE and NFO instrument of ``SecurityMaster.zip``; unreadable rows are
    skipped and counted.

    Raises:
        BrokerResponseError: not a zip with the three members, a header lacking a
            column, or not one usable row.
    """
    texts = _members(content, (*CASH_MEMBERS, FNO_MEMBER))
    with InstrumentBuilder(INFO.id, tick_scale=Decimal(100), parse_expiry=expiry_date) as build:
        for member, exchange in CASH_MEMBERS.items():
            records, at = _records(texts[member], member, _CASH_COLUMNS)
            build.each(records, _cash_reader(build, exchange, at))
        records, at = _records(texts[FNO_MEMBER], FNO_MEMBER, _FNO_COLUMNS)
        build.each(records, _fno_reader(build, at))
    return build.result()


def _cash_reader(build: InstrumentBuilder, exchange: str,
                 at: dict[str, int]) -> Callable[[list[str]], None]:
    token, short, series, company, code, lot, tick = (at[c] for c in _CASH_COLUMNS)
    index_exchange = exchange + "_INDEX"

    def read(r: list[str]) -> None:
        if r[series].strip() == "0":
            name = r[code].strip()
            build.index(name, index_exchange, r[short].strip(), exchange, r[token],
                        r[tick], symbol=index_symbol(name, INDEX_ALIASES))
        else:
            build.equity(r[code].strip(), exchange, r[short].strip(), exchange, r[token],
                         r[company].strip(), r[lot], r[tick])
    return read


def _fno_reader(build: InstrumentBuilder, at: dict[str, int]) -> Callable[[list[str]], None]:
    token, family, short, expiry, strike, kind, lot, tick, code = (
        at[c] for c in _FNO_COLUMNS)
    strikes = build.strikes("NFO")
    names: dict[tuple[str, str], str] = {}

    def read(r: list[str]) -> None:
        key = (r[family], r[code])
        name = names.get(key)
        if name is None:
            raw = r[code].strip()
            name = names[key] = index_symbol(raw, INDEX_ALIASES) \
                if r[family].strip().upper().endswith("IDX") else raw
        stock_code = r[short].strip()
        day = build.expiries[r[expiry]][0]
        option_type = r[kind].strip()
        if option_type == "XX":
            build.future(name, "NFO", contract_key(stock_code, day, None, "FUT"), "NFO",
                         r[token], r[lot], r[tick], day)
        else:
            value = strikes[r[strike]][0]
            build.option(name, "NFO", contract_key(stock_code, day, value, option_type),
                         "NFO", r[token], r[lot], r[tick], day, r[strike], option_type)
    return read


def _records(text: str, member: str,
             columns: tuple[str, ...]) -> tuple[Iterator[list[str]], dict[str, int]]:
    """The records of one member after its header, and where each column is."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None) or []
    names = [name.strip().strip('"').strip().upper() for name in header]
    missing = [c for c in columns if c.upper() not in names]
    if missing:
        raise BrokerResponseError(f"master contract: {member} lacks {', '.join(missing)}",
                                  broker=INFO.id)
    at = {c: names.index(c.upper()) for c in columns}
    width = max(at.values()) + 1
    return (r for r in reader if len(r) >= width), at


def _members(content: bytes, names: tuple[str, ...]) -> dict[str, str]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            found = {}
            for name in names:
                info = archive.getinfo(name)
                if info.file_size > MAX_MEMBER_BYTES:
                    raise BrokerResponseError(f"master contract: {name} declares"
                                              f" {info.file_size} bytes", broker=INFO.id)
                found[name] = archive.read(info).decode("utf-8", errors="replace")
            return found
    except _NOT_A_ZIP:
        raise BrokerResponseError("master contract is not a zip holding "
                                  + ", ".join(names), broker=INFO.id,
                                  raw=content[:200]) from None
