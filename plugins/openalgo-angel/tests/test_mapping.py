"""OpenAlgo <-> Angel tables: order bodies, products, headers, strike scales."""

from __future__ import annotations

from decimal import Decimal

import pytest
from openalgo_angel import mapping
from openalgo_angel.broker import AngelBroker, order_body

from openalgo_core import Instrument, OrderRequest, Product, new_session, order_from
from openalgo_core.config import Credentials

SBIN = Instrument("SBIN", "NSE", "SBIN-EQ", "NSE", "3045", "SBIN", "EQ", 1, Decimal("0.05"))
NIFTY_CE = Instrument("NIFTY28MAR2422000CE", "NFO", "NIFTY28MAR2422000CE", "NFO", "46569",
                      "NIFTY", "CE", 75, Decimal("0.05"))


def _order(**fields: object) -> OrderRequest:
    data = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 10,
            "product": "MIS", "tag": "oa1234567890abcd"}
    data.update(fields)
    return order_from(data)


@pytest.mark.parametrize(("pricetype", "prices", "ordertype", "variety"), [
    ("MARKET", {}, "MARKET", "NORMAL"),
    ("LIMIT", {"price": "812.35"}, "LIMIT", "NORMAL"),
    ("SL", {"price": "812.35", "trigger_price": "812.00"}, "STOPLOSS_LIMIT", "STOPLOSS"),
    ("SL-M", {"trigger_price": "812"}, "STOPLOSS_MARKET", "STOPLOSS"),
])
def test_pricetype_sets_ordertype_variety_and_prices(pricetype: str, prices: dict[str, str],
                                                     ordertype: str, variety: str) -> None:
    body = order_body(_order(pricetype=pricetype, **prices), SBIN)
    assert (body["ordertype"], body["variety"]) == (ordertype, variety)
    assert body["price"] == prices.get("price", "0")
    assert body["triggerprice"] == prices.get("trigger_price", "0")


@pytest.mark.parametrize(("product", "angel"), [
    ("CNC", "DELIVERY"), ("NRML", "CARRYFORWARD"), ("MIS", "INTRADAY")])
def test_products_both_ways(product: str, angel: str) -> None:
    assert mapping.PRODUCTS[product] == angel
    assert mapping.PRODUCTS_BACK[angel] == product


def test_every_openalgo_product_and_pricetype_is_mapped() -> None:
    assert set(mapping.PRODUCTS) == {p.value for p in Product}
    assert set(mapping.PRICETYPES) == {"MARKET", "LIMIT", "SL", "SL-M"}
    assert mapping.PRODUCTS_BACK["MARGIN"] == "NRML"


def test_order_body_is_angels_shape_with_strings() -> None:
    body = order_body(_order(quantity=150, pricetype="LIMIT", price="7.05", product="NRML",
                             action="SELL", disclosed_quantity=75, exchange="NFO",
                             symbol="NIFTY28MAR2422000CE"), NIFTY_CE)
    assert body == {
        "variety": "NORMAL", "tradingsymbol": "NIFTY28MAR2422000CE", "symboltoken": "46569",
        "transactiontype": "SELL", "exchange": "NFO", "ordertype": "LIMIT",
        "producttype": "CARRYFORWARD", "duration": "DAY", "price": "7.05",
        "triggerprice": "0", "squareoff": "0", "stoploss": "0", "quantity": "150",
        "disclosedquantity": "75", "ordertag": "oa1234567890abcd"}


def test_order_body_never_writes_an_exponent() -> None:
    body = order_body(_order(pricetype="LIMIT", price=Decimal("1E+3")), SBIN)
    assert body["price"] == "1000"


@pytest.mark.parametrize(("segment", "scale"), [
    ("NFO", 100), ("BFO", 100), ("MCX", 100), ("CDS", 10**7)])
def test_strike_scale(segment: str, scale: int) -> None:
    assert mapping.strike_scale(segment) == scale


def test_headers_are_all_mandatory_ones_and_bearer() -> None:
    credentials = Credentials("angel", {"API_KEY": "key-1"})
    sent = AngelBroker().headers(credentials, new_session("angel", "A1", "jwt-1"))
    assert sent["X-PrivateKey"] == "key-1"
    assert sent["Authorization"] == "Bearer jwt-1"
    assert {"Content-Type", "Accept", "X-UserType", "X-SourceID", "X-ClientLocalIP",
            "X-ClientPublicIP", "X-MACAddress"} <= set(sent)
    assert all(sent.values())
    assert "Authorization" not in AngelBroker().headers(credentials, None)
