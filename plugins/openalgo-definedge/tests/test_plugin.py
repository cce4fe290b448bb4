"""The plugin through the core Gateway against the simulator: Definedge's two-step login,
its orders and their replies. Where a reply must be one the simulator never sends, an
``httpx.MockTransport`` serves it. What every broker must do is the conformance suite's
(test_conformance.py); the book rows are test_rows.py's."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import openalgo_definedge.plugin
import pytest
from openalgo_definedge import INFO
from openalgo_definedge.broker import DefinedgeBroker, modify_body, order_body
from openalgo_definedge.simulator import DefinedgeSimulator

from openalgo_core import (
    AuthenticationError,
    BrokerClient,
    BrokerError,
    Gateway,
    Instrument,
    LoginChallenge,
    OrderRejectedError,
    OrderStatus,
    OrderStatusUnknownError,
    RetryPolicy,
    Session,
    SessionExpiredError,
    UnreadableOrderReplyError,
    new_session,
    order_from,
)
from openalgo_core.config import Credentials, credentials_for
from openalgo_core.models import Order
from openalgo_core.testing import Faults, Harness, InProcessTransport, wire

AUTH = "/auth/realms/debroking/dsbpkc"
TRADE = "/dart/v1"
KEY, SECRET = "OPENALGO_DEFINEDGE_API_KEY", "OPENALGO_DEFINEDGE_API_SECRET"
ALGO = "OPENALGO_DEFINEDGE_ALGO_ID"
GENERIC, GENERIC_BSE = "99999", "9999999999999999"
#: the gateway lacks the TOTP secret (the simulator still has it): the login asks for the
#: OTP Definedge sends
NO_SECRET = pytest.mark.parametrize("broker_wire_options", [{"omit": ("TOTP_SECRET",)}],
                                    ids=["no-totp-secret"])
#: the gateway has no registered algo id: orders carry the exchange's generic one
NO_ALGO_ID = pytest.mark.parametrize("broker_wire_options", [{"omit": ("ALGO_ID",)}],
                                     ids=["no-algo-id"])
SBIN = Instrument("SBIN", "NSE", "SBIN-EQ", "NSE", "3045", "SBIN")
NIFTY_FUT = Instrument("NIFTY23FEB23FUT", "NFO", "NIFTY23FEB23F", "NFO", "48757", "NIFTY",
                       "FUT", 50)


@pytest.fixture
def broker_sim(broker_environ: dict[str, str]) -> DefinedgeSimulator:
    """The simulator with a master of its own listings only (the full-size master is
    test_instruments.py's and the conformance suite's)."""
    return DefinedgeSimulator(environ=broker_environ, master_size=0)


@pytest.fixture
def logged_in(broker_gateway: Gateway) -> Gateway:
    assert isinstance(broker_gateway.authenticate("definedge"), Session)
    return broker_gateway


class Recorder(httpx.BaseTransport):
    """Passes each request on to ``inner`` and keeps it, with its reply."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.seen: list[tuple[httpx.Request, httpx.Response]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        response = self.inner.handle_request(request)
        response.read()
        self.seen.append((request, response))
        return response

    def close(self) -> None:
        self.inner.close()


def client_on(transport: httpx.BaseTransport) -> BrokerClient:
    return BrokerClient(INFO, transport=transport, retry=RetryPolicy(attempts=1),
                        sleep=lambda _: None)


@pytest.fixture
def recorded(broker_sim: DefinedgeSimulator) -> Iterator[tuple[Recorder, BrokerClient]]:
    """A bare client on the simulator whose every exchange is kept."""
    recorder = Recorder(InProcessTransport(broker_sim.app))
    client = client_on(recorder)
    try:
        yield recorder, client
    finally:
        client.close()


def other_code(sim: DefinedgeSimulator) -> str:
    """Six digits that are neither the OTP the simulator sent nor a valid TOTP."""
    sent = sim.user_code()
    return next(code for code in (f"{n:06d}" for n in range(1000))
                if code != sent and not sim.verify_totp(code))


def order(**fields: Any) -> dict[str, Any]:
    return {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1,
            "pricetype": "MARKET", "product": "MIS", **fields}


# -- login -----------------------------------------------------------------------------
def test_the_unattended_login_is_definedges_two_requests(
        broker_sim: DefinedgeSimulator, broker_environ: dict[str, str],
        recorded: tuple[Recorder, BrokerClient]) -> None:
    recorder, client = recorded
    credentials = credentials_for(INFO, broker_environ)
    session = DefinedgeBroker().authenticate(credentials, client)
    assert isinstance(session, Session)
    (step1, reply1), (step2, reply2) = recorder.seen
    token, secret = broker_environ[KEY], broker_environ[SECRET]
    assert (step1.method, step1.url.path) == ("GET", f"{AUTH}/login/{token}")
    assert step1.headers["api_secret"] == secret and "authorization" not in step1.headers
    otp_token = reply1.json()["otp_token"]
    assert (step2.method, step2.url.path) == ("POST", f"{AUTH}/token")
    sent = json.loads(step2.content)
    assert set(sent) == {"otp_token", "otp", "ac"} and sent["otp_token"] == otp_token
    assert broker_sim.verify_totp(sent["otp"])  # the external TOTP, computed
    assert sent["ac"] == hashlib.sha256(
        f"{otp_token}{sent['otp']}{secret}".encode()).hexdigest()
    assert "authorization" not in step2.headers and "api_secret" not in step2.headers
    body = reply2.json()
    assert session.user_id == broker_sim.uid
    assert session.access_token.get_secret_value() == body["api_session_key"]
    assert session.feed_token is not None
    assert session.feed_token.get_secret_value() == body["susertoken"]
    # every later call carries the session key raw, without "Bearer"
    DefinedgeBroker().fetch_funds(session, credentials, client)
    read, _ = recorder.seen[-1]
    assert read.headers["authorization"] == body["api_session_key"]


@NO_SECRET
def test_without_the_totp_secret_the_login_asks_for_the_otp_definedge_sent(
        broker_gateway: Gateway, broker_sim: DefinedgeSimulator) -> None:
    challenge = broker_gateway.authenticate("definedge")
    assert isinstance(challenge, LoginChallenge)
    assert (challenge.kind, challenge.fields, challenge.resendable) == ("code", ("code",), True)
    assert challenge.label("code") == "Enter OTP"  # OpenAlgo's Definedge form
    assert "OTP" in challenge.prompt
    session = broker_gateway.handle_callback("definedge", {"state": challenge.state,
                                                           "code": broker_sim.user_code()})
    assert session.user_id == broker_sim.uid
    assert broker_gateway.place_order("definedge", order()).order_id


@NO_SECRET
def test_a_wrong_otp_is_refused_and_leaves_no_session(broker_gateway: Gateway,
                                                      broker_sim: DefinedgeSimulator) -> None:
    challenge = broker_gateway.authenticate("definedge")
    assert isinstance(challenge, LoginChallenge)
    with pytest.raises(AuthenticationError, match="Invalid OTP") as info:
        broker_gateway.handle_callback("definedge", {"state": challenge.state,
                                                     "code": other_code(broker_sim)})
    assert not isinstance(info.value, SessionExpiredError)
    assert broker_gateway.sessions.get("definedge") is None


@NO_SECRET
def test_resend_sends_a_new_otp_and_the_old_one_is_dead(broker_gateway: Gateway,
                                                        broker_sim: DefinedgeSimulator) -> None:
    first = broker_gateway.authenticate("definedge")
    assert isinstance(first, LoginChallenge) and first.resendable
    first_otp = broker_sim.user_code()
    second = broker_gateway.resend_code("definedge", first.state)
    assert isinstance(second, LoginChallenge) and second.resendable
    assert second.state != first.state
    assert second.context["otp_token"] != first.context["otp_token"]  # step 1 ran again
    with pytest.raises(AuthenticationError):
        broker_gateway.handle_callback("definedge", {"state": first.state, "code": first_otp})
    assert broker_gateway.sessions.get("definedge") is None
    session = broker_gateway.handle_callback("definedge", {"state": second.state,
                                                           "code": broker_sim.user_code()})
    assert session.user_id == broker_sim.uid


@pytest.fixture
def seed(broker_sim: DefinedgeSimulator, broker_environ: dict[str, str],
         tmp_path: Path) -> Iterator[Harness]:
    """A gateway whose whole environment is a ``.env`` as OpenAlgo's setup guide writes it
    for Definedge: no TOTP secret, no algo id."""
    environ = {"BROKER_API_KEY": f"'{broker_environ[KEY]}'",
               "BROKER_API_SECRET": f"'{broker_environ[SECRET]}'",
               "REDIRECT_URL": "'http://127.0.0.1:5000/definedge/callback'"}
    with wire(openalgo_definedge.plugin.hooks, sim=broker_sim, environ=environ,
              home=tmp_path / "seed") as harness:
        yield harness


def test_a_seed_env_is_enough(seed: Harness, broker_environ: dict[str, str],
                              broker_sim: DefinedgeSimulator) -> None:
    credentials = credentials_for(INFO, seed.environ)
    assert credentials.require("API_KEY", "API_SECRET") == (broker_environ[KEY],
                                                            broker_environ[SECRET])
    assert credentials.get("TOTP_SECRET") is None and credentials.get("ALGO_ID") is None
    challenge = seed.gateway.authenticate("definedge")
    assert isinstance(challenge, LoginChallenge) and challenge.fields == ("code",)
    seed.gateway.handle_callback("definedge", {"state": challenge.state,
                                               "code": broker_sim.user_code()})
    receipt = seed.gateway.place_order("definedge", order())
    assert broker_sim.book.orders[receipt.order_id].raw["algo_id"] == GENERIC


SECRET_TOKEN = "TOKENab12cd34ef56"


def refusing(reply: Callable[[httpx.Request], httpx.Response]) -> Callable[..., Any]:
    def authenticate() -> Any:
        credentials = Credentials("definedge", {"API_KEY": SECRET_TOKEN, "API_SECRET": "s3"})
        client = client_on(httpx.MockTransport(reply))
        try:
            return DefinedgeBroker().authenticate(credentials, client)
        finally:
            client.close()
    return authenticate


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize("reply", [
    lambda r: httpx.Response(401, json={"stat": "Not_Ok", "emsg": "Invalid API token"}),
    lambda r: httpx.Response(200, json={"status": "ERROR", "message": "Invalid user"}),
    lambda r: httpx.Response(503, text="Service Unavailable"),
    lambda r: httpx.Response(200, text="<html>maintenance</html>"),
    lambda r: httpx.Response(200, json={"otp_token": ["x"]}),
    lambda r: httpx.Response(404, json={"error": "not found"}),
    _unreachable,
], ids=["not-ok", "error", "5xx", "html", "odd-token", "404", "unreachable"])
def test_the_api_token_is_never_shown_when_step_one_fails(
        caplog: pytest.LogCaptureFixture,
        reply: Callable[[httpx.Request], httpx.Response]) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(BrokerError) as info:
        refusing(reply)()
    assert info.value.broker == "definedge"
    shown = f"{info.value} {info.value!r} {info.value.args}"
    assert SECRET_TOKEN not in shown
    assert SECRET_TOKEN not in caplog.text
    if reply is not _unreachable:  # the request was logged, its path masked
        assert "/login/***" in caplog.text


def test_the_api_token_is_never_logged_by_a_login(caplog: pytest.LogCaptureFixture,
                                                  broker_gateway: Gateway,
                                                  broker_environ: dict[str, str]) -> None:
    caplog.set_level(logging.DEBUG)
    assert isinstance(broker_gateway.authenticate("definedge"), Session)
    broker_environ[SECRET] = "not-the-secret"  # the next login is refused at step 1
    with pytest.raises(AuthenticationError) as info:
        broker_gateway.authenticate("definedge")
    token = broker_environ[KEY]
    assert token not in f"{info.value} {info.value!r}"
    assert "/login/***" in caplog.text and token not in caplog.text


@pytest.mark.parametrize("http_status", [200, 401])
def test_session_expired_on_a_read_is_typed(broker_sim: DefinedgeSimulator,
                                            broker_environ: dict[str, str],
                                            recorded: tuple[Recorder, BrokerClient],
                                            http_status: int) -> None:
    broker_sim.expired_status = http_status
    _, client = recorded
    credentials = credentials_for(INFO, broker_environ)
    stale = new_session("definedge", broker_sim.uid, "yesterdays-session-key")
    broker = DefinedgeBroker()
    with pytest.raises(SessionExpiredError, match="Session Expired"):
        broker.fetch_positions(stale, credentials, client, None)  # type: ignore[arg-type]
    with pytest.raises(SessionExpiredError):
        broker.place_order(order_from(order()), SBIN, stale, credentials, client)
    assert broker_sim.book.orders == {}


@pytest.mark.parametrize("message", ["Session Expired", "Session expired, login again",
                                     "Invalid Session Key"])
def test_session_expired_texts_on_reads_and_orders(message: str) -> None:
    """An order refused because the session ended is not a rejection: the gateway logs
    in again and sends it once more."""
    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"status": "ERROR", "message": message})

    with pytest.raises(SessionExpiredError):
        place(reply)
    client = client_on(httpx.MockTransport(reply))
    try:
        with pytest.raises(SessionExpiredError):
            DefinedgeBroker().fetch_funds(new_session("definedge", "U1", "key"),
                                          Credentials("definedge", {}), client)
    finally:
        client.close()


def test_the_gateway_logs_in_again_by_itself(logged_in: Gateway,
                                             broker_sim: DefinedgeSimulator) -> None:
    before = logged_in.session("definedge").access_token.get_secret_value()
    logged_in.place_order("definedge", order(quantity=3))
    broker_sim.expire_sessions()
    (row,) = logged_in.fetch_positions("definedge")
    assert (row.symbol, row.quantity) == ("SBIN", 3)
    after = logged_in.session("definedge").access_token.get_secret_value()
    assert after != before
    broker_sim.expire_sessions()
    receipt = logged_in.place_order("definedge", order(tag="afterexpiry"))
    assert [o.tag for o in broker_sim.book.orders.values()].count("afterexpiry") == 1
    assert broker_sim.book.orders[receipt.order_id].tag == "afterexpiry"


# -- the order body --------------------------------------------------------------------
def body(instrument: Instrument, **fields: Any) -> dict[str, Any]:
    credentials = Credentials("definedge", {"API_KEY": "t", "API_SECRET": "s"})
    request = order_from(order(symbol=instrument.symbol, exchange=instrument.exchange,
                               tag="oaT1", **fields))
    return order_body(request, instrument, credentials)


@pytest.mark.parametrize(("instrument", "product", "product_type"), [
    (SBIN, "MIS", "INTRADAY"), (SBIN, "CNC", "CNC"), (SBIN, "NRML", "NORMAL"),
    (NIFTY_FUT, "MIS", "INTRADAY"), (NIFTY_FUT, "NRML", "NORMAL")])
@pytest.mark.parametrize(("fields", "sent"), [
    ({}, {"price_type": "MARKET", "price": 0}),
    ({"pricetype": "LIMIT", "price": "812.35"}, {"price_type": "LIMIT", "price": 812.35}),
    ({"pricetype": "SL", "price": "812", "trigger_price": "811.5"},
     {"price_type": "SL-LIMIT", "price": 812, "trigger_price": 811.5}),
    ({"pricetype": "SL-M", "trigger_price": "811.50"},
     {"price_type": "SL-MARKET", "price": 0, "trigger_price": 811.5}),
], ids=["market", "limit", "sl", "sl-m"])
def test_the_placeorder_body(instrument: Instrument, product: str, product_type: str,
                             fields: dict[str, Any], sent: dict[str, Any]) -> None:
    quantity = instrument.lot_size * 2
    got = body(instrument, product=product, quantity=quantity, **fields)
    assert got == {"exchange": instrument.broker_exchange,
                   "tradingsymbol": instrument.broker_symbol, "order_type": "BUY",
                   "product_type": product_type, "quantity": quantity, "validity": "DAY",
                   "algo_id": GENERIC, "remarks": "oaT1",
                   **sent}
    numbers = [got["quantity"], got["price"], got.get("trigger_price", 0)]
    assert all(type(n) in (int, float) for n in numbers)  # JSON numbers, as the SDK sends


@pytest.mark.parametrize(("price", "sent"), [("500", 500), ("500.00", 500), ("812.35", 812.35),
                                             ("0.05", 0.05), ("83.2525", 83.2525)])
def test_prices_are_json_numbers_whole_ones_integers(price: str, sent: float) -> None:
    got = body(SBIN, pricetype="LIMIT", price=price)
    assert got["price"] == sent and type(got["price"]) is type(sent)
    assert json.dumps(got["price"]) == json.dumps(sent)


def test_a_sell_with_a_disclosed_quantity() -> None:
    got = body(SBIN, action="SELL", quantity=100, disclosed_quantity=10)
    assert (got["order_type"], got["quantity"], got["disclosed_quantity"]) == ("SELL", 100, 10)
    assert "disclosed_quantity" not in body(SBIN, quantity=100)


@pytest.mark.parametrize(("exchange", "generic"), [
    ("NSE", GENERIC), ("NFO", GENERIC), ("CDS", GENERIC), ("MCX", GENERIC),
    ("BSE", GENERIC_BSE), ("BFO", GENERIC_BSE)])
def test_the_algo_id_is_the_exchanges_generic_one_unless_registered(exchange: str,
                                                                     generic: str) -> None:
    instrument = Instrument("X", exchange, "X", exchange, "1", "X", "EQ")
    request = order_from(order(symbol="X", exchange=exchange, product="NRML"))
    plain = Credentials("definedge", {"API_KEY": "t", "API_SECRET": "s"})
    assert order_body(request, instrument, plain)["algo_id"] == generic
    registered = credentials_for(INFO, {KEY: "t", SECRET: "s", ALGO: "ALGO42"})
    assert order_body(request, instrument, registered)["algo_id"] == "ALGO42"


def price_of(gateway: Gateway, sim: DefinedgeSimulator, instrument: Instrument) -> Decimal:
    return sim.price(gateway.resolve("definedge", instrument.symbol, instrument.exchange).token)


@pytest.mark.parametrize(("exchange", "product", "product_type"), [
    ("NSE", "MIS", "INTRADAY"), ("NSE", "CNC", "CNC"), ("NSE", "NRML", "NORMAL"),
    ("NFO", "MIS", "INTRADAY"), ("NFO", "NRML", "NORMAL")])
@pytest.mark.parametrize(("pricetype", "price_type", "action", "price", "trigger"), [
    ("MARKET", "MARKET", "BUY", None, None), ("LIMIT", "LIMIT", "BUY", -2, None),
    ("SL", "SL-LIMIT", "SELL", -3, -2), ("SL-M", "SL-MARKET", "BUY", None, 3)])
def test_what_reaches_definedge(logged_in: Gateway, broker_sim: DefinedgeSimulator,
                                broker_environ: dict[str, str], exchange: str, product: str,
                                product_type: str, pricetype: str, price_type: str,
                                action: str, price: int | None, trigger: int | None) -> None:
    """Every order type in every product, as the simulator received it (prices are the
    market's plus or minus whole rupees: JSON numbers, integers when whole)."""
    if exchange == "NSE":
        target = logged_in.resolve("definedge", "SBIN", "NSE")
    else:
        target = next(i for i in logged_in.instruments("definedge")
                      if i.exchange == "NFO" and i.instrument_type == "FUT")
    market = broker_sim.price(target.token)
    fields: dict[str, Any] = {"pricetype": pricetype}
    if price is not None:
        fields["price"] = market + price
    if trigger is not None:
        fields["trigger_price"] = market + trigger
    receipt = logged_in.place_order("definedge", order(
        symbol=target.symbol, exchange=exchange, quantity=target.lot_size, product=product,
        action=action, tag="oaSent1", **fields))
    sent = broker_sim.book.orders[receipt.order_id].raw
    expected = {"exchange": exchange, "tradingsymbol": target.broker_symbol,
                "order_type": action, "price_type": price_type, "product_type": product_type,
                "quantity": target.lot_size, "price": 0, "validity": "DAY",
                "algo_id": broker_environ[ALGO], "remarks": "oaSent1"}
    for name, value in fields.items():
        if name != "pricetype":
            expected[name] = float(value) if value % 1 else int(value)
    assert sent == expected


@NO_ALGO_ID
def test_a_bse_order_carries_the_bse_generic_algo_id(logged_in: Gateway,
                                                     broker_sim: DefinedgeSimulator) -> None:
    nse = logged_in.place_order("definedge", order())
    bse = logged_in.place_order("definedge", order(exchange="BSE"))
    assert broker_sim.book.orders[nse.order_id].raw["algo_id"] == GENERIC
    assert broker_sim.book.orders[bse.order_id].raw["algo_id"] == GENERIC_BSE


def test_a_registered_algo_id_replaces_the_generic_one(logged_in: Gateway,
                                                       broker_sim: DefinedgeSimulator,
                                                       broker_environ: dict[str, str]) -> None:
    broker_environ[ALGO] = "REGISTERED7"
    logged_in.authenticate("definedge")  # credentials are read again at each login
    receipt = logged_in.place_order("definedge", order(exchange="BSE"))
    assert broker_sim.book.orders[receipt.order_id].raw["algo_id"] == "REGISTERED7"


# -- replies to orders -----------------------------------------------------------------
def test_an_http_200_error_is_order_rejected_with_definedges_message(
        logged_in: Gateway, broker_sim: DefinedgeSimulator) -> None:
    broker_sim.faults = Faults(reject_orders=1)
    with pytest.raises(OrderRejectedError) as info:
        logged_in.place_order("definedge", order(tag="oaRefused"))
    assert info.value.reason == "RMS:Blocked for trading" and info.value.status_code == 200
    assert broker_sim.book.orders == {}
    entry = logged_in.journal.get("oaRefused")
    assert entry is not None and entry.state == "rejected"


def place(reply: httpx.Response | Callable[[httpx.Request], httpx.Response],
          tag: str = "oaMock1") -> Any:
    """Place an order through the plugin against a hand-made reply."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply(request) if callable(reply) else reply

    client = client_on(httpx.MockTransport(handle))
    credentials = Credentials("definedge", {"API_KEY": "t", "API_SECRET": "s"})
    try:
        return DefinedgeBroker().place_order(order_from(order(tag=tag)), SBIN,
                                             new_session("definedge", "U1", "key"),
                                             credentials, client)
    finally:
        client.close()
        assert len(seen) == 1  # an order is sent once, whatever comes back


@pytest.mark.parametrize("message", ["Quantity should be a multiple of the lot size",
                                     "RMS:Margin Exceeds, Required:812.00, Available:0.00"])
def test_an_error_reply_is_order_rejected(message: str) -> None:
    with pytest.raises(OrderRejectedError) as info:
        place(httpx.Response(200, json={"status": "ERROR", "message": message}))
    assert (info.value.reason, info.value.broker) == (message, "definedge")


@pytest.mark.parametrize("reply", [
    {"status": "SUCCESS"}, {"status": "SUCCESS", "order_id": ""},
    {"status": "SUCCESS", "order_id": "   "}, {"status": "SUCCESS", "order_id": None},
    {"status": "SUCCESS", "order_id": []}, {"status": "SUCCESS", "order_id": {"id": "1"}},
    {"status": "SUCCESS", "order_id": True}, {"status": "SUCCESS", "order_id": 1.5},
    {"status": "SUCCESS", "order_id": "1" * 65}, {"status": "SUCCESS", "orderid": "123"},
    {"status": "SUCCESS", "message": "Order placed"}, {"stat": "Ok"},
    {"stat": "Ok", "norenordno": ""},
], ids=["none", "empty", "blank", "null", "list", "object", "flag", "fraction", "long",
        "misspelt", "message", "legacy-none", "legacy-empty"])
def test_a_success_without_an_order_id_is_never_a_receipt(reply: dict[str, Any]) -> None:
    """OpenAlgo #1618/#1623: the order may be live; its tag finds it again."""
    with pytest.raises(UnreadableOrderReplyError) as info:
        place(httpx.Response(200, json=reply), tag="oaNoId")
    assert isinstance(info.value, OrderStatusUnknownError) and info.value.tag == "oaNoId"
    assert "order id" in info.value.message


@pytest.mark.parametrize(("reply", "order_id"), [
    ({"status": "SUCCESS", "order_id": "25112000000417"}, "25112000000417"),
    ({"status": "SUCCESS", "order_id": " 25112000000417 "}, "25112000000417"),
    ({"status": "SUCCESS", "order_id": 25112000000417}, "25112000000417"),
    ({"stat": "Ok", "norenordno": "24120300000123"}, "24120300000123"),
    ({"status": "SUCCESS", "order_id": "", "norenordno": "24120300000123"}, "24120300000123"),
], ids=["id", "padded", "number", "legacy", "legacy-fallback"])
def test_the_order_id_is_read(reply: dict[str, Any], order_id: str) -> None:
    receipt = place(httpx.Response(200, json=reply))
    assert (receipt.order_id, receipt.tag, receipt.raw) == (order_id, "oaMock1", reply)


def test_the_order_goes_as_json_with_the_raw_session_key() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"status": "SUCCESS", "order_id": "1"})

    place(handle)
    (sent,) = seen
    assert (sent.method, sent.url.host, sent.url.path) == (
        "POST", "integrate.definedgesecurities.com", f"{TRADE}/placeorder")
    assert sent.headers["authorization"] == "key"
    assert sent.headers["content-type"] == "application/json"
    request = order_from(order(tag="oaMock1"))
    credentials = Credentials("definedge", {"API_KEY": "t", "API_SECRET": "s"})
    assert json.loads(sent.content) == order_body(request, SBIN, credentials)


def test_a_success_without_an_id_is_settled_from_the_book_by_its_remarks(
        logged_in: Gateway, broker_sim: DefinedgeSimulator) -> None:
    """The gateway never takes the reply for a receipt: it finds the order in the book by
    the tag the plugin sent in ``remarks``."""
    logged_in.instruments("definedge")

    def drop_the_id(content: bytes) -> bytes:
        reply = json.loads(content)
        reply.pop("order_id", None)
        return json.dumps(reply).encode()

    broker_sim.faults = Faults(mutate=drop_the_id, scope="orders")
    receipt = logged_in.place_order("definedge", order(tag="oaSettle"))
    (booked,) = broker_sim.book.orders.values()
    assert (receipt.order_id, booked.tag) == (booked.order_id, "oaSettle")


# -- modify and cancel -----------------------------------------------------------------
BOOKED = Order(broker="definedge", order_id="25112000000417", symbol="SBIN", exchange="NSE",
               action="BUY", quantity=10, pricetype="LIMIT", product="MIS",
               price=Decimal("812"), status=OrderStatus.OPEN, tag="oaBooked")


def test_modify_restates_the_whole_order_with_its_id() -> None:
    change = order_from(order(quantity=12, pricetype="SL", price="813.5",
                              trigger_price="813"))
    assert modify_body(BOOKED, change, SBIN) == {
        "order_id": "25112000000417", "exchange": "NSE", "tradingsymbol": "SBIN-EQ",
        "order_type": "BUY", "price_type": "SL-LIMIT", "product_type": "INTRADAY",
        "quantity": 12, "price": 813.5, "trigger_price": 813, "validity": "DAY",
        "remarks": "oaBooked"}
    untagged = modify_body(BOOKED.model_copy(update={"tag": None}), change, SBIN)
    assert "remarks" not in untagged  # nothing to keep
    call = DefinedgeBroker().modify_call(BOOKED, change, SBIN, None)  # type: ignore[arg-type]
    assert (call.method, call.host, call.path) == ("POST", "api", f"{TRADE}/modify")
    market = modify_body(BOOKED, order_from(order(quantity=10)), SBIN)
    assert (market["price_type"], market["price"]) == ("MARKET", 0)
    assert "trigger_price" not in market


def test_cancel_is_a_get_of_the_order_id() -> None:
    call = DefinedgeBroker().cancel_call(BOOKED, None)  # type: ignore[arg-type]
    assert (call.method, call.host, call.path) == ("GET", "api", f"{TRADE}/cancel/25112000000417")
    assert (call.json, call.form, call.content) == (None, None, None)


def test_modify_then_cancel_a_resting_order(logged_in: Gateway,
                                            broker_sim: DefinedgeSimulator) -> None:
    market = price_of(logged_in, broker_sim, SBIN)
    receipt = logged_in.place_order("definedge", order(quantity=2, pricetype="LIMIT",
                                                       price=market - 5, tag="oaRest"))
    logged_in.modify_order("definedge", receipt.order_id, quantity=3, price=market - 6)
    moved = logged_in.fetch_order("definedge", receipt.order_id)
    assert (moved.status, moved.quantity, moved.price, moved.tag) == (
        OrderStatus.OPEN, 3, market - 6, "oaRest")
    logged_in.cancel_order("definedge", receipt.order_id)
    gone = logged_in.fetch_order("definedge", receipt.order_id)
    assert gone.status is OrderStatus.CANCELLED and gone.raw["order_status"] == "CANCELED"


def test_an_rms_rejection_shows_in_the_book_with_its_reason_and_tag(
        logged_in: Gateway, broker_sim: DefinedgeSimulator) -> None:
    broker_sim.margin_limit = Decimal(100)
    receipt = logged_in.place_order("definedge", order(quantity=5, tag="oaRms"))
    rejected = logged_in.fetch_order("definedge", receipt.order_id)
    assert (rejected.status, rejected.tag) == (OrderStatus.REJECTED, "oaRms")
    assert rejected.reason.startswith("RMS:Margin Exceeds")


@pytest.mark.parametrize("shape", ["list", "absent", "error"])
def test_empty_books_in_every_shape_the_simulator_sends(logged_in: Gateway,
                                                        broker_sim: DefinedgeSimulator,
                                                        shape: Any) -> None:
    broker_sim.empty_book = shape
    gw = logged_in
    assert gw.fetch_positions("definedge") == []
    assert gw.fetch_order_book("definedge") == []
    assert gw.fetch_trade_book("definedge") == []
    broker_sim.holding_seeds = ()
    assert gw.fetch_holdings("definedge") == []


def test_holdings_are_valued_at_the_quote(logged_in: Gateway,
                                          broker_sim: DefinedgeSimulator) -> None:
    holdings = logged_in.fetch_holdings("definedge")
    assert [(h.symbol, h.exchange, h.quantity) for h in holdings] == [
        (symbol, exchange, quantity) for exchange, symbol, quantity, _ in broker_sim.holding_seeds]
    for h in holdings:
        token = logged_in.resolve("definedge", h.symbol, "NSE").token
        assert h.ltp == broker_sim.mark(token)
        assert h.pnl == (h.ltp - h.average_price) * h.quantity
