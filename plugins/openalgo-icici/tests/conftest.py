"""ICICI under the kit's fixtures: ``broker_environ``, ``broker_sim``, ``broker_gateway``,
``broker_client``, ``broker_http`` (openalgo_core.testing.pytest_plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openalgo_icici.plugin
import pytest
from openalgo_icici.simulator import BreezeSimulator

from openalgo_core.kit import KitHooks
from openalgo_core.testing.wiring import Harness, broker_environ, wire


@pytest.fixture
def openalgo_plugin() -> KitHooks:
    return openalgo_icici.plugin.hooks


@pytest.fixture
def broker_sim(openalgo_plugin: KitHooks, broker_environ: dict[str, str]) -> Any:
    """The kit's simulator fixture on the small master (the simulator's own listings): the
    full-size zip is checked by the conformance suite and ``test_instruments.py``."""
    sim = openalgo_plugin.broker_simulator(environ=broker_environ)
    sim.master_size = 0
    return sim


@pytest.fixture
def env(openalgo_plugin: KitHooks) -> dict[str, str]:
    """Generated credentials (``MARKET_ORDERS`` at its default), for :func:`sim` and a
    gateway alike."""
    return broker_environ(openalgo_plugin.broker_info())


@pytest.fixture
def sim(env: dict[str, str]) -> BreezeSimulator:
    """The simulator on the small master, accepting ``env``."""
    return BreezeSimulator(environ=env, master_size=0)


@pytest.fixture
def wired(sim: BreezeSimulator, env: dict[str, str],
          tmp_path: Path) -> Iterator[Harness]:
    """``sim`` and a gateway wired to it in-process (not logged in)."""
    with wire(openalgo_icici.plugin.hooks, mode="inprocess", sim=sim, environ=env,
              home=tmp_path / "h") as harness:
        yield harness
