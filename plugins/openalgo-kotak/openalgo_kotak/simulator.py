"""A local Kotak Neo Trade API: real paths, headers, envelopes, refusals and quirks.

Serve ``KotakSimulator(environ=...).app`` and point the plugin at it with
``OPENALGO_KOTAK_BASE_URL``. The login host, the session's base URL and the scrip-master
host keep their real paths, so one server serves them all, and Kotak's official SDK
(kotakneoapi 3.0.9) works against it through its ``transport=`` argument. What it does,
after brokers/kotak-icici A and sdk-observed.md:

- login, the current flow: ``POST /login/1.0/tradeApiLogin`` wants the access token raw
  in ``Authorization`` and ``{mobileNumber, ucc, totp}`` (the TOTP checked with pyotp),
  and answers a view token and sid (``kType: View``); ``POST /login/1.0/tradeApiValidate``
  wants them as ``Auth``/``sid`` with ``{mpin}`` and answers the session token and sid
  and the **base URL** later calls must use (:attr:`~KotakSimulator.trade_url`; by
  default the address the login was sent to). A missing field is ``{"error": [{"code",
  "message"}]}``; ``/5config/config`` answers an empty config (the SDK asks it);
- every other call wants ``Sid`` and ``Auth`` of a live session, else ``stCode`` 100022
  "invalid session token" (HTTP :attr:`~KotakSimulator.expired_status`); the access token
  in ``Authorization`` is checked where it is sent (orders, quotes, the scrip-master list);
- orders are form-encoded ``jData`` JSON with Kotak's short keys, every value text
  (``"ig": null`` allowed, a zero only as ``"0"``, a blank field refused); the tag in
  ``ig`` is echoed as ``GuiOrdId`` in the order and trade books and must be new for the
  day; SL-M is refused from API sessions (:attr:`~KotakSimulator.refuse_slm`); an
  accepted order may still be RMS-rejected (lot size, margin): that shows only in the
  order book, ``rejected`` with ``rejRsn``; the static-IP refusals are a knob
  (:attr:`~KotakSimulator.ip_refusal`);
- modify (``vr/modify``), cancel, the order book, trades (``tok`` empty), positions at both
  paths with Kotak's carried/day quantity and amount fields (carried legs:
  :attr:`~KotakSimulator.carried`), limits, holdings, quotes (a JSON array);
- an empty book is ``{"stat": "Not_Ok", "errMsg": "No Data", "stCode": 5203}``;
- ``file-paths`` lists the day's CSVs on the scrip-master host, served at full size
  (:mod:`.sim_master`).

It imports none of the plugin's tables on purpose: it states Kotak's behaviour on its
own, so a wrong mapping in the plugin cannot be mirrored here. Every reply text and HTTP
status it chose is in :data:`ERRORS`; those marked ⚠ are best guesses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from openalgo_core.models import IST
from openalgo_core.testing import (
    Listing,
    PositionRow,
    SimHolding,
    SimOrder,
    SimRefusal,
    SimTrade,
    SimulatorBase,
)
from openalgo_core.testing.book import LIVE
from openalgo_core.testing.parsing import decimal_value, json_object, whole_value

from .sim_master import FILES, FULL_MASTER_ROWS, cached_files, render_files, trading_symbol

__all__ = ["ERRORS", "KotakSimulator", "Leg", "Scrip"]

LOGIN_PATH: Final = "/login/1.0/tradeApiLogin"
VALIDATE_PATH: Final = "/login/1.0/tradeApiValidate"
CONFIG_PATH: Final = "/5config/config"
PLACE_PATH: Final = "/quick/order/rule/ms/place"
MODIFY_PATH: Final = "/quick/order/vr/modify"
CANCEL_PATH: Final = "/quick/order/cancel"
ORDERS_PATH: Final = "/quick/user/orders"
ORDER_PATH: Final = "/quick/user/orders/{order_id}"
TRADES_PATH: Final = "/quick/user/trades"
POSITIONS_V2_PATH: Final = "/portfolio/v2/positions"
POSITIONS_PATH: Final = "/quick/user/positions"
LIMITS_PATH: Final = "/quick/user/limits"
HOLDINGS_PATH: Final = "/portfolio/v1/holdings"
FILE_PATHS_PATH: Final = "/script-details/1.0/masterscrip/file-paths"
QUOTES_PATH: Final = "/script-details/1.0/quotes/neosymbol/{symbols}/{kind}"
MASTER_HOST: Final = "https://lapi.kotaksecurities.com"
MASTER_FOLDER: Final = "/wso2-scripmaster/v1/prod"
MASTER_PATH: Final = MASTER_FOLDER + "/{day}/{folder}/{name}"

#: (stCode, text, HTTP status) of every refusal this simulator sends.
ERRORS: Final = {
    # login: a missing field, as the SDK's docs quote it (the field's name follows)
    "missing_field": ("400", "Missing required field", 400),
    "missing_header": ("10512", "Required header not found.", 400),
    # ⚠ wrong access token / TOTP / MPIN / view token: texts and statuses unknown
    "bad_access_token": ("900901", "Invalid Credentials", 401),
    "bad_totp": ("10520", "Invalid TOTP", 400),
    "bad_user": ("10521", "Invalid mobile number or UCC", 400),
    "bad_view": ("10522", "Invalid view token or sid", 400),
    "bad_mpin": ("10523", "Invalid MPIN", 400),
    # trade calls (the Not_Ok envelope)
    "session": ("100022", "invalid session token", 403),  # ⚠ 403 or 200
    "ip": ("100008", "unauthorized", 200),
    "session_ip": ("1037", "session ip does not match the whitelisted ip", 200),  # ⚠ text cut
    "algo": ("1017", "algo order not allowed", 200),
    "slm": ("1017", "Market order with Algo Id not allowed", 200),  # ⚠ its code
    "body": ("1007", "body invalid", 200),
    "blank": ("5202", "Error: Invalid Request", 200),
    "quantity": ("1009", "please provide valid quantity", 200),
    "duplicate_tag": ("5204", "Put Order Response : Client OrderID already exists", 200),
    "no_data": ("5203", "No Data", 200),
    # ⚠ invented: "<text>: <detail>" (RMS texts: the kit's, Kotak's are not documented)
    "invalid": ("1008", "invalid order parameters", 200),
    "unknown_order": ("1020", "order not found", 200),
    "completed": ("1021", "order is completed", 200),  # documented for cancel
    "rms": ("1015", "", 200),
    "rate_limited": ("429", "Too many requests", 429),
}
#: ``stat`` of a refusal: ``Not_Ok``, but Kotak's odd values for two of them
_ODD_STAT: Final = {"body": "bad request", "completed": "please provide valid order number"}
_SEGMENTS: Final = {"nse_cm": "NSE", "bse_cm": "BSE", "nse_fo": "NFO", "bse_fo": "BFO",
                    "mcx_fo": "MCX"}
_CASH: Final = frozenset({"nse_cm", "bse_cm"})
_INDEX_SEGMENTS: Final = {"NSE_INDEX": "nse_cm", "BSE_INDEX": "bse_cm"}
_PRICE_TYPES: Final = {"L": "LIMIT", "MKT": "MARKET", "SL": "SL", "SL-M": "SL-M"}
_PRICE_TYPES_BACK: Final = {ours: theirs for theirs, ours in _PRICE_TYPES.items()}
_PRODUCTS: Final = frozenset({"CNC", "NRML", "MIS", "MTF"})
_SIDES: Final = {"B": "BUY", "S": "SELL"}
_SIDES_BACK: Final = {ours: theirs for theirs, ours in _SIDES.items()}
#: the kit's status -> ``ordSt``
STATUSES: Final = {"open": "open", "complete": "complete", "cancelled": "cancelled",
                   "rejected": "rejected", "trigger pending": "trigger pending"}
_CLOCK: Final = "%d-%b-%Y %H:%M:%S"
_UPDATED: Final = "%Y/%m/%d %H:%M:%S"
_MOBILE: Final = re.compile(r"\+91[6-9]\d{9}")
#: a zero written another way than ``"0"`` (⚠ Kotak refuses "0.0" on numeric fields)
_ODD_ZERO: Final = re.compile(r"0?\.0*|0+\.?0*|-0.*")

Handler = Callable[[dict[str, Any], str], Response]
IpRefusal = Literal["ip", "session_ip"] | None
PositionLtp = Literal["row", "zero", "absent"]


@dataclass(frozen=True, slots=True)
class Scrip:
    """A listing as the simulator's own scrip master writes it."""

    listing: Listing
    segment: str
    trading_symbol: str


@dataclass(frozen=True, slots=True)
class Leg:
    """A position carried from an earlier day: ``quantity`` signed, carried at ``price``
    (Kotak's ``cfBuyAmt``/``cfSellAmt`` = price x |quantity|)."""

    exchange: str
    token: str
    product: str
    quantity: int
    price: Decimal


def refusal(error: str, detail: str = "", *, status: int | None = None) -> JSONResponse:
    """Kotak's refusal ``{"stat", "stCode", "errMsg"}`` (``"<text>: <detail>"``)."""
    code, text, http = ERRORS[error]
    message = ": ".join(part for part in (text, detail) if part)
    return JSONResponse({"stat": _ODD_STAT.get(error, "Not_Ok"), "stCode": int(code),
                         "errMsg": message, "tid": f"server1_{secrets.randbelow(10**7)}"},
                        status_code=status or http)


def login_error(error: str, detail: str = "") -> JSONResponse:
    """The login host's refusal: ``{"error": [{"code", "message"}]}``."""
    code, text, http = ERRORS[error]
    message = f"{text} {detail}".strip()
    return JSONResponse({"error": [{"code": code, "message": message}]}, status_code=http)


def _ok(**data: Any) -> JSONResponse:
    return JSONResponse({"stat": "Ok", **data, "stCode": 200})


def _now() -> dt.datetime:
    return dt.datetime.now(IST)


def _ist(moment: dt.datetime) -> dt.datetime:
    """A book's naive local time as the IST wall clock Kotak writes."""
    return moment.astimezone(IST)


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _mobile(text: str) -> str:
    """A mobile number as ``+91`` and 10 digits, however it was written."""
    digits = "".join(c for c in text if c.isdigit())
    return "+91" + digits[-10:]


def _same(given: object, expected: str) -> bool:
    """Constant-time comparison of a text with ``expected`` (anything else: False)."""
    return isinstance(given, str) and secrets.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


class KotakSimulator(SimulatorBase):
    """The Neo Trade API on an ASGI app. The arguments are the base's: ``environ`` (the
    ``OPENALGO_KOTAK_*`` credentials it accepts), ``margin_limit`` (the account's cash),
    ``master_size`` (rows of the served scrip master: by default the full size,
    :data:`~.sim_master.FULL_MASTER_ROWS`, rendered once per process; 0: only
    :attr:`listings`).

    Knobs for what is uncertain or what a test needs: :attr:`trade_url`,
    :attr:`expired_status`, :attr:`refuse_slm`, :attr:`ip_refusal`, :attr:`position_ltp`,
    :attr:`carried`.
    """

    broker = "kotak"
    credential_fields = ("UCC", "ACCESS_TOKEN", "MOBILE", "MPIN", "TOTP_SECRET")
    order_paths = frozenset({PLACE_PATH})
    exchanges = frozenset({"NSE", "BSE", "NFO", "BFO", "MCX", "NSE_INDEX", "BSE_INDEX"})
    master_size: int | None = FULL_MASTER_ROWS

    def __init__(self, *, environ: Mapping[str, str] | None = None, seed: int = 7,
                 margin_limit: Decimal | None = Decimal(5_000_000),
                 session_hours: float = 24.0, master_size: int | None = None) -> None:
        #: the ``baseUrl`` MPIN validation names (None: the origin the login came to)
        self.trade_url: str | None = None
        #: the HTTP status of "invalid session token" (⚠ the docs say 403)
        self.expired_status = ERRORS["session"][2]
        #: refuse SL-M orders as Kotak does from API sessions (⚠ SEBI's algo rules)
        self.refuse_slm = True
        #: refuse orders for their IP: ``"ip"`` (100008) or ``"session_ip"`` (1037)
        self.ip_refusal: IpRefusal = None
        #: how positions carry the last price: ``"row"`` (``ltp``, as v2 does), ``"zero"``
        #: (⚠ "occasionally 0" per the SDK) or ``"absent"`` (the older path's rows)
        self.position_ltp: PositionLtp = "row"
        #: positions carried from earlier days
        self.carried: list[Leg] = []
        #: segments whose scrip-master file answers HTTP 503 (a failing download)
        self.failing_files: frozenset[str] = frozenset()
        #: refuse an ``ig`` seen today (5204); ``OPENALGO_KOTAK_SIM_REPEAT_TAGS=1`` turns
        #: it off (the benchmark's raw-httpx floor replays one captured order)
        env = os.environ if environ is None else environ
        self.unique_tags = env.get("OPENALGO_KOTAK_SIM_REPEAT_TAGS", "").strip() != "1"
        self._views: dict[str, tuple[str, float]] = {}  # view token -> (view sid, expiry)
        self._sids: dict[str, str] = {}  # session token -> session sid
        self._login_lock = threading.Lock()
        self._meta: dict[str, dict[str, str]] = {}  # order id -> validity, price type sent
        self._rendered_files: dict[str, bytes] | None = None
        super().__init__(environ=environ, seed=seed, margin_limit=margin_limit,
                         session_hours=session_hours, master_size=master_size)
        self.scrips = {(s.segment, s.trading_symbol): s for s in map(_scrip, self.listings)}
        self.scrip_of = {s.listing.token: s for s in self.scrips.values()}

    # -- SimulatorBase ---------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        trade = self._trade
        return [
            Route(LOGIN_PATH, self.login, methods=["POST"]),
            Route(VALIDATE_PATH, self.validate, methods=["POST"]),
            Route(CONFIG_PATH, self.config, methods=["GET"]),
            Route(PLACE_PATH, trade(self.place_order, form=True, token=True), methods=["POST"]),
            Route(MODIFY_PATH, trade(self.modify_order, form=True, token=True),
                  methods=["POST"]),
            Route(CANCEL_PATH, trade(self.cancel_order, form=True, token=True),
                  methods=["POST"]),
            Route(ORDERS_PATH, trade(self.order_book), methods=["GET"]),
            Route(ORDER_PATH, trade(self.one_order), methods=["GET"]),
            Route(TRADES_PATH, trade(self.trade_book), methods=["GET"]),
            Route(POSITIONS_V2_PATH, trade(self.positions), methods=["GET"]),
            Route(POSITIONS_PATH, trade(self.positions_v1), methods=["GET"]),
            Route(LIMITS_PATH, trade(self.limits, form=True), methods=["POST"]),
            Route(HOLDINGS_PATH, trade(self.holdings_reply), methods=["GET"]),
            Route(FILE_PATHS_PATH, self.file_paths, methods=["GET"]),
            Route(QUOTES_PATH, self.quotes_reply, methods=["GET"]),
            Route(MASTER_PATH, self.master_file, methods=["GET"]),
        ]

    def render_master(self, listings: Iterable[Listing]) -> bytes:
        files = render_files(listings)
        return b"".join(files[segment] for segment in FILES)

    def files(self) -> dict[str, bytes]:
        """The segment files (``{segment: bytes}``): ``master_size`` rows of the big
        universe (rendered once per process), else :attr:`listings`."""
        if self.master_size:
            return cached_files(self.master_size)
        if self._rendered_files is None:
            self._rendered_files = render_files(self.listings)
        return self._rendered_files

    def reset(self) -> None:
        """Also forget the view tokens, carried legs and what Kotak keeps per order."""
        super().reset()
        with self._login_lock:
            self._views.clear()
        self._meta.clear()
        self.carried = []

    def rate_limited_response(self) -> Response:
        return refusal("rate_limited")

    def order_rejected_response(self) -> Response:
        return refusal("algo")

    def server_error_response(self) -> Response:
        return JSONResponse({"stat": "Not_Ok", "stCode": 503,
                             "errMsg": "Trade API service is unavailable"}, status_code=503)

    # -- login -----------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        """Step 1: the access token, ``{mobileNumber, ucc, totp}``: a view token and sid."""
        if not _same(request.headers.get("authorization"), self.credentials["ACCESS_TOKEN"]):
            return login_error("bad_access_token")
        if not request.headers.get("neo-fin-key"):
            return login_error("missing_header")
        body = await json_object(request)
        if body is None:
            return login_error("missing_field", "'MobileNumber'")
        for key, name in (("mobileNumber", "MobileNumber"), ("ucc", "Ucc"), ("totp", "Totp")):
            if not isinstance(body.get(key), str) or not body[key].strip():
                return login_error("missing_field", f"'{name}'")
        mobile = body["mobileNumber"]
        if not _MOBILE.fullmatch(mobile) or mobile != _mobile(self.credentials["MOBILE"]) \
                or not _same(body["ucc"].upper(), self.credentials["UCC"].upper()):
            return login_error("bad_user")
        if not self.verify_totp(body["totp"]):
            return login_error("bad_totp")
        view, sid = secrets.token_urlsafe(32), secrets.token_hex(16)
        with self._login_lock:
            self._views[view] = (sid, time.time() + 300)
        return JSONResponse({"data": {**self._account(view, sid), "kType": "View"}})

    async def validate(self, request: Request) -> Response:
        """Step 2: the view token and sid, ``{mpin}``: the session and its base URL."""
        if not _same(request.headers.get("authorization"), self.credentials["ACCESS_TOKEN"]):
            return login_error("bad_access_token")
        view, sid = request.headers.get("auth", ""), request.headers.get("sid", "")
        if not view or not sid:
            return login_error("missing_header")
        with self._login_lock:
            entry = self._views.get(view)
            if entry is None or entry[1] <= time.time() or not _same(sid, entry[0]):
                return login_error("bad_view")
        body = await json_object(request)
        if body is None or not isinstance(body.get("mpin"), str) or not body["mpin"]:
            return login_error("missing_field", "'Mpin'")
        if not _same(body["mpin"], self.credentials["MPIN"]):
            return login_error("bad_mpin")
        with self._login_lock:
            self._views.pop(view, None)
        token, session_sid = self.issue_token(self.credentials["UCC"]), secrets.token_hex(16)
        with self._lock:
            self._sids[token] = session_sid
        base = self.trade_url or f"{request.url.scheme}://{request.url.netloc}"
        return JSONResponse({"data": {**self._account(token, session_sid), "kType": "Trade",
                                      "baseUrl": base, "dataCenter": "E21",
                                      "rid": secrets.token_hex(16)}})

    def _account(self, token: str, sid: str) -> dict[str, Any]:
        return {"token": token, "sid": sid, "rid": secrets.token_hex(16),
                "isUserPwdExpired": False, "ucc": self.credentials["UCC"],
                "greetingName": "SIMULATED USER", "isTrialAccount": False, "dataCenter": "E21",
                "mfAccess": 1, "dataCenterMap": None, "dormancyStatus": "A",
                "clientType": "RI", "isNRI": False, "kId": "9999999999",
                "status": "success", "incRange": 0, "incUpdFlag": "", "clientGroup": "",
                "kraStatus": "", "rcFlag": 0}

    async def config(self, request: Request) -> Response:
        """The SDK's dynamic config: no feed endpoints (it falls back to its defaults)."""
        return JSONResponse({"data": {"configs": {}}})

    # -- request plumbing ------------------------------------------------------------------
    def _trade(self, handler: Handler, *, form: bool = False,
               token: bool = False) -> Callable[[Request], Any]:
        """Wrap ``handler(body, user)`` with the session check (``Sid`` and ``Auth``), and
        for an order the access token when given and the IP check; a ``form`` body is its
        ``jData`` JSON object, a GET's body its path parameters."""
        async def endpoint(request: Request) -> Response:
            auth, sid = request.headers.get("auth", ""), request.headers.get("sid", "")
            user = self.user_for(auth)
            with self._lock:
                known = self._sids.get(auth, "")
            if not user or not _same(sid, known):
                return refusal("session", status=self.expired_status)
            given = request.headers.get("authorization")
            if token and given is not None and not _same(given, self.credentials["ACCESS_TOKEN"]):
                return login_error("bad_access_token")
            if token and self.ip_refusal:
                return refusal(self.ip_refusal)
            body: dict[str, Any] | None = dict(request.path_params)
            if form:
                body = await _jdata(request)
            if body is None:
                return refusal("body")
            return handler(body, user)
        return endpoint

    def _book(self, rows: list[dict[str, Any]]) -> JSONResponse:
        """A book: its rows, or, empty, Kotak's "No Data"."""
        if not rows:
            return refusal("no_data")
        return _ok(data=rows)

    # -- orders ----------------------------------------------------------------------------
    def place_order(self, body: dict[str, Any], user: str) -> Response:
        """Validate as Kotak does, then book: RMS failures are booked ``rejected``."""
        text, problem = _texts(body, ("am", "dq", "es", "mp", "pc", "pr", "pt", "qt", "rt",
                                      "tp", "ts", "tt"))
        if problem:
            return problem
        if text["am"] != "NO":
            return refusal("invalid", "am: after-market orders are not simulated")
        scrip = self.scrips.get((text["es"], text["ts"]))
        if text["es"] not in _SEGMENTS:
            return refusal("invalid", "es")
        if scrip is None or scrip.listing.kind == "INDEX":
            return refusal("invalid", "ts")
        if text["tt"] not in _SIDES or text["pt"] not in _PRICE_TYPES:
            return refusal("invalid", "tt" if text["tt"] not in _SIDES else "pt")
        if text["pc"] not in _PRODUCTS or (text["pc"] in ("CNC", "MTF")
                                          and text["es"] not in _CASH):
            return refusal("invalid", "pc")
        if text["rt"] not in ("DAY", "IOC") or (text["rt"] == "IOC" and text["es"] == "mcx_fo"):
            return refusal("invalid", "rt")
        if text["pt"] == "SL-M" and self.refuse_slm:
            return refusal("slm")
        tag = body.get("ig")
        if tag is not None and (not isinstance(tag, str) or not tag.strip()):
            return refusal("blank", "ig")
        if tag and self.unique_tags and any(o.tag == tag
                                            for o in list(self.book.orders.values())):
            return refusal("duplicate_tag")
        terms = _terms(text, scrip, text["pt"], _SIDES[text["tt"]])
        if isinstance(terms, Response):
            return terms
        quantity, disclosed, price, trigger = terms
        order = SimOrder(
            order_id=self.book.next_id(), exchange=scrip.listing.exchange,
            symbol=scrip.trading_symbol, token=scrip.listing.token, side=_SIDES[text["tt"]],
            quantity=quantity, pricetype=_PRICE_TYPES[text["pt"]], product=text["pc"],
            price=price, trigger_price=trigger, disclosed_quantity=disclosed, tag=tag or "",
            raw=body)
        self._meta[order.order_id] = {"validity": text["rt"]}
        self.book_order(order, user=user)
        if text["rt"] == "IOC" and order.status == "open":  # ⚠ an IOC that did not fill
            self.book_cancel(order.order_id)
        return _ok(nOrdNo=order.order_id, tid=f"server1_{secrets.randbelow(10**7)}")

    def modify_order(self, body: dict[str, Any], user: str) -> Response:
        """The SDK's keys (``no``, ``qt``, ``pr``, ``pt``, ``tp``, ``dq``, ``vd``, ``am``,
        ``mp``); OpenAlgo's extra keys are accepted and must match the order. A refusal
        leaves the order unchanged."""
        text, problem = _texts(body, ("no", "qt", "pr", "pt", "tp", "vd"))
        if problem:
            return problem
        order = self.book.orders.get(text["no"])
        if order is None:
            return refusal("unknown_order", text["no"])
        if order.status not in LIVE:
            return refusal("completed", STATUSES[order.status])
        scrip = self.scrip_of[order.token]
        if text["pt"] not in _PRICE_TYPES or (text["pt"] == "SL-M" and self.refuse_slm):
            return refusal("slm" if text["pt"] == "SL-M" else "invalid", "pt")
        if text["vd"] not in ("DAY", "IOC"):
            return refusal("invalid", "vd")
        for key, held in (("es", scrip.segment), ("ts", scrip.trading_symbol),
                          ("tt", _SIDES_BACK[order.side]), ("pc", order.product)):
            if key in body and body[key] != held:
                return refusal("invalid", f"{key}: not the order's")
        terms = _terms({"dq": str(order.disclosed_quantity), **text}, scrip, text["pt"],
                       order.side)
        if isinstance(terms, Response):
            return terms
        quantity, disclosed, price, trigger = terms
        if quantity % scrip.listing.lot_size:
            return refusal("rms", self.lot_size_reason(
                dataclasses.replace(order, quantity=quantity), scrip.listing.lot_size))
        try:
            self.book_modify(text["no"], quantity=quantity, price=price, trigger_price=trigger,
                             pricetype=_PRICE_TYPES[text["pt"]], disclosed_quantity=disclosed,
                             user=user)
        except SimRefusal as refused:
            if refused.why == "margin":
                return refusal("rms", refused.reason)
            return refusal("completed", STATUSES[self.book.orders[text["no"]].status])
        self._meta[text["no"]]["validity"] = text["vd"]
        return _ok(nOrdNo=text["no"])

    def cancel_order(self, body: dict[str, Any], user: str) -> Response:
        text, problem = _texts(body, ("on",))
        if problem:
            return problem
        try:
            self.book_cancel(text["on"])
        except SimRefusal as refused:
            if refused.why == "unknown":
                return refusal("unknown_order", text["on"])
            return refusal("completed", STATUSES[self.book.orders[text["on"]].status])
        return _ok(nOrdNo=text["on"])

    # -- books -----------------------------------------------------------------------------
    def order_book(self, body: dict[str, Any], user: str) -> Response:
        return self._book([self._order_row(o) for o in list(self.book.orders.values())])

    def one_order(self, body: dict[str, Any], user: str) -> Response:
        order = self.book.orders.get(str(body.get("order_id")))
        if order is None:
            return refusal("no_data")
        return self._book([self._order_row(order)])

    def trade_book(self, body: dict[str, Any], user: str) -> Response:
        return self._book([self._trade_row(t) for t in list(self.book.trades)])

    def positions(self, body: dict[str, Any], user: str) -> Response:
        """``portfolio/v2/positions``: the day's fills and :attr:`carried` legs, one row per
        (segment, token, product), with ``ltp`` as :attr:`position_ltp` says."""
        return self._book(self._position_rows(self.position_ltp))

    def positions_v1(self, body: dict[str, Any], user: str) -> Response:
        """The notes' older path: the same rows, no ``ltp``."""
        return self._book(self._position_rows("absent"))

    def _position_rows(self, ltp: PositionLtp) -> list[dict[str, Any]]:
        day = {(row.exchange, row.token, row.product): row
               for row in self.book.positions(self.marks())}
        carried = {(leg.exchange, leg.token, leg.product): leg for leg in self.carried}
        return [self._position_row(key, day.get(key), carried.get(key), ltp)
                for key in [*day, *(k for k in carried if k not in day)]]

    def limits(self, body: dict[str, Any], user: str) -> Response:
        """``CollateralValue`` the cash and the day's realised P&L, ``Net`` what is left
        after ``MarginUsed`` (as in Kotak's sample), ``Collateral`` the pledged holdings."""
        funds = self.funds()
        value = funds.cash + funds.realised
        return _ok(Category="CLIENT_SPECIAL", CollateralValue=_money(value),
                   Collateral=_money(funds.collateral), RmsCollateral="0", AdhocMargin="0",
                   NotionalCash="0", MarginUsed=_money(funds.used),
                   MarginUsedPrsnt=_money(funds.used), RmsPayInAmt="0", RmsPayOutAmt="0",
                   Net=_money(value - funds.used),
                   RealizedMtomPrsnt=_money(funds.realised),
                   UnrealizedMtomPrsnt=_money(funds.unrealised),
                   TimeStamp=str(int(time.time() * 1000)))

    def holdings_reply(self, body: dict[str, Any], user: str) -> Response:
        """``{"data": [...]}`` (no ``stat``): numbers as JSON numbers, no last price but the
        previous close (⚠ an empty list when nothing is held)."""
        return JSONResponse({"data": [self._holding_row(h) for h in self.holdings()]})

    async def quotes_reply(self, request: Request) -> Response:
        """A JSON array, one object per known ``segment|token`` (an index by its name too);
        only the access token is checked (no session)."""
        if not _same(request.headers.get("authorization"), self.credentials["ACCESS_TOKEN"]):
            return JSONResponse({"code": "900901", "message": "Invalid Credentials",
                                 "description": "Access failure for API"}, status_code=401)
        found = []
        for name in str(request.path_params.get("symbols", "")).split(","):
            segment, _, key = name.partition("|")
            scrip = self.scrip_of.get(key) or next(
                (s for s in self.scrips.values()
                 if s.listing.kind == "INDEX" and s.listing.name == key), None)
            if scrip is None or scrip.segment != segment:
                continue
            found.append(self._quote(scrip, str(request.path_params.get("kind", "all"))))
        return JSONResponse(found)

    # -- the scrip master ------------------------------------------------------------------
    async def file_paths(self, request: Request) -> Response:
        """The day's files on the scrip-master host (only the access token is checked)."""
        if not _same(request.headers.get("authorization"), self.credentials["ACCESS_TOKEN"]):
            return JSONResponse({"code": "900901", "message": "Invalid Credentials",
                                 "description": "Access failure for API"}, status_code=401)
        folder = f"{MASTER_HOST}{MASTER_FOLDER}"
        today = f"{_now():%Y-%m-%d}"
        return JSONResponse({"data": {"baseFolder": folder, "filesPaths": [
            f"{folder}/{today}/{path}" for path in FILES.values()]}})

    async def master_file(self, request: Request) -> Response:
        params = request.path_params
        path = f"{params.get('folder')}/{params.get('name')}"
        segment = next((s for s, p in FILES.items() if p == path), None)
        if segment is None:
            return Response(b"<Error><Code>NoSuchKey</Code></Error>", status_code=404,
                            media_type="application/xml")
        if segment in self.failing_files:
            return Response(b"Service Unavailable", status_code=503, media_type="text/plain")
        return Response(self.files()[segment], media_type="text/csv")

    # -- rendering -------------------------------------------------------------------------
    def _order_row(self, order: SimOrder) -> dict[str, Any]:
        """An order-book row: the fields of Kotak's sample that a client reads, numbers as
        Kotak writes them (``qty`` an integer, prices text)."""
        scrip = self.scrip_of[order.token]
        listing = scrip.listing
        when = _ist(order.created_at)
        filled = order.filled
        rejected = order.status == "rejected"
        return {
            "actId": "", "algId": "NA", "avgPrc": _money(order.average_price),
            "brdLtQty": str(listing.lot_size), "cnlQty": order.quantity - filled
            if order.status == "cancelled" else 0, "dscQty": order.disclosed_quantity,
            "exCfmTm": "" if rejected else when.strftime(_CLOCK),
            "exOrdId": "" if rejected else f"1100000{int(order.order_id) % 10**9:09d}",
            "expDt": f"{listing.expiry:%d %b, %Y}" if listing.expiry else "NA",
            "exSeg": scrip.segment, "fldQty": filled, "nOrdNo": order.order_id,
            "optTp": listing.kind if listing.kind in ("CE", "PE") else "-",
            "ordDtTm": when.strftime(_CLOCK), "ordEntTm": when.strftime(_CLOCK),
            "prod": order.product, "prc": _money(order.price),
            "prcTp": _PRICE_TYPES_BACK[order.pricetype], "qty": order.quantity,
            "rejRsn": order.reason or "--", "rmk": "--", "series": listing.series
            if listing.kind == "EQ" else "XX", "stat": STATUSES[order.status],
            "ordSt": STATUSES[order.status], "stkPrc": _money(listing.strike or Decimal(0)),
            "sym": listing.name if listing.kind != "EQ" else listing.symbol,
            "tckSz": f"{listing.tick_size:.4f}", "tok": order.token,
            "trnsTp": _SIDES_BACK[order.side], "trgPrc": _money(order.trigger_price),
            "trdSym": order.symbol, "unFldSz": order.quantity - filled
            if order.status in LIVE else 0, "vldt": self._meta.get(order.order_id, {}).get(
                "validity", "DAY"),
            "genDen": "1", "genNum": "1", "prcNum": "1", "prcDen": "1",
            "lotSz": str(listing.lot_size), "multiplier": "1", "precision": "2",
            "hsUpTm": _ist(order.updated_at or order.created_at).strftime(_UPDATED),
            "GuiOrdId": order.tag, "locId": "111111111111100",
            "updRecvTm": int((order.updated_at or order.created_at).timestamp() * 10**9),
            "it": "EQ" if listing.kind == "EQ" else listing.kind,
        }

    def _trade_row(self, trade: SimTrade) -> dict[str, Any]:
        """A fill: Kotak's sample fields, ``tok`` empty as Kotak sends it."""
        scrip, order = self.scrip_of[trade.token], self.book.orders[trade.order_id]
        when = _ist(trade.time)
        return {
            "actId": "", "algCat": "NA", "algId": "NA", "avgPrc": _money(trade.price),
            "boeSec": int(trade.time.timestamp()), "brdLtQty": scrip.listing.lot_size,
            "exOrdId": f"1100000{int(trade.order_id) % 10**9:09d}", "exSeg": scrip.segment,
            "exTm": when.strftime(_CLOCK), "fldQty": trade.quantity,
            "flDt": when.strftime("%d-%b-%Y"), "flId": str(200000000 + int(trade.trade_id)),
            "flLeg": 1, "flTm": when.strftime("%H:%M:%S"), "nOrdNo": trade.order_id,
            "prcTp": _PRICE_TYPES_BACK[order.pricetype], "prod": trade.product,
            "rptTp": "fill", "sym": scrip.listing.symbol, "trdSym": trade.symbol,
            "trnsTp": _SIDES_BACK[trade.side], "genDen": "1", "genNum": "1",
            "hsUpTm": when.strftime(_UPDATED), "GuiOrdId": order.tag,
            "lotSz": str(scrip.listing.lot_size), "multiplier": "1", "prcNum": "1",
            "prcDen": "1", "precision": "2", "tok": "", "uSec": str(int(trade.time.timestamp())),
        }

    def _position_row(self, key: tuple[str, str, str], day: PositionRow | None,
                      carried: Leg | None, ltp: PositionLtp) -> dict[str, Any]:
        """Kotak's position fields: day quantities and amounts (``flBuyQty``, ``buyAmt``),
        carried ones (``cfBuyQty``, ``cfBuyAmt``), every number text."""
        _, token, product = key
        scrip = self.scrip_of[token]
        listing = scrip.listing
        cf_buy = cf_sell = 0
        cf_buy_amt = cf_sell_amt = Decimal(0)
        if carried is not None and carried.quantity > 0:
            cf_buy, cf_buy_amt = carried.quantity, carried.price * carried.quantity
        elif carried is not None:
            cf_sell, cf_sell_amt = -carried.quantity, carried.price * -carried.quantity
        row = {
            "actId": self.credentials["UCC"], "brdLtQty": listing.lot_size,
            "cfBuyAmt": _money(cf_buy_amt), "cfSellAmt": _money(cf_sell_amt),
            "cfBuyQty": str(cf_buy), "cfSellQty": str(cf_sell), "exSeg": scrip.segment,
            "buyAmt": _money(day.buy_value if day else Decimal(0)),
            "sellAmt": _money(day.sell_value if day else Decimal(0)),
            "flBuyQty": str(day.buy_qty if day else 0),
            "flSellQty": str(day.sell_qty if day else 0), "prod": product,
            "series": listing.series if listing.kind == "EQ" else "XX", "tok": token,
            "trdSym": scrip.trading_symbol,
            "optTp": listing.kind if listing.kind in ("CE", "PE") else "XX",
            "stkPrc": _money(listing.strike or Decimal(0)),
            "type": "" if listing.kind == "EQ" else listing.kind, "sym": listing.name,
            "sqrFlg": "Y", "posFlg": "true", "lotSz": str(listing.lot_size),
            "multiplier": "1", "precision": "2", "prcNum": "1", "prcDen": "1",
            "genNum": "1", "genDen": "1",
            "hsUpTm": _now().strftime(_UPDATED),
            "expDt": f"{listing.expiry:%d %b, %Y}" if listing.expiry else "NA",
            "exp": str(int(dt.datetime.combine(listing.expiry, dt.time(), dt.UTC).timestamp()))
            if listing.expiry else "-", "dscQty": "", "upldPrc": "0.00",
            "updRecvTm": time.time_ns(),
        }
        if ltp != "absent":
            row["ltp"] = _money(self.mark(token)) if ltp == "row" else "0"
        return row

    def _holding_row(self, held: SimHolding) -> dict[str, Any]:
        scrip = self.scrip_of[held.token]
        close = float(held.ltp)
        return {
            "displaySymbol": held.symbol, "averagePrice": float(held.average_price),
            "quantity": held.quantity, "exchangeSegment": scrip.segment,
            "exchangeIdentifier": held.token,
            "holdingCost": float(held.average_price * held.quantity),
            "mktValue": round(close * held.quantity, 2),
            "scripId": secrets.token_hex(20), "instrumentToken": 8000 + int(held.token) % 1000,
            "instrumentType": "Equity", "isAlternateScrip": False, "closingPrice": close,
            "symbol": held.symbol, "sellableQuantity": held.quantity,
        }

    def _quote(self, scrip: Scrip, kind: str) -> dict[str, Any]:
        """A quote (⚠ the ``ltp`` filter's reply is assumed to keep the identifying keys)."""
        ltp, listing = self.mark(scrip.listing.token), scrip.listing
        quote: dict[str, Any] = {"exchange_token": listing.token,
                                 "display_symbol": scrip.trading_symbol,
                                 "exchange": scrip.segment, "ltp": f"{ltp:.4f}"}
        if kind != "ltp":
            quote.update(lstup_time=str(int(time.time())), last_traded_quantity="1",
                         total_buy="1000", total_sell="1000", last_volume="100000",
                         avg_cost=f"{listing.price:.4f}", open_int="0",
                         change=f"{ltp - listing.price:.4f}",
                         ohlc={"open": f"{listing.price:.4f}",
                               "high": f"{max(ltp, listing.price):.4f}",
                               "low": f"{min(ltp, listing.price):.4f}",
                               "close": f"{listing.price:.4f}"})
        return quote


def _scrip(listing: Listing) -> Scrip:
    segment = _INDEX_SEGMENTS.get(listing.exchange) or {
        "NSE": "nse_cm", "BSE": "bse_cm", "NFO": "nse_fo", "BFO": "bse_fo",
        "MCX": "mcx_fo"}[listing.exchange]
    return Scrip(listing, segment, trading_symbol(listing))


async def _jdata(request: Request) -> dict[str, Any] | None:
    """The form field ``jData`` of a url-encoded body as a JSON object, or None (no such
    field, not JSON, not an object). Read with ``parse_qs``: Starlette's form parser
    needs python-multipart, which the core's testing extra does not bring."""
    try:
        values = parse_qs((await request.body()).decode(), max_num_fields=64).get("jData", [])
        data = json.loads(values[0]) if len(values) == 1 else None
    except (ValueError, RecursionError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _texts(body: Mapping[str, Any], required: tuple[str, ...]
           ) -> tuple[dict[str, str], Response | None]:
    """The ``required`` fields as text: absent or not text is "body invalid", blank
    "Error: Invalid Request" (as Kotak answers a blank ``dq``)."""
    text: dict[str, str] = {}
    for key in required:
        value = body.get(key)
        if not isinstance(value, str):
            return text, refusal("body", key)
        if not value.strip():
            return text, refusal("blank", key)
        text[key] = value.strip()
    return text, None


def _terms(text: Mapping[str, str], scrip: Scrip, price_type: str, side: str
           ) -> tuple[int, int, Decimal, Decimal] | Response:
    """Quantity, disclosed quantity, price and trigger, checked as Kotak does (a refusal
    otherwise): whole numbers, zero only as ``"0"``, a price for L/SL and none for
    MKT/SL-M, a trigger for stops on the right side of the price, every price on the tick."""
    try:
        quantity = whole_value(text["qt"])
    except ValueError:
        return refusal("quantity")
    if quantity <= 0:
        return refusal("quantity")
    numbers: dict[str, Decimal] = {}
    for key in ("dq", "pr", "tp"):
        raw = text.get(key, "0")
        if raw != "0" and _ODD_ZERO.fullmatch(raw):
            return refusal("blank", f"{key}: zero must be sent as \"0\"")
        try:
            numbers[key] = decimal_value(raw)
        except ValueError:
            return refusal("invalid", key)
    disclosed, price, trigger = int(numbers["dq"]), numbers["pr"], numbers["tp"]
    if disclosed != numbers["dq"] or disclosed > quantity:
        return refusal("invalid", "dq")
    if price_type in ("L", "SL") and price <= 0:
        return refusal("invalid", "pr: a limit price is required")
    if price_type in ("MKT", "SL-M") and price != 0:
        return refusal("invalid", "pr: must be 0 for a market order")
    if price_type in ("SL", "SL-M"):
        if trigger <= 0:
            return refusal("invalid", "tp: a trigger price is required")
        if price_type == "SL" and (trigger > price if side == "BUY" else trigger < price):
            return refusal("invalid", "tp: on the wrong side of the price")
    else:
        trigger = Decimal(0)
    tick = scrip.listing.tick_size
    for key, value in (("pr", price), ("tp", trigger)):
        if value % tick:
            return refusal("invalid", f"{key}: not a multiple of the tick size {tick}")
    return quantity, disclosed, price, trigger
