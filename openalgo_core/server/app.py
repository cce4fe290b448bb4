"""The OpenAlgo-compatible REST gateway, broker login pages and dashboard.

Built on :class:`~openalgo_core.gateway.Gateway`; works for every installed broker
plugin. Responses follow OpenAlgo's ``/api/v1`` shapes::

    {"status": "success", "orderid": "..."}          placeorder
    {"status": "success", "data": [...]}             positionbook
    {"status": "error", "message": "..."}            any failure (never a traceback)

Modules by concern: :mod:`.errors` (the error shape), :mod:`.guard` (host, body size,
wrong keys), :mod:`.orders`, :mod:`.books`, :mod:`.symbols`, :mod:`.unsupported` (501s),
:mod:`.webhooks`, :mod:`.pages` (login and dashboard), :mod:`.account` (one
account's page), :mod:`.docs` (offline docs).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from .. import __version__
from ..config import broker_from_redirect_url
from ..errors import ConfigurationError
from ..gateway import Gateway, default_home
from . import account, books, docs, errors, orders, pages, symbols, unsupported, webhooks
from .apikeys import ApiKeys, KeyRateLimiter
from .bodies import KeyBody
from .errors import Refused, error
from .guard import Guard

__all__ = ["ORDER_RATE_LIMIT", "Api", "allowed_hosts", "create_app", "default_broker"]

ORDER_RATE_LIMIT = 10
API_RATE_LIMIT = 50
WRONG_KEYS_PER_MINUTE = 10
INVALID_KEY = "Invalid openalgo apikey"
RATE_MESSAGE = "Rate limit exceeded. Please slow down your requests."
LOOPBACK = ("127.0.0.1", "localhost", "::1")


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


def allowed_hosts(environ: Mapping[str, str], *extra: str) -> set[str]:
    """The host names the gateway answers to: loopback, ``REDIRECT_URL``'s host, the
    comma-separated ``OPENALGO_ALLOWED_HOSTS`` and ``extra`` (the bound address)."""
    from urllib.parse import urlsplit

    hosts = set(LOOPBACK)
    redirect = environ.get("REDIRECT_URL", "").strip().strip("'\"")
    if redirect:
        hosts.add((urlsplit(redirect).hostname or "").lower())
    hosts.update(h.strip().lower() for h in environ.get("OPENALGO_ALLOWED_HOSTS", "").split(","))
    hosts.update(h.lower() for h in extra if h not in ("0.0.0.0", "::"))  # noqa: S104
    hosts.discard("")
    return hosts


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


class Api:
    """What every endpoint shares: the gateway, the settings, the keys and the limits."""

    def __init__(self, gateway: Gateway, env: Mapping[str, str], keys: ApiKeys,
                 order_limit: KeyRateLimiter, api_limit: KeyRateLimiter,
                 wrong_keys: KeyRateLimiter) -> None:
        self.gateway = gateway
        self.env = env
        self.keys = keys
        self.order_limit = order_limit
        self.api_limit = api_limit
        self.wrong_keys = wrong_keys

    def key_refusal(self, client: str, header_key: str | None) -> JSONResponse | None:
        """Before the body is read: a client over its wrong-key allowance is refused
        whatever key it sends now; a wrong ``X-API-KEY`` header is refused."""
        wait = self.wrong_keys.peek(client)
        if wait:
            return error(429, f"too many wrong API keys; {RATE_MESSAGE}",
                         retry_after=round(wait, 3))
        if header_key is not None and not self.keys.check(header_key):
            return self.wrong_guess(client)
        return None

    def wrong_guess(self, client: str, refusal: JSONResponse | None = None) -> JSONResponse:
        """Count a wrong key (or webhook id) against ``client``: ``refusal`` (default
        OpenAlgo's 403), or 429 once the client is over its allowance."""
        wait = self.wrong_keys.hit(client)
        if wait:
            return error(429, f"too many wrong API keys; {RATE_MESSAGE}",
                         retry_after=round(wait, 3))
        return refusal or error(403, INVALID_KEY)

    def check_key(self, request: Request, key: str | None, *, orders: bool) -> None:
        """The key is one of ours and within its rate.

        Raises:
            Refused: 403 (wrong key) or 429 (with Retry-After).
        """
        key = key or request.headers.get("x-api-key")
        if not self.keys.check(key):
            client = request.client.host if request.client else ""
            raise Refused(self.wrong_guess(client))
        bucket = hashlib.sha256(str(key).encode()).hexdigest()
        wait = (self.order_limit if orders else self.api_limit).hit(bucket)
        if wait:
            raise Refused(error(429, RATE_MESSAGE, retry_after=round(wait, 3)))

    def broker(self, request: Request, body: KeyBody, *, orders: bool = False) -> str:
        """The broker this call is for, once the key and the key's rate are fine.

        Raises:
            Refused: 403, 429, or 400 when no broker is named and there is no default.
        """
        self.check_key(request, body.apikey, orders=orders)
        return self.broker_named(body.broker)

    def broker_named(self, broker: str | None) -> str:
        name = (broker or default_broker(self.gateway, self.env) or "").strip().lower()
        if not name:
            raise Refused(error(400, "broker: no default broker; send 'broker' or set"
                                     " OPENALGO_BROKER"))
        return name


def create_app(gateway: Gateway, *, environ: Mapping[str, str] | None = None,
               api_keys: ApiKeys | None = None,
               order_limiter: KeyRateLimiter | None = None,
               wrong_key_limiter: KeyRateLimiter | None = None,
               hosts: Collection[str] | None = None,
               strategies: Mapping[str, webhooks.Strategy] | None = None,
               clock: Callable[[], float] = time.time) -> FastAPI:
    """The ASGI app for ``openalgo serve``.

    Args:
        gateway: every call goes through it (sessions, validation, routing).
        environ: settings (``OPENALGO_API_KEY``, ``OPENALGO_BROKER``, ``REDIRECT_URL``,
            ``OPENALGO_ALLOWED_HOSTS``, ``OPENALGO_DASHBOARD_PASSWORD``).
        api_keys: accepted keys (default: from ``environ`` and ``OPENALGO_HOME``).
        order_limiter: per-key limit on order endpoints (default
            ``OPENALGO_ORDER_RATE_LIMIT`` or 10/s, as OpenAlgo; other endpoints
            ``OPENALGO_API_RATE_LIMIT`` or 50/s).
        wrong_key_limiter: wrong keys allowed per client address (default 10 a minute).
        hosts: the host names the gateway answers to (default :func:`allowed_hosts`).
        strategies: webhook strategies by id (default: ``OPENALGO_WEBHOOKS``, else
            ``OPENALGO_HOME/webhooks.toml``, if it exists).
        clock: wall-clock seconds (a webhook delivery's minute).

    Raises:
        ConfigurationError: a malformed setting, naming it (checked here, not per request).
    """
    env = os.environ if environ is None else environ
    broker_from_redirect_url(env.get("REDIRECT_URL"))  # a malformed one fails at start-up
    keys = api_keys or ApiKeys(env, default_home(env))
    api = Api(gateway, env, keys,
              order_limiter or KeyRateLimiter(
                  _rate_setting(env, "OPENALGO_ORDER_RATE_LIMIT", ORDER_RATE_LIMIT)),
              KeyRateLimiter(_rate_setting(env, "OPENALGO_API_RATE_LIMIT", API_RATE_LIMIT)),
              wrong_key_limiter or KeyRateLimiter(WRONG_KEYS_PER_MINUTE, window=60.0))
    if strategies is None:
        strategies = webhooks.load_strategies(Path(
            env.get("OPENALGO_WEBHOOKS") or default_home(env) / "webhooks.toml"))
    app = FastAPI(title="openalgo gateway", version=__version__, docs_url=None, redoc_url=None,
                  description="OpenAlgo-compatible REST API over openalgo-core brokers.")
    errors.install(app)
    books.register(app, api)
    orders.register(app, api)
    symbols.register(app, api)
    unsupported.register(app)
    webhooks.register(app, api, strategies, clock)
    pages.register(app, api)
    account.register(app, api)
    docs.register(app)
    app.add_middleware(Guard, hosts=hosts if hosts is not None else allowed_hosts(env),
                       key_refusal=api.key_refusal)
    return app
