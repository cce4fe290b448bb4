"""Conformance: the trade book, funds and holdings, as the broker holds them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from ...errors import OpenAlgoError
from ...models import Funds
from ..book import SimFunds
from ..wiring import Harness
from .base import ConformanceBase, Outcome
from .sweep import escaped, sweep_read

__all__ = ["FundsConformance", "HoldingsConformance", "TradeBookConformance"]


class TradeBookConformance(ConformanceBase):
    """One trade per fill, at the fill's price, with the order it filled."""

    def test_trade_book_has_every_fill(self, harness: Harness) -> None:
        """Two market fills at the market, then a resting limit filled at its price."""
        self.login(harness)
        gateway, broker = harness.gateway, harness.broker
        assert self.supported(lambda: gateway.fetch_trade_book(broker)) == []
        instrument, market = self.market(harness)
        lot = instrument.lot_size
        bought = gateway.place_order(broker, self.order(harness, quantity=2 * lot)).order_id
        limit = self.resting_limit(harness)
        resting = gateway.place_order(broker, limit).order_id
        sold = gateway.place_order(broker, self.order(harness, action="SELL",
                                                      quantity=lot)).order_id
        fills = {bought: ("BUY", 2 * lot, market), sold: ("SELL", lot, market)}
        self._shows_trades(harness, fills)
        harness.sim.move(instrument.token, Decimal(limit["price"]))
        fills[resting] = ("BUY", lot, Decimal(limit["price"]))
        self._shows_trades(harness, fills)

    def test_garbage_in_trade_book_replies_is_typed(self, tmp_path: Path) -> None:
        def fills(harness: Harness) -> None:
            harness.gateway.place_order(harness.broker, self.order(harness, quantity=2))
            harness.gateway.place_order(harness.broker, self.order(harness, action="SELL"))

        sweep_read(self, tmp_path, lambda h: h.gateway.fetch_trade_book(h.broker), _typed,
                   fills)

    def _shows_trades(self, harness: Harness, fills: dict[str, tuple[str, int, Decimal]]) -> None:
        """The trade book holds exactly ``fills``: order id -> (side, quantity, price)."""
        symbol, exchange = self.cash_symbol
        product = self.order(harness)["product"]
        trades = harness.gateway.fetch_trade_book(harness.broker)
        assert sorted(t.order_id for t in trades) == sorted(fills), (
            f"the trade book must hold one trade per fill: {sorted(fills)}")
        assert len({t.trade_id for t in trades}) == len(trades), "trade ids repeat"
        for trade in trades:
            side, quantity, price = fills[trade.order_id]
            shown = (trade.broker, trade.symbol, trade.exchange, trade.action, trade.product,
                     trade.quantity, trade.average_price, trade.trade_value)
            assert shown == (harness.broker, symbol, exchange, side, product, quantity, price,
                             price * quantity), f"order {trade.order_id}: trade {shown}"


class FundsConformance(ConformanceBase):
    """Available cash, collateral, margin used and the day's P&L, as the broker states them."""

    def test_funds_reflect_the_margin_a_resting_order_uses(self, harness: Harness) -> None:
        self.login(harness)
        gateway, broker = harness.gateway, harness.broker
        before = self.supported(lambda: gateway.fetch_funds(broker))
        _same(before, harness.sim.funds())
        limit = self.resting_limit(harness)
        gateway.place_order(broker, limit)
        after = gateway.fetch_funds(broker)
        _same(after, harness.sim.funds())
        blocked = Decimal(limit["price"]) * limit["quantity"]
        assert after.used_margin > before.used_margin and \
            after.available_cash < before.available_cash, (
                f"a resting order blocking {blocked} left the funds at {after}")

    def test_funds_show_the_days_pnl(self, harness: Harness) -> None:
        """Bought, the market moves, half sold: realised and unrealised P&L."""
        self.login(harness)
        gateway, broker = harness.gateway, harness.broker
        self.supported(lambda: gateway.fetch_funds(broker))
        instrument, market = self.market(harness)
        lot = instrument.lot_size
        gateway.place_order(broker, self.order(harness, quantity=2 * lot))
        harness.sim.move(instrument.token, market + instrument.tick_size * 40)
        gateway.place_order(broker, self.order(harness, action="SELL", quantity=lot))
        funds = gateway.fetch_funds(broker)
        _same(funds, harness.sim.funds())
        assert funds.realised_pnl > 0 and funds.unrealised_pnl > 0, funds

    def test_garbage_in_funds_replies_is_typed(self, tmp_path: Path) -> None:
        sweep_read(self, tmp_path, lambda h: h.gateway.fetch_funds(h.broker), _typed)


class HoldingsConformance(ConformanceBase):
    """Long-term holdings with their quantity, average price, last price and P&L."""

    #: how far a holding's P&L may be from the exact one (brokers round it to the rupee)
    pnl_rounding: ClassVar[Decimal] = Decimal(1)

    def test_holdings_are_the_brokers(self, harness: Harness) -> None:
        """The account's holdings as the broker values them; the last price and the P&L
        follow the market."""
        self.login(harness)
        gateway, broker = harness.gateway, harness.broker
        self._shows_holdings(harness, self.supported(lambda: gateway.fetch_holdings(broker)))
        for held in harness.sim.holdings()[:1]:
            listing = harness.sim.by_token[held.token]
            harness.sim.move(held.token, held.ltp + listing.tick_size * 25)
            self._shows_holdings(harness, gateway.fetch_holdings(broker))

    def test_garbage_in_holdings_replies_is_typed(self, tmp_path: Path) -> None:
        sweep_read(self, tmp_path, lambda h: h.gateway.fetch_holdings(h.broker), _typed)

    def _shows_holdings(self, harness: Harness, holdings: list[Any]) -> None:
        expected = {(h.symbol, h.exchange): h for h in harness.sim.holdings()}
        shown = {(h.symbol, h.exchange): h for h in holdings}
        assert sorted(shown) == sorted(expected), "the holdings must be the broker's"
        for key, held in expected.items():
            row = shown[key]
            assert (row.quantity, row.average_price, row.ltp) == (
                held.quantity, held.average_price, held.ltp), f"{key}: {row}"
            assert abs(row.pnl - held.pnl) < self.pnl_rounding, (
                f"{key}: P&L {row.pnl}, the broker's is {held.pnl}")


def _same(funds: Funds, held: SimFunds) -> None:
    """``funds`` states the broker's figures."""
    shown = (funds.available_cash, funds.collateral, funds.used_margin, funds.realised_pnl,
             funds.unrealised_pnl)
    assert shown == (held.available, held.collateral, held.used, held.realised,
                     held.unrealised), f"the broker has {held}, the funds read {funds}"


def _typed(result: Outcome) -> str | None:
    _, error = result
    return None if error is None or isinstance(error, OpenAlgoError) else escaped(error)

