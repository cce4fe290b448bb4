"""A REST broker written as its facts; the hook bodies are written once, here.

A broker subclasses :class:`RestBroker` and supplies only what is its own:

==========================  =====================================================
fact                        what to supply
==========================  =====================================================
replies                     ``replies``: its envelopes and error tables
                            (:mod:`openalgo_core.kit.replies`)
headers                     :meth:`RestBroker.headers`: what every call carries
login steps                 :meth:`~RestBroker.stored_session` (optional: a pasted
                            token), :meth:`~RestBroker.start_login` (optional: a step that
                            runs before a code is needed, e.g. "send the OTP") and
                            :meth:`~RestBroker.finish_login` (code -> session);
                            :meth:`~RestBroker.login_url` for a browser redirect
orders                      :meth:`~RestBroker.order_call` (a :class:`Call`) and
                            ``order_id_at`` (where the id is in the reply)
positions                   :meth:`~RestBroker.positions_call` (or several:
                            :meth:`~RestBroker.positions_calls`), ``positions_at``
                            and :meth:`~RestBroker.position` (one :class:`Row`)
order book, one order       :meth:`~RestBroker.order_book_call` (or several:
                            :meth:`~RestBroker.order_book_calls`), ``order_book_at``,
                            :meth:`~RestBroker.order_row`; optionally
                            :meth:`~RestBroker.order_status_call` (else the book is read)
cancel, modify              :meth:`~RestBroker.cancel_call`, :meth:`~RestBroker.modify_call`
trades, funds, holdings     :meth:`~RestBroker.trade_book_call` (or ``trade_book_calls``)
                            + :meth:`~RestBroker.trade_row`,
                            :meth:`~RestBroker.funds_call` + :meth:`~RestBroker.funds_row`,
                            :meth:`~RestBroker.holdings_call` (or ``holdings_calls``)
                            + :meth:`~RestBroker.holding_row`
master contract             :meth:`~RestBroker.master` (download + parse, with
                            :class:`~openalgo_core.kit.builder.InstrumentBuilder`)
signing (optional)          :meth:`~RestBroker.prepare`: e.g. a checksum header
==========================  =====================================================

and gets, written once: a configured token checked and used
(:meth:`RestBroker.stored_session`); an unattended login when a TOTP secret is stored,
otherwise a code challenge that also asks for any login credential
(``CredentialField.at_login``) that is not configured; a redirect challenge for browser
logins; checks on what the user typed before anything is sent; the kind and tag of every
call stated once; every reply classified; a receipt only with an order id; strict
rows for every book (one bad row makes the reply unreadable, never a half book); an
operation the broker lacks answers :class:`~openalgo_core.errors.UnsupportedOperationError`
(the ``*_call`` a broker does not supply); sessions whose tokens can be sent.
:class:`~openalgo_core.kit.hooks.KitHooks` turns an instance into the plugin's
hookimpls. Any method may be overridden when a broker does not fit.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, NamedTuple, TypeVar

import pydantic

from ..config import Credentials, parse_url
from ..errors import (
    AuthenticationError,
    BrokerResponseError,
    ConfigurationError,
    OrderNotFoundError,
    UnsupportedOperationError,
)
from ..http import BrokerClient, ProgressCallback, RequestKind, unreadable
from ..info import BrokerInfo
from ..instruments import InstrumentIndex
from ..models import (
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
    new_session,
)
from .replies import MISSING, Replies, Reply, classify, lookup
from .rows import Row

__all__ = ["Call", "Login", "RestBroker", "printable"]

_PRINTABLE = re.compile(r"[\x21-\x7e]+")
#: Session.extra keys holding a host's base URL for this session (``url.trade``).
HOST_PREFIX = "url."
_T = TypeVar("_T")


def printable(value: str) -> bool:
    """Whether ``value`` can be sent in an HTTP header: printable ASCII, no spaces."""
    return bool(_PRINTABLE.fullmatch(value))


class Call(NamedTuple):
    """One request to the broker, as data: ``host`` is a ``BrokerInfo.base_urls`` key
    (or a host the login named for this session); ``json``, ``form`` (form fields) and
    ``content`` (bytes) are the three kinds of body; ``headers`` add to
    :meth:`RestBroker.headers`. A tuple (one is built per order): derive a variant
    with ``call._replace(...)``."""

    method: str
    host: str
    path: str
    json: Any = None
    form: Mapping[str, str] | None = None
    content: bytes | None = None
    headers: Mapping[str, str] | None = None
    params: Mapping[str, str] | None = None
    #: secrets the path carries (an API token in a login path): never logged or shown
    redact: tuple[str, ...] = ()
    #: the rate bucket (a ``BrokerInfo.rate_limits`` key) pacing this call when the broker
    #: limits it apart from the rest of its kind (``"reads.quotes"``); None: its kind's
    rate: str | None = None


@dataclass(frozen=True, slots=True)
class Login:
    """What a login step works with: the client, the credentials (configured ones plus
    what was typed for this login), the code (TOTP computed, or typed; for a redirect
    login the token the broker sent back), what :meth:`RestBroker.start_login` kept,
    and the callback's parameters."""

    client: BrokerClient
    credentials: Credentials
    code: str | None = None
    context: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)


class RestBroker:
    """The base of a kit-built broker. Class attributes state the facts; methods with
    ``raise NotImplementedError`` are the ones a broker must supply."""

    info: ClassVar[BrokerInfo]
    replies: ClassVar[Replies]
    #: paths in a successful order reply where the order id may be (first found wins)
    order_id_at: ClassVar[tuple[str, ...]] = ("data.orderid",)
    #: path of the position rows in the body; None: the envelope's data
    positions_at: ClassVar[str | None] = None
    #: the books (``"positions"``, ``"order book"``, ``"trade book"``, ``"holdings"``)
    #: whose reply lacking the rows altogether means an empty book
    books_may_be_absent: ClassVar[frozenset[str]] = frozenset()
    #: what a typed login code must look like, and how the login page asks for it
    code_pattern: ClassVar[str] = r"\d{6}"
    code_hint: ClassVar[str] = "6 digits"
    code_prompt: ClassVar[str] = "Enter the 6-digit code from your authenticator app"
    #: what the broker's login form calls each field (``"code"``, ``"client_id"``, the
    #: ``at_login`` credentials lower-cased): OpenAlgo's labels, so its users recognise
    #: the form; a field without one gets :meth:`LoginChallenge.label`'s
    field_labels: ClassVar[Mapping[str, str]] = {}
    #: for a redirect login: the callback parameter carrying the broker's token
    redirect_param: ClassVar[str] = "code"
    #: paths of the rows in the order book, trade book and holdings replies (None: the
    #: envelope's data); of the one row in an order-status reply (a list of one is read too)
    order_book_at: ClassVar[str | None] = None
    trade_book_at: ClassVar[str | None] = None
    holdings_at: ClassVar[str | None] = None
    order_status_at: ClassVar[str | None] = None

    @property
    def broker(self) -> str:
        return self.info.id

    # -- facts a broker supplies ---------------------------------------------------------
    def headers(self, credentials: Credentials, session: Session | None) -> Mapping[str, str]:
        """Headers every call carries (``session`` is None during login)."""
        return {}

    def prepare(self, call: Call, credentials: Credentials, session: Session | None) -> Call:
        """The call as it will be sent (sign it here). Default: unchanged."""
        return call

    def stored_session(self, login: Login) -> Session | None:
        """A session from a token the user configured (IndMoney's pasted access token),
        checked with the broker; None to log in with the steps below instead."""
        return None

    def start_login(self, login: Login) -> Mapping[str, str]:
        """A step before the code is needed (e.g. "send me an OTP"); what it returns is
        kept (server-side, never shown) and handed to :meth:`finish_login`. It runs when
        the login starts if every ``at_login`` credential is configured, else at the
        callback once they are typed: a broker that sends its OTP here must not make a
        credential this step needs ``at_login`` (the user would type a code not yet sent)."""
        return {}

    def finish_login(self, login: Login) -> Session:
        """The login steps from a code (``login.code``) to a session."""
        raise NotImplementedError

    def login_url(self, login: Login) -> str:
        """For ``login_style="redirect"``: the broker's login page (build it with
        ``login.client.url(host, path)``, so that a base-URL override reaches it too)."""
        raise NotImplementedError

    def order_call(self, order: OrderRequest, instrument: Instrument,
                   credentials: Credentials) -> Call:
        """The request placing ``order`` (carry ``order.tag`` in the broker's tag field)."""
        raise NotImplementedError

    def positions_call(self, credentials: Credentials) -> Call:
        raise NotImplementedError

    def positions_calls(self, credentials: Credentials) -> Sequence[Call]:
        """Every call whose rows make the book (IndMoney's four: equity and derivative,
        each delivery and intraday), merged in order. Default: :meth:`positions_call`."""
        return (self.positions_call(credentials),)

    def position(self, row: Row, instruments: InstrumentIndex) -> Position | None:
        """One position row (None: not a position, skip it)."""
        raise NotImplementedError

    def master(self, client: BrokerClient, progress: ProgressCallback,
               session: Session | None) -> list[Instrument]:
        """Download and parse the master contract (``session``: the live one, or None,
        for a file behind the broker's auth: :meth:`require_session`)."""
        raise NotImplementedError

    # The rest of the day. A ``*_call`` the broker does not supply answers
    # UnsupportedOperationError: say which in the package README, and why.
    def order_book_call(self, credentials: Credentials) -> Call:
        raise self.unsupported("the order book")

    def order_book_calls(self, credentials: Credentials) -> Sequence[Call]:
        """Every call whose rows make the order book (ICICI's: one per exchange), merged
        in order. Default: :meth:`order_book_call`."""
        return (self.order_book_call(credentials),)

    def order_row(self, row: Row, instruments: InstrumentIndex) -> Order | None:
        """One order-book row (None: not an order, skip it)."""
        raise NotImplementedError

    def order_status_call(self, order_id: str, credentials: Credentials) -> Call | None:
        """The call reading one order (its row is read by :meth:`order_row`); None: find
        it in the order book instead (the default)."""
        return None

    def cancel_call(self, order: Order, credentials: Credentials) -> Call:
        raise self.unsupported("cancelling orders")

    def modify_call(self, order: Order, change: OrderRequest, instrument: Instrument,
                    credentials: Credentials) -> Call:
        """The request turning ``order`` into ``change`` (the whole order as it should stand)."""
        raise self.unsupported("modifying orders")

    def trade_book_call(self, credentials: Credentials) -> Call:
        raise self.unsupported("the trade book")

    def trade_book_calls(self, credentials: Credentials) -> Sequence[Call]:
        """Every call whose rows make the trade book, merged in order. Default:
        :meth:`trade_book_call`."""
        return (self.trade_book_call(credentials),)

    def trade_row(self, row: Row, instruments: InstrumentIndex) -> Trade | None:
        raise NotImplementedError

    def funds_call(self, credentials: Credentials) -> Call:
        raise self.unsupported("funds")

    def funds_row(self, row: Row) -> Funds:
        """The funds reply's data (an object) as :class:`Funds`."""
        raise NotImplementedError

    def holdings_call(self, credentials: Credentials) -> Call:
        raise self.unsupported("holdings")

    def holdings_calls(self, credentials: Credentials) -> Sequence[Call]:
        """Every call whose rows make the holdings (ICICI's: one per exchange), merged in
        order. Default: :meth:`holdings_call`."""
        return (self.holdings_call(credentials),)

    def holding_row(self, row: Row, instruments: InstrumentIndex) -> Holding | None:
        raise NotImplementedError

    def unsupported(self, what: str) -> UnsupportedOperationError:
        """The error for an operation this broker's API does not offer."""
        return UnsupportedOperationError(self.broker,
                                         f"{self.info.display_name} offers no API for {what}")

    # -- written once ---------------------------------------------------------------------
    def send(self, client: BrokerClient, call: Call, *, kind: RequestKind,
             credentials: Credentials, session: Session | None = None,
             tag: str | None = None) -> Reply:
        """Send ``call`` as ``kind`` (an order with its ``tag``) and classify the reply."""
        call = self.prepare(call, credentials, session)
        base = None
        if session is not None and HOST_PREFIX + call.host in session.extra:
            base = session.extra[HOST_PREFIX + call.host].get_secret_value()
        headers = self.headers(credentials, session)
        if call.headers:
            headers = {**headers, **call.headers}
        body: dict[str, Any] = {}
        if call.json is not None:
            body["json"] = call.json
        if call.form is not None:
            body["data"] = call.form
        if call.content is not None:
            body["content"] = call.content
        if call.params:
            body["params"] = call.params
        if call.rate is not None:
            body["rate"] = call.rate
        response = client.request(call.method, client.url(call.host, call.path, base=base),
                                  kind=kind, tag=tag, headers=headers, redact=call.redact,
                                  **body)
        return classify(response, self.replies)

    def download(self, client: BrokerClient, call: Call, *, session: Session | None,
                 credentials: Credentials | None = None,
                 progress: ProgressCallback | None = None) -> bytes:
        """The file ``call`` GETs (a master contract), with the headers every call carries
        (a file behind the broker's auth), paced in ``call.rate``; a refusal in one of the
        broker's envelopes is classified like any reply, so a file refused for an expired
        session is a ``SessionExpiredError`` (the gateway then logs in again once, when it
        can) and a rate limit a ``RateLimitError``.

        ``credentials`` may be None (``fetch_instruments`` is given none): :meth:`headers`
        and :meth:`prepare` then see an empty set.

        Raises:
            SessionExpiredError, AuthenticationError, RateLimitError, BrokerResponseError,
            BrokerServerError, BrokerConnectionError: as :meth:`BrokerClient.download`.
        """
        if credentials is None:
            credentials = Credentials(self.broker, {})
        call = self.prepare(call, credentials, session)
        base = None
        if session is not None and HOST_PREFIX + call.host in session.extra:
            base = session.extra[HOST_PREFIX + call.host].get_secret_value()
        headers = {**self.headers(credentials, session), **(call.headers or {})}
        replies = self.replies
        return client.download(client.url(call.host, call.path, base=base),
                               headers=headers or None, params=call.params, progress=progress,
                               rate=call.rate, refusal=lambda reply: classify(reply, replies))

    def session(self, reply: Reply, user_id: str, access_token: Any, *,
                refresh_token: Any = None, feed_token: Any = None,
                hosts: Mapping[str, Any] | None = None,
                extra: Mapping[str, Any] | None = None) -> Session:
        """A session from what a login reply said; a token that could not be sent in a
        header later (missing, not text, non-ASCII, spaces) or a host that is not an
        http(s) URL is refused now, so a bad session is never stored.

        Raises:
            BrokerResponseError: naming the bad part (never its value).
        """
        def token(name: str, value: Any) -> str:
            if not isinstance(value, str) or not printable(value.strip()):
                raise unreadable(reply.response, self.broker,
                                 f"login reply has no usable {name}")
            return value.strip()

        values = {"url." + host: self._host(reply, host, url)
                  for host, url in (hosts or {}).items()}
        values |= {k: token(k, v) for k, v in (extra or {}).items()}
        user = token("user id", user_id) if user_id else ""
        return new_session(
            self.broker, user, token("access token", access_token),
            refresh_token=token("refresh token", refresh_token) if refresh_token else None,
            feed_token=token("feed token", feed_token) if feed_token else None,
            extra=values, expiry_hour=self.info.session_expiry_hour_ist)

    def _host(self, reply: Reply, host: str, url: Any) -> str:
        try:
            if not isinstance(url, str):
                raise ConfigurationError("not text")
            parse_url(url.strip(), f"the {host} URL")
        except ConfigurationError:
            raise unreadable(reply.response, self.broker,
                             f"login reply names no usable URL for {host}") from None
        return url.strip().rstrip("/")

    def order_id(self, reply: Reply) -> str | None:
        """The order id at the first of ``order_id_at`` holding text or a number."""
        for path in self.order_id_at:
            value = lookup(reply.body, path)
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if isinstance(value, str) and printable(value.strip()) and len(value) <= 64:
                return value.strip()
        return None

    # -- the hooks ------------------------------------------------------------------------
    def authenticate(self, credentials: Credentials,
                     client: BrokerClient) -> Session | LoginChallenge:
        """Unattended with a TOTP secret and every login credential configured; else a
        challenge: the broker's page (redirect), or a form asking for the code and for
        every ``at_login`` credential that is not configured."""
        login = Login(client, credentials)
        if self.info.login_style == "redirect":
            return LoginChallenge(broker=self.broker, kind="url", url=self.login_url(login),
                                  prompt="Log in on the broker's page; it sends you back here",
                                  fields=(self.redirect_param,))
        stored = self.stored_session(login)
        if stored is not None:
            return stored
        missing = [f for f in self.info.credentials if f.at_login and not credentials.get(f.name)]
        context = self.start_login(login) if not missing else {}
        if not missing and credentials.get("TOTP_SECRET"):
            return self.finish_login(replace(login, code=credentials.totp(), context=context))
        # the code is asked for only when it cannot be computed (at the callback, with
        # the typed credentials, when a TOTP secret is stored)
        fields = (*(f.name.lower() for f in missing),
                  *(() if credentials.get("TOTP_SECRET") else ("code",)))
        secret = tuple(f.name.lower() for f in missing if f.secret)
        prompt = self.code_prompt if "code" in fields else "Enter what the login needs"
        return LoginChallenge(broker=self.broker, kind="code", prompt=prompt,
                              fields=fields, secret_fields=secret, context=dict(context),
                              resendable=bool(context) and "code" in fields,
                              labels={f: self.field_labels[f] for f in fields
                                      if f in self.field_labels})

    def handle_callback(self, credentials: Credentials, client: BrokerClient,
                        challenge: LoginChallenge, params: Mapping[str, str]) -> Session:
        """Check what was typed (or sent back) before anything is sent, then finish."""
        if challenge.kind == "url":
            token = (params.get(self.redirect_param) or "").strip()
            if not printable(token) or len(token) > 1024:
                raise AuthenticationError(f"the broker sent back no usable {self.redirect_param}",
                                          broker=self.broker)
            return self.finish_login(Login(client, credentials, token, challenge.context,
                                           params))
        typed: dict[str, str] = {}
        for name in challenge.fields:
            if name == "code":
                continue
            value = (params.get(name) or "").strip()
            if not printable(value) or len(value) > 256:
                raise AuthenticationError(f"{name.replace('_', ' ')} is required (printable,"
                                          " no spaces)", broker=self.broker)
            typed[name.upper()] = value
        code = (params.get("code") or "").strip() if "code" in challenge.fields \
            else credentials.totp() or ""
        if not re.fullmatch(self.code_pattern, code) or not code.isascii():
            raise AuthenticationError(f"the code must be {self.code_hint}; nothing was sent",
                                      broker=self.broker)
        login = Login(client, credentials.with_values(typed) if typed else credentials, code,
                      challenge.context, params)
        if not challenge.context:
            login = replace(login, context=self.start_login(login))
        return self.finish_login(login)

    def place_order(self, order: OrderRequest, instrument: Instrument, session: Session,
                    credentials: Credentials, client: BrokerClient) -> OrderReceipt:
        """A receipt only with the broker's order id; a success without one is status
        unknown (with the tag), never a receipt."""
        reply = self.send(client, self.order_call(order, instrument, credentials),
                          kind="order", tag=order.tag, credentials=credentials,
                          session=session)
        order_id = self.order_id(reply)
        if order_id is None:
            raise unreadable(reply.response, self.broker, "success without an order id")
        return OrderReceipt(broker=self.broker, order_id=order_id, tag=order.tag,
                            raw=reply.body)

    def fetch_positions(self, session: Session, credentials: Credentials, client: BrokerClient,
                        instruments: InstrumentIndex) -> list[Position]:
        """Every row of every :meth:`positions_calls` reply as a :class:`Position`; an
        empty book (null, ``[]``, an "empty" reply) is ``[]``; any unreadable row makes
        the whole reply unreadable."""
        return self.books(self.positions_calls(credentials), session, credentials, client,
                          lambda reply: self._positions(reply, instruments))

    def _positions(self, reply: Reply, instruments: InstrumentIndex) -> list[Position]:
        return self.rows(reply, self.positions_at, "positions",
                         lambda row: self.position(row, instruments))

    def rows(self, reply: Reply, at: str | None, what: str,
             build: Callable[[Row], _T | None]) -> list[_T]:
        """Every row of a book reply built by ``build`` (None: skip the row). An empty
        reply, null rows (or absent ones, for the books in ``books_may_be_absent``) are
        ``[]``; rows that are not a list, or any row that cannot be read, make the whole
        reply unreadable."""
        if reply.empty:
            return []
        rows = reply.data if at is None else lookup(reply.body, at)
        if rows is None or (rows is MISSING and what in self.books_may_be_absent):
            return []
        if not isinstance(rows, list):
            raise unreadable(reply.response, self.broker, f"{what} are not a list")
        found = [self._row(reply, raw, what, build) for raw in rows]
        return [item for item in found if item is not None]

    def _row(self, reply: Reply, raw: Any, what: str, build: Callable[[Row], _T]) -> _T:
        try:
            return build(Row(raw, what=f"{what} row", broker=self.broker))
        except pydantic.ValidationError as exc:
            raise unreadable(reply.response, self.broker,
                             f"{what} row not valid ({exc.errors()[0]['loc']})") from None
        except BrokerResponseError as exc:
            raise unreadable(reply.response, self.broker, exc.message) from None

    def books(self, calls: Sequence[Call], session: Session, credentials: Credentials,
              client: BrokerClient, read: Callable[[Reply], list[_T]]) -> list[_T]:
        """Every call of a book (``*_calls``) read, their rows (``read(reply)``) merged in
        order."""
        found: list[_T] = []
        for call in calls:
            found += read(self._read(call, session, credentials, client))
        return found

    def _read(self, call: Call, session: Session, credentials: Credentials,
              client: BrokerClient, tag: str | None = None) -> Reply:
        return self.send(client, call, kind="read", credentials=credentials, session=session,
                         tag=tag)

    def fetch_order_book(self, session: Session, credentials: Credentials,
                         client: BrokerClient, instruments: InstrumentIndex) -> list[Order]:
        return self.books(self.order_book_calls(credentials), session, credentials, client,
                          lambda reply: self.rows(reply, self.order_book_at, "order book",
                                                  lambda row: self.order_row(row, instruments)))

    def fetch_order(self, order_id: str, session: Session, credentials: Credentials,
                    client: BrokerClient, instruments: InstrumentIndex) -> Order:
        """By :meth:`order_status_call` when the broker has one (sent with the order id as
        its tag, so ``replies.not_found`` can name it), else from the book.

        Raises:
            OrderNotFoundError: no order with this id.
        """
        call = self.order_status_call(order_id, credentials)
        if call is None:
            book = self.fetch_order_book(session, credentials, client, instruments)
        else:
            reply = self._read(call, session, credentials, client, tag=order_id)
            data = reply.data if self.order_status_at is None else lookup(
                reply.body, self.order_status_at)
            rows = [data] if isinstance(data, Mapping) else data
            book = self.rows(reply._replace(data=rows), None, "order",
                             lambda row: self.order_row(row, instruments))
        for order in book:
            if order.order_id == order_id:
                return order
        raise OrderNotFoundError(order_id, broker=self.broker)

    def cancel_order(self, order: Order, session: Session, credentials: Credentials,
                     client: BrokerClient) -> OrderReceipt:
        return self._change(self.cancel_call(order, credentials), order, session,
                            credentials, client)

    def modify_order(self, order: Order, change: OrderRequest, instrument: Instrument,
                     session: Session, credentials: Credentials,
                     client: BrokerClient) -> OrderReceipt:
        return self._change(self.modify_call(order, change, instrument, credentials), order,
                            session, credentials, client)

    def _change(self, call: Call, order: Order, session: Session, credentials: Credentials,
                client: BrokerClient) -> OrderReceipt:
        """Send a cancel or modify as an order (never resent once it left); the receipt
        names the broker's id when the reply has one, else the order's."""
        reply = self.send(client, call, kind="order", tag=order.tag or order.order_id,
                          credentials=credentials, session=session)
        return OrderReceipt(broker=self.broker, order_id=self.order_id(reply) or order.order_id,
                            tag=order.tag, raw=reply.body)

    def fetch_trade_book(self, session: Session, credentials: Credentials,
                         client: BrokerClient, instruments: InstrumentIndex) -> list[Trade]:
        return self.books(self.trade_book_calls(credentials), session, credentials, client,
                          lambda reply: self.rows(reply, self.trade_book_at, "trade book",
                                                  lambda row: self.trade_row(row, instruments)))

    def fetch_funds(self, session: Session, credentials: Credentials,
                    client: BrokerClient) -> Funds:
        reply = self._read(self.funds_call(credentials), session, credentials, client)
        if not isinstance(reply.data, Mapping):
            raise unreadable(reply.response, self.broker, "funds are not an object")
        return self._row(reply, reply.data, "funds", self.funds_row)

    def fetch_holdings(self, session: Session, credentials: Credentials,
                       client: BrokerClient, instruments: InstrumentIndex) -> list[Holding]:
        return self.books(self.holdings_calls(credentials), session, credentials, client,
                          lambda reply: self.rows(reply, self.holdings_at, "holdings",
                                                  lambda row: self.holding_row(row, instruments)))

    def fetch_instruments(self, client: BrokerClient, progress: ProgressCallback,
                          session: Session | None) -> list[Instrument]:
        return self.master(client, progress, session)

    def require_session(self, session: Session | None) -> Session:
        """``session``, for a master contract behind the broker's auth.

        Raises:
            AuthenticationError: not logged in.
        """
        if session is None:
            raise AuthenticationError(f"log in first: the {self.info.display_name} master"
                                      f" contract needs a session (openalgo login"
                                      f" {self.broker})", broker=self.broker)
        return session
