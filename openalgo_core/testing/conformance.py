"""Conformance tests every broker package runs against its own simulator.

Subclass :class:`BrokerConformance` in your plugin's tests::

    from openalgo_core.testing.conformance import BrokerConformance
    import openalgo_mybroker.plugin

    class TestMyBroker(BrokerConformance):
        plugin = openalgo_mybroker.plugin

Every test runs twice: in-process (ASGI transport) and over a real socket
(uvicorn on loopback). Override the class attributes below when your
simulator's universe differs, and :meth:`BrokerConformance.complete_login`
when your login is not a TOTP-code challenge.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Mapping
from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pyotp
import pytest

from ..codes import PriceType, Product
from ..config import totp_now
from ..errors import (
    AuthenticationError,
    BrokerResponseError,
    OrderRejectedError,
    OrderStatusUnknownError,
    SessionExpiredError,
    UnknownSymbolError,
)
from ..gateway import Gateway
from ..http import RetryPolicy
from ..models import LoginChallenge, OrderReceipt, Session
from ..registry import ENTRY_POINT_GROUP, Registry, defaulted_hookimpl_params
from ..sessions import MemorySessionStore
from .simulator import SimulatorBase
from .transport import InProcessTransport, ServerThread
from .universe import future_symbol, monthly_expiry

__all__ = ["BrokerConformance", "Harness"]


@dataclasses.dataclass
class Harness:
    """A simulator and a gateway wired to it, plus what a test needs to check."""

    broker: str
    sim: SimulatorBase
    gateway: Gateway
    environ: dict[str, str]
    sleeps: list[float]
    mode: str

    def sim_orders(self) -> list[dict[str, Any]]:
        return [o.as_json() for o in self.sim.book.orders.values()]

    def fault(self, **changes: Any) -> None:
        self.sim.faults = dataclasses.replace(self.sim.faults, **changes)


class BrokerConformance:
    """The behaviour every broker plugin must show. Set ``plugin`` in a subclass."""

    plugin: ClassVar[Any]
    #: (symbol, exchange) for cash orders (MIS/CNC) and for NRML orders
    #: (default NRML: the universe's near-month NIFTY future on NFO).
    cash_symbol: ClassVar[tuple[str, str]] = ("SBIN", "NSE")
    nrml_symbol: ClassVar[tuple[str, str] | None] = None
    #: the gateway's read timeout in these tests (the stall fault exceeds it).
    read_timeout: ClassVar[float] = 0.5

    # -- fixtures ----------------------------------------------------------------
    @pytest.fixture
    def broker_id(self) -> str:
        return str(self.plugin.broker_info().id)

    @pytest.fixture
    def environ(self, broker_id: str) -> dict[str, str]:
        """Credentials for both sides: every field the broker declares, generated."""
        info = self.plugin.broker_info()
        env: dict[str, str] = {}
        for spec in info.credentials:
            var = f"OPENALGO_{broker_id.upper()}_{spec.name}"
            if spec.name == "TOTP_SECRET":
                env[var] = pyotp.random_base32()
            elif spec.name in ("PIN",):
                env[var] = "4321"
            elif spec.name == "REDIRECT_URL":
                env[var] = f"http://127.0.0.1:5000/{broker_id}/callback"
            else:
                env[var] = f"{spec.name.lower()}-{broker_id}-conformance"
        return env

    def make_simulator(self, environ: Mapping[str, str]) -> SimulatorBase:
        sim = self.plugin.broker_simulator(environ=environ)
        assert isinstance(sim, SimulatorBase)
        return sim

    def make_gateway(self, environ: Mapping[str, str], tmp_path: Path,
                     transport: httpx.BaseTransport | None, sleeps: list[float]) -> Gateway:
        registry = Registry(environ=environ, discover=False)
        registry.register_broker(self.plugin)
        broker = registry.broker_ids()[0]
        return Gateway(
            registry=registry, environ=environ, session_store=MemorySessionStore(),
            cache_dir=tmp_path / "cache", transports={broker: transport} if transport else {},
            retry=RetryPolicy(attempts=3), sleep=sleeps.append,
            timeout=httpx.Timeout(self.read_timeout * 8, read=self.read_timeout))

    @pytest.fixture(params=["inprocess", "http"])
    def harness(self, request: pytest.FixtureRequest, environ: dict[str, str],
                broker_id: str, tmp_path: Path) -> Iterator[Harness]:
        sim = self.make_simulator(environ)
        sleeps: list[float] = []
        env = dict(environ)
        if request.param == "inprocess":
            gateway = self.make_gateway(env, tmp_path, InProcessTransport(sim.app), sleeps)
            with gateway:
                yield Harness(broker_id, sim, gateway, env, sleeps, "inprocess")
        else:
            server = ServerThread(sim.app)
            with server.running() as url:
                env[f"OPENALGO_{broker_id.upper()}_BASE_URL"] = url
                with self.make_gateway(env, tmp_path, None, sleeps) as gateway:
                    yield Harness(broker_id, sim, gateway, env, sleeps, "http")

    def complete_login(self, harness: Harness, challenge: LoginChallenge) -> Session:
        """Answer a challenge as a user would (default: type the current TOTP)."""
        secret = harness.environ.get(f"OPENALGO_{harness.broker.upper()}_TOTP_SECRET", "")
        return harness.gateway.handle_callback(
            harness.broker, {"state": challenge.state, "code": totp_now(secret)})

    def login(self, harness: Harness) -> Session:
        result = harness.gateway.authenticate(harness.broker)
        if isinstance(result, LoginChallenge):
            result = self.complete_login(harness, result)
        assert isinstance(result, Session)
        return result

    def order(self, harness: Harness, **overrides: Any) -> dict[str, Any]:
        symbol, exchange = self.cash_symbol
        data: dict[str, Any] = {"symbol": symbol, "exchange": exchange, "action": "BUY",
                                "quantity": 1, "pricetype": "MARKET", "product": "MIS"}
        data.update(overrides)
        return data

    def _priced(self, harness: Harness, pricetype: PriceType, product: Product) -> dict[str, Any]:
        symbol, exchange = self.cash_symbol
        if product is Product.NRML:
            symbol, exchange = self.nrml_symbol or (future_symbol("NIFTY", monthly_expiry()),
                                                    "NFO")
        inst = harness.gateway.resolve(harness.broker, symbol, exchange)
        ref = harness.sim.price(inst.token)
        tick = inst.tick_size
        price = (ref / tick).to_integral_value() * tick
        fields: dict[str, Any] = {"symbol": symbol, "exchange": exchange,
                                  "quantity": inst.lot_size, "product": product.value,
                                  "pricetype": pricetype.value}
        if pricetype in (PriceType.LIMIT, PriceType.SL):
            fields["price"] = str(price)
        if pricetype in (PriceType.SL, PriceType.SL_M):
            fields["trigger_price"] = str(price - tick * 2)
        return self.order(harness, **fields)

    # -- the contract ----------------------------------------------------------------
    def test_login_ok(self, harness: Harness) -> None:
        session = self.login(harness)
        assert session.broker == harness.broker
        assert session.access_token.get_secret_value()
        assert not session.is_expired()
        assert harness.gateway.session(harness.broker) == session

    def test_wrong_totp_is_authentication_error(self, harness: Harness) -> None:
        var = f"OPENALGO_{harness.broker.upper()}_TOTP_SECRET"
        if var not in harness.environ:
            pytest.skip("broker has no TOTP secret")
        harness.environ[var] = pyotp.random_base32()
        with pytest.raises(AuthenticationError):
            self.login(harness)

    def test_wrong_pin_is_authentication_error(self, harness: Harness) -> None:
        var = next((f"OPENALGO_{harness.broker.upper()}_{f}" for f in ("PIN", "PASSWORD")
                    if f"OPENALGO_{harness.broker.upper()}_{f}" in harness.environ), None)
        if var is None:
            pytest.skip("broker has no PIN or password")
        harness.environ[var] = "0000" if harness.environ[var] != "0000" else "1111"
        with pytest.raises(AuthenticationError):
            self.login(harness)

    def test_every_pricetype_and_product_gives_a_receipt(self, harness: Harness) -> None:
        self.login(harness)
        info = harness.gateway.info(harness.broker)
        sent = []
        for product in sorted(info.products):
            for pricetype in sorted(info.pricetypes):
                order = self._priced(harness, pricetype, product)
                receipt = harness.gateway.place_order(harness.broker, order)
                assert isinstance(receipt, OrderReceipt) and receipt.order_id
                assert receipt.tag
                sent.append(receipt.order_id)
        assert len(set(sent)) == len(sent) == len(info.products) * len(info.pricetypes)
        assert len(harness.sim_orders()) == len(sent)

    def test_broker_rejection_is_order_rejected_error(self, harness: Harness) -> None:
        self.login(harness)
        harness.fault(reject_orders=1)
        with pytest.raises(OrderRejectedError) as info:
            harness.gateway.place_order(harness.broker, self.order(harness))
        assert info.value.reason and info.value.broker == harness.broker
        assert harness.sim_orders() == []

    def test_read_timeout_after_accept_is_status_unknown_after_one_request(
            self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        harness.fault(stall_after_accept_ms=self.read_timeout * 4000)
        before = harness.sim.stats["requests"]
        order = self.order(harness, tag="conformtimeout1")
        with pytest.raises(OrderStatusUnknownError) as info:
            harness.gateway.place_order(harness.broker, order)
        assert info.value.tag == "conformtimeout1"
        assert harness.sim.stats["requests"] - before == 1
        assert len(harness.sim_orders()) == 1
        harness.fault(stall_after_accept_ms=0)

    def test_dropped_connection_after_accept_is_status_unknown(self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        harness.fault(drop_after_accept=1)
        with pytest.raises(OrderStatusUnknownError) as info:
            harness.gateway.place_order(harness.broker, self.order(harness))
        assert info.value.tag
        assert len(harness.sim_orders()) == 1

    def test_rate_limited_order_is_retried_once_accepted(self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        harness.fault(rate_limit_next=1, scope="orders")
        receipt = harness.gateway.place_order(harness.broker, self.order(harness))
        assert receipt.order_id
        assert harness.sim.stats["refused"] == 1
        assert len(harness.sim_orders()) == 1

    def test_positions_empty_open_and_closed(self, harness: Harness) -> None:
        self.login(harness)
        assert harness.gateway.fetch_positions(harness.broker) == []
        harness.gateway.place_order(harness.broker, self.order(harness, quantity=2))
        (open_row,) = harness.gateway.fetch_positions(harness.broker)
        symbol, exchange = self.cash_symbol
        assert (open_row.symbol, open_row.exchange, open_row.product) == (symbol, exchange, "MIS")
        assert open_row.quantity == 2
        assert open_row.average_price > 0 and open_row.ltp > 0
        assert open_row.pnl == (open_row.ltp - open_row.average_price) * 2
        harness.gateway.place_order(harness.broker,
                                    self.order(harness, action="SELL", quantity=2))
        (closed,) = harness.gateway.fetch_positions(harness.broker)
        assert closed.quantity == 0 and closed.symbol == symbol
        assert isinstance(closed.pnl, Decimal)

    def test_expired_session_is_session_expired_error(self, harness: Harness) -> None:
        self.login(harness)
        harness.sim.expire_sessions()
        with pytest.raises(SessionExpiredError):
            harness.gateway.fetch_positions(harness.broker)
        with pytest.raises(AuthenticationError):  # the dead session was dropped
            harness.gateway.session(harness.broker)

    def test_malformed_reply_is_broker_response_error(self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        harness.fault(malformed=1, scope="reads")
        with pytest.raises(BrokerResponseError):
            harness.gateway.fetch_positions(harness.broker)
        harness.fault(malformed=1, scope="orders")
        with pytest.raises(OrderStatusUnknownError):
            harness.gateway.place_order(harness.broker, self.order(harness))

    def test_unknown_symbol_fails_before_any_request(self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.instruments(harness.broker)
        before = harness.sim.stats["requests"]
        with pytest.raises(UnknownSymbolError) as info:
            harness.gateway.place_order(harness.broker, self.order(harness, symbol="SBINN"))
        assert "SBIN" in info.value.suggestions or info.value.suggestions == ()
        assert harness.sim.stats["requests"] == before

    def test_no_secret_in_logs_or_reprs(self, harness: Harness,
                                        caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)
        session = self.login(harness)
        harness.gateway.place_order(harness.broker, self.order(harness))
        harness.gateway.fetch_positions(harness.broker)
        info = harness.gateway.info(harness.broker)
        secrets = [harness.environ[f"OPENALGO_{harness.broker.upper()}_{f.name}"]
                   for f in info.credentials if f.secret
                   and f"OPENALGO_{harness.broker.upper()}_{f.name}" in harness.environ]
        secrets.append(session.access_token.get_secret_value())
        shown = "\n".join([caplog.text, repr(session), str(session),
                           repr(harness.gateway.credentials(harness.broker)),
                           repr(session.model_dump())])
        for secret in secrets:
            assert secret not in shown

    def test_no_hookimpl_has_defaulted_parameters(self) -> None:
        assert defaulted_hookimpl_params(self.plugin) == []

    def test_broker_info_matches_entry_point(self, broker_id: str) -> None:
        info = self.plugin.broker_info()
        eps = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == broker_id]
        assert eps, f"no entry point {broker_id!r} in group {ENTRY_POINT_GROUP!r}"
        assert eps[0].load() is self.plugin
        assert info.id == broker_id
        assert all(spec.name for spec in info.credentials)
