"""The hook surface of the Kotak plugin: the kit's hooks on :class:`KotakBroker`.

Entry point ``kotak = "openalgo_kotak.plugin:hooks"`` in group ``openalgo.brokers``.
Loading this module imports only the declaration in :mod:`openalgo_kotak`: the broker
is built on a hook's first call, and the simulator (which needs the core's ``testing``
extra) only when asked for.
"""

from __future__ import annotations

from openalgo_core.kit.hooks import KitHooks

from . import INFO

__all__ = ["hooks"]

hooks = KitHooks(INFO, broker="openalgo_kotak.broker:KotakBroker",
                 simulator="openalgo_kotak.simulator:KotakSimulator")
