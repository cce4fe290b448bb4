"""The conformance kit, proven on the core's fake brokers: one per login style."""

from types import ModuleType
from typing import ClassVar

import pytest

from openalgo_core.testing.conformance import BrokerConformance
from tests.fakebroker import plugin as fake
from tests.fakeotp import plugin as fakeotp
from tests.fakeredirect import plugin as fakeredirect


class _InProcess(BrokerConformance):
    def test_broker_info_matches_entry_point(self, broker_id: str) -> None:
        pytest.skip("the fake brokers are registered in-process, not installed")


class TestTotpBrokerConformance(_InProcess):
    """TOTP unattended; without the secret, a code typed at the callback."""

    plugin: ClassVar[ModuleType] = fake


class TestOtpBrokerConformance(_InProcess):
    """The broker texts a code; the user types it at the callback."""

    plugin: ClassVar[ModuleType] = fakeotp


class TestRedirectBrokerConformance(_InProcess):
    """The broker's login page redirects back with a token and without our state."""

    plugin: ClassVar[ModuleType] = fakeredirect
