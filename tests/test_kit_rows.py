"""Strict row readers, OpenAlgo symbology and the instrument builder."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

import pytest

from openalgo_core.errors import BrokerResponseError
from openalgo_core.kit import (
    EPOCH,
    InstrumentBuilder,
    Row,
    csv_rows,
    equity_symbol,
    future_symbol,
    index_symbol,
    number,
    option_symbol,
    strike_text,
)
from openalgo_core.models import IST
from openalgo_core.testing.universe import universe

ROW = {"qty": "75", "price": "- 2235.80", "ltp": 101.5, "big": "1,234.50", "flag": "Y",
       "product": "CARRYFORWARD", "blank": " ", "null": None, "n": 3}


def row(data: Any = ROW) -> Row:
    return Row(data, what="position row", broker="b")


def test_readers_convert_what_brokers_send() -> None:
    r = row()
    assert r.whole("qty") == 75
    assert r.decimal("price") == Decimal("-2235.80")
    assert r.decimal("ltp") == Decimal("101.5")
    assert r.decimal("big") == Decimal("1234.50")
    assert r.flag("flag") is True
    assert r.lookup("product", {"CARRYFORWARD": "NRML"}) == "NRML"
    assert r.text("n") == "3"
    assert r.decimal("null", "0") == 0 and r.text("blank", "x") == "x"


@pytest.mark.parametrize(("field", "method", "says"), [
    ("absent", "text", "'absent' is missing"),
    ("blank", "decimal", "'blank' is missing"),
    ("null", "whole", "'null' is missing"),
    ("product", "decimal", "'product' is not a usable number"),
    ("price", "whole", "'price' is not a whole number"),
    ("flag", "whole", "'flag' is not a whole number"),
    ("ltp", "flag", "'ltp' is not a yes/no flag"),
    ("qty", "flag", "'qty' is not a yes/no flag"),
])
def test_a_bad_field_is_named(field: str, method: str, says: str) -> None:
    with pytest.raises(BrokerResponseError, match=says):
        getattr(row(), method)(field)


def test_an_unknown_lookup_names_the_field_and_not_a_key_error() -> None:
    with pytest.raises(BrokerResponseError, match="'product' has an unknown value"):
        row().lookup("product", {"DELIVERY": "CNC"})


@pytest.mark.parametrize("value", [
    float("nan"), float("inf"), "NaN", "-inf", "1e30", 1e30, "1e5000", "1e200000",
    10**20, True, [], {}, "12a", "", "0.0000000000001", "9" * 41, "\uff11\uff12",
])
def test_absurd_numbers_are_refused(value: Any) -> None:
    with pytest.raises(BrokerResponseError):
        row({"v": value}).decimal("v")


def test_a_huge_exponent_is_refused_by_its_magnitude() -> None:
    """Refused by the magnitude check, before any conversion that could take seconds."""
    for text in ("1e200000", "-1e200000", "1e-200000"):
        with pytest.raises(ValueError, match="implausibly"):
            number(text)


def test_a_row_that_is_not_an_object() -> None:
    with pytest.raises(BrokerResponseError, match="position row is not an object"):
        row(["a"])


def test_csv_rows_strip_quoted_padded_headers() -> None:
    text = 'Token, "ShortName","LotSize"\n2885, RELIND,1\n\n3045,SBIN\n'
    rows = list(csv_rows(text, what="master row", broker="icici", required=("Token",)))
    assert rows[0].text("ShortName") == "RELIND" and rows[0].whole("LotSize") == 1
    with pytest.raises(BrokerResponseError, match="LotSize"):
        rows[1].whole("LotSize")
    with pytest.raises(BrokerResponseError, match="columns missing: Series"):
        list(csv_rows(text, what="master row", broker="icici", required=("Series",)))


@pytest.mark.parametrize(("made", "expected"), [
    (future_symbol("NIFTY", dt.date(2024, 3, 28)), "NIFTY28MAR24FUT"),
    (option_symbol("NIFTY", dt.date(2024, 3, 28), Decimal("20800.00"), "CE"),
     "NIFTY28MAR2420800CE"),
    (option_symbol("VEDL", dt.date(2024, 4, 25), Decimal("292.50"), "CE"), "VEDL25APR24292.5CE"),
    (option_symbol("USDINR", dt.date(2024, 4, 19), Decimal("82.0000"), "CE"),
     "USDINR19APR2482CE"),
    (option_symbol("USDINR", dt.date(2024, 4, 19), Decimal("83.2500"), "PE"),
     "USDINR19APR2483.25PE"),
    (option_symbol("CRUDEOIL", dt.date(2024, 4, 17), Decimal("6.75E+3"), "CE"),
     "CRUDEOIL17APR246750CE"),
    (strike_text(Decimal("1E+4")), "10000"),
    (equity_symbol("SBIN-EQ"), "SBIN"), (equity_symbol("SUZLON-BE"), "SUZLON"),
    (equity_symbol("M&M"), "M&M"),
    (index_symbol("Nifty 50"), "NIFTY"), (index_symbol("NIFTY BANK"), "BANKNIFTY"),
    (index_symbol("S&P BSE SENSEX 50"), "SENSEX50"), (index_symbol("India VIX"), "INDIAVIX"),
    (index_symbol("Nifty Fin Service"), "FINNIFTY"),
])
def test_openalgo_symbols(made: str, expected: str) -> None:
    assert made == expected


def test_an_option_needs_ce_or_pe() -> None:
    with pytest.raises(ValueError, match="CE or PE"):
        option_symbol("NIFTY", dt.date(2024, 3, 28), Decimal(1), "XX")


def test_the_builder_spells_every_listing_of_the_universe() -> None:
    listings = universe()
    with InstrumentBuilder("b", tick_scale=Decimal(100)) as build:
        for item in listings:
            tick = str(item.tick_size * 100)
            expiry = f"{item.expiry:%d%b%Y}".upper() if item.expiry else ""
            if item.kind == "EQ":
                build.equity(item.symbol, item.exchange, item.symbol + "-EQ", item.exchange,
                             item.token, item.name, str(item.lot_size), tick)
            elif item.kind == "INDEX":
                build.index(item.name, item.exchange, item.name, item.exchange, item.token,
                            tick, symbol=item.symbol)
            elif item.kind == "FUT":
                build.future(item.name, item.exchange, "x", item.exchange, item.token,
                             item.lot_size, tick, expiry)
            else:
                build.option(item.name, item.exchange, "x", item.exchange, item.token,
                             item.lot_size, tick, expiry, str(item.strike), item.kind)
    rows = build.result()
    assert [(r.symbol, r.token, r.lot_size, r.tick_size, r.expiry, r.strike) for r in rows] == [
        (i.symbol, i.token, i.lot_size, i.tick_size, i.expiry, i.strike) for i in listings]


def test_bad_rows_are_skipped_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    raw = [{"s": "SBIN", "t": "3045", "lot": "1", "tick": "5"},
           {"s": "INFY", "t": "1594", "lot": "NaN", "tick": "5"},
           {"s": "TCS", "t": "", "lot": "1", "tick": "5"},
           {"s": "ITC", "t": "1660", "lot": "1", "tick": "nan"},
           {"s": "X"}, "not a row", {"s": 7, "t": "7", "lot": "1", "tick": "5"}]

    def read(r: Any) -> None:
        build.equity(r["s"], "NSE", r["s"], "NSE", r["t"], r["s"], r["lot"], r["tick"])

    caplog.set_level(logging.WARNING)
    with InstrumentBuilder("b", tick_scale=Decimal(100)) as build:
        build.each(raw, read)
    rows = build.result()
    assert [r.symbol for r in rows] == ["SBIN"]
    assert rows[0].tick_size == Decimal("0.05")
    assert sum(build.skipped.values()) == 6
    assert "6 rows skipped" in caplog.text


def test_a_master_with_no_usable_row_is_an_error() -> None:
    with InstrumentBuilder("b") as build:
        build.each([{}], lambda r: build.equity(r["s"], "NSE", "", "", "", "", 1, 1))
    with pytest.raises(BrokerResponseError, match="no usable rows"):
        build.result()


def test_file_readers_refuse_what_is_not_the_documented_format() -> None:
    import io
    import zipfile

    from openalgo_core.kit import json_array, unzip

    assert json_array(b'[{"a": 1}]', what="m", broker="b") == [{"a": 1}]
    for bad in (b"{}", b"[" * 100_000, b"\xff", b"nope"):
        with pytest.raises(BrokerResponseError, match="m is not"):
            json_array(bad, what="m", broker="b")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("NSE.txt", "Token\n1\n")
    assert unzip(buffer.getvalue(), ["NSE.txt"], what="z", broker="b") == {"NSE.txt": "Token\n1\n"}
    for content, names in ((buffer.getvalue(), ["BSE.txt"]), (b"PK\x03\x04junk", ["NSE.txt"]),
                           (b"", ["NSE.txt"])):
        with pytest.raises(BrokerResponseError, match="z is not a zip holding"):
            unzip(content, names, what="z", broker="b")


def test_a_row_reader_refusal_skips_the_row() -> None:
    with InstrumentBuilder("b") as build:
        build.each(csv_rows("symbol,lot\nSBIN,1\nINFY,x\n", what="r", broker="b"),
                   lambda r: build.equity(r.text("symbol"), "NSE", r.text("symbol"), "NSE",
                                          "1", "", r.whole("lot"), "0.05"))
    assert [i.symbol for i in build.result()] == ["SBIN"]
    assert build.skipped == {"BrokerResponseError": 1}


def test_time_stamps_are_read_as_ist() -> None:
    row = Row({"at": "20-Oct-2020 13:10:59", "fill": "09:15:01", "bad": "2020-10-20",
               "blank": " "}, what="order row", broker="b")
    assert row.time("at", "%d-%b-%Y %H:%M:%S") == dt.datetime(2020, 10, 20, 13, 10, 59,
                                                                tzinfo=IST)
    fill = row.time("fill", "%H:%M:%S")
    assert fill.tzinfo is IST and fill.time() == dt.time(9, 15, 1)
    assert fill.date() == dt.datetime.now(IST).date()
    assert row.time("blank", "%H:%M:%S", None) is None
    with pytest.raises(BrokerResponseError, match="'bad' is not a time like"):
        row.time("bad", "%d-%b-%Y %H:%M:%S")
    with pytest.raises(BrokerResponseError, match="'absent' is missing"):
        row.time("absent", "%H:%M:%S")


def test_an_informative_time_stamp_never_makes_a_row_unreadable() -> None:
    row = Row({"epoch": "1675257585", "entered": "11:15:05 26-07-2023", "odd": "soon",
               "number": 1675257585, "huge": "99999999999"}, what="order row", broker="b")
    at = dt.datetime(2023, 2, 1, 18, 49, 45, tzinfo=IST)
    assert row.stamp("epoch", EPOCH) == at and row.stamp("number", EPOCH) == at
    assert row.stamp("entered", EPOCH, "%H:%M:%S %d-%m-%Y") == dt.datetime(
        2023, 7, 26, 11, 15, 5, tzinfo=IST)
    assert row.stamp("odd", EPOCH, "%H:%M:%S") is None
    assert row.stamp("huge", EPOCH) is None and row.stamp("absent", "%H:%M:%S") is None
