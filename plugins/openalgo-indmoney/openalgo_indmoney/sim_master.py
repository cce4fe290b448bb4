"""The INDstocks instrument files as the simulator serves them, written from neutral listings.

``/market/instruments?source=equity|fno`` answers a CSV with a header line and 16 columns
(brokers/indmoney 3.6)::

    EXCH,SEGMENT,SECURITY_ID,INSTRUMENT_NAME,EXPIRY_CODE,TRADING_SYMBOL,LOT_UNITS,
    CUSTOM_SYMBOL,EXPIRY_DATE,STRIKE_PRICE,OPTION_TYPE,TICK_SIZE,EXPIRY_FLAG,
    SEM_EXCH_INSTRUMENT_TYPE,SERIES,SYMBOL_NAME

e.g. ``NSE,D,40005,OPTIDX,1,NIFTY-Aug2026-24450-CE,75,NIFTY 27 AUG 24450 CE,2026-08-27,
24450.00,CE,0.05,M,OPTIDX,,NIFTY-Aug2026-24450-CE``; ``source=index`` a three-column file
whose column labelled ``SEGMENT`` holds the index name (``NSE,NIFTY 50,40000001``). Each
file also carries a few rows with empty or ``NaN`` cells (:data:`NAN_ROWS`), as the real
files do (openalgo#1486): a client must skip them, count them and go on.

It imports neither :mod:`openalgo_indmoney.instruments` nor any plugin table on purpose:
it states INDstocks' format on its own, so a wrong parser cannot be mirrored.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Final

from openalgo_core.testing import Listing, big_universe

__all__ = ["EXCHANGES", "FULL_MASTER_ROWS", "HEADER", "INDEX_HEADER", "INDEX_NAMES",
           "NAN_ROWS", "cached_files", "contract_row", "render_files", "source_of"]

#: ⚠ unverified: the real files' size (NSE and BSE cash, F&O and indices together).
FULL_MASTER_ROWS: Final = 110_000
#: The OpenAlgo exchanges INDstocks lists (no currency, no commodity).
EXCHANGES: Final = frozenset({"NSE", "BSE", "NFO", "BFO", "NSE_INDEX", "BSE_INDEX"})
HEADER: Final = ("EXCH,SEGMENT,SECURITY_ID,INSTRUMENT_NAME,EXPIRY_CODE,TRADING_SYMBOL,"
                 "LOT_UNITS,CUSTOM_SYMBOL,EXPIRY_DATE,STRIKE_PRICE,OPTION_TYPE,TICK_SIZE,"
                 "EXPIRY_FLAG,SEM_EXCH_INSTRUMENT_TYPE,SERIES,SYMBOL_NAME")
INDEX_HEADER: Final = "EXCH,SEGMENT,SECURITY_ID"
#: INDstocks' index names (⚠ SENSEX and BANKEX spelled bare), by OpenAlgo symbol.
INDEX_NAMES: Final = {"NIFTY": "NIFTY 50", "BANKNIFTY": "BANK NIFTY",
                      "FINNIFTY": "Nifty Financial", "MIDCPNIFTY": "Nifty Midcap Sel",
                      "INDIAVIX": "India VIX", "SENSEX": "SENSEX", "BANKEX": "BANKEX"}
#: Rows with empty or ``NaN`` cells in each file (unreadable: skipped and counted).
NAN_ROWS: Final = {
    "equity": ("NSE,E,990001,,0,NANKIND,1,NANKIND,,,,0.05,,EQUITY,EQ,NANKIND",
               "BSE,E,990002,EQUITY,0,NANTICK,1,NANTICK,,,,NaN,,EQUITY,EQ,NANTICK"),
    "fno": ("NSE,D,990003,OPTSTK,1,NANLOT-Aug2026-100-CE,nan,NANLOT,2026-08-27,100.00,CE,"
            "0.05,M,OPTSTK,,NANLOT-Aug2026-100-CE",),
    "index": ("NSE,,990004",),
}
_PARENTS: Final = {"NSE": ("NSE", "E"), "BSE": ("BSE", "E"), "NFO": ("NSE", "D"),
                   "BFO": ("BSE", "D"), "NSE_INDEX": ("NSE", ""), "BSE_INDEX": ("BSE", "")}
_FUTURES: Final = {"IDX": "FUTIDX", "STK": "FUTSTK"}
_OPTIONS: Final = {"IDX": "OPTIDX", "STK": "OPTSTK"}
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                  "Nov", "Dec")


def source_of(listing: Listing) -> str:
    """The file a listing is in: ``equity``, ``fno`` or ``index``."""
    if listing.kind == "INDEX":
        return "index"
    return "equity" if listing.kind == "EQ" else "fno"


def trading_symbol(listing: Listing) -> str:
    """INDstocks' ``TRADING_SYMBOL``: the bare cash symbol; ``NIFTY-Aug2026-FUT`` (⚠ the
    futures spelling is inferred); ``NIFTY-Aug2026-24450-CE``."""
    if listing.kind == "EQ":
        return listing.symbol
    if listing.kind == "INDEX":
        return INDEX_NAMES.get(listing.symbol, listing.name)
    assert listing.expiry is not None
    month = f"{_MONTHS[listing.expiry.month - 1]}{listing.expiry.year}"
    if listing.kind == "FUT":
        return f"{listing.name}-{month}-FUT"
    assert listing.strike is not None
    return f"{listing.name}-{month}-{format(listing.strike.normalize(), 'f')}-{listing.kind}"


def contract_row(listing: Listing) -> str:
    """One equity or F&O line (no line break)."""
    exch, segment = _PARENTS[listing.exchange]
    symbol = trading_symbol(listing)
    tick = format(listing.tick_size.normalize(), "f")
    if listing.kind == "EQ":
        return (f"{exch},{segment},{listing.token},EQUITY,0,{symbol},{listing.lot_size},"
                f"{listing.name},,,,{tick},,EQUITY,{listing.series},{listing.name}")
    assert listing.expiry is not None
    expiry = _date(listing.expiry)
    custom = f"{listing.name} {listing.expiry.day} {_MONTHS[listing.expiry.month - 1].upper()}"
    if listing.kind == "FUT":
        kind = _FUTURES[listing.underlying_kind]
        return (f"{exch},{segment},{listing.token},{kind},1,{symbol},{listing.lot_size},"
                f"{custom} FUT,{expiry},-1,,{tick},M,{kind},,{symbol}")
    assert listing.strike is not None
    kind = _OPTIONS[listing.underlying_kind]
    strike = f"{listing.strike:.2f}"
    return (f"{exch},{segment},{listing.token},{kind},1,{symbol},{listing.lot_size},"
            f"{custom} {format(listing.strike.normalize(), 'f')} {listing.kind},{expiry},"
            f"{strike},{listing.kind},{tick},M,{kind},,{symbol}")


def render_files(listings: Iterable[Listing], *, nan_rows: bool = True) -> dict[str, bytes]:
    """The three files for ``listings`` (those on :data:`EXCHANGES`), by ``source``."""
    lines: dict[str, list[str]] = {"equity": [HEADER], "fno": [HEADER], "index": [INDEX_HEADER]}
    for listing in listings:
        if listing.exchange not in EXCHANGES:
            continue
        source = source_of(listing)
        if source == "index":
            lines[source].append(f"{_PARENTS[listing.exchange][0]},"
                                 f"{trading_symbol(listing)},{listing.token}")
        else:
            lines[source].append(contract_row(listing))
    if nan_rows:
        for source, rows in NAN_ROWS.items():
            middle = len(lines[source]) // 2 or 1  # amid the good rows
            lines[source][middle:middle] = rows
    return {source: ("\n".join(text) + "\n").encode() for source, text in lines.items()}


def cached_files(size: int) -> dict[str, bytes]:
    """The files of ``big_universe(size)``, rendered once per (size, day) in this process
    (a test run builds many simulators)."""
    return _cached(size, dt.date.today())


@functools.lru_cache(maxsize=4)
def _cached(size: int, today: dt.date) -> dict[str, bytes]:
    return render_files(big_universe(size, today))


@functools.lru_cache(maxsize=256)
def _date(expiry: dt.date) -> str:
    """⚠ ``EXPIRY_DATE`` as ISO ``2026-08-27`` (the docs give no example)."""
    return expiry.isoformat()
