"""How the CLI and the demo print numbers, tables and JSON: one way everywhere.

Money and prices print with two decimals, more only when the value has them (a
currency tick, ``0.0025``); quantities print as whole numbers. JSON carries the same
text for each decimal (exact, as in the table), times in ISO 8601.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TextIO

__all__ = ["number", "print_json", "table"]

_CENTS = Decimal("0.01")


def number(value: Decimal | float | int) -> str:
    """``value`` as printed: ints as they are, decimals with at least two places
    (``2617`` -> ``2617.00``, ``0.0025`` stays), never an exponent."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    try:
        exact = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not exact.is_finite():
        return str(exact)
    exact = exact.normalize()
    if exact.as_tuple().exponent >= -2:  # type: ignore[operator]
        exact = exact.quantize(_CENTS)
    return f"{exact:f}"


def _cell(value: object) -> str:
    if isinstance(value, Decimal | float) and not isinstance(value, bool):
        return number(value)
    return str(value)


def table(rows: Sequence[Sequence[object]], headers: Sequence[str], *,
          totals: Sequence[str] = ()) -> str:
    """A plain-text table, numbers right-aligned; ``totals`` names the columns summed in a
    last ``total`` row (when there is more than one row)."""
    body = [list(row) for row in rows]
    if totals and len(body) > 1:
        at = {name: i for i, name in enumerate(headers)}
        total: list[object] = [""] * len(headers)
        total[0] = "total"
        for name in totals:
            total[at[name]] = sum((Decimal(str(row[at[name]])) for row in body), Decimal(0))
        body.append(total)
    numeric = [bool(rows) and all(isinstance(r[i], int | float | Decimal) for r in rows)
               for i in range(len(headers))]
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in body]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if numeric[i] else c.ljust(w)
                               for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip())
        if n == 0 or (totals and len(rows) > 1 and n == len(cells) - 2):
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return str(value)


def print_json(data: Any, out: TextIO) -> None:
    """``data`` as indented JSON, decimals as :func:`number` prints them."""
    json.dump(data, out, indent=2, default=_json_default)
    out.write("\n")
