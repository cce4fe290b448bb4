"""Broker discovery, lazy loading, and routing a call to exactly one broker.

Plugins are listed from entry-point metadata (group ``openalgo.brokers``)
without importing them; a plugin is imported on first use. A plugin that fails
to import, fails pluggy's validation, declares defaulted hookimpl parameters or
another ``CORE_API`` is recorded as broken with the reason, and every other
broker keeps working. Nothing else in openalgo calls ``pm.hook``.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from importlib.metadata import entry_points as _installed
from typing import Any, Literal

import pluggy

from . import hookspecs
from .errors import (
    IncompatiblePluginError,
    PluginError,
    PluginLoadError,
    PluginNotFoundError,
    UnsupportedOperationError,
)
from .hookspecs import CORE_API, PROJECT
from .info import BrokerInfo

__all__ = ["ENTRY_POINT_GROUP", "PluginRecord", "Registry", "defaulted_hookimpl_params"]

ENTRY_POINT_GROUP = "openalgo.brokers"
Status = Literal["available", "ok", "broken", "incompatible", "disabled"]


@dataclass
class PluginRecord:
    """What is known about one broker plugin (metadata first, details once loaded)."""

    id: str
    distribution: str | None = None
    version: str | None = None
    entry_point: EntryPoint | None = None
    plugin: object | None = None
    info: BrokerInfo | None = None
    status: Status = "available"
    reason: str | None = None


def _split(value: str | None) -> set[str]:
    return {part.strip().lower() for part in (value or "").split(",") if part.strip()}


def defaulted_hookimpl_params(plugin: object) -> list[str]:
    """``hook(param)`` for every hookimpl parameter with a default (pluggy never passes those)."""
    found = []
    marker = f"{PROJECT}_impl"
    for name in dir(plugin):
        # statically, as pluggy does: reading a property could run plugin code
        func = inspect.getattr_static(plugin, name, None)
        if isinstance(func, staticmethod | classmethod):
            func = func.__func__
        if callable(func) and hasattr(func, marker):
            for param in inspect.signature(func).parameters.values():
                if param.default is not inspect.Parameter.empty:
                    found.append(f"{name}({param.name})")
    return found


class Registry:
    """The set of broker plugins and wrapper plugins for one application.

    Args:
        environ: where ``OPENALGO_PLUGINS`` / ``OPENALGO_DISABLE_PLUGINS`` are read.
        discover: list installed entry points (turn off for fully in-process use).
        entry_points: use these instead of the installed ones (tests).
    """

    def __init__(self, *, environ: Mapping[str, str] | None = None,
                 discover: bool = True,
                 entry_points: Iterable[EntryPoint] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._allow = _split(env.get("OPENALGO_PLUGINS"))
        self._deny = _split(env.get("OPENALGO_DISABLE_PLUGINS"))
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self._records: dict[str, PluginRecord] = {}
        self._callers: dict[tuple[str, str], Callable[..., Any]] = {}
        self._lock = threading.RLock()
        if entry_points is None:
            entry_points = _installed(group=ENTRY_POINT_GROUP) if discover else ()
        for ep in entry_points:
            self._add_record(PluginRecord(
                id=ep.name, entry_point=ep,
                distribution=ep.dist.name if ep.dist else None,
                version=ep.dist.version if ep.dist else None))

    def _add_record(self, record: PluginRecord) -> None:
        if (self._allow and record.id not in self._allow) or record.id in self._deny:
            record.status, record.reason = "disabled", "disabled by OPENALGO_(DISABLE_)PLUGINS"
        self._records.setdefault(record.id, record)

    # -- listing ---------------------------------------------------------------
    def records(self) -> list[PluginRecord]:
        """Every known broker, sorted by id; not imported unless already loaded."""
        return [self._records[k] for k in sorted(self._records)]

    def broker_ids(self) -> list[str]:
        """Ids of brokers that are not disabled."""
        return [r.id for r in self.records() if r.status != "disabled"]

    def load_all(self) -> list[PluginRecord]:
        """Try to load every enabled broker; failures are recorded, not raised."""
        for record in self.records():
            if record.status != "disabled":
                with contextlib.suppress(PluginError):
                    self.load(record.id)
        return self.records()

    # -- registration ------------------------------------------------------------
    def register_broker(self, plugin: object, *, name: str | None = None,
                        distribution: str | None = None, version: str | None = None) -> BrokerInfo:
        """Register an in-process broker plugin (tests, embedding apps) and load it."""
        with self._lock:
            info = self._info_of(plugin, name)
            record = PluginRecord(id=info.id, distribution=distribution, version=version,
                                  plugin=plugin)
            self._records.pop(info.id, None)
            self._add_record(record)
            if record.status == "disabled":
                raise PluginNotFoundError(info.id, record.reason or "disabled")
            self._activate(record, plugin)
            return info

    def register_wrapper(self, plugin: object, name: str | None = None) -> None:
        """Register a cross-cutting plugin (audit, risk, dry-run) wrapping every broker."""
        with self._lock:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
            self._callers.clear()

    # -- loading -------------------------------------------------------------------
    def record(self, broker: str) -> PluginRecord:
        try:
            return self._records[broker]
        except KeyError:
            known = ", ".join(self.broker_ids()) or "none installed"
            raise PluginNotFoundError(broker, f"no such broker plugin (available: {known})"
                                      ) from None

    def load(self, broker: str) -> BrokerInfo:
        """Import and validate ``broker`` if needed; return its :class:`BrokerInfo`.

        Raises:
            PluginNotFoundError, PluginLoadError, IncompatiblePluginError.
        """
        record = self.record(broker)
        if record.status == "ok" and record.info is not None:
            return record.info
        with self._lock:
            if record.status == "ok" and record.info is not None:
                return record.info
            if record.status == "disabled":
                raise PluginNotFoundError(broker, record.reason or "disabled")
            if record.status in ("broken", "incompatible"):
                cls = IncompatiblePluginError if record.status == "incompatible" \
                    else PluginLoadError
                raise cls(broker, record.reason or "failed to load")
            assert record.entry_point is not None
            try:
                plugin = record.entry_point.load()
            except Exception as exc:  # any import-time failure
                record.status = "broken"
                record.reason = f"import failed: {type(exc).__name__}: {exc}"
                raise PluginLoadError(broker, record.reason) from exc
            try:
                self._activate(record, plugin)
            except PluginError as exc:
                record.status = "incompatible" if isinstance(exc, IncompatiblePluginError) \
                    else "broken"
                record.reason = str(exc).removeprefix(f"{broker}: ")
                raise
            assert record.info is not None
            return record.info

    def _info_of(self, plugin: object, name: str | None) -> BrokerInfo:
        func = getattr(plugin, "broker_info", None)
        label = str(name or getattr(plugin, "__name__", type(plugin).__name__))
        if func is None or not callable(func):
            raise PluginLoadError(label, "plugin has no broker_info hookimpl")
        try:
            info = func()
        except Exception as exc:
            raise PluginLoadError(label, f"broker_info() failed: {exc}") from exc
        if not isinstance(info, BrokerInfo):
            raise PluginLoadError(label, "broker_info() must return a BrokerInfo")
        return info

    def _activate(self, record: PluginRecord, plugin: object) -> None:
        info = self._info_of(plugin, record.id)
        if info.id != record.id:
            raise PluginLoadError(record.id, f"entry point name {record.id!r} does not match"
                                  f" BrokerInfo.id {info.id!r}")
        if info.core_api != CORE_API:
            raise IncompatiblePluginError(
                record.id, f"built for core API {info.core_api}, this core speaks {CORE_API};"
                f" install a matching version")
        defaulted = defaulted_hookimpl_params(plugin)
        if defaulted:
            raise PluginLoadError(record.id, "hookimpl parameters must not have defaults: "
                                  + ", ".join(defaulted))
        try:
            self.pm.register(plugin, name=record.id)
            self.pm.check_pending()
        except Exception as exc:  # pluggy.PluginValidationError, ValueError
            if self.pm.has_plugin(record.id):
                self.pm.unregister(name=record.id)
            raise PluginLoadError(record.id, f"invalid hookimpl: {exc}") from exc
        record.plugin, record.info, record.status, record.reason = plugin, info, "ok", None
        self._callers.clear()

    # -- routing -------------------------------------------------------------------
    def _broker_plugins(self) -> Iterable[object]:
        return [r.plugin for r in self._records.values() if r.status == "ok" and r.plugin]

    def call(self, broker: str, hook: str, **kwargs: Any) -> Any:
        """Call ``hook`` on ``broker`` only (wrappers still wrap it).

        Raises:
            UnsupportedOperationError: the broker gave no answer (does not implement it).
        """
        self.load(broker)
        caller = self._callers.get((broker, hook))
        if caller is None:
            with self._lock:
                mine = self._records[broker].plugin
                others = [p for p in self._broker_plugins() if p is not mine]
                caller = self.pm.subset_hook_caller(hook, remove_plugins=others)
                self._callers[(broker, hook)] = caller
        result = caller(**kwargs)
        if result is None:
            raise UnsupportedOperationError(broker, f"does not support {hook}")
        return result
