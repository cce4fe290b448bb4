"""Each conformance check fails on a fake broker that breaks the property it checks.

The variants (tests/fakebroker/broken.py) are the fake broker with one thing wrong;
each check is called as pytest would call it, with a harness from the kit's wiring,
and must fail. The same checks pass on the sound fake brokers (test_conformance_fake).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from openalgo_core.testing.conformance import BrokerConformance
from tests.fakebroker.broken import VARIANTS, FakeHooks

CASES = [pytest.param(variant, check, id=f"{variant.__name__}-{check}")
         for variant, checks in VARIANTS.items() for check in checks]
REFUSALS = {"429": {"rate_limit_rate": 1.0}, "5xx": {"error_rate": 1.0}}


def run_check(variant: type[FakeHooks], name: str, tmp_path: Path, **extra: Any) -> None:
    """Call check ``name`` of a conformance suite for ``variant``, in-process."""
    suite = type("Suite", (BrokerConformance,), {"plugin": variant()})()
    check = getattr(suite, name)
    wanted = inspect.signature(check).parameters
    given = {name: value for name, value in (("mode", "inprocess"), ("tmp_path", tmp_path))
             if name in wanted}
    if "harness" in wanted:
        with suite.wire("inprocess", home=tmp_path / "home") as harness:
            check(harness=harness, **given, **extra)
    else:
        check(**given, **extra)


@pytest.mark.parametrize(("variant", "check"), CASES)
def test_check_fails_on_the_variant_breaking_it(variant: type[FakeHooks], check: str,
                                                tmp_path: Path) -> None:
    extra = {"refusal": REFUSALS["429"]} if check == "test_login_is_sent_once_when_refused" \
        else {}
    with pytest.raises((AssertionError, pytest.fail.Exception)):
        run_check(variant, check, tmp_path, **extra)


def test_a_login_sent_as_a_read_fails_on_5xx_too(tmp_path: Path) -> None:
    from tests.fakebroker.broken import LoginAsRead

    with pytest.raises(AssertionError, match="sent 3 times"):
        run_check(LoginAsRead, "test_login_is_sent_once_when_refused", tmp_path,
                  refusal=REFUSALS["5xx"])


def test_the_sound_fake_passes_the_same_checks_called_this_way(tmp_path: Path) -> None:
    for checks in VARIANTS.values():
        for check in checks:
            extra = {"refusal": REFUSALS["429"]} \
                if check == "test_login_is_sent_once_when_refused" else {}
            run_check(FakeHooks, check, tmp_path / check, **extra)
