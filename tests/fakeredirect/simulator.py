"""The redirect broker's server: a login page at ``/apiuser/login`` that redirects to
``REDIRECT_URL?apisession=...``, signed API calls (orders at ``/order``: POST place,
GET the book or one order, PUT modify, DELETE cancel; trades, funds, portfolio holdings
and positions), "No Data Found" for an empty book, a zip of per-exchange CSV masters."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
import zipfile
from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from openalgo_core.models import IST
from openalgo_core.testing import Listing, LoginPage, SimOrder, SimRefusal, SimulatorBase
from openalgo_core.testing.parsing import decimal_value, json_object, whole_value

API = "/breezeapi/api/v1"
PRODUCTS = {"intraday": "MIS", "cash": "CNC", "margin": "NRML"}
PRODUCT_CODES = {value: key for key, value in PRODUCTS.items()}
TYPES = {"market": "MARKET", "limit": "LIMIT", "sl": "SL", "sl-m": "SL-M"}
TYPE_CODES = {kind: code for code, kind in TYPES.items()}
STATUSES = {"open": "Ordered", "trigger pending": "Trigger Pending", "complete": "Executed",
            "cancelled": "Cancelled", "rejected": "Rejected"}
TIME = "%d-%b-%Y %H:%M:%S"
#: the master's file for each exchange, and its header as ICICI writes it
_CASH = 'Token, "ShortName", "Series", "CompanyName", "ExchangeCode", "LotSize", "TickSize"'
_FO = ('"Token","ShortName","Series","ExpiryDate","StrikePrice","OptionType","LotSize",'
       '"TickSize","CompanyName","ExchangeCode"')
FILES = {"NSE": ("NSEScripMaster.txt", _CASH), "NSE_INDEX": ("NSEScripMaster.txt", _CASH),
         "BSE": ("BSEScripMaster.txt", _CASH), "NFO": ("FONSEScripMaster.txt", _FO)}

def _envelope(success: Any = None, status: int = 200, error: str | None = None) -> JSONResponse:
    return JSONResponse({"Success": success, "Status": status, "Error": error})


def _rows(rows: list[dict[str, Any]]) -> JSONResponse:
    """A book: its rows, or the broker's "No Data Found" when there are none."""
    return _envelope(rows) if rows else _envelope(status=500, error="No Data Found")


def _time(when: dt.datetime) -> str:
    return when.astimezone(IST).strftime(TIME)


def _order_row(o: SimOrder) -> dict[str, Any]:
    live = o.status in ("open", "trigger pending")
    unfilled = o.quantity - o.filled
    return {"order_id": o.order_id, "stock_token": o.token, "exchange_code": o.exchange,
            "action": o.side.lower(), "quantity": str(o.quantity),
            "order_type": TYPE_CODES[o.pricetype], "product": PRODUCT_CODES[o.product],
            "price": str(o.price), "stoploss": str(o.trigger_price),
            "status": STATUSES[o.status], "pending_quantity": str(unfilled if live else 0),
            "cancelled_quantity": str(0 if live else unfilled),
            "average_price": str(o.average_price), "rejection_reason": o.reason,
            "user_remark": o.tag, "order_datetime": _time(o.updated_at or o.created_at)}


def _refusal(refusal: SimRefusal) -> JSONResponse:
    """The broker's refusal of a cancel or modify."""
    if refusal.why == "unknown":
        return _envelope(status=500, error="Order not found")
    if refusal.why == "margin":
        return _envelope(status=500, error=refusal.reason)
    return _envelope(status=500, error="Order is not in open status")


def _master_row(r: Listing) -> list[Any]:
    """One row of its exchange's file: tick sizes in paise; an index is Series ``0``."""
    tick = f"{r.tick_size * 100:f}"
    if r.exchange == "NFO":
        return [r.token, r.name, "FUTURE" if r.kind == "FUT" else "OPTION",
                f"{r.expiry:%d-%b-%Y}", r.strike or 0, "XX" if r.kind == "FUT" else r.kind,
                r.lot_size, tick, r.name, r.name]
    if r.kind == "INDEX":
        return [r.token, r.symbol, "0", r.name, r.name, 1, tick]
    return [r.token, r.symbol, r.series, r.name, r.symbol, r.lot_size, tick]


class FakeRedirectSimulator(LoginPage, SimulatorBase):
    broker = "fakeredirect"
    credential_fields = ("API_KEY", "API_SECRET", "REDIRECT_URL")
    order_paths = frozenset({API + "/order"})
    exchanges = frozenset(FILES)
    master_path = "/SecurityMaster.zip"
    master_media_type = "application/zip"

    login_path = "/apiuser/login"
    login_title = "Fake Redirect Broker: log in"

    def routes(self) -> list[BaseRoute]:
        return [*self.login_page_routes(),
                Route(API + "/customerdetails", self.customer_details, methods=["GET"]),
                Route(API + "/order", self.orders, methods=["GET"]),
                Route(API + "/order", self.modify, methods=["PUT"]),
                Route(API + "/order", self.cancel, methods=["DELETE"]),
                Route(API + "/order", self.order, methods=["POST"]),  # last: the fast path
                Route(API + "/trades", self.trades, methods=["GET"]),
                Route(API + "/funds", self.funds_reply, methods=["GET"]),
                Route(API + "/portfolioholdings", self.holdings_reply, methods=["GET"]),
                Route(API + "/portfoliopositions", self.positions, methods=["GET"])]

    def order_rejected_response(self) -> Response:
        return _envelope(status=500, error="Insufficient limit")

    def render_master(self, listings: Iterable[Listing]) -> bytes:
        files = {name: [header] for name, header in FILES.values()}
        for r in listings:
            files[FILES[r.exchange][0]].append(",".join(f'"{cell}"' for cell in _master_row(r)))
        data = io.BytesIO()
        with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, lines in files.items():
                archive.writestr(name, "\n".join(lines) + "\n")
        return data.getvalue()

    # -- the session -------------------------------------------------------------
    async def customer_details(self, request: Request) -> Response:
        body = await json_object(request) or {}
        user = self.redeem_login_key(body.get("SessionToken"))
        if user is None or body.get("AppKey") != self.credentials["API_KEY"]:
            return _envelope(status=500, error="Invalid session or app key")
        return _envelope({"session_token": self.issue_token(user), "idirect_userid": user})

    # -- signed calls ----------------------------------------------------------------
    async def _signed(self, request: Request) -> Response | tuple[str, dict[str, Any] | None]:
        """(user, JSON body) of a correctly signed call of a live session, else the
        broker's refusal."""
        content, headers = await request.body(), request.headers
        expected = hashlib.sha256(headers.get("x-timestamp", "").encode() + content
                                  + self.credentials["API_SECRET"].encode()).hexdigest()
        if headers.get("x-appkey") != self.credentials["API_KEY"] or not \
                secrets.compare_digest(headers.get("x-checksum", "").encode(),
                                       f"token {expected}".encode()):
            return _envelope(status=5, error="Authentication Fail :: Invalid Checksum.")
        user = self.user_for(headers.get("x-sessiontoken"))
        if user is None:
            return _envelope(status=401, error="Session key is expired")
        return user, await json_object(request)

    async def order(self, request: Request) -> Response:
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        user, body = signed
        if body is None:
            return _envelope(status=500, error="invalid order: not a JSON object")
        try:
            listing = self.by_token[str(body["stock_token"])]
            order = SimOrder(
                order_id=self.book.next_id("R"), exchange=listing.exchange,
                symbol=listing.symbol, token=listing.token, side=str(body["action"]).upper(),
                quantity=whole_value(body["quantity"]), pricetype=TYPES[body["order_type"]],
                product=PRODUCTS[body["product"]], price=decimal_value(body["price"]),
                trigger_price=decimal_value(body["stoploss"]),
                tag=str(body.get("user_remark", "")), raw=body)
        except (KeyError, TypeError, ValueError) as exc:
            return _envelope(status=500, error=f"invalid order: {type(exc).__name__}")
        self.book_order(order, user=user)
        return _envelope({"order_id": order.order_id, "message": "Successfully Placed"})

    async def positions(self, request: Request) -> Response:
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        return _envelope([
            {"stock_token": p.token, "exchange_code": p.exchange,
             "product": PRODUCT_CODES[p.product], "quantity": str(p.net),
             "average_price": f"{p.average_price:.2f}", "ltp": str(p.ltp),
             "booked_profit_loss": f"{p.realised:.2f}", "unrealized_pnl": f"{p.unrealised:.2f}"}
            for p in self.book.positions(self.marks())])

    async def orders(self, request: Request) -> Response:
        """The book, or (``order_id`` in the body) a list of that one order."""
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        wanted = (signed[1] or {}).get("order_id")
        if wanted is None:
            return _rows([_order_row(o) for o in list(self.book.orders.values())])
        order = self.book.orders.get(str(wanted))
        if order is None:
            return _envelope(status=500, error="Order not found")
        return _envelope([_order_row(order)])

    async def modify(self, request: Request) -> Response:
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        user, body = signed
        try:
            if body is None:
                raise TypeError("not a JSON object")
            order_id, quantity = str(body["order_id"]), whole_value(body["quantity"])
            pricetype, price = TYPES[body["order_type"]], decimal_value(body["price"])
            trigger = decimal_value(body["stoploss"])
        except (KeyError, TypeError, ValueError) as exc:
            return _envelope(status=500, error=f"invalid modify: {type(exc).__name__}")
        try:
            self.book_modify(order_id, quantity=quantity, pricetype=pricetype, price=price,
                             trigger_price=trigger, user=user)
        except SimRefusal as refusal:
            return _refusal(refusal)
        return _envelope({"order_id": order_id, "message": "Successfully Modified"})

    async def cancel(self, request: Request) -> Response:
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        order_id = str((signed[1] or {}).get("order_id"))
        try:
            self.book_cancel(order_id)
        except SimRefusal as refusal:
            return _refusal(refusal)
        return _envelope({"order_id": order_id, "message": "Successfully Cancelled"})

    async def trades(self, request: Request) -> Response:
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        return _rows([{"order_id": t.order_id, "exchange_trade_id": t.trade_id,
                       "stock_token": t.token, "exchange_code": t.exchange,
                       "action": t.side.lower(), "product": PRODUCT_CODES[t.product],
                       "quantity": str(t.quantity), "execution_price": str(t.price),
                       "trade_datetime": _time(t.time)} for t in list(self.book.trades)])

    async def funds_reply(self, request: Request) -> Response:
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        f = self.funds()
        return _envelope({"total_bank_balance": f"{f.cash:.2f}",
                          "allocated_equity": f"{f.cash + f.realised:.2f}",
                          "block_by_trade_equity": f"{f.used:.2f}",
                          "limit_from_collateral": f"{f.collateral:.2f}",
                          "booked_profit_loss": f"{f.realised:.2f}",
                          "unrealized_pnl": f"{f.unrealised:.2f}"})

    async def holdings_reply(self, request: Request) -> Response:
        signed = await self._signed(request)
        if isinstance(signed, Response):
            return signed
        return _rows([{"stock_token": h.token, "exchange_code": h.exchange,
                       "quantity": str(h.quantity), "average_price": f"{h.average_price:.2f}",
                       "current_market_price": f"{h.ltp:.2f}"} for h in self.holdings()])

    def reset(self) -> None:
        super().reset()
        self.forget_login_keys()
