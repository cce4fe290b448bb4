"""Safe defaults: the Host header, wrong keys rate-limited, the key and the body size
checked before a body is read, login as a CSRF-protected POST that a typo does not use
up and that never takes a code in a URL, pending logins capped, a dashboard password,
and no serving beyond loopback without a flag and that password."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openalgo_core import Gateway, totp_now
from openalgo_core.gateway import LOGIN_ATTEMPTS, MAX_PENDING_LOGINS
from openalgo_core.server import ApiKeys, create_app
from openalgo_core.server.apikeys import KeyRateLimiter
from openalgo_core.server.guard import MAX_BODY
from openalgo_core.testing import InProcessTransport
from openalgo_core.testing.browser import start_login
from tests.conftest import KEY, ORDER, Clock, post
from tests.fakebroker.simulator import FakeSimulator
from tests.test_cli import bare_cwd, one_error_line, run  # noqa: F401 (a fixture)


def app_for(gateway: Gateway, env: dict[str, str], **kwargs: Any) -> Any:
    env = {**env, "OPENALGO_API_KEY": KEY, "OPENALGO_BROKER": "fake"}
    return create_app(gateway, environ=env, api_keys=ApiKeys(env, Path("/nonexistent")),
                      **kwargs)


# -- the Host header ----------------------------------------------------------------------
@pytest.mark.parametrize("host", ["evil.example", "evil.example:5000", "127.0.0.1.evil.example",
                                  ""])
def test_a_foreign_host_is_refused_everywhere(web: httpx.Client, gateway: Gateway,
                                              host: str) -> None:
    gateway.authenticate("fake")
    for method, path in (("GET", "/"), ("POST", "/api/v1/positionbook"), ("GET", "/docs")):
        response = web.request(method, path, json={"apikey": KEY}, headers={"host": host})
        assert response.status_code == 400, (path, response.text)
        assert "is not this gateway's" in response.json()["message"]
        assert "C42" not in response.text


def test_configured_hosts_are_answered(gateway: Gateway, fake_env: dict[str, str]) -> None:
    env = {**fake_env, "REDIRECT_URL": "http://trading.lan:5000/fake/callback",
           "OPENALGO_ALLOWED_HOSTS": "box.example, other.example"}
    app = app_for(gateway, env)
    with httpx.Client(transport=InProcessTransport(app), base_url="http://x") as web:
        for host in ("127.0.0.1:5000", "localhost", "[::1]:5000", "trading.lan:5000",
                     "BOX.example", "other.example"):
            assert web.post("/api/v1/ping", json={"apikey": KEY},
                            headers={"host": host}).status_code == 200, host


# -- wrong keys ---------------------------------------------------------------------------
def test_wrong_keys_are_rate_limited_per_client(gateway: Gateway, fake_env: dict[str, str],
                                                clock: Clock) -> None:
    app = app_for(gateway, fake_env,
                  wrong_key_limiter=KeyRateLimiter(3, clock=clock, window=60.0))
    with httpx.Client(transport=InProcessTransport(app), base_url="http://127.0.0.1") as web:
        assert [post(web, "ping", {"apikey": f"guess{i}"})[0] for i in range(3)] == [403] * 3
        for body, headers in (({"apikey": "guess"}, {}), ({"apikey": KEY}, {}),
                              ({}, {"X-API-KEY": KEY})):
            response = web.post("/api/v1/ping", json=body, headers=headers)
            assert response.status_code == 429, response.text  # even the right key now
            assert response.headers["Retry-After"] == "60"
            assert response.json()["message"].startswith("too many wrong API keys")
        clock.now += 60
        assert post(web, "ping", {"apikey": KEY})[0] == 200


def test_a_wrong_header_key_is_refused_before_the_body_is_read(gateway: Gateway,
                                                               fake_env: dict[str, str]) -> None:
    app = app_for(gateway, fake_env)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        pytest.fail("the body was read")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    def call(headers: list[tuple[bytes, bytes]]) -> int:
        sent.clear()
        scope = {"type": "http", "method": "POST", "path": "/api/v1/placeorder",
                 "raw_path": b"/api/v1/placeorder", "query_string": b"", "root_path": "",
                 "scheme": "http", "server": ("127.0.0.1", 5000), "client": ("127.0.0.1", 1),
                 "http_version": "1.1", "headers": [(b"host", b"127.0.0.1"), *headers]}
        asyncio.run(app(scope, receive, send))
        return int(sent[0]["status"])

    assert call([(b"x-api-key", b"wrong"), (b"content-length", b"100")]) == 403
    assert call([(b"content-length", str(MAX_BODY + 1).encode())]) == 413
    assert call([(b"content-length", b"-1")]) == 400


def test_a_body_streamed_past_the_limit_is_cut_off(web: httpx.Client) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"apikey": "' + b"k" * MAX_BODY
        yield b'"}'
    response = web.post("/api/v1/ping", content=chunks(),
                        headers={"content-type": "application/json"})
    assert response.status_code == 413 and response.json()["status"] == "error"


# -- logging in ---------------------------------------------------------------------------
def test_a_get_never_logs_in_and_a_post_needs_the_pages_token(web: httpx.Client,
                                                              gateway: Gateway) -> None:
    page = web.get("/fake/login")
    assert page.status_code == 200 and gateway.sessions.get("fake") is None
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None and web.cookies["openalgo_csrf"] == token[1]
    cross_site = httpx.Client(transport=web._transport, base_url="http://127.0.0.1")
    for client, data, headers in (
            (cross_site, {"csrf": token[1]}, {}),  # no cookie: another site's form
            (web, {}, {}), (web, {"csrf": "x" * 43}, {}),
            (web, {"csrf": token[1]}, {"origin": "http://evil.example"})):
        refused = client.post("/fake/login", data=data, headers=headers)
        assert refused.status_code == 403 and "did not come from" in refused.text
    assert gateway.sessions.get("fake") is None
    done = web.post("/fake/login", data={"csrf": token[1]},
                    headers={"origin": "http://127.0.0.1"})
    assert done.status_code == 303 and gateway.session("fake").user_id == "C42"


def test_a_mistyped_code_leaves_the_login_pending(web: httpx.Client, gateway: Gateway,
                                                  fake_env: dict[str, str]) -> None:
    secret = fake_env.pop("OPENALGO_FAKE_TOTP_SECRET")
    form = start_login(web, "fake").text
    state = form.split('name="state" value="')[1].split('"')[0]
    for _ in range(LOGIN_ATTEMPTS - 1):
        typo = web.post("/fake/callback", data={"state": state, "code": "000000"})
        assert typo.status_code == 401 and "already used" not in typo.text
    done = web.post("/fake/callback", data={"state": state, "code": totp_now(secret)})
    assert done.status_code == 200 and "Logged in to fake as C42" in done.text
    again = start_login(web, "fake").text
    state = again.split('name="state" value="')[1].split('"')[0]
    for _ in range(LOGIN_ATTEMPTS):
        web.post("/fake/callback", data={"state": state, "code": "000000"})
    late = web.post("/fake/callback", data={"state": state, "code": totp_now(secret)})
    assert late.status_code == 401 and "already used" in late.text  # withdrawn


def test_a_code_never_travels_in_a_url(web: httpx.Client, gateway: Gateway,
                                       fake_env: dict[str, str]) -> None:
    secret = fake_env.pop("OPENALGO_FAKE_TOTP_SECRET")
    form = start_login(web, "fake").text
    state = form.split('name="state" value="')[1].split('"')[0]
    in_url = web.get("/fake/callback", params={"state": state, "code": totp_now(secret)})
    assert in_url.status_code == 405 and "never in a URL" in in_url.text
    assert gateway.sessions.get("fake") is None
    assert web.post("/fake/callback", data={"state": state, "code": totp_now(secret)}
                    ).status_code == 200


def test_pending_logins_are_capped(gateway: Gateway, fake_env: dict[str, str]) -> None:
    fake_env.pop("OPENALGO_FAKE_TOTP_SECRET")
    states = [gateway.authenticate("fake").state for _ in range(MAX_PENDING_LOGINS * 3)]
    pending = [s for s in states if gateway.pending_challenge("fake", s) is not None]
    assert pending == states[-MAX_PENDING_LOGINS:]
    assert len(gateway._challenges) == MAX_PENDING_LOGINS


def test_logins_are_rate_limited(web: httpx.Client) -> None:
    answers = [start_login(web, "fake").status_code for _ in range(11)]
    assert answers == [303] * 10 + [429]


# -- beyond loopback ---------------------------------------------------------------------------
def test_a_dashboard_password_guards_the_pages(gateway: Gateway,
                                               fake_env: dict[str, str]) -> None:
    app = app_for(gateway, {**fake_env, "OPENALGO_DASHBOARD_PASSWORD": "s3cret"})
    with httpx.Client(transport=InProcessTransport(app), base_url="http://127.0.0.1") as web:
        for path in ("/", "/fake/login", "/fake/callback"):
            response = web.get(path)
            assert response.status_code == 401 and "WWW-Authenticate" in response.headers
        wrong = base64.b64encode(b"me:guess").decode()
        assert web.get("/", headers={"authorization": f"Basic {wrong}"}).status_code == 401
        web.auth = httpx.BasicAuth("anyone", "s3cret")
        assert web.get("/").status_code == 200
        assert start_login(web, "fake").status_code == 303
        assert post(web, "ping", {"apikey": KEY})[0] == 200  # the API takes its key only


@pytest.mark.usefixtures("bare_cwd")
def test_serving_beyond_loopback_needs_the_flag_and_a_password(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    import uvicorn

    served: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(kw))
    monkeypatch.setenv("OPENALGO_API_KEY", KEY)
    monkeypatch.delenv("OPENALGO_DASHBOARD_PASSWORD", raising=False)
    assert run(gateway, "serve", "--host", "0.0.0.0")[0] == 1
    assert "pass --allow-remote" in one_error_line(capsys)
    assert run(gateway, "serve", "--host", "0.0.0.0", "--allow-remote")[0] == 1
    assert "needs OPENALGO_DASHBOARD_PASSWORD" in one_error_line(capsys)
    monkeypatch.setenv("OPENALGO_DASHBOARD_PASSWORD", "s3cret")
    assert run(gateway, "serve", "--host", "0.0.0.0", "--allow-remote")[0] == 0
    assert run(gateway, "serve")[0] == 0  # loopback: no flag, no password
    assert [s["host"] for s in served] == ["0.0.0.0", "127.0.0.1"]


def test_order_endpoints_still_work_with_everything_on(web: httpx.Client, logged_in: Gateway,
                                                       fake_sim: FakeSimulator) -> None:
    assert post(web, "placeorder", ORDER)[0] == 200 and len(fake_sim.book.orders) == 1
