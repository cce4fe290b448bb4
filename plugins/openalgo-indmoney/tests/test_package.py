"""Package hygiene: metadata, declaration, entry point, rate buckets. (The kit's
PackageConformance checks the hookimpls and that loading the plugin stays cheap.)"""

from __future__ import annotations

import ast
import inspect
from importlib.metadata import entry_points

import openalgo_indmoney
import openalgo_indmoney.plugin
from openalgo_indmoney import INFO, broker
from openalgo_indmoney.broker import IndMoneyBroker
from openalgo_indmoney.simulator import IndMoneySimulator

from openalgo_core import hookspecs


def test_broker_declaration() -> None:
    assert (INFO.id, INFO.login_style, INFO.core_api) == ("indmoney", "totp", hookspecs.CORE_API)
    assert {e.value for e in INFO.exchanges} == {"NSE", "BSE", "NFO", "BFO", "NSE_INDEX",
                                                 "BSE_INDEX"}
    assert {(c.name, c.secret, c.required, c.at_login) for c in INFO.credentials} == {
        ("API_SECRET", True, False, False), ("API_KEY", False, False, True),
        ("PIN", True, False, True), ("TOTP_SECRET", True, False, False)}
    assert set(INFO.base_urls) == {"api"}
    assert INFO.session_expiry_hour_ist == 7


def test_every_published_rate_limit_is_declared() -> None:
    """The conventions page: orders 10/s; non-trading 15/s and 100,000 a day; quotes and
    data 5/s and 100,000 a day; one token generation a minute."""
    limits = {bucket: (limit.per_second, limit.per_minute, limit.per_day)
              for bucket, limit in INFO.rate_limits.items()}
    assert limits == {"orders": (10, None, None), "reads": (15, None, 100_000),
                      "reads.quotes": (5, None, 100_000), "reads.data": (5, None, 100_000),
                      "login": (None, 1, None)}


def test_every_rate_bucket_a_call_names_is_declared() -> None:
    """A ``Call(rate=...)`` naming a bucket the declaration lacks would be paced as any
    read: every one the broker module names is declared."""
    tree = ast.parse(inspect.getsource(broker))
    named = {kw.value.value for node in ast.walk(tree) if isinstance(node, ast.Call)
             for kw in node.keywords
             if kw.arg == "rate" and isinstance(kw.value, ast.Constant)}
    assert named == {"reads.quotes", "reads.data"}
    assert named <= set(INFO.rate_limits)


def test_the_entry_point_is_the_kit_hooks_on_indmoneys_broker(
        broker_environ: dict[str, str]) -> None:
    (entry,) = (e for e in entry_points(group="openalgo.brokers") if e.name == "indmoney")
    assert entry.value == "openalgo_indmoney.plugin:hooks"
    hooks = entry.load()
    assert hooks is openalgo_indmoney.plugin.hooks and hooks.broker_info() is INFO
    assert isinstance(hooks.broker, IndMoneyBroker)
    assert isinstance(hooks.broker_simulator(environ=broker_environ), IndMoneySimulator)

