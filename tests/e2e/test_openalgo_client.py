"""OpenAlgo's own Python client (PyPI ``openalgo``, pinned in the ``e2e`` nox session),
unchanged, against the gateway over real sockets.

The client posts JSON to ``{host}/api/v1/<endpoint>``: ``placeorder`` sends ``apikey``,
``strategy``, ``symbol``, ``action``, ``exchange``, ``pricetype`` (from its ``price_type``
argument), ``product`` and ``quantity`` as a string; ``positionbook`` sends only
``apikey``. It returns the decoded reply when HTTP 200 and ``status`` is not ``error``,
else its own error dict (``status``, ``message``, ``code``, ``error_type``).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from openalgo_core.testing.browser import start_login
from tests.e2e.conftest import Stack

openalgo = pytest.importorskip(
    "openalgo", reason="OpenAlgo's client is not installed: pip install openalgo==1.0.47 "
                       "(the e2e nox session does)")


def login(stack: Stack) -> None:
    """Log in as a browser would, through the gateway's login page (unattended TOTP)."""
    with httpx.Client(base_url=stack.url, timeout=30) as browser:
        reply = start_login(browser, stack.broker)
    if reply.status_code != 303 and stack.broker != "fake":
        pytest.skip(f"{stack.broker} needs a person to log in")
    assert reply.status_code == 303
    assert reply.headers["location"] == f"/?loggedin={stack.broker}"


def test_client_places_an_order_and_reads_the_position_book(stack: Stack) -> None:
    login(stack)
    client = openalgo.api(api_key=stack.api_key, host=stack.url)

    reply = client.placeorder(strategy="e2e", symbol="SBIN", action="BUY", exchange="NSE",
                              price_type="MARKET", product="MIS", quantity=1)

    assert reply == {"status": "success", "orderid": reply.get("orderid")}, reply
    booked = stack.sim.book.orders[reply["orderid"]]  # the broker really has it
    assert (booked.symbol, booked.exchange, booked.side, booked.quantity, booked.pricetype,
            booked.product, booked.status) == ("SBIN", "NSE", "BUY", 1, "MARKET", "MIS",
                                               "complete")

    book = client.positionbook()

    assert book["status"] == "success", book
    rows = [(r["symbol"], r["exchange"], r["product"], r["quantity"]) for r in book["data"]]
    assert rows == [("SBIN", "NSE", "MIS", 1)]
    row = book["data"][0]
    assert row["average_price"] == float(booked.average_price)
    assert row["pnl"] == pytest.approx(row["ltp"] - row["average_price"])


def test_client_sees_the_gateways_refusal_of_a_wrong_key(stack: Stack) -> None:
    login(stack)
    client = openalgo.api(api_key="not-the-key", host=stack.url)

    reply = client.placeorder(strategy="e2e", symbol="SBIN", action="BUY", exchange="NSE",
                              price_type="MARKET", product="MIS", quantity=1)

    assert reply["status"] == "error" and reply["code"] == 403, reply
    assert "Invalid openalgo apikey" in reply["message"]
    assert stack.sim.book.orders == {}  # nothing reached the broker


def test_client_reads_an_empty_position_book(stack: Stack) -> None:
    login(stack)
    assert openalgo.api(api_key=stack.api_key, host=stack.url).positionbook() == {
        "status": "success", "data": []}


#: every REST method of the client that this gateway does not implement (501, named)
UNSUPPORTED_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "analyzerstatus": ("analyzer", {}),
    "analyzertoggle": ("analyzer", {"mode": True}),
    "margin": ("margin", {"positions": [{"symbol": "SBIN", "exchange": "NSE", "action": "BUY",
                                         "quantity": "1", "product": "MIS",
                                         "pricetype": "MARKET"}]}),
    "quotes": ("quotes", {"symbol": "SBIN", "exchange": "NSE"}),
    "multiquotes": ("multiquotes", {"symbols": [{"symbol": "SBIN", "exchange": "NSE"}]}),
    "depth": ("depth", {"symbol": "SBIN", "exchange": "NSE"}),
    "history": ("history", {"symbol": "SBIN", "exchange": "NSE", "interval": "D",
                            "start_date": "2026-11-01", "end_date": "2026-11-30"}),
    "intervals": ("intervals", {}),
    "interval": ("intervals", {}),
    "syntheticfuture": ("syntheticfuture", {"underlying": "NIFTY", "exchange": "NSE_INDEX",
                                            "expiry_date": "30DEC26"}),
    "optiongreeks": ("optiongreeks", {"symbol": "NIFTY30DEC2624000CE", "exchange": "NFO"}),
    "optionsorder": ("optionsorder", {"underlying": "NIFTY", "exchange": "NSE_INDEX",
                                      "offset": "ATM", "option_type": "CE", "action": "BUY",
                                      "quantity": 75}),
    "optionsymbol": ("optionsymbol", {"underlying": "NIFTY", "exchange": "NSE_INDEX",
                                      "offset": "ATM", "option_type": "CE"}),
    "optionsmultiorder": ("optionsmultiorder", {"strategy": "e2e", "underlying": "NIFTY",
                                                "exchange": "NSE_INDEX", "legs": [
                                                    {"offset": "ATM", "option_type": "CE",
                                                     "action": "BUY", "quantity": 75}]}),
    "optionchain": ("optionchain", {"underlying": "NIFTY", "exchange": "NSE_INDEX"}),
    "holidays": ("market/holidays", {}),
    "timings": ("market/timings", {}),
    "telegram": ("telegram", {"username": "me", "message": "hi"}),
}


def test_every_method_of_the_client_returns_success_or_an_openalgo_error(
        broker_stack: Stack) -> None:
    """The walk-through, for the fake broker and every installed plugin: each REST method
    of OpenAlgo's client 1.0.47, unchanged, against the gateway; the WebSocket feed
    (``connect``, ``subscribe_*``) is not served."""
    from openalgo.feed import FeedAPI

    stack = broker_stack
    login(stack)
    client = openalgo.api(api_key=stack.api_key, host=stack.url)
    order = {"strategy": "e2e", "symbol": "SBIN", "action": "BUY", "exchange": "NSE",
             "price_type": "MARKET", "product": "MIS"}
    resting = {**order, "price_type": "LIMIT", "price": "1.05"}
    called: dict[str, Any] = {}

    def ok(name: str, **kwargs: Any) -> Any:
        reply = called[name] = getattr(client, name)(**kwargs)
        assert isinstance(reply, dict) and reply.get("status") == "success", (name, reply)
        return reply

    filled = ok("placeorder", quantity=2, **order)["orderid"]
    assert ok("placesmartorder", quantity=1, position_size=5, **order)["orderid"]
    assert ok("openposition", strategy="e2e", symbol="SBIN", exchange="NSE",
              product="MIS")["quantity"] == "5"
    basket = ok("basketorder", orders=[
        {"symbol": "INFY", "exchange": "NSE", "action": "BUY", "quantity": 1,
         "pricetype": "MARKET", "product": "MIS"},
        {"symbol": "TCS", "exchange": "NSE", "action": "BUY", "quantity": 1}])
    assert [r["status"] for r in basket["results"]] == ["success", "success"]
    split = ok("splitorder", quantity=5, splitsize=2, **order)
    assert [r["quantity"] for r in split["results"]] == [2, 2, 1]
    assert ok("orderstatus", order_id=filled, strategy="e2e")["data"]["order_status"] \
        == "complete"
    waiting = ok("placeorder", quantity=4, **resting)["orderid"]
    assert ok("modifyorder", order_id=waiting, strategy="e2e", symbol="SBIN", action="BUY",
              exchange="NSE", price_type="LIMIT", product="MIS", quantity=6,
              price="1.10")["orderid"] == waiting
    assert stack.sim.book.orders[waiting].quantity == 6
    assert ok("cancelorder", order_id=waiting, strategy="e2e")["orderid"] == waiting
    ok("placeorder", quantity=1, **resting)
    assert len(ok("cancelallorder", strategy="e2e")["canceled_orders"]) == 1
    book = ok("orderbook")["data"]
    assert book["statistics"]["total_buy_orders"] == len(book["orders"])
    assert {t["orderid"] for t in ok("tradebook")["data"]} >= {filled}
    assert ok("positionbook")["data"]
    assert set(ok("funds")["data"]) >= {"availablecash", "utiliseddebits"}
    assert "statistics" in ok("holdings")["data"]
    assert ok("symbol", symbol="SBIN", exchange="NSE")["data"]["brsymbol"]
    assert ok("search", query="SBIN", exchange="NSE")["data"][0]["symbol"] == "SBIN"
    assert ok("expiry", symbol="NIFTY", exchange="NFO", instrumenttype="futures")["data"]
    table = called["instruments"] = client.instruments(exchange="NSE")
    assert not isinstance(table, dict) and "SBIN" in set(table["symbol"]), table
    everything = called["instruments"] = client.instruments()
    assert len(everything) > len(table)
    assert ok("closeposition", strategy="e2e")["message"] == "All Open Positions SquaredOff"
    assert {p.quantity for p in stack.gateway.fetch_positions(stack.broker)} == {0}

    for name, (endpoint, kwargs) in UNSUPPORTED_CALLS.items():
        reply = called[name] = getattr(client, name)(**kwargs)
        assert reply["status"] == "error" and reply["code"] == 501, (name, reply)
        assert f"{endpoint} is not supported by this gateway" in reply["message"], reply

    feed = {n for n in dir(FeedAPI) if not n.startswith("_")}
    methods = {n for n in dir(client) if not n.startswith("_") and n not in feed
               and callable(getattr(client, n))}
    assert methods == set(called), methods ^ set(called)  # a new client method is noticed

    strategy = openalgo.Strategy(host_url=stack.url, webhook_id=stack.webhook_id)
    reply = strategy.strategyorder("SBIN", "BUY")
    assert reply["status"] == "success" and stack.gateway.fetch_positions(stack.broker)
    assert strategy.strategyorder("SBIN", "BUY") == reply  # delivered again: one order
