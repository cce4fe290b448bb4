"""A realistic, broker-neutral instrument universe that simulators render in
their broker's own master-contract format.

Expiries are computed from today (the last Thursday of this month or the next,
so they are never in the past); every row has a deterministic price.
:func:`big_universe` grows it to any size for benchmarks.
"""

from __future__ import annotations

import calendar
import datetime as dt
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from ..kit.symbols import future_symbol, option_symbol

__all__ = [
    "Listing",
    "big_universe",
    "future_symbol",
    "monthly_expiry",
    "option_symbol",
    "universe",
]


@dataclass(frozen=True, slots=True)
class Listing:
    """One instrument in neutral terms; ``symbol`` is the OpenAlgo symbol."""

    symbol: str
    exchange: str           # OpenAlgo exchange
    name: str               # underlying / display name
    kind: str               # EQ, INDEX, FUT, CE, PE
    token: str
    lot_size: int
    tick_size: Decimal      # rupees
    price: Decimal          # deterministic reference price
    underlying_kind: str = "STK"   # STK, IDX, COM, CUR (for FUTIDX / OPTSTK ...)
    series: str = "EQ"      # EQ, BE ... (cash equities)
    expiry: dt.date | None = None
    strike: Decimal | None = None


def monthly_expiry(today: dt.date | None = None, months_ahead: int = 0) -> dt.date:
    """The last Thursday of the month ``months_ahead`` after today's (never before today)."""
    today = today or dt.date.today()
    year, month = today.year, today.month
    for _ in range(months_ahead + 2):
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        expiry = last - dt.timedelta(days=(last.weekday() - 3) % 7)
        if expiry >= today:
            if months_ahead == 0:
                return expiry
            months_ahead -= 1
        month, year = (1, year + 1) if month == 12 else (month + 1, year)
    raise AssertionError("unreachable")  # pragma: no cover


def _price(key: str, tick: Decimal, low: int = 100, high: int = 3000) -> Decimal:
    value = Decimal(low + zlib.crc32(key.encode()) % (high - low))
    return (value / tick).to_integral_value() * tick


_EQUITIES = [("SBIN", "3045"), ("RELIANCE", "2885"), ("INFY", "1594"), ("TCS", "11536"),
             ("HDFCBANK", "1333"), ("ICICIBANK", "4963"), ("VEDL", "3063"), ("ITC", "1660"),
             ("TATAMOTORS", "3456"), ("YESBANK", "11915")]
_INDICES = [("NIFTY", "NSE_INDEX", "Nifty 50", "99926000"),
            ("BANKNIFTY", "NSE_INDEX", "Nifty Bank", "99926009"),
            ("FINNIFTY", "NSE_INDEX", "Nifty Fin Service", "99926037"),
            ("MIDCPNIFTY", "NSE_INDEX", "NIFTY MID SELECT", "99926074"),
            ("INDIAVIX", "NSE_INDEX", "India VIX", "99926017"),
            ("SENSEX", "BSE_INDEX", "SENSEX", "99919000"),
            ("BANKEX", "BSE_INDEX", "BANKEX", "99919012")]


def universe(today: dt.date | None = None) -> list[Listing]:
    """About 150 instruments across NSE, BSE, NFO, BFO, MCX, CDS and the indices."""
    rows: list[Listing] = []
    t05 = Decimal("0.05")
    for name, token in _EQUITIES:
        price = _price(name, t05)
        rows.append(Listing(name, "NSE", name, "EQ", token, 1, t05, price))
        rows.append(Listing(name, "BSE", name, "EQ", str(500000 + int(token)), 1, t05, price))
    rows.append(Listing("SUZLON", "NSE", "SUZLON", "EQ", "12018", 1, Decimal("0.01"),
                        Decimal("45.10"), series="BE"))
    for symbol, exchange, name, token in _INDICES:
        rows.append(Listing(symbol, exchange, name, "INDEX", token, 1, t05,
                            _price(symbol, t05, 10000, 80000), underlying_kind="IDX"))
    next_token = 40000
    near, far = monthly_expiry(today), monthly_expiry(today, 1)

    def derivatives(name: str, exchange: str, lot: int, tick: Decimal, ukind: str,
                    strikes: list[Decimal], base: Decimal) -> None:
        nonlocal next_token
        for expiry in (near, far):
            next_token += 1
            rows.append(Listing(future_symbol(name, expiry), exchange, name, "FUT",
                                str(next_token), lot, tick, base, ukind, expiry=expiry))
            for strike in strikes:
                for kind in ("CE", "PE"):
                    next_token += 1
                    premium = _price(f"{name}{expiry}{strike}{kind}", tick, 2, 400)
                    rows.append(Listing(option_symbol(name, expiry, strike, kind), exchange,
                                        name, kind, str(next_token), lot, tick, premium, ukind,
                                        expiry=expiry, strike=strike))

    d = Decimal
    derivatives("NIFTY", "NFO", 75, t05, "IDX", [d(24000), d(24500), d(25000)], d(24480))
    derivatives("BANKNIFTY", "NFO", 35, t05, "IDX", [d(52000), d(53000)], d(52600))
    derivatives("VEDL", "NFO", 1150, t05, "STK", [d("292.5"), d(300)], d(296))
    derivatives("SBIN", "NFO", 750, t05, "STK", [d(800), d(820)], d(812))
    derivatives("SENSEX", "BFO", 20, t05, "IDX", [d(80000), d(81000)], d(80550))
    derivatives("CRUDEOIL", "MCX", 100, d(1), "COM", [d(6700), d(6750)], d(6720))
    derivatives("GOLDM", "MCX", 10, d(1), "COM", [d(72000)], d(72150))
    derivatives("USDINR", "CDS", 1000, d("0.0025"), "CUR", [d("83.5"), d(84)], d("83.7125"))
    return rows


def big_universe(size: int, today: dt.date | None = None) -> Iterator[Listing]:
    """``size`` listings: the base universe, then synthetic stock options to fill."""
    base = universe(today)
    yield from base[:size]
    expiry = monthly_expiry(today)
    t05 = Decimal("0.05")
    produced, n = len(base), 0
    while produced < size:
        name = f"STK{n // 400:04d}"
        strike = Decimal(100 + (n % 400) // 2 * 5)
        kind = "CE" if n % 2 == 0 else "PE"
        yield Listing(option_symbol(name, expiry, strike, kind), "NFO", name, kind,
                      str(1_000_000 + n), 500, t05, Decimal("12.35"), "STK",
                      expiry=expiry, strike=strike)
        produced += 1
        n += 1
