"""The base every broker simulator builds on.

A simulator is an ASGI app (Starlette) that speaks one broker's real wire
protocol. This base gives it: credentials read from the same
``OPENALGO_<ID>_<FIELD>`` variables the plugin reads (missing ones generated
and printed once), TOTP checking, session tokens, an in-memory order book
with deterministic market fills, positions built from fills, a realistic
instrument universe, fault injection and control endpoints under ``/_sim/``:

====================  ===========================================================
``GET  /_sim/orders``  every order received (raw body, status, reason)
``GET  /_sim/stats``   requests, orders and refusals counted
``POST /_sim/reset``   empty the book and clear faults
``POST /_sim/expire``  expire every session
``GET|POST /_sim/faults``  read or set faults (JSON, see :class:`Faults`)
====================  ===========================================================

A subclass sets ``broker``, ``credential_fields`` and ``order_paths`` and
implements :meth:`SimulatorBase.routes` and
:meth:`SimulatorBase.rate_limited_response`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import os
import random
import secrets
import string
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar, Literal

import anyio
import pyotp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from .transport import ConnectionDropped
from .universe import Listing, universe

__all__ = ["Faults", "OrderBook", "PositionRow", "SimOrder", "SimulatorBase",
           "generate_credential"]

_printed: set[str] = set()


@dataclass
class Faults:
    """What goes wrong, and how often. Counters (``drop_after_accept``,
    ``malformed``) apply to the next N matching requests."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    rate_limit_per_second: int = 0
    drop_after_accept: int = 0
    stall_after_accept_ms: float = 0.0
    malformed: int = 0
    rate_limit_next: int = 0
    reject_orders: int = 0
    scope: Literal["all", "orders", "reads"] = "all"


@dataclass
class SimOrder:
    order_id: str
    exchange: str
    symbol: str
    token: str
    side: str
    quantity: int
    pricetype: str
    product: str
    price: Decimal
    trigger_price: Decimal
    disclosed_quantity: int = 0
    tag: str = ""
    status: str = "open"
    reason: str = ""
    filled: int = 0
    average_price: Decimal = Decimal(0)
    created_at: dt.datetime = field(default_factory=dt.datetime.now)
    raw: Any = None

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key, value in data.items():
            if isinstance(value, Decimal):
                data[key] = str(value)
            elif isinstance(value, dt.datetime):
                data[key] = value.isoformat()
        return data


@dataclass
class PositionRow:
    exchange: str
    token: str
    symbol: str
    product: str
    ltp: Decimal
    buy_qty: int = 0
    buy_value: Decimal = Decimal(0)
    sell_qty: int = 0
    sell_value: Decimal = Decimal(0)

    @property
    def net(self) -> int:
        return self.buy_qty - self.sell_qty

    @property
    def buy_avg(self) -> Decimal:
        return self.buy_value / self.buy_qty if self.buy_qty else Decimal(0)

    @property
    def sell_avg(self) -> Decimal:
        return self.sell_value / self.sell_qty if self.sell_qty else Decimal(0)

    @property
    def average_price(self) -> Decimal:
        """Average of the open side (0 when flat)."""
        if self.net > 0:
            return self.buy_avg
        if self.net < 0:
            return self.sell_avg
        return Decimal(0)

    @property
    def realised(self) -> Decimal:
        closed = min(self.buy_qty, self.sell_qty)
        return ((self.sell_avg - self.buy_avg) * closed).quantize(Decimal("0.01"))

    @property
    def unrealised(self) -> Decimal:
        return ((self.ltp - self.average_price) * self.net).quantize(Decimal("0.01"))

    @property
    def pnl(self) -> Decimal:
        return self.realised + self.unrealised


class OrderBook:
    """Orders and fills. Market orders fill at once at the listing's price; a
    marketable limit fills at that price; other limits rest; stops wait."""

    def __init__(self) -> None:
        self.orders: dict[str, SimOrder] = {}
        self._lock = threading.Lock()
        self._seq = 0

    def next_id(self, prefix: str = "") -> str:
        with self._lock:
            self._seq += 1
            return prefix + f"{dt.date.today():%y%m%d}{self._seq:09d}"

    def submit(self, order: SimOrder, price: Decimal, *,
               margin_limit: Decimal | None = None, margin_reason: str = "") -> SimOrder:
        """Book ``order`` against reference ``price``; may reject it for margin."""
        value = order.quantity * (order.price or price)
        if margin_limit is not None and value > margin_limit:
            order.status, order.reason = "rejected", margin_reason or "insufficient margin"
        elif order.pricetype == "MARKET" or (
                order.pricetype == "LIMIT" and (
                    (order.side == "BUY" and order.price >= price)
                    or (order.side == "SELL" and order.price <= price))):
            order.status, order.filled, order.average_price = "complete", order.quantity, price
        elif order.pricetype in ("SL", "SL-M"):
            order.status = "trigger pending"
        else:
            order.status = "open"
        with self._lock:
            self.orders[order.order_id] = order
        return order

    def reject(self, order: SimOrder, reason: str) -> SimOrder:
        """Book ``order`` as rejected (an RMS refusal after the broker accepted it)."""
        order.status, order.reason = "rejected", reason
        with self._lock:
            self.orders[order.order_id] = order
        return order

    def cancel(self, order_id: str) -> SimOrder | None:
        with self._lock:
            order = self.orders.get(order_id)
            if order is None or order.status not in ("open", "trigger pending"):
                return None
            order.status = "cancelled"
            return order

    def positions(self, mark: Mapping[str, Decimal]) -> list[PositionRow]:
        """Positions from complete orders, keyed by (exchange, token, product)."""
        rows: dict[tuple[str, str, str], PositionRow] = {}
        with self._lock:
            filled = [o for o in self.orders.values() if o.status == "complete"]
        for o in filled:
            key = (o.exchange, o.token, o.product)
            row = rows.get(key)
            if row is None:
                row = rows[key] = PositionRow(o.exchange, o.token, o.symbol, o.product,
                                              mark.get(o.token, o.average_price))
            if o.side == "BUY":
                row.buy_qty += o.filled
                row.buy_value += o.average_price * o.filled
            else:
                row.sell_qty += o.filled
                row.sell_value += o.average_price * o.filled
        return list(rows.values())


def generate_credential(field: str) -> str:
    """A plausible random value for a credential field (TOTP secrets are base32)."""
    if field == "TOTP_SECRET":
        return pyotp.random_base32()
    if field in ("PIN", "PASSWORD"):
        return "".join(secrets.choice(string.digits) for _ in range(4 if field == "PIN" else 8))
    if field == "CLIENT_ID":
        return "S" + "".join(secrets.choice(string.digits) for _ in range(6))
    if field == "MOBILE":
        return "9" + "".join(secrets.choice(string.digits) for _ in range(9))
    return secrets.token_hex(12)


class SimulatorBase:
    """Subclass per broker; ``app`` is the ASGI application to serve or mount."""

    broker: ClassVar[str]
    credential_fields: ClassVar[tuple[str, ...]]
    order_paths: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *, environ: Mapping[str, str] | None = None, seed: int = 7,
                 margin_limit: Decimal | None = Decimal(5_000_000),
                 session_hours: float = 24.0) -> None:
        env = os.environ if environ is None else environ
        self.credentials: dict[str, str] = {}
        generated = []
        for name in self.credential_fields:
            var = f"OPENALGO_{self.broker.upper()}_{name}"
            value = (env.get(var) or "").strip().strip("'\"")
            if not value:
                value = generate_credential(name)
                generated.append(f"{var}={value}")
            self.credentials[name] = value
        key = f"{self.broker}:{','.join(generated)}"
        if generated and key not in _printed:
            _printed.add(key)
            print(f"[{self.broker} simulator] generated credentials: " + " ".join(generated),
                  file=sys.stderr)
        self.listings = universe()
        self.by_token: dict[str, Listing] = {row.token: row for row in self.listings}
        self.book = OrderBook()
        self.faults = Faults()
        self.margin_limit = margin_limit
        self.session_hours = session_hours
        self.stats = {"requests": 0, "orders": 0, "refused": 0}
        self._sessions: dict[str, tuple[str, float]] = {}
        self._rng = random.Random(seed)
        self._order_times: deque[float] = deque()
        self._lock = threading.Lock()
        self.app = self._build()

    # -- for subclasses ---------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        """The broker's real endpoints."""
        raise NotImplementedError

    def rate_limited_response(self) -> Response:
        """The broker's own reply when rate limited."""
        return JSONResponse({"message": "rate limit exceeded"}, status_code=429)

    def order_rejected_response(self) -> Response:
        """The broker's own synchronous refusal of an order (fault ``reject_orders``)."""
        return JSONResponse({"message": "order rejected"}, status_code=400)

    def server_error_response(self) -> Response:
        return PlainTextResponse("Internal Server Error", status_code=503)

    def reset(self) -> None:
        """Empty the book, clear faults and counters (``POST /_sim/reset``). Subclasses
        with state of their own extend it and call ``super().reset()``."""
        self.book = OrderBook()
        self.faults = Faults()
        self.stats = {"requests": 0, "orders": 0, "refused": 0}
        self._order_times.clear()

    def verify_totp(self, code: object) -> bool:
        secret = self.credentials.get("TOTP_SECRET", "")
        return isinstance(code, str) and bool(secret) and pyotp.TOTP(secret).verify(
            code, valid_window=1)

    def demo_login_params(self, challenge: Any) -> dict[str, str]:
        """What a user would type to answer ``challenge`` (default: the current TOTP)."""
        return {field: pyotp.TOTP(self.credentials["TOTP_SECRET"]).now()
                for field in challenge.fields}

    def issue_token(self, user_id: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[token] = (user_id, time.time() + self.session_hours * 3600)
        return token

    def user_for(self, token: str | None) -> str | None:
        """The user a live token belongs to, or None (unknown or expired)."""
        if not token:
            return None
        with self._lock:
            entry = self._sessions.get(token)
        if entry is None or entry[1] <= time.time():
            return None
        return entry[0]

    def expire_sessions(self) -> None:
        with self._lock:
            self._sessions = {t: (u, 0.0) for t, (u, _) in self._sessions.items()}

    def price(self, token: str) -> Decimal:
        """Deterministic fill price of an instrument."""
        listing = self.by_token.get(token)
        return listing.price if listing else Decimal("100")

    def mark(self, token: str) -> Decimal:
        """Deterministic last price for positions: one percent above the fill price,
        rounded to the tick, so open positions show an unrealised P&L."""
        listing = self.by_token.get(token)
        if listing is None:
            return Decimal("101")
        raw = listing.price * Decimal("1.01")
        return (raw / listing.tick_size).to_integral_value() * listing.tick_size

    def marks(self) -> dict[str, Decimal]:
        return {row.token: self.mark(row.token) for row in self.listings}

    # -- plumbing ----------------------------------------------------------------
    def _control_routes(self) -> list[BaseRoute]:
        async def orders(request: Request) -> Response:
            return JSONResponse([o.as_json() for o in self.book.orders.values()])

        async def stats(request: Request) -> Response:
            return JSONResponse(self.stats)

        async def reset(request: Request) -> Response:
            self.reset()
            return JSONResponse({"ok": True})

        async def expire(request: Request) -> Response:
            self.expire_sessions()
            return JSONResponse({"ok": True})

        async def faults(request: Request) -> Response:
            if request.method == "POST":
                try:
                    changes = await request.json()
                    self.faults = dataclasses.replace(self.faults, **changes)
                except (TypeError, ValueError) as exc:
                    return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse(dataclasses.asdict(self.faults))

        return [Route("/_sim/orders", orders), Route("/_sim/stats", stats),
                Route("/_sim/reset", reset, methods=["POST"]),
                Route("/_sim/expire", expire, methods=["POST"]),
                Route("/_sim/faults", faults, methods=["GET", "POST"])]

    def _build(self) -> Any:
        routes = self._control_routes() + self.routes()
        # Plain paths with async endpoints are dispatched by a dict lookup; Starlette
        # routes the rest (path parameters, sync endpoints, mounts) and answers 404/405.
        exact = {route.path: route for route in routes
                 if isinstance(route, Route) and "{" not in route.path
                 and inspect.iscoroutinefunction(route.endpoint)}
        return _FaultMiddleware(Starlette(routes=routes), self, exact)

    def _over_rate(self) -> bool:
        limit = self.faults.rate_limit_per_second
        if not limit:
            return False
        now = time.monotonic()
        with self._lock:
            times = self._order_times
            while times and times[0] <= now - 1.0:
                times.popleft()
            if len(times) >= limit:
                return True
            times.append(now)
            return False

    def _roll(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def _take(self, counter: str) -> bool:
        if not getattr(self.faults, counter):
            return False
        with self._lock:
            left = getattr(self.faults, counter)
            if left > 0:
                setattr(self.faults, counter, left - 1)
                return True
            return False


class _FaultMiddleware:
    def __init__(self, app: Any, sim: SimulatorBase, exact: Mapping[str, Route]) -> None:
        self.app = app
        self.sim = sim
        self.exact = exact

    async def dispatch(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        route = self.exact.get(scope["path"]) if scope["type"] == "http" else None
        if route is None or scope["method"] not in (route.methods or ()):
            await self.app(scope, receive, send)
            return
        response = await route.endpoint(Request(scope, receive))
        await response(scope, receive, send)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim/"):
            await self.dispatch(scope, receive, send)
            return
        sim, faults = self.sim, self.sim.faults
        is_order = scope["path"] in sim.order_paths and scope["method"] == "POST"
        applies = faults.scope == "all" or (faults.scope == "orders") == is_order
        sim.stats["requests"] += 1
        if faults.latency_ms:
            await anyio.sleep(faults.latency_ms / 1000)
        if ((is_order and sim._over_rate()) or (applies and sim._roll(faults.rate_limit_rate))
                or (applies and sim._take("rate_limit_next"))):
            sim.stats["refused"] += 1
            await sim.rate_limited_response()(scope, receive, send)
            return
        if applies and sim._roll(faults.error_rate):
            await sim.server_error_response()(scope, receive, send)
            return
        if is_order and sim._take("reject_orders"):
            await sim.order_rejected_response()(scope, receive, send)
            return
        if is_order:
            sim.stats["orders"] += 1
        if not ((is_order and (faults.drop_after_accept or faults.stall_after_accept_ms))
                or (applies and faults.malformed)):
            await self.dispatch(scope, receive, send)  # no fault acts on the reply
            return
        start: dict[str, Any] = {}
        body: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                body.append(message.get("body", b""))

        await self.dispatch(scope, receive, capture)
        if is_order and sim._take("drop_after_accept"):
            raise ConnectionDropped
        if is_order and faults.stall_after_accept_ms:
            await anyio.sleep(faults.stall_after_accept_ms / 1000)
        content = b"".join(body)
        if applies and sim._take("malformed"):
            content = b'{"status": tru'
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 500),
                    "headers": headers})
        await send({"type": "http.response.body", "body": content})
