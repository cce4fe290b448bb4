"""A broker that logs in by browser redirect (ICICI Breeze-like), as facts on the kit.

The broker's login page sends the browser back to ``REDIRECT_URL?apisession=<token>``
without our state; ``finish_login`` trades that token for a session at
``customerdetails`` (a GET with a JSON body). Every body is compact JSON, on GET too;
once logged in, ``prepare`` signs each call: ``sha256(timestamp + body + secret)``.
Replies are ``{"Success": ..., "Status": ..., "Error": ...}``; an empty book is Status 500
"No Data Found" (``Replies.empty``) and an unknown order "Order not found"
(``Replies.not_found``). Orders live at ``/order``: ``GET`` the book (or, with an
``order_id``, a list of that one order: :meth:`RestBroker.order_status_call`), ``PUT``
modify, ``DELETE`` cancel; a row's filled quantity is what is neither pending nor
cancelled. Funds show the allocated equity and what trades block; the master is a zip
of per-exchange CSV files with quoted, space-padded header names.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import urlencode

from openalgo_core import (
    CORE_API,
    BrokerClient,
    BrokerInfo,
    CredentialField,
    Credentials,
    Exchange,
    Funds,
    Holding,
    Instrument,
    InstrumentIndex,
    Order,
    OrderRequest,
    OrderStatus,
    Position,
    Session,
    Trade,
)
from openalgo_core.http import ProgressCallback
from openalgo_core.kit import (
    Call,
    Codes,
    Envelope,
    InstrumentBuilder,
    KitHooks,
    Login,
    Replies,
    RestBroker,
    Row,
    csv_rows,
    unzip,
)

INFO = BrokerInfo(
    id="fakeredirect", display_name="Fake Redirect Broker",
    exchanges=frozenset({Exchange.NSE, Exchange.BSE, Exchange.NFO, Exchange.NSE_INDEX}),
    credentials=(CredentialField(name="API_KEY", secret=True),
                 CredentialField(name="API_SECRET", secret=True),
                 CredentialField(name="REDIRECT_URL", secret=False, required=False)),
    login_style="redirect",
    base_urls={"api": "https://api.fakeredirect.example/breezeapi/api/v1",
               "login": "https://api.fakeredirect.example/apiuser",
               "files": "https://directlink.fakeredirect.example"},
    core_api=CORE_API)

PRODUCTS = {"MIS": "intraday", "CNC": "cash", "NRML": "margin"}
PRODUCTS_BACK = {code: product for product, code in PRODUCTS.items()}
SIDES_BACK = {"buy": "BUY", "sell": "SELL"}
TYPES_BACK = {"market": "MARKET", "limit": "LIMIT", "sl": "SL", "sl-m": "SL-M"}
STATUSES = {"Ordered": OrderStatus.OPEN, "Trigger Pending": OrderStatus.TRIGGER_PENDING,
            "Executed": OrderStatus.COMPLETE, "Cancelled": OrderStatus.CANCELLED,
            "Rejected": OrderStatus.REJECTED}
#: the broker's time stamps (IST)
TIME = "%d-%b-%Y %H:%M:%S"
#: the master's members and the exchange of their rows (Series "0": an index)
MASTER_FILES = {"NSEScripMaster.txt": "NSE", "BSEScripMaster.txt": "BSE",
                "FONSEScripMaster.txt": "NFO"}


class FakeRedirectBroker(RestBroker):
    info = INFO
    replies = Replies(
        broker=INFO.id,
        envelopes=(Envelope(status="Status", ok=("200",), failed=("500", "5"),
                            message=("Error",), data="Success"),),
        session_expired=Codes(messages=("session key is expired",)),
        empty=Codes(messages=("no data found",)),
        not_found=Codes(messages=("order not found",)))
    order_id_at = ("Success.order_id",)
    redirect_param = "apisession"

    def login_url(self, login: Login) -> str:
        """The login page, with the API key URL-encoded: ICICI's keys hold ``+ = ! ^ #``."""
        api_key = login.credentials.require("API_KEY")[0]
        return login.client.url("login", "/login?") + urlencode({"api_key": api_key})

    def headers(self, credentials: Credentials, session: Session | None) -> Mapping[str, str]:
        if session is None:
            return {"Content-Type": "application/json"}
        return {"Content-Type": "application/json", "X-AppKey": credentials.require("API_KEY")[0],
                "X-SessionToken": session.access_token.get_secret_value()}

    def prepare(self, call: Call, credentials: Credentials, session: Session | None) -> Call:
        """The body as compact JSON bytes (``{}`` when there is none, GET too); signed
        once logged in."""
        content = json.dumps({} if call.json is None else call.json,
                             separators=(",", ":")).encode()
        if session is None:
            return call._replace(json=None, content=content)
        (secret,) = credentials.require("API_SECRET")
        stamp = dt.datetime.now(dt.UTC).isoformat()[:19] + ".000Z"
        checksum = hashlib.sha256(stamp.encode() + content + secret.encode()).hexdigest()
        return call._replace(json=None, content=content, headers={
            **(call.headers or {}), "X-Checksum": f"token {checksum}", "X-Timestamp": stamp})

    def finish_login(self, login: Login) -> Session:
        (api_key,) = login.credentials.require("API_KEY")
        reply = self.send(login.client, Call("GET", "api", "/customerdetails", json={
            "SessionToken": login.code, "AppKey": api_key}),
            kind="login", credentials=login.credentials)
        data = reply.data if isinstance(reply.data, Mapping) else {}
        return self.session(reply, data.get("idirect_userid", ""), data.get("session_token"))

    def order_call(self, order: OrderRequest, instrument: Instrument,
                   credentials: Credentials) -> Call:
        return Call("POST", "api", "/order", json={
            "stock_token": instrument.token, "exchange_code": instrument.broker_exchange,
            "product": PRODUCTS[order.product], "action": order.action.lower(),
            "order_type": order.pricetype.lower(), "quantity": str(order.quantity),
            "price": str(order.price), "stoploss": str(order.trigger_price),
            "user_remark": order.tag})

    def positions_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", "/portfoliopositions")

    def position(self, row: Row, instruments: InstrumentIndex) -> Position:
        inst = _instrument(row, instruments)
        return Position(
            symbol=inst.symbol, exchange=inst.exchange,
            product=row.lookup("product", PRODUCTS_BACK), quantity=row.whole("quantity"),
            average_price=row.decimal("average_price"), ltp=row.decimal("ltp"),
            pnl=row.decimal("booked_profit_loss") + row.decimal("unrealized_pnl"))

    def order_book_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", "/order")

    def order_status_call(self, order_id: str, credentials: Credentials) -> Call:
        return Call("GET", "api", "/order", json={"order_id": order_id})

    def order_row(self, row: Row, instruments: InstrumentIndex) -> Order:
        inst = _instrument(row, instruments)
        quantity = row.whole("quantity")
        filled = quantity - row.whole("pending_quantity") - row.whole("cancelled_quantity")
        if filled < 0:
            raise row.fail("pending_quantity", "and cancelled_quantity exceed the quantity")
        return Order(
            broker=self.broker, order_id=row.text("order_id"), symbol=inst.symbol,
            exchange=inst.exchange, action=row.lookup("action", SIDES_BACK),
            quantity=quantity, pricetype=row.lookup("order_type", TYPES_BACK),
            product=row.lookup("product", PRODUCTS_BACK), price=row.decimal("price"),
            trigger_price=row.decimal("stoploss"), status=row.lookup("status", STATUSES),
            filled_quantity=filled, average_price=row.decimal("average_price"),
            reason=row.text("rejection_reason", ""), tag=row.text("user_remark", "") or None,
            timestamp=row.time("order_datetime", TIME, None), raw=row.data)

    def cancel_call(self, order: Order, credentials: Credentials) -> Call:
        return Call("DELETE", "api", "/order", json={
            "order_id": order.order_id, "exchange_code": _segment(order)})

    def modify_call(self, order: Order, change: OrderRequest, instrument: Instrument,
                    credentials: Credentials) -> Call:
        return Call("PUT", "api", "/order", json={
            "order_id": order.order_id, "exchange_code": instrument.broker_exchange,
            "order_type": change.pricetype.lower(), "quantity": str(change.quantity),
            "price": str(change.price), "stoploss": str(change.trigger_price)})

    def trade_book_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", "/trades")

    def trade_row(self, row: Row, instruments: InstrumentIndex) -> Trade:
        inst = _instrument(row, instruments)
        quantity, price = row.whole("quantity"), row.decimal("execution_price")
        return Trade(broker=self.broker, order_id=row.text("order_id"),
                     trade_id=row.text("exchange_trade_id"), symbol=inst.symbol,
                     exchange=inst.exchange, action=row.lookup("action", SIDES_BACK),
                     product=row.lookup("product", PRODUCTS_BACK), quantity=quantity,
                     average_price=price, trade_value=price * quantity,
                     timestamp=row.time("trade_datetime", TIME, None))

    def funds_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", "/funds")

    def funds_row(self, row: Row) -> Funds:
        """Available = the equity allocated to trading less what trades block."""
        blocked = row.decimal("block_by_trade_equity")
        return Funds(broker=self.broker,
                     available_cash=row.decimal("allocated_equity") - blocked,
                     collateral=row.decimal("limit_from_collateral"), used_margin=blocked,
                     realised_pnl=row.decimal("booked_profit_loss"),
                     unrealised_pnl=row.decimal("unrealized_pnl"))

    def holdings_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", "/portfolioholdings")

    def holding_row(self, row: Row, instruments: InstrumentIndex) -> Holding:
        """No P&L in the row: (current market price - average) x quantity."""
        inst = _instrument(row, instruments)
        quantity, average = row.whole("quantity"), row.decimal("average_price")
        ltp = row.decimal("current_market_price")
        return Holding(symbol=inst.symbol, exchange=inst.exchange, quantity=quantity,
                       average_price=average, ltp=ltp, pnl=(ltp - average) * quantity)

    def master(self, client: BrokerClient, progress: ProgressCallback,
               session: Session | None) -> list[Instrument]:
        """``SecurityMaster.zip``: tick sizes in paise, expiries ``28-Mar-2024``."""
        content = client.download(client.url("files", "/SecurityMaster.zip"), progress=progress)
        files = unzip(content, MASTER_FILES, what="SecurityMaster.zip", broker=self.broker)
        with InstrumentBuilder(self.broker, tick_scale=Decimal(100),
                               parse_expiry=_expiry) as build:
            for name, exchange in MASTER_FILES.items():
                build.each(csv_rows(files[name], what=f"{name} row", broker=self.broker),
                           functools.partial(_read, build, exchange))
        return build.result()


def _instrument(row: Row, instruments: InstrumentIndex) -> Instrument:
    inst = instruments.by_token(row.text("stock_token"), row.text("exchange_code"))
    if inst is None:
        raise row.fail("stock_token", "names no instrument of the master contract")
    return inst


def _segment(order: Order) -> str:
    """The exchange code the book row named (the cancel must repeat it)."""
    code = order.raw.get("exchange_code") if isinstance(order.raw, Mapping) else None
    return code if isinstance(code, str) and code else order.exchange.value



def _expiry(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d-%b-%Y").date()


def _read(build: InstrumentBuilder, exchange: str, row: Row) -> None:
    """One row of an exchange's file: on NFO a future (OptionType ``XX``) or an option,
    else an equity or (Series ``0``) an index."""
    r = row.data
    if exchange == "NFO":
        args = (r["ExchangeCode"], exchange, r["ShortName"], exchange, r["Token"],
                r["LotSize"], r["TickSize"], r["ExpiryDate"])
        if r["OptionType"] == "XX":
            build.future(*args)
        else:
            build.option(*args, r["StrikePrice"], r["OptionType"])
    elif r["Series"] == "0":
        build.index(r["ExchangeCode"], exchange + "_INDEX", r["ShortName"], exchange,
                    r["Token"], r["TickSize"])
    else:
        build.equity(r["ExchangeCode"], exchange, r["ShortName"], exchange, r["Token"],
                     r["CompanyName"], r["LotSize"], r["TickSize"])


hooks = KitHooks(INFO, broker=f"{__name__}:FakeRedirectBroker",
                 simulator=f"{__package__}.simulator:FakeRedirectSimulator")
