"""Meta-tests: every hook is documented (exact signature) and tested."""

import inspect
import re
from pathlib import Path

import pluggy

from openalgo_core import hookspecs
from tests import test_hooks

DOCS = Path(__file__).parents[1] / "docs"


def hook_names() -> list[str]:
    marker = f"{hookspecs.PROJECT}_spec"
    return [name for name, f in vars(hookspecs).items()
            if callable(f) and hasattr(f, marker)]


def signature(name: str) -> str:
    sig = inspect.signature(getattr(hookspecs, name))
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{name}({params}) -> {sig.return_annotation}"


def test_the_contract_has_the_required_hooks() -> None:
    assert set(hook_names()) >= {"broker_info", "authenticate", "handle_callback",
                                 "place_order", "fetch_positions", "fetch_instruments"}


def test_every_hook_is_documented_with_its_exact_signature() -> None:
    text = (DOCS / "hooks.md").read_text()
    headings = re.findall(r"^## `(.+)`$", text, re.M)
    assert sorted(headings) == sorted(signature(n) for n in hook_names())


def test_every_hook_section_covers_arguments_returns_errors_retries_example() -> None:
    text = (DOCS / "hooks.md").read_text()
    for name in hook_names():
        section = text.split(f"## `{signature(name)}`", 1)[1].split("\n## ", 1)[0]
        for part in ("**Arguments:**", "**Returns:**", "**Raises:**", "**Retry semantics:**",
                     "```python", "@hookimpl"):
            assert part in section, (name, part)
        for param in inspect.signature(getattr(hookspecs, name)).parameters:
            assert f"`{param}`" in section, (name, param)


def test_every_hook_has_a_test() -> None:
    tests = [n for n in dir(test_hooks) if n.startswith("test_hook_")]
    for name in hook_names():
        assert any(t.startswith(f"test_hook_{name}_") for t in tests), name


def test_operation_hooks_are_firstresult() -> None:
    for name in (*hookspecs.OPERATION_HOOKS, "broker_info", "broker_simulator"):
        opts = getattr(getattr(hookspecs, name), f"{hookspecs.PROJECT}_spec")
        assert opts["firstresult"] is True, name
    assert isinstance(hookspecs.hookimpl, pluggy.HookimplMarker)


def test_writing_a_plugin_guide_exists_and_names_every_hook() -> None:
    text = (DOCS / "writing-a-plugin.md").read_text()
    for name in hook_names():
        assert name in text, name
