"""ICICI's official Python SDK (breeze-connect 1.0.69) against the simulator: the judge of
its fidelity.

If the SDK can start a session from the simulator's redirect, price and place its own
market order (quote -> limit), place a limit, read the order book and positions, modify,
cancel, and read trades, funds and holdings, all signed its own way, the simulator speaks
Breeze itself and not a dialect shared only with this plugin.

The SDK does not import offline: ``breeze_connect.py`` downloads ``SecurityMaster.zip``
with ``urllib.request.urlopen`` when it is imported. ``urlopen`` is replaced first by one
that fetches only from the simulator (anything else is refused), and every host of the
SDK's ``config`` is pointed at the simulator on a loopback socket (paths kept). The SDK
writes ``./logs/apiLogs.log``: it runs from a temporary directory.
"""

from __future__ import annotations

import datetime as dt
import io
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from openalgo_icici.simulator import BreezeSimulator

from openalgo_core.testing import ServerThread
from openalgo_core.testing.browser import submit_login_page

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


#: ICICI's hosts the SDK reaches with ``urlopen`` (mapped onto the simulator, paths kept)
ICICI_HOSTS = ("directlink.icicidirect.com",)


class LoopbackOnly:
    """``urlopen`` for the SDK: the simulator's files (ICICI's hosts mapped onto it), never
    the internet."""

    def __init__(self) -> None:
        self.origin = ""
        self.urls: list[str] = []

    def __call__(self, url: Any, *args: Any, **kwargs: Any) -> io.BytesIO:
        text = url if isinstance(url, str) else url.full_url
        self.urls.append(text)
        parts = urlsplit(text)
        if parts.hostname in ICICI_HOSTS and self.origin:
            text = self.origin + parts.path
        if not self.origin or not text.startswith(self.origin):
            raise OSError(f"the test allows no internet: {text}")
        return io.BytesIO(httpx.get(text, timeout=30).content)


@pytest.fixture(scope="module")
def loopback() -> LoopbackOnly:
    return LoopbackOnly()


@pytest.fixture(scope="module")
def breeze_module(loopback: LoopbackOnly, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[ModuleType]:
    """``breeze_connect.breeze_connect`` imported with ``urlopen`` replaced, from a
    temporary directory (its log files land there)."""
    import os

    where = tmp_path_factory.mktemp("breeze")
    before, real = Path.cwd(), urllib.request.urlopen
    os.chdir(where)
    try:
        with ServerThread(BreezeSimulator(master_size=0).app).running() as url:
            loopback.origin = url
            urllib.request.urlopen = loopback  # type: ignore[assignment]
            from breeze_connect import breeze_connect as module
        yield module
    finally:
        urllib.request.urlopen = real
        os.chdir(before)


@pytest.fixture
def served(broker_sim: BreezeSimulator, breeze_module: ModuleType, loopback: LoopbackOnly,
           monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """The simulator on a socket, the SDK's hosts pointed at it."""
    import config

    monkeypatch.chdir(tmp_path)
    with ServerThread(broker_sim.app).running() as url:
        loopback.origin = url
        monkeypatch.setattr(config, "API_URL", url + "/breezeapi/api/v1/")
        monkeypatch.setattr(config, "SECURITY_MASTER_URL",
                            url + "/MotherAppMaster/SecurityMaster.zip")
        yield url


def session_key(url: str, sim: BreezeSimulator, environ: dict[str, str]) -> str:
    """The browser step the SDK leaves to its user: ICICI's page, the redirect back."""
    with httpx.Client(timeout=30) as browser:
        api_key = environ["OPENALGO_ICICI_API_KEY"]
        target = submit_login_page(browser, f"{url}/apiuser/login?api_key={api_key}",
                                   sim.demo_login_params(None))
    assert str(target).startswith(environ["OPENALGO_ICICI_REDIRECT_URL"])
    return dict(parse_qsl(urlsplit(str(target)).query))["apisession"]


@pytest.fixture
def breeze(served: str, broker_sim: BreezeSimulator, breeze_module: ModuleType,
           broker_environ: dict[str, str]) -> Any:
    """A ``BreezeConnect`` with a session from the simulator's redirect."""
    client = breeze_module.BreezeConnect(api_key=broker_environ["OPENALGO_ICICI_API_KEY"])
    client.generate_session(api_secret=broker_environ["OPENALGO_ICICI_API_SECRET"],
                            session_token=session_key(served, broker_sim, broker_environ))
    return client


def ok(reply: Any) -> Any:
    assert isinstance(reply, dict) and reply.get("Status") == 200, reply
    return reply["Success"]


def today() -> tuple[str, str]:
    day = dt.date.today().isoformat()
    return f"{day}T00:00:00.000Z", f"{day}T23:59:59.000Z"


def test_session_from_the_redirect(breeze: Any, broker_sim: BreezeSimulator) -> None:
    """The SDK decodes ``session_token`` (base64 "user:key") into its user id and key."""
    assert breeze.user_id == broker_sim.user_id
    assert broker_sim.user_for(breeze.session_key) == broker_sim.user_id


def test_a_bad_session_key_is_refused_as_breeze_does(served: str, breeze_module: ModuleType,
                                                     broker_environ: dict[str, str]) -> None:
    client = breeze_module.BreezeConnect(api_key=broker_environ["OPENALGO_ICICI_API_KEY"])
    with pytest.raises(Exception, match="session"):
        client.generate_session(api_secret=broker_environ["OPENALGO_ICICI_API_SECRET"],
                                session_token="00000000")


def test_the_sdks_day(breeze: Any, broker_sim: BreezeSimulator) -> None:
    """Market (quote -> limit) and limit orders, the book, positions, modify, cancel,
    trades, funds and holdings: every call signed by the SDK, checked by the simulator."""
    sbin = next(r for r in broker_sim.listings if (r.symbol, r.exchange) == ("SBIN", "NSE"))
    market = ok(breeze.place_order(stock_code="STABAN", exchange_code="NSE", product="cash",
                                   action="buy", order_type="market", quantity="2",
                                   price="", validity="day", user_remark="sdkmarket"))
    booked = broker_sim.book.orders[market["order_id"]]
    assert (booked.symbol, booked.pricetype, booked.status, booked.filled) == (
        "SBIN", "LIMIT", "complete", 2)
    sent = booked.raw
    assert sent["order_type"] == "limit" and float(sent["price"]) > float(sbin.price)
    below = sbin.price - 10 * sbin.tick_size
    limit = ok(breeze.place_order(stock_code="STABAN", exchange_code="NSE", product="cash",
                                  action="buy", order_type="limit", quantity="1",
                                  price=str(below), validity="day", user_remark="sdklimit"))
    start, end = today()
    book = ok(breeze.get_order_list(exchange_code="NSE", from_date=start, to_date=end))
    assert {row["order_id"]: row["status"] for row in book} == {
        market["order_id"]: "Executed", limit["order_id"]: "Ordered"}
    positions = ok(breeze.get_portfolio_positions())
    assert [(p["stock_code"], p["action"], p["quantity"]) for p in positions] == [
        ("STABAN", "Buy", "2")]
    lower = below - sbin.tick_size
    ok(breeze.modify_order(order_id=limit["order_id"], exchange_code="NSE",
                           order_type="limit", stoploss="", quantity="3", price=str(lower),
                           validity="day", disclosed_quantity="", validity_date=""))
    resting = broker_sim.book.orders[limit["order_id"]]
    assert (resting.quantity, resting.price) == (3, Decimal(lower))
    ok(breeze.cancel_order(exchange_code="NSE", order_id=limit["order_id"]))
    assert broker_sim.book.orders[limit["order_id"]].status == "cancelled"
    trades = ok(breeze.get_trade_list(from_date=start, to_date=end, exchange_code="NSE",
                                      product_type="", action="", stock_code=""))
    assert [(t["order_id"], t["quantity"]) for t in trades] == [(market["order_id"], "2")]
    funds = ok(breeze.get_funds())
    assert float(funds["block_by_trade_equity"]) > 0
    holdings = ok(breeze.get_portfolio_holdings(exchange_code="NSE", from_date="",
                                                to_date="", stock_code="",
                                                portfolio_type=""))
    assert {h["stock_code"] for h in holdings} == {"INFTEC", "ITC", "TATMOT"}


def test_an_option_market_order_is_priced_from_its_quote(breeze: Any,
                                                         broker_sim: BreezeSimulator) -> None:
    """A derivative: the SDK quotes it by expiry, right and strike, then sends a limit
    10% above the last price (options), which fills."""
    option = next(r for r in broker_sim.listings
                  if r.exchange == "NFO" and r.name == "NIFTY" and r.kind == "CE")
    assert option.expiry is not None and option.strike is not None
    reply = ok(breeze.place_order(
        stock_code="NIFTY", exchange_code="NFO", product="options", action="buy",
        order_type="market", quantity=str(option.lot_size), price="", validity="day",
        expiry_date=f"{option.expiry.isoformat()}T06:00:00.000Z", right="call",
        strike_price=format(option.strike.normalize(), "f"), user_remark="sdkoption"))
    booked = broker_sim.book.orders[reply["order_id"]]
    assert (booked.symbol, booked.status) == (option.symbol, "complete")


def test_a_wrong_secret_is_refused_as_breeze_does(breeze: Any) -> None:
    breeze.secret_key = "not-the-secret"
    reply = breeze.get_funds()
    assert reply == {"Success": None, "Status": 5,
                     "Error": "Authentication Fail :: Invalid Checksum."}
