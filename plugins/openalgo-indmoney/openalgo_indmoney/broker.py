"""IndMoney's INDstocks API as facts on the core's broker kit (brokers/indmoney 3).

- Replies: ``{"status": "success"|"error", "message", "error_type", "data"}`` (refusals
  carry an HTTP 4xx; ``TokenException`` is the session's end, ``UserException`` an
  account or static IP the broker does not allow); the instruments and quotes shape
  ``{"message", "success": false}``; a bare ``{"token": ...}`` from token generation
  (⚠ its envelope is "not yet confirmed" by the docs). The legacy
  ``{"status": "failure", "error": {"msg": ...}}`` (OpenAlgo reads its ``no order number
  in rs response`` as placed) is a status this plugin does not know: for an order, status
  unknown with its tag, settled from the order book; never a success.
- Login, two ways: the dashboard token pasted as ``BROKER_API_SECRET``, checked with
  ``GET /user/profile`` and sent raw in ``Authorization`` (no ``Bearer``); or
  ``POST /generate/token`` with the Client ID as ``x-api-key``, the MPIN and the TOTP,
  unattended when the TOTP secret is stored. Generation is never retried and never
  looped: a refused one holds further unattended attempts with the same credentials for
  15 minutes (5 wrong codes lock the account out), a throttled one for a minute.
- Orders: MARKET and LIMIT on ``/order``; SL and SL-M only as smart ``TRIGGER`` orders on
  ``/smart/order`` (NSE only; SL-M with a protective limit); the core's tag in
  ``remarks`` (echoed by both books). Modify and cancel on ``/order/...`` or
  ``/smart/order/...`` by the order's kind; one order by ``GET /order`` with a JSON body.
- Books: the four position queries merged and valued at last prices fetched from
  ``/market/quotes/ltp`` (the rows carry none); holdings likewise; the trade book per
  segment, joined to the order book by exchange order id (its rows carry no side or
  product); ``/funds``. Master contract: :mod:`.instruments`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, ClassVar, Final, NamedTuple

from openalgo_core import (
    AuthenticationError,
    BrokerClient,
    BrokerResponseError,
    Credentials,
    Instrument,
    InstrumentIndex,
    LoginChallenge,
    OrderRequest,
    Position,
    RateLimitError,
    Session,
    SessionExpiredError,
    UnsupportedOperationError,
    ValidationError,
)
from openalgo_core.http import ProgressCallback, RequestKind
from openalgo_core.kit import ANY, Call, Codes, Envelope, Login, Replies, RestBroker, Row, lookup
from openalgo_core.kit.replies import Reply
from openalgo_core.kit.symbols import future_symbol, option_symbol
from openalgo_core.models import Funds, Holding, Order, Trade

from . import INFO, mapping
from .instruments import SOURCES, parse_instruments
from .mapping import (
    ALGO_IDS,
    DERIVATIVE_EXCHANGES,
    EXCHANGES_BACK,
    ORDER_TYPES_BACK,
    POSITION_QUERIES,
    PRODUCTS,
    PRODUCTS_BACK,
    QUOTES_PER_CALL,
    RESERVED_REMARKS,
    SCRIP_SEGMENTS,
    SEGMENT_PRODUCTS,
    SEGMENTS,
    SLM_PROTECTION,
    SMART_EXCHANGES,
    SMART_TYPES,
    STATUSES,
    TRADE_SEGMENTS,
)

__all__ = ["REPLIES", "IndMoneyBroker", "order_body", "smart_limit"]

log = logging.getLogger("openalgo.indmoney")

TOKEN_PATH: Final = "/generate/token"  # noqa: S105 (a path)
PROFILE_PATH: Final = "/user/profile"
ORDER_PATH: Final = "/order"
MODIFY_PATH: Final = "/order/modify"
CANCEL_PATH: Final = "/order/cancel"
SMART_ORDER_PATH: Final = "/smart/order"
SMART_MODIFY_PATH: Final = "/smart/order/modify"
SMART_CANCEL_PATH: Final = "/smart/order/cancel"
ORDER_BOOK_PATH: Final = "/order-book"
TRADE_BOOK_PATH: Final = "/trade-book"
POSITIONS_PATH: Final = "/portfolio/positions"
HOLDINGS_PATH: Final = "/portfolio/holdings"
FUNDS_PATH: Final = "/funds"
LTP_PATH: Final = "/market/quotes/ltp"
INSTRUMENTS_PATH: Final = "/market/instruments"
DASHBOARD: Final = "indstocks.com/app/api-trading/access-tokens"

#: Where a generated token may be in the reply (⚠ the docs name the field ``token`` but
#: not its envelope; OpenAlgo accepts all four).
TOKEN_AT: Final = ("data.token", "token", "data.access_token", "access_token")
#: How long a refused unattended token generation holds further ones with the same
#: credentials (INDstocks locks an account out after 5 wrong codes in 15 minutes), and a
#: throttled one (one generation a minute).
REFUSED_HOLD: Final = 15 * 60.0
THROTTLED_HOLD: Final = 60.0
#: Order-book and trade-book time stamps (IST, with their offset).
TIMES: Final = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")
#: ``drv_expiry_date`` of position rows: ``07/16/2026 14:00``.
POSITION_EXPIRY: Final = ("%m/%d/%Y %H:%M", "%m/%d/%Y")

REPLIES: Final = Replies(
    broker=INFO.id,
    envelopes=(
        Envelope(status="status", ok=("success",), failed=("error",),
                 code=("error_type", "error_code"),
                 message=("message", "debug_info", "error.msg"), data="data"),
        # instruments and quotes failures; the option chain's rate-limit reply
        Envelope(status="success", ok=("true",), failed=("false",),
                 message=("message", "error", "debug_info")),
        # token generation, should it answer without a status (⚠ unconfirmed)
        Envelope(status="token", ok=(ANY,)),
        Envelope(status="access_token", ok=(ANY,)),
    ),
    # an expired, revoked or replaced token: 403 (sometimes 401) TokenException; the
    # quotes and instruments shape has no error_type (⚠ matched by its text)
    session_expired=Codes(codes=("TokenException",), http=(401,),
                          messages=("access token", "token expired", "expired token",
                                    "invalid token")),
    # an account or segment not activated; ⚠ an order from an IP not whitelisted
    unauthorized=Codes(codes=("UserException",), messages=("static ip", "whitelist")),
    rate_limited=Codes(http=(429,), messages=("rate limit exceeded", "too many requests")),
    # GET /order of an order INDstocks does not know
    not_found=Codes(codes=("NotFoundException",), http=(404,)),
    code=("error_type", "error_code"),
    message=("message", "debug_info", "error"),
)


def _number(value: Decimal) -> int | float:
    """A price as a JSON number (an int when whole): ``limit_price`` is a number."""
    return int(value) if value == value.to_integral_value() else float(value)


def _reject(message: str, field: str) -> ValidationError:
    return ValidationError(f"{INFO.display_name}: {message}; nothing was sent", field=field)


def smart_limit(order: OrderRequest, instrument: Instrument) -> Decimal:
    """The ``trigger_limit_price`` of a stop: an SL's own price; for an SL-M (INDstocks has
    no market-on-trigger) a protective limit :data:`~.mapping.SLM_PROTECTION` beyond the
    trigger, on the tick and at least one tick away."""
    if order.pricetype.value == "SL":
        return order.price
    tick, trigger = instrument.tick_size, order.trigger_price
    reach = max(trigger * SLM_PROTECTION, tick)
    if order.action.value == "BUY":
        return ((trigger + reach) / tick).to_integral_value(ROUND_CEILING) * tick
    floor = ((trigger - reach) / tick).to_integral_value(ROUND_FLOOR) * tick
    return max(floor, tick)


def order_body(order: OrderRequest, instrument: Instrument) -> tuple[str, dict[str, Any]]:
    """The path and body placing ``order``: ``/order`` for MARKET and LIMIT, ``/smart/order``
    (``order_type: TRIGGER``) for SL and SL-M. ``remarks`` carries the core's tag.

    Raises:
        ValidationError: what INDstocks cannot take (a stop off NSE, a product its segment
            lacks, a disclosed quantity, a reserved remark): nothing is sent.
    """
    exchange, segment = SEGMENTS[order.exchange.value]
    product = order.product.value
    if product not in SEGMENT_PRODUCTS[segment]:
        raise _reject(f"{product} is not a product of the {segment.lower()} segment (take"
                      f" {' or '.join(sorted(SEGMENT_PRODUCTS[segment]))})", "product")
    if order.disclosed_quantity:
        raise _reject("INDstocks orders have no disclosed quantity", "disclosed_quantity")
    if order.tag.strip().upper() in RESERVED_REMARKS:
        raise _reject(f"the tag {order.tag!r} is reserved by INDstocks", "tag")
    body: dict[str, Any] = {
        "txn_type": order.action.value, "exchange": exchange, "segment": segment,
        "product": PRODUCTS[product], "validity": "DAY", "security_id": instrument.token,
        "qty": order.quantity, "algo_id": ALGO_IDS[exchange], "remarks": order.tag,
    }
    pricetype = order.pricetype.value
    if pricetype in ("MARKET", "LIMIT"):
        body.update(order_type=pricetype, is_amo=False)
        if pricetype == "LIMIT":
            body["limit_price"] = _number(order.price)
        return ORDER_PATH, body
    if exchange not in SMART_EXCHANGES:
        raise _reject(f"stop orders ({pricetype}) go through smart orders, taken on NSE"
                      f" only, not {order.exchange.value}", "pricetype")
    body.update(order_type="TRIGGER", trigger_price=_number(order.trigger_price),
                trigger_limit_price=_number(smart_limit(order, instrument)))
    return SMART_ORDER_PATH, body


class _Held(NamedTuple):
    """A position or holding row before it is valued at its last price."""

    symbol: str
    exchange: str
    product: str
    quantity: int
    average_price: Decimal
    realised: Decimal
    code: str  # the scrip code quoted: NSE_2885


def _smart(order_type: str, order_id: str) -> bool:
    """Whether a book row is a smart order (modified and cancelled on ``/smart/...``)."""
    return order_id.startswith("GTT-") or order_type.upper().startswith(SMART_TYPES)


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


def _can_generate(credentials: Credentials) -> bool:
    return all(credentials.get(name) for name in ("API_KEY", "PIN", "TOTP_SECRET"))


class IndMoneyBroker(RestBroker):
    """INDstocks: what differs from any other REST broker."""

    info = INFO
    replies = REPLIES
    order_id_at = ("data.order_id", "data.order_data.0.order_id")
    code_prompt = "Enter the 6-digit code from the authenticator app linked to INDstocks"
    #: OpenAlgo's IndMoney login takes a pasted token and has no form: INDstocks' own words
    field_labels: ClassVar[Mapping[str, str]] = {
        "api_key": "Client ID", "pin": "MPIN", "code": "TOTP"}

    def __init__(self) -> None:
        #: fingerprints of pasted tokens the broker refused (checked once per process)
        self._refused_tokens: set[str] = set()
        #: fingerprint of token-generation credentials -> (monotonic time until which
        #: unattended generation is held, why)
        self._holds: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def headers(self, credentials: Credentials, session: Session | None) -> Mapping[str, str]:
        if session is None:
            return {}
        return {"Authorization": session.access_token.get_secret_value()}

    def send(self, client: BrokerClient, call: Call, *, kind: RequestKind,
             credentials: Credentials, session: Session | None = None,
             tag: str | None = None) -> Reply:
        """The kit's send; an expired session without the means to generate a token says
        how to get a fresh one."""
        try:
            return super().send(client, call, kind=kind, credentials=credentials,
                                session=session, tag=tag)
        except SessionExpiredError as exc:
            raise self._hinted(exc, credentials, session) from exc

    def download(self, client: BrokerClient, call: Call, *, session: Session | None,
                 credentials: Credentials | None = None,
                 progress: ProgressCallback | None = None) -> bytes:
        try:
            return super().download(client, call, session=session, credentials=credentials,
                                    progress=progress)
        except SessionExpiredError as exc:
            raise self._hinted(exc, credentials, session) from exc

    def _hinted(self, exc: SessionExpiredError, credentials: Credentials | None,
                session: Session | None) -> SessionExpiredError:
        if session is None or (credentials is not None and _can_generate(credentials)):
            return exc
        return SessionExpiredError(
            f"{exc.message}; the access token has expired or was revoked: paste a fresh one"
            f" from {DASHBOARD} into BROKER_API_SECRET (or store the Client ID, MPIN and TOTP"
            f" secret to generate tokens unattended)", broker=self.broker, code=exc.code,
            raw=exc.raw, status_code=exc.status_code)

    # -- login ---------------------------------------------------------------------------
    def stored_session(self, login: Login) -> Session | None:
        """The dashboard token pasted as ``BROKER_API_SECRET``, checked with the profile
        call. Refused (expired, revoked, mistyped): None, so the login generates a token
        or asks for what it needs; it is not checked again in this process."""
        pasted = login.credentials.get("API_SECRET")
        if not pasted:
            return None
        key = _fingerprint(pasted)
        if key in self._refused_tokens:
            return None
        try:
            reply = self.send(login.client, Call("GET", "api", PROFILE_PATH,
                                                 headers={"Authorization": pasted}),
                              kind="read", credentials=login.credentials)
        except AuthenticationError as exc:  # SessionExpiredError is one
            with self._lock:
                self._refused_tokens.add(key)
            log.warning("%s: the access token in BROKER_API_SECRET was refused (%s)",
                        self.broker, exc.message)
            return None
        data = reply.data if isinstance(reply.data, Mapping) else {}
        user = data.get("user_id")
        return self.session(reply, str(user) if isinstance(user, str | int) else "",
                            pasted)

    def authenticate(self, credentials: Credentials,
                     client: BrokerClient) -> Session | LoginChallenge:
        """The pasted token when it works; else a generated one, unattended with the TOTP
        secret, else a form for what is missing (saying the pasted token was refused)."""
        result = super().authenticate(credentials, client)
        if isinstance(result, LoginChallenge) and credentials.get("API_SECRET"):
            result = result.model_copy(update={"prompt": (
                f"The access token in BROKER_API_SECRET was refused (expired or revoked):"
                f" paste a fresh one from {DASHBOARD}, or generate one here with your Client"
                f" ID, MPIN and the code from your authenticator app")})
        return result

    def finish_login(self, login: Login) -> Session:
        """``POST /generate/token`` (``x-api-key``: the Client ID; MPIN and TOTP as
        strings): sent once, never retried; a refusal holds the next unattended attempt
        with the same credentials (a looping client would lock the account out)."""
        client_id, pin = login.credentials.require("API_KEY", "PIN")
        secret = login.credentials.get("TOTP_SECRET")
        key = _fingerprint(client_id, pin, secret) if secret else None
        self._check_hold(key)
        try:
            reply = self.send(login.client, Call(
                "POST", "api", TOKEN_PATH, json={"mpin": pin, "totp": login.code or ""},
                headers={"x-api-key": client_id}), kind="login", credentials=login.credentials)
        except RateLimitError as exc:
            self._hold(key, exc.retry_after or THROTTLED_HOLD, "throttled")
            raise
        except AuthenticationError as exc:
            self._hold(key, REFUSED_HOLD, f"refused: {exc.message}")
            raise
        token = next((value for value in (lookup(reply.body, path) for path in TOKEN_AT)
                      if isinstance(value, str) and value.strip()), None)
        session = self.session(reply, client_id, token)
        if key is not None:
            with self._lock:
                self._holds.pop(key, None)
        return session

    def _check_hold(self, key: str | None) -> None:
        if key is None:
            return
        with self._lock:
            until, why = self._holds.get(key, (0.0, ""))
        left = until - time.monotonic()
        if left > 0:
            raise AuthenticationError(
                f"the last token generation with these credentials was {why}; not sent again"
                f" for {left / 60:.1f} more minutes (INDstocks locks the account out after 5"
                f" wrong codes in 15 minutes): fix the Client ID, MPIN or TOTP secret, or"
                f" wait", broker=self.broker)

    def _hold(self, key: str | None, seconds: float, why: str) -> None:
        if key is not None:
            with self._lock:
                self._holds[key] = (time.monotonic() + seconds, why)

    # -- orders ----------------------------------------------------------------------------
    def order_call(self, order: OrderRequest, instrument: Instrument,
                   credentials: Credentials) -> Call:
        path, body = order_body(order, instrument)
        return Call("POST", "api", path, json=body)

    def order_status_call(self, order_id: str, credentials: Credentials) -> Call | None:
        """``GET /order`` with a JSON body for an ``EQ-``/``DRV-`` id (the segment is in the
        prefix); any other id is found in the order book."""
        segment = {"EQ-": "EQUITY", "DRV-": "DERIVATIVE"}.get(order_id[:order_id.find("-") + 1])
        if segment is None:
            return None
        return Call("GET", "api", ORDER_PATH, json={"order_id": order_id, "segment": segment})

    def order_book_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", ORDER_BOOK_PATH)

    def order_row(self, row: Row, instruments: InstrumentIndex) -> Order:
        """One order-book (or ``GET /order``) row. A smart row (``GTT_LIMIT``, ``TRIGGER``,
        ``OCO``...) is an SL with its prices in ``tgt_*`` (or ``sl_*``); one that has not
        reached the exchange yet (no exchange order id) waits for its trigger."""
        order_id = row.text("id")
        order_type = row.text("order_type")
        smart = _smart(order_type, order_id)
        status = _status(row)
        if smart and status == "open" and not row.has("exch_order_id") \
                and not row.whole("traded_qty", 0):
            status = "trigger pending"
        pricetype = ORDER_TYPES_BACK.get(order_type.upper()) or ("SL" if smart else None)
        if pricetype is None:
            raise row.fail("order_type", "is not an order type INDstocks documents")
        if smart:
            trigger = _first(row, "tgt_trigger_price", "sl_trigger_price", "trigger_price")
            price = _first(row, "tgt_limit_price", "sl_limit_price", "requested_price")
        else:
            trigger, price = Decimal(0), row.decimal("requested_price", 0)
        exchange = self._exchange(row, instruments)
        return Order(
            broker=self.broker, order_id=order_id,
            symbol=self._symbol(row, exchange, instruments, row.text("name", order_id)),
            exchange=exchange, action=row.text("txn_type"), quantity=row.whole("requested_qty"),
            pricetype=pricetype, product=row.lookup("product", PRODUCTS_BACK), price=price,
            trigger_price=trigger, status=status, filled_quantity=row.whole("traded_qty", 0),
            average_price=row.decimal("traded_price", 0), reason=row.text("extra_info", ""),
            tag=row.text("remarks", "") or None, timestamp=row.stamp("updated_at", *TIMES),
            raw=row.data)

    def cancel_call(self, order: Order, credentials: Credentials) -> Call:
        path = SMART_CANCEL_PATH if _smart(_raw(order, "order_type"), order.order_id) \
            else CANCEL_PATH
        return Call("POST", "api", path,
                    json={"order_id": order.order_id, "segment": _segment(order)})

    def modify_call(self, order: Order, change: OrderRequest, instrument: Instrument,
                    credentials: Credentials) -> Call:
        """A regular order's quantity and limit price (``/order/modify``); a smart stop's
        quantity, trigger and limit (``/smart/order/modify``, ``order_type`` TRIGGER as
        placed). Turning one kind into the other is not an operation INDstocks has.

        Raises:
            UnsupportedOperationError: a regular order made a stop, or a stop made a
                regular order (cancel it and place a new one).
            ValidationError: a regular order without a limit price to send.
        """
        segment = _segment(order)
        wanted = change.pricetype.value
        if _smart(_raw(order, "order_type"), order.order_id):
            if wanted not in ("SL", "SL-M"):
                raise UnsupportedOperationError(self.broker, (
                    f"{INFO.display_name} cannot turn a stop order into a {wanted} order:"
                    " cancel it and place a new one"))
            exchange = SEGMENTS[change.exchange.value][0]
            return Call("POST", "api", SMART_MODIFY_PATH, json={
                "order_id": order.order_id, "segment": segment, "algo_id": ALGO_IDS[exchange],
                "order_type": "TRIGGER", "qty": change.quantity,
                "trigger_price": _number(change.trigger_price),
                "trigger_limit_price": _number(smart_limit(change, instrument))})
        if wanted in ("SL", "SL-M"):
            raise UnsupportedOperationError(self.broker, (
                f"{INFO.display_name} cannot turn a {order.pricetype.value} order into a stop"
                " (stops are smart orders): cancel it and place a new one"))
        if change.price <= 0:
            raise _reject("a regular order is modified with its quantity and a limit price:"
                          " give the price", "price")
        return Call("POST", "api", MODIFY_PATH, json={
            "order_id": order.order_id, "segment": segment, "qty": change.quantity,
            "limit_price": _number(change.price)})

    # -- positions, holdings and their last prices ------------------------------------------
    def positions_calls(self, credentials: Credentials) -> Sequence[Call]:
        return tuple(Call("GET", "api", POSITIONS_PATH,
                          params={"segment": segment, "product": product})
                     for segment, product in POSITION_QUERIES)

    def fetch_positions(self, session: Session, credentials: Credentials, client: BrokerClient,
                        instruments: InstrumentIndex) -> list[Position]:
        """The four position books merged, each row valued at its last price (the rows
        carry none): P&L = realised + (LTP - average) x net quantity."""
        held: list[_Held] = []
        for call in self.positions_calls(credentials):
            reply = self._read(call, session, credentials, client)
            held += self.rows(reply, None, "positions",
                              lambda row: self._position(row, instruments))
        prices = self.last_prices([h.code for h in held], session, credentials, client,
                                  needed={h.code for h in held if h.quantity})
        return [Position(symbol=h.symbol, exchange=h.exchange, product=h.product,
                         quantity=h.quantity, average_price=h.average_price,
                         ltp=prices.get(h.code, Decimal(0)),
                         pnl=h.realised + (prices[h.code] - h.average_price) * h.quantity
                         if h.quantity else h.realised)
                for h in held]

    def _position(self, row: Row, instruments: InstrumentIndex) -> _Held:
        token = row.text("security_id")
        exchange = self._exchange(row, instruments)
        symbol = self._symbol(row, exchange, instruments, _derivative_symbol(row))
        return _Held(symbol, exchange, row.lookup("product", PRODUCTS_BACK),
                     row.whole("net_qty"), row.decimal("avg_price", 0),
                     row.decimal("realized_profit", 0), f"{SCRIP_SEGMENTS[exchange]}_{token}")

    def holdings_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", HOLDINGS_PATH)

    def fetch_holdings(self, session: Session, credentials: Credentials,
                       client: BrokerClient, instruments: InstrumentIndex) -> list[Holding]:
        """Holdings (demat and T1: ``total_qty``), valued at last prices fetched for them."""
        reply = self._read(self.holdings_call(credentials), session, credentials, client)
        held = self.rows(reply, None, "holdings", lambda row: self._holding(row, instruments))
        codes = [h.code for h in held]
        prices = self.last_prices(codes, session, credentials, client, needed=set(codes))
        return [Holding(symbol=h.symbol, exchange=h.exchange, quantity=h.quantity,
                        average_price=h.average_price, ltp=prices[h.code],
                        pnl=(prices[h.code] - h.average_price) * h.quantity) for h in held]

    def _holding(self, row: Row, instruments: InstrumentIndex) -> _Held | None:
        """A holding row (no exchange in it: its security id is looked up on NSE, then
        BSE); nothing held: None. The quantity is :data:`~.mapping.HOLDING_QUANTITY`."""
        quantity = row.whole(mapping.HOLDING_QUANTITY)
        if quantity <= 0:
            return None
        token = row.text("security_id")
        for exchange in ("NSE", "BSE"):
            found = instruments.by_token(token, SCRIP_SEGMENTS[exchange])
            if found is not None:
                return _Held(found.symbol, exchange, "CNC", quantity, row.decimal("avg_price"),
                             Decimal(0), f"{exchange}_{token}")
        raise row.fail("security_id", "is no cash listing of today's master contract")

    def last_prices(self, codes: Iterable[str], session: Session, credentials: Credentials,
                    client: BrokerClient, *, needed: set[str]) -> dict[str, Decimal]:
        """The last price of each scrip code (``NSE_2885``), from ``/market/quotes/ltp``
        (1,000 codes a call, paced as quotes).

        Raises:
            BrokerResponseError: a code in ``needed`` that the reply does not price.
        """
        wanted = sorted(set(codes))
        prices: dict[str, Decimal] = {}
        for start in range(0, len(wanted), QUOTES_PER_CALL):
            chunk = wanted[start:start + QUOTES_PER_CALL]
            reply = self._read(Call("GET", "api", LTP_PATH, params={
                "scrip-codes": ",".join(chunk)}, rate="reads.quotes"), session, credentials,
                client)
            data = reply.data
            if not isinstance(data, Mapping):
                raise BrokerResponseError("the quotes reply holds no prices",
                                          broker=self.broker, raw=reply.response.content)
            for code in chunk:
                quote = data.get(code)
                if quote is not None:
                    prices[code] = self._row(reply, quote, "quote",
                                             lambda row: row.decimal("live_price"))
        missing = sorted(needed - prices.keys())
        if missing:
            raise BrokerResponseError(f"no last price for {', '.join(missing[:5])} in the"
                                      " quotes reply", broker=self.broker)
        return prices

    # -- trades and funds ------------------------------------------------------------------
    def trade_book_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", TRADE_BOOK_PATH, params={"segment": TRADE_SEGMENTS[0]})

    def fetch_trade_book(self, session: Session, credentials: Credentials,
                         client: BrokerClient, instruments: InstrumentIndex) -> list[Trade]:
        """The trade book of each segment; its rows name no side, product or symbol, so each
        is joined to its order in the order book by the exchange order id."""
        orders = self.fetch_order_book(session, credentials, client, instruments)
        by_exchange_id = {_raw(o, "exch_order_id"): o for o in orders if _raw(o, "exch_order_id")}
        trades: list[Trade] = []
        for segment in TRADE_SEGMENTS:
            reply = self._read(Call("GET", "api", TRADE_BOOK_PATH, params={"segment": segment}),
                               session, credentials, client)
            trades += self.rows(reply, None, "trade book",
                                lambda row: self._trade(row, by_exchange_id))
        return trades

    def _trade(self, row: Row, orders: Mapping[str, Order]) -> Trade:
        order = orders.get(row.text("exch_order_id"))
        if order is None:
            raise row.fail("exch_order_id", "names no order of today's order book")
        quantity, price = row.whole("quantity"), row.decimal("price")
        return Trade(broker=self.broker, order_id=order.order_id, trade_id=row.text("fill_id"),
                     symbol=order.symbol, exchange=order.exchange, action=order.action,
                     product=order.product, quantity=quantity, average_price=price,
                     trade_value=price * quantity, timestamp=row.stamp("trade_date", *TIMES))

    def funds_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", FUNDS_PATH)

    def funds_row(self, row: Row) -> Funds:
        """``/funds``: available = ``detailed_avl_balance.eq_cnc`` (the delivery balance, as
        OpenAlgo reads it), collateral = ``pledge_received``, the day's ``realized_pnl`` and
        ``unrealized_pnl``; margin used = ``sod_balance`` (+ realised, ⚠
        :data:`~.mapping.AVAILABLE_INCLUDES_REALISED`) - available."""
        detailed = Row(row.data.get("detailed_avl_balance"),
                       what="funds detailed_avl_balance", broker=self.broker)
        available = detailed.decimal("eq_cnc")
        realised = row.decimal("realized_pnl", 0)
        start = row.decimal("sod_balance", 0)
        if mapping.AVAILABLE_INCLUDES_REALISED:
            start += realised
        return Funds(broker=self.broker, available_cash=available,
                     collateral=row.decimal("pledge_received", 0),
                     used_margin=max(start - available, Decimal(0)), realised_pnl=realised,
                     unrealised_pnl=row.decimal("unrealized_pnl", 0))

    # -- master contract -------------------------------------------------------------------
    def master(self, client: BrokerClient, progress: ProgressCallback,
               session: Session | None) -> list[Instrument]:
        """The three instrument files (behind ``Authorization``: a live session is needed),
        paced as data calls; progress counts the bytes of all three."""
        live = self.require_session(session)
        files: dict[str, bytes] = {}
        for source in SOURCES:
            before = sum(map(len, files.values()))
            files[source] = self.download(
                client, Call("GET", "api", INSTRUMENTS_PATH, params={"source": source},
                             rate="reads.data"),
                session=live, progress=_from(before, progress))
        return parse_instruments(files)

    # -- rows ------------------------------------------------------------------------------
    def _exchange(self, row: Row, instruments: InstrumentIndex) -> str:
        """OpenAlgo's exchange of a row: from (``exchange``, ``segment``); a derivative row
        with an empty ``exchange`` (an index option) by finding its security id in the
        master's F&O segments (the one whose underlying the row names, first)."""
        exch, segment = row.text("exchange", ""), row.text("segment", "")
        found = EXCHANGES_BACK.get((exch, segment)) or EXCHANGES_BACK.get((exch, ""))
        if found is not None:
            return found
        if segment != "DERIVATIVE":
            raise row.fail("exchange", "is not an exchange and segment INDstocks documents")
        token, name = row.text("security_id"), row.text("symbol", "")
        listed = [(candidate, hit) for candidate in DERIVATIVE_EXCHANGES
                  if (hit := instruments.by_token(token, SCRIP_SEGMENTS[candidate]))]
        if listed:  # the segment whose contract has the row's underlying, first
            return min(listed, key=lambda pair: pair[1].name != name)[0]
        raise row.fail("exchange", "is empty, and the security id is in no F&O segment of"
                                   " today's master contract")

    def _symbol(self, row: Row, exchange: str, instruments: InstrumentIndex,
                fallback: str) -> str:
        """OpenAlgo's symbol by security id, else ``fallback``."""
        found = instruments.by_token(row.text("security_id"), SCRIP_SEGMENTS[exchange])
        return found.symbol if found is not None else fallback


def _derivative_symbol(row: Row) -> str:
    """A position row's OpenAlgo symbol from its own fields, for a contract today's master
    lacks: ``SENSEX`` + ``07/16/2026 14:00`` + 82000 + CE -> ``SENSEX16JUL2682000CE``."""
    kind = row.text("drv_instrument", "")
    if not kind:
        return row.text("symbol")
    expiry = row.stamp("drv_expiry_date", *POSITION_EXPIRY)
    if expiry is None:
        raise row.fail("drv_expiry_date", f"is not a date like {POSITION_EXPIRY[0]!r}")
    if kind.startswith("FUT"):
        return future_symbol(row.text("symbol"), expiry.date())
    try:
        return option_symbol(row.text("symbol"), expiry.date(),
                             row.decimal("drv_strike_price"), row.text("drv_option_type"))
    except ValueError:
        raise row.fail("drv_option_type", "is not CE or PE") from None


def _first(row: Row, *fields: str) -> Decimal:
    """The first of ``fields`` holding a number (INDstocks writes inapplicable prices as
    ``""``), else 0."""
    for name in fields:
        if row.has(name):
            return row.decimal(name)
    return Decimal(0)


def _status(row: Row) -> str:
    text = row.text("status").upper()
    found = STATUSES.get(text)
    if found is not None:
        return found
    if "PENDING" in text:
        return "open"
    raise row.fail("status", "is not a status INDstocks documents")


def _raw(order: Order, field: str) -> str:
    """A text field of the book row an order was read from (``""`` when absent)."""
    value = order.raw.get(field) if isinstance(order.raw, Mapping) else None
    return value.strip() if isinstance(value, str) else ""


def _segment(order: Order) -> str:
    """The segment an order is addressed with: its row's, else its exchange's."""
    segment = _raw(order, "segment").upper()
    if segment in ("EQUITY", "DERIVATIVE"):
        return segment
    return SEGMENTS[order.exchange.value][1] if order.exchange.value in SEGMENTS else "EQUITY"


def _from(before: int, progress: ProgressCallback | None) -> ProgressCallback | None:
    """A file's progress, counted on from the bytes of the files before it."""
    if progress is None:
        return None
    report: Callable[[int, int | None], None] = progress
    return lambda done, total: report(before + done, None)
