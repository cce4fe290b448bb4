"""What every conformance feature class shares: the plugin, the wiring, a login, an order."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import httpx
import pytest

from ...codes import PriceType, Product
from ...errors import UnsupportedOperationError
from ...http import request_meta
from ...models import Instrument, LoginChallenge, Session
from ..faults import Faults
from ..universe import future_symbol, monthly_expiry
from ..wiring import Harness, Mode, wire

__all__ = ["Clock", "ConformanceBase", "Outcome", "failure", "kinds", "outcome", "sent"]

Outcome = tuple[Any, BaseException | None]
_T = TypeVar("_T")


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
    #: the CSV columns (as the file's header spells them) the sweep puts every garbage
    #: value into; None: every column. A master of many columns (Kotak's 78, of which 11
    #: are read) names those its plugin reads; hypothesis's draws still reach every one.
    garbage_columns: ClassVar[frozenset[str] | None] = None
    #: whether the rows of the broker's order book carry the tag each order was sent with
    #: (set False for a broker whose book does not, as its README says: the gateway then
    #: cannot settle an unknown outcome, which stays unknown)
    book_carries_tags: ClassVar[bool] = True
    #: whether the broker's risk checks refuse an order needing more margin than the
    #: account has when it is placed (IndMoney: HTTP 400 ``OrderException``, "RMS: Margin
    #: exceeds ..."), instead of accepting it and rejecting it in the order book (Angel)
    margin_refused_at_placement: ClassVar[bool] = False
    #: an order id the broker cannot know
    unknown_order_id: ClassVar[str] = "990000000000001"
    #: reads the plugin sends to place one MARKET order, before the order itself (ICICI:
    #: the quote a protected market order is priced from); the settling checks count them,
    #: and an expired session is met by the first of them instead of the order
    order_reads: ClassVar[int] = 0

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
        bytes are the same over a socket, and a sweep sends hundreds of requests). Its
        simulator serves the small master (its own listings): a sweep parses the master
        hundreds of times, and a full-size one is checked by ``MasterContractConformance``."""
        for mode in self.garbage_modes:
            with self.wire(mode, home=tmp_path / mode) as harness:
                harness.sim.master_size = 0
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
        """A BUY of ``pricetype`` and ``product`` at the market, in whole lots and ticks; a
        stop waits above the market, as a BUY stop must (trigger 2 ticks up, an SL's limit
        3 ticks up: exchanges and brokers such as IndMoney refuse a BUY trigger below the
        last price, and an SL limit below its trigger)."""
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
        if pricetype is PriceType.LIMIT:
            fields["price"] = str(price)
        if pricetype is PriceType.SL:
            fields["price"] = str(price + tick * 3)
        if pricetype in (PriceType.SL, PriceType.SL_M):
            fields["trigger_price"] = str(price + tick * 2)
        return self.order(harness, **fields)

    def clear_faults(self, harness: Harness) -> None:
        harness.sim.faults = Faults()

    def supported(self, call: Callable[[], _T]) -> _T:
        """``call()``; a broker answering :class:`UnsupportedOperationError` passes the
        check by skipping it with that reason."""
        try:
            return call()
        except UnsupportedOperationError as exc:
            pytest.skip(f"unsupported: {exc}")

    def hook(self, harness: Harness, name: str, **arguments: Any) -> Any:
        """Call the plugin's hook ``name`` itself, past the gateway's own checks, with a
        live session and the broker's credentials and client."""
        gateway, broker = harness.gateway, harness.broker
        return gateway.registry.call(broker, name, session=gateway.session(broker),
                                     credentials=gateway.credentials(broker),
                                     client=gateway.client(broker), **arguments)

    def market(self, harness: Harness) -> tuple[Instrument, Decimal]:
        """The cash instrument and its market price now, on its tick."""
        instrument = harness.gateway.resolve(harness.broker, *self.cash_symbol)
        tick = instrument.tick_size
        return instrument, (harness.sim.price(instrument.token) / tick).to_integral_value() * tick

    def resting_limit(self, harness: Harness, ticks: int = 10, **overrides: Any
                      ) -> dict[str, Any]:
        """A BUY LIMIT ``ticks`` below the market, in whole lots: it rests open."""
        self.needs(harness, PriceType.LIMIT)
        instrument, price = self.market(harness)
        return self.order(harness, **{
            "pricetype": "LIMIT", "quantity": instrument.lot_size,
            "price": str(price - instrument.tick_size * ticks), **overrides})

    def resting_stop(self, harness: Harness, **overrides: Any) -> dict[str, Any]:
        """A BUY SL triggered 4 ticks above the market (limit 5 above): it waits."""
        self.needs(harness, PriceType.SL)
        instrument, price = self.market(harness)
        tick = instrument.tick_size
        return self.order(harness, **{
            "pricetype": "SL", "quantity": instrument.lot_size, "price": str(price + tick * 5),
            "trigger_price": str(price + tick * 4), **overrides})

    def needs(self, harness: Harness, pricetype: PriceType) -> None:
        """Skip unless the broker takes ``pricetype`` orders."""
        if pricetype not in harness.gateway.info(harness.broker).pricetypes:
            pytest.skip(f"the broker takes no {pricetype} orders")


@dataclass
class Clock:
    """A gateway's time (``clock=``, ``sleep=``) that moves only when the gateway sleeps
    (back-off, settling) or a check says so: bounds such as the settle policy's ``grace``
    are crossed without waiting. It runs an hour behind the real time, so that no session
    (which expires at the broker's daily boundary by the real time) expires in it."""

    start: dt.datetime = field(
        default_factory=lambda: dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    elapsed: float = 0.0

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.elapsed)

    def sleep(self, seconds: float) -> None:
        """Move on by ``seconds`` (a negative or NaN pause moves no time)."""
        if seconds > 0:
            self.elapsed += min(seconds, 3600.0)


@contextlib.contextmanager
def sent(harness: Harness, *, answered: bool = False) -> Iterator[list[httpx.Request]]:
    """Every request the gateway sends to the broker meanwhile (not a test's own
    browsing); ``answered``: only those that got a reply, each once however many times
    the client sent it."""
    requests: list[httpx.Request] = []
    hooks = harness.gateway.client(harness.broker).http.event_hooks[
        "response" if answered else "request"]

    def record(message: httpx.Request | httpx.Response) -> None:
        requests.append(message.request if isinstance(message, httpx.Response) else message)

    hooks.append(record)
    try:
        yield requests
    finally:
        hooks.remove(record)


def failure(call: Callable[[], Any], expected: type[BaseException]) -> BaseException:
    """What ``call`` raised, asserted to be an ``expected`` (anything else, or nothing
    raised, is an AssertionError naming what came instead)."""
    result, error = outcome(call)
    assert isinstance(error, expected), (
        f"expected {expected.__name__}, got {error or result!r:.300}")
    return error


def kinds(requests: Iterable[httpx.Request]) -> Counter[str]:
    """How many requests of each kind (``order``, ``read``, ``login``)."""
    return Counter(request_meta(request).kind for request in requests)


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
