"""``openalgo demo``: every installed broker, end to end, on embedded simulators.

Starts each plugin's simulator and the REST gateway on loopback ports, logs in
to each broker through the gateway's login pages as a user would, places a
market order, a limit order and one the broker rejects through ``/api/v1``,
prints each broker's positions, and exits 0. Needs no account and no internet.
"""

from __future__ import annotations

import re
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import httpx

from .errors import OpenAlgoError
from .gateway import Gateway
from .models import LoginChallenge
from .registry import Registry
from .sessions import MemorySessionStore
from .testing.simulator import SimulatorBase, generate_credential
from .testing.transport import ServerThread

__all__ = ["run_demo"]


def _pick(sim: SimulatorBase) -> tuple[str, str, Any]:
    """A liquid cash equity from the simulator's universe."""
    listing = next(row for row in sim.listings if row.symbol == "SBIN" and row.exchange == "NSE")
    return listing.symbol, listing.exchange, listing


def _login(web: httpx.Client, gateway: Gateway, broker: str, sim: SimulatorBase) -> str:
    """Log in through the gateway's pages: unattended, or by filling the code form.
    (No installed broker logs in by redirect yet; such a login is reported as failed.)"""
    response = web.get(f"/{broker}/login")
    if response.status_code == 303 and response.headers["location"].startswith("/"):
        return "unattended (TOTP computed from the stored secret)"
    if response.status_code == 200 and "<form" in response.text:
        state = re.search(r'name="state" value="([^"]+)"', response.text)
        fields = re.findall(r'<input name="([a-z_]+)"', response.text)
        if state is None or not fields:
            raise RuntimeError(f"{broker}: unexpected login form")
        challenge = gateway.pending_challenge(broker, state.group(1))
        assert isinstance(challenge, LoginChallenge)
        answers = sim.demo_login_params(challenge)
        done = web.post(f"/{broker}/callback",
                        data={"state": state.group(1), **{f: answers[f] for f in fields}})
        if done.status_code != 200:
            raise RuntimeError(f"{broker}: login form refused: {done.text[:200]}")
        return "through the code form"
    raise RuntimeError(f"{broker}: login failed: HTTP {response.status_code} {response.text[:200]}")


def run_demo(out: TextIO, *, registry: Registry | None = None,
             table: Callable[[list[dict[str, Any]]], str]) -> int:
    """Run the demo; returns the exit status (0 when every broker behaved)."""
    from .server.app import create_app

    registry = registry or Registry()
    brokers = [r for r in registry.load_all() if r.status == "ok"]
    if not brokers:
        out.write("no working broker plugin installed; pip install ./plugins/openalgo-angel\n")
        return 1
    env: dict[str, str] = {"OPENALGO_API_KEY": secrets.token_hex(16)}
    sims: dict[str, SimulatorBase] = {}
    servers: list[ServerThread] = []
    failures = 0
    with tempfile.TemporaryDirectory(prefix="openalgo-demo-") as tmp:
        env["OPENALGO_HOME"] = tmp
        try:
            for record in brokers:
                assert record.info is not None
                prefix = f"OPENALGO_{record.id.upper()}_"
                for spec in record.info.credentials:
                    env[prefix + spec.name] = generate_credential(spec.name)
                sim = registry.call(record.id, "broker_simulator", environ=env)
                server = ServerThread(sim.app).start()
                servers.append(server)
                sims[record.id] = sim
                env[prefix + "BASE_URL"] = server.url
                out.write(f"{record.id:<10} simulator on {server.url}\n")
            gateway = Gateway(registry=registry, environ=env, session_store=MemorySessionStore(),
                              cache_dir=Path(tmp) / "cache")
            web_server = ServerThread(create_app(gateway, environ=env)).start()
            servers.append(web_server)
            out.write(f"{'gateway':<10} REST API on {web_server.url}/api/v1 "
                      f"(dashboard {web_server.url}/)\n\n")
            with httpx.Client(base_url=web_server.url, timeout=30) as web:
                for record in brokers:
                    failures += _demo_broker(web, gateway, record.id, sims[record.id], env,
                                             out, table)
        finally:
            for server in reversed(servers):
                server.stop()
    out.write("demo finished: all brokers behaved as expected\n" if not failures
              else f"demo finished with {failures} unexpected result(s)\n")
    return 0 if not failures else 1


def _demo_broker(web: httpx.Client, gateway: Gateway, broker: str, sim: SimulatorBase,
                 env: dict[str, str], out: TextIO,
                 table: Callable[[list[dict[str, Any]]], str]) -> int:
    key = {"apikey": env["OPENALGO_API_KEY"], "broker": broker, "strategy": "demo"}
    failures = 0
    try:
        how = _login(web, gateway, broker, sim)
    except (OpenAlgoError, RuntimeError) as exc:
        out.write(f"[{broker}] login FAILED: {exc}\n")
        return 1
    out.write(f"[{broker}] logged in {how}\n")
    symbol, exchange, listing = _pick(sim)
    base = {**key, "symbol": symbol, "exchange": exchange, "product": "MIS"}
    limit_price = str(listing.price - listing.tick_size * 20)
    steps = [
        ("market BUY 10", {**base, "action": "BUY", "quantity": 10}),
        ("limit BUY 5 @ " + limit_price, {**base, "action": "BUY", "quantity": 5,
                                          "pricetype": "LIMIT", "price": limit_price}),
        ("market SELL 4", {**base, "action": "SELL", "quantity": 4}),
    ]
    for label, body in steps:
        reply = web.post("/api/v1/placeorder", json=body).json()
        ok = reply.get("status") == "success"
        failures += not ok
        out.write(f"[{broker}] {label:<22} -> {reply.get('orderid') or reply.get('message')}\n")
    sim.faults.reject_orders = 1  # the broker refuses the next order (e.g. an RMS block)
    reply = web.post("/api/v1/placeorder", json={**base, "action": "BUY", "quantity": 1})
    rejected = reply.status_code == 400 and reply.json().get("status") == "error"
    failures += not rejected
    out.write(f"[{broker}] {'an order it refuses':<22} -> HTTP {reply.status_code}: "
              f"{reply.json().get('message')}\n")
    book = web.post("/api/v1/positionbook", json=key).json()
    if book.get("status") != "success":
        out.write(f"[{broker}] positionbook FAILED: {book.get('message')}\n")
        return failures + 1
    out.write(f"\n{broker} positions:\n{table(book['data'])}\n\n")
    return failures
