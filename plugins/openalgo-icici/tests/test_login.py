"""Logging in as ICICI users do: a person at ICICI's page once a day, redirected back to
``/icici/callback?apisession=...`` with no state of ours; the seed's ``.env`` unchanged;
then every call signed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import openalgo_icici.plugin
import pytest
from openalgo_icici.simulator import BreezeSimulator

from openalgo_core import AuthenticationError, LoginChallenge, LoginRequiredError, Session
from openalgo_core.config import read_env_file
from openalgo_core.testing.conformance.base import kinds, sent
from openalgo_core.testing.wiring import Harness, wire

HOOKS = openalgo_icici.plugin.hooks
ORDER = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1,
         "pricetype": "LIMIT", "price": "100", "product": "CNC"}
STAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z")


@pytest.fixture
def harness(wired: Harness) -> Harness:
    return wired


def seed_env(tmp_path: Path, sim: BreezeSimulator) -> dict[str, str]:
    """A ``.env`` exactly as OpenAlgo's ICICI setup writes it, read as the core reads it."""
    path = tmp_path / ".env"
    path.write_text(f"BROKER_API_KEY = '{sim.credentials['API_KEY']}'\n"
                    f"BROKER_API_SECRET = '{sim.credentials['API_SECRET']}'\n"
                    "REDIRECT_URL = 'http://127.0.0.1:5000/icici/callback'\n")
    found = read_env_file(path)
    assert found is not None
    return found


def test_the_seed_env_logs_in_through_icicis_page(sim: BreezeSimulator,
                                                  tmp_path: Path) -> None:
    with wire(HOOKS, mode="http", sim=sim, environ=seed_env(tmp_path, sim),
              home=tmp_path / "h") as harness:
        challenge = harness.gateway.authenticate("icici")
        assert isinstance(challenge, LoginChallenge) and challenge.kind == "url"
        params = harness.answer(challenge)
        assert set(params) == {"apisession"}  # ICICI sends back no state of ours
        session = harness.gateway.handle_callback("icici", params)
        assert session.user_id == sim.user_id
        receipt = harness.gateway.place_order("icici", ORDER)
        assert sim.book.orders[receipt.order_id].symbol == "SBIN"


def test_the_api_key_is_url_encoded(env: dict[str, str], tmp_path: Path) -> None:
    """ICICI's keys hold ``+ = ! ^ #`` (OpenAlgo issue #119): the page must receive the
    key itself, not a key cut at ``#`` or with ``+`` read as a space."""
    env = {**env, "OPENALGO_ICICI_API_KEY": "7a+b=c!d^e#f 9"}
    sim = BreezeSimulator(environ=env, master_size=0)
    with wire(HOOKS, mode="inprocess", sim=sim, environ=env, home=tmp_path / "h") as harness:
        challenge = harness.gateway.authenticate("icici")
        assert isinstance(challenge, LoginChallenge) and challenge.url
        assert "7a%2Bb%3Dc%21d%5Ee%23f+9" in challenge.url
        harness.gateway.handle_callback("icici", harness.answer(challenge))


def test_the_posted_form_field_api_session_is_read_too(harness: Harness,
                                                        sim: BreezeSimulator) -> None:
    """ICICI's guide shows the key posted as ``API_Session``; OpenAlgo read the query."""
    challenge = harness.gateway.authenticate("icici")
    assert isinstance(challenge, LoginChallenge)
    key = harness.answer(challenge)["apisession"]
    session = harness.gateway.handle_callback("icici", {"API_Session": key})
    assert isinstance(session, Session) and session.user_id == sim.user_id


def test_only_the_newest_pending_login_is_bound_and_once(harness: Harness) -> None:
    """No state comes back: the callback completes this gateway's newest ICICI login
    (issued within 15 minutes), once; an older one, or a replay, is refused unsent."""
    first = harness.gateway.authenticate("icici")
    second = harness.gateway.authenticate("icici")
    assert isinstance(first, LoginChallenge) and isinstance(second, LoginChallenge)
    key = harness.answer(second)["apisession"]
    with pytest.raises(AuthenticationError):
        harness.gateway.handle_callback("icici", {"state": first.state, "apisession": key})
    harness.gateway.handle_callback("icici", {"apisession": key})
    with sent(harness) as requests, pytest.raises(AuthenticationError):
        harness.gateway.handle_callback("icici", {"apisession": key})
    assert requests == []


def test_a_callback_without_a_key_sends_nothing(harness: Harness) -> None:
    harness.gateway.authenticate("icici")
    with sent(harness) as requests, pytest.raises(AuthenticationError, match="apisession"):
        harness.gateway.handle_callback("icici", {"apisession": "58 93"})
    assert requests == []


def test_a_key_used_twice_is_refused_by_icici(harness: Harness, sim: BreezeSimulator) -> None:
    challenge = harness.gateway.authenticate("icici")
    assert isinstance(challenge, LoginChallenge)
    key = harness.answer(challenge)["apisession"]
    harness.gateway.handle_callback("icici", {"apisession": key})
    harness.gateway.authenticate("icici")
    with pytest.raises(AuthenticationError, match="Invalid session"):
        harness.gateway.handle_callback("icici", {"apisession": key})


def test_every_call_is_signed_as_breeze_checks(harness: Harness, sim: BreezeSimulator) -> None:
    """customerdetails: a GET with a JSON body, unsigned; then every call (GET too) sends
    compact JSON and ``token sha256(timestamp + body + secret)``, the app key and the
    base64 session token."""
    with sent(harness) as login:
        harness.login()
    (details,) = [r for r in login if r.url.path.endswith("/customerdetails")]
    assert details.method == "GET" and "x-checksum" not in details.headers
    body = json.loads(details.content)
    assert set(body) == {"SessionToken", "AppKey"} and body["SessionToken"].isdigit()
    assert body["AppKey"] == sim.credentials["API_KEY"]
    with sent(harness) as master:
        harness.gateway.instruments("icici")
    assert [r.url.path for r in master] == ["/MotherAppMaster/SecurityMaster.zip"]
    assert "x-checksum" not in master[0].headers and not master[0].content  # a plain file
    with sent(harness) as requests:
        harness.gateway.fetch_positions("icici")
        harness.gateway.place_order("icici", ORDER)
    assert [(r.method, r.url.path.rsplit("/", 1)[-1]) for r in requests] == [
        ("GET", "portfoliopositions"), ("POST", "order")]
    secret = sim.credentials["API_SECRET"].encode()
    for request in requests:
        stamp = request.headers["x-timestamp"]
        assert STAMP.fullmatch(stamp)
        assert abs(dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.000Z").replace(
            tzinfo=dt.UTC) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
        digest = hashlib.sha256(stamp.encode() + request.content + secret).hexdigest()
        assert request.headers["x-checksum"] == f"token {digest}"
        assert request.headers["x-appkey"] == sim.credentials["API_KEY"]
        assert request.headers["content-type"] == "application/json"
        assert b" " not in request.content
    assert requests[0].content == b"{}"


@pytest.mark.parametrize("fault", ["secret", "timestamp"])
def test_a_bad_signature_is_refused_by_the_simulator(harness: Harness, sim: BreezeSimulator,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     fault: str) -> None:
    """The simulator checks the checksum and the timestamp's window (Status 5)."""
    harness.login()
    if fault == "secret":
        sim.credentials["API_SECRET"] = "not-the-secret-the-plugin-signs-with"
    else:
        import openalgo_icici.broker as broker

        stale = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=sim.timestamp_window + 5)
        monkeypatch.setattr(broker, "timestamp", lambda: stale.strftime(
            "%Y-%m-%dT%H:%M:%S") + ".000Z")
    with pytest.raises(AuthenticationError, match="Authentication Fail"):
        harness.gateway.fetch_funds("icici")


def test_an_expired_session_needs_the_person_again(harness: Harness,
                                                   sim: BreezeSimulator) -> None:
    harness.login()
    sim.expire_sessions()
    with sent(harness) as requests, pytest.raises(LoginRequiredError):
        harness.gateway.fetch_positions("icici")
    assert kinds(requests)["login"] == 0

