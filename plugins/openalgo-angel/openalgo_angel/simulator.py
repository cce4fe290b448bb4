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
- getOrderBook and getPosition answer ``data: null`` when empty; every number
  is a string; positions carry realised and unrealised P&L;
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
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from openalgo_core.testing import Listing, PositionRow, SimOrder, SimulatorBase, big_universe
from openalgo_core.testing.parsing import decimal_value, json_object, request_token, whole_value

__all__ = ["AngelSimulator", "big_scrip_master", "render_scrip_master", "scrip_row"]

_AUTH = "/rest/auth/angelbroking"
_SECURE = "/rest/secure/angelbroking"
LOGIN_PATH: Final = _AUTH + "/user/v1/loginByPassword"
TOKENS_PATH: Final = _AUTH + "/jwt/v1/generateTokens"
PROFILE_PATH: Final = _SECURE + "/user/v1/getProfile"
LOGOUT_PATH: Final = _SECURE + "/user/v1/logout"
PLACE_ORDER_PATH: Final = _SECURE + "/order/v1/placeOrder"
CANCEL_ORDER_PATH: Final = _SECURE + "/order/v1/cancelOrder"
ORDER_BOOK_PATH: Final = _SECURE + "/order/v1/getOrderBook"
POSITIONS_PATH: Final = _SECURE + "/order/v1/getPosition"
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


class AngelSimulator(SimulatorBase):
    """SmartAPI on an ASGI app. The arguments are the base's: ``environ`` (the
    ``OPENALGO_ANGEL_*`` credentials it accepts), ``margin_limit`` (orders worth more are
    RMS-rejected in the order book), ``master_size`` (a big synthetic scrip master)."""

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
            Route(CANCEL_ORDER_PATH, endpoint(self.cancel_order), methods=["POST"]),
            Route(ORDER_BOOK_PATH, endpoint(self.order_book), methods=["GET"]),
            Route(POSITIONS_PATH, endpoint(self.positions), methods=["GET"]),
        ]

    def render_master(self, listings: Iterable[Listing]) -> bytes:
        return render_scrip_master(listings)

    def lot_size_reason(self, order: SimOrder, lot_size: int) -> str:
        return f"RMS:Rule: Quantity should be in multiples of the lot size {lot_size}"

    def margin_reason(self, order: SimOrder, required: Decimal, user: str) -> str:
        return (f"RMS:Margin Exceeds,Required:{required:.2f}, Available:"
                f"{self.margin_limit:.2f} for entity account-{user} across exchange across"
                f" segment across product")

    def reset(self) -> None:
        """Also forget refresh tokens."""
        super().reset()
        self._refresh.clear()
        self._meta.clear()

    def rate_limited_response(self) -> Response:
        return PlainTextResponse(RATE_LIMIT_TEXT, status_code=403)

    def order_rejected_response(self) -> Response:
        return _refused("client_blocked")

    # -- request plumbing --------------------------------------------------------------
    def _endpoint(self, handler: Handler, *, secure: bool = True) -> Callable[[Request], Any]:
        """Wrap ``handler(body, user)`` with Angel's header, key and (``secure``) token
        checks; a POST body must be a JSON object."""
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
            body = await json_object(request) if request.method == "POST" else {}
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
        text = {k: v if isinstance(v, str) else "" for k, v in body.items()}
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
            quantity, disclosed = whole_value(body.get("quantity")), whole_value(
                body.get("disclosedquantity", "0"))
            price, trigger = decimal_value(body.get("price", "0")), decimal_value(
                body.get("triggerprice", "0"))
        except ValueError as exc:
            return _refused("invalid_field", str(exc))
        if quantity <= 0 or not 0 <= disclosed <= quantity:
            return _refused("invalid_field", "quantity")
        if ordertype in ("LIMIT", "STOPLOSS_LIMIT") and price <= 0:
            return _refused("invalid_field", "price")
        if variety == "STOPLOSS" and trigger <= 0:
            return _refused("invalid_field", "triggerprice")
        order = SimOrder(
            order_id=self.book.next_id(), exchange=row["exch_seg"], symbol=row["symbol"],
            token=row["token"], side=body["transactiontype"], quantity=quantity,
            pricetype=_ORDER_TYPES[ordertype], product=body["producttype"], price=price,
            trigger_price=trigger, disclosed_quantity=disclosed,
            tag=text.get("ordertag", ""), raw=body)
        self._meta[order.order_id] = {"variety": variety, "ordertype": ordertype,
                                      "duration": body["duration"],
                                      "uniqueorderid": str(uuid.uuid4())}
        self.book_order(order, user=user)
        return _ok({"script": order.symbol, "orderid": order.order_id,
                    "uniqueorderid": self._meta[order.order_id]["uniqueorderid"]})

    def cancel_order(self, body: dict[str, Any], user: str) -> Response:
        order_id = str(body.get("orderid"))
        if order_id not in self.book.orders:
            return _refused("order_not_found")
        if self.book.cancel(order_id) is None:
            return _refused("invalid_field", f"order is {self.book.orders[order_id].status}")
        return _ok({"orderid": order_id,
                    "uniqueorderid": self._meta[order_id]["uniqueorderid"]})

    def order_book(self, body: dict[str, Any], user: str) -> Response:
        rows = [self._order_row(order) for order in list(self.book.orders.values())]
        return _ok(rows or None)

    def positions(self, body: dict[str, Any], user: str) -> Response:
        rows = [self._position_row(row) for row in self.book.positions(self.marks())]
        return _ok(rows or None)

    # -- rendering -----------------------------------------------------------------------
    def _order_row(self, order: SimOrder) -> dict[str, str]:
        scrip, meta = self.scrip[order.token], self._meta[order.order_id]
        places = _places(scrip)
        when = order.created_at.strftime(_TIME)
        return {
            "variety": meta["variety"], "ordertype": meta["ordertype"],
            "producttype": order.product, "duration": meta["duration"],
            "price": _money(order.price, places), "triggerprice": _money(order.trigger_price,
                                                                         places),
            "quantity": str(order.quantity), "disclosedquantity": str(order.disclosed_quantity),
            "squareoff": "0.0", "stoploss": "0.0", "trailingstoploss": "0.0",
            "tradingsymbol": order.symbol, "transactiontype": order.side,
            "exchange": order.exchange, "symboltoken": order.token, "ordertag": order.tag,
            "instrumenttype": scrip["instrumenttype"], "strikeprice": _strike(scrip),
            "optiontype": _option_type(scrip), "expirydate": scrip["expiry"],
            "lotsize": scrip["lotsize"],
            "cancelsize": str(order.quantity if order.status == "cancelled" else 0),
            "averageprice": _money(order.average_price, places),
            "filledshares": str(order.filled), "unfilledshares": str(order.quantity
                                                                     - order.filled),
            "orderid": order.order_id, "text": order.reason, "status": order.status,
            "orderstatus": order.status, "updatetime": when,
            "exchtime": when if order.status != "rejected" else "",
            "exchorderupdatetime": when if order.status != "rejected" else "",
            "fillid": "", "filltime": "", "parentorderid": "",
            "uniqueorderid": meta["uniqueorderid"],
        }

    def _position_row(self, row: PositionRow) -> dict[str, str]:
        scrip = self.scrip[row.token]
        places = _places(scrip)
        cash = scrip["exch_seg"] in ("NSE", "BSE")
        net_value = row.sell_value - row.buy_value
        return {
            "exchange": row.exchange, "symboltoken": row.token, "producttype": row.product,
            "tradingsymbol": row.symbol, "symbolname": scrip["name"],
            "instrumenttype": scrip["instrumenttype"], "priceden": "1", "pricenum": "1",
            "genden": "1", "gennum": "1", "precision": str(places), "multiplier": "-1",
            "boardlotsize": "1", "buyqty": str(row.buy_qty), "sellqty": str(row.sell_qty),
            "buyamount": _money(row.buy_value), "sellamount": _money(row.sell_value),
            "symbolgroup": "EQ" if cash else "XX", "strikeprice": _strike(scrip),
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


def _option_type(scrip: Mapping[str, str]) -> str:
    return scrip["symbol"][-2:] if scrip["instrumenttype"].startswith("OPT") else ""
