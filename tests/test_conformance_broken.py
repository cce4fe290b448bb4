"""Each conformance check fails on a fake broker that breaks the property it checks.

The variants are the fake broker with one thing wrong (tests/fakebroker/broken.py, and
below those breaking what only the journal, settling and re-login checks see); each check
is called as pytest would call it, with a harness from the kit's wiring, and must fail.
The same checks pass on the sound fake broker called the same way.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from openalgo_core import (
    BrokerClient,
    BrokerResponseError,
    Funds,
    Instrument,
    InstrumentIndex,
    Order,
    OrderReceipt,
    OrderRejectedError,
    OrderRequest,
    OrderStatusUnknownError,
    Position,
    Session,
    SessionExpiredError,
    hookimpl,
)
from openalgo_core.testing.conformance import (
    BrokerConformance,
    CancelModifyConformance,
    FundsConformance,
    HoldingsConformance,
    OrderBookConformance,
    TradeBookConformance,
)
from tests.fakebroker import plugin as fake
from tests.fakebroker.broken import (
    VARIANTS,
    FakeHooks,
    ForgetsBookTags,
    IgnoresRefusals,
    NotFoundIsCancelled,
    ResendsOrders,
)

REFUSALS = {"429": {"rate_limit_rate": 1.0}, "5xx": {"error_rate": 1.0}}
#: orders per fault campaign here (a broken property shows within a few hundred)
CAMPAIGN_ORDERS = 300


class ExpiryIsUnreadable(FakeHooks):
    """Reads the broker's "session expired" as a reply it cannot understand."""

    @hookimpl
    def place_order(self, order: OrderRequest, instrument: Instrument, session: Session,
                    client: BrokerClient) -> OrderReceipt:
        try:
            return fake.place_order(order, instrument, session, client)
        except SessionExpiredError as exc:
            raise BrokerResponseError(exc.message, broker="fake") from None

    @hookimpl
    def fetch_positions(self, session: Session, client: BrokerClient,
                        instruments: InstrumentIndex) -> list[Position]:
        try:
            return fake.fetch_positions(session, client, instruments)
        except SessionExpiredError as exc:
            raise BrokerResponseError(exc.message, broker="fake") from None


class RefusalIsUnknown(FakeHooks):
    """Reads the broker's refusal of an order as status unknown."""

    @hookimpl
    def place_order(self, order: OrderRequest, instrument: Instrument, session: Session,
                    client: BrokerClient) -> OrderReceipt:
        try:
            return fake.place_order(order, instrument, session, client)
        except OrderRejectedError as exc:
            raise OrderStatusUnknownError(exc.message, broker="fake", tag=order.tag) from None


class IgnoresModifyRefusals(IgnoresRefusals):
    """Takes any reply to a modify as done."""

    @hookimpl
    def modify_order(self, order: Order, change: OrderRequest, session: Session,
                     client: BrokerClient) -> OrderReceipt:
        client.request("PUT", client.url("api", fake.order_path(order.order_id)),
                       kind="order", tag=order.tag or order.order_id,
                       json=fake.change_payload(change), headers=fake.auth(session))
        return OrderReceipt(broker="fake", order_id=order.order_id, tag=order.tag)


class CancelsNothing(FakeHooks):
    """Answers a cancel with a receipt and sends nothing."""

    @hookimpl
    def cancel_order(self, order: Order, session: Session, client: BrokerClient) -> OrderReceipt:
        return OrderReceipt(broker="fake", order_id=order.order_id, tag=order.tag)


class FillsAtItsPrice(FakeHooks):
    """Reads a fill's average price as the order's own price."""

    @hookimpl
    def fetch_order(self, order_id: str, session: Session, client: BrokerClient,
                    instruments: InstrumentIndex) -> Order:
        order = fake.fetch_order(order_id, session, client, instruments)
        return order.model_copy(update={"average_price": order.price})


class ForgetsRealisedFunds(FakeHooks):
    """Reports no realised P&L in the funds."""

    @hookimpl
    def fetch_funds(self, session: Session, client: BrokerClient) -> Funds:
        return fake.fetch_funds(session, client).model_copy(update={"realised_pnl": 0})


class WithoutTheDay(FakeHooks):
    """A broker offering none of the day's operations (each hook answers None)."""

    @hookimpl
    def fetch_order_book(self) -> None:
        return None

    @hookimpl
    def fetch_order(self) -> None:
        return None

    @hookimpl
    def cancel_order(self) -> None:
        return None

    @hookimpl
    def modify_order(self) -> None:
        return None

    @hookimpl
    def fetch_trade_book(self) -> None:
        return None

    @hookimpl
    def fetch_funds(self) -> None:
        return None

    @hookimpl
    def fetch_holdings(self) -> None:
        return None


#: (variant, check, the check's parameters): the checks of the journal, settling,
#: re-login and the rest of the day that the variants of broken.py do not cover
MORE: list[tuple[type[FakeHooks], str, dict[str, Any]]] = [
    (ForgetsBookTags, "test_unknown_outcome_after_booking_is_settled_from_the_order_book",
     {"fault": "drop"}),
    (ResendsOrders, "test_unknown_outcome_after_booking_is_settled_from_the_order_book",
     {"fault": "5xx"}),
    (ResendsOrders, "test_order_not_booked_is_unknown_then_not_placed", {}),
    (RefusalIsUnknown, "test_broker_rejection_is_order_rejected_error", {}),
    (ExpiryIsUnreadable, "test_an_expired_session_is_renewed_alone", {}),
    (ExpiryIsUnreadable, "test_an_expired_session_needs_a_person_without_a_totp_secret", {}),
    (IgnoresModifyRefusals, "test_modify_of_a_cancelled_order_is_refused", {}),
    (CancelsNothing, "test_cancel_an_open_and_a_trigger_pending_order", {}),
    (NotFoundIsCancelled, "test_an_unknown_order_cannot_be_cancelled_or_modified", {}),
    (FillsAtItsPrice, "test_resting_orders_fill_when_the_price_crosses", {}),
    (ForgetsRealisedFunds, "test_funds_show_the_days_pnl", {}),
]
CHECKS = [(variant, check, {"refusal": REFUSALS["429"]}
           if check == "test_login_is_sent_once_when_refused" else {})
          for variant, checks in VARIANTS.items() for check in checks] + MORE


def run_check(variant: type[FakeHooks], name: str, tmp_path: Path, *,
              suite_facts: dict[str, Any] | None = None, **extra: Any) -> None:
    """Call check ``name`` of a conformance suite for ``variant``, in-process
    (``suite_facts``: class attributes of the suite, e.g. ``book_carries_tags``)."""
    suite = type("Suite", (BrokerConformance,),
                 {"plugin": variant(), "campaign_orders": CAMPAIGN_ORDERS,
                  **(suite_facts or {})})()
    check = getattr(suite, name)
    wanted = inspect.signature(check).parameters
    given = {name: value for name, value in (("mode", "inprocess"), ("tmp_path", tmp_path))
             if name in wanted}
    if "harness" in wanted:
        with suite.wire("inprocess", home=tmp_path / "home") as harness:
            check(harness=harness, **given, **extra)
    else:
        check(**given, **extra)


@pytest.mark.parametrize(("variant", "check", "extra"), [
    pytest.param(variant, check, extra, id=f"{variant.__name__}-{check}")
    for variant, check, extra in CHECKS])
def test_check_fails_on_the_variant_breaking_it(variant: type[FakeHooks], check: str,
                                                extra: dict[str, Any], tmp_path: Path) -> None:
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        run_check(variant, check, tmp_path, **extra)


def test_a_login_sent_as_a_read_fails_on_5xx_too(tmp_path: Path) -> None:
    from tests.fakebroker.broken import LoginAsRead

    with pytest.raises(AssertionError, match="sent 3 times"):
        run_check(LoginAsRead, "test_login_is_sent_once_when_refused", tmp_path,
                  refusal=REFUSALS["5xx"])


DAY = (OrderBookConformance, CancelModifyConformance, TradeBookConformance, FundsConformance,
       HoldingsConformance)


@pytest.mark.parametrize("check", sorted({name for feature in DAY for name in vars(feature)
                                          if name.startswith("test_")}))
def test_a_broker_without_the_days_operations_skips_their_checks(check: str,
                                                                  tmp_path: Path) -> None:
    with pytest.raises(pytest.skip.Exception, match="unsupported"):
        run_check(WithoutTheDay, check, tmp_path)


@pytest.mark.parametrize(("check", "extra"), [
    ("test_unknown_outcome_after_booking_is_settled_from_the_order_book", {"fault": "drop"}),
    ("test_order_not_booked_is_unknown_then_not_placed", {}),
    ("test_fault_campaign", {})])
def test_without_an_order_book_an_unknown_outcome_stays_unknown(
        check: str, extra: dict[str, Any], tmp_path: Path) -> None:
    run_check(WithoutTheDay, check, tmp_path, **extra)


def test_the_sound_fake_passes_the_same_checks_called_this_way(tmp_path: Path) -> None:
    done: list[tuple[str, dict[str, Any]]] = []
    for _, check, extra in CHECKS:
        if (check, extra) not in done:
            done.append((check, extra))
            run_check(FakeHooks, check, tmp_path / f"{check}-{len(done)}", **extra)


@pytest.mark.parametrize(("check", "extra"), [
    ("test_order_not_booked_is_unknown_then_not_placed", {}),
    ("test_fault_campaign", {})])
def test_a_book_without_tags_never_makes_an_order_not_placed(
        check: str, extra: dict[str, Any], tmp_path: Path) -> None:
    """A broker whose book echoes no tags: an order missing from it may be there under no
    tag, so the gateway never calls it "not placed" and never sends it again."""
    run_check(ForgetsBookTags, check, tmp_path, suite_facts={"book_carries_tags": False},
              **extra)


def test_a_broker_accepting_a_margin_shortfall_fails_a_suite_saying_it_refuses_it(
        tmp_path: Path) -> None:
    """``margin_refused_at_placement``: the fake accepts the order (and rejects it in its
    book), so the suite's check that it is refused when placed fails."""
    with pytest.raises(AssertionError, match="expected OrderRejectedError"):
        run_check(FakeHooks, "test_an_order_rejected_after_acceptance_shows_its_reason",
                  tmp_path, suite_facts={"margin_refused_at_placement": True})
