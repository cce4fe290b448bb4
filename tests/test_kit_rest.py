"""RestBroker and KitHooks: the hook bodies written once, on a broker made of facts."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pyotp
import pytest

from openalgo_core import (
    CORE_API,
    AuthenticationError,
    BrokerInfo,
    BrokerResponseError,
    CredentialField,
    Gateway,
    Instrument,
    LoginChallenge,
    LoginRequiredError,
    MemorySessionStore,
    OrderJournal,
    OrderRejectedError,
    Registry,
    Session,
    UnreadableOrderReplyError,
)
from openalgo_core.config import Credentials
from openalgo_core.http import BrokerClient, ProgressCallback, request_meta
from openalgo_core.instruments import InstrumentIndex
from openalgo_core.kit import (
    Call,
    Codes,
    Envelope,
    InstrumentBuilder,
    KitHooks,
    Login,
    Replies,
    RestBroker,
    Row,
)
from openalgo_core.models import OrderRequest, Position

INFO = BrokerInfo(
    id="kitfake", display_name="Kit Fake", exchanges=frozenset({"NSE"}), login_style="totp",
    credentials=(CredentialField(name="API_KEY", secret=True),
                 CredentialField(name="CLIENT_ID", secret=False, at_login=True),
                 CredentialField(name="PIN", secret=True, at_login=True),
                 CredentialField(name="TOTP_SECRET", secret=True, required=False)),
    base_urls={"api": "https://api.kitfake.example"}, core_api=CORE_API)


class KitFake(RestBroker):
    """A whole broker as facts: the kind of package the kit is for."""

    info = INFO
    replies = Replies(broker="kitfake",
                      envelopes=(Envelope(status="ok", ok=("true",), failed=("false",),
                                          code=("code",), message=("msg",), data="data"),),
                      session_expired=Codes(codes=("EXPIRED",)))
    order_id_at = ("data.id",)
    field_labels: ClassVar[Mapping[str, str]] = {
        "code": "TOTP", "mobile": "Mobile Number"}  # mobile: never asked

    def headers(self, credentials: Credentials, session: Session | None) -> Mapping[str, str]:
        auth = {"Authorization": session.access_token.get_secret_value()} if session else {}
        key = credentials.get("API_KEY")
        return {"X-Key": key, **auth} if key else auth

    def finish_login(self, login: Login) -> Session:
        client_id, pin = login.credentials.require("CLIENT_ID", "PIN")
        reply = self.send(login.client, Call("POST", "api", "/login", json={
            "client": client_id, "pin": pin, "totp": login.code}), kind="login",
            credentials=login.credentials)
        data = reply.data if isinstance(reply.data, dict) else {}
        return self.session(reply, client_id, data.get("token"),
                            hosts={"trade": data.get("trade_url")})

    def order_call(self, order: OrderRequest, instrument: Instrument,
                   credentials: Credentials) -> Call:
        return Call("POST", "trade", "/orders", json={"token": instrument.token,
                                                      "qty": order.quantity, "tag": order.tag})

    def positions_call(self, credentials: Credentials) -> Call:
        return Call("GET", "trade", "/positions")

    def position(self, row: Row, instruments: InstrumentIndex) -> Position:
        return Position(symbol=row.text("sym"), exchange="NSE", product="MIS",
                        quantity=row.whole("qty"), average_price=row.decimal("avg"),
                        ltp=row.decimal("ltp"), pnl=row.decimal("pnl"))

    def master(self, client: BrokerClient, progress: ProgressCallback,
               session: Session | None) -> list[Instrument]:
        self.require_session(session)
        self.download(client, Call("GET", "api", "/master.csv", headers={"X-Key": "key1"}),
                      session=session, progress=progress)
        with InstrumentBuilder(self.broker) as build:
            build.equity("SBIN", "NSE", "SBIN", "NSE", "3045", "SBIN", 1, "0.05")
        return build.result()


HOOKS = KitHooks(INFO, broker=f"{__name__}:KitFake")
SECRET = pyotp.random_base32()
ENV = {"OPENALGO_KITFAKE_API_KEY": "key1", "OPENALGO_KITFAKE_CLIENT_ID": "C1",
       "OPENALGO_KITFAKE_PIN": "1234", "OPENALGO_KITFAKE_TOTP_SECRET": SECRET}
Handler = Callable[[httpx.Request], httpx.Response]


class Broker:
    """A scripted broker: records requests, answers from ``replies`` by path."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.replies: dict[str, Any] = {
            "/login": {"ok": True, "data": {"token": "tok-1", "trade_url":
                                            "https://t7.kitfake.example/v2"}},
            "/v2/orders": {"ok": True, "data": {"id": "O-1"}},
            "/v2/positions": {"ok": True, "data": [
                {"sym": "SBIN", "qty": "2", "avg": "800", "ltp": "810.5", "pnl": "21"}]},
            "/master.csv": httpx.Response(200, text="token,symbol\n"),
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.replies[request.url.path]
        if isinstance(answer, list):  # one reply per call, in turn
            answer = answer.pop(0) if answer else {"ok": True, "data": []}
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, content=json.dumps(answer).encode())


@pytest.fixture
def broker() -> Broker:
    return Broker()


def gateway(broker: Broker, tmp_path: Path, env: Mapping[str, str] = ENV) -> Gateway:
    registry = Registry(environ=env, discover=False)
    registry.register_broker(HOOKS)
    return Gateway(registry=registry, environ=env, session_store=MemorySessionStore(),
                   cache_dir=tmp_path, transports={"kitfake": httpx.MockTransport(broker)},
                   sleep=lambda s: None, journal=OrderJournal(tmp_path / "journal.db"),
                   auto_login=False)


@pytest.fixture
def gw(broker: Broker, tmp_path: Path) -> Iterator[Gateway]:
    with gateway(broker, tmp_path) as g:
        yield g


def order(**fields: Any) -> dict[str, Any]:
    return {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1, **fields}


def test_a_master_behind_auth_needs_a_login(gw: Gateway, broker: Broker) -> None:
    with pytest.raises(AuthenticationError, match="log in first"):
        gw.instruments("kitfake")
    assert broker.requests == []


def test_kit_hooks_load_as_a_plugin_without_defaults() -> None:
    registry = Registry(environ={}, discover=False)
    assert registry.register_broker(HOOKS) is INFO


def test_unattended_login_and_a_session_host(gw: Gateway, broker: Broker) -> None:
    session = gw.authenticate("kitfake")
    assert isinstance(session, Session)
    (login,) = broker.requests
    assert request_meta(login).kind == "login"
    assert json.loads(login.content)["totp"] == pyotp.TOTP(SECRET).now()
    receipt = gw.place_order("kitfake", order())
    sent = broker.requests[-1]
    assert broker.requests[1].url.path == "/master.csv"  # the master behind auth, logged in
    assert broker.requests[1].headers["authorization"] == "tok-1"
    assert sent.url.host == "t7.kitfake.example"  # the host the login named
    assert request_meta(sent).kind == "order" and request_meta(sent).tag == receipt.tag
    assert json.loads(sent.content)["tag"] == receipt.tag and receipt.order_id == "O-1"
    (position,) = gw.fetch_positions("kitfake")
    assert (position.quantity, position.ltp) == (2, Decimal("810.5"))


def test_the_login_asks_for_what_is_not_configured(broker: Broker, tmp_path: Path) -> None:
    env = {"OPENALGO_KITFAKE_API_KEY": "key1"}
    with gateway(broker, tmp_path, env) as g:
        challenge = g.authenticate("kitfake")
        assert isinstance(challenge, LoginChallenge)
        assert challenge.fields == ("client_id", "pin", "code")
        assert challenge.secret_fields == ("pin",)
        assert [challenge.label(f) for f in challenge.fields] == ["Client ID", "PIN", "TOTP"]
        assert broker.requests == []
        for bad in ({"client_id": "C1", "pin": "1234", "code": "12345"},
                    {"client_id": "", "pin": "1234", "code": "123456"},
                    {"client_id": "C 1", "pin": "1234", "code": "123456"},
                    {"client_id": "C1", "pin": "١٢٣٤", "code": "123456"}):
            challenge = g.authenticate("kitfake")
            assert isinstance(challenge, LoginChallenge)
            with pytest.raises(AuthenticationError):
                g.handle_callback("kitfake", {"state": challenge.state, **bad})
        assert broker.requests == []  # nothing malformed was ever sent
        challenge = g.authenticate("kitfake")
        assert isinstance(challenge, LoginChallenge)
        session = g.handle_callback("kitfake", {"state": challenge.state, "client_id": "C1",
                                                "pin": "9999", "code": "123456"})
        assert session.user_id == "C1"
        assert json.loads(broker.requests[0].content)["pin"] == "9999"
        assert g.credentials("kitfake").get("PIN") is None  # typed values are not kept


@pytest.mark.parametrize("login", [
    {"ok": True, "data": {"token": "tök", "trade_url": "https://t.example"}},
    {"ok": True, "data": {"token": "a b", "trade_url": "https://t.example"}},
    {"ok": True, "data": {"token": None, "trade_url": "https://t.example"}},
    {"ok": True, "data": {"token": "t", "trade_url": "ftp://t.example"}},
    {"ok": True, "data": {"token": "t", "trade_url": 5}},
    {"ok": True, "data": "tokens"},
])
def test_a_session_that_could_not_be_used_is_never_stored(broker: Broker, gw: Gateway,
                                                           login: Any) -> None:
    broker.replies["/login"] = login
    with pytest.raises(BrokerResponseError, match="login reply"):
        gw.authenticate("kitfake")
    with pytest.raises(AuthenticationError, match="not logged in"):
        gw.session("kitfake")


@pytest.mark.parametrize("data", [{}, {"id": ""}, {"id": None}, {"id": True}, {"id": "a b"},
                                  "x", None])
def test_success_without_an_order_id_is_status_unknown(broker: Broker, gw: Gateway,
                                                       data: Any) -> None:
    gw.authenticate("kitfake")
    broker.replies["/v2/orders"] = {"ok": True, "data": data}
    with pytest.raises(UnreadableOrderReplyError) as info:
        gw.place_order("kitfake", order(tag="oakit1"))
    assert info.value.tag == "oakit1"


def test_a_refusal_and_a_number_id(broker: Broker, gw: Gateway) -> None:
    gw.authenticate("kitfake")
    broker.replies["/v2/orders"] = {"ok": True, "data": {"id": 20250101}}
    assert gw.place_order("kitfake", order()).order_id == "20250101"
    broker.replies["/v2/orders"] = {"ok": False, "code": "R9", "msg": "blocked"}
    with pytest.raises(OrderRejectedError) as info:
        gw.place_order("kitfake", order())
    assert (info.value.code, info.value.reason) == ("R9", "blocked")


@pytest.mark.parametrize(("rows", "expected"), [(None, 0), ([], 0)])
def test_empty_books(broker: Broker, gw: Gateway, rows: Any, expected: int) -> None:
    gw.authenticate("kitfake")
    broker.replies["/v2/positions"] = {"ok": True, "data": rows}
    assert len(gw.fetch_positions("kitfake")) == expected


@pytest.mark.parametrize("rows", [
    "x", {"a": 1}, [None], [{"sym": "SBIN"}],
    [{"sym": "SBIN", "qty": "1.5", "avg": "1", "ltp": "1", "pnl": "0"}],
    [{"sym": "SBIN", "qty": "1", "avg": "1e5000", "ltp": "1", "pnl": "0"}],
    [{"sym": ["SBIN"], "qty": "1", "avg": "1", "ltp": "1", "pnl": "0"}],
])
def test_an_unreadable_position_book_is_a_typed_error(broker: Broker, gw: Gateway,
                                                      rows: Any) -> None:
    gw.authenticate("kitfake")
    broker.replies["/v2/positions"] = {"ok": True, "data": rows}
    with pytest.raises(BrokerResponseError) as info:
        gw.fetch_positions("kitfake")
    assert info.value.raw  # the reply travels with the error


def test_kit_hooks_import_neither_pydantic_nor_httpx() -> None:
    import subprocess
    import sys

    code = ("import sys; from openalgo_core.kit.hooks import KitHooks;"
            " from openalgo_core import BrokerInfo, CORE_API;"
            " KitHooks(BrokerInfo(id='x1', display_name='x', exchanges=['NSE'], credentials=(),"
            " login_style='totp', core_api=CORE_API), broker='m:C');"
            " heavy = [m for m in ('pydantic', 'httpx') if m in sys.modules];"
            " sys.exit(bool(heavy))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


REDIRECT_INFO = BrokerInfo(
    id="kitredirect", display_name="Kit Redirect", exchanges=frozenset({"NSE"}),
    login_style="redirect", credentials=(CredentialField(name="API_KEY", secret=True),),
    base_urls={"api": "https://api.kitfake.example"}, core_api=CORE_API)


class KitRedirect(KitFake):
    """A broker whose login page sends the browser back with ``?apisession=``, no state."""

    info = REDIRECT_INFO
    redirect_param = "apisession"

    def login_url(self, login: Login) -> str:
        return login.client.url("api", "/login?api_key=") + login.credentials.require(
            "API_KEY")[0]

    def finish_login(self, login: Login) -> Session:
        reply = self.send(login.client, Call("POST", "api", "/login",
                                             json={"session": login.code}),
                          kind="login", credentials=login.credentials)
        data = reply.data if isinstance(reply.data, dict) else {}
        return self.session(reply, "U1", data.get("token"),
                            hosts={"trade": data.get("trade_url")})


def test_a_redirect_login_without_our_state(broker: Broker, tmp_path: Path) -> None:
    env = {"OPENALGO_KITREDIRECT_API_KEY": "k+y/1"}
    registry = Registry(environ=env, discover=False)
    registry.register_broker(KitHooks(REDIRECT_INFO, broker=f"{__name__}:KitRedirect"))
    with Gateway(registry=registry, environ=env, session_store=MemorySessionStore(),
                 cache_dir=tmp_path, transports={"kitredirect": httpx.MockTransport(broker)},
                 sleep=lambda s: None) as g:
        first = g.authenticate("kitredirect")
        second = g.authenticate("kitredirect")
        assert isinstance(second, LoginChallenge) and isinstance(first, LoginChallenge)
        assert second.kind == "url" and second.url and "api_key=" in second.url
        with pytest.raises(AuthenticationError):  # only the newest redirect login is pending
            g.handle_callback("kitredirect", {"state": first.state, "apisession": "58593"})
        with pytest.raises(AuthenticationError, match="no usable apisession"):
            g.handle_callback("kitredirect", {"apisession": "5 8"})
        assert broker.requests == []
        g.authenticate("kitredirect")
        session = g.handle_callback("kitredirect", {"apisession": "58593"})  # no state
        assert session.user_id == "U1"
        assert json.loads(broker.requests[0].content) == {"session": "58593"}
        with pytest.raises(AuthenticationError, match="already used"):
            g.handle_callback("kitredirect", {"apisession": "58593"})


class KitToken(KitFake):
    """A broker whose user may paste a day's access token instead of logging in."""

    def stored_session(self, login: Login) -> Session | None:
        token = login.credentials.get("ACCESS_TOKEN")
        if not token:
            return None
        reply = self.send(login.client, Call("GET", "api", "/profile",
                                             headers={"Authorization": token}),
                          kind="read", credentials=login.credentials)
        return self.session(reply, "P1", token)


def test_a_pasted_token_is_checked_and_used(broker: Broker, tmp_path: Path) -> None:
    info = dataclasses.replace(INFO, credentials=(
        *INFO.credentials, CredentialField(name="ACCESS_TOKEN", secret=True, required=False)))
    env = {**ENV, "OPENALGO_KITFAKE_ACCESS_TOKEN": "pasted-1"}
    broker.replies["/profile"] = {"ok": True, "data": {}}
    registry = Registry(environ=env, discover=False)
    registry.register_broker(KitHooks(info, broker=f"{__name__}:KitToken"))
    with Gateway(registry=registry, environ=env, session_store=MemorySessionStore(),
                 cache_dir=tmp_path, transports={"kitfake": httpx.MockTransport(broker)},
                 sleep=lambda s: None) as g:
        session = g.authenticate("kitfake")
        assert isinstance(session, Session) and session.user_id == "P1"
        assert [r.url.path for r in broker.requests] == ["/profile"]
        broker.replies["/profile"] = {"ok": False, "code": "EXPIRED", "msg": "token expired"}
        with pytest.raises(AuthenticationError, match="token expired"):
            g.authenticate("kitfake")


class Counted(KitFake):
    built = 0

    def __init__(self) -> None:
        Counted.built += 1


def test_loading_kit_hooks_builds_no_broker() -> None:
    """Listing and loading plugins stays cheap: the broker is built on the first call."""
    hooks = KitHooks(INFO, broker=f"{__name__}:Counted")
    registry = Registry(environ={}, discover=False)
    registry.register_broker(hooks)
    assert registry.load("kitfake") is INFO and Counted.built == 0
    assert hooks.broker is hooks.broker and Counted.built == 1


def test_with_a_totp_secret_only_the_missing_credentials_are_asked_for(
        broker: Broker, tmp_path: Path) -> None:
    env = {"OPENALGO_KITFAKE_API_KEY": "key1", "OPENALGO_KITFAKE_TOTP_SECRET": SECRET}
    with gateway(broker, tmp_path, env) as g:
        challenge = g.authenticate("kitfake")
        assert isinstance(challenge, LoginChallenge)
        assert challenge.fields == ("client_id", "pin")  # the code is computed
        g.handle_callback("kitfake", {"state": challenge.state, "client_id": "C1",
                                      "pin": "1234"})
        sent = json.loads(broker.requests[0].content)["totp"]
        assert pyotp.TOTP(SECRET).verify(sent, valid_window=1)


class KitSplitBook(KitFake):
    """A broker whose position book is two calls (IndMoney's is four)."""

    def positions_calls(self, credentials: Credentials) -> list[Call]:
        return [Call("GET", "trade", "/positions"), Call("GET", "trade", "/positions?fno")]


def test_a_book_of_several_calls_is_merged_in_order(broker: Broker, tmp_path: Path) -> None:
    registry = Registry(environ=ENV, discover=False)
    registry.register_broker(KitHooks(INFO, broker=f"{__name__}:KitSplitBook"))
    row = {"qty": "2", "avg": "1", "ltp": "1", "pnl": "0"}
    broker.replies["/v2/positions"] = [{"ok": True, "data": [{**row, "sym": "SBIN"}]},
                                       {"ok": True, "data": None},
                                       {"ok": True, "data": [{**row, "sym": "INFY"}]}]
    with Gateway(registry=registry, environ=ENV, session_store=MemorySessionStore(),
                 cache_dir=tmp_path, transports={"kitfake": httpx.MockTransport(broker)},
                 sleep=lambda s: None) as g:
        g.authenticate("kitfake")
        assert [p.symbol for p in g.fetch_positions("kitfake")] == ["SBIN"]  # 2nd: empty
        assert [p.symbol for p in g.fetch_positions("kitfake")] == ["INFY"]
    queries = [r.url.query for r in broker.requests if r.url.path == "/v2/positions"]
    assert queries == [b"", b"fno", b"", b"fno"]


class KitSplitOrders(KitFake):
    """A broker whose books and holdings are one call per exchange (ICICI's)."""

    seen: ClassVar[list[str]] = []

    def order_book_calls(self, credentials: Credentials) -> list[Call]:
        return [Call("GET", "trade", "/orders"), Call("GET", "trade", "/orders?bse")]

    def trade_book_calls(self, credentials: Credentials) -> list[Call]:
        return [Call("GET", "trade", "/trades"), Call("GET", "trade", "/trades?bse")]

    def holdings_calls(self, credentials: Credentials) -> list[Call]:
        return [Call("GET", "trade", "/holdings"), Call("GET", "trade", "/holdings?bse")]

    def order_row(self, row: Row, instruments: InstrumentIndex) -> None:
        self.seen.append(row.text("id"))  # read, then skipped

    def holding_row(self, row: Row, instruments: InstrumentIndex) -> None:
        self.seen.append(row.text("id"))

    def trade_row(self, row: Row, instruments: InstrumentIndex) -> None:
        self.seen.append(row.text("id"))


def test_order_and_trade_books_and_holdings_of_several_calls_are_merged_in_order(
        broker: Broker, tmp_path: Path) -> None:
    registry = Registry(environ=ENV, discover=False)
    registry.register_broker(KitHooks(INFO, broker=f"{__name__}:KitSplitOrders"))
    broker.replies["/v2/orders"] = [{"ok": True, "data": [{"id": "1"}]},
                                    {"ok": True, "data": [{"id": "2"}, {"id": "3"}]}]
    broker.replies["/v2/trades"] = [{"ok": True, "data": None},
                                    {"ok": True, "data": [{"id": "4"}]}]
    broker.replies["/v2/holdings"] = [{"ok": True, "data": [{"id": "5"}]},
                                      {"ok": True, "data": [{"id": "6"}]}]
    KitSplitOrders.seen.clear()
    with Gateway(registry=registry, environ=ENV, session_store=MemorySessionStore(),
                 cache_dir=tmp_path, transports={"kitfake": httpx.MockTransport(broker)},
                 sleep=lambda s: None) as g:
        g.authenticate("kitfake")
        assert g.fetch_order_book("kitfake") == []
        assert KitSplitOrders.seen == ["1", "2", "3"]
        assert g.fetch_trade_book("kitfake") == []  # the first call's book is empty
        assert KitSplitOrders.seen == ["1", "2", "3", "4"]
        assert g.fetch_holdings("kitfake") == []
        assert KitSplitOrders.seen == ["1", "2", "3", "4", "5", "6"]
    asked = [(r.url.path, r.url.query) for r in broker.requests
             if r.url.path not in ("/login", "/master.csv")]
    assert asked == [("/v2/orders", b""), ("/v2/orders", b"bse"), ("/v2/trades", b""),
                     ("/v2/trades", b"bse"), ("/v2/holdings", b""), ("/v2/holdings", b"bse")]


def test_absent_rows_are_an_empty_book_only_for_the_books_declared(
        broker: Broker, gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    """Definedge may leave ``positions`` out of an empty book's reply: [] where declared,
    an unreadable reply everywhere else."""
    gw.authenticate("kitfake")
    monkeypatch.setattr(KitFake, "positions_at", "data.rows")
    broker.replies["/v2/positions"] = {"ok": True, "data": {}}
    with pytest.raises(BrokerResponseError, match="positions are not a list"):
        gw.fetch_positions("kitfake")
    monkeypatch.setattr(KitFake, "books_may_be_absent", frozenset({"positions"}))
    assert gw.fetch_positions("kitfake") == []
    broker.replies["/v2/positions"] = {"ok": True, "data": {"rows": "x"}}
    with pytest.raises(BrokerResponseError, match="positions are not a list"):
        gw.fetch_positions("kitfake")


def test_a_call_names_its_rate_bucket(gw: Gateway, broker: Broker) -> None:
    """``Call(rate=...)`` travels with the request, so the client paces it in that bucket."""
    gw.authenticate("kitfake")
    hooks_broker = HOOKS.broker
    client = gw.client("kitfake")
    hooks_broker.send(client, Call("GET", "trade", "/positions", rate="reads.quotes"),
                      kind="read", credentials=gw.credentials("kitfake"),
                      session=gw.session("kitfake"))
    hooks_broker.send(client, Call("GET", "trade", "/positions"), kind="read",
                      credentials=gw.credentials("kitfake"), session=gw.session("kitfake"))
    quoted, plain = broker.requests[-2:]
    assert request_meta(quoted).rate == "reads.quotes" and request_meta(plain).rate is None


def test_a_master_download_refused_for_an_expired_session_logs_in_again_once(
        broker: Broker, tmp_path: Path) -> None:
    """A master behind auth refused because the session expired: the gateway drops the
    session, logs in alone (a TOTP secret is stored) and downloads once more."""
    registry = Registry(environ=ENV, discover=False)
    registry.register_broker(HOOKS)
    expired = httpx.Response(403, json={"ok": False, "code": "EXPIRED", "msg": "expired"})
    broker.replies["/master.csv"] = [expired, httpx.Response(200, text="token,symbol\n")]
    broker.replies["/login"] = [
        {"ok": True, "data": {"token": f"tok-{n}", "trade_url": "https://t7.kitfake.example/v2"}}
        for n in (1, 2)]
    with Gateway(registry=registry, environ=ENV, session_store=MemorySessionStore(),
                 cache_dir=tmp_path, transports={"kitfake": httpx.MockTransport(broker)},
                 sleep=lambda s: None, journal=OrderJournal(tmp_path / "journal.db")) as g:
        g.authenticate("kitfake")
        assert len(g.instruments("kitfake")) == 1
        paths = [r.url.path for r in broker.requests]
        assert paths == ["/login", "/master.csv", "/login", "/master.csv"]
        assert broker.requests[-1].headers["authorization"] == "tok-2"
        assert g.session("kitfake").access_token.get_secret_value() == "tok-2"


def test_a_master_refused_for_an_expired_session_needs_a_person_without_totp(
        broker: Broker, tmp_path: Path) -> None:
    broker.replies["/master.csv"] = httpx.Response(
        403, json={"ok": False, "code": "EXPIRED", "msg": "expired"})
    with gateway(broker, tmp_path) as g:
        g.authenticate("kitfake")
        with pytest.raises(LoginRequiredError, match="needs a person"):
            g.instruments("kitfake")
        with pytest.raises(LoginRequiredError):  # the dead session was dropped
            g.session("kitfake")
        assert [r.url.path for r in broker.requests] == ["/login", "/master.csv"]
