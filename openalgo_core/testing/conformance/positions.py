"""Conformance: the position book, open and closed, and its P&L."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ...codes import Product
from ...errors import OpenAlgoError
from ..wiring import Harness
from .base import ConformanceBase, Outcome
from .sweep import escaped, sweep

__all__ = ["PositionConformance"]


class PositionConformance(ConformanceBase):
    """Positions come back in OpenAlgo symbols with the broker's prices and P&L."""

    def test_positions_empty_open_and_closed(self, harness: Harness) -> None:
        self.login(harness)
        assert harness.gateway.fetch_positions(harness.broker) == []
        harness.gateway.place_order(harness.broker, self.order(harness, quantity=2))
        (open_row,) = harness.gateway.fetch_positions(harness.broker)
        symbol, exchange = self.cash_symbol
        assert (open_row.symbol, open_row.exchange, open_row.product) == (symbol, exchange, "MIS")
        assert open_row.quantity == 2
        assert open_row.average_price > 0 and open_row.ltp > 0
        assert open_row.pnl == (open_row.ltp - open_row.average_price) * 2
        harness.gateway.place_order(harness.broker,
                                    self.order(harness, action="SELL", quantity=2))
        (closed,) = harness.gateway.fetch_positions(harness.broker)
        assert closed.quantity == 0 and closed.symbol == symbol
        assert isinstance(closed.pnl, Decimal)

    def test_closed_position_keeps_its_realised_pnl(self, harness: Harness) -> None:
        """Bought, the market moves, sold: the flat position shows the round trip's P&L."""
        self.login(harness)
        inst = harness.gateway.resolve(harness.broker, *self.cash_symbol)
        quantity = 3 * inst.lot_size
        bought = harness.sim.price(inst.token)
        harness.gateway.place_order(harness.broker, self.order(harness, quantity=quantity))
        sold = bought + inst.tick_size * 37
        harness.sim.quotes[inst.token] = sold
        harness.gateway.place_order(harness.broker,
                                    self.order(harness, action="SELL", quantity=quantity))
        (closed,) = harness.gateway.fetch_positions(harness.broker)
        assert closed.quantity == 0
        assert closed.pnl == (sold - bought) * quantity, (
            f"a closed position must keep its realised P&L {(sold - bought) * quantity},"
            f" got {closed.pnl}")

    def test_garbage_in_position_replies_is_typed(self, tmp_path: Path) -> None:
        """Garbage in any field of the position book: a typed error or valid positions."""
        for harness in self.garbage_harnesses(tmp_path):
            self._position_garbage(harness)

    def _position_garbage(self, harness: Harness) -> None:
        self.login(harness)
        harness.gateway.place_order(harness.broker, self.order(harness, quantity=3))
        harness.gateway.place_order(harness.broker, self.order(harness, quantity=1,
                                                               action="SELL"))
        if Product.CNC in harness.gateway.info(harness.broker).products:  # a second row
            harness.gateway.place_order(harness.broker, self.order(harness, product="CNC"))

        def judge(result: Outcome) -> str | None:
            _, error = result
            return None if error is None or isinstance(error, OpenAlgoError) \
                else escaped(error)

        sweep(self, harness, lambda: harness.gateway.fetch_positions(harness.broker), judge)
