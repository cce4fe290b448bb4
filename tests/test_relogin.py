"""Unattended re-login: once for many callers, never deleting a newer session, only when
the credentials allow it, with the credentials as they are now."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from openalgo_core import (
    AuthenticationError,
    EnvFileEnviron,
    Gateway,
    LoginRequiredError,
    MemorySessionStore,
    Registry,
    Session,
    SessionExpiredError,
    SQLiteSessionStore,
    hookimpl,
    new_session,
)
from openalgo_core.testing import ServerThread
from tests.fakebroker import plugin as fake_plugin
from tests.fakebroker.simulator import FakeSimulator

ORDER = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1}


@pytest.fixture
def logins(fake_sim: FakeSimulator, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every token the simulator issued (one per login it accepted)."""
    issued: list[str] = []
    original = fake_sim.issue_token

    def counting(user_id: str) -> str:
        issued.append(token := original(user_id))
        return token

    monkeypatch.setattr(fake_sim, "issue_token", counting)
    return issued


def test_no_session_logs_in_by_itself(gateway: Gateway, logins: list[str]) -> None:
    assert gateway.fetch_positions("fake") == []
    assert len(logins) == 1
    gateway.place_order("fake", ORDER)
    assert len(logins) == 1  # the stored session is reused


def test_an_expired_session_is_replaced_before_the_call(gateway: Gateway,
                                                        logins: list[str]) -> None:
    gateway.sessions.put(new_session("fake", "C42", "old",
                                     now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
    gateway.place_order("fake", ORDER)
    assert len(logins) == 1
    session = gateway.sessions.get("fake")
    assert session is not None and session.access_token.get_secret_value() == logins[0]


def test_an_order_refused_for_expiry_is_sent_once_more_after_login(
        gateway: Gateway, fake_sim: FakeSimulator, logins: list[str]) -> None:
    gateway.authenticate("fake")
    fake_sim.expire_sessions()  # the broker ends the session mid-run
    receipt = gateway.place_order("fake", {**ORDER, "tag": "afterexpiry1"})
    assert len(logins) == 2
    assert [o.tag for o in fake_sim.book.orders.values()] == ["afterexpiry1"]
    entry = gateway.journal.get("afterexpiry1")
    assert entry is not None and entry.order_id == receipt.order_id and entry.attempts == 2


def test_fifty_callers_on_an_expired_session_log_in_once(
        gateway: Gateway, fake_sim: FakeSimulator, logins: list[str]) -> None:
    gateway.authenticate("fake")
    gateway.instruments("fake")
    fake_sim.expire_sessions()
    start = threading.Barrier(50)

    def read(_: int) -> int:
        start.wait()
        return len(gateway.fetch_positions("fake"))

    with ThreadPoolExecutor(50) as pool:
        assert list(pool.map(read, range(50))) == [0] * 50
    assert len(logins) == 2  # the first login, and exactly one more


def test_a_stale_expiry_reply_keeps_the_newer_session(
        gateway: Gateway, fake_sim: FakeSimulator, logins: list[str]) -> None:
    """A request sent with the old session is answered "expired" after another process
    logged in: the newer session is kept and used, and nobody logs in again."""
    gateway.authenticate("fake")
    fake_sim.expire_sessions()
    newer = new_session("fake", "C42", fake_sim.issue_token("C42"))  # another process

    class AnotherProcessLogsIn:
        @hookimpl(wrapper=True)
        def fetch_positions(self, session: Session) -> Any:
            if session != newer:
                gateway.sessions.put(newer)  # ...while our request is on its way
            return (yield)

    gateway.registry.register_wrapper(AnotherProcessLogsIn())
    assert gateway.fetch_positions("fake") == []
    assert len(logins) == 2 and gateway.sessions.get("fake") == newer


def test_without_a_totp_secret_the_error_says_a_person_is_needed(
        gateway: Gateway, fake_env: dict[str, str], logins: list[str]) -> None:
    del fake_env["OPENALGO_FAKE_TOTP_SECRET"]
    with pytest.raises(LoginRequiredError) as info:
        gateway.fetch_positions("fake")
    text = str(info.value)
    assert "needs a person" in text and "OPENALGO_FAKE_TOTP_SECRET" in text
    assert "openalgo login" not in text  # a library error names no CLI command
    assert logins == []


def test_auto_login_can_be_turned_off(fake_env: dict[str, str], fake_sim: FakeSimulator,
                                      tmp_path: Path, logins: list[str]) -> None:
    registry = Registry(environ=fake_env, discover=False)
    registry.register_broker(fake_plugin)
    env = {**fake_env, "OPENALGO_AUTO_LOGIN": "0"}
    with Gateway(registry=registry, environ=env, session_store=MemorySessionStore()) as gw:
        gw.sessions.put(new_session("fake", "C42", "old",
                                    now=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)))
        with pytest.raises(SessionExpiredError, match="OPENALGO_AUTO_LOGIN=0"):
            gw.fetch_positions("fake")
    assert logins == []


@pytest.fixture
def served(fake_sim: FakeSimulator) -> Iterator[str]:
    with ServerThread(fake_sim.app).running() as url:
        yield url


def _process_like(home: Path, env: dict[str, str]) -> Gateway:
    """A gateway as another process would build it: its own locks and store objects,
    the same ``OPENALGO_HOME``."""
    registry = Registry(environ=env, discover=False)
    registry.register_broker(fake_plugin)
    return Gateway(registry=registry, environ=env,
                   session_store=SQLiteSessionStore(home / "sessions.db"))


def test_gateways_sharing_a_home_log_in_once(fake_env: dict[str, str], served: str,
                                             tmp_path: Path, logins: list[str]) -> None:
    """The CLI and the server (or several strategies) on one OPENALGO_HOME: one login."""
    env = {**fake_env, "OPENALGO_HOME": str(tmp_path), "OPENALGO_FAKE_BASE_URL": served,
           "OPENALGO_PACING": "0"}
    gateways = [_process_like(tmp_path, env) for _ in range(4)]
    start = threading.Barrier(len(gateways))

    def read(gw: Gateway) -> list[object]:
        start.wait()
        return list(gw.fetch_positions("fake"))

    try:
        with ThreadPoolExecutor(len(gateways)) as pool:
            assert list(pool.map(read, gateways)) == [[]] * len(gateways)
    finally:
        for gw in gateways:
            gw.close()
    assert len(logins) == 1


def test_each_login_reads_an_edited_env_file(fake_env: dict[str, str], served: str,
                                             tmp_path: Path, logins: list[str],
                                             fake_sim: FakeSimulator) -> None:
    """A running server sees a .env edited after it started, at the next login."""
    dotenv = tmp_path / ".env"
    pin = fake_env.pop("OPENALGO_FAKE_PIN")
    dotenv.write_text("OPENALGO_FAKE_PIN=0000\n")
    base = {**fake_env, "OPENALGO_FAKE_BASE_URL": served, "OPENALGO_PACING": "0"}
    env = EnvFileEnviron(dotenv, base=base)
    registry = Registry(environ=env, discover=False)
    registry.register_broker(fake_plugin)
    with Gateway(registry=registry, environ=env, session_store=MemorySessionStore()) as gw:
        with pytest.raises(AuthenticationError, match="login refused"):
            gw.fetch_positions("fake")
        dotenv.write_text(f"OPENALGO_FAKE_PIN={pin}\n# fixed\n")
        assert gw.fetch_positions("fake") == []
    assert len(logins) == 1

