"""``python -m openalgo_core.cli demo`` as a user runs it: a separate process that starts
every installed broker's simulator and the gateway on loopback sockets, logs in, trades
through ``/api/v1`` and prints each broker's positions table.

Needs an installed broker plugin with a simulator (``pip install ./plugins/openalgo-angel``;
the ``e2e`` nox session installs it); skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from openalgo_core import Registry


def brokers_with_simulators() -> list[str]:
    records = [r for r in Registry(environ={}).load_all() if r.status == "ok"]
    return [r.id for r in records if callable(getattr(r.plugin, "broker_simulator", None))]


def test_demo_prints_each_brokers_positions(tmp_path: Path) -> None:
    brokers = brokers_with_simulators()
    if not brokers:
        pytest.skip("no installed broker plugin has a simulator: "
                    "pip install ./plugins/openalgo-angel (the e2e nox session does)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENALGO_")}
    env["OPENALGO_HOME"] = str(tmp_path / "home")

    done = subprocess.run([sys.executable, "-m", "openalgo_core.cli", "demo"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=180)

    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "demo finished: all brokers behaved as expected" in out
    for broker in brokers:
        # BUY 10 at market, a resting limit BUY 5 below the market, SELL 4 at market: 6
        table = re.search(rf"^{broker} positions:\n(.*?)\n\n", out, re.M | re.S)
        assert table is not None, out
        header, rule, *rows = table.group(1).splitlines()
        assert header.split() == ["symbol", "exchange", "product", "quantity",
                                  "average_price", "ltp", "pnl"]
        assert set(rule.replace(" ", "")) == {"-"}
        assert [row.split()[:4] for row in rows] == [["SBIN", "NSE", "MIS", "6"]], out
