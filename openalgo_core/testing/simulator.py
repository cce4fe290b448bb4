"""The base every broker simulator builds on.

A simulator is an ASGI app (Starlette) that speaks one broker's real wire
protocol. This base gives it what every broker repeats: credentials read from
the same ``OPENALGO_<ID>_<FIELD>`` variables the plugin reads (missing ones
generated and printed once), TOTP checking, session tokens, a market
(:class:`~openalgo_core.testing.book.OrderBook`: market fills, resting limits
and stops that fill when :meth:`SimulatorBase.move` crosses them, modify, cancel,
a trade book, positions), a cash balance with the margin orders and positions
use (RMS rejections for lot size and margin), long-term holdings, a realistic
instrument universe served as the broker's master file, fault injection
(:class:`~openalgo_core.testing.faults.Faults`) and control endpoints under ``/_sim/``:

========================  =======================================================
``GET  /_sim/orders``      every order received (raw body, status, reason)
``GET  /_sim/stats``       requests, orders and refusals counted
``GET|POST /_sim/quotes``  read the moved prices; POST ``{token: price}`` (JSON, a
                           price as a string or a number) moves each market
                           (:meth:`SimulatorBase.move`) and answers the ids of the
                           orders that triggered or filled: ``{"changed": [...]}``
``POST /_sim/reset``       empty the book, forget quotes, clear faults
``POST /_sim/expire``      expire every session
``GET|POST /_sim/faults``  read or set faults (JSON, see :class:`Faults`)
========================  =======================================================

A subclass sets ``broker``, ``credential_fields`` and ``order_paths``, implements
:meth:`SimulatorBase.routes`, and states its broker's own replies
(:meth:`~SimulatorBase.rate_limited_response`, ...). It never imports its
plugin's mapping: it states the broker's behaviour on its own, so a wrong mapping
in the plugin cannot be mirrored here. Endpoints call :meth:`~SimulatorBase.book_order`,
:meth:`~SimulatorBase.book_modify`, :meth:`~SimulatorBase.book_cancel`,
:meth:`~SimulatorBase.funds` and :meth:`~SimulatorBase.holdings`, and render
``book.orders``, ``book.trades`` and ``book.positions(marks())`` in the broker's shapes.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import random
import secrets
import string
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, ClassVar

import pyotp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ..config import env_var
from .book import OrderBook, SimFunds, SimHolding, SimOrder, SimRefusal
from .faults import FaultMiddleware, Faults
from .parsing import decimal_value, json_object
from .universe import Listing, big_universe, universe

__all__ = ["SimulatorBase", "generate_credential"]

_printed: set[str] = set()
#: Where OpenAlgo's login callbacks live by default (``REDIRECT_URL`` is built on it).
DEFAULT_CALLBACK_BASE = "http://127.0.0.1:5000"


def generate_credential(field: str, *, broker: str = "") -> str:
    """A plausible random value for a credential field: base32 for a TOTP secret,
    digits for a PIN, MPIN, password or mobile number, a client code for ``CLIENT_ID``
    and ``UCC``, a UUID for ``ACCESS_TOKEN``, OpenAlgo's callback URL for
    ``REDIRECT_URL``, else a random token."""
    if field == "TOTP_SECRET":
        return pyotp.random_base32()
    if field in ("PIN", "MPIN", "PASSWORD"):
        length = {"PIN": 4, "MPIN": 6, "PASSWORD": 8}[field]
        return "".join(secrets.choice(string.digits) for _ in range(length))
    if field == "UCC":
        return "".join(secrets.choice(string.ascii_uppercase) for _ in range(2)) + \
            "".join(secrets.choice(string.digits) for _ in range(3))
    if field == "ACCESS_TOKEN":
        return str(uuid.uuid4())
    if field == "CLIENT_ID":
        return "S" + "".join(secrets.choice(string.digits) for _ in range(6))
    if field == "MOBILE":
        return "9" + "".join(secrets.choice(string.digits) for _ in range(9))
    if field == "REDIRECT_URL":
        return f"{DEFAULT_CALLBACK_BASE}/{broker}/callback"
    return secrets.token_hex(12)


class SimulatorBase:
    """Subclass per broker; ``app`` is the ASGI application to serve or mount.

    Args:
        environ: the credentials it accepts (``OPENALGO_<ID>_<FIELD>``; default
            ``os.environ``); missing ones are generated and printed once.
        seed: seeds the random faults.
        margin_limit: the account's starting cash: an order needing more margin than
            is left is booked "rejected" (None: no margin check, and no cash).
        session_hours: how long an issued token lives.
        master_size: if set, the master file has this many rows (``big_universe``,
            for benchmarks); else it lists :attr:`listings`.
    """

    broker: ClassVar[str]
    credential_fields: ClassVar[tuple[str, ...]]
    order_paths: ClassVar[frozenset[str]] = frozenset()
    #: the exchanges the broker lists (None: every exchange of the universe)
    exchanges: ClassVar[frozenset[str] | None] = None
    #: where the base serves :meth:`master` (None: the subclass routes it itself)
    master_path: ClassVar[str | None] = None
    master_media_type: ClassVar[str] = "application/octet-stream"
    master_size: int | None = None
    #: (exchange, symbol, quantity, average price) of the long-term holdings the account
    #: has; those on exchanges the broker does not list are left out
    holding_seeds: tuple[tuple[str, str, int, Decimal], ...] = (
        ("NSE", "INFY", 10, Decimal("850.00")), ("NSE", "ITC", 25, Decimal("2810.40")),
        ("BSE", "TCS", 4, Decimal("2300.00")), ("NSE", "TATAMOTORS", 40, Decimal("612.35")))
    #: collateral (pledged holdings) the broker lends against, besides the cash
    collateral: Decimal = Decimal(0)

    def __init__(self, *, environ: Mapping[str, str] | None = None, seed: int = 7,
                 margin_limit: Decimal | None = Decimal(5_000_000),
                 session_hours: float = 24.0, master_size: int | None = None) -> None:
        env = os.environ if environ is None else environ
        self.credentials: dict[str, str] = {}
        generated = []
        for name in self.credential_fields:
            var = env_var(self.broker, name)
            value = (env.get(var) or "").strip().strip("'\"")
            if not value:
                value = generate_credential(name, broker=self.broker)
                generated.append(f"{var}={value}")
            self.credentials[name] = value
        key = f"{self.broker}:{','.join(generated)}"
        if generated and key not in _printed:
            _printed.add(key)
            print(f"[{self.broker} simulator] generated credentials: " + " ".join(generated),
                  file=sys.stderr)
        if master_size is not None:
            self.master_size = master_size
        self.listings = [row for row in universe() if self._lists(row)]
        self.by_token: dict[str, Listing] = {row.token: row for row in self.listings}
        #: ``quotes[token] = price`` sets the price later fills and marks follow;
        #: :meth:`move` also matches the resting orders on it.
        self.quotes: dict[str, Decimal] = {}
        self.book = OrderBook()
        self.faults = Faults()
        self.margin_limit = margin_limit
        self.session_hours = session_hours
        self.stats = {"requests": 0, "orders": 0, "refused": 0}
        self._sessions: dict[str, tuple[str, float]] = {}
        self._rng = random.Random(seed)
        self._order_times: deque[float] = deque()
        self._lock = threading.Lock()
        #: held while the market acts (book, modify, cancel, move), so a margin check
        #: and the booking it allows are one step
        self._market = threading.RLock()
        self._rendered_master: bytes | None = None
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

    def render_master(self, listings: Iterable[Listing]) -> bytes:
        """``listings`` as the broker's master-contract file (its real format)."""
        raise NotImplementedError

    def lot_size_reason(self, order: SimOrder, lot_size: int) -> str:
        """The broker's text for an order not in whole lots (booked "rejected")."""
        return f"quantity {order.quantity} is not a multiple of the lot size {lot_size}"

    def margin_reason(self, order: SimOrder, required: Decimal, available: Decimal,
                      user: str) -> str:
        """The broker's text for an order needing more margin than is ``available``
        (booked "rejected"; a modify is refused with it)."""
        return f"insufficient margin: required {required:.2f}, available {available:.2f}"

    def demo_login_params(self, challenge: Any) -> dict[str, str]:
        """What a user would type to answer ``challenge``: for a field named after a
        credential (``pin``), its value; for any other (``code``), :meth:`user_code`.
        A broker logging in at its own web page answers that page's fields instead."""
        return {name: self.credentials.get(name.upper()) or self.user_code()
                for name in challenge.fields}

    def user_code(self) -> str:
        """The code a user would type now: the current TOTP (a broker that sends an
        OTP answers the last one it sent)."""
        return self.totp_now()

    def reset(self) -> None:
        """Empty the book (orders, trades, positions), forget quotes, clear faults and
        counters (``POST /_sim/reset``). Subclasses with state of their own extend it and
        call ``super().reset()``."""
        with self._market:
            self.book = OrderBook()
            self.quotes.clear()
        self.faults = Faults()
        self.stats = {"requests": 0, "orders": 0, "refused": 0}
        self._order_times.clear()

    # -- logins and sessions -------------------------------------------------------
    def totp_now(self) -> str:
        """The current code for the simulator's TOTP secret."""
        return pyotp.TOTP(self.credentials["TOTP_SECRET"]).now()

    def verify_totp(self, code: object) -> bool:
        secret = self.credentials.get("TOTP_SECRET", "")
        return isinstance(code, str) and bool(secret) and pyotp.TOTP(secret).verify(
            code, valid_window=1)

    def issue_token(self, user_id: str, *, token: str | None = None) -> str:
        """A session token for ``user_id``, live for ``session_hours``: a new random one, or
        ``token`` (one the user already holds, e.g. IndMoney's dashboard token, which the
        simulator reads from ``OPENALGO_INDMONEY_API_SECRET``)."""
        token = token or secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[token] = (user_id, time.time() + self.session_hours * 3600)
        return token

    def revoke_token(self, token: str) -> None:
        """End one session (a broker that keeps one token live revokes the last one)."""
        with self._lock:
            self._sessions.pop(token, None)

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

    # -- the market ----------------------------------------------------------------
    def price(self, token: str) -> Decimal:
        """Fill price: ``quotes[token]`` once moved, else the listing's deterministic price."""
        quote = self.quotes.get(token)
        if quote is not None:
            return quote
        listing = self.by_token.get(token)
        return listing.price if listing else Decimal("100")

    def mark(self, token: str) -> Decimal:
        """Last price for positions: ``quotes[token]`` once moved, else one percent above
        the fill price, rounded to the tick, so open positions show an unrealised P&L."""
        quote = self.quotes.get(token)
        if quote is not None:
            return quote
        listing = self.by_token.get(token)
        if listing is None:
            return Decimal("101")
        raw = listing.price * Decimal("1.01")
        return (raw / listing.tick_size).to_integral_value() * listing.tick_size

    def marks(self) -> dict[str, Decimal]:
        return {row.token: self.mark(row.token) for row in self.listings}

    def move(self, token: str, price: Decimal) -> list[SimOrder]:
        """The market in ``token`` trades at ``price``: later fills and marks follow it
        (``quotes[token]``), and the resting orders it reaches trigger or fill
        (:meth:`OrderBook.match`); the orders that changed.

        Raises:
            ValueError: an unknown token or a price that is not positive.
        """
        if token not in self.by_token or not price > 0:
            raise ValueError(f"cannot move {token!r} to {price}")
        with self._market:
            self.quotes[token] = price
            return self.book.match(token, price)

    def book_order(self, order: SimOrder, *, user: str = "") -> SimOrder:
        """Book an order the broker accepted, as its RMS would: not in whole lots, or
        needing more margin (:meth:`OrderBook.required_margin`) than is left
        (:meth:`funds`), it is booked "rejected" with the broker's reason; else it
        fills at :meth:`price`, rests or waits for its trigger (see :class:`OrderBook`)."""
        listing = self.by_token.get(order.token)
        lot = listing.lot_size if listing else 1
        if order.quantity % lot:
            return self.book.reject(order, self.lot_size_reason(order, lot))
        market = self.price(order.token)
        with self._market:
            if self.margin_limit is not None:
                required = self.book.required_margin(order, market)
                available = self._headroom()
                if required > available:
                    return self.book.reject(
                        order, self.margin_reason(order, required, available, user))
            return self.book.submit(order, market)

    def book_modify(self, order_id: str, *, quantity: int | None = None,
                    price: Decimal | None = None, trigger_price: Decimal | None = None,
                    pricetype: str | None = None, disclosed_quantity: int | None = None,
                    user: str = "") -> SimOrder:
        """Modify a live order (:meth:`OrderBook.modify`: it is matched again at
        :meth:`price`), unless the change needs more margin than is left.

        Raises:
            SimRefusal: ``unknown``, ``not open``, or ``margin`` (``reason``: the
                broker's :meth:`margin_reason`; the order is unchanged).
        """
        changes: dict[str, Any] = {
            "quantity": quantity, "price": price, "trigger_price": trigger_price,
            "pricetype": pricetype, "disclosed_quantity": disclosed_quantity}
        with self._market:
            order = self.book.live(order_id)
            market = self.price(order.token)
            if self.margin_limit is not None:
                changed = dataclasses.replace(
                    order, **{k: v for k, v in changes.items() if v is not None})
                required = self.book.required_margin(changed, market)
                available = self._headroom() + self.book.required_margin(
                    order, order.trigger_price or order.price)
                if required > available:
                    raise SimRefusal("margin", order_id, order, self.margin_reason(
                        changed, required, available, user))
            return self.book.modify(order_id, market, **changes)

    def book_cancel(self, order_id: str) -> SimOrder:
        """Cancel a live order.

        Raises:
            SimRefusal: ``unknown`` or ``not open``.
        """
        with self._market:
            return self.book.cancel(order_id)

    def funds(self) -> SimFunds:
        """The account now: cash (:attr:`margin_limit`), :attr:`collateral`, the margin
        the book uses, and the P&L of its positions at :meth:`mark`."""
        with self._market:
            rows = self.book.positions(self.marks())
            used = self.book.used_margin()
        cash = self.margin_limit or Decimal(0)
        realised = sum((row.realised for row in rows), Decimal(0))
        unrealised = sum((row.unrealised for row in rows), Decimal(0))
        return SimFunds(cash=cash, available=cash + realised - used,
                        collateral=self.collateral, used=used, realised=realised,
                        unrealised=unrealised)

    def holdings(self) -> list[SimHolding]:
        """The long-term holdings (:attr:`holding_seeds`), valued at :meth:`mark`."""
        listed = {(row.exchange, row.symbol): row for row in self.listings}
        return [SimHolding(exchange, listing.token, symbol, quantity, average,
                           self.mark(listing.token))
                for exchange, symbol, quantity, average in self.holding_seeds
                if (listing := listed.get((exchange, symbol))) is not None]

    def _headroom(self) -> Decimal:
        """What a new order may still use: available cash and collateral."""
        funds = self.funds()
        return funds.available + funds.collateral

    # -- the master file -------------------------------------------------------------
    def master_listings(self) -> Iterable[Listing]:
        """What the master file lists: ``master_size`` rows of ``big_universe``, else
        :attr:`listings`."""
        if not self.master_size:
            return self.listings
        return (row for row in big_universe(self.master_size) if self._lists(row))

    def _lists(self, listing: Listing) -> bool:
        return self.exchanges is None or listing.exchange in self.exchanges

    def master(self) -> bytes:
        """The master file, rendered once (:meth:`render_master`) and then reused."""
        if self._rendered_master is None:
            self._rendered_master = self.render_master(self.master_listings())
        return self._rendered_master

    async def serve_master(self, request: Request) -> Response:
        """An endpoint serving :meth:`master` (routed at ``master_path`` when set)."""
        return Response(self.master(), media_type=self.master_media_type)

    # -- plumbing ----------------------------------------------------------------
    def _control_routes(self) -> list[BaseRoute]:
        async def orders(request: Request) -> Response:
            return JSONResponse([o.as_json() for o in self.book.orders.values()])

        async def stats(request: Request) -> Response:
            return JSONResponse(self.stats)

        async def quotes(request: Request) -> Response:
            if request.method == "POST":
                body = await json_object(request)
                try:
                    if body is None:
                        raise ValueError("expected a JSON object of {token: price}")
                    moves = {token: decimal_value(price) for token, price in body.items()}
                    wrong = [t for t, p in moves.items() if t not in self.by_token or not p > 0]
                    if wrong:
                        raise ValueError(f"unknown tokens or prices that are not positive:"
                                         f" {wrong}")
                except ValueError as exc:
                    return JSONResponse({"error": str(exc)}, status_code=400)
                changed = [o.order_id for token, price in moves.items()
                           for o in self.move(token, price)]
                return JSONResponse({"changed": changed})
            return JSONResponse({token: str(price) for token, price in self.quotes.items()})

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
                    if not isinstance(changes, dict) or "mutate" in changes:
                        raise TypeError("expected a JSON object of faults (not mutate)")
                    self.faults = dataclasses.replace(self.faults, **changes)
                except (TypeError, ValueError) as exc:
                    return JSONResponse({"error": str(exc)}, status_code=400)
            return JSONResponse(self.faults.as_json())

        return [Route("/_sim/orders", orders), Route("/_sim/stats", stats),
                Route("/_sim/quotes", quotes, methods=["GET", "POST"]),
                Route("/_sim/reset", reset, methods=["POST"]),
                Route("/_sim/expire", expire, methods=["POST"]),
                Route("/_sim/faults", faults, methods=["GET", "POST"])]

    def _build(self) -> Any:
        routes = self._control_routes() + self.routes()
        if self.master_path is not None:
            routes.append(Route(self.master_path, self.serve_master, methods=["GET"]))
        exact = {route.path: route for route in routes
                 if isinstance(route, Route) and "{" not in route.path
                 and inspect.iscoroutinefunction(route.endpoint)}
        return FaultMiddleware(Starlette(routes=routes), self, exact)

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
