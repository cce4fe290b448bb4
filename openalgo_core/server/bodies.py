"""Request bodies of the ``/api/v1`` endpoints, in OpenAlgo's field names.

Unknown fields are refused (a typo such as ``pricetyp`` is an error, not a default).
``apikey`` may come in the body (as OpenAlgo's clients send it) or in the ``X-API-KEY``
header; ``broker`` picks one of several installed brokers (default ``OPENALGO_BROKER``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..models import TAG_PATTERN
from .inputs import Money, SignedWhole, Text, Whole

__all__ = ["BasketBody", "BasketItem", "CancelBody", "KeyBody", "ModifyBody", "OpenPositionBody",
           "OrderIdBody", "PlaceOrderBody", "SearchBody", "SmartOrderBody", "SplitBody",
           "StrategyBody", "SymbolBody", "ExpiryBody"]

MAX_BASKET = 100

# OpenAlgo's own choices (restx_api/schemas.py): upper case, or BUY/SELL in lower case
ExchangeCode = Literal["NSE", "BSE", "NFO", "BFO", "CDS", "BCD", "MCX", "NCDEX", "NSE_INDEX",
                       "BSE_INDEX", "MCX_INDEX"]
ActionCode = Literal["BUY", "SELL", "buy", "sell"]
PriceTypeCode = Literal["MARKET", "LIMIT", "SL", "SL-M"]
ProductCode = Literal["MIS", "CNC", "NRML"]
OrderId = Annotated[str, Field(pattern=r"^[!-~]([ -~]{0,62}[!-~])?$",
                               description="the broker's order id")]


class KeyBody(BaseModel):
    """What every call carries: the key (or the header) and, optionally, the broker."""

    model_config = ConfigDict(extra="forbid")

    apikey: Annotated[str | None, Field(max_length=256, description="or the X-API-KEY header")] \
        = None
    broker: Annotated[str | None, Field(max_length=32,
                                        description="default: OPENALGO_BROKER")] = None
    strategy: Annotated[str | None, Field(max_length=64,
                                          description="your strategy's name")] = None


class StrategyBody(KeyBody):
    strategy: Annotated[str, Field(max_length=64)] = "api"


class _Leg(BaseModel):
    """One order's fields (OpenAlgo's names and defaults)."""

    model_config = ConfigDict(extra="forbid")

    exchange: ExchangeCode
    symbol: Text
    action: ActionCode
    quantity: Whole
    pricetype: PriceTypeCode = "MARKET"
    product: ProductCode = "MIS"
    price: Money = Decimal(0)
    trigger_price: Money = Decimal(0)
    disclosed_quantity: Whole = 0


Tag = Annotated[str | None, Field(pattern=TAG_PATTERN.pattern,
                                  description="your own unique order tag: an order sent"
                                              " again with the same tag is not placed twice")]


class BasketItem(_Leg):
    tag: Tag = None


class PlaceOrderBody(StrategyBody, _Leg):
    tag: Tag = None


class SmartOrderBody(PlaceOrderBody):
    position_size: SignedWhole = Field(description="the target net position")


class SplitBody(StrategyBody, _Leg):
    splitsize: Whole = Field(description="the quantity of each order (the last one takes"
                                         " the rest)")
    tag: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9_-]{1,16}$",
                                     description="your own unique tag for the split: order n"
                                                 " is tagged <tag>-<n>, so a split sent again"
                                                 " places nothing twice")] = None


class BasketBody(StrategyBody):
    orders: Annotated[list[BasketItem], Field(min_length=1, max_length=MAX_BASKET)]


class OrderIdBody(StrategyBody):
    orderid: OrderId


class CancelBody(OrderIdBody):
    pass


class ModifyBody(OrderIdBody):
    """OpenAlgo's modify: every field as the order should now be. Quantity, price,
    trigger price and price type may change; symbol, exchange, action and product must
    be the order's own."""

    exchange: ExchangeCode
    symbol: Text
    action: ActionCode
    product: ProductCode
    pricetype: PriceTypeCode
    price: Money
    quantity: Whole
    disclosed_quantity: Whole = 0
    trigger_price: Money = Decimal(0)


class OpenPositionBody(StrategyBody):
    symbol: Text
    exchange: ExchangeCode
    product: ProductCode


class SearchBody(KeyBody):
    query: Text
    exchange: ExchangeCode | None = None


class SymbolBody(KeyBody):
    symbol: Text
    exchange: ExchangeCode


class ExpiryBody(KeyBody):
    symbol: Text = Field(description="the underlying, e.g. NIFTY")
    exchange: Literal["NFO", "BFO", "CDS", "BCD", "MCX", "NCDEX"]
    instrumenttype: Literal["futures", "options"]
