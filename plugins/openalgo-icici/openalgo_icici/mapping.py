"""Every OpenAlgo <-> Breeze table (brokers/kotak-icici B.3-B.6, and breeze-connect 1.0.69).

Breeze asks in lower case (``buy``, ``limit``, ``cash``, ``call``) and answers capitalised
(``Buy``, ``Limit``, ``Cash``, ``Call``); both are read case-insensitively.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from openalgo_core import OrderStatus
from openalgo_core.kit.symbols import INDEX_ALIASES as CORE_INDEX_ALIASES

__all__ = ["INDEX_ALIASES", "MARKET_PROTECTION", "PRICETYPES", "PRICETYPES_BACK",
           "PRODUCTS_BACK", "RIGHTS", "RIGHTS_BACK", "SIDES_BACK", "STATUSES", "product_code"]

#: OpenAlgo price type -> Breeze ``order_type`` (SL-M: a ``stoploss`` at price 0).
PRICETYPES: Final = {"MARKET": "market", "LIMIT": "limit", "SL": "stoploss",
                     "SL-M": "stoploss"}
#: Breeze ``order_type`` in a book row (lower-cased) -> OpenAlgo (a stop-loss is SL, or
#: SL-M when its price is 0: :func:`openalgo_icici.broker.pricetype`).
PRICETYPES_BACK: Final = {"market": "MARKET", "limit": "LIMIT", "stoploss": "SL"}
SIDES_BACK: Final = {"buy": "BUY", "sell": "SELL"}
#: option type -> Breeze ``right``; a future is ``others``.
RIGHTS: Final = {"CE": "call", "PE": "put", "FUT": "others"}
RIGHTS_BACK: Final = {value: key for key, value in RIGHTS.items()}

#: Breeze ``product_type`` (lower-cased) in a book row -> OpenAlgo, on a cash exchange
#: and on a derivative one (OpenAlgo's mapping: ``Margin`` is intraday, ``Cash``, ``BTST``
#: and ``EATM`` delivery; ``Futures``/``Options`` carry forward, their "Plus" variants
#: intraday; ``MTF`` delivery).
PRODUCTS_BACK: Final = {
    "cash": "CNC", "btst": "CNC", "eatm": "CNC", "mtf": "CNC", "margin": "MIS",
    "futures": "NRML", "options": "NRML", "futureplus": "MIS", "optionplus": "MIS",
}

#: Breeze order ``status`` (lower-cased) -> OpenAlgo; a live stop-loss order is
#: "trigger pending" (Breeze shows it ``Ordered`` like any live order ⚠).
STATUSES: Final = {
    "requested": OrderStatus.OPEN, "queued": OrderStatus.OPEN, "ordered": OrderStatus.OPEN,
    "partially executed": OrderStatus.OPEN, "freezed": OrderStatus.OPEN,
    "executed": OrderStatus.COMPLETE, "rejected": OrderStatus.REJECTED,
    "cancelled": OrderStatus.CANCELLED, "expired": OrderStatus.CANCELLED,
    "partially executed and expired": OrderStatus.CANCELLED,
    "partially executed and cancelled": OrderStatus.CANCELLED,
}

#: Index names (as the core's ``index_symbol`` keys them) -> OpenAlgo's symbol, beyond the
#: core's aliases: ⚠ ICICI's spellings are known for ``NIFTY 50`` and ``NIFTY BANK`` only
#: (a third party's FONSE sample); the others are OpenAlgo's readings.
INDEX_ALIASES: Final = {**CORE_INDEX_ALIASES, "NIFTYMIDCAP": "MIDCPNIFTY"}

#: A protected market order (breeze-connect 1.0.69 ``get_aggressive_limit_price``): per
#: Breeze product family, (percent of the last price, least distance in rupees).
MARKET_PROTECTION: Final = {"cash": (Decimal(3), Decimal("0.05")),
                            "futures": (Decimal("1.5"), Decimal("0.05")),
                            "options": (Decimal(10), Decimal(5))}


def product_code(product: str, instrument_type: str) -> str:
    """The Breeze ``product`` of an OpenAlgo product on an instrument: cash CNC ``cash``,
    MIS ``margin`` (⚠ ICICI prohibits Margin orders through Breeze since 2026: the broker
    may refuse them); a future ``futures``, an option ``options`` (NRML and MIS alike:
    ``futureplus``/``optionplus`` need a stop the order model lacks)."""
    if instrument_type == "FUT":
        return "futures"
    if instrument_type in ("CE", "PE"):
        return "options"
    return "margin" if product == "MIS" else "cash"
