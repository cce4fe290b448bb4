"""One test per hook, through the registry and gateway (meta-tested in test_docs)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from openalgo_core import (
    Action,
    BrokerInfo,
    Gateway,
    Instrument,
    InstrumentIndex,
    LoginChallenge,
    Order,
    OrderNotFoundError,
    OrderReceipt,
    OrderRejectedError,
    OrderRequest,
    OrderStatus,
    Session,
    UnsupportedOperationError,
    hookimpl,
    totp_now,
)
from openalgo_core.testing import SimulatorBase
from openalgo_core.testing.wiring import Harness, wire
from tests.fakebroker import plugin as fake_plugin
from tests.fakeotp.plugin import hooks as fakeotp_hooks

ORDER = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 3}
SBIN = "3045"  # its token


class Spy:
    """A wrapper plugin recording what each hook was called with."""

    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}

    @hookimpl(wrapper=True)
    def place_order(self, order: Any, instrument: Any, session: Any) -> Any:
        self.calls["place_order"] = {"order": order, "instrument": instrument,
                                     "session": session}
        return (yield)

    @hookimpl(wrapper=True)
    def fetch_positions(self, instruments: Any) -> Any:
        self.calls["fetch_positions"] = {"instruments": instruments}
        return (yield)

    @hookimpl(wrapper=True)
    def cancel_order(self, order: Any) -> Any:
        self.calls["cancel_order"] = {"order": order}
        return (yield)

    @hookimpl(wrapper=True)
    def modify_order(self, order: Any, change: Any) -> Any:
        self.calls["modify_order"] = {"order": order, "change": change}
        return (yield)

    @hookimpl(wrapper=True)
    def fetch_instruments(self, session: Any) -> Any:
        self.calls.setdefault("fetch_instruments", []).append(session)
        return (yield)


@pytest.fixture
def spy(gateway: Gateway) -> Spy:
    spy = Spy()
    gateway.registry.register_wrapper(spy, name="spy")
    return spy


def resting(gateway: Gateway, harness: Harness, below: int = 10) -> OrderReceipt:
    """A BUY LIMIT ``below`` rupees under SBIN's market: it rests open."""
    price = harness.sim.price(SBIN) - below
    return gateway.place_order("fake", {**ORDER, "pricetype": "LIMIT", "price": str(price)})


def test_hook_broker_info_declares_the_broker(gateway: Gateway) -> None:
    info = gateway.info("fake")
    assert isinstance(info, BrokerInfo) and info == fake_plugin.INFO
    assert {f.name for f in info.credentials if f.secret} == {"API_KEY", "PIN", "TOTP_SECRET"}


def test_hook_authenticate_returns_a_session_with_totp(gateway: Gateway) -> None:
    session = gateway.authenticate("fake")
    assert isinstance(session, Session) and session.broker == "fake"


def test_hook_handle_callback_completes_a_challenge(gateway: Gateway,
                                                    fake_env: dict[str, str]) -> None:
    secret = fake_env.pop("OPENALGO_FAKE_TOTP_SECRET")
    challenge = gateway.authenticate("fake")
    assert isinstance(challenge, LoginChallenge)
    session = gateway.handle_callback("fake", {"state": challenge.state,
                                               "code": totp_now(secret)})
    assert isinstance(session, Session) and gateway.session("fake") == session


def test_hook_place_order_gets_tagged_order_and_resolved_instrument(
        gateway: Gateway, spy: Spy) -> None:
    session = gateway.authenticate("fake")
    receipt = gateway.place_order("fake", ORDER)
    seen = spy.calls["place_order"]
    assert isinstance(seen["order"], OrderRequest) and seen["order"].tag == receipt.tag
    assert isinstance(seen["instrument"], Instrument) and seen["instrument"].token == "3045"
    assert seen["session"] == session


def test_hook_fetch_positions_gets_the_index(gateway: Gateway, spy: Spy) -> None:
    gateway.authenticate("fake")
    assert gateway.fetch_positions("fake") == []
    assert isinstance(spy.calls["fetch_positions"]["instruments"], InstrumentIndex)


def test_hook_fetch_instruments_reports_progress(gateway: Gateway) -> None:
    seen: list[tuple[int, int | None]] = []
    index = gateway.instruments("fake", progress=lambda d, t: seen.append((d, t)))
    assert index.resolve("SBIN", "NSE").token == "3045"
    assert seen and seen[-1][0] > 0


def test_hook_fetch_instruments_gets_the_live_session_or_none(gateway: Gateway,
                                                              spy: Spy) -> None:
    gateway.instruments("fake", refresh=True)
    session = gateway.authenticate("fake")
    gateway.instruments("fake", refresh=True)
    assert spy.calls["fetch_instruments"] == [None, session]


def test_hook_broker_simulator_builds_the_simulator(gateway: Gateway,
                                                    fake_env: Mapping[str, str]) -> None:
    sim = gateway.registry.call("fake", "broker_simulator", environ=fake_env)
    assert isinstance(sim, SimulatorBase)
    assert sim.credentials["PIN"] == fake_env["OPENALGO_FAKE_PIN"]


def test_hook_fetch_order_book_shows_each_status_the_reason_and_the_tag(
        gateway: Gateway, fake_harness: Harness) -> None:
    gateway.authenticate("fake")
    assert gateway.fetch_order_book("fake") == []
    market = fake_harness.sim.price(SBIN)
    filled = gateway.place_order("fake", ORDER)
    waiting = resting(gateway, fake_harness)
    refused = gateway.place_order("fake", {**ORDER, "quantity": 100_000})  # beyond the cash
    book = {order.order_id: order for order in gateway.fetch_order_book("fake")}
    receipts = (filled, waiting, refused)
    assert [book[r.order_id].status for r in receipts] == [
        OrderStatus.COMPLETE, OrderStatus.OPEN, OrderStatus.REJECTED]
    assert [book[r.order_id].tag for r in receipts] == [r.tag for r in receipts]
    assert "insufficient margin" in book[refused.order_id].reason
    done = book[filled.order_id]
    assert (done.filled_quantity, done.average_price, done.symbol) == (3, market, "SBIN")


def test_hook_fetch_order_reads_one_and_names_an_unknown_id(
        gateway: Gateway, fake_harness: Harness) -> None:
    gateway.authenticate("fake")
    receipt = resting(gateway, fake_harness)
    order = gateway.fetch_order("fake", receipt.order_id)
    assert (order.order_id, order.tag, order.status) == (receipt.order_id, receipt.tag,
                                                         OrderStatus.OPEN)
    assert order.price == fake_harness.sim.price(SBIN) - 10
    with pytest.raises(OrderNotFoundError) as info:  # quoted: never another path
        gateway.fetch_order("fake", "../funds")
    assert info.value.order_id == "../funds"


def test_hook_cancel_order_cancels_an_open_order_and_refuses_a_complete_one(
        gateway: Gateway, fake_harness: Harness, spy: Spy) -> None:
    gateway.authenticate("fake")
    waiting, filled = resting(gateway, fake_harness), gateway.place_order("fake", ORDER)
    assert gateway.cancel_order("fake", waiting.order_id).order_id == waiting.order_id
    assert gateway.fetch_order("fake", waiting.order_id).status is OrderStatus.CANCELLED
    assert spy.calls.pop("cancel_order")["order"].status is OrderStatus.OPEN
    with pytest.raises(OrderRejectedError, match="is complete"):
        gateway.cancel_order("fake", filled.order_id)
    assert "cancel_order" not in spy.calls  # read, refused, nothing sent
    # the broker's own refusal, when the hook is called on a stale view, is typed too
    stale = gateway.fetch_order("fake", filled.order_id).model_copy(
        update={"status": OrderStatus.OPEN})
    with pytest.raises(OrderRejectedError) as info:
        gateway.registry.call("fake", "cancel_order", order=stale,
                              session=gateway.session("fake"),
                              credentials=gateway.credentials("fake"),
                              client=gateway.client("fake"))
    assert info.value.code == "NOT_OPEN"
    assert fake_harness.sim.book.orders[filled.order_id].status == "complete"


def test_hook_modify_order_reprices_a_resting_limit_that_then_fills(
        gateway: Gateway, fake_harness: Harness, spy: Spy) -> None:
    gateway.authenticate("fake")
    market = fake_harness.sim.price(SBIN)
    receipt = resting(gateway, fake_harness, below=10)
    gateway.modify_order("fake", receipt.order_id, price=str(market - 5))
    seen = spy.calls["modify_order"]
    assert isinstance(seen["order"], Order) and seen["order"].price == market - 10
    assert isinstance(seen["change"], OrderRequest) and seen["change"].price == market - 5
    assert seen["change"].tag == receipt.tag  # the order keeps its tag
    assert gateway.fetch_order("fake", receipt.order_id).price == market - 5
    fake_harness.sim.move(SBIN, market - 6)  # reaches the new price, not the old one
    order = gateway.fetch_order("fake", receipt.order_id)
    assert (order.status, order.filled_quantity, order.average_price) == (
        OrderStatus.COMPLETE, 3, market - 5)


def test_hook_fetch_trade_book_lists_each_fill(gateway: Gateway,
                                               fake_harness: Harness) -> None:
    gateway.authenticate("fake")
    assert gateway.fetch_trade_book("fake") == []
    market = fake_harness.sim.price(SBIN)
    filled = gateway.place_order("fake", ORDER)
    resting(gateway, fake_harness)  # no fill, no trade
    trades = gateway.fetch_trade_book("fake")
    assert [(t.order_id, t.symbol, t.action, t.quantity, t.average_price, t.trade_value)
            for t in trades] == [(filled.order_id, "SBIN", Action.BUY, 3, market, market * 3)]


def test_hook_fetch_funds_moves_with_margin_used(gateway: Gateway,
                                                 fake_harness: Harness) -> None:
    gateway.authenticate("fake")
    before = gateway.fetch_funds("fake")
    assert (before.available_cash, before.used_margin) == (Decimal(5_000_000), 0)
    resting(gateway, fake_harness)
    after = gateway.fetch_funds("fake")
    blocked = (fake_harness.sim.price(SBIN) - 10) * 3
    assert after.used_margin == blocked
    assert after.available_cash == before.available_cash - blocked


def test_hook_fetch_holdings_pnl_follows_the_mark(gateway: Gateway,
                                                  fake_harness: Harness) -> None:
    gateway.authenticate("fake")
    token = gateway.resolve("fake", "INFY", "NSE").token
    fake_harness.sim.move(token, Decimal("900"))
    infy = next(h for h in gateway.fetch_holdings("fake") if h.symbol == "INFY")
    assert (infy.quantity, infy.average_price, infy.ltp) == (10, Decimal("850"), Decimal("900"))
    assert infy.pnl == Decimal(500) and infy.pnl_percent == Decimal("5.88")
    fake_harness.sim.move(token, Decimal("800"))
    infy = next(h for h in gateway.fetch_holdings("fake") if h.symbol == "INFY")
    assert infy.pnl == Decimal(-500)


def test_hook_fetch_holdings_a_broker_without_them_is_unsupported(tmp_path: Path) -> None:
    """The kit-based OTP fake has no holdings call: a typed refusal, nothing sent."""
    with wire(fakeotp_hooks, home=tmp_path / "home") as harness:
        challenge = harness.gateway.authenticate("fakeotp")
        assert isinstance(challenge, LoginChallenge)
        harness.gateway.handle_callback("fakeotp", harness.answer(challenge))
        harness.gateway.instruments("fakeotp")
        before = harness.sim.stats["requests"]
        with pytest.raises(UnsupportedOperationError, match="holdings"):
            harness.gateway.fetch_holdings("fakeotp")
        assert harness.sim.stats["requests"] == before
