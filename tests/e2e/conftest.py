"""End-to-end fixtures: the fake broker's simulator and the gateway, each on a real
loopback socket (uvicorn on a background thread), wired as ``openalgo serve`` wires them.

``stack`` logs in unattended (the gateway knows the TOTP secret); ``stack_without_totp``
keeps the secret from the gateway (the simulator still checks codes against it), so a
login goes through the gateway's code form and the test types the code itself.

Every test under ``tests/e2e`` is marked ``e2e``: ``pytest tests/e2e -m e2e`` runs them,
``pytest tests --ignore=tests/e2e`` (the ``core`` nox session) leaves them out.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path

import pyotp
import pytest

from openalgo_core import Gateway
from openalgo_core.server import create_app
from openalgo_core.testing import ServerThread, SimulatorBase
from openalgo_core.testing.wiring import Harness, wire
from tests.fakebroker import plugin as fake_plugin
from tests.fakebroker.simulator import FakeSimulator

HERE = Path(__file__).parent
TOTP_VAR = "OPENALGO_FAKE_TOTP_SECRET"
#: one TradingView strategy (LONG, SBIN on NSE, 3 a trade), for OpenAlgo's ``Strategy``
WEBHOOKS = """[[strategy]]
id = "{}"
name = "e2e"
[[strategy.symbols]]
symbol = "SBIN"
exchange = "NSE"
quantity = 3
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.e2e)


@dataclass(frozen=True)
class Stack:
    """A running simulator and gateway; ``url`` is the gateway's base URL."""

    url: str
    api_key: str
    broker: str
    sim: SimulatorBase
    sim_url: str
    gateway: Gateway
    totp_secret: str
    client_id: str
    webhook_id: str


def _serve(harness: Harness, tmp_path: Path, totp_secret: str, client_id: str
           ) -> Iterator[Stack]:
    """The gateway over a wired broker, with a key and one webhook strategy."""
    env = harness.environ
    env.update({"OPENALGO_API_KEY": secrets.token_hex(32), "OPENALGO_BROKER": harness.broker})
    webhook_id = secrets.token_hex(16)
    webhooks = tmp_path / "webhooks.toml"
    webhooks.write_text(WEBHOOKS.format(webhook_id))
    env["OPENALGO_WEBHOOKS"] = str(webhooks)
    with ServerThread(create_app(harness.gateway, environ=env)).running() as url:
        assert harness.url is not None
        yield Stack(url=url, api_key=env["OPENALGO_API_KEY"], broker=harness.broker,
                    sim=harness.sim, sim_url=harness.url, gateway=harness.gateway,
                    totp_secret=totp_secret, client_id=client_id, webhook_id=webhook_id)


def _run_stack(tmp_path: Path, *, gateway_knows_totp: bool) -> Iterator[Stack]:
    credentials = {"OPENALGO_FAKE_API_KEY": secrets.token_hex(8),
                   "OPENALGO_FAKE_CLIENT_ID": "E2E7", "OPENALGO_FAKE_PIN": "2468",
                   TOTP_VAR: pyotp.random_base32()}
    totp_secret = credentials[TOTP_VAR]  # the simulator checks codes against it
    omit = () if gateway_knows_totp else ("TOTP_SECRET",)
    with wire(fake_plugin, mode="http", environ=credentials, omit=omit,
              home=tmp_path / "home") as harness:
        assert isinstance(harness.sim, FakeSimulator)
        yield from _serve(harness, tmp_path, totp_secret, "E2E7")


def installed_brokers() -> list[str]:
    """The broker plugins installed in this environment (the e2e session: Angel)."""
    return sorted(ep.name for ep in entry_points(group="openalgo.brokers"))


@pytest.fixture(params=["fake", *installed_brokers()])
def broker_stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stack]:
    """Simulator + gateway for the fake broker and for every installed plugin, each with
    generated credentials (an unattended login where the broker allows one)."""
    if request.param == "fake":
        yield from _run_stack(tmp_path, gateway_knows_totp=True)
        return
    (plugin,) = entry_points(group="openalgo.brokers", name=request.param)
    with wire(plugin.load(), mode="http", home=tmp_path / "home") as harness:
        yield from _serve(harness, tmp_path, "", "")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """Simulator + gateway; the gateway has the TOTP secret (unattended login)."""
    yield from _run_stack(tmp_path, gateway_knows_totp=True)


@pytest.fixture
def stack_without_totp(tmp_path: Path) -> Iterator[Stack]:
    """Simulator + gateway; the gateway lacks the TOTP secret (login asks for the code)."""
    yield from _run_stack(tmp_path, gateway_knows_totp=False)
