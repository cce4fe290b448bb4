"""Garbage in one field of one reply, over every kind of field and every shape of value.

:func:`sweep` runs an action (a login, an order, a positions call, a master
download) with the simulator's ``mutate`` fault rewriting one field of one of the
replies the action gets: first every value of
:data:`~openalgo_core.testing.conformance.garbage.FRAGMENTS` in each kind of field,
then fields and values drawn by hypothesis. A judge says whether each outcome is
one the core allows.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..wiring import Harness
from .base import Outcome, outcome
from .garbage import FRAGMENTS, Field, fields, fragments, representatives, rewrite

if TYPE_CHECKING:
    from .base import ConformanceBase

__all__ = ["Judge", "escaped", "sweep", "sweep_read"]

#: None when an outcome is allowed, else what is wrong with it.
Judge = Callable[[Outcome], str | None]
_SHOWN = 12


def escaped(error: BaseException) -> str:
    """How a judge names an error that escaped the core's error tree."""
    return f"{type(error).__name__} escaped: {str(error)[:160]}"


def sweep(check: ConformanceBase, harness: Harness, action: Callable[[], Any],
          judge: Judge) -> None:
    """Judge ``action`` under garbage in each field of each reply it gets."""
    replies = _replies(harness, action)
    targets = [(k, f) for k, body in enumerate(replies) for f in fields(body)]
    if not targets:
        pytest.fail("no JSON, CSV or zipped reply to put garbage in")
    problems = []
    for k, body in enumerate(replies):
        for field in _swept(representatives(fields(body)), body, check.garbage_columns):
            for fragment in FRAGMENTS:
                problem = _attempt(harness, action, judge, k, field, fragment)
                if problem is not None:
                    problems.append(problem)
    assert not problems, (f"{len(problems)} garbage replies gave outcomes the core does not"
                          f" allow, e.g.:\n" + "\n".join(problems[:_SHOWN]))

    @settings(max_examples=check.garbage_examples, derandomize=True, database=None,
              deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.integers(0, len(targets) - 1), fragments())
    def any_field(index: int, fragment: str) -> None:
        problem = _attempt(harness, action, judge, *targets[index], fragment)
        assert problem is None, problem

    any_field()


def _swept(found: list[Field], body: bytes, columns: frozenset[str] | None) -> list[Field]:
    """``found``, less the fields of CSV columns outside ``columns`` (None: all)."""
    if columns is None or not found or _is_json(body):
        return found
    return [field for field in found if not isinstance(field[-1], str) or field[-1] in columns]


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return False
    return True


def sweep_read(check: ConformanceBase, tmp_path: Path, read: Callable[[Harness], Any],
               judge: Judge, prepare: Callable[[Harness], object] | None = None) -> None:
    """Garbage in each reply of ``read`` (after a login and ``prepare``), in each of the
    check's ``garbage_modes``; skipped when the broker does not support ``read``."""
    for harness in check.garbage_harnesses(tmp_path):
        check.login(harness)
        action = functools.partial(read, harness)
        check.supported(action)
        if prepare is not None:
            prepare(harness)
        sweep(check, harness, action, judge)


def _replies(harness: Harness, action: Callable[[], Any]) -> list[bytes]:
    """The bodies of the replies ``action`` gets, in order (it must succeed)."""
    bodies: list[bytes] = []

    def record(body: bytes) -> bytes:
        bodies.append(body)
        return body

    harness.fault(mutate=record)
    try:
        action()
    finally:
        harness.fault(mutate=None)
    return bodies


def _attempt(harness: Harness, action: Callable[[], Any], judge: Judge, reply: int,
             field: Field, fragment: str) -> str | None:
    counter = itertools.count()

    def mutate(body: bytes) -> bytes:
        return rewrite(body, field, fragment) if next(counter) == reply else body

    harness.fault(mutate=mutate)
    try:
        result = outcome(action)
    finally:
        harness.fault(mutate=None)
    problem = judge(result)
    if problem is None:
        return None
    return f"reply {reply}, field {field!r:.80}, value {fragment!r:.40}: {problem}"
