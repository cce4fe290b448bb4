"""The facade an application embeds: one object, every installed broker.

:class:`Gateway` holds no global state and is safe to share between threads.
It validates before the network, resolves symbols through the broker's master
contract, journals every order before it is sent (its tag an idempotency key) and
settles unknown outcomes from the order book, logs in again by itself when a session
expires and the broker allows it, and routes every call to exactly one broker plugin.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx

from .codes import OrderStatus, PriceType
from .config import Credentials, credentials_for, env_var, parse_url, writable_dir
from .errors import (
    AuthenticationError,
    BrokerConnectionError,
    BrokerError,
    BrokerResponseError,
    BrokerServerError,
    ConfigurationError,
    LoginRequiredError,
    OpenAlgoError,
    OrderNotPlacedError,
    OrderRejectedError,
    OrderStatusUnknownError,
    PluginContractError,
    PluginError,
    RateLimitError,
    SessionExpiredError,
    UnsupportedOperationError,
    ValidationError,
)
from .http import DEFAULT_TIMEOUT, BrokerClient, ProgressCallback, RetryPolicy, limiters_for
from .info import BrokerInfo
from .instruments import InstrumentCache, InstrumentIndex, check_order
from .journal import Entry, OrderJournal, State
from .models import (
    IST,
    TAG_PATTERN,
    Funds,
    Holding,
    Instrument,
    LoginChallenge,
    Order,
    OrderReceipt,
    OrderRequest,
    Position,
    Session,
    Trade,
    next_daily_expiry,
    order_from,
)
from .registry import PluginRecord, Registry
from .sessions import SessionStore, SQLiteSessionStore

__all__ = ["Gateway", "SettlePolicy", "default_home"]

CHALLENGE_TTL = dt.timedelta(minutes=15)
#: pending logins kept per broker (the oldest is dropped): starting logins costs memory
MAX_PENDING_LOGINS = 8
#: wrong codes one pending login takes before it is withdrawn
LOGIN_ATTEMPTS = 5
log = logging.getLogger("openalgo.gateway")
_T = TypeVar("_T")
#: Failures of a master-contract download that keep the last master (the broker's fault,
#: not the account's: an expired session or a refused login still raise).
MASTER_FAILURES = (BrokerConnectionError, BrokerServerError, BrokerResponseError,
                   RateLimitError)
#: Errors after which an order provably did not reach the broker (or was refused as a
#: whole before being looked at): its journal entry becomes "not placed".
NOT_SENT = (BrokerConnectionError, RateLimitError, AuthenticationError, ValidationError,
            ConfigurationError, PluginError)


@dataclass(frozen=True)
class SettlePolicy:
    """How an unknown outcome is settled from the order book: ``attempts`` reads, the
    first after ``first_delay`` seconds, each later one ``factor`` times longer. An order
    whose outcome is unknown and that the book still lacks ``grace`` after it was sent is
    journaled "not placed" (a retry with its tag then sends it); one journaled as being
    sent (a process that died before sending, or one still sending) only after
    ``in_flight``, longer than any send with its timeouts and a re-login can take.
    ``wait``: how long a caller placing a tag that another caller is sending waits for
    that outcome before settling it itself."""

    attempts: int = 4
    first_delay: float = 0.25
    factor: float = 2.0
    grace: dt.timedelta = dt.timedelta(seconds=5)
    in_flight: dt.timedelta = dt.timedelta(minutes=2)
    wait: float = 30.0

    def delay(self, attempt: int) -> float:
        return self.first_delay * self.factor ** attempt


def _order_id(value: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 64 \
            or not value.strip().isprintable():
        raise ValidationError(f"order_id: expected the broker's order id, got {value!r}",
                              field="order_id")
    return value.strip()


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
        sleep: used for pacing, retry back-off and settling (tests inject a fake).
        clock: the current time, for session expiry and login challenges (tests).
        journal: where orders are journaled (default ``OPENALGO_HOME/journal.db``,
            opened on the first order).
        settle: how unknown order outcomes are settled (:class:`SettlePolicy`).
        auto_login: log in again by itself when a session is missing or expired and the
            broker's stored credentials allow it (default on; ``OPENALGO_AUTO_LOGIN=0``).
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
                 clock: Callable[[], dt.datetime] | None = None,
                 journal: OrderJournal | None = None,
                 settle: SettlePolicy | None = None,
                 auto_login: bool | None = None) -> None:
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
        self._attempts: dict[str, int] = {}
        self._home = home
        self._journal = journal
        self.settle_policy = settle or SettlePolicy()
        self.auto_login = auto_login if auto_login is not None else \
            self._env.get("OPENALGO_AUTO_LOGIN", "1") != "0"
        self._login_locks: dict[str, threading.Lock] = {}
        self._reconciled: set[str] = set()

    @property
    def journal(self) -> OrderJournal:
        """The order journal (opened on first use)."""
        if self._journal is None:
            with self._lock:
                if self._journal is None:
                    writable_dir(self._home, "OPENALGO_HOME")
                    self._journal = OrderJournal(self._home / "journal.db", clock=self._now)
        return self._journal

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
                limiters = limiters_for(info, sleep=self._sleep) if self._pace else {}
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
            if self._journal is not None:
                self._journal.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, broker: str, hook: str, **kwargs: Any) -> Any:
        return self.registry.call(broker, hook, **kwargs)

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
                mine = [s for s, (c, _) in self._challenges.items() if c.broker == broker]
                for state in mine[:max(0, len(mine) - MAX_PENDING_LOGINS + 1)]:
                    del self._challenges[state]  # oldest first (insertion order)
                self._challenges[result.state] = (result, now)
                self._attempts = {s: n for s, n in self._attempts.items()
                                  if s in self._challenges}
            return result
        raise PluginContractError(broker, "authenticate returned neither a Session nor a"
                                          f" LoginChallenge but {type(result).__name__}")

    def resend_code(self, broker: str, state: str) -> Session | LoginChallenge:
        """Have the broker send a new code for the pending login ``state`` (a
        ``resendable`` challenge): the login starts again (:meth:`authenticate`) and the
        old challenge is withdrawn.

        Raises:
            AuthenticationError: no such pending login, or it cannot send a new code.
        """
        with self._lock:
            challenge = self.pending_challenge(broker, state)
            if challenge is None or not challenge.resendable:
                raise AuthenticationError("no pending login that can send a new code:"
                                          " start the login again", broker=broker)
            del self._challenges[state]
        return self.authenticate(broker)

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
        for ``broker``; each state logs in once. A callback without a state (a broker
        whose login page redirects back without echoing ours, like ICICI's) completes
        this broker's one pending redirect login, if any: issued by this gateway within
        15 minutes, and used once. A login the broker refuses (a mistyped code) stays
        pending for another try, :data:`LOGIN_ATTEMPTS` tries in all.

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
            issued = self._challenges.pop(state)[1]  # one try at a time
            tries = self._attempts.pop(state, 0) + 1
        try:
            session = self._call(broker, "handle_callback",
                                 credentials=self.credentials(broker, reload=True),
                                 client=self.client(broker), challenge=challenge,
                                 params=params)
        except AuthenticationError:
            if tries < LOGIN_ATTEMPTS:
                with self._lock:
                    self._challenges[state] = (challenge, issued)
                    self._attempts[state] = tries
            raise
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
        """A live session: the stored one, or, when it is missing or expired and the
        broker's stored credentials allow a login without a person (:meth:`can_login_alone`),
        a new one (one login however many callers ask at once, across threads and
        processes sharing ``OPENALGO_HOME``).

        Raises:
            LoginRequiredError: never logged in, or the session expired, and logging in
                needs a person.
        """
        self.info(broker)
        session = self.sessions.get(broker)
        if session is not None and not session.is_expired(self._now()):
            return session
        if self.can_login_alone(broker):
            return self._login_again(broker, session)
        if session is None:
            raise LoginRequiredError(f"not logged in, and {self._needs_person(broker)}",
                                     broker=broker)
        self.sessions.discard(session)
        raise LoginRequiredError(
            f"session expired at {session.expires_at.astimezone(IST):%Y-%m-%d %H:%M} IST, and"
            f" {self._needs_person(broker)}", broker=broker)

    def can_login_alone(self, broker: str) -> bool:
        """Whether a login can run now without a person: auto-login on, a login the broker
        lets us automate (not a browser redirect), a TOTP secret and every login
        credential configured (read again from the environment)."""
        info = self.info(broker)
        if not self.auto_login or info.login_style == "redirect":
            return False
        try:
            credentials = self.credentials(broker, reload=True)
        except ConfigurationError:
            return False
        return bool(credentials.get("TOTP_SECRET")) and all(
            credentials.get(f.name) for f in info.credentials if f.at_login)

    def _needs_person(self, broker: str) -> str:
        info = self.info(broker)
        if info.login_style == "redirect":
            why = f"{info.display_name} logs in only through its own web page"
        elif not self.auto_login:
            why = "automatic login is off (OPENALGO_AUTO_LOGIN=0)"
        else:
            why = f"no TOTP secret ({env_var(broker, 'TOTP_SECRET')}) or login credential" \
                  " is stored"
        return f"logging in needs a person: {why}; complete a login (authenticate, then" \
               " handle_callback with what the person types)"

    def _login_again(self, broker: str, stale: Session | None) -> Session:
        """Log in unattended, once: callers arriving together wait for the first one's
        session, also across processes (a lock file in ``OPENALGO_HOME``)."""
        with self._lock:
            lock = self._login_locks.setdefault(broker, threading.Lock())
        with lock, self._file_lock(broker):
            current = self.sessions.get(broker)
            if current is not None and not current.is_expired(self._now()) and (
                    stale is None or current.created_at != stale.created_at
                    or current.access_token != stale.access_token):
                return current
            log.info("%s: session missing or expired; logging in unattended", broker)
            result = self.authenticate(broker)
            if not isinstance(result, Session):
                raise AuthenticationError(f"an unattended login was asked for a person's input;"
                                          f" {self._needs_person(broker)}", broker=broker)
            return result

    def _file_lock(self, broker: str) -> contextlib.AbstractContextManager[object]:
        from filelock import FileLock

        locks = writable_dir(self._home / "locks", "OPENALGO_HOME")
        return FileLock(locks / f"login-{broker}.lock", timeout=120)

    def _with_session(self, broker: str, call: Callable[[Session], _T],
                      again: Callable[[], bool] | None = None) -> _T:
        """``call(session)``; when the broker answers "session expired" and a login can
        run alone, log in and call once more — if ``again()`` allows it (the order
        journal: only while nobody else settled the order). A stale expiry (the request
        carried an older session) never removes a newer one."""
        session = self.session(broker)
        try:
            return call(session)
        except SessionExpiredError as exc:
            self.sessions.discard(session)
            if not self.can_login_alone(broker):
                raise LoginRequiredError(f"{exc.message}, and {self._needs_person(broker)}",
                                         broker=broker, code=exc.code, raw=exc.raw,
                                         status_code=exc.status_code) from exc
            fresh = self._login_again(broker, session)
            if again is not None and not again():
                raise
        return call(fresh)

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
        """Today's master contract: memory, then disk cache, then download. A download
        that fails for the broker's sake (unreachable, a 5xx, an unreadable file, rate
        limited) never costs the master: the last one cached on disk (yesterday's) serves
        the day, with a warning, until a ``refresh`` downloads again; without one, the
        error is raised."""
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
                try:
                    rows = self._fetch_instruments(broker,
                                                   progress or (lambda done, total: None))
                    index = InstrumentIndex.from_instruments(broker, rows)
                except MASTER_FAILURES as exc:
                    index = self._last_master(broker, today, exc)
                else:
                    self.cache.save(index, today)
            self._indexes[broker] = (today, index)
            return index

    def _fetch_instruments(self, broker: str, progress: ProgressCallback) -> Any:
        """The plugin's master contract, with the live session when there is one (a file
        behind the broker's auth). A session the broker says expired during the download
        is dropped and, when a login can run alone, renewed once for a second download.

        Raises:
            LoginRequiredError: the session expired and logging in needs a person.
        """
        session = self._live_session(broker)

        def fetch(with_session: Session | None) -> Any:
            return self._call(broker, "fetch_instruments", client=self.client(broker),
                              progress=progress, session=with_session)

        try:
            return fetch(session)
        except SessionExpiredError as exc:
            if session is None or isinstance(exc, LoginRequiredError):
                raise
            self.sessions.discard(session)
            if not self.can_login_alone(broker):
                raise LoginRequiredError(f"{exc.message}, and {self._needs_person(broker)}",
                                         broker=broker, code=exc.code, raw=exc.raw,
                                         status_code=exc.status_code) from exc
            return fetch(self._login_again(broker, session))

    def _last_master(self, broker: str, today: dt.date, error: BrokerError) -> InstrumentIndex:
        """The newest master cached before ``today``, for a day whose download failed.

        Raises:
            BrokerError: ``error``, when there is none.
        """
        found = self.cache.latest(broker, before=today)
        if found is None:
            raise error
        day, index = found
        log.warning("%s: today's master contract could not be downloaded (%s); using the"
                    " one of %s until `openalgo instruments %s --refresh` succeeds", broker,
                    error, day.isoformat(), broker)
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
        """Validate, journal, send one order; return the broker's acknowledgement.

        The order's tag is its idempotency key: an order whose tag is already in the
        journal is never sent again; its first outcome is returned (an unknown one is
        settled from the order book first). An outcome left unknown by a timeout, a 5xx or
        an unreadable reply is settled from the order book by tag (:class:`SettlePolicy`).
        A refusal because the session expired is sent once more after an unattended
        re-login (the broker provably did not accept it).

        Raises:
            ValidationError, UnknownSymbolError: nothing was sent or journaled.
            OrderRejectedError: the broker refused (now, or the first time).
            OrderStatusUnknownError: the order book could not settle the outcome within
                the policy's bound; ``.tag`` finds it again (the journal keeps it open).
            OrderNotPlacedError: settled as not placed (absent from the book): placing
                it again with the same tag sends it.
            AuthenticationError / SessionExpiredError: no session, and none can be had
                without a person.
        """
        order = order_from(order)
        if broker not in self._indexes:  # no session and none to be had: fail before a
            self.session(broker)  # master-contract download (then, _send checks it)
        order, instrument = self.validate_order(broker, order)
        self._reconcile_once(broker)
        claim = self.journal.claim(broker, order)
        if not claim.fresh:
            return self._outcome(broker, claim.entry, order, instrument)
        return self._send(broker, order, instrument)

    def _send(self, broker: str, order: OrderRequest, instrument: Instrument) -> OrderReceipt:
        """Send a claimed order and journal its outcome."""
        tag = order.tag
        try:
            receipt = self._with_session(
                broker, lambda session: self._call(
                    broker, "place_order", order=order, instrument=instrument, session=session,
                    credentials=self.credentials(broker), client=self.client(broker)),
                again=lambda: self.journal.resend(tag).fresh)
        except OrderRejectedError as exc:
            self.journal.reject(tag, exc.reason, exc.code)
            raise
        except OrderStatusUnknownError as exc:
            self.journal.unknown(tag, exc.message)
            return self._settle(broker, tag, exc)
        except NOT_SENT as exc:
            entry = self.journal.not_placed(tag, str(exc))
            if entry.state in (State.ACKNOWLEDGED, State.REJECTED):  # settled elsewhere
                return self._outcome(broker, entry, order, instrument)
            raise
        except BaseException as exc:  # anything else: it may have left; settle it
            self.journal.unknown(tag, f"{type(exc).__name__}: {exc}")
            raise
        if not isinstance(receipt, OrderReceipt) or not receipt.order_id:
            error = OrderStatusUnknownError(
                f"place_order returned no order id (a plugin bug); the order, tag {tag}, may be"
                " live", broker=broker, tag=tag)
            self.journal.unknown(tag, error.message)
            return self._settle(broker, tag, error)
        self.journal.acknowledge_soon(tag, receipt.order_id)  # committed off the path
        return receipt

    def _outcome(self, broker: str, entry: Entry, order: OrderRequest,
                 instrument: Instrument) -> OrderReceipt:
        """What an order already in the journal came to (its first outcome)."""
        if entry.state is State.SENT:  # another caller is sending it right now
            entry = self.journal.wait(entry.tag, self.settle_policy.wait, sleep=self._sleep)
        if entry.state is State.ACKNOWLEDGED and entry.order_id:
            return OrderReceipt(broker=broker, order_id=entry.order_id, tag=entry.tag)
        if entry.state is State.REJECTED:
            raise OrderRejectedError(entry.reason or "refused", broker=broker, code=entry.code)
        error = OrderStatusUnknownError(
            f"order {entry.tag} was sent before and its outcome is unknown ({entry.reason})",
            broker=broker, tag=entry.tag)
        try:
            return self._settle(broker, entry.tag, error)
        except OrderNotPlacedError:
            pass  # the caller is placing it again: send it (once)
        if not self.journal.claim(broker, order).fresh:  # someone else re-sent it
            entry = self.journal.get(order.tag) or entry
            return self._outcome(broker, entry, order, instrument)
        return self._send(broker, order, instrument)

    def _settle(self, broker: str, tag: str, error: OrderStatusUnknownError) -> OrderReceipt:
        """Look ``tag`` up in the order book (bounded, with back-off) and journal what it
        says: there -> its id (or its rejection); absent long enough -> not placed.

        Raises:
            OrderRejectedError: the book shows the order rejected (with the reason).
            OrderNotPlacedError: the book lacks it long enough (journaled "not placed").
            OrderStatusUnknownError: ``error``, when the book could not settle it.
        """
        policy = self.settle_policy
        for attempt in range(policy.attempts):
            self._sleep(policy.delay(attempt))
            try:
                found, shows_absence = self._look_up(broker, tag)
            except UnsupportedOperationError:
                break  # no order book to settle from
            except OpenAlgoError as exc:
                log.info("%s: settling order %s: order book unavailable (%s)", broker, tag, exc)
                continue
            if found is not None:
                return self._settled(broker, tag, found)
            entry = self.journal.get(tag)
            if shows_absence and entry is not None and self._absent_long_enough(entry):
                self.journal.not_placed(tag, "not in the broker's order book")
                raise OrderNotPlacedError(
                    f"order {tag} is not in the order book ({error.message}); nothing is"
                    " live: placing it again with the same tag sends it", broker=broker,
                    tag=tag) from error
        raise error

    def _absent_long_enough(self, entry: Entry) -> bool:
        """Whether an entry missing from the order book can be called "not placed": an
        unknown outcome after ``grace``; one still being sent (maybe by another process,
        through a timeout and a re-login) only after ``in_flight``."""
        age = self._now() - entry.updated_at
        if entry.state is State.UNKNOWN:
            return age >= self.settle_policy.grace
        return entry.state is State.SENT and age >= self.settle_policy.in_flight

    def _settled(self, broker: str, tag: str, order: Order) -> OrderReceipt:
        if order.status is OrderStatus.REJECTED:
            self.journal.reject(tag, order.reason or "rejected", None)
            raise OrderRejectedError(order.reason or "rejected by the broker", broker=broker)
        self.journal.acknowledge(tag, order.order_id)
        return OrderReceipt(broker=broker, order_id=order.order_id, tag=tag, raw=order.raw)

    def _look_up(self, broker: str, tag: str) -> tuple[Order | None, bool]:
        """The order-book row sent with ``tag`` (None: not there), and whether the book
        can show an order is absent: it is empty, or its rows echo tags (a book whose
        rows carry none could hold the order under no tag: absence proves nothing)."""
        book = self.fetch_order_book(broker)
        found = next((o for o in book if o.tag == tag), None)
        return found, not book or any(o.tag for o in book)

    def reconcile(self, broker: str | None = None) -> list[Entry]:
        """Settle every unresolved journal entry (of ``broker``, or of every broker) from
        the order book: one book read per broker. Returns the entries still unresolved.
        Called by itself before a broker's first order in this process."""
        brokers = [broker] if broker else sorted({e.broker for e in self.journal.unresolved()})
        for name in brokers:
            self._reconciled.add(name)
            entries = self.journal.unresolved(name)
            if not entries:
                continue
            try:
                rows = self.fetch_order_book(name)
            except OpenAlgoError as exc:
                log.warning("%s: cannot reconcile %d journal entries: %s", name, len(entries),
                            exc)
                continue
            book = {o.tag: o for o in rows if o.tag}
            shows_absence = not rows or bool(book)  # see _look_up
            for entry in entries:
                found = book.get(entry.tag)
                if found is not None:
                    with contextlib.suppress(OrderRejectedError):
                        self._settled(name, entry.tag, found)
                elif shows_absence and self._absent_long_enough(entry):
                    self.journal.not_placed(entry.tag, "not in the broker's order book")
        return [e for name in brokers for e in self.journal.unresolved(name)]

    def _reconcile_once(self, broker: str) -> None:
        if broker not in self._reconciled and self.journal.unresolved(broker):
            self.reconcile(broker)
        self._reconciled.add(broker)

    def journal_entries(self, broker: str | None = None, *, day: dt.date | None = None,
                        unresolved: bool = False) -> list[Entry]:
        """Journaled orders (of ``day``, IST, default today; oldest first): tags, ids,
        outcomes. ``unresolved``: every order still sent or unknown, of any day."""
        if unresolved:
            return self.journal.unresolved(broker)
        return self.journal.entries(broker=broker, day=day)

    def fetch_positions(self, broker: str) -> list[Position]:
        """The day's position book in OpenAlgo symbols; ``[]`` when empty."""
        return list(self._read(broker, "fetch_positions", instruments=True))

    def fetch_order_book(self, broker: str) -> list[Order]:
        """Every order of the day; ``[]`` when none."""
        return list(self._read(broker, "fetch_order_book", instruments=True))

    def fetch_order(self, broker: str, order_id: str) -> Order:
        """One order's current state.

        Raises:
            OrderNotFoundError: the broker knows no such order.
        """
        return cast(Order, self._read(broker, "fetch_order", instruments=True,
                                      order_id=_order_id(order_id)))

    def fetch_trade_book(self, broker: str) -> list[Trade]:
        """The day's fills; ``[]`` when none."""
        return list(self._read(broker, "fetch_trade_book", instruments=True))

    def fetch_funds(self, broker: str) -> Funds:
        return cast(Funds, self._read(broker, "fetch_funds"))

    def fetch_holdings(self, broker: str) -> list[Holding]:
        return list(self._read(broker, "fetch_holdings", instruments=True))

    def cancel_order(self, broker: str, order_id: str) -> OrderReceipt:
        """Cancel an open or trigger-pending order.

        Raises:
            OrderRejectedError: it is complete, cancelled or rejected already (read from
                the broker just before; nothing was sent), or the broker refused.
            OrderNotFoundError: no such order.
            OrderStatusUnknownError: the cancel was sent, no definitive answer.
        """
        order = self._open_order(broker, order_id, "cancelled")
        return cast(OrderReceipt, self._with_session(broker, lambda session: self._call(
            broker, "cancel_order", order=order, session=session,
            credentials=self.credentials(broker), client=self.client(broker))))

    def cancel_all_orders(self, broker: str) -> list[OrderReceipt]:
        """Cancel every open or trigger-pending order; the receipts of those cancelled (an
        order that filled in the meantime is left out, not an error)."""
        receipts = []
        for order in self.fetch_order_book(broker):
            if order.is_open:
                with contextlib.suppress(OrderRejectedError):
                    receipts.append(self.cancel_order(broker, order.order_id))
        return receipts

    def modify_order(self, broker: str, order_id: str, *, quantity: int | str | None = None,
                     price: Decimal | float | str | None = None,
                     trigger_price: Decimal | float | str | None = None,
                     pricetype: PriceType | str | None = None) -> OrderReceipt:
        """Change an open order's quantity, price, trigger or price type (what is not
        given stays as the book shows it). The result is validated like a new order
        (lot, tick, price rules) before anything is sent.

        Raises:
            ValidationError: the changed order breaks a rule (nothing was sent).
            OrderRejectedError: the order is no longer open (nothing was sent), or the
                broker refused the change.
            OrderNotFoundError, OrderStatusUnknownError: as for :meth:`cancel_order`.
        """
        order = self._open_order(broker, order_id, "modified")
        fields: dict[str, Any] = {
            "symbol": order.symbol, "exchange": order.exchange, "action": order.action,
            "product": order.product, "quantity": order.quantity,
            "pricetype": order.pricetype, "price": order.price,
            "trigger_price": order.trigger_price}
        if order.tag and TAG_PATTERN.fullmatch(order.tag):  # another app's may be any text
            fields["tag"] = order.tag
        for name, value in (("quantity", quantity), ("price", price),
                            ("trigger_price", trigger_price), ("pricetype", pricetype)):
            if value is not None:
                fields[name] = value
        if pricetype is not None:  # a new price type drops what it takes no value for
            try:
                kind: PriceType | None = PriceType(str(pricetype).strip().upper())
            except ValueError:
                kind = None  # validate_order names the bad value
            if kind in (PriceType.MARKET, PriceType.SL_M) and price is None:
                fields["price"] = 0
            if kind in (PriceType.MARKET, PriceType.LIMIT) and trigger_price is None:
                fields["trigger_price"] = 0
        change, instrument = self.validate_order(broker, fields)
        return cast(OrderReceipt, self._with_session(broker, lambda session: self._call(
            broker, "modify_order", order=order, change=change, instrument=instrument,
            session=session, credentials=self.credentials(broker),
            client=self.client(broker))))

    def _open_order(self, broker: str, order_id: str, what: str) -> Order:
        order = self.fetch_order(broker, order_id)
        if not order.is_open:
            raise OrderRejectedError(
                f"order {order_id} is {order.status}: only an open or trigger-pending order"
                f" can be {what}; nothing was sent", broker=broker, code="not_open")
        return order

    def _read(self, broker: str, hook: str, *, instruments: bool = False, **kwargs: Any) -> Any:
        """Call a read hook with a live session (and, when it maps rows back, the
        instrument index: loaded once the session is there)."""
        def call(session: Session) -> Any:
            if instruments:
                kwargs["instruments"] = self.instruments(broker)
            return self._call(broker, hook, session=session, client=self.client(broker),
                              credentials=self.credentials(broker), **kwargs)
        return self._with_session(broker, call)
