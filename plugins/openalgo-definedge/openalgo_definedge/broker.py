"""Definedge Securities' Integrate API as facts on the core's broker kit (brokers/definedge 2).

- Replies: the REST envelope ``{"status": "SUCCESS"|"ERROR", "message"}`` (HTTP 200
  even for a refused order; ``/limits`` has been seen answering ``"status": "200"``),
  the login envelope ``{"stat": "Ok"|"Not_Ok", "emsg"}``, and the first login step's
  bare ``{"otp_token", "message"}``. ``Session Expired`` is the session's end; a book
  answered with a "no data" error is empty.
- Login, two steps: ``GET {auth}/login/{api_token}`` with header ``api_secret`` has
  Definedge send an OTP and answers an ``otp_token``; ``POST {auth}/token`` with
  ``{otp_token, otp, ac}``, ``ac`` = hex sha256(otp_token + otp + api_secret), answers
  the ``api_session_key``, sent raw in ``Authorization`` (no ``Bearer``) on every later
  call. The OTP is the external TOTP when its secret is stored (unattended), else what
  Definedge sent, typed at ``/definedge/callback`` (which can ask for a new one).
- Orders: ``placeorder`` with ``order_type`` = the side and ``price_type`` = the order
  type, price 0 for market types, the mandatory SEBI ``algo_id`` and the core's tag in
  ``remarks``; a success without an order id is never a receipt. ``modify``; cancel is a
  ``GET /cancel/{id}``. Books: ``orders`` (status spelled ``CANCELED``; the tag echoed in
  ``remarks`` ⚠), ``trades``, ``positions`` (every number a string, ``lastPrice`` in camel
  case; empty as ``[]``, a missing key or a "no data" error), ``holdings`` (valued with
  ``quotes``: its rows carry no last price), ``limits``. Master contract:
  :mod:`.instruments`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Final

from openalgo_core import (
    BrokerClient,
    Credentials,
    Instrument,
    InstrumentIndex,
    OrderRequest,
    Position,
    Session,
)
from openalgo_core.http import ProgressCallback
from openalgo_core.kit import (
    ANY,
    EPOCH,
    Call,
    Codes,
    Envelope,
    Login,
    Replies,
    RestBroker,
    Row,
)
from openalgo_core.kit.symbols import equity_symbol
from openalgo_core.models import Funds, Holding, Order, Trade

from . import INFO
from .instruments import parse_allmaster
from .mapping import (
    ALGO_IDS,
    MARKET_TYPES,
    PRICETYPES,
    PRICETYPES_BACK,
    PRODUCTS,
    REASON_FIELDS,
    STATUSES,
    product_back,
)

__all__ = ["REPLIES", "DefinedgeBroker", "modify_body", "order_body"]

AUTH: Final = "/auth/realms/debroking/dsbpkc"
LOGIN_PATH: Final = AUTH + "/login/"
TOKEN_PATH: Final = AUTH + "/token"
TRADE: Final = "/dart/v1"
PLACE_ORDER_PATH: Final = TRADE + "/placeorder"
MODIFY_ORDER_PATH: Final = TRADE + "/modify"
CANCEL_ORDER_PATH: Final = TRADE + "/cancel/"
ORDER_BOOK_PATH: Final = TRADE + "/orders"
TRADE_BOOK_PATH: Final = TRADE + "/trades"
POSITIONS_PATH: Final = TRADE + "/positions"
HOLDINGS_PATH: Final = TRADE + "/holdings"
LIMITS_PATH: Final = TRADE + "/limits"
QUOTES_PATH: Final = TRADE + "/quotes/"
MASTER_PATH: Final = "/public/allmaster.zip"

#: Texts of an "error" that means an empty book (⚠ Definedge's exact wording is not
#: documented: Noren OMSes answer "no data").
EMPTY_MESSAGES: Final = ("no data", "no record")

#: The exchanges a book row may name (OpenAlgo's codes, which Definedge's segments are).
_TRADED: Final = frozenset(exchange.value for exchange in INFO.exchanges)

REPLIES: Final = Replies(
    broker=INFO.id,
    envelopes=(
        Envelope(status="status", ok=("success", "200"), failed=("error",),
                 message=("message",)),
        Envelope(status="stat", ok=("ok",), failed=("not_ok",), message=("emsg",)),
        # the first login step answers {"otp_token", "message"} with no status at all
        Envelope(status="otp_token", ok=(ANY,)),
    ),
    session_expired=Codes(messages=("session expired", "invalid session")),
    empty=Codes(messages=EMPTY_MESSAGES),
    rate_limited=Codes(http=(429,), messages=("too many requests",)),
    message=("message", "emsg"),
)
#: Time stamps (IST): a trade's ``fill_time``; an order's ``order_entry_time`` is epoch
#: seconds in the order book, this layout in one order's reply.
_FILL_TIME: Final = "%d-%m-%Y %H:%M:%S"
_ENTRY_TIME: Final = "%H:%M:%S %d-%m-%Y"


def algo_id(exchange: str, credentials: Credentials) -> str:
    """The order's ``algo_id``: the registered one configured (``ALGO_ID``), else the
    exchange's generic id (:data:`~.mapping.ALGO_IDS`)."""
    return credentials.get("ALGO_ID") or ALGO_IDS[exchange]


def order_body(order: OrderRequest, instrument: Instrument,
               credentials: Credentials) -> dict[str, Any]:
    """Definedge's placeorder body, numbers as JSON numbers (as pyintegrate sends them);
    ``remarks`` carries the core's tag so the order can be found again."""
    body = _order_fields(order, instrument)
    body.update(algo_id=algo_id(instrument.broker_exchange, credentials), remarks=order.tag)
    return body


def modify_body(order: Order, change: OrderRequest, instrument: Instrument) -> dict[str, Any]:
    """Definedge's modify body: the whole order as it should stand, its ``remarks`` (the
    tag the book shows) restated so that a modify cannot clear it (⚠ whether Definedge
    keeps remarks an order is modified without is not documented)."""
    body = {"order_id": order.order_id, **_order_fields(change, instrument)}
    if order.tag:
        body["remarks"] = order.tag
    return body


def _order_fields(order: OrderRequest, instrument: Instrument) -> dict[str, Any]:
    price_type = PRICETYPES[order.pricetype.value]
    body: dict[str, Any] = {
        "exchange": instrument.broker_exchange, "tradingsymbol": instrument.broker_symbol,
        "order_type": order.action.value, "price_type": price_type,
        "product_type": PRODUCTS[order.product.value], "quantity": order.quantity,
        "price": 0 if price_type in MARKET_TYPES else _number(order.price),
        "validity": "DAY",
    }
    if order.pricetype.value in ("SL", "SL-M"):
        body["trigger_price"] = _number(order.trigger_price)
    if order.disclosed_quantity:
        body["disclosed_quantity"] = order.disclosed_quantity
    return body


def _number(value: Decimal) -> int | float:
    """A price as the JSON number pyintegrate sends (an int when whole)."""
    return int(value) if value == value.to_integral_value() else float(value)


@dataclass(frozen=True, slots=True)
class _Held:
    """A holdings row before it is valued: the leg it is quoted on and what is held."""

    instrument: tuple[str, str]
    exchange: str
    token: str
    quantity: int
    average_price: Decimal


class DefinedgeBroker(RestBroker):
    """Definedge Integrate: what differs from any other REST broker."""

    info = INFO
    replies = REPLIES
    order_id_at = ("order_id", "norenordno")
    order_book_at = "orders"
    trade_book_at = "trades"
    positions_at = "positions"
    holdings_at = "data"
    books_may_be_absent = frozenset({"positions", "order book", "trade book", "holdings"})
    code_prompt = "Enter the OTP Definedge sent you (or your external TOTP)"
    #: as OpenAlgo's Definedge OTP form labels it
    field_labels: ClassVar[Mapping[str, str]] = {
        "code": "Enter OTP"}

    def headers(self, credentials: Credentials, session: Session | None) -> Mapping[str, str]:
        if session is None:
            return {}
        return {"Authorization": session.access_token.get_secret_value()}

    # -- login -----------------------------------------------------------------------------
    def start_login(self, login: Login) -> Mapping[str, str]:
        """Step 1: Definedge sends the OTP; its ``otp_token`` is kept for step 2. The API
        token travels in the path: logs and errors show ``***`` instead."""
        token, secret = login.credentials.require("API_KEY", "API_SECRET")
        reply = self.send(login.client, Call("GET", "auth", LOGIN_PATH + token,
                                             headers={"api_secret": secret}, redact=(token,)),
                          kind="login", credentials=login.credentials)
        return {"otp_token": Row(reply.body, what="login reply",
                                 broker=self.broker).text("otp_token")}

    def finish_login(self, login: Login) -> Session:
        """Step 2: the OTP with its checksum ``ac`` for the session keys."""
        (secret,) = login.credentials.require("API_SECRET")
        otp_token, otp = login.context.get("otp_token", ""), login.code or ""
        checksum = hashlib.sha256(f"{otp_token}{otp}{secret}".encode()).hexdigest()
        reply = self.send(login.client, Call("POST", "auth", TOKEN_PATH, json={
            "otp_token": otp_token, "otp": otp, "ac": checksum}),
            kind="login", credentials=login.credentials)
        body = reply.body
        return self.session(reply, body.get("uid") or body.get("actid") or "",
                            body.get("api_session_key"), feed_token=body.get("susertoken"))

    # -- orders ----------------------------------------------------------------------------
    def order_call(self, order: OrderRequest, instrument: Instrument,
                   credentials: Credentials) -> Call:
        return Call("POST", "api", PLACE_ORDER_PATH,
                    json=order_body(order, instrument, credentials))

    def modify_call(self, order: Order, change: OrderRequest, instrument: Instrument,
                    credentials: Credentials) -> Call:
        return Call("POST", "api", MODIFY_ORDER_PATH,
                    json=modify_body(order, change, instrument))

    def cancel_call(self, order: Order, credentials: Credentials) -> Call:
        return Call("GET", "api", CANCEL_ORDER_PATH + order.order_id)

    def order_book_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", ORDER_BOOK_PATH)

    def order_row(self, row: Row, instruments: InstrumentIndex) -> Order:
        """One ``orders`` row; the reason is the first of
        :data:`~.mapping.REASON_FIELDS` present, the tag ``remarks``."""
        symbol, exchange = self._symbol(row, instruments)
        return Order(
            broker=self.broker, order_id=row.text("order_id"), symbol=symbol,
            exchange=exchange, action=row.text("order_type"), quantity=row.whole("quantity"),
            pricetype=row.lookup("price_type", PRICETYPES_BACK),
            product=_product(row), price=row.decimal("price", 0),
            trigger_price=row.decimal("trigger_price", 0), status=_status(row),
            filled_quantity=row.whole("filled_qty", 0),
            average_price=row.decimal("average_traded_price", 0),
            reason=next((row.text(f) for f in REASON_FIELDS if row.has(f)), ""),
            tag=row.text("remarks", "") or None,
            timestamp=row.stamp("order_entry_time", EPOCH, _ENTRY_TIME), raw=row.data)

    # -- books -----------------------------------------------------------------------------
    def trade_book_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", TRADE_BOOK_PATH)

    def trade_row(self, row: Row, instruments: InstrumentIndex) -> Trade:
        """One fill: its own quantity is ``last_fill_qty`` (⚠ ``filled_qty`` is read when
        absent), its price ``fill_price``."""
        symbol, exchange = self._symbol(row, instruments)
        quantity = row.whole("last_fill_qty") if row.has("last_fill_qty") \
            else row.whole("filled_qty")
        price = row.decimal("fill_price")
        return Trade(broker=self.broker, order_id=row.text("order_id"),
                     trade_id=row.text("fill_id"), symbol=symbol, exchange=exchange,
                     action=row.text("order_type"), product=_product(row), quantity=quantity,
                     average_price=price, trade_value=price * quantity,
                     timestamp=row.stamp("fill_time", _FILL_TIME))

    def positions_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", POSITIONS_PATH)

    def position(self, row: Row, instruments: InstrumentIndex) -> Position:
        """One ``positions`` row (every number a string): the day's P&L is realised plus
        unrealised, so a closed position keeps what it made."""
        symbol, exchange = self._symbol(row, instruments)
        return Position(symbol=symbol, exchange=exchange, product=_product(row),
                        quantity=row.whole("net_quantity"),
                        average_price=row.decimal("net_averageprice"),
                        ltp=row.decimal("lastPrice"),
                        pnl=row.decimal("realized_pnl", 0) + row.decimal("unrealized_pnl", 0))

    def funds_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", LIMITS_PATH)

    def funds_row(self, row: Row) -> Funds:
        """``limits``: ⚠ ``cash`` is the cash balance, so what is free to trade is
        cash + payin - ``marginUsed`` + the day's realised P&L."""
        realised = row.decimal("currentRealizedPNL", 0)
        used = row.decimal("marginUsed", 0)
        return Funds(broker=self.broker,
                     available_cash=row.decimal("cash") + row.decimal("payin", 0) - used
                     + realised,
                     collateral=row.decimal("brokerCollateralAmount", 0), used_margin=used,
                     realised_pnl=realised,
                     unrealised_pnl=row.decimal("currentUnrealizedMtom", 0))

    def holdings_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", HOLDINGS_PATH)

    def fetch_holdings(self, session: Session, credentials: Credentials,
                       client: BrokerClient, instruments: InstrumentIndex) -> list[Holding]:
        """``holdings`` rows, each valued at its last price from ``quotes`` (the rows carry
        none: one quote per holding)."""
        reply = self._read(self.holdings_call(credentials), session, credentials, client)
        held = self.rows(reply, self.holdings_at, "holdings",
                         lambda row: self._held(row, instruments))
        found = []
        for item in held:
            quote = self._read(Call("GET", "api", f"{QUOTES_PATH}{item.exchange}/{item.token}"),
                               session, credentials, client)
            ltp = self._row(quote, quote.body, "quote", lambda row: row.decimal("ltp"))
            symbol, exchange = item.instrument
            found.append(Holding(symbol=symbol, exchange=exchange, quantity=item.quantity,
                                 average_price=item.average_price, ltp=ltp,
                                 pnl=(ltp - item.average_price) * item.quantity))
        return found

    def _held(self, row: Row, instruments: InstrumentIndex) -> _Held | None:
        """A holding's NSE leg (else its first), and ``dp_qty`` + ``t1_qty`` (⚠ T1 shares
        are counted: they are bought and paid for); nothing held: None."""
        legs = row.data.get("tradingsymbol")
        if not isinstance(legs, list) or not legs:
            raise row.fail("tradingsymbol", "is not a list of listings")
        rows = [Row(leg, what="holding listing", broker=self.broker) for leg in legs]
        leg = next((r for r in rows if r.text("exchange", "") == "NSE"), rows[0])
        quantity = row.whole("dp_qty", 0) + row.whole("t1_qty", 0)
        if quantity <= 0:
            return None
        return _Held(self._symbol(leg, instruments), leg.text("exchange"), leg.text("token"),
                     quantity, row.decimal("avg_buy_price"))

    def master(self, client: BrokerClient, progress: ProgressCallback,
               session: Session | None) -> list[Instrument]:
        """``allmaster.zip``: public, no auth (``session`` is not needed)."""
        return parse_allmaster(client.download(client.url("master", MASTER_PATH),
                                               progress=progress))

    def _symbol(self, row: Row, instruments: InstrumentIndex) -> tuple[str, str]:
        """OpenAlgo's symbol and exchange for a row naming ``token`` (or
        ``tradingsymbol``) and ``exchange``; failing the master, a cash symbol without
        its series."""
        segment, tradingsymbol = row.text("exchange"), row.text("tradingsymbol")
        instrument = (instruments.by_token(row.text("token"), segment) if row.has("token")
                      else None) or instruments.by_broker_symbol(tradingsymbol, segment)
        if instrument is not None:
            return instrument.symbol, instrument.exchange
        if segment not in _TRADED:
            raise row.fail("exchange", "is not an exchange this plugin trades on")
        return equity_symbol(tradingsymbol), segment


def _product(row: Row) -> str:
    try:
        return product_back(row.text("product_type"), row.text("exchange"))
    except KeyError:
        raise row.fail("product_type", "is not a product Definedge documents") from None


def _status(row: Row) -> str:
    text = row.text("order_status").upper().replace("_", " ")
    if text in STATUSES:
        return STATUSES[text]
    if "PENDING" in text:
        return "open"
    raise row.fail("order_status", "is not a status Definedge documents")
