"""Every request and reply example of the INDstocks API docs (api-docs.indstocks.com, as
read in brokers/indmoney section 3 and the docs' plain-text export), kept verbatim as
test data. INDstocks has no official SDK: these examples are the judge of the simulator's
and the plugin's fidelity (``test_docs_replay.py``).

Each request is ``(method, path, query, body)``; each reply the JSON the docs show.
"""

from __future__ import annotations

from typing import Any, Final

# -- Users: token generation, profile, funds ----------------------------------------------
GENERATE_TOKEN_REQUEST: Final = ("POST", "/generate/token", {},
                                 {"mpin": "YOUR_MPIN", "totp": "123456"})
#: the notes' recommended reply (the docs name the field ``token``, not the envelope)
GENERATE_TOKEN_REPLY: Final = {"status": "success", "data": {"token": "<jwt>"}}

PROFILE_REQUEST: Final = ("GET", "/user/profile", {}, None)
PROFILE_REPLY: Final = {
    "status": "success",
    "data": {
        "user_id": "1234567", "email": "john.doe@example.com", "first_name": "John",
        "last_name": "Doe", "demat_id": "", "is_nse_onboarded": True, "is_bse_onboarded": True,
        "is_nse_fno_onboarded": True, "is_bse_fno_onboarded": True, "ucc": "1ABCDE2N7X",
        "is_ddpi_active": True,
    },
}

FUNDS_REQUEST: Final = ("GET", "/funds", {}, None)
FUNDS_REPLY: Final = {
    "status": "success",
    "data": {
        "sod_balance": 4996.47, "pledge_received": 0, "pledge_remained": 0,
        "detailed_avl_balance": {
            "option_sell": 2980.40, "future": 2980.40, "option_buy": 4449.65,
            "comm_option_buy": 2980.40, "eq_mis": 2980.40, "eq_cnc": 2980.40, "eq_mtf": 2980.40,
        },
        "withdrawal_balance": 2983.47, "funds_added": 0, "funds_withdrawn": 0,
        "realized_pnl": -751.92, "unrealized_pnl": 62.15, "brokerage": 0, "eq_charges": 0,
        "fno_charges": 0,
    },
}

# -- Instruments --------------------------------------------------------------------------
INSTRUMENTS_REQUEST: Final = ("GET", "/market/instruments", {"source": "fno"}, None)
INDEX_FILE: Final = ("EXCH,SEGMENT,SECURITY_ID\n"
                     "NSE,NIFTY 50,40000001\n"
                     "NSE,NIFTY IT,40000004\n"
                     "BSE,BSE Focused IT,40000129\n")

# -- Market quotes ------------------------------------------------------------------------
FULL_QUOTE_REQUEST: Final = ("GET", "/market/quotes/full", {"scrip-codes": "NSE_3045"}, None)
FULL_QUOTE_REPLY: Final = {
    "status": "success",
    "data": {"NSE_3045": {
        "live_price": 788.8, "day_change": -3.5, "day_change_percentage": -0.44,
        "day_low": 788.35, "day_high": 795.5, "day_open": 792.5, "prev_close": 792.3,
        "52week_high": 899, "52week_low": 680, "upper_circuit": 871.5, "lower_circuit": 713.1,
        "market_depth": {}, "volume": 3546732,
    }},
}
LTP_REQUEST: Final = ("GET", "/market/quotes/ltp", {"scrip-codes": "NSE_3045"}, None)
LTP_REPLY: Final = {"status": "success", "data": {"NSE_3045": {"live_price": 792.5}}}

# -- Orders -------------------------------------------------------------------------------
PLACE_ORDER_REQUEST: Final = ("POST", "/order", {}, {
    "txn_type": "BUY", "exchange": "BSE", "segment": "EQUITY", "product": "CNC",
    "order_type": "LIMIT", "limit_price": 850, "validity": "DAY", "security_id": "500112",
    "qty": 1, "is_amo": False, "algo_id": "99999", "remarks": "momentum-v2/sig-4471",
})
PLACE_ORDER_REPLY: Final = {"status": "success",
                            "data": {"order_id": "EQ-93586788", "order_status": "INITIATED"}}
#: OpenAlgo's NSE limit buy (brokers/indmoney 3.3): what the plugin sends, but ``remarks``
OPENALGO_LIMIT_BODY: Final = {
    "txn_type": "BUY", "exchange": "NSE", "segment": "EQUITY", "product": "CNC",
    "order_type": "LIMIT", "validity": "DAY", "security_id": "2885", "qty": 1,
    "is_amo": False, "algo_id": "99999", "limit_price": 2450.0,
}
RMS_REJECTION_REPLY: Final = {"status": "error",
                              "message": "RMS: Margin exceeds available balance by 1520.35",
                              "error_type": "OrderException"}
#: the legacy failure OpenAlgo reads as "probably placed" (here: status unknown)
LEGACY_FAILURE_REPLY: Final = {"status": "failure",
                               "error": {"msg": "no order number in rs response"}}

MODIFY_ORDER_REQUEST: Final = ("POST", "/order/modify", {}, {
    "segment": "DERIVATIVE", "limit_price": 73, "qty": 75, "order_id": "DRV-2049"})
MODIFY_ORDER_REPLY: Final = {"status": "success",
                             "data": {"order_id": "DRV-2049", "order_status": "MODIFIED"}}
CANCEL_ORDER_REQUEST: Final = ("POST", "/order/cancel", {}, {
    "segment": "DERIVATIVE", "order_id": "DRV-2049"})
CANCEL_ORDER_REPLY: Final = {"status": "success",
                             "data": {"order_id": "DRV-2049", "order_status": "CANCELLED"}}

ORDER_BOOK_REQUEST: Final = ("GET", "/order-book", {}, None)
ORDER_BOOK_REPLY: Final = {
    "status": "success",
    "data": [
        {"created_at": "2025-07-02T15:47:07.079035+05:30",
         "updated_at": "2025-07-02T17:43:02.635379+05:30", "user_id": "710354",
         "security_id": "58757", "isin": "", "name": "NIFTY 3 JUL 27400 CE",
         "id": "GTT-2914581", "exch_order_id": "", "txn_type": "SELL", "exchange": "NSE",
         "segment": "DERIVATIVE", "product": "MARGIN", "order_type": "OCO", "validity": "",
         "mkt_type": "NL", "off_mkt_flag": "", "traded_qty": 0, "requested_qty": 75,
         "requested_price": "", "traded_price": "", "sl_trigger_price": "0.3",
         "sl_limit_price": "0.2", "tgt_trigger_price": "0.75", "tgt_limit_price": "",
         "status": "CANCELLED", "extra_info": "", "remarks": "momentum-v2/sig-4471"},
        {"created_at": "2025-07-02T09:18:40.446948+05:30",
         "updated_at": "2025-07-02T09:18:40.498595+05:30", "user_id": "710354",
         "security_id": "56998", "isin": "", "name": "NIFTY 3 JUL 25700 CE",
         "id": "DRV-28131451", "exch_order_id": "1300000002340881", "txn_type": "BUY",
         "exchange": "NSE", "segment": "DERIVATIVE", "product": "MARGIN",
         "order_type": "MARKET", "validity": "DAY", "mkt_type": "NL", "off_mkt_flag": "false",
         "traded_qty": 75, "requested_qty": 75, "requested_price": "43.55",
         "traded_price": "43.55", "sl_trigger_price": "", "sl_limit_price": "",
         "tgt_trigger_price": "", "tgt_limit_price": "", "status": "SUCCESS",
         "extra_info": ""},
        {"created_at": "2025-07-02T17:59:57.799576+05:30",
         "updated_at": "2025-07-02T18:05:03.660538+05:30", "user_id": "710354",
         "security_id": "56888", "isin": "", "name": "NIFTY 03 Jul ₹25550 Call",
         "id": "DRV-28209665", "exch_order_id": "", "txn_type": "BUY", "exchange": "NSE",
         "segment": "DERIVATIVE", "product": "MARGIN", "order_type": "LIMIT",
         "validity": "DAY", "mkt_type": "NL", "off_mkt_flag": "true", "traded_qty": 0,
         "requested_qty": 225, "requested_price": "32.1", "traded_price": "",
         "sl_trigger_price": "", "sl_limit_price": "", "tgt_trigger_price": "",
         "tgt_limit_price": "", "status": "O-PENDING", "extra_info": ""},
    ],
}
ORDER_DETAILS_REQUEST: Final = ("GET", "/order", {}, {"order_id": "DRV-27373858",
                                                      "segment": "DERIVATIVE"})
ORDER_DETAILS_REPLY: Final = {"status": "success", "data": {
    **ORDER_BOOK_REPLY["data"][1], "remarks": "momentum-v2/sig-4471"}}  # type: ignore[index]

ORDER_TRADES_REQUEST: Final = ("GET", "/order/trades", {}, {"order_id": "DRV-85322703",
                                                            "segment": "DERIVATIVE"})
ORDER_TRADES_REPLY: Final = {"status": "success", "data": [
    {"fill_id": 1279916, "exch_order_id": "1100000017281712", "quantity": 65, "price": 77.8,
     "trade_date": "2026-07-20T09:31:20+05:30"}]}

TRADE_BOOK_REQUEST: Final = ("GET", "/trade-book", {"segment": "DERIVATIVE"}, None)
TRADE_BOOK_EQUITY_REQUEST: Final = ("GET", "/trade-book", {"segment": "EQUITY"}, None)
TRADE_BOOK_REPLY: Final = {"status": "success", "data": [
    {"fill_id": 1020280, "exch_order_id": "2400000124991381", "quantity": 2425, "price": 1.55,
     "trade_date": "2025-11-11T17:48:23+05:30", "trade_serial_no": "17628437030186581215",
     "scrip_code": "99133", "remarks": "momentum-v2/sig-4471"},
    {"fill_id": 1022519, "exch_order_id": "2400000124697541", "quantity": 2425, "price": 0.55,
     "trade_date": "2025-11-11T17:49:17+05:30", "trade_serial_no": "17628437564178181815",
     "scrip_code": "80958"}]}

# -- Smart orders -------------------------------------------------------------------------
SMART_LIMIT_REQUEST: Final = ("POST", "/smart/order", {}, {
    "txn_type": "BUY", "exchange": "NSE", "segment": "DERIVATIVE", "product": "MARGIN",
    "order_type": "LIMIT", "validity": "DAY", "security_id": "51011", "qty": 75,
    "limit_price": 37, "sl_trigger_price": 34, "tgt_trigger_price": 41, "sl_limit_price": 33,
    "tgt_limit_price": 38, "algo_id": "99999", "remarks": "momentum-v2/sig-4471"})
SMART_TRIGGER_MARKET_REQUEST: Final = ("POST", "/smart/order", {}, {
    "txn_type": "BUY", "exchange": "NSE", "segment": "EQUITY", "product": "CNC",
    "order_type": "TRIGGER", "validity": "DAY", "security_id": "3045", "qty": 10,
    "trigger_price": 1520.00, "algo_id": "99999"})
SMART_TRIGGER_LIMIT_REQUEST: Final = ("POST", "/smart/order", {}, {
    "txn_type": "BUY", "exchange": "NSE", "segment": "DERIVATIVE", "product": "MARGIN",
    "order_type": "TRIGGER", "validity": "DAY", "security_id": "51011", "qty": 75,
    "trigger_price": 38.50, "trigger_limit_price": 38.75, "algo_id": "99999"})
SMART_TRIGGER_LEGS_REQUEST: Final = ("POST", "/smart/order", {}, {
    "txn_type": "BUY", "exchange": "NSE", "segment": "DERIVATIVE", "product": "MARGIN",
    "order_type": "TRIGGER", "validity": "DAY", "security_id": "46997", "qty": 65,
    "trigger_price": 318.75, "trigger_limit_price": 319, "sl_trigger_price": 316.65,
    "sl_limit_price": 316.40, "tgt_trigger_price": 328.65, "tgt_limit_price": 328.90,
    "algo_id": "99999"})
SMART_TSL_REQUEST: Final = ("POST", "/smart/order", {}, {
    "txn_type": "BUY", "exchange": "NSE", "segment": "EQUITY", "product": "CNC",
    "order_type": "LIMIT", "validity": "DAY", "security_id": "2885", "qty": 1,
    "limit_price": 1400.05, "sl_trigger_price": 1375.00, "sl_limit_price": 1374.50,
    "is_tsl": True, "tsl_step_size": 0.05, "algo_id": "99999"})
SMART_ORDER_REPLY: Final = {"status": "success", "data": {"order_data": [
    {"order_id": "DRV-28131451", "order_status": "CREATED",
     "child_order_details": {"order_id": "GTT-2914581", "order_status": "CREATED"}}]}}
SMART_MODIFY_LIMIT_REQUEST: Final = ("POST", "/smart/order/modify", {}, {
    "order_id": "DRV-123", "segment": "DERIVATIVE", "algo_id": "99999", "order_type": "LIMIT",
    "qty": 20, "limit_price": 0.35, "sl_trigger_price": 0.15, "tgt_trigger_price": 41,
    "sl_limit_price": 0.1, "tgt_limit_price": 42})
SMART_MODIFY_TRIGGER_REQUEST: Final = ("POST", "/smart/order/modify", {}, {
    "order_id": "EQ-456", "segment": "EQUITY", "algo_id": "99999", "order_type": "TRIGGER",
    "qty": 10, "trigger_price": 1530.00, "trigger_limit_price": 1532.00})
SMART_CANCEL_REQUEST: Final = ("POST", "/smart/order/cancel", {}, {
    "segment": "DERIVATIVE", "order_id": "123456789"})

# -- Margin -------------------------------------------------------------------------------
MARGIN_REQUEST: Final = ("GET", "/margin", {}, {
    "segment": "DERIVATIVE", "txnType": "BUY", "quantity": "75", "price": "10",
    "product": "MARGIN", "securityID": "40131", "exchange": "NSE"})
MARGIN_REPLY: Final = {"status": "success", "data": {
    "total_margin": 750, "span_margin": 0, "hedge_benefit": 0, "exposure_margin": 0,
    "available_balance": 0, "var_margin": 0, "insufficient_balance": 0, "delivery_margin": 0,
    "brokerage": 0, "charges": {"stt": 0, "exchange_charges": 0, "stamp_duty": 0,
                                "sebi_turn_over_charges": 0, "brokerage": 10, "gst": 1.8,
                                "IPFTCharges": 0, "total_charges": 11.8}}}

# -- Portfolio ----------------------------------------------------------------------------
HOLDINGS_REQUEST: Final = ("GET", "/portfolio/holdings", {}, None)
HOLDINGS_REPLY: Final = {"status": "success", "data": [
    {"security_id": "18520", "symbol": "CUPID", "isin": "INE509F01029", "total_qty": 1,
     "used_qty": 0, "avg_price": 217.3, "t1_qty": 1, "t1_avg_price": 217.3, "dp_qty": 0,
     "dp_avg_price": 0}]}

POSITIONS_DERIVATIVE_REQUEST: Final = ("GET", "/portfolio/positions",
                                       {"segment": "derivative", "product": "margin"}, None)
POSITIONS_EQUITY_REQUEST: Final = ("GET", "/portfolio/positions",
                                   {"segment": "equity", "product": "cnc"}, None)
POSITIONS_DERIVATIVE_REPLY: Final = {"status": "success", "data": [
    {"position_id": "535654528", "security_id": "823580", "symbol": "SENSEX",
     "segment": "DERIVATIVE", "product": "MARGIN", "exchange": "", "drv_instrument": "OPTIDX",
     "drv_expiry_date": "07/16/2026 14:00", "drv_option_type": "CE",
     "drv_strike_price": 82000, "net_qty": 0, "avg_price": 1.2, "buy_qty": 20,
     "buy_avg": 1.25, "sell_qty": 20, "sell_avg": 1.2, "realized_profit": -1.0,
     "day_buy_qty": None, "day_buy_val": None, "day_sell_qty": None, "day_sell_val": None,
     "cf_buy_qty": None, "cf_buy_val": None, "cf_sell_qty": None, "cf_sell_val": None}]}
POSITIONS_EQUITY_REPLY: Final = {"status": "success", "data": [
    {"position_id": "86016462", "security_id": "1521", "symbol": "INDIAGLYCO",
     "segment": "EQUITY", "product": "INTRADAY", "exchange": "NSE", "isin": "INE560A01023",
     "drv_instrument": "", "net_qty": 0, "avg_price": 1146.85, "buy_qty": 1, "buy_avg": 1149.4,
     "sell_qty": 1, "sell_avg": 1146.85, "realized_profit": -2.55, "day_buy_qty": 1,
     "day_buy_val": 1149.4, "day_sell_qty": 1, "day_sell_val": 1146.85, "cf_buy_qty": None,
     "cf_buy_val": None, "cf_sell_qty": None, "cf_sell_val": None}]}

# -- Errors -------------------------------------------------------------------------------
TOKEN_EXCEPTION_REPLY: Final = {"status": "error",
                                "message": "A human-readable error message providing"
                                           " details about the error.",
                                "error_type": "TokenException"}
INSTRUMENTS_ERROR_REPLY: Final = {"message": "...", "success": False}
OPTION_CHAIN_BAD_REQUEST: Final = {"message": "Bad Request", "debug_info": "..."}
OPTION_CHAIN_RATE_LIMIT: Final = {"error": "Rate limit exceeded", "success": False}

#: Every request example the simulator must answer, with the reply example whose shape
#: its answer must have (None: the docs show no reply).
REQUESTS: Final[list[tuple[tuple[str, str, dict[str, str], Any], Any]]] = [
    (PROFILE_REQUEST, PROFILE_REPLY),
    (FUNDS_REQUEST, FUNDS_REPLY),
    (LTP_REQUEST, LTP_REPLY),
    (FULL_QUOTE_REQUEST, FULL_QUOTE_REPLY),
    (ORDER_BOOK_REQUEST, ORDER_BOOK_REPLY),
    (TRADE_BOOK_REQUEST, TRADE_BOOK_REPLY),
    (TRADE_BOOK_EQUITY_REQUEST, TRADE_BOOK_REPLY),
    (HOLDINGS_REQUEST, HOLDINGS_REPLY),
    (POSITIONS_DERIVATIVE_REQUEST, POSITIONS_DERIVATIVE_REPLY),
    (POSITIONS_EQUITY_REQUEST, POSITIONS_EQUITY_REPLY),
    (MARGIN_REQUEST, MARGIN_REPLY),
]

#: The instruments the docs' replies name, as an INDstocks instrument file would list them
#: (test data: the docs give their ids, the rest is filled in), for reading those replies
#: through the plugin.
DOCS_MASTER: Final = {
    "equity": (
        "EXCH,SEGMENT,SECURITY_ID,INSTRUMENT_NAME,EXPIRY_CODE,TRADING_SYMBOL,LOT_UNITS,"
        "CUSTOM_SYMBOL,EXPIRY_DATE,STRIKE_PRICE,OPTION_TYPE,TICK_SIZE,EXPIRY_FLAG,"
        "SEM_EXCH_INSTRUMENT_TYPE,SERIES,SYMBOL_NAME\n"
        "NSE,E,1521,EQUITY,0,INDIAGLYCO,1,India Glycols,,,,0.05,,EQUITY,EQ,INDIAGLYCO\n"
        "NSE,E,18520,EQUITY,0,CUPID,1,Cupid,,,,0.01,,EQUITY,EQ,CUPID\n"
        "NSE,E,3045,EQUITY,0,SBIN,1,State Bank of India,,,,0.05,,EQUITY,EQ,SBIN\n"
        "NSE,E,2885,EQUITY,0,RELIANCE,1,Reliance Industries,,,,0.05,,EQUITY,EQ,RELIANCE\n"
        "BSE,E,500112,EQUITY,0,SBIN,1,State Bank of India,,,,0.05,,EQUITY,A,SBIN\n"),
    "fno": (
        "EXCH,SEGMENT,SECURITY_ID,INSTRUMENT_NAME,EXPIRY_CODE,TRADING_SYMBOL,LOT_UNITS,"
        "CUSTOM_SYMBOL,EXPIRY_DATE,STRIKE_PRICE,OPTION_TYPE,TICK_SIZE,EXPIRY_FLAG,"
        "SEM_EXCH_INSTRUMENT_TYPE,SERIES,SYMBOL_NAME\n"
        "NSE,D,56998,OPTIDX,1,NIFTY-Jul2025-25700-CE,75,NIFTY 3 JUL 25700 CE,2025-07-03,"
        "25700.00,CE,0.05,W,OPTIDX,,NIFTY-Jul2025-25700-CE\n"
        "NSE,D,58757,OPTIDX,1,NIFTY-Jul2025-27400-CE,75,NIFTY 3 JUL 27400 CE,2025-07-03,"
        "27400.00,CE,0.05,W,OPTIDX,,NIFTY-Jul2025-27400-CE\n"
        "BSE,D,823580,OPTIDX,1,SENSEX-Jul2026-82000-CE,20,SENSEX 16 JUL 82000 CE,2026-07-16,"
        "82000.00,CE,0.05,W,OPTIDX,,SENSEX-Jul2026-82000-CE\n"),
    "index": "EXCH,SEGMENT,SECURITY_ID\nNSE,NIFTY 50,40000001\n",
}
