"""Reading the account, in OpenAlgo's shapes: ping, positionbook, orderbook, tradebook,
orderstatus, openposition, funds, holdings.

Money is a JSON number rounded to 2 decimals (funds: strings with 2 decimals, as
OpenAlgo's), quantities whole numbers, times IST (``08-Apr-2025 13:58:03``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request

from ..codes import Action, OrderStatus
from ..models import IST, Funds, Holding, Order, Position, Trade
from .bodies import KeyBody, OpenPositionBody, OrderIdBody
from .errors import API_ERRORS

if TYPE_CHECKING:
    from ..gateway import Gateway
    from .app import Api

__all__ = ["funds_data", "holdings_data", "order_row", "orderbook_data", "position_row",
           "register", "trade_row"]


def num(value: Decimal) -> float:
    """Money as OpenAlgo answers it: a float rounded to 2 decimals."""
    return float(round(value, 2))


def _when(value: dt.datetime | None, fmt: str = "%d-%b-%Y %H:%M:%S") -> str:
    return value.astimezone(IST).strftime(fmt) if value is not None else ""


def position_row(p: Position) -> dict[str, Any]:
    return {"symbol": p.symbol, "exchange": p.exchange.value, "product": p.product.value,
            "quantity": p.quantity, "average_price": num(p.average_price),
            "ltp": num(p.ltp), "pnl": num(p.pnl)}


def order_row(o: Order) -> dict[str, Any]:
    return {"action": o.action.value, "symbol": o.symbol, "exchange": o.exchange.value,
            "orderid": o.order_id, "product": o.product.value, "quantity": o.quantity,
            "price": num(o.price), "pricetype": o.pricetype.value,
            "order_status": o.status.value, "trigger_price": num(o.trigger_price),
            "timestamp": _when(o.timestamp)}


def orderbook_data(orders: Iterable[Order]) -> dict[str, Any]:
    """``{"orders": [...], "statistics": {...}}`` with OpenAlgo's five counts."""
    rows = list(orders)

    def count(*statuses: OrderStatus) -> int:
        return sum(o.status in statuses for o in rows)

    return {"orders": [order_row(o) for o in rows], "statistics": {
        "total_buy_orders": sum(o.action is Action.BUY for o in rows),
        "total_sell_orders": sum(o.action is Action.SELL for o in rows),
        "total_completed_orders": count(OrderStatus.COMPLETE),
        "total_open_orders": count(OrderStatus.OPEN, OrderStatus.TRIGGER_PENDING),
        "total_rejected_orders": count(OrderStatus.REJECTED)}}


def trade_row(t: Trade) -> dict[str, Any]:
    return {"action": t.action.value, "symbol": t.symbol, "exchange": t.exchange.value,
            "orderid": t.order_id, "product": t.product.value, "quantity": t.quantity,
            "average_price": num(t.average_price), "timestamp": _when(t.timestamp, "%H:%M:%S"),
            "trade_value": num(t.trade_value)}


def funds_data(f: Funds) -> dict[str, str]:
    return {"availablecash": f"{f.available_cash:.2f}", "collateral": f"{f.collateral:.2f}",
            "m2mrealized": f"{f.realised_pnl:.2f}", "m2munrealized": f"{f.unrealised_pnl:.2f}",
            "utiliseddebits": f"{f.used_margin:.2f}"}


def holdings_data(holdings: Iterable[Holding]) -> dict[str, Any]:
    """``{"holdings": [...], "statistics": {...}}`` with OpenAlgo's four totals."""
    rows = list(holdings)
    value = sum((h.ltp * h.quantity for h in rows), Decimal(0))
    cost = sum((h.average_price * h.quantity for h in rows), Decimal(0))
    pnl = sum((h.pnl for h in rows), Decimal(0))
    return {"holdings": [{"symbol": h.symbol, "exchange": h.exchange.value,
                          "product": h.product.value, "quantity": h.quantity,
                          "pnl": num(h.pnl), "pnlpercent": num(h.pnl_percent)} for h in rows],
            "statistics": {"totalholdingvalue": num(value), "totalinvvalue": num(cost),
                           "totalprofitandloss": num(pnl),
                           "totalpnlpercentage": num(pnl * 100 / cost) if cost else 0.0}}


def _success(**fields: Any) -> dict[str, Any]:
    return {"status": "success", **fields}


def register(app: FastAPI, api: Api) -> None:
    gw = api.gateway
    route = app.post

    @route("/api/v1/ping", tags=["account"], responses=API_ERRORS)
    def ping(request: Request, body: KeyBody) -> dict[str, Any]:
        """The key is good and the broker installed: ``{"message": "pong", "broker"}``."""
        broker = api.broker(request, body)
        gw.info(broker)
        return _success(data={"message": "pong", "broker": broker})

    @route("/api/v1/orderstatus", tags=["account"], responses=API_ERRORS)
    def orderstatus(request: Request, body: OrderIdBody) -> dict[str, Any]:
        """One order as the book shows it now, with its average fill price (404: no such
        order)."""
        broker = api.broker(request, body)
        order = gw.fetch_order(broker, body.orderid)
        return _success(data={**order_row(order), "average_price": num(order.average_price)})

    @route("/api/v1/openposition", tags=["account"], responses=API_ERRORS)
    def openposition(request: Request, body: OpenPositionBody) -> dict[str, Any]:
        """The net quantity held in one symbol and product, as a string ("0": none)."""
        broker = api.broker(request, body)
        wanted = (body.symbol.strip().upper(), body.exchange, body.product)
        quantity = sum(p.quantity for p in gw.fetch_positions(broker)
                       if (p.symbol, p.exchange.value, p.product.value) == wanted)
        return _success(quantity=str(quantity))

    for name, doc, read in _READS:
        app.add_api_route(f"/api/v1/{name}", _reader(api, read), methods=["POST"],
                          tags=["account"], responses=API_ERRORS, name=name, description=doc)


Reader = Callable[["Gateway", str], Any]

#: the reads that take only the key: endpoint, what it answers, how to read it
_READS: tuple[tuple[str, str, Reader], ...] = (
    ("positionbook", "The day's positions (``quantity`` signed; 0: closed today).",
     lambda gw, b: [position_row(p) for p in gw.fetch_positions(b)]),
    ("orderbook", "Every order of the day, and counts by side and status.",
     lambda gw, b: orderbook_data(gw.fetch_order_book(b))),
    ("tradebook", "The day's fills (an order filled in parts has several).",
     lambda gw, b: [trade_row(t) for t in gw.fetch_trade_book(b)]),
    ("funds", "Cash free to trade, collateral, margin used, realised and unrealised P&L.",
     lambda gw, b: funds_data(gw.fetch_funds(b))),
    ("holdings", "Long-term holdings with P&L, and portfolio totals.",
     lambda gw, b: holdings_data(gw.fetch_holdings(b))),
)


def _reader(api: Api, read: Reader) -> Callable[[Request, KeyBody], dict[str, Any]]:
    def endpoint(request: Request, body: KeyBody) -> dict[str, Any]:
        return _success(data=read(api.gateway, api.broker(request, body)))
    return endpoint
