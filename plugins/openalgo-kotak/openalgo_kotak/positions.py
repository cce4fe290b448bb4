"""A Kotak position row by Kotak's own formulas (the official SDK's positions.md):

==============  ==========================================================
net quantity    (``cfBuyQty`` + ``flBuyQty``) - (``cfSellQty`` + ``flSellQty``)
amounts         bought: ``cfBuyAmt`` + ``buyAmt``; sold: ``cfSellAmt`` + ``sellAmt``
factor          ``multiplier`` x ``genNum``/``genDen`` x ``prcNum``/``prcDen``
average         of the side that is open: its amount / (its quantity x factor), to
                ``precision`` decimals; 0 when flat
P&L             (sold - bought) + net x LTP x factor
==============  ==========================================================

So a carried-forward F&O leg counts at the amount Kotak carries it at (``cfBuyAmt``:
the previous settlement), where OpenAlgo ignored it (#2061: carried averages of 0 or of
today's trades alone); a closed leg keeps its realised P&L (#1970). An equity leg
carried from an earlier day is a holding: Kotak's SDK values it at the holding's own
average cost (``averagePrice`` of the holding whose ``exchangeIdentifier`` is the
row's token) rather than at the previous close; :func:`figures` does so when given it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from openalgo_core.kit import Row

__all__ = ["Figures", "figures"]

_ONE = Decimal(1)
#: The largest ``precision`` believed (Kotak writes 2; currency 4).
_MAX_PRECISION = 8


@dataclass(frozen=True, slots=True)
class Figures:
    """One row's net quantity (units), average price and what its P&L is made of."""

    net: int
    carried: int
    average: Decimal
    bought: Decimal
    sold: Decimal
    factor: Decimal
    precision: int

    def pnl(self, ltp: Decimal) -> Decimal:
        """(sold - bought) + net x ``ltp`` x factor, to the row's precision."""
        value = self.sold - self.bought + self.net * ltp * self.factor
        return value.quantize(Decimal(1).scaleb(-self.precision), ROUND_HALF_EVEN)


def figures(row: Row, carried_cost: Decimal | None = None) -> Figures:
    """The row's figures; ``carried_cost``: the average cost of an equity leg carried from
    an earlier day (the holding's), replacing the row's carried amount.

    Raises:
        BrokerResponseError: naming a field that is missing or not a number, a factor
            of zero, or a precision beyond belief.
    """
    cf_buy, cf_sell, day_buy, day_sell = (
        _quantity(row, name) for name in ("cfBuyQty", "cfSellQty", "flBuyQty", "flSellQty"))
    bought_qty, sold_qty = cf_buy + day_buy, cf_sell + day_sell
    net, carried = bought_qty - sold_qty, cf_buy - cf_sell
    cf_bought, cf_sold = row.decimal("cfBuyAmt", 0), row.decimal("cfSellAmt", 0)
    if carried_cost is not None and carried:
        cf_bought = carried_cost * carried if carried > 0 else Decimal(0)
        cf_sold = carried_cost * -carried if carried < 0 else Decimal(0)
    bought = cf_bought + row.decimal("buyAmt", 0)
    sold = cf_sold + row.decimal("sellAmt", 0)
    factor = _factor(row)
    precision = row.whole("precision", 2)
    if not 0 <= precision <= _MAX_PRECISION:
        raise row.fail("precision", "is not a number of decimals")
    if net > 0:
        average = bought / (bought_qty * factor)
    elif net < 0:
        average = sold / (sold_qty * factor)
    else:
        average = Decimal(0)
    average = average.quantize(Decimal(1).scaleb(-precision), ROUND_HALF_EVEN)
    return Figures(net, carried, average, bought, sold, factor, precision)


def _quantity(row: Row, field: str) -> int:
    """A bought or sold quantity: whole and not negative (absent: 0)."""
    value = row.whole(field, 0)
    if value < 0:
        raise row.fail(field, "is negative")
    return value


def _factor(row: Row) -> Decimal:
    """``multiplier`` x ``genNum``/``genDen`` x ``prcNum``/``prcDen`` (each 1 when absent)."""
    factor = row.decimal("multiplier", _ONE)
    for top, bottom in (("genNum", "genDen"), ("prcNum", "prcDen")):
        denominator = row.decimal(bottom, _ONE)
        if not denominator:
            raise row.fail(bottom, "is zero")
        factor = factor * row.decimal(top, _ONE) / denominator
    if factor <= 0:
        raise row.fail("multiplier", "makes the price factor zero or negative")
    return factor
