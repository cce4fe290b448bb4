"""The simulator speaks Integrate: the two-step login, the raw session key, envelopes,
refusals, books, quotes, limits and the master at its real path.

What any simulator does (quotes, faults, master sizing, RMS booking, reset) is the
kit's, tested in the core's tests/test_testing_kit.py."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from decimal import Decimal
from typing import Any

import httpx
import pytest
from openalgo_definedge.sim_master import FULL_MASTER_ROWS
from openalgo_definedge.simulator import ERRORS, DefinedgeSimulator

AUTH = "/auth/realms/debroking/dsbpkc"
TRADE = "/dart/v1"
PLACE, MODIFY, BOOK, TRADES = (TRADE + "/placeorder", TRADE + "/modify", TRADE + "/orders",
                               TRADE + "/trades")
POSITIONS, HOLDINGS, LIMITS = TRADE + "/positions", TRADE + "/holdings", TRADE + "/limits"
MASTER = "/public/allmaster.zip"
#: the SDK mocks' fields (pyintegrate 3.0.0 tests/mock_responses)
ORDER_FIELDS = {"order_id", "tradingsymbol", "token", "quantity", "price_type", "product_type",
                "order_entry_time", "order_status", "order_type", "variety", "lotsize",
                "exchange_orderid", "pending_qty", "price", "exchange_time",
                "average_traded_price", "exchange", "filled_qty", "disclosed_quantity",
                "validity", "price_precision", "ticksize", "price_factor", "multiplier",
                "rqty", "required_price"}
ONE_ORDER_FIELDS = {"order_id", "tradingsymbol", "token", "quantity", "price_type",
                    "product_type", "order_entry_time", "order_status", "order_type",
                    "exchange_orderid", "pending_qty", "price", "exchange_time", "exchange",
                    "disclosed_quantity", "validity"}
TRADE_FIELDS = {"order_id", "exchange", "price_type", "validity", "product_type", "fill_id",
                "fill_time", "order_type", "tradingsymbol", "quantity", "token", "filled_qty",
                "last_fill_qty", "price_precision", "lotsize", "ticksize", "price",
                "fill_price", "exchange_time", "exchange_orderid"}
POSITION_FIELDS = {
    "exchange", "tradingsymbol", "product_type", "token", "price_precision", "lotsize",
    "ticksize", "multiplier", "price_factor", "day_buy_qty", "day_sell_qty", "day_buy_amt",
    "day_buy_avg", "day_sell_amt", "day_sell_avg", "carry_buy_qty", "carry_sell_qty",
    "open_buy_quantity", "open_sell_quantity", "open_buy_amount", "open_buy_averageprice",
    "open_sell_amount", "open_sell_averageprice", "day_averageprice", "net_quantity",
    "net_averageprice", "upload_price", "net_uploadprice", "lastPrice", "unrealized_pnl",
    "break_even_point", "realized_pnl", "total_buy_amt", "total_sell_amt", "total_buy_avg"}
HOLDING_FIELDS = {"dp_qty", "t1_qty", "holding_used", "avg_buy_price", "sell_amt", "trade_qty",
                  "tradingsymbol"}
LEG_FIELDS = {"exchange", "tradingsymbol", "token", "price_precision", "ticksize", "lotsize",
              "isin"}
LIMIT_FIELDS = {"status", "cash", "payin", "payout", "brokerCollateralAmount", "unClearedCash",
                "dayCash", "turnOverLimit", "pendordvallmt", "marginUsed", "currentRealizedPNL",
                "currentUnrealizedMtom"}
LOGIN_FIELDS = {"request_time", "stat", "uid", "actid", "uname", "email", "api_session_key",
                "susertoken", "brkname", "brnchid", "exarr", "orarr", "prarr",
                "lastaccesstime"}
SESSION_EXPIRED = {"status": "ERROR", "message": "Session Expired"}


def checksum(otp_token: str, otp: str, secret: str) -> str:
    return hashlib.sha256(f"{otp_token}{otp}{secret}".encode()).hexdigest()


class Definedge:
    """Speaks Integrate by hand, the way the notes and the SDK describe it."""

    def __init__(self, http: httpx.Client, environ: dict[str, str],
                 sim: DefinedgeSimulator) -> None:
        self.http, self.environ, self.sim = http, environ, sim
        self.key = ""

    @property
    def secret(self) -> str:
        return self.environ["OPENALGO_DEFINEDGE_API_SECRET"]

    def step1(self, token: str | None = None, secret: str | None = None) -> httpx.Response:
        token = self.environ["OPENALGO_DEFINEDGE_API_KEY"] if token is None else token
        return self.http.get(f"{AUTH}/login/{token}",
                             headers={"api_secret": self.secret if secret is None else secret})

    def otp_token(self) -> str:
        otp_token: str = self.step1().json()["otp_token"]
        return otp_token

    def step2(self, otp_token: str, otp: str, ac: str | None = None) -> httpx.Response:
        return self.http.post(f"{AUTH}/token", json={
            "otp_token": otp_token, "otp": otp,
            "ac": checksum(otp_token, otp, self.secret) if ac is None else ac})

    def login(self, otp: str | None = None) -> dict[str, Any]:
        """Both steps, with ``otp`` (default: the current external TOTP)."""
        otp_token = self.otp_token()
        body: dict[str, Any] = self.step2(otp_token, otp or self.sim.totp_now()).json()
        self.key = body["api_session_key"]
        return body

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path, headers={"Authorization": self.key})

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.http.post(path, json=body, headers={"Authorization": self.key})

    def order(self, **changes: Any) -> dict[str, Any]:
        """placeorder with the body pyintegrate sends (numbers, validity, algo_id)."""
        body = {"exchange": "NSE", "order_type": "BUY", "price": 0, "price_type": "MARKET",
                "product_type": "INTRADAY", "quantity": 1, "tradingsymbol": "SBIN-EQ",
                "algo_id": "99999", "validity": "DAY", **changes}
        result: dict[str, Any] = self.post(PLACE, body).json()
        return result

    def modify(self, order_id: str, /, **changes: Any) -> dict[str, Any]:
        """modify restating a BUY SBIN-EQ INTRADAY LIMIT order, as the SDK sends it."""
        body = {"exchange": "NSE", "order_id": order_id, "order_type": "BUY", "price": 2,
                "price_type": "LIMIT", "product_type": "INTRADAY", "quantity": 1,
                "tradingsymbol": "SBIN-EQ", "validity": "DAY", **changes}
        result: dict[str, Any] = self.post(MODIFY, body).json()
        return result

    def resting(self, **changes: Any) -> str:
        """A BUY limit at 1.00 that rests open."""
        order_id: str = self.order(price_type="LIMIT", price=1, **changes)["order_id"]
        return order_id

    def rows(self) -> dict[str, dict[str, str]]:
        return {row["order_id"]: row for row in self.get(BOOK).json()["orders"]}


@pytest.fixture
def sim(broker_sim: DefinedgeSimulator) -> DefinedgeSimulator:
    return broker_sim


@pytest.fixture
def user(broker_http: httpx.Client, broker_environ: dict[str, str],
         sim: DefinedgeSimulator) -> Definedge:
    """An Integrate user on the simulator, not logged in yet."""
    return Definedge(broker_http, broker_environ, sim)


@pytest.fixture
def definedge(user: Definedge) -> Definedge:
    """The same user, logged in."""
    assert user.login()["stat"] == "Ok"
    return user


def all_strings(rows: list[dict[str, Any]]) -> bool:
    return all(isinstance(v, str) for r in rows for v in r.values())


def nfo_future(sim: DefinedgeSimulator) -> tuple[str, int]:
    """(trading symbol, lot size) of the first NFO index future."""
    scrip = next(s for s in sim.scrips.values() if s.segment == "NFO" and s.itype == "FUTIDX")
    return scrip.tradingsymbol, scrip.lot_size


def other_otp(*taken: str) -> str:
    """A six-digit code that is none of ``taken`` (nor the TOTP's neighbours)."""
    return next(code for code in (f"{n:06d}" for n in range(1000)) if code not in taken)


# -- login -------------------------------------------------------------------------------
def test_step_one_answers_an_otp_token_and_sends_an_otp(user: Definedge,
                                                        sim: DefinedgeSimulator) -> None:
    response = user.step1()
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"otp_token", "message"} and body["message"] == "Enter OTP/TOTP"
    sent = sim.user_code()
    assert re.fullmatch(r"\d{6}", sent)
    again = user.otp_token()
    assert again != body["otp_token"]


@pytest.mark.parametrize(("token", "secret"), [("nope", None), (None, "nope"), (None, "")])
def test_step_one_refuses_a_wrong_token_or_secret(user: Definedge, token: str | None,
                                                  secret: str | None) -> None:
    response = user.step1(token, secret)
    assert response.status_code == ERRORS["bad_api_key"][0] == 401
    assert response.json() == {"stat": "Not_Ok", "emsg": ERRORS["bad_api_key"][1]}


def test_step_two_with_the_totp_answers_the_session(user: Definedge,
                                                    sim: DefinedgeSimulator) -> None:
    body = user.login()
    assert set(body) == LOGIN_FIELDS
    assert (body["stat"], body["uid"], body["actid"], body["brkname"]) == (
        "Ok", sim.uid, sim.uid, "DEFINEDGE")
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2} \d{2}-\d{2}-\d{4}", body["request_time"])
    assert body["lastaccesstime"].isdigit()
    assert {p["s_prdt_ali"] for p in body["prarr"]} == {"CNC", "NRML", "MIS"}
    assert user.get(POSITIONS).json()["status"] == "SUCCESS"
    user.key = body["susertoken"]  # the websocket key is not the REST key
    assert user.get(POSITIONS).json() == SESSION_EXPIRED


def test_step_two_with_the_otp_sent_for_that_token(user: Definedge,
                                                   sim: DefinedgeSimulator) -> None:
    first = user.otp_token()
    sent_first = sim.user_code()
    second = user.otp_token()
    while sim.user_code() in (sent_first, sim.totp_now()):  # a fresh, distinct code
        second = user.otp_token()
    sent_second = sim.user_code()
    refused = user.step2(second, sent_first).json()
    assert refused == {"stat": "Not_Ok", "emsg": ERRORS["bad_otp"][1]}
    assert user.step2(second, sent_second).json()["stat"] == "Ok"
    assert user.step2(first, sent_first).json()["stat"] == "Ok"


def test_each_step_two_refusal_has_its_own_text(user: Definedge,
                                                sim: DefinedgeSimulator) -> None:
    otp_token = user.otp_token()
    wrong = other_otp(sim.user_code(), sim.totp_now())
    used = user.otp_token()
    assert user.step2(used, sim.totp_now()).json()["stat"] == "Ok"
    sim.otp_token_seconds = 0
    expired = user.otp_token()
    cases = {
        "bad_otp": user.step2(otp_token, wrong),
        "bad_checksum": user.step2(otp_token, sim.totp_now(), ac="0" * 64),
        "unknown_otp_token": user.step2("unknown", sim.totp_now()),
        "used_otp_token": user.step2(used, sim.totp_now()),
        "expired_otp_token": user.step2(expired, sim.totp_now()),
        "login_body": user.http.post(f"{AUTH}/token", content=b"not json"),
    }
    for error, response in cases.items():
        assert response.status_code == 200, error
        assert response.json() == {"stat": "Not_Ok", "emsg": ERRORS[error][1]}, error
    assert len({ERRORS[error][1] for error in cases}) == len(cases)
    assert user.step2(otp_token, sim.totp_now()).json()["stat"] == "Ok"  # not used up


@pytest.mark.parametrize("body", [{"otp_token": 1, "otp": "123456", "ac": "x"},
                                  {"otp": "123456", "ac": "x"}, [1]])
def test_step_two_refuses_odd_bodies(user: Definedge, body: Any) -> None:
    response = user.http.post(f"{AUTH}/token", json=body)
    assert response.json() == {"stat": "Not_Ok", "emsg": ERRORS["login_body"][1]}


def test_the_checksum_uses_the_api_secret(user: Definedge, sim: DefinedgeSimulator) -> None:
    otp_token, code = user.otp_token(), sim.totp_now()
    assert user.step2(otp_token, code, ac=checksum(otp_token, code, "other")).json() == {
        "stat": "Not_Ok", "emsg": ERRORS["bad_checksum"][1]}


# -- the session key ---------------------------------------------------------------------
@pytest.mark.parametrize("authorization", [None, "Bearer {key}", "nonsense", "{key} "])
def test_the_key_is_sent_raw(definedge: Definedge, authorization: str | None) -> None:
    headers = {} if authorization is None else {
        "Authorization": authorization.format(key=definedge.key)}
    if authorization == "{key} ":  # surrounding blanks are not part of the key
        assert definedge.http.get(POSITIONS, headers=headers).json()["status"] == "SUCCESS"
        return
    response = definedge.http.get(POSITIONS, headers=headers)
    assert (response.status_code, response.json()) == (200, SESSION_EXPIRED)


def test_an_expired_session_and_its_http_status(definedge: Definedge,
                                                sim: DefinedgeSimulator) -> None:
    sim.expire_sessions()
    assert definedge.get(BOOK).json() == SESSION_EXPIRED
    sim.expired_status = 401
    response = definedge.post(PLACE, {})
    assert (response.status_code, response.json()) == (401, SESSION_EXPIRED)


@pytest.mark.parametrize("path", [BOOK, TRADES, POSITIONS, HOLDINGS, LIMITS,
                                  TRADE + "/order/1", TRADE + "/cancel/1",
                                  TRADE + "/quotes/NSE/3045", TRADE + "/quotes/NSE/0"])
def test_every_trade_reply_is_json(definedge: Definedge, path: str) -> None:
    for key in (definedge.key, ""):
        definedge.key = key
        response = definedge.get(path)
        assert response.headers["content-type"] == "application/json", path
        assert response.json()["status"] in ("SUCCESS", "ERROR")


# -- placeorder --------------------------------------------------------------------------
def test_an_order_as_the_sdk_sends_it(definedge: Definedge, sim: DefinedgeSimulator) -> None:
    reply = definedge.order(quantity=3, remarks="strat-1")
    assert set(reply) == {"status", "order_id"} and reply["status"] == "SUCCESS"
    assert re.fullmatch(r"\d{14}", reply["order_id"])
    booked = sim.book.orders[reply["order_id"]]
    assert (booked.symbol, booked.side, booked.quantity, booked.pricetype, booked.product,
            booked.tag, booked.status) == ("SBIN-EQ", "BUY", 3, "MARKET", "INTRADAY",
                                           "strat-1", "complete")
    assert booked.raw["algo_id"] == "99999" and booked.raw["quantity"] == 3


def test_numbers_may_be_strings(definedge: Definedge, sim: DefinedgeSimulator) -> None:
    reply = definedge.order(quantity="2", price="0", price_type="LIMIT")
    assert reply["status"] == "ERROR"  # a LIMIT needs a price
    reply = definedge.order(quantity="2", price="1.05", price_type="LIMIT", algo_id=99999,
                            disclosed_quantity="1")
    order = sim.book.orders[reply["order_id"]]
    assert (order.quantity, order.price, order.disclosed_quantity) == (2, Decimal("1.05"), 1)


def test_validity_defaults_to_day(definedge: Definedge) -> None:
    body = {"exchange": "NSE", "order_type": "BUY", "price": 1, "price_type": "LIMIT",
            "product_type": "CNC", "quantity": 1, "tradingsymbol": "SBIN-EQ", "algo_id": "1"}
    order_id = definedge.post(PLACE, body).json()["order_id"]
    assert definedge.rows()[order_id]["validity"] == "DAY"


@pytest.mark.parametrize(("change", "detail"), [
    ({"exchange": "NSX"}, "exchange"),
    ({"exchange": "NSE_INDEX"}, "exchange"),
    ({"tradingsymbol": "SBIN"}, "tradingsymbol"),  # the NSE symbol is SBIN-EQ
    ({"exchange": "BSE"}, "tradingsymbol"),
    ({"tradingsymbol": "Nifty 50"}, "tradingsymbol"),  # an index row
    ({"order_type": "HOLD"}, "order_type"),
    ({"order_type": ["BUY"]}, "order_type"),
    ({"price_type": "SL"}, "price_type"),
    ({"product_type": "MIS"}, "product_type"),
    ({"validity": "GTC"}, "validity"),
    ({"quantity": 0}, "quantity"),
    ({"quantity": "1.5"}, "quantity"),
    ({"quantity": "1e200000"}, "quantity"),
    ({"quantity": True}, "quantity"),
    ({"quantity": 2, "disclosed_quantity": 3}, "disclosed_quantity"),
    ({"price": 1}, "price"),  # a MARKET order's price must be 0
    ({"price_type": "SL-MARKET", "price": 1, "trigger_price": 1}, "price"),
    ({"price_type": "LIMIT"}, "price"),
    ({"price_type": "LIMIT", "price": "NaN"}, "price"),
    ({"price_type": "LIMIT", "price": "1.03"}, "price"),  # off the 0.05 tick
    ({"price_type": "SL-MARKET"}, "trigger_price"),
    ({"price_type": "SL-LIMIT", "price": 100}, "trigger_price"),
    ({"price_type": "SL-LIMIT", "price": 100, "trigger_price": "100.05"}, "trigger_price"),
    ({"price_type": "SL-LIMIT", "price": 100, "trigger_price": 99.95, "order_type": "SELL"},
     "trigger_price"),
    ({"price_type": "SL-LIMIT", "price": 100, "trigger_price": "99.99"}, "trigger_price"),
    ({"remarks": 7}, "remarks"),
])
def test_field_errors_are_http_200_refusals(definedge: Definedge, sim: DefinedgeSimulator,
                                            change: dict[str, Any], detail: str) -> None:
    response = definedge.post(PLACE, {**{
        "exchange": "NSE", "order_type": "BUY", "price": 0, "price_type": "MARKET",
        "product_type": "INTRADAY", "quantity": 1, "tradingsymbol": "SBIN-EQ",
        "algo_id": "99999", "validity": "DAY"}, **change})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "message"} and body["status"] == "ERROR"
    assert body["message"].startswith(f"{ERRORS['invalid_field'][1]}: {detail}"), body
    assert sim.book.orders == {}


@pytest.mark.parametrize("algo", [None, "", " ", False, ["99999"]])
def test_algo_id_is_mandatory(definedge: Definedge, sim: DefinedgeSimulator,
                              algo: Any) -> None:
    body = {"exchange": "NSE", "order_type": "BUY", "price": 0, "price_type": "MARKET",
            "product_type": "INTRADAY", "quantity": 1, "tradingsymbol": "SBIN-EQ"}
    if algo is not None:
        body["algo_id"] = algo
    assert definedge.post(PLACE, body).json() == {"status": "ERROR",
                                                  "message": ERRORS["missing_algo_id"][1]}
    assert sim.book.orders == {}


@pytest.mark.parametrize("body", [b"not json", b"[1]", b"[" * 100_000])
def test_a_body_that_is_not_a_json_object_is_refused(definedge: Definedge,
                                                     body: bytes) -> None:
    response = definedge.http.post(PLACE, content=body,
                                   headers={"Authorization": definedge.key})
    assert (response.status_code, response.json()) == (
        200, {"status": "ERROR", "message": ERRORS["invalid_body"][1]})


def test_cnc_only_on_cash_and_derivative_products(definedge: Definedge,
                                                  sim: DefinedgeSimulator) -> None:
    symbol, lot = nfo_future(sim)
    future = {"exchange": "NFO", "tradingsymbol": symbol, "quantity": lot}
    assert definedge.order(**future, product_type="CNC")["status"] == "ERROR"
    for product in ("NORMAL", "INTRADAY"):
        assert definedge.order(**future, product_type=product)["status"] == "SUCCESS"
    assert definedge.order(product_type="CNC")["status"] == "SUCCESS"


def test_an_ioc_order_that_does_not_fill_is_canceled(definedge: Definedge) -> None:
    order_id = definedge.resting(validity="IOC")
    row = definedge.rows()[order_id]
    assert (row["order_status"], row["validity"]) == ("CANCELED", "IOC")


def test_rms_rejections_show_only_in_the_order_book(definedge: Definedge,
                                                    sim: DefinedgeSimulator) -> None:
    funds = sim.funds()
    too_big = definedge.order(quantity=10_000_000)
    symbol, lot = nfo_future(sim)
    odd_lot = definedge.order(exchange="NFO", tradingsymbol=symbol, quantity=lot + 1,
                              product_type="NORMAL")
    assert too_big["status"] == odd_lot["status"] == "SUCCESS"
    rows = definedge.rows()
    rejected = rows[too_big["order_id"]]
    assert (rejected["order_status"], rejected["exchange_orderid"],
            rejected["exchange_time"]) == ("REJECTED", "", "")
    assert rejected["message"] == sim.margin_reason(
        sim.book.orders[too_big["order_id"]], 10_000_000 * sim.price("3045"),
        funds.available, sim.uid)
    assert rejected["message"].startswith("RMS:Margin Exceeds, Required:")
    assert rows[odd_lot["order_id"]]["message"] == (
        f"RMS:Rule: Check lot size, quantity {lot + 1} is not a multiple of the lot size {lot}")
    assert sim.book.trades == []


def test_the_blocked_fault_and_the_rate_limit(definedge: Definedge,
                                              sim: DefinedgeSimulator) -> None:
    sim.faults.reject_orders = 1
    assert definedge.order() == {"status": "ERROR", "message": ERRORS["blocked"][1]}
    sim.faults.rate_limit_next = 1
    response = definedge.get(POSITIONS)
    assert response.status_code == 429
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"status": "ERROR", "message": ERRORS["rate_limited"][1]}


# -- the order book ----------------------------------------------------------------------
def test_order_book_rows(definedge: Definedge, sim: DefinedgeSimulator) -> None:
    assert definedge.get(BOOK).json() == {"status": "SUCCESS", "orders": []}
    done = definedge.order(quantity=3, disclosed_quantity=1, remarks="tag-1")["order_id"]
    resting = definedge.resting(remarks="tag-2")
    stop = definedge.order(price_type="SL-LIMIT", price=9000, trigger_price="8990")["order_id"]
    canceled = definedge.resting()
    assert definedge.get(TRADE + "/cancel/" + canceled).json()["status"] == "SUCCESS"
    rows = definedge.rows()
    assert list(rows) == [done, resting, stop, canceled]
    assert all_strings(list(rows.values()))
    assert all(set(row) == ORDER_FIELDS | {"trigger_price", "remarks", "message"}
               for row in rows.values())
    assert [rows[i]["order_status"] for i in rows] == [
        "COMPLETE", "OPEN", "TRIGGER PENDING", "CANCELED"]
    first = rows[done]
    price = sim.price("3045")
    assert (first["remarks"], first["disclosed_quantity"], first["filled_qty"],
            first["pending_qty"], first["average_traded_price"], first["price"],
            first["price_type"], first["order_type"], first["lotsize"]) == (
        "tag-1", "1", "3", "0", f"{price:.2f}", "0.00", "MARKET", "BUY", "1")
    assert first["order_entry_time"].isdigit()
    assert re.fullmatch(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}", first["exchange_time"])
    assert (rows[resting]["remarks"], rows[resting]["pending_qty"],
            rows[resting]["price"]) == ("tag-2", "1", "1.00")
    assert (rows[stop]["price_type"], rows[stop]["trigger_price"]) == ("SL-LIMIT", "8990.00")


def test_one_order_is_a_bare_row(definedge: Definedge) -> None:
    order_id = definedge.order(remarks="one")["order_id"]
    row = definedge.get(TRADE + "/order/" + order_id).json()
    assert set(row) == ONE_ORDER_FIELDS | {"trigger_price", "remarks", "message"}
    assert "status" not in row and all_strings([row])
    book = definedge.rows()[order_id]
    assert {k: v for k, v in row.items() if k != "order_entry_time"} == {
        k: book[k] for k in row if k != "order_entry_time"}
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2} \d{2}-\d{2}-\d{4}", row["order_entry_time"])
    unknown = definedge.get(TRADE + "/order/123").json()
    assert unknown == {"status": "ERROR", "message": f"{ERRORS['order_not_found'][1]}: 123"}


# -- modify and cancel ---------------------------------------------------------------------
def test_modify_a_resting_order_until_it_fills(definedge: Definedge,
                                               sim: DefinedgeSimulator) -> None:
    order_id = definedge.resting(remarks="m-1")
    assert definedge.modify(order_id, price=2.5, quantity=2) == {
        "status": "SUCCESS", "order_id": order_id}
    row = definedge.rows()[order_id]
    assert (row["order_status"], row["price"], row["quantity"], row["remarks"]) == (
        "OPEN", "2.50", "2", "m-1")
    market = sim.price("3045")
    assert definedge.modify(order_id, price=str(market + 5), quantity="2")["status"] == \
        "SUCCESS"
    row = definedge.rows()[order_id]
    assert (row["order_status"], row["average_traded_price"]) == ("COMPLETE", f"{market:.2f}")
    again = definedge.modify(order_id, price=3)
    assert again == {"status": "ERROR", "message": f"{ERRORS['order_not_open'][1]}: COMPLETE"}


def test_a_modified_stop_keeps_its_trigger_and_fills_when_the_market_moves(
        definedge: Definedge, broker_http: httpx.Client) -> None:
    order_id = definedge.order(price_type="SL-LIMIT", price=9000, trigger_price=8990,
                               )["order_id"]
    assert definedge.modify(order_id, price_type="SL-LIMIT", price=9100)["status"] == \
        "SUCCESS"  # no trigger_price: kept
    row = definedge.rows()[order_id]
    assert (row["order_status"], row["price"], row["trigger_price"]) == (
        "TRIGGER PENDING", "9100.00", "8990.00")
    moved = broker_http.post("/_sim/quotes", json={"3045": "8995.5"}).json()
    assert moved == {"changed": [order_id]}
    assert definedge.rows()[order_id]["order_status"] == "COMPLETE"


@pytest.mark.parametrize(("change", "error"), [
    ({"order_id": "1"}, "order_not_found"),
    ({"tradingsymbol": "RELIANCE-EQ"}, "order_mismatch"),
    ({"exchange": "BSE", "tradingsymbol": "SBIN"}, "order_mismatch"),
    ({"order_type": "SELL"}, "order_mismatch"),
    ({"product_type": "CNC"}, "order_mismatch"),
    ({"price_type": "SL"}, "invalid_field"),
    ({"validity": "GTC"}, "invalid_field"),
    ({"quantity": 0}, "invalid_field"),
    ({"quantity": 2, "disclosed_quantity": 3}, "invalid_field"),
    ({"price": 0}, "invalid_field"),
    ({"price": "2.01"}, "invalid_field"),
    ({"price_type": "SL-LIMIT"}, "invalid_field"),  # a stop needs a trigger
])
def test_modify_refusals_leave_the_order_as_it_was(definedge: Definedge,
                                                   change: dict[str, Any], error: str) -> None:
    order_id = definedge.resting()
    body = definedge.modify(order_id, **change)
    assert body["status"] == "ERROR" and body["message"].startswith(ERRORS[error][1])
    row = definedge.rows()[order_id]
    assert (row["order_status"], row["price"], row["quantity"], row["price_type"]) == (
        "OPEN", "1.00", "1", "LIMIT")


def test_a_modify_in_broken_lots_or_beyond_the_funds_is_refused(
        definedge: Definedge, sim: DefinedgeSimulator) -> None:
    symbol, lot = nfo_future(sim)
    future = {"exchange": "NFO", "tradingsymbol": symbol, "product_type": "NORMAL"}
    order_id = definedge.resting(**future, quantity=lot)
    broken = definedge.modify(order_id, **future, quantity=lot + 1)
    assert broken == {"status": "ERROR", "message": (
        f"RMS:Rule: Check lot size, quantity {lot + 1} is not a multiple of the lot size"
        f" {lot}")}
    sim.margin_limit = Decimal(100)
    resting = definedge.resting()
    body = definedge.modify(resting, quantity=500, price=1)
    assert body["status"] == "ERROR"
    assert body["message"].startswith("RMS:Margin Exceeds, Required:500.00,")
    assert definedge.rows()[resting]["quantity"] == "1"


def test_cancel(definedge: Definedge, sim: DefinedgeSimulator) -> None:
    order_id = definedge.resting()
    body = definedge.get(TRADE + "/cancel/" + order_id).json()
    assert set(body) == {"status", "order_id", "request_time"}
    assert (body["status"], body["order_id"]) == ("SUCCESS", order_id)
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2} \d{2}-\d{2}-\d{4}", body["request_time"])
    assert sim.book.orders[order_id].status == "cancelled"
    filled = definedge.order()["order_id"]
    rejected = definedge.order(quantity=10_000_000)["order_id"]
    for done, status in ((order_id, "CANCELED"), (filled, "COMPLETE"),
                         (rejected, "REJECTED")):
        again = definedge.get(TRADE + "/cancel/" + done).json()
        assert again == {"status": "ERROR",
                         "message": f"{ERRORS['order_not_open'][1]}: {status}"}
    assert definedge.get(TRADE + "/cancel/42").json() == {
        "status": "ERROR", "message": f"{ERRORS['order_not_found'][1]}: 42"}


# -- trades, positions, holdings, quotes, limits ------------------------------------------
def test_trade_book_rows(definedge: Definedge, sim: DefinedgeSimulator,
                         broker_http: httpx.Client) -> None:
    market = definedge.order(quantity=3, remarks="t-1")["order_id"]
    limit = definedge.order(order_type="SELL", price_type="LIMIT", price="9000.05",
                            product_type="CNC")["order_id"]
    definedge.resting()  # rests: no trade
    broker_http.post("/_sim/quotes", json={"3045": 9001})
    body = definedge.get(TRADES).json()
    assert body["status"] == "SUCCESS"
    first, second = body["trades"]
    assert all_strings([first, second])
    assert set(first) == TRADE_FIELDS | {"remarks"}
    price = sim.by_token["3045"].price
    assert (first["order_id"], first["tradingsymbol"], first["order_type"],
            first["product_type"], first["last_fill_qty"], first["fill_price"],
            first["remarks"], first["price_type"]) == (
        market, "SBIN-EQ", "BUY", "INTRADAY", "3", f"{price:.2f}", "t-1", "MARKET")
    assert (second["order_id"], second["fill_price"], second["price"]) == (
        limit, "9000.05", "9000.05")
    assert first["fill_id"] != second["fill_id"]
    assert re.fullmatch(r"\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2}", first["fill_time"])


def test_positions_every_number_a_string(definedge: Definedge,
                                         sim: DefinedgeSimulator) -> None:
    definedge.order(quantity=3)
    definedge.order(quantity=1, order_type="SELL", price_type="LIMIT", price=1)
    ltp = Decimal("812.35")
    sim.quotes["3045"] = ltp
    (row,) = definedge.get(POSITIONS).json()["positions"]
    assert set(row) == POSITION_FIELDS and all_strings([row])
    fill = sim.by_token["3045"].price
    assert (row["tradingsymbol"], row["token"], row["product_type"], row["net_quantity"],
            row["day_buy_qty"], row["day_sell_qty"]) == (
        "SBIN-EQ", "3045", "INTRADAY", "2", "3", "1")
    assert (Decimal(row["net_averageprice"]), Decimal(row["lastPrice"]),
            Decimal(row["unrealized_pnl"]), Decimal(row["realized_pnl"])) == (
        fill, ltp, (ltp - fill) * 2, Decimal(0))


def test_currency_prices_have_four_decimals(definedge: Definedge,
                                            sim: DefinedgeSimulator) -> None:
    scrip = next(s for s in sim.scrips.values()
                 if s.segment == "CDS" and s.itype == "FUTCUR")
    definedge.order(exchange="CDS", tradingsymbol=scrip.tradingsymbol,
                    quantity=scrip.lot_size, product_type="NORMAL")
    (row,) = definedge.get(POSITIONS).json()["positions"]
    assert (row["price_precision"], row["ticksize"]) == ("4", "0.0025")
    assert re.fullmatch(r"\d+\.\d{4}", row["net_averageprice"])


def test_holdings_have_per_exchange_legs_and_no_price(definedge: Definedge,
                                                      sim: DefinedgeSimulator) -> None:
    body = definedge.get(HOLDINGS).json()
    assert set(body) == {"status", "data"}
    rows = body["data"]
    assert len(rows) == len(sim.holdings()) == 4
    assert all(set(row) == HOLDING_FIELDS for row in rows)
    infy = rows[0]
    assert (infy["dp_qty"], infy["t1_qty"], infy["avg_buy_price"]) == ("10", "0", "850.00")
    legs = infy["tradingsymbol"]
    assert all(set(leg) == LEG_FIELDS for leg in legs) and all_strings(legs)
    assert [(leg["exchange"], leg["tradingsymbol"], leg["token"]) for leg in legs] == [
        ("NSE", "INFY-EQ", "1594"), ("BSE", "INFY", "501594")]


def test_quotes(definedge: Definedge, sim: DefinedgeSimulator,
                broker_http: httpx.Client) -> None:
    body = definedge.get(TRADE + "/quotes/NSE/3045").json()
    assert body["status"] == "SUCCESS" and all_strings([body])
    assert (body["tradingsymbol"], body["ltp"], body["ticksize"]) == (
        "SBIN-EQ", f"{sim.mark('3045'):.2f}", "0.05")
    broker_http.post("/_sim/quotes", json={"3045": "812.35"})
    assert definedge.get(TRADE + "/quotes/NSE/3045").json()["ltp"] == "812.35"
    assert definedge.get(TRADE + "/quotes/NSE/99926000").json()["tradingsymbol"] == "Nifty 50"
    assert definedge.get(TRADE + "/quotes/BSE/3045").json() == {
        "status": "ERROR", "message": ERRORS["invalid_token"][1]}


def test_limits_state_the_funds(definedge: Definedge, sim: DefinedgeSimulator) -> None:
    start = definedge.get(LIMITS).json()
    assert set(start) == LIMIT_FIELDS and all_strings([start])
    assert (start["cash"], start["marginUsed"]) == ("5000000.00", "0.00")
    definedge.order(quantity=3)
    definedge.resting(quantity=2)  # blocks 2.00
    sim.collateral = Decimal(1000)
    data = definedge.get(LIMITS).json()
    funds = sim.funds()
    assert (Decimal(data["cash"]), Decimal(data["marginUsed"]),
            Decimal(data["brokerCollateralAmount"]), Decimal(data["currentRealizedPNL"]),
            Decimal(data["currentUnrealizedMtom"])) == (
        funds.cash, funds.used, Decimal(1000), funds.realised, funds.unrealised)
    assert funds.used == sim.price("3045") * 3 + 2
    assert Decimal(data["cash"]) - funds.used + funds.realised == funds.available


# -- empty books -------------------------------------------------------------------------
@pytest.mark.parametrize(("path", "key"), [(BOOK, "orders"), (TRADES, "trades"),
                                           (POSITIONS, "positions"), (HOLDINGS, "data")])
@pytest.mark.parametrize("shape", ["list", "absent", "error"])
def test_empty_books_in_each_shape(definedge: Definedge, sim: DefinedgeSimulator, path: str,
                                   key: str, shape: Any) -> None:
    sim.holding_seeds = ()
    sim.empty_book = shape
    expected = {"list": {"status": "SUCCESS", key: []}, "absent": {"status": "SUCCESS"},
                "error": {"status": "ERROR", "message": ERRORS["no_data"][1]}}[shape]
    response = definedge.get(path)
    assert (response.status_code, response.json()) == (200, expected)
    definedge.order()
    sim.holding_seeds = DefinedgeSimulator.holding_seeds
    assert definedge.get(path).json()[key]  # a book with rows is never in the empty shape


def test_reset_forgets_otp_tokens_and_orders(user: Definedge, sim: DefinedgeSimulator,
                                             broker_http: httpx.Client) -> None:
    otp_token = user.otp_token()
    user.login()
    user.order()
    assert broker_http.post("/_sim/reset").json() == {"ok": True}
    assert user.step2(otp_token, sim.totp_now()).json()["emsg"] == \
        ERRORS["unknown_otp_token"][1]
    assert sim.user_code() == sim.totp_now()
    assert user.get(BOOK).json() == {"status": "SUCCESS", "orders": []}


# -- the master ----------------------------------------------------------------------------
def master_rows(content: bytes) -> list[list[str]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.namelist() == ["allmaster.csv"]
        text = archive.read("allmaster.csv").decode()
    return list(csv.reader(io.StringIO(text)))


def test_the_master_is_served_at_full_size_at_its_real_path(
        broker_http: httpx.Client) -> None:
    response = broker_http.get(MASTER)  # public: no key
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    rows = master_rows(response.content)
    assert len(rows) == FULL_MASTER_ROWS
    assert {len(row) for row in rows} == {15}
    assert all(row[9].isdigit() and row[10].isdigit() and int(row[11]) != 0 for row in rows)
    symbols = {(row[0], row[3]) for row in rows}
    assert {("NSE", "SBIN-EQ"), ("BSE", "SBIN"), ("NSE", "Nifty 50")} <= symbols


def test_a_small_master_lists_the_simulators_instruments(
        broker_environ: dict[str, str]) -> None:
    sim = DefinedgeSimulator(environ=broker_environ, master_size=0)
    rows = master_rows(sim.master())
    assert [(row[0], row[3]) for row in rows] == [
        (scrip.segment, scrip.tradingsymbol) for scrip in sim.scrip_of.values()]
    assert len(rows) == len(sim.listings)
