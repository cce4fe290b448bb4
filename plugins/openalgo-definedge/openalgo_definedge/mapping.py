"""Every OpenAlgo <-> Definedge Integrate translation table for orders and books.

Orders go out through :data:`PRICETYPES`, :data:`PRODUCTS` and :data:`ALGO_IDS`; book
rows come back through :data:`PRICETYPES_BACK`, :func:`product_back`,
:data:`STATUSES` and :data:`REASON_FIELDS`. The master contract's own tables are in
:mod:`.instruments`. Sources: brokers/definedge section 2 (the official SDK
pyintegrate 3.0.0, its mock replies, OpenAlgo's adapter). ⚠ marks what no source
confirms; each such table is a module constant, so it can be changed in one place.
"""

from __future__ import annotations

from typing import Final

#: OpenAlgo pricetype -> Definedge ``price_type`` (``order_type`` is the side).
PRICETYPES: Final = {"MARKET": "MARKET", "LIMIT": "LIMIT", "SL": "SL-LIMIT",
                     "SL-M": "SL-MARKET"}
PRICETYPES_BACK: Final = {broker: ours for ours, broker in PRICETYPES.items()}

#: Price types whose ``price`` must be sent as 0.
MARKET_TYPES: Final = frozenset({"MARKET", "SL-MARKET"})

#: OpenAlgo product -> Definedge ``product_type``.
PRODUCTS: Final = {"CNC": "CNC", "MIS": "INTRADAY", "NRML": "NORMAL"}

#: Definedge's cash exchanges: there ``NORMAL`` is delivery (CNC); elsewhere it is NRML.
CASH_EXCHANGES: Final = frozenset({"NSE", "BSE"})

#: SEBI's generic algo ids, mandatory on every order since pyintegrate 2.0.0, by the
#: order's exchange (``OPENALGO_DEFINEDGE_ALGO_ID`` replaces them with a registered id).
ALGO_IDS: Final = {"NSE": "99999", "NFO": "99999", "CDS": "99999", "MCX": "99999",
                   "BSE": "9999999999999999", "BFO": "9999999999999999",
                   "BCD": "9999999999999999"}

#: Definedge ``order_status`` (upper-cased, ``_`` read as a space) -> OpenAlgo status.
#: ⚠ Only COMPLETE, CANCELED, REJECTED, OPEN and NEW are documented; the rest are the
#: Noren states the OMS behind the API reports. Any other text containing "PENDING" is
#: read as open.
STATUSES: Final = {
    "OPEN": "open", "NEW": "open", "REPLACED": "open", "PENDING": "open",
    "OPEN PENDING": "open", "MODIFY PENDING": "open", "CANCEL PENDING": "open",
    "PARTIALLY FILLED": "open", "AMO RECEIVED": "open",
    "TRIGGER PENDING": "trigger pending",
    "COMPLETE": "complete", "EXECUTED": "complete",
    "CANCELED": "cancelled", "CANCELLED": "cancelled",
    "REJECTED": "rejected",
}

#: Where an order-book row carries the broker's reason (first present and non-empty
#: wins). ⚠ The field is not documented: ``message`` as the REST envelope names it,
#: ``rejreason`` as the Noren OMS does.
REASON_FIELDS: Final = ("message", "rejreason", "reason")


def product_back(product_type: str, exchange: str) -> str:
    """OpenAlgo's product for a book row: NORMAL is CNC on a cash exchange, else NRML.

    Raises:
        KeyError: a product Definedge does not document.
    """
    if product_type == "NORMAL":
        return "CNC" if exchange in CASH_EXCHANGES else "NRML"
    return _PRODUCTS_BACK[product_type]


_PRODUCTS_BACK: Final = {"CNC": "CNC", "INTRADAY": "MIS", "MIS": "MIS", "NRML": "NRML"}
