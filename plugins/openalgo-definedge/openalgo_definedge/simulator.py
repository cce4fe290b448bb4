"""A local Definedge Integrate API: real paths, headers, envelopes, refusals and quirks.

Serve ``DefinedgeSimulator(environ=...).app`` and point the plugin at it with
``OPENALGO_DEFINEDGE_BASE_URL``. The three hosts keep their real paths, so one base
URL serves them all, and pyintegrate works against it
(``ConnectToIntegrate(login_url=<url>/auth/realms/debroking/dsbpkc/,
base_url=<url>/dart/v1/)``, its master download mapped onto ``/public/allmaster.zip``).
What it does, after brokers/definedge 2 and sdk-observed.md:

- login, two steps: ``GET {auth}/login/{api_token}`` with header ``api_secret`` answers
  an ``otp_token`` and "sends" a 6-digit OTP for it (:meth:`~DefinedgeSimulator.user_code`
  answers the last one); ``POST {auth}/token`` with ``{otp_token, otp, ac}`` checks the
  token (known, unexpired, unused), ``ac`` = hex sha256(otp_token + otp + api_secret) and
  the OTP (the current external TOTP, pyotp, or the one sent for that token), and answers
  Noren's session fields with ``stat: "Ok"``; refusals are ``{"stat": "Not_Ok", "emsg"}``;
- the trade host (``/dart/v1``) wants ``Authorization: <api_session_key>`` raw (no
  ``Bearer``); a missing, unknown or expired key is ``Session Expired``; every reply is
  JSON in the envelope ``status: "SUCCESS"|"ERROR"`` + ``message``, a refusal HTTP 200;
- placeorder takes numbers or strings, ``order_type`` as the side and ``price_type`` as
  the order type, a mandatory ``algo_id``, and echoes ``remarks`` in the order and trade
  books; an accepted order may still be RMS-rejected (lot size, margin): that shows
  only in the order book, ``REJECTED`` with the reason in ``message``;
- modify (POST), cancel (``GET /cancel/{id}``), the order book (``CANCELED`` with one L),
  one order (a bare row), trades, positions (every number a string, ``lastPrice``),
  holdings (per-exchange legs, no last price), quotes and limits;
- an empty book answers in one of the three shapes seen in the wild
  (:attr:`~DefinedgeSimulator.empty_book`);
- ``/public/allmaster.zip`` at full size (:mod:`.sim_master`).

It imports none of the plugin's tables on purpose: it states Definedge's behaviour on
its own, so a wrong mapping in the plugin cannot be mirrored here. Every reply text
and HTTP status it chose is in :data:`ERRORS`; those marked ⚠ are best guesses.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import secrets
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

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
from openalgo_core.testing.parsing import decimal_value, json_object, request_token, whole_value

from .sim_master import FULL_MASTER_ROWS, cached_allmaster, render_allmaster

__all__ = ["ERRORS", "OTP_TOKEN_SECONDS", "STATUSES", "DefinedgeSimulator", "EmptyBook",
           "Scrip"]

AUTH: Final = "/auth/realms/debroking/dsbpkc"
LOGIN_PATH: Final = AUTH + "/login/{api_token}"
TOKEN_PATH: Final = AUTH + "/token"
TRADE: Final = "/dart/v1"
PLACE_ORDER_PATH: Final = TRADE + "/placeorder"
MODIFY_ORDER_PATH: Final = TRADE + "/modify"
CANCEL_ORDER_PATH: Final = TRADE + "/cancel/{order_id}"
ORDER_BOOK_PATH: Final = TRADE + "/orders"
ORDER_PATH: Final = TRADE + "/order/{order_id}"
TRADE_BOOK_PATH: Final = TRADE + "/trades"
POSITIONS_PATH: Final = TRADE + "/positions"
HOLDINGS_PATH: Final = TRADE + "/holdings"
QUOTES_PATH: Final = TRADE + "/quotes/{exchange}/{token}"
LIMITS_PATH: Final = TRADE + "/limits"
MASTER_PATH: Final = "/public/allmaster.zip"

#: (HTTP status, text) of every refusal this simulator sends. Login refusals use the
#: ``stat``/``emsg`` envelope, the trade host ``status``/``message``.
ERRORS: Final = {
    # login step 1, wrong API token or secret: ⚠ status and text unknown (OpenAlgo only
    # sees a non-2xx)
    "bad_api_key": (401, "Invalid API token or API secret"),
    # login step 2: ⚠ every text invented; each refusal has its own
    "login_body": (200, "Invalid request"),
    "unknown_otp_token": (200, "Invalid OTP token"),
    "expired_otp_token": (200, "OTP token expired: request a new OTP"),
    "used_otp_token": (200, "OTP token already used: request a new OTP"),
    "bad_checksum": (200, "Invalid checksum"),
    "bad_otp": (200, "Invalid OTP"),
    # the text is the SDK's test; ⚠ the HTTP status is unknown (a knob: expired_status)
    "session_expired": (200, "Session Expired"),
    # ⚠ texts invented: "<text>: <detail>"
    "invalid_body": (200, "Invalid request body"),
    "invalid_field": (200, "Invalid"),
    "missing_algo_id": (200, "algo_id is mandatory"),
    "order_not_found": (200, "Order not found"),
    "order_not_open": (200, "Order is not open"),
    "order_mismatch": (200, "Order details do not match the order"),
    "invalid_token": (200, "Invalid token"),
    # a modify beyond the funds or in broken lots: the RMS text alone (margin_reason...)
    "rms": (200, ""),
    # the fault reject_orders
    "blocked": (200, "RMS:Blocked for trading"),
    # ⚠ Definedge publishes no limits; a burst answers HTTP 429 (OpenAlgo retries it)
    "rate_limited": (429, "Too many requests"),
    # the "error" shape of an empty book (⚠ Noren OMSes say "no data")
    "no_data": (200, "No Data"),
}

#: How long an ``otp_token`` of login step 1 can be used (⚠ not documented).
OTP_TOKEN_SECONDS: Final = 300.0
_EXCHANGES: Final = frozenset({"NSE", "BSE", "NFO", "BFO", "CDS", "MCX"})
_CASH: Final = frozenset({"NSE", "BSE"})
_INDEX_TYPES: Final = frozenset({"IDX", "INDEX"})
#: price_type -> the kit's pricetype
_PRICE_TYPES: Final = {"MARKET": "MARKET", "LIMIT": "LIMIT", "SL-LIMIT": "SL",
                       "SL-MARKET": "SL-M"}
_MARKET_TYPES: Final = frozenset({"MARKET", "SL-MARKET"})
_STOP_TYPES: Final = frozenset({"SL-LIMIT", "SL-MARKET"})
_PRODUCTS: Final = frozenset({"CNC", "INTRADAY", "NORMAL"})
_VALIDITIES: Final = frozenset({"DAY", "IOC", "EOS"})
#: the kit's status -> ``order_status`` (⚠ TRIGGER PENDING spelled as Noren does)
STATUSES: Final = {"open": "OPEN", "complete": "COMPLETE", "cancelled": "CANCELED",
                   "rejected": "REJECTED", "trigger pending": "TRIGGER PENDING"}
#: the products login step 2 lists (the SDK mock's ``prarr``)
_PRARR: Final = (
    {"prd": "C", "s_prdt_ali": "CNC", "exch": ["NSE", "BSE"]},
    {"prd": "M", "s_prdt_ali": "NRML", "exch": ["NFO", "CDS", "MCX", "BSE", "NSE"]},
    {"prd": "I", "s_prdt_ali": "MIS", "exch": ["NSE", "BSE", "NFO", "CDS", "MCX"]},
)
_CLOCK: Final = "%H:%M:%S %d-%m-%Y"  # request_time, one order's order_entry_time
_STAMP: Final = "%d-%m-%Y %H:%M:%S"  # exchange_time, fill_time

EmptyBook = Literal["list", "absent", "error"]
Handler = Callable[[dict[str, Any], str], Response]


@dataclass(frozen=True, slots=True)
class Scrip:
    """A listing as ``allmaster.csv`` writes it (the simulator's own master): the tick
    in rupees, the lot, precision and symbols as the file states them."""

    listing: Listing
    segment: str
    token: str
    name: str
    tradingsymbol: str
    itype: str
    tick: Decimal
    lot_size: int
    precision: int
    multiplier: str
    isin: str
    price_factor: str
    company: str

    def money(self, value: Decimal) -> str:
        """A price at this instrument's precision (currency: 4 decimals)."""
        return f"{value:.{self.precision}f}"


def _scrips(listings: list[Listing]) -> list[Scrip]:
    """``listings`` as the simulator's own master file writes them, row for row.

    Raises:
        ValueError: the master does not have one row per listing.
    """
    with zipfile.ZipFile(io.BytesIO(render_allmaster(listings))) as archive:
        text = archive.read("allmaster.csv").decode()
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) != len(listings):
        raise ValueError(f"the master has {len(rows)} rows for {len(listings)} listings")
    return [Scrip(listing, segment=row[0], token=row[1], name=row[2], tradingsymbol=row[3],
                  itype=row[4], tick=Decimal(row[6]).scaleb(-int(row[10])),
                  lot_size=int(row[7]), precision=int(row[10]), multiplier=row[11],
                  isin=row[12], price_factor=row[13], company=row[14])
            for listing, row in zip(listings, rows, strict=True)]


def _ok(**data: Any) -> JSONResponse:
    return JSONResponse({"status": "SUCCESS", **data})


def _refused(error: str, detail: str = "") -> JSONResponse:
    """The trade host's refusal: ``{"status": "ERROR", "message"}``, the message
    ``"<text>: <detail>"`` (or either alone)."""
    status, text = ERRORS[error]
    message = ": ".join(part for part in (text, detail) if part)
    return JSONResponse({"status": "ERROR", "message": message}, status_code=status)


def _not_ok(error: str) -> JSONResponse:
    """The login host's refusal: ``{"stat": "Not_Ok", "emsg"}``."""
    status, text = ERRORS[error]
    return JSONResponse({"stat": "Not_Ok", "emsg": text}, status_code=status)


def _now() -> dt.datetime:
    return dt.datetime.now(IST)


def _ist(moment: dt.datetime) -> dt.datetime:
    """A book's naive local time as the IST wall clock Definedge writes."""
    return moment.astimezone(IST)


def _texts(body: Mapping[str, Any]) -> dict[str, str]:
    """The body's text fields (anything else reads as ``""``)."""
    return {k: v if isinstance(v, str) else "" for k, v in body.items()}


@dataclass(frozen=True, slots=True)
class _Terms:
    quantity: int
    disclosed: int
    price: Decimal
    trigger: Decimal


def _terms(body: Mapping[str, Any], scrip: Scrip, side: str, price_type: str, *,
           trigger: Decimal = Decimal(0), disclosed: int = 0) -> _Terms:
    """Quantity, disclosed quantity, price and trigger of an order body, checked as
    Definedge does; an absent ``trigger_price`` or ``disclosed_quantity`` is ``trigger``
    or ``disclosed``.

    Raises:
        ValueError: naming the field at fault.
    """
    try:
        quantity = whole_value(body.get("quantity"))
    except ValueError:
        raise ValueError("quantity") from None
    if quantity <= 0:
        raise ValueError("quantity: must be above 0")
    try:
        shown = whole_value(body.get("disclosed_quantity", disclosed))
    except ValueError:
        raise ValueError("disclosed_quantity") from None
    if shown > quantity:
        raise ValueError("disclosed_quantity: above the quantity")
    try:
        price = decimal_value(body.get("price", 0))
    except ValueError:
        raise ValueError("price") from None
    if price_type in _MARKET_TYPES and price != 0:  # ⚠ OpenAlgo: SL-MARKET too
        raise ValueError(f"price: must be 0 for {price_type}")
    if price_type not in _MARKET_TYPES and price <= 0:
        raise ValueError(f"price: must be above 0 for {price_type}")
    if price_type in _STOP_TYPES:
        try:
            stop = decimal_value(body["trigger_price"]) if "trigger_price" in body else trigger
        except ValueError:
            raise ValueError("trigger_price") from None
        if stop <= 0:
            raise ValueError(f"trigger_price: must be above 0 for {price_type}")
        if price_type == "SL-LIMIT" and (stop > price if side == "BUY" else stop < price):
            raise ValueError("trigger_price: must be at or below the price for a BUY"
                             " SL-LIMIT, at or above it for a SELL")
    else:
        stop = Decimal(0)
    for name, value in (("price", price), ("trigger_price", stop)):
        if value % scrip.tick:  # ⚠ Noren OMSes refuse off-tick prices at once
            raise ValueError(f"{name}: not a multiple of the tick size {scrip.tick}")
    return _Terms(quantity, shown, price, stop)


class DefinedgeSimulator(SimulatorBase):
    """Integrate on an ASGI app. The arguments are the base's: ``environ`` (the
    ``OPENALGO_DEFINEDGE_*`` credentials it accepts), ``margin_limit`` (the account's
    cash: an order needing more margin than is left is RMS-rejected in the order book),
    ``master_size`` (rows of the served ``allmaster.zip``: by default the full size,
    :data:`~.sim_master.FULL_MASTER_ROWS`, rendered once per process; 0: only
    :attr:`listings`).

    Knobs for what is uncertain: :attr:`empty_book`, :attr:`expired_status`,
    :attr:`otp_token_seconds`.
    """

    broker = "definedge"
    credential_fields = ("API_KEY", "API_SECRET", "TOTP_SECRET")
    order_paths = frozenset({PLACE_ORDER_PATH})
    master_path = MASTER_PATH
    master_media_type = "application/zip"
    master_size: int | None = FULL_MASTER_ROWS
    #: ⚠ Definedge's holding rows name no exchange (one leg per exchange listing the
    #: stock) and a client values them on NSE: every holding is stated there.
    holding_seeds: tuple[tuple[str, str, int, Decimal], ...] = (
        ("NSE", "INFY", 10, Decimal("850.00")), ("NSE", "ITC", 25, Decimal("2810.40")),
        ("NSE", "TCS", 4, Decimal("2300.00")), ("NSE", "TATAMOTORS", 40, Decimal("612.35")))

    def __init__(self, *, environ: Mapping[str, str] | None = None, seed: int = 7,
                 margin_limit: Decimal | None = Decimal(5_000_000),
                 session_hours: float = 24.0, master_size: int | None = None) -> None:
        #: how an empty book answers (⚠ all three are seen): ``"list"`` an empty list,
        #: ``"absent"`` no list at all, ``"error"`` ``{"status": "ERROR", "message": "No Data"}``
        self.empty_book: EmptyBook = "list"
        #: the HTTP status of ``Session Expired`` (⚠ unknown: 200, as every refusal)
        self.expired_status = ERRORS["session_expired"][0]
        #: how long an ``otp_token`` lives, in seconds
        self.otp_token_seconds = OTP_TOKEN_SECONDS
        #: otp_token -> (the OTP sent for it, when it expires, used)
        self._otp_tokens: dict[str, tuple[str, float, bool]] = {}
        self._last_otp = ""
        self._otp_lock = threading.Lock()
        #: order id -> what Definedge keeps beside the kit's order (price_type, validity...)
        self._meta: dict[str, dict[str, str]] = {}
        super().__init__(environ=environ, seed=seed, margin_limit=margin_limit,
                         session_hours=session_hours, master_size=master_size)
        self.uid = str(1_000_000 + zlib.crc32(self.credentials["API_KEY"].encode()) % 9_000_000)
        scrips = _scrips(self.listings)
        self.scrips = {(s.segment, s.tradingsymbol): s for s in scrips}
        self.by_segment_token = {(s.segment, s.token): s for s in scrips}
        self.scrip_of = {s.listing.token: s for s in scrips}

    # -- SimulatorBase -------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        trade = self._trade
        return [
            Route(LOGIN_PATH, self.login, methods=["GET"]),
            Route(TOKEN_PATH, self.token, methods=["POST"]),
            Route(PLACE_ORDER_PATH, trade(self.place_order), methods=["POST"]),
            Route(MODIFY_ORDER_PATH, trade(self.modify_order), methods=["POST"]),
            Route(CANCEL_ORDER_PATH, trade(self.cancel_order), methods=["GET"]),
            Route(ORDER_BOOK_PATH, trade(self.order_book), methods=["GET"]),
            Route(ORDER_PATH, trade(self.order), methods=["GET"]),
            Route(TRADE_BOOK_PATH, trade(self.trade_book), methods=["GET"]),
            Route(POSITIONS_PATH, trade(self.positions), methods=["GET"]),
            Route(HOLDINGS_PATH, trade(self.holdings_reply), methods=["GET"]),
            Route(QUOTES_PATH, trade(self.quotes_reply), methods=["GET"]),
            Route(LIMITS_PATH, trade(self.limits), methods=["GET"]),
        ]

    def render_master(self, listings: Iterable[Listing]) -> bytes:
        return render_allmaster(listings)

    def master(self) -> bytes:
        """``allmaster.zip``: at ``master_size`` rows, rendered once per process
        (``cached_allmaster``); ``master_size`` 0: :attr:`listings` only."""
        if self.master_size:
            return cached_allmaster(self.master_size)
        return super().master()

    def lot_size_reason(self, order: SimOrder, lot_size: int) -> str:
        """⚠ Noren-style text, unverified."""
        return f"RMS:Rule: Check lot size, quantity {order.quantity} is not a multiple of" \
               f" the lot size {lot_size}"

    def margin_reason(self, order: SimOrder, required: Decimal, available: Decimal,
                      user: str) -> str:
        """⚠ Noren-style text, unverified."""
        return (f"RMS:Margin Exceeds, Required:{required:.2f}, Available:{available:.2f}"
                f" for account {user}")

    def user_code(self) -> str:
        """The last OTP sent (login step 1), else the current external TOTP."""
        return self._last_otp or self.totp_now()

    def reset(self) -> None:
        """Also forget the OTP tokens and what Definedge keeps beside each order."""
        super().reset()
        with self._otp_lock:
            self._otp_tokens.clear()
            self._last_otp = ""
        self._meta.clear()

    def rate_limited_response(self) -> Response:
        return _refused("rate_limited")

    def order_rejected_response(self) -> Response:
        return _refused("blocked")

    # -- login -----------------------------------------------------------------------------
    async def login(self, request: Request) -> Response:
        """Step 1: the API token in the path, the secret in header ``api_secret``; an
        ``otp_token`` and a fresh OTP "sent" for it."""
        token = str(request.path_params.get("api_token", ""))
        secret = request.headers.get("api_secret", "")
        if not (_same(token, self.credentials["API_KEY"])
                and _same(secret, self.credentials["API_SECRET"])):
            return _not_ok("bad_api_key")
        otp_token = secrets.token_hex(16)
        otp = f"{secrets.randbelow(10**6):06d}"
        with self._otp_lock:
            self._otp_tokens[otp_token] = (otp, time.time() + self.otp_token_seconds, False)
            self._last_otp = otp
        return JSONResponse({"otp_token": otp_token, "message": "Enter OTP/TOTP"})

    async def token(self, request: Request) -> Response:
        """Step 2: ``{otp_token, otp, ac}`` for the session keys (the token is used up)."""
        body = await json_object(request)
        if body is None:
            return _not_ok("login_body")
        otp_token, otp, checksum = body.get("otp_token"), body.get("otp"), body.get("ac")
        if not (isinstance(otp_token, str) and isinstance(otp, str)
                and isinstance(checksum, str)):
            return _not_ok("login_body")
        with self._otp_lock:
            entry = self._otp_tokens.get(otp_token)
            if entry is None:
                return _not_ok("unknown_otp_token")
            sent, expires, used = entry
            if used:
                return _not_ok("used_otp_token")
            if expires <= time.time():
                return _not_ok("expired_otp_token")
            expected = hashlib.sha256(
                f"{otp_token}{otp}{self.credentials['API_SECRET']}".encode()).hexdigest()
            if not _same(checksum, expected):
                return _not_ok("bad_checksum")
            if not (_same(otp, sent) or self.verify_totp(otp)):
                return _not_ok("bad_otp")
            self._otp_tokens[otp_token] = (sent, expires, True)
        now = _now()
        return JSONResponse({
            "request_time": now.strftime(_CLOCK), "stat": "Ok", "uid": self.uid,
            "actid": self.uid, "uname": "SIMULATED USER", "email": "simulated@example.com",
            "api_session_key": self.issue_token(self.uid),
            "susertoken": secrets.token_hex(32), "brkname": "DEFINEDGE", "brnchid": "HO",
            "exarr": sorted(_EXCHANGES), "orarr": ["MKT", "LMT", "SL-LMT", "SL-MKT"],
            "prarr": list(_PRARR), "lastaccesstime": str(int(now.timestamp()))})

    # -- request plumbing ------------------------------------------------------------------
    def _trade(self, handler: Handler) -> Callable[[Request], Any]:
        """Wrap ``handler(body, user)`` with the session check; a POST body must be a
        JSON object, a GET's ``body`` is its path parameters."""
        async def endpoint(request: Request) -> Response:
            user = self.user_for(request_token(request, scheme=None))
            if not user:
                text = ERRORS["session_expired"][1]
                return JSONResponse({"status": "ERROR", "message": text},
                                    status_code=self.expired_status)
            body = await json_object(request) if request.method == "POST" \
                else dict(request.path_params)
            if body is None:
                return _refused("invalid_body")
            return handler(body, user)
        return endpoint

    def _book(self, key: str, rows: list[dict[str, Any]]) -> JSONResponse:
        """A book: its rows under ``key``, or, empty, in the :attr:`empty_book` shape."""
        if rows or self.empty_book == "list":
            return _ok(**{key: rows})
        if self.empty_book == "absent":
            return _ok()
        return _refused("no_data")

    # -- orders ----------------------------------------------------------------------------
    def place_order(self, body: dict[str, Any], user: str) -> Response:
        """Validate as Definedge does, then book: RMS failures are booked ``REJECTED``."""
        text = _texts(body)
        exchange, side = text.get("exchange", ""), text.get("order_type", "")
        price_type, product = text.get("price_type", ""), text.get("product_type", "")
        validity = text.get("validity", "DAY")
        if exchange not in _EXCHANGES:
            return _refused("invalid_field", "exchange")
        scrip = self.scrips.get((exchange, text.get("tradingsymbol", "")))
        if scrip is None or scrip.itype in _INDEX_TYPES:
            return _refused("invalid_field", "tradingsymbol")
        for field, value, allowed in (("order_type", side, {"BUY", "SELL"}),
                                      ("price_type", price_type, _PRICE_TYPES),
                                      ("product_type", product, _PRODUCTS),
                                      ("validity", validity, _VALIDITIES)):
            if value not in allowed:
                return _refused("invalid_field", field)
        if product == "CNC" and exchange not in _CASH:
            return _refused("invalid_field", f"product_type: CNC is not allowed on {exchange}")
        algo = body.get("algo_id")
        if isinstance(algo, bool) or not isinstance(algo, str | int) or not str(algo).strip():
            return _refused("missing_algo_id")
        remarks = body.get("remarks", "")
        if not isinstance(remarks, str):
            return _refused("invalid_field", "remarks")
        try:
            terms = _terms(body, scrip, side, price_type)
        except ValueError as exc:
            return _refused("invalid_field", str(exc))
        order = SimOrder(
            order_id=f"{dt.date.today():%y%m%d}{int(self.book.next_id()[6:]):08d}",
            exchange=exchange, symbol=scrip.tradingsymbol, token=scrip.listing.token,
            side=side, quantity=terms.quantity, pricetype=_PRICE_TYPES[price_type],
            product=product, price=terms.price, trigger_price=terms.trigger,
            disclosed_quantity=terms.disclosed, tag=remarks, raw=body)
        self._meta[order.order_id] = {"price_type": price_type, "validity": validity}
        self.book_order(order, user=user)
        if validity == "IOC" and order.status == "open":  # ⚠ an IOC that did not fill
            self.book_cancel(order.order_id)
        return _ok(order_id=order.order_id)

    def modify_order(self, body: dict[str, Any], user: str) -> Response:
        """Restate the whole order: its exchange, symbol, side and product as placed
        (⚠ Definedge's checks of these are unverified), any valid price type, price,
        quantity (⚠ whole lots, else refused at once) and validity; an absent
        ``trigger_price`` or ``disclosed_quantity`` keeps the order's. A refusal leaves
        the order unchanged."""
        text = _texts(body)
        order_id = str(body.get("order_id"))
        order = self.book.orders.get(order_id)
        if order is None:
            return _refused("order_not_found", order_id)
        if order.status not in LIVE:
            return _refused("order_not_open", STATUSES[order.status])
        if (text.get("exchange"), text.get("tradingsymbol"), text.get("order_type"),
                text.get("product_type")) != (order.exchange, order.symbol, order.side,
                                              order.product):
            return _refused("order_mismatch")
        price_type, validity = text.get("price_type", ""), text.get("validity", "DAY")
        if price_type not in _PRICE_TYPES:
            return _refused("invalid_field", "price_type")
        if validity not in _VALIDITIES:
            return _refused("invalid_field", "validity")
        scrip = self.scrip_of[order.token]
        try:
            terms = _terms(body, scrip, order.side, price_type, trigger=order.trigger_price,
                           disclosed=order.disclosed_quantity)
        except ValueError as exc:
            return _refused("invalid_field", str(exc))
        if terms.quantity % scrip.lot_size:
            return _refused("rms", self.lot_size_reason(
                dataclasses.replace(order, quantity=terms.quantity), scrip.lot_size))
        try:
            self.book_modify(order_id, quantity=terms.quantity, price=terms.price,
                             trigger_price=terms.trigger,
                             pricetype=_PRICE_TYPES[price_type],
                             disclosed_quantity=terms.disclosed, user=user)
        except SimRefusal as refusal:
            if refusal.why == "margin":
                return _refused("rms", refusal.reason)
            return _refused("order_not_open", STATUSES[self.book.orders[order_id].status])
        self._meta[order_id].update(price_type=price_type, validity=validity)
        return _ok(order_id=order_id)

    def cancel_order(self, body: dict[str, Any], user: str) -> Response:
        order_id = str(body.get("order_id"))
        try:
            self.book_cancel(order_id)
        except SimRefusal as refusal:
            if refusal.why == "unknown":
                return _refused("order_not_found", order_id)
            return _refused("order_not_open", STATUSES[self.book.orders[order_id].status])
        return _ok(order_id=order_id, request_time=_now().strftime(_CLOCK))

    def order_book(self, body: dict[str, Any], user: str) -> Response:
        return self._book("orders", [self._order_row(o) for o in list(self.book.orders.values())])

    def order(self, body: dict[str, Any], user: str) -> Response:
        """One order: the bare row, no envelope (the SDK mock ``order.json``), its entry
        time as ``HH:MM:SS dd-mm-yyyy``; with the book's ``trigger_price``, ``remarks`` and
        ``message`` (⚠ unverified here)."""
        order = self.book.orders.get(str(body.get("order_id")))
        if order is None:
            return _refused("order_not_found", str(body.get("order_id")))
        row = self._order_row(order)
        fields = ("order_id", "tradingsymbol", "token", "quantity", "price_type",
                  "product_type", "order_status", "order_type", "exchange_orderid",
                  "pending_qty", "price", "exchange_time", "exchange", "disclosed_quantity",
                  "validity", "trigger_price", "remarks", "message")
        one = {name: row[name] for name in fields}
        one["order_entry_time"] = _ist(order.created_at).strftime(_CLOCK)
        return JSONResponse(one)

    # -- books -----------------------------------------------------------------------------
    def trade_book(self, body: dict[str, Any], user: str) -> Response:
        return self._book("trades", [self._trade_row(t) for t in list(self.book.trades)])

    def positions(self, body: dict[str, Any], user: str) -> Response:
        rows = [self._position_row(row) for row in self.book.positions(self.marks())]
        return self._book("positions", rows)

    def holdings_reply(self, body: dict[str, Any], user: str) -> Response:
        """``data``: one row per holding, its per-exchange legs in ``tradingsymbol``, the
        quantity settled in ``dp_qty`` (⚠), no last price (as the SDK mock)."""
        return self._book("data", [self._holding_row(h) for h in self.holdings()])

    def quotes_reply(self, body: dict[str, Any], user: str) -> Response:
        """The SDK mock ``quotes.json``: ``ltp`` is :meth:`mark`, the rest derived from
        it and the listing's reference price (deterministic)."""
        scrip = self.by_segment_token.get((str(body.get("exchange")), str(body.get("token"))))
        if scrip is None:
            return _refused("invalid_token")
        money, tick = scrip.money, scrip.tick
        ltp, opened = self.mark(scrip.listing.token), scrip.listing.price
        book: dict[str, str] = {}
        for level in range(1, 6):
            book[f"best_bid_price{level}"] = money(max(ltp - tick * (level - 1), tick))
            book[f"best_ask_price{level}"] = money(ltp + tick * level)
            book[f"best_bid_qty{level}"] = str(scrip.lot_size * level * 10)
            book[f"best_ask_qty{level}"] = str(scrip.lot_size * level * 12)
            book[f"best_bid_orders{level}"] = str(level)
            book[f"best_ask_orders{level}"] = str(level + 1)
        return _ok(
            lotsize=str(scrip.lot_size), exchange=scrip.segment,
            tradingsymbol=scrip.tradingsymbol, company_name=scrip.company,
            symbol_name=scrip.name, segment="EQT" if scrip.segment in _CASH else "DER",  # ⚠
            instrument_name=scrip.itype, isin=scrip.isin, ticksize=money(tick),
            price_precision=str(scrip.precision), multiplier=scrip.multiplier,
            upper_circuit=money(_on_tick(opened * Decimal("1.2"), tick)),
            lower_circuit=money(_on_tick(opened * Decimal("0.8"), tick)),
            price_factor="(1 / 1 ) * (1 / 1)", ltp=money(ltp), day_high=money(max(ltp, opened)),
            day_low=money(min(ltp, opened)), volume=str(zlib.crc32(scrip.token.encode()) % 10**7),
            last_traded_qty=str(scrip.lot_size), last_trade_time=_now().strftime("%H:%M:%S"),
            **book, day_open=money(opened),
            average_traded_price=money(_on_tick((ltp + opened) / 2, tick)))

    def limits(self, body: dict[str, Any], user: str) -> Response:
        """The SDK mock ``limits.json`` with what live replies add and OpenAlgo reads:
        ``cash`` is the cash balance (⚠ the docs say "available cash"; a client takes off
        ``marginUsed`` and adds the realised P&L), ``brokerCollateralAmount`` the
        collateral, ``currentRealizedPNL`` and ``currentUnrealizedMtom`` the day's P&L."""
        funds = self.funds()
        return _ok(cash=f"{funds.cash:.2f}", payin="0.00", payout="0.0",
                   brokerCollateralAmount=f"{funds.collateral:.2f}", unClearedCash="0.00",
                   dayCash="0.00", turnOverLimit="750000000.00", pendordvallmt="450000000.00",
                   marginUsed=f"{funds.used:.2f}", currentRealizedPNL=f"{funds.realised:.2f}",
                   currentUnrealizedMtom=f"{funds.unrealised:.2f}")

    # -- rendering -------------------------------------------------------------------------
    def _order_row(self, order: SimOrder) -> dict[str, str]:
        """An order-book row: the SDK mock's fields, every value a string, plus
        ``trigger_price``, ``remarks`` (echoed) and the rejection reason in ``message``
        (⚠ the field name is unverified)."""
        scrip, meta = self.scrip_of[order.token], self._meta[order.order_id]
        money = scrip.money
        rejected = order.status == "rejected"
        when = _ist(order.updated_at or order.created_at)
        done = order.average_price if order.filled else order.price
        return {
            "order_id": order.order_id, "tradingsymbol": order.symbol, "token": order.token,
            "quantity": str(order.quantity), "price_type": meta["price_type"],
            "product_type": order.product,
            "order_entry_time": str(int(order.created_at.timestamp())),
            "order_status": STATUSES[order.status], "order_type": order.side,
            "variety": "REGULAR", "lotsize": str(scrip.lot_size),
            "exchange_orderid": "" if rejected else f"1{int(order.order_id):015d}",
            "pending_qty": str(0 if order.status in ("complete", "cancelled", "rejected")
                               else order.quantity - order.filled),
            "price": money(order.price),
            "exchange_time": "" if rejected else when.strftime(_STAMP),
            "average_traded_price": money(order.average_price), "exchange": order.exchange,
            "filled_qty": str(order.filled), "disclosed_quantity": str(order.disclosed_quantity),
            "validity": meta["validity"], "price_precision": str(scrip.precision),
            "ticksize": money(scrip.tick), "price_factor": scrip.price_factor,
            "multiplier": scrip.multiplier, "rqty": str(order.quantity),
            "required_price": money(done), "trigger_price": money(order.trigger_price),
            "remarks": order.tag, "message": order.reason,
        }

    def _trade_row(self, trade: SimTrade) -> dict[str, str]:
        """A fill: the SDK mock ``trades.json`` fields, plus the order's ``remarks``."""
        scrip, order = self.scrip_of[trade.token], self.book.orders[trade.order_id]
        meta = self._meta[trade.order_id]
        stamp = _ist(trade.time).strftime(_STAMP)
        return {
            "order_id": trade.order_id, "exchange": trade.exchange,
            "price_type": meta["price_type"], "validity": meta["validity"],
            "product_type": trade.product, "fill_id": str(int(trade.trade_id)),
            "fill_time": stamp, "order_type": trade.side, "tradingsymbol": trade.symbol,
            "quantity": str(order.quantity), "token": trade.token,
            "filled_qty": str(order.filled), "last_fill_qty": str(trade.quantity),
            "price_precision": str(scrip.precision), "lotsize": str(scrip.lot_size),
            "ticksize": scrip.money(scrip.tick), "price": scrip.money(order.price),
            "fill_price": scrip.money(trade.price), "exchange_time": stamp,
            "exchange_orderid": f"1{int(trade.order_id):015d}", "remarks": order.tag,
        }

    def _position_row(self, row: PositionRow) -> dict[str, str]:
        """A position: the SDK mock ``positions.json`` fields, every number a string,
        ``lastPrice`` in camel case; all of the day's (no carried positions)."""
        scrip = self.scrip_of[row.token]
        money = scrip.money
        average = money(row.average_price)
        return {
            "exchange": row.exchange, "tradingsymbol": row.symbol, "product_type": row.product,
            "token": row.token, "price_precision": str(scrip.precision),
            "lotsize": str(scrip.lot_size), "ticksize": money(scrip.tick),
            "multiplier": scrip.multiplier, "price_factor": scrip.price_factor,
            "day_buy_qty": str(row.buy_qty), "day_sell_qty": str(row.sell_qty),
            "day_buy_amt": f"{row.buy_value:.2f}", "day_buy_avg": money(row.buy_avg),
            "day_sell_amt": f"{row.sell_value:.2f}", "day_sell_avg": money(row.sell_avg),
            "carry_buy_qty": "0", "carry_sell_qty": "0", "open_buy_quantity": "0",
            "open_sell_quantity": "0", "open_buy_amount": "0.00",
            "open_buy_averageprice": "0.00", "open_sell_amount": "0.00",
            "open_sell_averageprice": "0.00", "day_averageprice": average,
            "net_quantity": str(row.net), "net_averageprice": average, "upload_price": "0.00",
            "net_uploadprice": average, "lastPrice": money(row.ltp),
            "unrealized_pnl": f"{row.unrealised:.2f}", "break_even_point": average,
            "realized_pnl": f"{row.realised:.2f}", "total_buy_amt": f"{row.buy_value:.2f}",
            "total_sell_amt": f"{row.sell_value:.2f}", "total_buy_avg": money(row.buy_avg),
        }

    def _holding_row(self, held: SimHolding) -> dict[str, Any]:
        legs = [scrip for exchange in ("NSE", "BSE")
                for scrip in self.scrips.values()
                if scrip.segment == exchange and scrip.listing.kind == "EQ"
                and scrip.listing.symbol == held.symbol]
        return {
            "dp_qty": str(held.quantity), "t1_qty": "0", "holding_used": "0",
            "avg_buy_price": f"{held.average_price:.2f}", "sell_amt": "0.000000",
            "trade_qty": "0",
            "tradingsymbol": [
                {"exchange": leg.segment, "tradingsymbol": leg.tradingsymbol,
                 "token": leg.token, "price_precision": str(leg.precision),
                 "ticksize": leg.money(leg.tick), "lotsize": str(leg.lot_size),
                 "isin": leg.isin} for leg in legs],
        }


def _on_tick(value: Decimal, tick: Decimal) -> Decimal:
    return (value / tick).to_integral_value() * tick


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of two texts (any characters)."""
    return secrets.compare_digest(given.encode("utf-8", "surrogatepass"),
                                  expected.encode("utf-8", "surrogatepass"))
