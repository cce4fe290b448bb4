"""Sessions: core tests, each plugin in its own venv, lint, types.

``nox`` runs the default set (everything CI runs); ``nox -l`` lists them.
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
PLUGINS = sorted(p.parent.name for p in (ROOT / "plugins").glob("openalgo-*/pyproject.toml"))

nox.options.sessions = ["core", "plugin", "lint", "types"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


@nox.session(python="3.11")
def core(session: nox.Session) -> None:
    """The core's unit tests, the fake broker and the conformance kit."""
    session.install("-e", ".[testing]")
    session.run("pytest", "tests", *session.posargs)


@nox.session(python="3.11")
@nox.parametrize("plugin", PLUGINS, ids=[p.removeprefix("openalgo-") for p in PLUGINS])
def plugin(session: nox.Session, plugin: str) -> None:
    """One broker package, alone with the core: proves the packages are independent."""
    session.install(".[testing]", f"./plugins/{plugin}[test]")
    session.chdir(f"plugins/{plugin}")
    session.run("pytest", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")


@nox.session(python="3.11")
def types(session: nox.Session) -> None:
    """mypy, strict on the core."""
    session.install("-e", ".[testing,server]", "mypy>=1.10")
    session.run("mypy")
