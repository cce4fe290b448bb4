"""INDstocks has no official SDK: the judge of fidelity is every request and reply example
of its API docs (:mod:`docs_examples`), replayed

- against the simulator: each documented request, sent as documented (an order id it
  names replaced by one the simulator issued), is answered with the documented reply's
  shape: every key the docs show, with a value of the same JSON kind;
- through the plugin: each documented reply, served as it is, reads into the unified
  models with the values the docs show, and each request the plugin sends has the
  documented shape.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

import docs_examples as docs
import httpx
import pytest
from openalgo_indmoney import INFO
from openalgo_indmoney.broker import REPLIES, IndMoneyBroker
from openalgo_indmoney.instruments import parse_instruments
from openalgo_indmoney.simulator import IndMoneySimulator

from openalgo_core import (
    BrokerResponseError,
    Credentials,
    InstrumentIndex,
    OrderRejectedError,
    RateLimitError,
    SessionExpiredError,
    UnreadableOrderReplyError,
    order_from,
)
from openalgo_core.http import BrokerClient
from openalgo_core.kit import Login
from openalgo_core.models import new_session
from openalgo_core.testing import InProcessTransport
from openalgo_core.testing.wiring import broker_environ

Request = tuple[str, str, dict[str, str], Any]


# -- against the simulator ----------------------------------------------------------------
def kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def same_shape(documented: Any, answered: Any, where: str = "$") -> None:
    """``answered`` has every key ``documented`` has, each a value of the same JSON kind
    (null stands for any); a list's items have the keys every documented item has."""
    if documented is None or answered is None:
        return
    assert kind(answered) == kind(documented), f"{where}: {kind(answered)}, documented" \
                                               f" {kind(documented)}"
    if isinstance(documented, dict):
        for key, value in documented.items():
            assert key in answered, f"{where}.{key} is missing"
            same_shape(value, answered[key], f"{where}.{key}")
    elif isinstance(documented, list) and documented:
        common = {k: v for k, v in documented[0].items()
                  if all(k in row for row in documented)} \
            if isinstance(documented[0], dict) else documented[0]
        for n, item in enumerate(answered):
            same_shape(common, item, f"{where}[{n}]")


@pytest.fixture
def sim() -> IndMoneySimulator:
    made = IndMoneySimulator(environ=broker_environ(INFO), master_size=0, docs_listings=True,
                             token_interval=0)
    # the docs' trigger examples buy above the market: put the markets below them
    made.quotes.update({"3045": Decimal("1500"), "51011": Decimal("36.40"),
                        "46997": Decimal("316.90")})
    return made


@pytest.fixture
def api(sim: IndMoneySimulator) -> Iterator[Callable[..., httpx.Response]]:
    token = sim.credentials["API_SECRET"]
    with httpx.Client(transport=InProcessTransport(sim.app),
                      base_url="https://api.indstocks.com") as client:
        def send(request: Request, **replace: Any) -> httpx.Response:
            method, path, query, body = request
            body = {**body, **replace} if body is not None else None
            return client.request(method, path, params=query, json=body,
                                  headers={"Authorization": token})
        yield send


def ok(reply: httpx.Response, documented: Any) -> dict[str, Any]:
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    same_shape(documented, body)
    return body


def test_token_generation_as_documented(sim: IndMoneySimulator,
                                        api: Callable[..., httpx.Response]) -> None:
    method, path, _, body = docs.GENERATE_TOKEN_REQUEST
    reply = api((method, path, {}, {**body, "mpin": sim.credentials["PIN"],
                                    "totp": sim.totp_now()}))
    assert reply.status_code == 401  # no x-api-key: the Client ID is its credential
    with httpx.Client(transport=InProcessTransport(sim.app),
                      base_url="https://api.indstocks.com") as client:
        answered = client.post(path, headers={"x-api-key": sim.credentials["API_KEY"]},
                               json={"mpin": sim.credentials["PIN"], "totp": sim.totp_now()})
    ok(answered, docs.GENERATE_TOKEN_REPLY)


@pytest.mark.parametrize(("request_", "documented"), docs.REQUESTS,
                         ids=[f"{r[0]} {r[1]} {r[2]}" for r, _ in docs.REQUESTS])
def test_every_read_as_documented(api: Callable[..., httpx.Response], request_: Request,
                                  documented: Any) -> None:
    """With a book that has rows, so every row's shape is compared."""
    api(docs.PLACE_ORDER_REQUEST)
    api(docs.SMART_LIMIT_REQUEST)
    future = docs.SMART_TRIGGER_LIMIT_REQUEST[3]
    api(("POST", "/order", {}, {**future, "order_type": "MARKET", "validity": "DAY",
                                "trigger_price": None}))
    ok(api(request_), documented)


def test_the_instrument_files_as_documented(api: Callable[..., httpx.Response]) -> None:
    reply = api(docs.INSTRUMENTS_REQUEST)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/csv")
    header = next(csv.reader(io.StringIO(reply.text)))
    assert header == ["EXCH", "SEGMENT", "SECURITY_ID", "INSTRUMENT_NAME", "EXPIRY_CODE",
                      "TRADING_SYMBOL", "LOT_UNITS", "CUSTOM_SYMBOL", "EXPIRY_DATE",
                      "STRIKE_PRICE", "OPTION_TYPE", "TICK_SIZE", "EXPIRY_FLAG",
                      "SEM_EXCH_INSTRUMENT_TYPE", "SERIES", "SYMBOL_NAME"]
    index = api(("GET", "/market/instruments", {"source": "index"}, None)).text
    assert index.splitlines()[0] == docs.INDEX_FILE.splitlines()[0]


@pytest.mark.parametrize("request_", [
    docs.PLACE_ORDER_REQUEST, docs.SMART_LIMIT_REQUEST, docs.SMART_TRIGGER_MARKET_REQUEST,
    docs.SMART_TRIGGER_LIMIT_REQUEST, docs.SMART_TRIGGER_LEGS_REQUEST, docs.SMART_TSL_REQUEST],
    ids=lambda r: json.dumps(r[3])[:60])
def test_every_order_example_is_placed_as_documented(
        api: Callable[..., httpx.Response], request_: Request) -> None:
    path = request_[1]
    documented = docs.PLACE_ORDER_REPLY if path == "/order" else docs.SMART_ORDER_REPLY
    if "sl_trigger_price" not in request_[3]:  # a child only comes with legs
        documented = copy.deepcopy(documented)
        for placed in documented["data"].get("order_data", []):
            placed.pop("child_order_details")
    body = ok(api(request_), documented)
    placed = body["data"] if path == "/order" else body["data"]["order_data"][0]
    assert placed["order_id"].startswith(("EQ-", "DRV-"))


def test_modify_cancel_and_one_order_as_documented(
        sim: IndMoneySimulator, api: Callable[..., httpx.Response]) -> None:
    """The docs' bodies, each naming an order the simulator issued (the market above the
    documented limit prices, so the orders rest)."""
    sim.quotes["51011"] = Decimal("80")
    resting = {**docs.SMART_TRIGGER_LIMIT_REQUEST[3], "order_type": "LIMIT", "limit_price": 30,
               "validity": "DAY"}
    resting.pop("trigger_price"), resting.pop("trigger_limit_price")
    drv = api(("POST", "/order", {}, resting)).json()["data"]["order_id"]
    ok(api(docs.MODIFY_ORDER_REQUEST, order_id=drv), docs.MODIFY_ORDER_REPLY)
    details = ok(api(docs.ORDER_DETAILS_REQUEST, order_id=drv), {
        "status": "success", "data": {k: v for k, v in docs.ORDER_DETAILS_REPLY["data"].items()
                                      if k != "remarks"}})  # this order has no remark
    assert details["data"]["status"] == "MODIFIED"
    ok(api(docs.CANCEL_ORDER_REQUEST, order_id=drv), docs.CANCEL_ORDER_REPLY)
    trigger = api(docs.SMART_TRIGGER_MARKET_REQUEST).json()["data"]["order_data"][0]
    ok(api(docs.SMART_MODIFY_TRIGGER_REQUEST, order_id=trigger["order_id"]),
       docs.MODIFY_ORDER_REPLY)
    assert sim.book.orders[trigger["order_id"]].trigger_price == Decimal("1530")
    legs = api(docs.SMART_LIMIT_REQUEST).json()["data"]["order_data"][0]
    child = legs["child_order_details"]["order_id"]
    ok(api(docs.SMART_MODIFY_LIMIT_REQUEST, order_id=child, order_type="OCO"),
       docs.MODIFY_ORDER_REPLY)
    ok(api(docs.SMART_CANCEL_REQUEST, order_id=child), docs.CANCEL_ORDER_REPLY)
    ok(api(docs.SMART_CANCEL_REQUEST, order_id=legs["order_id"]), docs.CANCEL_ORDER_REPLY)
    filled = api(("POST", "/order", {}, {**resting, "order_type": "MARKET"})).json()
    trades = ok(api(docs.ORDER_TRADES_REQUEST, order_id=filled["data"]["order_id"]),
                docs.ORDER_TRADES_REPLY)
    assert trades["data"][0]["quantity"] == 75


def test_the_margin_example_gives_the_documented_figures(
        api: Callable[..., httpx.Response]) -> None:
    body = ok(api(docs.MARGIN_REQUEST), docs.MARGIN_REPLY)
    assert body["data"]["total_margin"] == docs.MARGIN_REPLY["data"]["total_margin"]
    assert body["data"]["charges"] == docs.MARGIN_REPLY["data"]["charges"]


def test_the_documented_error_shapes(sim: IndMoneySimulator,
                                     api: Callable[..., httpx.Response]) -> None:
    with httpx.Client(transport=InProcessTransport(sim.app),
                      base_url="https://api.indstocks.com") as client:
        expired = client.get("/funds", headers={"Authorization": "expired-token"})
        files = client.get("/market/instruments", params={"source": "fno"},
                           headers={"Authorization": "expired-token"})
    assert expired.status_code == 403 and files.status_code == 403
    assert set(expired.json()) == set(docs.TOKEN_EXCEPTION_REPLY)
    assert expired.json()["error_type"] == "TokenException"
    assert set(files.json()) == set(docs.INSTRUMENTS_ERROR_REPLY)
    refused = api(docs.PLACE_ORDER_REQUEST, qty=10**6)
    assert refused.status_code == 400 and set(refused.json()) == set(docs.RMS_REJECTION_REPLY)
    assert refused.json()["message"].startswith("RMS: Margin exceeds")


# -- through the plugin -------------------------------------------------------------------
class Served:
    """Serves documented replies by (method, path[, query]) and records what was sent."""

    def __init__(self, replies: Mapping[Any, Any]) -> None:
        self.replies = dict(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        query = tuple(sorted(request.url.params.items()))
        found = self.replies.get((request.method, request.url.path, query),
                                 self.replies.get((request.method, request.url.path)))
        if isinstance(found, httpx.Response):
            return found
        if found is None:
            return httpx.Response(404, json={"status": "error", "message": "no such path",
                                             "error_type": "NotFoundException"})
        return httpx.Response(200, json=found)


@pytest.fixture
def index() -> InstrumentIndex:
    return InstrumentIndex.from_instruments("indmoney", parse_instruments(docs.DOCS_MASTER))


def plugin(served: Served) -> tuple[IndMoneyBroker, BrokerClient, Any, Credentials]:
    client = BrokerClient(INFO, transport=httpx.MockTransport(served), limiters={},
                          sleep=lambda s: None)
    session = new_session("indmoney", "1234567", "TOKEN-1", expiry_hour=7)
    return IndMoneyBroker(), client, session, Credentials("indmoney", {})


def test_the_profile_reply_checks_a_pasted_token() -> None:
    served = Served({("GET", "/user/profile"): docs.PROFILE_REPLY})
    broker, client, _, _ = plugin(served)
    credentials = Credentials("indmoney", {"API_SECRET": "PASTED-1"})
    session = broker.stored_session(Login(client, credentials))
    assert session is not None and session.user_id == "1234567"
    assert served.requests[0].headers["authorization"] == "PASTED-1"


def test_the_token_reply_makes_a_session() -> None:
    served = Served({("POST", "/generate/token"): docs.GENERATE_TOKEN_REPLY})
    broker, client, _, _ = plugin(served)
    credentials = Credentials("indmoney", {"API_KEY": "CID1", "PIN": "9828"})
    session = broker.finish_login(Login(client, credentials, "610446"))
    assert session.access_token.get_secret_value() == "<jwt>"
    (sent,) = served.requests
    method, path, _, body = docs.GENERATE_TOKEN_REQUEST
    assert (sent.method, sent.url.path, set(json.loads(sent.content))) == (method, path,
                                                                           set(body))
    assert json.loads(sent.content) == {"mpin": "9828", "totp": "610446"}


def test_the_position_samples(index: InstrumentIndex) -> None:
    """The docs' two closed positions: realised P&L kept, the SENSEX option (empty
    ``exchange``) found on BFO by its security id."""
    none = {"status": "success", "data": []}
    served = Served({
        ("GET", "/portfolio/positions", (("product", "cnc"), ("segment", "equity"))): none,
        ("GET", "/portfolio/positions", (("product", "intraday"), ("segment", "equity"))):
            docs.POSITIONS_EQUITY_REPLY,
        ("GET", "/portfolio/positions", (("product", "margin"), ("segment", "derivative"))):
            docs.POSITIONS_DERIVATIVE_REPLY,
        ("GET", "/portfolio/positions",
         (("product", "intraday"), ("segment", "derivative"))): none,
        ("GET", "/market/quotes/ltp"): docs.LTP_REPLY})
    broker, client, session, credentials = plugin(served)
    rows = broker.fetch_positions(session, credentials, client, index)
    shown = [(p.symbol, p.exchange, p.product, p.quantity, p.average_price, p.ltp, p.pnl)
             for p in rows]
    assert shown == [
        ("INDIAGLYCO", "NSE", "MIS", 0, Decimal("1146.85"), Decimal(0), Decimal("-2.55")),
        ("SENSEX16JUL2682000CE", "BFO", "NRML", 0, Decimal("1.2"), Decimal(0),
         Decimal("-1.0"))]
    queried = [dict(r.url.params) for r in served.requests[:4]]
    documented = [docs.POSITIONS_EQUITY_REQUEST[2], docs.POSITIONS_DERIVATIVE_REQUEST[2]]
    assert all(q in queried for q in documented)


def test_a_position_on_a_contract_the_master_lacks_is_spelled_from_its_row() -> None:
    served = Served({("GET", "/portfolio/positions"): {"status": "success", "data": [
        {**docs.POSITIONS_DERIVATIVE_REPLY["data"][0], "exchange": "BSE", "net_qty": 20,
         "avg_price": 1.25}]},  # type: ignore[dict-item]
        ("GET", "/market/quotes/ltp"): {"status": "success",
                                        "data": {"BFO_823580": {"live_price": 1.5}}}})
    broker, client, session, credentials = plugin(served)
    empty = InstrumentIndex.from_instruments("indmoney", [])
    positions = broker.fetch_positions(session, credentials, client, empty)
    assert {(p.symbol, p.quantity, p.ltp) for p in positions} == {
        ("SENSEX16JUL2682000CE", 20, Decimal("1.5"))}
    assert positions[0].pnl == Decimal("-1.0") + (Decimal("1.5") - Decimal("1.25")) * 20


def test_the_order_book_sample(index: InstrumentIndex) -> None:
    served = Served({("GET", "/order-book"): docs.ORDER_BOOK_REPLY})
    broker, client, session, credentials = plugin(served)
    gtt, market, pending = broker.fetch_order_book(session, credentials, client, index)
    assert (gtt.order_id, gtt.pricetype, gtt.status, gtt.action, gtt.trigger_price, gtt.price,
            gtt.tag, gtt.symbol) == ("GTT-2914581", "SL", "cancelled", "SELL",
                                     Decimal("0.75"), Decimal("0.2"), "momentum-v2/sig-4471",
                                     "NIFTY03JUL2527400CE")
    assert (market.status, market.filled_quantity, market.average_price, market.product,
            market.exchange, market.symbol, market.tag) == (
        "complete", 75, Decimal("43.55"), "NRML", "NFO", "NIFTY03JUL2525700CE", None)
    assert market.timestamp == dt.datetime(2025, 7, 2, 9, 18, 40, 498595,
                                           tzinfo=market.timestamp.tzinfo)
    assert (pending.status, pending.pricetype, pending.price, pending.quantity,
            pending.symbol) == ("open", "LIMIT", Decimal("32.1"), 225,
                                "NIFTY 03 Jul ₹25550 Call")  # not in the master: its name


def test_one_order_is_asked_for_as_documented(index: InstrumentIndex) -> None:
    served = Served({("GET", "/order"): docs.ORDER_DETAILS_REPLY})
    broker, client, session, credentials = plugin(served)
    found = broker.fetch_order("DRV-28131451", session, credentials, client, index)
    assert (found.status, found.tag) == ("complete", "momentum-v2/sig-4471")
    (sent,) = served.requests
    assert set(json.loads(sent.content)) == set(docs.ORDER_DETAILS_REQUEST[3])
    assert json.loads(sent.content) == {"order_id": "DRV-28131451", "segment": "DERIVATIVE"}


def test_the_trade_book_sample_joined_to_its_orders(index: InstrumentIndex) -> None:
    row = docs.ORDER_BOOK_REPLY["data"][1]  # type: ignore[index]
    orders = {"status": "success", "data": [
        {**row, "id": f"DRV-{n}", "exch_order_id": trade["exch_order_id"]}
        for n, trade in enumerate(docs.TRADE_BOOK_REPLY["data"])]}  # type: ignore[arg-type]
    served = Served({("GET", "/order-book"): orders,
                     ("GET", "/trade-book", (("segment", "DERIVATIVE"),)):
                         docs.TRADE_BOOK_REPLY,
                     ("GET", "/trade-book", (("segment", "EQUITY"),)):
                         {"status": "success", "data": []}})
    broker, client, session, credentials = plugin(served)
    trades = broker.fetch_trade_book(session, credentials, client, index)
    assert [(t.order_id, t.trade_id, t.quantity, t.average_price, t.trade_value, t.action)
            for t in trades] == [
        ("DRV-0", "1020280", 2425, Decimal("1.55"), Decimal("3758.75"), "BUY"),
        ("DRV-1", "1022519", 2425, Decimal("0.55"), Decimal("1333.75"), "BUY")]
    assert {dict(r.url.params).get("segment") for r in served.requests[1:]} == {
        "EQUITY", "DERIVATIVE"}


def test_the_holdings_sample_valued_at_a_documented_quote(index: InstrumentIndex) -> None:
    served = Served({("GET", "/portfolio/holdings"): docs.HOLDINGS_REPLY,
                     ("GET", "/market/quotes/ltp"): {"status": "success", "data": {
                         "NSE_18520": {"live_price": 220.0}}}})
    broker, client, session, credentials = plugin(served)
    (held,) = broker.fetch_holdings(session, credentials, client, index)
    assert (held.symbol, held.exchange, held.quantity, held.average_price, held.ltp,
            held.pnl) == ("CUPID", "NSE", 1, Decimal("217.3"), Decimal("220.0"),
                          Decimal("2.7"))
    assert dict(served.requests[1].url.params) == {"scrip-codes": "NSE_18520"}


def test_the_quote_samples() -> None:
    served = Served({("GET", "/market/quotes/ltp"): docs.LTP_REPLY})
    broker, client, session, credentials = plugin(served)
    prices = broker.last_prices(["NSE_3045"], session, credentials, client,
                                needed={"NSE_3045"})
    assert prices == {"NSE_3045": Decimal("792.5")}
    assert dict(served.requests[0].url.params) == docs.LTP_REQUEST[2]


def test_the_funds_sample() -> None:
    served = Served({("GET", "/funds"): docs.FUNDS_REPLY})
    broker, client, session, credentials = plugin(served)
    funds = broker.fetch_funds(session, credentials, client)
    assert (funds.available_cash, funds.realised_pnl) == (Decimal("2980.40"),
                                                          Decimal("-751.92"))


@pytest.mark.parametrize(("path", "reply", "expected"), [
    ("/order", docs.PLACE_ORDER_REPLY, "EQ-93586788"),
    ("/smart/order", docs.SMART_ORDER_REPLY, "DRV-28131451")])
def test_the_placement_samples_give_receipts(index: InstrumentIndex, path: str,
                                             reply: Any, expected: str) -> None:
    served = Served({("POST", path): reply})
    broker, client, session, credentials = plugin(served)
    pricetype = {"pricetype": "LIMIT", "price": "2450"} if path == "/order" else {
        "pricetype": "SL", "price": "2460", "trigger_price": "2455"}
    receipt = broker.place_order(order_from({
        "symbol": "RELIANCE", "exchange": "NSE", "action": "BUY", "quantity": 1,
        "product": "CNC", **pricetype}), index.resolve("RELIANCE", "NSE"), session,
        credentials, client)
    assert receipt.order_id == expected
    body = json.loads(served.requests[0].content)
    documented = (docs.OPENALGO_LIMIT_BODY if path == "/order"
                  else docs.SMART_TRIGGER_LIMIT_REQUEST[3])
    assert set(body) == set(documented) | {"remarks"}


@pytest.mark.parametrize(("reply", "status", "error", "text"), [
    (docs.RMS_REJECTION_REPLY, 400, OrderRejectedError, "RMS: Margin exceeds"),
    (docs.LEGACY_FAILURE_REPLY, 200, UnreadableOrderReplyError, "unknown status"),
    (docs.TOKEN_EXCEPTION_REPLY, 403, SessionExpiredError, "human-readable")])
def test_the_order_refusal_samples_are_typed(index: InstrumentIndex, reply: Any, status: int,
                                             error: type[Exception], text: str) -> None:
    served = Served({("POST", "/order"): httpx.Response(status, json=reply)})
    broker, client, session, credentials = plugin(served)
    with pytest.raises(error, match=text):
        broker.place_order(order_from({"symbol": "SBIN", "exchange": "NSE", "action": "BUY",
                                       "quantity": 1, "product": "MIS", "tag": "t1"}),
                           index.resolve("SBIN", "NSE"), session, credentials, client)


@pytest.mark.parametrize(("reply", "error"), [
    (docs.INSTRUMENTS_ERROR_REPLY, BrokerResponseError),
    (docs.OPTION_CHAIN_BAD_REQUEST, BrokerResponseError),
    (docs.OPTION_CHAIN_RATE_LIMIT, RateLimitError)])
def test_the_other_error_shapes_are_typed(reply: Any, error: type[Exception]) -> None:
    served = Served({("GET", "/funds"): httpx.Response(400, json=reply)})
    broker, client, session, credentials = plugin(served)
    with pytest.raises(error):
        broker.fetch_funds(session, credentials, client)


def test_modify_and_cancel_bodies_are_the_documented_ones(index: InstrumentIndex) -> None:
    served = Served({("POST", "/order/modify"): docs.MODIFY_ORDER_REPLY,
                     ("POST", "/order/cancel"): docs.CANCEL_ORDER_REPLY,
                     ("GET", "/order-book"): docs.ORDER_BOOK_REPLY})
    broker, client, session, credentials = plugin(served)
    (_, _, pending) = broker.fetch_order_book(session, credentials, client, index)
    change = order_from({"symbol": "NIFTY03JUL2525700CE", "exchange": "NFO", "action": "BUY",
                         "quantity": 75, "pricetype": "LIMIT", "price": "73",
                         "product": "NRML"})
    instrument = index.resolve("NIFTY03JUL2525700CE", "NFO")
    modified = broker.modify_order(pending, change, instrument, session, credentials, client)
    cancelled = broker.cancel_order(pending, session, credentials, client)
    assert (modified.order_id, cancelled.order_id) == ("DRV-2049", "DRV-2049")
    modify, cancel = (json.loads(r.content) for r in served.requests[1:])
    assert set(modify) == set(docs.MODIFY_ORDER_REQUEST[3])
    assert modify == {**docs.MODIFY_ORDER_REQUEST[3], "order_id": "DRV-28209665"}
    assert cancel == {**docs.CANCEL_ORDER_REQUEST[3], "order_id": "DRV-28209665"}


def test_the_instrument_request_is_the_documented_one() -> None:
    files = {source: text.encode() for source, text in docs.DOCS_MASTER.items()}
    served = Served({("GET", "/market/instruments", (("source", s),)):
                     httpx.Response(200, content=files[s]) for s in files})
    broker, client, session, _ = plugin(served)
    rows = broker.fetch_instruments(client, lambda done, total: None, session)
    assert len(rows) == 9
    assert dict(served.requests[1].url.params) == docs.INSTRUMENTS_REQUEST[2]
    assert all(r.headers["authorization"] == "TOKEN-1" for r in served.requests)


def test_the_replies_table_reads_every_documented_envelope() -> None:
    """Success in the standard envelope, both error shapes, the bare token."""
    assert [e.status for e in REPLIES.envelopes] == ["status", "success", "token",
                                                     "access_token"]
    assert "TokenException" in REPLIES.session_expired.codes  # type: ignore[operator]


def test_replayed_calls_use_the_documented_paths() -> None:
    """Every path the plugin calls is one the docs list."""
    documented = {r[1] for r in (
        docs.GENERATE_TOKEN_REQUEST, docs.PROFILE_REQUEST, docs.FUNDS_REQUEST,
        docs.INSTRUMENTS_REQUEST, docs.LTP_REQUEST, docs.PLACE_ORDER_REQUEST,
        docs.MODIFY_ORDER_REQUEST, docs.CANCEL_ORDER_REQUEST, docs.ORDER_BOOK_REQUEST,
        docs.ORDER_DETAILS_REQUEST, docs.TRADE_BOOK_REQUEST, docs.SMART_LIMIT_REQUEST,
        docs.SMART_MODIFY_LIMIT_REQUEST, docs.SMART_CANCEL_REQUEST, docs.HOLDINGS_REQUEST,
        docs.POSITIONS_EQUITY_REQUEST)}
    from openalgo_indmoney import broker as module

    used = {value for name, value in vars(module).items()
            if name.endswith("_PATH") and isinstance(value, str)}
    assert used <= documented, used - documented
