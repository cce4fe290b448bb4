"""Package hygiene: metadata, declaration, hook surface, lazy simulator import."""

from __future__ import annotations

from importlib.metadata import entry_points

import openalgo_angel
import openalgo_angel.plugin
from openalgo_angel import INFO
from openalgo_angel.broker import AngelBroker
from openalgo_angel.simulator import AngelSimulator

from openalgo_core import hookspecs


def test_broker_declaration() -> None:
    assert (INFO.id, INFO.login_style, INFO.core_api) == ("angel", "totp", hookspecs.CORE_API)
    assert {e.value for e in INFO.exchanges} == {"NSE", "BSE", "NFO", "BFO", "CDS", "MCX",
                                                 "NSE_INDEX", "BSE_INDEX"}
    assert {(c.name, c.secret, c.required, c.at_login) for c in INFO.credentials} == {
        ("API_KEY", True, True, False), ("CLIENT_ID", False, False, True),
        ("PIN", True, False, True), ("TOTP_SECRET", True, False, False)}
    assert {k: v.per_second for k, v in INFO.rate_limits.items()} == {
        "orders": 20, "reads": 1, "login": 1}
    assert INFO.rate_limit_markers == ("exceeding access rate",)
    assert set(INFO.base_urls) == {"api", "master"}


def test_the_entry_point_is_the_kit_hooks_on_angels_broker(
        broker_environ: dict[str, str]) -> None:
    (entry,) = (e for e in entry_points(group="openalgo.brokers") if e.name == "angel")
    assert entry.value == "openalgo_angel.plugin:hooks"
    hooks = entry.load()
    assert hooks is openalgo_angel.plugin.hooks and hooks.broker_info() is INFO
    assert isinstance(hooks.broker, AngelBroker)
    assert isinstance(hooks.broker_simulator(environ=broker_environ), AngelSimulator)
