"""The kit's simulated market, broker-neutral: resting orders that fill when the price
crosses, modify and cancel, the trade book, margin against a cash balance, holdings."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest

from openalgo_core.testing import InProcessTransport, SimOrder, SimRefusal
from openalgo_core.testing.wiring import broker_environ
from tests.fakebroker import plugin as fake
from tests.fakebroker.simulator import FakeSimulator

SBIN = "3045"


@pytest.fixture
def sim() -> FakeSimulator:
    return FakeSimulator(environ=broker_environ(fake.INFO))


def place(sim: FakeSimulator, side: str = "BUY", pricetype: str = "MARKET", price: str = "0",
          trigger: str = "0", quantity: int = 1, token: str = SBIN,
          product: str = "MIS") -> SimOrder:
    """An order the broker accepted, booked as its RMS would."""
    listing = sim.by_token[token]
    return sim.book_order(SimOrder(sim.book.next_id(), listing.exchange, listing.symbol, token,
                                   side, quantity, pricetype, product, Decimal(price),
                                   Decimal(trigger)), user="C")


def market(sim: FakeSimulator, token: str = SBIN) -> Decimal:
    return sim.price(token)


# -- resting orders fill when the price crosses ---------------------------------------
def test_a_buy_limit_fills_at_its_price_when_the_market_falls_to_it(sim: FakeSimulator) -> None:
    limit = market(sim) - 10
    order = place(sim, pricetype="LIMIT", price=str(limit), quantity=2)
    assert (order.status, sim.book.trades) == ("open", [])
    assert sim.move(SBIN, limit + Decimal("0.05")) == []
    assert order.status == "open"
    assert sim.move(SBIN, limit - 3) == [order]
    assert (order.status, order.filled, order.average_price) == ("complete", 2, limit)
    assert order.updated_at is not None
    assert sim.move(SBIN, limit - 5) == []  # filled once


def test_a_sell_limit_fills_at_its_price_when_the_market_rises_to_it(sim: FakeSimulator
                                                                    ) -> None:
    limit = market(sim) + 10
    order = place(sim, side="SELL", pricetype="LIMIT", price=str(limit))
    assert sim.move(SBIN, limit - Decimal("0.05")) == [] and order.status == "open"
    assert sim.move(SBIN, limit) == [order]
    assert (order.status, order.average_price) == ("complete", limit)


def test_a_marketable_limit_fills_at_once_at_the_market(sim: FakeSimulator) -> None:
    order = place(sim, pricetype="LIMIT", price=str(market(sim) + 50))
    assert (order.status, order.average_price) == ("complete", market(sim))


def test_moves_in_another_instrument_leave_an_order_alone(sim: FakeSimulator) -> None:
    order = place(sim, pricetype="LIMIT", price=str(market(sim) - 10))
    assert sim.move("2885", Decimal(1)) == [] and order.status == "open"


def test_a_buy_stop_limit_triggers_then_behaves_as_a_limit(sim: FakeSimulator) -> None:
    now = market(sim)
    trigger, limit = now + 10, now + 12
    order = place(sim, pricetype="SL", price=str(limit), trigger=str(trigger))
    assert order.status == "trigger pending"
    assert sim.move(SBIN, trigger - Decimal("0.05")) == []
    assert sim.move(SBIN, trigger + 1) == [order]  # triggered, and marketable: filled
    assert (order.status, order.average_price) == ("complete", trigger + 1)


def test_a_stop_limit_that_gaps_past_its_limit_rests_open(sim: FakeSimulator) -> None:
    now = market(sim)
    order = place(sim, side="SELL", pricetype="SL", price=str(now - 12), trigger=str(now - 10))
    assert sim.move(SBIN, now - 20) == [order]  # triggered below its limit: rests
    assert (order.status, order.filled) == ("open", 0)
    assert sim.move(SBIN, now - 13) == []
    assert sim.move(SBIN, now - 11) == [order]
    assert (order.status, order.average_price) == ("complete", now - 12)


def test_a_stop_market_fills_at_the_market_once_triggered(sim: FakeSimulator) -> None:
    now = market(sim)
    order = place(sim, side="SELL", pricetype="SL-M", trigger=str(now - 10))
    assert order.status == "trigger pending"
    assert sim.move(SBIN, now - 9) == []
    assert sim.move(SBIN, now - 25) == [order]
    assert (order.status, order.average_price) == ("complete", now - 25)


def test_move_refuses_unknown_tokens_and_prices_that_are_not_positive(sim: FakeSimulator
                                                                     ) -> None:
    for token, price in (("nope", Decimal(1)), (SBIN, Decimal(0)), (SBIN, Decimal(-1))):
        with pytest.raises(ValueError):
            sim.move(token, price)
    assert sim.quotes == {}


# -- modify and cancel -------------------------------------------------------------------
def test_a_limit_modified_to_a_marketable_price_fills_at_the_market(sim: FakeSimulator
                                                                    ) -> None:
    order = place(sim, pricetype="LIMIT", price=str(market(sim) - 10), quantity=2)
    same = sim.book_modify(order.order_id, quantity=3, price=market(sim) - 5)
    assert same is order and (order.status, order.quantity) == ("open", 3)
    sim.book_modify(order.order_id, price=market(sim) + 1)
    assert (order.status, order.filled, order.average_price) == ("complete", 3, market(sim))
    assert [t.quantity for t in sim.book.trades] == [3]


def test_a_limit_modified_into_a_stop_waits_for_its_trigger(sim: FakeSimulator) -> None:
    now = market(sim)
    order = place(sim, pricetype="LIMIT", price=str(now - 10))
    sim.book_modify(order.order_id, pricetype="SL", price=now + 12, trigger_price=now + 10)
    assert order.status == "trigger pending"
    sim.book_modify(order.order_id, pricetype="MARKET")
    assert (order.status, order.average_price) == ("complete", now)


def test_a_triggered_stop_stays_triggered_when_modified(sim: FakeSimulator) -> None:
    now = market(sim)
    order = place(sim, pricetype="SL", price=str(now + 12), trigger=str(now + 10))
    sim.move(SBIN, now + 20)
    assert order.status == "open"
    sim.book_modify(order.order_id, price=now + 15)
    assert order.status == "open"
    sim.book_modify(order.order_id, price=now + 25)
    assert (order.status, order.average_price) == ("complete", now + 20)


@pytest.mark.parametrize("state", ["complete", "cancelled", "rejected"])
def test_cancel_and_modify_of_an_order_that_is_not_open_are_refused(sim: FakeSimulator,
                                                                    state: str) -> None:
    if state == "complete":
        order = place(sim)
    elif state == "cancelled":
        order = place(sim, pricetype="LIMIT", price="1")
        assert sim.book_cancel(order.order_id).status == "cancelled"
    else:
        order = place(sim, quantity=10**9)
    assert order.status == state
    acts: list[Callable[[], SimOrder]] = [
        lambda: sim.book_cancel(order.order_id),
        lambda: sim.book_modify(order.order_id, price=Decimal(2))]
    for act in acts:
        with pytest.raises(SimRefusal) as refused:
            act()
        assert (refused.value.why, refused.value.order) == ("not open", order)
    assert order.status == state and order.price == Decimal(0 if state != "cancelled" else 1)


def test_cancel_and_modify_of_an_unknown_order_are_refused(sim: FakeSimulator) -> None:
    acts: list[Callable[[], SimOrder]] = [lambda: sim.book_cancel("42"),
                                          lambda: sim.book_modify("42", quantity=2)]
    for act in acts:
        with pytest.raises(SimRefusal) as refused:
            act()
        assert (refused.value.why, refused.value.order_id, refused.value.order) == (
            "unknown", "42", None)


def test_a_cancelled_stop_never_triggers(sim: FakeSimulator) -> None:
    now = market(sim)
    order = place(sim, pricetype="SL-M", trigger=str(now + 1))
    sim.book_cancel(order.order_id)
    assert sim.move(SBIN, now + 5) == [] and order.status == "cancelled"


# -- the trade book -------------------------------------------------------------------------
def test_every_fill_is_one_trade(sim: FakeSimulator) -> None:
    now = market(sim)
    first = place(sim, quantity=3)
    resting = place(sim, side="SELL", pricetype="LIMIT", price=str(now + 5), product="CNC")
    place(sim, pricetype="LIMIT", price="1")  # never fills
    sim.move(SBIN, now + 7)
    one, two = sim.book.trades
    assert (one.order_id, one.token, one.symbol, one.exchange, one.side, one.product,
            one.quantity, one.price) == (first.order_id, SBIN, "SBIN", "NSE", "BUY", "MIS", 3,
                                         now)
    assert (two.order_id, two.side, two.product, two.quantity, two.price) == (
        resting.order_id, "SELL", "CNC", 1, now + 5)
    assert one.trade_id != two.trade_id and one.time <= two.time
    assert [(p.product, p.net) for p in sim.book.positions(sim.marks())] == [("MIS", 3),
                                                                            ("CNC", -1)]


# -- funds and margin ---------------------------------------------------------------------
def test_margin_used_and_available_move_with_orders(sim: FakeSimulator) -> None:
    cash, now = Decimal(100_000), market(sim)
    sim.margin_limit = cash
    start = sim.funds()
    assert (start.cash, start.available, start.used, start.collateral) == (
        cash, cash, Decimal(0), Decimal(0))
    resting = place(sim, pricetype="LIMIT", price=str(now - 100), quantity=10)
    assert sim.funds().used == (now - 100) * 10  # a resting order blocks its value
    sim.book_modify(resting.order_id, quantity=20)
    assert sim.funds().used == (now - 100) * 20
    sim.book_cancel(resting.order_id)
    assert sim.funds() == start
    place(sim, quantity=5)
    assert sim.funds().used == now * 5  # a position blocks its open value
    assert sim.funds().available == cash - now * 5
    place(sim, side="SELL", quantity=2)  # closing needs no margin and frees some
    funds = sim.funds()
    assert funds.used == now * 3 and funds.available == cash - now * 3


def test_closing_a_position_needs_no_margin(sim: FakeSimulator) -> None:
    now = market(sim)
    sim.margin_limit = now * 5
    place(sim, quantity=5, product="NRML")
    assert sim.funds().available == 0
    assert place(sim, side="SELL", quantity=5, product="NRML").status == "complete"
    assert place(sim, side="SELL", quantity=1).status == "complete"  # MIS: a new position
    assert place(sim, side="SELL", quantity=5).status == "rejected"  # beyond the funds


def test_realised_and_unrealised_pnl_follow_the_market(sim: FakeSimulator) -> None:
    now = market(sim)
    sim.margin_limit = Decimal(100_000)
    place(sim, quantity=4)
    sim.move(SBIN, now + 10)
    place(sim, side="SELL", quantity=1)
    funds = sim.funds()
    assert (funds.realised, funds.unrealised) == (Decimal(10), Decimal(30))
    assert funds.available == funds.cash + 10 - funds.used


def test_an_order_beyond_the_funds_is_rejected_with_the_reason(sim: FakeSimulator) -> None:
    now = market(sim)
    sim.margin_limit = now * 10
    place(sim, quantity=6)
    too_big = place(sim, quantity=5)
    assert too_big.status == "rejected"
    assert too_big.reason == (f"insufficient margin: required {now * 5:.2f},"
                              f" available {now * 4:.2f}")
    assert sim.book.trades[-1].order_id != too_big.order_id
    sim.collateral = now
    assert place(sim, quantity=5).status == "complete"  # collateral is lent against


def test_a_modify_beyond_the_funds_is_refused_and_changes_nothing(sim: FakeSimulator) -> None:
    now = market(sim)
    sim.margin_limit = now * 10
    order = place(sim, pricetype="LIMIT", price=str(now - 1), quantity=8)
    sim.book_modify(order.order_id, quantity=10)  # its own block is freed first
    with pytest.raises(SimRefusal) as refused:
        sim.book_modify(order.order_id, quantity=11)
    assert refused.value.why == "margin"
    assert refused.value.reason.startswith(f"insufficient margin: required {(now - 1) * 11:.2f}")
    assert (order.quantity, order.status) == (10, "open")


def test_no_margin_limit_means_no_margin_check(sim: FakeSimulator) -> None:
    sim.margin_limit = None
    assert place(sim, quantity=10**9).status == "complete"
    assert sim.funds().cash == 0


# -- holdings --------------------------------------------------------------------------------
def test_holdings_are_valued_at_the_mark(sim: FakeSimulator) -> None:
    rows = {h.symbol: h for h in sim.holdings()}
    assert set(rows) == {"INFY", "ITC", "TCS", "TATAMOTORS"}
    infy = rows["INFY"]
    assert (infy.exchange, infy.token, infy.quantity, infy.average_price) == (
        "NSE", "1594", 10, Decimal("850.00"))
    assert infy.ltp == sim.mark("1594")
    assert infy.pnl == (sim.mark("1594") - Decimal(850)) * 10
    sim.move("1594", Decimal("800.55"))
    (infy,) = [h for h in sim.holdings() if h.symbol == "INFY"]
    assert (infy.ltp, infy.pnl) == (Decimal("800.55"), Decimal("-494.50"))


def test_holdings_are_configurable(sim: FakeSimulator) -> None:
    sim.holding_seeds = (("NSE", "SBIN", 3, Decimal(100)), ("MCX", "NOPE", 1, Decimal(1)))
    (row,) = sim.holdings()
    assert (row.symbol, row.quantity, row.pnl) == ("SBIN", 3, (sim.mark(SBIN) - 100) * 3)


# -- reset and the control endpoint ------------------------------------------------------
def test_reset_forgets_orders_trades_positions_and_margin(sim: FakeSimulator) -> None:
    sim.margin_limit = Decimal(1_000_000)
    place(sim, quantity=2)
    place(sim, pricetype="LIMIT", price="1")
    sim.move(SBIN, Decimal(5))
    sim.reset()
    assert (sim.book.orders, sim.book.trades, sim.book.positions(sim.marks())) == ({}, [], [])
    assert sim.funds().used == 0 and sim.funds().available == Decimal(1_000_000)


def test_quotes_control_endpoint_moves_the_market(sim: FakeSimulator) -> None:
    now = market(sim)
    resting = place(sim, pricetype="LIMIT", price=str(now - 10))
    stop = place(sim, side="SELL", pricetype="SL-M", trigger=str(now - 5))
    with httpx.Client(transport=InProcessTransport(sim.app), base_url="http://sim") as http:
        reply = http.post("/_sim/quotes", json={SBIN: str(now - 10), "2885": 99.5})
        assert reply.status_code == 200
        assert reply.json() == {"changed": [resting.order_id, stop.order_id]}
        assert http.get("/_sim/quotes").json() == {SBIN: str(now - 10), "2885": "99.5"}
        for bad in ({"nope": "1"}, {SBIN: "abc"}, {SBIN: 0}, {SBIN: "-2"}, [1]):
            refused = http.post("/_sim/quotes", json=bad)
            assert refused.status_code == 400 and refused.json()["error"]
        assert http.post("/_sim/quotes", content=b"{").status_code == 400
    assert sim.quotes == {SBIN: now - 10, "2885": Decimal("99.5")}
    assert (resting.status, stop.status, stop.average_price) == ("complete", "complete",
                                                                 now - 10)
