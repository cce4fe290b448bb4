"""Reply checking: both envelopes, error codes, odd bodies."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from openalgo_angel._api import Call, check

from openalgo_core import (
    AuthenticationError,
    BrokerResponseError,
    OrderRejectedError,
    SessionExpiredError,
    UnreadableOrderReplyError,
)

URL = "https://apiconnect.angelone.in/rest/secure/angelbroking/order/v1/placeOrder"


def reply(status: int = 200, body: Any = None, text: str | None = None) -> httpx.Response:
    request = httpx.Request("POST", URL)
    if text is not None:
        return httpx.Response(status, text=text, request=request)
    return httpx.Response(status, json=body, request=request)


def gateway(code: str) -> dict[str, Any]:
    return {"success": False, "message": "Invalid Token", "errorCode": code, "data": ""}


def refused(code: str, message: str) -> dict[str, Any]:
    return {"status": False, "message": message, "errorcode": code, "data": None}


@pytest.mark.parametrize("code", ["AG8001", "AG8002", "AG8003"])
@pytest.mark.parametrize("call", ["login", "order", "read"])
def test_token_codes_are_session_expired(code: str, call: Call) -> None:
    with pytest.raises(SessionExpiredError) as info:
        check(reply(403, gateway(code)), call=call)
    assert info.value.code == code and info.value.status_code == 403


@pytest.mark.parametrize(("call", "error"), [("order", OrderRejectedError),
                                             ("read", AuthenticationError),
                                             ("login", AuthenticationError)])
def test_other_gateway_refusals(call: Call, error: type[Exception]) -> None:
    body = {**gateway("AG7002"), "message": "Access denied: Unregistered IP address."}
    with pytest.raises(error) as info:
        check(reply(403, body), call=call)
    assert not isinstance(info.value, SessionExpiredError)
    assert info.value.code == "AG7002"  # type: ignore[attr-defined]


def test_wrong_totp_is_authentication_error_with_code() -> None:
    with pytest.raises(AuthenticationError) as info:
        check(reply(200, refused("AB1050", "Invalid totp")), call="login")
    assert info.value.code == "AB1050" and "Invalid totp" in str(info.value)


def test_order_refusal_carries_angels_code_and_message() -> None:
    with pytest.raises(OrderRejectedError) as info:
        check(reply(200, refused("AB1009", "Symbol Not Found")), call="order", order_tag="t1")
    assert (info.value.code, info.value.reason) == ("AB1009", "Symbol Not Found")


def test_read_refusal_is_broker_response_error() -> None:
    with pytest.raises(BrokerResponseError, match="AB1004"):
        check(reply(200, refused("AB1004", "Something Went Wrong")), call="read")


@pytest.mark.parametrize("status", [True, "true", "True"])
def test_success_returns_the_body(status: object) -> None:
    body = {"status": status, "message": "SUCCESS", "errorcode": "", "data": None}
    assert check(reply(200, body), call="read") == body


@pytest.mark.parametrize(("status", "body", "text"), [
    (200, None, "<html>gateway</html>"), (200, ["a"], None), (200, {"data": []}, None),
    (200, {"status": None}, None), (400, {"status": True, "data": None}, None),
    (401, None, ""), (200, "SUCCESS", None)])
def test_odd_replies(status: int, body: Any, text: str | None) -> None:
    with pytest.raises(BrokerResponseError) as info:
        check(reply(status, body, text), call="read")
    assert not isinstance(info.value, UnreadableOrderReplyError)
    with pytest.raises(UnreadableOrderReplyError) as order_info:
        check(reply(status, body, text), call="order", order_tag="oa00tag")
    assert order_info.value.tag == "oa00tag"
