"""The OTP broker's server: texts a code (kept in ``sent_otps``), checks the login's
``ac`` checksum, raw session tokens, form-encoded ``jData`` orders, cancels (``on``),
modifies (``no``) and limits, books of orders, trades and positions ("no data" when
empty; positions as amounts), statuses as three-letter codes, a JSON master in its own
trading symbols. It has no holdings call."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from openalgo_core.models import IST
from openalgo_core.testing import Listing, SimOrder, SimRefusal, SimulatorBase
from openalgo_core.testing.parsing import decimal_value, json_object, request_token, whole_value

SEGMENTS = {"NSE": "nse_cm", "BSE": "bse_cm", "NFO": "nse_fo", "NSE_INDEX": "nse_idx"}
SIDES = {"B": "BUY", "S": "SELL"}
TYPES = {"MKT": "MARKET", "L": "LIMIT", "SL": "SL", "SL-M": "SL-M"}
TYPE_CODES = {kind: code for code, kind in TYPES.items()}
PRODUCTS = frozenset({"MIS", "CNC", "NRML"})
STATUSES = {"open": "OPN", "trigger pending": "TRG", "complete": "CMP", "cancelled": "CAN",
            "rejected": "REJ"}
TIME = "%d-%b-%Y %H:%M:%S"


def _ok(data: Any) -> JSONResponse:
    return JSONResponse({"status": "success", "data": data})


def _error(code: str, message: str, status_code: int = 200) -> JSONResponse:
    return JSONResponse({"status": "error", "errorcode": code, "message": message},
                        status_code=status_code)


def _jdata(content: bytes) -> dict[str, Any]:
    """The form's ``jData`` JSON object.

    Raises:
        ValueError, KeyError, TypeError, RecursionError: not such a form.
    """
    data = json.loads(parse_qs(content.decode(), strict_parsing=True)["jData"][0])
    if not isinstance(data, dict):
        raise TypeError("jData is not an object")
    return data


def _time(when: dt.datetime) -> str:
    return when.astimezone(IST).strftime(TIME)


def trading_symbol(listing: Listing) -> str:
    """The broker's spelling: ``SBIN-EQ``, ``NIFTY28MAR24F``, ``NIFTY28MAR24C24000``."""
    if listing.kind == "EQ":
        return f"{listing.symbol}-{listing.series}" if listing.exchange == "NSE" \
            else listing.symbol
    if listing.expiry is None:
        return listing.name.upper().replace(" ", "")
    month = f"{listing.expiry:%d%b%y}".upper()
    kind = "F" if listing.kind == "FUT" else f"{listing.kind[0]}{listing.strike}"
    return f"{listing.name}{month}{kind}"


class FakeOtpSimulator(SimulatorBase):
    broker = "fakeotp"
    credential_fields = ("API_KEY", "API_SECRET", "MOBILE", "PIN")
    order_paths = frozenset({"/v1/orders"})
    exchanges = frozenset(SEGMENTS)
    master_path = "/master/scrips.json"
    master_media_type = "application/json"

    def __init__(self, **options: Any) -> None:
        self.sent_otps: list[str] = []
        self._pending: dict[str, str] = {}
        super().__init__(**options)

    def routes(self) -> list[BaseRoute]:
        return [Route("/v1/login/otp", self.send_otp, methods=["POST"]),
                Route("/v1/login/verify", self.verify, methods=["POST"]),
                Route("/v1/orders", self.order_book, methods=["GET"]),
                Route("/v1/orders", self.orders, methods=["POST"]),  # last: the fast path
                Route("/v1/orders/modify", self.modify, methods=["POST"]),
                Route("/v1/orders/cancel", self.cancel, methods=["POST"]),
                Route("/v1/trades", self.trades),
                Route("/v1/positions", self.positions),
                Route("/v1/limits", self.limits, methods=["POST"])]

    def user_code(self) -> str:
        """The last OTP texted to the user."""
        return self.sent_otps[-1]

    def order_rejected_response(self) -> Response:
        return _error("RMS-BLOCK", "Client blocked for trading")

    def render_master(self, listings: Iterable[Listing]) -> bytes:
        return json.dumps([
            {"token": r.token, "sym": trading_symbol(r), "exch": SEGMENTS[r.exchange],
             "name": r.name, "type": r.kind, "lot": r.lot_size, "tick": str(r.tick_size),
             "expiry": f"{r.expiry:%d%b%Y}".upper() if r.expiry else "",
             "strike": "" if r.strike is None else str(r.strike)} for r in listings]).encode()

    def _keyed(self, request: Request) -> bool:
        given = request_token(request, "x-api-key", scheme=None)
        return secrets.compare_digest(given.encode(), self.credentials["API_KEY"].encode())

    async def send_otp(self, request: Request) -> Response:
        body = await json_object(request) or {}
        if not self._keyed(request):
            return _error("INVALID_KEY", "Invalid API key", 401)
        if (body.get("mobile"), body.get("pin")) != (self.credentials["MOBILE"],
                                                      self.credentials["PIN"]):
            return _error("BAD_CREDENTIALS", "Invalid mobile number or PIN")
        otp, request_id = f"{secrets.randbelow(10**6):06d}", secrets.token_hex(8)
        self.sent_otps.append(otp)
        self._pending[request_id] = otp
        return _ok({"request_id": request_id})

    async def verify(self, request: Request) -> Response:
        body = await json_object(request) or {}
        request_id, otp = str(body.get("request_id")), body.get("otp")
        expected = self._pending.pop(request_id, None)
        if not self._keyed(request) or expected is None or otp != expected:
            return _error("INVALID_OTP", "Invalid or expired OTP")
        secret = self.credentials["API_SECRET"]
        checksum = hashlib.sha256(f"{request_id}{otp}{secret}".encode()).hexdigest()
        if not secrets.compare_digest(str(body.get("ac")).encode(), checksum.encode()):
            return _error("INVALID_CHECKSUM", "Checksum mismatch")
        return _ok({"session_token": self.issue_token(self.credentials["MOBILE"])})

    def _user(self, request: Request) -> str | None:
        if not self._keyed(request):
            return None
        return self.user_for(request_token(request, scheme=None))

    async def orders(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return _error("TOKEN_EXPIRED", "Session expired", 401)
        try:
            body = _jdata(await request.body())
            listing = self.by_token[str(body["tk"])]
            order = SimOrder(
                order_id=self.book.next_id("K"), exchange=listing.exchange,
                symbol=listing.symbol, token=listing.token, side=SIDES[body["tt"]],
                quantity=whole_value(body["qt"]), pricetype=TYPES[body["pt"]],
                product=body["pc"] if body["pc"] in PRODUCTS else "",
                price=decimal_value(body["pr"]), trigger_price=decimal_value(body["tp"]),
                tag=str(body.get("rt", "")), raw=body)
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            return _error("BAD_ORDER", f"invalid order: {type(exc).__name__}")
        if not order.product:
            return _error("BAD_ORDER", "invalid product")
        self.book_order(order, user=user)
        return _ok({"nOrdNo": order.order_id})

    async def positions(self, request: Request) -> Response:
        if self._user(request) is None:
            return _error("TOKEN_EXPIRED", "Session expired", 401)
        rows = [{"tok": p.token, "exSeg": SEGMENTS[p.exchange], "prod": p.product,
                 "flBuyQty": str(p.buy_qty), "flSellQty": str(p.sell_qty),
                 "buyAmt": f"{p.buy_value:.2f}", "sellAmt": f"{p.sell_value:.2f}",
                 "ltp": str(p.ltp)} for p in self.book.positions(self.marks())]
        return _ok(rows) if rows else _error("EMPTY", "No data")

    async def order_book(self, request: Request) -> Response:
        if self._user(request) is None:
            return _error("TOKEN_EXPIRED", "Session expired", 401)
        rows = [{"nOrdNo": o.order_id, "tok": o.token, "exSeg": SEGMENTS[o.exchange],
                 "trnsTp": o.side[0], "qty": str(o.quantity), "prcTp": TYPE_CODES[o.pricetype],
                 "prod": o.product, "prc": str(o.price), "trgPrc": str(o.trigger_price),
                 "ordSt": STATUSES[o.status], "fldQty": str(o.filled),
                 "avgPrc": str(o.average_price), "rejRsn": o.reason, "rt": o.tag,
                 "ordDtTm": _time(o.updated_at or o.created_at)}
                for o in list(self.book.orders.values())]
        return _ok(rows) if rows else _error("EMPTY", "No data")

    async def modify(self, request: Request) -> Response:
        """``no`` names the order; ``qt``, ``pt``, ``pr``, ``tp`` are how it should stand."""
        user = self._user(request)
        if user is None:
            return _error("TOKEN_EXPIRED", "Session expired", 401)
        try:
            body = _jdata(await request.body())
            order_id, quantity = str(body["no"]), whole_value(body["qt"])
            pricetype, price = TYPES[body["pt"]], decimal_value(body["pr"])
            trigger = decimal_value(body["tp"])
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            return _error("BAD_ORDER", f"invalid modify: {type(exc).__name__}")
        try:
            self.book_modify(order_id, quantity=quantity, pricetype=pricetype, price=price,
                             trigger_price=trigger, user=user)
        except SimRefusal as refusal:
            return _refusal(refusal)
        return _ok({"nOrdNo": order_id})

    async def cancel(self, request: Request) -> Response:
        if self._user(request) is None:
            return _error("TOKEN_EXPIRED", "Session expired", 401)
        try:
            order_id = str(_jdata(await request.body())["on"])
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            return _error("BAD_ORDER", f"invalid cancel: {type(exc).__name__}")
        try:
            self.book_cancel(order_id)
        except SimRefusal as refusal:
            return _refusal(refusal)
        return _ok({"nOrdNo": order_id})

    async def trades(self, request: Request) -> Response:
        if self._user(request) is None:
            return _error("TOKEN_EXPIRED", "Session expired", 401)
        rows = [{"nOrdNo": t.order_id, "flId": t.trade_id, "tok": t.token,
                 "exSeg": SEGMENTS[t.exchange], "trnsTp": t.side[0], "prod": t.product,
                 "fldQty": str(t.quantity), "avgPrc": str(t.price), "flDtTm": _time(t.time)}
                for t in list(self.book.trades)]
        return _ok(rows) if rows else _error("EMPTY", "No data")

    async def limits(self, request: Request) -> Response:
        if self._user(request) is None:
            return _error("TOKEN_EXPIRED", "Session expired", 401)
        f = self.funds()
        return _ok({"Net": f"{f.available:.2f}", "CollateralValue": f"{f.collateral:.2f}",
                    "MarginUsed": f"{f.used:.2f}", "RealizedMtomPrsnt": f"{f.realised:.2f}",
                    "UnrealizedMtomPrsnt": f"{f.unrealised:.2f}"})

    def reset(self) -> None:
        super().reset()
        self.sent_otps.clear()
        self._pending.clear()


def _refusal(refusal: SimRefusal) -> JSONResponse:
    """The broker's refusal of a cancel or modify."""
    if refusal.why == "unknown":
        return _error("NOT_FOUND", "Order not found")
    if refusal.why == "margin":
        return _error("RMS-MARGIN", refusal.reason)
    status = refusal.order.status if refusal.order else "closed"
    return _error("NOT_OPEN", f"Order is not open ({status})")
