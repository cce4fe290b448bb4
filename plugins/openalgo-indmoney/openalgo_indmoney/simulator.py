"""A local INDstocks API: real paths, headers, envelopes, error types and quirks.

Serve ``IndMoneySimulator(environ=...).app`` and point the plugin at it with
``OPENALGO_INDMONEY_BASE_URL``. What it does, after brokers/indmoney 3 (the INDstocks API
docs) — there is no official SDK, so every request and reply example of the docs is
replayed against it in the tests:

- ``Authorization: <token>``, raw, on every call but token generation. The dashboard
  token the user pastes is ``OPENALGO_INDMONEY_API_SECRET`` (live for ``session_hours``;
  ``POST /_sim/dashboard-token`` generates another); a bad, expired or revoked token is a
  403 ``TokenException`` (401 when the header is missing); on the quotes and instruments
  endpoints the ``{"message", "success": false}`` shape instead.
- ``POST /generate/token``: ``x-api-key`` (the Client ID), ``mpin`` and ``totp`` (checked
  with pyotp); one generation a minute (``token_interval``), 5 wrong codes in 15 minutes
  lock generation out for 15 minutes (3 lockouts in an hour: an hour); each new token
  revokes the previous generated one; the reply ``{"status": "success", "data": {"token"}}``
  (``token_shape = "token"``: a bare ``{"token"}``, ⚠ the docs leave it open).
- Orders: ``/order`` (MARKET is converted to a LIMIT at the live price; ``EQ-``/``DRV-``
  ids; ``remarks`` echoed, cut at 100 characters, ``TV-TERMINAL`` refused) and
  ``/smart/order`` (NSE only; ``TRIGGER`` orders wait as ``GTT_LIMIT`` rows with their
  prices in ``tgt_*``, status ``SL-PENDING``, until the market reaches the trigger; BUY
  triggers above the market, SELL below; stop-loss and target legs make a ``GTT-`` child
  row that stays inactive, ⚠ it never triggers here); RMS refusals (margin, lot size,
  tick size) are HTTP 400 ``OrderException`` at placement; ``reject_at_exchange`` makes
  the next accepted orders ``FAILED`` in the book with the exchange's reason in
  ``extra_info``. Modify (``MODIFIED`` while live, at most 25) and cancel, regular and
  smart; ``whitelisted = False``: order calls are refused 403 ``UserException`` (⚠ the
  static-IP refusal's text is invented).
- Books: ``/order-book`` (prices as strings, ``""`` when inapplicable), ``GET /order`` and
  ``GET /order/trades`` with JSON bodies, ``/trade-book?segment=`` (no side, product or
  symbol: fills name their exchange order id), ``/portfolio/positions`` per lower-case
  (segment, product) with no last price (⚠ ``exchange`` empty on index derivatives),
  ``/portfolio/holdings`` (no last price either), ``/funds``, ``/margin``,
  ``/market/quotes/ltp|full`` by scrip code (``NSE_3045``), ``/market/instruments`` CSVs
  at full size (:mod:`.sim_master`, with their ``NaN`` rows).

It imports nothing of the plugin's tables on purpose: it states INDstocks' behaviour on
its own, so a wrong mapping in the plugin cannot be mirrored here. ⚠ marks a guess.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from openalgo_core.models import IST
from openalgo_core.testing import (
    Listing,
    PositionRow,
    SimOrder,
    SimRefusal,
    SimTrade,
    SimulatorBase,
)
from openalgo_core.testing.parsing import decimal_value, json_object, request_token

from .sim_master import EXCHANGES, FULL_MASTER_ROWS, cached_files, render_files

__all__ = ["DOCS_LISTINGS", "IndMoneySimulator", "display_name"]

TOKEN_PATH: Final = "/generate/token"  # noqa: S105 (a path)
PROFILE_PATH: Final = "/user/profile"
FUNDS_PATH: Final = "/funds"
MARGIN_PATH: Final = "/margin"
ORDER_PATH: Final = "/order"
MODIFY_PATH: Final = "/order/modify"
CANCEL_PATH: Final = "/order/cancel"
ORDER_TRADES_PATH: Final = "/order/trades"
SMART_ORDER_PATH: Final = "/smart/order"
SMART_MODIFY_PATH: Final = "/smart/order/modify"
SMART_CANCEL_PATH: Final = "/smart/order/cancel"
ORDER_BOOK_PATH: Final = "/order-book"
TRADE_BOOK_PATH: Final = "/trade-book"
POSITIONS_PATH: Final = "/portfolio/positions"
HOLDINGS_PATH: Final = "/portfolio/holdings"
LTP_PATH: Final = "/market/quotes/ltp"
FULL_QUOTE_PATH: Final = "/market/quotes/full"
INSTRUMENTS_PATH: Final = "/market/instruments"
DASHBOARD_PATH: Final = "/_sim/dashboard-token"

#: The algo ids INDstocks takes (⚠ the docs' own BSE example sends the NSE one).
ALGO_IDS: Final = frozenset({"99999", "9999999999999999"})
RESERVED_REMARKS: Final = frozenset({"TV-TERMINAL"})
MAX_MODIFICATIONS: Final = 25
#: (exchange, segment) of an order -> the OpenAlgo exchange of its listing.
_LISTED: Final = {("NSE", "EQUITY"): "NSE", ("BSE", "EQUITY"): "BSE",
                  ("NSE", "DERIVATIVE"): "NFO", ("BSE", "DERIVATIVE"): "BFO"}
_PARENT: Final = {"NSE": ("NSE", "EQUITY"), "BSE": ("BSE", "EQUITY"),
                  "NFO": ("NSE", "DERIVATIVE"), "BFO": ("BSE", "DERIVATIVE")}
_PRODUCTS: Final = {"EQUITY": frozenset({"CNC", "INTRADAY"}),
                    "DERIVATIVE": frozenset({"MARGIN", "INTRADAY"})}
#: scrip-code prefixes of the quotes endpoints -> OpenAlgo exchange (⚠ NIDX/BIDX)
_SCRIP: Final = {"NSE": "NSE", "BSE": "BSE", "NFO": "NFO", "BFO": "BFO",
                 "NIDX": "NSE_INDEX", "BIDX": "BSE_INDEX"}
_STATUSES: Final = {"open": "PENDING", "trigger pending": "SL-PENDING",
                    "complete": "SUCCESS", "cancelled": "CANCELLED", "rejected": "FAILED"}
#: Token generation: wrong codes before a lockout, the window they count in, the lockout,
#: lockouts before the long one, its window and length (brokers/indmoney 3.2).
TOTP_FAILURES: Final = 5
TOTP_WINDOW: Final = 15 * 60.0
LOCKOUT: Final = 15 * 60.0
LOCKOUTS: Final = 3
LONG_LOCKOUT: Final = 60 * 60.0
_MONTHS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                  "NOV", "DEC")

#: The instruments the docs' examples name, beside the universe (``docs_listings=True``):
#: BSE 500112 (a limit buy), NFO 51011, 46997 and 40131 (smart orders, margin).
DOCS_LISTINGS: Final = (
    Listing("SBIN", "BSE", "SBIN", "EQ", "500112", 1, Decimal("0.05"), Decimal("812.30")),
    Listing("NIFTY28AUG2624500CE", "NFO", "NIFTY", "CE", "51011", 75, Decimal("0.05"),
            Decimal("36.40"), "IDX", expiry=dt.date(2026, 8, 28), strike=Decimal(24500)),
    Listing("NIFTY28AUG2625000CE", "NFO", "NIFTY", "CE", "46997", 65, Decimal("0.05"),
            Decimal("316.90"), "IDX", expiry=dt.date(2026, 8, 28), strike=Decimal(25000)),
    Listing("NIFTY28AUG2625500CE", "NFO", "NIFTY", "CE", "40131", 75, Decimal("0.05"),
            Decimal("10.00"), "IDX", expiry=dt.date(2026, 8, 28), strike=Decimal(25500)),
)

Handler = Callable[[dict[str, Any], Request, str], Response]


def _error(message: str, error_type: str, status_code: int = 400) -> JSONResponse:
    """The standard error envelope."""
    return JSONResponse({"status": "error", "message": message, "error_type": error_type},
                        status_code=status_code)


def _plain_error(message: str, status_code: int) -> JSONResponse:
    """The instruments and quotes error shape (no status, no error type)."""
    return JSONResponse({"message": message, "success": False}, status_code=status_code)


def _ok(data: Any) -> JSONResponse:
    return JSONResponse({"status": "success", "data": data})


def _text(value: Decimal) -> str:
    """A price as the order book writes it: ``"43.55"``, ``"32.1"``, ``"2450"``."""
    return format(value.normalize(), "f") if value else "0"


def _num(value: Decimal) -> float | int:
    """A JSON number, 2 decimals (positions, funds, quotes)."""
    rounded = round(value, 2)
    return int(rounded) if rounded == rounded.to_integral_value() else float(rounded)


def display_name(listing: Listing) -> str:
    """An order-book ``name``: the company for cash, ``NIFTY 27 AUG 24450 CE`` for F&O."""
    if listing.expiry is None:
        return listing.name
    month = _MONTHS[listing.expiry.month - 1]
    tail = "FUT" if listing.kind == "FUT" else \
        f"{format((listing.strike or Decimal(0)).normalize(), 'f')} {listing.kind}"
    return f"{listing.name} {listing.expiry.day} {month} {tail}"


class IndMoneySimulator(SimulatorBase):
    """INDstocks on an ASGI app. The base's arguments (``margin_limit``, the account's
    cash, is 5 crore by default: INDstocks refuses a margin shortfall when the order is
    placed, and a day of tests buys several NIFTY future lots at their full value; also
    from ``OPENALGO_INDMONEY_SIM_MARGIN_LIMIT``, ``none`` for no margin check), and
    ``token_interval`` (seconds between token generations; ⚠ 60, also from
    ``OPENALGO_INDMONEY_SIM_TOKEN_INTERVAL``), ``docs_listings`` (add
    :data:`DOCS_LISTINGS`, for replaying the docs' examples)."""

    broker = "indmoney"
    credential_fields = ("API_SECRET", "API_KEY", "PIN", "TOTP_SECRET")
    order_paths = frozenset({ORDER_PATH, SMART_ORDER_PATH})
    exchanges = EXCHANGES
    master_size = FULL_MASTER_ROWS
    user_id = "7103540"

    def __init__(self, *, environ: Mapping[str, str] | None = None, seed: int = 7,
                 margin_limit: Decimal | None = Decimal(50_000_000),
                 session_hours: float = 24.0, master_size: int | None = None,
                 token_interval: float | None = None, docs_listings: bool = False) -> None:
        env = environ if environ is not None else os.environ
        limit = (env.get("OPENALGO_INDMONEY_SIM_MARGIN_LIMIT") or "").strip().lower()
        if limit:  # the simulator's process, started by `openalgo sim indmoney`
            margin_limit = None if limit == "none" else Decimal(limit)
        super().__init__(environ=environ, seed=seed, margin_limit=margin_limit,
                         session_hours=session_hours, master_size=master_size)
        if docs_listings:
            self.listings = [*self.listings, *DOCS_LISTINGS]
            self.by_token.update((row.token, row) for row in DOCS_LISTINGS)
        if token_interval is None:
            token_interval = float(env.get("OPENALGO_INDMONEY_SIM_TOKEN_INTERVAL") or 60.0)
        #: seconds between two token generations (INDstocks: 60)
        self.token_interval = token_interval
        #: ``"data.token"`` (the default) or ``"token"``: where the generated token is
        self.token_shape = "data.token"  # noqa: S105 (a reply shape)
        #: False: order calls from this "IP" are refused (the static-IP rule)
        self.whitelisted = True
        #: the next N accepted orders fail at the exchange (``FAILED``, ``extra_info``)
        self.reject_at_exchange = 0
        self._state = threading.Lock()
        self._generated: str | None = None
        self._last_generation = float("-inf")
        self._wrong_codes: deque[float] = deque()
        self._lockouts: deque[float] = deque()
        self._locked_until = 0.0
        #: order id -> what INDstocks adds to an order (segment, row order type, ...)
        self._meta: dict[str, dict[str, Any]] = {}
        #: smart-order children (stop-loss/target legs): rendered, never matched
        self._children: dict[str, dict[str, Any]] = {}
        self._serial = 0
        self.scrip: dict[tuple[str, str], Listing] = {}
        self._index_listings()
        self.issue_token(self.user_id, token=self.credentials["API_SECRET"])

    def _index_listings(self) -> None:
        """The listings by (OpenAlgo exchange, security id): ids repeat across segments."""
        self.scrip = {(row.exchange, row.token): row for row in self.listings}

    # -- SimulatorBase ---------------------------------------------------------------------
    def routes(self) -> list[BaseRoute]:
        endpoint = self._endpoint
        return [
            Route(TOKEN_PATH, endpoint(self.generate_token, auth=False), methods=["POST"]),
            Route(PROFILE_PATH, endpoint(self.profile), methods=["GET"]),
            Route(FUNDS_PATH, endpoint(self.funds_reply), methods=["GET"]),
            Route(MARGIN_PATH, endpoint(self.margin), methods=["GET"]),
            Route(ORDER_PATH, self._order_route(), methods=["GET", "POST"]),
            Route(MODIFY_PATH, endpoint(self.modify_order, order=True), methods=["POST"]),
            Route(CANCEL_PATH, endpoint(self.cancel_order, order=True), methods=["POST"]),
            Route(ORDER_TRADES_PATH, endpoint(self.order_trades), methods=["GET"]),
            Route(SMART_ORDER_PATH, endpoint(self.place_smart, order=True), methods=["POST"]),
            Route(SMART_MODIFY_PATH, endpoint(self.modify_smart, order=True), methods=["POST"]),
            Route(SMART_CANCEL_PATH, endpoint(self.cancel_smart, order=True), methods=["POST"]),
            Route(ORDER_BOOK_PATH, endpoint(self.order_book), methods=["GET"]),
            Route(TRADE_BOOK_PATH, endpoint(self.trade_book), methods=["GET"]),
            Route(POSITIONS_PATH, endpoint(self.positions), methods=["GET"]),
            Route(HOLDINGS_PATH, endpoint(self.holdings_reply), methods=["GET"]),
            Route(LTP_PATH, endpoint(self.ltp, plain=True), methods=["GET"]),
            Route(FULL_QUOTE_PATH, endpoint(self.full_quote, plain=True), methods=["GET"]),
            Route(INSTRUMENTS_PATH, endpoint(self.instruments, plain=True), methods=["GET"]),
            Route(DASHBOARD_PATH, self._dashboard, methods=["POST"]),
        ]

    def render_master(self, listings: Iterable[Listing]) -> bytes:
        """The three files in one (the base's contract); the endpoint serves each."""
        files = render_files(listings)
        return b"".join(files[source] for source in ("equity", "fno", "index"))

    def files(self) -> dict[str, bytes]:
        """The instrument files by ``source``: full size (rendered once per process) unless
        ``master_size`` is 0 (the simulator's own listings)."""
        if self.master_size:
            return cached_files(self.master_size)
        return render_files(self.listings)

    def lot_size_reason(self, order: SimOrder, lot_size: int) -> str:
        return "The quantity is not a multiple of the lot size."

    def margin_reason(self, order: SimOrder, required: Decimal, available: Decimal,
                      user: str) -> str:
        return f"RMS: Margin exceeds available balance by {required - available:.2f}"

    def rate_limited_response(self) -> Response:
        return _error("Too many requests: rate limit exceeded", "RateLimitException", 429)

    def order_rejected_response(self) -> Response:
        return _error("RMS: Blocked for trading in this segment", "OrderException")

    def server_error_response(self) -> Response:
        return _error("Something went wrong", "GeneralException", 500)

    def reset(self) -> None:
        """Also forget orders' INDstocks parts, children, lockouts and the throttle."""
        super().reset()
        with self._state:
            self._meta.clear()
            self._children.clear()
            self._wrong_codes.clear()
            self._lockouts.clear()
            self._locked_until = 0.0
            self._last_generation = float("-inf")
        self.reject_at_exchange = 0

    # -- plumbing ----------------------------------------------------------------------------
    def _endpoint(self, handler: Handler, *, auth: bool = True, order: bool = False,
                  plain: bool = False) -> Callable[[Request], Any]:
        """``handler(body, request, user)`` behind the token check (``plain``: the quotes and
        instruments error shape) and, for ``order`` calls, the static-IP rule. A POST's
        body, and a GET's when it has one (``GET /order``), must be a JSON object."""
        async def endpoint(request: Request) -> Response:
            user = ""
            if auth:
                token = request_token(request, scheme=None)
                user = self.user_for(token) or ""
                if not user:
                    return self._token_refusal(bool(token), plain)
            if order and not self.whitelisted:
                return _error("Order placement is allowed only from a whitelisted static IP",
                              "UserException", 403)
            raw = await request.body()
            body: dict[str, Any] | None = {}
            if raw.strip():
                body = await json_object(request)
            if body is None:
                return _error("The request body is not a JSON object", "InputException")
            return handler(body, request, user)
        return endpoint

    def _order_route(self) -> Callable[[Request], Any]:
        """``/order``: POST places, GET (with a JSON body) reads one order."""
        place = self._endpoint(self.place_order, order=True)
        read = self._endpoint(self.order_details)

        async def endpoint(request: Request) -> Response:
            response: Response = await (place(request) if request.method == "POST"
                                        else read(request))
            return response
        return endpoint

    def _token_refusal(self, given: bool, plain: bool) -> Response:
        status = 403 if given else 401
        message = "Invalid or expired access token" if given else \
            "Authorization header with an access token is required"
        return _plain_error(message, status) if plain else _error(message, "TokenException",
                                                                   status)

    async def _dashboard(self, request: Request) -> Response:
        """A token "generated on the dashboard" (the user pastes it as BROKER_API_SECRET)."""
        return JSONResponse({"token": self.issue_token(self.user_id)})

    # -- login -------------------------------------------------------------------------------
    def generate_token(self, body: dict[str, Any], request: Request,
                       user: str) -> Response:
        """``POST /generate/token`` with the lockout and throttle rules (⚠ the docs leave the
        statuses and error types unconfirmed: wrong credentials 401, throttled or locked
        out 429)."""
        api_key = request.headers.get("x-api-key", "")
        now = time.monotonic()
        with self._state:
            if now < self._locked_until:
                return _error("Token generation is locked after repeated wrong TOTP codes;"
                              " try again later", "TokenException", 429)
            mpin, totp = body.get("mpin"), body.get("totp")
            if not isinstance(mpin, str) or not isinstance(totp, str):
                return _error("mpin and totp are required (strings)", "InputException")
            if not secrets.compare_digest(api_key.encode(), self.credentials["API_KEY"].encode()):
                return _error("Invalid Client ID", "TokenException", 401)
            if not secrets.compare_digest(mpin.encode(), self.credentials["PIN"].encode()):
                return _error("Invalid MPIN", "TokenException", 401)
            if not self.verify_totp(totp):
                self._wrong_code(now)
                return _error("Invalid TOTP", "TokenException", 401)
            if now - self._last_generation < self.token_interval:
                return _error("Token generation is limited to one every 60 seconds; reuse"
                              " the token you hold", "TokenException", 429)
            self._last_generation = now
            if self._generated is not None:
                self.revoke_token(self._generated)  # one generated token is live
            self._generated = token = self.issue_token(self.user_id)
        if self.token_shape == "token":  # noqa: S105 (a reply shape)
            return JSONResponse({"token": token})
        return _ok({"token": token})

    def _wrong_code(self, now: float) -> None:
        codes = self._wrong_codes
        codes.append(now)
        while codes and codes[0] <= now - TOTP_WINDOW:
            codes.popleft()
        if len(codes) < TOTP_FAILURES:
            return
        codes.clear()
        self._lockouts.append(now)
        while self._lockouts and self._lockouts[0] <= now - LONG_LOCKOUT:
            self._lockouts.popleft()
        self._locked_until = now + (LONG_LOCKOUT if len(self._lockouts) >= LOCKOUTS
                                    else LOCKOUT)

    def profile(self, body: dict[str, Any], request: Request, user: str) -> Response:
        return _ok({"user_id": user, "email": "trader@example.com", "first_name": "Simulated",
                    "last_name": "Trader", "demat_id": "", "is_nse_onboarded": True,
                    "is_bse_onboarded": True, "is_nse_fno_onboarded": True,
                    "is_bse_fno_onboarded": True, "ucc": "1ABCDE2N7X",
                    "is_ddpi_active": True})

    # -- orders --------------------------------------------------------------------------------
    def place_order(self, body: dict[str, Any], request: Request, user: str) -> Response:
        """``POST /order``: validated as INDstocks does; RMS refusals answer HTTP 400."""
        checked = self._common(body, smart=False)
        if isinstance(checked, Response):
            return checked
        listing, side, exchange, segment, product, quantity, remarks = checked
        order_type = body.get("order_type")
        if order_type not in ("LIMIT", "MARKET"):
            return _error("order_type must be LIMIT or MARKET", "InputException")
        if body.get("validity") not in ("DAY", "IOC"):
            return _error("DayValidityAllowed: validity must be DAY or IOC", "InputException")
        amo = body.get("is_amo", False)
        if not isinstance(amo, bool):
            return _error("is_amo must be a boolean", "InputException")
        market = self.price(listing.token)
        if order_type == "LIMIT":
            price = self._price(body.get("limit_price"), listing, "LimitPriceMustBeAboveZero")
            if isinstance(price, Response):
                return price
        else:
            price = market  # MARKET becomes a LIMIT at the live price
        order = SimOrder(
            order_id=self._order_id(segment), exchange=listing.exchange, symbol=listing.symbol,
            token=listing.token, side=side, quantity=quantity, pricetype=order_type,
            product=product, price=price, trigger_price=Decimal(0), tag=remarks, raw=body)
        meta = {"segment": segment, "exchange": exchange, "order_type": order_type,
                "validity": body["validity"], "smart": False, "amo": amo, "modified": 0}
        refusal = self._book(order, meta, user)
        if refusal is not None:
            return refusal
        return _ok({"order_id": order.order_id,
                    "order_status": "O-PENDING" if amo else "INITIATED"})

    def place_smart(self, body: dict[str, Any], request: Request, user: str) -> Response:
        """``POST /smart/order``: a LIMIT, MARKET or TRIGGER parent (NSE only), with optional
        stop-loss and target legs making an inactive ``GTT-`` child."""
        checked = self._common(body, smart=True)
        if isinstance(checked, Response):
            return checked
        listing, side, exchange, segment, product, quantity, remarks = checked
        order_type = body.get("order_type")
        if order_type not in ("LIMIT", "MARKET", "TRIGGER"):
            return _error("order_type must be LIMIT, MARKET or TRIGGER", "InputException")
        if body.get("validity") != "DAY":
            return _error("DayValidityAllowed: smart orders are DAY orders", "InputException")
        market = self.price(listing.token)
        trigger = Decimal(0)
        if order_type == "TRIGGER":
            found = self._trigger(body, listing, side, market)
            if isinstance(found, Response):
                return found
            trigger, price = found
            entry, pricetype = price, "SL"
        elif order_type == "LIMIT":
            limit = self._price(body.get("limit_price"), listing, "LimitPriceMustBeAboveZero")
            if isinstance(limit, Response):
                return limit
            price = entry = limit
            pricetype = "LIMIT"
        else:
            price = entry = market
            pricetype = "MARKET"
        legs = self._legs(body, side, entry, listing)
        if isinstance(legs, Response):
            return legs
        order = SimOrder(
            order_id=self._order_id(segment), exchange=listing.exchange, symbol=listing.symbol,
            token=listing.token, side=side, quantity=quantity, pricetype=pricetype,
            product=product, price=price, trigger_price=trigger, tag=remarks, raw=body)
        meta = {"segment": segment, "exchange": exchange, "smart": True, "modified": 0,
                "order_type": "GTT_LIMIT" if order_type == "TRIGGER" else order_type,
                "validity": "" if order_type == "TRIGGER" else "DAY", "amo": False}
        refusal = self._book(order, meta, user)
        if refusal is not None:
            return refusal
        placed: dict[str, Any] = {"order_id": order.order_id, "order_status": "CREATED"}
        if legs:
            child = self._child(order, meta, legs, remarks)
            placed["child_order_details"] = {"order_id": child, "order_status": "CREATED"}
        return _ok({"order_data": [placed]})

    def _common(self, body: dict[str, Any], *, smart: bool
                ) -> Response | tuple[Listing, str, str, str, str, int, str]:
        """What ``/order`` and ``/smart/order`` check alike; the listing and the order's
        side, exchange, segment, product, quantity and stored remark."""
        required = ("txn_type", "exchange", "segment", "product", "order_type", "validity",
                    "security_id", "qty", "algo_id")
        missing = [name for name in required if name not in body]
        if missing:
            return _error(f"{', '.join(missing)} required", "InputException")
        side, exchange, segment, product = (str(body.get(k)) for k in (
            "txn_type", "exchange", "segment", "product"))
        if side not in ("BUY", "SELL"):
            return _error("txn_type must be BUY or SELL", "InputException")
        if exchange not in (("NSE",) if smart else ("NSE", "BSE")):
            return _error("Smart orders are taken on NSE only" if smart else
                          "exchange must be NSE or BSE", "InputException")
        if segment not in _PRODUCTS:
            return _error("segment must be EQUITY or DERIVATIVE", "InputException")
        if product not in _PRODUCTS[segment]:
            return _error(f"product {product} is not allowed in the {segment} segment",
                          "InputException")
        if body.get("algo_id") not in ALGO_IDS:
            return _error("algo_id is not a registered algo id", "InputException")
        security_id = body.get("security_id")
        if not isinstance(security_id, str):
            return _error("security_id must be a string", "InputException")
        listing = self.scrip.get((_LISTED[(exchange, segment)], security_id))
        if listing is None:
            return _error("The instrument is not tradable.", "OrderException")
        quantity = self._quantity(body.get("qty"), listing)
        if isinstance(quantity, Response):
            return quantity
        remarks = body.get("remarks", "")
        if not isinstance(remarks, str):
            return _error("remarks must be a string", "InputException")
        remarks = remarks[:100]
        if remarks.strip().upper() in RESERVED_REMARKS:
            return _error(f"ReservedRemarks: remarks may not be one of"
                          f" {', '.join(sorted(RESERVED_REMARKS))}", "RequestValidationException")
        return listing, side, exchange, segment, product, quantity, remarks

    def _quantity(self, value: Any, listing: Listing) -> int | Response:
        """An order's ``qty``: a JSON integer above zero, in whole lots."""
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            return _error("QtyMustBeAboveZero: qty must be an integer above zero",
                          "InputException")
        if value % listing.lot_size:
            return _error("The quantity is not a multiple of the lot size.", "OrderException")
        return value

    def _price(self, value: Any, listing: Listing, rule: str) -> Decimal | Response:
        """A price a body gives: a positive JSON number on the listing's tick."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return _error(f"{rule}: the price must be a number above zero", "InputException")
        try:
            price = decimal_value(value)
        except ValueError:
            return _error(f"{rule}: the price must be a number above zero", "InputException")
        if price <= 0:
            return _error(f"{rule}: the price must be above zero", "InputException")
        if price % listing.tick_size:
            return _error("Order price must be a multiple of the tick size.", "OrderException")
        return price

    def _trigger(self, body: dict[str, Any], listing: Listing, side: str,
                 market: Decimal) -> Response | tuple[Decimal, Decimal]:
        """A TRIGGER order's trigger and limit (the limit defaults to the trigger)."""
        trigger = self._price(body.get("trigger_price"), listing, "TriggerPriceMustBeAboveZero")
        if isinstance(trigger, Response):
            return trigger
        if (side == "BUY" and not trigger > market) or (side == "SELL" and not trigger < market):
            where = "above" if side == "BUY" else "below"
            return _error(f"TriggerPriceVsCMP: the trigger must be {where} the current market"
                          f" price {market}", "InputException")
        if "trigger_limit_price" not in body:
            return trigger, trigger
        limit = self._price(body["trigger_limit_price"], listing, "TriggerLimitPriceTickSize")
        if isinstance(limit, Response):
            return limit
        return trigger, limit

    def _legs(self, body: dict[str, Any], side: str, entry: Decimal,
              listing: Listing) -> Response | dict[str, Decimal]:
        """Stop-loss and target legs: each trigger needs its limit, on the right side of the
        entry price (⚠ the docs' own example puts a BUY target's limit below its trigger,
        so that rule is not enforced)."""
        legs: dict[str, Decimal] = {}
        for leg in ("sl", "tgt"):
            trigger, limit = f"{leg}_trigger_price", f"{leg}_limit_price"
            if trigger not in body and limit not in body:
                continue
            if trigger not in body or limit not in body:
                return _error(f"{trigger} and {limit} go together", "InputException")
            for name in (trigger, limit):
                found = self._price(body[name], listing, name)
                if isinstance(found, Response):
                    return found
                legs[name] = found
            below = (leg == "sl") == (side == "BUY")
            if (below and not legs[trigger] < entry) or (not below and not legs[trigger] > entry):
                rule = "MaxSlTriggerPrice" if leg == "sl" else "MinTgtTriggerPrice"
                return _error(f"{rule}: the {leg} trigger is on the wrong side of the entry"
                              f" price {entry}", "InputException")
        return legs

    def _order_id(self, segment: str) -> str:
        with self._state:
            self._serial += 1
            serial = self._serial
        return f"{'EQ' if segment == 'EQUITY' else 'DRV'}-{93586000 + serial}"

    def _book(self, order: SimOrder, meta: dict[str, Any], user: str) -> Response | None:
        """Book an accepted order after the RMS margin check (a refusal: HTTP 400)."""
        with self._market:
            if self.margin_limit is not None:
                reference = order.price if order.pricetype != "MARKET" else \
                    self.price(order.token)
                required = self.book.required_margin(order, reference)
                funds = self.funds()
                available = funds.available + funds.collateral
                if required > available:
                    return _error(self.margin_reason(order, required, available, user),
                                  "OrderException")
            self._meta[order.order_id] = meta
            with self._state:
                rejected = self.reject_at_exchange > 0
                if rejected:
                    self.reject_at_exchange -= 1
            if rejected:
                self.book.reject(order, "16283: Order rejected by the exchange: price band")
            elif meta.get("amo"):
                order.status = "open"
                self.book.orders[order.order_id] = order  # waits for the next session
            else:
                self.book_order(order, user=user)
        return None

    def _child(self, parent: SimOrder, meta: dict[str, Any], legs: Mapping[str, Decimal],
               remarks: str) -> str:
        with self._state:
            self._serial += 1
            child = f"GTT-{2914000 + self._serial}"
        order_type = "OCO" if len(legs) == 4 else "GTT_LIMIT"
        self._children[child] = {"parent": parent.order_id, "segment": meta["segment"],
                                 "exchange": meta["exchange"], "order_type": order_type,
                                 "side": "SELL" if parent.side == "BUY" else "BUY",
                                 "legs": dict(legs), "status": "PENDING", "remarks": remarks,
                                 "created": dt.datetime.now(IST), "modified": 0}
        return child

    # -- modify and cancel ---------------------------------------------------------------------
    def _find(self, body: dict[str, Any], *, smart: bool) -> Response | tuple[str, str]:
        """The order a modify or cancel names (id and segment), of the right kind."""
        order_id, segment = body.get("order_id"), body.get("segment")
        if not isinstance(order_id, str) or not order_id:
            return _error("OrderIdMissing: order_id is missing or invalid", "InputException")
        if segment not in ("EQUITY", "DERIVATIVE"):
            return _error("segment must be EQUITY or DERIVATIVE", "InputException")
        meta = self._meta.get(order_id) or self._children.get(order_id)
        if meta is None or meta["segment"] != segment:
            return _error("Position could not be found.", "OrderException")
        if bool(meta.get("smart", True)) != smart:
            return _error("OrderCannotBeModified: use the "
                          f"{'/smart/order' if meta.get('smart', True) else '/order'} endpoints"
                          " for this order", "OrderException")
        return order_id, segment

    def modify_order(self, body: dict[str, Any], request: Request,
                     user: str) -> Response:
        """``POST /order/modify``: quantity and limit price, all four fields required."""
        found = self._find(body, smart=False)
        if isinstance(found, Response):
            return found
        order_id, _ = found
        if "qty" not in body or "limit_price" not in body:
            return _error("qty and limit_price are required", "InputException")
        order = self.book.orders[order_id]
        listing = self.by_token[order.token]
        quantity = self._quantity(body.get("qty"), listing)
        if isinstance(quantity, Response):
            return quantity
        price = self._price(body.get("limit_price"), listing, "LimitPriceMustBeAboveZero")
        if isinstance(price, Response):
            return price
        return self._modify(order_id, user, quantity=quantity, price=price,
                            pricetype="LIMIT")

    def modify_smart(self, body: dict[str, Any], request: Request,
                     user: str) -> Response:
        """``POST /smart/order/modify``: ``order_type`` must be the order's; a TRIGGER order's
        quantity, trigger and trigger limit; a child's legs."""
        found = self._find(body, smart=True)
        if isinstance(found, Response):
            return found
        order_id, _ = found
        if body.get("algo_id") not in ALGO_IDS:
            return _error("algo_id is required", "InputException")
        child = self._children.get(order_id)
        if child is not None:
            return self._modify_child(order_id, child, body)
        order, meta = self.book.orders[order_id], self._meta[order_id]
        placed_as = "TRIGGER" if meta["order_type"] == "GTT_LIMIT" else meta["order_type"]
        if body.get("order_type", placed_as) != placed_as:
            return _error("order_type must match the existing order's type", "InputException")
        listing = self.by_token[order.token]
        quantity = body.get("qty", order.quantity)
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0 \
                or quantity % listing.lot_size:
            return _error("QtyMultipleOfLotSize: qty must be a multiple of the lot size",
                          "InputException")
        if placed_as != "TRIGGER":
            price = self._price(body.get("limit_price", float(order.price)), listing,
                                "LimitPriceMustBeAboveZero")
            if isinstance(price, Response):
                return price
            return self._modify(order_id, user, quantity=quantity, price=price)
        if "trigger_price" not in body:
            return _error("trigger_price is required to modify a TRIGGER order",
                          "InputException")
        found_trigger = self._trigger(body, listing, order.side, self.price(order.token))
        if isinstance(found_trigger, Response):
            return found_trigger
        trigger, limit = found_trigger
        return self._modify(order_id, user, quantity=quantity, price=limit,
                            trigger_price=trigger, pricetype="SL")

    def _modify(self, order_id: str, user: str, **changes: Any) -> Response:
        meta = self._meta[order_id]
        if meta["modified"] >= MAX_MODIFICATIONS:
            return _error(f"OrderCannotBeModified: at most {MAX_MODIFICATIONS} modifications"
                          " per order", "OrderException")
        try:
            self.book_modify(order_id, user=user, **changes)
        except SimRefusal as refusal:
            if refusal.why == "margin":
                return _error(refusal.reason, "OrderException")
            return _error("OrderCannotBeModified: the order is not pending", "OrderException")
        meta["modified"] += 1
        if changes.get("pricetype") == "LIMIT":
            meta["order_type"] = "LIMIT"  # a converted MARKET order rests as a LIMIT
        return _ok({"order_id": order_id, "order_status": "MODIFIED"})

    def _modify_child(self, order_id: str, child: dict[str, Any],
                      body: dict[str, Any]) -> Response:
        if child["status"] != "PENDING":
            return _error("OrderCannotBeModified: the order is not pending", "OrderException")
        listing = self.by_token[self.book.orders[child["parent"]].token]
        for name in ("sl_trigger_price", "sl_limit_price", "tgt_trigger_price",
                     "tgt_limit_price"):
            if name in body:
                price = self._price(body[name], listing, name)
                if isinstance(price, Response):
                    return price
                child["legs"][name] = price
        child["modified"] += 1
        return _ok({"order_id": order_id, "order_status": "MODIFIED"})

    def cancel_order(self, body: dict[str, Any], request: Request,
                     user: str) -> Response:
        found = self._find(body, smart=False)
        if isinstance(found, Response):
            return found
        return self._cancel(found[0])

    def cancel_smart(self, body: dict[str, Any], request: Request,
                     user: str) -> Response:
        found = self._find(body, smart=True)
        if isinstance(found, Response):
            return found
        order_id = found[0]
        child = self._children.get(order_id)
        if child is None:
            return self._cancel(order_id)
        if child["status"] != "PENDING":
            return _error("OrderCannotBeCancelled: the order is not pending", "OrderException")
        child["status"] = "CANCELLED"
        return _ok({"order_id": order_id, "order_status": "CANCELLED"})

    def _cancel(self, order_id: str) -> Response:
        try:
            self.book_cancel(order_id)
        except SimRefusal:
            return _error("OrderCannotBeCancelled: the order is not pending", "OrderException")
        return _ok({"order_id": order_id, "order_status": "CANCELLED"})

    # -- books ---------------------------------------------------------------------------------
    def order_book(self, body: dict[str, Any], request: Request, user: str) -> Response:
        rows = [self._order_row(order) for order in list(self.book.orders.values())]
        rows += [self._child_row(order_id, child)
                 for order_id, child in list(self._children.items())]
        return _ok(rows)

    def order_details(self, body: dict[str, Any], request: Request,
                      user: str) -> Response:
        """``GET /order`` with ``{"order_id", "segment"}`` as its JSON body."""
        order_id, segment = body.get("order_id"), body.get("segment")
        if not isinstance(order_id, str) or segment not in ("EQUITY", "DERIVATIVE"):
            return _error("order_id and segment are required", "InputException")
        meta = self._meta.get(order_id) or self._children.get(order_id)
        if meta is None or meta["segment"] != segment:
            return _error("Order not found", "NotFoundException", 404)
        child = self._children.get(order_id)
        if child is not None:
            return _ok(self._child_row(order_id, child))
        return _ok(self._order_row(self.book.orders[order_id]))

    def order_trades(self, body: dict[str, Any], request: Request,
                     user: str) -> Response:
        """``GET /order/trades`` with ``{"order_id", "segment"}``: the order's fills."""
        order_id, segment = body.get("order_id"), body.get("segment")
        meta = self._meta.get(order_id) if isinstance(order_id, str) else None
        if meta is None or meta["segment"] != segment:
            return _error("Order not found", "NotFoundException", 404)
        return _ok([{"fill_id": self._fill_id(trade), "exch_order_id": self._exchange_id(
            trade.order_id), "quantity": trade.quantity, "price": _num(trade.price),
            "trade_date": _iso(trade.time)} for trade in list(self.book.trades)
            if trade.order_id == order_id])

    def trade_book(self, body: dict[str, Any], request: Request, user: str) -> Response:
        """``/trade-book?segment=EQUITY|DERIVATIVE`` (required)."""
        segment = request.query_params.get("segment")
        if segment not in ("EQUITY", "DERIVATIVE"):
            return _error("segment must be EQUITY or DERIVATIVE", "InputException")
        rows = [self._trade_row(trade) for trade in list(self.book.trades)
                if self._meta.get(trade.order_id, {}).get("segment") == segment]
        return _ok(rows)

    def positions(self, body: dict[str, Any], request: Request, user: str) -> Response:
        """One (segment, product) query, lower-case as INDstocks wants it; the rows carry
        no last price and no unrealised P&L."""
        segment, product = (request.query_params.get(k) for k in ("segment", "product"))
        products = {"equity": ("cnc", "intraday"), "derivative": ("margin", "intraday")}
        if segment not in products or product not in products[segment]:
            return _error("segment must be equity or derivative and product cnc, intraday"
                          " (equity) or margin, intraday (derivative), in lower case",
                          "InputException")
        rows = [self._position_row(row) for row in self.book.positions(self.marks())
                if _PARENT[row.exchange][1].lower() == segment and row.product.lower() == product]
        return _ok(rows)

    def holdings_reply(self, body: dict[str, Any], request: Request,
                       user: str) -> Response:
        """Demat holdings: no last price, no exchange (a security id)."""
        return _ok([{"security_id": held.token, "symbol": held.symbol,
                     "isin": _isin(held.symbol), "total_qty": held.quantity, "used_qty": 0,
                     "avg_price": _num(held.average_price), "t1_qty": 0, "t1_avg_price": 0,
                     "dp_qty": held.quantity, "dp_avg_price": _num(held.average_price)}
                    for held in self.holdings()])

    def funds_reply(self, body: dict[str, Any], request: Request,
                    user: str) -> Response:
        """``/funds``: ``sod_balance`` the cash, every ``detailed_avl_balance`` what is free
        (cash + realised - margin used; ⚠ how INDstocks splits these is not documented)."""
        funds = self.funds()
        free = _num(funds.available)
        return _ok({"sod_balance": _num(funds.cash), "pledge_received": _num(funds.collateral),
                    "pledge_remained": 0,
                    "detailed_avl_balance": dict.fromkeys(
                        ("option_sell", "future", "option_buy", "comm_option_buy", "eq_mis",
                         "eq_cnc", "eq_mtf"), free),
                    "withdrawal_balance": free, "funds_added": 0, "funds_withdrawn": 0,
                    "realized_pnl": _num(funds.realised),
                    "unrealized_pnl": _num(funds.unrealised), "brokerage": 0,
                    "eq_charges": 0, "fno_charges": 0})

    def margin(self, body: dict[str, Any], request: Request, user: str) -> Response:
        """``GET /margin`` with a JSON body (strings): the full value, no leverage."""
        exchange, segment = str(body.get("exchange")), str(body.get("segment"))
        listing = self.scrip.get((_LISTED.get((exchange, segment), ""),
                                  str(body.get("securityID"))))
        try:
            quantity = int(str(body.get("quantity")))
            price = decimal_value(str(body.get("price")))
        except ValueError:
            return _error("quantity and price must be numbers (as strings)", "InputException")
        if listing is None or body.get("txnType") not in ("BUY", "SELL"):
            return _error("securityID, exchange, segment and txnType are required",
                          "InputException")
        total = price * quantity
        funds = self.funds()
        short = max(total - funds.available, Decimal(0))
        return _ok({"total_margin": _num(total), "span_margin": 0, "hedge_benefit": 0,
                    "exposure_margin": 0, "available_balance": _num(funds.available),
                    "var_margin": 0, "insufficient_balance": _num(short),
                    "delivery_margin": 0, "brokerage": 0,
                    "charges": {"stt": 0, "exchange_charges": 0, "stamp_duty": 0,
                                "sebi_turn_over_charges": 0, "brokerage": 10, "gst": 1.8,
                                "IPFTCharges": 0, "total_charges": 11.8}})

    # -- market data and instruments -----------------------------------------------------------
    def _quoted(self, query: Mapping[str, str]) -> Response | list[tuple[str, Listing]]:
        codes = [code for code in (query.get("scrip-codes") or "").split(",") if code]
        if not codes or len(codes) > 1000:
            return _plain_error("scrip-codes: between 1 and 1000 codes", 400)
        found = []
        for code in dict.fromkeys(codes):
            prefix, _, token = code.partition("_")
            listing = self.scrip.get((_SCRIP.get(prefix, ""), token))
            if listing is None:
                return _plain_error(f"Invalid scrip code {code[:40]}", 400)
            found.append((code, listing))
        return found

    def ltp(self, body: dict[str, Any], request: Request, user: str) -> Response:
        quoted = self._quoted(request.query_params)
        if isinstance(quoted, Response):
            return quoted
        return _ok({code: {"live_price": _num(self.mark(listing.token))}
                    for code, listing in quoted})

    def full_quote(self, body: dict[str, Any], request: Request,
                   user: str) -> Response:
        quoted = self._quoted(request.query_params)
        if isinstance(quoted, Response):
            return quoted
        data: dict[str, Any] = {}
        for code, listing in quoted:
            last, close = self.mark(listing.token), listing.price
            data[code] = {"live_price": _num(last), "day_change": _num(last - close),
                          "day_change_percentage": _num((last - close) * 100 / close),
                          "day_low": _num(min(last, close)), "day_high": _num(max(last, close)),
                          "day_open": _num(close), "prev_close": _num(close),
                          "52week_high": _num(close * Decimal("1.3")),
                          "52week_low": _num(close * Decimal("0.7")),
                          "upper_circuit": _num(close * Decimal("1.1")),
                          "lower_circuit": _num(close * Decimal("0.9")),
                          "market_depth": {}, "volume": 100_000}
        return _ok(data)

    def instruments(self, body: dict[str, Any], request: Request,
                    user: str) -> Response:
        """``/market/instruments?source=equity|fno|index``: a raw CSV file."""
        source = request.query_params.get("source")
        files = self.files()
        if source not in files:
            return _plain_error("source must be one of equity, fno, index", 400)
        return Response(files[source], media_type="text/csv")

    # -- rendering -------------------------------------------------------------------------------
    def _exchange_id(self, order_id: str) -> str:
        """The exchange's order id, once the order reached the exchange (a waiting trigger
        order has none)."""
        meta = self._meta[order_id]
        order = self.book.orders[order_id]
        if not meta.get("exch_order_id") and order.status != "trigger pending" \
                and not meta.get("amo"):
            meta["exch_order_id"] = f"13{zlib.crc32(order_id.encode()):014d}"
        return str(meta.get("exch_order_id", ""))

    def _order_row(self, order: SimOrder) -> dict[str, Any]:
        meta, listing = self._meta[order.order_id], self.by_token[order.token]
        gtt = meta["order_type"] == "GTT_LIMIT"
        status = _STATUSES[order.status]
        if meta.get("amo") and order.status == "open":
            status = "O-PENDING"
        elif meta["modified"] and order.status == "open":
            status = "MODIFIED"
        row: dict[str, Any] = {
            "created_at": _iso(order.created_at),
            "updated_at": _iso(order.updated_at or order.created_at),
            "user_id": self.user_id, "security_id": order.token,
            "isin": _isin(listing.symbol) if listing.kind == "EQ" else "",
            "name": display_name(listing), "id": order.order_id,
            "exch_order_id": self._exchange_id(order.order_id), "txn_type": order.side,
            "exchange": meta["exchange"], "segment": meta["segment"],
            "product": order.product, "order_type": meta["order_type"],
            "validity": meta["validity"], "mkt_type": "NL", "off_mkt_flag": "false",
            "traded_qty": order.filled, "requested_qty": order.quantity,
            "requested_price": "" if gtt else _text(order.price),
            "traded_price": _text(order.average_price) if order.filled else "",
            "sl_trigger_price": "", "sl_limit_price": "",
            "tgt_trigger_price": _text(order.trigger_price) if gtt else "",
            "tgt_limit_price": _text(order.price) if gtt else "",
            "status": status, "extra_info": order.reason,
        }
        if order.tag:
            row["remarks"] = order.tag
        return row

    def _child_row(self, order_id: str, child: dict[str, Any]) -> dict[str, Any]:
        parent = self.book.orders[child["parent"]]
        listing = self.by_token[parent.token]
        legs = child["legs"]
        row: dict[str, Any] = {
            "created_at": _iso(child["created"]), "updated_at": _iso(child["created"]),
            "user_id": self.user_id, "security_id": parent.token, "isin": "",
            "name": display_name(listing), "id": order_id, "exch_order_id": "",
            "txn_type": child["side"], "exchange": child["exchange"],
            "segment": child["segment"], "product": parent.product,
            "order_type": child["order_type"], "validity": "", "mkt_type": "NL",
            "off_mkt_flag": "", "traded_qty": 0, "requested_qty": parent.quantity,
            "requested_price": "", "traded_price": "",
            **{name: _text(legs[name]) if name in legs else "" for name in (
                "sl_trigger_price", "sl_limit_price", "tgt_trigger_price", "tgt_limit_price")},
            "status": child["status"], "extra_info": "",
        }
        if child["remarks"]:
            row["remarks"] = child["remarks"]
        return row

    def _fill_id(self, trade: SimTrade) -> int:
        return 1_020_000 + int(trade.trade_id)

    def _trade_row(self, trade: SimTrade) -> dict[str, Any]:
        order = self.book.orders[trade.order_id]
        row: dict[str, Any] = {
            "fill_id": self._fill_id(trade),
            "exch_order_id": self._exchange_id(trade.order_id), "quantity": trade.quantity,
            "price": _num(trade.price), "trade_date": _iso(trade.time),
            "trade_serial_no": str(17628437030186581215 + int(trade.trade_id)),
            "scrip_code": trade.token}
        if order.tag:
            row["remarks"] = order.tag
        return row

    def _position_row(self, row: PositionRow) -> dict[str, Any]:
        listing = self.by_token[row.token]
        exch, segment = _PARENT[row.exchange]
        derivative = segment == "DERIVATIVE"
        intraday_equity = not derivative and row.product == "INTRADAY"
        average = row.average_price if row.net else row.sell_avg  # as the docs' samples
        data: dict[str, Any] = {
            "position_id": str(86016000 + zlib.crc32(f"{row.token}{row.product}".encode())
                               % 1_000_000),
            "security_id": row.token,
            "symbol": listing.name if derivative else listing.symbol,
            "segment": segment, "product": row.product,
            # ⚠ empty on index derivatives (the docs' SENSEX option sample)
            "exchange": "" if derivative and listing.underlying_kind == "IDX" else exch,
        }
        if not derivative:
            data["isin"] = _isin(listing.symbol)
        data["drv_instrument"] = ""
        if derivative:
            assert listing.expiry is not None
            data["drv_instrument"] = ("FUT" if listing.kind == "FUT" else "OPT") + (
                listing.underlying_kind)
            data["drv_expiry_date"] = f"{listing.expiry:%m/%d/%Y} 15:30"
            if listing.kind in ("CE", "PE"):
                data["drv_option_type"] = listing.kind
                data["drv_strike_price"] = _num(listing.strike or Decimal(0))
        day = {"day_buy_qty": row.buy_qty, "day_buy_val": _num(row.buy_value),
               "day_sell_qty": row.sell_qty, "day_sell_val": _num(row.sell_value)}
        data.update({
            "net_qty": row.net, "avg_price": _num(average), "buy_qty": row.buy_qty,
            "buy_avg": _num(row.buy_avg), "sell_qty": row.sell_qty,
            "sell_avg": _num(row.sell_avg), "realized_profit": _num(row.realised),
            **(day if intraday_equity else dict.fromkeys(day)),
            "cf_buy_qty": None, "cf_buy_val": None, "cf_sell_qty": None, "cf_sell_val": None})
        return data

def _iso(when: dt.datetime) -> str:
    """``2025-07-02T15:47:07.079035+05:30`` (the books' time stamps, IST)."""
    if when.tzinfo is None:
        when = when.astimezone()
    return when.astimezone(IST).isoformat()


def _isin(symbol: str) -> str:
    """A well-formed but synthetic ISIN (⚠ not the instrument's real one)."""
    return f"INE{zlib.crc32(symbol.encode()) % 10**6:06d}01{len(symbol) % 10}"
