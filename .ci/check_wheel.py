"""Checks one installed wheel from inside the fresh venv it was installed into (``nox -s build``).

Usage: ``<venv>/bin/python -I check_wheel.py PACKAGE [DISTRIBUTION VERSION]``.

Imports every module of ``PACKAGE`` (but ``__main__``) from this venv, where ``py.typed`` must
be installed too. A module may fail only for want of a package that an installed distribution
requires under an extra (the core's ``testing`` and ``server``, needed by its simulators and
server), so a dependency the wheel does not declare fails here.

Then runs this venv's ``openalgo brokers --json`` in an empty directory with an empty
``OPENALGO_HOME``: with ``DISTRIBUTION VERSION`` (a plugin) the listing must be exactly that
distribution at that version with status ``ok``; without (the core alone) it must be empty.

Exits 0, or 1 with one line saying what is wrong. Standard library only.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

_EXTRA_MARKER = re.compile(r"\bextra\s*==")
_NAME = re.compile(r"[A-Za-z0-9._-]+")


def _normal(name: str) -> str:
    """A distribution name as wheel file names spell it (PEP 503, underscores)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _optional() -> frozenset[str]:
    """Names of the packages installed distributions require only under an extra."""
    names: set[str] = set()
    for dist in importlib.metadata.distributions():
        for requirement in dist.requires or ():
            spec, _, marker = requirement.partition(";")
            found = _NAME.match(spec.strip())
            if found and _EXTRA_MARKER.search(marker):
                names.add(_normal(found.group()))
    return frozenset(names)


def _check_import(package: str) -> str | None:
    """What is wrong with the installed ``package`` and its modules, or None."""
    root = Path(importlib.import_module(package).__file__ or "").parent
    if not root.resolve().is_relative_to(Path(sys.prefix).resolve()):
        return f"{package} imported from {root}, not from the venv {sys.prefix}"
    if not (root / "py.typed").is_file():
        return f"{package} is installed without py.typed"
    optional = _optional()
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        name = ".".join((package, *parts)).removesuffix(".__init__")
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as e:
            if _normal((e.name or "").partition(".")[0]) not in optional:
                return f"{name} imports {e.name}, which the installed wheels do not require"
    return None


def _listing() -> list[dict[str, Any]]:
    """``openalgo brokers --json`` of this venv, isolated from the caller's home and ``.env``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENALGO_PLUGINS", "OPENALGO_DISABLE_PLUGINS")}
    command = [str(Path(sys.executable).parent / "openalgo"), "brokers", "--json"]
    with tempfile.TemporaryDirectory() as empty:
        env["OPENALGO_HOME"] = empty
        done = subprocess.run(command, cwd=empty, env=env,  # noqa: S603 - fixed, this venv's
                              capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"openalgo brokers exited {done.returncode}: {done.stderr.strip()}")
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


def _check_listing(distribution: str | None, version: str | None) -> str | None:
    """What is wrong with this venv's broker listing, or None."""
    rows = _listing()
    seen = [(_normal(str(r.get("distribution"))), r.get("version"), r.get("status"))
            for r in rows]
    want = [] if distribution is None else [(_normal(distribution), version, "ok")]
    if seen != want:
        return f"openalgo brokers lists {rows}, expected (distribution, version, status) {want}"
    return None


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 3):
        print(__doc__, file=sys.stderr)
        return 2
    package, *plugin = argv
    distribution, version = plugin if plugin else (None, None)
    problem = _check_import(package) or _check_listing(distribution, version)
    if problem:
        print(f"check_wheel: {problem}", file=sys.stderr)
        return 1
    listed = f"; {distribution} {version} listed, status ok" if plugin else "; no broker listed"
    print(f"check_wheel: {package} imported from the venv, typed{listed}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
