"""The hook surface of the ICICI plugin: the kit's hooks on :class:`BreezeBroker`.

Entry point ``icici = "openalgo_icici.plugin:hooks"`` in group ``openalgo.brokers``.
Loading this module imports only the declaration in :mod:`openalgo_icici`: the broker is
built on a hook's first call, and the simulator (which needs the core's ``testing``
extra) only when asked for.
"""

from __future__ import annotations

from openalgo_core.kit.hooks import KitHooks

from . import INFO

__all__ = ["hooks"]

hooks = KitHooks(INFO, broker="openalgo_icici.broker:BreezeBroker",
                 simulator="openalgo_icici.simulator:BreezeSimulator")
