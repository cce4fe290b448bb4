"""The core's conformance kit, run against the Breeze simulator (in-process and over HTTP):
login through ICICI's page and its redirect, orders (a MARKET order sent as a protected
limit), the day's books, settling, the master contract at full size, and the journal's
fault campaign of 1,000 orders (``OPENALGO_CAMPAIGN_REPORT=<file.json>`` records its
figures)."""

from __future__ import annotations

from typing import ClassVar

import openalgo_icici.plugin

from openalgo_core.kit import KitHooks
from openalgo_core.testing.conformance import BrokerConformance


class TestBreezeConformance(BrokerConformance):
    plugin: ClassVar[KitHooks] = openalgo_icici.plugin.hooks
    # a MARKET order is priced from a quote first (MARKET_ORDERS=protected, the default)
    order_reads: ClassVar[int] = 1
