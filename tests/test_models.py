"""OrderRequest and friends: validated before anything is sent, in OpenAlgo's terms."""

import datetime as dt
import re
from decimal import Decimal

import pydantic
import pytest

from openalgo_core import (
    Action,
    Exchange,
    LoginChallenge,
    OrderRequest,
    ValidationError,
    new_session,
    order_from,
)
from openalgo_core.models import IST, next_daily_expiry, to_decimal

BASE = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1}


def bad(field_hint: str, **fields: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        order_from({**BASE, **fields})
    assert field_hint in str(info.value), str(info.value)
    return info.value


def test_defaults_follow_openalgo() -> None:
    order = order_from(BASE)
    assert (order.pricetype, order.product, order.price, order.trigger_price) == (
        "MARKET", "MIS", Decimal(0), Decimal(0))
    assert order.tag.startswith("oa") and order.tag != order_from(BASE).tag


def test_lower_case_and_strings_are_normalised() -> None:
    order = order_from({"symbol": " sbin ", "exchange": "nse", "action": "sell",
                        "quantity": "10", "pricetype": "limit", "price": "512.35"})
    assert (order.symbol, order.exchange, order.action, order.quantity) == (
        "SBIN", "NSE", "SELL", 10)
    assert order.price == Decimal("512.35") and isinstance(order.price, Decimal)


def test_float_prices_become_exact_decimals() -> None:
    order = order_from({**BASE, "pricetype": "LIMIT", "price": 0.1 + 0.2})
    assert order.price == Decimal("0.30000000000000004")  # str(float), never binary noise
    assert order_from({**BASE, "pricetype": "LIMIT", "price": 512.35}).price == Decimal("512.35")


@pytest.mark.parametrize("quantity", [0, -5, 1.5, "2.5", True, "ten", None])
def test_quantity_must_be_a_positive_whole_number(quantity: object) -> None:
    bad("quantity", quantity=quantity)


def test_integral_float_quantity_is_accepted() -> None:
    assert order_from({**BASE, "quantity": 10.0}).quantity == 10


def test_limit_needs_price() -> None:
    error = bad("price", pricetype="LIMIT")
    assert error.field == "price" and "LIMIT" in str(error)


def test_sl_needs_price_and_trigger() -> None:
    bad("trigger_price", pricetype="SL", price=100)
    bad("price", pricetype="SL", trigger_price=99)


def test_sl_trigger_must_be_on_the_right_side_of_price() -> None:
    bad("BUY SL", pricetype="SL", price=100, trigger_price=101)
    bad("SELL SL", action="SELL", pricetype="SL", price=100, trigger_price=99)
    assert order_from({**BASE, "pricetype": "SL", "price": 100, "trigger_price": 99})


def test_slm_needs_trigger_and_no_price() -> None:
    bad("trigger_price", pricetype="SL-M")
    bad("price", pricetype="SL-M", trigger_price=99, price=100)


def test_market_takes_no_price_or_trigger() -> None:
    bad("price", price=100)
    bad("trigger_price", pricetype="LIMIT", price=100, trigger_price=99)


def test_disclosed_quantity_at_most_quantity() -> None:
    bad("disclosed_quantity", quantity=10, disclosed_quantity=11)
    assert order_from({**BASE, "quantity": 10, "disclosed_quantity": 10}).disclosed_quantity == 10


def test_cnc_only_on_cash_exchanges() -> None:
    bad("CNC", exchange="NFO", symbol="NIFTY28MAR24FUT", product="CNC")
    assert order_from({**BASE, "product": "CNC"}).product == "CNC"


def test_index_exchanges_take_no_orders() -> None:
    bad("index exchange", exchange="NSE_INDEX", symbol="NIFTY")


def test_unknown_values_name_the_field() -> None:
    bad("exchange", exchange="NYSE")
    bad("action", action="HOLD")
    bad("pricetype", pricetype="STOP")
    bad("product", product="BO")
    bad("negative_field", negative_field=1)


def test_negative_and_non_finite_money_refused() -> None:
    bad("price", pricetype="LIMIT", price=-1)
    bad("price", pricetype="LIMIT", price="NaN")
    bad("price", pricetype="LIMIT", price="Infinity")


def test_tag_is_limited_to_safe_characters() -> None:
    bad("tag", tag="has space")
    bad("tag", tag="x" * 21)
    assert order_from({**BASE, "tag": "my-tag_01"}).tag == "my-tag_01"


def test_order_request_is_immutable() -> None:
    order = order_from(BASE)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen error
        order.quantity = 5  # type: ignore[misc]


def test_to_decimal_handles_broker_strings() -> None:
    assert to_decimal("- 2235.80") == Decimal("-2235.80")
    assert to_decimal("1,234.5") == Decimal("1234.5")
    with pytest.raises(ValidationError):
        to_decimal("abc", "ltp")
    with pytest.raises(ValidationError):
        to_decimal(None, "ltp")


def test_sessions_expire_at_the_next_3am_ist() -> None:
    at = dt.datetime(2026, 11, 20, 9, 14, tzinfo=IST)
    assert next_daily_expiry(at) == dt.datetime(2026, 11, 21, 3, 0, tzinfo=IST)
    early = dt.datetime(2026, 11, 20, 2, 0, tzinfo=IST)
    assert next_daily_expiry(early) == dt.datetime(2026, 11, 20, 3, 0, tzinfo=IST)
    session = new_session("angel", "A1", "jwt-secret", now=at)
    assert not session.is_expired(at)
    assert session.is_expired(dt.datetime(2026, 11, 21, 3, 0, tzinfo=IST))


def test_session_hides_tokens() -> None:
    session = new_session("angel", "A1", "jwt-secret", refresh_token="refresh-secret")
    for text in (repr(session), str(session), session.model_dump_json()):
        assert "jwt-secret" not in text and "refresh-secret" not in text


def test_session_times_must_be_aware() -> None:
    with pytest.raises(ValueError):
        new_session("angel", "A1", "t", now=dt.datetime(2026, 1, 1))


@pytest.mark.parametrize(("fields", "field"), [
    ({"quantity": 0}, "quantity"),
    ({"exchange": "NYSE"}, "exchange"),
    ({"pricetype": "LIMIT"}, "price"),
    ({"tag": "has space"}, "tag"),
    ({"colour": "red"}, "colour"),
])
def test_direct_construction_raises_the_cores_validation_error(fields: dict[str, object],
                                                               field: str) -> None:
    with pytest.raises(ValidationError) as info:
        OrderRequest(**{**BASE, **fields})
    assert not isinstance(info.value, pydantic.ValidationError)
    assert info.value.field == field and str(info.value).startswith(f"{field}:")
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_direct_construction_builds_the_same_order() -> None:
    direct = OrderRequest(symbol="sbin", exchange=Exchange.NSE, action=Action.BUY, quantity=2,
                          tag="t1")
    assert direct == order_from({**BASE, "symbol": "sbin", "quantity": 2, "tag": "t1"})
    assert OrderRequest(symbol="SBIN", exchange=Exchange.NSE, action=Action.BUY,
                        quantity=1).tag.startswith("oa")


def test_login_challenge_fields_and_labels() -> None:
    challenge = LoginChallenge(broker="angel", kind="code", prompt="Log in",
                               fields=("client_id", "pin", "code"), secret_fields=("pin",))
    assert [challenge.label(f) for f in challenge.fields] == ["Client ID", "PIN", "Code"]
    assert challenge.label("api_key") == "API key" and challenge.label("totp_code") == "TOTP code"
    assert challenge.is_secret("pin") and not challenge.is_secret("client_id")
    assert LoginChallenge(broker="x", kind="code", prompt="p").fields == ("code",)


@pytest.mark.parametrize(("fields", "secret", "needle"), [
    (("code",), ("pin",), "secret_fields: pin not in fields"),
    (("Client ID",), (), "lower-case"),
    (("state",), (), "'state'"),
    (("pin\"><script>",), (), "lower-case"),
])
def test_login_challenge_field_names_are_checked(fields: tuple[str, ...], secret: tuple[str, ...],
                                                 needle: str) -> None:
    with pytest.raises(ValueError, match=re.escape(needle)):
        LoginChallenge(broker="x", kind="code", prompt="p", fields=fields, secret_fields=secret)
