"""The declarative reply classifier: every shape of the five brokers, by kind of call."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from openalgo_core.errors import (
    AuthenticationError,
    BrokerResponseError,
    OrderRejectedError,
    RateLimitError,
    SessionExpiredError,
    UnreadableOrderReplyError,
)
from openalgo_core.http import EXTENSION, RequestKind, RequestMeta
from openalgo_core.kit.replies import ANY, MISSING, Codes, Envelope, Replies, classify, lookup

ANGEL = Replies(
    broker="angel",
    envelopes=(Envelope(status="success", failed=("false",), code=("errorCode",),
                        message=("message",)),
               Envelope(status="status", ok=("true",), failed=("false",), code=("errorcode",),
                        message=("message",), data="data")),
    session_expired=Codes(codes=("AG8001", "AG8002")))
DEFINEDGE = Replies(
    broker="definedge",
    envelopes=(Envelope(status="stat", ok=("Ok",), failed=("Not_Ok",), message=("emsg",)),
               Envelope(status="status", ok=("SUCCESS",), failed=("ERROR",),
                        message=("message",))),
    session_expired=Codes(messages=("session expired",)),
    empty=Codes(messages=("no data",)))
KOTAK = Replies(
    broker="kotak",
    envelopes=(Envelope(status="stat", ok=("Ok",), failed=("Not_Ok", "bad request"),
                        code=("stCode",), message=("errMsg", "emsg")),
               Envelope(status="error", failed=(ANY,), code=("error.0.code",),
                        message=("error.0.message",)),
               Envelope(status="data.status", ok=("success",), data="data")),
    session_expired=Codes(codes=("100022",)))
ICICI = Replies(
    broker="icici",
    envelopes=(Envelope(status="Status", ok=("200",), failed=("500", "5", "401"),
                        message=("Error",), data="Success"),))
INDMONEY = Replies(
    broker="indmoney",
    envelopes=(Envelope(status="status", ok=("success",), failed=("error", "failure"),
                        code=("error_type",), message=("message", "error.msg"), data="data"),),
    session_expired=Codes(codes=("TokenException",)))


def reply(body: Any, *, kind: RequestKind = "read", tag: str | None = None,
          status: int = 200) -> httpx.Response:
    request = httpx.Request("POST", "https://broker.example/api",
                            extensions={EXTENSION: RequestMeta(kind, tag)})
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.Response(status, content=content, request=request)


@pytest.mark.parametrize(("replies", "body", "data"), [
    (ANGEL, {"status": True, "message": "SUCCESS", "data": {"orderid": "1"}}, {"orderid": "1"}),
    (ANGEL, {"status": "true", "data": None}, None),
    (DEFINEDGE, {"stat": "Ok", "api_session_key": "k"}, {"stat": "Ok", "api_session_key": "k"}),
    (DEFINEDGE, {"status": "SUCCESS", "order_id": "9"}, {"status": "SUCCESS", "order_id": "9"}),
    (KOTAK, {"stat": "Ok", "nOrdNo": "24"}, {"stat": "Ok", "nOrdNo": "24"}),
    (KOTAK, {"data": {"status": "success", "token": "t"}}, {"status": "success", "token": "t"}),
    (ICICI, {"Success": {"order_id": "20"}, "Status": 200, "Error": None}, {"order_id": "20"}),
    (INDMONEY, {"status": "success", "data": {"order_id": "EQ-1"}}, {"order_id": "EQ-1"}),
])
def test_success_envelopes(replies: Replies, body: Any, data: Any) -> None:
    assert classify(reply(body), replies).data == data


@pytest.mark.parametrize(("replies", "body", "code"), [
    (ANGEL, {"status": False, "message": "Invalid totp", "errorcode": "AB1050"}, "AB1050"),
    (DEFINEDGE, {"stat": "Not_Ok", "emsg": "Invalid OTP"}, None),
    (KOTAK, {"error": [{"code": "400", "message": "Missing required field 'Totp'"}]}, "400"),
    (ICICI, {"Success": None, "Status": 500, "Error": "Invalid session."}, None),
    (INDMONEY, {"status": "error", "message": "bad", "error_type": "AuthException"},
     "AuthException"),
])
def test_a_failed_login_is_an_authentication_error(replies: Replies, body: Any,
                                                    code: str | None) -> None:
    with pytest.raises(AuthenticationError) as info:
        classify(reply(body, kind="login", status=400 if replies is KOTAK else 200), replies)
    assert type(info.value) is AuthenticationError
    assert info.value.code == code


@pytest.mark.parametrize(("replies", "body", "reason"), [
    (ANGEL, {"status": False, "message": "Symbol Not Found", "errorcode": "AB1009"},
     "Symbol Not Found"),
    (DEFINEDGE, {"status": "ERROR", "message": "Insufficient margin"}, "Insufficient margin"),
    (KOTAK, {"stat": "Not_Ok", "stCode": 1009, "errMsg": "please provide valid quantity"},
     "please provide valid quantity"),
    (INDMONEY, {"status": "error", "message": "RMS: Margin exceeds", "error_type":
                "OrderException"}, "RMS: Margin exceeds"),
    (INDMONEY, {"status": "failure", "error": {"msg": "no order number in rs response"}},
     "no order number in rs response"),
])
def test_a_refused_order_is_order_rejected(replies: Replies, body: Any, reason: str) -> None:
    with pytest.raises(OrderRejectedError) as info:
        classify(reply(body, kind="order", tag="oa1", status=400), replies)
    assert info.value.reason == reason
    assert info.value.raw and info.value.status_code == 400


@pytest.mark.parametrize(("replies", "body", "status"), [
    (ANGEL, {"success": False, "message": "Invalid Token", "errorCode": "AG8001"}, 403),
    (DEFINEDGE, {"status": "ERROR", "message": "Session Expired"}, 200),
    (KOTAK, {"stCode": 100022, "errMsg": "invalid session token", "stat": "Not_Ok"}, 403),
    (INDMONEY, {"status": "error", "message": "x", "error_type": "TokenException"}, 401),
])
def test_session_expiry_on_any_call(replies: Replies, body: Any, status: int) -> None:
    for kind in ("read", "order"):
        with pytest.raises(SessionExpiredError):
            classify(reply(body, kind=kind, tag="oa1", status=status), replies)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationError) as info:  # at login there is no session yet
        classify(reply(body, kind="login", status=status), replies)
    assert not isinstance(info.value, SessionExpiredError)


@pytest.mark.parametrize("body", [
    b"<html>502 Bad Gateway</html>", b"", b"[1, 2]", b'"ok"', b"{" * 10_000 + b"}" * 10_000,
    b"\xff\xfe", b'{"n": ' + b"9" * 5000 + b"}",
    json.dumps({"status": "tru", "data": {"orderid": "1"}}).encode(),
    json.dumps({"status": None, "data": {"orderid": "1"}}).encode(),
    json.dumps({"nothing": "known"}).encode(),
    json.dumps({"status": True, "message": "SUCCESS"}).encode(),
])
def test_an_unreadable_reply_to_an_order_is_status_unknown_with_the_tag(body: bytes) -> None:
    """Anything but a definite success or refusal is "status unknown" for an order."""
    response = reply(body, kind="order", tag="oa7f3", status=200)
    if body.startswith(b'{"status": true'):
        assert classify(response, ANGEL).data is None  # a success; the id check comes later
        return
    with pytest.raises(UnreadableOrderReplyError) as info:
        classify(response, ANGEL)
    assert info.value.tag == "oa7f3"


def test_an_unreadable_reply_to_a_read_is_a_broker_response_error() -> None:
    with pytest.raises(BrokerResponseError) as info:
        classify(reply(b"{" * 10_000, kind="read"), ANGEL)
    assert not isinstance(info.value, UnreadableOrderReplyError)


def test_a_success_status_with_an_http_error_is_never_success() -> None:
    with pytest.raises(UnreadableOrderReplyError):
        classify(reply({"status": True, "data": {"orderid": "1"}}, kind="order", tag="t",
                       status=404), ANGEL)


def test_rate_limited_and_empty_codes() -> None:
    replies = Replies(broker="b", envelopes=DEFINEDGE.envelopes,
                      rate_limited=Codes(messages=("too many requests",)),
                      empty=DEFINEDGE.empty)
    with pytest.raises(RateLimitError):
        classify(reply({"status": "ERROR", "message": "Too Many Requests"}), replies)
    empty = classify(reply({"status": "ERROR", "message": "No Data"}), replies)
    assert empty.empty and empty.data is None
    with pytest.raises(OrderRejectedError):  # "no data" is not an empty answer to an order
        classify(reply({"status": "ERROR", "message": "No Data"}, kind="order", tag="t"),
                 replies)


def test_an_http_error_with_the_brokers_words_but_no_envelope_is_a_refusal() -> None:
    replies = Replies(broker="b", envelopes=(), code=("code",), message=("detail",))
    with pytest.raises(OrderRejectedError, match="quantity"):
        classify(reply({"code": "Q1", "detail": "bad quantity"}, kind="order", tag="t",
                       status=400), replies)


def test_lookup_never_raises() -> None:
    body = {"a": [{"b": 1}], "s": "x"}
    assert lookup(body, "a.0.b") == 1
    for path in ("a.1.b", "a.x", "s.t", "a.0.b.c", "zz", "a.-1"):
        assert lookup(body, path) is MISSING


def test_an_unauthorized_code_is_an_authentication_error_on_any_call() -> None:
    """A wrong API key or an IP the broker has not whitelisted: not a session to drop,
    not an order to look for, not a garbled reply."""
    replies = Replies(broker="b", envelopes=ANGEL.envelopes,
                      unauthorized=Codes(codes=("AG7002",)),
                      session_expired=ANGEL.session_expired)
    body = {"success": False, "message": "IP not registered", "errorCode": "AG7002"}
    for kind in ("login", "order", "read"):
        with pytest.raises(AuthenticationError) as info:
            classify(reply(body, kind=kind, tag="t", status=403), replies)  # type: ignore[arg-type]
        assert type(info.value) is AuthenticationError and info.value.code == "AG7002"


def test_a_reply_known_by_a_field_of_its_own() -> None:
    """``ok=(ANY,)``: Definedge's first login step answers ``{"otp_token", "message"}``
    with no status; a status envelope listed first still decides when present."""
    replies = Replies(broker="definedge", envelopes=(
        Envelope(status="stat", ok=("Ok",), failed=("Not_Ok",), message=("emsg",)),
        Envelope(status="otp_token", ok=(ANY,))))
    body = {"otp_token": "t1", "message": "Enter OTP/TOTP"}
    assert classify(reply(body, kind="login"), replies).data == body
    with pytest.raises(AuthenticationError, match="Invalid"):
        classify(reply({"otp_token": "t1", "stat": "Not_Ok", "emsg": "Invalid"},
                       kind="login"), replies)
    with pytest.raises(BrokerResponseError, match="no known envelope"):
        classify(reply({"message": "Enter OTP/TOTP"}, kind="login"), replies)
    with pytest.raises(BrokerResponseError):  # never a success with an HTTP error
        classify(reply(body, kind="login", status=401), replies)
