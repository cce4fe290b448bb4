"""The hook surface of the IndMoney plugin: the kit's hooks on :class:`IndMoneyBroker`.

Entry point ``indmoney = "openalgo_indmoney.plugin:hooks"`` in group ``openalgo.brokers``.
Importing or loading this module imports only the declaration in :mod:`openalgo_indmoney`
(neither pydantic nor httpx): the broker is built on a hook's first call, and the
simulator (which needs the core's ``testing`` extra) only when asked for.
"""

from __future__ import annotations

from openalgo_core.kit.hooks import KitHooks

from . import INFO

__all__ = ["hooks"]

hooks = KitHooks(INFO, broker="openalgo_indmoney.broker:IndMoneyBroker",
                 simulator="openalgo_indmoney.simulator:IndMoneySimulator")
