"""The hookimpls of a kit-built broker, in one object.

A broker package's ``plugin.py`` is its declaration and one line::

    from openalgo_core.kit.hooks import KitHooks
    from . import INFO

    hooks = KitHooks(INFO, broker="openalgo_mybroker.broker:MyBroker",
                     simulator="openalgo_mybroker.simulator:MySimulator")

with the entry point ``mybroker = "openalgo_mybroker.plugin:hooks"``. Importing it
imports neither pydantic nor httpx (listing plugins stays cheap): the broker class
(a :class:`~openalgo_core.kit.rest.RestBroker`) is imported and built on the first
hook call, and the simulator only when asked for.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..hookspecs import hookimpl
from ..info import BrokerInfo

if TYPE_CHECKING:
    from ..config import Credentials
    from ..http import BrokerClient, ProgressCallback
    from ..instruments import InstrumentIndex
    from ..models import (
        Funds,
        Holding,
        Instrument,
        LoginChallenge,
        Order,
        OrderReceipt,
        OrderRequest,
        Position,
        Session,
        Trade,
    )
    from .rest import RestBroker

__all__ = ["KitHooks", "load"]


def load(reference: str) -> Any:
    """``"package.module:Name"`` -> the object."""
    module, _, name = reference.partition(":")
    return getattr(importlib.import_module(module), name)


class KitHooks:
    """Every operation hook, delegated to one lazily built broker instance.

    Args:
        info: the broker's declaration.
        broker: ``"module:Class"`` of its :class:`RestBroker` subclass.
        simulator: ``"module:Class"`` of its simulator (needs the ``testing`` extra).
    """

    def __init__(self, info: BrokerInfo, *, broker: str, simulator: str | None = None) -> None:
        self.info = info
        self._reference = broker
        self._simulator = simulator
        self._broker: RestBroker | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"KitHooks({self.info.id!r}, broker={self._reference!r})"

    @property
    def broker(self) -> RestBroker:
        """The broker instance (built on first use)."""
        if self._broker is None:
            with self._lock:
                if self._broker is None:
                    self._broker = load(self._reference)()
        return self._broker

    @hookimpl
    def broker_info(self) -> BrokerInfo:
        return self.info

    @hookimpl
    def authenticate(self, credentials: Credentials,
                     client: BrokerClient) -> Session | LoginChallenge:
        return self.broker.authenticate(credentials, client)

    @hookimpl
    def handle_callback(self, credentials: Credentials, client: BrokerClient,
                        challenge: LoginChallenge, params: Mapping[str, str]) -> Session:
        return self.broker.handle_callback(credentials, client, challenge, params)

    @hookimpl
    def place_order(self, order: OrderRequest, instrument: Instrument, session: Session,
                    credentials: Credentials, client: BrokerClient) -> OrderReceipt:
        return self.broker.place_order(order, instrument, session, credentials, client)

    @hookimpl
    def fetch_positions(self, session: Session, credentials: Credentials,
                        client: BrokerClient, instruments: InstrumentIndex) -> list[Position]:
        return self.broker.fetch_positions(session, credentials, client, instruments)

    @hookimpl
    def fetch_order_book(self, session: Session, credentials: Credentials,
                         client: BrokerClient, instruments: InstrumentIndex) -> list[Order]:
        return self.broker.fetch_order_book(session, credentials, client, instruments)

    @hookimpl
    def fetch_order(self, order_id: str, session: Session, credentials: Credentials,
                    client: BrokerClient, instruments: InstrumentIndex) -> Order:
        return self.broker.fetch_order(order_id, session, credentials, client, instruments)

    @hookimpl
    def cancel_order(self, order: Order, session: Session, credentials: Credentials,
                     client: BrokerClient) -> OrderReceipt:
        return self.broker.cancel_order(order, session, credentials, client)

    @hookimpl
    def modify_order(self, order: Order, change: OrderRequest, instrument: Instrument,
                     session: Session, credentials: Credentials,
                     client: BrokerClient) -> OrderReceipt:
        return self.broker.modify_order(order, change, instrument, session, credentials, client)

    @hookimpl
    def fetch_trade_book(self, session: Session, credentials: Credentials,
                         client: BrokerClient, instruments: InstrumentIndex) -> list[Trade]:
        return self.broker.fetch_trade_book(session, credentials, client, instruments)

    @hookimpl
    def fetch_funds(self, session: Session, credentials: Credentials,
                    client: BrokerClient) -> Funds:
        return self.broker.fetch_funds(session, credentials, client)

    @hookimpl
    def fetch_holdings(self, session: Session, credentials: Credentials,
                       client: BrokerClient, instruments: InstrumentIndex) -> list[Holding]:
        return self.broker.fetch_holdings(session, credentials, client, instruments)

    @hookimpl
    def fetch_instruments(self, client: BrokerClient, progress: ProgressCallback,
                          session: Session | None) -> Iterable[Instrument]:
        return self.broker.fetch_instruments(client, progress, session)

    @hookimpl
    def broker_simulator(self, environ: Mapping[str, str]) -> Any:
        if self._simulator is None:
            return None
        return load(self._simulator)(environ=environ)
