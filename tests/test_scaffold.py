"""`openalgo new-plugin`: the package it writes (its conformance run is `nox -s template`)."""

from __future__ import annotations

import ast
import importlib
import io
import sys
from pathlib import Path

import pytest

from openalgo_core.cli import main
from openalgo_core.codes import OrderStatus
from openalgo_core.errors import ConfigurationError, ValidationError
from openalgo_core.hookspecs import OPERATION_HOOKS
from openalgo_core.scaffold import write_plugin
from openalgo_core.testing.wiring import wire

EXPECTED = {"pyproject.toml", "README.md", "CHANGELOG.md", "tests/conftest.py",
            "tests/test_conformance.py", "openalgo_my_broker/__init__.py",
            "openalgo_my_broker/plugin.py", "openalgo_my_broker/broker.py",
            "openalgo_my_broker/simulator.py", "openalgo_my_broker/py.typed"}


def test_the_package_it_writes(tmp_path: Path) -> None:
    target = write_plugin("my_broker", tmp_path)
    assert target == tmp_path / "openalgo-my_broker"
    files = {str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()}
    assert files == EXPECTED
    for name in files:
        text = (target / name).read_text()
        assert "${" not in text, name  # every placeholder filled
        if name.endswith(".py"):
            ast.parse(text, name)
    pyproject = (target / "pyproject.toml").read_text()
    assert 'my_broker = "openalgo_my_broker.plugin:hooks"' in pyproject
    assert "class MyBrokerBroker(RestBroker)" in (target / "openalgo_my_broker/broker.py"
                                                  ).read_text()
    assert 'broker = "my_broker"' in (target / "openalgo_my_broker/simulator.py").read_text()


def test_the_package_answers_every_operation(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole contract, on its own simulator, as written (the full conformance run is
    ``nox -s template``); its README lists every operation."""
    target = write_plugin("whole_day", tmp_path)
    readme = (target / "README.md").read_text()
    assert [name for name in OPERATION_HOOKS if f"`{name}`" not in readme] == []
    monkeypatch.syspath_prepend(str(target))
    try:
        hooks = importlib.import_module("openalgo_whole_day.plugin").hooks
        with wire(hooks, home=tmp_path / "home") as harness:
            gateway, broker = harness.gateway, harness.broker
            gateway.authenticate(broker)
            order = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1,
                     "pricetype": "LIMIT", "price": "100"}
            receipt = gateway.place_order(broker, order)
            assert gateway.fetch_order(broker, receipt.order_id).tag == receipt.tag
            gateway.modify_order(broker, receipt.order_id, price="101")
            assert gateway.fetch_funds(broker).used_margin == 101
            gateway.cancel_order(broker, receipt.order_id)
            assert [(o.status, o.price) for o in gateway.fetch_order_book(broker)] == [
                (OrderStatus.CANCELLED, 101)]
            assert gateway.fetch_trade_book(broker) == []
            assert {h.symbol for h in gateway.fetch_holdings(broker)} >= {"INFY", "TCS"}
    finally:
        for name in [n for n in sys.modules if n.startswith("openalgo_whole_day")]:
            del sys.modules[name]


def test_it_never_overwrites_and_refuses_a_bad_id(tmp_path: Path) -> None:
    write_plugin("acme", tmp_path)
    with pytest.raises(ConfigurationError, match="already exists"):
        write_plugin("acme", tmp_path)
    for bad in ("Acme", "a", "1acme", "ac-me", "acme/../x", ""):
        with pytest.raises(ValidationError):
            write_plugin(bad, tmp_path)


def test_the_command_needs_no_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("OPENALGO_HOME", "/dev/null")  # no gateway is built for this
    out = io.StringIO()
    assert main(["new-plugin", "acme", "--directory", str(tmp_path)], out=out) == 0
    assert "pip install -e '.[test]' && pytest" in out.getvalue()
    assert main(["new-plugin", "acme", "--directory", str(tmp_path)], out=out) == 1
    assert capsys.readouterr().err.count("\n") == 1


DOCS = Path(__file__).parents[1] / "docs" / "writing-a-plugin.md"


def test_the_guide_walks_through_the_template_by_its_real_names(tmp_path: Path) -> None:
    """Every file the guide lists is written, and every kit name it cites exists."""
    import re

    from openalgo_core.kit import InstrumentBuilder, RestBroker, Row
    from openalgo_core.testing import SimulatorBase

    text = DOCS.read_text()
    listing = text.split("## 1. What the template writes", 1)[1].split("```")[1]
    listed = set(re.findall(r"([\w.]+\.(?:py|toml|md|typed))", listing))
    target = write_plugin("mybroker", tmp_path)
    written = {p.name for p in target.rglob("*") if p.is_file()}
    assert listed == written
    assert "class MybrokerBroker(RestBroker)" in (target / "openalgo_mybroker/broker.py"
                                                  ).read_text()
    cited = set(re.findall(r"`(\w+)\(", text))
    for name in ("headers", "prepare", "finish_login", "start_login", "stored_session",
                 "login_url", "order_call", "positions_call", "position", "master"):
        assert name in cited and callable(getattr(RestBroker, name)), name
    for name in ("order_id_at", "positions_at", "redirect_param"):
        assert f"`{name}`" in text and hasattr(RestBroker, name), name
    builder = InstrumentBuilder("b")
    for name in re.findall(r"`build\.(\w+)", text):
        assert hasattr(builder, name), name
    for name in re.findall(r"`row\.(\w+)`", text):
        assert hasattr(Row, name), name
    for name in ("render_master", "master_path", "book_order", "verify_totp", "issue_token",
                 "user_for", "rate_limited_response", "order_rejected_response", "master_size"):
        assert f"`{name}" in text and hasattr(SimulatorBase, name), name
