"""A headless user at a broker's login page: read its form, fill it, submit it.

A redirect login (ICICI's ``?apisession=``) sends the user to a page on the
broker's site; logging in there redirects the browser to ``REDIRECT_URL`` with a
token. :func:`submit_login_page` plays that user against a simulator and returns
where the broker redirected to, for the caller to follow or to read.
"""

from __future__ import annotations

from collections.abc import Mapping
from html.parser import HTMLParser

import httpx

__all__ = ["LoginPageError", "start_login", "submit_login_page"]

_REDIRECTS = (301, 302, 303, 307, 308)


class LoginPageError(Exception):
    """The login page was not a form this user can fill, or did not redirect."""


class _Form(HTMLParser):
    """The first ``<form>`` of a page: its action, method and named inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False
        self.done = False
        self.action = ""
        self.method = "get"
        self.inputs: list[tuple[str, str, str | None]] = []  # (name, type, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and not self.found:
            self.found = True
            self.action = values.get("action") or ""
            self.method = (values.get("method") or "get").lower()
        elif tag == "input" and self.found and not self.done and values.get("name"):
            self.inputs.append((values["name"] or "", (values.get("type") or "text").lower(),
                                values.get("value")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.found:
            self.done = True


def submit_login_page(http: httpx.Client, url: str, answers: Mapping[str, str]) -> httpx.URL:
    """Open ``url``, fill its form and submit it; return the redirect's target.

    Hidden and pre-filled inputs keep their values; every other input is typed
    from ``answers`` by its name. The form's reply must be a redirect (HTTP 3xx):
    its target is returned, not followed.

    Raises:
        LoginPageError: no form, an input ``answers`` lacks, or no redirect.
    """
    page = http.get(url)
    if page.status_code != 200:
        raise LoginPageError(f"login page {url} answered HTTP {page.status_code}")
    form = _Form()
    form.feed(page.text)
    if not form.found:
        raise LoginPageError(f"login page {url} has no form")
    data: dict[str, str] = {}
    for name, kind, value in form.inputs:
        if kind == "hidden" or (value is not None and name not in answers):
            data[name] = value or ""
        elif name in answers:
            data[name] = answers[name]
        else:
            raise LoginPageError(f"login page {url} asks for {name!r}, which the user lacks")
    target = page.url.join(form.action or page.url)
    reply = (http.post(target, data=data) if form.method == "post"
             else http.get(target, params=data))
    if reply.status_code not in _REDIRECTS or "location" not in reply.headers:
        raise LoginPageError(f"logging in at {target} answered HTTP {reply.status_code},"
                             f" not a redirect: {reply.text[:200]}")
    return reply.url.join(reply.headers["location"])


def start_login(http: httpx.Client, broker: str) -> httpx.Response:
    """Start a login at the gateway as its dashboard does: open ``/<broker>/login`` and
    submit its form (a POST carrying the page's CSRF token, kept as a cookie by
    ``http``). Returns the gateway's answer, not followed: a redirect (to the dashboard,
    or to the broker's own login page) or the code form.

    Raises:
        LoginPageError: the page has no form.
    """
    page = http.get(f"/{broker}/login")
    form = _Form()
    form.feed(page.text)
    if page.status_code != 200 or not form.found:
        raise LoginPageError(f"/{broker}/login answered HTTP {page.status_code} without a form")
    data = {name: value or "" for name, _, value in form.inputs}
    return http.post(page.url.join(form.action), data=data)
