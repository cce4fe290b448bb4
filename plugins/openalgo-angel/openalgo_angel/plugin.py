"""The hook surface of the Angel One plugin: thin delegation, nothing else.

Entry point ``angel = "openalgo_angel.plugin"`` in group ``openalgo.brokers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openalgo_core import (
    BrokerClient,
    BrokerInfo,
    Credentials,
    Instrument,
    InstrumentIndex,
    LoginChallenge,
    OrderReceipt,
    OrderRequest,
    Position,
    Session,
    hookimpl,
)
from openalgo_core.http import ProgressCallback

from . import INFO, auth, orders, positions
from . import instruments as scrip_master


@hookimpl
def broker_info() -> BrokerInfo:
    return INFO


@hookimpl
def authenticate(credentials: Credentials, client: BrokerClient) -> Session | LoginChallenge:
    return auth.authenticate(credentials, client)


@hookimpl
def handle_callback(credentials: Credentials, client: BrokerClient,
                    params: Mapping[str, str]) -> Session:
    return auth.handle_callback(credentials, client, params)


@hookimpl
def place_order(order: OrderRequest, instrument: Instrument, session: Session,
                credentials: Credentials, client: BrokerClient) -> OrderReceipt:
    return orders.place_order(order, instrument, session, credentials, client)


@hookimpl
def fetch_positions(session: Session, credentials: Credentials, client: BrokerClient,
                    instruments: InstrumentIndex) -> list[Position]:
    return positions.fetch_positions(session, credentials, client, instruments)


@hookimpl
def fetch_instruments(client: BrokerClient, progress: ProgressCallback) -> list[Instrument]:
    return scrip_master.fetch_instruments(client, progress)


@hookimpl
def broker_simulator(environ: Mapping[str, str]) -> Any:
    from .simulator import AngelSimulator  # needs the testing extra; import only when asked

    return AngelSimulator(environ=environ)
