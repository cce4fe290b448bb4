"""The broker contract: one hookspec per operation (pluggy project ``"openalgo"``).

Every operation hook is ``firstresult=True`` and is called with keyword
arguments only (the registry never passes positionals). A broker's hookimpls
take whichever of the arguments they need and declare no defaulted parameters
(pluggy would silently never pass them).
Returning ``None`` means "not supported" and surfaces as
:class:`~openalgo_core.errors.UnsupportedOperationError`.

Full reference with examples: ``docs/hooks.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .config import Credentials
    from .http import BrokerClient, ProgressCallback
    from .info import BrokerInfo
    from .instruments import InstrumentIndex
    from .models import (
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

PROJECT = "openalgo"
#: The version of this contract. A plugin declares the one it was built for in
#: ``BrokerInfo.core_api``; a mismatch makes the registry refuse the plugin.
CORE_API = 2
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec(firstresult=True)
def broker_info() -> BrokerInfo:  # type: ignore[empty-body]
    """Declare the broker: id, exchanges, products, credentials, limits, ``core_api``.

    Returns:
        The plugin's :class:`BrokerInfo`. Called once when the plugin is loaded.
    """


@hookspec(firstresult=True)
def authenticate(credentials: Credentials,  # type: ignore[empty-body]
                 client: BrokerClient) -> Session | LoginChallenge:
    """Log in with stored credentials.

    Args:
        credentials: the broker's resolved credentials (``credentials.totp()``
            gives a fresh TOTP when a secret is configured).
        client: the broker's HTTP client; use ``kind="login"`` (never retried).

    Returns:
        A :class:`Session` when the login completed unattended, or a
        :class:`LoginChallenge` (URL to open or code to ask for) that
        :func:`handle_callback` completes.

    Raises:
        AuthenticationError: the broker refused the credentials.
        MissingCredentialsError: a field the login needs is not set.
    """


@hookspec(firstresult=True)
def handle_callback(credentials: Credentials, client: BrokerClient,  # type: ignore[empty-body]
                    challenge: LoginChallenge, params: Mapping[str, str]) -> Session:
    """Finish a login from what the broker or the user's form sent back.

    Args:
        credentials: as for :func:`authenticate`.
        client: the broker's HTTP client.
        challenge: the challenge :func:`authenticate` issued; the core has
            already checked that ``params["state"]`` matches ``challenge.state``.
        params: the callback's query or form parameters (e.g. ``{"code": "123456"}``).

    Returns:
        The new :class:`Session`.

    Raises:
        AuthenticationError: wrong code, or the broker refused.
    """


@hookspec(firstresult=True)
def place_order(order: OrderRequest, instrument: Instrument,  # type: ignore[empty-body]
                session: Session, credentials: Credentials,
                client: BrokerClient) -> OrderReceipt:
    """Send one order; return the broker's acknowledgement (not a fill).

    Args:
        order: the validated order; ``order.tag`` is always set (unique) and
            should be sent in the broker's tag field when it has one.
        instrument: the resolved instrument (broker symbol, token, lot, tick);
            quantity and prices are already checked against it.
        session: a live session.
        credentials: as for :func:`authenticate`.
        client: send with ``kind="order"`` and ``tag=order.tag``.

    Returns:
        An :class:`OrderReceipt` carrying the broker's order id; never a receipt
        without one.

    Raises:
        OrderRejectedError: the broker refused (even with HTTP 200).
        OrderStatusUnknownError: sent but no definitive answer (raised by the client).
        SessionExpiredError: the session is no longer valid.
        BrokerResponseError: the reply could not be understood.
    """


@hookspec(firstresult=True)
def fetch_positions(session: Session, credentials: Credentials,  # type: ignore[empty-body]
                    client: BrokerClient, instruments: InstrumentIndex) -> list[Position]:
    """Read the day's position book.

    Args:
        session: a live session.
        credentials: as for :func:`authenticate`.
        client: send with ``kind="read"`` (retried safely).
        instruments: the broker's index, to map broker tokens or symbols back
            to OpenAlgo symbols.

    Returns:
        Unified :class:`Position` rows, closed ones (quantity 0) included; ``[]``
        for an empty book.

    Raises:
        SessionExpiredError, BrokerResponseError, BrokerServerError.
    """


@hookspec(firstresult=True)
def fetch_order_book(session: Session, credentials: Credentials,  # type: ignore[empty-body]
                     client: BrokerClient, instruments: InstrumentIndex) -> list[Order]:
    """Read every order of the day.

    Args:
        session, credentials: as for :func:`fetch_positions`.
        client: send with ``kind="read"``.
        instruments: to map broker rows back to OpenAlgo symbols.

    Returns:
        Unified :class:`Order` rows in OpenAlgo's status vocabulary, each with its
        filled quantity, average price, the broker's reason (for a rejection) and the tag
        it was sent with (None where the broker's book does not echo tags); ``[]`` when
        empty.

    Raises:
        SessionExpiredError, BrokerResponseError, BrokerServerError.
    """


@hookspec(firstresult=True)
def fetch_order(order_id: str, session: Session,  # type: ignore[empty-body]
                credentials: Credentials, client: BrokerClient,
                instruments: InstrumentIndex) -> Order:
    """Read one order's current state.

    Args:
        order_id: the broker's order id (from an :class:`OrderReceipt` or the book).
        session, credentials, client, instruments: as for :func:`fetch_order_book`.

    Returns:
        The :class:`Order`.

    Raises:
        OrderNotFoundError: the broker knows no order with this id.
        SessionExpiredError, BrokerResponseError, BrokerServerError.
    """


@hookspec(firstresult=True)
def cancel_order(order: Order, session: Session,  # type: ignore[empty-body]
                 credentials: Credentials, client: BrokerClient) -> OrderReceipt:
    """Cancel an open (or trigger-pending) order.

    Args:
        order: the order as the book shows it now (the core read it just before).
        session, credentials: as for :func:`place_order`.
        client: send with ``kind="order"`` (never resent after it left).

    Returns:
        An :class:`OrderReceipt` for the cancelled order's id.

    Raises:
        OrderRejectedError: the broker refused (the order is complete, cancelled,
            rejected, or unknown to it).
        OrderStatusUnknownError: sent, no definitive answer: read the order again.
        SessionExpiredError, BrokerResponseError.
    """


@hookspec(firstresult=True)
def modify_order(order: Order, change: OrderRequest,  # type: ignore[empty-body]
                 instrument: Instrument, session: Session, credentials: Credentials,
                 client: BrokerClient) -> OrderReceipt:
    """Modify an open (or trigger-pending) order's quantity, price, trigger or price type.

    Args:
        order: the order as the book shows it now.
        change: the whole order as it should stand (same symbol, exchange, side and
            product; validated, and checked against ``instrument``'s lot and tick). Its
            ``tag`` is the order's own when the book shows one the core could carry,
            else a new one: never send it as a new tag for the order.
        instrument: the resolved instrument.
        session, credentials: as for :func:`place_order`.
        client: send with ``kind="order"``.

    Returns:
        An :class:`OrderReceipt` for the modified order's id.

    Raises:
        OrderRejectedError: the broker refused (not open any more, or the change).
        OrderStatusUnknownError: sent, no definitive answer: read the order again.
        SessionExpiredError, BrokerResponseError.
    """


@hookspec(firstresult=True)
def fetch_trade_book(session: Session, credentials: Credentials,  # type: ignore[empty-body]
                     client: BrokerClient, instruments: InstrumentIndex) -> list[Trade]:
    """Read the day's fills.

    Args:
        session, credentials, client, instruments: as for :func:`fetch_order_book`.

    Returns:
        Unified :class:`Trade` rows; ``[]`` when nothing filled.

    Raises:
        SessionExpiredError, BrokerResponseError, BrokerServerError.
    """


@hookspec(firstresult=True)
def fetch_funds(session: Session, credentials: Credentials,  # type: ignore[empty-body]
                client: BrokerClient) -> Funds:
    """Read the account's funds and margins.

    Args:
        session, credentials: as for :func:`fetch_positions`.
        client: send with ``kind="read"``.

    Returns:
        :class:`Funds`: available cash, collateral, used margin, realised and
        unrealised P&L.

    Raises:
        SessionExpiredError, BrokerResponseError, BrokerServerError.
    """


@hookspec(firstresult=True)
def fetch_holdings(session: Session, credentials: Credentials,  # type: ignore[empty-body]
                   client: BrokerClient, instruments: InstrumentIndex) -> list[Holding]:
    """Read the long-term holdings (demat).

    Args:
        session, credentials, client, instruments: as for :func:`fetch_order_book`.

    Returns:
        Unified :class:`Holding` rows; ``[]`` when there are none.

    Raises:
        SessionExpiredError, BrokerResponseError, BrokerServerError.
    """


@hookspec(firstresult=True)
def fetch_instruments(client: BrokerClient, progress: ProgressCallback,  # type: ignore[empty-body]
                      session: Session | None) -> Iterable[Instrument]:
    """Download and parse the broker's master contract.

    Args:
        client: use ``client.download(url, progress=progress)``.
        progress: called with ``(bytes_done, bytes_total_or_None)``.
        session: the live session, or None when not logged in: for a master contract
            behind the broker's auth (a public one ignores it; declare it only if needed).

    Returns:
        Every instrument as a unified :class:`Instrument` (OpenAlgo symbol and
        exchange, plus the broker's symbol, exchange and token).

    Raises:
        BrokerResponseError: the file is not in the documented format.
        AuthenticationError: the file needs a session and there is none.
    """


@hookspec(firstresult=True)
def broker_simulator(environ: Mapping[str, str]) -> Any:
    """Build this broker's simulator (optional, but every shipped plugin has one).

    Args:
        environ: where the simulator reads the credentials it accepts
            (``OPENALGO_<ID>_<FIELD>``, the same variables the plugin reads).

    Returns:
        An :class:`openalgo_core.testing.SimulatorBase` subclass instance; its
        ``app`` attribute is the ASGI application. Import the simulator module
        inside the hookimpl so that normal use never needs the ``testing`` extra.
    """


OPERATION_HOOKS = ("authenticate", "handle_callback", "place_order", "fetch_positions",
                   "fetch_order_book", "fetch_order", "cancel_order", "modify_order",
                   "fetch_trade_book", "fetch_funds", "fetch_holdings", "fetch_instruments")
