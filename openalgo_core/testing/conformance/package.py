"""Conformance: the package itself: entry point, hookimpls, and secrets kept out of sight."""

from __future__ import annotations

import logging
import re
from importlib.metadata import entry_points

import pytest

from ...models import LoginChallenge
from ...registry import ENTRY_POINT_GROUP, defaulted_hookimpl_params
from ..wiring import Harness
from .base import ConformanceBase

__all__ = ["PackageConformance"]


class PackageConformance(ConformanceBase):
    """The plugin loads as installed, declares hooks pluggy can call, and leaks no secret."""

    def test_no_hookimpl_has_defaulted_parameters(self) -> None:
        assert defaulted_hookimpl_params(self.plugin) == []

    def test_broker_info_matches_entry_point(self, broker_id: str) -> None:
        info = self.plugin.broker_info()
        eps = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == broker_id]
        assert eps, f"no entry point {broker_id!r} in group {ENTRY_POINT_GROUP!r}"
        assert eps[0].load() is self.plugin
        assert info.id == broker_id
        assert all(spec.name for spec in info.credentials)

    def test_no_secret_in_logs_or_reprs(self, harness: Harness,
                                        caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.DEBUG)
        session = harness.gateway.authenticate(harness.broker)
        if isinstance(session, LoginChallenge):
            with caplog.at_level(logging.WARNING, logger="httpx"):  # the user's browser
                params = harness.answer(session)
            session = harness.gateway.handle_callback(harness.broker, params)
        harness.gateway.place_order(harness.broker, self.order(harness))
        harness.gateway.fetch_positions(harness.broker)
        info = harness.gateway.info(harness.broker)
        secrets = [harness.environ[harness.var(f.name)] for f in info.credentials
                   if f.secret and harness.var(f.name) in harness.environ]
        secrets.append(session.access_token.get_secret_value())
        shown = "\n".join([caplog.text, repr(session), str(session),
                           repr(harness.gateway.credentials(harness.broker)),
                           repr(session.model_dump())])
        for secret in secrets:
            assert not _leaked(secret, shown), "a secret credential or token was shown"


def _leaked(secret: str, shown: str) -> bool:
    """Whether ``secret`` is in ``shown``. A short one (a 4-digit PIN) is looked for as a
    value is written (``"1234"``, ``=1234``, ``: 1234``, a whole word): as a bare
    substring it matches any longer number that happens to contain it."""
    if len(secret) >= 8:
        return secret in shown
    word = re.escape(secret)
    return re.search(rf'"{word}"|(?:=|: |\s){word}(?![\w.])', shown) is not None
