"""The gateway's order journal: every order written before it is sent, its tag an
idempotency key, its outcome recorded (the fake broker has no order book: outcomes that
need one to settle stay unknown here; the kit's conformance covers settling)."""

from __future__ import annotations

import pytest

from openalgo_core import (
    Gateway,
    OrderRejectedError,
    OrderRequest,
    OrderStatusUnknownError,
    UnsupportedOperationError,
    ValidationError,
    hookimpl,
)
from openalgo_core.journal import State
from tests.fakebroker.simulator import FakeSimulator

ORDER = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1}


@pytest.fixture
def live(gateway: Gateway) -> Gateway:
    gateway.authenticate("fake")
    return gateway


def test_the_same_order_object_twice_is_one_order(live: Gateway,
                                                  fake_sim: FakeSimulator) -> None:
    order = OrderRequest(**ORDER)
    first = live.place_order("fake", order)
    again = live.place_order("fake", order)
    assert again.order_id == first.order_id and again.tag == order.tag
    assert len(fake_sim.book.orders) == 1
    (entry,) = live.journal_entries("fake")
    assert (entry.tag, entry.state, entry.order_id, entry.attempts) == (
        order.tag, State.ACKNOWLEDGED, first.order_id, 1)


def test_a_rejected_order_retried_is_the_same_rejection(live: Gateway,
                                                        fake_sim: FakeSimulator) -> None:
    live.instruments("fake")
    fake_sim.faults.reject_orders = 1
    order = {**ORDER, "tag": "refused1"}
    before = fake_sim.stats["requests"]
    with pytest.raises(OrderRejectedError) as first:
        live.place_order("fake", order)
    with pytest.raises(OrderRejectedError) as again:
        live.place_order("fake", order)
    assert again.value.reason == first.value.reason and again.value.code == first.value.code
    assert fake_sim.stats["requests"] - before == 1


def test_a_tag_reused_for_another_order_is_refused_before_sending(
        live: Gateway, fake_sim: FakeSimulator) -> None:
    live.place_order("fake", {**ORDER, "tag": "mine1"})
    with pytest.raises(ValidationError, match="mine1") as info:
        live.place_order("fake", {**ORDER, "quantity": 2, "tag": "mine1"})
    assert info.value.field == "tag"
    assert len(fake_sim.book.orders) == 1


def test_an_invalid_order_is_not_journaled(live: Gateway) -> None:
    with pytest.raises(ValidationError):
        live.place_order("fake", {**ORDER, "symbol": "NOSUCH", "tag": "bad1"})
    assert live.journal.get("bad1") is None


def test_an_order_that_never_left_is_journaled_not_placed(live: Gateway,
                                                          fake_sim: FakeSimulator) -> None:
    live.instruments("fake")
    fake_sim.faults.rate_limit_rate = 1.0  # every attempt refused with 429
    fake_sim.faults.scope = "orders"
    with pytest.raises(Exception, match="rate limited"):
        live.place_order("fake", {**ORDER, "tag": "never1"})
    entry = live.journal.get("never1")
    assert entry is not None and entry.state is State.NOT_PLACED
    fake_sim.faults.rate_limit_rate = 0.0
    receipt = live.place_order("fake", {**ORDER, "tag": "never1"})  # the retry sends it
    assert [o.tag for o in fake_sim.book.orders.values()] == ["never1"]
    entry = live.journal.get("never1")
    assert entry is not None and entry.order_id == receipt.order_id and entry.attempts == 2


class NoOrderBook:
    """A wrapper answering for the broker: it has no order book to settle from."""

    @hookimpl(tryfirst=True)
    def fetch_order_book(self) -> None:
        raise UnsupportedOperationError("fake", "no order book")


def test_an_unknown_outcome_stays_open_without_an_order_book(live: Gateway,
                                                             fake_sim: FakeSimulator) -> None:
    live.registry.register_wrapper(NoOrderBook())
    fake_sim.faults.drop_after_accept = 1
    with pytest.raises(OrderStatusUnknownError) as info:
        live.place_order("fake", {**ORDER, "tag": "dropped1"})
    assert info.value.tag == "dropped1"
    assert [e.tag for e in live.journal_entries(unresolved=True)] == ["dropped1"]
    with pytest.raises(OrderStatusUnknownError):  # a retry never sends it again
        live.place_order("fake", {**ORDER, "tag": "dropped1"})
    assert len(fake_sim.book.orders) == 1
