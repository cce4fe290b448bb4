"""What the order journal, settling and unattended re-login cost.

- The journal on the order path: ``Gateway.place_order`` with its journal, the same
  gateway with a journal that keeps nothing (what the order path cost before the
  journal), and raw httpx replaying the same request, interleaved.
- Settling: orders whose reply is lost after the broker accepted them, settled from
  the order book by tag: how many order-book reads, and how long past the policy's
  back-off, until the receipt.
- Re-login: 50 callers hit an expired session at once: how many login requests leave
  (goal: exactly one), and what the first read costs them against a live session.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import httpx

from openalgo_core import OrderRequest, SettlePolicy
from openalgo_core.http import request_meta
from openalgo_core.journal import Claim, Entry, State

from .brokers import ORDER, BrokerBench, live
from .common import interleaved
from .orders import _captured_order_request


class ForgetfulJournal:
    """A journal that keeps nothing: every claim is fresh. Only to measure what the
    real one costs; never use it to trade."""

    def claim(self, broker: str, order: OrderRequest) -> Claim:
        now = dt.datetime.now(dt.UTC)
        return Claim(Entry(order.tag, broker, State.SENT, {}, None, None, None, 1, now, now,
                           now.date()), True)

    def acknowledge_soon(self, tag: str, order_id: str) -> None:
        return None

    def unresolved(self, broker: str | None = None) -> list[Entry]:
        return []

    def close(self) -> None:
        return None


@contextmanager
def _counting(gateway: Any, broker: str, kind: str) -> Iterator[list[httpx.Request]]:
    """The requests of ``kind`` (read, order, login) the gateway sends meanwhile."""
    client = gateway.client(broker).http
    seen: list[httpx.Request] = []

    def hook(request: httpx.Request) -> None:
        if request_meta(request).kind == kind:
            seen.append(request)
    client.event_hooks["request"].append(hook)
    try:
        yield seen
    finally:
        client.event_hooks["request"].remove(hook)


def journal_cost(bench: BrokerBench, n: int = 500) -> dict[str, Any]:
    with live(bench, pace=False) as stack:
        gateway = stack.gateway
        gateway.instruments(bench.id)
        request = _captured_order_request(gateway, bench.id)
        journal = gateway.journal
        raw = httpx.Client()
        body, headers, url = request.content, dict(request.headers), str(request.url)

        def without() -> Any:
            gateway._journal = ForgetfulJournal()  # a measurement only
            try:
                return gateway.place_order(bench.id, ORDER)
            finally:
                gateway._journal = journal

        contenders = {
            "raw httpx (floor)": lambda: raw.post(url, content=body, headers=headers).json(),
            "Gateway.place_order, journaled": lambda: gateway.place_order(bench.id, ORDER),
            "Gateway.place_order, journal keeping nothing": without,
        }
        results = interleaved(contenders, n=n)
        raw.close()
        order = OrderRequest(**ORDER)
        samples = []
        for i in range(n):  # the journal alone, as the order path uses it: claim, then
            tagged = order.model_copy(update={"tag": f"bj{i:06d}{time.time_ns() % 10**6}"})
            start = time.perf_counter()  # hand the acknowledgement to the writer thread
            journal.acknowledge_soon(journal.claim(bench.id, tagged).entry.tag, "1")
            samples.append(time.perf_counter() - start)
        journal.flush()
    rows = {name: stats.as_dict() for name, stats in results.items()}
    floor = rows["raw httpx (floor)"]["median_ms"]
    journaled = rows["Gateway.place_order, journaled"]["median_ms"]
    bare = rows["Gateway.place_order, journal keeping nothing"]["median_ms"]
    samples.sort()
    return {"rows": rows, "gateway_vs_floor": journaled / floor,
            "journal_vs_no_journal": journaled / bare,
            "journal_alone_median_us": samples[len(samples) // 2] * 1e6,
            "goal": "journaled gateway <= 1.0x raw httpx"}


def settle(bench: BrokerBench, orders: int = 40) -> dict[str, Any]:
    """Each order's reply dropped after the broker booked it."""
    with live(bench, pace=False) as stack:
        gateway, sim = stack.gateway, stack.sim
        gateway.instruments(bench.id)
        policy = SettlePolicy()
        gateway.settle_policy = SettlePolicy(first_delay=0.0)  # time past the back-off
        reads, times, settled = [], [], 0
        for _ in range(orders):
            sim.faults(drop_after_accept=1)  # type: ignore[union-attr]
            with _counting(gateway, bench.id, "read") as seen:  # the order-book reads
                start = time.perf_counter()
                receipt = gateway.place_order(bench.id, ORDER)
                times.append(time.perf_counter() - start)
            settled += bool(receipt.order_id)
            reads.append(len(seen))
        times.sort()
    return {"orders": orders, "settled": settled, "book_reads_max": max(reads),
            "book_reads_mean": sum(reads) / len(reads),
            "median_ms_past_backoff": times[len(times) // 2] * 1e3,
            "policy_first_delay_s": policy.first_delay,
            "policy_attempts": policy.attempts}


def relogin(bench: BrokerBench, callers: int = 50) -> dict[str, Any]:
    with live(bench, pace=False) as stack:
        gateway = stack.gateway
        gateway.instruments(bench.id)
        start_line = threading.Barrier(callers)

        def read(_: int) -> int:
            start_line.wait()
            return len(gateway.fetch_positions(bench.id))

        def wave() -> float:
            with ThreadPoolExecutor(callers) as pool:
                began = time.perf_counter()
                list(pool.map(read, range(callers)))
                return time.perf_counter() - began

        live_s = min(wave() for _ in range(3))
        waves = []
        logins = 0
        for _ in range(3):
            httpx.post(stack.url + "/_sim/expire").raise_for_status()
            with _counting(gateway, bench.id, "login") as seen:
                waves.append(wave())
            logins = max(logins, len(seen))
    expired_s = min(waves)
    return {"callers": callers, "login_requests_per_expiry": logins,
            "live_wave_ms": live_s * 1e3, "expired_wave_ms": expired_s * 1e3,
            "expired_vs_live": expired_s / live_s,
            "goal": "exactly one login request per expiry"}
