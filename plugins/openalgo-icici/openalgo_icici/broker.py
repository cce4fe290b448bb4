"""ICICI Direct's Breeze API as facts on the core's broker kit (brokers/kotak-icici part B,
and what breeze-connect 1.0.69 sends: brokers/sdk-observed).

- Replies: ``{"Success": ..., "Status": <int>, "Error": ...}``; ``Status`` 200 is success
  (HTTP 200 either way). ``Status`` 5 ("Authentication Fail :: Invalid Checksum.") is a
  refused signature; an expired session key ⚠ is recognised by its text; an empty book is
  ``Success`` null, ``[]`` or the error "No Data Found".
- Login, by browser redirect: ICICI's page (``/apiuser/login?api_key=<key, URL-encoded>``)
  sends the browser back to the registered ``REDIRECT_URL?apisession=<key>`` (or posts
  the form field ``API_Session``); ``GET customerdetails`` with the JSON body
  ``{"SessionToken", "AppKey"}`` (unsigned) answers ``Success.session_token`` =
  base64("<user id>:<session key>"), sent as ``X-SessionToken`` from then on.
- Every later call is signed: the body is compact JSON (``{}`` when there is none, on GET
  and DELETE too), ``X-Checksum: token sha256(timestamp + body + secret)``,
  ``X-Timestamp`` UTC ``2026-12-01T09:15:00.000Z`` (as the SDK), ``X-AppKey``,
  ``X-SessionToken`` (:meth:`BreezeBroker.prepare`).
- Orders: ``POST /order`` with ICICI's stock code (``RELIND``) from the security master,
  product ``cash``/``margin``/``futures``/``options``, derivatives by expiry, strike and
  right. A MARKET order is sent as a protected limit by default (``MARKET_ORDERS``,
  :func:`protected_price`); the book reads it back as the MARKET order it was while this
  process remembers its id (after a restart: the LIMIT Breeze holds ⚠). The tag travels
  in ``user_remark``. Modify ``PUT /order``, cancel ``DELETE /order`` (both name the
  exchange). Books: ``GET /order`` and ``GET /trades`` per exchange, ``portfoliopositions``
  (unsigned quantity, the side in ``action``), ``portfolioholdings`` per exchange, ``funds``
  (with the day's P&L from the positions). Master contract: :mod:`.instruments`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Final
from urllib.parse import urlencode

from openalgo_core import (
    BrokerClient,
    BrokerResponseError,
    Credentials,
    Instrument,
    InstrumentIndex,
    LoginChallenge,
    OrderReceipt,
    OrderRejectedError,
    OrderRequest,
    OrderStatus,
    Position,
    Session,
)
from openalgo_core.http import ProgressCallback, unreadable
from openalgo_core.kit import Call, Codes, Envelope, Login, Replies, RestBroker, Row
from openalgo_core.models import IST, Funds, Holding, Order, Trade

from . import INFO
from .instruments import contract_key, expiry_date, parse_security_master
from .mapping import (
    MARKET_PROTECTION,
    PRICETYPES,
    PRICETYPES_BACK,
    PRODUCTS_BACK,
    RIGHTS,
    RIGHTS_BACK,
    SIDES_BACK,
    STATUSES,
    product_code,
)

__all__ = ["REMEMBERED", "REPLIES", "BreezeBroker", "order_body", "protected_price",
           "signature", "timestamp"]

CUSTOMER_DETAILS: Final = "/customerdetails"
ORDER: Final = "/order"
TRADES: Final = "/trades"
QUOTES: Final = "/quotes"
FUNDS: Final = "/funds"
POSITIONS: Final = "/portfoliopositions"
HOLDINGS: Final = "/portfolioholdings"
MASTER: Final = "/MotherAppMaster/SecurityMaster.zip"
#: The exchanges whose order and trade books are read (Breeze wants one at a time).
BOOK_EXCHANGES: Final = ("NSE", "BSE", "NFO")
#: Holdings are cash instruments.
HOLDING_EXCHANGES: Final = ("NSE", "BSE")
#: How many order ids of protected market orders are remembered (the oldest forgotten).
REMEMBERED: Final = 50_000

REPLIES: Final = Replies(
    broker=INFO.id,
    envelopes=(Envelope(status="Status", ok=("200",), failed=("500", "400", "401", "404"),
                        message=("Error",), data="Success"),),
    unauthorized=Codes(codes=(), messages=("invalid checksum", "public key does not exist",
                                           "authentication fail")),
    # ⚠ Breeze's text for an expired session key on a signed call is not documented
    session_expired=Codes(messages=("session key is expired", "session expired",
                                    "resource not available", "invalid session")),
    rate_limited=Codes(http=(429,), messages=("limit exceed",)),
    empty=Codes(messages=("no data found",)),
    message=("Error",),
)
_TIME: Final = "%d-%b-%Y %H:%M"
_TIME_SECONDS: Final = "%d-%b-%Y %H:%M:%S"
_DATE: Final = "%d-%b-%Y"


def timestamp(now: dt.datetime | None = None) -> str:
    """``X-Timestamp``: UTC to the second, with ``.000Z`` (as breeze-connect writes it)."""
    now = now or dt.datetime.now(dt.UTC)
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") + ".000Z"


def signature(stamp: str, body: bytes, secret: str) -> str:
    """``X-Checksum``: ``token`` + hex sha256(timestamp + body + secret)."""
    return "token " + hashlib.sha256(stamp.encode() + body + secret.encode()).hexdigest()


def _iso_expiry(day: dt.date) -> str:
    """An expiry as breeze-connect's examples send it: ``2026-09-29T06:00:00.000Z``."""
    return f"{day.isoformat()}T06:00:00.000Z"


def _money(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _contract(instrument: Instrument) -> dict[str, str]:
    """The stock code, and for a derivative its expiry, right and strike."""
    stock_code = instrument.broker_symbol.split(":", 1)[0]
    fields = {"stock_code": stock_code}
    if instrument.instrument_type in ("FUT", "CE", "PE") and instrument.expiry is not None:
        fields["expiry_date"] = _iso_expiry(instrument.expiry)
        fields["right"] = RIGHTS[instrument.instrument_type]
        fields["strike_price"] = _money(instrument.strike or Decimal(0))
    return fields


def order_body(order: OrderRequest, instrument: Instrument, price: Decimal | None,
               remark: str) -> dict[str, Any]:
    """Breeze's ``POST /order`` body (numbers as text, as the SDK's examples); ``price``
    replaces the order's (a protected market order's limit)."""
    pricetype = order.pricetype.value
    order_type = "limit" if price is not None else PRICETYPES[pricetype]
    body: dict[str, Any] = {
        **_contract(instrument), "exchange_code": instrument.broker_exchange,
        "product": product_code(order.product.value, instrument.instrument_type),
        "action": order.action.value.lower(), "order_type": order_type,
        "quantity": str(order.quantity),
        "price": _money(price if price is not None else
                        (Decimal(0) if pricetype in ("MARKET", "SL-M") else order.price)),
        "validity": "day", "user_remark": remark,
    }
    if pricetype in ("SL", "SL-M"):
        body["stoploss"] = _money(order.trigger_price)
    if order.disclosed_quantity:
        body["disclosed_quantity"] = str(order.disclosed_quantity)
    return body


def protected_price(action: str, ltp: Decimal, lower: Decimal, upper: Decimal,
                    family: str, tick: Decimal) -> Decimal:
    """The limit a MARKET order is sent at (breeze-connect's "aggressive limit"): the last
    price plus (BUY) or minus (SELL) :data:`~.mapping.MARKET_PROTECTION` (a percentage, at
    least a least distance), within the circuit limits, on the tick (rounded towards the
    last price, so it never leaves the circuit).

    Raises:
        ValueError: no usable price (a last price or tick that is not positive).
    """
    if ltp <= 0 or tick <= 0:
        raise ValueError("no last price to protect a market order with")
    percent, least = MARKET_PROTECTION[family]
    distance = max(ltp * percent / 100, least)
    if action == "BUY":
        limit = ltp + distance
        if upper > 0:
            limit = min(limit, upper)
        price = (limit / tick).to_integral_value(ROUND_FLOOR) * tick
    else:
        limit = ltp - distance
        if lower > 0:
            limit = max(limit, lower)
        price = (limit / tick).to_integral_value(ROUND_CEILING) * tick
    if price <= 0:
        raise ValueError("the protected price is not positive")
    return price


class BreezeBroker(RestBroker):
    """ICICI Direct Breeze: what differs from any other REST broker."""

    info = INFO
    replies = REPLIES
    order_id_at = ("Success.order_id",)
    redirect_param = "apisession"
    books_may_be_absent = frozenset({"positions", "order book", "trade book", "holdings"})

    def __init__(self) -> None:
        #: ids of the orders sent as protected market orders (insertion-ordered)
        self.protected: dict[str, None] = {}

    # -- signing -----------------------------------------------------------------------
    def prepare(self, call: Call, credentials: Credentials, session: Session | None) -> Call:
        """Every API call's body as compact JSON bytes (``{}`` when there is none, on a GET
        too), ``Content-Type: application/json``; once logged in, signed. The master file
        is a plain download."""
        if call.host != "api":
            return call
        content = json.dumps({} if call.json is None else call.json,
                             separators=(",", ":")).encode()
        headers = {**(call.headers or {}), "Content-Type": "application/json"}
        if session is not None:
            api_key, secret = credentials.require("API_KEY", "API_SECRET")
            stamp = timestamp()
            headers |= {"X-Checksum": signature(stamp, content, secret),
                        "X-Timestamp": stamp, "X-AppKey": api_key,
                        "X-SessionToken": session.access_token.get_secret_value()}
        return call._replace(json=None, content=content, headers=headers)

    # -- login -------------------------------------------------------------------------
    def login_url(self, login: Login) -> str:
        """ICICI's login page with the API key URL-encoded (keys hold ``+ = ! ^ #``:
        OpenAlgo issue #119)."""
        (api_key,) = login.credentials.require("API_KEY")
        return login.client.url("login", "/login") + "?" + urlencode({"api_key": api_key})

    def handle_callback(self, credentials: Credentials, client: BrokerClient,
                        challenge: LoginChallenge, params: Mapping[str, str]) -> Session:
        """The key arrives as the query's ``apisession`` or as the posted form field
        ``API_Session`` (⚠ ICICI's guide shows the form; OpenAlgo read the query)."""
        if not params.get("apisession") and params.get("API_Session"):
            params = {**params, "apisession": params["API_Session"]}
        return super().handle_callback(credentials, client, challenge, params)

    def finish_login(self, login: Login) -> Session:
        """``customerdetails``: the session key for the session token."""
        (api_key,) = login.credentials.require("API_KEY")
        reply = self.send(login.client, Call("GET", "api", CUSTOMER_DETAILS, json={
            "SessionToken": login.code, "AppKey": api_key}),
            kind="login", credentials=login.credentials)
        data = reply.data if isinstance(reply.data, Mapping) else {}
        return self.session(reply, data.get("idirect_userid") or "",
                            data.get("session_token"))

    # -- orders ------------------------------------------------------------------------
    def market_orders(self, credentials: Credentials) -> str:
        """``protected`` (default) or ``market`` (``OPENALGO_ICICI_MARKET_ORDERS``, checked
        when the credentials are read)."""
        return credentials.get("MARKET_ORDERS") or "protected"

    def place_order(self, order: OrderRequest, instrument: Instrument, session: Session,
                    credentials: Credentials, client: BrokerClient) -> OrderReceipt:
        """A MARKET order sent as a protected limit (the default): the quote first, then
        the order at :func:`protected_price`; its id is remembered (:attr:`protected`)."""
        if order.pricetype.value != "MARKET" or self.market_orders(credentials) == "market":
            return super().place_order(order, instrument, session, credentials, client)
        price = self.protect(order.action.value, instrument, session, credentials, client)
        call = Call("POST", "api", ORDER, json=order_body(order, instrument, price, order.tag))
        reply = self.send(client, call, kind="order", tag=order.tag, credentials=credentials,
                          session=session)
        order_id = self.order_id(reply)
        if order_id is None:
            raise unreadable(reply.response, self.broker, "success without an order id")
        self.protected[order_id] = None
        while len(self.protected) > REMEMBERED:
            del self.protected[next(iter(self.protected))]
        return OrderReceipt(broker=self.broker, order_id=order_id, tag=order.tag,
                            raw=reply.body)

    def protect(self, action: str, instrument: Instrument, session: Session,
                credentials: Credentials, client: BrokerClient) -> Decimal:
        """The protected limit for a MARKET ``action`` on ``instrument``, from its quote.

        Raises:
            OrderRejectedError: the quote could not be read (nothing was sent).
        """
        family = product_code("CNC", instrument.instrument_type)
        fields = _contract(instrument)
        body = {"stock_code": fields["stock_code"],
                "exchange_code": instrument.broker_exchange,
                "product_type": "cash" if family in ("cash", "margin") else family}
        body |= {k: v for k, v in fields.items() if k != "stock_code"}

        def read(row: Row) -> Decimal:
            try:
                return protected_price(action, row.decimal("ltp"),
                                       row.decimal("lower_circuit", 0),
                                       row.decimal("upper_circuit", 0),
                                       "cash" if family == "margin" else family,
                                       instrument.tick_size)
            except ValueError as exc:
                raise row.fail("ltp", str(exc)) from None

        try:
            reply = self._read(Call("GET", "api", QUOTES, json=body), session, credentials,
                               client)
            rows = reply.data if isinstance(reply.data, list) else []
            mine = [r for r in rows if isinstance(r, Mapping)
                    and str(r.get("exchange_code", "")).upper() == instrument.broker_exchange]
            if not mine:
                raise unreadable(reply.response, self.broker, f"no quote for {instrument.symbol}")
            return self._row(reply, mine[0], "quote", read)
        except BrokerResponseError as exc:
            raise OrderRejectedError(f"a market order is sent as a limit priced from the"
                                     f" quote, which could not be read ({exc.message});"
                                     " nothing was sent", broker=self.broker) from None

    def order_call(self, order: OrderRequest, instrument: Instrument,
                   credentials: Credentials) -> Call:
        return Call("POST", "api", ORDER, json=order_body(order, instrument, None, order.tag))

    def modify_call(self, order: Order, change: OrderRequest, instrument: Instrument,
                    credentials: Credentials) -> Call:
        """The whole order as it should stand (⚠ a change to MARKET is sent as
        ``market``: a protected price needs a quote, which a modify does not read)."""
        pricetype = change.pricetype.value
        body: dict[str, Any] = {
            "order_id": order.order_id, "exchange_code": _exchange(order),
            "order_type": PRICETYPES[pricetype], "quantity": str(change.quantity),
            "price": _money(Decimal(0) if pricetype in ("MARKET", "SL-M") else change.price),
            "validity": "day"}
        # a stop-loss made a limit loses its trigger: stated, not left to Breeze ⚠
        body["stoploss"] = _money(change.trigger_price if pricetype in ("SL", "SL-M")
                                  else Decimal(0))
        if change.disclosed_quantity:
            body["disclosed_quantity"] = str(change.disclosed_quantity)
        return Call("PUT", "api", ORDER, json=body)

    def cancel_call(self, order: Order, credentials: Credentials) -> Call:
        return Call("DELETE", "api", ORDER, json={"exchange_code": _exchange(order),
                                                   "order_id": order.order_id})

    # -- books -------------------------------------------------------------------------
    def order_book_calls(self, credentials: Credentials) -> Sequence[Call]:
        start, end = _today()
        return tuple(Call("GET", "api", ORDER, json={"exchange_code": exchange,
                                                      "from_date": start, "to_date": end})
                     for exchange in BOOK_EXCHANGES)

    def order_row(self, row: Row, instruments: InstrumentIndex) -> Order:
        """One ``/order`` row: filled = quantity - pending - cancelled; a protected market
        order this process sent is the MARKET order it was; a live stop-loss is "trigger
        pending"."""
        symbol, exchange = _symbol(row, instruments)
        quantity = row.whole("quantity")
        filled = quantity - row.whole("pending_quantity", 0) - row.whole("cancelled_quantity", 0)
        if not 0 <= filled <= quantity:
            raise row.fail("pending_quantity", "and cancelled_quantity do not fit the quantity")
        order_id = row.text("order_id")
        pricetype = "MARKET" if order_id in self.protected else pricetype_of(row)
        status = STATUSES.get(row.text("status").strip().lower())
        if status is None:
            raise row.fail("status", "is not a status Breeze documents")
        if status is OrderStatus.OPEN and pricetype in ("SL", "SL-M"):
            status = OrderStatus.TRIGGER_PENDING
        return Order(
            broker=self.broker, order_id=order_id, symbol=symbol,
            exchange=exchange, action=_side(row), quantity=quantity, pricetype=pricetype,
            product=_product(row, "product_type"), price=row.decimal("price", 0),
            trigger_price=row.decimal("stoploss", 0), status=status, filled_quantity=filled,
            average_price=row.decimal("average_price", 0),
            reason=row.text("rejection_reason", "") or "",
            tag=row.text("user_remark", "") or None,
            timestamp=row.stamp("order_datetime", _TIME, _TIME_SECONDS), raw=row.data)

    def trade_book_calls(self, credentials: Credentials) -> Sequence[Call]:
        start, end = _today()
        return tuple(Call("GET", "api", TRADES, json={"exchange_code": exchange,
                                                       "from_date": start, "to_date": end})
                     for exchange in BOOK_EXCHANGES)

    def trade_row(self, row: Row, instruments: InstrumentIndex) -> Trade:
        """One ``/trades`` row. ⚠ Breeze's trade list names no trade id: the order id
        stands in (numbered when an order has several rows: :meth:`fetch_trade_book`)."""
        symbol, exchange = _symbol(row, instruments)
        quantity, price = row.whole("quantity"), row.decimal("average_cost")
        return Trade(broker=self.broker, order_id=row.text("order_id"),
                     trade_id=row.text("order_id"), symbol=symbol, exchange=exchange,
                     action=_side(row), product=_product(row, "product_type"),
                     quantity=quantity, average_price=price, trade_value=price * quantity,
                     timestamp=row.stamp("trade_date", _DATE))

    def fetch_trade_book(self, session: Session, credentials: Credentials,
                         client: BrokerClient, instruments: InstrumentIndex) -> list[Trade]:
        trades = super().fetch_trade_book(session, credentials, client, instruments)
        seen: dict[str, int] = {}
        for n, trade in enumerate(trades):
            count = seen[trade.order_id] = seen.get(trade.order_id, 0) + 1
            if count > 1:
                trades[n] = trade.model_copy(update={"trade_id": f"{trade.order_id}-{count}"})
        return trades

    def positions_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", POSITIONS)

    def position(self, row: Row, instruments: InstrumentIndex) -> Position:
        """One ``portfoliopositions`` row: the quantity signed by ``action`` (``NA``: flat);
        the P&L is ``pnl`` when Breeze states it, else (ltp - average) x quantity."""
        symbol, exchange = _symbol(row, instruments)
        quantity = _signed(row)
        average, ltp = row.decimal("average_price", 0), row.decimal("ltp", 0)
        pnl = row.decimal("pnl") if row.data.get("pnl") not in (None, "") \
            else (ltp - average) * quantity
        return Position(symbol=symbol, exchange=exchange, product=_product(row, "product_type"),
                        quantity=quantity, average_price=average, ltp=ltp, pnl=pnl)

    def funds_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", FUNDS)

    def funds_row(self, row: Row) -> Funds:
        """``funds``: what is allocated to every segment less what trades block there
        (⚠ ``block_by_trade_balance`` is not their sum in ICICI's sample: not read)."""
        segments = ("equity", "fno", "commodity", "currency")
        allocated = sum((row.decimal(f"allocated_{s}", 0) for s in segments), Decimal(0))
        blocked = sum((row.decimal(f"block_by_trade_{s}", 0) for s in segments), Decimal(0))
        return Funds(broker=self.broker, available_cash=allocated - blocked,
                     used_margin=blocked)

    def fetch_funds(self, session: Session, credentials: Credentials,
                    client: BrokerClient) -> Funds:
        """``funds`` has no P&L: the day's comes from the positions (unrealised: (ltp -
        average) x quantity; realised: the rest of each row's ``pnl``)."""
        funds = super().fetch_funds(session, credentials, client)
        reply = self._read(self.positions_call(credentials), session, credentials, client)
        pnl = self.rows(reply, None, "positions", _pnl)
        unrealised = sum((u for u, _ in pnl), Decimal(0))
        realised = sum((r for _, r in pnl), Decimal(0))
        return funds.model_copy(update={"unrealised_pnl": unrealised,
                                        "realised_pnl": realised})

    def holdings_calls(self, credentials: Credentials) -> Sequence[Call]:
        return tuple(Call("GET", "api", HOLDINGS, json={"exchange_code": exchange})
                     for exchange in HOLDING_EXCHANGES)

    def holding_row(self, row: Row, instruments: InstrumentIndex) -> Holding | None:
        """One ``portfolioholdings`` row (nothing held: skipped); P&L (current market
        price - average) x quantity."""
        quantity = row.whole("quantity")
        if quantity <= 0:
            return None
        symbol, exchange = _symbol(row, instruments)
        average, ltp = row.decimal("average_price"), row.decimal("current_market_price")
        return Holding(symbol=symbol, exchange=exchange, quantity=quantity,
                       average_price=average, ltp=ltp, pnl=(ltp - average) * quantity)

    def master(self, client: BrokerClient, progress: ProgressCallback,
               session: Session | None) -> list[Instrument]:
        """``SecurityMaster.zip``: public, no auth."""
        return parse_security_master(self.download(client, Call("GET", "master", MASTER),
                                                   session=None, progress=progress))


def pricetype_of(row: Row) -> str:
    """A row's ``order_type`` in OpenAlgo's terms: a stop-loss at price 0 is SL-M."""
    found = PRICETYPES_BACK.get(row.text("order_type").strip().lower())
    if found is None:
        raise row.fail("order_type", "is not an order type Breeze documents")
    if found == "SL" and row.decimal("price", 0) == 0:
        return "SL-M"
    return found


def _side(row: Row) -> str:
    found = SIDES_BACK.get(row.text("action").strip().lower())
    if found is None:
        raise row.fail("action", "is neither Buy nor Sell")
    return found


def _signed(row: Row) -> int:
    """A position's quantity signed by its ``action`` (``NA``: flat)."""
    quantity = row.whole("quantity")
    action = row.text("action", "NA").strip().lower()
    if action in ("na", ""):
        return 0
    if quantity < 0:
        raise row.fail("quantity", "is negative (Breeze states the side in action)")
    return quantity if _side(row) == "BUY" else -quantity


def _pnl(row: Row) -> tuple[Decimal, Decimal]:
    """(unrealised, realised) of one position row."""
    quantity = _signed(row)
    unrealised = (row.decimal("ltp", 0) - row.decimal("average_price", 0)) * quantity
    total = row.decimal("pnl") if row.data.get("pnl") not in (None, "") else unrealised
    return unrealised, total - unrealised


def _product(row: Row, field: str) -> str:
    found = PRODUCTS_BACK.get(row.text(field).strip().lower())
    if found is None:
        raise row.fail(field, "is not a product Breeze documents")
    return found


def _symbol(row: Row, instruments: InstrumentIndex) -> tuple[str, str]:
    """OpenAlgo's symbol and exchange for a row naming ``stock_code`` and
    ``exchange_code`` (and, for a derivative, ``expiry_date``, ``strike_price``,
    ``right``), through the security master."""
    exchange, stock_code = row.text("exchange_code").strip().upper(), row.text("stock_code")
    if exchange not in BOOK_EXCHANGES:
        raise row.fail("exchange_code", "is not an exchange this plugin trades on")
    key = stock_code.strip()
    if exchange == "NFO":
        try:
            day = expiry_date(row.text("expiry_date"))
        except (ValueError, KeyError):
            raise row.fail("expiry_date", "is not a date like 29-Sep-2026") from None
        kind = RIGHTS_BACK.get(row.text("right").strip().lower())
        if kind is None:
            raise row.fail("right", "is not Call, Put or Others")
        strike = None if kind == "FUT" else row.decimal("strike_price")
        key = contract_key(key, day, strike, kind)
    instrument = instruments.by_broker_symbol(key, exchange)
    if instrument is None:
        raise row.fail("stock_code", "names no instrument of the security master")
    return instrument.symbol, instrument.exchange


def _exchange(order: Order) -> str:
    """The exchange code the book row named (a cancel or modify must repeat it)."""
    code = order.raw.get("exchange_code") if isinstance(order.raw, Mapping) else None
    return code if isinstance(code, str) and code else order.exchange.value


def _today() -> tuple[str, str]:
    """Today in IST (midnight to midnight) as Breeze's UTC request dates."""
    start = dt.datetime.now(IST).replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + dt.timedelta(days=1) - dt.timedelta(seconds=1)
    return timestamp(start), timestamp(end)

