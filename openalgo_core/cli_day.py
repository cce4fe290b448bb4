"""The CLI for the rest of a trader's day: books, cancel, modify, funds, the journal.

``openalgo orders|trades|funds|holdings BROKER``, ``openalgo status BROKER ID``,
``openalgo cancel BROKER ID|--all``, ``openalgo modify BROKER ID [--price ...]``,
``openalgo journal [BROKER] [--unresolved]`` and ``openalgo reconcile [BROKER]``. Every
command takes ``--json``; tables print OpenAlgo's field names, numbers as
:func:`openalgo_core._format.number` does, P&L and values totalled.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any, TextIO

from pydantic import BaseModel

from ._format import print_json, table
from .gateway import Gateway
from .journal import Entry
from .models import IST, Order, OrderReceipt

__all__ = ["add_day_commands"]


def _rows(models: Sequence[BaseModel], fields: Sequence[str], out: TextIO, *, json_out: bool,
          empty: str, totals: Sequence[str] = ()) -> int:
    if json_out:
        print_json([m.model_dump(exclude={"raw"}) for m in models], out)
    elif not models:
        out.write(f"({empty})\n")
    else:
        out.write(table([[_cell(getattr(m, f)) for f in fields] for m in models], fields,
                        totals=totals) + "\n")
    return 0


def _cell(value: Any) -> Any:
    if hasattr(value, "astimezone"):
        return f"{value.astimezone(IST):%H:%M:%S}"
    if value is None:
        return "-"
    return getattr(value, "value", value)


ORDER_FIELDS = ("order_id", "symbol", "exchange", "action", "quantity", "pricetype", "product",
                "price", "trigger_price", "status", "filled_quantity", "average_price", "tag",
                "reason")


def cmd_orderbook(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    return _rows(gw.fetch_order_book(args.broker), ORDER_FIELDS, out, json_out=args.json,
                 empty="no orders today")


def cmd_status(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    order: Order = gw.fetch_order(args.broker, args.order_id)
    return _rows([order], ORDER_FIELDS, out, json_out=args.json, empty="")


def cmd_trades(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    return _rows(gw.fetch_trade_book(args.broker),
                 ("trade_id", "order_id", "symbol", "exchange", "action", "product", "quantity",
                  "average_price", "trade_value", "timestamp"),
                 out, json_out=args.json, empty="no trades today", totals=["trade_value"])


def cmd_funds(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    return _rows([gw.fetch_funds(args.broker)],
                 ("available_cash", "collateral", "used_margin", "realised_pnl",
                  "unrealised_pnl"), out, json_out=args.json, empty="")


def cmd_holdings(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    return _rows(gw.fetch_holdings(args.broker),
                 ("symbol", "exchange", "quantity", "average_price", "ltp", "pnl",
                  "pnl_percent"), out, json_out=args.json, empty="no holdings",
                 totals=["pnl"])


def _receipts(receipts: Sequence[OrderReceipt], out: TextIO, json_out: bool) -> int:
    if json_out:
        print_json([{"status": "success", "orderid": r.order_id} for r in receipts], out)
    else:
        out.write("".join(f"{r.order_id}\n" for r in receipts) or "(no open orders)\n")
    return 0


def cmd_cancel(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    if args.all == (args.order_id is not None):
        raise SystemExit("openalgo cancel: give one order id, or --all")
    receipts = gw.cancel_all_orders(args.broker) if args.all else [
        gw.cancel_order(args.broker, args.order_id)]
    return _receipts(receipts, out, args.json)


def cmd_modify(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    receipt = gw.modify_order(args.broker, args.order_id, quantity=args.quantity,
                              price=args.price, trigger_price=args.trigger_price,
                              pricetype=args.pricetype)
    return _receipts([receipt], out, args.json)


def _entry_row(entry: Entry) -> list[Any]:
    order = entry.order
    return [f"{entry.created_at.astimezone(IST):%H:%M:%S}", entry.broker, entry.tag,
            entry.state.value, entry.order_id or "-",
            f"{order.get('action')} {order.get('quantity')} {order.get('symbol')}"
            f" {order.get('exchange')}", entry.attempts, entry.reason or ""]


def _entries(entries: Sequence[Entry], out: TextIO, json_out: bool, empty: str) -> int:
    if json_out:
        print_json([{"tag": e.tag, "broker": e.broker, "state": e.state.value,
                "orderid": e.order_id, "reason": e.reason, "code": e.code,
                "attempts": e.attempts, "order": e.order, "created_at": e.created_at,
                "updated_at": e.updated_at} for e in entries], out)
    elif not entries:
        out.write(f"({empty})\n")
    else:
        out.write(table([_entry_row(e) for e in entries],
                        ["time", "broker", "tag", "state", "orderid", "order", "attempts",
                         "reason"]) + "\n")
    return 0


def cmd_journal(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    entries = gw.journal_entries(args.broker, unresolved=args.unresolved)
    return _entries(entries, out, args.json,
                    "nothing unresolved" if args.unresolved else "no orders journaled today")


def cmd_reconcile(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    left = gw.reconcile(args.broker)
    _entries(left, out, args.json, "every journaled order is settled")
    return 3 if left else 0


BROKER_HELP = "the broker's id, as openalgo brokers lists it (angel, kotak ...)"
JSON_HELP = "print JSON instead of a table"
PRICETYPES = ["MARKET", "LIMIT", "SL", "SL-M"]


def add_day_commands(sub: Any) -> None:
    """Add the day's commands to the ``openalgo`` sub-parsers ``sub``."""
    for name, aliases, run, text in (
            ("orders", ["orderbook"], cmd_orderbook, "show every order of the day"),
            ("trades", [], cmd_trades, "show the day's fills, their value totalled"),
            ("funds", [], cmd_funds, "show available cash, margin used and P&L"),
            ("holdings", [], cmd_holdings, "show the long-term holdings, their P&L totalled")):
        p = sub.add_parser(name, aliases=aliases, help=text, description=text)
        p.add_argument("broker", help=BROKER_HELP)
        p.add_argument("--json", action="store_true", help=JSON_HELP)
        p.set_defaults(run=run)

    p = sub.add_parser("status", help="show one order", description="show one order")
    p.add_argument("broker", help=BROKER_HELP)
    p.add_argument("order_id", help="the broker's order id")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(run=cmd_status)

    text = "cancel an open order (or --all of them)"
    p = sub.add_parser("cancel", help=text, description=text)
    p.add_argument("broker", help=BROKER_HELP)
    p.add_argument("order_id", nargs="?", help="the broker's order id")
    p.add_argument("--all", action="store_true", help="cancel every open order")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(run=cmd_cancel)

    text = "change an open order (what is not given stays)"
    p = sub.add_parser("modify", help=text, description=text)
    p.add_argument("broker", help=BROKER_HELP)
    p.add_argument("order_id", help="the broker's order id")
    p.add_argument("--quantity", default=None, help="the new quantity (units)")
    p.add_argument("--price", default=None, help="the new limit price")
    p.add_argument("--trigger-price", default=None, help="the new stop trigger price")
    p.add_argument("--pricetype", default=None, type=str.upper, choices=PRICETYPES,
                   help="the new order type")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(run=cmd_modify)

    text = "today's journaled orders: tags, ids, outcomes"
    p = sub.add_parser("journal", help=text, description=text)
    p.add_argument("broker", nargs="?", help="only this broker's orders (default: every broker)")
    p.add_argument("--unresolved", action="store_true",
                   help="every order still sent or unknown, of any day")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(run=cmd_journal)

    text = "settle unresolved journaled orders from the order book (exit 3 if some stay unresolved)"
    p = sub.add_parser("reconcile", help=text, description=text)
    p.add_argument("broker", nargs="?", help="only this broker's orders (default: every broker)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(run=cmd_reconcile)
