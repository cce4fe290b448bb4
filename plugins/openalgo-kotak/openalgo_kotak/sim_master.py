"""Kotak's scrip-master CSVs as the simulator serves them, written from neutral listings.

One file per segment, each with the real header line (brokers/kotak-icici A.6: 78
columns, names with stray spaces and ``dStrikePrice;``) and one row per instrument:

- ``nse_cm``/``bse_cm``: ``pGroup`` the series (NSE) or ``A`` (BSE), ``pTrdSymbol``
  ``RELIANCE-EQ`` (NSE) or ``RELIANCE`` (BSE), an ISIN; an index row has no ISIN and no
  group, ``-1`` for its tick, expiry, multiplier and strike (as Kotak's NIFTY row);
- ``nse_fo``/``bse_fo``/``cde_fo``/``mcx_fo``:
  ``pOptionType`` XX/CE/PE, ``pTrdSymbol`` Kotak's own (``NIFTY26JULFUT``,
  ``NIFTY26JUL24000CE``), tick and strike in paise, the lot in units, ``lExpiryDate``
  at 14:30 IST of the expiry day: seconds since 1980-01-01 IST on nse_fo and cde_fo, Unix
  seconds on bse_fo and mcx_fo.

It imports neither :mod:`openalgo_kotak.instruments` nor any plugin table on purpose: it
states Kotak's format on its own, so a wrong parser cannot be mirrored.
"""

from __future__ import annotations

import datetime as dt
import functools
import zlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from openalgo_core.models import IST
from openalgo_core.testing import Listing, big_universe, universe

__all__ = ["FILES", "FULL_MASTER_ROWS", "HEADER", "SEGMENTS", "cached_files", "render_files",
           "scrip_row", "trading_symbol"]

#: ⚠ OpenAlgo logged 205,239 Kotak instruments across all segments (issue #711, 2026).
FULL_MASTER_ROWS: Final = 205_000
#: The real header line (``nse_cm-v1.csv``, 2025), stray spaces and ``;`` included.
HEADER: Final = (
    "pSymbol,pGroup,pExchSeg,pInstType,pSymbolName,pTrdSymbol,pOptionType,pScripRefKey,pISIN,"
    "pAssetCode,pSubGroup,pCombinedSymbol,pDesc,pAmcCode,pContractId,dTickSize ,lLotSize,"
    "lExpiryDate ,lMultiplier ,lPrecision,dStrikePrice;,pExchange,pInstName,pExpiryDate,"
    "pIssueDate,pMaturityDate,pListingDate,pNoDelStartDate,pNoDelEndDate,pBookClsStartDate,"
    "pBookClsEndDate,pRecordDate,pCreditRating,pReAdminDate,pExpulsionDate,pLocalUpdateTime,"
    "pDeliveryUnits,pPriceUnits,pLastTradingDate,pTenderPeridEndDate,pTenderPeridStartDate,"
    "pSellVarMargin,pBuyVarMargin,pInstrumentInfo,pRemarksText,pSegment,pNav,pNavDate,pMfAmt,"
    "pSipSecurity,pFaceValue,pTrdUnits,pExerciseStartDate,pExerciseEndDate,pElmMargin,"
    "pVarMargin,pTotProposedLimitValue,pScripBasePrice,pSettlementType,pCurrectionTime,"
    "iPermittedToTrade,iBoardLotQty ,iMaxOrderSize ,iLotSize,dOpenInterest ,dHighPriceRange ,"
    "dLowPriceRange ,dPriceNum   ,dGenDen,dGenNum,dPriceQuatation ,dIssuerate ,dPriceDen,"
    "dWarningQty ,dIssueCapital ,dExposureMargin ,dMinRedemptionQty ,lFreezeQty")
_COLUMNS: Final = [name.replace(";", "").strip() for name in HEADER.split(",")]
_AT: Final = {name: i for i, name in enumerate(_COLUMNS)}
#: OpenAlgo exchange -> Kotak segment (indices are rows of the cash files).
SEGMENTS: Final = {"NSE": "nse_cm", "NSE_INDEX": "nse_cm", "BSE": "bse_cm",
                   "BSE_INDEX": "bse_cm", "NFO": "nse_fo", "BFO": "bse_fo", "MCX": "mcx_fo",
                   "CDS": "cde_fo"}
#: segment -> the file's name in ``file-paths`` (``nse_com``: the older NSE cash format,
#: listed as Kotak lists it, served with its header only).
FILES: Final = {"cde_fo": "transformed/cde_fo.csv", "mcx_fo": "transformed/mcx_fo.csv",
                "nse_fo": "transformed/nse_fo.csv", "bse_fo": "transformed/bse_fo.csv",
                "nse_com": "transformed/nse_com.csv", "bse_cm": "transformed-v1/bse_cm-v1.csv",
                "nse_cm": "transformed-v1/nse_cm-v1.csv"}
_EXCHANGE_NAMES: Final = {"nse_cm": "NSE", "bse_cm": "BSE", "nse_fo": "NFO", "bse_fo": "BFO",
                          "mcx_fo": "MCX", "cde_fo": "CDS"}
_FUTURES: Final = {"IDX": "FUTIDX", "STK": "FUTSTK", "COM": "FUTCOM", "CUR": "FUTCUR"}
_OPTIONS: Final = {"IDX": "OPTIDX", "STK": "OPTSTK", "COM": "OPTFUT", "CUR": "OPTCUR"}
_FROM_1980: Final = frozenset({"nse_fo", "cde_fo"})
_EPOCH_1980: Final = dt.datetime(1980, 1, 1, tzinfo=IST)
_MONTHS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
                  "DEC")


def trading_symbol(listing: Listing) -> str:
    """Kotak's ``pTrdSymbol`` for ``listing`` (what orders send in ``ts``)."""
    if listing.kind == "EQ":
        return f"{listing.symbol}-{listing.series}" if listing.exchange == "NSE" \
            else listing.symbol
    if listing.kind == "INDEX":
        return listing.symbol
    code = _month_code(listing.expiry)
    if listing.kind == "FUT":
        return f"{listing.name}{code}FUT"
    strike = format((listing.strike or Decimal(0)).normalize(), "f")
    return f"{listing.name}{code}{strike}{listing.kind}"


def scrip_row(listing: Listing) -> str:
    """One CSV line (no line break) for ``listing``.

    Raises:
        ValueError: a tick or strike that is not a whole number of paise (currency ticks
            excepted: they are written as Kotak's fractional paise).
    """
    segment = SEGMENTS[listing.exchange]
    row = [""] * len(_COLUMNS)
    symbol = trading_symbol(listing)
    fields = {"pSymbol": listing.token, "pExchSeg": segment, "pTrdSymbol": symbol,
              "pScripRefKey": symbol, "lPrecision": "4" if segment == "cde_fo" else "2",
              "pExchange": _EXCHANGE_NAMES[segment], "lFreezeQty": str(listing.lot_size * 100),
              "iPermittedToTrade": "1", "dPriceNum": "1", "dGenDen": "1", "dGenNum": "1",
              "dPriceDen": "1"}
    if listing.kind == "INDEX":
        fields.update(pSymbolName=listing.name, pDesc=listing.name, dTickSize="-1",
                      lLotSize="1", lExpiryDate="-1", lMultiplier="-1", dStrikePrice="-1")
    elif listing.kind == "EQ":
        fields.update(pGroup=listing.series if segment == "nse_cm" else "A",
                      pSymbolName=listing.symbol, pISIN=_isin(listing.token),
                      pDesc=f"{listing.name} LTD", dTickSize=_paise(listing.tick_size, segment),
                      lLotSize=str(listing.lot_size), lExpiryDate="-1", lMultiplier="-1",
                      dStrikePrice="-1", iLotSize=str(listing.lot_size),
                      iBoardLotQty=str(listing.lot_size), pFaceValue="10")
    else:
        option = listing.kind in ("CE", "PE")
        fields.update(
            pInstType=(_OPTIONS if option else _FUTURES)[listing.underlying_kind],
            pSymbolName=listing.name, pOptionType=listing.kind if option else "XX",
            pDesc=f"{listing.name} {symbol}", dTickSize=_paise(listing.tick_size, segment),
            lLotSize=str(listing.lot_size), lExpiryDate=str(_expiry_seconds(listing, segment)),
            lMultiplier="1",
            dStrikePrice=_paise(listing.strike, segment) if option else "-1",
            iLotSize=str(listing.lot_size), iBoardLotQty=str(listing.lot_size),
            pExpiryDate=f"{listing.expiry:%d-%b-%Y}".upper())
    for name, value in fields.items():
        row[_AT[name]] = value
    return ",".join(_field(value) for value in row)


def render_files(listings: Iterable[Listing]) -> dict[str, bytes]:
    """Every segment file of :data:`FILES` holding ``listings`` (by their exchange), the
    currency file holding the base universe's CDS listings (which the simulator does not
    trade: Kotak takes no currency orders from the API)."""
    lines: dict[str, list[str]] = {segment: [HEADER] for segment in FILES}
    for listing in listings:
        if listing.exchange in SEGMENTS and listing.exchange != "CDS":
            lines[SEGMENTS[listing.exchange]].append(scrip_row(listing))
    lines["cde_fo"] += [scrip_row(row) for row in universe() if row.exchange == "CDS"]
    return {segment: ("\n".join(rows) + "\n").encode() for segment, rows in lines.items()}


def cached_files(size: int) -> dict[str, bytes]:
    """The files of ``big_universe(size)``, rendered once per (size, day) in this process
    (a test run builds many simulators)."""
    return _cached(size, dt.date.today())


@functools.lru_cache(maxsize=2)
def _cached(size: int, today: dt.date) -> dict[str, bytes]:
    return render_files(big_universe(size, today))


def _month_code(expiry: dt.date | None) -> str:
    """``26JUL``: the year and month of Kotak's monthly trading symbols."""
    if expiry is None:
        raise ValueError("a derivative without an expiry")
    return f"{expiry.year % 100:02d}{_MONTHS[expiry.month - 1]}"


def _expiry_seconds(listing: Listing, segment: str) -> int:
    """14:30 IST of the expiry day, counted as the segment's file counts."""
    if listing.expiry is None:
        raise ValueError(f"{listing.symbol}: no expiry")
    moment = dt.datetime.combine(listing.expiry, dt.time(14, 30), IST)
    if segment in _FROM_1980:
        return int((moment - _EPOCH_1980).total_seconds())
    return int(moment.timestamp())


def _paise(value: Decimal | None, segment: str) -> str:
    """Rupees as the file's paise (currency: fractional paise, ``0.25``)."""
    if value is None:
        raise ValueError("no value")
    paise = value * 100
    if paise != paise.to_integral_value():
        if segment != "cde_fo":
            raise ValueError(f"{value} is not a whole number of paise")
        return format(paise.normalize(), "f")
    return str(int(paise))


def _isin(token: str) -> str:
    """A deterministic, ISIN-shaped (12 characters) code for an equity."""
    crc = zlib.crc32(token.encode())
    return f"INE{crc % 1_000_000:06d}01{crc % 10}"


def _field(text: str) -> str:
    """``text`` as a CSV field (quoted when it holds a comma, a quote or a line break)."""
    if "," in text or '"' in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text
