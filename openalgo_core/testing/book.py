"""A simulator's market: orders as received, fills when the price crosses, a trade
book, positions from fills and the margin they block.

Matching, deterministic and in OpenAlgo's status vocabulary (``open``, ``complete``,
``cancelled``, ``rejected``, ``trigger pending``):

- an order arriving at the market (placed, modified, or a stop just triggered) fills
  at once at the market price when it is a MARKET or SL-M order or a marketable
  limit (BUY at or above the market, SELL at or below); other limits rest ``open``;
- stops (SL, SL-M) rest ``trigger pending`` and are checked only when the price
  moves (:meth:`OrderBook.match`): a BUY stop triggers at a price at or above its
  trigger, a SELL stop at or below; an SL then acts as a LIMIT at its price;
- a resting limit fills at its own limit price once the market reaches it;
- fills are whole: every fill is one :class:`SimTrade`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

__all__ = ["OrderBook", "PositionRow", "SimFunds", "SimHolding", "SimOrder", "SimRefusal",
           "SimTrade"]

#: order types that wait for a trigger
STOPS = frozenset({"SL", "SL-M"})
#: statuses of an order that may still fill, be modified or cancelled
LIVE = frozenset({"open", "trigger pending"})
_PAISE = Decimal("0.01")


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
    #: when it was last modified, triggered or filled (None: never since it was booked)
    updated_at: dt.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for key, value in data.items():
            if isinstance(value, Decimal):
                data[key] = str(value)
            elif isinstance(value, dt.datetime):
                data[key] = value.isoformat()
        return data


@dataclass(frozen=True)
class SimTrade:
    """One fill (the book fills orders whole, so one per complete order)."""

    trade_id: str
    order_id: str
    token: str
    symbol: str
    exchange: str
    side: str
    product: str
    quantity: int
    price: Decimal
    time: dt.datetime


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
        return ((self.sell_avg - self.buy_avg) * closed).quantize(_PAISE)

    @property
    def unrealised(self) -> Decimal:
        return ((self.ltp - self.average_price) * self.net).quantize(_PAISE)

    @property
    def pnl(self) -> Decimal:
        return self.realised + self.unrealised


@dataclass(frozen=True)
class SimFunds:
    """The account's money: ``available`` = ``cash`` + ``realised`` - ``used``; a new order
    may use ``available`` + ``collateral``; ``unrealised`` is reported, not lent against."""

    cash: Decimal
    available: Decimal
    collateral: Decimal
    used: Decimal
    realised: Decimal
    unrealised: Decimal


@dataclass(frozen=True)
class SimHolding:
    """A long-term holding valued at ``ltp``."""

    exchange: str
    token: str
    symbol: str
    quantity: int
    average_price: Decimal
    ltp: Decimal

    @property
    def pnl(self) -> Decimal:
        return ((self.ltp - self.average_price) * self.quantity).quantize(_PAISE)


class SimRefusal(Exception):
    """A cancel or modify the broker refuses: ``why`` is ``"unknown"`` (no such order),
    ``"not open"`` (complete, cancelled or rejected) or ``"margin"`` (a modify beyond
    the funds); ``order`` is the order as it stands (None when unknown); ``reason`` is
    the broker's text when it has one (a margin refusal)."""

    def __init__(self, why: Literal["unknown", "not open", "margin"], order_id: str,
                 order: SimOrder | None = None, reason: str = "") -> None:
        super().__init__(f"order {order_id}: {reason or why}")
        self.why, self.order_id, self.order, self.reason = why, order_id, order, reason


class OrderBook:
    """Orders, trades and positions, safe to share between threads (see the module
    docstring for how orders fill)."""

    def __init__(self) -> None:
        self.orders: dict[str, SimOrder] = {}
        self.trades: list[SimTrade] = []
        #: positions by (exchange, token, product); ``ltp`` holds the first fill's price
        self._rows: dict[tuple[str, str, str], PositionRow] = {}
        self._lock = threading.RLock()
        self._seq = 0

    def next_id(self, prefix: str = "") -> str:
        with self._lock:
            self._seq += 1
            return prefix + f"{dt.date.today():%y%m%d}{self._seq:09d}"

    # -- orders ----------------------------------------------------------------------
    def submit(self, order: SimOrder, price: Decimal) -> SimOrder:
        """Book an accepted ``order`` against the market ``price``: it fills, rests
        ``open`` or waits ``trigger pending``."""
        with self._lock:
            order.status = "trigger pending" if order.pricetype in STOPS else "open"
            self.orders[order.order_id] = order
            self._arrive(order, price)
        return order

    def reject(self, order: SimOrder, reason: str) -> SimOrder:
        """Book ``order`` as rejected (an RMS refusal after the broker accepted it)."""
        order.status, order.reason = "rejected", reason
        with self._lock:
            self.orders[order.order_id] = order
        return order

    def live(self, order_id: str) -> SimOrder:
        """The order, if it may still be modified or cancelled.

        Raises:
            SimRefusal: ``unknown`` or ``not open``.
        """
        with self._lock:
            order = self.orders.get(order_id)
            if order is None:
                raise SimRefusal("unknown", order_id)
            if order.status not in LIVE:
                raise SimRefusal("not open", order_id, order)
            return order

    def cancel(self, order_id: str) -> SimOrder:
        """Cancel an open or trigger-pending order (else :class:`SimRefusal`, as :meth:`live`)."""
        with self._lock:
            order = self.live(order_id)
            order.status, order.updated_at = "cancelled", dt.datetime.now()
            return order

    def modify(self, order_id: str, market: Decimal, *, quantity: int | None = None,
               price: Decimal | None = None, trigger_price: Decimal | None = None,
               pricetype: str | None = None, disclosed_quantity: int | None = None,
               ) -> SimOrder:
        """Change what is given of a live order and match it again at ``market``: a
        limit made marketable fills. A stop stays ``trigger pending`` (one made a stop
        starts there); a stop that has triggered stays triggered.

        Raises:
            SimRefusal: ``unknown`` or ``not open`` (as :meth:`live`).
        """
        with self._lock:
            order = self.live(order_id)
            waiting = order.status == "trigger pending" or order.pricetype not in STOPS
            changes = {"quantity": quantity, "price": price, "trigger_price": trigger_price,
                       "pricetype": pricetype, "disclosed_quantity": disclosed_quantity}
            for name, value in changes.items():
                if value is not None:
                    setattr(order, name, value)
            stop = order.pricetype in STOPS
            order.status = "trigger pending" if stop and waiting else "open"
            order.updated_at = dt.datetime.now()
            self._arrive(order, market)
            return order

    def match(self, token: str, price: Decimal) -> list[SimOrder]:
        """The market in ``token`` trades at ``price``: trigger the stops it reaches and
        fill the limits it crosses; the orders that changed, in booking order."""
        changed = []
        with self._lock:
            for order in self.orders.values():
                if order.token != token or order.status not in LIVE:
                    continue
                if order.status == "trigger pending":
                    if not _triggered(order, price):
                        continue
                    order.status = "open"
                    self._arrive(order, price)
                elif _crosses(order, price):
                    self._fill(order, order.price)
                else:
                    continue
                order.updated_at = dt.datetime.now()
                changed.append(order)
        return changed

    # -- positions and margin ----------------------------------------------------------
    def positions(self, mark: Mapping[str, Decimal]) -> list[PositionRow]:
        """Positions from fills by (exchange, token, product), valued at ``mark``
        (a token missing there: at its first fill's price)."""
        with self._lock:
            return [dataclasses.replace(row, ltp=mark.get(row.token, row.ltp))
                    for row in self._rows.values()]

    def required_margin(self, order: SimOrder, market: Decimal) -> Decimal:
        """What ``order`` blocks: the full value (no leverage) of the quantity it does
        not close of an opposite position in the same instrument and product, at its
        limit price (SL-M: its trigger; MARKET: ``market``)."""
        if order.pricetype in ("LIMIT", "SL"):
            reference = order.price
        elif order.pricetype == "SL-M" and order.trigger_price:
            reference = order.trigger_price
        else:
            reference = market
        with self._lock:
            row = self._rows.get((order.exchange, order.token, order.product))
        net = row.net if row else 0
        closes = max(-net, 0) if order.side == "BUY" else max(net, 0)
        return max(order.quantity - closes, 0) * reference

    def used_margin(self) -> Decimal:
        """What the book blocks: open positions at their average price, and every live
        order's :meth:`required_margin`."""
        with self._lock:
            held = sum((abs(row.net) * row.average_price for row in self._rows.values()),
                       Decimal(0))
            waiting = sum((self.required_margin(o, o.trigger_price or o.price)
                           for o in self.orders.values() if o.status in LIVE), Decimal(0))
        return held + waiting

    # -- plumbing ------------------------------------------------------------------------
    def _arrive(self, order: SimOrder, market: Decimal) -> None:
        """An open order meets the market: fill at ``market`` when it takes liquidity."""
        if order.status == "open" and (order.pricetype in ("MARKET", "SL-M")
                                       or _crosses(order, market)):
            self._fill(order, market)

    def _fill(self, order: SimOrder, price: Decimal) -> None:
        now = dt.datetime.now()
        order.status, order.filled, order.average_price = "complete", order.quantity, price
        order.updated_at = now
        self.trades.append(SimTrade(
            f"{len(self.trades) + 1:08d}", order.order_id, order.token, order.symbol,
            order.exchange, order.side, order.product, order.quantity, price, now))
        key = (order.exchange, order.token, order.product)
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = PositionRow(order.exchange, order.token, order.symbol,
                                                order.product, price)
        if order.side == "BUY":
            row.buy_qty += order.quantity
            row.buy_value += price * order.quantity
        else:
            row.sell_qty += order.quantity
            row.sell_value += price * order.quantity


def _crosses(order: SimOrder, market: Decimal) -> bool:
    """A limit the market has reached."""
    return market <= order.price if order.side == "BUY" else market >= order.price


def _triggered(order: SimOrder, market: Decimal) -> bool:
    return market >= order.trigger_price if order.side == "BUY" \
        else market <= order.trigger_price
