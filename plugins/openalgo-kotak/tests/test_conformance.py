"""The core's conformance kit, run against the Kotak simulator (in-process and over HTTP):
login, orders, the day's books, settling and re-login, the master contract, and the
journal's fault campaign (``OPENALGO_CAMPAIGN_REPORT=<file.json>`` records its figures)."""

from __future__ import annotations

from typing import ClassVar

import openalgo_kotak.plugin
from openalgo_kotak.instruments import COLUMNS
from openalgo_kotak.sim_master import HEADER

from openalgo_core.kit import KitHooks
from openalgo_core.testing.conformance import BrokerConformance


class TestKotakConformance(BrokerConformance):
    plugin: ClassVar[KitHooks] = openalgo_kotak.plugin.hooks
    #: the scrip master's columns the plugin reads, as the files spell them (78 in all)
    garbage_columns: ClassVar[frozenset[str] | None] = frozenset(
        name for name in HEADER.split(",") if name.replace(";", "").strip() in COLUMNS)
