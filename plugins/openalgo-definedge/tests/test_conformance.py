"""The core's conformance kit, run against the Definedge simulator (in-process and over
HTTP): login, orders, the day's books, settling and re-login, the master contract, and the
journal's fault campaign of 1,000 orders (``OPENALGO_CAMPAIGN_REPORT=<file.json>`` records
its figures)."""

from __future__ import annotations

from typing import ClassVar

import openalgo_definedge.plugin

from openalgo_core.kit import KitHooks
from openalgo_core.testing.conformance import BrokerConformance


class TestDefinedgeConformance(BrokerConformance):
    plugin: ClassVar[KitHooks] = openalgo_definedge.plugin.hooks
