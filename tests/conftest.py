"""Shared fixtures: the fake broker wired to a gateway in-process (the kit's wiring)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from openalgo_core import Gateway
from openalgo_core.server import ApiKeys, create_app
from openalgo_core.server.apikeys import KeyRateLimiter
from openalgo_core.testing import InProcessTransport
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


# -- the REST gateway over the fake broker, in-process ---------------------------------
KEY = "k" * 64
ORDER = {"apikey": KEY, "strategy": "t", "symbol": "SBIN", "exchange": "NSE", "action": "BUY",
         "quantity": "2", "pricetype": "MARKET", "product": "MIS"}


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def web(gateway: Gateway, fake_env: dict[str, str], clock: Clock) -> Iterator[httpx.Client]:
    env = {**fake_env, "OPENALGO_API_KEY": KEY, "OPENALGO_BROKER": "fake"}
    app = create_app(gateway, environ=env, api_keys=ApiKeys(env, Path("/nonexistent")),
                     order_limiter=KeyRateLimiter(10, clock=clock))
    with httpx.Client(transport=InProcessTransport(app), base_url="http://127.0.0.1") as client:
        yield client


@pytest.fixture
def logged_in(gateway: Gateway) -> Gateway:
    gateway.authenticate("fake")
    return gateway


def post(web: httpx.Client, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = web.post(f"/api/v1/{path}", json=body)
    return response.status_code, response.json()
