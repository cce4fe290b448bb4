"""The redirect broker's server: a login page at ``/apiuser/login`` that redirects to
``REDIRECT_URL?apisession=...``, signed API calls, a zip of per-exchange CSV masters."""

from __future__ import annotations

import hashlib
import io
import secrets
import string
import zipfile
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from openalgo_core.testing import Listing, SimOrder, SimulatorBase
from openalgo_core.testing.parsing import decimal_value, json_object, whole_value

API = "/breezeapi/api/v1"
PRODUCTS = {"intraday": "MIS", "cash": "CNC", "margin": "NRML"}
PRODUCT_CODES = {value: key for key, value in PRODUCTS.items()}
TYPES = {"market": "MARKET", "limit": "LIMIT", "sl": "SL", "sl-m": "SL-M"}
#: the master's file for each exchange, and its header as ICICI writes it
_CASH = 'Token, "ShortName", "Series", "CompanyName", "ExchangeCode", "LotSize", "TickSize"'
_FO = ('"Token","ShortName","Series","ExpiryDate","StrikePrice","OptionType","LotSize",'
       '"TickSize","CompanyName","ExchangeCode"')
FILES = {"NSE": ("NSEScripMaster.txt", _CASH), "NSE_INDEX": ("NSEScripMaster.txt", _CASH),
         "BSE": ("BSEScripMaster.txt", _CASH), "NFO": ("FONSEScripMaster.txt", _FO)}

PAGE = """<!doctype html><title>Fake Redirect Broker: log in</title>
<form method="post" action="/apiuser/login">
<input type="hidden" name="api_key" value="{api_key}">
<label>User ID <input name="user_id"></label>
<label>Password <input type="password" name="password"></label>
<button>Log in</button></form>"""


def _envelope(success: Any = None, status: int = 200, error: str | None = None) -> JSONResponse:
    return JSONResponse({"Success": success, "Status": status, "Error": error})


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


class FakeRedirectSimulator(SimulatorBase):
    broker = "fakeredirect"
    credential_fields = ("API_KEY", "API_SECRET", "REDIRECT_URL")
    order_paths = frozenset({API + "/order"})
    exchanges = frozenset(FILES)
    master_path = "/SecurityMaster.zip"
    master_media_type = "application/zip"

    def __init__(self, **options: Any) -> None:
        #: the user at the login page (not API credentials: only the page asks for them)
        self.user_id = "FR" + "".join(secrets.choice(string.digits) for _ in range(6))
        self.password = secrets.token_urlsafe(9)
        self._api_sessions: dict[str, str] = {}
        super().__init__(**options)

    def routes(self) -> list[BaseRoute]:
        return [Route("/apiuser/login", self.login_page, methods=["GET"]),
                Route("/apiuser/login", self.log_in, methods=["POST"]),
                Route(API + "/customerdetails", self.customer_details, methods=["GET"]),
                Route(API + "/order", self.order, methods=["POST"]),
                Route(API + "/portfoliopositions", self.positions, methods=["GET"])]

    def demo_login_params(self, challenge: Any) -> dict[str, str]:
        """What the user types at the login page."""
        return {"user_id": self.user_id, "password": self.password}

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

    # -- the browser login -----------------------------------------------------------
    async def login_page(self, request: Request) -> Response:
        if request.query_params.get("api_key") != self.credentials["API_KEY"]:
            return HTMLResponse("<p>Invalid API key</p>", status_code=400)
        return HTMLResponse(PAGE.format(api_key=self.credentials["API_KEY"]))

    async def log_in(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode(errors="replace")))
        if (form.get("api_key"), form.get("user_id"), form.get("password")) != (
                self.credentials["API_KEY"], self.user_id, self.password):
            return HTMLResponse("<p>Invalid user ID or password</p>", status_code=401)
        apisession = "".join(secrets.choice(string.digits) for _ in range(8))
        self._api_sessions[apisession] = self.user_id
        target = self.credentials["REDIRECT_URL"] + "?" + urlencode({"apisession": apisession})
        return RedirectResponse(target, status_code=303)

    async def customer_details(self, request: Request) -> Response:
        body = await json_object(request) or {}
        user = self._api_sessions.pop(str(body.get("SessionToken")), None)
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

    def reset(self) -> None:
        super().reset()
        self._api_sessions.clear()
