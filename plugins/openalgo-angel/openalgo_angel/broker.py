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
  the order id is ``data.orderid``; ``modifyOrder`` and ``cancelOrder`` with the order's
  own ``variety``. Books: ``getOrderBook`` (``ordertag`` echoed: the journal settles by
  it), one order by ``details/{uniqueorderid}``, ``getTradeBook``, ``getPosition``,
  ``getRMS`` (funds), ``getHolding``. Master contract: :mod:`.instruments`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, ClassVar, Final

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
from openalgo_core.kit import Call, Codes, Envelope, Login, Replies, RestBroker, Row, lookup
from openalgo_core.kit.symbols import equity_symbol
from openalgo_core.models import Funds, Holding, Order, OrderReceipt, Trade

from . import INFO
from .instruments import parse_scrip_master
from .mapping import PRICETYPES, PRICETYPES_BACK, PRODUCTS, PRODUCTS_BACK, SEGMENTS, STATUSES

__all__ = ["REPLIES", "AngelBroker", "order_body"]

LOGIN_PATH: Final = "/rest/auth/angelbroking/user/v1/loginByPassword"
_SECURE: Final = "/rest/secure/angelbroking"
PLACE_ORDER_PATH: Final = _SECURE + "/order/v1/placeOrder"
MODIFY_ORDER_PATH: Final = _SECURE + "/order/v1/modifyOrder"
CANCEL_ORDER_PATH: Final = _SECURE + "/order/v1/cancelOrder"
ORDER_BOOK_PATH: Final = _SECURE + "/order/v1/getOrderBook"
ORDER_DETAILS_PATH: Final = _SECURE + "/order/v1/details/"
TRADE_BOOK_PATH: Final = _SECURE + "/order/v1/getTradeBook"
POSITIONS_PATH: Final = _SECURE + "/order/v1/getPosition"
FUNDS_PATH: Final = _SECURE + "/user/v1/getRMS"
HOLDINGS_PATH: Final = _SECURE + "/portfolio/v1/getHolding"
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
    # details/{uniqueorderid} of an order Angel does not know
    not_found=Codes(codes=("AB1013",)),
)
#: Angel's order-book time stamps (IST): ``20-Oct-2020 13:10:59``.
_TIME: Final = "%d-%b-%Y %H:%M:%S"

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


def modify_body(order: Order, change: OrderRequest, instrument: Instrument) -> dict[str, str]:
    """Angel's modifyOrder body: the whole order as it should stand, with the variety the
    order was placed with (a stop-loss order is modified as ``STOPLOSS``)."""
    ordertype, variety = PRICETYPES[change.pricetype.value]
    return {
        "variety": _variety(order) or variety, "orderid": order.order_id,
        "ordertype": ordertype, "producttype": PRODUCTS[change.product.value],
        "duration": "DAY", "price": _number(change.price),
        "triggerprice": _number(change.trigger_price), "quantity": str(change.quantity),
        "disclosedquantity": str(change.disclosed_quantity),
        "tradingsymbol": instrument.broker_symbol, "symboltoken": instrument.token,
        "exchange": instrument.broker_exchange,
    }


def _variety(order: Order) -> str | None:
    """The ``variety`` of the book row the order was read from (NORMAL, STOPLOSS, AMO)."""
    value = order.raw.get("variety") if isinstance(order.raw, Mapping) else None
    return value if isinstance(value, str) and value else None


def _number(value: Decimal) -> str:
    """``Decimal`` as Angel's plain decimal string (``"0"``, ``"812.35"``), never exponent."""
    return format(value, "f")


class AngelBroker(RestBroker):
    """Angel One SmartAPI: what differs from any other REST broker."""

    info = INFO
    replies = REPLIES
    #: as OpenAlgo's Angel login form labels them
    field_labels: ClassVar[Mapping[str, str]] = {
        "client_id": "Client ID", "pin": "PIN", "code": "TOTP"}

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
        product = row.lookup("producttype", PRODUCTS_BACK)
        symbol, exchange = self._symbol(row, instruments)
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

    # -- the rest of the day -----------------------------------------------------------
    def __init__(self) -> None:
        #: orderid -> uniqueorderid, learnt from replies: what ``details/`` is keyed by
        self._unique: dict[str, str] = {}
        self._unique_lock = threading.Lock()

    def _remember(self, order_id: str, unique: Any) -> None:
        if isinstance(unique, str) and unique.strip():
            with self._unique_lock:
                if len(self._unique) > 50_000:  # a day's orders, many times over
                    self._unique.clear()
                self._unique[order_id] = unique.strip()

    def place_order(self, order: OrderRequest, instrument: Instrument, session: Session,
                    credentials: Credentials, client: BrokerClient) -> OrderReceipt:
        receipt = super().place_order(order, instrument, session, credentials, client)
        self._remember(receipt.order_id, lookup(receipt.raw, "data.uniqueorderid"))
        return receipt

    def order_book_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", ORDER_BOOK_PATH)

    def order_status_call(self, order_id: str, credentials: Credentials) -> Call | None:
        """``details/{uniqueorderid}`` when the unique id is known (from the place reply or
        a book read), else None: the order is found in the order book."""
        unique = self._unique.get(order_id)
        return None if unique is None else Call("GET", "api", ORDER_DETAILS_PATH + unique)

    def order_row(self, row: Row, instruments: InstrumentIndex) -> Order:
        """One getOrderBook (or details) row; ``text`` is the rejection reason."""
        order_id = row.text("orderid")
        self._remember(order_id, row.data.get("uniqueorderid"))
        symbol, exchange = self._symbol(row, instruments)
        return Order(
            broker=self.broker, order_id=order_id, symbol=symbol, exchange=exchange,
            action=row.text("transactiontype"), quantity=row.whole("quantity"),
            pricetype=row.lookup("ordertype", PRICETYPES_BACK),
            product=row.lookup("producttype", PRODUCTS_BACK),
            price=row.decimal("price", 0), trigger_price=row.decimal("triggerprice", 0),
            status=_status(row), filled_quantity=row.whole("filledshares", 0),
            average_price=row.decimal("averageprice", 0), reason=row.text("text", ""),
            tag=row.text("ordertag", "") or None, timestamp=row.stamp("updatetime", _TIME),
            raw=row.data)

    def cancel_call(self, order: Order, credentials: Credentials) -> Call:
        variety = _variety(order) or PRICETYPES[order.pricetype.value][1]
        return Call("POST", "api", CANCEL_ORDER_PATH,
                    content=_encode({"variety": variety, "orderid": order.order_id}))

    def modify_call(self, order: Order, change: OrderRequest, instrument: Instrument,
                    credentials: Credentials) -> Call:
        return Call("POST", "api", MODIFY_ORDER_PATH,
                    content=_encode(modify_body(order, change, instrument)))

    def trade_book_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", TRADE_BOOK_PATH)

    def trade_row(self, row: Row, instruments: InstrumentIndex) -> Trade:
        """One getTradeBook row (no token: the symbol is found by trading symbol)."""
        segment = row.text("exchange")
        instrument = instruments.by_broker_symbol(row.text("tradingsymbol"), segment)
        if instrument is not None:
            symbol, exchange = instrument.symbol, instrument.exchange
        else:
            symbol = equity_symbol(row.text("tradingsymbol"))
            exchange = row.lookup("exchange", SEGMENTS)
        price, size = row.decimal("fillprice"), row.whole("fillsize")
        value = row.decimal("tradevalue") if row.has("tradevalue") else price * size
        return Trade(broker=self.broker, order_id=row.text("orderid"),
                     trade_id=row.text("fillid"), symbol=symbol, exchange=exchange,
                     action=row.text("transactiontype"),
                     product=row.lookup("producttype", PRODUCTS_BACK), quantity=size,
                     average_price=price, trade_value=value,
                     timestamp=row.stamp("filltime", "%H:%M:%S"))

    def funds_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", FUNDS_PATH)

    def funds_row(self, row: Row) -> Funds:
        """getRMS: ``availablecash``, ``collateral``, ``utiliseddebits`` (margin used) and
        the day's ``m2mrealized`` / ``m2munrealized``."""
        return Funds(broker=self.broker, available_cash=row.decimal("availablecash"),
                     collateral=row.decimal("collateral", 0),
                     used_margin=row.decimal("utiliseddebits", 0),
                     realised_pnl=row.decimal("m2mrealized", 0),
                     unrealised_pnl=row.decimal("m2munrealized", 0))

    def holdings_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", HOLDINGS_PATH)

    def holding_row(self, row: Row, instruments: InstrumentIndex) -> Holding:
        """One getHolding row: ``quantity`` (⚠ T1 shares, ``t1quantity``, are not added:
        as OpenAlgo reads it), ``averageprice``, ``ltp``, ``profitandloss``."""
        symbol, exchange = self._symbol(row, instruments)
        quantity, average, ltp = (row.whole("quantity"), row.decimal("averageprice"),
                                  row.decimal("ltp"))
        pnl = row.decimal("profitandloss") if row.has("profitandloss") else (
            (ltp - average) * quantity)
        return Holding(symbol=symbol, exchange=exchange,
                       product=row.lookup("product", PRODUCTS_BACK, "CNC"), quantity=quantity,
                       average_price=average, ltp=ltp, pnl=pnl)

    def _symbol(self, row: Row, instruments: InstrumentIndex) -> tuple[str, str]:
        """OpenAlgo's symbol and exchange for a row naming ``symboltoken`` + ``exchange``
        (failing the master, the trading symbol without its series)."""
        instrument = instruments.by_token(row.text("symboltoken"), row.text("exchange"))
        if instrument is not None:
            return instrument.symbol, instrument.exchange
        return equity_symbol(row.text("tradingsymbol")), row.lookup("exchange", SEGMENTS)


def _status(row: Row) -> str:
    text = row.text("status").lower()
    if text in STATUSES:
        return STATUSES[text]
    if "pending" in text:
        return "open"
    raise row.fail("status", "is not a status Angel documents")
