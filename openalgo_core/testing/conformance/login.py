"""Conformance: logging in (TOTP unattended, a typed code, a browser redirect) and sessions."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pyotp
import pytest

from ...errors import AuthenticationError, LoginRequiredError, OpenAlgoError
from ...models import LoginChallenge, Session
from ..wiring import Harness, Mode
from .base import ConformanceBase, Outcome, failure, kinds, outcome, sent
from .sweep import escaped, sweep

__all__ = ["LoginConformance"]


class LoginConformance(ConformanceBase):
    """Logins succeed as the user would do them, refuse what they must, and are sent once."""

    #: codes a user might mistype: each must be refused without sending anything
    malformed_codes: ClassVar[tuple[str, ...]] = (
        "", "   ", "12345", "1234567", "abcdef", "12 456", "١٢٣٤٥٦", "1" * 64)

    def test_login_ok(self, harness: Harness) -> None:
        session = self.login(harness)
        assert session.broker == harness.broker
        assert session.access_token.get_secret_value()
        assert not session.is_expired()
        assert harness.gateway.session(harness.broker) == session

    def test_wrong_totp_is_authentication_error(self, harness: Harness) -> None:
        var = harness.var("TOTP_SECRET")
        if var not in harness.environ:
            pytest.skip("broker has no TOTP secret")
        harness.environ[var] = pyotp.random_base32()
        with pytest.raises(AuthenticationError):
            self.login(harness)

    def test_wrong_pin_is_authentication_error(self, harness: Harness) -> None:
        var = next((harness.var(f) for f in ("PIN", "MPIN", "PASSWORD")
                    if harness.var(f) in harness.environ), None)
        if var is None:
            pytest.skip("broker has no PIN, MPIN or password")
        harness.environ[var] = "0000" if harness.environ[var] != "0000" else "1111"
        with pytest.raises(AuthenticationError):
            self.login(harness)

    def test_an_expired_session_is_renewed_alone(self, harness: Harness) -> None:
        """With a TOTP secret stored, a session the broker expired is renewed by one
        unattended login, however many callers meet the expiry together; an order the
        broker refused for the expired session is sent again after it, once. (One login
        is as many requests as the first one took: Definedge's has two steps.)"""
        with sent(harness) as first:
            self.login(harness)
        steps = kinds(first)["login"]
        gateway, broker = harness.gateway, harness.broker
        if not gateway.can_login_alone(broker):
            pytest.skip("logging in needs a person (no TOTP secret, or a browser login)")
        expired = gateway.session(broker)
        harness.sim.expire_sessions()
        with sent(harness) as requests, ThreadPoolExecutor(8) as pool:
            books = list(pool.map(lambda _: outcome(lambda: gateway.fetch_positions(broker)),
                                  range(8)))
        assert books == [([], None)] * 8, f"callers meeting the expiry got {books[0]!r:.300}"
        assert kinds(requests)["login"] == steps, (
            f"{kinds(requests)['login']} login requests for one expired session (a login"
            f" is {steps})")
        assert gateway.session(broker).access_token != expired.access_token
        harness.sim.expire_sessions()
        with sent(harness) as requests:
            receipt = gateway.place_order(broker, self.order(harness, tag="relogin1"))
        assert kinds(requests)["login"] == steps
        assert kinds(requests)["order"] == 2, "refused for the session, sent again once"
        booked = [o["order_id"] for o in harness.sim_orders() if o["tag"] == "relogin1"]
        assert booked == [receipt.order_id]

    def test_an_expired_session_needs_a_person_without_a_totp_secret(
            self, mode: Mode, tmp_path: Path) -> None:
        """Without a TOTP secret, an expired session is LoginRequiredError: no login is
        tried, the dead session is dropped, an order refused for it is not at the broker
        and, placed again with its tag once a person logged in, is sent once."""
        with self.wire(mode, omit=("TOTP_SECRET",), home=tmp_path / "home") as harness:
            gateway, broker = harness.gateway, harness.broker
            self.login(harness)
            gateway.instruments(broker)
            harness.sim.expire_sessions()
            fields = self.order(harness, tag="needsperson1")
            with sent(harness) as requests:
                failure(lambda: gateway.place_order(broker, fields), LoginRequiredError)
            # the first request meets the dead session: the order, or the read before it
            first = Counter(read=1) if self.order_reads else Counter(order=1)
            assert kinds(requests) == first, "one request (the order's), and no login"
            assert harness.sim_orders() == []
            with sent(harness) as requests:
                failure(lambda: gateway.fetch_positions(broker), LoginRequiredError)
            assert requests == [], "the dead session was used again"
            self.login(harness)
            receipt = gateway.place_order(broker, fields)
            assert [o["order_id"] for o in harness.sim_orders()] == [receipt.order_id]

    @pytest.mark.parametrize("refusal", [{"rate_limit_rate": 1.0}, {"error_rate": 1.0}],
                             ids=["429", "5xx"])
    def test_login_is_sent_once_when_refused(self, harness: Harness,
                                             refusal: dict[str, Any]) -> None:
        """A retried login can lock an account: 429 or 5xx, it is sent exactly once."""
        harness.fault(**refusal)
        with sent(harness) as requests, pytest.raises(OpenAlgoError):
            result = harness.gateway.authenticate(harness.broker)
            if isinstance(result, LoginChallenge):
                if not requests:  # nothing sent yet: the user answers first, unfaulted
                    self.clear_faults(harness)
                    params = harness.answer(result)
                    harness.fault(**refusal)
                    harness.gateway.handle_callback(harness.broker, params)
                pytest.fail("the login went on after the broker refused it")
        assert len(requests) == 1, (
            f"the login was sent {len(requests)} times (send it with kind='login': never"
            f" retried)")

    def test_without_totp_secret_the_login_is_a_code_challenge(
            self, mode: Mode, tmp_path: Path) -> None:
        with self.wire(mode, omit=("TOTP_SECRET",), home=tmp_path / "home") as harness:
            challenge = self._code_challenge(harness)
            session = harness.gateway.handle_callback(harness.broker,
                                                      harness.answer(challenge))
            assert isinstance(session, Session) and session.broker == harness.broker
            assert harness.gateway.fetch_positions(harness.broker) == []

    def test_malformed_code_sends_nothing(self, mode: Mode, tmp_path: Path) -> None:
        with self.wire(mode, omit=("TOTP_SECRET",), home=tmp_path / "home") as harness:
            for code in self.malformed_codes:
                challenge = self._code_challenge(harness)
                params = {**harness.answer(challenge),
                          **{f: code for f in challenge.fields
                             if f.upper() not in harness.sim.credentials}}
                with sent(harness) as requests, pytest.raises(OpenAlgoError):
                    harness.gateway.handle_callback(harness.broker, params)
                assert requests == [], f"a malformed code {code!r} was sent to the broker"

    def test_missing_credential_sends_nothing(self, mode: Mode, tmp_path: Path) -> None:
        """Without any one credential, a login either still succeeds (the field was not
        needed, or the login asked the user for it) or fails before sending anything."""
        for name in self.credential_names():
            if name == "TOTP_SECRET":
                continue
            with self.wire(mode, omit=(name,), home=tmp_path / name) as harness, \
                    sent(harness) as requests:
                try:
                    self.login(harness)
                except OpenAlgoError:
                    assert requests == [], (
                        f"without {harness.var(name)} the login failed after sending"
                        f" {len(requests)} request(s)")

    def test_garbage_in_login_replies_is_typed(self, tmp_path: Path) -> None:
        """Garbage in any field of any login reply: a typed error, or a session that
        works (or fails typed) on the next call."""
        for harness in self.garbage_harnesses(tmp_path):
            self._login_garbage(harness)

    def _login_garbage(self, harness: Harness) -> None:
        self.login(harness)  # a master contract behind the broker's auth needs a session
        harness.gateway.instruments(harness.broker)

        def judge(result: Outcome) -> str | None:
            session, error = result
            if error is not None:
                return None if isinstance(error, OpenAlgoError) else escaped(error)
            assert isinstance(session, Session)
            _, later = outcome(lambda: harness.gateway.fetch_positions(harness.broker))
            return None if later is None or isinstance(later, OpenAlgoError) \
                else "the session it made then gave " + escaped(later)

        sweep(self, harness, lambda: self.login(harness), judge)

    def _code_challenge(self, harness: Harness) -> LoginChallenge:
        result, error = outcome(lambda: harness.gateway.authenticate(harness.broker))
        if "TOTP_SECRET" not in self.credential_names() and not (
                isinstance(result, LoginChallenge) and result.kind == "code"):
            pytest.skip("the broker's login asks for no code")
        assert isinstance(result, LoginChallenge) and result.kind == "code", (
            f"without a TOTP secret the login must be a code challenge, not"
            f" {error or result!r:.200}")
        return result
