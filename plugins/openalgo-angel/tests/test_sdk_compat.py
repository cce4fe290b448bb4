"""Angel's official Python SDK (smartapi-python) against the simulator over a real socket.

If the SDK can log in, trade and read the books, the simulator speaks SmartAPI
itself and not a dialect shared only with this plugin.
"""

from __future__ import annotations

import importlib
import logging
import re
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import logzero
import pyotp
import pytest
import requests
from openalgo_angel.simulator import AngelSimulator

from openalgo_core.testing import Harness

#: smartapi-python 1.5.5 sets ssl.OP_NO_TLSv1 on an SSLContext it builds in
#: SmartConnect.__init__; Python deprecates those flags. Third-party, harmless here.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:ssl\.OP_NO_SSL\*/ssl\.OP_NO_TLS\* options are deprecated:DeprecationWarning")

ORDER = {"variety": "NORMAL", "tradingsymbol": "SBIN-EQ", "symboltoken": "3045",
         "transactiontype": "BUY", "exchange": "NSE", "ordertype": "MARKET",
         "producttype": "INTRADAY", "duration": "DAY", "price": "0", "squareoff": "0",
         "stoploss": "0", "quantity": "5"}


@pytest.fixture
def smartapi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ModuleType]:
    """The SDK, imported without its class-definition-time call to api.ipify.org and
    with its log file (``logs/<date>/app.log`` under the cwd) kept inside tmp_path."""
    def offline(*args: Any, **kwargs: Any) -> Any:
        raise requests.ConnectionError("no network in tests")

    monkeypatch.chdir(tmp_path)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    if "SmartApi.smartConnect" not in sys.modules:
        monkeypatch.setattr(requests, "get", offline)
    yield importlib.import_module("SmartApi.smartConnect")
    for handler in list(logzero.logger.handlers):  # the log file SmartConnect() opened
        if isinstance(handler, logging.FileHandler):
            logzero.logger.removeHandler(handler)
            handler.close()


@pytest.fixture
def sdk(smartapi: ModuleType, broker_harness_http: Harness,
        broker_environ: dict[str, str]) -> Any:
    """The SDK on the simulator's socket (where ``broker_harness_http``'s gateway goes too)."""
    return smartapi.SmartConnect(api_key=broker_environ["OPENALGO_ANGEL_API_KEY"],
                                 root=broker_harness_http.url)


def login(sdk: Any, environ: dict[str, str]) -> dict[str, Any]:
    code = pyotp.TOTP(environ["OPENALGO_ANGEL_TOTP_SECRET"]).now()
    result: dict[str, Any] = sdk.generateSession(environ["OPENALGO_ANGEL_CLIENT_ID"],
                                                 environ["OPENALGO_ANGEL_PIN"], code)
    return result


def test_sdk_logs_in_trades_and_reads_the_books(sdk: Any,
                                               broker_environ: dict[str, str]) -> None:
    user = login(sdk, broker_environ)
    assert user["status"] is True
    assert user["data"]["clientcode"] == broker_environ["OPENALGO_ANGEL_CLIENT_ID"]
    assert user["data"]["jwtToken"].startswith("Bearer ")

    order_id = sdk.placeOrder(dict(ORDER, ordertag="sdk-1"))
    assert re.fullmatch(r"\d{15}", order_id)

    positions = sdk.position()
    assert positions["status"] is True
    (row,) = positions["data"]
    assert (row["tradingsymbol"], row["netqty"], row["producttype"]) == (
        "SBIN-EQ", "5", "INTRADAY")

    book = sdk.orderBook()
    (entry,) = book["data"]
    assert (entry["orderid"], entry["status"], entry["ordertag"]) == (
        order_id, "complete", "sdk-1")


def test_sdk_trades_a_whole_day(sdk: Any, broker_environ: dict[str, str],
                                broker_sim: AngelSimulator,
                                broker_harness_http: Harness) -> None:
    """Place a market and a limit order, modify and cancel the limit one, then read the
    order book, trade book, funds, holdings and one order, all through the SDK."""
    login(sdk, broker_environ)
    market_id = sdk.placeOrder(dict(ORDER, ordertag="day-1"))
    limit_id = sdk.placeOrder(dict(ORDER, ordertype="LIMIT", price="1.00", quantity="2",
                                   ordertag="day-2"))
    assert broker_sim.book.orders[limit_id].status == "open"

    modified = sdk.modifyOrder({
        "variety": "NORMAL", "orderid": limit_id, "ordertype": "LIMIT",
        "producttype": "INTRADAY", "duration": "DAY", "price": "1.50", "quantity": "3",
        "tradingsymbol": "SBIN-EQ", "symboltoken": "3045", "exchange": "NSE"})
    assert (modified["status"], modified["data"]["orderid"]) == (True, limit_id)
    booked = broker_sim.book.orders[limit_id]
    assert (booked.status, booked.quantity, booked.price) == ("open", 3, Decimal("1.50"))

    cancelled = sdk.cancelOrder(limit_id, "NORMAL")
    assert (cancelled["status"], cancelled["data"]["orderid"]) == (True, limit_id)
    assert booked.status == "cancelled"
    assert sdk.cancelOrder(limit_id, "NORMAL")["errorcode"] == "AB4010"

    rows = {row["orderid"]: row for row in sdk.orderBook()["data"]}
    assert (rows[market_id]["status"], rows[market_id]["ordertag"]) == ("complete", "day-1")
    assert (rows[limit_id]["status"], rows[limit_id]["quantity"], rows[limit_id]["price"],
            rows[limit_id]["ordertag"]) == ("cancelled", "3", 1.5, "day-2")

    trades = sdk.tradeBook()
    assert trades["status"] is True
    (trade,) = trades["data"]
    price = broker_sim.price("3045")
    assert (trade["orderid"], trade["fillsize"], Decimal(trade["fillprice"])) == (
        market_id, "5", price)
    assert [t.order_id for t in broker_sim.book.trades] == [market_id]

    funds = sdk.rmsLimit()
    assert funds["status"] is True
    assert Decimal(funds["data"]["utiliseddebits"]) == broker_sim.funds().used == price * 5
    assert Decimal(funds["data"]["availablecash"]) == broker_sim.funds().available

    held = sdk.holding()
    assert held["status"] is True
    assert {row["tradingsymbol"] for row in held["data"]} == {
        "INFY-EQ", "ITC-EQ", "TCS", "TATAMOTORS-EQ"}
    every = sdk.allholding()
    assert every["status"] is True and len(every["data"]["holdings"]) == 4
    assert every["data"]["totalholding"]["totalinvvalue"] == float(
        sum(h.average_price * h.quantity for h in broker_sim.holdings()))

    # the SDK builds this one URL on its class's production host, not on ``root``
    sdk._rootUrl = broker_harness_http.url
    one = sdk.individual_order_details(rows[market_id]["uniqueorderid"])
    assert (one["status"], one["data"]["orderid"], one["data"]["status"]) == (
        True, market_id, "complete")


def test_sdk_sees_angels_refusals(sdk: Any, broker_environ: dict[str, str],
                                  broker_sim: AngelSimulator) -> None:
    wrong = dict(broker_environ, OPENALGO_ANGEL_TOTP_SECRET=pyotp.random_base32())
    refused = login(sdk, wrong)
    assert (refused["status"], refused["errorcode"]) == (False, "AB1050")
    login(sdk, broker_environ)
    assert sdk.orderBook()["data"] is None
    assert sdk.placeOrder(dict(ORDER, variety="NOPE")) is None  # the SDK swallows AB1008
    broker_sim.expire_sessions()
    assert sdk.position()["errorCode"] == "AG8001"


def test_an_order_placed_by_the_sdk_is_read_back_by_the_plugin(
        sdk: Any, broker_environ: dict[str, str], broker_harness_http: Harness) -> None:
    login(sdk, broker_environ)
    sdk.placeOrder(dict(ORDER, transactiontype="SELL", producttype="DELIVERY"))
    gateway = broker_harness_http.gateway
    gateway.authenticate("angel")
    (position,) = gateway.fetch_positions("angel")
    assert (position.symbol, position.exchange, position.product, position.quantity) == (
        "SBIN", "NSE", "CNC", -5)
