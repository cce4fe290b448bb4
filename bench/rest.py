"""The REST gateway (``openalgo serve`` in its own process) driven by raw httpx:
latency of placeorder and positionbook, overhead over the direct library call,
and a sustained 60 s run at the highest rate it holds with zero errors."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from openalgo_core import Registry
from openalgo_core.config import env_var
from openalgo_core.testing.browser import submit_login_page
from openalgo_core.testing.transport import free_port

from .brokers import ORDER, BrokerBench, SimProcess, credentials, live
from .common import Stats, interleaved


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextmanager
def served(bench: BrokerBench) -> Iterator[tuple[str, str, int]]:
    """Simulator and ``openalgo serve`` as separate processes; yields (url, key, pid)."""
    env = credentials(bench.id, Registry())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if bench.login_answers:  # ICICI's page sends the browser back to this gateway
        env[env_var(bench.id, "REDIRECT_URL")] = f"{url}/{bench.id}/callback"
    sim = SimProcess(bench.id, {**env, **bench.sim_env})
    key = os.urandom(16).hex()
    with tempfile.TemporaryDirectory() as home:
        env.update({env_var(bench.id, "BASE_URL"): sim.url, "OPENALGO_HOME": home,
                    "OPENALGO_API_KEY": key, "OPENALGO_BROKER": bench.id,
                    "OPENALGO_PACING": "0", "OPENALGO_ORDER_RATE_LIMIT": "1000000",
                    "OPENALGO_API_RATE_LIMIT": "1000000"})
        proc = subprocess.Popen(
            [sys.executable, "-m", "openalgo_core", "serve", "--port", str(port)],
            env={**os.environ, **env}, cwd=home, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"/{bench.id}/login".join([url, ""]), timeout=10).status_code:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise RuntimeError("gateway did not start") from None
                    time.sleep(0.1)
            if bench.login_answers:
                _log_in_through_pages(url, bench)
            yield url, key, proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            sim.stop()


def _log_in_through_pages(url: str, bench: BrokerBench) -> None:
    """A person logging in at the gateway's ``/<id>/login``: the broker's page, then the
    redirect back to the gateway's callback."""
    with httpx.Client(timeout=30) as browser:
        page = browser.get(f"{url}/{bench.id}/login")
        back = submit_login_page(browser, page.headers["location"], bench.login_answers)
        browser.get(str(back)).raise_for_status()


def latency(bench: BrokerBench, n: int = 300) -> dict[str, Any]:
    with served(bench) as (url, key, _), httpx.Client(base_url=url, timeout=10) as web:
        order = {"apikey": key, "strategy": "bench", **ORDER}
        book = {"apikey": key}

        def place() -> None:
            reply = web.post("/api/v1/placeorder", json=order)
            if reply.status_code != 200:
                raise RuntimeError(reply.text)

        def positions() -> None:
            web.post("/api/v1/positionbook", json=book).raise_for_status()
        rest = interleaved({"REST placeorder": place, "REST positionbook": positions}, n=n)
    with live(bench, pace=False) as stack:
        gateway = stack.gateway
        gateway.instruments(bench.id)
        direct = interleaved({
            "direct Gateway.place_order": lambda: gateway.place_order(bench.id, ORDER),
            "direct Gateway.fetch_positions": lambda: gateway.fetch_positions(bench.id)}, n=n)
    rows = {name: stats.as_dict() for name, stats in {**rest, **direct}.items()}
    return {"rows": rows,
            "placeorder_overhead_ms": rows["REST placeorder"]["median_ms"]
            - rows["direct Gateway.place_order"]["median_ms"],
            "positionbook_overhead_ms": rows["REST positionbook"]["median_ms"]
            - rows["direct Gateway.fetch_positions"]["median_ms"]}


def _drive(web: httpx.Client, body: dict[str, Any], rate: float, seconds: float,
           workers: int = 12) -> dict[str, Any]:
    """Open-loop load: request i is due at i/rate; ``workers`` threads send them."""
    total = int(rate * seconds)
    errors, lock, stats, next_i = [0], threading.Lock(), Stats(), [0]
    start = time.perf_counter()

    def worker() -> None:
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= total:
                return
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            t0 = time.perf_counter()
            try:
                ok = web.post("/api/v1/placeorder", json=body).status_code == 200
            except httpx.HTTPError:
                ok = False
            took = time.perf_counter() - t0
            with lock:
                stats.samples.append(took)
                if not ok:
                    errors[0] += 1
    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return {"target_per_s": rate, "sent": total, "errors": errors[0],
            "achieved_per_s": total / elapsed, "p50_ms": stats.median * 1e3,
            "p99_ms": stats.p99 * 1e3}


def sustained(bench: BrokerBench, seconds: float = 60.0,
              rates: tuple[int, ...] = (50, 100, 200, 300, 400)) -> dict[str, Any]:
    with served(bench) as (url, key, pid), httpx.Client(
            base_url=url, timeout=10, limits=httpx.Limits(max_connections=32)) as web:
        body = {"apikey": key, "strategy": "bench", **ORDER}
        probes = []
        best = rates[0]
        for rate in rates:
            probe = _drive(web, body, rate, 5)
            probes.append(probe)
            if probe["errors"] or probe["achieved_per_s"] < 0.97 * rate:
                break
            best = rate
        before = _rss_mb(pid)
        run = _drive(web, body, best, seconds)
        after = _rss_mb(pid)
    return {"probes": probes, "sustained": run, "rss_mb_before": before,
            "rss_mb_after": after}
