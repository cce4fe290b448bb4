"""Every OpenAlgo <-> INDstocks translation table, and the uncertain facts as settings.

Orders go out through :data:`SEGMENTS`, :data:`PRODUCTS`, :data:`ALGO_IDS`; rows come
back through :data:`EXCHANGES_BACK`, :data:`PRODUCTS_BACK`, :data:`STATUSES` and
:data:`ORDER_TYPES_BACK`; instrument files are read with :data:`FILE_SEGMENTS`,
:data:`INSTRUMENT_KINDS` and :data:`EXPIRY_LAYOUTS`. Values marked ⚠ are inferred, not
documented (see the README's "Uncertain facts"): each is a module constant, so a
deployment can set it. Sources: brokers/indmoney section 3 (the INDstocks API docs and
OpenAlgo's adapter).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

#: OpenAlgo exchange -> (INDstocks ``exchange``, ``segment``) of an order: F&O goes to
#: its parent exchange with segment DERIVATIVE.
SEGMENTS: Final = {"NSE": ("NSE", "EQUITY"), "BSE": ("BSE", "EQUITY"),
                   "NFO": ("NSE", "DERIVATIVE"), "BFO": ("BSE", "DERIVATIVE")}

#: OpenAlgo exchange -> the segment prefix of INDstocks' scrip codes (``NSE_2885``,
#: ``NFO_51011``): what this plugin keeps as an instrument's ``broker_exchange``, so a
#: security id is looked up in its own segment (cash and F&O ids are separate series).
SCRIP_SEGMENTS: Final = {"NSE": "NSE", "BSE": "BSE", "NFO": "NFO", "BFO": "BFO",
                         "NSE_INDEX": "NIDX", "BSE_INDEX": "BIDX"}  # ⚠ index prefixes

#: (``exchange``, ``segment``) of a row -> OpenAlgo exchange; the legacy single codes too.
EXCHANGES_BACK: Final = {
    ("NSE", "EQUITY"): "NSE", ("BSE", "EQUITY"): "BSE",
    ("NSE", "DERIVATIVE"): "NFO", ("BSE", "DERIVATIVE"): "BFO",
    ("NSE_EQ", ""): "NSE", ("BSE_EQ", ""): "BSE", ("NSE_FNO", ""): "NFO",
    ("NSE_FO", ""): "NFO", ("BSE_FNO", ""): "BFO", ("BSE_FO", ""): "BFO",
}

#: The exchanges a derivative row with an empty ``exchange`` may be on (the SENSEX
#: option in the docs' sample): its security id is looked up in each, in turn.
DERIVATIVE_EXCHANGES: Final = ("NFO", "BFO")

#: OpenAlgo product -> INDstocks ``product``.
PRODUCTS: Final = {"CNC": "CNC", "MIS": "INTRADAY", "NRML": "MARGIN"}
#: INDstocks ``product`` -> OpenAlgo product (⚠ MTF, the margin-trading facility, an
#: app-placed order may carry: a delivery product, CNC).
PRODUCTS_BACK: Final = {"CNC": "CNC", "INTRADAY": "MIS", "MARGIN": "NRML", "MTF": "CNC"}
#: The products INDstocks takes on each segment (smart-order docs: equity CNC and
#: INTRADAY, derivative MARGIN and INTRADAY): anything else is refused before sending.
SEGMENT_PRODUCTS: Final = {"EQUITY": frozenset({"CNC", "MIS"}),
                           "DERIVATIVE": frozenset({"NRML", "MIS"})}

#: ``algo_id`` by INDstocks exchange (mandatory on every order).
ALGO_IDS: Final = {"NSE": "99999", "BSE": "9999999999999999"}

#: The exchanges smart orders (``/smart/order``: the only way to a stop) are taken on.
SMART_EXCHANGES: Final = frozenset({"NSE"})

#: ``remarks`` values INDstocks reserves for its own channels (refused, case and
#: surrounding spaces ignored): the core's tag travels in ``remarks``.
RESERVED_REMARKS: Final = frozenset({"TV-TERMINAL"})

#: ⚠ SL-M has no market-on-trigger at INDstocks: it is sent as a trigger-limit order whose
#: limit is this fraction beyond the trigger (above for a BUY, below for a SELL), on the
#: tick and at least one tick away: a protective price that fills like a market order
#: unless the price runs away.
SLM_PROTECTION: Final = Decimal("0.005")

#: The four position queries (lower-case, as the positions endpoint wants them): equity
#: delivery and intraday, derivative carry-forward and intraday.
POSITION_QUERIES: Final = (("equity", "cnc"), ("equity", "intraday"),
                           ("derivative", "margin"), ("derivative", "intraday"))

#: The trade book is read per segment.
TRADE_SEGMENTS: Final = ("EQUITY", "DERIVATIVE")

#: INDstocks order statuses -> OpenAlgo's vocabulary. Transient states are orders still
#: live (open); ABORTED and FAILED are rejections; EXPIRED is ⚠ read as cancelled (the
#: exchange ended it; nothing filled beyond ``traded_qty``).
STATUSES: Final = {
    "QUEUED": "open", "O-PENDING": "open", "PROCESSING": "open", "INITIATED": "open",
    "MODIFIED": "open", "PENDING": "open", "PARTIALLY FILLED": "open", "CREATED": "open",
    "SL-PENDING": "trigger pending",
    "SUCCESS": "complete",
    "CANCELLED": "cancelled", "PARTIALLY FILLED - CANCELLED": "cancelled",
    "EXPIRED": "cancelled", "PARTIALLY FILLED - EXPIRED": "cancelled",
    "ABORTED": "rejected", "FAILED": "rejected",
}

#: ``order_type`` of a book row -> OpenAlgo pricetype. A stop placed as a smart TRIGGER
#: order comes back as ``GTT_LIMIT`` (⚠ OpenAlgo, observed live); every smart type (a
#: GTT leg, an OCO pair) is a stop: SL with its trigger and limit. An SL-M was sent as a
#: trigger-limit with a protective limit, so it reads back as SL.
ORDER_TYPES_BACK: Final = {"MARKET": "MARKET", "LIMIT": "LIMIT"}
#: Row ``order_type`` values (or prefixes) of smart orders: modified and cancelled
#: through ``/smart/order/...``.
SMART_TYPES: Final = ("TRIGGER", "GTT", "OCO")

#: Instrument file rows: (``EXCH``, ``SEGMENT``) -> OpenAlgo exchange (``D`` and ``FNO``
#: both mean F&O).
FILE_SEGMENTS: Final = {("NSE", "E"): "NSE", ("BSE", "E"): "BSE",
                        ("NSE", "D"): "NFO", ("BSE", "D"): "BFO",
                        ("NSE", "FNO"): "NFO", ("BSE", "FNO"): "BFO"}
#: The index file's ``EXCH`` -> OpenAlgo index exchange.
INDEX_FILES: Final = {"NSE": "NSE_INDEX", "BSE": "BSE_INDEX"}
#: ``INSTRUMENT_NAME`` -> kind. Others (currency, commodity, bonds) are not offered and
#: are dropped; a blank or ``NaN`` one makes the row unreadable (skipped and counted).
INSTRUMENT_KINDS: Final = {
    "EQUITY": "EQ", "FUTIDX": "FUT", "FUTSTK": "FUT", "OPTIDX": "OPT", "OPTSTK": "OPT",
}
#: ⚠ ``EXPIRY_DATE`` layouts, tried in turn (the docs give no example; positions write
#: ``07/16/2026 14:00``). Only unambiguous layouts: day-first ``DD/MM`` is not listed.
EXPIRY_LAYOUTS: Final = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d-%b-%Y",
                         "%d-%b-%y", "%d%b%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y")
#: ⚠ A tick size for rows whose ``TICK_SIZE`` cell is blank or ``NaN`` (OpenAlgo takes
#: 0.05). None: such a row is skipped and counted, so no order is checked against a
#: guessed tick.
DEFAULT_TICK: Decimal | None = None
#: ⚠ ``TICK_SIZE`` is in rupees (OpenAlgo reads it so): what a cell is divided by.
TICK_SCALE: Final = Decimal(1)
#: Cash series preferred when one symbol is listed in several (the ``EQ`` row wins).
PREFERRED_SERIES: Final = "EQ"
#: ⚠ Is the available balance (``detailed_avl_balance.eq_cnc``) net of the day's
#: realised P&L? True: margin used = start-of-day balance + realised - available.
AVAILABLE_INCLUDES_REALISED: bool = True
#: ⚠ The holding quantity: ``total_qty`` (settled in the demat account plus T1, bought and
#: paid for); ``dp_qty`` would leave out the T1 shares.
HOLDING_QUANTITY: str = "total_qty"
#: Scrip codes per quotes request (the docs' limit).
QUOTES_PER_CALL: Final = 1000
