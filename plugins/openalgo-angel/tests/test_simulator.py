"""The simulator speaks SmartAPI: paths, headers, envelopes, codes, books and scrip master.

What any simulator does (quotes, faults, master sizing, RMS booking, reset) is the
kit's, tested in the core's tests/test_testing_kit.py."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from openalgo_angel.simulator import (
    LOGIN_PATH,
    MANDATORY_HEADERS,
    AngelSimulator,
    big_scrip_master,
)

SECURE = "/rest/secure/angelbroking"
PLACE, BOOK, POSITIONS = (SECURE + "/order/v1/placeOrder", SECURE + "/order/v1/getOrderBook",
                          SECURE + "/order/v1/getPosition")
MODIFY, CANCEL, DETAILS = (SECURE + "/order/v1/modifyOrder", SECURE + "/order/v1/cancelOrder",
                           SECURE + "/order/v1/details/")
TRADES, RMS = SECURE + "/order/v1/getTradeBook", SECURE + "/user/v1/getRMS"
HOLDING, ALL_HOLDING = (SECURE + "/portfolio/v1/getHolding",
                        SECURE + "/portfolio/v1/getAllHolding")
#: order-book fields Angel sends as JSON numbers (its forum sample and live replies)
ORDER_NUMBERS = frozenset({"price", "triggerprice", "squareoff", "stoploss", "trailingstoploss",
                           "strikeprice", "averageprice"})
TOKENS = "/rest/auth/angelbroking/jwt/v1/generateTokens"
MASTER = "/OpenAPI_File/files/OpenAPIScripMaster.json"


class Angel:
    """Speaks SmartAPI by hand, the way Angel's docs describe it."""

    def __init__(self, http: httpx.Client, environ: dict[str, str],
                 totp: Callable[[], str]) -> None:
        self.http, self.environ, self.totp = http, environ, totp
        self.jwt = ""

    def headers(self, **extra: str) -> dict[str, str]:
        sent = {"Content-Type": "application/json", "Accept": "application/json",
                "X-UserType": "USER", "X-SourceID": "WEB", "X-ClientLocalIP": "10.0.0.2",
                "X-ClientPublicIP": "106.193.147.98", "X-MACAddress": "aa:bb:cc:dd:ee:ff",
                "X-PrivateKey": self.environ["OPENALGO_ANGEL_API_KEY"]}
        if self.jwt:
            sent["Authorization"] = f"Bearer {self.jwt}"
        sent.update(extra)
        return sent

    def login(self, **changes: str) -> httpx.Response:
        body = {"clientcode": self.environ["OPENALGO_ANGEL_CLIENT_ID"],
                "password": self.environ["OPENALGO_ANGEL_PIN"], "totp": self.totp(), **changes}
        response = self.http.post(LOGIN_PATH, json=body, headers=self.headers())
        if response.json().get("status") is True:
            self.jwt = response.json()["data"]["jwtToken"]
        return response

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.http.post(path, json=body, headers=self.headers()).json()
        return result

    def get(self, path: str) -> dict[str, Any]:
        result: dict[str, Any] = self.http.get(path, headers=self.headers()).json()
        return result

    def order(self, **changes: Any) -> dict[str, Any]:
        body = {"variety": "NORMAL", "tradingsymbol": "SBIN-EQ", "symboltoken": "3045",
                "transactiontype": "BUY", "exchange": "NSE", "ordertype": "MARKET",
                "producttype": "INTRADAY", "duration": "DAY", "price": "0",
                "triggerprice": "0", "squareoff": "0", "stoploss": "0", "quantity": "1",
                **changes}
        return self.post(PLACE, body)

    def modify(self, order_id: str, **changes: Any) -> dict[str, Any]:
        """modifyOrder restating a NORMAL SBIN-EQ INTRADAY LIMIT order, as the SDK's own
        test does."""
        body = {"variety": "NORMAL", "orderid": order_id, "ordertype": "LIMIT",
                "producttype": "INTRADAY", "duration": "DAY", "price": "1.00",
                "quantity": "1", "tradingsymbol": "SBIN-EQ", "symboltoken": "3045",
                "exchange": "NSE", **changes}
        return self.post(MODIFY, body)


@pytest.fixture
def user(broker_http: httpx.Client, broker_environ: dict[str, str],
         broker_totp: Callable[[], str]) -> Angel:
    """A SmartAPI user on the simulator, not logged in yet."""
    return Angel(broker_http, broker_environ, broker_totp)


@pytest.fixture
def angel(user: Angel) -> Angel:
    """The same user, logged in."""
    assert user.login().json()["status"] is True
    return user


def all_strings(rows: list[dict[str, Any]]) -> bool:
    return all(isinstance(v, str) for r in rows for v in r.values())


def angel_typed(row: dict[str, Any]) -> bool:
    """An order-book row typed as Angel's: prices JSON numbers, everything else text."""
    return all(isinstance(v, float) if k in ORDER_NUMBERS else isinstance(v, str)
               for k, v in row.items())


# -- headers and tokens -----------------------------------------------------------------
@pytest.mark.parametrize("header", MANDATORY_HEADERS)
def test_each_mandatory_header_is_required(angel: Angel, header: str) -> None:
    request = angel.http.build_request("GET", POSITIONS, headers=angel.headers())
    del request.headers[header]  # httpx would otherwise add a default Accept
    response = angel.http.send(request)
    assert response.status_code == 400
    assert response.json()["success"] is False and response.json()["errorCode"]


@pytest.mark.parametrize("key", [b"other", "clé".encode("latin-1")])
def test_wrong_api_key_is_refused(angel: Angel, key: bytes) -> None:
    sent = {k.encode(): v.encode() for k, v in angel.headers().items()}
    response = angel.http.get(POSITIONS, headers={**sent, b"X-PrivateKey": key})
    assert response.status_code == 403
    assert (response.json()["success"], response.json()["errorCode"]) == (False, "AG8004")


@pytest.mark.parametrize(("authorization", "code"), [
    (None, "AG8003"), ("Bearer nonsense", "AG8001"), ("JWT", "AG8001")])
def test_bad_tokens_get_the_gateway_envelope(angel: Angel, authorization: str | None,
                                             code: str) -> None:
    sent = angel.headers()
    if authorization is None:
        del sent["Authorization"]
    else:
        sent["Authorization"] = authorization.replace("JWT", angel.jwt)  # no Bearer prefix
    response = angel.http.get(POSITIONS, headers=sent)
    assert response.status_code == 403
    assert response.json() == {"success": False, "message": response.json()["message"],
                               "errorCode": code, "data": ""}


def test_expired_session_is_ag8001(angel: Angel, broker_sim: AngelSimulator) -> None:
    broker_sim.expire_sessions()
    assert angel.get(POSITIONS)["errorCode"] == "AG8001"


@pytest.mark.parametrize("body", [b"not json", b"[1]", b'"text"', b"[" * 100_000,
                                  b'{"a": ' * 100_000])
def test_a_body_that_is_not_a_json_object_is_refused(angel: Angel, body: bytes) -> None:
    response = angel.http.post(PLACE, content=body, headers=angel.headers())
    assert response.status_code == 400
    assert response.json()["errorcode"] == "AB2000"


# -- login -----------------------------------------------------------------------------
def test_login_answers_three_tokens(user: Angel) -> None:
    body = user.login().json()
    assert (body["status"], body["message"], body["errorcode"]) == (True, "SUCCESS", "")
    assert set(body["data"]) == {"jwtToken", "refreshToken", "feedToken"}


@pytest.mark.parametrize(("change", "code"), [
    ({"totp": "000000"}, "AB1050"), ({"password": "9999"}, "AB1000"),
    ({"clientcode": "X1"}, "AB1000"), ({"totp": 123456}, "AB1050")])
def test_login_refusals_use_the_business_envelope(user: Angel, change: dict[str, Any],
                                                  code: str) -> None:
    user.totp = lambda: "000000"
    response = user.login(**change)
    assert response.status_code == 200
    assert response.json() == {"status": False, "message": response.json()["message"],
                               "errorcode": code, "data": None}


def test_generate_tokens_profile_and_logout(user: Angel,
                                            broker_environ: dict[str, str]) -> None:
    refresh = user.login().json()["data"]["refreshToken"]
    renewed = user.post(TOKENS, {"refreshToken": refresh})
    assert renewed["status"] is True and renewed["data"]["jwtToken"] != user.jwt
    assert user.post(TOKENS, {"refreshToken": "bogus"})["errorcode"] == "AB8050"
    client = broker_environ["OPENALGO_ANGEL_CLIENT_ID"]
    assert user.get(SECURE + "/user/v1/getProfile")["data"]["clientcode"] == client
    assert user.post(SECURE + "/user/v1/logout", {"clientcode": client})["status"] is True
    assert user.get(POSITIONS)["errorCode"] == "AG8001"


def test_reset_also_forgets_refresh_tokens(user: Angel, broker_http: httpx.Client) -> None:
    refresh = user.login().json()["data"]["refreshToken"]
    assert broker_http.post("/_sim/reset").json() == {"ok": True}
    assert user.post(TOKENS, {"refreshToken": refresh})["errorcode"] == "AB8050"


# -- orders ----------------------------------------------------------------------------
def test_order_ids_are_15_digits_with_a_uuid(angel: Angel) -> None:
    data = angel.order()["data"]
    assert re.fullmatch(r"\d{15}", data["orderid"])
    assert uuid.UUID(data["uniqueorderid"]) and data["script"] == "SBIN-EQ"


def test_numbers_may_be_json_numbers(angel: Angel) -> None:
    assert angel.order(quantity=2, price=0, triggerprice=0)["status"] is True


@pytest.mark.parametrize(("change", "code"), [
    ({"variety": "ROCKET"}, "AB1008"),
    ({"symboltoken": "99999999"}, "AB1009"),
    ({"tradingsymbol": "SBIN"}, "AB1009"),  # the NSE symbol is SBIN-EQ
    ({"exchange": "BSE"}, "AB1009"),
    ({"symboltoken": "99926000", "tradingsymbol": "Nifty 50"}, "AB1009"),  # an index
    ({"producttype": "CASH"}, "AB1012"),
    ({"producttype": "CARRYFORWARD"}, "AB1012"),  # not on a cash segment
    ({"ordertype": "STOPLOSS_LIMIT", "price": "500", "triggerprice": "499"}, "AB1008"),
    ({"variety": "STOPLOSS", "ordertype": "STOPLOSS_MARKET"}, "AB2000"),  # no trigger
    ({"ordertype": "LIMIT"}, "AB2000"),  # no price
    ({"ordertype": "GTT"}, "AB2000"),
    ({"transactiontype": "HOLD"}, "AB2000"),
    ({"quantity": "0"}, "AB2000"),
    ({"quantity": "1.5"}, "AB2000"),
    ({"quantity": "1e200000"}, "AB2000"),
    ({"quantity": "2", "disclosedquantity": "3"}, "AB2000"),
    ({"price": "abc"}, "AB2000"),
    ({"price": "NaN"}, "AB2000"),
    ({"transactiontype": ["BUY"], "variety": {"x": 1}}, "AB1008"),
    ({"transactiontype": ["BUY"]}, "AB2000"),
])
def test_order_validation_codes(angel: Angel, broker_sim: AngelSimulator,
                                change: dict[str, Any], code: str) -> None:
    body = angel.order(**change)
    assert body == {"status": False, "message": body["message"], "errorcode": code,
                    "data": None}
    assert broker_sim.book.orders == {}


def nfo_future(sim: AngelSimulator) -> dict[str, str]:
    """The first index future of NFO in the simulator's scrip master."""
    return next(row for row in sim.scrip.values() if row["exch_seg"] == "NFO"
                and row["instrumenttype"] == "FUTIDX")


def test_derivative_products(angel: Angel, broker_sim: AngelSimulator) -> None:
    fut = nfo_future(broker_sim)
    order = {"exchange": "NFO", "symboltoken": fut["token"], "tradingsymbol": fut["symbol"],
             "quantity": fut["lotsize"]}
    assert angel.order(**order, producttype="CARRYFORWARD")["status"] is True
    assert angel.order(**order, producttype="DELIVERY")["errorcode"] == "AB1012"


def test_order_book_rows(angel: Angel, broker_sim: AngelSimulator) -> None:
    assert angel.get(BOOK)["data"] is None
    market = angel.order(quantity="3", disclosedquantity="1", ordertag="strat-1")["data"]
    resting = angel.order(ordertype="LIMIT", price="1.00")["data"]
    stop = angel.order(variety="STOPLOSS", ordertype="STOPLOSS_LIMIT", price="9000",
                       triggerprice="8990")["data"]
    funds = broker_sim.funds()
    too_big = angel.order(quantity="10000000")["data"]
    fut = nfo_future(broker_sim)
    odd_lot = angel.order(exchange="NFO", symboltoken=fut["token"],
                          tradingsymbol=fut["symbol"], quantity="1",
                          producttype="CARRYFORWARD")["data"]
    cancel = angel.post(SECURE + "/order/v1/cancelOrder",
                        {"variety": "NORMAL", "orderid": resting["orderid"]})
    assert cancel["status"] is True
    assert cancel["data"] == {k: resting[k] for k in ("orderid", "uniqueorderid")}
    assert angel.post(SECURE + "/order/v1/cancelOrder",
                      {"variety": "NORMAL", "orderid": "1"})["errorcode"] == "AB1013"
    rows = {row["orderid"]: row for row in angel.get(BOOK)["data"]}
    assert all(angel_typed(row) for row in rows.values())
    done = rows[market["orderid"]]
    assert (done["status"], done["orderstatus"], done["ordertag"], done["disclosedquantity"],
            done["filledshares"], done["uniqueorderid"], done["strikeprice"]) == (
        "complete", "complete", "strat-1", "1", "3", market["uniqueorderid"], -1.0)
    assert Decimal(str(done["averageprice"])) == broker_sim.price("3045")
    assert rows[resting["orderid"]]["status"] == "cancelled"
    assert rows[stop["orderid"]]["status"] == "trigger pending"
    rejected = rows[too_big["orderid"]]
    assert rejected["status"] == "rejected"
    assert rejected["text"] == (
        f"RMS:Margin Exceeds,Required:{10_000_000 * broker_sim.price('3045'):.2f},"
        f" Available:{funds.available:.2f} for entity"
        f" account-{broker_sim.credentials['CLIENT_ID']} across exchange across segment"
        f" across product")
    assert rows[odd_lot["orderid"]]["text"] == (
        f"RMS:Rule: Quantity should be in multiples of the lot size {fut['lotsize']}")
    assert re.fullmatch(r"\d{2}-[A-Z][a-z]{2}-\d{4} \d{2}:\d{2}:\d{2}", done["updatetime"])


# -- modify, cancel, one order -----------------------------------------------------------
def book_row(angel: Angel, order_id: str) -> dict[str, Any]:
    (row,) = [r for r in angel.get(BOOK)["data"] if r["orderid"] == order_id]
    return row


def test_modify_a_resting_order_until_it_fills(angel: Angel,
                                               broker_sim: AngelSimulator) -> None:
    placed = angel.order(ordertype="LIMIT", price="1.00", ordertag="m-1")["data"]
    reply = angel.modify(placed["orderid"], price="2.50", quantity="2")
    assert reply == {"status": True, "message": "SUCCESS", "errorcode": "",
                     "data": {k: placed[k] for k in ("orderid", "uniqueorderid")}}
    row = book_row(angel, placed["orderid"])
    assert angel_typed(row)
    assert (row["status"], row["price"], row["quantity"], row["ordertag"]) == (
        "open", 2.5, "2", "m-1")
    now = broker_sim.price("3045")
    assert angel.modify(placed["orderid"], price=str(now + 5), quantity="2")["status"]
    row = book_row(angel, placed["orderid"])
    assert (row["status"], row["filledshares"], row["unfilledshares"]) == ("complete", "2", "0")
    assert Decimal(str(row["averageprice"])) == now  # marketable: filled at the market
    again = angel.modify(placed["orderid"], price="3")
    assert (again["status"], again["errorcode"], again["data"]) == (False, "AB4010", None)
    assert "complete" in again["message"]


def test_a_modified_stop_keeps_its_trigger_and_fills_when_the_market_moves(
        angel: Angel, broker_http: httpx.Client) -> None:
    placed = angel.order(variety="STOPLOSS", ordertype="STOPLOSS_LIMIT", price="9000",
                         triggerprice="8990")["data"]
    assert angel.modify(placed["orderid"], variety="STOPLOSS", ordertype="STOPLOSS_LIMIT",
                        price="9100")["status"] is True  # no triggerprice: kept
    row = book_row(angel, placed["orderid"])
    assert (row["status"], row["price"], row["triggerprice"], row["ordertype"]) == (
        "trigger pending", 9100.0, 8990.0, "STOPLOSS_LIMIT")
    moved = broker_http.post("/_sim/quotes", json={"3045": "8995.5"}).json()
    assert moved == {"changed": [placed["orderid"]]}
    row = book_row(angel, placed["orderid"])
    assert (row["status"], row["averageprice"]) == ("complete", 8995.5)


def resting(angel: Angel) -> str:
    order_id: str = angel.order(ordertype="LIMIT", price="1.00")["data"]["orderid"]
    return order_id


@pytest.mark.parametrize(("change", "code"), [
    ({"orderid": "1"}, "AB1013"),
    ({"variety": "STOPLOSS"}, "AB1008"),  # not the variety it was placed with
    ({"variety": "ROCKET"}, "AB1008"),
    ({"symboltoken": "2885", "tradingsymbol": "RELIANCE-EQ"}, "AB1009"),  # another scrip
    ({"tradingsymbol": "SBIN"}, "AB1009"),
    ({"exchange": "BSE"}, "AB1009"),
    ({"producttype": "DELIVERY"}, "AB1012"),  # not the product it was placed with
    ({"ordertype": "GTT"}, "AB2000"),
    ({"duration": "GTC"}, "AB2000"),
    ({"quantity": "0"}, "AB2000"),
    ({"quantity": "1.5"}, "AB2000"),
    ({"quantity": "2", "disclosedquantity": "3"}, "AB2000"),
    ({"price": "0"}, "AB2000"),
    ({"price": "abc"}, "AB2000"),
    ({"ordertype": "STOPLOSS_LIMIT"}, "AB2000"),  # a stop needs a trigger
])
def test_modify_refusals_leave_the_order_as_it_was(angel: Angel, change: dict[str, Any],
                                                   code: str) -> None:
    order_id = resting(angel)
    body = angel.modify(order_id, **{"price": "2.00", **change})
    assert (body["status"], body["errorcode"], body["data"]) == (False, code, None)
    row = book_row(angel, order_id)
    assert (row["status"], row["price"], row["quantity"], row["ordertype"]) == (
        "open", 1.0, "1", "LIMIT")


def test_a_modify_in_broken_lots_is_refused(angel: Angel, broker_sim: AngelSimulator) -> None:
    fut = nfo_future(broker_sim)
    placed = angel.order(exchange="NFO", symboltoken=fut["token"], tradingsymbol=fut["symbol"],
                         producttype="CARRYFORWARD", ordertype="LIMIT", price="1",
                         quantity=fut["lotsize"])["data"]
    body = angel.modify(placed["orderid"], exchange="NFO", symboltoken=fut["token"],
                        tradingsymbol=fut["symbol"], producttype="CARRYFORWARD",
                        quantity=str(int(fut["lotsize"]) + 1))
    assert body["errorcode"] == "AB2000"


def test_a_modify_beyond_the_funds_is_refused_with_the_rms_text(
        angel: Angel, broker_sim: AngelSimulator) -> None:
    broker_sim.margin_limit = Decimal(100)
    order_id = resting(angel)
    body = angel.modify(order_id, quantity="500")
    assert (body["status"], body["errorcode"]) == (False, "AB4011")
    assert body["message"].startswith("RMS:Margin Exceeds,Required:500.00, Available:100.00")
    assert book_row(angel, order_id)["quantity"] == "1"


def test_cancel_refusals(angel: Angel, broker_sim: AngelSimulator) -> None:
    filled = angel.order()["data"]["orderid"]
    rejected = angel.order(quantity="10000000")["data"]["orderid"]
    cancelled = resting(angel)
    assert angel.post(CANCEL, {"variety": "NORMAL", "orderid": cancelled})["status"] is True
    for order_id, status in ((filled, "complete"), (rejected, "rejected"),
                             (cancelled, "cancelled")):
        body = angel.post(CANCEL, {"variety": "NORMAL", "orderid": order_id})
        assert (body["status"], body["errorcode"], body["data"]) == (False, "AB4010", None)
        assert status in body["message"]
        assert broker_sim.book.orders[order_id].status == status
    still_open = resting(angel)
    for variety in ("STOPLOSS", None):
        body = angel.post(CANCEL, {"variety": variety, "orderid": still_open})
        assert body["errorcode"] == "AB1008"
    assert book_row(angel, still_open)["status"] == "open"


def test_one_order_by_its_unique_id(angel: Angel) -> None:
    placed = angel.order(ordertag="d-1")["data"]
    one = angel.get(DETAILS + placed["uniqueorderid"])
    assert (one["status"], one["message"], one["errorcode"]) == (True, "SUCCESS", "")
    assert one["data"] == book_row(angel, placed["orderid"])
    assert one["data"]["ordertag"] == "d-1" and angel_typed(one["data"])
    unknown = angel.get(DETAILS + str(uuid.uuid4()))
    assert (unknown["status"], unknown["errorcode"], unknown["data"]) == (False, "AB1013", None)
    angel.jwt = ""
    assert angel.get(DETAILS + placed["uniqueorderid"])["errorCode"] == "AG8003"


# -- trades, funds, holdings ---------------------------------------------------------------
TRADE_FIELDS = {"exchange", "producttype", "tradingsymbol", "instrumenttype", "symbolgroup",
                "strikeprice", "optiontype", "expirydate", "marketlot", "precision",
                "multiplier", "tradevalue", "transactiontype", "fillprice", "fillsize",
                "orderid", "fillid", "filltime"}


def test_trade_book_rows(angel: Angel, broker_sim: AngelSimulator,
                         broker_http: httpx.Client) -> None:
    assert angel.get(TRADES) == {"status": True, "message": "SUCCESS", "errorcode": "",
                                 "data": None}
    market = angel.order(quantity="3")["data"]["orderid"]
    limit = angel.order(transactiontype="SELL", ordertype="LIMIT", price="9000.05",
                        producttype="DELIVERY")["data"]["orderid"]
    angel.order(ordertype="LIMIT", price="1.00")  # rests: no trade
    broker_http.post("/_sim/quotes", json={"3045": 9001})
    rows = angel.get(TRADES)["data"]
    assert all_strings(rows) and all(set(row) == TRADE_FIELDS for row in rows)
    first, second = rows
    price = broker_sim.by_token["3045"].price
    assert (first["orderid"], first["tradingsymbol"], first["transactiontype"],
            first["producttype"], first["fillsize"], first["fillprice"], first["tradevalue"],
            first["symbolgroup"], first["strikeprice"], first["marketlot"]) == (
        market, "SBIN-EQ", "BUY", "INTRADAY", "3", f"{price:.2f}", f"{price * 3:.2f}", "EQ",
        "-1", "1")
    assert (second["orderid"], second["fillprice"], second["fillsize"],
            second["producttype"]) == (limit, "9000.05", "1", "DELIVERY")
    assert first["fillid"] != second["fillid"]
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2}", first["filltime"])


RMS_FIELDS = ("net", "availablecash", "availableintradaypayin", "availablelimitmargin",
              "collateral", "m2munrealized", "m2mrealized", "utiliseddebits", "utilisedspan",
              "utilisedoptionpremium", "utilisedholdingsales", "utilisedexposure",
              "utilisedturnover", "utilisedpayout")


def test_rms_shows_cash_margin_used_and_the_days_pnl(angel: Angel,
                                                     broker_sim: AngelSimulator) -> None:
    start = angel.get(RMS)
    assert (start["status"], start["errorcode"]) == (True, "")
    assert tuple(start["data"]) == RMS_FIELDS
    assert start["data"]["net"] == start["data"]["availablecash"] == "5000000.0000"
    assert [k for k, v in start["data"].items() if v is None] == list(RMS_FIELDS[8:13])
    angel.order(quantity="3")
    angel.order(ordertype="LIMIT", price="1.50", quantity="2")  # rests: blocks 3.00
    price, mark = broker_sim.by_token["3045"].price, broker_sim.mark("3045")
    data = angel.get(RMS)["data"]
    used = price * 3 + 3
    assert all(re.fullmatch(r"-?\d+\.\d{4}", data[k]) for k in RMS_FIELDS[:8])
    assert (Decimal(data["utiliseddebits"]), Decimal(data["availablecash"]),
            Decimal(data["net"]), Decimal(data["m2munrealized"]),
            Decimal(data["m2mrealized"]), data["utilisedpayout"]) == (
        used, 5_000_000 - used, 5_000_000 - used, (mark - price) * 3, 0, data["availablecash"])
    broker_sim.collateral = Decimal(1000)
    data = angel.get(RMS)["data"]
    assert (data["collateral"], Decimal(data["net"]) - Decimal(data["availablecash"])) == (
        "1000.0000", 1000)


HOLDING_FIELDS = ("tradingsymbol", "exchange", "isin", "t1quantity", "realisedquantity",
                  "quantity", "authorisedquantity", "product", "collateralquantity",
                  "collateraltype", "haircut", "averageprice", "ltp", "symboltoken", "close",
                  "profitandloss", "pnlpercentage")


def test_holdings_in_both_shapes(angel: Angel, broker_sim: AngelSimulator) -> None:
    held = {h.symbol: h for h in broker_sim.holdings()}
    rows = angel.get(HOLDING)["data"]
    assert [tuple(row) for row in rows] == [HOLDING_FIELDS] * len(held)
    assert all(isinstance(v, str) for row in rows for k, v in row.items()
               if k not in ("collateralquantity", "collateraltype"))
    infy = next(row for row in rows if row["tradingsymbol"] == "INFY-EQ")
    ltp = broker_sim.mark("1594")
    assert (infy["exchange"], infy["symboltoken"], infy["quantity"], infy["averageprice"],
            infy["ltp"], infy["product"], infy["collateralquantity"]) == (
        "NSE", "1594", "10", "850.00", f"{ltp:.2f}", "DELIVERY", None)
    assert infy["profitandloss"] == str(round((ltp - 850) * 10))  # whole rupees
    assert infy["pnlpercentage"] == f"{(ltp - 850) / 850 * 100:.2f}"
    assert re.fullmatch(r"INE\d{6}01\d", infy["isin"])
    tcs = next(row for row in rows if row["exchange"] == "BSE")
    assert (tcs["tradingsymbol"], tcs["quantity"]) == ("TCS", "4")
    every = angel.get(ALL_HOLDING)["data"]
    assert set(every) == {"holdings", "totalholding"}
    numbers = every["holdings"]
    assert [r["tradingsymbol"] for r in numbers] == [r["tradingsymbol"] for r in rows]
    assert (numbers[0]["quantity"], numbers[0]["averageprice"], numbers[0]["haircut"]) == (
        10, 850.0, 0)
    value = sum(h.ltp * h.quantity for h in held.values())
    invested = sum(h.average_price * h.quantity for h in held.values())
    assert every["totalholding"] == {
        "totalholdingvalue": float(value), "totalinvvalue": float(invested),
        "totalprofitandloss": float(value - invested),
        "totalpnlpercentage": float(round((value - invested) / invested * 100, 2))}


def test_holding_pnl_is_in_whole_rupees(angel: Angel, broker_sim: AngelSimulator) -> None:
    broker_sim.holding_seeds = (("NSE", "INFY", 3, Decimal("850.15")),)
    exact = (broker_sim.mark("1594") - Decimal("850.15")) * 3
    assert exact == Decimal("182.55")
    (row,) = angel.get(HOLDING)["data"]
    (number,) = angel.get(ALL_HOLDING)["data"]["holdings"]
    assert (row["profitandloss"], number["profitandloss"]) == ("183", 183)


def test_no_holdings_answer_null(angel: Angel, broker_sim: AngelSimulator) -> None:
    broker_sim.holding_seeds = ()
    assert angel.get(HOLDING)["data"] is None
    assert angel.get(ALL_HOLDING)["data"] == {"holdings": None, "totalholding": None}


# -- positions -------------------------------------------------------------------------
def test_positions_from_fills_with_realised_and_unrealised_pnl(
        angel: Angel, broker_sim: AngelSimulator) -> None:
    assert angel.get(POSITIONS) == {"status": True, "message": "SUCCESS", "errorcode": "",
                                    "data": None}
    angel.order(quantity="3")
    angel.order(quantity="1", transactiontype="SELL", ordertype="LIMIT", price="1.00")
    broker_sim.quotes["3045"] = Decimal("812.35")  # the market moves: the close does not
    (row,) = angel.get(POSITIONS)["data"]
    assert all_strings([row])
    fill, ltp = broker_sim.by_token["3045"].price, Decimal("812.35")
    assert (row["tradingsymbol"], row["symboltoken"], row["producttype"], row["netqty"]) == (
        "SBIN-EQ", "3045", "INTRADAY", "2")
    assert (row["buyqty"], row["sellqty"]) == ("3", "1")
    assert Decimal(row["avgnetprice"]) == fill and Decimal(row["ltp"]) == ltp
    assert Decimal(row["close"]) == fill
    assert Decimal(row["realised"]) == (fill - fill) * 1  # sold at the fill price
    assert Decimal(row["unrealised"]) == (ltp - fill) * 2
    assert Decimal(row["pnl"]) == Decimal(row["realised"]) + Decimal(row["unrealised"])


# -- scrip master and quirks -----------------------------------------------------------
def test_scrip_master_format(broker_http: httpx.Client) -> None:
    response = broker_http.get(MASTER)  # public: no headers, no token
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    rows = response.json()
    assert isinstance(rows, list) and all_strings(rows)
    assert {tuple(sorted(r)) for r in rows} == {tuple(sorted(
        ["token", "symbol", "name", "expiry", "strike", "lotsize", "instrumenttype",
         "exch_seg", "tick_size"]))}
    by_symbol = {(r["exch_seg"], r["symbol"]): r for r in rows}
    assert by_symbol["NSE", "SBIN-EQ"]["tick_size"] == "5.000000"
    assert ("NSE", "SUZLON-BE") in by_symbol and ("BSE", "SBIN") in by_symbol
    assert by_symbol["NSE", "Nifty 50"]["instrumenttype"] == "AMXIDX"
    assert by_symbol["BSE", "SENSEX"]["token"] == "99919000"
    vedl = next(r for r in rows if r["symbol"].startswith("VEDL") and "292.5" in r["symbol"])
    assert (vedl["exch_seg"], vedl["strike"], vedl["instrumenttype"]) == (
        "NFO", "29250.000000", "OPTSTK")
    assert re.fullmatch(r"\d{2}[A-Z]{3}\d{4}", vedl["expiry"])
    usd = next(r for r in rows if r["exch_seg"] == "CDS" and r["symbol"].endswith("83.5CE"))
    assert (usd["strike"], usd["tick_size"]) == ("835000000.000000", "0.250000")
    assert {r["instrumenttype"] for r in rows if r["exch_seg"] == "MCX"} == {"FUTCOM", "OPTFUT"}
    assert {r["instrumenttype"] for r in rows if r["exch_seg"] == "BFO"} == {"FUTIDX", "OPTIDX"}


def test_a_big_scrip_master_has_the_rows_asked_for(broker_environ: dict[str, str]) -> None:
    assert len(json.loads(big_scrip_master(1234))) == 1234
    assert len(json.loads(AngelSimulator(environ=broker_environ, master_size=700).master())) \
        == 700


def test_rate_limit_is_plain_text_403(angel: Angel, broker_sim: AngelSimulator) -> None:
    broker_sim.faults.rate_limit_next = 1
    response = angel.http.get(POSITIONS, headers=angel.headers())
    assert response.status_code == 403
    assert response.text == "Access denied because of exceeding access rate"
    assert not response.headers["content-type"].startswith("application/json")
