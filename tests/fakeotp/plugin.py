"""Hooks of a broker that sends an OTP (Kotak-like): ``authenticate`` asks the broker
to text a code and returns a code challenge; ``handle_callback`` sends the code back.
Sessions ride in a raw-token header, orders are form-encoded ``jData``, positions carry
amounts (not P&L), the master is JSON."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import httpx

from openalgo_core import (
    CORE_API,
    AuthenticationError,
    BrokerClient,
    BrokerError,
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
from openalgo_core.kit.rows import Row

BROKER = "fakeotp"
INFO = BrokerInfo(
    id=BROKER, display_name="Fake OTP Broker",
    exchanges=frozenset({Exchange.NSE, Exchange.BSE, Exchange.NFO, Exchange.NSE_INDEX}),
    credentials=(CredentialField(name="API_KEY", secret=True),
                 CredentialField(name="MOBILE", secret=False),
                 CredentialField(name="PIN", secret=True)),
    login_style="otp",
    base_urls={"api": "https://openapi.fakeotp.example", "files": "https://files.fakeotp.example"},
    core_api=CORE_API)

_OTP = re.compile(r"[0-9]{6}")
_TOKEN = re.compile(r"[!-~]{8,512}")
SIDES = {"BUY": "B", "SELL": "S"}
TYPES = {"MARKET": "MKT", "LIMIT": "L", "SL": "SL", "SL-M": "SL-M"}
EXCHANGES = {"nse_cm": "NSE", "bse_cm": "BSE", "nse_fo": "NFO", "nse_idx": "NSE_INDEX"}
PRODUCTS = {"MIS": "MIS", "CNC": "CNC", "NRML": "NRML"}


def _login_refused(code: str, message: str) -> BrokerError:
    return AuthenticationError(message, broker=BROKER, code=code)


def _read_refused(code: str, message: str) -> BrokerError:
    return BrokerResponseError(f"refused [{code}]: {message}", broker=BROKER)


def _data(response: httpx.Response,
          refused: Callable[[str, str], BrokerError] = _read_refused) -> Any:
    """The ``data`` of a success envelope. An expired session raises
    :class:`SessionExpiredError`, any other refusal ``refused(code, message)``."""
    body = Row(parse_json(response, BROKER), what="reply", broker=BROKER)
    status = body.text("status")
    if status == "success":
        return body.data.get("data")
    if status != "error":
        raise body.fail("status", "is neither success nor error")
    code, message = body.text("errorcode", ""), body.text("message", "refused")
    if code == "TOKEN_EXPIRED":
        raise SessionExpiredError(message, broker=BROKER, code=code, raw=response.content)
    raise refused(code, message)


def _order_refused(code: str, message: str) -> BrokerError:
    return OrderRejectedError(message, broker=BROKER, code=code)


def _headers(credentials: Credentials, session: Session | None = None) -> dict[str, str]:
    (api_key,) = credentials.require("API_KEY")
    headers = {"X-Api-Key": api_key}
    if session is not None:
        headers["X-Session-Token"] = session.access_token.get_secret_value()
    return headers


@hookimpl
def broker_info() -> BrokerInfo:
    return INFO


@hookimpl
def authenticate(credentials: Credentials, client: BrokerClient) -> LoginChallenge:
    mobile, pin = credentials.require("MOBILE", "PIN")
    response = client.request("POST", client.url("api", "/v1/login/otp"), kind="login",
                              json={"mobile": mobile, "pin": pin},
                              headers=_headers(credentials))
    reply = Row(_data(response, _login_refused), what="otp reply", broker=BROKER)
    request_id = reply.text("request_id")
    return LoginChallenge(broker=BROKER, kind="code", prompt="Enter the OTP sent to your phone",
                          context={"request_id": request_id})


@hookimpl
def handle_callback(credentials: Credentials, client: BrokerClient, challenge: LoginChallenge,
                    params: Mapping[str, str]) -> Session:
    code = params.get("code", "").strip()
    if not _OTP.fullmatch(code):
        raise AuthenticationError("the OTP must be 6 digits", broker=BROKER)
    mobile, _ = credentials.require("MOBILE", "PIN")
    response = client.request("POST", client.url("api", "/v1/login/verify"), kind="login",
                              json={"request_id": challenge.context.get("request_id", ""),
                                    "otp": code}, headers=_headers(credentials))
    reply = Row(_data(response, _login_refused), what="login reply", broker=BROKER)
    token = reply.text("session_token")
    if not _TOKEN.fullmatch(token):
        raise BrokerResponseError("login reply: no usable token", broker=BROKER)
    return new_session(BROKER, mobile, token)


@hookimpl
def place_order(order: OrderRequest, instrument: Instrument, session: Session,
                credentials: Credentials, client: BrokerClient) -> OrderReceipt:
    payload = {"tk": instrument.token, "tt": SIDES[order.action.value], "qt": str(order.quantity),
               "pt": TYPES[order.pricetype.value], "pc": order.product.value,
               "pr": str(order.price), "tp": str(order.trigger_price), "rt": order.tag}
    response = client.request("POST", client.url("api", "/v1/orders"), kind="order",
                              tag=order.tag, data={"jData": json.dumps(payload)},
                              headers=_headers(credentials, session))
    try:
        order_id = Row(_data(response, _order_refused), what="order reply",
                       broker=BROKER).text("nOrdNo")
    except (OrderRejectedError, SessionExpiredError, OrderStatusUnknownError):
        raise
    except BrokerResponseError as exc:
        raise OrderStatusUnknownError(f"unreadable reply to an order: {exc}", broker=BROKER,
                                      tag=order.tag, raw=response.content) from None
    return OrderReceipt(broker=BROKER, order_id=order_id, tag=order.tag)


@hookimpl
def fetch_positions(session: Session, credentials: Credentials, client: BrokerClient,
                    instruments: InstrumentIndex) -> list[Position]:
    response = client.request("GET", client.url("api", "/v1/positions"), kind="read",
                              headers=_headers(credentials, session))
    rows = _data(response)
    if rows is None:
        return []
    if not isinstance(rows, list):
        raise BrokerResponseError("positions: data is not a list", broker=BROKER)
    return [_position(Row(raw, what="position row", broker=BROKER), instruments)
            for raw in rows]


def _position(row: Row, instruments: InstrumentIndex) -> Position:
    """Net quantity, average of the open side, and P&L = sold - bought + net x ltp."""
    inst = instruments.by_token(row.text("tok"), row.text("exSeg"))
    if inst is None:
        raise row.fail("tok", "names no instrument of the master contract")
    bought, sold = row.whole("flBuyQty"), row.whole("flSellQty")
    if bought < 0 or sold < 0:
        raise row.fail("flBuyQty", "or flSellQty is negative")
    buy_amount, sell_amount, ltp = row.decimal("buyAmt"), row.decimal("sellAmt"), row.decimal("ltp")
    net = bought - sold
    average = (buy_amount / bought if net > 0 else sell_amount / sold if net < 0
               else Decimal(0))
    return Position(symbol=inst.symbol, exchange=inst.exchange,
                    product=row.lookup("prod", PRODUCTS), quantity=net,
                    average_price=average.quantize(Decimal("0.01")), ltp=ltp,
                    pnl=sell_amount - buy_amount + net * ltp)


@hookimpl
def fetch_instruments(client: BrokerClient, progress: Any) -> list[Instrument]:
    data = client.download(client.url("files", "/master/scrips.json"), progress=progress)
    try:
        rows = json.loads(data)
    except (ValueError, RecursionError):
        raise BrokerResponseError("master: not JSON", broker=BROKER) from None
    if not isinstance(rows, list):
        raise BrokerResponseError("master: not a list", broker=BROKER)
    return [_instrument(Row(raw, what="master row", broker=BROKER)) for raw in rows]


def _instrument(row: Row) -> Instrument:
    kind = row.text("type")
    lot, tick = row.whole("lot"), row.decimal("tick")
    if lot <= 0 or tick <= 0:
        raise row.fail("tick", "or lot is not positive")
    strike = row.decimal("strike") if kind in ("CE", "PE") else None
    try:
        expiry = (dt.datetime.strptime(row.text("expiry"), "%d%b%Y").date()
                  if row.has("expiry") else None)
    except ValueError:
        raise row.fail("expiry", "is not a date like 28MAR2024") from None
    exchange, symbol = row.lookup("exch", EXCHANGES), row.text("sym")
    return Instrument(symbol, exchange, symbol, row.text("exch"), row.text("token"),
                      row.text("name"), kind, lot, tick, expiry, strike,
                      kind if strike is not None else None)


@hookimpl
def broker_simulator(environ: Mapping[str, str]) -> Any:
    from .simulator import FakeOtpSimulator

    return FakeOtpSimulator(environ=environ)
