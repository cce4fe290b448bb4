"""The conformance kit, proven on the core's fake brokers: one per login style. ``fake``
writes its hooks by hand; ``fakeotp`` and ``fakeredirect`` are built on the broker kit."""

from types import ModuleType
from typing import ClassVar

import pytest

from openalgo_core.kit import KitHooks
from openalgo_core.testing.conformance import BrokerConformance
from tests.fakebroker import plugin as fake
from tests.fakeotp.plugin import hooks as fakeotp
from tests.fakeredirect.plugin import hooks as fakeredirect


class _InProcess(BrokerConformance):
    #: the kit's fakes prove the campaign, not a broker: a shorter day keeps the core quick
    campaign_orders: ClassVar[int] = 300

    def test_broker_info_matches_entry_point(self, broker_id: str) -> None:
        pytest.skip("the fake brokers are registered in-process, not installed")


class TestTotpBrokerConformance(_InProcess):
    """TOTP unattended; without the secret, a code typed at the callback."""

    plugin: ClassVar[ModuleType] = fake


class TestOtpBrokerConformance(_InProcess):
    """The broker texts a code; the user types it at the callback."""

    plugin: ClassVar[KitHooks] = fakeotp


class TestRedirectBrokerConformance(_InProcess):
    """The broker's login page redirects back with a token and without our state."""

    plugin: ClassVar[KitHooks] = fakeredirect
