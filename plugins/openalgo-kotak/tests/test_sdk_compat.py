"""Kotak's official Python SDK (kotakneoapi 3.0.9, ``neo_api_client``) against the simulator.

If the SDK can log in (TOTP, then MPIN, then every call on the base URL validation
named), trade, modify and cancel, and read the order book, positions, trades, limits and
holdings, the simulator speaks the Neo Trade API itself and not a dialect shared only with
this plugin. The SDK reaches the simulator through its own ``transport=`` argument:
in-process (the ASGI app) and on a loopback socket (every host mapped onto it, paths
kept); nothing reaches the internet.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import httpx
import pyotp
import pytest
from openalgo_kotak.simulator import KotakSimulator

from openalgo_core.testing import InProcessTransport, ServerThread


class Recorder(httpx.BaseTransport):
    """Every request the SDK sends, then to the simulator: through ``inner`` (in-process),
    or to ``origin`` on a socket with the path kept."""

    def __init__(self, inner: httpx.BaseTransport, origin: str | None = None) -> None:
        self.inner, self.origin = inner, origin
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.sent.append(request)
        if self.origin is not None:
            target = httpx.URL(self.origin)
            request.url = request.url.copy_with(scheme=target.scheme, host=target.host,
                                                port=target.port)
            request.headers["Host"] = target.netloc.decode()
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()

    def last(self, path: str) -> httpx.Request:
        return next(r for r in reversed(self.sent) if r.url.path == path)


@pytest.fixture
def neo_api_client(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Any:
    """The SDK, imported with its log file off, run from a temporary directory."""
    monkeypatch.setenv("NEO_LOG_FILE_ENABLED", "false")
    monkeypatch.chdir(tmp_path)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    import neo_api_client

    return neo_api_client


@pytest.fixture(params=["inprocess", "socket"])
def connection(request: pytest.FixtureRequest, neo_api_client: Any,
               broker_sim: KotakSimulator) -> Iterator[tuple[Any, Recorder]]:
    """A ``NeoAPI`` on the simulator, and the recorder its requests go through."""
    broker_sim.master_size = 0
    if request.param == "inprocess":
        recorder = Recorder(InProcessTransport(broker_sim.app))
        yield _client(neo_api_client, broker_sim, recorder), recorder
        return
    with ServerThread(broker_sim.app).running() as url:
        recorder = Recorder(httpx.HTTPTransport(), origin=url)
        yield _client(neo_api_client, broker_sim, recorder), recorder


def _client(sdk: Any, sim: KotakSimulator, transport: Recorder) -> Any:
    return sdk.NeoAPI(consumer_key=sim.credentials["ACCESS_TOKEN"], environment="prod",
                      transport=transport)


def login(client: Any, sim: KotakSimulator) -> None:
    """The SDK's two steps: TOTP (with the mobile number and UCC), then MPIN."""
    view = client.totp_login(mobile_number="+91" + sim.credentials["MOBILE"],
                             ucc=sim.credentials["UCC"],
                             totp=pyotp.TOTP(sim.credentials["TOTP_SECRET"]).now())
    assert view["data"]["kType"] == "View", view
    trade = client.totp_validate(mpin=sim.credentials["MPIN"])
    assert trade["data"]["kType"] == "Trade" and trade["data"]["baseUrl"], trade


def jdata(request: httpx.Request) -> dict[str, Any]:
    """The JSON in a request's form field ``jData``."""
    (raw,) = parse_qs(request.content.decode())["jData"]
    data: dict[str, Any] = json.loads(raw)
    return data


def test_login_sends_what_the_sdk_is_observed_to_send(
        connection: tuple[Any, Recorder], broker_sim: KotakSimulator) -> None:
    client, sent = connection
    login(client, broker_sim)
    step1, step2 = sent.last("/login/1.0/tradeApiLogin"), sent.last("/login/1.0/tradeApiValidate")
    token = broker_sim.credentials["ACCESS_TOKEN"]
    assert step1.headers["authorization"] == token  # raw: no "Bearer"
    assert step1.headers["neo-fin-key"] == "neotradeapi"
    assert json.loads(step1.content) == {
        "mobileNumber": "+91" + broker_sim.credentials["MOBILE"],
        "ucc": broker_sim.credentials["UCC"], "totp": json.loads(step1.content)["totp"]}
    assert step2.headers["authorization"] == token
    assert step2.headers["sid"] and step2.headers["auth"]
    assert json.loads(step2.content) == {"mpin": broker_sim.credentials["MPIN"]}


def test_a_wrong_totp_or_mpin_is_refused(connection: tuple[Any, Recorder],
                                         broker_sim: KotakSimulator) -> None:
    client, _ = connection
    refused = client.totp_login(mobile_number="+91" + broker_sim.credentials["MOBILE"],
                                ucc=broker_sim.credentials["UCC"], totp="000000"
                                if broker_sim.totp_now() != "000000" else "111111")
    assert "data" not in refused and refused["error"][0]["message"]
    view = client.totp_login(mobile_number="+91" + broker_sim.credentials["MOBILE"],
                             ucc=broker_sim.credentials["UCC"], totp=broker_sim.totp_now())
    assert view["data"]["status"] == "success"
    wrong = "000000" if broker_sim.credentials["MPIN"] != "000000" else "111111"
    assert "data" not in client.totp_validate(mpin=wrong)
    assert client.order_report().get("stat") != "Ok"  # no session: nothing is read


def test_the_sdk_trades_and_reads_every_book(connection: tuple[Any, Recorder],
                                             broker_sim: KotakSimulator) -> None:
    """Login, a market and a limit order, the order book, positions, a modify, a cancel,
    trades, limits and holdings, as the SDK sends and reads them."""
    client, sent = connection
    login(client, broker_sim)
    market = client.place_order(exchange_segment="nse_cm", product="MIS", price="0",
                                order_type="MKT", quantity="3", validity="DAY",
                                trading_symbol="SBIN-EQ", transaction_type="B", tag="sdkmkt1")
    assert market["stat"] == "Ok" and market["nOrdNo"], market
    placed = sent.last("/quick/order/rule/ms/place")
    assert placed.headers["authorization"] == broker_sim.credentials["ACCESS_TOKEN"]
    assert placed.headers["content-type"] == "application/x-www-form-urlencoded"
    assert jdata(placed) == {"am": "NO", "dq": "0", "es": "nse_cm", "mp": "0", "pc": "MIS",
                             "pr": "0", "pt": "MKT", "qt": "3", "rt": "DAY", "tp": "0",
                             "ts": "SBIN-EQ", "tt": "B", "ig": "sdkmkt1", "os": "NEOTRADEAPI"}
    untagged = client.place_order(exchange_segment="nse_cm", product="MIS", price="0",
                                  order_type="MKT", quantity="1", validity="DAY",
                                  trading_symbol="SBIN-EQ", transaction_type="S")
    assert untagged["stat"] == "Ok" and jdata(sent.last("/quick/order/rule/ms/place"))[
        "ig"] is None  # as sdk-observed.md: null, not text
    token = broker_sim.by_token["3045"].token
    below = broker_sim.price(token) - Decimal(5)
    limit = client.place_order(exchange_segment="nse_cm", product="CNC", price=str(below),
                               order_type="L", quantity="2", validity="DAY",
                               trading_symbol="SBIN-EQ", transaction_type="B", tag="sdklmt1")
    assert limit["stat"] == "Ok", limit
    book = client.order_report()
    rows = {row["nOrdNo"]: row for row in book["data"]}
    assert rows[market["nOrdNo"]]["ordSt"] == "complete"
    assert rows[market["nOrdNo"]]["GuiOrdId"] == "sdkmkt1"  # the tag, echoed
    assert rows[limit["nOrdNo"]]["ordSt"] == "open"
    one = client.order_report(order_id=limit["nOrdNo"])
    assert [row["nOrdNo"] for row in one["data"]] == [limit["nOrdNo"]]
    positions = client.positions()
    assert sent.last("/portfolio/v2/positions").method == "GET"
    (row,) = positions["data"]
    assert (row["trdSym"], row["flBuyQty"], row["flSellQty"], row["prod"]) == (
        "SBIN-EQ", "3", "1", "MIS")
    lower = below - Decimal(1)
    modified = client.modify_order(order_id=limit["nOrdNo"], price=str(lower), order_type="L",
                                   quantity="4", validity="DAY")
    assert modified["stat"] == "Ok", modified
    assert set(jdata(sent.last("/quick/order/vr/modify"))) == {
        "mp", "dq", "vd", "pr", "pt", "am", "tp", "qt", "no", "os"}
    booked = broker_sim.book.orders[limit["nOrdNo"]]
    assert (booked.price, booked.quantity) == (lower, 4)
    cancelled = client.cancel_order(order_id=limit["nOrdNo"])
    assert cancelled["stat"] == "Ok" and cancelled["nOrdNo"] == limit["nOrdNo"]
    assert jdata(sent.last("/quick/order/cancel")) == {"on": limit["nOrdNo"], "am": "NO"}
    assert broker_sim.book.orders[limit["nOrdNo"]].status == "cancelled"
    again = client.cancel_order(order_id=limit["nOrdNo"])
    assert again["stCode"] == 1021 and again["status_code"] == 400  # the SDK's own mark
    trades = client.trade_report()
    assert sorted(t["nOrdNo"] for t in trades["data"]) == sorted(
        [market["nOrdNo"], untagged["nOrdNo"]])
    assert {t["tok"] for t in trades["data"]} == {""}
    limits = client.limits()
    assert limits["stat"] == "Ok" and Decimal(limits["Net"]) > 0
    assert jdata(sent.last("/quick/user/limits")) == {"seg": "ALL", "exch": "ALL",
                                                      "prod": "ALL"}
    holdings = client.holdings()
    assert {h["displaySymbol"] for h in holdings["data"]} == {
        h.symbol for h in broker_sim.holdings()}


def test_reads_without_a_session_say_so(connection: tuple[Any, Recorder],
                                        broker_sim: KotakSimulator) -> None:
    """A session the simulator expired: Kotak's "invalid session token" reaches the SDK."""
    client, _ = connection
    login(client, broker_sim)
    broker_sim.expire_sessions()
    refused = client.positions()
    assert refused["stCode"] == 100022 and refused["stat"] == "Not_Ok"


def test_an_empty_book_is_no_data(connection: tuple[Any, Recorder],
                                  broker_sim: KotakSimulator) -> None:
    client, _ = connection
    login(client, broker_sim)
    for book in (client.order_report(), client.trade_report(), client.positions()):
        assert (book["stat"], book["stCode"], book["errMsg"]) == ("Not_Ok", 5203, "No Data")


def test_the_scrip_master_list_names_the_day_s_files(connection: tuple[Any, Recorder],
                                                     broker_sim: KotakSimulator) -> None:
    """The SDK's ``scrip_master()``: the file list (only the access token is needed), and
    the path of one segment's file."""
    client, _ = connection
    login(client, broker_sim)
    listed = client.scrip_master()
    assert len(listed["filesPaths"]) == 7 and listed["baseFolder"]
    assert client.scrip_master(exchange_segment="nse_cm").endswith("nse_cm-v1.csv")
