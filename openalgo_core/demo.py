"""``openalgo demo``: every installed broker, end to end, on embedded simulators.

Starts each plugin's simulator and the REST gateway on loopback ports (the
testing kit's wiring), logs in to each broker through the gateway's login pages
as a user would (unattended, by typing the code, or through the broker's own
login page and its redirect back), places a market order, a limit order and one
the broker rejects through ``/api/v1``, prints each broker's positions, then lives the
rest of the day through the :class:`Gateway`: the order book (the resting limit, its
tag), a modify, the market moving through it (a fill), a stop-loss cancelled, trades,
funds, holdings and the order journal. Exits 0 when every step behaved. Needs no
account and no internet.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import Any, TextIO

import httpx

from ._format import number
from .errors import OpenAlgoError
from .gateway import Gateway
from .http import request_meta
from .models import LoginChallenge
from .registry import Registry
from .testing.browser import LoginPageError, start_login, submit_login_page
from .testing.simulator import SimulatorBase
from .testing.transport import ServerThread, free_port
from .testing.universe import Listing
from .testing.wiring import Harness, wire_all

__all__ = ["run_demo"]


def _pick(sim: SimulatorBase) -> Listing:
    """A liquid cash equity from the simulator's universe."""
    return next(row for row in sim.listings if row.symbol == "SBIN" and row.exchange == "NSE")


def _login(web: httpx.Client, browser: httpx.Client, harness: Harness) -> str:
    """Log in through the gateway's pages as a user would; say how it went."""
    broker, gateway, sim = harness.broker, harness.gateway, harness.sim
    kinds: list[str] = []
    hooks = gateway.client(broker).http.event_hooks["request"]
    hooks.append(record := lambda request: kinds.append(request_meta(request).kind))
    try:
        response = start_login(web, broker)
    finally:
        hooks.remove(record)
    where = response.headers.get("location", "")
    if response.status_code == 303 and where.startswith("/"):
        if "login" in kinds:
            return "unattended (TOTP computed from the stored secret)"
        return "with the stored access token, checked with the broker (as pasted in .env)"
    if response.status_code == 303:  # to the broker's own login page
        challenge = LoginChallenge(broker=broker, kind="url", prompt="", url=where)
        back = submit_login_page(browser, where, sim.demo_login_params(challenge))
        done = web.get(str(back))
        if done.status_code != 200:
            raise RuntimeError(f"{broker}: the redirect back was refused: {done.text[:200]}")
        return "through the broker's login page, redirected back with a token"
    if response.status_code == 200 and "<form" in response.text:
        return _code_form(web, gateway, broker, sim, response.text)
    raise RuntimeError(f"{broker}: login failed: HTTP {response.status_code} {response.text[:200]}")


def _code_form(web: httpx.Client, gateway: Gateway, broker: str, sim: SimulatorBase,
               page: str) -> str:
    state = re.search(r'name="state" value="([^"]+)"', page)
    fields = re.findall(r'<input name="([a-z_]+)"', page)
    if state is None or not fields:
        raise RuntimeError(f"{broker}: unexpected login form")
    challenge = gateway.pending_challenge(broker, state.group(1))
    if challenge is None:
        raise RuntimeError(f"{broker}: the login form's state is not pending")
    answers = sim.demo_login_params(challenge)
    done = web.post(f"/{broker}/callback",
                    data={"state": state.group(1), **{f: answers[f] for f in fields}})
    if done.status_code != 200:
        raise RuntimeError(f"{broker}: login form refused: {done.text[:200]}")
    return "through the code form"


def run_demo(out: TextIO, *, registry: Registry | None = None,
             table: Callable[[list[dict[str, Any]]], str]) -> int:
    """Run the demo; returns the exit status (0 when every broker behaved)."""
    from .server.app import create_app

    registry = registry or Registry()
    brokers = [r.id for r in registry.load_all() if r.status == "ok"]
    if not brokers:
        out.write("no working broker plugin installed; pip install ./plugins/openalgo-angel\n")
        return 1
    port = free_port()
    web_url = f"http://127.0.0.1:{port}"
    failures = 0
    with wire_all(registry, brokers, mode="http", callback_base=web_url,
                  sleep=time.sleep) as harnesses:
        for broker, harness in harnesses.items():
            out.write(f"{broker:<10} simulator on {harness.url}\n")
        first = harnesses[brokers[0]]
        env = first.environ
        env["OPENALGO_API_KEY"] = secrets.token_hex(16)
        env["OPENALGO_ORDER_RATE_LIMIT"] = "1000"  # one key trades on every broker at once
        with ServerThread(create_app(first.gateway, environ=env), port=port).running(), \
                httpx.Client(base_url=web_url, timeout=30) as web, \
                httpx.Client(timeout=30) as browser:
            out.write(f"{'gateway':<10} REST API on {web_url}/api/v1 (dashboard {web_url}/)\n\n")
            for broker in brokers:
                failures += _demo_broker(web, browser, harnesses[broker], env["OPENALGO_API_KEY"],
                                         out, table)
    out.write("demo finished: all brokers behaved as expected\n" if not failures
              else f"demo finished with {failures} unexpected result(s)\n")
    return 0 if not failures else 1


def _demo_broker(web: httpx.Client, browser: httpx.Client, harness: Harness, api_key: str,
                 out: TextIO, table: Callable[[list[dict[str, Any]]], str]) -> int:
    broker, sim = harness.broker, harness.sim
    key = {"apikey": api_key, "broker": broker, "strategy": "demo"}
    failures = 0
    try:
        how = _login(web, browser, harness)
    except (OpenAlgoError, RuntimeError, LoginPageError) as exc:
        out.write(f"[{broker}] login FAILED: {exc}\n")
        return 1
    out.write(f"[{broker}] logged in {how}\n")
    listing = _pick(sim)
    base = {**key, "symbol": listing.symbol, "exchange": listing.exchange, "product": "MIS"}
    limit_price = number(listing.price - listing.tick_size * 20)
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
    harness.fault(reject_orders=1)  # the broker refuses the next order (e.g. an RMS block)
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
    try:
        _rest_of_the_day(harness, listing, out)
    except (OpenAlgoError, RuntimeError) as exc:
        out.write(f"[{broker}] the rest of the day FAILED: {exc}\n")
        return failures + 1
    return failures


def _rest_of_the_day(harness: Harness, listing: Listing, out: TextIO) -> None:
    """Order book, modify, a fill as the market moves, cancel, trades, funds, holdings,
    the journal: what a trader does after the first orders, through the Gateway."""
    broker, gw, sim = harness.broker, harness.gateway, harness.sim

    def say(text: str) -> None:
        out.write(f"[{broker}] {text}\n")

    resting = [o for o in gw.fetch_order_book(broker) if o.is_open]
    if len(resting) != 1:
        raise RuntimeError(f"expected the one resting limit order, the book has {resting}")
    limit = resting[0]
    say(f"order book: {len(gw.fetch_order_book(broker))} orders; {limit.order_id} is"
        f" {limit.status} {limit.action} {limit.quantity} @ {number(limit.price)}"
        f" (tag {limit.tag})")
    lower = limit.price - listing.tick_size * 10
    gw.modify_order(broker, limit.order_id, quantity=limit.quantity + 1, price=lower)
    say(f"modified {limit.order_id}: {limit.quantity + 1} @ {number(lower)}")
    sim.move(listing.token, lower - listing.tick_size)
    filled = gw.fetch_order(broker, limit.order_id)
    if filled.status != "complete":
        raise RuntimeError(f"the market moved through {number(lower)} but the order is"
                           f" {filled.status}")
    say(f"the market fell to {number(lower - listing.tick_size)}: {limit.order_id} is"
        f" complete, {filled.filled_quantity} @ {number(filled.average_price)}")
    market = sim.price(listing.token)
    stop = gw.place_order(broker, {"symbol": listing.symbol, "exchange": listing.exchange,
                                   "action": "SELL", "quantity": 1, "product": "MIS",
                                   "pricetype": "SL-M",
                                   "trigger_price": market - listing.tick_size * 40})
    gw.cancel_order(broker, stop.order_id)
    say(f"stop-loss {stop.order_id} placed, then cancelled:"
        f" {gw.fetch_order(broker, stop.order_id).status}")
    trades = gw.fetch_trade_book(broker)
    funds = gw.fetch_funds(broker)
    say(f"{len(trades)} trades; funds: available {number(funds.available_cash)}, margin"
        f" used {number(funds.used_margin)}, realised {number(funds.realised_pnl)},"
        f" unrealised {number(funds.unrealised_pnl)}")
    try:
        holdings = gw.fetch_holdings(broker)
        say("holdings: " + (", ".join(
            f"{h.symbol} {h.quantity} ({'+' if h.pnl_percent >= 0 else ''}"
            f"{number(h.pnl_percent)}%)" for h in holdings) or "none"))
    except OpenAlgoError as exc:  # a broker without holdings says so
        say(f"holdings: {exc}")
    journal = gw.journal_entries(broker)
    states: dict[str, int] = {}
    for entry in journal:
        states[entry.state] = states.get(entry.state, 0) + 1
    say(f"journal: {len(journal)} orders today ("
        + ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        + f"); unresolved: {len(gw.journal_entries(broker, unresolved=True))}\n")
