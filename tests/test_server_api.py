"""The whole OpenAlgo /api/v1 surface over the fake broker: error shapes everywhere (no
FastAPI ``detail``), 501 for what is not implemented, the account and order endpoints
on the day hooks, and the master-contract endpoints core-side."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from openalgo_core import Gateway
from openalgo_core.server.unsupported import UNSUPPORTED
from tests.conftest import KEY, ORDER, post
from tests.fakebroker.simulator import FakeSimulator

LIMIT = {**ORDER, "pricetype": "LIMIT", "price": "1.05"}  # far below the market: stays open


def assert_openalgo_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error" and isinstance(body["message"], str), body
    assert "detail" not in body
    return dict(body)


# -- error shapes --------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/nosuch", "/nosuch/deeper", "/api/v2/placeorder"])
def test_unknown_path_is_openalgos_404(web: httpx.Client, path: str) -> None:
    for method in ("GET", "POST"):
        body = assert_openalgo_error(web.request(method, path), 404)
        assert body == {"status": "error", "message": "Not found", "path": path}


def test_wrong_method_is_405_in_openalgos_shape(web: httpx.Client) -> None:
    assert_openalgo_error(web.get("/api/v1/placeorder"), 405)


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_every_other_openalgo_endpoint_is_501_naming_it(web: httpx.Client, name: str) -> None:
    for method in ("GET", "POST"):
        body = assert_openalgo_error(web.request(method, f"/api/v1/{name}", json={"apikey": KEY}),
                                     501)
        assert body["message"].startswith(f"{name} is not supported by this gateway")
    assert_openalgo_error(web.post(f"/api/v1/{name}/sub", json={}), 501)


def test_the_clients_endpoints_are_all_routed(web: httpx.Client) -> None:
    """Every endpoint OpenAlgo's Python client 1.0.47 calls answers something other than
    404 (the walk-through with the client itself is in tests/e2e)."""
    client_endpoints = [
        "placeorder", "placesmartorder", "basketorder", "splitorder", "orderstatus",
        "openposition", "modifyorder", "cancelorder", "closeposition", "cancelallorder",
        "funds", "orderbook", "tradebook", "positionbook", "holdings", "analyzer",
        "analyzer/toggle", "margin", "quotes", "multiquotes", "depth", "symbol", "search",
        "history", "intervals", "expiry", "syntheticfuture", "optiongreeks", "optionsorder",
        "optionsymbol", "optionsmultiorder", "optionchain", "market/holidays",
        "market/timings", "telegram/notify", "ping"]
    for name in client_endpoints:
        response = web.post(f"/api/v1/{name}", json={"apikey": "wrong"})
        assert response.status_code in (400, 403, 501), (name, response.text)
        assert "detail" not in response.json()
    assert web.get("/api/v1/instruments", params={"apikey": "wrong"}).status_code == 403


def test_schema_documents_no_422_and_every_error_status(web: httpx.Client) -> None:
    schema = web.get("/openapi.json").json()
    assert "422" not in web.get("/openapi.json").text.replace("4220", "")
    placeorder = schema["paths"]["/api/v1/placeorder"]["post"]["responses"]
    assert {"200", "400", "401", "403", "404", "413", "429", "501", "502", "503",
            "504"} <= set(placeorder)
    assert schema["paths"]["/api/v1/quotes"]["post"]["responses"].keys() == {"501"}


def test_rate_limited_answers_carry_retry_after(web: httpx.Client, logged_in: Gateway) -> None:
    for _ in range(10):
        post(web, "placeorder", ORDER)
    response = web.post("/api/v1/placeorder", json=ORDER)
    assert_openalgo_error(response, 429)
    assert response.headers["Retry-After"] == "1"


# -- the account ------------------------------------------------------------------------------
def test_orderbook_statistics_and_orderstatus(web: httpx.Client, logged_in: Gateway) -> None:
    assert post(web, "orderbook", {"apikey": KEY}) == (200, {"status": "success", "data": {
        "orders": [], "statistics": {"total_buy_orders": 0, "total_sell_orders": 0,
                                     "total_completed_orders": 0, "total_open_orders": 0,
                                     "total_rejected_orders": 0}}})
    filled = post(web, "placeorder", ORDER)[1]["orderid"]
    resting = post(web, "placeorder", LIMIT)[1]["orderid"]
    status, reply = post(web, "orderbook", {"apikey": KEY})
    assert status == 200
    rows = {r["orderid"]: r for r in reply["data"]["orders"]}
    assert list(rows[filled]) == ["action", "symbol", "exchange", "orderid", "product",
                                  "quantity", "price", "pricetype", "order_status",
                                  "trigger_price", "timestamp"]
    assert (rows[filled]["order_status"], rows[resting]["order_status"]) == ("complete", "open")
    assert rows[resting]["price"] == 1.05 and rows[resting]["quantity"] == 2
    assert reply["data"]["statistics"]["total_open_orders"] == 1
    status, reply = post(web, "orderstatus", {"apikey": KEY, "orderid": filled,
                                              "strategy": "t"})
    assert status == 200 and reply["data"]["orderid"] == filled
    assert reply["data"]["average_price"] > 0
    status, reply = post(web, "orderstatus", {"apikey": KEY, "orderid": "nope"})
    assert status == 404 and reply["status"] == "error"


def test_tradebook_funds_holdings_openposition(web: httpx.Client, logged_in: Gateway) -> None:
    post(web, "placeorder", ORDER)
    status, reply = post(web, "tradebook", {"apikey": KEY})
    (trade,) = reply["data"]
    assert status == 200 and (trade["symbol"], trade["action"], trade["quantity"]) == (
        "SBIN", "BUY", 2)
    assert trade["trade_value"] == round(trade["average_price"] * 2, 2)
    status, reply = post(web, "funds", {"apikey": KEY})
    assert status == 200 and set(reply["data"]) == {
        "availablecash", "collateral", "m2mrealized", "m2munrealized", "utiliseddebits"}
    assert all(isinstance(v, str) and "." in v for v in reply["data"].values())
    status, reply = post(web, "holdings", {"apikey": KEY})
    assert status == 200 and set(reply["data"]) == {"holdings", "statistics"}
    assert set(reply["data"]["statistics"]) == {"totalholdingvalue", "totalinvvalue",
                                                "totalprofitandloss", "totalpnlpercentage"}
    where = {"apikey": KEY, "strategy": "t", "symbol": "SBIN", "exchange": "NSE",
             "product": "MIS"}
    assert post(web, "openposition", where) == (200, {"status": "success", "quantity": "2"})
    assert post(web, "openposition", {**where, "symbol": "INFY"})[1]["quantity"] == "0"


# -- orders --------------------------------------------------------------------------------
def test_modify_and_cancel(web: httpx.Client, logged_in: Gateway,
                           fake_sim: FakeSimulator) -> None:
    orderid = post(web, "placeorder", LIMIT)[1]["orderid"]
    change = {"apikey": KEY, "strategy": "t", "orderid": orderid, "symbol": "SBIN",
              "exchange": "NSE", "action": "BUY", "product": "MIS", "pricetype": "LIMIT",
              "price": "1.10", "quantity": "3", "disclosed_quantity": "0",
              "trigger_price": "0"}
    assert post(web, "modifyorder", change) == (200, {"orderid": orderid, "status": "success"})
    booked = fake_sim.book.orders[orderid]
    assert (booked.quantity, str(booked.price)) == (3, "1.10")
    status, reply = post(web, "modifyorder", {**change, "symbol": "INFY"})
    assert status == 400 and "only quantity, price" in reply["message"]
    assert post(web, "cancelorder", {"apikey": KEY, "orderid": orderid, "strategy": "t"}) == (
        200, {"orderid": orderid, "status": "success"})
    status, reply = post(web, "cancelorder", {"apikey": KEY, "orderid": orderid})
    assert status == 400 and "cancelled" in reply["message"]


def test_cancelallorder(web: httpx.Client, logged_in: Gateway) -> None:
    post(web, "placeorder", ORDER)
    resting = sorted(post(web, "placeorder", LIMIT)[1]["orderid"] for _ in range(2))
    status, reply = post(web, "cancelallorder", {"apikey": KEY, "strategy": "t"})
    assert status == 200 and sorted(reply["canceled_orders"]) == resting
    assert reply["failed_cancellations"] == []
    assert reply["message"] == "Canceled 2 orders. Failed to cancel 0 orders."


def test_basketorder_places_each_and_reports_each(web: httpx.Client, logged_in: Gateway,
                                                  fake_sim: FakeSimulator) -> None:
    legs = [{"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": "1"},
            {"symbol": "NOSUCH", "exchange": "NSE", "action": "BUY", "quantity": 1},
            {"symbol": "INFY", "exchange": "NSE", "action": "SELL", "quantity": 2,
             "pricetype": "MARKET", "product": "MIS"}]
    status, reply = post(web, "basketorder", {"apikey": KEY, "strategy": "b", "orders": legs})
    assert status == 200 and reply["status"] == "success"
    assert [(r["symbol"], r["status"]) for r in reply["results"]] == [
        ("SBIN", "success"), ("NOSUCH", "error"), ("INFY", "success")]
    assert len(fake_sim.book.orders) == 2
    assert post(web, "basketorder", {"apikey": KEY, "orders": []})[0] == 400


def test_splitorder(web: httpx.Client, logged_in: Gateway, fake_sim: FakeSimulator) -> None:
    status, reply = post(web, "splitorder", {**ORDER, "quantity": "7", "splitsize": "3"})
    assert status == 200 and (reply["split_size"], reply["total_quantity"]) == (3, 7)
    assert [(r["order_num"], r["quantity"], r["status"]) for r in reply["results"]] == [
        (1, 3, "success"), (2, 3, "success"), (3, 1, "success")]
    assert sorted(o.quantity for o in fake_sim.book.orders.values()) == [1, 3, 3]
    for bad in ({"splitsize": "0"}, {"quantity": "1000", "splitsize": "1"},
                {"pricetype": "LIMIT"}):
        status, reply = post(web, "splitorder", {**ORDER, "splitsize": "3", **bad})
        assert status == 400, (bad, reply)
    assert len(fake_sim.book.orders) == 3


# -- the master contract ----------------------------------------------------------------------
def test_search_symbol_expiry(web: httpx.Client, logged_in: Gateway) -> None:
    status, reply = post(web, "search", {"apikey": KEY, "query": "nifty fut", "exchange": "NFO"})
    assert status == 200 and reply["data"]
    assert all("NIFTY" in r["symbol"] and r["symbol"].endswith("FUT")
               for r in reply["data"])
    assert reply["message"] == f"Found {len(reply['data'])} matching symbols"
    status, reply = post(web, "symbol", {"apikey": KEY, "symbol": "SBIN", "exchange": "NSE"})
    assert status == 200 and list(reply["data"]) == [
        "symbol", "brsymbol", "name", "exchange", "brexchange", "token", "expiry", "strike",
        "lotsize", "instrumenttype", "tick_size"]
    assert (reply["data"]["symbol"], reply["data"]["lotsize"]) == ("SBIN", 1)
    status, reply = post(web, "symbol", {"apikey": KEY, "symbol": "SBINN", "exchange": "NSE"})
    assert status == 400 and "SBIN" in reply["message"]
    status, reply = post(web, "expiry", {"apikey": KEY, "symbol": "NIFTY", "exchange": "NFO",
                                         "instrumenttype": "options"})
    assert status == 200 and reply["data"] and all(len(d) == 9 for d in reply["data"])
    assert post(web, "expiry", {"apikey": KEY, "symbol": "NIFTY", "exchange": "NSE",
                                "instrumenttype": "futures"})[0] == 400


def test_instruments_json_and_csv(web: httpx.Client, logged_in: Gateway) -> None:
    reply = web.get("/api/v1/instruments", params={"apikey": KEY, "exchange": "NSE"})
    rows = reply.json()["data"]
    assert reply.status_code == 200 and rows and {r["exchange"] for r in rows} == {"NSE"}
    text = web.get("/api/v1/instruments", params={"apikey": KEY, "format": "csv"})
    assert text.headers["content-type"].startswith("text/csv")
    assert 'filename="instruments_all.csv"' in text.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(text.text)))
    assert len(table) > len(rows) and table[0].keys() == rows[0].keys()
    assert_openalgo_error(web.get("/api/v1/instruments", params={"apikey": KEY,
                                                                "exchange": "XX"}), 400)


def test_docs_render_offline_from_the_schema(web: httpx.Client) -> None:
    page = web.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text and "http" not in page.text.replace(
        'href="/openapi.json"', "")  # nothing loaded from anywhere
    schema = web.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method in operations:
            assert f'id="{method.upper()}{path}"' in page.text
    assert "^[0-9]{1,9}$" in page.text and "position_size" in page.text
    assert web.get("/redoc").status_code == 404


def test_a_split_or_basket_sent_again_with_tags_places_nothing_twice(
        web: httpx.Client, logged_in: Gateway, fake_sim: FakeSimulator) -> None:
    split = {**ORDER, "quantity": "5", "splitsize": "2", "tag": "mysplit"}
    first = post(web, "splitorder", split)
    assert first[0] == 200 and post(web, "splitorder", split) == first
    assert sorted(o.tag or "" for o in fake_sim.book.orders.values()) == [
        "mysplit-1", "mysplit-2", "mysplit-3"]
    legs = [{"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1, "tag": "b1"},
            {"symbol": "INFY", "exchange": "NSE", "action": "BUY", "quantity": 1, "tag": "b2"}]
    basket = post(web, "basketorder", {"apikey": KEY, "orders": legs})
    assert basket[0] == 200 and post(web, "basketorder", {"apikey": KEY, "orders": legs}) == basket
    assert len(fake_sim.book.orders) == 5
    assert post(web, "splitorder", {**split, "tag": "x" * 17})[0] == 400
