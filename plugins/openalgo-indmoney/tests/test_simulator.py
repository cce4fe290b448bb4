"""The simulator speaks INDstocks' protocol, quirks included: the ones that trip clients up
(lower-case position queries, GETs with JSON bodies, two error shapes, HTTP 400 RMS
refusals, trigger rules, the 25-modification cap) and its full-size instrument files."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from openalgo_indmoney import INFO
from openalgo_indmoney.sim_master import FULL_MASTER_ROWS, NAN_ROWS, cached_files
from openalgo_indmoney.simulator import IndMoneySimulator

from openalgo_core.testing import InProcessTransport
from openalgo_core.testing.wiring import broker_environ

ORDER: dict[str, Any] = {"txn_type": "BUY", "exchange": "NSE", "segment": "EQUITY",
                         "product": "INTRADAY", "order_type": "MARKET", "validity": "DAY",
                         "security_id": "3045", "qty": 1, "algo_id": "99999"}


@pytest.fixture
def sim() -> IndMoneySimulator:
    return IndMoneySimulator(environ=broker_environ(INFO), master_size=0, token_interval=0)


@pytest.fixture
def api(sim: IndMoneySimulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=InProcessTransport(sim.app), base_url="https://api.indstocks.com",
                      headers={"Authorization": sim.credentials["API_SECRET"]}) as client:
        yield client


def refused(reply: httpx.Response, status: int, error_type: str, text: str = "") -> None:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert (body["status"], body["error_type"]) == ("error", error_type)
    assert text in body["message"]


def test_a_bearer_token_or_none_is_refused(sim: IndMoneySimulator, api: httpx.Client) -> None:
    token = sim.credentials["API_SECRET"]
    refused(api.get("/funds", headers={"Authorization": f"Bearer {token}"}), 403,
            "TokenException")
    refused(httpx.Client(transport=InProcessTransport(sim.app),
                         base_url="https://api.indstocks.com").get("/funds"), 401,
            "TokenException")


def test_position_queries_are_lower_case_only(api: httpx.Client) -> None:
    refused(api.get("/portfolio/positions", params={"segment": "EQUITY", "product": "CNC"}),
            400, "InputException", "lower case")
    refused(api.get("/portfolio/positions", params={"segment": "equity",
                                                    "product": "margin"}),
            400, "InputException")
    assert api.get("/portfolio/positions", params={"segment": "equity", "product": "cnc"}
                   ).json() == {"status": "success", "data": []}


def test_one_order_is_read_with_a_json_body_on_a_get(api: httpx.Client) -> None:
    order_id = api.post("/order", json=ORDER).json()["data"]["order_id"]
    found = api.request("GET", "/order", json={"order_id": order_id, "segment": "EQUITY"})
    assert found.json()["data"]["id"] == order_id
    refused(api.request("GET", "/order", json={"order_id": order_id,
                                               "segment": "DERIVATIVE"}),
            404, "NotFoundException")
    refused(api.get("/order"), 400, "InputException")


@pytest.mark.parametrize(("change", "status", "error_type", "text"), [
    ({"qty": 0}, 400, "InputException", "QtyMustBeAboveZero"),
    ({"qty": "1"}, 400, "InputException", "QtyMustBeAboveZero"),
    ({"security_id": 3045}, 400, "InputException", "security_id"),
    ({"security_id": "999999"}, 400, "OrderException", "not tradable"),
    ({"order_type": "LIMIT"}, 400, "InputException", "LimitPriceMustBeAboveZero"),
    ({"order_type": "LIMIT", "limit_price": 100.03}, 400, "OrderException", "tick size"),
    ({"order_type": "SL"}, 400, "InputException", "order_type"),
    ({"product": "MARGIN"}, 400, "InputException", "product"),
    ({"algo_id": "1"}, 400, "InputException", "algo_id"),
    ({"remarks": " tv-terminal "}, 400, "RequestValidationException", "ReservedRemarks"),
    ({"validity": "GTC"}, 400, "InputException", "DayValidityAllowed"),
    ({"qty": 10**7}, 400, "OrderException", "RMS: Margin exceeds"),
])
def test_an_order_is_validated_as_indstocks_does(api: httpx.Client, change: dict[str, Any],
                                                 status: int, error_type: str,
                                                 text: str) -> None:
    refused(api.post("/order", json={**ORDER, **change}), status, error_type, text)
    assert api.get("/order-book").json()["data"] == []


def test_f_and_o_quantities_are_whole_lots(sim: IndMoneySimulator, api: httpx.Client) -> None:
    future = next(row for row in sim.listings if row.exchange == "NFO" and row.kind == "FUT")
    refused(api.post("/order", json={**ORDER, "segment": "DERIVATIVE", "product": "MARGIN",
                                     "security_id": future.token, "qty": 1}),
            400, "OrderException", "multiple of the lot size")


def test_smart_orders_are_nse_only_and_triggers_sit_beyond_the_market(
        sim: IndMoneySimulator, api: httpx.Client) -> None:
    market = sim.price("3045")
    trigger = {**ORDER, "order_type": "TRIGGER", "trigger_price": float(market - 1)}
    refused(api.post("/smart/order", json={**trigger, "exchange": "BSE",
                                           "security_id": "503045"}), 400, "InputException",
            "NSE only")
    refused(api.post("/smart/order", json=trigger), 400, "InputException",
            "TriggerPriceVsCMP")
    refused(api.post("/smart/order", json={**trigger, "trigger_price": float(market + 1),
                                           "validity": "IOC"}), 400, "InputException")
    placed = api.post("/smart/order", json={**trigger, "trigger_price": float(market + 1)})
    assert placed.json()["data"]["order_data"][0]["order_status"] == "CREATED"


def test_legs_must_sit_on_their_side_of_the_entry(api: httpx.Client) -> None:
    limit = {**ORDER, "order_type": "LIMIT", "limit_price": 100}
    refused(api.post("/smart/order", json={**limit, "sl_trigger_price": 101,
                                           "sl_limit_price": 100.5}),
            400, "InputException", "MaxSlTriggerPrice")
    refused(api.post("/smart/order", json={**limit, "sl_trigger_price": 99}),
            400, "InputException", "go together")


def test_an_order_is_modified_at_most_25_times(sim: IndMoneySimulator,
                                               api: httpx.Client) -> None:
    low = float(sim.price("3045") / 2)
    order_id = api.post("/order", json={**ORDER, "order_type": "LIMIT", "limit_price": low}
                        ).json()["data"]["order_id"]
    body = {"order_id": order_id, "segment": "EQUITY", "qty": 1, "limit_price": low}
    for _ in range(25):
        assert api.post("/order/modify", json=body).status_code == 200
    refused(api.post("/order/modify", json=body), 400, "OrderException", "25")


def test_modify_and_cancel_refuse_what_is_not_pending(api: httpx.Client) -> None:
    order_id = api.post("/order", json=ORDER).json()["data"]["order_id"]  # filled
    refused(api.post("/order/cancel", json={"order_id": order_id, "segment": "EQUITY"}),
            400, "OrderException", "OrderCannotBeCancelled")
    refused(api.post("/order/cancel", json={"order_id": "EQ-1", "segment": "EQUITY"}),
            400, "OrderException", "Position could not be found.")
    refused(api.post("/smart/order/cancel", json={"order_id": order_id, "segment": "EQUITY"}),
            400, "OrderException", "/order endpoints")


def test_the_trade_book_needs_its_segment(api: httpx.Client) -> None:
    refused(api.get("/trade-book"), 400, "InputException")
    api.post("/order", json={**ORDER, "remarks": "tb"})
    (fill,) = api.get("/trade-book", params={"segment": "EQUITY"}).json()["data"]
    assert set(fill) == {"fill_id", "exch_order_id", "quantity", "price", "trade_date",
                         "trade_serial_no", "scrip_code", "remarks"}
    assert isinstance(fill["fill_id"], int) and fill["remarks"] == "tb"
    assert api.get("/trade-book", params={"segment": "DERIVATIVE"}).json()["data"] == []


def test_quotes_and_instruments_answer_their_own_error_shape(sim: IndMoneySimulator,
                                                             api: httpx.Client) -> None:
    bad = api.get("/market/quotes/ltp", params={"scrip-codes": "NSE_0"})
    assert bad.status_code == 400 and bad.json() == {"message": "Invalid scrip code NSE_0",
                                                     "success": False}
    many = ",".join(["NSE_3045"] * 1001)
    assert api.get("/market/quotes/ltp", params={"scrip-codes": many}).status_code == 400
    wrong = api.get("/market/instruments", params={"source": "currency"})
    assert wrong.status_code == 400 and wrong.json()["success"] is False
    index = api.get("/market/quotes/ltp", params={"scrip-codes": "NIDX_99926000"})
    assert "NIDX_99926000" in index.json()["data"]


def test_an_empty_book_is_an_empty_list(api: httpx.Client) -> None:
    for path in ("/order-book", "/portfolio/holdings"):
        assert isinstance(api.get(path).json()["data"], list)
    assert api.get("/order-book").json()["data"] == []


def test_the_full_size_files() -> None:
    """The full-size files (⚠ the real row counts are not published), rendered once per
    process, with their NaN rows."""
    files = cached_files(FULL_MASTER_ROWS)
    rows = {source: list(csv.reader(io.StringIO(data.decode())))[1:]
            for source, data in files.items()}
    bad = sum(len(r) for r in NAN_ROWS.values())
    listed = [row for row in IndMoneySimulator(environ=broker_environ(INFO)).master_listings()]
    assert sum(map(len, rows.values())) == len(listed) + bad
    assert len(listed) > FULL_MASTER_ROWS * 0.99
    assert all(len(row) == 16 for row in rows["fno"] + rows["equity"])
    assert cached_files(FULL_MASTER_ROWS) is files


def test_amo_orders_wait_as_o_pending(api: httpx.Client) -> None:
    placed = api.post("/order", json={**ORDER, "is_amo": True}).json()["data"]
    assert placed["order_status"] == "O-PENDING"
    (row,) = api.get("/order-book").json()["data"]
    assert (row["status"], row["traded_qty"]) == ("O-PENDING", 0)


def test_a_dashboard_token_can_be_generated(sim: IndMoneySimulator, api: httpx.Client) -> None:
    token = api.post("/_sim/dashboard-token").json()["token"]
    assert api.get("/user/profile", headers={"Authorization": token}).status_code == 200
    assert sim.user_for(token) == sim.user_id


def test_funds_track_the_margin_used(sim: IndMoneySimulator, api: httpx.Client) -> None:
    before = api.get("/funds").json()["data"]
    low = float(sim.price("3045") - Decimal(10))
    api.post("/order", json={**ORDER, "order_type": "LIMIT", "limit_price": low, "qty": 10})
    after = api.get("/funds").json()["data"]
    assert before["detailed_avl_balance"]["eq_cnc"] - after["detailed_avl_balance"]["eq_cnc"] \
        == pytest.approx(low * 10)
    assert after["sod_balance"] == before["sod_balance"]


def test_the_simulator_process_takes_its_account_and_throttle_from_the_environment() -> None:
    env = broker_environ(INFO)
    assert IndMoneySimulator(environ=env, master_size=0).margin_limit == Decimal(50_000_000)
    sim = IndMoneySimulator(environ={**env, "OPENALGO_INDMONEY_SIM_MARGIN_LIMIT": "none",
                                     "OPENALGO_INDMONEY_SIM_TOKEN_INTERVAL": "0"},
                            master_size=0)
    assert (sim.margin_limit, sim.token_interval) == (None, 0.0)
    assert IndMoneySimulator(environ={**env, "OPENALGO_INDMONEY_SIM_MARGIN_LIMIT": "1000"},
                             master_size=0).margin_limit == Decimal(1000)
