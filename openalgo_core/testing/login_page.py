"""A broker's own login page, for the simulator of a broker that logs in by redirect.

ICICI's Breeze (and ``tests/fakeredirect``) log in at a page on the broker's site: the
user types a user id and a password, and the page sends the browser back to the app's
``REDIRECT_URL`` with a one-time key (``?apisession=<key>``) and none of the app's state.
:class:`LoginPage` is that page for a :class:`~openalgo_core.testing.SimulatorBase`
subclass (mix it in before the base): ``GET`` shows the form for the app's API key, its
``POST`` checks the user and redirects (303) with a fresh key, which the broker's session
endpoint redeems once (:meth:`LoginPage.redeem_login_key`).
"""

from __future__ import annotations

import html
import secrets
import string
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

__all__ = ["LoginPage"]

_FORM = """<!doctype html><title>{title}</title>
<form method="post" action="{path}">
<input type="hidden" name="api_key" value="{api_key}">
<label>User ID <input name="user_id"></label>
<label>Password <input type="password" name="password"></label>
<button>Login</button></form>"""


class LoginPage:
    """The broker's login page, as a mixin of a simulator with ``credentials``
    (``API_KEY``, ``REDIRECT_URL``). ``user_id`` and ``password`` are the person's
    (random unless set); the class attributes are the broker's wording."""

    credentials: dict[str, str]
    #: where the page is, what it is called, the redirect's parameter, its refusals
    login_path: ClassVar[str] = "/login"
    login_title: ClassVar[str] = "Log in"
    redirect_param: ClassVar[str] = "apisession"
    bad_key_text: ClassVar[str] = "Invalid API key"
    bad_user_text: ClassVar[str] = "Invalid user ID or password"

    def __init__(self, *args: Any, user_id: str | None = None, password: str | None = None,
                 **kwargs: Any) -> None:
        #: the person at the page (not API credentials: only the page asks for them)
        self.user_id = user_id or "".join(secrets.choice(string.ascii_uppercase)
                                          for _ in range(2)) + "".join(
            secrets.choice(string.digits) for _ in range(6))
        self.password = password or secrets.token_urlsafe(9)
        self._login_keys: dict[str, str] = {}
        super().__init__(*args, **kwargs)

    def login_page_routes(self) -> list[BaseRoute]:
        return [Route(self.login_path, self.login_page, methods=["GET"]),
                Route(self.login_path, self.log_in, methods=["POST"])]

    def demo_login_params(self, challenge: Any) -> dict[str, str]:
        """What the person types at the page."""
        return {"user_id": self.user_id, "password": self.password}

    def redeem_login_key(self, key: object) -> str | None:
        """The user a key the page issued belongs to, once (None: unknown or used)."""
        return self._login_keys.pop(str(key), None)

    def forget_login_keys(self) -> None:
        self._login_keys.clear()

    async def login_page(self, request: Request) -> Response:
        api_key = self.credentials["API_KEY"]
        if request.query_params.get("api_key") != api_key:
            return HTMLResponse(f"<p>{html.escape(self.bad_key_text)}</p>", status_code=400)
        return HTMLResponse(_FORM.format(title=html.escape(self.login_title),
                                         path=self.login_path, api_key=html.escape(api_key)))

    async def log_in(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode(errors="replace")))
        if (form.get("api_key"), form.get("user_id"), form.get("password")) != (
                self.credentials["API_KEY"], self.user_id, self.password):
            return HTMLResponse(f"<p>{html.escape(self.bad_user_text)}</p>", status_code=401)
        key = "".join(secrets.choice(string.digits) for _ in range(8))
        self._login_keys[key] = self.user_id
        target = self.credentials["REDIRECT_URL"] + "?" + urlencode({self.redirect_param: key})
        return RedirectResponse(target, status_code=303)
