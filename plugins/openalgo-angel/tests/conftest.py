"""Shared fixtures: credentials, a simulator, and a gateway or client wired to it in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import openalgo_angel.plugin
import pyotp
import pytest
from openalgo_angel import INFO
from openalgo_angel.simulator import AngelSimulator

from openalgo_core import BrokerClient, Gateway, MemorySessionStore, Registry, RetryPolicy
from openalgo_core.testing import InProcessTransport


@pytest.fixture
def environ() -> dict[str, str]:
    return {"OPENALGO_ANGEL_API_KEY": "smartapi-key-1", "OPENALGO_ANGEL_CLIENT_ID": "A5216313",
            "OPENALGO_ANGEL_PIN": "4321",
            "OPENALGO_ANGEL_TOTP_SECRET": pyotp.random_base32()}


@pytest.fixture
def sim(environ: dict[str, str]) -> AngelSimulator:
    return AngelSimulator(environ=environ)


@pytest.fixture
def transport(sim: AngelSimulator) -> Iterator[InProcessTransport]:
    transport = InProcessTransport(sim.app)
    yield transport
    transport.close()


@pytest.fixture
def gateway(environ: dict[str, str], transport: InProcessTransport,
            tmp_path: Path) -> Iterator[Gateway]:
    """A gateway on the plugin, talking to the simulator in-process; nothing sleeps."""
    registry = Registry(environ=environ, discover=False)
    registry.register_broker(openalgo_angel.plugin.hooks)
    with Gateway(registry=registry, environ=environ, session_store=MemorySessionStore(),
                 cache_dir=tmp_path, transports={"angel": transport},
                 retry=RetryPolicy(attempts=2), sleep=lambda s: None) as gw:
        yield gw


@pytest.fixture
def client(transport: InProcessTransport) -> Iterator[BrokerClient]:
    """A bare broker client on the simulator, for calling the modules directly."""
    client = BrokerClient(INFO, transport=transport, sleep=lambda s: None)
    yield client
    client.close()


@pytest.fixture
def http(transport: InProcessTransport) -> Iterator[httpx.Client]:
    """A raw HTTP client on the simulator, for speaking SmartAPI by hand."""
    with httpx.Client(transport=transport, base_url="https://apiconnect.angelone.in") as http:
        yield http


@pytest.fixture
def totp(environ: dict[str, str]) -> Callable[[], str]:
    """The current TOTP for the test credentials."""
    return pyotp.TOTP(environ["OPENALGO_ANGEL_TOTP_SECRET"]).now
