"""Conformance: placing orders, and what may happen to an order when things go wrong."""

from __future__ import annotations

import functools
import itertools
import random
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from ...errors import (
    BrokerConnectionError,
    BrokerResponseError,
    OpenAlgoError,
    OrderRejectedError,
    OrderStatusUnknownError,
    RateLimitError,
    UnknownSymbolError,
)
from ...models import OrderReceipt
from ..faults import Faults
from ..wiring import Harness, Mode
from .base import ConformanceBase, Outcome, outcome
from .sweep import escaped, sweep

__all__ = ["OrderConformance"]

#: ``Retry-After`` values a hostile or broken broker sends with a 429
RETRY_AFTERS = ("abc", "nan", "inf", "-1", "1e5000", "9" * 40, "Wed, 99 Foo 2024 99:99:99 GMT",
                "Thu, 01 Jan 1970 00:00:00 GMT")


class OrderConformance(ConformanceBase):
    """Every order gets a receipt, a typed refusal, or status-unknown with its tag;
    none is sent twice; none is acknowledged but missing at the broker."""

    #: orders in the fault campaign, its seed, and its (short) read timeout
    campaign_orders: ClassVar[int] = 500
    campaign_seed: ClassVar[int] = 10
    campaign_read_timeout: ClassVar[float] = 0.03

    def campaign_mix(self) -> list[tuple[str, int, dict[str, Any]]]:
        """(name, weight, faults) of each kind of order in the campaign."""
        stall = self.campaign_read_timeout * 3000
        return [("clean", 40, {}),
                ("5xx", 8, {"error_rate": 1.0, "scope": "orders"}),
                ("429 once", 8, {"rate_limit_next": 1, "scope": "orders"}),
                ("429 throughout", 4, {"rate_limit_rate": 1.0, "scope": "orders"}),
                ("stall past the read timeout", 4, {"stall_after_accept_ms": stall}),
                ("dropped after accepting", 8, {"drop_after_accept": 1}),
                ("malformed reply", 8, {"malformed": 1, "scope": "orders"}),
                ("refused", 4, {"reject_orders": 1}),
                ("429, Retry-After: nan", 2, {"rate_limit_next": 1, "retry_after": "nan",
                                              "scope": "orders"}),
                ("slow", 4, {"latency_ms": 2.0, "scope": "orders"})]

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
        self.login(harness)
        harness.fault(reject_orders=1)
        with pytest.raises(OrderRejectedError) as info:
            harness.gateway.place_order(harness.broker, self.order(harness))
        assert info.value.reason and info.value.broker == harness.broker
        assert harness.sim_orders() == []

    def test_read_timeout_after_accept_is_status_unknown_after_one_request(
            self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        harness.fault(stall_after_accept_ms=self.read_timeout * 4000)
        before = harness.sim.stats["requests"]
        order = self.order(harness, tag="conformtimeout1")
        with pytest.raises(OrderStatusUnknownError) as info:
            harness.gateway.place_order(harness.broker, order)
        assert info.value.tag == "conformtimeout1"
        assert harness.sim.stats["requests"] - before == 1
        assert len(harness.sim_orders()) == 1
        harness.fault(stall_after_accept_ms=0)

    def test_dropped_connection_after_accept_is_status_unknown(self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        harness.fault(drop_after_accept=1)
        with pytest.raises(OrderStatusUnknownError) as info:
            harness.gateway.place_order(harness.broker, self.order(harness))
        assert info.value.tag
        assert len(harness.sim_orders()) == 1

    def test_rate_limited_order_is_retried_once_accepted(self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        harness.fault(rate_limit_next=1, scope="orders")
        receipt = harness.gateway.place_order(harness.broker, self.order(harness))
        assert receipt.order_id
        assert harness.sim.stats["refused"] == 1
        assert len(harness.sim_orders()) == 1

    def test_malformed_reply_is_broker_response_error(self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        harness.fault(malformed=1, scope="reads")
        with pytest.raises(BrokerResponseError):
            harness.gateway.fetch_positions(harness.broker)
        harness.fault(malformed=1, scope="orders")
        with pytest.raises(OrderStatusUnknownError):
            harness.gateway.place_order(harness.broker, self.order(harness))

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
        """Hundreds of orders through every fault, mixed by a seeded RNG: each one
        accounted for, none received twice, none acknowledged but absent."""
        timeout = httpx.Timeout(5.0, read=self.campaign_read_timeout)
        with self.wire(mode, timeout=timeout, home=tmp_path / "home") as harness:
            self.login(harness)
            harness.gateway.instruments(harness.broker)
            mix = self.campaign_mix()
            rng = random.Random(self.campaign_seed)
            kinds = rng.choices(mix, weights=[weight for _, weight, _ in mix],
                                k=self.campaign_orders)

            def place(tag: str) -> OrderReceipt:
                return harness.gateway.place_order(harness.broker, self.order(harness, tag=tag))

            calls = []
            for n, (kind, _, faults) in enumerate(kinds):
                harness.sim.faults = Faults(**faults)
                tag = f"campaign{n:06d}"
                calls.append((kind, tag, outcome(functools.partial(place, tag))))
            self.clear_faults(harness)
            booked = harness.sim_orders()
        assert {kind for kind, _, _ in calls} == {kind for kind, _, _ in mix}
        _account(calls, booked)


def _account(calls: list[tuple[str, str, Outcome]], booked: list[dict[str, Any]]) -> None:
    """Every call is a receipt, a refusal or status-unknown with its tag; the broker saw
    no order twice, has every acknowledged one, and none that was refused."""
    by_tag = Counter(order["tag"] for order in booked)
    ids = {order["tag"]: order["order_id"] for order in booked}
    live = {order["tag"] for order in booked if order["status"] != "rejected"}
    problems = [f"{tag} received {n} times" for tag, n in by_tag.items() if n > 1]
    for kind, tag, (receipt, error) in calls:
        if error is None:
            if ids.get(tag) != receipt.order_id:
                problems.append(f"{tag} ({kind}): acknowledged as {receipt.order_id} but"
                                f" the broker has {ids.get(tag)}")
        elif isinstance(error, OrderStatusUnknownError):
            if error.tag != tag:
                problems.append(f"{tag} ({kind}): status unknown with tag {error.tag}")
        elif isinstance(error, OrderRejectedError | RateLimitError | BrokerConnectionError):
            if tag in live:
                problems.append(f"{tag} ({kind}): refused ({type(error).__name__}) but live")
        else:
            problems.append(f"{tag} ({kind}): {type(error).__name__}: {str(error)[:120]}")
    assert not problems, f"{len(problems)} orders unaccounted for:\n" + "\n".join(problems[:20])
