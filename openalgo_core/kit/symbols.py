"""OpenAlgo's symbology, spelled in one place.

=========  ====================================  ==========================
kind       rule                                  examples
=========  ====================================  ==========================
equity     the bare base symbol, no series       ``SBIN``, ``RELIANCE``
index      OpenAlgo's alias of the index name    ``NIFTY``, ``BANKNIFTY``
future     ``NAME`` + ``DDMMMYY`` + ``FUT``      ``NIFTY28MAR24FUT``
option     ``NAME`` + ``DDMMMYY`` + strike +     ``NIFTY28MAR2420800CE``,
           ``CE``/``PE``; the strike without     ``VEDL25APR24292.5CE``,
           trailing zeros, decimals kept         ``USDINR19APR2482.5CE``
=========  ====================================  ==========================

Currency (CDS/BCD) and commodity (MCX) contracts follow the same rules; their strikes
are the ones that carry decimals (``83.2500`` -> ``83.25``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Final

__all__ = ["EQUITY_SERIES", "INDEX_ALIASES", "MONTHS", "equity_symbol", "expiry_code",
           "future_symbol", "index_symbol", "option_symbol", "strike_text"]

MONTHS: Final = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV",
                 "DEC")

#: NSE series suffixes of cash symbols (``SBIN-EQ``), in order of preference.
EQUITY_SERIES: Final = ("-EQ", "-BE", "-MF", "-SG")

#: Index names (upper-cased, spaces, hyphens and BSE's ``S&P`` removed) that OpenAlgo
#: knows under another symbol.
INDEX_ALIASES: Final[Mapping[str, str]] = {
    "NIFTY50": "NIFTY",
    "NIFTYBANK": "BANKNIFTY",
    "BANKNIFTY": "BANKNIFTY",
    "NIFTYFINSERVICE": "FINNIFTY",
    "NIFTYFINANCIAL": "FINNIFTY",
    "NIFTYFINANCIALSERVICES": "FINNIFTY",
    "NIFTYNEXT50": "NIFTYNXT50",
    "NIFTYMIDSELECT": "MIDCPNIFTY",
    "NIFTYMIDCAPSELECT": "MIDCPNIFTY",
    "NIFTYMIDCAPSEL": "MIDCPNIFTY",
    "SNSX50": "SENSEX50",
    "BSESENSEX": "SENSEX",
    "BSESENSEX50": "SENSEX50",
    "BSEBANKEX": "BANKEX",
}


def strike_text(strike: Decimal) -> str:
    """A strike as OpenAlgo writes it: no exponent, no trailing zeros (``24000``,
    ``292.5``, ``83.25``)."""
    text = format(strike.normalize(), "f")
    return text


def expiry_code(expiry: dt.date) -> str:
    """``DDMMMYY`` in capitals: 2024-03-28 -> ``28MAR24``."""
    return f"{expiry.day:02d}{MONTHS[expiry.month - 1]}{expiry.year % 100:02d}"


def future_symbol(name: str, expiry: dt.date) -> str:
    """``NIFTY`` + 2024-03-28 -> ``NIFTY28MAR24FUT``."""
    return f"{name}{expiry_code(expiry)}FUT"


def option_symbol(name: str, expiry: dt.date, strike: Decimal, option_type: str) -> str:
    """``NIFTY`` + 2024-03-28 + 20800 + ``CE`` -> ``NIFTY28MAR2420800CE``."""
    if option_type not in ("CE", "PE"):
        raise ValueError(f"option type must be CE or PE, got {option_type!r}")
    return f"{name}{expiry_code(expiry)}{strike_text(strike)}{option_type}"


def equity_symbol(broker_symbol: str, series: Iterable[str] = EQUITY_SERIES) -> str:
    """The bare symbol of a cash listing: ``SBIN-EQ`` -> ``SBIN`` (other series kept)."""
    for suffix in series:
        if broker_symbol.endswith(suffix):
            return broker_symbol[: -len(suffix)]
    return broker_symbol


def index_symbol(name: str, aliases: Mapping[str, str] = INDEX_ALIASES) -> str:
    """OpenAlgo's symbol for an index name: ``"Nifty Bank"`` -> ``BANKNIFTY``,
    ``"India VIX"`` -> ``INDIAVIX``."""
    key = name.upper().replace("S&P", "").replace(" ", "").replace("-", "")
    return aliases.get(key, key)
