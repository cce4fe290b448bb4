"""The Kotak plugin's own behaviour, through the gateway against the simulator: the login
and its credentials (the seed's keys, the retired flow, the base URL), orders (the jData
body, SL-M as a protective SL, the SEBI and static-IP refusals), and the scrip master."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from openalgo_kotak import INFO
from openalgo_kotak.broker import STATIC_IP, mobile_number
from openalgo_kotak.plugin import hooks
from openalgo_kotak.simulator import KotakSimulator

from openalgo_core import (
    AuthenticationError,
    ConfigurationError,
    LoginChallenge,
    OrderRejectedError,
    Session,
    credentials_for,
)
from openalgo_core.journal import State
from openalgo_core.testing import Harness, wire
from openalgo_core.testing.conformance.base import kinds, sent

MARKET = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1,
          "pricetype": "MARKET", "product": "MIS"}


def jdata(request: httpx.Request) -> dict[str, Any]:
    (raw,) = parse_qs(request.content.decode())["jData"]
    data: dict[str, Any] = json.loads(raw)
    return data


def orders(requests: list[httpx.Request]) -> list[httpx.Request]:
    return [r for r in requests if r.url.path.startswith("/quick/order/")]


@pytest.fixture
def harness(broker_harness: Harness) -> Harness:
    return broker_harness


# -- login ------------------------------------------------------------------------------
def test_login_is_two_steps_and_every_later_call_uses_the_base_url(
        harness: Harness, broker_sim: KotakSimulator) -> None:
    broker_sim.trade_url = "https://e41.kotaksecurities.com"
    with sent(harness) as requests:
        session = harness.login()
    step1, step2 = requests
    assert (step1.url.host, step1.url.path) == ("mis.kotaksecurities.com",
                                                 "/login/1.0/tradeApiLogin")
    assert step1.headers["authorization"] == broker_sim.credentials["ACCESS_TOKEN"]
    assert step1.headers["neo-fin-key"] == "neotradeapi"
    body = json.loads(step1.content)
    assert body["mobileNumber"] == "+91" + broker_sim.credentials["MOBILE"]
    assert body["ucc"] == broker_sim.credentials["UCC"] and len(body["totp"]) == 6
    assert step2.url.path == "/login/1.0/tradeApiValidate"
    assert step2.headers["sid"] and step2.headers["auth"]
    assert json.loads(step2.content) == {"mpin": broker_sim.credentials["MPIN"]}
    assert session.user_id == broker_sim.credentials["UCC"]
    with sent(harness) as requests:
        harness.gateway.place_order("kotak", MARKET)
        harness.gateway.fetch_positions("kotak")
    files = {r.url.host for r in requests if r.url.path.endswith(".csv")}
    assert files == {"lapi.kotaksecurities.com"}  # the scrip master's own host
    assert {r.url.host for r in requests if not r.url.path.endswith(".csv")} == {
        "e41.kotaksecurities.com"}
    place = orders(requests)[0]
    assert place.headers["sid"] and place.headers["auth"] == \
        session.access_token.get_secret_value()
    assert place.headers["authorization"] == broker_sim.credentials["ACCESS_TOKEN"]
    books = [r for r in requests if r.url.path.startswith(("/quick/user", "/portfolio"))]
    assert books and all("authorization" not in r.headers for r in books)


def test_without_a_totp_secret_the_login_page_asks_for_what_is_not_configured(
        broker_sim: KotakSimulator, broker_environ: dict[str, str], tmp_path: Path) -> None:
    with wire(hooks, sim=broker_sim, environ=broker_environ, home=tmp_path,
              omit=("TOTP_SECRET", "MOBILE", "MPIN")) as harness:
        challenge = harness.gateway.authenticate("kotak")
        assert isinstance(challenge, LoginChallenge)
        assert challenge.fields == ("mobile", "mpin", "code")
        assert [challenge.label(f) for f in challenge.fields] == ["Mobile Number", "MPIN", "TOTP"]
        assert challenge.secret_fields == ("mpin",)
        typed = {"state": challenge.state, "code": broker_sim.totp_now(),
                 "mobile": "+91" + broker_sim.credentials["MOBILE"],
                 "mpin": broker_sim.credentials["MPIN"]}
        session = harness.gateway.handle_callback("kotak", typed)
        assert isinstance(session, Session)


@pytest.mark.parametrize("typed", ["9876543210", "+919876543210", "919876543210",
                                   "98765 43210", "09876543210", "+91 98765-43210"])
def test_mobile_numbers_are_read_as_typed(typed: str) -> None:
    assert mobile_number(typed) == "+919876543210"


@pytest.mark.parametrize("typed", ["", "12345", "5876543210", "98765432101", "+1 9876543210",
                                   "98765abcde"])
def test_a_mobile_number_that_is_not_one_is_refused(typed: str) -> None:
    with pytest.raises(AuthenticationError, match="10 digits"):
        mobile_number(typed)


def test_the_seed_env_works_unchanged(broker_sim: KotakSimulator, tmp_path: Path) -> None:
    """OpenAlgo's .env for Kotak: BROKER_API_KEY (the UCC), BROKER_API_SECRET (the access
    token) and REDIRECT_URL; what else the login needs is asked for on the login page."""
    seed = {"BROKER_API_KEY": broker_sim.credentials["UCC"],
            "BROKER_API_SECRET": broker_sim.credentials["ACCESS_TOKEN"],
            "REDIRECT_URL": "http://127.0.0.1:5000/kotak/callback"}
    credentials = credentials_for(INFO, seed)
    assert credentials.require("UCC", "ACCESS_TOKEN") == (
        seed["BROKER_API_KEY"], seed["BROKER_API_SECRET"])
    with wire(hooks, sim=broker_sim, environ=dict(seed), home=tmp_path) as harness:
        challenge = harness.gateway.authenticate("kotak")
        assert isinstance(challenge, LoginChallenge)
        assert challenge.fields == ("mobile", "mpin", "code")
        session = harness.gateway.handle_callback("kotak", harness.answer(challenge))
        assert session.user_id == broker_sim.credentials["UCC"]
        assert harness.gateway.fetch_positions("kotak") == []


@pytest.mark.parametrize(("key", "secret", "says"), [
    ("c7Y4x1Vcu3XfM2ekfqLXtO0LAFEa", None, "looks like a Consumer Key"),
    ("AB 123", None, "is not a UCC"),
    (None, "Bearer eyJ4NXQiOiJNbUprWW1", "Bearer token of the retired flow"),
])
def test_a_value_of_the_retired_flow_is_refused_before_anything_is_sent(
        harness: Harness, key: str | None, secret: str | None, says: str) -> None:
    if key is not None:
        harness.environ[harness.var("UCC")] = key
    if secret is not None:
        harness.environ[harness.var("ACCESS_TOKEN")] = secret
    with sent(harness) as requests, pytest.raises(ConfigurationError, match=says) as info:
        harness.gateway.authenticate("kotak")
    assert requests == []
    assert "UCC" in str(info.value) or "access token" in str(info.value)


def test_a_consumer_secret_kotak_refuses_is_named(harness: Harness) -> None:
    """A Consumer Secret of the retired flow is not refused before sending (Kotak may
    change its token's shape), but Kotak's refusal then says what it probably is."""
    harness.environ[harness.var("ACCESS_TOKEN")] = "Fk0XcPFjjdPBqxwJz8yjtU8PPmMa"
    with pytest.raises(AuthenticationError, match="retired the consumer key/secret"):
        harness.login()
    harness.environ[harness.var("ACCESS_TOKEN")] = str(uuid.uuid4())  # a token, not Kotak's
    with pytest.raises(AuthenticationError) as info:
        harness.login()
    assert "retired" not in str(info.value)


def test_wrong_totp_and_wrong_mpin_are_authentication_errors(harness: Harness) -> None:
    harness.environ[harness.var("MPIN")] = "000000" if harness.sim.credentials["MPIN"] != \
        "000000" else "111111"
    with sent(harness) as requests, pytest.raises(AuthenticationError, match="MPIN"):
        harness.login()
    assert kinds(requests)["login"] == 2
    harness.environ[harness.var("MPIN")] = harness.sim.credentials["MPIN"]
    harness.environ[harness.var("TOTP_SECRET")] = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    with sent(harness) as requests, pytest.raises(AuthenticationError, match="TOTP"):
        harness.login()
    assert kinds(requests)["login"] == 1


# -- orders -----------------------------------------------------------------------------
def test_an_order_is_form_encoded_jdata_with_the_tag_in_ig(harness: Harness) -> None:
    harness.login()
    with sent(harness) as requests:
        receipt = harness.gateway.place_order("kotak", {**MARKET, "tag": "kotaktag1"})
    (place,) = orders(requests)
    assert place.headers["content-type"] == "application/x-www-form-urlencoded"
    assert list(jdata(place).items()) == [
        ("am", "NO"), ("dq", "0"), ("es", "nse_cm"), ("mp", "0"), ("pc", "MIS"), ("pr", "0"),
        ("pt", "MKT"), ("qt", "1"), ("rt", "DAY"), ("tp", "0"), ("ts", "SBIN-EQ"),
        ("tt", "B"), ("ig", "kotaktag1"), ("os", "NEOTRADEAPI")]
    (row,) = harness.gateway.fetch_order_book("kotak")
    assert (row.order_id, row.tag) == (receipt.order_id, "kotaktag1")
    assert row.raw["GuiOrdId"] == "kotaktag1"


def test_limit_and_stop_prices_are_text_without_trailing_zeros(harness: Harness) -> None:
    harness.login()
    instrument = harness.gateway.resolve("kotak", "SBIN", "NSE")
    market = harness.sim.price(instrument.token)
    with sent(harness) as requests:
        harness.gateway.place_order("kotak", {**MARKET, "pricetype": "SL", "price":
                                              str(market + Decimal("5.50")),
                                              "trigger_price": str(market + Decimal("5.00"))})
    body = jdata(orders(requests)[0])
    assert (body["pt"], body["pr"], body["tp"]) == (
        "SL", format((market + Decimal("5.5")).normalize(), "f"),
        format((market + 5).normalize(), "f"))


@pytest.mark.parametrize(("action", "trigger", "limit"), [
    ("BUY", "812.35", "816.45"),   # 0.5 % above, on the tick (ceiling)
    ("SELL", "812.35", "808.25"),  # 0.5 % below (floor)
    ("BUY", "45.05", "45.96"),     # 2 % under 100, on SUZLON's 0.01 tick
])
def test_slm_goes_as_sl_with_a_protective_limit(harness: Harness, action: str, trigger: str,
                                                limit: str) -> None:
    """Kotak refuses SL-M from API sessions (SEBI): it is sent as SL, its limit one MPP band
    beyond the trigger; the simulator books it as an SL at that limit."""
    harness.login()
    symbol = "SUZLON" if Decimal(trigger) < 100 else "SBIN"
    with sent(harness) as requests:
        receipt = harness.gateway.place_order("kotak", {
            **MARKET, "symbol": symbol, "action": action, "pricetype": "SL-M",
            "trigger_price": trigger})
    body = jdata(orders(requests)[0])
    assert (body["pt"], body["tp"], body["pr"]) == ("SL", trigger, limit)
    booked = harness.sim.book.orders[receipt.order_id]
    assert (booked.pricetype, booked.price) == ("SL", Decimal(limit))


def test_an_mcx_order_waits_for_the_quantity_unit_to_be_confirmed(harness: Harness) -> None:
    """Kotak's MCX quantity unit is unconfirmed (units or lots): an MCX order is refused
    before sending, journaled not placed, until MCX_QUANTITY=units; then the same tag is
    sent once, its quantity in units (credentials are read at each login)."""
    harness.environ.pop(harness.var("MCX_QUANTITY"), None)
    harness.login()
    crude = next(i for i in harness.gateway.instruments("kotak")
                 if i.exchange == "MCX" and i.instrument_type == "FUT")
    order = {**MARKET, "symbol": crude.symbol, "exchange": "MCX", "quantity": crude.lot_size,
             "product": "NRML", "tag": "crude1"}
    with sent(harness) as requests, pytest.raises(ConfigurationError, match="MCX_QUANTITY"):
        harness.gateway.place_order("kotak", order)
    assert orders(requests) == []
    (entry,) = [e for e in harness.gateway.journal_entries("kotak") if e.tag == "crude1"]
    assert entry.state is State.NOT_PLACED
    harness.environ[harness.var("MCX_QUANTITY")] = "units"
    harness.login()
    with sent(harness) as requests:
        receipt = harness.gateway.place_order("kotak", order)
    (placed,) = orders(requests)
    assert (jdata(placed)["es"], jdata(placed)["qt"]) == ("mcx_fo", str(crude.lot_size))
    assert harness.sim.book.orders[receipt.order_id].quantity == crude.lot_size


def test_slm_sent_as_it_is_meets_kotaks_algo_refusal(harness: Harness) -> None:
    harness.environ[harness.var("SLM_AS_SL")] = "no"
    harness.login()
    with sent(harness) as requests, pytest.raises(OrderRejectedError) as info:
        harness.gateway.place_order("kotak", {**MARKET, "pricetype": "SL-M",
                                              "trigger_price": "900"})
    assert jdata(orders(requests)[0])["pt"] == "SL-M"
    assert info.value.code == "1017" and "SEBI" in info.value.reason
    assert "Market order with Algo Id not allowed" in info.value.reason


def test_kotaks_algo_refusal_says_what_it_means_and_is_not_resent(harness: Harness) -> None:
    harness.login()
    harness.fault(reject_orders=1)
    fields = {**MARKET, "tag": "algo1"}
    with pytest.raises(OrderRejectedError, match="algo order not allowed: Kotak refused it"):
        harness.gateway.place_order("kotak", fields)
    with sent(harness) as requests, pytest.raises(OrderRejectedError):
        harness.gateway.place_order("kotak", fields)
    assert requests == [] and harness.sim_orders() == []


@pytest.mark.parametrize("refusal", ["ip", "session_ip"])
def test_a_static_ip_refusal_is_typed_and_says_so(harness: Harness, refusal: Any) -> None:
    """Since 1 April 2026 orders come only from the whitelisted IP, on a session created
    from it: an AuthenticationError saying so, the order not placed (placing it again
    with its tag, from the right IP, sends it once)."""
    harness.login()
    harness.sim.ip_refusal = refusal
    fields = {**MARKET, "tag": f"ip{refusal.replace('_', '')}"}
    with pytest.raises(AuthenticationError, match="static IP") as info:
        harness.gateway.place_order("kotak", fields)
    code = {"ip": "100008", "session_ip": "1037"}[refusal]
    assert info.value.code == code and STATIC_IP[code] in str(info.value)
    entry = harness.gateway.journal.get(fields["tag"])
    assert entry is not None and entry.state is State.NOT_PLACED
    assert harness.sim_orders() == []
    harness.sim.ip_refusal = None
    receipt = harness.gateway.place_order("kotak", fields)
    assert [o["order_id"] for o in harness.sim_orders()] == [receipt.order_id]


def test_a_duplicate_tag_is_kotaks_refusal(harness: Harness) -> None:
    """Kotak refuses an ``ig`` it has seen today (5204): the hook asked twice with one tag
    (past the journal, which never resends) is refused the second time."""
    session = harness.login()
    instrument = harness.gateway.resolve("kotak", "SBIN", "NSE")
    from openalgo_core import order_from

    order = order_from({**MARKET, "tag": "twice1"})
    credentials = harness.gateway.credentials("kotak")
    client = harness.gateway.client("kotak")
    hooks.place_order(order=order, instrument=instrument, session=session,
                      credentials=credentials, client=client)
    with pytest.raises(OrderRejectedError, match="already exists"):
        hooks.place_order(order=order, instrument=instrument, session=session,
                          credentials=credentials, client=client)


def test_modify_sends_the_sdks_keys_and_cancel_the_order_number(harness: Harness) -> None:
    harness.login()
    instrument = harness.gateway.resolve("kotak", "SBIN", "NSE")
    below = harness.sim.price(instrument.token) - 2
    order_id = harness.gateway.place_order("kotak", {**MARKET, "pricetype": "LIMIT",
                                                     "price": str(below)}).order_id
    with sent(harness) as requests:
        harness.gateway.modify_order("kotak", order_id, price=str(below - 1), quantity=3)
        harness.gateway.cancel_order("kotak", order_id)
    modify, cancel = orders(requests)
    assert jdata(modify) == {"no": order_id, "qt": "3", "pt": "L",
                             "pr": format((below - 1).normalize(), "f"), "tp": "0", "dq": "0",
                             "vd": "DAY", "am": "NO", "mp": "0", "os": "NEOTRADEAPI"}
    assert jdata(cancel) == {"on": order_id, "am": "NO"}
    assert harness.sim.book.orders[order_id].status == "cancelled"


# -- the scrip master ---------------------------------------------------------------------
@pytest.fixture
def full_harness(broker_environ: dict[str, str], tmp_path: Path) -> Iterator[Harness]:
    sim = KotakSimulator(environ=broker_environ)  # the full-size master
    with wire(hooks, sim=sim, environ=broker_environ, home=tmp_path) as harness:
        yield harness


def test_the_master_is_every_segment_file_with_one_progress_bar(full_harness: Harness) -> None:
    full_harness.login()
    reports: list[tuple[int, int | None]] = []
    with sent(full_harness) as requests:
        index = full_harness.gateway.instruments("kotak", refresh=True,
                                                 progress=lambda d, t: reports.append((d, t)))
    files = [r.url.path.rsplit("/", 1)[-1] for r in requests if r.url.path.endswith(".csv")]
    assert sorted(files) == ["bse_cm-v1.csv", "bse_fo.csv", "cde_fo.csv", "mcx_fo.csv",
                             "nse_cm-v1.csv", "nse_fo.csv"]  # not nse_com (older format)
    assert requests[0].url.path == "/script-details/1.0/masterscrip/file-paths"
    assert requests[0].headers["authorization"] == full_harness.sim.credentials["ACCESS_TOKEN"]
    done = [d for d, _ in reports]
    assert done == sorted(done) and done[-1] == sum(
        len(full_harness.sim.files()[s]) for s in ("nse_cm", "bse_cm", "nse_fo", "bse_fo",
                                                   "cde_fo", "mcx_fo"))
    assert len(index) > 200_000
    assert index.resolve("SBIN", "NSE").broker_symbol == "SBIN-EQ"
    assert index.resolve("NIFTY", "NSE_INDEX").exchange == "NSE_INDEX"


def test_a_failed_segment_download_keeps_yesterdays_master(harness: Harness) -> None:
    """One file of the day failing (a 5xx, three times): the master is not half
    replaced; the last one cached serves (the core's fallback, OpenAlgo #2099)."""
    import datetime as dt

    from openalgo_core.models import IST

    harness.login()
    today = harness.gateway.instruments("kotak")
    cache, day = harness.gateway.cache, dt.datetime.now(IST).date()
    cache.path("kotak", day).rename(cache.path("kotak", day - dt.timedelta(days=1)))
    harness.gateway._indexes.clear()
    harness.sim.failing_files = frozenset({"mcx_fo"})
    with sent(harness) as requests:
        kept = harness.gateway.instruments("kotak")
    assert [r.url.path.rsplit("/", 1)[-1] for r in requests].count("mcx_fo.csv") == 3
    assert len(kept) == len(today) and kept.resolve("SBIN", "NSE").token == "3045"
    assert not cache.path("kotak", day).exists()
    harness.sim.failing_files = frozenset()
    assert len(harness.gateway.instruments("kotak", refresh=True)) == len(today)
