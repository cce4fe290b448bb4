"""pytest plugin (entry point ``pytest11``) shipped with ``openalgo-core[testing]``.

Installing the extra gives any broker package:

- assertion rewriting inside :mod:`openalgo_core.testing.conformance`;
- ``openalgo_home``: an isolated ``OPENALGO_HOME`` (sessions, keys, caches) per test.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.register_assert_rewrite("openalgo_core.testing.conformance")


@pytest.fixture
def openalgo_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ``OPENALGO_HOME`` for this test."""
    home = tmp_path / "openalgo-home"
    monkeypatch.setenv("OPENALGO_HOME", str(home))
    return home
