"""pytest plugin (entry point ``pytest11``) shipped with ``openalgo-core[testing]``.

Installing the extra gives any broker package assertion rewriting inside
:mod:`openalgo_core.testing.conformance`, ``openalgo_home`` (an isolated
``OPENALGO_HOME`` per test), and fixtures driven by ONE fixture your conftest
defines, ``openalgo_plugin``, returning your plugin (the module your entry point
names)::

    @pytest.fixture
    def openalgo_plugin() -> ModuleType:
        return openalgo_mybroker.plugin

=======================  ==============================================================
``broker_environ``       credentials for every field the broker declares (mutable)
``broker_sim``           the plugin's simulator, accepting ``broker_environ``
``broker_harness``       ``broker_sim`` wired to a gateway in-process (a :class:`Harness`)
``broker_harness_http``  the same over a real loopback socket
``broker_gateway``       ``broker_harness.gateway``
``broker_client``        a bare :class:`~openalgo_core.BrokerClient` on the simulator
``broker_http``          a raw ``httpx.Client`` on the simulator (the broker's protocol by hand)
``broker_totp``          a function returning the simulator's current TOTP
``broker_wire_options``  keyword arguments for :func:`wire` (override: retries, timeouts)
=======================  ==============================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # imported on use: the plugin loads in every pytest run, extra or not
    import httpx

    from ..gateway import Gateway
    from ..http import BrokerClient
    from .simulator import SimulatorBase
    from .wiring import Harness

pytest.register_assert_rewrite("openalgo_core.testing.conformance")


@pytest.fixture
def openalgo_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``OPENALGO_HOME`` for this test."""
    home = tmp_path / "openalgo-home"
    monkeypatch.setenv("OPENALGO_HOME", str(home))
    return home


@pytest.fixture
def openalgo_plugin() -> object:
    """The broker plugin under test: define this fixture in your conftest."""
    pytest.fail("define an `openalgo_plugin` fixture in your conftest returning your plugin"
                " (the module your entry point names)", pytrace=False)


@pytest.fixture
def broker_wire_options() -> dict[str, Any]:
    """Keyword arguments for :func:`~openalgo_core.testing.wiring.wire` (override to set
    ``retry``, ``timeout``, ``omit``...)."""
    return {}


@pytest.fixture
def broker_environ(openalgo_plugin: Any) -> dict[str, str]:
    """Generated credentials for every field the broker declares."""
    from .wiring import broker_environ as generated

    return generated(openalgo_plugin.broker_info())


@pytest.fixture
def broker_sim(openalgo_plugin: Any, broker_environ: dict[str, str]) -> SimulatorBase:
    from .simulator import SimulatorBase

    sim = openalgo_plugin.broker_simulator(environ=broker_environ)
    assert isinstance(sim, SimulatorBase), f"broker_simulator returned {type(sim).__name__}"
    return sim


@pytest.fixture
def broker_harness(openalgo_plugin: Any, broker_environ: dict[str, str],
                   broker_sim: SimulatorBase, tmp_path: Path,
                   broker_wire_options: dict[str, Any]) -> Iterator[Harness]:
    """``broker_sim`` and a gateway, wired in-process; ``broker_environ`` is the
    gateway's environment (change it, and the next login reads the change)."""
    from .wiring import wire

    with wire(openalgo_plugin, mode="inprocess", sim=broker_sim, environ=broker_environ,
              home=tmp_path / "openalgo-home", **broker_wire_options) as harness:
        yield harness


@pytest.fixture
def broker_harness_http(openalgo_plugin: Any, broker_environ: dict[str, str],
                        broker_sim: SimulatorBase, tmp_path: Path,
                        broker_wire_options: dict[str, Any]) -> Iterator[Harness]:
    """``broker_sim`` on a loopback socket and a gateway wired to it (its environment
    starts as a copy of ``broker_environ``)."""
    from .wiring import wire

    with wire(openalgo_plugin, mode="http", sim=broker_sim, environ=dict(broker_environ),
              home=tmp_path / "openalgo-home-http", **broker_wire_options) as harness:
        yield harness


@pytest.fixture
def broker_gateway(broker_harness: Harness) -> Gateway:
    return broker_harness.gateway


@pytest.fixture
def broker_client(broker_harness: Harness) -> BrokerClient:
    return broker_harness.client()


@pytest.fixture
def broker_http(broker_harness: Harness) -> httpx.Client:
    return broker_harness.http()


@pytest.fixture
def broker_totp(broker_sim: SimulatorBase) -> Callable[[], str]:
    return broker_sim.totp_now
