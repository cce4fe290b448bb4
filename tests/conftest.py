"""Shared fixtures: the fake broker wired to a gateway, in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyotp
import pytest

from openalgo_core import Gateway, MemorySessionStore, Registry, RetryPolicy
from openalgo_core.testing import InProcessTransport
from tests.fakebroker import plugin as fake_plugin
from tests.fakebroker.simulator import FakeSimulator


@pytest.fixture
def fake_env() -> dict[str, str]:
    return {"OPENALGO_FAKE_API_KEY": "key-123456", "OPENALGO_FAKE_CLIENT_ID": "C42",
            "OPENALGO_FAKE_PIN": "9876", "OPENALGO_FAKE_TOTP_SECRET": pyotp.random_base32()}


@pytest.fixture
def fake_sim(fake_env: dict[str, str]) -> FakeSimulator:
    return FakeSimulator(environ=fake_env)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def gateway(fake_env: dict[str, str], fake_sim: FakeSimulator, tmp_path: Path,
            sleeps: list[float]) -> Iterator[Gateway]:
    registry = Registry(environ=fake_env, discover=False)
    registry.register_broker(fake_plugin)
    with Gateway(registry=registry, environ=fake_env, session_store=MemorySessionStore(),
                 cache_dir=tmp_path / "cache",
                 transports={"fake": InProcessTransport(fake_sim.app)},
                 retry=RetryPolicy(attempts=3), sleep=sleeps.append) as gw:
        yield gw
