"""The browser side: broker login pages, the login callback, the dashboard.

Logging in changes state, so it is a POST carrying a CSRF token: the token is a random
cookie (``SameSite=Strict``, set by any page) echoed in the form, and a request whose
``Origin`` is another site is refused. ``GET /<broker>/login`` only shows the form. A
code the user types travels in a POSTed form, never in a URL: a GET callback completes
only a login through the broker's own page (a URL challenge). Logins are limited to 10 a
minute per client. With ``OPENALGO_DASHBOARD_PASSWORD`` set (required to serve beyond
loopback) every page asks for it (HTTP Basic, any user name).
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from ..errors import OpenAlgoError
from ..models import IST, LoginChallenge, Session
from .apikeys import KeyRateLimiter
from .books import position_row
from .errors import Refused, error_response

if TYPE_CHECKING:
    from .app import Api

__all__ = ["CSRF_COOKIE", "LOGINS_PER_MINUTE", "TEMPLATES", "page", "register"]

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
CSRF_COOKIE = "openalgo_csrf"
LOGINS_PER_MINUTE = 10


def _csrf_cookie(request: Request) -> str | None:
    token = request.cookies.get(CSRF_COOKIE, "")
    return token if 32 <= len(token) <= 64 and token.isascii() else None


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render ``name``; the context has ``csrf``, the token this browser's forms echo
    (a new cookie when it has none). No other site may frame the page (a framed button
    could be clicked unseen)."""
    token = _csrf_cookie(request)
    fresh = token is None
    token = token or secrets.token_urlsafe(32)
    response = TEMPLATES.TemplateResponse(request, name, {**context, "csrf": token},
                                          status_code=status)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    if fresh:
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


def _status(exc: OpenAlgoError) -> int:
    return error_response(exc).status_code


def same_site(request: Request, form: Mapping[str, Any]) -> bool:
    """The form came from one of our pages: its ``csrf`` field is this browser's cookie,
    and its ``Origin``, when sent, is this host."""
    origin = request.headers.get("origin")
    if origin and urlsplit(origin).netloc != request.headers.get("host", ""):
        return False
    cookie, sent = _csrf_cookie(request), form.get("csrf")
    return cookie is not None and isinstance(sent, str) and hmac.compare_digest(cookie, sent)


def password_check(password: str | None) -> Any:
    """A dependency: with a password, the request must carry it (HTTP Basic)."""
    expected = (password or "").encode()

    def check(request: Request) -> None:
        if not expected:
            return
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        try:
            sent = base64.b64decode(value, validate=True).partition(b":")[2]
        except ValueError:
            sent = b""
        if scheme.lower() != "basic" or not hmac.compare_digest(sent, expected):
            raise Refused(HTMLResponse(
                "<h1>Password required</h1>", status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="openalgo", charset="UTF-8"'}))
    return check


def register(app: FastAPI, api: Api) -> None:
    gateway = api.gateway
    logins = KeyRateLimiter(LOGINS_PER_MINUTE, window=60.0)
    guarded = [Depends(password_check(api.env.get("OPENALGO_DASHBOARD_PASSWORD")))]

    @app.get("/{broker}/login", include_in_schema=False, dependencies=guarded)
    def login_form(request: Request, broker: str) -> Response:
        """The form that logs in (nothing happens on a GET)."""
        return page(request, "login.html", broker=broker)

    @app.post("/{broker}/login", include_in_schema=False, dependencies=guarded)
    async def login(request: Request, broker: str) -> Response:
        if not same_site(request, await request.form()):
            return page(request, "message.html", 403, title="Login refused",
                        message="This login did not come from this gateway's page (a missing"
                                " or stale form token): open the dashboard and try again.")
        client = request.client.host if request.client else ""
        if logins.hit(client):
            return page(request, "message.html", 429, title="Too many logins",
                        message="Too many logins from here; wait a minute.")
        try:
            result = await run_in_threadpool(gateway.authenticate, broker)
        except OpenAlgoError as exc:
            return page(request, "message.html", _status(exc), title="Login failed",
                        message=str(exc))
        if isinstance(result, Session):
            return RedirectResponse(f"/?loggedin={broker}", status_code=303)
        assert isinstance(result, LoginChallenge)
        if result.kind == "url" and result.url:
            return RedirectResponse(result.url, status_code=303)
        return page(request, "code.html", broker=broker, challenge=result)

    @app.api_route("/{broker}/callback", methods=["GET", "POST"], include_in_schema=False,
                   dependencies=guarded)
    async def callback(request: Request, broker: str) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
        else:
            pending = gateway.pending_challenge(broker, params.get("state", ""))
            if pending is not None and pending.kind == "code":
                return page(request, "message.html", 405, title="Login refused",
                            message="A code is sent with the login form, never in a URL;"
                                    " the login is still pending.")
        try:
            if params.get("action") == "resend":
                result = await run_in_threadpool(gateway.resend_code, broker,
                                          params.get("state", ""))
                if isinstance(result, LoginChallenge):
                    return page(request, "code.html", broker=broker, challenge=result,
                                resent=True)
                session = result
            else:
                session = await run_in_threadpool(gateway.handle_callback, broker, params)
        except OpenAlgoError as exc:
            return page(request, "message.html", _status(exc), title="Login refused",
                        message=str(exc))
        return page(request, "message.html", title="Logged in", account=broker,
                    message=f"Logged in to {broker} as {session.user_id}; session valid until "
                            f"{session.expires_at.astimezone(IST):%Y-%m-%d %H:%M} IST.")

    @app.get("/", include_in_schema=False, dependencies=guarded)
    def dashboard(request: Request) -> Response:
        cards = []
        for record in gateway.brokers(load=True):
            card: dict[str, Any] = {"record": record, "session": None, "positions": None,
                                    "error": None}
            if record.status == "ok":
                try:  # looking at the page never logs in: only a stored live session shows
                    card["session"] = stored = gateway.sessions.get(record.id)
                    if stored is None or stored.is_expired():
                        card["session"] = None
                    else:
                        card["positions"] = [position_row(p)
                                             for p in gateway.fetch_positions(record.id)]
                except OpenAlgoError as exc:
                    card["error"] = str(exc)
            cards.append(card)
        return page(request, "dashboard.html", cards=cards, IST=IST)
