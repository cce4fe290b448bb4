"""Kotak under the kit's fixtures: ``broker_environ``, ``broker_sim``, ``broker_gateway``,
``broker_client``, ``broker_http``, ``broker_totp`` (openalgo_core.testing.pytest_plugin)."""

from __future__ import annotations

import openalgo_kotak.plugin
import pytest
from openalgo_kotak.simulator import KotakSimulator

from openalgo_core.kit import KitHooks


@pytest.fixture
def openalgo_plugin() -> KitHooks:
    return openalgo_kotak.plugin.hooks


@pytest.fixture
def broker_sim(broker_environ: dict[str, str]) -> KotakSimulator:
    """The simulator with the small master (its own listings): the full-size one is
    tested where it matters (the master tests, the conformance kit)."""
    return KotakSimulator(environ=broker_environ, master_size=0)
