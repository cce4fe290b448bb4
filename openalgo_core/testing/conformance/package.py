"""Conformance: the package itself: entry point, hookimpls, and secrets kept out of sight."""

from __future__ import annotations

import importlib
import logging
import pkgutil
import re
import subprocess
import sys
from importlib.metadata import EntryPoint, entry_points

import pytest

from ...hookspecs import PROJECT
from ...models import LoginChallenge
from ...registry import ENTRY_POINT_GROUP, defaulted_hookimpl_params
from ..wiring import Harness
from .base import ConformanceBase

#: What listing and loading a plugin must not import (its hooks' first call may).
HEAVY = ("pydantic", "httpx", "openalgo_core.models")

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

    def test_only_hook_objects_declare_hookimpls(self, broker_id: str) -> None:
        """No module of the package holds a stray ``@hookimpl`` function (pluggy would not
        see it: the entry point names the hooks)."""
        entry = self._installed(broker_id)
        package = entry.module.partition(".")[0]
        marker = f"{PROJECT}_impl"
        root = importlib.import_module(package)
        for module in pkgutil.walk_packages(root.__path__, f"{package}."):
            if module.name.endswith(".__main__"):
                continue
            loaded = importlib.import_module(module.name)
            stray = [name for name in dir(loaded) if hasattr(getattr(loaded, name), marker)]
            assert not stray, f"{module.name} declares hookimpls outside its hooks: {stray}"

    def test_loading_the_plugin_is_cheap(self, broker_id: str) -> None:
        """Listing and loading the plugin (what ``openalgo brokers`` and a server's start-up
        do) imports its declaration only: not pydantic, httpx, the core's models, nor the
        package's other modules; and a hook's first call does not import its simulator."""
        entry = self._installed(broker_id)
        package = entry.module.partition(".")[0]
        code = (
            "import sys\n"
            "from openalgo_core import Registry\n"
            f"registry = Registry(); registry.load({broker_id!r})\n"
            f"own = ({package!r}, {entry.module!r})\n"
            f"heavy = sorted(m for m in sys.modules if m.startswith({HEAVY!r})\n"
            f"               or m.startswith({package + '.'!r}) and m not in own)\n"
            "if heavy: print('loading imported', heavy); sys.exit(1)\n"
            f"registry.call({broker_id!r}, 'broker_info')\n"
            f"broker = getattr(registry.record({broker_id!r}).plugin, 'broker', None)\n"
            f"late = sorted(m for m in sys.modules if m.startswith(('starlette',"
            f" {package + '.simulator'!r})))\n"
            "if late: print('using it imported', late); sys.exit(1)\n")
        done = subprocess.run(  # noqa: S603 - this interpreter, a script of our own
            [sys.executable, "-c", code], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr

    def _installed(self, broker_id: str) -> EntryPoint:
        found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == broker_id]
        if not found:
            pytest.skip("the plugin is not installed (no entry point): its package is not"
                        " checked")
        return found[0]

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
