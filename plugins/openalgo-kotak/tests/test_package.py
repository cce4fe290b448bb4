"""Package hygiene: the declaration and the entry point (the conformance kit checks the
version, py.typed, that no other module holds hookimpls and that loading stays cheap)."""

from __future__ import annotations

from importlib.metadata import entry_points

import openalgo_kotak
import openalgo_kotak.plugin
from openalgo_kotak import INFO
from openalgo_kotak.broker import KotakBroker
from openalgo_kotak.simulator import KotakSimulator

from openalgo_core import hookspecs
from openalgo_core.config import seed_key


def test_broker_declaration() -> None:
    assert (INFO.id, INFO.login_style, INFO.core_api) == ("kotak", "totp", hookspecs.CORE_API)
    assert {e.value for e in INFO.exchanges} == {"NSE", "BSE", "NFO", "BFO", "MCX",
                                                 "NSE_INDEX", "BSE_INDEX"}
    # (name, secret, required, typed at login, the seed key it is read from)
    assert [(c.name, c.secret, c.required, c.at_login, seed_key(INFO, c))
            for c in INFO.credentials] == [
        ("UCC", False, True, False, "BROKER_API_KEY"),
        ("ACCESS_TOKEN", True, True, False, "BROKER_API_SECRET"),
        ("MOBILE", False, False, True, None), ("MPIN", True, False, True, None),
        ("TOTP_SECRET", True, False, False, None), ("SLM_AS_SL", False, False, False, None),
        ("MCX_QUANTITY", False, False, False, None)]
    assert all(c.description for c in INFO.credentials)
    assert {k: (v.per_second, v.per_minute, v.per_hour) for k, v in INFO.rate_limits.items()} \
        == {"orders": (10, 300, 5000), "reads": (10, 300, 5000), "login": (1, None, None)}
    assert dict(INFO.base_urls) == {"login": "https://mis.kotaksecurities.com",
                                    "trade": "https://mis.kotaksecurities.com"}


def test_the_entry_point_is_the_kit_hooks_on_kotaks_broker(
        broker_environ: dict[str, str]) -> None:
    (entry,) = (e for e in entry_points(group="openalgo.brokers") if e.name == "kotak")
    assert entry.value == "openalgo_kotak.plugin:hooks"
    hooks = entry.load()
    assert hooks is openalgo_kotak.plugin.hooks and hooks.broker_info() is INFO
    assert isinstance(hooks.broker, KotakBroker)
    assert isinstance(hooks.broker_simulator(environ=broker_environ), KotakSimulator)
