"""Conformance: the package itself: entry point, hookimpls, and secrets kept out of sight."""

from __future__ import annotations

import ast
import importlib
import logging
import pkgutil
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

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

    def test_the_package_is_its_distribution_and_typed(self, broker_id: str) -> None:
        """The package's ``__version__`` is its distribution's, and it ships ``py.typed``
        (mypy --strict users type-check against it)."""
        _, package = self._entry_module(broker_id)
        (entry,) = (ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == broker_id)
        loaded = importlib.import_module(package)
        assert entry.dist is not None and loaded.__version__ == entry.dist.version, (
            f"{package}.__version__ is not the version of its distribution")
        assert loaded.__file__ is not None
        assert (Path(loaded.__file__).parent / "py.typed").is_file(), f"{package} has no py.typed"

    def test_only_the_entry_point_module_declares_hookimpls(self, broker_id: str) -> None:
        """The hook surface is one module (the entry point's): no other module of the
        package carries pluggy's hookimpl marker, which a registry would pick up twice."""
        module, package = self._entry_module(broker_id)
        marker = f"{PROJECT}_impl"
        for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
            name = f"{package}.{info.name}"
            if name != module:
                loaded = importlib.import_module(name)
                assert not any(hasattr(getattr(loaded, attr), marker) for attr in dir(loaded)
                               ), f"{name} declares hookimpls"

    def test_loading_the_plugin_imports_only_its_declaration(self, broker_id: str) -> None:
        """Listing and loading the broker (``openalgo brokers``, a gateway's start) imports
        the entry point's module and the package's declaration, not pydantic, httpx or
        the modules doing the work; building a kit plugin's broker (its first hook call)
        does not import its simulator (which needs the ``testing`` extra)."""
        module, package = self._entry_module(broker_id)
        code = f"""if True:
            import sys
            from openalgo_core import Registry
            registry = Registry()
            registry.load({broker_id!r})
            plugin = registry.record({broker_id!r}).plugin
            plugin.broker_info()
            heavy = sorted(m for m in sys.modules if m.startswith(('pydantic', 'httpx',
                           'starlette', 'openalgo_core.models', {package + '.'!r}))
                           and m != {module!r})
            getattr(plugin, "broker", None)
            sim = sorted(m for m in sys.modules if m.startswith(('starlette',
                         'openalgo_core.testing.simulator', {package + '.sim'!r})))
            print("loading imported", heavy, "; building the broker imported", sim)
            sys.exit(bool(heavy or sim))"""
        done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
            check=False)
        assert done.returncode == 0, done.stdout + done.stderr

    def test_the_simulator_states_the_broker_on_its_own(self, broker_id: str) -> None:
        """The package's simulator modules (``sim*``) import no other module of the package
        (its declaration aside): a wrong table in the plugin cannot be mirrored by its
        simulator."""
        _, package = self._entry_module(broker_id)
        found = importlib.import_module(package).__path__
        modules = {info.name for info in pkgutil.iter_modules(found)}
        for info in pkgutil.iter_modules(found):
            if not info.name.startswith("sim"):
                continue
            path = Path(found[0]) / f"{info.name}.py"
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or ""] if node.level == 0 else [
                        f"{package}.{node.module}" if node.module else package]
                    if node.level and not node.module:  # from . import x: a module?
                        names = [f"{package}.{alias.name}" if alias.name in modules
                                 else package for alias in node.names]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                for name in names:
                    inside = name.startswith(package + ".")  # the declaration is fine
                    assert not inside or name.rpartition(".")[2].startswith("sim"), (
                        f"{package}.{info.name} imports {name}: a simulator states the"
                        " broker on its own, not through the plugin's tables")

    @staticmethod
    def _entry_module(broker_id: str) -> tuple[str, str]:
        """(the entry point's module, its top-level package); skipped when the broker is
        not installed (``test_broker_info_matches_entry_point`` fails for that)."""
        eps = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == broker_id]
        if not eps:
            pytest.skip("not installed: no entry point to load")
        module = eps[0].value.partition(":")[0]
        return module, module.partition(".")[0]

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
