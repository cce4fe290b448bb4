"""Shared fixtures: the fake broker wired to a gateway in-process (the kit's wiring)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from openalgo_core import Gateway
from openalgo_core.testing.wiring import Harness, wire
from tests.fakebroker import plugin as fake_plugin
from tests.fakebroker.simulator import FakeSimulator


@pytest.fixture
def fake_env(tmp_path: Path) -> dict[str, str]:
    """The fake broker's credentials and a home of its own (sessions, journal, caches);
    once ``gateway`` is used, its live environment."""
    return {"OPENALGO_FAKE_API_KEY": "key-123456", "OPENALGO_FAKE_CLIENT_ID": "C42",
            "OPENALGO_FAKE_PIN": "9876", "OPENALGO_FAKE_TOTP_SECRET": pyotp.random_base32(),
            "OPENALGO_HOME": str(tmp_path / "home")}


@pytest.fixture
def fake_sim(fake_env: dict[str, str]) -> FakeSimulator:
    return FakeSimulator(environ=fake_env)


@pytest.fixture
def fake_harness(fake_env: dict[str, str], fake_sim: FakeSimulator,
                 tmp_path: Path) -> Iterator[Harness]:
    with wire(fake_plugin, sim=fake_sim, environ=fake_env, home=tmp_path / "home") as harness:
        yield harness


@pytest.fixture
def sleeps(fake_harness: Harness) -> list[float]:
    """What the gateway would have slept (recorded, not slept)."""
    return fake_harness.sleeps


@pytest.fixture
def gateway(fake_harness: Harness) -> Gateway:
    return fake_harness.gateway
