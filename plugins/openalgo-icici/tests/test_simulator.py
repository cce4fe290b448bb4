"""The simulator's Breeze quirks, seen on the wire: the envelope on HTTP 200, "No Data
Found" for an empty book, one exchange per book read, BSE quotes in two rows, raw market
orders refused, the master's six members."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import httpx
import openalgo_icici.plugin
import pytest
from openalgo_icici.broker import signature, timestamp
from openalgo_icici.simulator import API, BreezeSimulator

from openalgo_core.testing import InProcessTransport
from openalgo_core.testing.wiring import broker_environ


@pytest.fixture
def sim() -> BreezeSimulator:
    return BreezeSimulator(environ=broker_environ(openalgo_icici.plugin.hooks.broker_info()),
                           master_size=0)


@pytest.fixture
def web(sim: BreezeSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=InProcessTransport(sim.app), base_url="http://sim") as client:
        yield client


def call(web: httpx.Client, sim: BreezeSimulator, method: str, path: str,
         body: dict[str, Any]) -> dict[str, Any]:
    """A signed call, as Breeze wants it, with a fresh session."""
    token = base64.b64encode(f"U1:{sim.issue_token('U1')}".encode()).decode()
    content = json.dumps(body, separators=(",", ":")).encode()
    stamp = timestamp()
    reply = web.request(method, API + path, content=content, headers={
        "Content-Type": "application/json", "X-AppKey": sim.credentials["API_KEY"],
        "X-Timestamp": stamp, "X-SessionToken": token,
        "X-Checksum": signature(stamp, content, sim.credentials["API_SECRET"])})
    assert reply.status_code == 200
    found: dict[str, Any] = reply.json()
    assert set(found) == {"Success", "Status", "Error"}
    return found


def test_an_empty_book_is_no_data_found(web: httpx.Client, sim: BreezeSimulator) -> None:
    assert call(web, sim, "GET", "/order", {"exchange_code": "NSE", "from_date": "x",
                                            "to_date": "y"}) == {
        "Success": None, "Status": 500, "Error": "No Data Found"}
    assert call(web, sim, "GET", "/portfoliopositions", {})["Success"] == []


def test_a_book_read_names_its_exchange(web: httpx.Client, sim: BreezeSimulator) -> None:
    assert call(web, sim, "GET", "/order", {})["Error"] == "exchange_code cannot be empty"


def test_bse_quotes_come_in_two_rows(web: httpx.Client, sim: BreezeSimulator) -> None:
    rows = call(web, sim, "GET", "/quotes", {"stock_code": "STABAN", "exchange_code": "BSE",
                                             "product_type": "cash"})["Success"]
    assert [row["exchange_code"] for row in rows] == ["NSE", "BSE"]
    assert all(isinstance(row[k], float) for row in rows
               for k in ("ltp", "upper_circuit", "lower_circuit"))


def test_a_raw_market_order_is_refused(web: httpx.Client, sim: BreezeSimulator) -> None:
    order = {"stock_code": "STABAN", "exchange_code": "NSE", "product": "cash",
             "action": "buy", "order_type": "market", "quantity": "1", "price": "0",
             "validity": "day"}
    assert call(web, sim, "POST", "/order", order)["Status"] == 500
    sim.accept_market = True
    assert call(web, sim, "POST", "/order", order)["Status"] == 200


def test_an_unsigned_call_is_refused(web: httpx.Client, sim: BreezeSimulator) -> None:
    reply = web.get(API + "/funds", headers={"X-AppKey": sim.credentials["API_KEY"]})
    assert reply.json() == {"Success": None, "Status": 5,
                            "Error": "Authentication Fail :: Invalid Checksum."}


def test_the_master_has_six_members(web: httpx.Client) -> None:
    for path in ("/MotherAppMaster/SecurityMaster.zip", "/NewSecurityMaster/SecurityMaster.zip"):
        with zipfile.ZipFile(io.BytesIO(web.get(path).content)) as archive:
            assert sorted(archive.namelist()) == sorted(
                f"{name}ScripMaster.txt" for name in ("NSE", "BSE", "FONSE", "FOBSE", "CDNSE",
                                                      "MCX"))
