"""A trader's day on Angel through the gateway and the simulator: the order book with
tags and reasons, one order by its unique id, modify and cancel with the order's own
variety, trades, funds, holdings, and settling an unknown outcome by ``ordertag``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
from openalgo_angel.simulator import AngelSimulator

from openalgo_core import (
    Gateway,
    OrderNotFoundError,
    OrderNotPlacedError,
    OrderRejectedError,
    OrderStatus,
    SettlePolicy,
)
from openalgo_core.testing import Faults, Harness

SBIN = {"symbol": "SBIN", "exchange": "NSE", "product": "MIS"}


def token(gateway: Gateway) -> str:
    return gateway.resolve("angel", "SBIN", "NSE").token


@pytest.fixture
def day(broker_harness: Harness) -> Harness:
    broker_harness.gateway.authenticate("angel")
    return broker_harness


def test_a_resting_limit_fills_when_the_price_crosses(day: Harness) -> None:
    gw, sim = day.gateway, day.sim
    market = sim.price(token(gw))
    limit = market - Decimal(5)
    receipt = gw.place_order("angel", {**SBIN, "action": "BUY", "quantity": 2,
                                       "pricetype": "LIMIT", "price": limit, "tag": "rest1"})
    (order,) = gw.fetch_order_book("angel")
    assert (order.order_id, order.status, order.tag, order.pricetype, order.price) == (
        receipt.order_id, OrderStatus.OPEN, "rest1", "LIMIT", limit)
    sim.move(token(gw), limit - Decimal("0.05"))
    now = gw.fetch_order("angel", receipt.order_id)  # by details/{uniqueorderid}
    assert (now.status, now.filled_quantity, now.average_price) == (
        OrderStatus.COMPLETE, 2, limit)
    (trade,) = gw.fetch_trade_book("angel")
    assert (trade.order_id, trade.symbol, trade.quantity, trade.average_price) == (
        receipt.order_id, "SBIN", 2, limit)


def test_modify_then_cancel_a_stop_loss_order(day: Harness) -> None:
    gw, sim = day.gateway, day.sim
    market = sim.price(token(gw))
    receipt = gw.place_order("angel", {**SBIN, "action": "BUY", "quantity": 1,
                                       "pricetype": "SL", "price": market + 2,
                                       "trigger_price": market + 1})
    assert gw.fetch_order("angel", receipt.order_id).status is OrderStatus.TRIGGER_PENDING
    gw.modify_order("angel", receipt.order_id, quantity=3, price=market + 4,
                    trigger_price=market + 3)
    moved = gw.fetch_order("angel", receipt.order_id)
    assert (moved.quantity, moved.price, moved.trigger_price, moved.pricetype) == (
        3, market + 4, market + 3, "SL")
    sent = sim.book.orders[receipt.order_id]
    assert sent.quantity == 3
    gw.cancel_order("angel", receipt.order_id)
    assert gw.fetch_order("angel", receipt.order_id).status is OrderStatus.CANCELLED
    with pytest.raises(OrderRejectedError, match="cancelled"):  # refused before sending
        gw.modify_order("angel", receipt.order_id, price=market)


def test_a_filled_order_cannot_be_cancelled_and_nothing_is_sent(day: Harness) -> None:
    gw, sim = day.gateway, day.sim
    receipt = gw.place_order("angel", {**SBIN, "action": "BUY", "quantity": 1})
    with pytest.raises(OrderRejectedError, match="complete") as info:
        gw.cancel_order("angel", receipt.order_id)
    assert info.value.code == "not_open"
    assert sim.book.orders[receipt.order_id].status == "complete"


def test_the_broker_s_own_refusal_is_typed(day: Harness) -> None:
    """Cancelling a filled order through the hook (past the gateway's check): Angel's
    refusal is an OrderRejectedError with its code."""
    gw = day.gateway
    receipt = gw.place_order("angel", {**SBIN, "action": "BUY", "quantity": 1})
    order = gw.fetch_order("angel", receipt.order_id)
    with pytest.raises(OrderRejectedError) as info:
        gw.registry.call("angel", "cancel_order", order=order,
                         session=gw.session("angel"), credentials=gw.credentials("angel"),
                         client=gw.client("angel"))
    assert info.value.code and info.value.broker == "angel"


def test_an_rms_rejection_shows_its_reason_in_the_book(day: Harness) -> None:
    gw, sim = day.gateway, day.sim
    sim.margin_limit = Decimal(100)
    receipt = gw.place_order("angel", {**SBIN, "action": "BUY", "quantity": 5, "tag": "rms1"})
    order = gw.fetch_order("angel", receipt.order_id)
    assert order.status is OrderStatus.REJECTED and "margin" in order.reason.lower()
    assert order.tag == "rms1"


def test_unknown_order_id(day: Harness) -> None:
    with pytest.raises(OrderNotFoundError):
        day.gateway.fetch_order("angel", "999999999999999")


def test_funds_follow_the_margin_used(day: Harness) -> None:
    gw, sim = day.gateway, day.sim
    before = gw.fetch_funds("angel")
    market = sim.price(token(gw))
    gw.place_order("angel", {**SBIN, "action": "BUY", "quantity": 10, "pricetype": "LIMIT",
                             "price": market - 10})
    after = gw.fetch_funds("angel")
    assert after.used_margin - before.used_margin == 10 * (market - 10)
    assert before.available_cash - after.available_cash == 10 * (market - 10)


def test_holdings(day: Harness) -> None:
    holdings = day.gateway.fetch_holdings("angel")
    assert {h.symbol for h in holdings} >= {"INFY", "TCS"}
    for h in holdings:
        assert h.quantity > 0 and h.product == "CNC"
        assert abs(h.pnl - (h.ltp - h.average_price) * h.quantity) <= 1  # whole rupees


def test_an_order_dropped_after_acceptance_is_settled_by_its_tag(day: Harness) -> None:
    """The reply is lost; the gateway finds ``ordertag`` in getOrderBook: a receipt."""
    gw, sim = day.gateway, day.sim
    gw.instruments("angel")
    sim.faults = Faults(drop_after_accept=1)
    receipt = gw.place_order("angel", {**SBIN, "action": "BUY", "quantity": 1,
                                       "tag": "settle1"})
    assert [o.order_id for o in sim.book.orders.values()] == [receipt.order_id]
    entry = gw.journal.get("settle1")
    assert entry is not None and (entry.state, entry.order_id) == ("acknowledged",
                                                                   receipt.order_id)


def test_a_5xx_before_booking_is_settled_not_placed_and_the_retry_sends_it(
        day: Harness) -> None:
    gw, sim = day.gateway, day.sim
    gw.instruments("angel")
    gw.settle_policy = SettlePolicy(grace=dt.timedelta(0))
    sim.faults = Faults(error_rate=1.0, scope="orders")
    order = {**SBIN, "action": "BUY", "quantity": 1, "tag": "settle2"}
    with pytest.raises(OrderNotPlacedError) as info:
        gw.place_order("angel", order)
    assert info.value.tag == "settle2" and sim.book.orders == {}
    sim.faults = Faults()
    receipt = gw.place_order("angel", order)  # the strategy retries: sent once, now
    assert [(o.order_id, o.tag) for o in sim.book.orders.values()] == [
        (receipt.order_id, "settle2")]


def test_the_official_shape_over_http(broker_harness_http: Harness) -> None:
    gw = broker_harness_http.gateway
    gw.place_order("angel", {**SBIN, "action": "SELL", "quantity": 1})
    assert [o.status for o in gw.fetch_order_book("angel")] == [OrderStatus.COMPLETE]
    assert isinstance(broker_harness_http.sim, AngelSimulator)
    assert httpx.URL(broker_harness_http.url or "").host == "127.0.0.1"


def test_an_order_placed_in_angel_s_app_with_an_odd_tag_can_be_modified(day: Harness) -> None:
    """The book's tag may be anything another app wrote: it is kept only when it is a tag
    of ours, and never makes the modify invalid."""
    gw, sim = day.gateway, day.sim
    market = sim.price(token(gw))
    receipt = gw.place_order("angel", {**SBIN, "action": "BUY", "quantity": 1,
                                       "pricetype": "LIMIT", "price": market - 5})
    sim.book.orders[receipt.order_id].tag = "from the app, 2 words!"
    gw.modify_order("angel", receipt.order_id, price=market - 6)
    assert gw.fetch_order("angel", receipt.order_id).price == market - 6
