"""The kit for broker plugin authors (extra ``openalgo-core[testing]``).

- :class:`SimulatorBase`: build a local server that speaks your broker's protocol.
- :class:`InProcessTransport` / :class:`ServerThread`: run it in-process or on a socket.
- :mod:`openalgo_core.testing.conformance`: ``BrokerConformance``, the test class
  every broker package subclasses.
- :mod:`openalgo_core.testing.universe`: a realistic instrument universe to render.
"""

from .simulator import Faults, OrderBook, PositionRow, SimOrder, SimulatorBase
from .transport import ConnectionDropped, InProcessTransport, ServerThread
from .universe import Listing, big_universe, future_symbol, monthly_expiry, option_symbol, universe

__all__ = [
    "ConnectionDropped",
    "Faults",
    "InProcessTransport",
    "Listing",
    "OrderBook",
    "PositionRow",
    "ServerThread",
    "SimOrder",
    "SimulatorBase",
    "big_universe",
    "future_symbol",
    "monthly_expiry",
    "option_symbol",
    "universe",
]
