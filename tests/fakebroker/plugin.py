"""The fake broker's hookimpls, written by hand (no kit): a small JSON API, mapped onto
the core contract; the reference for a broker that does not fit the kit.

Login is TOTP (unattended when the secret is configured, else a code challenge the
user answers at ``/fake/callback``); replies are read strictly, so garbage in any
field is a typed error. The rest of the day (``tests/fakebroker/simulator.py``): the
order book echoes the tag; one order's "not found" is :class:`OrderNotFoundError`;
cancel and modify are sent as orders (never resent) and the broker's refusal is
:class:`OrderRejectedError`. The helpers take what a broken variant changes
(``tests/fakebroker/broken.py``) as arguments.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from openalgo_core import (
    CORE_API,
    AuthenticationError,
    BrokerClient,
    BrokerInfo,
    BrokerResponseError,
    CredentialField,
    Credentials,
    Exchange,
    Funds,
    Holding,
    Instrument,
    InstrumentIndex,
    LoginChallenge,
    Order,
    OrderNotFoundError,
    OrderReceipt,
    OrderRejectedError,
    OrderRequest,
    OrderStatus,
    OrderStatusUnknownError,
    Position,
    RateLimit,
    Session,
    SessionExpiredError,
    Trade,
    hookimpl,
    new_session,
    parse_json,
)
from openalgo_core.http import RequestKind
from openalgo_core.kit.rows import Row, csv_rows
from openalgo_core.models import IST

INFO = BrokerInfo(
    id="fake", display_name="Fake Broker",
    exchanges=frozenset({Exchange.NSE, Exchange.BSE, Exchange.NFO, Exchange.NSE_INDEX}),
    credentials=(CredentialField(name="API_KEY", secret=True),
                 CredentialField(name="CLIENT_ID", secret=False),
                 CredentialField(name="PIN", secret=True),
                 CredentialField(name="TOTP_SECRET", secret=True, required=False)),
    login_style="totp",
    rate_limits={"orders": RateLimit(per_second=50), "reads": RateLimit(per_second=50)},
    base_urls={"api": "https://api.fake.example", "files": "https://files.fake.example"},
    core_api=CORE_API)

CODE = re.compile(r"[0-9]{6}")
PRODUCTS = {"MIS": "MIS", "CNC": "CNC", "NRML": "NRML"}
SIDES = {"BUY": "BUY", "SELL": "SELL"}
TYPES = {"MARKET": "MARKET", "LIMIT": "LIMIT", "SL": "SL", "SL-M": "SL-M"}
EXCHANGES = {str(name): str(name) for name in INFO.exchanges}
STATUSES = {"OPEN": OrderStatus.OPEN, "TRIGGER_PENDING": OrderStatus.TRIGGER_PENDING,
            "FILLED": OrderStatus.COMPLETE, "CANCELLED": OrderStatus.CANCELLED,
            "REJECTED": OrderStatus.REJECTED}
_TOKEN = re.compile(r"[!-~]{8,512}")  # printable ASCII, no spaces: safe in a header


def reply_object(response: httpx.Response) -> dict[str, Any]:
    """The reply as a JSON object; an expired session is :class:`SessionExpiredError`."""
    data = parse_json(response, "fake")
    if not isinstance(data, dict):
        raise BrokerResponseError("expected a JSON object", broker="fake", raw=response.content)
    if data.get("code") == "EXPIRED":
        raise SessionExpiredError("session expired", broker="fake", raw=response.content)
    return data


def login(credentials: Credentials, client: BrokerClient, code: str, *,
          kind: RequestKind = "login") -> Session:
    """Send the login (one request, never retried) once every credential is at hand."""
    api_key, client_id, pin = credentials.require("API_KEY", "CLIENT_ID", "PIN")
    response = client.request("POST", client.url("api", "/api/login"), kind=kind,
                              json={"api_key": api_key, "client_id": client_id, "pin": pin,
                                    "totp": code})
    data = reply_object(response)
    if data.get("ok") is not True:
        raise AuthenticationError("login refused", broker="fake", raw=response.content)
    token = data.get("token")
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise BrokerResponseError("login reply: no usable token", broker="fake")
    return new_session("fake", client_id, token)


def checked_code(params: Mapping[str, str]) -> str:
    """The typed code, refused unless it is six ASCII digits (nothing is sent then)."""
    code = params.get("code", "").strip()
    if not CODE.fullmatch(code):
        raise AuthenticationError("the code must be 6 digits", broker="fake")
    return code


def order_payload(order: OrderRequest, instrument: Instrument) -> dict[str, Any]:
    return {"token": instrument.token, "side": order.action.value, "qty": order.quantity,
            "type": order.pricetype.value, "product": order.product.value,
            "price": str(order.price), "trigger": str(order.trigger_price), "tag": order.tag}


def send_order(order: OrderRequest, session: Session, client: BrokerClient,
               payload: Mapping[str, Any], *, kind: RequestKind = "order") -> OrderReceipt:
    response = client.request("POST", client.url("api", "/api/orders"), kind=kind,
                              tag=order.tag, json=payload, headers=auth(session))
    order_id, data = acknowledged(response, order.tag)
    return OrderReceipt(broker="fake", order_id=order_id, tag=order.tag, raw=data)


def acknowledged(response: httpx.Response, tag: str) -> tuple[str, dict[str, Any]]:
    """The order id in the reply to an order, cancel or modify, and the reply.

    Raises:
        OrderRejectedError: the broker's refusal (its code and message).
        OrderStatusUnknownError: the reply cannot be read (the order ``tag`` may be live).
        SessionExpiredError: the session is gone.
    """
    try:
        data = reply_object(response)
        row = Row(data, what="order reply", broker="fake")
        if not row.flag("ok"):
            raise OrderRejectedError(row.text("message", "refused"), code=row.text("code", ""),
                                     broker="fake", raw=response.content,
                                     status_code=response.status_code)
        return row.text("order_id"), data
    except (OrderRejectedError, SessionExpiredError, OrderStatusUnknownError):
        raise
    except BrokerResponseError as exc:
        raise OrderStatusUnknownError(f"unreadable reply to an order: {exc}", broker="fake",
                                      tag=tag, raw=response.content) from None


def auth(session: Session) -> dict[str, str]:
    return {"Authorization": f"Bearer {session.access_token.get_secret_value()}"}


def order_path(order_id: str) -> str:
    """One order's path (the id quoted: it comes from a caller)."""
    return "/api/orders/" + quote(order_id, safe="")


def read(client: BrokerClient, session: Session, path: str, *,
         order_id: str | None = None) -> Row:
    """A read's reply: ``ok``, else :class:`BrokerResponseError` with the broker's words
    (:class:`OrderNotFoundError` when the read of order ``order_id`` finds none)."""
    response = client.request("GET", client.url("api", path), kind="read",
                              headers=auth(session))
    row = Row(reply_object(response), what="reply", broker="fake")
    if not row.flag("ok"):
        if order_id is not None and row.text("code", "") == "NOT_FOUND":
            raise OrderNotFoundError(order_id, broker="fake", raw=response.content,
                                     status_code=response.status_code)
        raise BrokerResponseError(f"{path}: {row.text('message', 'refused')}", broker="fake",
                                  raw=response.content, status_code=response.status_code)
    return row


def rows(reply: Row, what: str) -> list[Row]:
    """The reply's ``rows``, each a :class:`Row` (a reply without a list is unreadable)."""
    found = reply.data.get("rows")
    if not isinstance(found, list):
        raise reply.fail("rows", "is not a list")
    return [Row(raw, what=what, broker="fake") for raw in found]


def instrument_of(row: Row, instruments: InstrumentIndex) -> Instrument:
    inst = instruments.by_token(row.text("token"), row.lookup("exchange", EXCHANGES))
    if inst is None:
        raise row.fail("token", "names no instrument of the master contract")
    return inst


def timestamp(row: Row, field: str) -> dt.datetime | None:
    """An ISO 8601 time (IST when it has no offset); None when absent."""
    if not row.has(field):
        return None
    try:
        when = dt.datetime.fromisoformat(row.text(field))
    except ValueError:
        raise row.fail(field, "is not an ISO 8601 time") from None
    return when if when.tzinfo else when.replace(tzinfo=IST)


def read_order(row: Row, instruments: InstrumentIndex) -> Order:
    inst = instrument_of(row, instruments)
    return Order(broker="fake", order_id=row.text("order_id"), symbol=inst.symbol,
                 exchange=inst.exchange, action=row.lookup("side", SIDES),
                 quantity=row.whole("qty"), pricetype=row.lookup("type", TYPES),
                 product=row.lookup("product", PRODUCTS), price=row.decimal("price"),
                 trigger_price=row.decimal("trigger"), status=row.lookup("status", STATUSES),
                 filled_quantity=row.whole("filled"), average_price=row.decimal("avg"),
                 reason=row.text("reason", ""), tag=row.text("tag", "") or None,
                 timestamp=timestamp(row, "time"), raw=dict(row.data))


def read_trade(row: Row, instruments: InstrumentIndex) -> Trade:
    inst = instrument_of(row, instruments)
    quantity, price = row.whole("qty"), row.decimal("price")
    return Trade(broker="fake", order_id=row.text("order_id"), trade_id=row.text("trade_id"),
                 symbol=inst.symbol, exchange=inst.exchange, action=row.lookup("side", SIDES),
                 product=row.lookup("product", PRODUCTS), quantity=quantity,
                 average_price=price, trade_value=price * quantity,
                 timestamp=timestamp(row, "time"))


def read_holding(row: Row, instruments: InstrumentIndex) -> Holding:
    """A holding; the fake sends no P&L: it is (ltp - average) x quantity."""
    inst = instrument_of(row, instruments)
    quantity, average, ltp = row.whole("qty"), row.decimal("avg"), row.decimal("ltp")
    return Holding(symbol=inst.symbol, exchange=inst.exchange, quantity=quantity,
                   average_price=average, ltp=ltp, pnl=(ltp - average) * quantity)


def read_funds(reply: Row) -> Funds:
    row = Row(reply.data.get("funds"), what="funds", broker="fake")
    return Funds(broker="fake", available_cash=row.decimal("available"),
                 collateral=row.decimal("collateral"), used_margin=row.decimal("used"),
                 realised_pnl=row.decimal("realised"),
                 unrealised_pnl=row.decimal("unrealised"))


def change_payload(change: OrderRequest) -> dict[str, Any]:
    """A modify's body: the order as it should stand."""
    return {"qty": change.quantity, "type": change.pricetype.value,
            "price": str(change.price), "trigger": str(change.trigger_price)}


def send_change(method: str, order: Order, session: Session, client: BrokerClient,
                payload: Mapping[str, Any] | None = None) -> OrderReceipt:
    """A cancel (``DELETE``) or modify (``PUT``), sent as an order: never resent."""
    tag = order.tag or order.order_id
    response = client.request(method, client.url("api", order_path(order.order_id)),
                              kind="order", tag=tag, json=payload, headers=auth(session))
    order_id, data = acknowledged(response, tag)
    return OrderReceipt(broker="fake", order_id=order_id, tag=order.tag, raw=data)


def read_positions(response: httpx.Response, instruments: InstrumentIndex, *,
                   pnl_from_marks: bool = False) -> list[Position]:
    rows = Row(reply_object(response), what="positions reply", broker="fake").data.get("rows")
    if not isinstance(rows, list):
        raise BrokerResponseError("positions: 'rows' is not a list", broker="fake")
    out = []
    for raw in rows:
        row = Row(raw, what="position row", broker="fake")
        exchange = row.lookup("exchange", EXCHANGES)
        inst = instruments.by_token(row.text("token"), exchange)
        if inst is None:
            raise row.fail("token", "names no instrument of the master contract")
        quantity, average, ltp = row.whole("net"), row.decimal("avg"), row.decimal("ltp")
        pnl = (ltp - average) * quantity if pnl_from_marks else row.decimal("pnl")
        out.append(Position(symbol=inst.symbol, exchange=inst.exchange,
                            product=row.lookup("product", PRODUCTS), quantity=quantity,
                            average_price=average, ltp=ltp, pnl=pnl))
    return out


def parse_master(content: bytes, *, strike_places: int | None = None) -> list[Instrument]:
    """The CSV master; ``strike_places`` rounds strikes (a broken parser does)."""
    try:
        text = content.decode()
    except UnicodeDecodeError:
        raise BrokerResponseError("master: not UTF-8", broker="fake") from None
    out = []
    for row in csv_rows(text, what="master row", broker="fake"):
        tick, lot = row.decimal("tick"), row.whole("lot")
        if tick <= 0 or lot <= 0:
            raise row.fail("tick", "or lot is not positive")
        kind = row.text("kind")
        strike = row.decimal("strike") if kind in ("CE", "PE") else None
        if strike is not None and strike_places is not None:
            strike = round(strike, strike_places)
        try:
            expiry = dt.date.fromisoformat(row.text("expiry")) if row.has("expiry") else None
        except ValueError:
            raise row.fail("expiry", "is not a date") from None
        symbol = row.text("symbol")
        out.append(Instrument(symbol, row.lookup("exchange", EXCHANGES), symbol,
                              row.lookup("exchange", EXCHANGES), row.text("token"),
                              row.text("name"), kind, lot, tick, expiry, strike,
                              kind if strike is not None else None))
    return out


@hookimpl
def broker_info() -> BrokerInfo:
    return INFO


@hookimpl
def authenticate(credentials: Credentials, client: BrokerClient) -> Session | LoginChallenge:
    code = credentials.totp()
    if code is None:
        return LoginChallenge(broker="fake", kind="code", prompt="Enter your TOTP")
    return login(credentials, client, code)


@hookimpl
def handle_callback(credentials: Credentials, client: BrokerClient,
                    params: Mapping[str, str]) -> Session:
    return login(credentials, client, checked_code(params))


@hookimpl
def place_order(order: OrderRequest, instrument: Instrument, session: Session,
                client: BrokerClient) -> OrderReceipt:
    return send_order(order, session, client, order_payload(order, instrument))


@hookimpl
def fetch_positions(session: Session, client: BrokerClient,
                    instruments: InstrumentIndex) -> list[Position]:
    response = client.request("GET", client.url("api", "/api/positions"), kind="read",
                              headers=auth(session))
    return read_positions(response, instruments)


@hookimpl
def fetch_order_book(session: Session, client: BrokerClient,
                     instruments: InstrumentIndex) -> list[Order]:
    reply = read(client, session, "/api/orders")
    return [read_order(row, instruments) for row in rows(reply, "order row")]


@hookimpl
def fetch_order(order_id: str, session: Session, client: BrokerClient,
                instruments: InstrumentIndex) -> Order:
    reply = read(client, session, order_path(order_id), order_id=order_id)
    order = read_order(Row(reply.data.get("order"), what="order row", broker="fake"),
                       instruments)
    if order.order_id != order_id:
        raise reply.fail("order", f"is another order's row ({order.order_id[:40]!r})")
    return order


@hookimpl
def cancel_order(order: Order, session: Session, client: BrokerClient) -> OrderReceipt:
    return send_change("DELETE", order, session, client)


@hookimpl
def modify_order(order: Order, change: OrderRequest, session: Session,
                 client: BrokerClient) -> OrderReceipt:
    return send_change("PUT", order, session, client, change_payload(change))


@hookimpl
def fetch_trade_book(session: Session, client: BrokerClient,
                     instruments: InstrumentIndex) -> list[Trade]:
    reply = read(client, session, "/api/trades")
    return [read_trade(row, instruments) for row in rows(reply, "trade row")]


@hookimpl
def fetch_funds(session: Session, client: BrokerClient) -> Funds:
    return read_funds(read(client, session, "/api/funds"))


@hookimpl
def fetch_holdings(session: Session, client: BrokerClient,
                   instruments: InstrumentIndex) -> list[Holding]:
    reply = read(client, session, "/api/holdings")
    return [read_holding(row, instruments) for row in rows(reply, "holding row")]


@hookimpl
def fetch_instruments(client: BrokerClient, progress: Any) -> list[Instrument]:
    return parse_master(client.download(client.url("files", "/instruments.csv"),
                                        progress=progress))


@hookimpl
def broker_simulator(environ: Mapping[str, str]) -> Any:
    from .simulator import FakeSimulator

    return FakeSimulator(environ=environ)
