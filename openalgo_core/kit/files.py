"""Master-contract files as brokers ship them: a JSON array, a zip of several files.

Each reader turns a file that is not what the broker documents into
:class:`~openalgo_core.errors.BrokerResponseError` saying what was expected; rows are
then read with :class:`~openalgo_core.kit.rows.Row` / :func:`~openalgo_core.kit.rows.csv_rows`
and built with :class:`~openalgo_core.kit.builder.InstrumentBuilder`.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from collections.abc import Iterable
from typing import Any

from ..errors import BrokerResponseError

__all__ = ["json_array", "unzip"]


def json_array(content: bytes | str, *, what: str, broker: str) -> list[Any]:
    """The JSON array ``content`` holds (nesting bombs and over-long numbers refused)."""
    try:
        rows = json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BrokerResponseError(f"{what} is not JSON", broker=broker) from None
    if not isinstance(rows, list):
        raise BrokerResponseError(f"{what} is not a JSON array", broker=broker)
    return rows


def unzip(content: bytes, names: Iterable[str], *, what: str, broker: str,
          encoding: str = "utf-8") -> dict[str, str]:
    """The text of each member ``names`` of the zip ``content`` (e.g. ICICI's
    ``NSEScripMaster.txt``, ``FONSEScripMaster.txt``...), by name."""
    wanted = list(names)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return {name: archive.read(name).decode(encoding) for name in wanted}
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, zlib.error, EOFError):
        raise BrokerResponseError(f"{what} is not a zip holding {', '.join(wanted)}",
                                  broker=broker) from None
