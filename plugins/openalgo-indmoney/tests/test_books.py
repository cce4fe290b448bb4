"""The day's books: positions from four calls valued at fetched last prices, holdings
valued likewise, the trade book joined to the order book, funds."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

import pytest
from docs_examples import FUNDS_REPLY
from openalgo_indmoney import mapping
from openalgo_indmoney.broker import IndMoneyBroker

from openalgo_core import BrokerResponseError
from openalgo_core.kit import Row
from openalgo_core.testing.conformance.base import sent
from openalgo_core.testing.universe import future_symbol, monthly_expiry, option_symbol
from openalgo_core.testing.wiring import Harness

BROKER = "indmoney"


def order(**fields: Any) -> dict[str, Any]:
    return {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1,
            "pricetype": "MARKET", "product": "MIS", **fields}


@pytest.fixture
def h(broker_harness: Harness) -> Harness:
    broker_harness.gateway.authenticate(BROKER)
    broker_harness.gateway.instruments(BROKER)
    return broker_harness


def test_positions_are_four_calls_and_one_quote_call(h: Harness) -> None:
    """Equity and derivative, delivery and intraday (lower case), merged; their last
    prices from one LTP call; P&L = realised + (LTP - average) x net."""
    gateway, sim = h.gateway, h.sim
    future = future_symbol("NIFTY", monthly_expiry())
    gateway.place_order(BROKER, order(quantity=3))
    gateway.place_order(BROKER, order(quantity=1, action="SELL"))
    gateway.place_order(BROKER, order(product="CNC", quantity=2, symbol="INFY"))
    gateway.place_order(BROKER, order(symbol=future, exchange="NFO", quantity=75,
                                      product="NRML"))
    with sent(h) as requests:
        rows = {(p.symbol, p.product): p for p in gateway.fetch_positions(BROKER)}
    queries = [dict(parse_qsl(r.url.query.decode())) for r in requests]
    assert [r.url.path for r in requests] == ["/portfolio/positions"] * 4 + [
        "/market/quotes/ltp"]
    assert queries[:4] == [{"segment": "equity", "product": "cnc"},
                           {"segment": "equity", "product": "intraday"},
                           {"segment": "derivative", "product": "margin"},
                           {"segment": "derivative", "product": "intraday"}]
    codes = queries[4]["scrip-codes"].split(",")
    assert len(codes) == 3 and "NSE_3045" in codes
    assert set(rows) == {("SBIN", "MIS"), ("INFY", "CNC"), (future, "NRML")}
    marks = {row.symbol: row for row in sim.book.positions(sim.marks())}
    for (symbol, _), position in rows.items():
        mark = marks[symbol]
        assert (position.quantity, position.ltp, position.pnl) == (mark.net, mark.ltp, mark.pnl)
    assert rows[("SBIN", "MIS")].pnl != 0


def test_an_index_derivative_with_an_empty_exchange_is_found_by_its_security_id(
        h: Harness) -> None:
    """⚠ INDstocks leaves ``exchange`` empty on index derivative rows (the docs' SENSEX
    option): the security id is looked up in the F&O segments."""
    expiry = monthly_expiry()
    call = option_symbol("SENSEX", expiry, Decimal(80000), "CE")
    nifty = option_symbol("NIFTY", expiry, Decimal(24500), "PE")
    h.gateway.place_order(BROKER, order(symbol=call, exchange="BFO", quantity=20,
                                        product="NRML"))
    h.gateway.place_order(BROKER, order(symbol=nifty, exchange="NFO", quantity=75))
    rows = {p.symbol: p for p in h.gateway.fetch_positions(BROKER)}
    assert (rows[call].exchange, rows[nifty].exchange) == ("BFO", "NFO")
    raw = h.http().get("/portfolio/positions", params={"segment": "derivative",
                                                       "product": "margin"},
                       headers={"Authorization": h.sim.credentials["API_SECRET"]}).json()
    assert raw["data"][0]["exchange"] == ""


def test_an_open_position_without_a_last_price_is_unreadable(h: Harness) -> None:
    h.gateway.place_order(BROKER, order(quantity=2))

    def no_prices(body: bytes) -> bytes:
        data = json.loads(body)
        if isinstance(data.get("data"), dict) and "NSE_3045" in data["data"]:
            return json.dumps({"status": "success", "data": {}}).encode()
        return body

    h.sim.faults.mutate = no_prices
    with pytest.raises(BrokerResponseError, match="no last price for NSE_3045"):
        h.gateway.fetch_positions(BROKER)


def test_a_closed_position_needs_no_price(h: Harness) -> None:
    h.gateway.place_order(BROKER, order(quantity=2))
    h.gateway.place_order(BROKER, order(quantity=2, action="SELL"))
    h.sim.faults.mutate = lambda body: body.replace(
        b'{"NSE_3045":', b'{"NSE_0":') if b"live_price" in body else body
    (closed,) = h.gateway.fetch_positions(BROKER)
    assert (closed.quantity, closed.ltp) == (0, Decimal(0))


def test_holdings_are_valued_at_fetched_last_prices(h: Harness) -> None:
    with sent(h) as requests:
        held = {(x.symbol, x.exchange): x for x in h.gateway.fetch_holdings(BROKER)}
    assert [r.url.path for r in requests] == ["/portfolio/holdings", "/market/quotes/ltp"]
    expected = {(x.symbol, x.exchange): x for x in h.sim.holdings()}
    assert set(held) == set(expected) and ("TCS", "BSE") in held  # found on BSE by its id
    for key, row in held.items():
        assert (row.quantity, row.average_price, row.ltp, row.pnl) == (
            expected[key].quantity, expected[key].average_price, expected[key].ltp,
            expected[key].pnl)


def test_the_trade_book_is_joined_to_the_order_book(h: Harness) -> None:
    future = future_symbol("NIFTY", monthly_expiry())
    bought = h.gateway.place_order(BROKER, order(quantity=2, tag="tb1"))
    nfo = h.gateway.place_order(BROKER, order(symbol=future, exchange="NFO", quantity=75,
                                              product="NRML", action="SELL"))
    with sent(h) as requests:
        trades = {t.order_id: t for t in h.gateway.fetch_trade_book(BROKER)}
    assert [(r.url.path, r.url.query.decode()) for r in requests] == [
        ("/order-book", ""), ("/trade-book", "segment=EQUITY"),
        ("/trade-book", "segment=DERIVATIVE")]
    assert (trades[bought.order_id].action, trades[bought.order_id].product,
            trades[bought.order_id].symbol) == ("BUY", "MIS", "SBIN")
    assert (trades[nfo.order_id].action, trades[nfo.order_id].exchange,
            trades[nfo.order_id].quantity) == ("SELL", "NFO", 75)


def test_a_fill_of_no_order_in_the_book_is_unreadable(h: Harness) -> None:
    h.gateway.place_order(BROKER, order())
    h.sim.faults.mutate = lambda body: body.replace(
        b'"exch_order_id":"13', b'"exch_order_id":"99') if b"fill_id" in body else body
    with pytest.raises(BrokerResponseError, match="exch_order_id"):
        h.gateway.fetch_trade_book(BROKER)


def test_funds_read_the_delivery_balance_and_derive_the_margin_used() -> None:
    """The docs' sample: available = eq_cnc 2980.40; used = 4996.47 - 751.92 - 2980.40
    (⚠ the balance taken as net of the day's realised P&L), or OpenAlgo's 4996.47 -
    2980.40 when it is not."""
    row = Row(FUNDS_REPLY["data"], what="funds", broker=BROKER)
    funds = IndMoneyBroker().funds_row(row)
    assert (funds.available_cash, funds.collateral, funds.used_margin, funds.realised_pnl,
            funds.unrealised_pnl) == (Decimal("2980.40"), 0, Decimal("1264.15"),
                                      Decimal("-751.92"), Decimal("62.15"))
    mapping.AVAILABLE_INCLUDES_REALISED = False
    try:
        assert IndMoneyBroker().funds_row(row).used_margin == Decimal("2016.07")
    finally:
        mapping.AVAILABLE_INCLUDES_REALISED = True
