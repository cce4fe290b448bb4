"""The facade an application embeds: one object, every installed broker.

:class:`Gateway` holds no global state and is safe to share between threads.
It validates before the network, resolves symbols through the broker's master
contract, tags every order uniquely, reuses stored sessions and refuses expired
ones, and routes every call to exactly one broker plugin.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from .config import Credentials, credentials_for, env_var, parse_url, writable_dir
from .errors import (
    AuthenticationError,
    PluginContractError,
    SessionExpiredError,
    ValidationError,
)
from .http import DEFAULT_TIMEOUT, BrokerClient, ProgressCallback, RateLimiter, RetryPolicy
from .info import BrokerInfo
from .instruments import InstrumentCache, InstrumentIndex, check_order
from .models import (
    IST,
    Instrument,
    LoginChallenge,
    OrderReceipt,
    OrderRequest,
    Position,
    Session,
    next_daily_expiry,
    order_from,
)
from .registry import PluginRecord, Registry
from .sessions import SessionStore, SQLiteSessionStore

__all__ = ["Gateway", "default_home"]

CHALLENGE_TTL = dt.timedelta(minutes=15)


def default_home(environ: Mapping[str, str] | None = None) -> Path:
    """``OPENALGO_HOME``, or ``~/.openalgo``: sessions, keys and instrument caches."""
    env = os.environ if environ is None else environ
    return Path(env.get("OPENALGO_HOME") or Path.home() / ".openalgo")


class Gateway:
    """One API over every installed broker.

    Args:
        registry: the plugins (default: every installed entry point).
        environ: credentials and settings (default ``os.environ``). A broker's
            credentials are read when first needed and again at each login.
        session_store: where sessions persist (default: encrypted SQLite in
            ``OPENALGO_HOME``; pass :class:`MemorySessionStore` for in-process use).
        cache_dir: instrument cache directory (default ``OPENALGO_HOME/cache``).
        transports: per-broker httpx transports (tests: MockTransport, in-process ASGI).
        retry, timeout: HTTP retry policy and timeouts for every broker client.
        pace: pace requests to each broker's declared rate limits (default on;
            ``OPENALGO_PACING=0`` turns it off, for simulators and benchmarks only).
        sleep: used for pacing and retry back-off (tests inject a fake).
        clock: the current time, for session expiry and login challenges (tests).
    """

    def __init__(self, *, registry: Registry | None = None,
                 environ: Mapping[str, str] | None = None,
                 session_store: SessionStore | None = None,
                 cache_dir: str | os.PathLike[str] | None = None,
                 transports: Mapping[str, httpx.BaseTransport] | None = None,
                 retry: RetryPolicy | None = None,
                 timeout: httpx.Timeout | None = None,
                 pace: bool | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self._env = os.environ if environ is None else environ
        self.registry = registry or Registry(environ=self._env)
        home = default_home(self._env)
        if session_store is None or cache_dir is None:
            writable_dir(home, "OPENALGO_HOME")
        if session_store is None:
            session_store = SQLiteSessionStore(
                home / "sessions.db", secret_key=self._env.get("OPENALGO_SECRET_KEY") or None)
        self.sessions = session_store
        self.cache = InstrumentCache(cache_dir or writable_dir(home / "cache", "OPENALGO_HOME"))
        self._transports = dict(transports or {})
        self._retry = retry
        self._timeout = timeout or DEFAULT_TIMEOUT
        self._pace = pace if pace is not None else self._env.get("OPENALGO_PACING", "1") != "0"
        self._sleep = sleep
        self._now = clock or (lambda: dt.datetime.now(dt.UTC))
        self._lock = threading.RLock()
        self._clients: dict[str, BrokerClient] = {}
        self._credentials: dict[str, Credentials] = {}
        self._indexes: dict[str, tuple[dt.date, InstrumentIndex]] = {}
        self._index_locks: dict[str, threading.Lock] = {}
        self._challenges: dict[str, tuple[LoginChallenge, dt.datetime]] = {}

    # -- plumbing ----------------------------------------------------------------
    def brokers(self, *, load: bool = False) -> list[PluginRecord]:
        """Installed brokers; ``load=True`` imports each to report its status."""
        return self.registry.load_all() if load else self.registry.records()

    def info(self, broker: str) -> BrokerInfo:
        return self.registry.load(broker)

    def credentials(self, broker: str, *, reload: bool = False) -> Credentials:
        """Resolved credentials, kept until ``reload`` (every login reloads).

        Raises:
            MissingCredentialsError: naming every variable to set.
        """
        found = None if reload else self._credentials.get(broker)
        if found is None:
            found = self._credentials[broker] = credentials_for(self.info(broker), self._env)
        return found

    def client(self, broker: str) -> BrokerClient:
        """The broker's shared client (created once; pacers shared across threads)."""
        client = self._clients.get(broker)
        if client is not None:
            return client
        with self._lock:
            if broker not in self._clients:
                info = self.info(broker)
                variable = env_var(broker, "BASE_URL")
                base_url = self._env.get(variable) or None
                if base_url:
                    parse_url(base_url, variable)
                limiters = {cat: RateLimiter(lim.per_second, lim.burst, sleep=self._sleep)
                            for cat, lim in info.rate_limits.items()} if self._pace else {}
                self._clients[broker] = BrokerClient(
                    info, base_url=base_url,
                    transport=self._transports.get(broker), limiters=limiters,
                    retry=self._retry, sleep=self._sleep, timeout=self._timeout)
            return self._clients[broker]

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, broker: str, hook: str, **kwargs: Any) -> Any:
        try:
            return self.registry.call(broker, hook, **kwargs)
        except SessionExpiredError:
            self.sessions.delete(broker)
            raise

    # -- login ---------------------------------------------------------------------
    def authenticate(self, broker: str) -> Session | LoginChallenge:
        """Log in: a stored-credential (TOTP) login returns a Session and stores it;
        otherwise a LoginChallenge to complete with :meth:`handle_callback`."""
        result = self._call(broker, "authenticate",
                            credentials=self.credentials(broker, reload=True),
                            client=self.client(broker))
        if isinstance(result, Session):
            return self._keep(broker, result)
        if isinstance(result, LoginChallenge):
            with self._lock:
                now = self._now()
                # A redirect login is the broker's page sending the browser back without
                # our state: only this broker's newest redirect login stays pending.
                self._challenges = {s: (c, t) for s, (c, t) in self._challenges.items()
                                    if now - t < CHALLENGE_TTL and not (
                                        result.kind == "url" and c.kind == "url"
                                        and c.broker == broker)}
                self._challenges[result.state] = (result, now)
            return result
        raise PluginContractError(broker, "authenticate returned neither a Session nor a"
                                          f" LoginChallenge but {type(result).__name__}")

    def pending_challenge(self, broker: str, state: str) -> LoginChallenge | None:
        """The unexpired challenge issued for ``broker`` under ``state``, if any."""
        with self._lock:
            entry = self._challenges.get(state)
        if entry is None or entry[0].broker != broker or self._now() - entry[1] >= CHALLENGE_TTL:
            return None
        return entry[0]

    def _redirect_state(self, broker: str) -> str:
        """The state of ``broker``'s pending redirect login (there is at most one)."""
        with self._lock:
            return next((s for s, (c, t) in self._challenges.items()
                         if c.broker == broker and c.kind == "url"), "")

    def handle_callback(self, broker: str, params: Mapping[str, str]) -> Session:
        """Complete a login. ``params["state"]`` must be a state this gateway issued
        for ``broker``; each state is accepted once. A callback without a state (a broker
        whose login page redirects back without echoing ours, like ICICI's) completes
        this broker's one pending redirect login, if any: issued by this gateway within
        15 minutes, and used once.

        Raises:
            AuthenticationError: unknown, expired or replayed state, or the broker refused.
        """
        state = params.get("state") or self._redirect_state(broker)
        with self._lock:
            challenge = self.pending_challenge(broker, state)
            if challenge is None:
                raise AuthenticationError(
                    "login callback refused: unknown, expired or already used state",
                    broker=broker)
            del self._challenges[state]
        session = self._call(broker, "handle_callback",
                             credentials=self.credentials(broker, reload=True),
                             client=self.client(broker), challenge=challenge, params=params)
        if not isinstance(session, Session):
            raise PluginContractError(broker, "handle_callback returned no Session but"
                                              f" {type(session).__name__}")
        return self._keep(broker, session)

    def _keep(self, broker: str, session: Session) -> Session:
        """Store a new session, never valid past the broker's declared daily boundary."""
        if session.broker != broker:
            raise PluginContractError(broker, "the plugin returned a session for"
                                              f" {session.broker!r}")
        boundary = next_daily_expiry(session.created_at,
                                     self.info(broker).session_expiry_hour_ist)
        if session.expires_at > boundary:
            session = session.model_copy(update={"expires_at": boundary})
        self.sessions.put(session)
        return session

    def session(self, broker: str) -> Session:
        """The stored, unexpired session.

        Raises:
            AuthenticationError: never logged in.
            SessionExpiredError: the stored session has expired (it is removed).
        """
        self.info(broker)
        session = self.sessions.get(broker)
        if session is None:
            raise AuthenticationError(f"not logged in; run `openalgo login {broker}`",
                                      broker=broker)
        if session.is_expired(self._now()):
            self.sessions.delete(broker)
            raise SessionExpiredError(
                f"session expired at {session.expires_at.astimezone(IST):%Y-%m-%d %H:%M} IST;"
                f" log in again", broker=broker)
        return session

    def _live_session(self, broker: str) -> Session | None:
        """The stored session if it is still live, else None (no error: a public master
        contract needs none)."""
        session = self.sessions.get(broker)
        return session if session is not None and not session.is_expired(self._now()) \
            else None

    def logout(self, broker: str) -> None:
        self.sessions.delete(broker)

    # -- instruments -----------------------------------------------------------------
    def instruments(self, broker: str, *, refresh: bool = False,
                    progress: ProgressCallback | None = None) -> InstrumentIndex:
        """Today's master contract: memory, then disk cache, then download."""
        today = self._now().astimezone(IST).date()
        cached = self._indexes.get(broker)
        if cached and cached[0] == today and not refresh:
            return cached[1]
        with self._lock:
            lock = self._index_locks.setdefault(broker, threading.Lock())
        with lock:
            cached = self._indexes.get(broker)
            if cached and cached[0] == today and not refresh:
                return cached[1]
            index = None if refresh else self.cache.load(broker, today)
            if index is None:
                rows = self._call(broker, "fetch_instruments", client=self.client(broker),
                                  progress=progress or (lambda done, total: None),
                                  session=self._live_session(broker))
                index = InstrumentIndex.from_instruments(broker, rows)
                self.cache.save(index, today)
            self._indexes[broker] = (today, index)
            return index

    def resolve(self, broker: str, symbol: str, exchange: str) -> Instrument:
        return self.instruments(broker).resolve(symbol, exchange)

    # -- trading -----------------------------------------------------------------------
    def validate_order(self, broker: str,
                       order: OrderRequest | Mapping[str, Any]) -> tuple[OrderRequest, Instrument]:
        """Everything :meth:`place_order` checks before the network.

        Raises:
            ValidationError / UnknownSymbolError: naming the field and the rule.
        """
        order = order_from(order)
        info = self.info(broker)
        for field, value, allowed in (("exchange", order.exchange, info.exchanges),
                                      ("product", order.product, info.products),
                                      ("pricetype", order.pricetype, info.pricetypes)):
            if value not in allowed:
                raise ValidationError(
                    f"{field}: {info.display_name} does not support {value}"
                    f" (supported: {', '.join(sorted(allowed))})", field=field)
        instrument = self.instruments(broker).resolve(order.symbol, order.exchange)
        check_order(order, instrument)
        return order, instrument

    def place_order(self, broker: str, order: OrderRequest | Mapping[str, Any]) -> OrderReceipt:
        """Validate, resolve and send one order; return the broker's acknowledgement.

        Raises:
            ValidationError, UnknownSymbolError: nothing was sent.
            OrderRejectedError: the broker refused.
            OrderStatusUnknownError: sent, outcome unknown; ``.tag`` finds it again.
            AuthenticationError / SessionExpiredError: log in (again) first.
        """
        order = order_from(order)
        session = self.session(broker)
        order, instrument = self.validate_order(broker, order)
        receipt = self._call(broker, "place_order", order=order, instrument=instrument,
                             session=session, credentials=self.credentials(broker),
                             client=self.client(broker))
        if not isinstance(receipt, OrderReceipt) or not receipt.order_id:
            raise PluginContractError(broker, f"place_order returned no order id (the order, tag"
                                              f" {order.tag}, may be live: check the order book)")
        return receipt

    def fetch_positions(self, broker: str) -> list[Position]:
        """The day's position book in OpenAlgo symbols; ``[]`` when empty."""
        session = self.session(broker)
        positions = self._call(broker, "fetch_positions", session=session,
                               credentials=self.credentials(broker), client=self.client(broker),
                               instruments=self.instruments(broker))
        return list(positions)

