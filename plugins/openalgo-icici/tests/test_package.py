"""Package hygiene: metadata, declaration, entry point, rate buckets. (The kit's
PackageConformance checks the hookimpls and that loading the plugin stays cheap.)"""

from __future__ import annotations

import openalgo_icici
import openalgo_icici.plugin
from openalgo_icici import INFO
from openalgo_icici.broker import BreezeBroker
from openalgo_icici.simulator import BreezeSimulator

from openalgo_core import hookspecs


def test_broker_declaration() -> None:
    assert (INFO.id, INFO.login_style, INFO.core_api) == ("icici", "redirect", hookspecs.CORE_API)
    assert {e.value for e in INFO.exchanges} == {"NSE", "BSE", "NFO", "NSE_INDEX", "BSE_INDEX"}
    assert {(c.name, c.secret, c.required, c.choices) for c in INFO.credentials} == {
        ("API_KEY", True, True, ()), ("API_SECRET", True, True, ()),
        ("REDIRECT_URL", False, False, ()),
        ("MARKET_ORDERS", False, False, ("protected", "market"))}
    assert set(INFO.base_urls) == {"api", "login", "master"}
    assert INFO.session_expiry_hour_ist == 0


def test_every_published_rate_limit_is_kept_within() -> None:
    """brokers/kotak-icici B.7: 100 calls a minute and 5,000 a day for the account, at most
    10 orders a second. One bucket per category: together they never exceed the account's
    budget."""
    limits = INFO.rate_limits
    assert set(limits) == {"orders", "reads", "login"}
    assert limits["orders"].per_second == 10
    assert sum(limit.per_minute or 0 for limit in limits.values()) == 100
    assert sum(limit.per_day or 0 for limit in limits.values()) == 5_000
    assert all(limit.per_minute and limit.per_day for limit in limits.values())


def test_the_kit_hooks_build_breezes_broker_and_simulator(
        broker_environ: dict[str, str]) -> None:
    """(The entry point itself: the conformance kit's package checks.)"""
    hooks = openalgo_icici.plugin.hooks
    assert isinstance(hooks.broker, BreezeBroker)
    assert isinstance(hooks.broker_simulator(environ=broker_environ), BreezeSimulator)
