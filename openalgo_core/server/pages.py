"""The browser side: broker login pages, the login callback, the dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from ..errors import OpenAlgoError
from ..models import IST, LoginChallenge, Session
from .books import position_row
from .errors import error_response

if TYPE_CHECKING:
    from .app import Api

__all__ = ["TEMPLATES", "register"]

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def _status(exc: OpenAlgoError) -> int:
    return error_response(exc).status_code


def register(app: FastAPI, api: Api) -> None:
    gateway = api.gateway

    @app.get("/{broker}/login", include_in_schema=False)
    def login(request: Request, broker: str) -> Response:
        try:
            result = gateway.authenticate(broker)
        except OpenAlgoError as exc:
            return page(request, "message.html", _status(exc), title="Login failed",
                        message=str(exc))
        if isinstance(result, Session):
            return RedirectResponse(f"/?loggedin={broker}", status_code=303)
        assert isinstance(result, LoginChallenge)
        if result.kind == "url" and result.url:
            return RedirectResponse(result.url, status_code=303)
        return page(request, "code.html", broker=broker, challenge=result)

    @app.api_route("/{broker}/callback", methods=["GET", "POST"], include_in_schema=False)
    async def callback(request: Request, broker: str) -> Response:
        params = dict(request.query_params)
        if request.method == "POST":
            form = await request.form()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
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
        return page(request, "message.html", title="Logged in",
                    message=f"Logged in to {broker} as {session.user_id}; session valid until "
                            f"{session.expires_at.astimezone(IST):%Y-%m-%d %H:%M} IST.")

    @app.get("/", include_in_schema=False)
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
