"""Strict input: booleans are never numbers, fractions are refused, NaN, infinities and
huge numbers are refused from their text (400), before the core or the broker sees them."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from openalgo_core import Gateway, ValidationError
from openalgo_core.models import order_from
from openalgo_core.server.inputs import MAX_WHOLE, Money, SignedWhole, Whole
from tests.conftest import KEY, ORDER, post
from tests.fakebroker.simulator import FakeSimulator

SMART = {**ORDER, "position_size": "1"}


def raw_post(web: httpx.Client, path: str, text: str) -> tuple[int, dict[str, Any]]:
    response = web.post(f"/api/v1/{path}", content=text.encode(),
                        headers={"content-type": "application/json"})
    return response.status_code, response.json()


@pytest.fixture
def nothing_reaches_the_gateway(logged_in: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        pytest.fail("a refused input reached the gateway")
    for name in ("place_order", "fetch_positions", "modify_order", "cancel_order"):
        monkeypatch.setattr(logged_in, name, refuse)


@pytest.mark.parametrize(("path", "field", "value"), [
    ("placeorder", "quantity", True), ("placeorder", "quantity", False),
    ("placeorder", "disclosed_quantity", True), ("placeorder", "price", True),
    ("placesmartorder", "position_size", True),
    ("placesmartorder", "position_size", "1.5"), ("placesmartorder", "position_size", -2.7),
    ("placesmartorder", "position_size", "-2.7"), ("placeorder", "quantity", 1.5),
    ("placeorder", "quantity", "1.5"), ("placeorder", "quantity", "1e3"),
    ("placeorder", "quantity", "1e300000"), ("placeorder", "quantity", 1e30),
    ("placeorder", "quantity", " 2"), ("placeorder", "quantity", "0x10"),
    ("placeorder", "quantity", "\u0661"), ("placeorder", "quantity", None),
    ("placeorder", "quantity", [2]), ("placeorder", "price", "NaN"),
    ("placeorder", "price", "inf"), ("placeorder", "price", -1),
    ("placeorder", "price", "1e30"), ("placeorder", "trigger_price", 1e30),
    ("splitorder", "splitsize", True), ("splitorder", "splitsize", "2.5"),
])
@pytest.mark.usefixtures("nothing_reaches_the_gateway")
def test_refused_with_400_naming_the_field(web: httpx.Client, path: str, field: str,
                                           value: Any) -> None:
    body = {**SMART, "splitsize": "1"} if path != "placeorder" else dict(ORDER)
    if path == "placesmartorder":
        del body["splitsize"]
    if path == "splitorder":
        del body["position_size"]
    status, reply = post(web, path, {**body, field: value})
    assert status == 400 and reply["status"] == "error", reply
    assert reply["message"].startswith(f"{field}:"), reply


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e5000", "1e300000",
                                    "1" + "0" * 5000])
@pytest.mark.usefixtures("nothing_reaches_the_gateway")
def test_json_numbers_out_of_range_are_400(web: httpx.Client, number: str) -> None:
    for field in ("quantity", "price"):
        text = json.dumps({**ORDER, field: 0}).replace(f'"{field}": 0', f'"{field}": {number}')
        status, reply = raw_post(web, "placeorder", text)
        assert status == 400 and reply["status"] == "error", (field, number, reply)


@pytest.mark.usefixtures("nothing_reaches_the_gateway")
def test_a_300000_digit_number_is_refused_by_size_unread(web: httpx.Client) -> None:
    status, reply = raw_post(web, "placeorder", json.dumps(ORDER)[:-1]
                             + ', "price": ' + "9" * 300_000 + "}")
    assert status == 413 and "too large" in reply["message"]


def test_whole_strings_and_numbers_are_accepted(web: httpx.Client, logged_in: Gateway,
                                                fake_sim: FakeSimulator) -> None:
    for quantity in (3, "3", 3.0):
        assert post(web, "placeorder", {**ORDER, "quantity": quantity})[0] == 200
    status, _ = post(web, "placeorder", {**ORDER, "pricetype": "LIMIT", "price": 1.05})
    assert status == 200
    assert sorted(o.quantity for o in fake_sim.book.orders.values()) == [2, 3, 3, 3]
    assert post(web, "placesmartorder", {**SMART, "position_size": "-2"})[0] == 200
    assert logged_in.fetch_positions("fake")[0].quantity == -2


def test_the_core_refuses_huge_numbers_from_their_exponent() -> None:
    base = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY"}
    for quantity in ("1e300000", 10**12, Decimal("1e13")):
        with pytest.raises(ValidationError, match="quantity: must be below 10"):
            order_from({**base, "quantity": quantity})
    with pytest.raises(ValidationError, match="price: must be below 10"):
        order_from({**base, "quantity": 1, "pricetype": "LIMIT", "price": "1e300000"})


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=2), max_leaves=3)


@given(JSON)
def test_a_whole_field_accepts_only_whole_numbers(value: Any) -> None:
    adapter = pydantic.TypeAdapter(Whole)
    try:
        result = adapter.validate_python(value)
    except pydantic.ValidationError:
        return
    assert type(value) is not bool and type(result) is int and 0 <= result <= MAX_WHOLE
    assert result == (int(value) if isinstance(value, str) else value)
    assert not isinstance(value, str) or value.isdigit()


@given(JSON)
def test_signed_and_money_fields_never_take_booleans_or_non_finite(value: Any) -> None:
    for kind in (SignedWhole, Money):
        try:
            result = pydantic.TypeAdapter(kind).validate_python(value)
        except pydantic.ValidationError:
            continue
        assert type(value) is not bool and Decimal(result).is_finite()
        assert Decimal(str(value)) == Decimal(result)


def test_the_schema_documents_the_patterns(web: httpx.Client) -> None:
    schema = web.get("/openapi.json").json()["components"]["schemas"]
    quantity = schema["PlaceOrderBody"]["properties"]["quantity"]
    assert quantity["anyOf"][1] == {"type": "string", "pattern": "^[0-9]{1,9}$"}
    assert quantity["anyOf"][0]["type"] == "integer"
    assert schema["SmartOrderBody"]["properties"]["position_size"]["anyOf"][1]["pattern"] \
        == "^-?[0-9]{1,9}$"
    assert KEY not in json.dumps(schema)
