"""allmaster.zip: the parser (every row kind, bad rows, bad files) and the simulator's writer
(round trip through the parser, full size, pyintegrate's own reader)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from openalgo_definedge import instruments
from openalgo_definedge.instruments import parse_allmaster
from openalgo_definedge.sim_master import (
    EXCHANGES,
    FULL_MASTER_ROWS,
    allmaster_row,
    cached_allmaster,
    render_allmaster,
)

from openalgo_core import BrokerResponseError, InstrumentIndex
from openalgo_core.testing import Listing, universe

#: The row OpenAlgo's Definedge code quotes from the real file (notes 2.6).
NOTES_ROW = ("NFO,144537,ZYDUSLIFE,ZYDUSLIFE30SEP25P1360,OPTSTK,30092025,5,900,PE,136000,2,1,,"
             "1.000000,")
SBIN = "NSE,3045,SBIN,SBIN-EQ,EQ,,5,1,,0,2,1,INE062A01020,1.000000,STATE BANK OF INDIA"


def line(segment: str = "NSE", token: str = "3045", name: str = "SBIN",
         symbol: str = "SBIN-EQ", itype: str = "EQ", expiry: str = "", tick: str = "5",
         lot: str = "1", option: str = "", strike: str = "0", precision: str = "2",
         multiplier: str = "1", isin: str = "", company: str = "") -> str:
    """One allmaster.csv line, column by column."""
    return ",".join((segment, token, name, symbol, itype, expiry, tick, lot, option, strike,
                     precision, multiplier, isin, "1.000000", company))


def zipped(*lines: str, member: str = "allmaster.csv", newline: str = "\n") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, newline.join(lines) + newline)
    return out.getvalue()


def parse(*lines: str) -> InstrumentIndex:
    return InstrumentIndex.from_instruments("definedge", parse_allmaster(zipped(*lines)))


def test_the_notes_example_row() -> None:
    (pe,) = parse(NOTES_ROW)
    assert pe.symbol == "ZYDUSLIFE30SEP251360PE" and pe.exchange == "NFO"
    assert (pe.broker_symbol, pe.broker_exchange, pe.token, pe.name) == (
        "ZYDUSLIFE30SEP25P1360", "NFO", "144537", "ZYDUSLIFE")
    assert (pe.instrument_type, pe.option_type, pe.strike, pe.expiry) == (
        "PE", "PE", Decimal(1360), dt.date(2025, 9, 30))
    assert (pe.lot_size, pe.tick_size) == (900, Decimal("0.05"))


def test_lot_is_column_7_and_tick_column_6_never_swapped() -> None:
    """OpenAlgo #1450 read them the other way round: lot 5 and tick 9.00 here."""
    (fut,) = parse(line("NFO", "35001", "NIFTY", "NIFTY30OCT25F", "FUTIDX", "30102025",
                        tick="5", lot="75"))
    assert (fut.lot_size, fut.tick_size) == (75, Decimal("0.05"))
    (eq,) = parse(line(tick="10", lot="20"))
    assert (eq.lot_size, eq.tick_size) == (20, Decimal("0.1"))


def test_equities_lose_their_nse_series_and_keep_the_broker_symbol() -> None:
    index = parse(SBIN, line("BSE", "500112", "SBIN", "SBIN"),
                  line("NSE", "12018", "SUZLON", "SUZLON-BE", "BE", tick="1"),
                  line("NSE", "7", "BAJAJ-AUTO", "BAJAJ-AUTO-EQ"))
    sbin = index.resolve("SBIN", "NSE")
    assert (sbin.broker_symbol, sbin.broker_exchange, sbin.token, sbin.instrument_type) == (
        "SBIN-EQ", "NSE", "3045", "EQ")
    assert (sbin.lot_size, sbin.tick_size, sbin.expiry, sbin.strike) == (
        1, Decimal("0.05"), None, None)
    bse = index.resolve("SBIN", "BSE")
    assert (bse.broker_symbol, bse.broker_exchange, bse.token) == ("SBIN", "BSE", "500112")
    suzlon = index.resolve("SUZLON", "NSE")
    assert (suzlon.broker_symbol, suzlon.tick_size) == ("SUZLON-BE", Decimal("0.01"))
    assert index.resolve("BAJAJ-AUTO", "NSE").broker_symbol == "BAJAJ-AUTO-EQ"


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_the_eq_series_wins_over_be_whatever_the_file_order(order: tuple[int, int]) -> None:
    rows = [line("NSE", "900", "ABC", "ABC-BE", "BE"), line("NSE", "901", "ABC", "ABC-EQ")]
    index = parse(*(rows[i] for i in order))
    assert index.resolve("ABC", "NSE").broker_symbol == "ABC-EQ"
    assert index.by_token("900", "NSE") is not None  # the BE row is still mapped back


def test_bse_rows_of_any_group_are_cash_listings() -> None:
    """⚠ A Noren BSE master may write the BSE group (A, B, T...) as the instrument type."""
    index = parse(line("BSE", "500325", "RELIANCE", "RELIANCE", "A"),
                  line("BSE", "532174", "ICICIBANK", "ICICIBANK", "BE"))
    assert index.resolve("RELIANCE", "BSE").instrument_type == "EQ"
    assert index.resolve("ICICIBANK", "BSE").token == "532174"


@pytest.mark.parametrize(("segment", "name", "ours", "exchange"), [
    ("NSE", "Nifty 50", "NIFTY", "NSE_INDEX"),
    ("NSE", "Nifty Bank", "BANKNIFTY", "NSE_INDEX"),
    ("NSE", "Nifty Fin Service", "FINNIFTY", "NSE_INDEX"),
    ("NSE", "NIFTY MID SELECT", "MIDCPNIFTY", "NSE_INDEX"),
    ("NSE", "Nifty Next 50", "NIFTYNXT50", "NSE_INDEX"),
    ("NSE", "India VIX", "INDIAVIX", "NSE_INDEX"),
    ("NSE", "NIFTY SMALLCAP 100", "NIFTYSMLCAP100", "NSE_INDEX"),  # Definedge-only alias
    ("NSE", "Nifty IT", "NIFTYIT", "NSE_INDEX"),
    ("BSE", "SENSEX", "SENSEX", "BSE_INDEX"),
    ("BSE", "SNSX50", "SENSEX50", "BSE_INDEX"),
    ("BSE", "BANKEX", "BANKEX", "BSE_INDEX"),
    ("BSE", "MID150", "BSE150MIDCAPINDEX", "BSE_INDEX"),  # Definedge-only alias
])
def test_index_rows_get_openalgo_aliases(segment: str, name: str, ours: str,
                                         exchange: str) -> None:
    (index,) = parse(line(segment, "26000", name, name, "IDX"))
    assert (index.symbol, index.exchange, index.broker_symbol, index.broker_exchange) == (
        ours, exchange, name, segment)
    assert (index.instrument_type, index.token, index.lot_size) == ("INDEX", "26000", 1)


def test_index_type_may_be_spelt_index_and_mcx_indices_are_not_offered() -> None:
    index = parse(line("NSE", "26009", "Nifty Bank", "Nifty Bank", "INDEX"),
                  line("MCX", "1", "MCXCOMDEX", "MCXCOMDEX", "IDX"))
    assert [(i.symbol, i.exchange) for i in index] == [("BANKNIFTY", "NSE_INDEX")]


def test_futures_and_options_on_nfo_and_bfo() -> None:
    index = parse(
        line("NFO", "35001", "NIFTY", "NIFTY23FEB23F", "FUTIDX", "23022023", lot="50"),
        line("NFO", "43001", "NIFTY", "NIFTY28OCT25C25000", "OPTIDX", "28102025", lot="75",
             option="CE", strike="2500000"),
        line("NFO", "50001", "SBIN", "SBIN27NOV25F", "FUTSTK", "27112025", lot="750"),
        line("BFO", "1101", "SENSEX", "SENSEX20DEC24F", "FUTIDX", "20122024", lot="10"),
        line("BFO", "1102", "SENSEX", "SENSEX20DEC24C80000", "OPTIDX", "20122024", lot="20",
             option="CE", strike="8000000"))
    fut = index.resolve("NIFTY23FEB23FUT", "NFO")
    assert (fut.broker_symbol, fut.instrument_type, fut.expiry, fut.strike, fut.lot_size) == (
        "NIFTY23FEB23F", "FUT", dt.date(2023, 2, 23), None, 50)
    ce = index.resolve("NIFTY28OCT2525000CE", "NFO")
    assert (ce.broker_symbol, ce.strike, ce.option_type, ce.token) == (
        "NIFTY28OCT25C25000", Decimal(25000), "CE", "43001")
    assert index.resolve("SBIN27NOV25FUT", "NFO").lot_size == 750
    assert index.resolve("SENSEX20DEC24FUT", "BFO").broker_exchange == "BFO"
    sensex = index.resolve("SENSEX20DEC2480000CE", "BFO")
    assert (sensex.strike, sensex.lot_size, sensex.broker_symbol) == (
        Decimal(80000), 20, "SENSEX20DEC24C80000")


def test_decimal_strikes_keep_their_point() -> None:
    """OpenAlgo's Definedge code drops it (``VEDL25APR242925CE``); OpenAlgo's spec keeps it."""
    (vedl,) = parse(line("NFO", "88123", "VEDL", "VEDL25APR24C292.5", "OPTSTK", "25042024",
                         lot="1150", option="CE", strike="29250"))
    assert vedl.symbol == "VEDL25APR24292.5CE"
    assert vedl.strike == Decimal("292.5") and str(vedl.strike) == "292.5"


def test_mcx_commodity_futures_and_options() -> None:
    index = parse(
        line("MCX", "2201", "CRUDEOIL", "CRUDEOIL19DEC24F", "FUTCOM", "19122024", tick="100",
             lot="100"),
        line("MCX", "2202", "CRUDEOIL", "CRUDEOIL17APR24P6750", "OPTFUT", "17042024",
             tick="10", lot="100", option="PE", strike="675000"))
    crude = index.resolve("CRUDEOIL19DEC24FUT", "MCX")
    assert (crude.token, crude.tick_size, crude.lot_size) == ("2201", Decimal(1), 100)
    put = index.resolve("CRUDEOIL17APR246750PE", "MCX")
    assert (put.strike, put.tick_size, put.option_type) == (Decimal(6750), Decimal("0.1"), "PE")


@pytest.mark.parametrize(("multiplier", "strike"), [("1000", "835000000"), ("1", "835000")])
def test_currency_rows_use_their_own_precision_and_multiplier(multiplier: str,
                                                              strike: str) -> None:
    """CDS prices have 4 decimals: ``25`` is 0.0025 and the strike is scaled by
    multiplier x 10^4 (dividing by 100, as OpenAlgo does, gives 0.25 and 8350)."""
    index = parse(
        line("CDS", "3301", "USDINR", "USDINR26DEC24C83.5", "OPTCUR", "26122024", tick="25",
             lot="1000", option="CE", strike=strike, precision="4", multiplier=multiplier),
        line("CDS", "3302", "USDINR", "USDINR26DEC24F", "FUTCUR", "26122024", tick="25",
             lot="1000", precision="4", multiplier=multiplier))
    usd = index.resolve("USDINR26DEC2483.5CE", "CDS")
    assert (usd.strike, usd.tick_size, usd.lot_size, usd.option_type) == (
        Decimal("83.5"), Decimal("0.0025"), 1000, "CE")
    assert usd.broker_symbol == "USDINR26DEC24C83.5"
    fut = index.resolve("USDINR26DEC24FUT", "CDS")
    assert (fut.token, fut.tick_size) == ("3302", Decimal("0.0025"))


def test_quoted_fields_and_windows_line_endings() -> None:
    rows = [line(company='"STATE BANK OF INDIA, LTD"'),
            line("NFO", "35001", "NIFTY", "NIFTY23FEB23F", "FUTIDX", "23022023", lot="50")]
    index = InstrumentIndex.from_instruments(
        "definedge", parse_allmaster(zipped(*rows, newline="\r\n")))
    assert index.resolve("SBIN", "NSE").tick_size == Decimal("0.05")
    assert index.resolve("NIFTY23FEB23FUT", "NFO").lot_size == 50


def test_rows_not_offered_are_dropped_without_being_counted(
        caplog: pytest.LogCaptureFixture) -> None:
    index = parse(SBIN,
                  line("NSE", "35001", "NIFTY", "NIFTY23FEB23F", "FUTIDX", "23022023"),
                  line("NSE", "5", "GOLDBOND", "SGBAUG28-GB", "GB"),
                  line("NCO", "1", "X", "X23FEB23F", "FUTCOM", "23022023"),
                  line("NFO", "2", "X", "X23FEB23F", "FUTBLN", "23022023"),
                  line("NFO", "3", "X", "X-EQ", "EQ"))
    assert [i.symbol for i in index] == ["SBIN"]
    assert "skipped" not in caplog.text


_OPTION = dict(segment="NFO", token="9", name="X", symbol="X25APR24C100", itype="OPTSTK",
               expiry="25042024", option="CE", strike="10000")


@pytest.mark.parametrize("bad", [
    "NSE,1,X,X-EQ,EQ,,5,1,,0,2",  # a short row: no multiplier column
    "NSE",
    line(tick="NaN"),
    line(tick="n/a"),
    line(tick="0"),
    line(tick="-5"),
    line(tick=""),
    line(lot="one"),
    line(lot="0"),
    line(lot="1e200000"),
    line(lot="2.5"),
    line(precision="9"),  # out of range
    line(precision="-1"),
    line(precision="two"),
    line(precision="NaN"),
    line(token=""),
    line(symbol=""),
    line(**{**_OPTION, "multiplier": "0"}),
    line(**{**_OPTION, "multiplier": "-1"}),
    line(**{**_OPTION, "multiplier": "NaN"}),
    line(**{**_OPTION, "multiplier": "3"}),  # 100/3 is no strike: the scaling is wrong
    line(**{**_OPTION, "option": "XX"}),
    line(**{**_OPTION, "option": ""}),
    line(**{**_OPTION, "strike": "0"}),
    line(**{**_OPTION, "strike": "abc"}),
    line(**{**_OPTION, "expiry": "2024-04-25"}),
    line(**{**_OPTION, "expiry": "31022024"}),
    line(**{**_OPTION, "expiry": "2504202"}),
    line(**{**_OPTION, "expiry": ""}),
    line(**{**_OPTION, "name": ""}),
    line(itype="IDX", symbol="Nifty 50", tick="NaN"),
    line(itype="IDX", symbol="-"),  # no index name left
    line(name="x" * 200_000),  # over the csv module's field limit
])
def test_a_bad_row_is_skipped_and_counted(bad: str, caplog: pytest.LogCaptureFixture) -> None:
    index = parse(bad, SBIN)
    assert [(i.symbol, i.token) for i in index] == [("SBIN", "3045")]
    assert "definedge master contract: 1 rows skipped" in caplog.text


def test_skipped_rows_are_counted_by_reason(caplog: pytest.LogCaptureFixture) -> None:
    parse(line(tick="NaN"), "NSE,1", line(**{**_OPTION, "multiplier": "0"}), SBIN, "",
          line(name="x" * 200_000),
          line("NCO", "1", "X", "X23FEB23F", "FUTCOM", "23022023"))  # not offered: not counted
    assert "definedge master contract: 4 rows skipped" in caplog.text
    assert "3 ValueError" in caplog.text and "1 csv.Error" in caplog.text


def test_a_bad_row_before_a_huge_field_does_not_stop_the_rows_after_it() -> None:
    index = parse(line(name="x" * 200_000), line(tick="NaN"),
                  line("NSE", "2885", "RELIANCE", "RELIANCE-EQ"), SBIN)
    assert sorted(i.symbol for i in index) == ["RELIANCE", "SBIN"]


def test_bytes_that_are_not_utf8_are_replaced_and_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("allmaster.csv", SBIN.encode() + b"\xe9\n")
    (sbin,) = parse_allmaster(out.getvalue())
    assert sbin.symbol == "SBIN"
    assert "not UTF-8" in caplog.text


def _zip_bytes(**members: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


@pytest.mark.parametrize("content", [
    b"", b"<html>busy</html>", SBIN.encode(), b"PK\x03\x04" + b"\0" * 100,
    zipped(SBIN)[:-30],  # truncated download
    _zip_bytes(**{"master.csv": SBIN.encode()}),  # not the member pyintegrate extracts
    zipped("NSE,1,X", line(tick="NaN")),  # no usable row
    zipped(""),
])
def test_a_file_that_is_not_a_usable_allmaster_zip_is_a_broker_response_error(
        content: bytes) -> None:
    with pytest.raises(BrokerResponseError):
        parse_allmaster(content)


def test_a_member_declaring_an_absurd_size_is_refused_unread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(instruments, "MAX_MEMBER_BYTES", 100)
    with pytest.raises(BrokerResponseError, match="declares"):
        parse_allmaster(zipped(SBIN, SBIN))


# -- the simulator's writer --------------------------------------------------------------

def definedge_universe() -> list[Listing]:
    return [row for row in universe() if row.exchange in EXCHANGES]


def test_the_writer_round_trips_every_listing_through_the_parser() -> None:
    listings = definedge_universe()
    assert {row.exchange for row in listings} == EXCHANGES
    index = InstrumentIndex.from_instruments(
        "definedge", parse_allmaster(render_allmaster(listings)))
    assert len(index) == len(listings)
    for listing in listings:
        found = index.resolve(listing.symbol, listing.exchange)
        assert (found.token, found.lot_size, found.tick_size, found.expiry, found.strike) == (
            listing.token, listing.lot_size, listing.tick_size, listing.expiry,
            listing.strike), listing.symbol
        assert found.instrument_type == listing.kind
        assert found.option_type == (listing.kind if listing.strike is not None else None)


def test_the_writer_spells_trading_symbols_as_noren_does() -> None:
    rows = {(row.exchange, row.symbol): allmaster_row(row).split(",")
            for row in definedge_universe()}
    assert rows["NSE", "SBIN"][3] == "SBIN-EQ" and rows["BSE", "SBIN"][3] == "SBIN"
    assert rows["NSE", "SUZLON"][3:5] == ["SUZLON-BE", "BE"]
    assert rows["NSE_INDEX", "NIFTY"][:5] == ["NSE", "99926000", "Nifty 50", "Nifty 50", "IDX"]
    vedl = next(row for key, row in rows.items() if key[1].endswith("292.5CE"))
    assert vedl[3].startswith("VEDL") and "C292.5" in vedl[3]
    assert (vedl[6], vedl[9], vedl[10], vedl[11]) == ("5", "29250", "2", "1")
    usd = next(row for key, row in rows.items() if key[1].endswith("83.5PE"))
    assert (usd[0], usd[6], usd[9], usd[10], usd[11]) == ("CDS", "25", "835000000", "4", "1000")
    fut = next(row for key, row in rows.items() if key[0] == "MCX" and key[1].endswith("FUT"))
    assert fut[3].endswith("F") and fut[4] == "FUTCOM" and fut[6] == "100"
    assert all(len(row) == 15 for row in rows.values())


def test_a_listing_the_format_cannot_hold_is_refused() -> None:
    odd = Listing("ODD", "NSE", "ODD", "EQ", "1", 1, Decimal("0.001"), Decimal(10))
    with pytest.raises(ValueError, match="whole number"):
        allmaster_row(odd)


def test_the_full_size_file_parses_every_row_and_is_rendered_once() -> None:
    data = cached_allmaster(FULL_MASTER_ROWS)
    assert cached_allmaster(FULL_MASTER_ROWS) is data
    rows = parse_allmaster(data)
    assert len(rows) == FULL_MASTER_ROWS
    assert len({(r.symbol, r.exchange) for r in rows}) == FULL_MASTER_ROWS


def _sdk_symbols(content: bytes, monkeypatch: pytest.MonkeyPatch,
                 tmp_path: Path) -> tuple[Any, list[str]]:
    """pyintegrate's own ``symbols`` reader over ``content``: the download is answered
    with it and the CSV is extracted under tmp_path (not into the installed package)."""
    from integrate import connect

    urls: list[str] = []

    def download(**kwargs: Any) -> SimpleNamespace:
        urls.append(kwargs["url"])
        return SimpleNamespace(content=content)

    monkeypatch.setattr(connect, "dirname", lambda _: str(tmp_path))
    sdk = connect.ConnectToIntegrate()
    monkeypatch.setattr(sdk._req_sess, "request", download)
    return sdk.symbols, urls


def test_pyintegrate_reads_every_row_the_writer_produces(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """login() reads the first row: >= 14 columns, integers in columns 9-11, multiplier
    not zero. Every row is held to it, through the SDK's own reader."""
    listings = definedge_universe()
    symbols, urls = _sdk_symbols(render_allmaster(listings), monkeypatch, tmp_path)
    read = list(symbols)
    assert urls == ["https://app.definedgesecurities.com/public/allmaster.zip"]
    assert len(read) == len(listings)
    for listing, row in zip(listings, read, strict=True):
        assert (row["token"], row["lot_size"]) == (listing.token, str(listing.lot_size))
        if listing.strike is not None:
            assert row["strike"] == str(int(listing.strike))  # the SDK truncates


def test_pyintegrate_reads_the_first_row_of_the_full_size_file(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    symbols, _ = _sdk_symbols(cached_allmaster(FULL_MASTER_ROWS), monkeypatch, tmp_path)
    first = next(symbols)
    symbols.close()
    assert first["segment"] in {"NSE", "BSE", "NFO", "BFO", "CDS", "MCX"}
