"""Definedge's ``allmaster.zip`` as the simulator serves it, written from neutral listings.

The zip holds one member, ``allmaster.csv``: no header, comma-separated, one row per
instrument, 15 columns by position (brokers/angel-definedge-indmoney 2.6)::

    0 segment  1 token  2 name  3 trading symbol  4 instrument type  5 expiry DDMMYYYY
    6 tick (x 10^precision)  7 lot  8 CE|PE  9 strike (x multiplier x 10^precision)
    10 precision  11 multiplier  12 ISIN  13 price factor  14 company name

e.g. ``NFO,144537,ZYDUSLIFE,ZYDUSLIFE30SEP25P1360,OPTSTK,30092025,5,900,PE,136000,2,1,,1.000000,``.
Trading symbols are Noren's: ``SBIN-EQ`` (NSE), ``SBIN`` (BSE), ``NIFTY28MAR24F``,
``NIFTY28MAR24C24000``, ``VEDL25APR24C292.5``. Every row has integers in columns 9, 10
and 11 and a non-zero multiplier, because pyintegrate's ``login()`` reads the first row
that way (sdk-observed.md).

It imports neither :mod:`openalgo_definedge.instruments` nor any plugin table on
purpose: it states Definedge's format on its own, so a wrong parser cannot be mirrored.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import zipfile
import zlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from openalgo_core.testing import Listing, big_universe

__all__ = ["EXCHANGES", "FULL_MASTER_ROWS", "MEMBER", "allmaster_row", "cached_allmaster",
           "render_allmaster"]

#: The member pyintegrate extracts from the zip.
MEMBER: Final = "allmaster.csv"
#: ⚠ unverified: the real file's order of size (all segments; the notes say ~10^5 rows).
FULL_MASTER_ROWS: Final = 150_000
#: The OpenAlgo exchanges Definedge's file lists (indices are rows on NSE/BSE).
EXCHANGES: Final = frozenset({"NSE", "BSE", "NFO", "BFO", "CDS", "MCX", "NSE_INDEX",
                              "BSE_INDEX"})

_SEGMENTS: Final = {"NSE_INDEX": "NSE", "BSE_INDEX": "BSE"}
#: Decimals of prices (tick and strike scaling): 2, currency 4.
_PRECISION: Final = {"CDS": 4}
#: ⚠ Noren writes currency contracts with multiplier 1000 (strikes then x10^7); 1 elsewhere.
_MULTIPLIER: Final = {"CDS": 1000}
_FUTURES: Final = {"IDX": "FUTIDX", "STK": "FUTSTK", "COM": "FUTCOM", "CUR": "FUTCUR"}
_OPTIONS: Final = {"IDX": "OPTIDX", "STK": "OPTSTK", "COM": "OPTFUT", "CUR": "OPTCUR"}
#: ⚠ index rows: instrument type IDX (the parser takes INDEX too)
_INDEX_TYPE: Final = "IDX"
_PRICE_FACTOR: Final = "1.000000"
_MONTHS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
                  "DEC")


def allmaster_row(listing: Listing) -> str:
    """One ``allmaster.csv`` line (no line break) for ``listing``.

    Raises:
        ValueError: a tick size or strike that is not a whole number of the segment's
            price units (it could not be written as Definedge writes it).
    """
    segment = _SEGMENTS.get(listing.exchange, listing.exchange)
    precision = _PRECISION.get(segment, 2)
    multiplier = _MULTIPLIER.get(segment, 1)
    tick = _whole(listing.tick_size, precision, 1)
    expiry = option = isin = company = ""
    strike = "0"
    kind = listing.kind
    if kind == "EQ":
        symbol = f"{listing.symbol}-{listing.series}" if segment == "NSE" else listing.symbol
        itype = listing.series if segment == "NSE" else "EQ"  # ⚠ BSE may write its group
        isin, company = _isin(listing.token), f"{listing.name} LTD"  # ⚠ invented names
    elif kind == "INDEX":
        symbol, itype = listing.name, _INDEX_TYPE  # Definedge's own name: ``Nifty 50``
    else:
        if listing.expiry is None:
            raise ValueError(f"{listing.symbol}: a derivative without an expiry")
        expiry, code = _dates(listing.expiry)
        if kind == "FUT":
            symbol, itype = f"{listing.name}{code}F", _FUTURES[listing.underlying_kind]
        else:
            if listing.strike is None:
                raise ValueError(f"{listing.symbol}: an option without a strike")
            text = format(listing.strike.normalize(), "f")
            symbol = f"{listing.name}{code}{kind[0]}{text}"
            itype, option = _OPTIONS[listing.underlying_kind], kind
            strike = _whole(listing.strike, precision, multiplier)
    return ",".join((segment, listing.token, _field(listing.name), _field(symbol), itype,
                     expiry, tick, str(listing.lot_size), option, strike, str(precision),
                     str(multiplier), isin, _PRICE_FACTOR, _field(company)))


def render_allmaster(listings: Iterable[Listing]) -> bytes:
    """``allmaster.zip`` holding ``allmaster.csv`` with one line per listing."""
    text = "\n".join(map(allmaster_row, listings)) + "\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MEMBER, text.encode())
    return out.getvalue()


def cached_allmaster(size: int) -> bytes:
    """``allmaster.zip`` of ``big_universe(size)`` on Definedge's exchanges, rendered once
    per (size, day) in this process (a test run builds many simulators)."""
    return _cached(size, dt.date.today())


@functools.lru_cache(maxsize=4)
def _cached(size: int, today: dt.date) -> bytes:
    return render_allmaster(row for row in big_universe(size, today)
                            if row.exchange in EXCHANGES)


@functools.lru_cache(maxsize=256)
def _dates(expiry: dt.date) -> tuple[str, str]:
    """(``28032024``, ``28MAR24``): the file's expiry and the trading symbol's date."""
    return (f"{expiry.day:02d}{expiry.month:02d}{expiry.year:04d}",
            f"{expiry.day:02d}{_MONTHS[expiry.month - 1]}{expiry.year % 100:02d}")


@functools.lru_cache(maxsize=4096)
def _whole(value: Decimal, precision: int, multiplier: int) -> str:
    """``value`` x multiplier x 10^precision as the integer text the file holds."""
    scaled = value * multiplier * Decimal(10) ** precision
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} is not a whole number of 1/10^{precision} units")
    return str(int(scaled))


def _isin(token: str) -> str:
    """A deterministic, ISIN-shaped (12 characters) code for an equity."""
    crc = zlib.crc32(token.encode())
    return f"INE{crc % 1_000_000:06d}01{crc % 10}"


def _field(text: str) -> str:
    """``text`` as a CSV field (quoted when it holds a comma, a quote or a line break)."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text
