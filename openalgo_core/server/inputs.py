"""Strict request fields: what the schema documents is exactly what is accepted.

OpenAlgo's clients send numbers as JSON numbers or as strings (its Python client sends
``"quantity": "1"``). Here a boolean is never a number, a quantity is a whole number
(``"1.5"`` and ``-2.7`` are refused, not truncated), and NaN, infinities and numbers out
of range are refused from their text, before anything converts them: a string is matched
against a short pattern, a JSON number compared with a bound, so
``"quantity": "1e300000"`` costs a regular-expression match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, WithJsonSchema

__all__ = ["MAX_MONEY", "MAX_WHOLE", "Money", "SignedWhole", "Text", "Whole"]

MAX_WHOLE = 10**9 - 1
MAX_MONEY = 10**9 - 1

_WHOLE = r"^[0-9]{1,9}$"
_SIGNED = r"^-?[0-9]{1,9}$"
_MONEY = r"^[0-9]{1,9}(\.[0-9]{1,8})?$"


def _number(pattern: str, low: int, high: int, *, whole: bool,
            what: str) -> Callable[[Any], Any]:
    """A before-validator: ``pattern`` for strings (the text as sent, no spaces), a bound
    for JSON numbers; returns an ``int`` or a ``Decimal``."""
    text = re.compile(pattern)

    def check(value: Any) -> int | Decimal:
        if isinstance(value, bool):
            raise ValueError(f"must be {what}, not a boolean")
        if isinstance(value, str):
            if len(value) > 20 or not text.fullmatch(value):
                raise ValueError(f"must be {what} (got {value[:24]!r})")
            return int(value) if whole else Decimal(value)
        if not isinstance(value, int | float):
            raise ValueError(f"must be {what}")
        number: int | float = value
        if not low <= number <= high:  # NaN compares false: refused here too
            raise ValueError(f"must be {what} between {low} and {high}")
        if whole:
            if number != int(number):
                raise ValueError(f"must be a whole number, got {value}; fractions are refused")
            return int(number)
        return Decimal(str(number))

    return check


def _schema(pattern: str, low: int, high: int, *, whole: bool,
            description: str) -> dict[str, Any]:
    number = {"type": "integer" if whole else "number", "minimum": low, "maximum": high}
    return {"anyOf": [number, {"type": "string", "pattern": pattern}],
            "description": description}


#: a whole number >= 0 (a quantity, a split size): 2 or "2", never true, 1.5 or "1e3"
Whole = Annotated[
    int, BeforeValidator(_number(_WHOLE, 0, MAX_WHOLE, whole=True, what="a whole number")),
    WithJsonSchema(_schema(_WHOLE, 0, MAX_WHOLE, whole=True,
                           description="a whole number, as a JSON number or a string"))]

#: a whole number that may be negative (a target net position)
SignedWhole = Annotated[
    int, BeforeValidator(_number(_SIGNED, -MAX_WHOLE, MAX_WHOLE, whole=True,
                                 what="a whole number")),
    WithJsonSchema(_schema(_SIGNED, -MAX_WHOLE, MAX_WHOLE, whole=True,
                           description="a whole number (negative: short), as a JSON number"
                                       " or a string"))]

#: an amount of money >= 0 (a price): 101.5 or "101.5"; at most 8 decimals as a string
Money = Annotated[
    Decimal, BeforeValidator(_number(_MONEY, 0, MAX_MONEY, whole=False,
                                     what="a price >= 0")),
    WithJsonSchema(_schema(_MONEY, 0, MAX_MONEY, whole=False,
                           description="a price >= 0, as a JSON number or a string"))]

#: free text of bounded length (a symbol, a strategy name, a code)
Text = Annotated[str, Field(min_length=1, max_length=64)]
