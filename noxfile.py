"""Sessions: core tests, each plugin in its own venv, lint, types, end-to-end, demo, bench.

``nox`` runs the default set (everything CI runs); ``nox -l`` lists them.
"""

from __future__ import annotations

from pathlib import Path

import nox

ROOT = Path(__file__).parent
PLUGINS = sorted(p.parent.name for p in (ROOT / "plugins").glob("openalgo-*/pyproject.toml"))

OPENALGO_CLIENT = "openalgo==1.0.47"  # OpenAlgo's own client, from PyPI; installs on 3.11

nox.options.sessions = ["core", "plugin", "lint", "types", "e2e", "demo"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


@nox.session(python="3.11")
def core(session: nox.Session) -> None:
    """The core's unit tests, the fake broker and the conformance kit (not tests/e2e)."""
    session.install("-e", ".[testing,server]")
    session.run("pytest", "tests", "--ignore=tests/e2e", *session.posargs)


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


@nox.session(python="3.11")
def e2e(session: nox.Session) -> None:
    """Real sockets: OpenAlgo's client, headless Chromium (skipped if absent), the CLI demo."""
    session.install("-e", ".[testing,server]", "./plugins/openalgo-angel", OPENALGO_CLIENT,
                    "playwright>=1.45")
    session.run("pytest", "tests/e2e", "-m", "e2e", *session.posargs)


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """The main job: every plugin's simulator and the gateway; logins, orders, positions."""
    session.install("-e", ".[testing,server]", *(f"./plugins/{p}" for p in PLUGINS))
    session.run("openalgo", "demo")


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Benchmarks (minutes; not in the default set): writes BENCHMARKS.md and a plot.

    ``nox -s bench -- --quick`` for a smoke run.
    """
    session.install("-e", ".[testing,server]", *(f"./plugins/{p}[test]" for p in PLUGINS),
                    "pandas>=2", "matplotlib>=3.8")
    session.run("python", "-m", "bench.run", *session.posargs)
