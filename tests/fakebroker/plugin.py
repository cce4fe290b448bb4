"""The fake broker's hookimpls: a small JSON API, mapped onto the core contract.

Login is TOTP (unattended when the secret is configured, else a code challenge the
user answers at ``/fake/callback``); replies are read strictly, so garbage in any
field is a typed error. The helpers take what a broken variant changes
(``tests/fakebroker/broken.py``) as arguments.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

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
    RateLimit,
    Session,
    SessionExpiredError,
    hookimpl,
    new_session,
    parse_json,
)
from openalgo_core.http import RequestKind
from openalgo_core.kit.rows import Row, csv_rows

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
EXCHANGES = {str(name): str(name) for name in INFO.exchanges}
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
    response = client.request(
        "POST", client.url("api", "/api/orders"), kind=kind, tag=order.tag, json=payload,
        headers={"Authorization": f"Bearer {session.access_token.get_secret_value()}"})
    try:
        data = reply_object(response)
        row = Row(data, what="order reply", broker="fake")
        if not row.flag("ok"):
            raise OrderRejectedError(row.text("message", "refused"), code=row.text("code", ""),
                                     broker="fake", raw=response.content)
        order_id = row.text("order_id")
    except (OrderRejectedError, SessionExpiredError, OrderStatusUnknownError):
        raise
    except BrokerResponseError as exc:
        raise OrderStatusUnknownError(f"unreadable reply to an order: {exc}", broker="fake",
                                      tag=order.tag, raw=response.content) from None
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
    response = client.request(
        "GET", client.url("api", "/api/positions"), kind="read",
        headers={"Authorization": f"Bearer {session.access_token.get_secret_value()}"})
    return read_positions(response, instruments)


@hookimpl
def fetch_instruments(client: BrokerClient, progress: Any) -> list[Instrument]:
    return parse_master(client.download(client.url("files", "/instruments.csv"),
                                        progress=progress))


@hookimpl
def broker_simulator(environ: Mapping[str, str]) -> Any:
    from .simulator import FakeSimulator

    return FakeSimulator(environ=environ)
