"""Every OpenAlgo <-> Angel SmartAPI translation table, in one place.

Order fields go out through :data:`PRICETYPES` and :data:`PRODUCTS`; position
rows come back through :data:`PRODUCTS_BACK` and :data:`SEGMENTS`; scrip-master
rows are read with :data:`INSTRUMENT_KINDS`, :data:`SEGMENTS`, :data:`CASH_SEGMENTS`,
:data:`INDEX_SEGMENTS`, :data:`REBUILT_SEGMENTS`, :data:`TICK_SCALE` and
:func:`strike_scale`. OpenAlgo's own spelling of symbols (series suffixes, index
aliases) is the core's (:mod:`openalgo_core.kit.symbols`): Angel adds nothing to it.
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

#: Tick sizes in the scrip master are in paise.
TICK_SCALE: Final = Decimal(100)
#: Strikes in the scrip master are in paise, currency (CDS) strikes x10^7.
_STRIKE_SCALES: Final = {"CDS": Decimal(10) ** 7}
_STRIKE_SCALE: Final = Decimal(100)


def strike_scale(segment: str) -> Decimal:
    """What a scrip-master ``strike`` on ``segment`` is divided by to give rupees."""
    return _STRIKE_SCALES.get(segment, _STRIKE_SCALE)

#: Angel ``ordertype`` (order-book rows) -> OpenAlgo pricetype.
PRICETYPES_BACK: Final = {angel: ours for ours, (angel, _) in PRICETYPES.items()}

#: Angel's order ``status`` text -> OpenAlgo's status vocabulary. The transient states
#: (⚠ Angel's list is not published in full) are orders still live at the exchange or on
#: their way to it, so "open"; any other text containing "pending" is read as open too.
STATUSES: Final = {
    "open": "open", "complete": "complete", "rejected": "rejected", "cancelled": "cancelled",
    "trigger pending": "trigger pending", "open pending": "open",
    "validation pending": "open", "put order req received": "open",
    "modify validation pending": "open", "modify pending": "open", "modified": "open",
    "not modified": "open", "cancel pending": "open", "not cancelled": "open",
    "after market order req received": "open", "cancelled after market order": "cancelled",
    "modify after market order req received": "open",
}
