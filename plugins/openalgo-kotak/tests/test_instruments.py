"""The scrip-master parser on its own: file names, headers, kinds of row, bad rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from openalgo_kotak.instruments import parse_scrip_master, segment_of
from openalgo_kotak.sim_master import HEADER, render_files

from openalgo_core import BrokerResponseError
from openalgo_core.testing import universe

NAMES = HEADER.split(",")


def line(**fields: str) -> str:
    """A CSV line with ``fields`` (by their stripped header names) and nothing else."""
    stripped = [n.replace(";", "").strip() for n in NAMES]
    row = [""] * len(NAMES)
    for name, value in fields.items():
        row[stripped.index(name)] = value
    return ",".join(row)


def csv_file(*lines: str) -> bytes:
    return ("\n".join([HEADER, *lines]) + "\n").encode()


@pytest.mark.parametrize(("url", "segment"), [
    ("https://lapi.kotaksecurities.com/x/2026-07-14/transformed-v1/nse_cm-v1.csv", "nse_cm"),
    ("https://lapi.kotaksecurities.com/x/2026-07-14/transformed/nse_fo.csv", "nse_fo"),
    ("https://h/x/transformed/mcx_fo.csv?sig=1", "mcx_fo"),
    ("https://h/x/transformed/nse_com.csv", None), ("https://h/x/transformed/cde_fo.csv", "cde_fo"),
    ("https://h/x/transformed/bcs-fo.csv", None), ("https://h/x/nse_cm.csv.bak", None)])
def test_the_files_read_are_named_by_segment(url: str, segment: str | None) -> None:
    assert segment_of(url) == segment


def test_every_listing_of_the_simulators_files_comes_back() -> None:
    """Currency included: its fractional-paise ticks and 1980-based expiries."""
    listings = universe()
    assert any(row.exchange == "CDS" for row in listings)
    files = render_files(listings)
    found = {(i.symbol, i.exchange): i for i in parse_scrip_master(
        {s: files[s] for s in ("nse_cm", "bse_cm", "nse_fo", "bse_fo", "cde_fo", "mcx_fo")})}
    for listing in listings:
        inst = found[(listing.symbol, listing.exchange)]
        assert (inst.token, inst.lot_size, inst.tick_size, inst.expiry, inst.strike) == (
            listing.token, listing.lot_size, listing.tick_size, listing.expiry,
            listing.strike), listing.symbol


def test_kotaks_own_rows() -> None:
    """The notes' real nse_cm rows (RELIANCE, the NIFTY index with its -1 tick) and an
    nse_fo option counted from 1980: 2080000 paise of strike, tick 5 paise."""
    expiry = dt.datetime(2024, 3, 28, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=5.5)))
    seconds = int((expiry - dt.datetime(1980, 1, 1, tzinfo=expiry.tzinfo)).total_seconds())
    rows = parse_scrip_master({
        "nse_cm": csv_file(
            line(pSymbol="2885", pGroup="EQ", pExchSeg="nse_cm", pSymbolName="RELIANCE",
                 pTrdSymbol="RELIANCE-EQ", pISIN="INE002A01018",
                 pDesc="RELIANCE INDUSTRIES LTD", dTickSize="5", lLotSize="1",
                 lExpiryDate="-1", dStrikePrice="-1"),
            line(pSymbol="26000", pExchSeg="nse_cm", pSymbolName="NIFTY", pTrdSymbol="NIFTY",
                 pDesc="NIFTY", dTickSize="-1", lLotSize="1", lExpiryDate="-1",
                 dStrikePrice="-1"),
            line(pSymbol="9", pGroup="GS", pExchSeg="nse_cm", pSymbolName="GSEC",
                 pTrdSymbol="GSEC-GS", pISIN="IN0020", dTickSize="1", lLotSize="1")),
        "nse_fo": csv_file(line(
            pSymbol="43210", pExchSeg="nse_fo", pSymbolName="NIFTY",
            pTrdSymbol="NIFTY24MAR20800CE", pOptionType="CE", dTickSize="5", lLotSize="50",
            lExpiryDate=str(seconds), dStrikePrice="2080000"))})
    found = {(i.symbol, i.exchange): i for i in rows}
    assert sorted(found) == [("NIFTY", "NSE_INDEX"), ("NIFTY28MAR2420800CE", "NFO"),
                             ("RELIANCE", "NSE")]  # the GS group is not kept (as OpenAlgo)
    reliance = found[("RELIANCE", "NSE")]
    assert (reliance.broker_symbol, reliance.broker_exchange, reliance.tick_size) == (
        "RELIANCE-EQ", "nse_cm", Decimal("0.05"))
    option = found[("NIFTY28MAR2420800CE", "NFO")]
    assert (option.strike, option.expiry, option.broker_symbol, option.lot_size) == (
        Decimal(20800), dt.date(2024, 3, 28), "NIFTY24MAR20800CE", 50)


def test_bad_rows_are_skipped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    good = line(pSymbol="2885", pGroup="EQ", pExchSeg="nse_cm", pSymbolName="RELIANCE",
                pTrdSymbol="RELIANCE-EQ", pISIN="INE002A01018", dTickSize="5", lLotSize="1")
    rows = parse_scrip_master({"nse_cm": csv_file(
        good, good.replace(",5,1,", ",x,1,"), good.replace("RELIANCE-EQ", ""), "1,2,3",
        '"unterminated')})
    assert [r.symbol for r in rows] == ["RELIANCE"]
    assert "rows skipped as unreadable" in caplog.text


def test_a_file_without_its_columns_is_a_typed_error() -> None:
    with pytest.raises(BrokerResponseError, match="dStrikePrice"):
        parse_scrip_master({"nse_fo": HEADER.replace("dStrikePrice;", "x").encode()})
    with pytest.raises(BrokerResponseError, match="columns missing"):
        parse_scrip_master({"nse_cm": b""})
