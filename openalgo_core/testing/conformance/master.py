"""Conformance: the master contract, from the simulator's file to resolved instruments."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from ...errors import OpenAlgoError
from ...models import Instrument
from ..wiring import Harness
from .base import ConformanceBase, Outcome, outcome
from .sweep import escaped, sweep

__all__ = ["MasterContractConformance"]


class MasterContractConformance(ConformanceBase):
    """Every listing the simulator renders comes back, resolved by its OpenAlgo symbol."""

    def test_every_listing_round_trips(self, harness: Harness) -> None:
        """Rendered by the simulator, parsed by the plugin, resolved by symbol: token,
        lot, tick, expiry and strike equal the listing's."""
        self.login(harness)
        index = harness.gateway.instruments(harness.broker)
        wrong = []
        for listing in harness.sim.master_listings():
            inst = index.get(listing.symbol, listing.exchange)
            want = (listing.token, listing.lot_size, listing.tick_size, listing.expiry,
                    listing.strike)
            got = None if inst is None else (inst.token, inst.lot_size, inst.tick_size,
                                              inst.expiry, inst.strike)
            if got != want:
                wrong.append(f"{listing.symbol} {listing.exchange}: want {want}, got {got}")
        assert not wrong, f"{len(wrong)} listings do not round-trip:\n" + "\n".join(wrong[:20])

    def test_garbage_in_master_replies_is_typed(self, tmp_path: Path) -> None:
        """Garbage in any field of the master file: a typed error, or instruments on
        which an order validates or is refused with a typed error."""
        for harness in self.garbage_harnesses(tmp_path):
            self._master_garbage(harness)

    def _master_garbage(self, harness: Harness) -> None:
        self.login(harness)
        clean = set(harness.gateway.instruments(harness.broker, refresh=True))

        def refresh() -> Any:
            return harness.gateway.instruments(harness.broker, refresh=True)

        def limit_order(inst: Instrument) -> Any:
            return harness.gateway.validate_order(harness.broker, {
                "symbol": inst.symbol, "exchange": inst.exchange, "action": "BUY",
                "quantity": inst.lot_size, "pricetype": "LIMIT", "price": "100"})

        def judge(result: Outcome) -> str | None:
            index, error = result
            if error is not None:
                return None if isinstance(error, OpenAlgoError) else escaped(error)
            for inst in (inst for inst in index if inst not in clean):  # the garbled ones
                _, later = outcome(functools.partial(limit_order, inst))
                if later is not None and not isinstance(later, OpenAlgoError):
                    return f"a LIMIT order for {inst.symbol}: " + escaped(later)
            return None

        sweep(self, harness, refresh, judge)
