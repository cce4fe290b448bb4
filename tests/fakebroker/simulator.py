"""The fake broker's server, on the core's simulator base: TOTP login, bearer tokens,
JSON orders and positions, a CSV master file."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from openalgo_core.testing import Listing, SimOrder, SimulatorBase
from openalgo_core.testing.parsing import decimal_value, json_object, request_token, whole_value

SIDES = frozenset({"BUY", "SELL"})
TYPES = frozenset({"MARKET", "LIMIT", "SL", "SL-M"})
PRODUCTS = frozenset({"MIS", "CNC", "NRML"})


class FakeSimulator(SimulatorBase):
    broker = "fake"
    credential_fields = ("API_KEY", "CLIENT_ID", "PIN", "TOTP_SECRET")
    order_paths = frozenset({"/api/orders"})
    exchanges = frozenset({"NSE", "BSE", "NFO", "NSE_INDEX"})
    master_path = "/instruments.csv"
    master_media_type = "text/csv"

    def routes(self) -> list[BaseRoute]:
        return [Route("/api/login", self.login, methods=["POST"]),
                Route("/api/orders", self.orders, methods=["POST"]),
                Route("/api/positions", self.positions)]

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

    async def orders(self, request: Request) -> Response:
        user = self.user_for(request_token(request))
        if user is None:
            return JSONResponse({"ok": False, "code": "EXPIRED"}, status_code=401)
        body = await json_object(request)
        listing = self.by_token.get(str((body or {}).get("token")))
        if body is None or listing is None:
            return JSONResponse({"ok": False, "code": "R1", "message": "unknown token"})
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
            return JSONResponse({"ok": False, "code": "R2", "message": str(exc)})
        self.book_order(order, user=user)
        return JSONResponse({"ok": True, "order_id": order.order_id})

    async def positions(self, request: Request) -> Response:
        if self.user_for(request_token(request)) is None:
            return JSONResponse({"ok": False, "code": "EXPIRED"}, status_code=401)
        rows = [{"token": p.token, "exchange": p.exchange, "product": p.product, "net": p.net,
                 "avg": str(p.average_price), "ltp": str(p.ltp), "pnl": str(p.pnl)}
                for p in self.book.positions(self.marks())]
        return JSONResponse({"ok": True, "rows": rows})


def _one_of(body: dict[str, object], field: str, allowed: frozenset[str]) -> str:
    value = body.get(field)
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{field}: not one of {sorted(allowed)}")
    return value
