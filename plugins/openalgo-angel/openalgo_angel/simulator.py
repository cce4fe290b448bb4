"""A local Angel One SmartAPI: real paths, headers, envelopes, error codes and quirks.

Serve ``AngelSimulator(environ=...).app`` and point the plugin at it with
``OPENALGO_ANGEL_BASE_URL``; Angel's official Python SDK works against it too
(``SmartConnect(api_key, root=<url>)``). What it does, after brokers/angel 1-1.8:

- every call must carry the eight mandatory headers and the right
  ``X-PrivateKey``; secure calls need ``Authorization: Bearer <jwtToken>``;
  token problems answer HTTP 403 in the gateway envelope
  ``{"success": false, "errorCode": "AG8001", ...}``;
- loginByPassword checks client code, MPIN and the TOTP (pyotp): AB1050
  ``Invalid totp``, AB1000 for a wrong client code or PIN;
- placeOrder validates like Angel (AB1008 variety, AB1009 symbol, AB1012
  product), answers a 15-digit ``orderid`` plus a ``uniqueorderid``, and leaves
  RMS failures (margin, lot size) to the order book: ``status: "rejected"``
  with the reason in ``text``;
- modifyOrder and cancelOrder act on open and trigger-pending orders (the kit's
  market: resting limits and stops fill when the price moves, see
  :class:`~openalgo_core.testing.SimulatorBase`); one order's row is served at
  ``details/{uniqueorderid}``;
- getOrderBook, getTradeBook, getPosition and getHolding answer ``data: null``
  when empty; numbers are strings except where Angel's own samples show JSON
  numbers (the order book's prices, getAllHolding); positions carry realised and
  unrealised P&L; getRMS shows the cash, the margin used and the day's P&L;
- the scrip master is served at its real path in Angel's exact format;
- a rate-limited call gets the plain-text 403 ``Access denied because of
  exceeding access rate``.

It does not import :mod:`openalgo_angel.mapping` on purpose: it states Angel's
behaviour on its own, so a wrong mapping in the plugin cannot be mirrored here.
Replies marked ⚠ in ``ERRORS`` are best guesses (see the README).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import secrets
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from openalgo_core.testing import (
    Listing,
    PositionRow,
    SimHolding,
    SimOrder,
    SimRefusal,
    SimTrade,
    SimulatorBase,
    big_universe,
)
from openalgo_core.testing.book import LIVE
from openalgo_core.testing.parsing import decimal_value, json_object, request_token, whole_value

__all__ = ["AngelSimulator", "big_scrip_master", "render_scrip_master", "scrip_row"]

_AUTH = "/rest/auth/angelbroking"
_SECURE = "/rest/secure/angelbroking"
LOGIN_PATH: Final = _AUTH + "/user/v1/loginByPassword"
TOKENS_PATH: Final = _AUTH + "/jwt/v1/generateTokens"
PROFILE_PATH: Final = _SECURE + "/user/v1/getProfile"
LOGOUT_PATH: Final = _SECURE + "/user/v1/logout"
PLACE_ORDER_PATH: Final = _SECURE + "/order/v1/placeOrder"
MODIFY_ORDER_PATH: Final = _SECURE + "/order/v1/modifyOrder"
CANCEL_ORDER_PATH: Final = _SECURE + "/order/v1/cancelOrder"
ORDER_BOOK_PATH: Final = _SECURE + "/order/v1/getOrderBook"
ORDER_DETAILS_PATH: Final = _SECURE + "/order/v1/details/{uniqueorderid}"
TRADE_BOOK_PATH: Final = _SECURE + "/order/v1/getTradeBook"
POSITIONS_PATH: Final = _SECURE + "/order/v1/getPosition"
RMS_PATH: Final = _SECURE + "/user/v1/getRMS"
HOLDING_PATH: Final = _SECURE + "/portfolio/v1/getHolding"
ALL_HOLDING_PATH: Final = _SECURE + "/portfolio/v1/getAllHolding"
SCRIP_MASTER_PATH: Final = "/OpenAPI_File/files/OpenAPIScripMaster.json"

MANDATORY_HEADERS: Final = ("Content-Type", "Accept", "X-UserType", "X-SourceID",
                            "X-ClientLocalIP", "X-ClientPublicIP", "X-MACAddress",
                            "X-PrivateKey")
_REQUIRED = tuple(name.lower() for name in MANDATORY_HEADERS)  # as ASGI spells them
RATE_LIMIT_TEXT: Final = "Access denied because of exceeding access rate"

#: (code, message) of every refusal this simulator sends.
ERRORS: Final = {
    "invalid_token": ("AG8001", "Invalid Token"),
    "token_missing": ("AG8003", "Token missing"),
    "missing_header": ("AG4000", "Request rejected: missing mandatory header"),  # ⚠ invented
    "invalid_api_key": ("AG8004", "Invalid API Key"),  # ⚠ invented code
    "bad_credentials": ("AB1000", "Invalid Email Or Password"),  # ⚠ wrong-PIN text unverified
    "invalid_totp": ("AB1050", "Invalid totp"),
    "invalid_refresh": ("AB8050", "Invalid Refresh Token"),
    "client_blocked": ("AB1006", "Client is block for trading"),
    "invalid_variety": ("AB1008", "Invalid Order Variety"),
    "symbol_not_found": ("AB1009", "Symbol Not Found"),
    "invalid_product": ("AB1012", "Invalid Product Type"),
    "order_not_found": ("AB1013", "Order not found"),
    "invalid_field": ("AB2000", "Invalid"),  # ⚠ code for field errors unverified
    # modify or cancel of an order that is complete, cancelled or rejected
    "order_not_open": ("AB4010", "Order is not open"),  # ⚠ code and text invented
    # a modify beyond the funds: the message is the RMS text
    "rms_refused": ("AB4011", ""),  # ⚠ code invented; Angel may reject asynchronously
}

_VARIETIES: Final = {"NORMAL", "STOPLOSS", "AMO"}  # ROBO (bracket) is not simulated
_ORDER_TYPES: Final = {"MARKET": "MARKET", "LIMIT": "LIMIT", "STOPLOSS_LIMIT": "SL",
                       "STOPLOSS_MARKET": "SL-M"}
_STOP_TYPES: Final = {"STOPLOSS_LIMIT", "STOPLOSS_MARKET"}
_CASH_PRODUCTS: Final = {"DELIVERY", "INTRADAY", "MARGIN"}
_DERIVATIVE_PRODUCTS: Final = {"CARRYFORWARD", "INTRADAY"}
_FUTURE_TYPES: Final = {"IDX": "FUTIDX", "STK": "FUTSTK", "COM": "FUTCOM", "CUR": "FUTCUR"}
_OPTION_TYPES: Final = {"IDX": "OPTIDX", "STK": "OPTSTK", "COM": "OPTFUT", "CUR": "OPTCUR"}
_INDEX_SEGMENTS: Final = {"NSE_INDEX": "NSE", "BSE_INDEX": "BSE"}
_TIME: Final = "%d-%b-%Y %H:%M:%S"
_FILL_TIME: Final = "%H:%M:%S"  # ⚠ trade-book fill time: time of day only, as Angel's sample
_PAISE: Final = Decimal("0.01")

Handler = Callable[[dict[str, Any], str], Response]


def scrip_row(listing: Listing) -> dict[str, str]:
    """One scrip-master row in Angel's format: every value a string, strike x100
    (currency options x10^7) with 6 decimals, tick size in paise, expiry DDMMMYYYY.

    NSE equities are ``NAME-<series>``, BSE equities bare, indices carry Angel's
    display name (``Nifty 50``); NFO symbols already use OpenAlgo's layout, while
    BFO/MCX/CDS use a ``NAME YY MON [strike] FUT|CE|PE`` spelling (⚠ Angel's exact
    raw spelling there is unverified) that the plugin must rebuild.
    """
    segment = _INDEX_SEGMENTS.get(listing.exchange, listing.exchange)
    strike, expiry = "-1.000000", ""
    if listing.kind == "EQ":
        symbol = f"{listing.symbol}-{listing.series}" if segment == "NSE" else listing.symbol
        itype = ""
    elif listing.kind == "INDEX":
        symbol, itype = listing.name, "AMXIDX"
    else:
        assert listing.expiry is not None
        expiry, month = _expiry_texts(listing.expiry)
        if listing.kind == "FUT":
            itype = _FUTURE_TYPES[listing.underlying_kind]
            symbol = listing.symbol if segment == "NFO" else f"{listing.name}{month}FUT"
        else:
            assert listing.strike is not None
            itype = _OPTION_TYPES[listing.underlying_kind]
            scale = Decimal(10) ** 7 if segment == "CDS" else Decimal(100)
            strike = f"{listing.strike * scale:.6f}"
            text = format(listing.strike.normalize(), "f")
            symbol = (listing.symbol if segment == "NFO"
                      else f"{listing.name}{month}{text}{listing.kind}")
    return {"token": listing.token, "symbol": symbol, "name": listing.name, "expiry": expiry,
            "strike": strike, "lotsize": str(listing.lot_size), "instrumenttype": itype,
            "exch_seg": segment, "tick_size": f"{listing.tick_size * 100:.6f}"}


@functools.lru_cache(maxsize=256)
def _expiry_texts(expiry: dt.date) -> tuple[str, str]:
    """(``28MAR2024``, ``24MAR``): the master's expiry and the raw-symbol month."""
    return f"{expiry:%d%b%Y}".upper(), f"{expiry:%y%b}".upper()


def render_scrip_master(listings: Iterable[Listing]) -> bytes:
    """OpenAPIScripMaster.json for ``listings``: one JSON array of row objects."""
    return json.dumps([scrip_row(listing) for listing in listings]).encode()


def big_scrip_master(size: int) -> bytes:
    """A scrip master of ``size`` rows (the real one has ~150k+), for benchmarks."""
    return render_scrip_master(big_universe(size))


def _ok(data: Any) -> JSONResponse:
    return JSONResponse({"status": True, "message": "SUCCESS", "errorcode": "", "data": data})


def _refused(error: str, detail: str = "", status_code: int = 200) -> JSONResponse:
    """Business envelope refusal (HTTP 200, as Angel answers most refusals)."""
    code, message = ERRORS[error]
    return JSONResponse({"status": False, "message": f"{message} {detail}".strip(),
                         "errorcode": code, "data": None}, status_code=status_code)


def _gateway(error: str, status_code: int = 403) -> JSONResponse:
    """Gateway envelope refusal: note ``success`` and ``errorCode``."""
    code, message = ERRORS[error]
    return JSONResponse({"success": False, "message": message, "errorCode": code, "data": ""},
                        status_code=status_code)


def _money(value: Decimal, places: int = 2) -> str:
    return f"{value:.{places}f}"


def _float(value: Decimal, places: int = 2) -> float:
    """A JSON number, where Angel's replies carry one (``161.7``, ``0.0``)."""
    return float(round(value, places))


class AngelSimulator(SimulatorBase):
    """SmartAPI on an ASGI app. The arguments are the base's: ``environ`` (the
    ``OPENALGO_ANGEL_*`` credentials it accepts), ``margin_limit`` (the account's cash:
    an order needing more margin than is left is RMS-rejected in the order book),
    ``master_size`` (a big synthetic scrip master)."""

    broker = "angel"
    credential_fields = ("API_KEY", "CLIENT_ID", "PIN", "TOTP_SECRET")
    order_paths = frozenset({PLACE_ORDER_PATH})
    master_path = SCRIP_MASTER_PATH
    master_media_type = "application/json"

    def __init__(self, *, environ: Mapping[str, str] | None = None, seed: int = 7,
                 margin_limit: Decimal | None = Decimal(5_000_000),
                 session_hours: float = 24.0, master_size: int | None = None) -> None:
        self._refresh: dict[str, str] = {}
        self._meta: dict[str, dict[str, str]] = {}
        #: uniqueorderid -> orderid
        self._unique: dict[str, str] = {}
        super().__init__(environ=environ, seed=seed, margin_limit=margin_limit,
                         session_hours=session_hours, master_size=master_size)
        self.scrip = {listing.token: scrip_row(listing) for listing in self.listings}

    # -- SimulatorBase ---------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        endpoint = self._endpoint
        return [
            Route(LOGIN_PATH, endpoint(self.login, secure=False), methods=["POST"]),
            Route(TOKENS_PATH, endpoint(self.generate_tokens), methods=["POST"]),
            Route(PROFILE_PATH, endpoint(self.profile), methods=["GET"]),
            Route(LOGOUT_PATH, endpoint(self.logout), methods=["POST"]),
            Route(PLACE_ORDER_PATH, endpoint(self.place_order), methods=["POST"]),
            Route(MODIFY_ORDER_PATH, endpoint(self.modify_order), methods=["POST"]),
            Route(CANCEL_ORDER_PATH, endpoint(self.cancel_order), methods=["POST"]),
            Route(ORDER_BOOK_PATH, endpoint(self.order_book), methods=["GET"]),
            Route(ORDER_DETAILS_PATH, endpoint(self.order_details), methods=["GET"]),
            Route(TRADE_BOOK_PATH, endpoint(self.trade_book), methods=["GET"]),
            Route(POSITIONS_PATH, endpoint(self.positions), methods=["GET"]),
            Route(RMS_PATH, endpoint(self.rms), methods=["GET"]),
            Route(HOLDING_PATH, endpoint(self.holding), methods=["GET"]),
            Route(ALL_HOLDING_PATH, endpoint(self.all_holding), methods=["GET"]),
        ]

    def render_master(self, listings: Iterable[Listing]) -> bytes:
        return render_scrip_master(listings)

    def lot_size_reason(self, order: SimOrder, lot_size: int) -> str:
        return f"RMS:Rule: Quantity should be in multiples of the lot size {lot_size}"

    def margin_reason(self, order: SimOrder, required: Decimal, available: Decimal,
                      user: str) -> str:
        return (f"RMS:Margin Exceeds,Required:{required:.2f}, Available:{available:.2f}"
                f" for entity account-{user} across exchange across segment across product")

    def reset(self) -> None:
        """Also forget refresh tokens and what Angel adds to an order (variety, unique id)."""
        super().reset()
        self._refresh.clear()
        self._meta.clear()
        self._unique.clear()

    def rate_limited_response(self) -> Response:
        return PlainTextResponse(RATE_LIMIT_TEXT, status_code=403)

    def order_rejected_response(self) -> Response:
        return _refused("client_blocked")

    # -- request plumbing --------------------------------------------------------------
    def _endpoint(self, handler: Handler, *, secure: bool = True) -> Callable[[Request], Any]:
        """Wrap ``handler(body, user)`` with Angel's header, key and (``secure``) token
        checks; a POST body must be a JSON object; a GET's ``body`` is its path
        parameters."""
        async def endpoint(request: Request) -> Response:
            headers = {k.decode("latin-1"): v.decode("latin-1")
                       for k, v in request.scope["headers"]}
            if not all(headers.get(h) for h in _REQUIRED):
                return _gateway("missing_header", 400)
            if not secrets.compare_digest(headers["x-privatekey"].encode("latin-1"),
                                          self.credentials["API_KEY"].encode()):
                return _gateway("invalid_api_key")
            user = ""
            if secure:
                if not headers.get("authorization"):
                    return _gateway("token_missing")
                user = self.user_for(request_token(request)) or ""
                if not user:
                    return _gateway("invalid_token")
            body = await json_object(request) if request.method == "POST" \
                else dict(request.path_params)
            if body is None:
                return _refused("invalid_field", "request body", 400)
            return handler(body, user)
        return endpoint

    # -- auth --------------------------------------------------------------------------
    def login(self, body: dict[str, Any], user: str) -> Response:
        if body.get("clientcode") != self.credentials["CLIENT_ID"] or \
                body.get("password") != self.credentials["PIN"]:
            return _refused("bad_credentials")
        if not self.verify_totp(body.get("totp")):
            return _refused("invalid_totp")
        return _ok(self._tokens(self.credentials["CLIENT_ID"]))

    def generate_tokens(self, body: dict[str, Any], user: str) -> Response:
        if self._refresh.get(str(body.get("refreshToken"))) != user:
            return _refused("invalid_refresh")
        return _ok(self._tokens(user))

    def profile(self, body: dict[str, Any], user: str) -> Response:
        return _ok({"clientcode": user, "name": "SIMULATED USER", "email": "", "mobileno": "",
                    "exchanges": ["nse_cm", "bse_cm", "nse_fo", "bse_fo", "cde_fo", "mcx_fo"],
                    "products": ["MARGIN", "MIS", "NRML", "CNC", "CO", "BO"],
                    "lastlogintime": "", "brokerid": "B2C"})

    def logout(self, body: dict[str, Any], user: str) -> Response:
        """Ends every session: the simulator has a single user."""
        if body.get("clientcode") != user:
            return _refused("invalid_field", "clientcode")
        self.expire_sessions()
        return _ok("")

    def _tokens(self, user: str) -> dict[str, str]:
        refresh = secrets.token_urlsafe(32)
        self._refresh[refresh] = user
        return {"jwtToken": self.issue_token(user), "refreshToken": refresh,
                "feedToken": secrets.token_urlsafe(24)}

    # -- orders ------------------------------------------------------------------------
    def place_order(self, body: dict[str, Any], user: str) -> Response:
        """Validate like Angel, then book; RMS failures are booked as rejected."""
        text = _texts(body)
        variety, ordertype = text.get("variety", ""), text.get("ordertype", "")
        if variety not in _VARIETIES:
            return _refused("invalid_variety")
        row = self.scrip.get(str(body.get("symboltoken")))
        if row is None or row["instrumenttype"] == "AMXIDX" or (
                row["exch_seg"], row["symbol"]) != (text.get("exchange"),
                                                    text.get("tradingsymbol")):
            return _refused("symbol_not_found")
        cash = row["exch_seg"] in ("NSE", "BSE")
        if text.get("producttype") not in (_CASH_PRODUCTS if cash else _DERIVATIVE_PRODUCTS):
            return _refused("invalid_product")
        if ordertype not in _ORDER_TYPES:
            return _refused("invalid_field", "ordertype")
        if (variety == "STOPLOSS") != (ordertype in _STOP_TYPES):
            return _refused("invalid_variety")
        for field, allowed in (("transactiontype", {"BUY", "SELL"}),
                               ("duration", {"DAY", "IOC"})):
            if text.get(field) not in allowed:
                return _refused("invalid_field", field)
        try:
            quantity, disclosed, price, trigger = _amounts(body, ordertype)
        except ValueError as exc:
            return _refused("invalid_field", str(exc))
        order = SimOrder(
            order_id=self.book.next_id(), exchange=row["exch_seg"], symbol=row["symbol"],
            token=row["token"], side=body["transactiontype"], quantity=quantity,
            pricetype=_ORDER_TYPES[ordertype], product=body["producttype"], price=price,
            trigger_price=trigger, disclosed_quantity=disclosed,
            tag=text.get("ordertag", ""), raw=body)
        unique = str(uuid.uuid4())
        self._meta[order.order_id] = {"variety": variety, "ordertype": ordertype,
                                      "duration": body["duration"], "uniqueorderid": unique}
        self._unique[unique] = order.order_id
        self.book_order(order, user=user)
        return _ok({"script": order.symbol, "orderid": order.order_id,
                    "uniqueorderid": unique})

    def modify_order(self, body: dict[str, Any], user: str) -> Response:
        """Validate like placeOrder, against the order named: the body restates the whole
        order (variety, symbol and product as placed: ⚠ Angel's checks of these are
        unverified); an absent ``triggerprice`` or ``disclosedquantity`` keeps the
        order's. A refusal leaves the order unchanged."""
        text = _texts(body)
        order_id = str(body.get("orderid"))
        order = self.book.orders.get(order_id)
        if order is None:
            return _refused("order_not_found")
        if order.status not in LIVE:
            return _refused("order_not_open", f"({order.status})")
        meta, ordertype = self._meta[order_id], text.get("ordertype", "")
        if text.get("variety") != meta["variety"]:
            return _refused("invalid_variety")
        row = self.scrip.get(str(body.get("symboltoken")))
        if row is None or (row["token"], row["exch_seg"], row["symbol"]) != (
                order.token, text.get("exchange"), text.get("tradingsymbol")):
            return _refused("symbol_not_found")
        if text.get("producttype") != order.product:
            return _refused("invalid_product")
        if ordertype not in _ORDER_TYPES:
            return _refused("invalid_field", "ordertype")
        if text.get("duration") not in ("DAY", "IOC"):
            return _refused("invalid_field", "duration")
        try:
            quantity, disclosed, price, trigger = _amounts(
                body, ordertype, trigger=order.trigger_price,
                disclosed=order.disclosed_quantity)
            if quantity % int(row["lotsize"]):  # ⚠ refused at once, not RMS-rejected
                raise ValueError("quantity: not in whole lots")
        except ValueError as exc:
            return _refused("invalid_field", str(exc))
        try:
            self.book_modify(order_id, quantity=quantity, price=price, trigger_price=trigger,
                             pricetype=_ORDER_TYPES[ordertype], disclosed_quantity=disclosed,
                             user=user)
        except SimRefusal as refusal:
            if refusal.why == "margin":
                return _refused("rms_refused", refusal.reason)
            return _refused("order_not_open", f"({order.status})")
        meta.update(ordertype=ordertype, duration=text["duration"])
        return _ok({"orderid": order_id, "uniqueorderid": meta["uniqueorderid"]})

    def cancel_order(self, body: dict[str, Any], user: str) -> Response:
        """Cancel an open or trigger-pending order, named with the variety it was placed
        with (⚠ whether Angel refuses another variety is unverified)."""
        order_id = str(body.get("orderid"))
        if order_id not in self.book.orders:
            return _refused("order_not_found")
        if body.get("variety") != self._meta[order_id]["variety"]:
            return _refused("invalid_variety")
        try:
            self.book_cancel(order_id)
        except SimRefusal:
            return _refused("order_not_open", f"({self.book.orders[order_id].status})")
        return _ok({"orderid": order_id,
                    "uniqueorderid": self._meta[order_id]["uniqueorderid"]})

    def order_book(self, body: dict[str, Any], user: str) -> Response:
        rows = [self._order_row(order) for order in list(self.book.orders.values())]
        return _ok(rows or None)

    def order_details(self, body: dict[str, Any], user: str) -> Response:
        """One order's order-book row, by its ``uniqueorderid``."""
        order_id = self._unique.get(str(body.get("uniqueorderid")))
        if order_id is None:
            return _refused("order_not_found")
        return _ok(self._order_row(self.book.orders[order_id]))

    def trade_book(self, body: dict[str, Any], user: str) -> Response:
        rows = [self._trade_row(trade) for trade in list(self.book.trades)]
        return _ok(rows or None)

    def positions(self, body: dict[str, Any], user: str) -> Response:
        rows = [self._position_row(row) for row in self.book.positions(self.marks())]
        return _ok(rows or None)

    # -- funds and holdings ------------------------------------------------------------
    def rms(self, body: dict[str, Any], user: str) -> Response:
        """getRMS as live replies show it: four decimals, ``net`` and ``availablecash``
        both net of the margin used and the day's realised P&L, the ``utilised*``
        breakdown null (⚠ how Angel splits ``net`` and ``availablecash`` when
        collateral is pledged is unverified: ``net`` adds the collateral here)."""
        funds = self.funds()
        rms = {
            "net": funds.available + funds.collateral, "availablecash": funds.available,
            "availableintradaypayin": Decimal(0), "availablelimitmargin": Decimal(0),
            "collateral": funds.collateral, "m2munrealized": funds.unrealised,
            "m2mrealized": funds.realised, "utiliseddebits": funds.used}
        data: dict[str, str | None] = {k: _money(v, 4) for k, v in rms.items()}
        data.update(dict.fromkeys(("utilisedspan", "utilisedoptionpremium",
                                   "utilisedholdingsales", "utilisedexposure",
                                   "utilisedturnover"), None))
        data["utilisedpayout"] = data["availablecash"]
        return _ok(data)

    def holding(self, body: dict[str, Any], user: str) -> Response:
        """getHolding: one row per holding, every number a string (⚠ as a third-party
        client reads them; Angel's documented sample shows JSON numbers)."""
        rows = [self._holding_row(h, text=True) for h in self.holdings()]
        return _ok(rows or None)

    def all_holding(self, body: dict[str, Any], user: str) -> Response:
        """getAllHolding: the rows with JSON numbers, and ``totalholding`` (as Angel's
        documented sample); nothing held: both null (⚠ as OpenAlgo handles it)."""
        held = self.holdings()
        if not held:
            return _ok({"holdings": None, "totalholding": None})
        value = sum((h.ltp * h.quantity for h in held), Decimal(0))
        invested = sum((h.average_price * h.quantity for h in held), Decimal(0))
        total = {"totalholdingvalue": value, "totalinvvalue": invested,
                 "totalprofitandloss": value - invested,
                 "totalpnlpercentage": _percent(value - invested, invested)}
        return _ok({"holdings": [self._holding_row(h, text=False) for h in held],
                    "totalholding": {k: _float(v) for k, v in total.items()}})

    # -- rendering -----------------------------------------------------------------------
    def _order_row(self, order: SimOrder) -> dict[str, Any]:
        """An order-book row: counts as strings, prices as JSON numbers (as Angel's own
        sample and live replies show them)."""
        scrip, meta = self.scrip[order.token], self._meta[order.order_id]
        places = _places(scrip)
        when = (order.updated_at or order.created_at).strftime(_TIME)
        return {
            "variety": meta["variety"], "ordertype": meta["ordertype"],
            "producttype": order.product, "duration": meta["duration"],
            "price": _float(order.price, places),
            "triggerprice": _float(order.trigger_price, places),
            "quantity": str(order.quantity), "disclosedquantity": str(order.disclosed_quantity),
            "squareoff": 0.0, "stoploss": 0.0, "trailingstoploss": 0.0,
            "tradingsymbol": order.symbol, "transactiontype": order.side,
            "exchange": order.exchange, "symboltoken": order.token, "ordertag": order.tag,
            "instrumenttype": scrip["instrumenttype"], "strikeprice": float(_strike(scrip)),
            "optiontype": _option_type(scrip), "expirydate": scrip["expiry"],
            "lotsize": scrip["lotsize"],
            "cancelsize": str(order.quantity if order.status == "cancelled" else 0),
            "averageprice": _float(order.average_price, places),
            "filledshares": str(order.filled), "unfilledshares": str(order.quantity
                                                                     - order.filled),
            "orderid": order.order_id, "text": order.reason, "status": order.status,
            "orderstatus": order.status, "updatetime": when,
            "exchtime": when if order.status != "rejected" else "",
            "exchorderupdatetime": when if order.status != "rejected" else "",
            "fillid": "", "filltime": "", "parentorderid": "",
            "uniqueorderid": meta["uniqueorderid"],
        }

    def _trade_row(self, trade: SimTrade) -> dict[str, str]:
        scrip = self.scrip[trade.token]
        places = _places(scrip)
        return {
            "exchange": trade.exchange, "producttype": trade.product,
            "tradingsymbol": trade.symbol, "instrumenttype": scrip["instrumenttype"],
            "symbolgroup": _symbol_group(scrip), "strikeprice": _strike(scrip),
            "optiontype": _option_type(scrip), "expirydate": scrip["expiry"],
            "marketlot": scrip["lotsize"], "precision": str(places), "multiplier": "-1",
            "tradevalue": _money(trade.price * trade.quantity),
            "transactiontype": trade.side, "fillprice": _money(trade.price, places),
            "fillsize": str(trade.quantity), "orderid": trade.order_id,
            "fillid": trade.trade_id, "filltime": trade.time.strftime(_FILL_TIME),
        }

    def _holding_row(self, held: SimHolding, *, text: bool) -> dict[str, Any]:
        """A holding row, its numbers as strings (``text``) or JSON numbers; the P&L in
        whole rupees (⚠ as Angel's documented sample rounds it)."""
        amount: Callable[[Decimal], Any] = _money if text else _float
        count: Callable[[int], Any] = str if text else int
        pnl = held.pnl.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        return {
            "tradingsymbol": self.scrip[held.token]["symbol"], "exchange": held.exchange,
            "isin": _isin(held.symbol), "t1quantity": count(0),
            "realisedquantity": count(held.quantity), "quantity": count(held.quantity),
            "authorisedquantity": count(0), "product": "DELIVERY",
            "collateralquantity": None, "collateraltype": None, "haircut": count(0),
            "averageprice": amount(held.average_price), "ltp": amount(held.ltp),
            "symboltoken": held.token, "close": amount(self.by_token[held.token].price),
            "profitandloss": count(int(pnl)),
            "pnlpercentage": amount(_percent(held.ltp - held.average_price,
                                             held.average_price)),
        }

    def _position_row(self, row: PositionRow) -> dict[str, str]:
        scrip = self.scrip[row.token]
        places = _places(scrip)
        net_value = row.sell_value - row.buy_value
        return {
            "exchange": row.exchange, "symboltoken": row.token, "producttype": row.product,
            "tradingsymbol": row.symbol, "symbolname": scrip["name"],
            "instrumenttype": scrip["instrumenttype"], "priceden": "1", "pricenum": "1",
            "genden": "1", "gennum": "1", "precision": str(places), "multiplier": "-1",
            "boardlotsize": "1", "buyqty": str(row.buy_qty), "sellqty": str(row.sell_qty),
            "buyamount": _money(row.buy_value), "sellamount": _money(row.sell_value),
            "symbolgroup": _symbol_group(scrip), "strikeprice": _strike(scrip),
            "optiontype": _option_type(scrip), "expirydate": scrip["expiry"],
            "lotsize": scrip["lotsize"], "cfbuyqty": "0", "cfsellqty": "0",
            "cfbuyamount": "0", "cfsellamount": "0",
            "buyavgprice": _money(row.buy_avg, places),
            "sellavgprice": _money(row.sell_avg, places),
            "avgnetprice": _money(row.average_price, places),
            # Angel's own sample really writes a negative net value as "- 2235.80".
            "netvalue": _money(net_value) if net_value >= 0 else f"- {-net_value:.2f}",
            "netqty": str(row.net), "totalbuyvalue": _money(row.buy_value),
            "totalsellvalue": _money(row.sell_value), "cfbuyavgprice": "0",
            "cfsellavgprice": "0", "totalbuyavgprice": _money(row.buy_avg, places),
            "totalsellavgprice": _money(row.sell_avg, places),
            "netprice": _money(row.average_price, places), "pnl": _money(row.pnl),
            "realised": _money(row.realised), "unrealised": _money(row.unrealised),
            "ltp": str(row.ltp), "close": str(self.by_token[row.token].price),
        }


def _places(scrip: Mapping[str, str]) -> int:
    """Currency prices have 4 decimals at Angel, everything else 2."""
    return 4 if scrip["exch_seg"] == "CDS" else 2


def _strike(scrip: Mapping[str, str]) -> str:
    """Strike in rupees as position and order rows show it (``"40200.0"``), else ``"-1"``."""
    if not scrip["instrumenttype"].startswith("OPT"):
        return "-1"
    scale = Decimal(10) ** 7 if scrip["exch_seg"] == "CDS" else Decimal(100)
    text = format((Decimal(scrip["strike"]) / scale).normalize(), "f")
    return text if "." in text else text + ".0"


def _symbol_group(scrip: Mapping[str, str]) -> str:
    return "EQ" if scrip["exch_seg"] in ("NSE", "BSE") else "XX"


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole * 100).quantize(_PAISE) if whole else Decimal(0)


def _isin(symbol: str) -> str:
    """A well-formed but synthetic ISIN (⚠ not the instrument's real one)."""
    return f"INE{zlib.crc32(symbol.encode()) % 10**6:06d}01{len(symbol) % 10}"


def _texts(body: Mapping[str, Any]) -> dict[str, str]:
    """The body's text fields (anything else reads as ``""``)."""
    return {k: v if isinstance(v, str) else "" for k, v in body.items()}


def _amounts(body: Mapping[str, Any], ordertype: str, *, trigger: Decimal = Decimal(0),
             disclosed: int = 0) -> tuple[int, int, Decimal, Decimal]:
    """(quantity, disclosed quantity, price, trigger) of an order body, checked as Angel
    does; an absent ``triggerprice`` or ``disclosedquantity`` is ``trigger`` or
    ``disclosed``.

    Raises:
        ValueError: naming the field at fault.
    """
    quantity, shown = whole_value(body.get("quantity")), whole_value(
        body.get("disclosedquantity", disclosed))
    price = decimal_value(body.get("price", "0"))
    stop = decimal_value(body["triggerprice"]) if "triggerprice" in body else trigger
    if quantity <= 0 or not 0 <= shown <= quantity:
        raise ValueError("quantity")
    if ordertype in ("LIMIT", "STOPLOSS_LIMIT") and price <= 0:
        raise ValueError("price")
    if ordertype in _STOP_TYPES and stop <= 0:
        raise ValueError("triggerprice")
    return quantity, shown, price, stop


def _option_type(scrip: Mapping[str, str]) -> str:
    return scrip["symbol"][-2:] if scrip["instrumenttype"].startswith("OPT") else ""
