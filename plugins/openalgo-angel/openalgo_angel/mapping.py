"""Every OpenAlgo <-> Angel SmartAPI translation table, in one place.

Order fields go out through :data:`PRICETYPES` and :data:`PRODUCTS`; position
rows come back through :data:`PRODUCTS_BACK`; master-contract rows are read
with :data:`SEGMENTS`, :data:`INDEX_SEGMENTS`, :data:`INSTRUMENT_KINDS`,
:data:`INDEX_ALIASES`, :data:`EQUITY_SUFFIXES` and :func:`strike_divisor`.
Sources: brokers/angel section 1 (SmartAPI docs, the official SDK, OpenAlgo).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

#: OpenAlgo pricetype -> (Angel ``ordertype``, Angel ``variety``).
PRICETYPES: Final = {
    "MARKET": ("MARKET", "NORMAL"),
    "LIMIT": ("LIMIT", "NORMAL"),
    "SL": ("STOPLOSS_LIMIT", "STOPLOSS"),
    "SL-M": ("STOPLOSS_MARKET", "STOPLOSS"),
}

#: OpenAlgo product -> Angel ``producttype``.
PRODUCTS: Final = {"CNC": "DELIVERY", "NRML": "CARRYFORWARD", "MIS": "INTRADAY"}

#: Angel ``producttype`` (position rows) -> OpenAlgo product. ``MARGIN`` is
#: Angel's margin-funded carry-forward product, closest to NRML; ``BO``/``CO``
#: (bracket/cover orders) are intraday-only, so MIS.
PRODUCTS_BACK: Final = {"DELIVERY": "CNC", "CARRYFORWARD": "NRML", "MARGIN": "NRML",
                        "INTRADAY": "MIS", "BO": "MIS", "CO": "MIS"}

#: Angel ``exch_seg`` / ``exchange`` -> OpenAlgo exchange for tradable rows.
#: NCDEX and MCX indices are not offered by this plugin and are skipped.
SEGMENTS: Final = {"NSE": "NSE", "BSE": "BSE", "NFO": "NFO", "BFO": "BFO", "CDS": "CDS",
                   "MCX": "MCX"}

#: Cash segments: the only ones where an ``instrumenttype ""`` row is an equity.
CASH_SEGMENTS: Final = frozenset({"NSE", "BSE"})

#: Angel ``exch_seg`` of an index row (``instrumenttype`` AMXIDX) -> OpenAlgo exchange.
INDEX_SEGMENTS: Final = {"NSE": "NSE_INDEX", "BSE": "BSE_INDEX"}

#: Angel ``instrumenttype`` -> kind: EQ (cash), INDEX, FUT or OPT (CE/PE from the symbol).
INSTRUMENT_KINDS: Final = {
    "": "EQ", "AMXIDX": "INDEX",
    "FUTIDX": "FUT", "FUTSTK": "FUT", "FUTCOM": "FUT", "FUTCUR": "FUT", "FUTIRC": "FUT",
    "FUTIRT": "FUT",
    "OPTIDX": "OPT", "OPTSTK": "OPT", "OPTFUT": "OPT", "OPTCUR": "OPT", "OPTIRC": "OPT",
}

#: Segments whose derivative symbols are rebuilt as ``NAME DDMMMYY [strike] FUT|CE|PE``;
#: NFO symbols already follow OpenAlgo's layout and are kept as they are.
REBUILT_SEGMENTS: Final = frozenset({"BFO", "MCX", "CDS"})

#: Index names (upper-cased, spaces and hyphens removed, BSE's ``S&P `` dropped)
#: that OpenAlgo knows under another symbol.
INDEX_ALIASES: Final = {
    "NIFTY50": "NIFTY",
    "NIFTYBANK": "BANKNIFTY",
    "NIFTYFINSERVICE": "FINNIFTY",
    "NIFTYNEXT50": "NIFTYNXT50",
    "NIFTYMIDSELECT": "MIDCPNIFTY",
    "NIFTYMIDCAPSELECT": "MIDCPNIFTY",
    "SNSX50": "SENSEX50",
}

#: NSE series suffixes dropped from equity symbols (``SBIN-EQ`` -> ``SBIN``). The
#: first wins when one name is listed in two series; other series keep their suffix.
EQUITY_SUFFIXES: Final = ("-EQ", "-BE", "-MF", "-SG")

#: Gateway-envelope ``errorCode`` values that mean "log in again" (Invalid Token,
#: Token Expired, Token missing); any other gateway refusal is an authentication
#: error (or, for an order, a rejection).
SESSION_ERROR_CODES: Final = frozenset({"AG8001", "AG8002", "AG8003"})

#: Angel's master contract gives strikes in paise (x100), currency options x10^7.
_STRIKE_DIVISORS: Final = {"CDS": Decimal(10) ** 7}
_DEFAULT_STRIKE_DIVISOR: Final = Decimal(100)
#: Tick sizes in the master contract are in paise.
TICK_DIVISOR: Final = Decimal(100)

MONTHS: Final = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}


def strike_divisor(segment: str) -> Decimal:
    """What a master-contract ``strike`` on ``segment`` is divided by to give rupees."""
    return _STRIKE_DIVISORS.get(segment, _DEFAULT_STRIKE_DIVISOR)


def index_symbol(name: str) -> str:
    """OpenAlgo's symbol for an Angel index name: ``"Nifty Bank"`` -> ``BANKNIFTY``."""
    key = name.upper().replace("S&P ", "").replace(" ", "").replace("-", "")
    return INDEX_ALIASES.get(key, key)


def equity_symbol(broker_symbol: str) -> str:
    """OpenAlgo's symbol for an Angel cash symbol: ``SBIN-EQ`` -> ``SBIN``."""
    for suffix in EQUITY_SUFFIXES:
        if broker_symbol.endswith(suffix):
            return broker_symbol[: -len(suffix)]
    return broker_symbol
