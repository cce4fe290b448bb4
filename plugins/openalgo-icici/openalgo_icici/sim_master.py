"""ICICI's ``SecurityMaster.zip`` as the simulator serves it, written from neutral listings.

Six members, one per exchange (brokers/kotak-icici B.6; breeze-connect reads them by
position): ``NSEScripMaster.txt`` and ``BSEScripMaster.txt`` (cash and indices: ``Token,
"ShortName", "Series", "CompanyName", ...`` with quoted, space-padded header names),
``FONSEScripMaster.txt`` (the 31 columns a third party quotes, tick sizes in paise,
strikes in rupees, expiries ``29-Sep-2026``, option type ``XX`` for a future), and
``FOBSEScripMaster.txt``, ``CDNSEScripMaster.txt``, ``MCXScripMaster.txt`` (header lines
only here: the plugin trades NSE, BSE and NFO ⚠). ICICI's stock codes differ from the
exchange's symbols (``RELIND`` for RELIANCE): :data:`STOCK_CODES`.

It imports neither :mod:`openalgo_icici.instruments` nor any plugin table on purpose: it
states ICICI's format on its own, so a wrong parser cannot be mirrored.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from openalgo_core.testing import Listing, big_universe

__all__ = ["CASH_HEADER", "EXCHANGES", "FNO_HEADER", "FULL_MASTER_ROWS", "INDICES",
           "STOCK_CODES", "cached_master", "render_master", "stock_code"]

#: ⚠ unverified: the real zip (~2.5 MB compressed) holds about this many rows.
FULL_MASTER_ROWS: Final = 120_000
#: The OpenAlgo exchanges the simulator lists.
EXCHANGES: Final = frozenset({"NSE", "BSE", "NFO", "NSE_INDEX", "BSE_INDEX"})
#: ICICI's stock code of each equity of the universe (the SDK README's RELIND, HDFBAN,
#: TATSTE; ⚠ the others are plausible six-letter codes); a name not here is its own code.
STOCK_CODES: Final = {"SBIN": "STABAN", "RELIANCE": "RELIND", "INFY": "INFTEC",
                      "TCS": "TCS", "HDFCBANK": "HDFBAN", "ICICIBANK": "ICIBAN",
                      "VEDL": "SESGOA", "ITC": "ITC", "TATAMOTORS": "TATMOT",
                      "YESBANK": "YESBAN", "SUZLON": "SUZENE"}
#: An index's (stock code, ``ExchangeCode``) by OpenAlgo symbol: CNXBAN and NIFTY BANK
#: from the FONSE sample; NIFFIN, NIFSEL, BSESEN from the SDK's index list ⚠.
INDICES: Final = {"NIFTY": ("NIFTY", "NIFTY 50"), "BANKNIFTY": ("CNXBAN", "NIFTY BANK"),
                  "FINNIFTY": ("NIFFIN", "NIFTY FIN SERVICE"),
                  "MIDCPNIFTY": ("NIFSEL", "NIFTY MID SELECT"),
                  "INDIAVIX": ("INDVIX", "INDIA VIX"), "SENSEX": ("BSESEN", "SENSEX"),
                  "BANKEX": ("BANKEX", "BANKEX")}
CASH_HEADER: Final = ('Token, "ShortName", "Series", "CompanyName", "LotSize", "TickSize",'
                      ' "ISINCode", "ExchangeCode"')
FNO_HEADER: Final = (
    '"Token","InstrumentName","ShortName","Series","ExpiryDate","StrikePrice","OptionType",'
    '"CALevel","PermittedToTrade","IssueCapital","WarningQty","FreezeQty","CreditRating",'
    '"NormalMarketStatus","OddLotMarketStatus","SpotMarketStatus","AuctionMarketStatus",'
    '"NormalMarketEligibility","OddLotMarketEligibility","SpotMarketEligibility",'
    '"AuctionMarketEligibility","IssueRate","IssueStartDate","InterestPaymentDate",'
    '"IssueMaturityDate","MarginPercentage","MinimumLotQty","LotSize","TickSize",'
    '"CompanyName","ExchangeCode"')
_MCX_HEADER: Final = ('"Token","InstrumentName","ShortName","Series","CompanyName",'
                      '"ExchangeCode","LotSize","ExpiryDate","OptionType","StrikePrice",'
                      '"TickSize"')
_MEMBERS: Final = {"NSE": "NSEScripMaster.txt", "NSE_INDEX": "NSEScripMaster.txt",
                   "BSE": "BSEScripMaster.txt", "BSE_INDEX": "BSEScripMaster.txt",
                   "NFO": "FONSEScripMaster.txt"}
_EMPTY_MEMBERS: Final = {"FOBSEScripMaster.txt": FNO_HEADER, "CDNSEScripMaster.txt": FNO_HEADER,
                         "MCXScripMaster.txt": _MCX_HEADER}
_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                  "Nov", "Dec")


def stock_code(listing: Listing) -> str:
    """ICICI's stock code of a listing (a derivative's: its underlying's)."""
    if listing.kind == "INDEX":
        return INDICES.get(listing.symbol, (listing.symbol, ""))[0]
    if listing.underlying_kind == "IDX":
        return INDICES.get(listing.name, (listing.name, ""))[0]
    return STOCK_CODES.get(listing.name, listing.name)


def day_text(day: dt.date) -> str:
    """``29-Sep-2026``."""
    return f"{day.day:02d}-{_MONTHS[day.month - 1]}-{day.year}"


def _paise(tick: Decimal) -> str:
    return format((tick * 100).normalize(), "f")


def _rupees(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _cash_row(r: Listing) -> str:
    if r.kind == "INDEX":
        name = INDICES.get(r.symbol, (r.symbol, r.name))[1]
        return (f'"{r.token}","{stock_code(r)}","0","{name}","1","{_paise(r.tick_size)}",'
                f'"","{name}"')
    return (f'"{r.token}","{stock_code(r)}","{r.series}","{r.name} LTD","{r.lot_size}",'
            f'"{_paise(r.tick_size)}","INE{int(r.token):06d}01","{r.symbol}"')


def _fno_row(r: Listing) -> str:
    assert r.expiry is not None
    index = r.underlying_kind == "IDX"
    underlying = INDICES.get(r.name, (r.name, r.name))[1] if index else r.name
    future = r.kind == "FUT"
    instrument = ("FUT" if future else "OPT") + ("IDX" if index else "STK")
    strike = "0" if future or r.strike is None else _rupees(r.strike)
    cells = [r.token, instrument, stock_code(r), "FUTURE" if future else "OPTION",
             day_text(r.expiry), strike, "XX" if future else r.kind, "0", "1", "0", "0",
             str(r.lot_size * 36), "", "1", "1", "1", "1", "1", "1", "1", "1", "0", "", "", "",
             "0", "1", str(r.lot_size), _paise(r.tick_size), underlying, underlying]
    return ",".join(f'"{cell}"' for cell in cells)


def render_master(listings: Iterable[Listing]) -> bytes:
    """``SecurityMaster.zip`` for ``listings`` (those on :data:`EXCHANGES`)."""
    lines: dict[str, list[str]] = {"NSEScripMaster.txt": [CASH_HEADER],
                                   "BSEScripMaster.txt": [CASH_HEADER],
                                   "FONSEScripMaster.txt": [FNO_HEADER]}
    for r in listings:
        member = _MEMBERS.get(r.exchange)
        if member is None:
            continue
        lines[member].append(_fno_row(r) if r.exchange == "NFO" else _cash_row(r))
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in lines.items():
            archive.writestr(name, "\r\n".join(rows) + "\r\n")
        for name, header in _EMPTY_MEMBERS.items():
            archive.writestr(name, header + "\r\n")
    return data.getvalue()


def cached_master(size: int) -> bytes:
    """The zip of ``big_universe(size)``, rendered once per (size, day) in this process."""
    return _cached(size, dt.date.today())


@functools.lru_cache(maxsize=2)
def _cached(size: int, today: dt.date) -> bytes:
    return render_master(r for r in big_universe(size, today) if r.exchange in EXCHANGES)
