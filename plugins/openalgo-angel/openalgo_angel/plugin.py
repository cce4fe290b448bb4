"""The hook surface of the Angel One plugin: thin delegation, nothing else.

Entry point ``angel = "openalgo_angel.plugin"`` in group ``openalgo.brokers``.
Importing this module (which the registry does to list and load the plugin)
imports only the declaration in :mod:`openalgo_angel`; the modules doing the work,
and the core's order models they use, are imported on a hook's first call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from openalgo_core.hookspecs import hookimpl
from openalgo_core.info import BrokerInfo

from . import INFO

if TYPE_CHECKING:
    from openalgo_core import (
        BrokerClient,
        Credentials,
        Instrument,
        InstrumentIndex,
        LoginChallenge,
        OrderReceipt,
        OrderRequest,
        Position,
        Session,
    )
    from openalgo_core.http import ProgressCallback


@hookimpl
def broker_info() -> BrokerInfo:
    return INFO


@hookimpl
def authenticate(credentials: Credentials, client: BrokerClient) -> Session | LoginChallenge:
    from . import auth

    return auth.authenticate(credentials, client)


@hookimpl
def handle_callback(credentials: Credentials, client: BrokerClient,
                    params: Mapping[str, str]) -> Session:
    from . import auth

    return auth.handle_callback(credentials, client, params)


@hookimpl
def place_order(order: OrderRequest, instrument: Instrument, session: Session,
                credentials: Credentials, client: BrokerClient) -> OrderReceipt:
    from . import orders

    return orders.place_order(order, instrument, session, credentials, client)


@hookimpl
def fetch_positions(session: Session, credentials: Credentials, client: BrokerClient,
                    instruments: InstrumentIndex) -> list[Position]:
    from . import positions

    return positions.fetch_positions(session, credentials, client, instruments)


@hookimpl
def fetch_instruments(client: BrokerClient, progress: ProgressCallback) -> list[Instrument]:
    from . import instruments

    return instruments.fetch_instruments(client, progress)


@hookimpl
def broker_simulator(environ: Mapping[str, str]) -> Any:
    from .simulator import AngelSimulator  # needs the testing extra; import only when asked

    return AngelSimulator(environ=environ)
