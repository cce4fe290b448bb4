"""ICICI under the kit's fixtures: ``broker_environ``, ``broker_sim``, ``broker_gateway``,
``broker_client``, ``broker_http`` (openalgo_core.testing.pytest_plugin)."""

from __future__ import annotations

from typing import Any

import openalgo_icici.plugin
import pytest

from openalgo_core.kit import KitHooks


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
