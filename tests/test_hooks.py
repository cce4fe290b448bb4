"""One test per hook, through the registry and gateway (meta-tested in test_docs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from openalgo_core import (
    BrokerInfo,
    Gateway,
    Instrument,
    InstrumentIndex,
    LoginChallenge,
    OrderRequest,
    Session,
    hookimpl,
    totp_now,
)
from openalgo_core.testing import SimulatorBase
from tests.fakebroker import plugin as fake_plugin

ORDER = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 3}


class Spy:
    """A wrapper plugin recording what each hook was called with."""

    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}

    @hookimpl(wrapper=True)
    def place_order(self, order: Any, instrument: Any, session: Any) -> Any:
        self.calls["place_order"] = {"order": order, "instrument": instrument,
                                     "session": session}
        return (yield)

    @hookimpl(wrapper=True)
    def fetch_positions(self, instruments: Any) -> Any:
        self.calls["fetch_positions"] = {"instruments": instruments}
        return (yield)

    @hookimpl(wrapper=True)
    def fetch_instruments(self, session: Any) -> Any:
        self.calls.setdefault("fetch_instruments", []).append(session)
        return (yield)


@pytest.fixture
def spy(gateway: Gateway) -> Spy:
    spy = Spy()
    gateway.registry.register_wrapper(spy, name="spy")
    return spy


def test_hook_broker_info_declares_the_broker(gateway: Gateway) -> None:
    info = gateway.info("fake")
    assert isinstance(info, BrokerInfo) and info == fake_plugin.INFO
    assert {f.name for f in info.credentials if f.secret} == {"API_KEY", "PIN", "TOTP_SECRET"}


def test_hook_authenticate_returns_a_session_with_totp(gateway: Gateway) -> None:
    session = gateway.authenticate("fake")
    assert isinstance(session, Session) and session.broker == "fake"


def test_hook_handle_callback_completes_a_challenge(gateway: Gateway,
                                                    fake_env: dict[str, str]) -> None:
    secret = fake_env.pop("OPENALGO_FAKE_TOTP_SECRET")
    challenge = gateway.authenticate("fake")
    assert isinstance(challenge, LoginChallenge)
    session = gateway.handle_callback("fake", {"state": challenge.state,
                                               "code": totp_now(secret)})
    assert isinstance(session, Session) and gateway.session("fake") == session


def test_hook_place_order_gets_tagged_order_and_resolved_instrument(
        gateway: Gateway, spy: Spy) -> None:
    session = gateway.authenticate("fake")
    receipt = gateway.place_order("fake", ORDER)
    seen = spy.calls["place_order"]
    assert isinstance(seen["order"], OrderRequest) and seen["order"].tag == receipt.tag
    assert isinstance(seen["instrument"], Instrument) and seen["instrument"].token == "3045"
    assert seen["session"] == session


def test_hook_fetch_positions_gets_the_index(gateway: Gateway, spy: Spy) -> None:
    gateway.authenticate("fake")
    assert gateway.fetch_positions("fake") == []
    assert isinstance(spy.calls["fetch_positions"]["instruments"], InstrumentIndex)


def test_hook_fetch_instruments_reports_progress(gateway: Gateway) -> None:
    seen: list[tuple[int, int | None]] = []
    index = gateway.instruments("fake", progress=lambda d, t: seen.append((d, t)))
    assert index.resolve("SBIN", "NSE").token == "3045"
    assert seen and seen[-1][0] > 0


def test_hook_fetch_instruments_gets_the_live_session_or_none(gateway: Gateway,
                                                              spy: Spy) -> None:
    gateway.instruments("fake", refresh=True)
    session = gateway.authenticate("fake")
    gateway.instruments("fake", refresh=True)
    assert spy.calls["fetch_instruments"] == [None, session]


def test_hook_broker_simulator_builds_the_simulator(gateway: Gateway,
                                                    fake_env: Mapping[str, str]) -> None:
    sim = gateway.registry.call("fake", "broker_simulator", environ=fake_env)
    assert isinstance(sim, SimulatorBase)
    assert sim.credentials["PIN"] == fake_env["OPENALGO_FAKE_PIN"]
