"""The fake broker's server, on the core's simulator base: TOTP login, bearer tokens,
a small JSON REST API and a CSV master file.

Every reply is ``{"ok": true, ...}`` or ``{"ok": false, "code": ..., "message": ...}``
(an expired session: ``code: "EXPIRED"``, HTTP 401). Orders live at ``/api/orders``:
``POST`` places one, ``GET`` reads the book, and ``GET``/``PUT``/``DELETE``
``/api/orders/{order_id}`` read, modify and cancel one (``NOT_FOUND`` 404, ``NOT_OPEN``
409, a modify beyond the funds ``R3``). Rows speak the fake's own words: statuses
``OPEN TRIGGER_PENDING FILLED CANCELLED REJECTED``, times ISO 8601 with an offset.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from openalgo_core.models import IST
from openalgo_core.testing import Listing, SimOrder, SimRefusal, SimTrade, SimulatorBase
from openalgo_core.testing.parsing import decimal_value, json_object, request_token, whole_value

SIDES = frozenset({"BUY", "SELL"})
TYPES = frozenset({"MARKET", "LIMIT", "SL", "SL-M"})
PRODUCTS = frozenset({"MIS", "CNC", "NRML"})
#: the book's status (OpenAlgo's words) as the fake broker spells it
STATUSES = {"open": "OPEN", "trigger pending": "TRIGGER_PENDING", "complete": "FILLED",
            "cancelled": "CANCELLED", "rejected": "REJECTED"}


EXPIRED = {"ok": False, "code": "EXPIRED"}


def _refused(code: str, message: str, status_code: int = 200) -> JSONResponse:
    return JSONResponse({"ok": False, "code": code, "message": message},
                        status_code=status_code)


class FakeSimulator(SimulatorBase):
    broker = "fake"
    credential_fields = ("API_KEY", "CLIENT_ID", "PIN", "TOTP_SECRET")
    order_paths = frozenset({"/api/orders"})
    exchanges = frozenset({"NSE", "BSE", "NFO", "NSE_INDEX"})
    master_path = "/instruments.csv"
    master_media_type = "text/csv"

    def routes(self) -> list[BaseRoute]:
        one = "/api/orders/{order_id:path}"  # any id: an unknown one is NOT_FOUND
        return [Route("/api/login", self.login, methods=["POST"]),
                Route("/api/orders", self.order_book, methods=["GET"]),
                Route("/api/orders", self.orders, methods=["POST"]),  # last: the fast path
                Route(one, self.one_order, methods=["GET"]),
                Route(one, self.modify, methods=["PUT"]),
                Route(one, self.cancel, methods=["DELETE"]),
                Route("/api/trades", self.trades),
                Route("/api/positions", self.positions),
                Route("/api/funds", self.funds_reply),
                Route("/api/holdings", self.holdings_reply)]

    def order_rejected_response(self) -> Response:
        return JSONResponse({"ok": False, "code": "R42", "message": "not allowed"})

    def render_master(self, listings: Iterable[Listing]) -> bytes:
        lines = ["token,symbol,exchange,lot,tick,kind,name,expiry,strike"]
        lines += [f"{r.token},{r.symbol},{r.exchange},{r.lot_size},{r.tick_size},{r.kind},"
                  f"{r.name},{r.expiry or ''},{'' if r.strike is None else r.strike}"
                  for r in listings]
        return ("\n".join(lines) + "\n").encode()

    async def login(self, request: Request) -> Response:
        body = await json_object(request) or {}
        c = self.credentials
        if (body.get("api_key"), body.get("client_id"), body.get("pin")) != (
                c["API_KEY"], c["CLIENT_ID"], c["PIN"]) or not self.verify_totp(body.get("totp")):
            return JSONResponse({"ok": False, "error": "invalid credentials"}, status_code=401)
        return JSONResponse({"ok": True, "token": self.issue_token(c["CLIENT_ID"])})

    def _user(self, request: Request) -> str | None:
        return self.user_for(request_token(request))

    async def orders(self, request: Request) -> Response:
        user = self._user(request)
        if user is None:
            return JSONResponse(EXPIRED, status_code=401)
        body = await json_object(request)
        listing = self.by_token.get(str((body or {}).get("token")))
        if body is None or listing is None:
            return _refused("R1", "unknown token")
        try:
            order = SimOrder(
                order_id=self.book.next_id("F"), exchange=listing.exchange,
                symbol=listing.symbol, token=listing.token, side=_one_of(body, "side", SIDES),
                quantity=whole_value(body.get("qty")), pricetype=_one_of(body, "type", TYPES),
                product=_one_of(body, "product", PRODUCTS),
                price=decimal_value(body.get("price")),
                trigger_price=decimal_value(body.get("trigger")),
                tag=str(body.get("tag") or ""), raw=body)
        except ValueError as exc:
            return _refused("R2", str(exc))
        self.book_order(order, user=user)
        return JSONResponse({"ok": True, "order_id": order.order_id})

    async def order_book(self, request: Request) -> Response:
        if self._user(request) is None:
            return JSONResponse(EXPIRED, status_code=401)
        return JSONResponse({"ok": True, "rows": [_order_row(o) for o in
                                                  list(self.book.orders.values())]})

    async def one_order(self, request: Request) -> Response:
        if self._user(request) is None:
            return JSONResponse(EXPIRED, status_code=401)
        order = self.book.orders.get(request.path_params["order_id"])
        if order is None:
            return _refused("NOT_FOUND", "no such order", 404)
        return JSONResponse({"ok": True, "order": _order_row(order)})

    async def modify(self, request: Request) -> Response:
        """The order as it should stand: ``qty``, ``type``, ``price``, ``trigger``."""
        user = self._user(request)
        if user is None:
            return JSONResponse(EXPIRED, status_code=401)
        body = await json_object(request)
        if body is None:
            return _refused("R2", "expected a JSON object")
        try:
            quantity, pricetype = whole_value(body.get("qty")), _one_of(body, "type", TYPES)
            price, trigger = decimal_value(body.get("price")), decimal_value(body.get("trigger"))
        except ValueError as exc:
            return _refused("R2", str(exc))
        order_id = request.path_params["order_id"]
        try:
            self.book_modify(order_id, quantity=quantity, pricetype=pricetype, price=price,
                             trigger_price=trigger, user=user)
        except SimRefusal as refusal:
            return _refusal(refusal)
        return JSONResponse({"ok": True, "order_id": order_id})

    async def cancel(self, request: Request) -> Response:
        if self._user(request) is None:
            return JSONResponse(EXPIRED, status_code=401)
        order_id = request.path_params["order_id"]
        try:
            self.book_cancel(order_id)
        except SimRefusal as refusal:
            return _refusal(refusal)
        return JSONResponse({"ok": True, "order_id": order_id})

    async def trades(self, request: Request) -> Response:
        if self._user(request) is None:
            return JSONResponse(EXPIRED, status_code=401)
        return JSONResponse({"ok": True, "rows": [_trade_row(t) for t in
                                                  list(self.book.trades)]})

    async def positions(self, request: Request) -> Response:
        if self._user(request) is None:
            return JSONResponse(EXPIRED, status_code=401)
        rows = [{"token": p.token, "exchange": p.exchange, "product": p.product, "net": p.net,
                 "avg": str(p.average_price), "ltp": str(p.ltp), "pnl": str(p.pnl)}
                for p in self.book.positions(self.marks())]
        return JSONResponse({"ok": True, "rows": rows})

    async def funds_reply(self, request: Request) -> Response:
        if self._user(request) is None:
            return JSONResponse(EXPIRED, status_code=401)
        f = self.funds()
        return JSONResponse({"ok": True, "funds": {
            "available": str(f.available), "collateral": str(f.collateral),
            "used": str(f.used), "realised": str(f.realised),
            "unrealised": str(f.unrealised)}})

    async def holdings_reply(self, request: Request) -> Response:
        if self._user(request) is None:
            return JSONResponse(EXPIRED, status_code=401)
        return JSONResponse({"ok": True, "rows": [
            {"token": h.token, "exchange": h.exchange, "qty": h.quantity,
             "avg": str(h.average_price), "ltp": str(h.ltp)} for h in self.holdings()]})


def _order_row(order: SimOrder) -> dict[str, Any]:
    when = (order.updated_at or order.created_at).astimezone(IST)
    return {"order_id": order.order_id, "token": order.token, "exchange": order.exchange,
            "side": order.side, "qty": order.quantity, "type": order.pricetype,
            "product": order.product, "price": str(order.price),
            "trigger": str(order.trigger_price), "status": STATUSES[order.status],
            "filled": order.filled, "avg": str(order.average_price), "reason": order.reason,
            "tag": order.tag, "time": when.isoformat()}


def _trade_row(trade: SimTrade) -> dict[str, Any]:
    return {"trade_id": trade.trade_id, "order_id": trade.order_id, "token": trade.token,
            "exchange": trade.exchange, "side": trade.side, "product": trade.product,
            "qty": trade.quantity, "price": str(trade.price),
            "time": trade.time.astimezone(IST).isoformat()}


def _refusal(refusal: SimRefusal) -> JSONResponse:
    """The fake's refusal of a modify or cancel."""
    if refusal.why == "unknown":
        return _refused("NOT_FOUND", "no such order", 404)
    if refusal.why == "margin":
        return _refused("R3", refusal.reason)
    status = refusal.order.status if refusal.order else "closed"
    return _refused("NOT_OPEN", f"order {refusal.order_id} is {status}", 409)


def _one_of(body: dict[str, object], field: str, allowed: frozenset[str]) -> str:
    value = body.get(field)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{field}: not one of {sorted(allowed)}")
    return value
