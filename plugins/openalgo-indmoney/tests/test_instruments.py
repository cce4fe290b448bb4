"""The instrument files: every listing round-trips, NaN rows are skipped and counted (never
fatal, never silent), the docs' index file reads, a JSON-wrapped file is unwrapped."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from decimal import Decimal

import pytest
from docs_examples import INDEX_FILE
from openalgo_indmoney import mapping
from openalgo_indmoney.instruments import csv_text, parse_instruments, underlying
from openalgo_indmoney.sim_master import HEADER, NAN_ROWS, render_files, trading_symbol

from openalgo_core import BrokerResponseError
from openalgo_core.instruments import InstrumentIndex
from openalgo_core.testing import universe

EMPTY_CONTRACTS = HEADER + "\n"


def files(equity: str = EMPTY_CONTRACTS, fno: str = EMPTY_CONTRACTS,
          index: str = "EXCH,SEGMENT,SECURITY_ID\n") -> dict[str, bytes | str]:
    return {"equity": equity, "fno": fno, "index": index}


def contracts(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


@pytest.fixture
def tick_default() -> Iterator[None]:
    yield
    mapping.DEFAULT_TICK = None


def test_every_listing_of_the_universe_round_trips() -> None:
    listings = [row for row in universe() if row.exchange not in ("MCX", "CDS")]
    index = InstrumentIndex.from_instruments("indmoney", parse_instruments(
        render_files(listings, nan_rows=False)))
    for listing in listings:
        inst = index.resolve(listing.symbol, listing.exchange)
        assert (inst.token, inst.lot_size, inst.tick_size, inst.expiry, inst.strike) == (
            listing.token, listing.lot_size, listing.tick_size, listing.expiry,
            listing.strike), listing.symbol
        assert inst.broker_symbol == trading_symbol(listing)
    nifty = index.resolve("NIFTY", "NSE_INDEX")
    assert (nifty.broker_symbol, nifty.broker_exchange) == ("NIFTY 50", "NIDX")
    option = next(i for i in index if i.exchange == "NFO" and i.option_type == "CE")
    assert option.broker_exchange == "NFO" and option.broker_symbol.endswith("-CE")
    assert index.by_token(option.token, "NFO") == option


def test_nan_cells_skip_their_row_and_are_counted_once(
        caplog: pytest.LogCaptureFixture) -> None:
    """The rows that crashed OpenAlgo's parser while it reported success (#1486): each is
    skipped, the rest are read, and one warning says how many."""
    listings = [row for row in universe() if row.exchange == "NSE"]
    clean = parse_instruments(render_files(listings, nan_rows=False))
    with caplog.at_level(logging.WARNING, logger="openalgo.instruments"):
        dirty = parse_instruments(render_files(listings))
    assert dirty == clean
    bad = sum(len(rows) for rows in NAN_ROWS.values())
    (record,) = caplog.records
    assert f"{bad} rows skipped as unreadable" in record.getMessage()


@pytest.mark.parametrize("row", [
    "NSE,E,1,,0,X,1,X,,,,0.05,,EQUITY,EQ,X",          # no instrument type
    "NSE,E,1,nan,0,X,1,X,,,,0.05,,EQUITY,EQ,X",       # NaN instrument type
    ",E,1,EQUITY,0,X,1,X,,,,0.05,,EQUITY,EQ,X",       # no exchange
    "NSE,E,,EQUITY,0,X,1,X,,,,0.05,,EQUITY,EQ,X",     # no security id
    "NSE,E,1,EQUITY,0,,1,X,,,,0.05,,EQUITY,EQ,X",     # no trading symbol
    "NSE,E,1,EQUITY,0,X,NaN,X,,,,0.05,,EQUITY,EQ,X",  # NaN lot
    "NSE,E,1,EQUITY,0,X,1,X,,,,,,EQUITY,EQ,X",        # no tick
    "NSE,E,1,EQUITY,0,X,1,X,,,,0,,EQUITY,EQ,X",       # zero tick
    "NSE,D,2,OPTIDX,1,NIFTY-Aug2026-100-XE,75,N,2026-08-27,100,XE,0.05,M,OPTIDX,,N",
    "NSE,D,2,OPTIDX,1,NIFTY-Aug2026-100-CE,75,N,,100,CE,0.05,M,OPTIDX,,N",  # no expiry
    "NSE,D,2,OPTIDX,1,NIFTY-Aug2026-100-CE,75,N,27/08/2026,100,CE,0.05,M,OPTIDX,,N",
    "NSE,D,2,OPTIDX,1,NIFTY-Aug2026-100-CE,75,N,2026-08-27,nan,CE,0.05,M,OPTIDX,,N",
    "NSE,D,2,FUTIDX,1,NIFTYAUGFUT,75,N,2026-08-27,-1,,0.05,M,FUTIDX,,N",  # no month part
    "NSE,E,1",                                        # a short row
])
def test_an_unreadable_row_is_skipped_and_counted(row: str,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    good = "NSE,E,3045,EQUITY,0,SBIN,1,SBIN,,,,0.05,,EQUITY,EQ,SBIN"
    with caplog.at_level(logging.WARNING, logger="openalgo.instruments"):
        rows = parse_instruments(files(equity=contracts(good, row) if ",E," in row
                                       or row.startswith(",") else contracts(good),
                                       fno=contracts(row) if ",D," in row else EMPTY_CONTRACTS))
    assert [r.symbol for r in rows] == ["SBIN"]
    (record,) = caplog.records  # counted, not dropped in silence
    assert "1 rows skipped as unreadable" in record.getMessage()


def test_a_blank_tick_may_take_a_configured_default(tick_default: None) -> None:
    row = "NSE,E,1,EQUITY,0,X,1,X,,,,,,EQUITY,EQ,X"
    with pytest.raises(BrokerResponseError, match="no usable rows"):
        parse_instruments(files(equity=contracts(row)))
    mapping.DEFAULT_TICK = Decimal("0.05")
    (inst,) = parse_instruments(files(equity=contracts(row)))
    assert inst.tick_size == Decimal("0.05")


def test_segments_and_types_this_plugin_does_not_offer_are_dropped_not_counted(
        caplog: pytest.LogCaptureFixture) -> None:
    rows = contracts("NSE,E,3045,EQUITY,0,SBIN,1,SBIN,,,,0.05,,EQUITY,EQ,SBIN",
                     "NSE,C,9,FUTCUR,1,USDINR-Aug2026-FUT,1000,U,2026-08-27,-1,,0.0025,M,,,U",
                     "MCX,M,8,FUTCOM,1,GOLD-Aug2026-FUT,1,G,2026-08-27,-1,,1,M,,,G",
                     "NSE,E,7,BOND,0,GSEC,1,GSEC,,,,0.01,,BOND,GS,GSEC")
    with caplog.at_level(logging.WARNING, logger="openalgo.instruments"):
        assert [r.symbol for r in parse_instruments(files(equity=rows))] == ["SBIN"]
    assert caplog.records == []


def test_the_docs_index_file_reads_by_position() -> None:
    """The column labelled SEGMENT holds the index name; names keep OpenAlgo's aliases."""
    rows = {(r.symbol, r.exchange): r for r in parse_instruments(files(index=INDEX_FILE))}
    assert set(rows) == {("NIFTY", "NSE_INDEX"), ("NIFTYIT", "NSE_INDEX"),
                         ("BSEFOCUSEDIT", "BSE_INDEX")}
    assert (rows["NIFTY", "NSE_INDEX"].token, rows["NIFTY", "NSE_INDEX"].broker_symbol) == (
        "40000001", "NIFTY 50")


def test_derivative_symbols_are_rebuilt_from_the_trading_symbol() -> None:
    fno = contracts(
        "NSE,D,11,OPTIDX,1,NIFTY-Aug2026-24450-CE,75,NIFTY,2026-08-18,24450.00,CE,0.05,W,"
        "OPTIDX,,NIFTY-Aug2026-24450-CE",
        "NSE,FNO,12,FUTSTK,1,BAJAJ-AUTO-Aug2026-FUT,75,BAJAJ,2026-08-25,-1,,0.1,M,FUTSTK,,B",
        "BSE,D,13,OPTSTK,1,VEDL-Apr2024-292.5-PE,1150,V,2024-04-25 14:30:00,292.5,PE,0.05,M,"
        "OPTSTK,,V")
    rows = {r.token: r for r in parse_instruments(files(fno=fno))}
    assert (rows["11"].symbol, rows["11"].expiry) == ("NIFTY18AUG2624450CE", dt.date(2026, 8, 18))
    assert (rows["12"].symbol, rows["12"].exchange, rows["12"].name) == (
        "BAJAJ-AUTO25AUG26FUT", "NFO", "BAJAJ-AUTO")
    assert (rows["13"].symbol, rows["13"].exchange, rows["13"].broker_exchange) == (
        "VEDL25APR24292.5PE", "BFO", "BFO")


@pytest.mark.parametrize(("text", "expected"), [
    ("NIFTY-Aug2026-24450-CE", "NIFTY"), ("NIFTY-Aug2026-FUT", "NIFTY"),
    ("BAJAJ-AUTO-Aug2026-FUT", "BAJAJ-AUTO"), ("M&M-Sep2026-3000-PE", "M&M")])
def test_underlying(text: str, expected: str) -> None:
    assert underlying(text) == expected


def test_the_cash_row_of_the_preferred_series_wins() -> None:
    equity = contracts("NSE,E,9,EQUITY,0,SBIN,1,SBIN,,,,0.05,,EQUITY,BE,SBIN",
                       "NSE,E,3045,EQUITY,0,SBIN,1,SBIN,,,,0.05,,EQUITY,EQ,SBIN")
    index = InstrumentIndex.from_instruments("indmoney", parse_instruments(files(equity)))
    assert index.resolve("SBIN", "NSE").token == "3045"


def test_a_json_wrapped_file_is_unwrapped_and_an_error_reply_is_typed() -> None:
    """⚠ One third-party client reads the CSV from a JSON ``data`` field: both shapes read."""
    equity = contracts("NSE,E,3045,EQUITY,0,SBIN,1,SBIN,,,,0.05,,EQUITY,EQ,SBIN")
    wrapped = json.dumps({"status": "success", "data": equity}).encode()
    assert csv_text(wrapped, "equity") == equity
    assert [r.symbol for r in parse_instruments(files(equity=wrapped))] == ["SBIN"]
    with pytest.raises(BrokerResponseError, match=r"without the file \(token expired"):
        csv_text(json.dumps({"message": "token expired", "success": False}), "fno")
    with pytest.raises(BrokerResponseError, match="neither CSV nor JSON"):
        csv_text(b"{not json", "fno")
    with pytest.raises(BrokerResponseError, match="not UTF-8"):
        csv_text(b"\xff\xfe", "fno")


def test_a_file_without_its_columns_is_refused_whole() -> None:
    with pytest.raises(BrokerResponseError, match=r"lacks the columns .*TICK_SIZE"):
        parse_instruments(files(equity="EXCH,SEGMENT,SECURITY_ID,INSTRUMENT_NAME\n"))
    with pytest.raises(BrokerResponseError, match="no header"):
        parse_instruments(files(fno=""))
    with pytest.raises(BrokerResponseError, match="no usable rows"):
        parse_instruments(files())
