"""Simulators over TLS, as every real broker serves: the gateway verifies the
broker's certificate, and an untrusted one means the order never leaves."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import trustme

from openalgo_core import BrokerConnectionError, Gateway, MemorySessionStore, Registry
from openalgo_core.testing.transport import ServerThread
from tests.fakebroker import plugin as fake_plugin
from tests.fakebroker.simulator import FakeSimulator

ORDER = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1,
         "pricetype": "MARKET", "product": "MIS"}


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_sim(ca: trustme.CA, fake_sim: FakeSimulator, tmp_path: Path) -> Iterator[str]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    issued = ca.issue_cert("127.0.0.1")
    issued.private_key_pem.write_to_path(str(key))
    issued.cert_chain_pems[0].write_to_path(str(cert))
    with ServerThread(fake_sim.app, ssl_certfile=str(cert), ssl_keyfile=str(key)).running() \
            as url:
        yield url


def gateway_for(url: str, env: dict[str, str], tmp_path: Path,
                transport: httpx.BaseTransport | None = None) -> Gateway:
    registry = Registry(environ=env, discover=False)
    registry.register_broker(fake_plugin)
    return Gateway(registry=registry, environ={**env, "OPENALGO_FAKE_BASE_URL": url},
                   session_store=MemorySessionStore(), cache_dir=tmp_path / "cache",
                   transports={"fake": transport} if transport else None)


def test_orders_go_over_tls_to_a_trusted_simulator(ca: trustme.CA, tls_sim: str,
                                                   fake_sim: FakeSimulator,
                                                   fake_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    assert tls_sim.startswith("https://127.0.0.1:")
    context = ssl.create_default_context()
    ca.configure_trust(context)
    with gateway_for(tls_sim, fake_env, tmp_path, httpx.HTTPTransport(verify=context)) as gw:
        gw.authenticate("fake")
        receipt = gw.place_order("fake", ORDER)
    assert receipt.order_id in fake_sim.book.orders


def test_an_untrusted_certificate_means_nothing_is_sent(tls_sim: str, fake_sim: FakeSimulator,
                                                        fake_env: dict[str, str],
                                                        tmp_path: Path) -> None:
    with gateway_for(tls_sim, fake_env, tmp_path) as gw, \
            pytest.raises(BrokerConnectionError, match="CERTIFICATE_VERIFY_FAILED"):
        gw.authenticate("fake")  # the default context trusts public roots only
    assert fake_sim.stats["requests"] == 0


def test_tls_needs_both_files() -> None:
    with pytest.raises(ValueError, match="both"):
        ServerThread(object(), ssl_certfile="cert.pem")
