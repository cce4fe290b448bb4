"""Discovery without import, lazy loading, isolation of broken plugins, routing."""

import dataclasses
import sys
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from openalgo_core import (
    IncompatiblePluginError,
    PluginLoadError,
    PluginNotFoundError,
    Registry,
    UnsupportedOperationError,
    hookimpl,
)
from tests.fakebroker.plugin import INFO

GROUP = "openalgo.brokers"


def ep(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=GROUP)


EPS = [ep("fake", "tests.fakebroker.plugin"),
       ep("broken", "tests.plugins_for_tests.broken_import"),
       ep("oldbroker", "tests.plugins_for_tests.variants:incompatible"),
       ep("misspelt", "tests.plugins_for_tests.variants:misspelt"),
       ep("defaulted", "tests.plugins_for_tests.variants:defaulted"),
       ep("loginonly", "tests.plugins_for_tests.variants:loginonly"),
       ep("renamed", "tests.plugins_for_tests.variants:loginonly")]


def test_listing_does_not_import() -> None:
    sys.modules.pop("tests.plugins_for_tests.broken_import", None)
    registry = Registry(environ={}, entry_points=EPS)
    assert [r.id for r in registry.records()] == sorted(e.name for e in EPS)
    assert all(r.status == "available" for r in registry.records())
    assert "tests.plugins_for_tests.broken_import" not in sys.modules


def test_broken_plugins_are_reported_and_others_keep_working() -> None:
    registry = Registry(environ={}, entry_points=EPS)
    records = {r.id: r for r in registry.load_all()}
    assert records["fake"].status == "ok" and records["fake"].info == INFO
    assert records["broken"].status == "broken"
    assert "not installed" in (records["broken"].reason or "")
    assert records["oldbroker"].status == "incompatible"
    assert "999" in (records["oldbroker"].reason or "")
    assert records["misspelt"].status == "broken" and "place_ordr" in records["misspelt"].reason
    assert records["defaulted"].status == "broken"
    assert "fetch_positions(client)" in (records["defaulted"].reason or "")
    assert records["renamed"].status == "broken" and "does not match" in records["renamed"].reason
    assert registry.load("fake") == INFO  # still routable after the failures


def test_load_errors_are_typed() -> None:
    registry = Registry(environ={}, entry_points=EPS)
    with pytest.raises(PluginLoadError):
        registry.load("broken")
    with pytest.raises(PluginLoadError):  # and stays broken, not retried
        registry.load("broken")
    with pytest.raises(IncompatiblePluginError):
        registry.load("oldbroker")
    with pytest.raises(PluginNotFoundError, match=r"available: .*fake"):
        registry.load("zerodha")


def test_allow_list_and_disable_list() -> None:
    registry = Registry(environ={"OPENALGO_PLUGINS": "fake, loginonly"}, entry_points=EPS)
    assert registry.broker_ids() == ["fake", "loginonly"]
    with pytest.raises(PluginNotFoundError, match="disabled"):
        registry.load("broken")
    registry = Registry(environ={"OPENALGO_DISABLE_PLUGINS": "fake"}, entry_points=EPS)
    assert "fake" not in registry.broker_ids()
    with pytest.raises(PluginNotFoundError):
        registry.load("fake")


def test_unimplemented_operation_is_unsupported() -> None:
    registry = Registry(environ={}, entry_points=EPS)
    with pytest.raises(UnsupportedOperationError, match="place_order"):
        registry.call("loginonly", "place_order", order=None, instrument=None, session=None,
                      credentials=None, client=None)


class Recorder:
    """A second broker that records whether it was ever called."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    @hookimpl
    def broker_info(self) -> Any:
        return dataclasses.replace(INFO, id="other")

    @hookimpl
    def fetch_positions(self, session: Any) -> Any:
        self.calls.append("fetch_positions")
        return ["from other"]


def test_a_call_reaches_exactly_one_broker() -> None:
    registry = Registry(environ={}, entry_points=EPS)
    other = Recorder()
    registry.register_broker(other)

    class FakeStandIn:
        @hookimpl
        def broker_info(self) -> Any:
            return INFO

        @hookimpl
        def fetch_positions(self, session: Any) -> Any:
            return ["from fake"]

    registry.register_broker(FakeStandIn())
    assert registry.call("fake", "fetch_positions", session=None, credentials=None,
                         client=None, instruments=None) == ["from fake"]
    assert other.calls == []
    assert registry.call("other", "fetch_positions", session=None, credentials=None,
                         client=None, instruments=None) == ["from other"]


def test_wrappers_wrap_the_routed_broker() -> None:
    registry = Registry(environ={}, discover=False)
    seen: list[tuple[str, Any]] = []

    class Broker:
        @hookimpl
        def broker_info(self) -> Any:
            return INFO

        @hookimpl
        def fetch_positions(self, session: Any) -> Any:
            return ["row"]

    class Audit:
        @hookimpl(wrapper=True)
        def fetch_positions(self, session: Any) -> Any:
            result = yield
            seen.append(("audit", result))
            return result

    registry.register_broker(Broker())
    registry.register_wrapper(Audit(), name="audit")
    assert registry.call("fake", "fetch_positions", session=None, credentials=None,
                         client=None, instruments=None) == ["row"]
    assert seen == [("audit", ["row"])]
    with pytest.raises(UnsupportedOperationError):
        registry.call("fake", "place_order", order=None, instrument=None, session=None,
                      credentials=None, client=None)


def test_a_tryfirst_plugin_can_short_circuit_for_dry_runs() -> None:
    registry = Registry(environ={}, discover=False)
    sent: list[Any] = []

    class Broker:
        @hookimpl
        def broker_info(self) -> Any:
            return INFO

        @hookimpl
        def place_order(self, order: Any) -> Any:
            sent.append(order)
            return "live receipt"

    class DryRun:
        @hookimpl(tryfirst=True)
        def place_order(self, order: Any) -> Any:
            return f"dry-run {order}"

    registry.register_broker(Broker())
    registry.register_wrapper(DryRun(), name="dry-run")
    assert registry.call("fake", "place_order", order="o1", instrument=None, session=None,
                         credentials=None, client=None) == "dry-run o1"
    assert sent == []
