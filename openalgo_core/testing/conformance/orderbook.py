"""Conformance: the order book and one order, in OpenAlgo's status vocabulary."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ...codes import OrderStatus
from ...errors import OpenAlgoError, OrderNotFoundError, OrderRejectedError
from ...models import Order
from ..wiring import Harness
from .base import ConformanceBase, Outcome, failure, kinds, sent
from .sweep import escaped, sweep_read

__all__ = ["OrderBookConformance"]


class OrderBookConformance(ConformanceBase):
    """Every order of the day, as the broker holds it: status, fills, reason and tag."""

    def test_order_book_shows_every_order_of_the_day(self, harness: Harness) -> None:
        """A market order complete at the broker's price, a limit below the market open,
        a stop above it trigger pending: each with its fields and the tag it was sent with."""
        self.login(harness)
        gateway, broker = harness.gateway, harness.broker
        assert self.supported(lambda: gateway.fetch_order_book(broker)) == []
        orders = {OrderStatus.COMPLETE: self.order(harness, tag="bookmarket1"),
                  OrderStatus.OPEN: self.resting_limit(harness, tag="booklimit1"),
                  OrderStatus.TRIGGER_PENDING: self.resting_stop(harness, tag="bookstop1")}
        receipts = {status: gateway.place_order(broker, fields)
                    for status, fields in orders.items()}
        book = {order.order_id: order for order in gateway.fetch_order_book(broker)}
        assert sorted(book) == sorted(r.order_id for r in receipts.values()), (
            "the order book must hold exactly the orders placed today")
        for status, fields in orders.items():
            row = book[receipts[status].order_id]
            self._shows_order(harness, row, fields, status)
            assert _fields(gateway.fetch_order(broker, row.order_id)) == _fields(row), (
                "one order must read as the order book shows it")

    def test_resting_orders_fill_when_the_price_crosses(self, harness: Harness) -> None:
        """The market falls to a resting limit: it fills at its price; rises to a stop's
        trigger: it triggers and fills at the market."""
        self.login(harness)
        gateway, broker = harness.gateway, harness.broker
        instrument, _ = self.market(harness)
        limit = self.resting_limit(harness, tag="crosslimit1")
        stop = self.resting_stop(harness, tag="crossstop1")
        limit_id = gateway.place_order(broker, limit).order_id
        stop_id = gateway.place_order(broker, stop).order_id
        resting = self.supported(lambda: gateway.fetch_order(broker, limit_id))
        self._shows_order(harness, resting, limit, OrderStatus.OPEN)
        tick = instrument.tick_size
        for order_id, fields, price, fill in (
                (limit_id, limit, Decimal(limit["price"]) - tick, Decimal(limit["price"])),
                (stop_id, stop, Decimal(stop["trigger_price"]), Decimal(stop["trigger_price"]))):
            changed = harness.sim.move(instrument.token, price)
            assert [o.order_id for o in changed] == [order_id]  # the simulator's own market
            filled = gateway.fetch_order(broker, order_id)
            self._shows_order(harness, filled, fields, OrderStatus.COMPLETE)
            assert filled.average_price == fill, (
                f"{fields['pricetype']} order filled at {fill}, the book shows"
                f" {filled.average_price}")
            (row,) = [o for o in gateway.fetch_order_book(broker) if o.order_id == order_id]
            assert _fields(row) == _fields(filled)

    def test_an_order_rejected_after_acceptance_shows_its_reason(self, harness: Harness) -> None:
        """Accepted with an order id, then refused by the broker's risk checks (more margin
        than the account has): the book shows it rejected, with the broker's reason. A
        broker refusing it at placement (``margin_refused_at_placement``): an
        OrderRejectedError with the broker's reason, sent once, nothing live at the broker."""
        self.login(harness)
        gateway, broker = harness.gateway, harness.broker
        if harness.sim.margin_limit is None:
            pytest.skip("the simulator checks no margin")
        instrument, price = self.market(harness)
        funds = harness.sim.funds()
        lots = int((funds.available + funds.collateral) / (price * instrument.lot_size)) + 1
        fields = self.order(harness, quantity=lots * instrument.lot_size, tag="bookmargin1")
        if self.margin_refused_at_placement:
            with sent(harness) as requests:
                error = failure(lambda: gateway.place_order(broker, fields),
                                OrderRejectedError)
            assert isinstance(error, OrderRejectedError) and error.reason, (
                "a margin refusal must carry the broker's reason")
            assert kinds(requests)["order"] == 1
            live = [o for o in harness.sim_orders()
                    if o["tag"] == "bookmargin1" and o["status"] != "rejected"]
            assert live == [], "refused at placement, yet live at the broker"
            return
        receipt = gateway.place_order(broker, fields)
        order = self.supported(lambda: gateway.fetch_order(broker, receipt.order_id))
        booked = harness.sim.book.orders[receipt.order_id]
        assert booked.status == "rejected"  # the simulator's own risk check
        self._shows_order(harness, order, fields, OrderStatus.REJECTED)
        assert order.reason == booked.reason, (
            f"a rejection must show the broker's reason {booked.reason!r}, not"
            f" {order.reason!r}")
        assert order.filled_quantity == 0

    def test_an_unknown_order_is_not_found(self, harness: Harness) -> None:
        self.login(harness)
        gateway, broker = harness.gateway, harness.broker
        self.supported(lambda: gateway.fetch_order_book(broker))
        gateway.place_order(broker, self.order(harness))  # a book that is not empty
        with sent(harness) as requests:
            error = failure(lambda: gateway.fetch_order(broker, self.unknown_order_id),
                            OrderNotFoundError)
        assert isinstance(error, OrderNotFoundError)
        assert error.order_id == self.unknown_order_id
        assert kinds(requests)["order"] == 0

    def test_garbage_in_order_book_replies_is_typed(self, tmp_path: Path) -> None:
        """Garbage in any field of the order book: a typed error or valid orders."""
        def orders(harness: Harness) -> None:
            harness.gateway.place_order(harness.broker, self.order(harness))
            harness.gateway.place_order(harness.broker, self.resting_limit(harness))

        sweep_read(self, tmp_path, lambda h: h.gateway.fetch_order_book(h.broker),
                   _judge_orders, orders)

    def _shows_order(self, harness: Harness, order: Order, fields: dict[str, Any],
                     status: OrderStatus) -> None:
        """``order`` is the order placed with ``fields``, now ``status``."""
        booked = harness.sim.book.orders.get(order.order_id)
        assert booked is not None, f"the book shows an order {order.order_id} the broker lacks"
        expected = {"broker": harness.broker, "symbol": fields["symbol"],
                    "exchange": fields["exchange"], "action": fields["action"],
                    "quantity": fields["quantity"], "pricetype": fields["pricetype"],
                    "product": fields["product"], "status": status}
        if fields["pricetype"] != "MARKET":
            expected["price"] = Decimal(fields["price"])
        if "trigger_price" in fields:
            expected["trigger_price"] = Decimal(fields["trigger_price"])
        if self.book_carries_tags:
            expected["tag"] = fields["tag"]
        shown = {name: getattr(order, name) for name in expected}
        assert shown == expected, f"order {order.order_id}: the book shows {shown}"
        filled = booked.quantity if status is OrderStatus.COMPLETE else 0
        assert order.filled_quantity == filled
        if status is OrderStatus.COMPLETE:
            assert order.average_price == booked.average_price, (
                f"filled at {booked.average_price}, the book shows {order.average_price}")


def _fields(order: Order) -> dict[str, Any]:
    """An order's fields, without the broker's raw row (one order may be read elsewhere)."""
    return order.model_dump(exclude={"raw"})


def _judge_orders(result: Outcome) -> str | None:
    orders, error = result
    if error is not None:
        return None if isinstance(error, OpenAlgoError) else escaped(error)
    if not all(isinstance(order, Order) for order in orders):
        return f"not a list of Order: {orders!r:.160}"
    return None

