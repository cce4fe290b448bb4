"""Angel's replies table: both envelopes and Angel's codes, by kind of call.

How any table is applied (unreadable bodies, HTTP errors, status spellings) is the
kit's, tested in the core's tests/test_kit_replies.py."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openalgo_angel.broker import REPLIES

from openalgo_core import (
    AuthenticationError,
    BrokerResponseError,
    OrderRejectedError,
    SessionExpiredError,
    UnreadableOrderReplyError,
)
from openalgo_core.http import EXTENSION, RequestKind, RequestMeta
from openalgo_core.kit import Reply, classify

URL = "https://apiconnect.angelone.in/rest/secure/angelbroking/order/v1/placeOrder"


def check(status: int, body: Any = None, text: str | None = None, *, call: RequestKind,
          tag: str | None = None) -> Reply:
    """Classify Angel's reply to a request sent as ``call``."""
    request = httpx.Request("POST", URL, extensions={EXTENSION: RequestMeta(call, tag)})
    if text is not None:
        return classify(httpx.Response(status, text=text, request=request), REPLIES)
    return classify(httpx.Response(status, json=body, request=request), REPLIES)


def gateway(code: str) -> dict[str, Any]:
    return {"success": False, "message": "Invalid Token", "errorCode": code, "data": ""}


def refused(code: str, message: str) -> dict[str, Any]:
    return {"status": False, "message": message, "errorcode": code, "data": None}


@pytest.mark.parametrize("code", ["AG8001", "AG8002", "AG8003"])
@pytest.mark.parametrize("call", ["order", "read"])
def test_token_codes_are_session_expired(code: str, call: RequestKind) -> None:
    with pytest.raises(SessionExpiredError) as info:
        check(403, gateway(code), call=call)
    assert info.value.code == code and info.value.status_code == 403


def test_a_token_code_at_login_is_an_authentication_error() -> None:
    with pytest.raises(AuthenticationError) as info:
        check(403, gateway("AG8001"), call="login")
    assert not isinstance(info.value, SessionExpiredError) and info.value.code == "AG8001"


@pytest.mark.parametrize("call", ["order", "read", "login"])
@pytest.mark.parametrize(("code", "message"), [
    ("AG7002", "Access denied: Unregistered IP address."), ("AG8004", "Invalid API Key")])
def test_an_unregistered_ip_or_a_wrong_key_is_an_authentication_error(
        call: RequestKind, code: str, message: str) -> None:
    with pytest.raises(AuthenticationError, match=message) as info:
        check(403, {**gateway(code), "message": message}, call=call, tag="oa1")
    assert type(info.value) is AuthenticationError and info.value.code == code


@pytest.mark.parametrize(("call", "error"), [("order", OrderRejectedError),
                                             ("read", BrokerResponseError),
                                             ("login", AuthenticationError)])
def test_other_gateway_refusals(call: RequestKind, error: type[Exception]) -> None:
    body = {**gateway("AG9999"), "message": "Something else"}
    with pytest.raises(error, match="Something else") as info:
        check(403, body, call=call, tag="oa1")
    assert not isinstance(info.value, SessionExpiredError | UnreadableOrderReplyError)


def test_wrong_totp_is_authentication_error_with_code() -> None:
    with pytest.raises(AuthenticationError) as info:
        check(200, refused("AB1050", "Invalid totp"), call="login")
    assert info.value.code == "AB1050" and "Invalid totp" in str(info.value)


def test_order_refusal_carries_angels_code_and_message() -> None:
    with pytest.raises(OrderRejectedError) as info:
        check(200, refused("AB1009", "Symbol Not Found"), call="order", tag="t1")
    assert (info.value.code, info.value.reason) == ("AB1009", "Symbol Not Found")


def test_read_refusal_is_broker_response_error() -> None:
    with pytest.raises(BrokerResponseError, match="AB1004"):
        check(200, refused("AB1004", "Something Went Wrong"), call="read")


@pytest.mark.parametrize("body", [{"success": True, "data": {"orderid": "1"}},
                                  {"success": False, "status": True, "errorCode": "AG9999"},
                                  {"success": False, "status": True, "errorCode": "AG7002"}])
def test_the_gateway_envelope_is_never_a_success(body: dict[str, Any]) -> None:
    with pytest.raises((BrokerResponseError, OrderRejectedError, AuthenticationError)):
        check(200, body, call="order", tag="oa1")
