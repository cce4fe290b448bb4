"""The simulator speaks the Neo Trade API by hand: login refusals, the session headers,
jData validation and Kotak's quirks (a zero only as "0", blank fields, ``ig`` unique for the
day, SL-M refused), the empty-book shape, quotes as a JSON array, and the scrip master's
real header and expiry counting."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from openalgo_kotak.sim_master import HEADER
from openalgo_kotak.simulator import KotakSimulator

from openalgo_core.models import IST
from openalgo_core.testing import InProcessTransport, future_symbol, monthly_expiry


@pytest.fixture
def sim(broker_sim: KotakSimulator) -> KotakSimulator:
    return broker_sim


@pytest.fixture
def http(broker_http: httpx.Client) -> httpx.Client:
    return broker_http


def step1(http: httpx.Client, sim: KotakSimulator, **changes: Any) -> httpx.Response:
    headers = {"Authorization": sim.credentials["ACCESS_TOKEN"], "neo-fin-key": "neotradeapi"}
    headers.update(changes.pop("headers", {}))
    body = {"mobileNumber": "+91" + sim.credentials["MOBILE"], "ucc": sim.credentials["UCC"],
            "totp": sim.totp_now(), **changes}
    return http.post("/login/1.0/tradeApiLogin", json=body, headers=headers)


def session(http: httpx.Client, sim: KotakSimulator) -> dict[str, str]:
    """Log in by hand; the headers of every later call."""
    view = step1(http, sim).json()["data"]
    trade = http.post("/login/1.0/tradeApiValidate", json={"mpin": sim.credentials["MPIN"]},
                      headers={"Authorization": sim.credentials["ACCESS_TOKEN"],
                               "neo-fin-key": "neotradeapi", "sid": view["sid"],
                               "Auth": view["token"]}).json()["data"]
    return {"Sid": trade["sid"], "Auth": trade["token"], "neo-fin-key": "neotradeapi"}


def place(http: httpx.Client, headers: dict[str, str], **changes: Any) -> httpx.Response:
    body = {"am": "NO", "dq": "0", "es": "nse_cm", "mp": "0", "pc": "MIS", "pr": "0",
            "pt": "MKT", "qt": "1", "rt": "DAY", "tp": "0", "ts": "SBIN-EQ", "tt": "B",
            "ig": None, "os": "NEOTRADEAPI", **changes}
    return http.post("/quick/order/rule/ms/place", data={"jData": json.dumps(body)},
                     headers=headers)


# -- login ------------------------------------------------------------------------------
def test_login_refusals(http: httpx.Client, sim: KotakSimulator) -> None:
    wrong = step1(http, sim, headers={"Authorization": "Bearer " + sim.credentials[
        "ACCESS_TOKEN"]})
    assert wrong.status_code == 401 and wrong.json()["error"][0]["code"] == "900901"
    missing = step1(http, sim, totp="")
    assert missing.json() == {"error": [{"code": "400",
                                         "message": "Missing required field 'Totp'"}]}
    assert step1(http, sim, headers={"neo-fin-key": ""}).json()["error"][0]["code"] == "10512"
    assert step1(http, sim, mobileNumber=sim.credentials["MOBILE"]).status_code == 400
    totp = "000000" if sim.totp_now() != "000000" else "111111"
    assert step1(http, sim, totp=totp).json()["error"][0]["message"] == "Invalid TOTP"


def test_a_view_token_serves_one_validation(http: httpx.Client, sim: KotakSimulator) -> None:
    view = step1(http, sim).json()["data"]
    assert view["kType"] == "View" and view["status"] == "success"
    headers = {"Authorization": sim.credentials["ACCESS_TOKEN"], "sid": view["sid"],
               "Auth": view["token"]}
    wrong = "000000" if sim.credentials["MPIN"] != "000000" else "111111"
    refused = http.post("/login/1.0/tradeApiValidate", json={"mpin": wrong}, headers=headers)
    assert refused.json()["error"][0]["message"] == "Invalid MPIN"
    good = http.post("/login/1.0/tradeApiValidate", json={"mpin": sim.credentials["MPIN"]},
                     headers=headers)
    data = good.json()["data"]
    assert data["kType"] == "Trade" and data["baseUrl"] == "https://mis.kotaksecurities.com"
    again = http.post("/login/1.0/tradeApiValidate", json={"mpin": sim.credentials["MPIN"]},
                      headers=headers)
    assert again.json()["error"][0]["code"] == "10522"


def test_trade_calls_want_the_sessions_sid_and_token(http: httpx.Client,
                                                     sim: KotakSimulator) -> None:
    headers = session(http, sim)
    assert http.get("/quick/user/orders", headers=headers).json()["stCode"] == 5203
    for broken in ({**headers, "Sid": "other"}, {"Auth": headers["Auth"]}, {}):
        refused = http.get("/quick/user/orders", headers=broken)
        assert refused.status_code == 403
        assert refused.json()["stCode"] == 100022 and refused.json()["stat"] == "Not_Ok"
    sim.expired_status = 200
    sim.expire_sessions()
    assert http.get("/quick/user/orders", headers=headers).status_code == 200


# -- orders -----------------------------------------------------------------------------
@pytest.mark.parametrize(("changes", "code"), [
    ({"pr": "0.0"}, 5202), ({"dq": ""}, 5202), ({"qt": "0"}, 1009), ({"qt": "1.5"}, 1009),
    ({"tt": "BUY"}, 1008), ({"es": "cde_fo"}, 1008), ({"pc": "CNC", "es": "nse_fo"}, 1008),
    ({"pt": "L"}, 1008), ({"pt": "L", "pr": "800.03"}, 1008), ({"pt": "SL-M", "tp": "900"},
                                                                1017),
    ({"qt": 1}, 1007), ({"ig": ""}, 5202), ({"am": "YES"}, 1008), ({"ts": "NIFTY"}, 1008)])
def test_jdata_is_checked_as_kotak_does(http: httpx.Client, sim: KotakSimulator,
                                        changes: dict[str, Any], code: int) -> None:
    headers = session(http, sim)
    refused = place(http, headers, **changes)
    assert refused.status_code == 200 and refused.json()["stCode"] == code, refused.json()
    assert sim.book.orders == {}


def test_body_invalid_has_its_odd_stat(http: httpx.Client, sim: KotakSimulator) -> None:
    headers = session(http, sim)
    refused = http.post("/quick/order/rule/ms/place", data={"jData": "{not json"},
                        headers=headers)
    assert refused.json()["stat"] == "bad request" and refused.json()["stCode"] == 1007


def test_an_order_is_echoed_with_its_tag_and_a_tag_is_new_for_the_day(
        http: httpx.Client, sim: KotakSimulator) -> None:
    headers = session(http, sim)
    placed = place(http, headers, ig="mine1").json()
    assert placed["stat"] == "Ok" and len(placed["nOrdNo"]) == 15
    assert place(http, headers, ig="mine1").json()["stCode"] == 5204
    (row,) = http.get("/quick/user/orders", headers=headers).json()["data"]
    assert (row["nOrdNo"], row["GuiOrdId"], row["ordSt"], row["qty"]) == (
        placed["nOrdNo"], "mine1", "complete", 1)
    (fill,) = http.get("/quick/user/trades", headers=headers).json()["data"]
    assert (fill["GuiOrdId"], fill["tok"], fill["fldQty"]) == ("mine1", "", 1)


def test_the_benchmarks_simulator_takes_a_repeated_tag(broker_environ: dict[str, str],
                                                      ) -> None:
    """``OPENALGO_KOTAK_SIM_REPEAT_TAGS=1``: the raw-httpx floor replays one order."""
    sim = KotakSimulator(environ={**broker_environ, "OPENALGO_KOTAK_SIM_REPEAT_TAGS": "1"},
                         master_size=0)
    with httpx.Client(transport=InProcessTransport(sim.app),
                      base_url="https://mis.kotaksecurities.com") as http:
        headers = session(http, sim)
        assert [place(http, headers, ig="again").json()["stat"] for _ in range(2)] == [
            "Ok", "Ok"]


def test_an_rms_refusal_shows_only_in_the_order_book(http: httpx.Client,
                                                     sim: KotakSimulator) -> None:
    headers = session(http, sim)
    symbol = future_symbol("NIFTY", monthly_expiry())
    trading = next(s.trading_symbol for s in sim.scrips.values()
                   if s.listing.symbol == symbol)
    accepted = place(http, headers, es="nse_fo", ts=trading, pc="NRML", qt="1").json()
    assert accepted["stat"] == "Ok"
    (row,) = http.get("/quick/user/orders", headers=headers).json()["data"]
    assert row["ordSt"] == "rejected" and "lot size" in row["rejRsn"]


def test_modify_and_cancel_refusals(http: httpx.Client, sim: KotakSimulator) -> None:
    headers = session(http, sim)
    filled = place(http, headers).json()["nOrdNo"]
    cancel = http.post("/quick/order/cancel", data={"jData": json.dumps(
        {"on": filled, "am": "NO"})}, headers=headers).json()
    assert cancel == {**cancel, "stCode": 1021,
                      "stat": "please provide valid order number"}
    unknown = http.post("/quick/order/cancel", data={"jData": json.dumps(
        {"on": "990000000000001", "am": "NO"})}, headers=headers).json()
    assert unknown["stat"] == "Not_Ok"
    modify = http.post("/quick/order/vr/modify", data={"jData": json.dumps(
        {"no": filled, "qt": "1", "pr": "0", "pt": "MKT", "tp": "0", "dq": "0", "vd": "DAY",
         "am": "NO", "mp": "0"})}, headers=headers).json()
    assert modify["stCode"] == 1021


def test_the_static_ip_refusals(http: httpx.Client, sim: KotakSimulator) -> None:
    headers = session(http, sim)
    sim.ip_refusal = "ip"
    refused = place(http, headers).json()
    assert (refused["stCode"], refused["errMsg"], refused["stat"]) == (100008, "unauthorized",
                                                                       "Not_Ok")
    assert http.get("/quick/user/orders", headers=headers).json()["stCode"] == 5203  # reads
    sim.ip_refusal = "session_ip"
    assert place(http, headers).json()["stCode"] == 1037


def test_positions_at_both_paths(http: httpx.Client, sim: KotakSimulator) -> None:
    headers = session(http, sim)
    place(http, headers, qt="3")
    (v2,) = http.get("/portfolio/v2/positions", headers=headers).json()["data"]
    (v1,) = http.get("/quick/user/positions", headers=headers).json()["data"]
    assert (v2["flBuyQty"], v2["cfBuyQty"], v2["tok"], v2["exSeg"]) == ("3", "0", "3045",
                                                                       "nse_cm")
    assert Decimal(v2["ltp"]) == sim.mark("3045") and "ltp" not in v1
    assert {k: v for k, v in v1.items() if k not in ("hsUpTm", "updRecvTm")} == {
        k: v for k, v in v2.items() if k not in ("hsUpTm", "updRecvTm", "ltp")}


def test_quotes_are_a_json_array_behind_the_access_token(http: httpx.Client,
                                                         sim: KotakSimulator) -> None:
    path = "/script-details/1.0/quotes/neosymbol/nse_cm|3045,nse_cm|Nifty 50,bse_cm|3045/ltp"
    assert http.get(path).status_code == 401
    quotes = http.get(path, headers={"Authorization": sim.credentials["ACCESS_TOKEN"]}).json()
    assert [(q["exchange"], q["exchange_token"]) for q in quotes] == [
        ("nse_cm", "3045"), ("nse_cm", "99926000")]
    assert Decimal(quotes[0]["ltp"]) == sim.mark("3045")


# -- the scrip master -----------------------------------------------------------------------
def test_the_file_list_and_the_files(http: httpx.Client, sim: KotakSimulator) -> None:
    assert http.get("/script-details/1.0/masterscrip/file-paths").status_code == 401
    listed = http.get("/script-details/1.0/masterscrip/file-paths",
                      headers={"Authorization": sim.credentials["ACCESS_TOKEN"]}).json()
    paths = listed["data"]["filesPaths"]
    today = f"{dt.datetime.now(IST):%Y-%m-%d}"
    assert [p.rsplit("/", 2)[-2:] for p in paths] == [
        ["transformed", "cde_fo.csv"], ["transformed", "mcx_fo.csv"],
        ["transformed", "nse_fo.csv"], ["transformed", "bse_fo.csv"],
        ["transformed", "nse_com.csv"], ["transformed-v1", "bse_cm-v1.csv"],
        ["transformed-v1", "nse_cm-v1.csv"]]
    assert all(p.startswith(f"https://lapi.kotaksecurities.com/wso2-scripmaster/v1/prod/"
                            f"{today}/") for p in paths)
    text = http.get(paths[-1]).text
    assert text.splitlines()[0] == HEADER and "dTickSize ,lLotSize" in HEADER
    assert len(HEADER.split(",")) == 78
    rows = {r["pSymbol"]: r for r in csv.DictReader(io.StringIO(text))}
    assert (rows["3045"]["pTrdSymbol"], rows["3045"]["dTickSize "], rows["3045"]["pGroup"]) \
        == ("SBIN-EQ", "5", "EQ")
    assert rows["99926000"]["pISIN"] == "" and rows["99926000"]["dTickSize "] == "-1"
    assert http.get(paths[0].replace("cde_fo", "xyz")).status_code == 404


def test_expiries_count_from_1980_on_nse_fo_and_1970_on_bse_fo(
        http: httpx.Client, sim: KotakSimulator) -> None:
    listed = http.get("/script-details/1.0/masterscrip/file-paths",
                      headers={"Authorization": sim.credentials["ACCESS_TOKEN"]}).json()
    files = {p.rsplit("/", 1)[-1]: p for p in listed["data"]["filesPaths"]}
    expiry = monthly_expiry()
    at = dt.datetime.combine(expiry, dt.time(14, 30), IST)
    for name, epoch in (("nse_fo.csv", dt.datetime(1980, 1, 1, tzinfo=IST)),
                        ("bse_fo.csv", dt.datetime(1970, 1, 1, tzinfo=dt.UTC))):
        rows = list(csv.DictReader(io.StringIO(http.get(files[name]).text)))
        near = next(r for r in rows if r["pOptionType"] == "XX")
        assert int(near["lExpiryDate "]) == int((at - epoch).total_seconds())
