"""The testing kit itself: fault middleware, simulator base, readers, wiring, fixtures."""

from __future__ import annotations

import io
import json
import logging
import re
import socket
import time
import uuid
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from starlette.requests import Request

from openalgo_core import Gateway, LoginChallenge, Registry, Session
from openalgo_core.testing import Faults, InProcessTransport, ServerThread, SimOrder
from openalgo_core.testing.browser import LoginPageError, submit_login_page
from openalgo_core.testing.conformance.garbage import fields, representatives, rewrite
from openalgo_core.testing.parsing import decimal_value, json_object, request_token, whole_value
from openalgo_core.testing.simulator import generate_credential
from openalgo_core.testing.wiring import Harness, broker_environ, wire, wire_all
from tests.fakebroker import plugin as fake
from tests.fakebroker.simulator import FakeSimulator
from tests.fakeotp.plugin import hooks as fakeotp
from tests.fakeredirect.plugin import hooks as fakeredirect

ORDER = {"token": "3045", "side": "BUY", "qty": 1, "type": "MARKET", "product": "MIS",
         "price": "0", "trigger": "0", "tag": "kit1"}


@pytest.fixture
def sim() -> FakeSimulator:
    return FakeSimulator(environ=broker_environ(fake.INFO))


def _order_body(sim: FakeSimulator, **changes: Any) -> dict[str, Any]:
    return {"json": {**ORDER, **changes},
            "headers": {"Authorization": f"Bearer {sim.issue_token('C')}"}}


@pytest.fixture
def served(sim: FakeSimulator) -> Iterator[tuple[str, ServerThread]]:
    server = ServerThread(sim.app)
    with server.running() as url:
        yield url, server


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _settled(server: ServerThread) -> None:
    """Wait (not time) until the server has finished every request it started."""
    deadline = time.monotonic() + 10
    while server.server.server_state.tasks and time.monotonic() < deadline:
        time.sleep(0.01)


# -- fault middleware, over a real socket ---------------------------------------------
def test_drop_after_accept_closes_the_socket_without_a_reply(
        sim: FakeSimulator, served: tuple[str, ServerThread]) -> None:
    url, server = served
    log = _Records()
    logging.getLogger("uvicorn.error").addHandler(log)
    try:
        sim.faults.drop_after_accept = 1
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(url + "/api/orders", **_order_body(sim))
        _settled(server)
    finally:
        logging.getLogger("uvicorn.error").removeHandler(log)
    assert [o.tag for o in sim.book.orders.values()] == ["kit1"]  # booked, then dropped
    assert log.records == []
    assert httpx.post(url + "/api/orders", **_order_body(sim, tag="kit2")).json()["ok"]


def test_drop_after_accept_in_process_is_the_same(sim: FakeSimulator) -> None:
    sim.faults.drop_after_accept = 1
    with httpx.Client(transport=InProcessTransport(sim.app), base_url="http://sim") as http, \
            pytest.raises(httpx.RemoteProtocolError):
        http.post("/api/orders", **_order_body(sim))
    assert len(sim.book.orders) == 1


def test_a_client_that_disconnects_mid_request_leaves_no_traceback(
        sim: FakeSimulator, served: tuple[str, ServerThread]) -> None:
    _, server = served
    log = _Records()
    logging.getLogger("uvicorn.error").addHandler(log)
    token = sim.issue_token("C").encode()
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as raw:
            raw.sendall(b"POST /api/orders HTTP/1.1\r\nHost: sim\r\nContent-Type: "
                        b"application/json\r\nAuthorization: Bearer " + token
                        + b"\r\nContent-Length: 500\r\n\r\n{\"token\"")
            deadline = time.monotonic() + 10
            while not sim.stats["requests"] and time.monotonic() < deadline:
                time.sleep(0.01)
        _settled(server)
    finally:
        logging.getLogger("uvicorn.error").removeHandler(log)
    assert sim.stats["requests"] == 1 and sim.book.orders == {}
    assert log.records == []


def test_latency_applies_only_in_its_scope(sim: FakeSimulator,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(anyio, "sleep", sleep)
    sim.faults = Faults(latency_ms=250, scope="orders")
    token = {"Authorization": f"Bearer {sim.issue_token('C')}"}
    with httpx.Client(transport=InProcessTransport(sim.app), base_url="http://sim") as http:
        assert http.get("/api/positions", headers=token).json()["ok"]
        assert slept == []
        assert http.post("/api/orders", **_order_body(sim)).json()["ok"]
    assert slept == [0.25]


def test_mutate_rewrites_replies_in_scope_until_cleared(sim: FakeSimulator) -> None:
    seen: list[bytes] = []

    def mutate(body: bytes) -> bytes:
        seen.append(body)
        return b'{"ok": false, "code": "X", "message": "rewritten"}'

    sim.faults = Faults(mutate=mutate, scope="orders")
    token = {"Authorization": f"Bearer {sim.issue_token('C')}"}
    with httpx.Client(transport=InProcessTransport(sim.app), base_url="http://sim") as http:
        assert http.get("/api/positions", headers=token).json()["ok"]
        for tag in ("m1", "m2"):
            assert http.post("/api/orders", **_order_body(sim, tag=tag)).json()["message"] \
                == "rewritten"
        assert len(seen) == 2 and b'"ok":true' in seen[0].replace(b" ", b"")
        sim.faults = Faults(mutate=mutate, scope="reads", stall_after_accept_ms=1)
        assert http.post("/api/orders", **_order_body(sim, tag="m3")).json()["ok"]
        assert len(seen) == 2
        control = http.get("/_sim/faults").json()
        assert control["mutate"] is True
        refused = http.post("/_sim/faults", json={"mutate": "x"})
        assert refused.status_code == 400
        assert http.post("/_sim/faults", json={"nonsense": 1}).status_code == 400


# -- simulator base --------------------------------------------------------------------
def test_quotes_move_fills_and_marks_and_reset_forgets_them(sim: FakeSimulator) -> None:
    listing = sim.by_token["3045"]
    sim.quotes["3045"] = listing.price + 10
    order = sim.book_order(SimOrder("1", "NSE", "SBIN", "3045", "BUY", 2, "MARKET", "MIS",
                                    Decimal(0), Decimal(0)))
    assert order.status == "complete" and order.average_price == listing.price + 10
    assert sim.marks()["3045"] == listing.price + 10
    (row,) = sim.book.positions(sim.marks())
    assert row.pnl == 0
    sim.reset()
    assert sim.quotes == {} and sim.price("3045") == listing.price


def test_book_order_rejects_broken_lots_and_margin_with_reasons(sim: FakeSimulator) -> None:
    future = next(r for r in sim.listings if r.kind == "FUT" and r.name == "NIFTY")

    def order(token: str, quantity: int) -> SimOrder:
        return SimOrder(sim.book.next_id(), "NFO", "X", token, "BUY", quantity, "MARKET",
                        "NRML", Decimal(0), Decimal(0))

    odd = sim.book_order(order(future.token, 10))
    assert (odd.status, odd.reason) == ("rejected", "quantity 10 is not a multiple of the"
                                                    " lot size 75")
    sim.margin_limit = Decimal(1000)
    costly = sim.book_order(order(future.token, 75))
    assert costly.status == "rejected" and costly.reason.startswith("insufficient margin")
    sim.margin_limit = None
    assert sim.book_order(order(future.token, 75)).status == "complete"
    assert [o.status for o in sim.book.orders.values()] == ["rejected", "rejected", "complete"]


def test_master_is_rendered_once_and_sized_on_request() -> None:
    renders: list[int] = []

    class Counting(FakeSimulator):
        def render_master(self, listings: Any) -> bytes:
            rows = list(listings)
            renders.append(len(rows))
            return super().render_master(rows)

    small = Counting(environ=broker_environ(fake.INFO))
    with httpx.Client(transport=InProcessTransport(small.app), base_url="http://sim") as http:
        first, second = http.get("/instruments.csv"), http.get("/instruments.csv")
    assert first.content == second.content and renders == [len(small.listings)]
    assert first.headers["content-type"].startswith("text/csv")
    big = Counting(environ=broker_environ(fake.INFO), master_size=500)
    assert len(big.master().splitlines()) == 1 + renders[-1]
    assert renders[-1] > len(small.listings)
    assert all(r.exchange in FakeSimulator.exchanges for r in small.listings)


def test_credentials_are_read_by_variable_name_or_generated() -> None:
    env = {"OPENALGO_FAKE_PIN": " '1234' "}
    sim = FakeSimulator(environ=env)
    assert sim.credentials["PIN"] == "1234"
    assert len(sim.credentials["TOTP_SECRET"]) >= 26 and sim.credentials["API_KEY"]
    assert generate_credential("REDIRECT_URL", broker="x") == \
        "http://127.0.0.1:5000/x/callback"
    assert re.fullmatch(r"\d{6}", generate_credential("MPIN"))
    assert re.fullmatch(r"[A-Z]{2}\d{3}", generate_credential("UCC"))
    token = generate_credential("ACCESS_TOKEN")
    assert str(uuid.UUID(token)) == token


@pytest.mark.parametrize("value", ["5", 5, 5.0, "2.50", "0"])
def test_decimal_value_reads_amounts(value: object) -> None:
    assert decimal_value(value) == Decimal(str(value))


@pytest.mark.parametrize("value", [
    True, None, "abc", "nan", "NaN", "inf", "-1", -1, "1e200000", "1e15",
    pytest.param(10**5000, id="huge-int"), 10**30, [1], {}, "9" * 80, float("nan")])
def test_decimal_value_refuses_garbage_cheaply(value: object) -> None:
    with pytest.raises(ValueError, match="not a"):
        decimal_value(value)


def test_whole_value_refuses_fractions() -> None:
    assert whole_value("75") == whole_value(75.0) == 75
    with pytest.raises(ValueError, match="whole"):
        whole_value("1.5")


def _request(body: bytes = b"", headers: dict[str, str] | None = None) -> Request:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "method": "POST", "headers": raw}, receive)


@pytest.mark.parametrize("body", [b"", b"[1]", b"not json", b"\xff", b"[" * 10_000,
                                  b'"text"'])
def test_json_object_refuses_anything_but_an_object(body: bytes) -> None:
    assert anyio.run(json_object, _request(body)) is None


def test_json_object_and_tokens() -> None:
    assert anyio.run(json_object, _request(b'{"a": 1}')) == {"a": 1}
    assert request_token(_request(headers={"Authorization": "Bearer  t1 "})) == "t1"
    assert request_token(_request(headers={"Authorization": "Basic t1"})) == ""
    assert request_token(_request(headers={"X-Token": "raw"}), "x-token", scheme=None) == "raw"
    assert request_token(_request()) == ""


# -- wiring ----------------------------------------------------------------------------
def test_broker_environ_covers_every_declared_field() -> None:
    env = broker_environ(fakeredirect.info, callback_base="http://127.0.0.1:8800")
    assert sorted(env) == ["OPENALGO_FAKEREDIRECT_API_KEY", "OPENALGO_FAKEREDIRECT_API_SECRET",
                           "OPENALGO_FAKEREDIRECT_REDIRECT_URL"]
    assert env["OPENALGO_FAKEREDIRECT_REDIRECT_URL"] == \
        "http://127.0.0.1:8800/fakeredirect/callback"


def test_omitted_totp_secret_makes_a_code_login_the_simulator_still_checks() -> None:
    with wire(fake, omit=("TOTP_SECRET",)) as harness:
        assert harness.var("TOTP_SECRET") not in harness.environ
        assert harness.sim.credentials["TOTP_SECRET"]
        challenge = harness.gateway.authenticate("fake")
        assert isinstance(challenge, LoginChallenge) and challenge.kind == "code"
        assert harness.answer(challenge) == {"state": challenge.state, "code": harness.totp()}
        assert isinstance(harness.login(), Session)
        assert harness.sleeps == [] and harness.mode == "inprocess" and harness.url is None


def test_the_environ_given_is_the_gateways_and_stays_live(tmp_path: Path) -> None:
    env = broker_environ(fake.INFO)
    with wire(fake, environ=env, home=tmp_path) as harness:
        assert harness.environ is env and env["OPENALGO_HOME"] == str(tmp_path)
        del env["OPENALGO_FAKE_TOTP_SECRET"]
        assert isinstance(harness.gateway.authenticate("fake"), LoginChallenge)


def test_over_http_the_gateway_and_raw_clients_reach_the_socket() -> None:
    with wire(fake, mode="http") as harness:
        assert harness.url and harness.environ["OPENALGO_FAKE_BASE_URL"] == harness.url
        harness.login()
        assert harness.gateway.place_order("fake", {"symbol": "SBIN", "exchange": "NSE",
                                                    "action": "BUY", "quantity": 1}).order_id
        assert harness.http().get("/_sim/stats").json()["orders"] == 1
        client = harness.client()
        reply = client.request("GET", client.url("api", "/api/positions"), kind="read")
        assert reply.json() == {"ok": False, "code": "EXPIRED"}
        assert len(harness.sim_orders()) == 1


def test_raw_client_in_process_speaks_to_the_brokers_hosts() -> None:
    with wire(fake) as harness:
        http = harness.http()
        assert str(http.base_url).rstrip("/") == "https://api.fake.example"
        assert http.get("https://files.fake.example/instruments.csv").status_code == 200


def test_wire_all_puts_every_broker_on_one_gateway() -> None:
    registry = Registry(environ={}, discover=False)
    for plugin in (fake, fakeotp, fakeredirect):
        registry.register_broker(plugin)
    with wire_all(registry, ["fake", "fakeotp", "fakeredirect"]) as harnesses:
        gateways = {id(h.gateway) for h in harnesses.values()}
        assert len(gateways) == 1
        for harness in harnesses.values():
            assert harness.login().broker == harness.broker


def test_a_redirect_answer_carries_the_brokers_token_and_no_state() -> None:
    with wire(fakeredirect) as harness:
        challenge = harness.gateway.authenticate("fakeredirect")
        assert isinstance(challenge, LoginChallenge) and challenge.kind == "url"
        assert challenge.url and challenge.url.startswith(
            "https://api.fakeredirect.example/apiuser/login?api_key=")
        params = harness.answer(challenge)
        assert set(params) == {"apisession"}
        assert harness.gateway.handle_callback("fakeredirect", params).broker == "fakeredirect"


# -- the headless browser ----------------------------------------------------------------
def _browser(pages: dict[str, httpx.Response]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        return pages[f"{request.method} {request.url.path}"]
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_a_login_page_is_filled_and_its_redirect_returned() -> None:
    form = ('<form method="post" action="/in"><input type="hidden" name="k" value="v">'
            '<input name="user"><input name="lang" value="en"></form>')
    browser = _browser({"GET /page": httpx.Response(200, html=form),
                        "POST /in": httpx.Response(303, headers={"location": "/back?t=1"})})
    target = submit_login_page(browser, "https://broker.example/page", {"user": "u1"})
    assert str(target) == "https://broker.example/back?t=1"


@pytest.mark.parametrize(("pages", "match"), [
    ({"GET /page": httpx.Response(200, html="<p>no form</p>")}, "no form"),
    ({"GET /page": httpx.Response(200, html='<form><input name="otp"></form>')}, "'otp'"),
    ({"GET /page": httpx.Response(404)}, "HTTP 404"),
    ({"GET /page": httpx.Response(200, html='<form method="post"></form>'),
      "POST /page": httpx.Response(200, html="wrong password")}, "not a redirect"),
])
def test_a_login_page_that_cannot_be_used_is_a_clear_error(pages: dict[str, httpx.Response],
                                                          match: str) -> None:
    with pytest.raises(LoginPageError, match=match):
        submit_login_page(_browser(pages), "https://broker.example/page", {})


# -- garbage ---------------------------------------------------------------------------
def test_rewrite_puts_raw_json_anywhere() -> None:
    body = b'{"a": {"b": [1, 2]}, "c": "x"}'
    assert (("a", "b", 1) in fields(body)) and () in fields(body)
    assert json.loads(rewrite(body, ("a", "b", 1), "null")) == {"a": {"b": [1, None]},
                                                                  "c": "x"}
    assert rewrite(body, ("c",), "1e5000") == b'{"a": {"b": [1, 2]}, "c": 1e5000}'
    assert rewrite(body, (), "[]") == b"[]"
    assert rewrite(body, ("missing",), "null") == body


def test_rewrite_csv_cells_and_zip_members() -> None:
    csv_body = b"token,tick\n1,0.05\n2,0.05\n"
    assert fields(csv_body) == [(0, "token"), (0, "tick"), (1, "token"), (1, "tick")]
    assert rewrite(csv_body, (1, "tick"), '"NaN"') == b"token,tick\n1,0.05\n2,NaN\n"
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("m.csv", csv_body)
    zipped = data.getvalue()
    assert ("m.csv", 0, "tick") in fields(zipped)
    with zipfile.ZipFile(io.BytesIO(rewrite(zipped, ("m.csv", 0, "tick"), "-1"))) as archive:
        assert archive.read("m.csv") == b"token,tick\n1,-1\n2,0.05\n"
    assert fields(b"<html><form></form></html>") == [] == fields(b"")


def test_a_sweep_may_keep_to_the_csv_columns_a_plugin_reads() -> None:
    """``garbage_columns`` narrows a CSV reply's fields to the named columns; a JSON reply
    (whose keys are no columns) keeps every field, and None keeps everything."""
    from openalgo_core.testing.conformance.sweep import _swept

    csv_body = b"tok,name,junk\n1,A,x\n2,B,y\n"
    found = representatives(fields(csv_body))
    assert _swept(found, csv_body, frozenset({"tok"})) == [(0, "tok"), (1, "tok")]
    assert _swept(found, csv_body, None) == found
    json_body = b'{"data": {"tok": 1, "junk": 2}}'
    found = representatives(fields(json_body))
    assert _swept(found, json_body, frozenset({"tok"})) == found


def test_representatives_spread_over_rows_of_each_kind_of_field() -> None:
    found = [(row, name) for row in range(9) for name in ("a", "b")]
    assert representatives(found) == [(0, "a"), (3, "a"), (6, "a"), (0, "b"), (3, "b"),
                                      (6, "b")]


# -- the pytest plugin's fixtures ----------------------------------------------------------
@pytest.fixture
def openalgo_plugin() -> Any:
    return fake


def test_fixtures_wire_the_plugin_in_process(broker_gateway: Gateway,
                                             broker_harness: Harness,
                                             broker_environ: dict[str, str],
                                             broker_totp: Any, broker_http: httpx.Client,
                                             broker_client: Any) -> None:
    assert broker_harness.environ is broker_environ
    assert broker_totp() == broker_harness.sim.totp_now()
    assert broker_http.get("/_sim/stats").json()["requests"] == 0
    reply = broker_client.request("GET", broker_client.url("files", "/instruments.csv"),
                                  kind="read")
    assert reply.text.startswith("token,")
    assert broker_gateway.authenticate("fake").broker == "fake"


def test_fixtures_over_a_socket(broker_harness_http: Harness) -> None:
    assert broker_harness_http.mode == "http" and broker_harness_http.url
    assert broker_harness_http.login().broker == "fake"


def test_the_kit_names_load_on_use_and_universe_is_the_function() -> None:
    import openalgo_core.testing as kit
    import openalgo_core.testing.simulator  # imports the universe module

    assert callable(kit.universe) and kit.universe()[0].symbol == "SBIN"
    assert kit.SimulatorBase is openalgo_core.testing.simulator.SimulatorBase
    with pytest.raises(AttributeError):
        kit.nothing_here  # noqa: B018


def test_a_simulator_accepts_a_token_the_user_already_holds_and_revokes_one(
        sim: FakeSimulator) -> None:
    """``issue_token(user, token=...)``: a token issued elsewhere (IndMoney's dashboard);
    ``revoke_token``: one session ends, the others live on."""
    held = sim.issue_token("C", token="pasted-token-1")
    other = sim.issue_token("C")
    assert held == "pasted-token-1" and sim.user_for(held) == "C" == sim.user_for(other)
    sim.revoke_token(held)
    sim.revoke_token("never-issued")
    assert sim.user_for(held) is None and sim.user_for(other) == "C"


def test_a_brokers_login_page_redirects_back_with_a_one_time_key() -> None:
    """LoginPage: the form for the app's key only; the person's user id and password; a
    303 to REDIRECT_URL with a key the session endpoint redeems once."""
    from tests.fakeredirect.plugin import INFO as REDIRECT_INFO
    from tests.fakeredirect.simulator import FakeRedirectSimulator

    sim = FakeRedirectSimulator(environ=broker_environ(REDIRECT_INFO), user_id="AB123456",
                                password="pw")
    key = sim.credentials["API_KEY"]
    with httpx.Client(transport=InProcessTransport(sim.app), base_url="http://sim") as web:
        assert web.get("/apiuser/login", params={"api_key": "wrong"}).status_code == 400
        page = web.get("/apiuser/login", params={"api_key": key})
        assert page.status_code == 200 and 'name="user_id"' in page.text
        form = {"api_key": key, "user_id": "AB123456", "password": "bad"}
        assert web.post("/apiuser/login", data=form).status_code == 401
        back = web.post("/apiuser/login", data={**form, "password": "pw"})
    assert back.status_code == 303
    target = httpx.URL(back.headers["location"])
    assert str(target).startswith(sim.credentials["REDIRECT_URL"] + "?apisession=")
    once = target.params["apisession"]
    assert sim.redeem_login_key(once) == "AB123456"
    assert sim.redeem_login_key(once) is None
