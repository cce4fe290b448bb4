"""The core's conformance kit, run against the IndMoney simulator (in-process and over HTTP):
login, orders, the day's books, settling and re-login, the master contract, and the
journal's fault campaign of 1,000 orders (``OPENALGO_CAMPAIGN_REPORT=<file.json>`` records
its figures).

Two settings of this suite, both facts of INDstocks rather than leniencies:

- the gateway here has no pasted access token (``BROKER_API_SECRET``): the suite's login
  checks (a wrong TOTP or MPIN refused, a code form without a TOTP secret, one login per
  expired session) are about token generation, which a working pasted token would skip.
  The pasted token is checked by ``test_login.py``; the fault campaign keeps it (its
  expired sessions then fall back to generation);
- the simulator's one-generation-a-minute rule is off: the suite expires sessions several
  times a second. The rule, and the pacer that keeps the plugin within it, are checked by
  ``test_login.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar

import openalgo_indmoney.plugin

from openalgo_core.kit import KitHooks
from openalgo_core.models import Session
from openalgo_core.testing.conformance import BrokerConformance, Harness
from openalgo_core.testing.wiring import Mode


class TestIndMoneyConformance(BrokerConformance):
    plugin: ClassVar[KitHooks] = openalgo_indmoney.plugin.hooks
    # INDstocks' RMS refuses a margin shortfall at placement: HTTP 400 OrderException
    margin_refused_at_placement: ClassVar[bool] = True

    @contextlib.contextmanager
    def wire(self, mode: Mode, **options: Any) -> Iterator[Harness]:
        options["omit"] = (*options.get("omit", ()), "API_SECRET")
        with super().wire(mode, **options) as harness:
            harness.sim.token_interval = 0.0  # type: ignore[attr-defined]
            yield harness

    def login(self, harness: Harness) -> Session:
        harness.sim.token_interval = 0.0  # type: ignore[attr-defined]  # the campaign's own wiring
        return super().login(harness)
