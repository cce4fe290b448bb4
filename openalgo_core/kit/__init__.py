"""The broker kit: everything any Indian REST broker repeats, written once.

- :mod:`~openalgo_core.kit.replies`: envelopes and error tables as data; one function
  classifies any reply by the kind of call.
- :mod:`~openalgo_core.kit.rows`: strict readers that name the bad field.
- :mod:`~openalgo_core.kit.symbols`: OpenAlgo's symbology.
- :mod:`~openalgo_core.kit.builder`: a fast master-contract builder;
  :mod:`~openalgo_core.kit.files`: a JSON array or a zip of files, read safely.
- :mod:`~openalgo_core.kit.rest`: :class:`RestBroker`, the hook bodies written once.
- :mod:`~openalgo_core.kit.hooks`: :class:`KitHooks`, a broker's hookimpls in one object.

The hook contract (:mod:`openalgo_core.hookspecs`) stays the one thing a plugin must
satisfy: the kit is a way to satisfy it, and a broker that does not fit implements the
hooks directly. Names load their submodule on first access, so declaring a plugin with
:class:`KitHooks` imports neither pydantic nor httpx.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy

if TYPE_CHECKING:
    from .builder import BAD_ROW, InstrumentBuilder
    from .files import json_array, unzip
    from .hooks import KitHooks
    from .replies import ANY, Codes, Envelope, Replies, Reply, classify, lookup
    from .rest import Call, Login, RestBroker, printable
    from .rows import EPOCH, Row, csv_rows, number, whole_number
    from .symbols import (
        equity_symbol,
        expiry_code,
        future_symbol,
        index_symbol,
        option_symbol,
        strike_text,
    )

_LAZY = {
    "ANY": "replies", "BAD_ROW": "builder", "EPOCH": "rows", "Call": "rest", "Codes": "replies",
    "Envelope": "replies", "InstrumentBuilder": "builder", "json_array": "files",
    "unzip": "files", "KitHooks": "hooks",
    "Login": "rest", "Replies": "replies", "Reply": "replies", "RestBroker": "rest",
    "Row": "rows", "classify": "replies", "csv_rows": "rows", "equity_symbol": "symbols",
    "expiry_code": "symbols", "future_symbol": "symbols", "index_symbol": "symbols",
    "lookup": "replies", "number": "rows", "option_symbol": "symbols", "printable": "rest",
    "strike_text": "symbols", "whole_number": "rows",
}

__all__ = [
    "ANY",
    "BAD_ROW",
    "Call",
    "Codes",
    "EPOCH",
    "Envelope",
    "InstrumentBuilder",
    "KitHooks",
    "Login",
    "Replies",
    "Reply",
    "RestBroker",
    "Row",
    "classify",
    "csv_rows",
    "equity_symbol",
    "expiry_code",
    "future_symbol",
    "index_symbol",
    "json_array",
    "lookup",
    "number",
    "option_symbol",
    "printable",
    "strike_text",
    "unzip",
    "whole_number",
]


__getattr__, __dir__ = lazy(__name__, _LAZY, globals())
