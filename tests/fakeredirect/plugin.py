"""Hooks of a broker that logs in by browser redirect (ICICI Breeze-like).

``authenticate`` sends the user to the broker's login page; the broker redirects
the browser to ``REDIRECT_URL?apisession=<token>`` without our state, and
``handle_callback`` exchanges that token for a session (a GET with a JSON body).
Every later call is signed: ``sha256(timestamp + body + secret)``. Replies come in
``{"Success": ..., "Status": ..., "Error": ...}``; the master is a zipped CSV.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

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
    Instrument,
    InstrumentIndex,
    LoginChallenge,
    OrderReceipt,
    OrderRejectedError,
    OrderRequest,
    OrderStatusUnknownError,
    Position,
    Session,
    SessionExpiredError,
    hookimpl,
    new_session,
    parse_json,
)
from openalgo_core.kit.rows import Row, csv_rows

BROKER = "fakeredirect"
INFO = BrokerInfo(
    id=BROKER, display_name="Fake Redirect Broker",
    exchanges=frozenset({Exchange.NSE, Exchange.BSE, Exchange.NFO, Exchange.NSE_INDEX}),
    credentials=(CredentialField(name="API_KEY", secret=True),
                 CredentialField(name="API_SECRET", secret=True),
                 CredentialField(name="REDIRECT_URL", secret=False, required=False)),
    login_style="redirect",
    base_urls={"api": "https://api.fakeredirect.example/breezeapi/api/v1",
               "login": "https://api.fakeredirect.example/apiuser",
               "files": "https://directlink.fakeredirect.example"},
    core_api=CORE_API)

_APISESSION = re.compile(r"[A-Za-z0-9]{6,64}")
_TOKEN = re.compile(r"[!-~]{8,512}")
EXCHANGES = {"NSE": "NSE", "BSE": "BSE", "NFO": "NFO", "NSE_INDEX": "NSE_INDEX"}
PRODUCTS = {"intraday": "MIS", "cash": "CNC", "margin": "NRML"}
PRODUCT_CODES = {value: key for key, value in PRODUCTS.items()}
REFUSALS = frozenset({400, 500})  # the envelope's Status of a refused order


def _success(response: httpx.Response) -> Any:
    """``Success`` of the envelope; an expired session is SessionExpiredError, any other
    refusal a :class:`BrokerResponseError` carrying the broker's text."""
    body = Row(parse_json(response, BROKER), what="reply", broker=BROKER)
    status = body.whole("Status")
    if status == 200:
        return body.data.get("Success")
    error = body.text("Error", "refused")
    if status == 401:
        raise SessionExpiredError(error, broker=BROKER, raw=response.content)
    raise BrokerResponseError(f"refused: {error}", broker=BROKER, raw=response.content)


def _signed(credentials: Credentials, session: Session, body: Mapping[str, Any]
            ) -> tuple[bytes, dict[str, str]]:
    """The JSON body and the headers that sign it."""
    api_key, secret = credentials.require("API_KEY", "API_SECRET")
    content = json.dumps(body, separators=(",", ":")).encode()
    stamp = dt.datetime.now(dt.UTC).isoformat()[:19] + ".000Z"
    digest = hashlib.sha256(stamp.encode() + content + secret.encode()).hexdigest()
    return content, {"Content-Type": "application/json", "X-Checksum": f"token {digest}",
                     "X-Timestamp": stamp, "X-AppKey": api_key,
                     "X-SessionToken": session.access_token.get_secret_value()}


@hookimpl
def broker_info() -> BrokerInfo:
    return INFO


@hookimpl
def authenticate(credentials: Credentials, client: BrokerClient) -> LoginChallenge:
    (api_key,) = credentials.require("API_KEY")
    url = client.url("login", "/login") + "?" + urlencode({"api_key": api_key})
    return LoginChallenge(broker=BROKER, kind="url", url=url,
                          prompt="Log in at the broker's page")


@hookimpl
def handle_callback(credentials: Credentials, client: BrokerClient,
                    params: Mapping[str, str]) -> Session:
    api_key, _ = credentials.require("API_KEY", "API_SECRET")
    apisession = params.get("apisession", "")
    if not _APISESSION.fullmatch(apisession):
        raise AuthenticationError("the redirect carried no valid apisession", broker=BROKER)
    content = json.dumps({"SessionToken": apisession, "AppKey": api_key}).encode()
    response = client.request("GET", client.url("api", "/customerdetails"), kind="login",
                              content=content, headers={"Content-Type": "application/json"})
    try:
        details = Row(_success(response), what="customer details", broker=BROKER)
    except BrokerResponseError as exc:
        if isinstance(exc, SessionExpiredError):
            raise AuthenticationError(str(exc), broker=BROKER) from None
        raise
    token, user = details.text("session_token"), details.text("idirect_userid")
    if not _TOKEN.fullmatch(token):
        raise BrokerResponseError("customer details: no usable session token", broker=BROKER)
    return new_session(BROKER, user, token)


@hookimpl
def place_order(order: OrderRequest, instrument: Instrument, session: Session,
                credentials: Credentials, client: BrokerClient) -> OrderReceipt:
    content, headers = _signed(credentials, session, {
        "stock_token": instrument.token, "exchange_code": instrument.broker_exchange,
        "product": PRODUCT_CODES[order.product.value], "action": order.action.value.lower(),
        "order_type": order.pricetype.value.lower(), "quantity": str(order.quantity),
        "price": str(order.price), "stoploss": str(order.trigger_price),
        "user_remark": order.tag})
    response = client.request("POST", client.url("api", "/order"), kind="order",
                              tag=order.tag, content=content, headers=headers)
    try:
        body = Row(parse_json(response, BROKER), what="order reply", broker=BROKER)
        if body.whole("Status") in REFUSALS:
            raise OrderRejectedError(body.text("Error", "refused"), broker=BROKER,
                                     raw=response.content)
        order_id = Row(_success(response), what="order reply", broker=BROKER).text("order_id")
    except (OrderRejectedError, SessionExpiredError, OrderStatusUnknownError):
        raise
    except BrokerResponseError as exc:
        raise OrderStatusUnknownError(f"unreadable reply to an order: {exc}", broker=BROKER,
                                      tag=order.tag, raw=response.content) from None
    return OrderReceipt(broker=BROKER, order_id=order_id, tag=order.tag)


@hookimpl
def fetch_positions(session: Session, credentials: Credentials, client: BrokerClient,
                    instruments: InstrumentIndex) -> list[Position]:
    content, headers = _signed(credentials, session, {})
    response = client.request("GET", client.url("api", "/portfoliopositions"), kind="read",
                              content=content, headers=headers)
    rows = _success(response)
    if not isinstance(rows, list):
        raise BrokerResponseError("positions: Success is not a list", broker=BROKER)
    out = []
    for raw in rows:
        row = Row(raw, what="position row", broker=BROKER)
        inst = instruments.by_token(row.text("stock_token"), row.text("exchange_code"))
        if inst is None:
            raise row.fail("stock_token", "names no instrument of the master contract")
        out.append(Position(
            symbol=inst.symbol, exchange=inst.exchange, product=row.lookup("product", PRODUCTS),
            quantity=row.whole("quantity"), average_price=row.decimal("average_price"),
            ltp=row.decimal("ltp"),
            pnl=row.decimal("booked_profit_loss") + row.decimal("unrealized_pnl")))
    return out


@hookimpl
def fetch_instruments(client: BrokerClient, progress: Any) -> list[Instrument]:
    data = client.download(client.url("files", "/SecurityMaster.zip"), progress=progress)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            text = archive.read("Master.csv").decode()
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, ValueError):
        raise BrokerResponseError("master: not a zip holding Master.csv", broker=BROKER
                                  ) from None
    return [_instrument(row) for row in csv_rows(text, what="master row", broker=BROKER)]


def _instrument(row: Row) -> Instrument:
    """One master row: tick size in paise, expiry ``28-Mar-2024``."""
    kind, lot, tick = row.text("Series"), row.whole("LotSize"), row.decimal("TickSize")
    if lot <= 0 or tick <= 0:
        raise row.fail("TickSize", "or LotSize is not positive")
    strike = row.decimal("StrikePrice") if kind in ("CE", "PE") else None
    try:
        expiry = (dt.datetime.strptime(row.text("ExpiryDate"), "%d-%b-%Y").date()
                  if row.has("ExpiryDate") else None)
    except ValueError:
        raise row.fail("ExpiryDate", "is not a date like 28-Mar-2024") from None
    exchange, symbol = row.lookup("Exchange", EXCHANGES), row.text("ShortName")
    return Instrument(symbol, exchange, symbol, exchange, row.text("Token"),
                      row.text("CompanyName"), kind, lot, tick / Decimal(100), expiry, strike,
                      kind if strike is not None else None)


@hookimpl
def broker_simulator(environ: Mapping[str, str]) -> Any:
    from .simulator import FakeRedirectSimulator

    return FakeRedirectSimulator(environ=environ)
