"""Every OpenAlgo <-> Kotak Neo translation table for orders and books.

Orders go out through :data:`SEGMENTS`, :data:`PRICETYPES` and :data:`SIDES`; book rows
come back through :data:`SEGMENTS_BACK`, :data:`PRICETYPES_BACK`, :data:`PRODUCTS_BACK`
and :func:`status`. The SEBI-era rules for stop-market orders are :func:`protective_limit`
and its bands. Sources: brokers/kotak-icici A (the official SDK, its docs, OpenAlgo's
adapter) and sdk-observed.md (kotakneoapi 3.0.9). ⚠ marks what no source confirms; each
such table is a module constant, so it can be changed in one place.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Final

#: OpenAlgo exchange -> Kotak exchange segment (``es``); indices quote on the cash segment.
SEGMENTS: Final = {"NSE": "nse_cm", "BSE": "bse_cm", "NFO": "nse_fo", "BFO": "bse_fo",
                   "MCX": "mcx_fo", "NSE_INDEX": "nse_cm", "BSE_INDEX": "bse_cm"}
#: Kotak segment -> OpenAlgo exchange of a tradable row.
SEGMENTS_BACK: Final = {"nse_cm": "NSE", "bse_cm": "BSE", "nse_fo": "NFO", "bse_fo": "BFO",
                        "cde_fo": "CDS", "mcx_fo": "MCX"}
#: Segments whose positions are equity (a carried leg is a holding bought earlier).
CASH_SEGMENTS: Final = frozenset({"nse_cm", "bse_cm"})

#: OpenAlgo pricetype -> Kotak ``pt``.
PRICETYPES: Final = {"MARKET": "MKT", "LIMIT": "L", "SL": "SL", "SL-M": "SL-M"}
PRICETYPES_BACK: Final = {broker: ours for ours, broker in PRICETYPES.items()}
SIDES: Final = {"BUY": "B", "SELL": "S"}
SIDES_BACK: Final = {broker: ours for ours, broker in SIDES.items()}

#: Kotak ``prod`` -> OpenAlgo product. ⚠ MTF (margin-funded delivery) is shown as CNC and
#: the retired CO/BO/INTRADAY as MIS: an order placed in Kotak's own app may carry them.
PRODUCTS_BACK: Final = {"CNC": "CNC", "NRML": "NRML", "MIS": "MIS", "MTF": "CNC",
                        "INTRADAY": "MIS", "CO": "MIS", "BO": "MIS"}

#: Kotak ``ordSt`` (lower-cased) -> OpenAlgo status. ⚠ Only open, complete, rejected,
#: cancelled, trigger pending and the three after-market states are documented (Kotak
#: issue #97); the rest are the OMS's intermediate states. :func:`status` reads any other
#: text containing "pending" or "req received" as open.
STATUSES: Final = {
    "open": "open", "open pending": "open", "validation pending": "open",
    "put order req received": "open", "modify pending": "open",
    "modify validation pending": "open", "modified": "open", "cancel pending": "open",
    "after market order req received": "open",
    "modify after market order req received": "open",
    "trigger pending": "trigger pending",
    "complete": "complete", "traded": "complete",
    "cancelled": "cancelled", "cancelled after market order": "cancelled",
    "rejected": "rejected",
}


def status(text: str) -> str | None:
    """OpenAlgo's status for Kotak's ``ordSt``; None for a text it cannot place."""
    key = " ".join(text.lower().split())
    found = STATUSES.get(key)
    if found is None and ("pending" in key or "req received" in key):
        return "open"
    return found


#: Market price protection sent in ``mp`` on every order and modify (the SDK sends "0":
#: Kotak applies its own protection to a market order, converting it to a protected
#: limit server-side).
MARKET_PROTECTION: Final = "0"
#: What ``SLM_AS_SL`` holds to send SL-M orders as they are (⚠ since SEBI's retail-algo
#: rules Kotak refuses them from API sessions: "Market order with Algo Id not allowed").
OFF_VALUES: Final = frozenset({"no", "false", "0", "off"})

#: What ``MCX_QUANTITY`` must hold for MCX orders to be sent (⚠ units or lots unconfirmed).
MCX_UNITS: Final = "units"

#: Market price protection bands (OpenAlgo's MPP slabs, from its Kotak adapter): for an
#: equity or a future, (price below, percent); for an option, the same, its first band an
#: absolute amount in rupees. ⚠ Kotak's own bands are not published.
EQUITY_BANDS: Final = ((Decimal(100), Decimal("2")), (Decimal(500), Decimal("1")))
EQUITY_LAST: Final = Decimal("0.5")
OPTION_BANDS: Final = ((Decimal(5), Decimal("10")), (Decimal(10), Decimal("5")),
                       (Decimal(100), Decimal("3")), (Decimal(500), Decimal("2")))
OPTION_LAST: Final = Decimal("1")
OPTION_FLOOR_PRICE: Final = Decimal(1)
OPTION_FLOOR_AMOUNT: Final = Decimal("0.10")


def protection(price: Decimal, option: bool) -> Decimal:
    """How far (in rupees) a protective limit sits from ``price``: the MPP band of an
    option or of an equity/future at that price."""
    if option and price < OPTION_FLOOR_PRICE:
        return OPTION_FLOOR_AMOUNT
    bands, last = (OPTION_BANDS, OPTION_LAST) if option else (EQUITY_BANDS, EQUITY_LAST)
    percent = next((p for below, p in bands if price < below), last)
    return price * percent / 100


def protective_limit(trigger: Decimal, buy: bool, tick: Decimal, option: bool) -> Decimal:
    """The limit price an SL-M order is sent with as an SL: beyond the trigger by one
    protection band (a BUY above, a SELL below), on the tick, at least one tick away and
    above zero."""
    band = protection(trigger, option)
    if buy:
        steps = ((trigger + band) / tick).to_integral_value(ROUND_CEILING)
        price = max(steps * tick, trigger + tick)
    else:
        steps = ((trigger - band) / tick).to_integral_value(ROUND_FLOOR)
        price = min(steps * tick, trigger - tick)
    return max(price, tick)


def number_text(value: Decimal) -> str:
    """A number as every ``jData`` field carries it: text, ``"0"`` for zero (⚠ Kotak
    refuses ``"0.0"``), no exponent and no trailing zeros."""
    if not value:
        return "0"
    return format(value.normalize(), "f")
