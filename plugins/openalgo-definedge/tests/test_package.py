"""Package hygiene: metadata, declaration, hook surface, lazy simulator import."""

from __future__ import annotations

from importlib.metadata import entry_points

import openalgo_definedge
import openalgo_definedge.plugin
from openalgo_definedge import INFO
from openalgo_definedge.broker import DefinedgeBroker
from openalgo_definedge.simulator import DefinedgeSimulator

from openalgo_core import hookspecs


def test_broker_declaration() -> None:
    assert (INFO.id, INFO.login_style, INFO.core_api) == ("definedge", "otp", hookspecs.CORE_API)
    assert {e.value for e in INFO.exchanges} == {"NSE", "BSE", "NFO", "BFO", "CDS", "MCX",
                                                 "NSE_INDEX", "BSE_INDEX"}
    # (name, secret, required, typed at login): the TOTP secret makes the login unattended,
    # and nothing is typed at the login page but the OTP itself
    assert [(c.name, c.secret, c.required, c.at_login) for c in INFO.credentials] == [
        ("API_KEY", True, True, False), ("API_SECRET", True, True, False),
        ("TOTP_SECRET", True, False, False), ("ALGO_ID", False, False, False)]
    assert all(c.description for c in INFO.credentials)
    assert {k: (v.per_second, v.burst) for k, v in INFO.rate_limits.items()} == {
        "orders": (10, 1), "reads": (10, 1), "login": (1, 1)}
    assert dict(INFO.base_urls) == {"auth": "https://signin.definedgesecurities.com",
                                    "api": "https://integrate.definedgesecurities.com",
                                    "master": "https://app.definedgesecurities.com"}


def test_the_entry_point_is_the_kit_hooks_on_definedges_broker(
        broker_environ: dict[str, str]) -> None:
    (entry,) = (e for e in entry_points(group="openalgo.brokers") if e.name == "definedge")
    assert entry.value == "openalgo_definedge.plugin:hooks"
    hooks = entry.load()
    assert hooks is openalgo_definedge.plugin.hooks and hooks.broker_info() is INFO
    assert isinstance(hooks.broker, DefinedgeBroker)
    assert isinstance(hooks.broker_simulator(environ=broker_environ), DefinedgeSimulator)
