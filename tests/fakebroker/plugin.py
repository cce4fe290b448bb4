"""The fake broker's hookimpls: a small JSON API, mapped onto the core contract."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from openalgo_core import (
    CORE_API,
    AuthenticationError,
    BrokerClient,
    BrokerInfo,
    BrokerResponseError,
    CredentialField,
    Credentials,
    Instrument,
    InstrumentIndex,
    LoginChallenge,
    OrderReceipt,
    OrderRejectedError,
    OrderRequest,
    Position,
    RateLimit,
    Session,
    SessionExpiredError,
    hookimpl,
    new_session,
    parse_json,
)
from openalgo_core.models import to_decimal

INFO = BrokerInfo(
    id="fake", display_name="Fake Broker", exchanges=frozenset({"NSE", "BSE", "NFO", "NSE_INDEX"}),
    credentials=(CredentialField(name="API_KEY", secret=True),
                 CredentialField(name="CLIENT_ID", secret=False),
                 CredentialField(name="PIN", secret=True),
                 CredentialField(name="TOTP_SECRET", secret=True, required=False)),
    login_style="totp",
    rate_limits={"orders": RateLimit(per_second=50), "reads": RateLimit(per_second=50)},
    base_urls={"api": "https://api.fake.example", "files": "https://files.fake.example"},
    core_api=CORE_API)


def _body(client: BrokerClient, response: Any, *, tag: str | None = None) -> dict[str, Any]:
    data = parse_json(response, "fake", order_tag=tag)
    if not isinstance(data, dict):
        raise BrokerResponseError("expected a JSON object", broker="fake", raw=response.text)
    if data.get("code") == "EXPIRED":
        raise SessionExpiredError("session expired", broker="fake", raw=response.text)
    return data


def _login(credentials: Credentials, client: BrokerClient, code: str) -> Session:
    api_key, client_id, pin = credentials.require("API_KEY", "CLIENT_ID", "PIN")
    response = client.request("POST", client.url("api", "/api/login"), kind="login",
                              json={"api_key": api_key, "client_id": client_id, "pin": pin,
                                    "totp": code})
    data = _body(client, response)
    if not data.get("ok"):
        raise AuthenticationError(str(data.get("error")), broker="fake", raw=response.text)
    return new_session("fake", client_id, str(data["token"]))


@hookimpl
def broker_info() -> BrokerInfo:
    return INFO


@hookimpl
def authenticate(credentials: Credentials, client: BrokerClient) -> Session | LoginChallenge:
    code = credentials.totp()
    if code is None:
        return LoginChallenge(broker="fake", kind="code", prompt="Enter your TOTP")
    return _login(credentials, client, code)


@hookimpl
def handle_callback(credentials: Credentials, client: BrokerClient,
                    params: Mapping[str, str]) -> Session:
    return _login(credentials, client, params.get("code", ""))


@hookimpl
def place_order(order: OrderRequest, instrument: Instrument, session: Session,
                client: BrokerClient) -> OrderReceipt:
    payload = {"token": instrument.token, "side": order.action.value, "qty": order.quantity,
               "type": order.pricetype.value, "product": order.product.value,
               "price": str(order.price), "trigger": str(order.trigger_price), "tag": order.tag}
    response = client.request(
        "POST", client.url("api", "/api/orders"), kind="order", tag=order.tag, json=payload,
        headers={"Authorization": f"Bearer {session.access_token.get_secret_value()}"})
    data = _body(client, response, tag=order.tag)
    if not data.get("ok"):
        raise OrderRejectedError(str(data.get("message")), code=data.get("code"), broker="fake",
                                 raw=response.text)
    return OrderReceipt(broker="fake", order_id=str(data["order_id"]), tag=order.tag, raw=data)


@hookimpl
def fetch_positions(session: Session, client: BrokerClient,
                    instruments: InstrumentIndex) -> list[Position]:
    response = client.request(
        "GET", client.url("api", "/api/positions"), kind="read",
        headers={"Authorization": f"Bearer {session.access_token.get_secret_value()}"})
    rows = _body(client, response).get("rows")
    if not isinstance(rows, list):
        raise BrokerResponseError("positions: 'rows' is not a list", broker="fake")
    out = []
    for row in rows:
        inst = instruments.by_token(str(row.get("token")), str(row.get("exchange")))
        if inst is None:
            raise BrokerResponseError(f"unknown token {row.get('token')}", broker="fake")
        out.append(Position(symbol=inst.symbol, exchange=inst.exchange, product=row["product"],
                            quantity=int(row["net"]), average_price=to_decimal(row["avg"]),
                            ltp=to_decimal(row["ltp"]), pnl=to_decimal(row["pnl"])))
    return out


@hookimpl
def fetch_instruments(client: BrokerClient, progress: Any) -> list[Instrument]:
    text = client.download(client.url("files", "/instruments.csv"), progress=progress).decode()
    return [Instrument(symbol=r["symbol"], exchange=r["exchange"], broker_symbol=r["symbol"],
                       broker_exchange=r["exchange"], token=r["token"],
                       lot_size=int(r["lot"]), tick_size=to_decimal(r["tick"]))
            for r in csv.DictReader(io.StringIO(text))]


@hookimpl
def broker_simulator(environ: Mapping[str, str]) -> Any:
    from .simulator import FakeSimulator

    return FakeSimulator(environ=environ)
