"""OpenAPIScripMaster.json parsing: every row kind, bad rows, bad files."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from openalgo_angel.instruments import parse_scrip_master
from openalgo_angel.simulator import big_scrip_master

from openalgo_core import BrokerResponseError, InstrumentIndex


def row(token: str, symbol: str, name: str, segment: str, itype: str = "", expiry: str = "",
        strike: str = "-1.000000", lot: str = "1", tick: str = "5.000000") -> dict[str, str]:
    return {"token": token, "symbol": symbol, "name": name, "expiry": expiry, "strike": strike,
            "lotsize": lot, "instrumenttype": itype, "exch_seg": segment, "tick_size": tick}


def parse(*rows: Any) -> InstrumentIndex:
    return InstrumentIndex.from_instruments("angel", parse_scrip_master(json.dumps(rows)))


def test_equities_lose_their_series_and_keep_the_broker_symbol() -> None:
    index = parse(row("3045", "SBIN-EQ", "SBIN", "NSE"), row("500112", "SBIN", "SBIN", "BSE"),
                  row("12018", "SUZLON-BE", "SUZLON", "NSE", tick="1.000000"))
    sbin = index.resolve("SBIN", "NSE")
    assert (sbin.broker_symbol, sbin.token, sbin.instrument_type) == ("SBIN-EQ", "3045", "EQ")
    assert sbin.tick_size == Decimal("0.05") and sbin.lot_size == 1
    assert index.resolve("SBIN", "BSE").token == "500112"
    assert index.resolve("SUZLON", "NSE").tick_size == Decimal("0.01")


def test_eq_series_wins_over_be_whatever_the_file_order() -> None:
    index = parse(row("900", "ABC-BE", "ABC", "NSE"), row("901", "ABC-EQ", "ABC", "NSE"))
    assert index.resolve("ABC", "NSE").broker_symbol == "ABC-EQ"
    assert index.by_token("900", "NSE") is not None  # the BE row is still mapped back


def test_indices_get_openalgo_aliases_on_index_exchanges() -> None:
    index = parse(row("99926000", "Nifty 50", "Nifty 50", "NSE", "AMXIDX"),
                  row("99926009", "Nifty Bank", "Nifty Bank", "NSE", "AMXIDX"),
                  row("99919000", "SENSEX", "SENSEX", "BSE", "AMXIDX"),
                  row("99920000", "MCXCOMDEX", "MCXCOMDEX", "MCX", "AMXIDX"))
    nifty = index.resolve("NIFTY", "NSE_INDEX")
    assert (nifty.token, nifty.broker_symbol, nifty.instrument_type) == (
        "99926000", "Nifty 50", "INDEX")
    assert index.resolve("BANKNIFTY", "NSE_INDEX").broker_exchange == "NSE"
    assert index.resolve("SENSEX", "BSE_INDEX").token == "99919000"
    assert len(index) == 3  # MCX indices are not offered


def test_nfo_symbols_are_kept_and_strikes_scaled() -> None:
    index = parse(
        row("35863", "NIFTY28MAR24FUT", "NIFTY", "NFO", "FUTIDX", "28MAR2024", lot="75"),
        row("46569", "NIFTY28MAR2422500CE", "NIFTY", "NFO", "OPTIDX", "28MAR2024",
            "2250000.000000", "75"),
        row("88123", "VEDL25APR24292.5CE", "VEDL", "NFO", "OPTSTK", "25APR2024",
            "29250.000000", "1150"))
    fut = index.resolve("NIFTY28MAR24FUT", "NFO")
    assert (fut.instrument_type, fut.expiry, fut.strike, fut.lot_size) == (
        "FUT", dt.date(2024, 3, 28), None, 75)
    ce = index.resolve("NIFTY28MAR2422500CE", "NFO")
    assert (ce.strike, ce.option_type, ce.instrument_type) == (Decimal(22500), "CE", "CE")
    vedl = index.resolve("VEDL25APR24292.5CE", "NFO")
    assert vedl.strike == Decimal("292.5") and str(vedl.strike) == "292.5"


def test_bfo_mcx_cds_derivatives_are_rebuilt() -> None:
    index = parse(
        row("1101", "SENSEX24DECFUT", "SENSEX", "BFO", "FUTIDX", "20DEC2024", lot="10"),
        row("1102", "SENSEX24DEC80000CE", "SENSEX", "BFO", "OPTIDX", "20DEC2024",
            "8000000.000000", "10"),
        row("2201", "CRUDEOIL24DECFUT", "CRUDEOIL", "MCX", "FUTCOM", "19DEC2024", lot="100",
            tick="100.000000"),
        row("2202", "CRUDEOIL24APR6750PE", "CRUDEOIL", "MCX", "OPTFUT", "17APR2024",
            "675000.000000", "100", "10.000000"),
        row("3301", "USDINR24APR82.5CE", "USDINR", "CDS", "OPTCUR", "19APR2024",
            "825000000.000000", "1000", "0.250000"),
        row("3302", "USDINR24MAYFUT", "USDINR", "CDS", "FUTCUR", "10MAY2024", lot="1000",
            tick="0.250000"))
    assert index.resolve("SENSEX20DEC24FUT", "BFO").broker_symbol == "SENSEX24DECFUT"
    assert index.resolve("SENSEX20DEC2480000CE", "BFO").strike == Decimal(80000)
    crude = index.resolve("CRUDEOIL19DEC24FUT", "MCX")
    assert (crude.token, crude.tick_size) == ("2201", Decimal(1))
    assert index.resolve("CRUDEOIL17APR246750PE", "MCX").tick_size == Decimal("0.1")
    usd = index.resolve("USDINR19APR2482.5CE", "CDS")
    assert (usd.strike, usd.tick_size, usd.option_type) == (
        Decimal("82.5"), Decimal("0.0025"), "CE")
    assert index.resolve("USDINR10MAY24FUT", "CDS").token == "3302"


@pytest.mark.parametrize("bad", [
    "not an object",
    ["a", "list"],
    {"token": "1", "symbol": "X-EQ"},  # missing columns
    row("5", "X25APR24FUT", "X", "NFO", "FUTSTK", "2024-04-25"),  # wrong expiry format
    row("6", "X25APR24100XX", "X", "NFO", "OPTSTK", "25APR2024", "10000.000000"),
    row("7", "X25APR24100CE", "X", "NFO", "OPTSTK", "25APR2024", "-1.000000"),
    row("8", "X-EQ", "X", "NSE", lot="one"),
    row("9", "X-EQ", "X", "NSE", tick="n/a"),
    row("9", "X-EQ", "X", "NSE", tick="NaN"),
    row("9", "X-EQ", "X", "NSE", tick="0"),
    row("9", "X-EQ", "X", "NSE", lot="0"),
    row("9", "X-EQ", "X", "NSE", lot="1e200000"),
    {**row("10", "X-EQ", "X", "NSE"), "token": 10},
    {**row("14", "X-EQ", "X", "NSE"), "name": None},
    {**row("15", "X25APR24FUT", "X", "NFO", "FUTSTK", "25APR2024"), "lotsize": None},
    row("", "X-EQ", "X", "NSE"),
    row("11", "X", "X", "NCDEX", "FUTCOM", "25APR2024"),  # segment not offered
    row("12", "X", "X", "NFO", "FUTBLN", "25APR2024"),  # unknown instrument type
    row("13", "X", "X", "NFO"),  # cash row on a derivatives segment
])
def test_bad_or_unoffered_rows_are_skipped(bad: Any) -> None:
    index = parse(bad, row("3045", "SBIN-EQ", "SBIN", "NSE"))
    assert [i.symbol for i in index] == ["SBIN"]


@pytest.mark.parametrize("content", [b"<html>busy</html>", b'{"data": []}', b"[]",
                                     b'["x", 1]', "\u00ff".encode("latin-1"),
                                     b"[" * 100_000 + b"]" * 100_000,
                                     b'[{"a": ' * 100_000 + b"1" + b"}]" * 100_000])
def test_a_file_that_is_not_a_usable_array_is_a_broker_response_error(content: bytes) -> None:
    with pytest.raises(BrokerResponseError):
        parse_scrip_master(content)


def test_big_master_parses_every_row() -> None:
    rows = parse_scrip_master(big_scrip_master(5000))
    assert len(rows) == 5000
    assert len({(r.symbol, r.exchange) for r in rows}) == 5000


def test_a_non_string_value_sends_the_file_down_the_generic_path_with_the_same_result(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path decodes rows of strings straight into structs; one other value
    (here a numeric token) makes the whole file decode generically, which must read
    every other row exactly alike."""
    import openalgo_angel.instruments as scrip

    rows = json.loads(big_scrip_master(3000))
    fast = parse_scrip_master(json.dumps(rows))
    generic: list[int] = []
    raw_fields = scrip._raw_fields
    monkeypatch.setattr(scrip, "_raw_fields",
                        lambda row: generic.append(1) or raw_fields(row))
    odd = {**row("99", "ODD-EQ", "ODD", "NSE"), "token": 99, "extra": [1]}
    assert parse_scrip_master(json.dumps([*rows, odd])) == fast
    assert len(generic) == len(rows) + 1


@pytest.mark.parametrize(("broker_symbol", "ours"), [
    ("SBIN-EQ", "SBIN"), ("SUZLON-BE", "SUZLON"), ("NIFTYBEES-MF", "NIFTYBEES"),
    ("SGBAUG28-SG", "SGBAUG28"), ("RELIANCE", "RELIANCE"), ("GOLDBOND-GB", "GOLDBOND-GB"),
    ("BAJAJ-AUTO-EQ", "BAJAJ-AUTO"), ("M&M-EQ", "M&M")])
def test_angels_equity_symbols(broker_symbol: str, ours: str) -> None:
    (instrument,) = parse(row("1", broker_symbol, ours, "NSE"))
    assert (instrument.symbol, instrument.broker_symbol) == (ours, broker_symbol)


@pytest.mark.parametrize(("name", "ours"), [
    ("Nifty 50", "NIFTY"), ("Nifty Bank", "BANKNIFTY"), ("Nifty Fin Service", "FINNIFTY"),
    ("NIFTY MID SELECT", "MIDCPNIFTY"), ("Nifty Next 50", "NIFTYNXT50"),
    ("India VIX", "INDIAVIX"), ("SENSEX", "SENSEX"), ("SNSX50", "SENSEX50"),
    ("S&P BSE 500", "BSE500"), ("NIFTY", "NIFTY"), ("Nifty-IT", "NIFTYIT")])
def test_angels_index_names(name: str, ours: str) -> None:
    (instrument,) = parse(row("99926000", name, name, "NSE", "AMXIDX"))
    assert (instrument.symbol, instrument.broker_symbol) == (ours, name)


def test_skipped_rows_are_counted_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    parse(row("1", "X-EQ", "X", "NSE", tick="NaN"), row("2", "Y-EQ", "Y", "NSE", lot="0"),
          row("3", "Z", "Z", "NCDEX", "FUTCOM", "25APR2024"),  # not offered: not counted
          row("3045", "SBIN-EQ", "SBIN", "NSE"))
    assert "2 rows skipped" in caplog.text
