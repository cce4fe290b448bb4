"""Orders and books in Breeze's terms: stock codes, products, derivatives by expiry, right
and strike; MARKET orders as protected limits (or raw, by setting); rows mapped back to
OpenAlgo symbols through the security master."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openalgo_icici.plugin
import pytest
from openalgo_icici.broker import BreezeBroker, protected_price
from openalgo_icici.instruments import contract_key
from openalgo_icici.simulator import BreezeSimulator

from openalgo_core import Instrument, InstrumentIndex, OrderRejectedError
from openalgo_core.kit import Row
from openalgo_core.testing.conformance.base import kinds, sent
from openalgo_core.testing.wiring import Harness, wire

HOOKS = openalgo_icici.plugin.hooks
D = Decimal


@pytest.fixture
def harness(wired: Harness) -> Harness:
    wired.login()
    wired.gateway.instruments("icici")
    return wired


@pytest.mark.parametrize(("action", "ltp", "family", "tick", "lower", "upper", "price"), [
    ("BUY", "500", "cash", "0.05", "400", "600", "515"),          # +3%
    ("SELL", "500", "cash", "0.05", "400", "600", "485"),         # -3%
    ("BUY", "1.00", "cash", "0.01", "0.80", "1.20", "1.05"),      # least 0.05 above
    ("BUY", "24480", "futures", "0.05", "20000", "30000", "24847.2"),  # +1.5%
    ("BUY", "20", "options", "0.05", "0.05", "500", "25"),        # least 5 above
    ("SELL", "20", "options", "0.05", "0.05", "500", "15"),
    ("BUY", "500", "cash", "0.05", "400", "510", "510"),          # clamped to the circuit
    ("SELL", "500", "cash", "0.05", "490", "600", "490"),
    ("BUY", "333.33", "cash", "0.05", "0", "0", "343.30"),        # 343.3299 down to the tick
    ("SELL", "333.33", "cash", "0.05", "0", "0", "323.35"),       # 323.3301 up to the tick
])
def test_a_protected_price(action: str, ltp: str, family: str, tick: str, lower: str,
                           upper: str, price: str) -> None:
    assert protected_price(action, D(ltp), D(lower), D(upper), family, D(tick)) == D(price)


def test_a_market_order_is_a_protected_limit_read_back_as_market(
        harness: Harness, sim: BreezeSimulator) -> None:
    with sent(harness) as requests:
        receipt = harness.gateway.place_order("icici", {
            "symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 3,
            "pricetype": "MARKET", "product": "CNC", "tag": "mkt1"})
    assert [r.url.path.rsplit("/", 1)[-1] for r in requests] == ["quotes", "order"]
    booked = sim.book.orders[receipt.order_id]
    sent_body = booked.raw
    assert (sent_body["stock_code"], sent_body["product"], sent_body["order_type"],
            sent_body["user_remark"]) == ("STABAN", "cash", "limit", "mkt1")
    listing = sim.by_token[booked.token]
    assert D(sent_body["price"]) == protected_price("BUY", listing.price, D(0), D(0), "cash",
                                                    listing.tick_size)
    order = harness.gateway.fetch_order("icici", receipt.order_id)
    assert (order.pricetype, order.status, order.tag, order.filled_quantity) == (
        "MARKET", "complete", "mkt1", 3)


def test_market_orders_may_be_sent_raw(sim: BreezeSimulator, env: dict[str, str],
                                       tmp_path: Path) -> None:
    """``MARKET_ORDERS=market``: no quote, ``order_type`` market; the simulator refuses it as
    ICICI's 2026 rules say (⚠), unless told to take it."""
    env = {**env, "OPENALGO_ICICI_MARKET_ORDERS": "MARKET"}
    order = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1,
             "pricetype": "MARKET", "product": "MIS"}
    with wire(HOOKS, mode="inprocess", sim=sim, environ=env, home=tmp_path / "h") as harness:
        harness.login()
        harness.gateway.instruments("icici")
        with sent(harness) as requests, pytest.raises(OrderRejectedError, match="not allowed"):
            harness.gateway.place_order("icici", order)
        assert kinds(requests) == {"order": 1}
        sim.accept_market = True
        receipt = harness.gateway.place_order("icici", order)
        booked = sim.book.orders[receipt.order_id]
        assert (booked.raw["order_type"], booked.raw["price"], booked.raw["product"]) == (
            "market", "0", "margin")


def test_an_option_order_names_expiry_right_and_strike(harness: Harness,
                                                       sim: BreezeSimulator) -> None:
    option = next(r for r in sim.listings if r.exchange == "NFO" and r.name == "VEDL"
                  and r.kind == "PE" and r.strike == D("292.5"))
    assert option.expiry is not None
    receipt = harness.gateway.place_order("icici", {
        "symbol": option.symbol, "exchange": "NFO", "action": "SELL",
        "quantity": option.lot_size, "pricetype": "LIMIT", "price": "5", "product": "NRML"})
    body = sim.book.orders[receipt.order_id].raw
    assert {k: body[k] for k in ("stock_code", "exchange_code", "product", "right",
                                 "strike_price", "expiry_date", "quantity")} == {
        "stock_code": "SESGOA", "exchange_code": "NFO", "product": "options", "right": "put",
        "strike_price": "292.5", "expiry_date": f"{option.expiry.isoformat()}T06:00:00.000Z",
        "quantity": str(option.lot_size)}
    (row,) = [o for o in harness.gateway.fetch_order_book("icici")
              if o.order_id == receipt.order_id]
    assert (row.symbol, row.exchange, row.product, row.action) == (
        option.symbol, "NFO", "NRML", "SELL")


def _index() -> InstrumentIndex:
    expiry = dt.date(2026, 9, 29)
    return InstrumentIndex.from_instruments("icici", [
        Instrument("RELIANCE", "NSE", "RELIND", "NSE", "2885", "RELIANCE", "EQ", 1, D("0.05")),
        Instrument("BANKNIFTY29SEP2672600CE", "NFO",
                   contract_key("CNXBAN", expiry, D(72600), "CE"), "NFO", "35000",
                   "BANKNIFTY", "CE", 30, D("0.05"), expiry, D(72600), "CE"),
        Instrument("NIFTY29SEP26FUT", "NFO", contract_key("NIFTY", expiry, None, "FUT"), "NFO",
                   "35001", "NIFTY", "FUT", 75, D("0.05"), expiry)])


def _row(data: dict[str, object]) -> Row:
    return Row(data, what="positions row", broker="icici")


def test_positions_of_the_notes_map_back_through_the_master() -> None:
    """brokers/kotak-icici B.4: the unsigned quantity takes its side from ``action``."""
    broker, index = BreezeBroker(), _index()
    option = broker.position(_row({
        "segment": "fno", "product_type": "Options", "exchange_code": "NFO",
        "stock_code": "CNXBAN", "expiry_date": "29-Sep-2026", "strike_price": "72600",
        "right": "Call", "action": "Sell", "quantity": "30", "average_price": "412.50",
        "ltp": "398.05", "price": "398.05", "pnl": None}), index)
    assert (option.symbol, option.exchange, option.product, option.quantity,
            option.average_price, option.pnl) == (
        "BANKNIFTY29SEP2672600CE", "NFO", "NRML", -30, D("412.50"), D("433.50"))
    equity = broker.position(_row({
        "segment": "equity", "product_type": "Cash", "exchange_code": "NSE",
        "stock_code": "RELIND", "expiry_date": None, "strike_price": None, "right": None,
        "action": "Buy", "quantity": "10", "average_price": "2950.00", "ltp": "2960.00",
        "pnl": None}), index)
    assert (equity.symbol, equity.product, equity.quantity, equity.pnl) == (
        "RELIANCE", "CNC", 10, D("100.00"))
    future = broker.position(_row({
        "product_type": "Futures", "exchange_code": "NFO", "stock_code": "NIFTY",
        "expiry_date": "29-SEP-2026", "strike_price": 0.0, "right": "Others", "action": "NA",
        "quantity": "0", "average_price": "0", "ltp": "24000", "pnl": "-120.5"}), index)
    assert (future.symbol, future.quantity, future.pnl) == ("NIFTY29SEP26FUT", 0, D("-120.5"))


@pytest.mark.parametrize(("change", "field"), [
    ({"stock_code": "NOSUCH"}, "stock_code"), ({"action": "Hold"}, "action"),
    ({"right": "Straddle"}, "right"), ({"expiry_date": "2026/09/29"}, "expiry_date"),
    ({"product_type": "Gold"}, "product_type"), ({"quantity": "-3"}, "quantity")])
def test_an_unreadable_position_row_names_its_field(change: dict[str, object],
                                                     field: str) -> None:
    from openalgo_core import BrokerResponseError

    row = {"product_type": "Options", "exchange_code": "NFO", "stock_code": "CNXBAN",
           "expiry_date": "29-Sep-2026", "strike_price": "72600", "right": "Call",
           "action": "Buy", "quantity": "30", "average_price": "1", "ltp": "1", **change}
    with pytest.raises(BrokerResponseError, match=field):
        BreezeBroker().position(_row(row), _index())


@pytest.mark.parametrize(("status", "order_type", "price", "shown"), [
    ("Ordered", "Limit", "10", ("open", "LIMIT")),
    ("Requested", "Limit", "10", ("open", "LIMIT")),
    ("Ordered", "StopLoss", "10", ("trigger pending", "SL")),
    ("Ordered", "StopLoss", "0", ("trigger pending", "SL-M")),
    ("Executed", "Market", "0", ("complete", "MARKET")),
    ("Partially Executed And Cancelled", "Limit", "10", ("cancelled", "LIMIT")),
    ("Expired", "Limit", "10", ("cancelled", "LIMIT")),
    ("Rejected", "Limit", "10", ("rejected", "LIMIT"))])
def test_order_statuses_and_types(status: str, order_type: str, price: str,
                                  shown: tuple[str, str]) -> None:
    order = BreezeBroker().order_row(Row({
        "order_id": "20260929N300000001", "exchange_code": "NSE", "stock_code": "RELIND",
        "product_type": "Margin", "action": "Buy", "order_type": order_type,
        "stoploss": "9", "quantity": "5", "price": price, "average_price": "0",
        "cancelled_quantity": "0", "pending_quantity": "5", "status": status,
        "user_remark": "tag1", "order_datetime": "29-Sep-2026 09:26"},
        what="order book row", broker="icici"), _index())
    assert (order.status.value, order.pricetype.value) == shown
    assert (order.product, order.tag, order.filled_quantity) == ("MIS", "tag1", 0)


def test_trades_of_one_order_get_distinct_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """Breeze's trade list names no trade id: the order id stands in, numbered from the
    second row of the same order on."""
    from openalgo_core.kit import RestBroker
    from openalgo_core.models import Trade

    def trade(order_id: str) -> Trade:
        return Trade(broker="icici", order_id=order_id, trade_id=order_id, symbol="SBIN",
                     exchange="NSE", action="BUY", product="CNC", quantity=1,
                     average_price=D(1), trade_value=D(1))

    monkeypatch.setattr(RestBroker, "fetch_trade_book",
                        lambda *args: [trade("A"), trade("B"), trade("A"), trade("A")])
    trades = BreezeBroker().fetch_trade_book(None, None, None, None)  # type: ignore[arg-type]
    assert [t.trade_id for t in trades] == ["A", "B", "A-2", "A-3"]
