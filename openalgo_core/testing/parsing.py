"""What every simulator reads from a request: a JSON object body, a token, numbers.

Each reader refuses what a strict broker refuses, cheaply and with a
``ValueError`` (numbers) or ``None`` (bodies), so a simulator answers with the
broker's own refusal instead of crashing on hostile input.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.requests import Request

__all__ = ["decimal_value", "json_object", "request_token", "whole_value"]

#: A number with more digits before the point than this is refused unread.
MAX_INTEGER_DIGITS = 15
_MAX_TEXT = 64


def decimal_value(value: object) -> Decimal:
    """A finite, non-negative number sent as a JSON string or number (not a bool).

    Raises:
        ValueError: anything else, including NaN, infinities, negatives, and
            magnitudes over ``MAX_INTEGER_DIGITS`` digits (``1e200000``), refused
            before any costly conversion.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(f"not a number: a {type(value).__name__}")
    if isinstance(value, int):
        if not 0 <= value < 10**MAX_INTEGER_DIGITS:
            raise ValueError("not an amount: an integer out of range")
        return Decimal(value)
    text = value if isinstance(value, str) else repr(value)
    try:
        if len(text) > _MAX_TEXT:
            raise ValueError
        number = Decimal(text.strip())
    except (ValueError, InvalidOperation):
        raise ValueError(f"not a number: {text[:40]!r}") from None
    if not number.is_finite() or number < 0 or number.adjusted() >= MAX_INTEGER_DIGITS:
        raise ValueError(f"not an amount: {text[:40]!r}")
    return number


def whole_value(value: object) -> int:
    """A whole, non-negative number (``"5"``, ``5``, ``5.0``); see :func:`decimal_value`."""
    number = decimal_value(value)
    if number != number.to_integral_value():
        raise ValueError(f"not a whole number: {number}")
    return int(number)


async def json_object(request: Request) -> dict[str, Any] | None:
    """The request's body as a JSON object, or None when it is not one (not JSON,
    not UTF-8, nested too deeply, or a JSON value other than an object)."""
    try:
        body = json.loads(await request.body())
    except (ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def request_token(request: Request, header: str = "authorization",
                  scheme: str | None = "Bearer") -> str:
    """The token in ``header``: after ``scheme`` (``Authorization: Bearer <token>``),
    or the raw value when ``scheme`` is None; ``""`` when absent or of another scheme."""
    value = request.headers.get(header, "")
    if scheme is None:
        return value.strip()
    given, _, token = value.partition(" ")
    return token.strip() if given.lower() == scheme.lower() else ""
