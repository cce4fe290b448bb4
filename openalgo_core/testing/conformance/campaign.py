"""The order journal's fault campaign: a trading day of orders through every fault.

:func:`run_campaign` places ``orders`` orders, each with its own tag, through a gateway
wired to the broker's simulator, one fault of a seeded mix (:func:`default_mix`) on
each call: refusals, rate limits, a 5xx before or after the broker booked the order, a
reply stalled past the read timeout, dropped or malformed, an expired session. Like a
strategy, it places some orders again with the same tag: a failed call retried (at once
or some orders later), an acknowledged one sent twice (a webhook delivered twice).
Halfway, a process sharing ``OPENALGO_HOME`` journals two orders and is killed
(``os._exit``) before it writes their outcome: one it never sent, one whose order had
left (sent here through the plugin's hook, past the journal). At the end the gateway
starts again on the same home: it reconciles the journal, the killed orders are placed
again, and the journal and the broker are compared order by order.

Time is the campaign's own clock: it moves by ``spacing`` between calls and whenever the
gateway sleeps (back-off, settling), so nothing really sleeps and the settle policy's
bounds (``grace``, ``in_flight``) are crossed as they would be in a day. The clock runs an
hour behind the real time, so that no session (expiring at the broker's daily boundary by
the real time) expires in it.

The :class:`CampaignReport` holds the figures (:meth:`CampaignReport.as_json`) and the
problems found: a tag booked twice at the broker, an acknowledged order the broker lacks,
a refused order the broker has live, a journal entry at odds with the broker.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ...errors import (
    BrokerConnectionError,
    OrderRejectedError,
    OrderStatusUnknownError,
    RateLimitError,
    UnsupportedOperationError,
)
from ...gateway import Gateway, SettlePolicy
from ...http import DEFAULT_TIMEOUT, request_meta
from ...journal import State
from ...models import OrderReceipt
from ..faults import Faults
from ..wiring import Harness, Mode, wire, wired_gateway
from .base import Clock, outcome

__all__ = ["CampaignPlan", "CampaignReport", "Fault", "default_mix", "record", "run_campaign"]

#: the exit status of the process killed between journal write and send
KILLED = 137
#: the killed process: journals the orders it is given (JSON on stdin), then dies
_KILLED_PROCESS = f"""
import datetime as dt, json, os, sys
from openalgo_core.journal import OrderJournal
from openalgo_core.models import OrderRequest
job = json.load(sys.stdin)
now = dt.datetime.fromisoformat(job["now"])
journal = OrderJournal(job["path"], clock=lambda: now)
for fields in job["orders"]:
    if not journal.claim(job["broker"], OrderRequest(**fields)).fresh:
        sys.exit(1)
os._exit({KILLED})
"""
#: what a call came to, as the caller sees it
RECEIPT, REJECTED, UNKNOWN, NOT_SENT = "receipt", "rejected", "unknown", "not sent"
#: builds an order's fields: ``order(harness, tag=..., action=...)``
OrderFields = Callable[..., Mapping[str, Any]]


@dataclass(frozen=True)
class Fault:
    """One kind of call: its weight in the mix, the simulator's :class:`Faults` while it is
    sent, and whether the session expires just before (only for a broker that logs in
    without a person)."""

    name: str
    weight: int
    faults: Mapping[str, Any] = field(default_factory=dict)
    expire: bool = False


def default_mix(read_timeout: float) -> tuple[Fault, ...]:
    """The campaign's mix (weights out of 100): two thirds clean, then every fault an
    order meets; about one call in seven leaves its outcome unknown to the gateway."""
    return (
        Fault("clean", 66),
        Fault("429 once", 6, {"rate_limit_next": 1, "scope": "orders"}),
        Fault("429 throughout", 3, {"rate_limit_rate": 1.0, "scope": "orders"}),
        Fault("429, Retry-After: nan", 2, {"rate_limit_next": 1, "retry_after": "nan",
                                           "scope": "orders"}),
        Fault("slow", 3, {"latency_ms": 2.0, "scope": "orders"}),
        Fault("refused", 4, {"reject_orders": 1}),
        Fault("session expired", 2, expire=True),
        Fault("5xx before booking", 3, {"error_rate": 1.0, "scope": "orders"}),
        Fault("5xx after booking", 2, {"error_after_accept": 1}),
        Fault("stalled past the read timeout", 3,
              {"stall_after_accept_ms": read_timeout * 3000}),
        Fault("dropped after booking", 3, {"drop_after_accept": 1}),
        Fault("malformed reply", 3, {"malformed": 1, "scope": "orders"}),
    )


@dataclass(frozen=True)
class CampaignPlan:
    """What the campaign does.

    ``orders`` new orders (tags ``<prefix>000000`` ...), faults drawn from ``mix`` (default
    :func:`default_mix`) by a ``seed``-ed RNG; ``retry_share`` of the failed calls and
    ``duplicate_share`` of the acknowledged ones placed again with the same tag, 1 to
    ``retry_within`` orders later (at most ``attempts`` calls per tag); ``spacing``
    seconds of the campaign's clock between calls; the read timeout of order requests
    (a stalled reply outlasts it; reads and logins keep the core's) and the gateway's
    ``settle`` policy.
    """

    orders: int = 1000
    seed: int = 10
    read_timeout: float = 0.03
    retry_share: float = 0.5
    duplicate_share: float = 0.03
    retry_within: int = 30
    attempts: int = 3
    spacing: float = 0.5
    settle: SettlePolicy = field(default_factory=lambda: SettlePolicy(attempts=2))
    mix: tuple[Fault, ...] | None = None
    prefix: str = "campaign"


@dataclass
class CampaignReport:
    """The campaign's figures and the problems it found (none, for a sound plugin).

    ``outcomes``: per kind of fault, what first calls came to (``receipt``, ``rejected``,
    ``unknown``, ``not sent``); ``retried``: the same for calls placing a tag again;
    ``journal``: the final journal state of every tag; ``unknown_before`` /
    ``unknown_after``: the entries still sent or unknown when the gateway starts again,
    before and after it reconciles; ``settles``: whether the broker's order book carries
    the tags (else an unknown outcome cannot be settled); the order and login requests
    sent, and the book reads answered (settling and reconciling), by both gateways.
    """

    broker: str
    mode: str
    kinds: list[str] = field(default_factory=list)
    orders: int = 0
    calls: int = 0
    retries: int = 0
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    retried: Counter[str] = field(default_factory=Counter)
    journal: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    acknowledged_absent: int = 0
    refused_live: int = 0
    killed: int = 0
    unknown_before: int = 0
    unknown_after: int = 0
    settles: bool = False
    order_requests: int = 0
    book_reads: int = 0
    logins: int = 0
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The figures as JSON data (at most 50 problems)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["outcomes"] = {kind: dict(counts) for kind, counts in self.outcomes.items()}
        data["retried"], data["journal"] = dict(self.retried), dict(self.journal)
        data["problems"] = self.problems[:50]
        return data


def run_campaign(plugin: object, *, home: str | os.PathLike[str], mode: Mode = "inprocess",
                 plan: CampaignPlan | None = None, order: OrderFields | None = None,
                 login: Callable[[Harness], object] = Harness.login) -> CampaignReport:
    """Run the campaign for ``plugin`` against its simulator (see the module docstring).

    Args:
        home: an empty ``OPENALGO_HOME`` (tags are journaled there: a second run on the
            same home would find them all placed).
        order: builds an order's fields from ``tag`` and ``action`` (default: one share
            of SBIN on NSE, MARKET, MIS).
        login: logs the harness in (default :meth:`Harness.login`).
    """
    return _Campaign(plugin, Path(home), mode, plan or CampaignPlan(), order or _market,
                     login).run()


def record(report: CampaignReport, path: str | os.PathLike[str]) -> None:
    """Add ``report`` to the JSON file at ``path`` (``{broker: {mode: figures}}``)."""
    target = Path(path)
    data = json.loads(target.read_text()) if target.exists() else {}
    data.setdefault(report.broker, {})[report.mode] = report.as_json()
    target.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _market(harness: Harness, **overrides: Any) -> dict[str, Any]:
    return {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1,
            "pricetype": "MARKET", "product": "MIS", **overrides}


def _category(error: BaseException | None) -> str:
    if error is None:
        return RECEIPT
    if isinstance(error, OrderRejectedError):
        return REJECTED
    if isinstance(error, OrderStatusUnknownError):
        return UNKNOWN
    if isinstance(error, RateLimitError | BrokerConnectionError):
        return NOT_SENT
    return f"{type(error).__name__}: {str(error)[:120]}"


class _Campaign:
    def __init__(self, plugin: object, home: Path, mode: Mode, plan: CampaignPlan,
                 order: OrderFields, login: Callable[[Harness], object]) -> None:
        self.plugin, self.home, self.mode, self.plan = plugin, home, mode, plan
        self.order, self.login = order, login
        self.clock = Clock()
        self.rng = random.Random(plan.seed)
        self.requests: dict[str, Mapping[str, Any]] = {}
        self.calls: dict[str, list[tuple[str, OrderReceipt | None, BaseException | None]]] = \
            defaultdict(list)
        self.due: dict[int, list[str]] = defaultdict(list)
        self.killed: list[str] = []
        self.sent: Counter[str] = Counter()
        self.report = CampaignReport(broker="", mode=mode)

    def run(self) -> CampaignReport:
        plan, report = self.plan, self.report
        with wire(self.plugin, mode=self.mode, home=self.home, timeout=DEFAULT_TIMEOUT,
                  sleep=self.clock.sleep, clock=self.clock.now, settle=plan.settle) as harness:
            self.harness, gateway = harness, harness.gateway
            report.broker = harness.broker
            self.login(harness)
            gateway.instruments(harness.broker)
            self._watch(gateway)
            mix = [f for f in plan.mix or default_mix(plan.read_timeout)
                   if not f.expire or gateway.can_login_alone(harness.broker)]
            report.kinds = [f.name for f in mix]
            for n in range(plan.orders):
                if n == plan.orders // 2:
                    self._kill(gateway)
                for tag in self.due.pop(n, []):
                    self._call(gateway, tag, self._draw(mix), n)
                tag = f"{plan.prefix}{n:06d}"
                self.requests[tag] = self.order(harness, tag=tag,
                                                action="BUY" if n % 2 == 0 else "SELL")
                self._call(gateway, tag, self._draw(mix), n)
            for n in sorted(self.due):
                for tag in self.due[n]:
                    self._call(gateway, tag, self._draw(mix), None)
            gateway.close()  # the process ends; it starts again later, on the same home
            self._next_start()
        report.orders = len(self.requests)
        return report

    def _draw(self, mix: list[Fault]) -> Fault:
        return self.rng.choices(mix, weights=[f.weight for f in mix])[0]

    def _watch(self, gateway: Gateway) -> None:
        """Count the requests ``gateway`` sends by kind, and the book reads answered; give
        orders the plan's short read timeout."""
        def count(request: httpx.Request) -> None:
            kind = request_meta(request).kind
            self.sent[kind] += 1
            if kind == "order":
                timeout = {**request.extensions.get("timeout", {}),
                           "read": self.plan.read_timeout}
                request.extensions = {**request.extensions, "timeout": timeout}

        def answered(response: httpx.Response) -> None:
            if request_meta(response.request).kind == "read":
                self.sent["answered read"] += 1

        hooks = gateway.client(self.harness.broker).http.event_hooks
        hooks["request"].append(count)
        hooks["response"].append(answered)

    def _call(self, gateway: Gateway, tag: str, fault: Fault, n: int | None) -> None:
        """Place ``tag`` under ``fault``; judge what the caller sees; maybe place it again."""
        sim, report = self.harness.sim, self.report
        sim.faults = Faults(**fault.faults)
        if fault.expire:
            sim.expire_sessions()
        self.clock.sleep(self.plan.spacing)
        again = bool(self.calls[tag])
        receipt, error = outcome(lambda: gateway.place_order(self.harness.broker,
                                                             self.requests[tag]))
        sim.faults = Faults()
        self.calls[tag].append((fault.name, receipt, error))
        category = _category(error)
        report.calls += 1
        if again:
            report.retries += 1
            report.retried[category] += 1
        else:
            report.outcomes.setdefault(fault.name, Counter())[category] += 1
        where = f"{tag} ({fault.name}{', again' if again else ''})"
        if category in (REJECTED, NOT_SENT) and tag in self._live():
            report.refused_live += 1
            report.problems.append(f"{where}: refused ({type(error).__name__}) but live at"
                                   " the broker")
        elif isinstance(error, OrderStatusUnknownError) and error.tag != tag:
            report.problems.append(f"{where}: status unknown with the tag {error.tag}")
        elif category not in (RECEIPT, REJECTED, UNKNOWN, NOT_SENT):
            report.problems.append(f"{where}: {category}")
        share = self.plan.duplicate_share if error is None else self.plan.retry_share
        if n is not None and len(self.calls[tag]) < self.plan.attempts \
                and self.rng.random() < share:
            self.due[n + 1 + self.rng.randrange(self.plan.retry_within)].append(tag)

    def _live(self) -> set[str]:
        return {o.tag for o in list(self.harness.sim.book.orders.values())
                if o.status != "rejected"}

    def _kill(self, gateway: Gateway) -> None:
        """A process journals two orders and is killed before writing their outcome: the
        first never left it; the second did (sent here through the plugin's hook)."""
        harness, broker = self.harness, self.harness.broker
        never, left = (f"{self.plan.prefix}killed{k}" for k in (1, 2))
        for tag in (never, left):
            self.requests[tag] = self.order(harness, tag=tag, action="BUY")
        job = {"path": str(gateway.journal.path), "broker": broker,
               "now": self.clock.now().isoformat(),
               "orders": [self.requests[never], self.requests[left]]}
        died = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", _KILLED_PROCESS], input=json.dumps(job),
            capture_output=True, text=True, timeout=120, check=False)
        if died.returncode != KILLED:
            raise RuntimeError(f"the process to kill exited {died.returncode}: {died.stderr}")
        self.report.killed += 1
        self.killed = [never, left]
        order, instrument = gateway.validate_order(broker, self.requests[left])
        gateway.registry.call(broker, "place_order", order=order, instrument=instrument,
                              session=gateway.session(broker),
                              credentials=gateway.credentials(broker),
                              client=gateway.client(broker))
        gateway.reconcile(broker)  # before in_flight: the first may still be being sent
        entry = gateway.journal.get(never)
        if entry is None or entry.state is not State.SENT:
            self.report.problems.append(
                f"{never}: journaled by a process that may still be sending it, but"
                f" reconciled to {entry and entry.state} before the in-flight bound")

    def _next_start(self) -> None:
        """The gateway starts again after the settle policy's bounds: it reconciles the
        journal, the killed process's orders are placed again, and all is accounted."""
        harness, broker, report = self.harness, self.harness.broker, self.report
        policy = self.plan.settle
        self.clock.sleep((policy.grace + policy.in_flight).total_seconds())
        transport = harness.transport()
        with wired_gateway(harness.gateway.registry, harness.environ, home=self.home,
                           transports={broker: transport} if transport else None,
                           sleep=self.clock.sleep, clock=self.clock.now, settle=policy,
                           session_store=harness.gateway.sessions) as gateway:
            try:
                report.settles = any(o.tag for o in gateway.fetch_order_book(broker))
            except UnsupportedOperationError:
                report.settles = False
            self._watch(gateway)
            report.unknown_before = len(gateway.journal.unresolved(broker))
            gateway.reconcile(broker)
            for tag in self.killed:
                self._call(gateway, tag, Fault("placed again after a restart", 0), None)
            report.unknown_after = len(gateway.reconcile(broker))
            self._account(gateway)
        report.order_requests, report.book_reads, report.logins = (
            self.sent["order"], self.sent["answered read"], self.sent["login"])

    def _account(self, gateway: Gateway) -> None:
        """Every tag: booked at most once, under the id every receipt gave; its journal
        entry agrees with the broker; no order booked that the campaign did not place."""
        report, problems = self.report, self.report.problems
        booked: dict[str, list[Any]] = defaultdict(list)
        for order in list(self.harness.sim.book.orders.values()):
            booked[order.tag].append(order)
        strays = sorted(set(booked) - set(self.requests))
        if strays:
            problems.append(f"{sum(len(booked[t]) for t in strays)} orders booked under tags"
                            f" the campaign never placed, e.g. {strays[:3]}")
        for tag in self.requests:
            rows = booked.get(tag, [])
            ids = {o.order_id for o in rows}
            if len(rows) > 1:
                report.duplicates += 1
                problems.append(f"{tag}: booked {len(rows)} times at the broker")
            receipts = {r.order_id for _, r, _ in self.calls[tag] if r is not None}
            for order_id in sorted(receipts - ids):
                report.acknowledged_absent += 1
                problems.append(f"{tag}: acknowledged as {order_id}, the broker has"
                                f" {sorted(ids) or 'none'}")
            if len(receipts) > 1:
                problems.append(f"{tag}: acknowledged under several ids {sorted(receipts)}")
            entry = gateway.journal.get(tag)
            if entry is None:
                problems.append(f"{tag}: placed but not in the journal")
                continue
            report.journal[entry.state.value] += 1
            live = [o for o in rows if o.status != "rejected"]
            if (entry.state is State.ACKNOWLEDGED and entry.order_id not in ids) or (
                    entry.state is State.NOT_PLACED and rows) or (
                    entry.state is State.REJECTED and live):
                problems.append(f"{tag}: journaled {entry.state} ({entry.order_id}), the"
                                f" broker has {[(o.order_id, o.status) for o in rows]}")
