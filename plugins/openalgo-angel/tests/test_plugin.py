"""The plugin through the core Gateway against the simulator: Angel's login, orders,
positions. What every broker must do is the conformance suite's (test_conformance.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openalgo_angel.plugin
import pytest
from openalgo_angel import INFO
from openalgo_angel.broker import AngelBroker, order_body
from openalgo_angel.simulator import AngelSimulator

from openalgo_core import (
    AuthenticationError,
    BrokerClient,
    Gateway,
    Instrument,
    LoginChallenge,
    OrderRejectedError,
    Session,
    new_session,
    order_from,
)
from openalgo_core.config import credentials_for
from openalgo_core.testing import Harness, wire

KEY, CLIENT, PIN = "OPENALGO_ANGEL_API_KEY", "OPENALGO_ANGEL_CLIENT_ID", "OPENALGO_ANGEL_PIN"
#: the gateway lacks the TOTP secret (the simulator still has it): the login asks for the code
NO_SECRET = pytest.mark.parametrize("broker_wire_options", [{"omit": ("TOTP_SECRET",)}],
                                    ids=["no-totp-secret"])


@pytest.fixture
def logged_in(broker_gateway: Gateway) -> Gateway:
    assert isinstance(broker_gateway.authenticate("angel"), Session)
    return broker_gateway


@pytest.fixture
def seed(broker_sim: AngelSimulator, broker_environ: dict[str, str],
         tmp_path: Path) -> Iterator[Harness]:
    """A gateway whose whole environment is a ``.env`` as OpenAlgo's setup guide writes it."""
    environ = {"BROKER_API_KEY": f"'{broker_environ[KEY]}'",
               "BROKER_API_SECRET": "unused-by-angel",
               "REDIRECT_URL": "'http://127.0.0.1:5000/angel/callback'"}
    with wire(openalgo_angel.plugin.hooks, sim=broker_sim, environ=environ,
              home=tmp_path / "seed") as harness:
        yield harness


def order(**fields: Any) -> dict[str, Any]:
    return {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1,
            "pricetype": "MARKET", "product": "MIS", **fields}


# -- login -----------------------------------------------------------------------------
def test_totp_login_keeps_the_client_code_and_angels_three_tokens(
        broker_gateway: Gateway, broker_environ: dict[str, str]) -> None:
    session = broker_gateway.authenticate("angel")
    assert isinstance(session, Session)
    assert session.user_id == broker_environ[CLIENT]
    assert not session.access_token.get_secret_value().startswith("Bearer")
    assert session.refresh_token is not None and session.feed_token is not None


@NO_SECRET
def test_a_wrong_code_is_angels_ab1050(broker_gateway: Gateway,
                                       broker_totp: Callable[[], str]) -> None:
    challenge = broker_gateway.authenticate("angel")
    assert isinstance(challenge, LoginChallenge) and challenge.fields == ("code",)
    wrong = f"{(int(broker_totp()) + 500_000) % 1_000_000:06d}"
    with pytest.raises(AuthenticationError) as info:
        broker_gateway.handle_callback("angel", {"state": challenge.state, "code": wrong})
    assert info.value.code == "AB1050"


def test_a_seed_env_is_enough_the_login_asks_for_client_code_pin_and_code(
        seed: Harness, broker_environ: dict[str, str], broker_sim: AngelSimulator,
        broker_totp: Callable[[], str]) -> None:
    gw = seed.gateway
    assert credentials_for(INFO, seed.environ).get("API_KEY") == broker_environ[KEY]
    challenge = gw.authenticate("angel")
    assert isinstance(challenge, LoginChallenge)
    assert challenge.fields == ("client_id", "pin", "code")
    assert [challenge.label(f) for f in challenge.fields] == ["Client ID", "PIN", "TOTP"]
    assert challenge.secret_fields == ("pin",)
    for bad in ({"client_id": "", "pin": "4321"}, {"client_id": "A 1", "pin": "4321"},
                {"client_id": broker_environ[CLIENT], "pin": ""}):
        with pytest.raises(AuthenticationError):
            gw.handle_callback("angel", {"state": challenge.state, "code": broker_totp(),
                                         **bad})
        challenge = gw.authenticate("angel")
        assert isinstance(challenge, LoginChallenge)
    assert broker_sim.stats["requests"] == 0  # nothing malformed was sent
    session = gw.handle_callback("angel", {
        "state": challenge.state, "code": broker_totp(), "client_id": broker_environ[CLIENT],
        "pin": broker_environ[PIN]})
    assert session.user_id == broker_environ[CLIENT]
    assert gw.place_order("angel", order()).order_id
    assert gw.credentials("angel").get("CLIENT_ID") is None


def test_a_wrong_typed_pin_is_angels_refusal(seed: Harness, broker_environ: dict[str, str],
                                            broker_totp: Callable[[], str]) -> None:
    challenge = seed.gateway.authenticate("angel")
    assert isinstance(challenge, LoginChallenge)
    with pytest.raises(AuthenticationError) as info:
        seed.gateway.handle_callback("angel", {"state": challenge.state, "code": broker_totp(),
                                               "client_id": broker_environ[CLIENT],
                                               "pin": "0000"})
    assert info.value.code == "AB1000"


# -- orders ----------------------------------------------------------------------------
@pytest.mark.parametrize(("fields", "variety", "ordertype", "producttype"), [
    ({}, "NORMAL", "MARKET", "INTRADAY"),
    ({"pricetype": "LIMIT", "price": "500"}, "NORMAL", "LIMIT", "INTRADAY"),
    ({"pricetype": "SL", "price": "500", "trigger_price": "499.5", "product": "CNC"},
     "STOPLOSS", "STOPLOSS_LIMIT", "DELIVERY"),
    ({"pricetype": "SL-M", "trigger_price": "499.5"}, "STOPLOSS", "STOPLOSS_MARKET",
     "INTRADAY"),
])
def test_what_reaches_angel(logged_in: Gateway, broker_sim: AngelSimulator,
                            fields: dict[str, Any], variety: str, ordertype: str,
                            producttype: str) -> None:
    receipt = logged_in.place_order("angel", order(**fields))
    sent = broker_sim.book.orders[receipt.order_id].raw
    assert (sent["variety"], sent["ordertype"], sent["producttype"]) == (
        variety, ordertype, producttype)
    assert (sent["tradingsymbol"], sent["symboltoken"], sent["exchange"]) == (
        "SBIN-EQ", "3045", "NSE")


def test_disclosed_quantity_reaches_the_order_book(logged_in: Gateway,
                                                   broker_sim: AngelSimulator) -> None:
    receipt = logged_in.place_order("angel", order(quantity=10, disclosed_quantity=2))
    booked = broker_sim.book.orders[receipt.order_id]
    assert booked.disclosed_quantity == 2 and booked.raw["disclosedquantity"] == "2"
    assert receipt.raw["data"]["orderid"] == receipt.order_id


def test_rms_rejection_is_a_receipt_then_rejected_in_the_book(
        logged_in: Gateway, broker_sim: AngelSimulator) -> None:
    receipt = logged_in.place_order("angel", order(quantity=1_000_000))
    assert receipt.order_id
    booked = broker_sim.book.orders[receipt.order_id]
    assert booked.status == "rejected" and "Margin" in booked.reason


def test_status_false_is_order_rejected_with_angels_code(logged_in: Gateway,
                                                         broker_client: BrokerClient) -> None:
    stale = Instrument("SBIN", "NSE", "SBIN-EQ", "NSE", "424242", "SBIN")  # token unknown
    with pytest.raises(OrderRejectedError) as info:
        AngelBroker().place_order(order_from(order(tag="oastale")), stale,
                                  logged_in.session("angel"), logged_in.credentials("angel"),
                                  broker_client)
    assert (info.value.code, info.value.reason) == ("AB1009", "Symbol Not Found")


def test_the_order_goes_as_compact_utf8_json_with_angels_headers(
        broker_environ: dict[str, str]) -> None:
    """The body is encoded by msgspec: byte for byte what ``httpx``'s ``json=`` sends."""
    seen: list[httpx.Request] = []
    reply = {"status": True, "message": "SUCCESS", "errorcode": "", "data": {"orderid": "1"}}
    mock = BrokerClient(INFO, transport=httpx.MockTransport(
        lambda request: seen.append(request) or httpx.Response(200, json=reply)))
    request = order_from(order(symbol="SBIN", pricetype="LIMIT", price="812.35", tag="oaB1"))
    instrument = Instrument("SBIN", "NSE", "SBIN-EQ", "NSE", "3045", "SBIN")
    try:
        AngelBroker().place_order(request, instrument, new_session("angel", "A1", "jwt"),
                                  credentials_for(INFO, broker_environ), mock)
    finally:
        mock.close()
    sent = seen[-1]
    expected = httpx.Request("POST", sent.url, json=order_body(request, instrument))
    assert sent.content == expected.content
    assert json.loads(sent.content)["price"] == "812.35"
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["content-length"] == str(len(expected.content))
    assert sent.headers["authorization"] == "Bearer jwt"


# -- positions -------------------------------------------------------------------------
def test_positions_map_back_to_openalgo_symbols_on_every_segment(
        logged_in: Gateway, broker_sim: AngelSimulator) -> None:
    index = logged_in.instruments("angel")
    picks = {exchange: next(i for i in index if i.exchange == exchange
                            and i.instrument_type == kind)
             for exchange, kind in (("NFO", "CE"), ("BFO", "FUT"), ("MCX", "PE"),
                                    ("CDS", "CE"))}
    assert picks["BFO"].broker_symbol != picks["BFO"].symbol
    for instrument in picks.values():
        logged_in.place_order("angel", order(symbol=instrument.symbol,
                                             exchange=instrument.exchange, action="SELL",
                                             quantity=instrument.lot_size, product="NRML"))
    logged_in.place_order("angel", order(product="CNC", quantity=4))
    rows = {(p.symbol, str(p.exchange)): p for p in logged_in.fetch_positions("angel")}
    assert set(rows) == {(i.symbol, i.exchange) for i in picks.values()} | {("SBIN", "NSE")}
    cds = rows[picks["CDS"].symbol, "CDS"]
    assert (cds.product, cds.quantity) == ("NRML", -picks["CDS"].lot_size)
    assert cds.average_price == broker_sim.price(picks["CDS"].token)
    assert rows["SBIN", "NSE"].product == "CNC"
    for p in rows.values():
        assert p.pnl == (p.ltp - p.average_price) * p.quantity
