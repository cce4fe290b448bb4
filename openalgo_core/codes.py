"""OpenAlgo's codes: exchanges, actions, price types and products.

Plain ``StrEnum``s with no dependencies, so that a plugin can declare itself
(:mod:`openalgo_core.info`) without importing the order models.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["CASH_EXCHANGES", "INDEX_EXCHANGES", "OPEN_STATUSES", "Action", "Exchange",
           "OrderStatus", "PriceType", "Product"]


class Exchange(StrEnum):
    NSE = "NSE"
    BSE = "BSE"
    NFO = "NFO"
    BFO = "BFO"
    CDS = "CDS"
    BCD = "BCD"
    MCX = "MCX"
    NCDEX = "NCDEX"
    NSE_INDEX = "NSE_INDEX"
    BSE_INDEX = "BSE_INDEX"
    MCX_INDEX = "MCX_INDEX"


CASH_EXCHANGES = frozenset({Exchange.NSE, Exchange.BSE})
INDEX_EXCHANGES = frozenset({Exchange.NSE_INDEX, Exchange.BSE_INDEX, Exchange.MCX_INDEX})


class Action(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class PriceType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    SL = "SL"
    SL_M = "SL-M"


class Product(StrEnum):
    MIS = "MIS"
    CNC = "CNC"
    NRML = "NRML"


class OrderStatus(StrEnum):
    """An order's state in OpenAlgo's vocabulary (the order book's ``order_status``)."""

    OPEN = "open"
    TRIGGER_PENDING = "trigger pending"
    COMPLETE = "complete"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


#: The states in which an order can still be modified or cancelled.
OPEN_STATUSES = frozenset({OrderStatus.OPEN, OrderStatus.TRIGGER_PENDING})
