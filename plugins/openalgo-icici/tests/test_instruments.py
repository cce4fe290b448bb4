"""``SecurityMaster.zip``: the simulator's full-size file parsed back, ICICI's header
spellings, bad rows skipped and counted, a bad file refused with one typed error."""

from __future__ import annotations

import io
import logging
import zipfile
from decimal import Decimal

import pytest
from openalgo_icici.instruments import contract_key, expiry_date, parse_security_master
from openalgo_icici.sim_master import (
    CASH_HEADER,
    EXCHANGES,
    FNO_HEADER,
    FULL_MASTER_ROWS,
    cached_master,
)

from openalgo_core import BrokerResponseError
from openalgo_core.testing import big_universe


def _zip(members: dict[str, str]) -> bytes:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return data.getvalue()


def _members(nse: str = "", bse: str = "", fno: str = "") -> dict[str, str]:
    return {"NSEScripMaster.txt": CASH_HEADER + "\n" + nse,
            "BSEScripMaster.txt": CASH_HEADER + "\n" + bse,
            "FONSEScripMaster.txt": FNO_HEADER + "\n" + fno}


def test_the_full_size_master_round_trips() -> None:
    listings = {(r.symbol, r.exchange): r for r in big_universe(FULL_MASTER_ROWS)
                if r.exchange in EXCHANGES}
    instruments = parse_security_master(cached_master(FULL_MASTER_ROWS))
    assert len(instruments) == len(listings) > 100_000
    for inst in instruments[::997]:
        r = listings[(inst.symbol, inst.exchange)]
        assert (inst.token, inst.lot_size, inst.tick_size, inst.expiry, inst.strike) == (
            r.token, r.lot_size, r.tick_size, r.expiry, r.strike)


def test_icicis_rows_as_the_notes_quote_them() -> None:
    """The third party's FONSE row (tick 5 paise, lot 30, NIFTY BANK), a RELIND cash row,
    an index row (Series 0)."""
    fno = ('"35000","OPTIDX","CNXBAN","OPTION","29-Sep-2026","72600","CE",' + '"",' * 19
           + '"1","30","5","NIFTY BANK","NIFTY BANK"')
    assert len(fno.split(",")) == len(FNO_HEADER.split(",")) == 31
    nse = ('"2885","RELIND","EQ","RELIANCE INDUSTRIES","1","5","INE002A01018","RELIANCE"\n'
           '"99926009","CNXBAN","0","NIFTY BANK","1","5","","NIFTY BANK"')
    found = {(i.symbol, i.exchange): i for i in parse_security_master(
        _zip(_members(nse=nse, fno=fno)))}
    option = found[("BANKNIFTY29SEP2672600CE", "NFO")]
    assert (option.broker_symbol, option.lot_size, option.tick_size, option.strike) == (
        contract_key("CNXBAN", expiry_date("29-Sep-2026"), Decimal(72600), "CE"), 30,
        Decimal("0.05"), Decimal(72600))
    assert found[("RELIANCE", "NSE")].broker_symbol == "RELIND"
    assert found[("BANKNIFTY", "NSE_INDEX")].instrument_type == "INDEX"


def test_header_names_are_read_in_any_case_and_padding() -> None:
    header = 'TOKEN, " shortname ", "SERIES", "companyName", "lotsize", "TICKSIZE", "x", ' \
             '"ExchangeCode"'
    members = _members()
    members["NSEScripMaster.txt"] = header + '\n"3045","STABAN","EQ","SBI","1","5","","SBIN"'
    (sbin,) = [i for i in parse_security_master(_zip(members)) if i.exchange == "NSE"]
    assert (sbin.symbol, sbin.broker_symbol, sbin.token) == ("SBIN", "STABAN", "3045")


def test_bad_rows_are_skipped_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    nse = ('"3045","STABAN","EQ","SBI","1","5","","SBIN"\n'
           '"1","BAD","EQ","BAD","x","5","","BAD"\n'
           '"2","BAD2","EQ","BAD","1","-5","","BAD2"\n"short"')
    with caplog.at_level(logging.WARNING):
        found = parse_security_master(_zip(_members(nse=nse)))
    assert [i.symbol for i in found] == ["SBIN"]
    assert "2 rows skipped" in caplog.text


@pytest.mark.parametrize(("content", "problem"), [
    (b"not a zip", "not a zip"),
    (_zip({"NSEScripMaster.txt": CASH_HEADER}), "not a zip holding"),
    (_zip({**_members(), "NSEScripMaster.txt": "Token, ShortName\n"}), "lacks"),
    (_zip(_members()), "no usable rows")])
def test_a_bad_file_is_one_typed_error(content: bytes, problem: str) -> None:
    with pytest.raises(BrokerResponseError, match=problem):
        parse_security_master(content)


@pytest.mark.parametrize(("text", "day"), [
    ("29-Sep-2026", "2026-09-29"), ("29-SEP-2026", "2026-09-29"),
    ("2026-09-29T06:00:00.000Z", "2026-09-29"), ("2026-09-29", "2026-09-29")])
def test_expiry_spellings(text: str, day: str) -> None:
    assert expiry_date(text).isoformat() == day
