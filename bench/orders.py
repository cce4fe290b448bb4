"""Order round trip, and baskets: paced to the broker's limit, and unlimited.

Round trip: ``Gateway.place_order`` against the broker's official SDK sending
the same order and against raw httpx replaying the byte-identical request the
gateway sent (the floor), interleaved over loopback to the broker's simulator.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from openalgo_core import Registry

from .brokers import ORDER, BrokerBench, SimProcess, live
from .common import interleaved
from .tls import TLSFiles


def _captured_order_request(gateway: Any, broker: str) -> httpx.Request:
    """The exact request the gateway sends for ORDER (captured by an event hook)."""
    client = gateway.client(broker).http
    seen: list[httpx.Request] = []
    client.event_hooks["request"].append(seen.append)
    try:
        gateway.place_order(broker, ORDER)
    finally:
        client.event_hooks["request"].remove(seen.append)
    return seen[-1]


def round_trip(bench: BrokerBench, n: int = 400, tls: TLSFiles | None = None
               ) -> dict[str, Any]:
    """Over plain HTTP, or over HTTPS (``tls``) with every client verifying the
    simulator's certificate: the official SDK through ``REQUESTS_CA_BUNDLE``."""
    with live(bench, pace=False, tls=tls) as stack, _requests_trust(tls):
        gateway = stack.gateway
        gateway.instruments(bench.id)
        request = _captured_order_request(gateway, bench.id)
        raw = httpx.Client(verify=tls.context() if tls else True)
        body, headers = request.content, dict(request.headers)
        url = str(request.url)

        def floor() -> Any:
            return raw.post(url, content=body, headers=headers).json()

        contenders = {
            "raw httpx (floor)": floor,
            "openalgo Gateway.place_order": lambda: gateway.place_order(bench.id, ORDER),
        }
        if bench.sdk_orders is not None:  # IndMoney has no official SDK
            contenders[f"official SDK ({bench.sdk_name})"] = bench.sdk_orders(stack.url,
                                                                               stack.env)
        results = interleaved(contenders, n=n)
        opened = {name: _connections_per_call(call) for name, call in contenders.items()}
        raw.close()
    rows = {name: {**stats.as_dict(), "connections_per_call": opened[name]}
            for name, stats in results.items()}
    base = rows["raw httpx (floor)"]["median_ms"]
    ours = rows["openalgo Gateway.place_order"]["median_ms"]
    sdk = rows.get(f"official SDK ({bench.sdk_name})")
    return {"rows": rows, "gateway_vs_floor": ours / base,
            "sdk_vs_gateway": sdk["median_ms"] / ours if sdk else None,
            "goal": "gateway <= 1.15x raw httpx; SDK >= 2x slower than the gateway"}


def _connections_per_call(call: Callable[[], Any], calls: int = 20) -> float:
    """New TCP connections per call (after the timing, so the count costs it nothing)."""
    call()
    opened = 0
    original = socket.socket.connect

    def counting(sock: socket.socket, address: Any) -> None:
        nonlocal opened
        opened += 1
        original(sock, address)
    socket.socket.connect = counting  # type: ignore[method-assign]
    try:
        for _ in range(calls):
            call()
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]
    return opened / calls


@contextlib.contextmanager
def _requests_trust(tls: TLSFiles | None) -> Iterator[None]:
    if tls is None:
        yield
        return
    before = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = tls.ca
    try:
        yield
    finally:
        if before is None:
            del os.environ["REQUESTS_CA_BUNDLE"]
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = before


def paced_basket(bench: BrokerBench, orders: int = 200, limit: int | None = None
                 ) -> dict[str, Any]:
    """``orders`` sequential orders to a simulator refusing more than ``limit``/s (default:
    the broker's published order limit, which the gateway paces to)."""
    if limit is None:
        declared = Registry().load(bench.id).rate_limits["orders"].per_second
        limit = int(declared or 20)
    with live(bench, pace=True, rate_limit_per_second=limit) as stack:
        assert isinstance(stack.sim, SimProcess)
        stack.gateway.instruments(bench.id)
        before = stack.sim.stats()
        start = time.perf_counter()
        for _ in range(orders):
            stack.gateway.place_order(bench.id, ORDER)
        elapsed = time.perf_counter() - start
        after = stack.sim.stats()
        refused = after["refused"] - before["refused"]
        accepted = after["orders"] - before["orders"]
    rate = (orders - 1) / elapsed  # n orders span n-1 intervals
    return {"orders": orders, "limit_per_s": limit, "elapsed_s": elapsed,
            "achieved_per_s": rate, "achieved_share_of_limit": rate / limit,
            "refused": refused, "accepted_by_broker": accepted,
            "goal": "elapsed close to orders / limit seconds, >= 95% of the limit, zero refusals"}


def unlimited_basket(bench: BrokerBench, orders: int = 1000, workers: int = 16
                     ) -> dict[str, Any]:
    """``orders`` orders from ``workers`` threads, no limit: gateway vs raw httpx."""
    with live(bench, pace=False) as stack:
        gateway = stack.gateway
        gateway.instruments(bench.id)
        request = _captured_order_request(gateway, bench.id)
        raw = httpx.Client(limits=httpx.Limits(max_connections=64))
        body, headers, url = request.content, dict(request.headers), str(request.url)
        contenders = {
            "raw httpx (floor)": lambda _: raw.post(url, content=body, headers=headers).json(),
            "openalgo Gateway.place_order": lambda _: gateway.place_order(bench.id, ORDER),
        }
        rows = {}
        for name, call in contenders.items():
            start = time.perf_counter()
            with ThreadPoolExecutor(workers) as pool:
                done = list(pool.map(call, range(orders)))
            elapsed = time.perf_counter() - start
            rows[name] = {"elapsed_s": elapsed, "orders_per_s": len(done) / elapsed}
        raw.close()
    ratio = rows["openalgo Gateway.place_order"]["elapsed_s"] / rows["raw httpx (floor)"][
        "elapsed_s"]
    return {"orders": orders, "workers": workers, "rows": rows, "gateway_vs_floor": ratio}
