"""IndMoney under the kit's fixtures: ``broker_environ``, ``broker_sim``, ``broker_gateway``,
``broker_client``, ``broker_http``, ``broker_totp`` (openalgo_core.testing.pytest_plugin)."""

from __future__ import annotations

import openalgo_indmoney.plugin
import pytest

from openalgo_core.kit import KitHooks


@pytest.fixture
def openalgo_plugin() -> KitHooks:
    return openalgo_indmoney.plugin.hooks
