"""The kit for broker plugin authors (extra ``openalgo-core[testing]``).

- :class:`SimulatorBase`: build a local server that speaks your broker's protocol
  (a market with an order book, trades, funds and holdings; quotes, master file,
  faults: :class:`Faults`).
- :class:`LoginPage`: a broker's own login page redirecting back with a one-time key
  (a redirect login, ICICI's).
- :mod:`openalgo_core.testing.parsing`: numbers, JSON bodies and tokens, read strictly.
- :func:`wire` / :func:`wire_all`: your simulator and a gateway wired to it, in-process
  or over a real socket, as a :class:`Harness`; the pytest plugin
  (:mod:`openalgo_core.testing.pytest_plugin`) turns it into fixtures.
- :class:`InProcessTransport` / :class:`ServerThread`: run a simulator in-process or on a socket.
- :mod:`openalgo_core.testing.conformance`: ``BrokerConformance``, the test class
  every broker package subclasses.
- :mod:`openalgo_core.testing.universe`: a realistic instrument universe to render.

Names (but the universe's) load their submodule on first access: the pytest plugin,
loaded in every pytest run, imports none of them (nor the extra's dependencies).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy

# Eager (and light): the function ``universe`` must win over its submodule's name.
from .universe import Listing, big_universe, future_symbol, monthly_expiry, option_symbol, universe

if TYPE_CHECKING:
    from .book import (
        OrderBook,
        PositionRow,
        SimFunds,
        SimHolding,
        SimOrder,
        SimRefusal,
        SimTrade,
    )
    from .faults import Faults
    from .login_page import LoginPage
    from .simulator import SimulatorBase, generate_credential
    from .transport import ConnectionDropped, InProcessTransport, ServerThread
    from .wiring import Harness, broker_environ, wire, wire_all

_LAZY = {
    "ConnectionDropped": "transport", "Faults": "faults", "Harness": "wiring",
    "InProcessTransport": "transport", "LoginPage": "login_page", "OrderBook": "book",
    "PositionRow": "book",
    "ServerThread": "transport", "SimFunds": "book", "SimHolding": "book", "SimOrder": "book",
    "SimRefusal": "book", "SimTrade": "book", "SimulatorBase": "simulator",
    "broker_environ": "wiring", "generate_credential": "simulator", "wire": "wiring",
    "wire_all": "wiring",
}

__all__ = [
    "ConnectionDropped",
    "Faults",
    "Harness",
    "InProcessTransport",
    "Listing",
    "LoginPage",
    "OrderBook",
    "PositionRow",
    "ServerThread",
    "SimFunds",
    "SimHolding",
    "SimOrder",
    "SimRefusal",
    "SimTrade",
    "SimulatorBase",
    "big_universe",
    "broker_environ",
    "future_symbol",
    "generate_credential",
    "monthly_expiry",
    "option_symbol",
    "universe",
    "wire",
    "wire_all",
]


__getattr__, __dir__ = lazy(__name__, _LAZY, globals())
