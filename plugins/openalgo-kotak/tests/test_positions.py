"""Positions by Kotak's own formulas (the SDK's positions.md): the documented examples,
carried-forward F&O legs (OpenAlgo #2061), closed legs (#1970), equity carried from an
earlier day, the last price from the row or from quotes, and an empty book."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from openalgo_kotak.positions import figures
from openalgo_kotak.simulator import KotakSimulator, Leg

from openalgo_core import BrokerResponseError, Position
from openalgo_core.kit import Row
from openalgo_core.testing import Harness, future_symbol, monthly_expiry
from openalgo_core.testing.conformance.base import sent

#: The SDK docs' sample row (TCS future, one lot of 225 bought at 2112)
TCS: dict[str, Any] = {
    "actId": "ABCXYZ61", "brdLtQty": 225, "cfBuyAmt": "0.00", "cfSellAmt": "0.00",
    "cfBuyQty": "0", "cfSellQty": "0", "exSeg": "nse_fo", "buyAmt": "475200.00",
    "sellAmt": "0.00", "flBuyQty": "225", "flSellQty": "0", "prod": "NRML", "series": "XX",
    "tok": "61304", "trdSym": "TCS26JULFUT", "optTp": "XX", "stkPrc": "0.00",
    "type": "FUTSTK", "sym": "TCS", "lotSz": "225", "multiplier": "1", "precision": "2",
    "prcNum": "1", "prcDen": "1", "genNum": "1", "genDen": "1"}
#: The notes' constructed cash row: 10 bought, 4 sold the same day
RELIANCE: dict[str, Any] = {**TCS, "exSeg": "nse_cm", "buyAmt": "29500.00",
                            "sellAmt": "11840.00", "flBuyQty": "10", "flSellQty": "4",
                            "prod": "MIS", "tok": "2885", "trdSym": "RELIANCE-EQ",
                            "lotSz": "1"}


def row(data: dict[str, Any]) -> Row:
    return Row(data, what="position row", broker="kotak")


def test_the_documented_examples() -> None:
    tcs = figures(row(TCS))
    assert (tcs.net, tcs.average, tcs.pnl(Decimal(2120))) == (225, Decimal("2112.00"),
                                                              Decimal("1800.00"))
    reliance = figures(row(RELIANCE))
    assert (reliance.net, reliance.average) == (6, Decimal("2950.00"))
    assert reliance.pnl(Decimal(2960)) == Decimal("100.00")  # 40 realised + 60 open


def test_a_carried_fo_leg_counts_at_its_carried_amount() -> None:
    """OpenAlgo #2061: 2 lots carried at 2100 (cfBuyAmt), 1 more bought today at 2130: the
    average is over all 3 lots; OpenAlgo's was today's buys alone."""
    data = {**TCS, "cfBuyQty": "450", "cfBuyAmt": "945000.00", "flBuyQty": "225",
            "buyAmt": "479250.00"}
    found = figures(row(data))
    assert (found.net, found.carried) == (675, 450)
    assert found.average == Decimal("2110.00")  # (945000 + 479250) / 675
    assert found.pnl(Decimal(2120)) == Decimal("6750.00")


def test_a_short_carried_leg_and_a_partial_cover() -> None:
    data = {**TCS, "cfSellQty": "450", "cfSellAmt": "954000.00", "flBuyQty": "225",
            "buyAmt": "470250.00"}
    found = figures(row(data))
    assert (found.net, found.average) == (-225, Decimal("2120.00"))  # the sold side's average
    assert found.pnl(Decimal(2100)) == Decimal("11250.00")  # 954000 - 470250 - 225 * 2100


def test_a_closed_leg_keeps_its_realised_pnl() -> None:
    """#1970: flat, the average is 0 and the P&L what the round trip made."""
    data = {**RELIANCE, "flSellQty": "10", "sellAmt": "29800.00"}
    found = figures(row(data))
    assert (found.net, found.average, found.pnl(Decimal(1))) == (0, Decimal("0.00"),
                                                                 Decimal("300.00"))


def test_the_price_factors_and_precision_are_kotaks() -> None:
    """multiplier x genNum/genDen x prcNum/prcDen scales prices; precision rounds."""
    data = {**TCS, "multiplier": "1000", "genNum": "1", "genDen": "1", "prcNum": "1",
            "prcDen": "100", "precision": "4", "buyAmt": "8371.2500", "flBuyQty": "1"}
    found = figures(row(data))
    assert found.factor == Decimal(10) and found.average == Decimal("837.1250")
    assert found.pnl(Decimal("840")) == Decimal("28.7500")


def test_an_equity_leg_carried_from_yesterday_can_count_at_its_holdings_cost() -> None:
    data = {**RELIANCE, "cfBuyQty": "5", "cfBuyAmt": "14900.00", "flBuyQty": "0",
            "flSellQty": "0", "buyAmt": "0", "sellAmt": "0"}
    assert figures(row(data)).average == Decimal("2980.00")  # Kotak's carried amount
    costed = figures(row(data), carried_cost=Decimal("2500"))
    assert costed.average == Decimal("2500.00") and costed.pnl(Decimal(2980)) == Decimal(2400)


@pytest.mark.parametrize(("field", "value"), [
    ("flBuyQty", "ten"), ("flBuyQty", "-1"), ("buyAmt", "NaN"), ("genDen", "0"),
    ("multiplier", "-1"), ("precision", "40"), ("cfBuyQty", [1])])
def test_a_field_that_cannot_be_used_is_named(field: str, value: Any) -> None:
    with pytest.raises(BrokerResponseError, match=field):
        figures(row({**TCS, field: value}))


# -- through the gateway -----------------------------------------------------------------
@pytest.fixture
def harness(broker_harness: Harness) -> Harness:
    broker_harness.login()
    return broker_harness


def nifty(harness: Harness) -> tuple[str, str, Decimal, int]:
    """The near NIFTY future: symbol, token, price and lot."""
    symbol = future_symbol("NIFTY", monthly_expiry())
    instrument = harness.gateway.resolve("kotak", symbol, "NFO")
    return symbol, instrument.token, harness.sim.price(instrument.token), instrument.lot_size


def test_an_empty_book_is_no_data_and_no_positions(harness: Harness) -> None:
    harness.gateway.instruments("kotak")
    with sent(harness, answered=True) as replies:
        assert harness.gateway.fetch_positions("kotak") == []
    assert len(replies) == 1


def test_carried_and_todays_legs_of_one_future(harness: Harness) -> None:
    sim: KotakSimulator = harness.sim  # type: ignore[assignment]
    symbol, token, price, lot = nifty(harness)
    sim.carried = [Leg("NFO", token, "NRML", 2 * lot, price - 100)]
    harness.gateway.place_order("kotak", {"symbol": symbol, "exchange": "NFO",
                                          "action": "BUY", "quantity": lot,
                                          "product": "NRML"})
    (position,) = harness.gateway.fetch_positions("kotak")
    ltp = sim.mark(token)
    average = ((price - 100) * 2 + price) / 3
    assert (position.symbol, position.quantity, position.product) == (symbol, 3 * lot, "NRML")
    assert position.average_price == average.quantize(Decimal("0.01"))
    assert position.pnl == (ltp - (price - 100)) * 2 * lot + (ltp - price) * lot


def test_a_leg_carried_and_closed_today(harness: Harness) -> None:
    sim: KotakSimulator = harness.sim  # type: ignore[assignment]
    symbol, token, price, lot = nifty(harness)
    sim.carried = [Leg("NFO", token, "NRML", lot, price - 40)]
    harness.gateway.place_order("kotak", {"symbol": symbol, "exchange": "NFO",
                                          "action": "SELL", "quantity": lot,
                                          "product": "NRML"})
    (position,) = harness.gateway.fetch_positions("kotak")
    assert (position.quantity, position.average_price) == (0, Decimal(0))
    assert position.pnl == 40 * lot


def test_a_carried_equity_leg_counts_at_its_holdings_cost(harness: Harness) -> None:
    """INFY is held at 850 (the simulator's holdings); carried into today's positions at
    the previous close, it is valued at the holding's cost: one holdings call, only then."""
    sim: KotakSimulator = harness.sim  # type: ignore[assignment]
    infy = harness.gateway.resolve("kotak", "INFY", "NSE")
    sim.carried = [Leg("NSE", infy.token, "CNC", 10, Decimal("1000.00"))]
    with sent(harness) as requests:
        (position,) = harness.gateway.fetch_positions("kotak")
    assert [r.url.path for r in requests] == ["/portfolio/v2/positions",
                                              "/portfolio/v1/holdings"]
    assert (position.quantity, position.average_price) == (10, Decimal("850.00"))
    assert position.pnl == (sim.mark(infy.token) - Decimal(850)) * 10


@pytest.mark.parametrize("ltp", ["zero", "absent"])
def test_a_missing_last_price_comes_from_quotes(harness: Harness, ltp: Any) -> None:
    """The v2 rows carry ``ltp`` (sometimes 0, per the SDK); without it, one quotes call
    for the open legs, with the access token."""
    sim: KotakSimulator = harness.sim  # type: ignore[assignment]
    sim.position_ltp = ltp
    harness.gateway.place_order("kotak", {"symbol": "SBIN", "exchange": "NSE",
                                          "action": "BUY", "quantity": 2})
    harness.gateway.place_order("kotak", {"symbol": "ITC", "exchange": "NSE",
                                          "action": "BUY", "quantity": 1})
    harness.gateway.place_order("kotak", {"symbol": "ITC", "exchange": "NSE",
                                          "action": "SELL", "quantity": 1})
    with sent(harness) as requests:
        positions = harness.gateway.fetch_positions("kotak")
    quotes = [r for r in requests if "quotes" in r.url.path]
    assert len(quotes) == 1 and quotes[0].headers["authorization"] == \
        sim.credentials["ACCESS_TOKEN"]
    assert "nse_cm|3045" in quotes[0].url.path and "1660" not in quotes[0].url.path
    sbin = next(p for p in positions if p.symbol == "SBIN")
    assert sbin.ltp == sim.mark("3045")
    assert sbin.pnl == (sbin.ltp - sbin.average_price) * 2


def test_the_ltp_in_the_row_saves_the_quotes_call(harness: Harness) -> None:
    harness.gateway.instruments("kotak")
    harness.gateway.place_order("kotak", {"symbol": "SBIN", "exchange": "NSE",
                                          "action": "BUY", "quantity": 2})
    with sent(harness) as requests:
        (position,) = harness.gateway.fetch_positions("kotak")
    assert len(requests) == 1 and isinstance(position, Position)


def test_no_last_price_anywhere_is_a_typed_error(harness: Harness) -> None:
    sim: KotakSimulator = harness.sim  # type: ignore[assignment]
    sim.position_ltp = "zero"
    harness.gateway.place_order("kotak", {"symbol": "SBIN", "exchange": "NSE",
                                          "action": "BUY", "quantity": 2})
    harness.fault(mutate=lambda body: b"[]" if body.startswith(b"[") else body)
    with pytest.raises(BrokerResponseError, match="no last price for SBIN"):
        harness.gateway.fetch_positions("kotak")


def test_a_currency_leg_traded_in_kotaks_app_is_named_not_an_error(
        harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plugin places no CDS orders, but a USDINR future bought in Kotak's app shows in
    the position book under its OpenAlgo symbol (cde_fo is read from the master); it
    failed the whole book as "not a segment this plugin trades on"."""
    usdinr = next(i for i in harness.gateway.instruments("kotak")
                  if i.exchange == "CDS" and i.instrument_type == "FUT")
    leg = {**TCS, "exSeg": "cde_fo", "tok": usdinr.token, "trdSym": usdinr.broker_symbol,
           "buyAmt": "83250.00", "flBuyQty": "1000", "lotSz": "1000", "ltp": "83.5000",
           "precision": "4"}
    monkeypatch.setattr(harness.sim, "_position_rows", lambda ltp: [leg])
    (position,) = harness.gateway.fetch_positions("kotak")
    assert (position.symbol, position.exchange, position.quantity) == (usdinr.symbol, "CDS",
                                                                       1000)
    assert (position.average_price, position.pnl) == (Decimal("83.25"), Decimal("250"))
