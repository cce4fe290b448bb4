"""A broker's replies, declared once and classified by one function.

A broker states its envelope(s) and error tables as data::

    REPLIES = Replies(
        broker="angel",
        envelopes=(
            Envelope(status="success", ok=(), failed=("false",), code=("errorCode",),
                     message=("message",)),                       # API gateway refusals
            Envelope(status="status", ok=("true",), failed=("false",),
                     code=("errorcode",), message=("message",), data="data"),
        ),
        session_expired=Codes(codes=("AG8001", "AG8002", "AG8003")),
    )

and :func:`classify` turns any reply into a :class:`Reply` or one of the core's typed
errors, by the kind of call the request was sent as (``login``, ``order``, ``read``:
read from the request itself, see :func:`openalgo_core.http.request_meta`):

=================================  =============================================
the reply                          becomes
=================================  =============================================
not JSON, not an object, no known  ``BrokerResponseError``; for an order
envelope, an unknown status value  ``UnreadableOrderReplyError`` (status unknown,
                                   with the order's tag)
an unauthorized code/text/HTTP     ``AuthenticationError`` on any call (a wrong API
                                   key, an IP the broker has not whitelisted)
a session-expired code/text/HTTP   ``SessionExpiredError`` (``AuthenticationError``
                                   at login, where there is no session yet)
a rate-limited code/text           ``RateLimitError``
a failure status, or a refused     login: ``AuthenticationError``; order:
code/text                          ``OrderRejectedError``; read:
                                   ``BrokerResponseError`` with the broker's words
an "empty" code/text on a read     a :class:`Reply` with ``empty=True``
a "not found" code/text on a read  ``OrderNotFoundError`` naming the order
of one order (its id as the tag)
a success status and HTTP < 400    a :class:`Reply`
=================================  =============================================

Every error carries the broker's code and message, the raw body and the HTTP status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

import httpx

from ..errors import (
    AuthenticationError,
    BrokerError,
    BrokerResponseError,
    OrderNotFoundError,
    OrderRejectedError,
    RateLimitError,
    SessionExpiredError,
)
from ..http import parse_json, request_meta, shown_path, unreadable

__all__ = ["ANY", "Codes", "Envelope", "Reply", "Replies", "classify", "lookup"]

#: In :attr:`Envelope.failed`: the status field being present at all means failure
#: (Kotak's ``{"error": [{"code": ..., "message": ...}]}``).
ANY: Final = "\x00any"
MISSING: Final = object()
_TEXT_LIMIT = 300


def _norm(value: Any) -> str | None:
    """A status value compared case-insensitively: ``True`` and ``"true"`` agree, and so
    do ``200`` and ``"200"``; anything else (lists, floats, None) matches nothing."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip().lower()
    return None


def lookup(body: Any, path: str) -> Any:
    """The value at a dotted ``path`` (``"data.orderid"``, ``"error.0.code"``), or
    :data:`MISSING`. Never raises, whatever ``body`` is."""
    return _walk(body, tuple(path.split(".")))


def _walk(value: Any, parts: tuple[str, ...]) -> Any:
    for part in parts:
        if isinstance(value, dict):  # what JSON decodes to (a cheaper check than Mapping)
            value = value.get(part, MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


def _text(value: Any) -> str:
    """A code or message as text (numbers too); empty for anything else."""
    if isinstance(value, bool) or value is MISSING or value is None:
        return ""
    if isinstance(value, str | int):
        return str(value).strip()[:_TEXT_LIMIT]
    return ""


@dataclass(frozen=True, slots=True)
class Envelope:
    """One shape of reply. It applies when its ``status`` path is present.

    ``ok`` and ``failed`` list the status values (compared case-insensitively, booleans
    and integers as text) meaning success and a definite failure; ``failed=(ANY,)``
    makes any present value a failure, ``ok=(ANY,)`` any present value a success (a
    reply known by a field of its own, such as Definedge's ``{"otp_token": ...}``). A
    value in neither is unreadable: never taken as success, and for an order never as a
    rejection either. ``code`` and ``message`` list where the broker's error code and
    text may be (first present wins); ``data`` is where the payload lives (None: the
    whole body).
    """

    status: str
    ok: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    code: tuple[str, ...] = ()
    message: tuple[str, ...] = ()
    data: str | None = None

    #: ``status`` and ``data`` split once (replies are classified on the order path)
    _status: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _data: tuple[str, ...] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ok", tuple(v if v == ANY else str(_norm(v))
                                             for v in self.ok))
        object.__setattr__(self, "failed", tuple(v if v == ANY else str(_norm(v))
                                                 for v in self.failed))
        object.__setattr__(self, "_status", tuple(self.status.split(".")))
        object.__setattr__(self, "_data", tuple(self.data.split(".")) if self.data else None)


@dataclass(frozen=True, slots=True)
class Codes:
    """What identifies one kind of error: broker codes (exact), message fragments
    (case-insensitive substrings) and HTTP statuses; any one matching is enough."""

    codes: Iterable[str] = ()
    messages: Iterable[str] = ()
    http: Iterable[int] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", frozenset(self.codes))
        object.__setattr__(self, "messages", tuple(m.lower() for m in self.messages))
        object.__setattr__(self, "http", frozenset(self.http))

    def match(self, code: str, message: str, status_code: int) -> bool:
        lowered = message.lower()
        return (code in self.codes
                or status_code in self.http
                or any(m in lowered for m in self.messages))


@dataclass(frozen=True, slots=True)
class Replies:
    """Everything a broker's replies mean. ``code``/``message`` (paths) are also
    looked up when no envelope matches (an HTTP 4xx with the broker's error body)."""

    broker: str
    envelopes: tuple[Envelope, ...]
    unauthorized: Codes = field(default_factory=Codes)
    session_expired: Codes = field(default_factory=Codes)
    rate_limited: Codes = field(default_factory=Codes)
    refused: Codes = field(default_factory=Codes)
    empty: Codes = field(default_factory=Codes)
    #: a read of one order (sent with its id as the tag) naming an order the broker lacks
    not_found: Codes = field(default_factory=Codes)
    code: tuple[str, ...] = ()
    message: tuple[str, ...] = ()


class Reply(NamedTuple):
    """A reply judged successful: the body, the payload at the envelope's ``data``
    path (None when absent), and whether it was an "empty" answer to a read."""

    body: Mapping[str, Any]
    data: Any
    response: httpx.Response
    empty: bool = False


def classify(response: httpx.Response, replies: Replies) -> Reply:
    """Judge a (non-5xx) reply by the kind of call it answers; see the module table.

    Raises:
        SessionExpiredError, AuthenticationError, OrderRejectedError, RateLimitError,
        BrokerResponseError, UnreadableOrderReplyError: as the module table says.
    """
    broker = replies.broker
    body = parse_json(response, broker)
    if not isinstance(body, dict):
        raise unreadable(response, broker, "expected a JSON object")
    http = response.status_code
    envelope, status = _envelope(body, replies.envelopes)
    if envelope is not None and (status in envelope.ok or ANY in envelope.ok) \
            and http < 400:  # the common case
        data = _walk(body, envelope._data) if envelope._data else body
        return Reply(body, None if data is MISSING else data, response)
    kind = request_meta(response.request).kind
    codes = envelope.code if envelope else replies.code
    messages = envelope.message if envelope else replies.message
    code = next((t for t in (_text(lookup(body, p)) for p in codes) if t), "")
    message = next((t for t in (_text(lookup(body, p)) for p in messages) if t), "")
    failed = envelope is not None and (status in envelope.failed or ANY in envelope.failed)
    raw = response.content
    if replies.session_expired.match(code, message, http):
        cls = AuthenticationError if kind == "login" else SessionExpiredError
        raise cls(f"session no longer valid: {_said(message, code)}", broker=broker,
                  code=code or None, raw=raw, status_code=http)
    if replies.unauthorized.match(code, message, http):
        raise AuthenticationError(f"refused: {_said(message, code)}", broker=broker,
                                  code=code or None, raw=raw, status_code=http)
    if replies.rate_limited.match(code, message, http):
        raise RateLimitError(f"rate limited: {_said(message, code)}", broker=broker, raw=raw,
                             status_code=http)
    if kind == "read" and replies.empty.match(code, message, http):
        return Reply(body, None, response, empty=True)
    tag = request_meta(response.request).tag
    if kind == "read" and tag and replies.not_found.match(code, message, http):
        raise OrderNotFoundError(tag, broker=broker, raw=raw, status_code=http)
    if failed or replies.refused.match(code, message, http) or (
            envelope is None and 400 <= http < 500 and (code or message)):
        raise _refusal(response, replies, kind, code, message)
    why = "unknown status" if envelope is not None else "no known envelope"
    raise unreadable(response, broker, why + (f" ({_said(message, code)})"
                                              if code or message else ""))


def _envelope(body: Mapping[str, Any],
              envelopes: tuple[Envelope, ...]) -> tuple[Envelope | None, str | None]:
    for envelope in envelopes:
        value = _walk(body, envelope._status)
        if value is not MISSING and value is not None:
            return envelope, _norm(value)
    return None, None


def _said(message: str, code: str) -> str:
    return (message or "no message") + (f" [{code}]" if code else "")


def _refusal(response: httpx.Response, replies: Replies, kind: str, code: str,
             message: str) -> BrokerError:
    broker, raw, http = replies.broker, response.content, response.status_code
    if kind == "login":
        return AuthenticationError(f"login refused: {_said(message, code)}", broker=broker,
                                   code=code or None, raw=raw, status_code=http)
    if kind == "order":
        return OrderRejectedError(message or "refused without a reason", broker=broker,
                                  code=code or None, raw=raw, status_code=http)
    return BrokerResponseError(f"{shown_path(response.request)}: {_said(message, code)}",
                               broker=broker, raw=raw, status_code=http)
