"""Sessions: core tests, each plugin in its own venv, the plugin template, lint, types,
end-to-end, demo, build, bench.

``nox`` runs the default set (everything CI runs); ``nox -l`` lists them.
"""

from __future__ import annotations

import shutil
import tempfile
import tomllib
from pathlib import Path

import nox

ROOT = Path(__file__).parent
PLUGINS = sorted(p.parent.name for p in (ROOT / "plugins").glob("openalgo-*/pyproject.toml"))
DIST = ROOT / "dist"

OPENALGO_CLIENT = "openalgo==1.0.47"  # OpenAlgo's own client, from PyPI; installs on 3.11
SCHEMATHESIS = "schemathesis>=4.3,<5"  # the gateway's schema, checked against its answers

nox.options.sessions = ["core", "plugin", "template", "lint", "types", "build", "e2e", "demo"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True


def sdk_without_pins(plugin: str) -> list[str]:
    """A plugin's ``[tool.openalgo] sdk-without-pins``: official SDKs its tests judge the
    simulator with whose own pins conflict with the core's (pyintegrate pins pyOpenSSL < 24,
    hence cryptography < 42); installed with ``--no-deps`` after what they really need,
    which the plugin's ``test`` extra lists."""
    meta = tomllib.loads((ROOT / "plugins" / plugin / "pyproject.toml").read_text())
    pins: list[str] = meta.get("tool", {}).get("openalgo", {}).get("sdk-without-pins", [])
    return pins


def install_sdks(session: nox.Session, plugins: list[str]) -> None:
    pins = [pin for plugin in plugins for pin in sdk_without_pins(plugin)]
    if pins:
        session.install("--no-deps", *pins)


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
    install_sdks(session, [plugin])
    session.chdir(f"plugins/{plugin}")
    session.run("pytest", *session.posargs)


@nox.session(python="3.11")
def template(session: nox.Session) -> None:
    """``openalgo new-plugin acme`` writes a package that, installed as it is, passes the kit's
    conformance suite, ruff and mypy --strict: what a third party starts from."""
    session.install(".[testing]", "ruff>=0.6", "mypy>=1.10")
    # outside .nox: ruff skips anything under a .nox directory
    where = Path(tempfile.mkdtemp(prefix="openalgo-template-"))
    session.run("openalgo", "new-plugin", "acme", "--directory", str(where))
    session.install(f"{where / 'openalgo-acme'}[test]")
    with session.chdir(where / "openalgo-acme"):
        session.run("ruff", "check", ".")
        session.run("mypy", "openalgo_acme")
        session.run("pytest", *session.posargs)


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")


@nox.session(python="3.11")
def types(session: nox.Session) -> None:
    """mypy --strict on the core, on each plugin package (from its own directory, so its own
    ``[tool.mypy]`` applies) and on the build scripts."""
    session.install("-e", ".[testing,server]", *(f"-e./plugins/{p}" for p in PLUGINS),
                    "mypy>=1.10", "nox>=2024.4")
    session.run("mypy")
    for plugin in PLUGINS:
        with session.chdir(f"plugins/{plugin}"):
            session.run("mypy", "--strict", "-p", plugin.replace("-", "_"))
    session.run("mypy", "--strict", "noxfile.py", ".ci/check_wheel.py")


@nox.session(python="3.11")
def e2e(session: nox.Session) -> None:
    """Real sockets: OpenAlgo's client, headless Chromium (skipped if absent), the CLI demo;
    schemathesis over the gateway's OpenAPI schema."""
    session.install("-e", ".[testing,server]", "./plugins/openalgo-angel", OPENALGO_CLIENT,
                    "playwright>=1.45", SCHEMATHESIS)
    session.run("pytest", "tests/e2e", "-m", "e2e", *session.posargs)


@nox.session(python="3.11")
def demo(session: nox.Session) -> None:
    """The main job: every plugin's simulator and the gateway; logins, orders, positions."""
    session.install("-e", ".[testing,server]", *(f"./plugins/{p}" for p in PLUGINS))
    session.run("openalgo", "demo")


@nox.session(python="3.11")
def build(session: nox.Session) -> None:
    """A wheel and an sdist of the core and of every plugin in ``dist/`` (emptied first), each
    wheel built from its sdist and all checked by ``twine check --strict``; then each wheel
    installed alone into a fresh venv (a plugin beside the core's wheel only, as openalgo-core is
    not on PyPI) and checked there by ``.ci/check_wheel.py``: imported from the venv, typed, and
    its broker listed by ``openalgo brokers`` with status ok.

    Builds without isolation, with the session's hatchling: no build environment per package.
    """
    session.install("build>=1.2", "twine>=6.1", "hatchling>=1.21")
    shutil.rmtree(DIST, ignore_errors=True)
    for source in (".", *(f"plugins/{p}" for p in PLUGINS)):
        session.run("python", "-m", "build", "--no-isolation", "--outdir", str(DIST), source)
    session.run("twine", "check", "--strict", *sorted(str(f) for f in DIST.iterdir()))
    core_wheel = _wheel("openalgo-core")
    _check_wheel(session, [core_wheel], "openalgo_core")
    for plugin in PLUGINS:
        wheel = _wheel(plugin)
        distribution, version = wheel.name.split("-")[:2]
        _check_wheel(session, [core_wheel, wheel], distribution, distribution, version)


def _wheel(distribution: str) -> Path:
    """The one wheel of ``distribution`` in ``dist/``."""
    (wheel,) = DIST.glob(f"{distribution.replace('-', '_')}-*.whl")
    return wheel


def _check_wheel(session: nox.Session, wheels: list[Path], package: str, *plugin: str) -> None:
    """Installs ``wheels`` (and their dependencies from the index) into a new venv and runs
    ``.ci/check_wheel.py package *plugin`` with that venv's python, isolated from the clone."""
    venv = Path(session.create_tmp()) / f"venv-{package}"
    session.run("python", "-m", "venv", "--clear", str(venv))
    python = str(venv / "bin" / "python")
    session.run(python, "-m", "pip", "install", "--quiet", *map(str, wheels), external=True)
    session.run(python, "-I", str(ROOT / ".ci" / "check_wheel.py"), package, *plugin,
                external=True)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Benchmarks (minutes; not in the default set): writes BENCHMARKS.md and a plot.

    ``nox -s bench -- --quick`` for a smoke run.
    """
    session.install("-e", ".[testing,server]", *(f"./plugins/{p}[test]" for p in PLUGINS),
                    "pandas>=2", "matplotlib>=3.8")
    install_sdks(session, PLUGINS)
    session.run("python", "-m", "bench.run", *session.posargs)
