"""The OpenAlgo-compatible REST gateway, broker login callbacks and dashboard.

Built on :class:`~openalgo_core.gateway.Gateway`; works for every installed
broker plugin. Responses follow OpenAlgo's ``/api/v1`` shapes::

    {"status": "success", "orderid": "..."}          placeorder
    {"status": "success", "data": [...]}             positionbook
    {"status": "error", "message": "..."}            any failure (never a traceback)
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from ..codes import Action
from ..config import broker_from_redirect_url
from ..errors import (
    AuthenticationError,
    BrokerConnectionError,
    BrokerError,
    BrokerResponseError,
    BrokerServerError,
    ConfigurationError,
    OpenAlgoError,
    OrderNotFoundError,
    OrderNotPlacedError,
    OrderRejectedError,
    OrderStatusUnknownError,
    PluginError,
    PluginNotFoundError,
    RateLimitError,
    UnsupportedOperationError,
    ValidationError,
)
from ..gateway import Gateway, default_home
from ..models import IST, LoginChallenge, Position, Session, order_from
from .apikeys import ApiKeys, KeyRateLimiter

__all__ = ["ORDER_RATE_LIMIT", "create_app", "default_broker"]

log = logging.getLogger("openalgo.server")
ORDER_RATE_LIMIT = 10
API_RATE_LIMIT = 50
INVALID_KEY = "Invalid openalgo apikey"
RATE_MESSAGE = "Rate limit exceeded. Please slow down your requests."
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def default_broker(gateway: Gateway, environ: Mapping[str, str]) -> str | None:
    """``OPENALGO_BROKER``, else the broker in ``REDIRECT_URL``, else the only one installed.

    Raises:
        ConfigurationError: ``REDIRECT_URL`` is not a URL.
    """
    named = environ.get("OPENALGO_BROKER") or broker_from_redirect_url(environ.get("REDIRECT_URL"))
    if named:
        return named.strip().lower()
    ids = gateway.registry.broker_ids()
    return ids[0] if len(ids) == 1 else None


XKey = Annotated[str | None, Header(alias="X-API-KEY")]


class _Common(BaseModel):
    model_config = ConfigDict(extra="forbid")

    apikey: str | None = Field(default=None, description="or the X-API-KEY header")
    broker: str | None = Field(default=None, description="default: OPENALGO_BROKER")


class PlaceOrderBody(_Common):
    strategy: str = "api"
    exchange: str
    symbol: str
    action: str
    quantity: int | float | str
    pricetype: str = "MARKET"
    product: str = "MIS"
    price: int | float | str = 0
    trigger_price: int | float | str = 0
    disclosed_quantity: int | float | str = 0
    tag: str | None = Field(default=None, description="your own unique order tag")


class SmartOrderBody(PlaceOrderBody):
    position_size: int | float | str = Field(description="target net position")


class CloseBody(_Common):
    strategy: str = "api"


class KeyBody(_Common):
    strategy: str | None = None


class _Refused(Exception):
    """Stop a request with a ready response (bad key, rate limit, no broker)."""

    def __init__(self, response: JSONResponse) -> None:
        self.response = response


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"status": "error", "message": message, **extra}, status_code=status)


def error_response(exc: OpenAlgoError) -> JSONResponse:
    """Map a core error to OpenAlgo's error shape and a meaningful status."""
    if isinstance(exc, ValidationError):
        return _error(400, str(exc))
    if isinstance(exc, OrderRejectedError):
        return _error(400, exc.reason, code=exc.code, broker=exc.broker)
    if isinstance(exc, OrderStatusUnknownError):
        return _error(502 if exc.status_code else 504, str(exc), tag=exc.tag,
                      broker=exc.broker)
    if isinstance(exc, OrderNotPlacedError):  # settled: not live; the tag may be resent
        return _error(502, str(exc), tag=exc.tag, broker=exc.broker)
    if isinstance(exc, OrderNotFoundError):
        return _error(404, str(exc), broker=exc.broker)
    if isinstance(exc, UnsupportedOperationError):
        return _error(501, str(exc))
    if isinstance(exc, PluginNotFoundError):
        return _error(404, str(exc))
    if isinstance(exc, AuthenticationError):
        return _error(401, str(exc), broker=exc.broker)
    if isinstance(exc, RateLimitError):
        return _error(429, str(exc), retry_after=exc.retry_after)
    if isinstance(exc, BrokerConnectionError):
        return _error(503, str(exc))
    if isinstance(exc, BrokerServerError | BrokerResponseError | BrokerError):
        return _error(502, str(exc))
    if isinstance(exc, ConfigurationError | PluginError):
        return _error(503, str(exc))
    return _error(500, str(exc))


def _rate_setting(environ: Mapping[str, str], name: str, default: int) -> int:
    """The per-second limit in ``environ[name]``, or ``default`` when unset.

    Raises:
        ConfigurationError: not a whole number > 0, naming ``name``.
    """
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) <= 0:
        raise ConfigurationError(f"{name} must be a whole number of requests a second, > 0")
    return int(raw)


def _num(value: Decimal) -> float:
    return float(round(value, 2))


def position_row(p: Position) -> dict[str, Any]:
    return {"symbol": p.symbol, "exchange": p.exchange.value, "product": p.product.value,
            "quantity": p.quantity, "average_price": _num(p.average_price),
            "ltp": _num(p.ltp), "pnl": _num(p.pnl)}


def create_app(gateway: Gateway, *, environ: Mapping[str, str] | None = None,
               api_keys: ApiKeys | None = None,
               order_limiter: KeyRateLimiter | None = None) -> FastAPI:
    """The ASGI app for ``openalgo serve``.

    Args:
        gateway: every call goes through it (sessions, validation, routing).
        environ: settings (``OPENALGO_API_KEY``, ``OPENALGO_BROKER``, ``REDIRECT_URL``).
        api_keys: accepted keys (default: from ``environ`` and ``OPENALGO_HOME``).
        order_limiter: per-key limit on order endpoints (default
            ``OPENALGO_ORDER_RATE_LIMIT`` or 10/s, as OpenAlgo; other endpoints
            ``OPENALGO_API_RATE_LIMIT`` or 50/s).

    Raises:
        ConfigurationError: a malformed setting, naming it (checked here, not per request).
    """
    env = os.environ if environ is None else environ
    broker_from_redirect_url(env.get("REDIRECT_URL"))  # a malformed one fails at start-up
    keys = api_keys or ApiKeys(env, default_home(env))
    order_limit = order_limiter or KeyRateLimiter(
        _rate_setting(env, "OPENALGO_ORDER_RATE_LIMIT", ORDER_RATE_LIMIT))
    api_limit = KeyRateLimiter(_rate_setting(env, "OPENALGO_API_RATE_LIMIT", API_RATE_LIMIT))
    app = FastAPI(title="openalgo gateway", version="0.1.0",
                  description="OpenAlgo-compatible REST API over openalgo-core brokers.")

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _error(400, f"{where}: {first.get('msg')}" if where else str(first.get("msg")))

    @app.exception_handler(OpenAlgoError)
    async def _core_error(request: Request, exc: OpenAlgoError) -> JSONResponse:
        return error_response(exc)

    app.add_middleware(_Guard)

    @app.exception_handler(_Refused)
    async def _refused(request: Request, exc: _Refused) -> JSONResponse:
        return exc.response

    def authorise(body: _Common, header: str | None, *, orders: bool) -> str:
        """The broker this call is for, once the key and the key's rate are fine."""
        key = body.apikey or header
        if not keys.check(key):
            raise _Refused(_error(403, INVALID_KEY))
        bucket = hashlib.sha256(str(key).encode()).hexdigest()
        wait = (order_limit if orders else api_limit).hit(bucket)
        if wait:
            raise _Refused(_error(429, RATE_MESSAGE, retry_after=round(wait, 3)))
        broker = (body.broker or default_broker(gateway, env) or "").lower()
        if not broker:
            raise _Refused(_error(400, "broker: no default broker; send 'broker' or set"
                                       " OPENALGO_BROKER"))
        return broker

    @app.post("/api/v1/ping", tags=["api"])
    def ping(body: Annotated[KeyBody, Body()], x_api_key: XKey = None) -> Response:
        broker = authorise(body, x_api_key, orders=False)
        gateway.info(broker)
        return JSONResponse({"status": "success", "data": {"message": "pong", "broker": broker}})

    @app.post("/api/v1/placeorder", tags=["api"])
    def placeorder(body: PlaceOrderBody, x_api_key: XKey = None) -> Response:
        broker = authorise(body, x_api_key, orders=True)
        fields = body.model_dump(exclude={"apikey", "broker"}, exclude_none=True)
        receipt = gateway.place_order(broker, fields)
        return JSONResponse({"orderid": receipt.order_id, "status": "success"})

    @app.post("/api/v1/placesmartorder", tags=["api"])
    def placesmartorder(body: SmartOrderBody, x_api_key: XKey = None) -> Response:
        broker = authorise(body, x_api_key, orders=True)
        fields = body.model_dump(exclude={"apikey", "broker", "position_size"},
                                 exclude_none=True)
        target = order_from({**fields, "quantity": 1})  # validates every other field
        try:
            wanted = int(Decimal(str(body.position_size)))
        except ArithmeticError:
            raise ValidationError("position_size: must be a whole number",
                                  field="position_size") from None
        current = sum(p.quantity for p in gateway.fetch_positions(broker)
                      if (p.symbol, p.exchange, p.product)
                      == (target.symbol, target.exchange, target.product))
        delta = wanted - current
        if delta == 0:
            return JSONResponse({"status": "success",
                                 "message": "Positions Already Matched. No Action needed."})
        fields.update(action=Action.BUY if delta > 0 else Action.SELL, quantity=abs(delta))
        receipt = gateway.place_order(broker, fields)
        return JSONResponse({"orderid": receipt.order_id, "status": "success"})

    @app.post("/api/v1/closeposition", tags=["api"])
    def closeposition(body: CloseBody, x_api_key: XKey = None) -> Response:
        broker = authorise(body, x_api_key, orders=True)
        orders, failures = [], []
        for p in gateway.fetch_positions(broker):
            if p.quantity == 0:
                continue
            try:
                receipt = gateway.place_order(broker, {
                    "symbol": p.symbol, "exchange": p.exchange, "product": p.product,
                    "action": "SELL" if p.quantity > 0 else "BUY", "quantity": abs(p.quantity),
                    "pricetype": "MARKET", "strategy": body.strategy})
                orders.append({"symbol": p.symbol, "orderid": receipt.order_id})
            except OpenAlgoError as exc:
                failures.append({"symbol": p.symbol, "message": str(exc)})
        if failures:
            return JSONResponse({"status": "error", "message": "Some positions were not closed",
                                 "orders": orders, "failed": failures}, status_code=502)
        return JSONResponse({"status": "success", "message": "All Open Positions SquaredOff",
                             "orders": orders})

    @app.post("/api/v1/positionbook", tags=["api"])
    def positionbook(body: Annotated[KeyBody, Body()], x_api_key: XKey = None) -> Response:
        broker = authorise(body, x_api_key, orders=False)
        rows = [position_row(p) for p in gateway.fetch_positions(broker)]
        return JSONResponse({"status": "success", "data": rows})

    # -- browser: login, callback, dashboard ----------------------------------------
    def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        return TEMPLATES.TemplateResponse(request, name, context, status_code=status)

    @app.get("/{broker}/login", include_in_schema=False)
    def login(request: Request, broker: str) -> Response:
        try:
            result = gateway.authenticate(broker)
        except OpenAlgoError as exc:
            return page(request, "message.html", _status(exc), title="Login failed",
                        message=str(exc))
        if isinstance(result, Session):
            return RedirectResponse(f"/?loggedin={broker}", status_code=303)
        assert isinstance(result, LoginChallenge)
        if result.kind == "url" and result.url:
            return RedirectResponse(result.url, status_code=303)
        return page(request, "code.html", broker=broker, challenge=result)

    @app.api_route("/{broker}/callback", methods=["GET", "POST"], include_in_schema=False)
    async def callback(request: Request, broker: str) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        try:
            if params.get("action") == "resend":
                result = await _in_thread(gateway.resend_code, broker,
                                          params.get("state", ""))
                if isinstance(result, LoginChallenge):
                    return page(request, "code.html", broker=broker, challenge=result,
                                resent=True)
                session = result
            else:
                session = await _in_thread(gateway.handle_callback, broker, params)
        except OpenAlgoError as exc:
            return page(request, "message.html", _status(exc), title="Login refused",
                        message=str(exc))
        return page(request, "message.html", title="Logged in",
                    message=f"Logged in to {broker} as {session.user_id}; session valid until "
                            f"{session.expires_at.astimezone(IST):%Y-%m-%d %H:%M} IST.")

    @app.get("/", include_in_schema=False)
    def dashboard(request: Request) -> Response:
        cards = []
        for record in gateway.brokers(load=True):
            card: dict[str, Any] = {"record": record, "session": None, "positions": None,
                                    "error": None}
            if record.status == "ok":
                try:  # looking at the page never logs in: only a stored live session shows
                    card["session"] = stored = gateway.sessions.get(record.id)
                    if stored is None or stored.is_expired():
                        card["session"] = None
                    else:
                        card["positions"] = [position_row(p)
                                             for p in gateway.fetch_positions(record.id)]
                except OpenAlgoError as exc:
                    card["error"] = str(exc)
            cards.append(card)
        return page(request, "dashboard.html", cards=cards, IST=IST)

    return app


class _Guard:
    """Turn any unexpected exception into OpenAlgo's 500 shape: never a traceback."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def watch(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            log.error("unexpected %s on %s", type(exc).__name__, scope.get("path"))
            if started or scope["type"] != "http":
                raise
            await _error(500, "internal error; see the server log")(scope, receive, send)


def _status(exc: OpenAlgoError) -> int:
    return error_response(exc).status_code


async def _in_thread(func: Any, *args: Any) -> Any:
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(func, *args)
