"""SmartAPI wire plumbing: paths, the mandatory headers, and the two error envelopes.

Angel answers in one of three shapes (brokers/angel 1.2, 1.8):

- business envelope ``{"status": bool, "message", "errorcode", "data"}``;
- gateway envelope ``{"success": false, "message", "errorCode", "data": ""}``
  (token problems: AG8001/AG8002/AG8003 -> :class:`SessionExpiredError`);
- plain text ``Access denied because of exceeding access rate`` (HTTP 403/429),
  turned into :class:`RateLimitError` by the core client through
  ``BrokerInfo.rate_limit_markers`` before the reply reaches this module.
"""

from __future__ import annotations

from typing import Any, Final, Literal

import httpx

from openalgo_core import (
    AuthenticationError,
    BrokerResponseError,
    OrderRejectedError,
    SessionExpiredError,
    UnreadableOrderReplyError,
    parse_json,
)

from .mapping import SESSION_ERROR_CODES

BROKER: Final = "angel"

LOGIN_PATH: Final = "/rest/auth/angelbroking/user/v1/loginByPassword"
PLACE_ORDER_PATH: Final = "/rest/secure/angelbroking/order/v1/placeOrder"
POSITIONS_PATH: Final = "/rest/secure/angelbroking/order/v1/getPosition"
SCRIP_MASTER_PATH: Final = "/OpenAPI_File/files/OpenAPIScripMaster.json"

#: Values of the client-identification headers. Angel requires the headers on every
#: call but does not check their values (OpenAlgo sends literal placeholders); the
#: SEBI static-IP rule is enforced on the connection's real source address.
CLIENT_LOCAL_IP: Final = "127.0.0.1"
CLIENT_PUBLIC_IP: Final = "127.0.0.1"
MAC_ADDRESS: Final = "00:00:00:00:00:00"

#: Which error a business-envelope ``status: false`` becomes, by kind of call.
Call = Literal["login", "order", "read"]


def headers(api_key: str, jwt: str | None = None) -> dict[str, str]:
    """The mandatory SmartAPI headers; ``Authorization: Bearer`` when ``jwt`` is given."""
    result = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-UserType": "USER",
        "X-SourceID": "WEB",
        "X-ClientLocalIP": CLIENT_LOCAL_IP,
        "X-ClientPublicIP": CLIENT_PUBLIC_IP,
        "X-MACAddress": MAC_ADDRESS,
        "X-PrivateKey": api_key,
    }
    if jwt:
        result["Authorization"] = f"Bearer {jwt}"
    return result


def check(response: httpx.Response, *, call: Call,
          order_tag: str | None = None) -> dict[str, Any]:
    """Check a SmartAPI reply; return its body, whose ``data`` may be ``None``.

    Success means a business envelope with ``status: true`` and HTTP < 400.

    Args:
        response: any non-5xx reply from the core client.
        call: what a business ``status: false`` means: ``login`` ->
            AuthenticationError, ``order`` -> OrderRejectedError, ``read`` ->
            BrokerResponseError.
        order_tag: the order's tag when this is the reply to placeOrder: an
            unreadable reply then raises UnreadableOrderReplyError (status unknown).

    Raises:
        SessionExpiredError: gateway envelope with AG8001/AG8002/AG8003.
        AuthenticationError, OrderRejectedError, BrokerResponseError: as above,
            carrying Angel's code and message.
    """
    body = parse_json(response, BROKER, order_tag=order_tag)
    if not isinstance(body, dict):
        raise unreadable(response, "expected a JSON object", order_tag)
    raw, http_status = response.content, response.status_code
    if _flag(body.get("success")) is False:
        code, message = _text(body.get("errorCode")), _text(body.get("message"))
        if code in SESSION_ERROR_CODES:
            raise SessionExpiredError(f"session no longer valid: {message} [{code}]",
                                      broker=BROKER, code=code, raw=raw, status_code=http_status)
        if call == "order":
            raise OrderRejectedError(message or "refused by the API gateway", broker=BROKER,
                                     code=code or None, raw=raw, status_code=http_status)
        raise AuthenticationError(f"refused: {message} [{code}]", broker=BROKER,
                                  code=code or None, raw=raw, status_code=http_status)
    status = _flag(body.get("status"))
    if status is True and http_status < 400:
        return body
    if status is not False:
        raise unreadable(response, "reply has no status", order_tag)
    code, message = _text(body.get("errorcode")), _text(body.get("message")) or "no message"
    if call == "login":
        raise AuthenticationError(f"login refused: {message} [{code}]", broker=BROKER,
                                  code=code or None, raw=raw, status_code=http_status)
    if call == "order":
        raise OrderRejectedError(message, broker=BROKER, code=code or None, raw=raw,
                                 status_code=http_status)
    raise BrokerResponseError(f"{response.request.url.path}: {message} [{code}]",
                              broker=BROKER, raw=raw, status_code=http_status)


def unreadable(response: httpx.Response, why: str,
               order_tag: str | None = None) -> BrokerResponseError:
    """The error for a reply we cannot trust; for an order (``order_tag`` given) it is
    an UnreadableOrderReplyError, i.e. also "status unknown: check the order book"."""
    where = f"{response.request.url.path} (HTTP {response.status_code})"
    if order_tag is not None:
        return UnreadableOrderReplyError(
            f"{why} in the reply to an order from {where}; check the order book for tag"
            f" {order_tag}", broker=BROKER, tag=order_tag, raw=response.content,
            status_code=response.status_code)
    return BrokerResponseError(f"{why} from {where}", broker=BROKER, raw=response.content,
                               status_code=response.status_code)


def _flag(value: object) -> bool | None:
    """Angel's booleans: ``true``/``false``, sometimes as strings; anything else is None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ("" if value is None else str(value))
