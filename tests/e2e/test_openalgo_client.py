"""OpenAlgo's own Python client (PyPI ``openalgo``, pinned in the ``e2e`` nox session),
unchanged, against the gateway over real sockets.

The client posts JSON to ``{host}/api/v1/<endpoint>``: ``placeorder`` sends ``apikey``,
``strategy``, ``symbol``, ``action``, ``exchange``, ``pricetype`` (from its ``price_type``
argument), ``product`` and ``quantity`` as a string; ``positionbook`` sends only
``apikey``. It returns the decoded reply when HTTP 200 and ``status`` is not ``error``,
else its own error dict (``status``, ``message``, ``code``, ``error_type``).
"""

from __future__ import annotations

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
        reply = start_login(browser, "fake")
    assert reply.status_code == 303 and reply.headers["location"] == "/?loggedin=fake"


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
