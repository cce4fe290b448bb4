"""getPosition rows -> unified positions (Angel's published samples and odd rows)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from openalgo_angel.broker import AngelBroker

from openalgo_core import BrokerResponseError, Instrument, InstrumentIndex, Position
from openalgo_core.kit import Row

INDEX = InstrumentIndex.from_instruments("angel", [
    Instrument("RELIANCE", "NSE", "RELIANCE-EQ", "NSE", "2885", "RELIANCE"),
    Instrument("BANKNIFTY29MAR2340200CE", "NFO", "BANKNIFTY29MAR2340200CE", "NFO", "52630",
               "BANKNIFTY", "CE", 25),
    Instrument("CRUDEOIL19DEC24FUT", "MCX", "CRUDEOIL24DECFUT", "MCX", "2201", "CRUDEOIL",
               "FUT", 100),
])



def position(raw: Any, instruments: InstrumentIndex) -> Position:
    return AngelBroker().position(Row(raw, what="position row", broker="angel"), instruments)


#: Angel's published sample row (numbers as strings, "- 2235.80" included).
RELIANCE = {
    "exchange": "NSE", "symboltoken": "2885", "producttype": "DELIVERY",
    "tradingsymbol": "RELIANCE-EQ", "symbolname": "RELIANCE", "instrumenttype": "",
    "buyqty": "1", "sellqty": "0", "buyamount": "2235.80", "sellamount": "0",
    "buyavgprice": "2235.80", "sellavgprice": "0", "avgnetprice": "2235.80",
    "netvalue": "- 2235.80", "netqty": "1", "pnl": "12.40", "realised": "0.00",
    "unrealised": "12.40", "ltp": "2248.2", "close": "2230.0"}
CLOSED_OPTION = {
    "exchange": "NFO", "symboltoken": "52630", "producttype": "INTRADAY",
    "tradingsymbol": "BANKNIFTY29MAR2340200CE", "symbolname": "BANKNIFTY",
    "instrumenttype": "OPTIDX", "strikeprice": "40200.0", "optiontype": "CE",
    "expirydate": "29MAR2023", "lotsize": "25", "buyqty": "25", "sellqty": "25",
    "buyavgprice": "7.15", "sellavgprice": "6.60", "avgnetprice": "0.00", "netqty": "0",
    "pnl": "-13.75", "realised": "-13.75", "unrealised": "-0.00", "ltp": "6.9", "close": "9.0"}


def test_published_delivery_row() -> None:
    p = position(RELIANCE, INDEX)
    assert (p.symbol, p.exchange, p.product, p.quantity) == ("RELIANCE", "NSE", "CNC", 1)
    assert (p.average_price, p.ltp, p.pnl) == (
        Decimal("2235.80"), Decimal("2248.2"), Decimal("12.40"))


def test_closed_position_keeps_realised_pnl() -> None:
    p = position(CLOSED_OPTION, INDEX)
    assert (p.symbol, p.product, p.quantity) == ("BANKNIFTY29MAR2340200CE", "MIS", 0)
    assert p.pnl == Decimal("-13.75") and p.average_price == 0


def test_symbol_comes_from_the_master_by_token() -> None:
    p = position({**RELIANCE, "exchange": "MCX", "symboltoken": "2201",
                  "tradingsymbol": "CRUDEOIL24DECFUT", "producttype": "CARRYFORWARD",
                  "netqty": "-100"}, INDEX)
    assert (p.symbol, p.exchange, p.product, p.quantity) == (
        "CRUDEOIL19DEC24FUT", "MCX", "NRML", -100)


def test_unknown_token_falls_back_to_the_trading_symbol() -> None:
    p = position({**RELIANCE, "symboltoken": "999999", "tradingsymbol": "NEWCO-BE",
                  "producttype": "INTRADAY"}, INDEX)
    assert (p.symbol, p.exchange, p.product) == ("NEWCO", "NSE", "MIS")


@pytest.mark.parametrize(("netqty", "side_field"), [("5", "buyavgprice"),
                                                    ("-5", "sellavgprice")])
def test_zero_avgnetprice_on_an_open_position_uses_the_open_side(netqty: str,
                                                                 side_field: str) -> None:
    row = {**RELIANCE, "avgnetprice": "0", "netqty": netqty, "buyavgprice": "100.5",
           "sellavgprice": "101.25"}
    assert position(row, INDEX).average_price == Decimal(row[side_field])


def test_margin_product_is_nrml_and_numbers_may_be_json_numbers() -> None:
    p = position({**RELIANCE, "producttype": "MARGIN", "netqty": 3, "ltp": 2248.2,
                  "symboltoken": 2885}, INDEX)
    assert (p.product, p.quantity, p.ltp, p.symbol) == ("NRML", 3, Decimal("2248.2"),
                                                        "RELIANCE")


def test_missing_pnl_is_realised_plus_unrealised() -> None:
    row = {k: v for k, v in CLOSED_OPTION.items() if k != "pnl"}
    assert position({**row, "unrealised": "1.25"}, INDEX).pnl == Decimal("-12.50")


@pytest.mark.parametrize(("change", "field"), [
    ({"producttype": "ROBO"}, "producttype"), ({"exchange": "NCDEX", "symboltoken": "1"},
                                               "exchange"),
    ({"netqty": "abc"}, "netqty"), ({"netqty": "1.5"}, "netqty"), ({"ltp": None}, "ltp"),
    ({"avgnetprice": ""}, "avgnetprice"), ({"symboltoken": None}, "symboltoken"),
    ({"symboltoken": "999", "tradingsymbol": ["x"]}, "tradingsymbol"),
    ({"pnl": "1e30"}, "pnl"), ({"ltp": "1e5000"}, "ltp"), ({"netqty": "1e200000"}, "netqty"),
    ({"avgnetprice": "NaN"}, "avgnetprice"), ({"pnl": "Infinity"}, "pnl")])
def test_unreadable_rows_are_broker_response_errors_naming_the_field(
        change: dict[str, Any], field: str) -> None:
    with pytest.raises(BrokerResponseError) as info:
        position({**RELIANCE, **change}, INDEX)
    assert repr(field) in info.value.message
