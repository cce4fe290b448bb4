"""A plugin's declaration: checked on construction, normalised, frozen, and light to import."""

import dataclasses
import subprocess
import sys
from typing import Any

import pytest

from openalgo_core import (
    CORE_API,
    BrokerInfo,
    CredentialField,
    Exchange,
    PriceType,
    Product,
    RateLimit,
    ValidationError,
)

GOOD: dict[str, Any] = {
    "id": "acme", "display_name": "Acme", "exchanges": ["NSE", Exchange.NFO],
    "credentials": [CredentialField(name="API_KEY", secret=True)],
    "login_style": "totp", "core_api": CORE_API,
}


def info(**changes: Any) -> BrokerInfo:
    return BrokerInfo(**{**GOOD, **changes})


def test_collections_are_normalised_and_read_only() -> None:
    made = info(rate_limits={"orders": RateLimit(per_second=10)}, rate_limit_markers=["busy"],
                base_urls={"api": "https://api.acme.example"})
    assert made.exchanges == frozenset({Exchange.NSE, Exchange.NFO})
    assert all(isinstance(e, Exchange) for e in made.exchanges)
    assert made.products == frozenset(Product) and made.pricetypes == frozenset(PriceType)
    assert isinstance(made.credentials, tuple) and made.rate_limit_markers == ("busy",)
    with pytest.raises(TypeError):
        made.base_urls["api"] = "https://elsewhere.example"  # type: ignore[index]
    with pytest.raises(TypeError):
        made.rate_limits["reads"] = RateLimit(per_second=1)  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.id = "other"  # type: ignore[misc]


def test_replace_checks_the_variant_again() -> None:
    made = info(base_urls={"api": "https://a.example"})
    assert dataclasses.replace(made, session_expiry_hour_ist=0).session_expiry_hour_ist == 0
    assert dataclasses.replace(made, id="acme2") != made
    with pytest.raises(ValidationError, match="session_expiry_hour_ist"):
        dataclasses.replace(made, session_expiry_hour_ist=24)


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"id": "Acme"}, "id", "lower-case"),
    ({"id": "a"}, "id", "lower-case"),
    ({"id": 7}, "id", "expected str"),
    ({"exchanges": ["NSE", "NASDAQ"]}, "exchanges", "NASDAQ"),
    ({"exchanges": "NSE"}, "exchanges", "collection"),
    ({"products": ["MIS", "BO"]}, "products", "BO"),
    ({"pricetypes": ["ICEBERG"]}, "pricetypes", "ICEBERG"),
    ({"credentials": ["API_KEY"]}, "credentials", "CredentialField"),
    ({"login_style": "password"}, "login_style", "totp, otp, redirect"),
    ({"core_api": "1"}, "core_api", "expected int"),
    ({"core_api": True}, "core_api", "expected int"),
    ({"rate_limits": {"quotes": RateLimit(per_second=1)}}, "rate_limits", "orders, reads, login"),
    ({"rate_limits": {"reads.": RateLimit(per_second=1)}}, "rate_limits", "reads.quotes"),
    ({"rate_limits": {"trades.quotes": RateLimit(per_second=1)}}, "rate_limits", "orders"),
    ({"rate_limits": {"orders": 10}}, "rate_limits.orders", "RateLimit"),
    ({"base_urls": {"api": None}}, "base_urls.api", "expected str"),
    ({"rate_limit_markers": "busy"}, "rate_limit_markers", "collection"),
    ({"session_expiry_hour_ist": 24}, "session_expiry_hour_ist", "0-23"),
])
def test_a_bad_declaration_names_its_field(changes: dict[str, Any], field: str, text: str
                                           ) -> None:
    with pytest.raises(ValidationError, match=text) as caught:
        info(**changes)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


@pytest.mark.parametrize(("make", "field"), [
    (lambda: CredentialField(name="otp", secret=True), "name"),
    (lambda: CredentialField(name="BASE_URL", secret=False), "name"),
    (lambda: CredentialField(name="X" * 41, secret=False), "name"),
    (lambda: CredentialField(name="PIN", secret="yes"), "secret"),
    (lambda: CredentialField(name="PIN", secret=True, required=None), "required"),
    (lambda: RateLimit(per_second=0), "per_second"),
    (lambda: RateLimit(per_second=float("nan")), "per_second"),
    (lambda: RateLimit(per_second=True), "per_second"),
    (lambda: RateLimit(per_second=5, burst=0), "burst"),
    (lambda: RateLimit(per_second=5, burst=1.5), "burst"),
    (lambda: RateLimit(), "per_second"),
    (lambda: RateLimit(per_minute=0), "per_minute"),
    (lambda: RateLimit(per_second=5, per_hour=2.5), "per_hour"),
    (lambda: RateLimit(per_day=True), "per_day"),
])
def test_bad_parts_name_their_field(make: Any, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make()
    assert caught.value.field == field


def test_parts_are_keyword_only_like_the_rest_of_the_api() -> None:
    with pytest.raises(TypeError):
        RateLimit(10)  # type: ignore[misc]


def test_declaring_a_broker_imports_neither_pydantic_nor_httpx() -> None:
    """Listing and loading plugins (``openalgo brokers``, a server's start) stays cheap."""
    code = ("import sys; from openalgo_core import Registry, BrokerInfo, CredentialField,"
            " RateLimit, Exchange, hookimpl; Registry(environ={}).records();"
            " heavy = sorted(m for m in ('pydantic', 'httpx', 'openalgo_core.models')"
            " if m in sys.modules); print(heavy); sys.exit(bool(heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_rate_limit_states_every_window_the_broker_publishes() -> None:
    """IndMoney: reads 15/s and 100,000 a day, quotes in a bucket of their own, one token
    generation a minute (and no per-second figure)."""
    made = info(rate_limits={"reads": RateLimit(per_second=15, per_day=100_000),
                             "reads.quotes": RateLimit(per_second=5, per_day=100_000),
                             "login": RateLimit(per_minute=1)})
    assert made.rate_limits["reads"].windows == ((100_000, 86400.0),)
    assert made.rate_limits["login"].per_second is None
    assert made.rate_limits["login"].windows == ((1, 60.0),)
    assert RateLimit(per_second=1, per_minute=2, per_hour=3, per_day=4).windows == (
        (2, 60.0), (3, 3600.0), (4, 86400.0))
