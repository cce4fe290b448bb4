"""Conformance: placing orders, and what may happen to an order when things go wrong."""

from __future__ import annotations

import itertools
import os
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ...errors import (
    BrokerResponseError,
    OpenAlgoError,
    OrderRejectedError,
    OrderStatusUnknownError,
    UnknownSymbolError,
    UnsupportedOperationError,
)
from ...journal import State
from ...models import OrderReceipt
from ..wiring import Harness, Mode
from .base import Clock, ConformanceBase, Outcome, failure, kinds, outcome, sent
from .campaign import CampaignPlan, CampaignReport, Fault, default_mix, record, run_campaign
from .sweep import escaped, sweep

__all__ = ["OrderConformance"]

#: ``Retry-After`` values a hostile or broken broker sends with a 429
RETRY_AFTERS = ("abc", "nan", "inf", "-1", "1e5000", "9" * 40, "Wed, 99 Foo 2024 99:99:99 GMT",
                "Thu, 01 Jan 1970 00:00:00 GMT")
#: the simulator's faults that book an order and lose its reply (the stall's length is
#: set from the read timeout)
AFTER_BOOKING: dict[str, dict[str, Any]] = {
    "stall": {"stall_after_accept_ms": 0.0}, "drop": {"drop_after_accept": 1},
    "5xx": {"error_after_accept": 1}, "unreadable": {"malformed": 1, "scope": "orders"}}
#: names the file the fault campaign adds its figures to (``{broker: {mode: figures}}``)
REPORT_VARIABLE = "OPENALGO_CAMPAIGN_REPORT"


class OrderConformance(ConformanceBase):
    """Every order gets a receipt, a typed refusal, or status-unknown with its tag;
    an unknown outcome is settled from the order book; none is sent twice; none is
    acknowledged but missing at the broker."""

    #: the fault campaign: orders per run, its seed, the gateway's (short) read timeout,
    #: and the share of orders it may leave unknown after reconciliation (for a broker
    #: whose order book carries the tags; without one, nothing unknown can be settled)
    campaign_orders: ClassVar[int] = 1000
    campaign_seed: ClassVar[int] = 10
    campaign_read_timeout: ClassVar[float] = 0.03
    campaign_max_unknown: ClassVar[float] = 0.01

    def campaign_mix(self) -> tuple[Fault, ...]:
        """The kinds of call in the fault campaign (:func:`.campaign.default_mix`)."""
        return default_mix(self.campaign_read_timeout)

    def campaign_plan(self) -> CampaignPlan:
        return CampaignPlan(orders=self.campaign_orders, seed=self.campaign_seed,
                            read_timeout=self.campaign_read_timeout, mix=self.campaign_mix())

    def test_every_pricetype_and_product_gives_a_receipt(self, harness: Harness) -> None:
        self.login(harness)
        info = harness.gateway.info(harness.broker)
        sent = []
        for product in sorted(info.products):
            for pricetype in sorted(info.pricetypes):
                order = self.priced(harness, pricetype, product)
                receipt = harness.gateway.place_order(harness.broker, order)
                assert isinstance(receipt, OrderReceipt) and receipt.order_id
                assert receipt.tag
                sent.append(receipt.order_id)
        assert len(set(sent)) == len(sent) == len(info.products) * len(info.pricetypes)
        assert len(harness.sim_orders()) == len(sent)

    def test_order_tag_reaches_the_broker(self, harness: Harness) -> None:
        """The tag is how an order whose outcome is unknown is found again."""
        self.login(harness)
        receipt = harness.gateway.place_order(harness.broker,
                                              self.order(harness, tag="conformtag7"))
        assert receipt.tag == "conformtag7"
        (booked,) = [o for o in harness.sim_orders() if o["order_id"] == receipt.order_id]
        assert booked["tag"] == "conformtag7", "the order reached the broker without its tag"

    def test_broker_rejection_is_order_rejected_error(self, harness: Harness) -> None:
        """Refused: an OrderRejectedError with the broker's reason; placed again with its
        tag, the same refusal, and nothing sent."""
        self.login(harness)
        harness.fault(reject_orders=1)
        fields = self.order(harness, tag="refused1")
        error = failure(lambda: harness.gateway.place_order(harness.broker, fields),
                        OrderRejectedError)
        assert isinstance(error, OrderRejectedError)
        assert error.reason and error.broker == harness.broker
        assert harness.sim_orders() == []
        with sent(harness) as requests:
            again = failure(lambda: harness.gateway.place_order(harness.broker, fields),
                            OrderRejectedError)
        assert isinstance(again, OrderRejectedError) and again.reason == error.reason
        assert requests == []

    @pytest.mark.parametrize("fault", sorted(AFTER_BOOKING))
    def test_unknown_outcome_after_booking_is_settled_from_the_order_book(
            self, harness: Harness, fault: str) -> None:
        """The order is booked, its reply lost (stalled past the read timeout, dropped,
        a 5xx, unreadable): sent once; settled from the order book by its tag (a receipt
        with the broker's id, after one book read) when the book carries tags; else
        status unknown with the tag. Placing it again sends nothing."""
        self.login(harness)
        gateway, broker = harness.gateway, harness.broker
        gateway.instruments(broker)
        book_reads = self._book_reads(harness)
        tag = f"settle{fault.replace(' ', '')}"
        harness.fault(**self._after_booking(fault))
        with sent(harness) as requests, sent(harness, answered=True) as answered:
            receipt, error = outcome(lambda: gateway.place_order(
                broker, self.order(harness, tag=tag)))
        self.clear_faults(harness)
        booked = [o for o in harness.sim_orders() if o["tag"] == tag]
        assert len(booked) == 1, f"the broker booked the order {len(booked)} times"
        sent_kinds = kinds(requests)
        assert sent_kinds["order"] == 1, f"the order was sent {sent_kinds['order']} times"
        reads = kinds(answered)["read"]
        entry = gateway.journal.get(tag)
        assert entry is not None
        if book_reads is not None and self.book_carries_tags:
            assert error is None, f"the order book has the order, yet {error!r:.200}"
            assert (receipt.order_id, receipt.tag) == (booked[0]["order_id"], tag)
            assert reads == book_reads + self.order_reads, (
                f"settled after {reads} reads; one book read ({book_reads}) finds it")
            assert (entry.state, entry.order_id) == (State.ACKNOWLEDGED, receipt.order_id)
        else:
            assert isinstance(error, OrderStatusUnknownError) and error.tag == tag, (
                f"without an order book carrying tags it is status unknown, not"
                f" {error or receipt!r:.200}")
            attempts = gateway.settle_policy.attempts
            assert reads == (book_reads or 0) * attempts + self.order_reads
            assert entry.state is State.UNKNOWN
        with sent(harness) as requests:
            again, error_again = outcome(lambda: gateway.place_order(
                broker, self.order(harness, tag=tag)))
        assert kinds(requests)["order"] == 0, "an order placed again with its tag was resent"
        if receipt is None:
            assert isinstance(error_again, OrderStatusUnknownError)
        else:
            assert (again.order_id, again.tag) == (receipt.order_id, tag)

    def test_order_not_booked_is_unknown_then_not_placed(self, mode: Mode,
                                                         tmp_path: Path) -> None:
        """A 5xx before the broker booked the order: the book lacks it for the policy's
        attempts, so its outcome stays unknown (the journal keeps it open); once it is
        absent past the policy's grace it is "not placed", and placing it again with its
        tag sends it, once. Without an order book, or with one whose rows echo no tags (an
        order of the day is in it), absence proves nothing: it stays unknown, never resent."""
        clock = Clock()
        with self.wire(mode, home=tmp_path / "home", sleep=clock.sleep,
                       clock=clock.now) as harness:
            self.login(harness)
            gateway, broker = harness.gateway, harness.broker
            gateway.instruments(broker)
            gateway.place_order(broker, self.order(harness, tag="present1"))
            book_reads = self._book_reads(harness)
            policy = harness.gateway.settle_policy
            fields = self.order(harness, tag="unbooked1")
            harness.fault(error_rate=1.0, scope="orders")
            with sent(harness) as requests, sent(harness, answered=True) as answered:
                error = failure(lambda: gateway.place_order(broker, fields),
                                OrderStatusUnknownError)
            self.clear_faults(harness)
            assert isinstance(error, OrderStatusUnknownError) and error.tag == "unbooked1"
            assert kinds(requests)["order"] == 1
            assert kinds(answered)["read"] == (book_reads or 0) * policy.attempts \
                + self.order_reads
            assert [o["tag"] for o in harness.sim_orders()] == ["present1"]
            assert [e.tag for e in gateway.journal_entries(broker, unresolved=True)] == [
                "unbooked1"]
            clock.sleep(policy.grace.total_seconds())
            with sent(harness) as requests:
                receipt, again = outcome(lambda: gateway.place_order(broker, fields))
            booked = [o["order_id"] for o in harness.sim_orders() if o["tag"] != "present1"]
            if book_reads is None or not self.book_carries_tags:
                assert isinstance(again, OrderStatusUnknownError) and booked == []
                assert kinds(requests)["order"] == 0, "an unknown outcome was resent"
                return
            assert again is None, f"absent past the grace, it is sent again, not {again!r}"
            assert booked == [receipt.order_id], "sent again once it was proven absent"
            assert kinds(requests)["order"] == 1

    def _after_booking(self, fault: str) -> dict[str, Any]:
        """The simulator's faults losing the reply to an order it books."""
        faults = dict(AFTER_BOOKING[fault])
        if fault == "stall":
            faults["stall_after_accept_ms"] = self.read_timeout * 4000
        return faults

    def _book_reads(self, harness: Harness) -> int | None:
        """How many requests one order-book read sends (None: the broker has no book)."""
        with sent(harness, answered=True) as answered:
            try:
                harness.gateway.fetch_order_book(harness.broker)
            except UnsupportedOperationError:
                return None
        return len(answered)

    def test_rate_limited_order_is_retried_once_accepted(self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        harness.fault(rate_limit_next=1, scope="orders")
        receipt = harness.gateway.place_order(harness.broker, self.order(harness))
        assert receipt.order_id
        assert harness.sim.stats["refused"] == 1
        assert len(harness.sim_orders()) == 1

    def test_malformed_read_reply_is_broker_response_error(self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        harness.fault(malformed=1, scope="reads")
        with pytest.raises(BrokerResponseError):
            harness.gateway.fetch_positions(harness.broker)

    def test_unknown_symbol_fails_before_any_request(self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        before = harness.sim.stats["requests"]
        with pytest.raises(UnknownSymbolError) as info:
            harness.gateway.place_order(harness.broker, self.order(harness, symbol="SBINN"))
        assert "SBIN" in info.value.suggestions or info.value.suggestions == ()
        assert harness.sim.stats["requests"] == before

    def test_garbage_in_order_replies_is_typed(self, tmp_path: Path) -> None:
        """Garbage in any field of an order's reply: a rejection, a receipt with an id,
        or status unknown carrying the order's tag."""
        for harness in self.garbage_harnesses(tmp_path):
            self._order_garbage(harness)

    def _order_garbage(self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        tags = (f"garbage{n:06d}" for n in itertools.count())
        sent: list[str] = []

        def place() -> OrderReceipt:
            sent.append(next(tags))
            return harness.gateway.place_order(harness.broker,
                                               self.order(harness, tag=sent[-1]))

        def judge(result: Outcome) -> str | None:
            receipt, error = result
            if error is None:
                return None if receipt.order_id and receipt.tag == sent[-1] \
                    else f"a receipt without an id or tag: {receipt!r}"
            if isinstance(error, OrderStatusUnknownError):
                return None if error.tag == sent[-1] else "status unknown without its tag"
            if isinstance(error, OrderRejectedError):
                return None
            if isinstance(error, OpenAlgoError):
                return (f"{type(error).__name__} ({str(error)[:120]}): an order's outcome"
                        f" is a receipt, a rejection or status unknown")
            return escaped(error)

        sweep(self, harness, place, judge)

    def test_garbage_retry_after_is_typed(self, tmp_path: Path) -> None:
        """A 429's ``Retry-After`` is read or ignored: never an escaped error, never a
        sleep that is negative, not a number, or endless."""
        for harness in self.garbage_harnesses(tmp_path):
            self._retry_after_garbage(harness)

    def _retry_after_garbage(self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        calls = {"a read": lambda: harness.gateway.fetch_positions(harness.broker),
                 "an order": lambda: harness.gateway.place_order(harness.broker,
                                                                 self.order(harness))}
        for retry_after in RETRY_AFTERS:
            for what, call in calls.items():
                harness.fault(rate_limit_next=1, retry_after=retry_after)
                _, error = outcome(call)
                assert error is None or isinstance(error, OpenAlgoError), (
                    f"{what} refused with Retry-After: {retry_after}: {escaped(error)}")
        assert all(0 <= pause <= 3600 for pause in harness.sleeps), harness.sleeps

    def test_fault_campaign(self, mode: Mode, tmp_path: Path) -> None:
        """A day of orders through every fault, some placed again with their tag, a
        process killed between journal write and send, then a restart that reconciles:
        no tag booked twice, none acknowledged but absent, none refused but live, the
        journal agreeing with the broker, and (with a book carrying tags) at most
        ``campaign_max_unknown`` of the orders still unknown. Its figures go to the file
        named by ``OPENALGO_CAMPAIGN_REPORT``, if set."""
        tmp_path.mkdir(parents=True, exist_ok=True)
        home = tempfile.mkdtemp(prefix="campaign-", dir=tmp_path)  # a fresh journal each run
        report = run_campaign(self.plugin, mode=mode, home=home, plan=self.campaign_plan(),
                              order=self.order, login=self.login)
        if os.environ.get(REPORT_VARIABLE):
            record(report, os.environ[REPORT_VARIABLE])
        _judge(report, self.campaign_max_unknown)


def _judge(report: CampaignReport, max_unknown: float) -> None:
    problems = report.problems
    assert not problems, (f"{len(problems)} problems in {report.calls} calls:\n"
                          + "\n".join(problems[:20]))
    missing = set(report.kinds) - set(report.outcomes)
    assert not missing, f"kinds of call never drawn: {sorted(missing)}"
    assert report.killed == 1
    if report.settles:
        assert report.unknown_after <= max_unknown * report.orders, (
            f"{report.unknown_after} of {report.orders} orders still unknown after"
            f" reconciliation (at most {max_unknown:.0%})")
