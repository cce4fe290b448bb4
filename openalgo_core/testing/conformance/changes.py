"""Conformance: cancelling and modifying resting orders, and the refusals of both."""

from __future__ import annotations

import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ...codes import OrderStatus, PriceType
from ...errors import OrderNotFoundError, OrderRejectedError, UnsupportedOperationError
from ..wiring import Harness
from .base import ConformanceBase, failure, kinds, outcome, sent

__all__ = ["CancelModifyConformance"]


class CancelModifyConformance(ConformanceBase):
    """Open and trigger-pending orders are cancelled and modified at the broker; an order
    that is no longer open is refused, by the gateway before anything is sent and by the
    broker, classified, when the hook is asked anyway."""

    def test_cancel_an_open_and_a_trigger_pending_order(self, harness: Harness) -> None:
        self.login(harness)
        gateway, broker = harness.gateway, harness.broker
        for fields in (self.resting_limit(harness), self.resting_stop(harness)):
            order_id = gateway.place_order(broker, fields).order_id
            with sent(harness) as requests:
                receipt = self.supported(functools.partial(gateway.cancel_order, broker,
                                                           order_id))
            assert receipt.order_id == order_id
            assert kinds(requests)["order"] == 1, "a cancel is sent once, as an order"
            assert harness.sim.book.orders[order_id].status == "cancelled", (
                f"the broker did not cancel the {fields['pricetype']} order")
            assert gateway.fetch_order(broker, order_id).status is OrderStatus.CANCELLED

    def test_modify_a_resting_order(self, harness: Harness) -> None:
        """Price, quantity, price type and trigger reach the broker and show in the book;
        a limit made marketable fills at the market."""
        self.login(harness)
        self.needs(harness, PriceType.SL)
        gateway, broker = harness.gateway, harness.broker
        instrument, market = self.market(harness)
        tick, lot = instrument.tick_size, instrument.lot_size
        fields = self.resting_limit(harness)
        order_id = gateway.place_order(broker, fields).order_id
        steps: list[tuple[dict[str, Any], dict[str, Any]]] = [
            ({"price": market - tick * 12}, {"status": OrderStatus.OPEN}),
            ({"quantity": 2 * lot}, {"status": OrderStatus.OPEN}),
            ({"pricetype": "SL", "price": market + tick * 5, "trigger_price": market + tick * 4},
             {"status": OrderStatus.TRIGGER_PENDING}),
            ({"trigger_price": market + tick * 3}, {"status": OrderStatus.TRIGGER_PENDING}),
            ({"pricetype": "LIMIT", "price": market + tick},
             {"status": OrderStatus.COMPLETE, "trigger_price": 0, "average_price": market,
              "filled_quantity": 2 * lot}),
        ]
        expected: dict[str, Any] = {"quantity": lot, "pricetype": "LIMIT",
                                    "price": Decimal(fields["price"]), "trigger_price": 0}
        for change, after in steps:
            with sent(harness) as requests:
                receipt = self.supported(functools.partial(gateway.modify_order, broker,
                                                           order_id, **change))
            assert receipt.order_id == order_id
            assert kinds(requests)["order"] == 1, "a modify is sent once, as an order"
            expected.update(change, **after)
            order = gateway.fetch_order(broker, order_id)
            shown = {name: getattr(order, name) for name in expected}
            assert shown == expected, f"after modifying {change}, the book shows {shown}"
            booked = harness.sim.book.orders[order_id]
            held = {name: getattr(booked, name)
                    for name in ("quantity", "pricetype", "price", "trigger_price")}
            assert held == {name: expected[name] for name in held}, (
                f"after modifying {change}, the broker holds {held}")

    def test_cancel_of_a_filled_order_is_refused(self, harness: Harness) -> None:
        self.login(harness)
        gateway, broker = harness.gateway, harness.broker
        order_id = gateway.place_order(broker, self.order(harness)).order_id
        order = self.supported(lambda: gateway.fetch_order(broker, order_id))
        assert order.status is OrderStatus.COMPLETE
        with sent(harness) as requests, pytest.raises(OrderRejectedError):
            gateway.cancel_order(broker, order_id)
        assert kinds(requests)["order"] == 0, "the gateway sent a cancel of a filled order"
        self._refused(harness, "cancel_order", order=order)
        assert harness.sim.book.orders[order_id].status == "complete"

    def test_modify_of_a_cancelled_order_is_refused(self, harness: Harness) -> None:
        self.login(harness)
        gateway, broker = harness.gateway, harness.broker
        fields = self.resting_limit(harness)
        order_id = gateway.place_order(broker, fields).order_id
        self.supported(lambda: gateway.cancel_order(broker, order_id))
        order = gateway.fetch_order(broker, order_id)
        assert order.status is OrderStatus.CANCELLED
        lower = order.price - gateway.resolve(broker, order.symbol, order.exchange).tick_size
        with sent(harness) as requests, pytest.raises(OrderRejectedError):
            gateway.modify_order(broker, order_id, price=lower)
        assert kinds(requests)["order"] == 0, "the gateway sent a modify of a cancelled order"
        change, instrument = gateway.validate_order(broker, {**fields, "price": lower})
        self._refused(harness, "modify_order", order=order, change=change,
                      instrument=instrument)
        booked = harness.sim.book.orders[order_id]
        assert (booked.status, booked.price) == ("cancelled", Decimal(fields["price"]))

    def test_an_unknown_order_cannot_be_cancelled_or_modified(self, harness: Harness) -> None:
        self.login(harness)
        gateway, broker = harness.gateway, harness.broker
        self.supported(lambda: gateway.fetch_order_book(broker))
        changes: tuple[Callable[[], object], ...] = (
            functools.partial(gateway.cancel_order, broker, self.unknown_order_id),
            functools.partial(gateway.modify_order, broker, self.unknown_order_id, quantity=1))
        for change in changes:
            with sent(harness) as requests:
                failure(change, OrderNotFoundError)
            assert kinds(requests)["order"] == 0

    def _refused(self, harness: Harness, hook: str, **arguments: Any) -> None:
        """The hook itself, asked to change an order that is no longer open: the broker
        is asked once, and its refusal is an OrderRejectedError."""
        with sent(harness) as requests:
            result, error = outcome(lambda: self.hook(harness, hook, **arguments))
        if isinstance(error, UnsupportedOperationError):
            pytest.skip(f"unsupported: {error}")
        assert kinds(requests)["order"] == 1, f"{hook} must send its request once"
        assert isinstance(error, OrderRejectedError), (
            f"the broker refused {hook} of a {arguments['order'].status} order: that is an"
            f" OrderRejectedError, not {error or result!r:.200}")
