"""Logging in as IndMoney users do: the dashboard token pasted into the seed's ``.env``
(checked with the profile call, sent raw), or a token generated with the Client ID, MPIN
and TOTP, never retried, never looped."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openalgo_indmoney.plugin
import pyotp
import pytest
from openalgo_indmoney.simulator import IndMoneySimulator

from openalgo_core import (
    AuthenticationError,
    LoginChallenge,
    LoginRequiredError,
    RateLimitError,
    Session,
)
from openalgo_core.config import read_env_file
from openalgo_core.testing.conformance.base import kinds, sent
from openalgo_core.testing.wiring import Harness, broker_environ, wire

HOOKS = openalgo_indmoney.plugin.hooks
ORDER = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 2,
         "pricetype": "MARKET", "product": "MIS"}


@pytest.fixture
def env() -> dict[str, str]:
    return broker_environ(HOOKS.broker_info())


@pytest.fixture
def sim(env: dict[str, str]) -> IndMoneySimulator:
    return IndMoneySimulator(environ=env, master_size=0, token_interval=0)


def harness(sim: IndMoneySimulator, environ: dict[str, str], tmp_path: Path,
            **options: Any) -> Any:
    return wire(HOOKS, mode="inprocess", sim=sim, environ=environ, home=tmp_path / "home",
                **options)


def seed_env(tmp_path: Path, token: str) -> dict[str, str]:
    """A ``.env`` exactly as the seed writes it, read as the core reads it."""
    path = tmp_path / ".env"
    path.write_text("BROKER_API_KEY = ''\n"
                    f"BROKER_API_SECRET = '{token}'\n"
                    "REDIRECT_URL = 'http://127.0.0.1:5000/indmoney/callback'\n")
    found = read_env_file(path)
    assert found is not None
    return found


@pytest.fixture
def seeded(sim: IndMoneySimulator, tmp_path: Path) -> Iterator[Harness]:
    """A gateway on the seed's ``.env`` holding a token the dashboard generated."""
    token = sim.issue_token(sim.user_id)  # "Generate" on the access-tokens page
    with harness(sim, seed_env(tmp_path, token), tmp_path) as h:
        yield h


def test_the_seeds_env_logs_in_with_the_pasted_token(seeded: Harness) -> None:
    gateway = seeded.gateway
    assert not gateway.can_login_alone("indmoney")
    with sent(seeded) as requests:
        session = gateway.authenticate("indmoney")
    assert isinstance(session, Session) and session.user_id == seeded.sim.user_id
    (profile,) = requests
    assert profile.url.path == "/user/profile" and kinds(requests) == {"read": 1}
    token = session.access_token.get_secret_value()
    assert profile.headers["authorization"] == token  # raw: no "Bearer"
    receipt = gateway.place_order("indmoney", ORDER)
    (position,) = gateway.fetch_positions("indmoney")
    assert (position.symbol, position.quantity) == ("SBIN", 2)
    assert receipt.order_id.startswith("EQ-")


@pytest.mark.parametrize("master_loaded", [True, False], ids=["a read", "the master"])
def test_an_expired_pasted_token_asks_for_a_fresh_one(seeded: Harness,
                                                      master_loaded: bool) -> None:
    """Met on any call (a read, the master contract's download): the error says to paste
    a fresh token, as there is nothing to generate one with."""
    seeded.gateway.authenticate("indmoney")
    if master_loaded:
        seeded.gateway.instruments("indmoney")
    seeded.sim.expire_sessions()
    with pytest.raises(LoginRequiredError) as caught:
        seeded.gateway.fetch_positions("indmoney")
    message = str(caught.value)
    assert "paste a fresh one" in message and "BROKER_API_SECRET" in message
    assert caught.value.status_code == 403


def test_the_hint_to_paste_is_for_an_account_that_cannot_generate_a_token() -> None:
    from openalgo_indmoney.broker import IndMoneyBroker

    from openalgo_core import Credentials, SessionExpiredError
    from openalgo_core.models import new_session

    expired = SessionExpiredError("session no longer valid", broker="indmoney")
    session = new_session("indmoney", "u", "t")
    able = Credentials("indmoney", {"API_KEY": "c", "PIN": "1", "TOTP_SECRET": "S" * 32})
    assert IndMoneyBroker()._hinted(expired, able, session) is expired
    assert IndMoneyBroker()._hinted(expired, None, None) is expired  # at login: no session
    hinted = IndMoneyBroker()._hinted(expired, Credentials("indmoney", {}), session)
    assert "paste a fresh one" in str(hinted)


def test_a_generated_token_that_expired_is_generated_again_once_the_secret_is_stored(
        env: dict[str, str], sim: IndMoneySimulator, tmp_path: Path) -> None:
    with harness(sim, env, tmp_path, omit=("API_SECRET", "TOTP_SECRET")) as h:
        h.gateway.handle_callback("indmoney", h.answer(h.gateway.authenticate("indmoney")))
        h.gateway.instruments("indmoney")
        sim.expire_sessions()
        with pytest.raises(LoginRequiredError) as caught:
            h.gateway.fetch_positions("indmoney")
        assert "paste a fresh one" in str(caught.value)  # only a pasted token is left
        h.environ["OPENALGO_INDMONEY_TOTP_SECRET"] = sim.credentials["TOTP_SECRET"]
        assert h.gateway.fetch_positions("indmoney") == []  # generated again, alone


def test_a_refused_pasted_token_asks_for_what_token_generation_needs(
        sim: IndMoneySimulator, tmp_path: Path) -> None:
    """Refused (expired, revoked, mistyped), the pasted token is not sent again; the login
    form says so and asks for the Client ID, MPIN and code, then generates a token."""
    with harness(sim, seed_env(tmp_path, "revoked-token-0001"), tmp_path) as h:
        with sent(h) as requests:
            challenge = h.gateway.authenticate("indmoney")
        assert [r.url.path for r in requests] == ["/user/profile"]
        assert isinstance(challenge, LoginChallenge) and challenge.kind == "code"
        assert challenge.fields == ("api_key", "pin", "code")
        assert [challenge.label(f) for f in challenge.fields] == ["Client ID", "MPIN", "TOTP"]
        assert challenge.secret_fields == ("pin",)
        assert "BROKER_API_SECRET was refused" in challenge.prompt
        with sent(h) as requests:
            again = h.gateway.authenticate("indmoney")
        assert requests == [], "a refused pasted token was checked again"
        assert isinstance(again, LoginChallenge)
        with sent(h) as requests:
            session = h.gateway.handle_callback("indmoney", {
                "state": again.state, "api_key": sim.credentials["API_KEY"],
                "pin": sim.credentials["PIN"], "code": sim.totp_now()})
        (generation,) = requests
        assert generation.url.path == "/generate/token"
        assert isinstance(session, Session)
        h.gateway.place_order("indmoney", ORDER)


def test_a_refused_pasted_token_falls_back_to_generation_when_it_can(
        env: dict[str, str], sim: IndMoneySimulator, tmp_path: Path) -> None:
    env["OPENALGO_INDMONEY_API_SECRET"] = "revoked-token-0002"
    with harness(sim, env, tmp_path) as h, sent(h) as requests:
        session = h.gateway.authenticate("indmoney")
        assert isinstance(session, Session)
        assert [(r.url.path, k) for r, k in zip(requests, kinds_of(requests), strict=True)] \
            == [("/user/profile", "read"), ("/generate/token", "login")]


def kinds_of(requests: list[httpx.Request]) -> list[str]:
    from openalgo_core.http import request_meta

    return [request_meta(r).kind for r in requests]


def test_token_generation_sends_the_client_id_mpin_and_totp(
        env: dict[str, str], sim: IndMoneySimulator, tmp_path: Path) -> None:
    with harness(sim, env, tmp_path, omit=("API_SECRET",)) as h:
        with sent(h) as requests:
            session = h.gateway.authenticate("indmoney")
        (request,) = requests
        assert isinstance(session, Session)
        assert request.method == "POST" and request.url.path == "/generate/token"
        assert request.headers["x-api-key"] == sim.credentials["API_KEY"]
        assert "authorization" not in request.headers
        body = json.loads(request.content)
        assert body == {"mpin": sim.credentials["PIN"], "totp": body["totp"]}
        assert isinstance(body["totp"], str) and len(body["totp"]) == 6
        with sent(h) as requests:
            h.gateway.fetch_funds("indmoney")
        assert requests[0].headers["authorization"] == session.access_token.get_secret_value()


def test_a_refused_generation_is_not_sent_again_with_the_same_credentials(
        env: dict[str, str], sim: IndMoneySimulator, tmp_path: Path) -> None:
    """5 wrong codes lock an INDstocks account out: a refused unattended generation holds
    the next ones with the same credentials; fixed credentials are sent at once."""
    right = env["OPENALGO_INDMONEY_PIN"]
    env["OPENALGO_INDMONEY_PIN"] = "0000" if right != "0000" else "1111"
    with harness(sim, env, tmp_path, omit=("API_SECRET",)) as h:
        with sent(h) as requests, pytest.raises(AuthenticationError, match="Invalid MPIN"):
            h.gateway.authenticate("indmoney")
        assert len(requests) == 1
        with sent(h) as requests, pytest.raises(AuthenticationError, match="not sent again"):
            h.gateway.authenticate("indmoney")
        assert requests == []
        h.environ["OPENALGO_INDMONEY_PIN"] = right
        assert isinstance(h.gateway.authenticate("indmoney"), Session)


def test_generation_is_throttled_once_a_minute_and_never_retried(
        env: dict[str, str], sim: IndMoneySimulator, tmp_path: Path) -> None:
    sim.token_interval = 60.0
    with harness(sim, env, tmp_path, omit=("API_SECRET",)) as h:
        assert isinstance(h.gateway.authenticate("indmoney"), Session)
        with sent(h) as requests, pytest.raises(RateLimitError):
            h.gateway.authenticate("indmoney")
        assert len(requests) == 1, "a throttled generation was retried"
        with sent(h) as requests, pytest.raises(AuthenticationError, match="throttled"):
            h.gateway.authenticate("indmoney")
        assert requests == []


def test_logins_are_paced_to_one_generation_a_minute(
        env: dict[str, str], sim: IndMoneySimulator, tmp_path: Path) -> None:
    """With pacing on, a second generation waits a minute (the recorded sleep) instead of
    being throttled by INDstocks."""
    sim.token_interval = 0
    with harness(sim, env, tmp_path, omit=("API_SECRET",), pace=True) as h:
        h.gateway.authenticate("indmoney")
        h.sleeps.clear()
        h.gateway.authenticate("indmoney")
        assert max(h.sleeps) >= 60


def test_a_new_generation_revokes_the_previous_token(broker_sim: IndMoneySimulator,
                                                     broker_http: httpx.Client) -> None:
    broker_sim.token_interval = 0
    headers = {"x-api-key": broker_sim.credentials["API_KEY"]}

    def generate() -> str:
        reply = broker_http.post("/generate/token", headers=headers, json={
            "mpin": broker_sim.credentials["PIN"], "totp": broker_sim.totp_now()})
        assert reply.status_code == 200, reply.text
        token: str = reply.json()["data"]["token"]
        return token

    first, second = generate(), generate()
    old = broker_http.get("/user/profile", headers={"Authorization": first})
    assert old.status_code == 403 and old.json()["error_type"] == "TokenException"
    assert broker_http.get("/user/profile", headers={"Authorization": second}).status_code == 200
    pasted = broker_sim.credentials["API_SECRET"]  # a dashboard token lives on
    assert broker_http.get("/user/profile", headers={"Authorization": pasted}).status_code == 200


def test_five_wrong_codes_lock_generation_out(broker_sim: IndMoneySimulator,
                                              broker_http: httpx.Client) -> None:
    broker_sim.token_interval = 0
    headers = {"x-api-key": broker_sim.credentials["API_KEY"]}
    body = {"mpin": broker_sim.credentials["PIN"]}
    wrong = pyotp.TOTP(pyotp.random_base32()).now()
    for _ in range(5):
        reply = broker_http.post("/generate/token", headers=headers, json={**body,
                                                                            "totp": wrong})
        assert reply.status_code == 401
    locked = broker_http.post("/generate/token", headers=headers,
                              json={**body, "totp": broker_sim.totp_now()})
    assert locked.status_code == 429 and "locked" in locked.json()["message"]
    broker_sim.reset()
    assert broker_http.post("/generate/token", headers=headers, json={
        **body, "totp": broker_sim.totp_now()}).status_code == 200


def test_a_bare_token_reply_is_read_too(env: dict[str, str], sim: IndMoneySimulator,
                                        tmp_path: Path) -> None:
    """⚠ The docs name the field but not its envelope: ``{"token": ...}`` reads as well."""
    sim.token_shape = "token"
    with harness(sim, env, tmp_path, omit=("API_SECRET",)) as h:
        session = h.gateway.authenticate("indmoney")
        assert isinstance(session, Session)
        assert sim.user_for(session.access_token.get_secret_value()) == sim.user_id


@pytest.mark.parametrize("reply", [
    {"status": "success", "data": {}}, {"status": "success", "data": {"token": ""}},
    {"status": "success", "data": {"token": "two words"}}, {"token": 12}])
def test_a_generation_reply_without_a_usable_token_is_typed(
        env: dict[str, str], sim: IndMoneySimulator, tmp_path: Path,
        reply: dict[str, Any]) -> None:
    sim.faults.mutate = lambda body: json.dumps(reply).encode()
    sim.faults.scope = "reads"
    with harness(sim, env, tmp_path, omit=("API_SECRET",)) as h, pytest.raises(
            Exception, match="no usable access token") as caught:
        h.gateway.authenticate("indmoney")
    assert type(caught.value).__name__ == "BrokerResponseError"
