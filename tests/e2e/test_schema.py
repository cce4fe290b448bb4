"""Schemathesis over the gateway's own OpenAPI schema (installed by the ``e2e`` nox
session), with and without a valid key: no 5xx, every answer's status, content type and
body as the schema documents them. The 501 endpoints are left out: answering 501 is what
they are documented to do; so is the check that schema-valid input is never refused
(:data:`ACCEPTS_VALID`).

In-process (ASGI) over the fake broker, logged in; examples are derandomised, so a run
is repeatable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from openalgo_core import Gateway
from openalgo_core.server import ApiKeys, create_app
from tests.conftest import KEY

schemathesis = pytest.importorskip(
    "schemathesis", reason="schemathesis is not installed (the e2e nox session installs it)")

EXAMPLES = 25
#: "a schema-valid request must not be 400": a schema cannot say which symbols exist, or
#: that a LIMIT order needs a price; those 400s are documented, and checked elsewhere
ACCEPTS_VALID = schemathesis.checks.positive_data_acceptance


def app_for(gateway: Gateway, fake_env: dict[str, str]) -> Any:
    env = {**fake_env, "OPENALGO_API_KEY": KEY, "OPENALGO_BROKER": "fake",
           "OPENALGO_ORDER_RATE_LIMIT": "100000", "OPENALGO_API_RATE_LIMIT": "100000"}
    return create_app(gateway, environ=env, api_keys=ApiKeys(env, Path("/nonexistent")),
                      hosts={"testserver", "localhost", "127.0.0.1"})


def with_key(case: Any) -> None:
    """The valid key in place of whatever the case generated (body or query)."""
    if isinstance(case.body, dict):
        case.body["apikey"] = KEY
    if case.query is not None and "apikey" in (case.query or {}):
        case.query["apikey"] = KEY


@pytest.mark.parametrize("keyed", [True, False], ids=["valid key", "any key"])
def test_the_schema_holds(gateway: Gateway, fake_env: dict[str, str], keyed: bool) -> None:
    gateway.authenticate("fake")
    schema = schemathesis.openapi.from_asgi("/openapi.json", app_for(gateway, fake_env))
    operations = [result.ok() for result in schema.get_all_operations()]
    tested = [op for op in operations if "unsupported" not in (op.tags or [])]
    assert len(tested) == 22, [op.label for op in tested]  # 16 account+orders, 4, 2 hooks
    for operation in tested:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            if keyed:
                with_key(case)
            case.call_and_validate(excluded_checks=[ACCEPTS_VALID])
        check()
