"""Angel One SmartAPI as facts on the core's broker kit (brokers/angel section 1).

- Replies: the API gateway's envelope ``{"success": false, "errorCode", "message"}``
  (AG8001/AG8002/AG8003: the session is gone) and the business envelope
  ``{"status", "errorcode", "message", "data"}``. The plain-text rate-limit reply
  (``Access denied because of exceeding access rate``, HTTP 403) is caught by the core
  client through ``BrokerInfo.rate_limit_markers``.
- Headers: the eight mandatory ones on every call, ``Authorization: Bearer <jwt>``
  once logged in.
- Login: ``loginByPassword`` with client code, MPIN (as ``password``) and the TOTP.
- Orders: ``placeOrder`` with numbers as strings and the core's tag as ``ordertag``;
  the order id is ``data.orderid``. Positions: ``getPosition``. Master contract:
  :mod:`.instruments`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

import msgspec

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
from openalgo_core.kit import Call, Codes, Envelope, Login, Replies, RestBroker, Row
from openalgo_core.kit.symbols import equity_symbol

from . import INFO
from .instruments import parse_scrip_master
from .mapping import PRICETYPES, PRODUCTS, PRODUCTS_BACK, SEGMENTS

__all__ = ["REPLIES", "AngelBroker", "order_body"]

LOGIN_PATH: Final = "/rest/auth/angelbroking/user/v1/loginByPassword"
PLACE_ORDER_PATH: Final = "/rest/secure/angelbroking/order/v1/placeOrder"
POSITIONS_PATH: Final = "/rest/secure/angelbroking/order/v1/getPosition"
SCRIP_MASTER_PATH: Final = "/OpenAPI_File/files/OpenAPIScripMaster.json"

#: Values of the client-identification headers. Angel requires the headers on every
#: call but does not check their values (OpenAlgo sends literal placeholders); the
#: SEBI static-IP rule is enforced on the connection's real source address.
CLIENT_LOCAL_IP: Final = "127.0.0.1"
CLIENT_PUBLIC_IP: Final = "127.0.0.1"
MAC_ADDRESS: Final = "00:00:00:00:00:00"

_HEADERS: Final = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "X-UserType": "USER",
    "X-SourceID": "WEB",
    "X-ClientLocalIP": CLIENT_LOCAL_IP,
    "X-ClientPublicIP": CLIENT_PUBLIC_IP,
    "X-MACAddress": MAC_ADDRESS,
}

REPLIES: Final = Replies(
    broker=INFO.id,
    envelopes=(
        # API gateway refusals: token problems, unregistered IP (AG7002), bad API key
        Envelope(status="success", failed=("false",), code=("errorCode",),
                 message=("message",)),
        Envelope(status="status", ok=("true",), failed=("false",), code=("errorcode",),
                 message=("message",), data="data"),
    ),
    # Invalid Token, Token Expired, Token missing
    session_expired=Codes(codes=("AG8001", "AG8002", "AG8003")),
    # an order from an IP not registered on the app (SEBI static-IP rule); a wrong API
    # key (⚠ its code is unverified: matched by its text)
    unauthorized=Codes(codes=("AG7002",), messages=("api key",)),
)

_encode = msgspec.json.Encoder().encode


def order_body(order: OrderRequest, instrument: Instrument) -> dict[str, str]:
    """Angel's placeOrder body. Numbers are strings, as in Angel's own examples;
    ``ordertag`` carries the core's unique tag so the order can be found again."""
    ordertype, variety = PRICETYPES[order.pricetype.value]
    return {
        "variety": variety,
        "tradingsymbol": instrument.broker_symbol,
        "symboltoken": instrument.token,
        "transactiontype": order.action.value,
        "exchange": instrument.broker_exchange,
        "ordertype": ordertype,
        "producttype": PRODUCTS[order.product.value],
        "duration": "DAY",
        "price": _number(order.price),
        "triggerprice": _number(order.trigger_price),
        "squareoff": "0",
        "stoploss": "0",
        "quantity": str(order.quantity),
        "disclosedquantity": str(order.disclosed_quantity),
        "ordertag": order.tag,
    }


def _number(value: Decimal) -> str:
    """``Decimal`` as Angel's plain decimal string (``"0"``, ``"812.35"``), never exponent."""
    return format(value, "f")


class AngelBroker(RestBroker):
    """Angel One SmartAPI: what differs from any other REST broker."""

    info = INFO
    replies = REPLIES

    def headers(self, credentials: Credentials, session: Session | None) -> Mapping[str, str]:
        (api_key,) = credentials.require("API_KEY")
        if session is None:
            return {**_HEADERS, "X-PrivateKey": api_key}
        return {**_HEADERS, "X-PrivateKey": api_key,
                "Authorization": f"Bearer {session.access_token.get_secret_value()}"}

    def finish_login(self, login: Login) -> Session:
        """``loginByPassword``; the session keeps ``data.jwtToken`` without its
        ``Bearer`` prefix (:meth:`headers` adds it), plus the refresh and feed tokens."""
        client_code, pin = login.credentials.require("CLIENT_ID", "PIN")
        reply = self.send(login.client, Call("POST", "api", LOGIN_PATH, json={
            "clientcode": client_code, "password": pin, "totp": login.code}),
            kind="login", credentials=login.credentials)
        data = reply.data if isinstance(reply.data, Mapping) else {}
        jwt = data.get("jwtToken")
        if isinstance(jwt, str):
            jwt = jwt.strip().removeprefix("Bearer ")
        return self.session(reply, client_code, jwt, refresh_token=data.get("refreshToken"),
                            feed_token=data.get("feedToken"))

    def order_call(self, order: OrderRequest, instrument: Instrument,
                   credentials: Credentials) -> Call:
        # msgspec writes the same compact UTF-8 bytes as httpx's json=, for less
        return Call("POST", "api", PLACE_ORDER_PATH,
                    content=_encode(order_body(order, instrument)))

    def positions_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", POSITIONS_PATH)

    def position(self, row: Row, instruments: InstrumentIndex) -> Position:
        """One ``getPosition`` row; closed positions (net 0) keep their realised P&L.

        The symbol comes from the master contract by ``(symboltoken, exchange)``;
        failing that, the trading symbol without its series suffix. The average price
        is ``avgnetprice``, or the open side's average when Angel leaves it 0; the P&L
        is ``pnl``, or ``realised + unrealised`` when it is absent.
        """
        segment = row.text("exchange")
        product = row.lookup("producttype", PRODUCTS_BACK)
        instrument = instruments.by_token(row.text("symboltoken"), segment)
        if instrument is not None:
            symbol, exchange = instrument.symbol, instrument.exchange
        else:
            symbol = equity_symbol(row.text("tradingsymbol"))
            exchange = row.lookup("exchange", SEGMENTS)
        net = row.whole("netqty")
        average = row.decimal("avgnetprice")
        if not average and net:
            average = row.decimal("buyavgprice" if net > 0 else "sellavgprice")
        pnl = row.decimal("pnl") if row.has("pnl") else (
            row.decimal("realised") + row.decimal("unrealised"))
        return Position(symbol=symbol, exchange=exchange, product=product, quantity=net,
                        average_price=average, ltp=row.decimal("ltp"), pnl=pnl)

    def master(self, client: BrokerClient, progress: ProgressCallback,
               session: Session | None) -> list[Instrument]:
        """``OpenAPIScripMaster.json``: public, no auth (``session`` is not needed)."""
        content = client.download(client.url("master", SCRIP_MASTER_PATH), progress=progress)
        return parse_scrip_master(content)
