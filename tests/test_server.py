"""REST contract of the gateway (OpenAlgo /api/v1 shapes), login pages, dashboard."""

from __future__ import annotations

import datetime as dt
import re
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest

from openalgo_core import (
    ConfigurationError,
    Gateway,
    LoginChallenge,
    MemorySessionStore,
    Registry,
    SettlePolicy,
    totp_now,
)
from openalgo_core.server import ApiKeys, create_api_key, create_app, default_broker
from openalgo_core.testing import InProcessTransport
from openalgo_core.testing.browser import start_login
from tests.conftest import KEY, ORDER, Clock, post
from tests.fakebroker.asking import AskingBroker
from tests.fakebroker.simulator import FakeSimulator


def test_ping(web: httpx.Client) -> None:
    assert post(web, "ping", {"apikey": KEY}) == (
        200, {"status": "success", "data": {"message": "pong", "broker": "fake"}})


@pytest.mark.parametrize("body", [{"apikey": "wrong"}, {}, {"apikey": ""}])
def test_bad_or_missing_key_is_openalgos_403(web: httpx.Client, body: dict[str, Any]) -> None:
    for path in ("ping", "positionbook", "placeorder", "closeposition"):
        status, reply = post(web, path, {**ORDER, **body} if path == "placeorder" and body
                             else body)
        if path == "placeorder" and not body:
            continue  # missing fields are reported first by schema validation
        assert (status, reply) == (403, {"status": "error",
                                         "message": "Invalid openalgo apikey"}), path


def test_key_in_header(web: httpx.Client) -> None:
    response = web.post("/api/v1/ping", json={}, headers={"X-API-KEY": KEY})
    assert response.status_code == 200


def test_placeorder_success_shape(web: httpx.Client, logged_in: Gateway,
                                  fake_sim: FakeSimulator) -> None:
    status, reply = post(web, "placeorder", ORDER)
    assert status == 200 and set(reply) == {"orderid", "status"} and reply["status"] == "success"
    assert reply["orderid"] in fake_sim.book.orders


@pytest.mark.parametrize(("change", "needle"), [
    ({"quantity": "0"}, "quantity"),
    ({"pricetype": "LIMIT"}, "price"),
    ({"symbol": "SBINN"}, "did you mean SBIN"),
    ({"exchange": "NSE_INDEX", "symbol": "NIFTY"}, "index exchange"),
    ({"pricetyp": "LIMIT"}, "pricetyp"),
])
def test_placeorder_bad_input_is_400_and_nothing_sent(
        web: httpx.Client, logged_in: Gateway, fake_sim: FakeSimulator,
        change: dict[str, Any], needle: str) -> None:
    status, reply = post(web, "placeorder", {**ORDER, **change})
    assert status == 400 and reply["status"] == "error" and needle in reply["message"]
    assert fake_sim.book.orders == {}


def test_malformed_json_is_400(web: httpx.Client) -> None:
    response = web.post("/api/v1/placeorder", content=b"{not json",
                        headers={"content-type": "application/json"})
    assert response.status_code == 400 and response.json()["status"] == "error"


def test_broker_rejection_is_400_with_brokers_message(web: httpx.Client, logged_in: Gateway,
                                                      fake_sim: FakeSimulator) -> None:
    fake_sim.faults.reject_orders = 1
    status, reply = post(web, "placeorder", ORDER)
    assert (status, reply["message"], reply["code"]) == (400, "not allowed", "R42")


def test_unknown_outcome_carries_the_tag(web: httpx.Client, logged_in: Gateway,
                                         fake_sim: FakeSimulator) -> None:
    fake_sim.faults.drop_after_accept = 1  # the reply is lost: settled from the order book
    status, reply = post(web, "placeorder", {**ORDER, "tag": "mytag1"})
    (booked,) = fake_sim.book.orders.values()
    assert status == 200 and reply["orderid"] == booked.order_id
    logged_in.settle_policy = SettlePolicy(attempts=1)
    fake_sim.faults.error_rate = 1.0  # 503 before booking: absent, but not for long enough
    fake_sim.faults.scope = "orders"
    status, reply = post(web, "placeorder", {**ORDER, "tag": "mytag2"})
    assert status == 502 and reply["tag"] == "mytag2" and "order book" in reply["message"]
    status, reply = post(web, "placeorder", {**ORDER, "tag": "mytag2"})  # a client retry
    assert status == 504 and reply["tag"] == "mytag2" and "sent before" in reply["message"]
    assert len(fake_sim.book.orders) == 1  # nothing resent
    fake_sim.faults.error_rate = 0.0
    logged_in.settle_policy = SettlePolicy(attempts=1, grace=dt.timedelta(0))
    status, reply = post(web, "placeorder", {**ORDER, "tag": "mytag2"})  # settled: absent
    assert status == 200 and len(fake_sim.book.orders) == 2  # ... so now it is sent, once


def test_not_logged_in_is_401(web: httpx.Client, gateway: Gateway) -> None:
    gateway.auto_login = False
    status, reply = post(web, "positionbook", {"apikey": KEY})
    assert status == 401 and "not logged in" in reply["message"]


def test_unknown_broker_is_404(web: httpx.Client) -> None:
    status, reply = post(web, "positionbook", {"apikey": KEY, "broker": "zerodha"})
    assert status == 404 and reply["status"] == "error"


def test_order_rate_limit_per_key(web: httpx.Client, logged_in: Gateway, clock: Clock) -> None:
    for _ in range(10):
        assert post(web, "placeorder", ORDER)[0] == 200
    status, reply = post(web, "placeorder", ORDER)
    assert status == 429 and reply["message"].startswith("Rate limit exceeded")
    assert 0 < reply["retry_after"] <= 1
    assert post(web, "positionbook", {"apikey": KEY})[0] == 200  # reads have their own limit
    clock.now += 1.0
    assert post(web, "placeorder", ORDER)[0] == 200


def test_positionbook_shape(web: httpx.Client, logged_in: Gateway) -> None:
    assert post(web, "positionbook", {"apikey": KEY}) == (200, {"status": "success", "data": []})
    post(web, "placeorder", ORDER)
    status, reply = post(web, "positionbook", {"apikey": KEY})
    assert status == 200
    (row,) = reply["data"]
    assert list(row) == ["symbol", "exchange", "product", "quantity", "average_price", "ltp",
                         "pnl"]
    assert (row["symbol"], row["exchange"], row["product"], row["quantity"]) == (
        "SBIN", "NSE", "MIS", 2)
    assert isinstance(row["ltp"], float) and round(row["pnl"], 2) == row["pnl"]


def test_placesmartorder_reaches_the_target(web: httpx.Client, logged_in: Gateway) -> None:
    smart = {**ORDER, "position_size": "5"}
    assert post(web, "placesmartorder", smart)[0] == 200
    assert logged_in.fetch_positions("fake")[0].quantity == 5
    status, reply = post(web, "placesmartorder", smart)
    assert status == 200 and "No Action" in reply["message"] and "orderid" not in reply
    assert post(web, "placesmartorder", {**smart, "action": "SELL", "position_size": -2})[0] == 200
    assert logged_in.fetch_positions("fake")[0].quantity == -2


def test_closeposition_flattens_everything(web: httpx.Client, logged_in: Gateway) -> None:
    post(web, "placeorder", ORDER)
    post(web, "placeorder", {**ORDER, "symbol": "INFY", "action": "SELL", "quantity": 3})
    status, reply = post(web, "closeposition", {"apikey": KEY, "strategy": "t"})
    assert status == 200 and reply["status"] == "success" and len(reply["orders"]) == 2
    assert {p.quantity for p in logged_in.fetch_positions("fake")} == {0}


def test_openapi_docs(web: httpx.Client) -> None:
    assert web.get("/docs").status_code == 200
    paths = web.get("/openapi.json").json()["paths"]
    assert {"/api/v1/placeorder", "/api/v1/placesmartorder", "/api/v1/closeposition",
            "/api/v1/positionbook", "/api/v1/ping"} <= set(paths)


def test_unexpected_errors_are_500_without_traceback(web: httpx.Client, gateway: Gateway,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(broker: str) -> None:
        raise KeyError("data")
    monkeypatch.setattr(gateway, "fetch_positions", boom)
    response = web.post("/api/v1/positionbook", json={"apikey": KEY})
    assert response.status_code == 500 and "Traceback" not in response.text
    assert response.json() == {"status": "error", "message": "internal error; see the server log"}


def test_default_broker(gateway: Gateway) -> None:
    assert default_broker(gateway, {"OPENALGO_BROKER": "Angel"}) == "angel"
    assert default_broker(gateway, {"REDIRECT_URL": "http://127.0.0.1:5000/kotak/callback"}) \
        == "kotak"
    assert default_broker(gateway, {}) == "fake"  # the only one installed


def test_totp_login_redirects_to_dashboard(web: httpx.Client, gateway: Gateway) -> None:
    response = start_login(web, "fake")
    assert response.status_code == 303 and response.headers["location"] == "/?loggedin=fake"
    assert gateway.session("fake").user_id == "C42"


def test_code_login_through_the_form_and_replay_refused(
        web: httpx.Client, gateway: Gateway, fake_env: dict[str, str]) -> None:
    secret = fake_env.pop("OPENALGO_FAKE_TOTP_SECRET")
    form = start_login(web, "fake")
    assert form.status_code == 200 and 'name="code"' in form.text
    state = form.text.split('name="state" value="')[1].split('"')[0]
    forged = web.post("/fake/callback", data={"state": "forged", "code": totp_now(secret)})
    assert forged.status_code == 401 and "Login refused" in forged.text
    done = web.post("/fake/callback", data={"state": state, "code": totp_now(secret)})
    assert done.status_code == 200 and "Logged in to fake as C42" in done.text
    replay = web.post("/fake/callback", data={"state": state, "code": totp_now(secret)})
    assert replay.status_code == 401 and "already used" in replay.text


def test_dashboard(web: httpx.Client, gateway: Gateway) -> None:
    page = web.get("/").text
    assert "Fake Broker" in page and 'action="/fake/login"' in page and "Not logged in" in page
    gateway.authenticate("fake")
    gateway.place_order("fake", {k: v for k, v in ORDER.items() if k != "apikey"})
    page = web.get("/").text
    assert "Logged in as C42" in page and '<table class="positions">' in page
    assert "<td>SBIN</td>" in page


def test_apikey_stores_only_a_hash(tmp_path: Path) -> None:
    key = create_api_key(tmp_path)
    stored = (tmp_path / "apikey.sha256").read_text()
    assert key not in stored and stat.S_IMODE((tmp_path / "apikey.sha256").stat().st_mode) == 0o600
    keys = ApiKeys({}, tmp_path)
    assert keys.check(key) and not keys.check(key[:-1] + "x") and not keys.check(None)


def test_redirect_style_login_sends_the_browser_to_the_broker(
        web: httpx.Client, gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:

    challenge = LoginChallenge(broker="fake", kind="url", prompt="Log in at the broker",
                               url="https://broker.example/login?state=s1", state="s1")
    monkeypatch.setattr(gateway, "authenticate", lambda broker: challenge)
    response = start_login(web, "fake")
    assert response.status_code == 303
    assert response.headers["location"] == "https://broker.example/login?state=s1"


def test_serve_address_follows_redirect_url(monkeypatch: pytest.MonkeyPatch) -> None:
    from openalgo_core.cli import serve_address

    monkeypatch.delenv("REDIRECT_URL", raising=False)
    assert serve_address(None, None) == ("127.0.0.1", 5000)
    monkeypatch.setenv("REDIRECT_URL", "'http://127.0.0.1:5055/angel/callback'")
    assert serve_address(None, None) == ("127.0.0.1", 5055)
    assert serve_address("0.0.0.0", 8000) == ("0.0.0.0", 8000)


def test_the_login_form_asks_for_every_field(fake_env: dict[str, str], tmp_path: Path) -> None:
    broker = AskingBroker()
    registry = Registry(environ=fake_env, discover=False)
    registry.register_broker(broker)
    gateway = Gateway(registry=registry, environ=fake_env, session_store=MemorySessionStore(),
                      cache_dir=tmp_path)
    env = {**fake_env, "OPENALGO_API_KEY": KEY}
    app = create_app(gateway, environ=env, api_keys=ApiKeys(env, tmp_path))
    with httpx.Client(transport=InProcessTransport(app), base_url="http://127.0.0.1") as web:
        form = start_login(web, "fake").text
        inputs = re.findall(r'<label>([^<]+)<br>\s*<input name="(\w+)"[^>]* type="(\w+)"', form)
        assert inputs == [("Client ID", "client_id", "text"), ("PIN", "pin", "password"),
                          ("Code", "code", "text")]
        assert "Log in to Fake" in form
        state = form.split('name="state" value="')[1].split('"')[0]
        done = web.post("/fake/callback", data={"state": state, "client_id": "C77",
                                                "pin": "4321", "code": "123456"})
    assert done.status_code == 200 and "Logged in to fake as C77" in done.text
    assert "4321" not in done.text
    assert broker.params[0]["pin"] == "4321" and broker.params[0]["code"] == "123456"
    assert not any(b"4321" in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


@pytest.mark.parametrize(("name", "value"), [
    ("OPENALGO_ORDER_RATE_LIMIT", "ten"), ("OPENALGO_ORDER_RATE_LIMIT", "0"),
    ("OPENALGO_API_RATE_LIMIT", "-5"), ("OPENALGO_API_RATE_LIMIT", "2.5"),
    ("OPENALGO_API_RATE_LIMIT", "\u0665"),
])
def test_bad_rate_limit_settings_name_the_variable(gateway: Gateway, tmp_path: Path, name: str,
                                                   value: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        create_app(gateway, environ={name: value}, api_keys=ApiKeys({}, tmp_path))
    assert str(info.value).startswith(f"{name} must be a whole number")


def test_rate_limit_settings_are_used(gateway: Gateway, tmp_path: Path) -> None:
    env = {"OPENALGO_API_KEY": KEY, "OPENALGO_BROKER": "fake", "OPENALGO_API_RATE_LIMIT": " 2 "}
    app = create_app(gateway, environ=env, api_keys=ApiKeys(env, tmp_path))
    with httpx.Client(transport=InProcessTransport(app), base_url="http://127.0.0.1") as web:
        assert [post(web, "ping", {"apikey": KEY})[0] for _ in range(3)] == [200, 200, 429]


def test_malformed_redirect_url_fails_at_start(gateway: Gateway, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="REDIRECT_URL has a malformed host or port"):
        create_app(gateway, environ={"REDIRECT_URL": "http://127.0.0.1:50x0/fake/callback"},
                   api_keys=ApiKeys({}, tmp_path))


@pytest.mark.parametrize("content", ["", "zz" * 32, "ab" * 16, "\u00e9" * 64])
def test_corrupt_api_key_file_says_what_to_do(tmp_path: Path, content: str) -> None:
    (tmp_path / "apikey.sha256").write_text(content)
    with pytest.raises(ConfigurationError, match="corrupt: run `openalgo apikey`"):
        ApiKeys({}, tmp_path)


def test_api_key_file_in_an_unusable_home(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"/dev/null \(from OPENALGO_HOME\)"):
        ApiKeys({}, Path("/dev/null"))
    with pytest.raises(ConfigurationError, match=r"/dev/null \(from OPENALGO_HOME\)"):
        create_api_key(Path("/dev/null"))
    with pytest.raises(ConfigurationError, match=r"/sys \(from OPENALGO_HOME\) is not a writable"):
        create_api_key(Path("/sys"))
    (tmp_path / "apikey.sha256").mkdir()
    with pytest.raises(ConfigurationError, match="cannot read the API key file"):
        ApiKeys({}, tmp_path)


def test_a_sent_code_can_be_sent_again_from_the_login_page(tmp_path: Path) -> None:
    """A broker that texts its code (Definedge): "Send a new code" starts the login again,
    the old code and page are withdrawn, the new code logs in."""
    from openalgo_core.testing.wiring import wire
    from tests.fakeotp.plugin import hooks as fakeotp

    with wire(fakeotp, home=tmp_path / "home") as harness:
        app = create_app(harness.gateway, environ={"OPENALGO_API_KEY": KEY},
                         api_keys=ApiKeys({"OPENALGO_API_KEY": KEY}, Path("/nonexistent")))
        with httpx.Client(transport=InProcessTransport(app), base_url="http://127.0.0.1") as web:
            page = start_login(web, "fakeotp")
            assert "Send a new code" in page.text
            first = re.search(r'name="state" value="([^"]+)"', page.text)
            assert first is not None
            old_code = harness.sim.user_code()
            again = web.post("/fakeotp/callback", data={"state": first[1], "action": "resend"})
            assert again.status_code == 200 and "A new code was sent" in again.text
            second = re.search(r'name="state" value="([^"]+)"', again.text)
            assert second is not None and second[1] != first[1]
            assert len(harness.sim.sent_otps) == 2 and harness.sim.user_code() != old_code
            stale = web.post("/fakeotp/callback", data={"state": first[1], "code": old_code})
            assert stale.status_code == 401 and "already used state" in stale.text
            done = web.post("/fakeotp/callback",
                            data={"state": second[1], "code": harness.sim.user_code()})
            assert done.status_code == 200 and "Logged in to fakeotp" in done.text
            replay = web.post("/fakeotp/callback", data={"state": second[1], "action": "resend"})
            assert replay.status_code == 401 and len(harness.sim.sent_otps) == 2
