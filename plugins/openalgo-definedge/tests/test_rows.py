"""Definedge's book rows -> unified models, and the book replies around them.

The rows are written here in Integrate's shapes (brokers/definedge 2.4-2.5, the SDK's
mock replies): every value a string, ``lastPrice`` in camel case, ``CANCELED`` with one
L, holdings with one listing per exchange. Replies are served by an
``httpx.MockTransport``, so each shape is exactly the one under test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import httpx
import pytest
from openalgo_definedge import INFO
from openalgo_definedge.broker import DefinedgeBroker
from openalgo_definedge.mapping import STATUSES

from openalgo_core import (
    BrokerClient,
    BrokerResponseError,
    Instrument,
    InstrumentIndex,
    Order,
    OrderStatus,
    Position,
    RetryPolicy,
    new_session,
)
from openalgo_core.config import credentials_for
from openalgo_core.kit import Row
from openalgo_core.models import IST, Funds, Trade

TRADE = "/dart/v1"
SBIN = Instrument("SBIN", "NSE", "SBIN-EQ", "NSE", "3045", "SBIN")
INDEX = InstrumentIndex.from_instruments("definedge", [
    SBIN, Instrument("SBIN", "BSE", "SBIN", "BSE", "500112", "SBIN"),
    Instrument("TCS", "NSE", "TCS-EQ", "NSE", "11536", "TCS"),
    Instrument("NIFTY23FEB23FUT", "NFO", "NIFTY23FEB23F", "NFO", "48757", "NIFTY", "FUT", 50),
    Instrument("NIFTY28OCT2525000CE", "NFO", "NIFTY28OCT25C25000", "NFO", "43001", "NIFTY",
               "CE", 75),
    Instrument("USDINR26NOV25FUT", "CDS", "USDINR26NOV25F", "CDS", "1205", "USDINR", "FUT",
               1000, Decimal("0.0025")),
])
BROKER = DefinedgeBroker()

#: an order-book row in Integrate's shape: a BUY stop-loss limit, trigger pending
BOOK_ROW: dict[str, Any] = {
    "order_id": "25112000000417", "tradingsymbol": "SBIN-EQ", "token": "3045",
    "quantity": "10", "price_type": "SL-LIMIT", "product_type": "INTRADAY",
    "order_entry_time": "1763612145", "order_status": "TRIGGER PENDING", "order_type": "BUY",
    "variety": "REGULAR", "lotsize": "1", "exchange_orderid": "1100000012345678",
    "pending_qty": "10", "price": "812.00", "exchange_time": "20-11-2025 09:45:45",
    "average_traded_price": "0.00", "exchange": "NSE", "filled_qty": "0",
    "disclosed_quantity": "0", "validity": "DAY", "price_precision": "2", "ticksize": "0.05",
    "price_factor": "1.000000", "multiplier": "1", "rqty": "10", "required_price": "812.00",
    "trigger_price": "811.50", "remarks": "oa0123456789abcd"}
#: 09:45:45 IST on 20 November 2025, when BOOK_ROW was entered
ENTERED = dt.datetime(2025, 11, 20, 9, 45, 45, tzinfo=IST)

#: a fill in Integrate's shape: the second part (30 of 50) of a SELL of a NIFTY future
TRADE_ROW: dict[str, Any] = {
    "order_id": "25112000000533", "exchange": "NFO", "price_type": "LIMIT",
    "validity": "DAY", "product_type": "NORMAL", "fill_id": "70211",
    "fill_time": "20-11-2025 10:02:17", "order_type": "SELL",
    "tradingsymbol": "NIFTY23FEB23F", "quantity": "50", "token": "48757",
    "filled_qty": "50", "last_fill_qty": "30", "price_precision": "2", "lotsize": "50",
    "ticksize": "0.05", "price": "17660.00", "fill_price": "17662.35",
    "exchange_time": "20-11-2025 10:02:17", "exchange_orderid": "1200000000077123",
    "remarks": "oa00000000000002"}

#: an open delivery position in Integrate's shape (every number a string)
TCS_ROW: dict[str, Any] = {
    "exchange": "NSE", "tradingsymbol": "TCS-EQ", "product_type": "CNC", "token": "11536",
    "price_precision": "2", "lotsize": "1", "ticksize": "0.05", "multiplier": "1",
    "price_factor": "1.000000", "day_buy_qty": "2", "day_sell_qty": "0",
    "day_buy_amt": "6442.00", "day_buy_avg": "3221.00", "day_sell_amt": "0.00",
    "day_sell_avg": "0.00", "carry_buy_qty": "0", "carry_sell_qty": "0",
    "open_buy_quantity": "0", "open_sell_quantity": "0", "open_buy_amount": "0.00",
    "open_buy_averageprice": "0.00", "open_sell_amount": "0.00",
    "open_sell_averageprice": "0.00", "day_averageprice": "3221.00", "net_quantity": "2",
    "net_averageprice": "3221.00", "upload_price": "0.00", "net_uploadprice": "3221.00",
    "lastPrice": "3225.40", "unrealized_pnl": "8.80", "break_even_point": "3221.00",
    "realized_pnl": "-0.00", "total_buy_amt": "6442.00", "total_sell_amt": "0.00",
    "total_buy_avg": "3221.00"}
#: a short option closed in part: realised on what was bought back, unrealised on the rest
OPTION_ROW: dict[str, Any] = {
    "exchange": "NFO", "tradingsymbol": "NIFTY28OCT25C25000", "product_type": "NORMAL",
    "token": "43001", "lotsize": "75", "day_buy_qty": "75", "day_sell_qty": "150",
    "net_quantity": "-75", "net_averageprice": "112.40", "lastPrice": "98.15",
    "unrealized_pnl": "1068.75", "realized_pnl": "-412.50"}


def row(raw: Any, what: str = "row") -> Row:
    return Row(raw, what=what, broker="definedge")


def order(raw: Any) -> Order:
    found = BROKER.order_row(row(raw, "order row"), INDEX)
    assert found is not None
    return found


def trade(raw: Any) -> Trade:
    found = BROKER.trade_row(row(raw, "trade row"), INDEX)
    assert found is not None
    return found


def position(raw: Any) -> Position:
    return BROKER.position(row(raw, "position row"), INDEX)


def funds(raw: Any) -> Funds:
    return BROKER.funds_row(row(raw, "funds"))


# -- the order book --------------------------------------------------------------------
def test_an_order_book_row() -> None:
    o = order(BOOK_ROW)
    assert (o.broker, o.order_id, o.symbol, o.exchange, o.action, o.quantity) == (
        "definedge", "25112000000417", "SBIN", "NSE", "BUY", 10)
    assert (o.pricetype, o.product, o.price, o.trigger_price) == (
        "SL", "MIS", Decimal("812.00"), Decimal("811.50"))
    assert (o.status, o.filled_quantity, o.average_price, o.reason) == (
        OrderStatus.TRIGGER_PENDING, 0, Decimal(0), "")
    assert (o.tag, o.timestamp, o.raw) == ("oa0123456789abcd", ENTERED, BOOK_ROW)
    assert o.is_open


def test_a_complete_sell_carries_its_fill() -> None:
    o = order({**BOOK_ROW, "order_status": "COMPLETE", "order_type": "SELL",
               "price_type": "MARKET", "price": "0.00", "trigger_price": "0.00",
               "filled_qty": "10", "pending_qty": "0", "average_traded_price": "812.40"})
    assert (o.status, o.action, o.pricetype, o.filled_quantity, o.average_price) == (
        OrderStatus.COMPLETE, "SELL", "MARKET", 10, Decimal("812.40"))
    assert not o.is_open


def test_canceled_with_one_l_is_cancelled() -> None:
    o = order({**BOOK_ROW, "order_status": "CANCELED", "pending_qty": "0"})
    assert (o.status, o.is_open) == (OrderStatus.CANCELLED, False)


#: Definedge's order_status -> OpenAlgo's, written out here (not read from mapping.py)
EXPECTED_STATUSES = {
    "OPEN": "open", "NEW": "open", "REPLACED": "open", "PENDING": "open",
    "OPEN PENDING": "open", "MODIFY PENDING": "open", "CANCEL PENDING": "open",
    "PARTIALLY FILLED": "open", "AMO RECEIVED": "open", "TRIGGER PENDING": "trigger pending",
    "COMPLETE": "complete", "EXECUTED": "complete", "CANCELED": "cancelled",
    "CANCELLED": "cancelled", "REJECTED": "rejected"}


def test_every_status_the_plugin_knows_is_tested() -> None:
    assert set(STATUSES) == set(EXPECTED_STATUSES)


@pytest.mark.parametrize(("definedge", "ours"), [
    *EXPECTED_STATUSES.items(),
    ("canceled", "cancelled"), ("Complete", "complete"), ("TRIGGER_PENDING", "trigger pending"),
    ("partially_filled", "open"), (" REJECTED ", "rejected"),
    ("VALIDATION PENDING", "open"), ("SOME NEW PENDING STATE", "open")])
def test_statuses(definedge: str, ours: str) -> None:
    assert order({**BOOK_ROW, "order_status": definedge}).status == ours


@pytest.mark.parametrize("status", ["VANISHED", "FILLED", "", None, 3, ["OPEN"]])
def test_an_unknown_status_is_a_typed_error_naming_the_field(status: Any) -> None:
    with pytest.raises(BrokerResponseError) as info:
        order({**BOOK_ROW, "order_status": status})
    assert "'order_status'" in info.value.message


@pytest.mark.parametrize(("fields", "reason"), [
    ({"message": "RMS:Margin Exceeds, Required:8120.00, Available:100.00"},
     "RMS:Margin Exceeds, Required:8120.00, Available:100.00"),
    ({"rejreason": "RMS:Blocked for trading"}, "RMS:Blocked for trading"),
    ({"message": "Check lot size", "rejreason": "other words"}, "Check lot size"),
    ({"message": "", "rejreason": "RMS:Blocked for trading"}, "RMS:Blocked for trading"),
    ({"message": None, "rejreason": " Price out of range "}, "Price out of range"),
    ({}, "")])
def test_a_rejected_row_carries_the_reason(fields: dict[str, Any], reason: str) -> None:
    o = order({**BOOK_ROW, "order_status": "REJECTED", "exchange_orderid": "", **fields})
    assert (o.status, o.reason, o.is_open) == (OrderStatus.REJECTED, reason, False)


@pytest.mark.parametrize(("remarks", "tag"), [("oa0123456789abcd", "oa0123456789abcd"),
                                              (" oaXYZ ", "oaXYZ"), ("", None), (None, None)])
def test_remarks_is_the_tag(remarks: str | None, tag: str | None) -> None:
    assert order({**BOOK_ROW, "remarks": remarks}).tag == tag
    assert order({k: v for k, v in BOOK_ROW.items() if k != "remarks"}).tag is None


@pytest.mark.parametrize(("entered", "when"), [
    ("1763612145", ENTERED), (1763612145, ENTERED), (" 1763612145 ", ENTERED),
    ("09:45:45 20-11-2025", ENTERED),  # as one order's reply writes it
    ("20-11-2025 09:45:45", None), ("yesterday", None), ("", None), ("0", None),
    ("-5", None), ("99999999999", None), (None, None), (1.5, None), ({}, None)])
def test_the_entry_time_as_epoch_seconds_or_clock_time(entered: Any,
                                                       when: dt.datetime | None) -> None:
    assert order({**BOOK_ROW, "order_entry_time": entered}).timestamp == when


@pytest.mark.parametrize(("exchange", "token", "symbol", "product"), [
    ("NSE", "3045", "SBIN", "CNC"), ("BSE", "500112", "SBIN", "CNC"),
    ("NFO", "48757", "NIFTY23FEB23FUT", "NRML"), ("CDS", "1205", "USDINR26NOV25FUT", "NRML"),
    ("BFO", "1", "SENSEX23FEB23F", "NRML"), ("MCX", "1", "CRUDEOIL23FEB23F", "NRML")])
def test_normal_is_delivery_on_cash_and_carry_forward_on_derivatives(
        exchange: str, token: str, symbol: str, product: str) -> None:
    """The master names the symbol by token; a row outside it keeps its own."""
    changes = {"exchange": exchange, "token": token, "product_type": "NORMAL"}
    if token == "1":
        changes["tradingsymbol"] = symbol
    o = order({**BOOK_ROW, **changes})
    assert (o.symbol, o.exchange, o.product) == (symbol, exchange, product)
    t = trade({**TRADE_ROW, **changes})
    assert (t.symbol, t.exchange, t.product) == (symbol, exchange, product)
    p = position({**TCS_ROW, **changes})
    assert (p.symbol, p.exchange, p.product) == (symbol, exchange, product)


@pytest.mark.parametrize(("product", "ours"), [("INTRADAY", "MIS"), ("CNC", "CNC")])
def test_intraday_and_delivery(product: str, ours: str) -> None:
    assert order({**BOOK_ROW, "product_type": product}).product == ours
    assert position({**TCS_ROW, "product_type": product}).product == ours


@pytest.mark.parametrize(("price_type", "ours"), [
    ("MARKET", "MARKET"), ("LIMIT", "LIMIT"), ("SL-LIMIT", "SL"), ("SL-MARKET", "SL-M")])
def test_price_types_back(price_type: str, ours: str) -> None:
    assert order({**BOOK_ROW, "price_type": price_type}).pricetype == ours


def test_a_row_outside_the_master_keeps_a_plain_symbol() -> None:
    o = order({**BOOK_ROW, "token": "999999", "tradingsymbol": "NEWCO-EQ"})
    assert (o.symbol, o.exchange) == ("NEWCO", "NSE")
    by_name = order({k: v for k, v in BOOK_ROW.items() if k != "token"})
    assert by_name.symbol == "SBIN"  # no token: found by its trading symbol


@pytest.mark.parametrize(("change", "field"), [
    ({"order_id": ""}, "order_id"), ({"quantity": "ten"}, "quantity"),
    ({"quantity": "1.5"}, "quantity"), ({"price_type": "STOP"}, "price_type"),
    ({"product_type": "BO"}, "product_type"), ({"product_type": None}, "product_type"),
    ({"price": "NaN"}, "price"), ({"trigger_price": "1e5000"}, "trigger_price"),
    ({"filled_qty": "x"}, "filled_qty"), ({"average_traded_price": []}, "average_traded_price"),
    ({"exchange": None}, "exchange"), ({"tradingsymbol": ["SBIN-EQ"]}, "tradingsymbol"),
    ({"token": {"id": 1}}, "token"), ({"message": {"text": "x"}}, "message"),
    ({"remarks": 5.5}, "remarks")])
def test_unreadable_order_rows_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(BrokerResponseError) as info:
        order({**BOOK_ROW, **change})
    assert repr(field) in info.value.message


# -- trades ----------------------------------------------------------------------------
def test_a_trade_book_row_is_one_fill() -> None:
    t = trade(TRADE_ROW)
    assert (t.broker, t.order_id, t.trade_id, t.symbol, t.exchange, t.action, t.product) == (
        "definedge", "25112000000533", "70211", "NIFTY23FEB23FUT", "NFO", "SELL", "NRML")
    assert (t.quantity, t.average_price, t.trade_value) == (
        30, Decimal("17662.35"), Decimal("17662.35") * 30)
    assert t.timestamp == dt.datetime(2025, 11, 20, 10, 2, 17, tzinfo=IST)


def test_a_fill_without_its_own_quantity_reads_the_filled_quantity() -> None:
    t = trade({**TRADE_ROW, "last_fill_qty": ""})
    assert (t.quantity, t.trade_value) == (50, Decimal("17662.35") * 50)


@pytest.mark.parametrize(("change", "field"), [
    ({"fill_price": ""}, "fill_price"), ({"fill_id": None}, "fill_id"),
    ({"last_fill_qty": "3O"}, "last_fill_qty"), ({"product_type": "MTF"}, "product_type"),
    ({"last_fill_qty": None, "filled_qty": None}, "filled_qty")])
def test_unreadable_trade_rows_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(BrokerResponseError) as info:
        trade({**TRADE_ROW, **change})
    assert repr(field) in info.value.message


def test_an_odd_fill_time_is_none() -> None:
    assert trade({**TRADE_ROW, "fill_time": "10:02:17"}).timestamp is None


# -- positions -------------------------------------------------------------------------
def test_a_position_with_every_number_a_string() -> None:
    p = position(TCS_ROW)
    assert (p.symbol, p.exchange, p.product, p.quantity) == ("TCS", "NSE", "CNC", 2)
    assert (p.average_price, p.ltp, p.pnl) == (Decimal("3221.00"), Decimal("3225.40"),
                                               Decimal("8.80"))


def test_the_days_pnl_is_realised_plus_unrealised() -> None:
    p = position(OPTION_ROW)
    assert (p.symbol, p.exchange, p.product, p.quantity) == (
        "NIFTY28OCT2525000CE", "NFO", "NRML", -75)
    assert (p.average_price, p.ltp, p.pnl) == (Decimal("112.40"), Decimal("98.15"),
                                               Decimal("656.25"))


def test_a_closed_position_keeps_what_it_made() -> None:
    p = position({**OPTION_ROW, "net_quantity": "0", "day_buy_qty": "150",
                  "net_averageprice": "0.00", "unrealized_pnl": "0.00",
                  "realized_pnl": "-1237.50"})
    assert (p.quantity, p.pnl, p.average_price) == (0, Decimal("-1237.50"), Decimal(0))


def test_missing_pnl_fields_count_as_zero_and_numbers_may_be_json_numbers() -> None:
    p = position({k: v for k, v in TCS_ROW.items() if k not in ("realized_pnl",
                                                                "unrealized_pnl")})
    assert p.pnl == 0
    p = position({**TCS_ROW, "net_quantity": 2, "lastPrice": 3225.4, "token": 11536})
    assert (p.quantity, p.ltp, p.symbol) == (2, Decimal("3225.4"), "TCS")


@pytest.mark.parametrize(("change", "field"), [
    ({"lastPrice": None}, "lastPrice"), ({"lastPrice": "-"}, "lastPrice"),
    ({"net_quantity": "1.5"}, "net_quantity"), ({"net_quantity": ""}, "net_quantity"),
    ({"net_averageprice": "Infinity"}, "net_averageprice"),
    ({"realized_pnl": "1e30"}, "realized_pnl"), ({"unrealized_pnl": True}, "unrealized_pnl"),
    ({"product_type": "COVER"}, "product_type")])
def test_unreadable_position_rows_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(BrokerResponseError) as info:
        position({**TCS_ROW, **change})
    assert repr(field) in info.value.message


def test_last_price_is_read_in_camel_case_only() -> None:
    row_ = {k: v for k, v in TCS_ROW.items() if k != "lastPrice"}
    with pytest.raises(BrokerResponseError, match="'lastPrice'"):
        position({**row_, "last_price": "3225.40", "ltp": "3225.40"})


# -- funds -----------------------------------------------------------------------------
LIMITS = {"cash": "100000.00", "payin": "5000.00", "payout": "0.0",
          "brokerCollateralAmount": "25000.00", "unClearedCash": "0.00", "dayCash": "0.00",
          "turnOverLimit": "750000000.00", "pendordvallmt": "450000000.00",
          "marginUsed": "2500.50", "currentRealizedPNL": "-120.25",
          "currentUnrealizedMtom": "33.10"}


def test_funds_are_cash_plus_payin_less_margin_used_plus_realised_pnl() -> None:
    f = funds(LIMITS)
    assert f.available_cash == Decimal("100000.00") + Decimal("5000.00") \
        - Decimal("2500.50") + Decimal("-120.25")
    assert (f.collateral, f.used_margin, f.realised_pnl, f.unrealised_pnl) == (
        Decimal("25000.00"), Decimal("2500.50"), Decimal("-120.25"), Decimal("33.10"))


def test_limits_as_the_sdk_mock_has_them_are_cash_alone() -> None:
    f = funds({k: LIMITS[k] for k in ("cash", "payin", "payout", "brokerCollateralAmount",
                                      "unClearedCash", "dayCash")})
    assert (f.available_cash, f.used_margin, f.realised_pnl) == (
        Decimal("105000.00"), Decimal(0), Decimal(0))


@pytest.mark.parametrize("change", [{"cash": None}, {"cash": "lots"}, {"marginUsed": "x"}])
def test_unreadable_limits_are_typed(change: dict[str, Any]) -> None:
    with pytest.raises(BrokerResponseError):
        funds({**LIMITS, **change})


# -- the replies around the rows (served by hand) ----------------------------------------
class Integrate:
    """A hand-made Integrate trade host: ``replies[path]`` is what a GET of ``path``
    answers (a JSON body, or ``(status, body)``); ``seen`` the paths asked for."""

    def __init__(self) -> None:
        self.replies: dict[str, Any] = {}
        self.seen: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.seen.append(path)
        assert request.headers["authorization"] == "session-key"  # raw, no Bearer
        reply = self.replies.get(path, (404, {"status": "ERROR", "message": "Not found"}))
        status, body = reply if isinstance(reply, tuple) else (200, reply)
        return httpx.Response(status, json=body)


@pytest.fixture
def integrate() -> Integrate:
    return Integrate()


@pytest.fixture
def client(integrate: Integrate) -> Iterator[BrokerClient]:
    client = BrokerClient(INFO, transport=httpx.MockTransport(integrate.handle),
                          retry=RetryPolicy(attempts=1), sleep=lambda _: None)
    try:
        yield client
    finally:
        client.close()


Fetch = Callable[[BrokerClient], list[Any]]
SESSION = new_session("definedge", "1234567", "session-key")
CREDENTIALS = credentials_for(INFO, {"OPENALGO_DEFINEDGE_API_KEY": "token",
                                     "OPENALGO_DEFINEDGE_API_SECRET": "secret"})
#: each book: its path, the key of its rows, a row, and how the plugin reads it
BOOKS: dict[str, tuple[str, str, Mapping[str, Any], Fetch]] = {
    "positions": (TRADE + "/positions", "positions", TCS_ROW, lambda c: BROKER.fetch_positions(
        SESSION, CREDENTIALS, c, INDEX)),
    "orders": (TRADE + "/orders", "orders", BOOK_ROW, lambda c: BROKER.fetch_order_book(
        SESSION, CREDENTIALS, c, INDEX)),
    "trades": (TRADE + "/trades", "trades", TRADE_ROW, lambda c: BROKER.fetch_trade_book(
        SESSION, CREDENTIALS, c, INDEX)),
    "holdings": (TRADE + "/holdings", "data", {}, lambda c: BROKER.fetch_holdings(
        SESSION, CREDENTIALS, c, INDEX)),
}


@pytest.mark.parametrize("book", BOOKS)
@pytest.mark.parametrize("empty", [
    {"status": "SUCCESS", "<rows>": []}, {"status": "SUCCESS"},
    {"status": "ERROR", "message": "No Data"}, {"status": "ERROR", "message": "no data found"}],
    ids=["list", "absent", "no-data", "no-data-lower"])
def test_the_three_empty_shapes_are_an_empty_book(integrate: Integrate, client: BrokerClient,
                                                  book: str, empty: dict[str, Any]) -> None:
    path, key, _, fetch = BOOKS[book]
    integrate.replies[path] = {key if k == "<rows>" else k: v for k, v in empty.items()}
    assert fetch(client) == []
    assert integrate.seen == [path]  # nothing else asked (no quote for no holding)


@pytest.mark.parametrize("book", BOOKS)
@pytest.mark.parametrize("reply", [
    {"status": "ERROR", "message": "Something went wrong"},
    {"status": "ERROR"},
    (400, {"status": "ERROR", "message": "Bad request"}),
    {"status": "SUCCESS", "<rows>": {}}, {"status": "SUCCESS", "<rows>": "No orders"},
    {"status": "SUCCESS", "<rows>": 0}, {"status": "SUCCESS", "<rows>": [1]},
    {"status": "SUCCESS", "<rows>": ["x"]}, {"status": "SUCCESS", "<rows>": [{}]},
    {"status": "SUCCESS", "<rows>": [{"<row>": True}]},
    {"status": "PENDING", "<rows>": []}, {"stat": "Not_Ok", "emsg": "Invalid"}, [],
], ids=["error", "error-silent", "http-400", "dict", "text", "number", "number-row",
        "text-row", "empty-row", "row-without", "odd-status", "not-ok", "array"])
def test_anything_else_is_a_typed_error(integrate: Integrate, client: BrokerClient,
                                        book: str, reply: Any) -> None:
    """Never ``[]`` and never a KeyError: a broken book is a BrokerResponseError."""
    path, key, good, fetch = BOOKS[book]

    def shaped(value: Any) -> Any:
        if isinstance(value, tuple):
            return tuple(shaped(v) for v in value)
        if isinstance(value, list):
            return [shaped(v) for v in value]
        if isinstance(value, dict):
            if "<row>" in value:  # the book's good row, one field short
                return dict(list(good.items())[1:])
            return {key if k == "<rows>" else k: shaped(v) for k, v in value.items()}
        return value

    integrate.replies[path] = shaped(reply)
    with pytest.raises(BrokerResponseError) as info:
        fetch(client)
    assert info.value.broker == "definedge"


@pytest.mark.parametrize(("book", "change", "field"), [
    *((book, {"exchange": exchange}, "exchange") for book in ("positions", "orders", "trades")
      for exchange in ("NCDX", "nse")),
    ("orders", {"order_type": "buy"}, "action"), ("trades", {"order_type": "B"}, "action")])
def test_a_row_outside_openalgos_vocabulary_is_a_typed_error_naming_it(
        integrate: Integrate, client: BrokerClient, book: str, change: dict[str, str],
        field: str) -> None:
    path, key, good, fetch = BOOKS[book]
    integrate.replies[path] = {"status": "SUCCESS", key: [{**good, **change}]}
    with pytest.raises(BrokerResponseError) as info:
        fetch(client)
    assert repr(field) in info.value.message


def test_a_no_data_reply_to_any_other_read_is_not_an_empty_success(
        integrate: Integrate, client: BrokerClient) -> None:
    integrate.replies[TRADE + "/limits"] = {"status": "ERROR", "message": "No Data"}
    with pytest.raises(BrokerResponseError):
        BROKER.fetch_funds(SESSION, CREDENTIALS, client)


@pytest.mark.parametrize("status", ["SUCCESS", "200", 200, "success"])
def test_limits_answered_with_status_200_are_a_success(integrate: Integrate,
                                                       client: BrokerClient,
                                                       status: Any) -> None:
    integrate.replies[TRADE + "/limits"] = {"status": status, **LIMITS}
    got = BROKER.fetch_funds(SESSION, CREDENTIALS, client)
    assert got.available_cash == Decimal("102379.25")


# -- holdings --------------------------------------------------------------------------
def leg(exchange: str, symbol: str, token: str) -> dict[str, str]:
    return {"exchange": exchange, "tradingsymbol": symbol, "token": token,
            "price_precision": "2", "ticksize": "0.05", "lotsize": "1",
            "isin": "INE062A01020"}


def holding(dp: str, t1: str, average: str, *legs: dict[str, str]) -> dict[str, Any]:
    return {"dp_qty": dp, "t1_qty": t1, "holding_used": "0", "avg_buy_price": average,
            "sell_amt": "0.000000", "trade_qty": "0", "tradingsymbol": list(legs)}


def quote(ltp: str) -> dict[str, Any]:
    return {"status": "SUCCESS", "exchange": "NSE", "tradingsymbol": "X", "ltp": ltp,
            "lotsize": "1", "ticksize": "0.05", "day_open": "1.00"}


def test_holdings_are_valued_on_their_nse_leg_with_t1_shares_counted(
        integrate: Integrate, client: BrokerClient) -> None:
    integrate.replies[TRADE + "/holdings"] = {"status": "SUCCESS", "data": [
        holding("3", "2", "600.50", leg("BSE", "SBIN", "500112"), leg("NSE", "SBIN-EQ", "3045")),
        holding("0", "0", "10.00", leg("NSE", "TCS-EQ", "11536")),  # sold: nothing held
        holding("1", "", "3100.00", leg("NSE", "TCS-EQ", "11536"), leg("BSE", "TCS", "532540")),
        # no NSE leg: valued on its first (a second BSE leg, made up to tell first from last)
        holding("0", "25", "197.30", leg("BSE", "NEWCO", "532210"), leg("BSE", "NEWCO-T", "9")),
    ]}
    integrate.replies[TRADE + "/quotes/NSE/3045"] = quote("812.35")
    integrate.replies[TRADE + "/quotes/BSE/532210"] = quote("201.10")
    integrate.replies[TRADE + "/quotes/NSE/11536"] = quote("3225.40")
    sbin, tcs, newco = BROKER.fetch_holdings(SESSION, CREDENTIALS, client, INDEX)
    assert (tcs.symbol, tcs.exchange, tcs.quantity, tcs.ltp) == (
        "TCS", "NSE", 1, Decimal("3225.40"))
    assert (sbin.symbol, sbin.exchange, sbin.product, sbin.quantity) == ("SBIN", "NSE", "CNC", 5)
    assert (sbin.average_price, sbin.ltp, sbin.pnl) == (
        Decimal("600.50"), Decimal("812.35"), (Decimal("812.35") - Decimal("600.50")) * 5)
    assert (newco.symbol, newco.exchange, newco.quantity, newco.ltp) == (
        "NEWCO", "BSE", 25, Decimal("201.10"))
    assert newco.pnl == (Decimal("201.10") - Decimal("197.30")) * 25
    # one quote per holding, on the leg it is valued on
    assert integrate.seen == [TRADE + "/holdings", TRADE + "/quotes/NSE/3045",
                              TRADE + "/quotes/NSE/11536", TRADE + "/quotes/BSE/532210"]


@pytest.mark.parametrize("legs", [[], "SBIN-EQ", None, {"exchange": "NSE"}, [1],
                                  [{"exchange": "NSE", "tradingsymbol": "SBIN-EQ"}]])
def test_a_holding_without_usable_listings_is_a_typed_error(
        integrate: Integrate, client: BrokerClient, legs: Any) -> None:
    integrate.replies[TRADE + "/holdings"] = {"status": "SUCCESS", "data": [
        {**holding("1", "0", "600.50"), "tradingsymbol": legs}]}
    integrate.replies[TRADE + "/quotes/NSE/3045"] = quote("812.35")
    with pytest.raises(BrokerResponseError):
        BROKER.fetch_holdings(SESSION, CREDENTIALS, client, INDEX)


@pytest.mark.parametrize("reply", [quote(""), {"status": "SUCCESS"},
                                   {"status": "ERROR", "message": "No Data"},
                                   {"status": "ERROR", "message": "Invalid token"}])
def test_a_holding_whose_quote_is_unusable_is_a_typed_error(
        integrate: Integrate, client: BrokerClient, reply: dict[str, Any]) -> None:
    integrate.replies[TRADE + "/holdings"] = {"status": "SUCCESS", "data": [
        holding("1", "0", "600.50", leg("NSE", "SBIN-EQ", "3045"))]}
    integrate.replies[TRADE + "/quotes/NSE/3045"] = reply
    with pytest.raises(BrokerResponseError):
        BROKER.fetch_holdings(SESSION, CREDENTIALS, client, INDEX)


@pytest.mark.parametrize("exchange", ["nse", "NSE-SME"])
def test_a_holding_listed_on_an_unknown_exchange_is_a_typed_error(
        integrate: Integrate, client: BrokerClient, exchange: str) -> None:
    integrate.replies[TRADE + "/holdings"] = {"status": "SUCCESS", "data": [
        holding("1", "0", "600.50", leg(exchange, "SBIN-EQ", "3045"))]}
    integrate.replies[f"{TRADE}/quotes/{exchange}/3045"] = quote("812.35")
    with pytest.raises(BrokerResponseError):
        BROKER.fetch_holdings(SESSION, CREDENTIALS, client, INDEX)
