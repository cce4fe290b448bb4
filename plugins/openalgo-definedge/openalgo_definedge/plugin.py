"""The hook surface of the Definedge plugin: the kit's hooks on :class:`DefinedgeBroker`.

Entry point ``definedge = "openalgo_definedge.plugin:hooks"`` in group
``openalgo.brokers``. Loading this module imports only the declaration in
:mod:`openalgo_definedge`: the broker is built on a hook's first call, and the
simulator (which needs the core's ``testing`` extra) only when asked for.
"""

from __future__ import annotations

from openalgo_core.kit.hooks import KitHooks

from . import INFO

__all__ = ["hooks"]

hooks = KitHooks(INFO, broker="openalgo_definedge.broker:DefinedgeBroker",
                 simulator="openalgo_definedge.simulator:DefinedgeSimulator")
