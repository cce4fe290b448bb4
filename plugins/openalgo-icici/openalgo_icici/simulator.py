"""ICICI Direct's Breeze API on a local server: real paths, the browser login, signed calls.

What it speaks (brokers/kotak-icici part B; brokers/sdk-observed; breeze-connect 1.0.69):

- ``GET /apiuser/login?api_key=<key>``: ICICI's login page (user id and password); the
  form's POST redirects (303) the browser to ``REDIRECT_URL?apisession=<key>`` (with no
  state of the caller's). A wrong API key: "Public Key does not exist." on the page.
- ``GET /breezeapi/api/v1/customerdetails`` with the JSON body ``{"SessionToken",
  "AppKey"}`` (a GET with a body, unsigned): ``Success.session_token`` =
  base64("<user id>:<session key>"); a key used once ("Invalid session."), a wrong app
  key ("Public Key does not exist.").
- Every other call is signed and checked: ``X-AppKey``; ``X-Checksum`` = ``token`` +
  sha256(``X-Timestamp`` + the raw body + secret) ("Authentication Fail :: Invalid
  Checksum.", Status 5); ``X-Timestamp`` UTC within :attr:`BreezeSimulator.timestamp_window`
  seconds of now (⚠ the real window is not published); ``X-SessionToken`` a live session.
- ``/order``: POST place (stock code, product, ``limit``/``stoploss``; a raw ``market``
  is refused unless :attr:`BreezeSimulator.accept_market`: ICICI converts nothing, the SDK
  sends a protected limit ⚠), GET the book of one exchange (or one order), PUT modify,
  DELETE cancel; ``/trades``, ``/quotes`` (``ltp``, circuits), ``/funds``,
  ``/portfoliopositions``, ``/portfolioholdings``; an empty book is ``Success`` null with
  "No Data Found" (Status 500) ⚠; positions ``[]``.
- ``/MotherAppMaster/SecurityMaster.zip`` (and the older ``/NewSecurityMaster/...``) at full
  size (:mod:`.sim_master`).

Envelope everywhere: ``{"Success": ..., "Status": <int>, "Error": ...}`` with HTTP 200.
It never imports the plugin's tables: it states Breeze's behaviour on its own.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import itertools
import os
import secrets
from decimal import Decimal
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from openalgo_core.models import IST
from openalgo_core.testing import Listing, LoginPage, SimOrder, SimRefusal, SimulatorBase
from openalgo_core.testing.parsing import decimal_value, json_object, whole_value

from .sim_master import EXCHANGES, FULL_MASTER_ROWS, cached_master, day_text, render_master
from .sim_master import stock_code as code_of

__all__ = ["API", "BreezeSimulator"]

API: Final = "/breezeapi/api/v1"
MASTER_PATHS: Final = ("/MotherAppMaster/SecurityMaster.zip",
                       "/NewSecurityMaster/SecurityMaster.zip")
#: Breeze product -> OpenAlgo's (``margin``: intraday; ``futures``/``options`` carry
#: forward), and back as a book shows it.
PRODUCTS: Final = {"cash": "CNC", "margin": "MIS", "futures": "NRML", "options": "NRML",
                   "btst": "CNC", "mtf": "CNC"}
_SHOWN_PRODUCT: Final = {"CNC": "Cash", "MIS": "Margin"}
_TYPES_SHOWN: Final = {"MARKET": "Market", "LIMIT": "Limit", "SL": "StopLoss",
                       "SL-M": "StopLoss"}
_STATUS_SHOWN: Final = {"open": "Ordered", "trigger pending": "Ordered",
                        "complete": "Executed", "cancelled": "Cancelled",
                        "rejected": "Rejected"}
#: order serials, shared by every simulator of the process
_SERIALS: Final = itertools.count(1)
_MONTHS: Final = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)}
_RIGHTS: Final = {"call": "CE", "put": "PE", "others": "FUT"}
_RIGHTS_SHOWN: Final = {"CE": "Call", "PE": "Put", "FUT": "Others"}
def _envelope(success: Any = None, status: int = 200, error: str | None = None) -> JSONResponse:
    return JSONResponse({"Success": success, "Status": status, "Error": error})


def _failed(error: str, status: int = 500) -> JSONResponse:
    return _envelope(None, status, error)


def _no_data() -> JSONResponse:
    return _failed("No Data Found")


def _no_exchange() -> JSONResponse:
    """A book read without ``exchange_code`` (Breeze reads one exchange at a time)."""
    return _failed("exchange_code cannot be empty")


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _time(when: dt.datetime) -> str:
    return when.astimezone(IST).strftime("%d-%b-%Y %H:%M")


def _expiry(text: Any) -> dt.date:
    """``29-Sep-2026`` (any case) or ISO ``2026-09-29T06:00:00.000Z``."""
    value = str(text).strip()
    if len(value) >= 10 and value[4] == "-" and value[7] == "-":
        return dt.date.fromisoformat(value[:10])
    day, month, year = value.split("-")
    return dt.date(int(year), _MONTHS[month.upper()], int(day))


class BreezeSimulator(LoginPage, SimulatorBase):
    """Breeze on a local server. ``master_size`` (rows of the served zip): by default the
    full size, :data:`~.sim_master.FULL_MASTER_ROWS`, rendered once per process; 0: only
    :attr:`listings`."""

    broker = "icici"
    credential_fields = ("API_KEY", "API_SECRET", "REDIRECT_URL")
    order_paths = frozenset({API + "/order"})
    exchanges = EXCHANGES
    master_size: int | None = FULL_MASTER_ROWS
    master_media_type = "application/x-zip-compressed"
    #: how far ``X-Timestamp`` may be from the server's clock, in seconds (⚠)
    timestamp_window: float = 60.0
    #: whether a raw ``order_type: market`` is taken (⚠ ICICI forbids market orders
    #: through Breeze since 2026; the SDK converts them to a protected limit)
    accept_market: bool = False

    login_path = "/apiuser/login"
    login_title = "ICICI Direct: Breeze API login"
    bad_key_text = "Public Key does not exist."
    bad_user_text = "Invalid User ID or Password"

    def __init__(self, **options: Any) -> None:
        env = options.get("environ")
        env = os.environ if env is None else env
        limit = (env.get("OPENALGO_ICICI_SIM_MARGIN_LIMIT") or "").strip().lower()
        if limit:  # the simulator's process, started by `openalgo sim icici`
            options["margin_limit"] = None if limit == "none" else Decimal(limit)
        # the person at ICICI's page: OPENALGO_ICICI_SIM_USER_ID / _SIM_PASSWORD set them
        # (a simulator process), else random
        super().__init__(user_id=env.get("OPENALGO_ICICI_SIM_USER_ID"),
                         password=env.get("OPENALGO_ICICI_SIM_PASSWORD"), **options)
        self.by_contract: dict[tuple[str, ...], Listing] = {}
        for r in self.listings:
            if r.exchange == "NFO" and r.expiry is not None:
                strike = "0" if r.kind == "FUT" or r.strike is None \
                    else format(r.strike.normalize(), "f")
                self.by_contract[(r.exchange, code_of(r), r.expiry.isoformat(), strike,
                                  r.kind)] = r
            else:
                self.by_contract[(r.exchange.removesuffix("_INDEX"), code_of(r))] = r

    def routes(self) -> list[BaseRoute]:
        return [*self.login_page_routes(),
                Route(API + "/customerdetails", self.customer_details, methods=["GET"]),
                Route(API + "/order", self.orders, methods=["GET"]),
                Route(API + "/order", self.modify, methods=["PUT"]),
                Route(API + "/order", self.cancel, methods=["DELETE"]),
                Route(API + "/order", self.place, methods=["POST"]),
                Route(API + "/trades", self.trades, methods=["GET"]),
                Route(API + "/quotes", self.quotes_reply, methods=["GET"]),
                Route(API + "/funds", self.funds_reply, methods=["GET"]),
                Route(API + "/portfolioholdings", self.holdings_reply, methods=["GET"]),
                Route(API + "/portfoliopositions", self.positions, methods=["GET"]),
                *(Route(path, self.serve_master, methods=["GET"]) for path in MASTER_PATHS)]

    def master(self) -> bytes:
        if self.master_size:
            return cached_master(self.master_size)
        if self._rendered_master is None:
            self._rendered_master = render_master(self.master_listings())
        return self._rendered_master

    def rate_limited_response(self) -> Response:
        return JSONResponse({"Success": None, "Status": 500,
                             "Error": "Limit exceed: API call per minute"}, status_code=429)

    def order_rejected_response(self) -> Response:
        return _failed("Insufficient balance in your account to place this order")

    def server_error_response(self) -> Response:
        return JSONResponse({"Success": None, "Status": 503,
                             "Error": "Service temporarily unavailable"}, status_code=503)

    def margin_reason(self, order: SimOrder, required: Decimal, available: Decimal,
                      user: str) -> str:
        return (f"Insufficient limit: required {required:.2f}, available {available:.2f}")

    def lot_size_reason(self, order: SimOrder, lot_size: int) -> str:
        return f"Quantity should be in multiples of lot size {lot_size}"

    # -- the session -------------------------------------------------------------
    async def customer_details(self, request: Request) -> Response:
        body = await json_object(request) or {}
        if body.get("AppKey") != self.credentials["API_KEY"]:
            return _failed("Public Key does not exist.")
        user = self.redeem_login_key(body.get("SessionToken"))
        if user is None:
            return _failed("Invalid session.")
        key = self.issue_token(user)
        token = base64.b64encode(f"{user}:{key}".encode()).decode()
        today = dt.datetime.now(IST).strftime("%d-%b-%Y")
        return _envelope({
            "exg_trade_date": {"NSE": today, "BSE": today, "FNO": today, "NDX": today},
            "exg_status": {"NSE": "O", "BSE": "O", "FNO": "Y", "NDX": "X"},
            "segments_allowed": {"Trading": "Y", "Equity": "Y", "Derivatives": "Y",
                                 "Currency": "Z"},
            "idirect_userid": user, "session_token": token, "idirect_user_name": "SIM USER",
            "idirect_ORD_TYP": "N", "idirect_lastlogin_time": today + " 09:00:00",
            "mf_holding_mode_popup_flg": "N", "commodity_exchange_status": "Y",
            "commodity_trade_date": today, "commodity_allowed": "O"})

    # -- signed calls --------------------------------------------------------------
    async def _signed(self, request: Request) -> Response | tuple[str, dict[str, Any]]:
        """(user, JSON body) of a correctly signed call of a live session, else Breeze's
        refusal."""
        content, headers = await request.body(), request.headers
        if headers.get("x-appkey") != self.credentials["API_KEY"]:
            return _failed("Public Key does not exist.")
        stamp = headers.get("x-timestamp", "")
        expected = hashlib.sha256(stamp.encode() + content
                                  + self.credentials["API_SECRET"].encode()).hexdigest()
        if not secrets.compare_digest(headers.get("x-checksum", "").encode(),
                                      f"token {expected}".encode()):
            return _failed("Authentication Fail :: Invalid Checksum.", 5)
        try:
            when = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
        except ValueError:
            return _failed("Authentication Fail :: Invalid Timestamp.", 5)
        if abs((dt.datetime.now(dt.UTC) - when).total_seconds()) > self.timestamp_window:
            return _failed("Authentication Fail :: Request Timestamp Expired.", 5)
        try:
            user, key = base64.b64decode(headers.get("x-sessiontoken", ""),
                                         validate=True).decode().split(":", 1)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return _failed("Session key is expired", 401)
        if self.user_for(key) != user:
            return _failed("Session key is expired", 401)
        body = await json_object(request)
        if body is None:
            return _failed("Invalid JSON in the request body")
        return user, body

    def _listing(self, body: dict[str, Any]) -> Listing:
        """The instrument an order or quote names (raises KeyError/ValueError if none)."""
        exchange = str(body["exchange_code"]).upper()
        code = str(body["stock_code"]).upper()
        if exchange != "NFO":
            return self.by_contract[(exchange, code)]
        right = _RIGHTS[str(body["right"]).lower()]
        strike = "0" if right == "FUT" else format(
            decimal_value(body["strike_price"]).normalize(), "f")
        return self.by_contract[(exchange, code, _expiry(body["expiry_date"]).isoformat(),
                                 strike, right)]

    async def place(self, request: Request) -> Response:
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        user, body = signed
        try:
            listing = self._listing(body)
            product = PRODUCTS[str(body["product"]).lower()]
            kind = str(body["order_type"]).lower()
            price = decimal_value(body.get("price") or 0).quantize(Decimal("0.01"))
            if kind == "market" and not self.accept_market:
                return _failed("Market orders are not allowed through Breeze API")
            pricetype = {"market": "MARKET", "limit": "LIMIT"}.get(kind) or (
                ("SL-M" if price == 0 else "SL") if kind == "stoploss" else "")
            if not pricetype:
                raise ValueError(kind)
            trigger = decimal_value(body.get("stoploss") or 0) if kind == "stoploss" \
                else Decimal(0)
            order = SimOrder(
                order_id=self._order_id(listing), exchange=listing.exchange,
                symbol=listing.symbol, token=listing.token,
                side={"buy": "BUY", "sell": "SELL"}[str(body["action"]).lower()],
                quantity=whole_value(body["quantity"]), pricetype=pricetype, product=product,
                price=price, trigger_price=trigger,
                disclosed_quantity=whole_value(body.get("disclosed_quantity") or 0),
                tag=str(body.get("user_remark") or ""), raw=body)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            return _failed(f"Invalid order: {type(exc).__name__}")
        self.book_order(order, user=user)
        return _envelope({"order_id": order.order_id,
                          "message": "Successfully Placed the order",
                          "user_remark": order.tag})

    def _order_id(self, listing: Listing) -> str:
        """``20250205N300001234`` (cash) or ``202502051400001234`` (F&O): unique in the
        process, as ICICI's are in a day (simulators come and go in one test run)."""
        today = dt.datetime.now(IST).strftime("%Y%m%d")
        return f"{today}{'14' if listing.exchange == 'NFO' else 'N3'}{next(_SERIALS):08d}"

    def _row(self, o: SimOrder) -> dict[str, Any]:
        listing = self.by_token[o.token]
        live = o.status in ("open", "trigger pending")
        unfilled = o.quantity - o.filled
        return {"order_id": o.order_id, "exchange_order_id": "1100000" + o.order_id[-8:],
                "exchange_code": listing.exchange, "stock_code": code_of(listing),
                "product_type": self._product(o.product, listing),
                "action": o.side.title(), "order_type": _TYPES_SHOWN[o.pricetype],
                "stoploss": _money(o.trigger_price), "quantity": str(o.quantity),
                "price": _money(o.price), "validity": "Day",
                "disclosed_quantity": str(o.disclosed_quantity),
                **self._contract(listing),
                "average_price": _money(o.average_price),
                "cancelled_quantity": str(0 if live else unfilled),
                "pending_quantity": str(unfilled if live else 0),
                "status": _STATUS_SHOWN[o.status], "user_remark": o.tag,
                "order_datetime": _time(o.created_at), "parent_order_id": None,
                "modification_number": None, "exchange_acknowledgement_date": None,
                "SLTP_price": None, "exchange_acknowledge_number": None,
                "initial_limit": None, "intial_sltp": None, "LTP": None,
                "limit_offset": None, "mbc_flag": None, "cutoff_price": None,
                "validity_date": None, "rejection_reason": o.reason or None}

    @staticmethod
    def _product(product: str, listing: Listing) -> str:
        if listing.exchange == "NFO":
            return "Futures" if listing.kind == "FUT" else "Options"
        return _SHOWN_PRODUCT.get(product, "Cash")

    @staticmethod
    def _contract(listing: Listing) -> dict[str, Any]:
        if listing.exchange != "NFO" or listing.expiry is None:
            return {"expiry_date": None, "right": None, "strike_price": None}
        return {"expiry_date": day_text(listing.expiry),
                "right": _RIGHTS_SHOWN[listing.kind],
                "strike_price": format((listing.strike or Decimal(0)).normalize(), "f")}

    async def orders(self, request: Request) -> Response:
        """The book of one exchange, or (``order_id`` in the body) a list of that order."""
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        body = signed[1]
        exchange = str(body.get("exchange_code") or "").upper()
        if not exchange:
            return _no_exchange()
        wanted = body.get("order_id")
        if wanted is not None:
            order = self.book.orders.get(str(wanted))
            if order is None or order.exchange != exchange:
                return _no_data()
            return _envelope([self._row(order)])
        rows = [self._row(o) for o in list(self.book.orders.values()) if o.exchange == exchange]
        return _envelope(rows) if rows else _no_data()

    def _refusal(self, refusal: SimRefusal) -> Response:
        if refusal.why == "unknown":
            return _no_data()
        if refusal.why == "margin":
            return _failed(refusal.reason)
        return _failed("Order cannot be modified or cancelled: it is not open")

    async def modify(self, request: Request) -> Response:
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        user, body = signed
        order = self.book.orders.get(str(body.get("order_id")))
        if order is None or order.exchange != str(body.get("exchange_code", "")).upper():
            return _no_data()
        try:
            kind = str(body.get("order_type") or "").lower()
            price = decimal_value(body["price"]).quantize(Decimal("0.01")) \
                if body.get("price") not in (None, "") else order.price
            pricetype = {"market": "MARKET", "limit": "LIMIT"}.get(kind) or (
                ("SL-M" if price == 0 else "SL") if kind == "stoploss" else order.pricetype)
            trigger = decimal_value(body["stoploss"]) \
                if body.get("stoploss") not in (None, "") else order.trigger_price
            if pricetype in ("MARKET", "LIMIT"):
                trigger = Decimal(0)
            quantity = whole_value(body["quantity"]) \
                if body.get("quantity") not in (None, "") else order.quantity
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            return _failed(f"Invalid modify: {type(exc).__name__}")
        if pricetype == "MARKET" and not self.accept_market:
            return _failed("Market orders are not allowed through Breeze API")
        try:
            self.book_modify(order.order_id, quantity=quantity, pricetype=pricetype,
                             price=price, trigger_price=trigger, user=user)
        except SimRefusal as refusal:
            return self._refusal(refusal)
        return _envelope({"message": "Successfully Modified the order",
                          "order_id": order.order_id})

    async def cancel(self, request: Request) -> Response:
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        body = signed[1]
        order = self.book.orders.get(str(body.get("order_id")))
        if order is None or order.exchange != str(body.get("exchange_code", "")).upper():
            return _no_data()
        try:
            self.book_cancel(order.order_id)
        except SimRefusal as refusal:
            return self._refusal(refusal)
        return _envelope({"order_id": order.order_id,
                          "message": "Your Order Canceled successfully."})

    async def trades(self, request: Request) -> Response:
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        exchange = str(signed[1].get("exchange_code") or "").upper()
        if not exchange:
            return _no_exchange()
        rows = []
        for t in list(self.book.trades):
            if t.exchange != exchange:
                continue
            listing = self.by_token[t.token]
            rows.append({"book_type": "Trade-Book", "trade_date": f"{t.time:%d-%b-%Y}",
                         "stock_code": code_of(listing), "action": t.side.title(),
                         "quantity": str(t.quantity), "average_cost": _money(t.price),
                         "brokerage_amount": "0.00",
                         "product_type": self._product(t.product, listing),
                         "exchange_code": exchange, "order_id": t.order_id,
                         "segment": "F" if exchange == "NFO" else "N",
                         "settlement_code": None, "dp_id": None, "client_id": None,
                         "ltp": _money(self.mark(t.token)), "eatm_withheld_amount": "0.00",
                         "cash_withheld_amount": "0.00", "total_taxes": "0.00",
                         "order_type": "Limit", **self._contract(listing)})
        return _envelope(rows) if rows else _no_data()

    async def quotes_reply(self, request: Request) -> Response:
        """``ltp`` and the circuits (20% either side ⚠) as JSON numbers; for BSE two rows,
        the BSE one second (breeze-connect reads ``[1]`` for BSE)."""
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        try:
            listing = self._listing(signed[1])
        except (KeyError, TypeError, ValueError, ArithmeticError):
            return _no_data()
        rows = [self._quote(listing)]
        if listing.exchange == "BSE":
            twin = self.by_contract.get(("NSE", code_of(listing)))
            rows.insert(0, self._quote(twin if twin is not None else listing))
        return _envelope(rows)

    def _quote(self, listing: Listing) -> dict[str, Any]:
        ltp = self.mark(listing.token) if listing.token in self.quotes \
            else self.price(listing.token)
        tick = listing.tick_size
        band = (ltp / 5 / tick).to_integral_value() * tick
        return {"exchange_code": listing.exchange.removesuffix("_INDEX"),
                "product_type": "" if listing.exchange != "NFO" else (
                    "Futures" if listing.kind == "FUT" else "Options"),
                "stock_code": code_of(listing), **self._contract(listing),
                "ltp": float(ltp), "ltt": dt.datetime.now(IST).strftime("%d-%b-%Y %H:%M:%S"),
                "best_bid_price": float(ltp - tick), "best_bid_quantity": "100",
                "best_offer_price": float(ltp + tick), "best_offer_quantity": "100",
                "open": float(ltp), "high": float(ltp), "low": float(ltp),
                "previous_close": float(ltp), "ltp_percent_change": 0.0,
                "upper_circuit": float(ltp + band), "lower_circuit": float(ltp - band),
                "total_quantity_traded": "0", "spot_price": ""}

    async def funds_reply(self, request: Request) -> Response:
        """⚠ What ICICI counts where is not documented: here the cash and the day's
        realised P&L are allocated to equity, and what orders block is blocked there."""
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        f = self.funds()
        return _envelope({"bank_account": "000123456789",
                          "total_bank_balance": float(f.cash + f.realised),
                          "allocated_equity": float(f.cash + f.realised),
                          "allocated_fno": 0.0, "allocated_commodity": 0.0,
                          "allocated_currency": 0.0, "block_by_trade_equity": float(f.used),
                          "block_by_trade_fno": 0.0, "block_by_trade_commodity": 0.0,
                          "block_by_trade_currency": 0.0,
                          "block_by_trade_balance": float(f.used),
                          "unallocated_balance": "0"})

    async def positions(self, request: Request) -> Response:
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        rows = []
        for p in self.book.positions(self.marks()):
            listing = self.by_token[p.token]
            net = p.net
            rows.append({
                "segment": "fno" if listing.exchange == "NFO" else "equity",
                "product_type": self._product(p.product, listing),
                "exchange_code": listing.exchange, "stock_code": code_of(listing),
                **self._contract(listing),
                "action": "Buy" if net > 0 else "Sell" if net < 0 else "NA",
                "quantity": str(abs(net)), "average_price": _money(p.average_price),
                "settlement_id": None, "margin_amount": None, "ltp": _money(p.ltp),
                "price": _money(p.ltp), "stock_index_indicator": "Stock",
                "cover_quantity": "0", "stoploss_trigger": "0", "stoploss": None,
                "take_profit": None, "available_margin": None, "squareoff_mode": None,
                "mtf_sell_quantity": None, "mtf_net_amount_payable": None,
                "mtf_expiry_date": None, "order_id": "", "cover_order_flow": None,
                "cover_order_executed_quantity": None, "pledge_status": None,
                "pnl": _money(p.pnl), "underlying": code_of(listing),
                "order_segment_code": None})
        return _envelope(rows)

    async def holdings_reply(self, request: Request) -> Response:
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        exchange = str(signed[1].get("exchange_code") or "").upper()
        if not exchange:
            return _no_exchange()
        rows = [{"stock_code": code_of(self.by_token[h.token]), "exchange_code": exchange,
                 "quantity": str(h.quantity), "average_price": _money(h.average_price),
                 "booked_profit_loss": None, "current_market_price": _money(h.ltp),
                 "change_percentage": None, "answer_flag": None, "product_type": None,
                 "expiry_date": None, "strike_price": None, "right": None,
                 "category_index_per_stock": None, "action": None, "realized_profit": None,
                 "unrealized_profit": None, "open_position_value": None,
                 "portfolio_charges": None}
                for h in self.holdings() if h.exchange == exchange]
        return _envelope(rows) if rows else _no_data()

    def reset(self) -> None:
        super().reset()
        self.forget_login_keys()
