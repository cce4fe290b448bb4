"""Garbage in one field of a reply: the values, and how a reply body is rewritten.

A reply is JSON, CSV, or a zip holding either; a *field* is a path into it (JSON
keys and indices, ``()`` for the whole JSON body; ``(row, column name)`` for CSV;
the member name first for a zip). A garbage value is the raw JSON text of the value
put there, so a JSON reply can carry what Python would not write itself
(``1e5000``, a 10,000-level nest, a 5,000-digit integer); a CSV cell gets the text.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

from hypothesis import strategies as st

__all__ = ["FRAGMENTS", "Field", "fields", "fragments", "representatives", "rewrite"]

Field = tuple[Any, ...]

DEEP_NEST = 10_000
#: Every shape the core must survive, as raw JSON text.
FRAGMENTS: tuple[str, ...] = (
    "null", '""', '"   "', '"text"', '"ü€😀 ग्राहक"', "NaN", "Infinity", "-Infinity",
    "-1", "0", "1e30", "1e5000", '"1e200000"', '"NaN"', "9" * 5000, "true", "false",
    "[]", "[1, 2]", "{}", '{"a": null}', "[" * DEEP_NEST + "]" * DEEP_NEST,
)
_SENTINEL = "\x00openalgo-garbage\x00"
_JSON_LEAVES = (st.none() | st.booleans() | st.integers() | st.floats()
                | st.text(max_size=30))


def fragments() -> st.SearchStrategy[str]:
    """Hypothesis: one of :data:`FRAGMENTS`, or any JSON value as text."""
    values = st.recursive(_JSON_LEAVES, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                          max_leaves=6)
    return st.sampled_from(FRAGMENTS) | values.map(json.dumps)


def fields(body: bytes) -> list[Field]:
    """Every field of a reply, or ``[]`` when it is none of JSON, CSV or zip."""
    if body.startswith(b"PK\x03\x04"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return [(name, *path) for name in archive.namelist()
                    for path in fields(archive.read(name))]
    try:
        return [(), *_json_fields(json.loads(body))]
    except (ValueError, RecursionError):
        pass
    rows = _csv(body)
    return [(r, name) for r, row in enumerate(rows[1:]) for name in rows[0][:len(row)]]


def rewrite(body: bytes, field: Field, fragment: str) -> bytes:
    """``body`` with ``field`` replaced by ``fragment`` (unchanged if it has no such field)."""
    if body.startswith(b"PK\x03\x04"):
        return _rewrite_zip(body, field, fragment)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return _rewrite_csv(body, field, fragment)
    if field == ():
        return fragment.encode()
    parent, last = data, field[-1]
    try:
        for key in field[:-1]:
            parent = parent[key]
    except (KeyError, IndexError, TypeError):
        return body
    if not ((isinstance(parent, dict) and last in parent) or (
            isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent))):
        return body
    parent[last] = _SENTINEL
    text = json.dumps(data)
    return text.replace(json.dumps(_SENTINEL), fragment, 1).encode()


def representatives(found: Sequence[Field], per_shape: int = 3) -> list[Field]:
    """Up to ``per_shape`` fields of each shape (rows and list items alike), spread
    over the reply: what a sweep of every value over every kind of field needs."""
    by_shape: dict[Hashable, list[Field]] = {}
    for field in found:
        by_shape.setdefault(_shape(field), []).append(field)
    chosen = []
    for group in by_shape.values():
        step = max(1, len(group) // per_shape)
        chosen.extend(group[::step][:per_shape])
    return chosen


def _shape(field: Field) -> Hashable:
    return tuple("*" if isinstance(part, int) else part for part in field)


def _json_fields(value: Any, prefix: Field = ()) -> Iterator[Field]:
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list) else ())
    for key, inner in items:
        yield (*prefix, key)
        yield from _json_fields(inner, (*prefix, key))


def _csv(body: bytes) -> list[list[str]]:
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return []
    if not text.strip() or text.lstrip().startswith("<") or "," not in text.split("\n", 1)[0]:
        return []
    return list(csv.reader(io.StringIO(text)))


def _rewrite_csv(body: bytes, field: Field, fragment: str) -> bytes:
    rows = _csv(body)
    if len(field) != 2 or not isinstance(field[0], int) or not rows or field[1] not in rows[0]:
        return body
    row, column = field[0] + 1, rows[0].index(field[1])
    if row >= len(rows) or column >= len(rows[row]):
        return body
    rows[row][column] = json.loads(fragment) if fragment.startswith('"') else fragment
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def _rewrite_zip(body: bytes, field: Field, fragment: str) -> bytes:
    if not field:
        return body
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, rewrite(data, field[1:], fragment)
                            if name == field[0] else data)
    return out.getvalue()
