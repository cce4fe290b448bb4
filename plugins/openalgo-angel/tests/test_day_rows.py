"""getOrderBook, getTradeBook, getRMS and getHolding rows -> unified models; the
modifyOrder and cancelOrder bodies (Angel's published field names, numbers as strings)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from openalgo_angel.broker import AngelBroker, modify_body

from openalgo_core import (
    BrokerResponseError,
    Instrument,
    InstrumentIndex,
    Order,
    OrderRequest,
    OrderStatus,
)
from openalgo_core.kit import Row
from openalgo_core.models import IST

SBIN = Instrument("SBIN", "NSE", "SBIN-EQ", "NSE", "3045", "SBIN")
INDEX = InstrumentIndex.from_instruments("angel", [
    SBIN, Instrument("NIFTY28MAR24FUT", "NFO", "NIFTY28MAR24FUT", "NFO", "35863", "NIFTY",
                     "FUT", 75)])

#: an order-book row as Angel documents it (every value a string)
BOOK_ROW = {
    "variety": "STOPLOSS", "ordertype": "STOPLOSS_LIMIT", "producttype": "INTRADAY",
    "duration": "DAY", "price": "812.00", "triggerprice": "811.50", "quantity": "10",
    "disclosedquantity": "0", "squareoff": "0.0", "stoploss": "0.0",
    "trailingstoploss": "0.0", "tradingsymbol": "SBIN-EQ", "transactiontype": "BUY",
    "exchange": "NSE", "symboltoken": "3045", "ordertag": "oa0123456789abcd",
    "instrumenttype": "", "strikeprice": "-1", "optiontype": "", "expirydate": "",
    "lotsize": "1", "cancelsize": "0", "averageprice": "0.00", "filledshares": "0",
    "unfilledshares": "10", "orderid": "201020000000080", "text": "",
    "status": "trigger pending", "orderstatus": "trigger pending",
    "updatetime": "20-Oct-2020 13:10:59", "exchtime": "20-Oct-2020 13:10:59",
    "exchorderupdatetime": "20-Oct-2020 13:10:59", "fillid": "", "filltime": "",
    "parentorderid": "", "uniqueorderid": "34reqfachdfih"}


def order(raw: dict[str, Any], broker: AngelBroker | None = None) -> Order:
    return (broker or AngelBroker()).order_row(Row(raw, what="order row", broker="angel"),
                                               INDEX)


def test_an_order_book_row() -> None:
    o = order(BOOK_ROW)
    assert (o.order_id, o.symbol, o.exchange, o.action, o.quantity, o.pricetype, o.product) \
        == ("201020000000080", "SBIN", "NSE", "BUY", 10, "SL", "MIS")
    assert (o.price, o.trigger_price, o.status, o.tag) == (
        Decimal("812.00"), Decimal("811.50"), OrderStatus.TRIGGER_PENDING, "oa0123456789abcd")
    assert o.timestamp == dt.datetime(2020, 10, 20, 13, 10, 59, tzinfo=IST)
    assert o.is_open


def test_a_rejection_carries_angel_s_reason() -> None:
    o = order({**BOOK_ROW, "status": "rejected", "text": "Insufficient funds"})
    assert (o.status, o.reason, o.is_open) == (OrderStatus.REJECTED, "Insufficient funds",
                                               False)


@pytest.mark.parametrize(("angel", "ours"), [
    ("open", "open"), ("complete", "complete"), ("cancelled", "cancelled"),
    ("validation pending", "open"), ("modify pending", "open"),
    ("after market order req received", "open"), ("some new pending state", "open"),
    ("Complete", "complete")])
def test_statuses(angel: str, ours: str) -> None:
    assert order({**BOOK_ROW, "status": angel}).status == ours


def test_an_unknown_status_makes_the_row_unreadable() -> None:
    with pytest.raises(BrokerResponseError, match="status"):
        order({**BOOK_ROW, "status": "vanished"})


def test_a_row_outside_the_master_keeps_a_plain_symbol_and_no_tag() -> None:
    o = order({**BOOK_ROW, "symboltoken": "999999", "tradingsymbol": "NEWCO-BE",
               "ordertag": ""})
    assert (o.symbol, o.exchange, o.tag) == ("NEWCO", "NSE", None)


def test_the_unique_id_is_learnt_for_details() -> None:
    broker = AngelBroker()
    assert broker.order_status_call("201020000000080", None) is None  # type: ignore[arg-type]
    order(BOOK_ROW, broker)
    call = broker.order_status_call("201020000000080", None)  # type: ignore[arg-type]
    assert call is not None and call.path.endswith("/order/v1/details/34reqfachdfih")


def test_modify_keeps_the_variety_and_sends_every_field_as_text() -> None:
    current = order(BOOK_ROW)
    change = OrderRequest(symbol="SBIN", exchange="NSE", action="BUY", quantity=12,
                          pricetype="SL", product="MIS", price="813", trigger_price="812.5")
    assert modify_body(current, change, SBIN) == {
        "variety": "STOPLOSS", "orderid": "201020000000080", "ordertype": "STOPLOSS_LIMIT",
        "producttype": "INTRADAY", "duration": "DAY", "price": "813",
        "triggerprice": "812.5", "quantity": "12", "disclosedquantity": "0",
        "tradingsymbol": "SBIN-EQ", "symboltoken": "3045", "exchange": "NSE"}


def test_cancel_names_the_order_s_own_variety() -> None:
    call = AngelBroker().cancel_call(order(BOOK_ROW), None)  # type: ignore[arg-type]
    assert call.content == b'{"variety":"STOPLOSS","orderid":"201020000000080"}'


def test_a_trade_book_row() -> None:
    t = AngelBroker().trade_row(Row({
        "exchange": "NSE", "producttype": "DELIVERY", "tradingsymbol": "SBIN-EQ",
        "instrumenttype": "", "symbolgroup": "EQ", "strikeprice": "-1", "optiontype": "",
        "expirydate": "", "marketlot": "1", "precision": "2", "multiplier": "-1",
        "tradevalue": "8123.50", "transactiontype": "BUY", "fillprice": "812.35",
        "fillsize": "10", "orderid": "201020000000080", "fillid": "50005750",
        "filltime": "13:27:53"}, what="trade row", broker="angel"), INDEX)
    assert (t.order_id, t.trade_id, t.symbol, t.exchange, t.action, t.product) == (
        "201020000000080", "50005750", "SBIN", "NSE", "BUY", "CNC")
    assert (t.quantity, t.average_price, t.trade_value) == (10, Decimal("812.35"),
                                                            Decimal("8123.50"))
    assert t.timestamp is not None and t.timestamp.time() == dt.time(13, 27, 53)


def test_get_rms_as_funds() -> None:
    f = AngelBroker().funds_row(Row({
        "net": "9999.99", "availablecash": "10000.00", "availableintradaypayin": "0",
        "availablelimitmargin": "0", "collateral": "250.00", "m2munrealized": "-7.88",
        "m2mrealized": "3.27", "utiliseddebits": "679.34", "utilisedspan": "0",
        "utilisedoptionpremium": "0", "utilisedholdingsales": "0", "utilisedexposure": "0",
        "utilisedturnover": "0", "utilisedpayout": "0"}, what="funds", broker="angel"))
    assert (f.available_cash, f.collateral, f.used_margin, f.realised_pnl,
            f.unrealised_pnl) == (Decimal("10000.00"), Decimal("250.00"), Decimal("679.34"),
                                  Decimal("3.27"), Decimal("-7.88"))


def test_a_holding_row() -> None:
    h = AngelBroker().holding_row(Row({
        "tradingsymbol": "SBIN-EQ", "exchange": "NSE", "isin": "INE062A01020",
        "t1quantity": 0, "realisedquantity": 2, "quantity": 2, "authorisedquantity": 0,
        "product": "DELIVERY", "collateralquantity": None, "collateraltype": None,
        "haircut": 0, "averageprice": 600.5, "ltp": 812.35, "symboltoken": "3045",
        "close": 810.0, "profitandloss": 423.7, "pnlpercentage": 35.28},
        what="holding row", broker="angel"), INDEX)
    assert (h.symbol, h.exchange, h.product, h.quantity) == ("SBIN", "NSE", "CNC", 2)
    assert (h.average_price, h.ltp, h.pnl) == (Decimal("600.5"), Decimal("812.35"),
                                               Decimal("423.7"))
    assert h.pnl_percent == Decimal("35.28")
