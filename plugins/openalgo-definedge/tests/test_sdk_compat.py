"""Definedge's official Python SDK (pyintegrate 3.0.0) against the simulator.

If the SDK can log in (its own two steps, and its download of the master contract),
trade and read the books, the simulator speaks Integrate itself and not a dialect
shared only with this plugin. The simulator runs in-process (every host of the SDK's
defaults mapped onto its ASGI app by a requests adapter) and on a loopback socket
(``login_url`` / ``base_url`` pointed at it, the hard-coded master URL mapped onto it);
paths are kept either way, and nothing reaches the internet.
"""

from __future__ import annotations

import builtins
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import httpx
import pyotp
import pytest
import requests
from openalgo_definedge.simulator import ERRORS, DefinedgeSimulator
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from openalgo_core.testing import InProcessTransport, ServerThread

#: where pyintegrate 3.0.0 downloads the master, whatever its URLs are set to
MASTER_URL = "https://app.definedgesecurities.com/public/allmaster.zip"
AUTH, TRADE = "/auth/realms/debroking/dsbpkc/", "/dart/v1/"
#: what the SDK sends for a market order (sdk-observed.md): numbers, validity, algo_id
SENT = {"exchange": "NSE", "order_type": "BUY", "price": 0, "price_type": "MARKET",
        "product_type": "INTRADAY", "quantity": 5, "tradingsymbol": "SBIN-EQ",
        "algo_id": "99999", "validity": "DAY"}


class SimulatorAdapter(BaseAdapter):
    """A requests adapter sending every request to the simulator, its path kept: through
    ``transport`` (in-process) or to ``origin`` over a socket. ``urls`` records what the
    SDK asked for."""

    def __init__(self, origin: str, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__()
        self.origin = origin
        self.client = httpx.Client(transport=transport, timeout=30)
        self.urls: list[str] = []

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: Any = True, cert: Any = None,
             proxies: Any = None) -> requests.Response:
        url = str(request.url)
        self.urls.append(url)
        parts = urlsplit(url)
        target = self.origin + parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body.encode() if isinstance(request.body, str) else request.body
        assert body is None or isinstance(body, bytes), "the SDK sends JSON, not streams"
        reply = self.client.request(str(request.method), target, content=body,
                                    headers={k: str(v) for k, v in request.headers.items()})
        response = requests.Response()
        response.status_code = reply.status_code
        response.headers = CaseInsensitiveDict(reply.headers)
        response._content = reply.content
        response.raw = io.BytesIO(reply.content)
        response.url, response.request = url, request
        return response

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def integrate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> ModuleType:
    """The SDK, run from a temporary directory, extracting the ``allmaster.csv`` its
    login downloads into that directory instead of its package folder."""
    import integrate
    import integrate.connect

    monkeypatch.chdir(tmp_path)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    # the SDK writes <dirname(integrate/connect.py)>/allmaster.csv
    monkeypatch.setattr(integrate.connect, "__file__", str(tmp_path / "connect.py"))
    return integrate


@pytest.fixture(params=["inprocess", "socket"])
def connection(request: pytest.FixtureRequest, integrate: ModuleType,
               broker_sim: DefinedgeSimulator) -> Iterator[tuple[Any, SimulatorAdapter]]:
    """A ``ConnectToIntegrate`` on the simulator, and the adapter its requests go through
    (in-process: all of them; on a socket: the master download)."""
    if request.param == "inprocess":
        adapter = SimulatorAdapter("http://simulator", InProcessTransport(broker_sim.app))
        conn = integrate.ConnectToIntegrate()
        conn._req_sess.mount("https://", adapter)
        conn._req_sess.mount("http://", adapter)
        yield conn, adapter
        conn._req_sess.close()
        return
    with ServerThread(broker_sim.app).running() as url:
        adapter = SimulatorAdapter(url)
        conn = integrate.ConnectToIntegrate(login_url=url + AUTH, base_url=url + TRADE)
        conn._req_sess.mount(MASTER_URL, adapter)
        yield conn, adapter
        conn._req_sess.close()


@pytest.fixture
def conn(connection: tuple[Any, SimulatorAdapter]) -> Any:
    return connection[0]


def login(conn: Any, environ: dict[str, str]) -> None:
    """The SDK's own two steps, with the external TOTP."""
    conn.login(api_token=environ["OPENALGO_DEFINEDGE_API_KEY"],
               api_secret=environ["OPENALGO_DEFINEDGE_API_SECRET"],
               totp=pyotp.TOTP(environ["OPENALGO_DEFINEDGE_TOTP_SECRET"]).now())


def test_sdk_logs_in_and_downloads_the_master(
        conn: Any, connection: tuple[Any, SimulatorAdapter], broker_environ: dict[str, str],
        broker_sim: DefinedgeSimulator, tmp_path: Path, integrate: ModuleType) -> None:
    login(conn, broker_environ)
    uid, actid, key, ws_key = conn.get_session_keys()
    assert uid == actid == broker_sim.uid
    assert broker_sim.user_for(key) == uid and broker_sim.user_for(ws_key) is None
    hosts = {urlsplit(url).netloc for url in connection[1].urls}
    assert MASTER_URL in connection[1].urls
    assert hosts == ({"app.definedgesecurities.com"} if conn.login_url.startswith("http://127")
                     else {"app.definedgesecurities.com", "signin.definedgesecurities.com"})
    extracted = tmp_path / "allmaster.csv"
    assert extracted.stat().st_size > 0
    assert not (Path(str(integrate.__file__)).parent / "allmaster.csv").exists()


def test_sdk_logs_in_with_the_otp_definedge_sent(
        conn: Any, broker_environ: dict[str, str], broker_sim: DefinedgeSimulator,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """No external TOTP: the SDK asks for the OTP, and the user types the one sent."""
    prompts: list[str] = []

    def typed(prompt: str = "") -> str:
        prompts.append(prompt)
        return broker_sim.user_code()

    monkeypatch.setattr(builtins, "input", typed)
    conn.login(api_token=broker_environ["OPENALGO_DEFINEDGE_API_KEY"],
               api_secret=broker_environ["OPENALGO_DEFINEDGE_API_SECRET"])
    assert prompts == ["Enter OTP/External TOTP: "]
    assert broker_sim.user_for(conn.get_session_keys()[2]) == broker_sim.uid


def test_sdk_trades_a_whole_day(conn: Any, integrate: ModuleType,
                                broker_environ: dict[str, str],
                                broker_sim: DefinedgeSimulator) -> None:
    """Place a market and a limit order, read the order book and positions, modify and
    cancel the limit, read one order, trades, limits and holdings: all through the SDK,
    and the simulator sees exactly what the SDK sends."""
    login(conn, broker_environ)
    orders = integrate.IntegrateOrders(conn)
    market = orders.place_order(**SENT, remarks="day-1")
    assert set(market) == {"status", "order_id"} and market["status"] == "SUCCESS"
    market_id = market["order_id"]
    assert broker_sim.book.orders[market_id].raw == {**SENT, "remarks": "day-1"}
    limit_id = orders.place_order(**{**SENT, "price_type": "LIMIT", "price": 1.0,
                                     "quantity": 2})["order_id"]
    assert broker_sim.book.orders[limit_id].raw == {**SENT, "price_type": "LIMIT",
                                                    "price": 1.0, "quantity": 2}

    book = {row["order_id"]: row for row in orders.orders()["orders"]}
    assert (book[market_id]["order_status"], book[market_id]["remarks"]) == (
        "COMPLETE", "day-1")
    assert (book[limit_id]["order_status"], book[limit_id]["price"]) == ("OPEN", "1.00")
    (position,) = orders.positions()["positions"]
    assert (position["tradingsymbol"], position["net_quantity"], position["product_type"]) == (
        "SBIN-EQ", "5", "INTRADAY")

    modified = orders.modify_order(exchange="NSE", order_id=limit_id, order_type="BUY",
                                   price=1.5, price_type="LIMIT", product_type="INTRADAY",
                                   quantity=3, tradingsymbol="SBIN-EQ")
    assert modified == {"status": "SUCCESS", "order_id": limit_id}
    assert broker_sim.book.orders[limit_id].raw == {**SENT, "price_type": "LIMIT",
                                                    "price": 1.0, "quantity": 2}
    booked = broker_sim.book.orders[limit_id]
    assert (booked.status, booked.quantity, booked.price) == ("open", 3, Decimal("1.5"))
    one = orders.order(limit_id)
    assert (one["order_id"], one["order_status"], one["quantity"], one["price"]) == (
        limit_id, "OPEN", "3", "1.50")

    cancelled = orders.cancel_order(limit_id)
    assert (cancelled["status"], cancelled["order_id"]) == ("SUCCESS", limit_id)
    assert booked.status == "cancelled"
    with pytest.raises(Exception, match=ERRORS["order_not_open"][1]):
        orders.cancel_order(limit_id)
    assert {row["order_id"]: row["order_status"] for row in orders.orders()["orders"]} == {
        market_id: "COMPLETE", limit_id: "CANCELED"}

    (trade,) = orders.trades()["trades"]
    price = broker_sim.price("3045")
    assert (trade["order_id"], trade["last_fill_qty"], Decimal(trade["fill_price"])) == (
        market_id, "5", price)

    limits = orders.limits()
    funds = broker_sim.funds()
    assert limits["status"] == "SUCCESS"
    assert (Decimal(limits["cash"]), Decimal(limits["marginUsed"])) == (funds.cash, price * 5)

    held = orders.holdings()["data"]
    assert [row["tradingsymbol"][0]["tradingsymbol"] for row in held] == [
        "INFY-EQ", "ITC-EQ", "TCS-EQ", "TATAMOTORS-EQ"]
    assert sum(int(row["dp_qty"]) for row in held) == sum(
        h.quantity for h in broker_sim.holdings())


def test_sdk_sees_the_simulators_refusals(conn: Any, integrate: ModuleType,
                                          broker_environ: dict[str, str],
                                          broker_sim: DefinedgeSimulator) -> None:
    wrong = dict(broker_environ, OPENALGO_DEFINEDGE_TOTP_SECRET=pyotp.random_base32())
    with pytest.raises(Exception, match="uid"):  # a refused OTP: the SDK's KeyError('uid')
        login(conn, wrong)
    with pytest.raises(Exception, match="otp_token"):  # a wrong secret: no otp_token
        conn.login(api_token=broker_environ["OPENALGO_DEFINEDGE_API_KEY"], api_secret="x",
                   totp="123456")
    login(conn, broker_environ)
    orders = integrate.IntegrateOrders(conn)
    with pytest.raises(Exception, match=ERRORS["invalid_field"][1]):
        orders.place_order(**{**SENT, "tradingsymbol": "NOPE-EQ"})
    assert broker_sim.book.orders == {}
    broker_sim.expire_sessions()
    expired: list[bool] = []
    conn.session_expired_callback = lambda: expired.append(True)
    orders.positions()
    assert expired == [True]


@pytest.mark.filterwarnings("ignore::ResourceWarning")  # the SDK's symbols leaks a file
def test_sdk_quotes_through_the_full_master(conn: Any, integrate: ModuleType,
                                            broker_environ: dict[str, str],
                                            broker_sim: DefinedgeSimulator) -> None:
    """``quotes`` finds the token by reading every row of the master as the SDK does
    (strike = col9 / (col11 * 10^col10)), then asks the simulator."""
    login(conn, broker_environ)
    data = integrate.IntegrateData(conn)
    quote = data.quotes(exchange="NSE", trading_symbol="SBIN-EQ")
    assert (quote["status"], quote["tradingsymbol"], Decimal(quote["ltp"])) == (
        "SUCCESS", "SBIN-EQ", broker_sim.mark("3045"))
    assert len(list(conn.symbols)) == broker_sim.master_size
