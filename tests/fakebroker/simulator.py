"""The fake broker's server, on the core's simulator base."""

from __future__ import annotations

from decimal import Decimal

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from openalgo_core.testing import SimOrder, SimulatorBase


class FakeSimulator(SimulatorBase):
    broker = "fake"
    credential_fields = ("API_KEY", "CLIENT_ID", "PIN", "TOTP_SECRET")
    order_paths = frozenset({"/api/orders"})

    def routes(self) -> list[BaseRoute]:
        return [Route("/api/login", self.login, methods=["POST"]),
                Route("/api/orders", self.orders, methods=["POST"]),
                Route("/api/positions", self.positions),
                Route("/instruments.csv", self.instruments)]

    def order_rejected_response(self) -> Response:
        return JSONResponse({"ok": False, "code": "R42", "message": "not allowed"})

    def _user(self, request: Request) -> str | None:
        return self.user_for(request.headers.get("authorization", "").removeprefix("Bearer "))

    async def login(self, request: Request) -> Response:
        body = await request.json()
        c = self.credentials
        if (body.get("api_key"), body.get("client_id"), body.get("pin")) != (
                c["API_KEY"], c["CLIENT_ID"], c["PIN"]) or not self.verify_totp(body.get("totp")):
            return JSONResponse({"ok": False, "error": "invalid credentials"}, status_code=401)
        return JSONResponse({"ok": True, "token": self.issue_token(c["CLIENT_ID"])})

    async def orders(self, request: Request) -> Response:
        if self._user(request) is None:
            return JSONResponse({"ok": False, "code": "EXPIRED"}, status_code=401)
        body = await request.json()
        listing = self.by_token.get(str(body.get("token")))
        if listing is None:
            return JSONResponse({"ok": False, "code": "R1", "message": "unknown token"})
        order = SimOrder(order_id=self.book.next_id("F"), exchange=listing.exchange,
                         symbol=listing.symbol, token=listing.token, side=body["side"],
                         quantity=int(body["qty"]), pricetype=body["type"],
                         product=body["product"], price=Decimal(body["price"]),
                         trigger_price=Decimal(body["trigger"]), tag=body.get("tag", ""),
                         raw=body)
        self.book.submit(order, self.price(listing.token), margin_limit=self.margin_limit)
        return JSONResponse({"ok": True, "order_id": order.order_id})

    async def positions(self, request: Request) -> Response:
        if self._user(request) is None:
            return JSONResponse({"ok": False, "code": "EXPIRED"}, status_code=401)
        rows = [{"token": p.token, "exchange": p.exchange, "product": p.product, "net": p.net,
                 "avg": str(p.average_price), "ltp": str(p.ltp), "pnl": str(p.pnl)}
                for p in self.book.positions(self.marks())]
        return JSONResponse({"ok": True, "rows": rows})

    async def instruments(self, request: Request) -> Response:
        lines = ["token,symbol,exchange,lot,tick"]
        lines += [f"{r.token},{r.symbol},{r.exchange},{r.lot_size},{r.tick_size}"
                  for r in self.listings]
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/csv")
