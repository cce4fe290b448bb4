"""Strict readers for the rows a broker sends (JSON objects, CSV records).

:class:`Row` wraps one row; each reader names the field it reads, so a missing or
malformed value raises :class:`~openalgo_core.errors.BrokerResponseError` saying which
field of which row, never ``KeyError``, ``TypeError``, ``ValueError`` or
``decimal.InvalidOperation``::

    row = Row(raw, what="position row", broker="angel")
    quantity = row.whole("netqty")
    price = row.decimal("avgnetprice")
    product = row.lookup("producttype", PRODUCTS_BACK)

Numbers are checked for plausibility before they are converted: ``NaN``, infinities,
magnitudes of 10**15 or more, more than 12 decimal places and over-long strings are
refused cheaply (``1e200000`` would otherwise hold the interpreter for seconds).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Final, TypeVar

from ..errors import BrokerResponseError
from ..models import IST

__all__ = ["EPOCH", "MAX_MAGNITUDE", "Row", "csv_rows", "number", "whole_number"]

#: The largest magnitude a broker number may have (quantities, prices, P&L in rupees).
MAX_MAGNITUDE: Final = 10**15
_MAX_PLACES: Final = 12
_MAX_CHARS: Final = 40
_FLAGS: Final = {"true": True, "false": False, "y": True, "n": False, "yes": True, "no": False,
                 "1": True, "0": False}
_NO_DEFAULT: Final = object()
#: A :meth:`Row.stamp` layout: whole seconds since 1970 (``"1675257585"``).
EPOCH: Final = "epoch seconds"
T = TypeVar("T")


def number(value: Any) -> Decimal:
    """A broker number (int, finite float, or text such as ``"1,234.50"`` or Angel's
    ``"- 2235.80"``) as a plausible ``Decimal``.

    Raises:
        ValueError: not a number, not finite, or implausibly large or precise.
    """
    if isinstance(value, bool):
        raise ValueError("a flag, not a number")
    if isinstance(value, int):
        if -MAX_MAGNITUDE < value < MAX_MAGNITUDE:
            return Decimal(value)
        raise ValueError("implausibly large")
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, str):
        if len(value) > _MAX_CHARS or not value.isascii():
            raise ValueError("too long for a number, or not ASCII digits")
        text = value.replace(" ", "").replace(",", "")
    else:
        raise ValueError(f"expected a number, got {type(value).__name__}")
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not result.is_finite():
        raise ValueError("not finite")
    exponent = result.as_tuple().exponent
    if result and (result.adjusted() >= 15 or (isinstance(exponent, int)
                                                and exponent < -_MAX_PLACES)):
        raise ValueError("implausibly large or precise")
    return result


def whole_number(value: Any) -> int:
    """:func:`number` that must be whole (``"75"``, ``75.0``)."""
    result = number(value)
    if result != result.to_integral_value():
        raise ValueError("not a whole number")
    return int(result)


class Row:
    """One broker row with strict, field-naming readers.

    Args:
        data: the row as decoded (anything: a non-mapping is refused here).
        what: how errors name the row (``"position row"``).
        broker: the broker id errors carry.
    """

    __slots__ = ("broker", "data", "what")

    def __init__(self, data: Any, *, what: str, broker: str) -> None:
        if not isinstance(data, Mapping):
            raise BrokerResponseError(f"{what} is not an object: {type(data).__name__}",
                                      broker=broker)
        self.data: Mapping[str, Any] = data
        self.what = what
        self.broker = broker

    def fail(self, field: str, problem: str) -> BrokerResponseError:
        """The error for a bad ``field`` (the value is not echoed: rows may be large)."""
        return BrokerResponseError(f"{self.what}: field {field!r} {problem}",
                                   broker=self.broker)

    def has(self, field: str) -> bool:
        """Whether ``field`` is present and not null or blank."""
        value = self.data.get(field)
        return value is not None and not (isinstance(value, str) and not value.strip())

    def _get(self, field: str, default: Any) -> Any:
        value = self.data.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            if default is _NO_DEFAULT:
                raise self.fail(field, "is missing")
            return _NO_DEFAULT
        return value

    def text(self, field: str, default: Any = _NO_DEFAULT) -> str:
        """A non-blank text (a number is taken as its text), stripped."""
        value = self._get(field, default)
        if value is _NO_DEFAULT:
            return str(default)
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.fail(field, f"is not text ({type(value).__name__})")
        return str(value).strip()

    def decimal(self, field: str, default: Any = _NO_DEFAULT) -> Decimal:
        """A plausible number (see :func:`number`)."""
        value = self._get(field, default)
        if value is _NO_DEFAULT:
            return Decimal(default)
        try:
            return number(value)
        except ValueError as exc:
            raise self.fail(field, f"is not a usable number: {exc}") from None

    def whole(self, field: str, default: Any = _NO_DEFAULT) -> int:
        """A plausible whole number."""
        value = self._get(field, default)
        if value is _NO_DEFAULT:
            return int(default)
        try:
            return whole_number(value)
        except ValueError as exc:
            raise self.fail(field, f"is not a whole number: {exc}") from None

    def flag(self, field: str, default: Any = _NO_DEFAULT) -> bool:
        """A yes/no: booleans, ``true``/``false``, ``Y``/``N``, ``yes``/``no``, 1/0."""
        value = self._get(field, default)
        if value is _NO_DEFAULT:
            return bool(default)
        if isinstance(value, bool):
            return value
        found = _FLAGS.get(str(value).strip().lower()) if isinstance(value, str | int) \
            else None
        if found is None:
            raise self.fail(field, "is not a yes/no flag")
        return found

    def time(self, field: str, layout: str, default: Any = _NO_DEFAULT) -> Any:
        """A broker's time stamp in ``layout`` (``strptime``), read as IST (Indian
        brokers write local time) and returned timezone-aware; a layout without a date
        (``%H:%M:%S``) is today's, in IST."""
        value = self._get(field, default)
        if value is _NO_DEFAULT:
            return default
        text = value.strip() if isinstance(value, str) else ""
        try:
            parsed = dt.datetime.strptime(text[:_MAX_CHARS], layout)
        except ValueError:
            raise self.fail(field, f"is not a time like {layout!r}") from None
        if "%d" not in layout and "%j" not in layout:
            parsed = dt.datetime.combine(dt.datetime.now(IST).date(), parsed.time())
        return parsed.replace(tzinfo=IST)

    def stamp(self, field: str, *layouts: str) -> dt.datetime | None:
        """A time stamp that is informative only: the first of ``layouts`` that reads
        (``EPOCH``: whole seconds since 1970), as :meth:`time` does; None when the field is
        absent or in no layout, so a broker's unexpected time format never makes a row
        unreadable."""
        for layout in layouts:
            if layout == EPOCH:
                value = self.data.get(field)
                text = str(value).strip() if isinstance(value, str | int) else ""
                if text.isdigit() and 0 < int(text) < 10**10:
                    return dt.datetime.fromtimestamp(int(text), IST)
                continue
            try:
                found: dt.datetime | None = self.time(field, layout, None)
            except BrokerResponseError:
                continue
            return found
        return None

    def lookup(self, field: str, table: Mapping[str, T], default: Any = _NO_DEFAULT) -> T:
        """The entry of ``table`` keyed by the field's text."""
        key = self.text(field, default if default is _NO_DEFAULT else "")
        found = table.get(key)
        if found is None:
            if default is not _NO_DEFAULT:
                return default  # type: ignore[no-any-return]
            raise self.fail(field, f"has an unknown value {key[:40]!r}"
                                   f" (known: {', '.join(sorted(table))[:200]})")
        return found


def csv_rows(text: str, *, what: str, broker: str,
             required: tuple[str, ...] = ()) -> Iterator[Row]:
    """The records of a CSV file with a header line, as :class:`Row` objects. Header
    names are stripped of spaces and quotes (``' "ShortName"'`` -> ``ShortName``).

    Raises:
        BrokerResponseError: no header, or a ``required`` column missing from it.
    """
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise BrokerResponseError(f"{what}: the file has no header line", broker=broker)
    names = [name.strip().strip('"').strip() for name in header]
    missing = [name for name in required if name not in names]
    if missing:
        raise BrokerResponseError(f"{what}: columns missing: {', '.join(missing)}",
                                  broker=broker)
    for record in reader:
        if record:
            yield Row(dict(zip(names, record, strict=False)), what=what, broker=broker)
