"""The core's conformance kit, run against the Angel simulator (in-process and over HTTP):
the day's operations, settling and re-login, and the journal's fault campaign of 1,000
orders (``OPENALGO_CAMPAIGN_REPORT=<file.json>`` records its figures)."""

from __future__ import annotations

from typing import ClassVar

import openalgo_angel.plugin

from openalgo_core.kit import KitHooks
from openalgo_core.testing.conformance import BrokerConformance


class TestAngelConformance(BrokerConformance):
    plugin: ClassVar[KitHooks] = openalgo_angel.plugin.hooks
