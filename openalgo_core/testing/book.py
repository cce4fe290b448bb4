"""A simulator's order book: orders as received, deterministic fills, positions from fills."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["OrderBook", "PositionRow", "SimOrder"]


@dataclass
class SimOrder:
    """One order as the simulated broker received it (``raw``: the request body)."""

    order_id: str
    exchange: str
    symbol: str
    token: str
    side: str
    quantity: int
    pricetype: str
    product: str
    price: Decimal
    trigger_price: Decimal
    disclosed_quantity: int = 0
    tag: str = ""
    status: str = "open"
    reason: str = ""
    filled: int = 0
    average_price: Decimal = Decimal(0)
    created_at: dt.datetime = field(default_factory=dt.datetime.now)
    raw: Any = None

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key, value in data.items():
            if isinstance(value, Decimal):
                data[key] = str(value)
            elif isinstance(value, dt.datetime):
                data[key] = value.isoformat()
        return data


@dataclass
class PositionRow:
    """A net position built from fills; ``ltp`` is the mark it is valued at."""

    exchange: str
    token: str
    symbol: str
    product: str
    ltp: Decimal
    buy_qty: int = 0
    buy_value: Decimal = Decimal(0)
    sell_qty: int = 0
    sell_value: Decimal = Decimal(0)

    @property
    def net(self) -> int:
        return self.buy_qty - self.sell_qty

    @property
    def buy_avg(self) -> Decimal:
        return self.buy_value / self.buy_qty if self.buy_qty else Decimal(0)

    @property
    def sell_avg(self) -> Decimal:
        return self.sell_value / self.sell_qty if self.sell_qty else Decimal(0)

    @property
    def average_price(self) -> Decimal:
        """Average of the open side (0 when flat)."""
        if self.net > 0:
            return self.buy_avg
        if self.net < 0:
            return self.sell_avg
        return Decimal(0)

    @property
    def realised(self) -> Decimal:
        closed = min(self.buy_qty, self.sell_qty)
        return ((self.sell_avg - self.buy_avg) * closed).quantize(Decimal("0.01"))

    @property
    def unrealised(self) -> Decimal:
        return ((self.ltp - self.average_price) * self.net).quantize(Decimal("0.01"))

    @property
    def pnl(self) -> Decimal:
        return self.realised + self.unrealised


class OrderBook:
    """Orders and fills. Market orders fill at once at the reference price; a
    marketable limit fills at that price; other limits rest; stops wait."""

    def __init__(self) -> None:
        self.orders: dict[str, SimOrder] = {}
        self._lock = threading.Lock()
        self._seq = 0

    def next_id(self, prefix: str = "") -> str:
        with self._lock:
            self._seq += 1
            return prefix + f"{dt.date.today():%y%m%d}{self._seq:09d}"

    def submit(self, order: SimOrder, price: Decimal, *,
               margin_limit: Decimal | None = None, margin_reason: str = "") -> SimOrder:
        """Book ``order`` against reference ``price``; may reject it for margin."""
        value = order.quantity * (order.price or price)
        if margin_limit is not None and value > margin_limit:
            order.status, order.reason = "rejected", margin_reason or "insufficient margin"
        elif order.pricetype == "MARKET" or (
                order.pricetype == "LIMIT" and (
                    (order.side == "BUY" and order.price >= price)
                    or (order.side == "SELL" and order.price <= price))):
            order.status, order.filled, order.average_price = "complete", order.quantity, price
        elif order.pricetype in ("SL", "SL-M"):
            order.status = "trigger pending"
        else:
            order.status = "open"
        with self._lock:
            self.orders[order.order_id] = order
        return order

    def reject(self, order: SimOrder, reason: str) -> SimOrder:
        """Book ``order`` as rejected (an RMS refusal after the broker accepted it)."""
        order.status, order.reason = "rejected", reason
        with self._lock:
            self.orders[order.order_id] = order
        return order

    def cancel(self, order_id: str) -> SimOrder | None:
        with self._lock:
            order = self.orders.get(order_id)
            if order is None or order.status not in ("open", "trigger pending"):
                return None
            order.status = "cancelled"
            return order

    def positions(self, mark: Mapping[str, Decimal]) -> list[PositionRow]:
        """Positions from complete orders, keyed by (exchange, token, product)."""
        rows: dict[tuple[str, str, str], PositionRow] = {}
        with self._lock:
            filled = [o for o in self.orders.values() if o.status == "complete"]
        for o in filled:
            key = (o.exchange, o.token, o.product)
            row = rows.get(key)
            if row is None:
                row = rows[key] = PositionRow(o.exchange, o.token, o.symbol, o.product,
                                              mark.get(o.token, o.average_price))
            if o.side == "BUY":
                row.buy_qty += o.filled
                row.buy_value += o.average_price * o.filled
            else:
                row.sell_qty += o.filled
                row.sell_value += o.average_price * o.filled
        return list(rows.values())
