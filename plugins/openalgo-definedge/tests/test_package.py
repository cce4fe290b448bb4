"""Package hygiene: metadata, declaration, hook surface, lazy simulator import."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from importlib.metadata import entry_points, version
from pathlib import Path

import openalgo_definedge
import openalgo_definedge.plugin
from openalgo_definedge import INFO
from openalgo_definedge.broker import DefinedgeBroker
from openalgo_definedge.simulator import DefinedgeSimulator

from openalgo_core import hookspecs

PACKAGE = Path(openalgo_definedge.__file__).parent


def test_version_matches_the_distribution() -> None:
    assert openalgo_definedge.__version__ == version("openalgo-definedge") == "0.1.0"
    assert (PACKAGE / "py.typed").is_file()


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


def test_no_other_module_declares_hookimpls() -> None:
    marker = f"{hookspecs.PROJECT}_impl"
    for module in pkgutil.iter_modules([str(PACKAGE)]):
        loaded = importlib.import_module(f"openalgo_definedge.{module.name}")
        assert not any(hasattr(getattr(loaded, n), marker) for n in dir(loaded)), module


def test_normal_use_does_not_import_the_simulator() -> None:
    code = ("import sys, openalgo_definedge.plugin as p; p.hooks.broker_info(); p.hooks.broker;"
            " sys.exit(any(m.startswith(('starlette', 'openalgo_definedge.sim',"
            " 'openalgo_core.testing.simulator')) for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_loading_the_plugin_imports_only_its_declaration() -> None:
    """The registry imports ``plugin`` to list and load the broker; the modules doing
    the work, pydantic and httpx load on a hook's first call."""
    code = ("import sys; from openalgo_core import Registry; Registry().load('definedge');"
            " heavy = sorted(m for m in sys.modules if m.startswith(('pydantic', 'httpx',"
            " 'msgspec', 'openalgo_core.models', 'openalgo_definedge.'))"
            " and m != 'openalgo_definedge.plugin');"
            " print(heavy); sys.exit(bool(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr
