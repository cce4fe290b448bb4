"""The plugin through the core Gateway against the simulator: login, orders, positions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
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
    BrokerResponseError,
    Gateway,
    Instrument,
    LoginChallenge,
    MemorySessionStore,
    MissingCredentialsError,
    OrderRejectedError,
    RateLimitError,
    Registry,
    Session,
    SessionExpiredError,
    new_session,
    order_from,
)
from openalgo_core.config import credentials_for


def gateway_for(environ: dict[str, str], transport: httpx.BaseTransport,
                tmp_path: Path) -> Gateway:
    registry = Registry(environ=environ, discover=False)
    registry.register_broker(openalgo_angel.plugin.hooks)
    return Gateway(registry=registry, environ=environ, session_store=MemorySessionStore(),
                   cache_dir=tmp_path, transports={"angel": transport}, sleep=lambda s: None)


@pytest.fixture
def logged_in(gateway: Gateway) -> Gateway:
    assert isinstance(gateway.authenticate("angel"), Session)
    return gateway


# -- login -----------------------------------------------------------------------------
def test_totp_login_needs_no_human(gateway: Gateway, environ: dict[str, str]) -> None:
    session = gateway.authenticate("angel")
    assert isinstance(session, Session)
    assert session.user_id == environ["OPENALGO_ANGEL_CLIENT_ID"]
    assert not session.access_token.get_secret_value().startswith("Bearer")
    assert session.refresh_token is not None and session.feed_token is not None


@pytest.fixture
def no_secret(environ: dict[str, str], transport: httpx.BaseTransport,
              tmp_path: Path) -> Iterator[Gateway]:
    env = {k: v for k, v in environ.items() if k != "OPENALGO_ANGEL_TOTP_SECRET"}
    with gateway_for(env, transport, tmp_path) as gw:
        yield gw


def test_without_a_secret_the_code_is_asked_for(no_secret: Gateway,
                                                totp: Callable[[], str]) -> None:
    challenge = no_secret.authenticate("angel")
    assert isinstance(challenge, LoginChallenge)
    assert (challenge.kind, challenge.fields) == ("code", ("code",))
    assert "6-digit" in challenge.prompt
    session = no_secret.handle_callback("angel", {"state": challenge.state, "code": totp()})
    assert no_secret.session("angel") == session


def test_a_wrong_code_is_angels_ab1050(no_secret: Gateway, totp: Callable[[], str]) -> None:
    challenge = no_secret.authenticate("angel")
    assert isinstance(challenge, LoginChallenge)
    wrong = f"{(int(totp()) + 500_000) % 1_000_000:06d}"
    with pytest.raises(AuthenticationError) as info:
        no_secret.handle_callback("angel", {"state": challenge.state, "code": wrong})
    assert info.value.code == "AB1050"


def test_wrong_pin_is_an_authentication_error(environ: dict[str, str], transport: Any,
                                              tmp_path: Path) -> None:
    env = {**environ, "OPENALGO_ANGEL_PIN": "0000"}
    with gateway_for(env, transport, tmp_path) as gw, pytest.raises(AuthenticationError) as info:
        gw.authenticate("angel")
    assert info.value.code == "AB1000"


def test_missing_api_key_is_named_before_any_request(environ: dict[str, str], transport: Any,
                                                     sim: AngelSimulator, tmp_path: Path) -> None:
    env = {k: v for k, v in environ.items() if k != "OPENALGO_ANGEL_API_KEY"}
    with gateway_for(env, transport, tmp_path) as gw, \
            pytest.raises(MissingCredentialsError, match="OPENALGO_ANGEL_API_KEY"):
        gw.authenticate("angel")
    assert sim.stats["requests"] == 0


def test_a_missing_pin_is_asked_for_at_login(environ: dict[str, str], transport: Any,
                                             sim: AngelSimulator, tmp_path: Path,
                                             totp: Callable[[], str]) -> None:
    env = {k: v for k, v in environ.items() if k != "OPENALGO_ANGEL_PIN"}
    with gateway_for(env, transport, tmp_path) as gw:
        challenge = gw.authenticate("angel")
        assert isinstance(challenge, LoginChallenge)
        assert "pin" in challenge.fields and challenge.is_secret("pin")
        assert "client_id" not in challenge.fields
        assert sim.stats["requests"] == 0
        gw.handle_callback("angel", {"state": challenge.state, "code": totp(),
                                     "pin": environ["OPENALGO_ANGEL_PIN"]})
        assert gw.credentials("angel").get("PIN") is None  # typed for that login only


@pytest.fixture
def seed_env(environ: dict[str, str]) -> dict[str, str]:
    """A ``.env`` exactly as OpenAlgo's setup guide writes it, and nothing else."""
    return {"BROKER_API_KEY": f"'{environ['OPENALGO_ANGEL_API_KEY']}'",
            "BROKER_API_SECRET": "unused-by-angel",
            "REDIRECT_URL": "'http://127.0.0.1:5000/angel/callback'"}


def test_a_seed_env_is_enough_the_login_asks_for_client_code_pin_and_code(
        seed_env: dict[str, str], environ: dict[str, str], transport: Any, sim: AngelSimulator,
        tmp_path: Path, totp: Callable[[], str]) -> None:
    assert credentials_for(INFO, seed_env).get("API_KEY") == environ["OPENALGO_ANGEL_API_KEY"]
    with gateway_for(seed_env, transport, tmp_path) as gw:
        challenge = gw.authenticate("angel")
        assert isinstance(challenge, LoginChallenge)
        assert challenge.fields == ("client_id", "pin", "code")
        assert challenge.secret_fields == ("pin",)
        for bad in ({"client_id": "", "pin": "4321"}, {"client_id": "A 1", "pin": "4321"},
                    {"client_id": environ["OPENALGO_ANGEL_CLIENT_ID"], "pin": ""}):
            with pytest.raises(AuthenticationError):
                gw.handle_callback("angel", {"state": challenge.state, "code": totp(), **bad})
            challenge = gw.authenticate("angel")
            assert isinstance(challenge, LoginChallenge)
        assert sim.stats["requests"] == 0  # nothing malformed was sent
        session = gw.handle_callback("angel", {
            "state": challenge.state, "code": totp(),
            "client_id": environ["OPENALGO_ANGEL_CLIENT_ID"],
            "pin": environ["OPENALGO_ANGEL_PIN"]})
        assert session.user_id == environ["OPENALGO_ANGEL_CLIENT_ID"]
        assert gw.place_order("angel", order()).order_id
        assert gw.credentials("angel").get("CLIENT_ID") is None


def test_a_wrong_typed_pin_is_angels_refusal(seed_env: dict[str, str], environ: dict[str, str],
                                            transport: Any, tmp_path: Path,
                                            totp: Callable[[], str]) -> None:
    with gateway_for(seed_env, transport, tmp_path) as gw:
        challenge = gw.authenticate("angel")
        assert isinstance(challenge, LoginChallenge)
        with pytest.raises(AuthenticationError) as info:
            gw.handle_callback("angel", {"state": challenge.state, "code": totp(),
                                         "client_id": environ["OPENALGO_ANGEL_CLIENT_ID"],
                                         "pin": "0000"})
    assert info.value.code == "AB1000"


def test_rate_limited_login_is_not_retried(gateway: Gateway, sim: AngelSimulator) -> None:
    sim.faults.rate_limit_next = 5
    with pytest.raises(RateLimitError):
        gateway.authenticate("angel")
    assert sim.stats["requests"] == 1


def test_login_without_jwt_is_a_broker_response_error(environ: dict[str, str],
                                                      tmp_path: Path) -> None:
    reply = {"status": True, "message": "SUCCESS", "errorcode": "", "data": {"jwtToken": ""}}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=reply))
    with gateway_for(environ, transport, tmp_path) as gw, \
            pytest.raises(BrokerResponseError, match="access token"):
        gw.authenticate("angel")


# -- orders ----------------------------------------------------------------------------
def order(**fields: Any) -> dict[str, Any]:
    return {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1,
            "pricetype": "MARKET", "product": "MIS", **fields}


@pytest.mark.parametrize(("fields", "variety", "ordertype", "producttype"), [
    ({}, "NORMAL", "MARKET", "INTRADAY"),
    ({"pricetype": "LIMIT", "price": "500"}, "NORMAL", "LIMIT", "INTRADAY"),
    ({"pricetype": "SL", "price": "500", "trigger_price": "499.5", "product": "CNC"},
     "STOPLOSS", "STOPLOSS_LIMIT", "DELIVERY"),
    ({"pricetype": "SL-M", "trigger_price": "499.5"}, "STOPLOSS", "STOPLOSS_MARKET",
     "INTRADAY"),
])
def test_what_reaches_angel(logged_in: Gateway, sim: AngelSimulator, fields: dict[str, Any],
                            variety: str, ordertype: str, producttype: str) -> None:
    receipt = logged_in.place_order("angel", order(**fields))
    sent = sim.book.orders[receipt.order_id].raw
    assert (sent["variety"], sent["ordertype"], sent["producttype"]) == (
        variety, ordertype, producttype)
    assert (sent["tradingsymbol"], sent["symboltoken"], sent["exchange"]) == (
        "SBIN-EQ", "3045", "NSE")


def test_disclosed_quantity_and_tag_reach_the_order_book(logged_in: Gateway,
                                                         sim: AngelSimulator) -> None:
    receipt = logged_in.place_order("angel", order(quantity=10, disclosed_quantity=2))
    booked = sim.book.orders[receipt.order_id]
    assert booked.disclosed_quantity == 2 and booked.raw["disclosedquantity"] == "2"
    assert receipt.tag and booked.tag == receipt.tag
    assert receipt.raw["data"]["orderid"] == receipt.order_id


def test_tags_are_unique_per_order(logged_in: Gateway, sim: AngelSimulator) -> None:
    for _ in range(3):
        logged_in.place_order("angel", order())
    assert len({o.tag for o in sim.book.orders.values()}) == 3


def test_nrml_future_order(logged_in: Gateway, sim: AngelSimulator) -> None:
    future = next(i for i in logged_in.instruments("angel")
                  if i.exchange == "NFO" and i.instrument_type == "FUT")
    receipt = logged_in.place_order("angel", order(
        symbol=future.symbol, exchange="NFO", quantity=future.lot_size, product="NRML"))
    assert sim.book.orders[receipt.order_id].raw["producttype"] == "CARRYFORWARD"


def test_rms_rejection_is_a_receipt_then_rejected_in_the_book(logged_in: Gateway,
                                                              sim: AngelSimulator) -> None:
    receipt = logged_in.place_order("angel", order(quantity=1_000_000))
    assert receipt.order_id
    booked = sim.book.orders[receipt.order_id]
    assert booked.status == "rejected" and "Margin" in booked.reason


def test_status_false_is_order_rejected_with_angels_code(logged_in: Gateway,
                                                         client: BrokerClient) -> None:
    stale = Instrument("SBIN", "NSE", "SBIN-EQ", "NSE", "424242", "SBIN")  # token unknown
    with pytest.raises(OrderRejectedError) as info:
        AngelBroker().place_order(order_from(order(tag="oastale")), stale,
                                  logged_in.session("angel"), logged_in.credentials("angel"),
                                  client)
    assert (info.value.code, info.value.reason) == ("AB1009", "Symbol Not Found")


def test_the_order_id_is_data_orderid_text_or_number(environ: dict[str, str]) -> None:
    for orderid in ("200910000000111", 200910000000111):
        reply = {"status": True, "message": "SUCCESS", "errorcode": "",
                 "data": {"script": "SBIN-EQ", "orderid": orderid}}
        assert _place_with_reply(environ, reply) == "200910000000111"


def _place_with_reply(environ: dict[str, str], reply: dict[str, Any]) -> str:
    mock = BrokerClient(INFO, transport=httpx.MockTransport(
        lambda request: httpx.Response(200, content=json.dumps(reply).encode())))
    sbin = Instrument("SBIN", "NSE", "SBIN-EQ", "NSE", "3045", "SBIN")
    try:
        return AngelBroker().place_order(order_from(order(tag="oaodd1")), sbin,
                                         new_session("angel", "A1", "jwt"),
                                         credentials_for(INFO, environ), mock).order_id
    finally:
        mock.close()


def test_expired_session_on_an_order(logged_in: Gateway, sim: AngelSimulator) -> None:
    logged_in.instruments("angel")
    sim.expire_sessions()
    with pytest.raises(SessionExpiredError):
        logged_in.place_order("angel", order())
    assert sim.book.orders == {}


# -- positions -------------------------------------------------------------------------
def test_positions_map_back_to_openalgo_symbols_on_every_segment(logged_in: Gateway,
                                                                 sim: AngelSimulator) -> None:
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
    assert cds.average_price == sim.price(picks["CDS"].token)
    assert rows["SBIN", "NSE"].product == "CNC"
    for p in rows.values():
        assert p.pnl == (p.ltp - p.average_price) * p.quantity


def test_closed_position_stays_with_its_realised_pnl(logged_in: Gateway,
                                                     sim: AngelSimulator) -> None:
    bought = sim.price("3045")
    logged_in.place_order("angel", order(quantity=5))
    sim.quotes["3045"] = bought + Decimal("12.50")  # the market moves up
    logged_in.place_order("angel", order(action="SELL", quantity=5))
    (closed,) = logged_in.fetch_positions("angel")
    assert (closed.symbol, closed.quantity, closed.pnl) == ("SBIN", 0, Decimal("62.50"))


def test_the_order_goes_as_compact_utf8_json_with_angels_headers(environ: dict[str, str]
                                                                ) -> None:
    """The body is encoded by msgspec: byte for byte what ``httpx``'s ``json=`` sends."""
    seen: list[httpx.Request] = []
    reply = {"status": True, "message": "SUCCESS", "errorcode": "", "data": {"orderid": "1"}}
    mock = BrokerClient(INFO, transport=httpx.MockTransport(
        lambda request: seen.append(request) or httpx.Response(200, json=reply)))
    request = order_from(order(symbol="SBIN", pricetype="LIMIT", price="812.35", tag="oaB1"))
    instrument = Instrument("SBIN", "NSE", "SBIN-EQ", "NSE", "3045", "SBIN")
    try:
        AngelBroker().place_order(request, instrument, new_session("angel", "A1", "jwt"),
                                  credentials_for(INFO, environ), mock)
    finally:
        mock.close()
    sent = seen[-1]
    expected = httpx.Request("POST", sent.url, json=order_body(request, instrument))
    assert sent.content == expected.content
    assert json.loads(sent.content)["price"] == "812.35"
    assert sent.headers["content-type"] == "application/json"
    assert sent.headers["content-length"] == str(len(expected.content))
    assert sent.headers["authorization"] == "Bearer jwt"
