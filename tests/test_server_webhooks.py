"""TradingView and ChartInk webhooks (OpenAlgo's payloads), through the journal: the same
delivery twice places one order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from openalgo_core import ConfigurationError, Gateway
from openalgo_core.models import IST
from openalgo_core.server import ApiKeys, create_app
from openalgo_core.server.webhooks import delivery_tag, load_strategies
from openalgo_core.testing import InProcessTransport
from tests.conftest import KEY, Clock
from tests.fakebroker.simulator import FakeSimulator

TV_LONG = "tv-long-0123456789abcdef"
TV_BOTH = "tv-both-0123456789abcdef"
CHARTINK = "chartink-0123456789abcdef"
TIMED = "tv-timed-0123456789abcdef"
IDLE = "tv-idle-0123456789abcdef"
TOML = f"""
[[strategy]]
id = "{TIMED}"
name = "timed"
start_time = "09:20"
end_time = "15:00"
squareoff_time = 15:15:00
[[strategy.symbols]]
symbol = "SBIN"
exchange = "NSE"
quantity = 1

[[strategy]]
id = "{IDLE}"
name = "idle"
active = false
[[strategy.symbols]]
symbol = "SBIN"
exchange = "NSE"
quantity = 1

[[strategy]]
id = "{TV_LONG}"
name = "long"
mode = "LONG"
[[strategy.symbols]]
symbol = "SBIN"
exchange = "NSE"
quantity = 5

[[strategy]]
id = "{TV_BOTH}"
name = "both"
mode = "BOTH"
[[strategy.symbols]]
symbol = "INFY"
exchange = "NSE"
quantity = 2

[[strategy]]
id = "{CHARTINK}"
name = "scan"
platform = "chartink"
[[strategy.symbols]]
symbol = "SBIN"
exchange = "NSE"
quantity = 3
[[strategy.symbols]]
symbol = "TCS"
exchange = "NSE"
product = "CNC"
quantity = 1
"""


@pytest.fixture
def hooks(gateway: Gateway, fake_env: dict[str, str], tmp_path: Path,
          clock: Clock) -> Iterator[httpx.Client]:
    (tmp_path / "webhooks.toml").write_text(TOML)
    env = {**fake_env, "OPENALGO_API_KEY": KEY, "OPENALGO_BROKER": "fake",
           "OPENALGO_WEBHOOKS": str(tmp_path / "webhooks.toml")}
    gateway.authenticate("fake")
    clock.now = 1_800_000_000.0  # the start of a minute
    app = create_app(gateway, environ=env, api_keys=ApiKeys(env, Path("/nonexistent")),
                     clock=clock)
    with httpx.Client(transport=InProcessTransport(app), base_url="http://127.0.0.1") as web:
        yield web


def deliver(web: httpx.Client, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = web.post(path, json=body)
    return response.status_code, response.json()


def net(gateway: Gateway, symbol: str) -> int:
    return sum(p.quantity for p in gateway.fetch_positions("fake") if p.symbol == symbol)


def test_a_tradingview_alert_delivered_twice_places_one_order(
        hooks: httpx.Client, gateway: Gateway, fake_sim: FakeSimulator, clock: Clock) -> None:
    path = f"/strategy/webhook/{TV_LONG}"
    alert = {"symbol": "SBIN", "action": "BUY"}
    status, first = deliver(hooks, path, alert)
    assert status == 200 and first["status"] == "success", first
    clock.now += 59
    assert deliver(hooks, path, {"action": "BUY", "symbol": "SBIN"}) == (200, first)
    clock.now += 2  # the next minute: the previous minute's tag is found in the journal
    assert deliver(hooks, path, alert) == (200, first)
    assert len(fake_sim.book.orders) == 1 and net(gateway, "SBIN") == 5
    clock.now += 60  # two minutes on: a new alert
    assert deliver(hooks, path, alert)[1]["results"][0]["orderid"] != \
        first["results"][0]["orderid"]
    assert deliver(hooks, path, {**alert, "time": "10:01"})[0] == 200  # {{timenow}}: new
    assert net(gateway, "SBIN") == 15
    status = deliver(hooks, path, {"symbol": "SBIN", "action": "SELL"})[0]  # exit LONG
    assert status == 200 and net(gateway, "SBIN") == 0
    assert deliver(hooks, path, {"symbol": "SBIN", "action": "SELL"})[0] == 200
    assert net(gateway, "SBIN") == 0 and len(fake_sim.book.orders) == 4


def test_both_mode_trades_to_the_position_size(hooks: httpx.Client, gateway: Gateway) -> None:
    path = f"/strategy/webhook/{TV_BOTH}"
    assert deliver(hooks, path, {"symbol": "INFY", "action": "SELL", "position_size": -4})[0] \
        == 200
    assert net(gateway, "INFY") == -4
    assert deliver(hooks, path, {"symbol": "INFY", "action": "BUY", "position_size": "0"})[0] \
        == 200
    assert net(gateway, "INFY") == 0
    for bad in ({"symbol": "INFY", "action": "BUY"},
                {"symbol": "INFY", "action": "BUY", "position_size": -1},
                {"symbol": "INFY", "action": "BUY", "position_size": "1.5"},
                {"symbol": "INFY", "action": "BUY", "position_size": True},
                {"symbol": "SBIN", "action": "BUY", "position_size": 1}):
        status, reply = deliver(hooks, path, bad)
        assert status == 400 and reply["status"] == "error" and "detail" not in reply, bad


def test_a_chartink_scan_delivered_twice_places_each_order_once(
        hooks: httpx.Client, gateway: Gateway, fake_sim: FakeSimulator) -> None:
    path = f"/chartink/webhook/{CHARTINK}"
    scan = {"stocks": "SBIN,TCS,NOTMAPPED", "trigger_prices": "800,3500,1",
            "triggered_at": "10:00 am", "scan_name": "Breakout BUY", "scan_url": "x",
            "alert_name": "a"}
    status, reply = deliver(hooks, path, scan)
    assert status == 200 and [r["symbol"] for r in reply["results"]] == ["SBIN", "TCS"]
    assert deliver(hooks, path, scan) == (200, reply)
    assert len(fake_sim.book.orders) == 2 and (net(gateway, "SBIN"), net(gateway, "TCS")) == (
        3, 1)
    status, reply = deliver(hooks, path, {**scan, "scan_name": "Exit SELL"})
    assert status == 200 and (net(gateway, "SBIN"), net(gateway, "TCS")) == (0, 0)
    status, reply = deliver(hooks, path, {**scan, "scan_name": "nothing"})
    assert status == 400 and "scan_name" in reply["message"]


def at(clock: Clock, hhmm: str) -> None:
    """Move ``clock`` to ``hhmm`` IST on its day."""
    now = dt.datetime.fromtimestamp(clock.now, IST)
    hour, minute = map(int, hhmm.split(":"))
    clock.now = now.replace(hour=hour, minute=minute, second=0).timestamp()


def test_a_strategys_hours_and_switch(hooks: httpx.Client, gateway: Gateway,
                                      clock: Clock) -> None:
    path = f"/strategy/webhook/{TIMED}"
    buy, sell = {"symbol": "SBIN", "action": "BUY"}, {"symbol": "SBIN", "action": "SELL"}
    for hhmm, body, status, needle in (
            ("09:19", buy, 400, "no orders before the start time 09:20 IST"),
            ("09:20", buy, 200, ""),
            ("15:00", {**buy, "n": 2}, 400, "no entries after the end time 15:00 IST"),
            ("15:14", sell, 200, ""),
            ("15:15", sell, 400, "no exits after the square-off time 15:15 IST")):
        at(clock, hhmm)
        code, reply = deliver(hooks, path, body)
        assert code == status and needle in reply["message"], (hhmm, reply)
    assert net(gateway, "SBIN") == 0
    status, reply = deliver(hooks, f"/strategy/webhook/{IDLE}", buy)
    assert status == 400 and reply["message"] == "strategy idle is inactive"


def test_unknown_webhooks_are_404_then_429(hooks: httpx.Client) -> None:
    for path in (f"/strategy/webhook/{CHARTINK}", "/chartink/webhook/nope",
                 f"/chartink/webhook/{TV_LONG}"):
        status, reply = deliver(hooks, path, {"symbol": "SBIN", "action": "BUY"})
        assert (status, reply) == (404, {"status": "error", "message": "Invalid webhook ID"})
    for _ in range(7):
        deliver(hooks, "/strategy/webhook/guess", {"symbol": "SBIN", "action": "BUY"})
    response = hooks.post(f"/strategy/webhook/{TV_LONG}", json={"symbol": "SBIN",
                                                                 "action": "BUY"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1


def test_tags_are_deterministic_and_fit_every_broker() -> None:
    tag = delivery_tag("id", {"b": 1, "a": [1, 2]}, 0, 5)
    assert tag == delivery_tag("id", {"a": [1, 2], "b": 1}, 0, 5)
    assert len(tag) == 20 and tag.startswith("wh")
    assert len({tag, delivery_tag("id", {"b": 1, "a": [1, 2]}, 1, 5),
                delivery_tag("id", {"b": 1, "a": [1, 2]}, 0, 6),
                delivery_tag("id2", {"b": 1, "a": [1, 2]}, 0, 5)}) == 4


@pytest.mark.parametrize(("text", "needle"), [
    ("[[strategy]]\nid = 'short'\nname = 'x'\n[[strategy.symbols]]\nsymbol='A'\n"
     "exchange='NSE'\nquantity=1\n", "strategy 1: id"),
    (f"[[strategy]]\nid = '{TV_LONG}'\nname = 'x'\nmode = 'UP'\n", "strategy 1: mode"),
    ("[[strategy", "cannot read the webhooks file"),
    (TOML + TOML, "two strategies share an id"),
])
def test_a_bad_webhooks_file_fails_at_start(tmp_path: Path, text: str, needle: str) -> None:
    (tmp_path / "webhooks.toml").write_text(text)
    with pytest.raises(ConfigurationError, match=needle):
        load_strategies(tmp_path / "webhooks.toml")
    assert load_strategies(tmp_path / "absent.toml") == {}
