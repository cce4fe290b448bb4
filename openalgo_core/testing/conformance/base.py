"""What every conformance feature class shares: the plugin, the wiring, a login, an order."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from ...codes import PriceType, Product
from ...models import LoginChallenge, Session
from ..faults import Faults
from ..universe import future_symbol, monthly_expiry
from ..wiring import Harness, Mode, wire

__all__ = ["ConformanceBase", "Outcome", "outcome", "sent"]

Outcome = tuple[Any, BaseException | None]


class ConformanceBase:
    """Fixtures and helpers of the conformance kit. Set ``plugin`` in a subclass."""

    plugin: ClassVar[Any]
    #: (symbol, exchange) for cash orders (MIS/CNC) and for NRML orders
    #: (default NRML: the universe's near-month NIFTY future on NFO).
    cash_symbol: ClassVar[tuple[str, str]] = ("SBIN", "NSE")
    nrml_symbol: ClassVar[tuple[str, str] | None] = None
    #: the gateway's read timeout in these tests (the stall fault exceeds it).
    read_timeout: ClassVar[float] = 0.5
    #: garbage replies: hypothesis examples per reply kind (after the full sweep), and
    #: the modes they run in (the bytes are the same over a socket).
    garbage_examples: ClassVar[int] = 25
    garbage_modes: ClassVar[tuple[Mode, ...]] = ("inprocess",)

    # -- fixtures ----------------------------------------------------------------
    @pytest.fixture
    def openalgo_plugin(self) -> Any:
        """The plugin under test, for the ``broker_*`` fixtures of the pytest plugin."""
        return self.plugin

    @pytest.fixture
    def broker_id(self) -> str:
        return str(self.plugin.broker_info().id)

    @pytest.fixture(params=["inprocess", "http"])
    def mode(self, request: pytest.FixtureRequest) -> Mode:
        """In-process (ASGI transport) and over a real loopback socket."""
        mode: Mode = request.param
        return mode

    @pytest.fixture
    def harness(self, mode: Mode, tmp_path: Path) -> Iterator[Harness]:
        with self.wire(mode, home=tmp_path / "home") as harness:
            yield harness

    @contextlib.contextmanager
    def wire(self, mode: Mode, **options: Any) -> Iterator[Harness]:
        """The plugin wired to its simulator (see :func:`~openalgo_core.testing.wire`),
        with the kit's short read timeout unless ``options`` set one."""
        options.setdefault("timeout", httpx.Timeout(self.read_timeout * 8,
                                                    read=self.read_timeout))
        with wire(self.plugin, mode=mode, **options) as harness:
            yield harness

    def garbage_harnesses(self, tmp_path: Path) -> Iterator[Harness]:
        """A harness per mode of ``garbage_modes`` (in-process only by default: hostile
        bytes are the same over a socket, and a sweep sends hundreds of requests)."""
        for mode in self.garbage_modes:
            with self.wire(mode, home=tmp_path / mode) as harness:
                yield harness

    # -- helpers -------------------------------------------------------------------
    def credential_names(self) -> list[str]:
        return [spec.name for spec in self.plugin.broker_info().credentials]

    def complete_login(self, harness: Harness, challenge: LoginChallenge) -> Session:
        """Answer a challenge as a user would (the code form, or the broker's login page)."""
        return harness.gateway.handle_callback(harness.broker, harness.answer(challenge))

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

    def priced(self, harness: Harness, pricetype: PriceType, product: Product
               ) -> dict[str, Any]:
        """An order of ``pricetype`` and ``product`` at the market, in whole lots and ticks."""
        symbol, exchange = self.cash_symbol
        if product is Product.NRML:
            symbol, exchange = self.nrml_symbol or (future_symbol("NIFTY", monthly_expiry()),
                                                    "NFO")
        inst = harness.gateway.resolve(harness.broker, symbol, exchange)
        tick = inst.tick_size
        price = (harness.sim.price(inst.token) / tick).to_integral_value() * tick
        fields: dict[str, Any] = {"symbol": symbol, "exchange": exchange,
                                  "quantity": inst.lot_size, "product": product.value,
                                  "pricetype": pricetype.value}
        if pricetype in (PriceType.LIMIT, PriceType.SL):
            fields["price"] = str(price)
        if pricetype in (PriceType.SL, PriceType.SL_M):
            fields["trigger_price"] = str(price - tick * 2)
        return self.order(harness, **fields)

    def clear_faults(self, harness: Harness) -> None:
        harness.sim.faults = Faults()


@contextlib.contextmanager
def sent(harness: Harness) -> Iterator[list[httpx.Request]]:
    """Every request the gateway sends to the broker meanwhile (not a test's own browsing)."""
    requests: list[httpx.Request] = []
    hooks = harness.gateway.client(harness.broker).http.event_hooks["request"]
    hooks.append(requests.append)
    try:
        yield requests
    finally:
        hooks.remove(requests.append)


def outcome(call: Callable[[], Any]) -> Outcome:
    """``(result, None)`` or ``(None, the exception)``: anything but a test outcome."""
    try:
        return call(), None
    except (pytest.fail.Exception, pytest.skip.Exception):
        raise
    except BaseException as exc:  # what escapes is what is judged
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return None, exc
