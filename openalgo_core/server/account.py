"""One broker account's page, the one a trader keeps open all day (``/account/<broker>``).

The page reads the account through the gateway and says what it found in words: logged
in until a time, expired at a time, not logged in, or the broker unreachable (with the
gateway's message, never a traceback). Looking at it never logs in: only a stored, live
session is used. Cancel, modify and logout are POSTed forms carrying the CSRF token
(:func:`.pages.same_site`); a success answers 303 back to the page (so a reload resends
nothing) with a one-shot ``SameSite=Strict`` cookie naming what was done (a link from
elsewhere cannot make the page claim an order was cancelled); a refusal shows the page
again with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..errors import (
    BrokerConnectionError,
    BrokerServerError,
    OpenAlgoError,
    PluginNotFoundError,
    RateLimitError,
    SessionExpiredError,
)
from ..models import IST, Funds, Holding, Order, Position, Trade
from .errors import error_response
from .pages import page, password_check, same_site

if TYPE_CHECKING:
    from ..gateway import Gateway
    from ..journal import Entry
    from .app import Api

__all__ = ["REFRESH_SECONDS", "Account", "read_account", "register"]

log = logging.getLogger("openalgo.server")
REFRESH_SECONDS = 20
NOTE_COOKIE = "openalgo_note"
#: what a successful action says on the page it returns to
NOTES = {"cancelled": "Order {order} cancelled.", "modified": "Order {order} modified.",
         "loggedout": "Logged out."}
_T = TypeVar("_T")


class _Stop(Exception):
    """The broker cannot be read any further this time (unreachable, or the session
    ended): the state already says why."""


@dataclass
class Account:
    """What the page shows. ``state`` is one of ``absent`` (plugin unusable), ``out``
    (not logged in), ``expired``, ``in``, ``unreachable``, ``ended`` (the broker
    ended the session); ``status`` says it in words; ``problems`` are the sections
    that could not be read, in words."""

    broker: str
    name: str
    state: str = "out"
    status: str = "Not logged in"
    funds: Funds | None = None
    positions: list[Position] | None = None
    orders: list[Order] | None = None
    trades: list[Trade] | None = None
    holdings: list[Holding] | None = None
    unresolved: list[Entry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def live(self) -> bool:
        return self.state in ("in", "unreachable")

    @property
    def positions_pnl(self) -> Decimal:
        return sum((p.pnl for p in self.positions or ()), Decimal(0))

    @property
    def holdings_pnl(self) -> Decimal:
        return sum((h.pnl for h in self.holdings or ()), Decimal(0))


def _words(exc: Exception) -> str:
    if isinstance(exc, OpenAlgoError):
        return str(exc)
    return "the broker plugin failed unexpectedly; see the server log"


def read_account(gateway: Gateway, broker: str) -> Account:
    """Read everything the page shows; every failure is kept as words in the result.

    Raises:
        PluginNotFoundError: no such broker installed.
    """
    record = next((r for r in gateway.brokers(load=True) if r.id == broker), None)
    if record is None:
        raise PluginNotFoundError(broker, "no such broker plugin is installed")
    account = Account(broker, record.info.display_name if record.info else broker)
    if record.status != "ok":
        account.state, account.status = "absent", f"{record.status}: {record.reason}"
        return account
    account.unresolved = _unresolved(gateway, broker, account)
    stored = gateway.sessions.get(broker)
    if stored is None:
        return account
    until = f"{stored.expires_at.astimezone(IST):%Y-%m-%d %H:%M} IST"
    if stored.is_expired():
        account.state, account.status = "expired", f"Session expired at {until}"
        return account
    account.state = "in"
    account.status = f"Logged in as {stored.user_id} until {until}"
    try:
        account.funds = _section(account, "funds", lambda: gateway.fetch_funds(broker))
        account.positions = _section(account, "positions",
                                     lambda: gateway.fetch_positions(broker))
        account.orders = _section(account, "order book",
                                  lambda: gateway.fetch_order_book(broker))
        account.trades = _section(account, "trade book",
                                  lambda: gateway.fetch_trade_book(broker))
        account.holdings = _section(account, "holdings",
                                    lambda: gateway.fetch_holdings(broker))
    except _Stop:
        pass
    return account


def _unresolved(gateway: Gateway, broker: str, account: Account) -> list[Entry]:
    try:
        return gateway.journal_entries(broker, unresolved=True)
    except OpenAlgoError as exc:
        account.problems.append(f"order journal: {exc}")
        return []


def _section(account: Account, what: str, read: Callable[[], _T]) -> _T | None:
    """``read()``, or None with the reason kept; raises :class:`_Stop` when nothing
    more can be read (the broker is unreachable, or the session ended)."""
    try:
        return read()
    except SessionExpiredError as exc:
        account.state, account.status = "ended", f"Session ended by the broker: {exc}"
        raise _Stop from exc
    except (BrokerConnectionError, BrokerServerError, RateLimitError) as exc:
        account.state, account.status = "unreachable", f"Broker unreachable: {exc}"
        raise _Stop from exc
    except OpenAlgoError as exc:
        account.problems.append(f"{what}: {exc}")
    except Exception as exc:  # a plugin bug must not take the page down
        log.exception("%s: reading the %s failed", account.broker, what)
        account.problems.append(f"{what}: {_words(exc)}")
    return None


def _form_text(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


def register(app: FastAPI, api: Api) -> None:
    gateway = api.gateway
    guarded = [Depends(password_check(api.env.get("OPENALGO_DASHBOARD_PASSWORD")))]

    def show(request: Request, broker: str, status: int = 200, **extra: Any) -> Response:
        account = read_account(gateway, broker)
        done, _, order = request.cookies.get(NOTE_COOKIE, "").partition(":")
        note = NOTES[done].format(order=order) if done in NOTES else None
        response = page(request, "account.html", status, account=account, note=note,
                        IST=IST, refresh=REFRESH_SECONDS, **extra)
        if note is not None:
            response.delete_cookie(NOTE_COOKIE, path="/account/", samesite="strict",
                                   httponly=True)
        return response

    @app.get("/account/{broker}", include_in_schema=False, dependencies=guarded)
    async def account_page(request: Request, broker: str) -> Response:
        """The account page (reads only; never logs in)."""
        try:
            return await run_in_threadpool(show, request, broker)
        except OpenAlgoError as exc:
            return page(request, "message.html", error_response(exc).status_code,
                        title="No such account", message=str(exc))

    async def act(request: Request, broker: str, done: str,
                  action: Callable[[Any], Any]) -> Response:
        """Run ``action(form)`` for a same-site form; 303 back to the page, or the page
        with the refusal."""
        form = await request.form()
        if not same_site(request, form):
            return page(request, "message.html", 403, title="Refused",
                        message="This form did not come from this gateway's page (a missing"
                                " or stale form token): reload the account page and try"
                                " again.")
        order = _form_text(form, "orderid") or ""
        try:
            await run_in_threadpool(action, form)
        except OpenAlgoError as exc:
            return await run_in_threadpool(show, request, broker,
                                           error_response(exc).status_code, failure=str(exc))
        response = RedirectResponse(f"/account/{broker}", status_code=303)
        shown = order if order.isascii() and order.replace("-", "").isalnum() else ""
        response.set_cookie(NOTE_COOKIE, f"{done}:{shown}", max_age=60, path="/account/",
                            samesite="strict", httponly=True)
        return response

    @app.post("/account/{broker}/cancel", include_in_schema=False, dependencies=guarded)
    async def cancel(request: Request, broker: str) -> Response:
        return await act(request, broker, "cancelled", lambda form: gateway.cancel_order(
            broker, _form_text(form, "orderid") or ""))

    @app.post("/account/{broker}/modify", include_in_schema=False, dependencies=guarded)
    async def modify(request: Request, broker: str) -> Response:
        return await act(request, broker, "modified", lambda form: gateway.modify_order(
            broker, _form_text(form, "orderid") or "",
            quantity=_form_text(form, "quantity"), price=_form_text(form, "price"),
            trigger_price=_form_text(form, "trigger_price"),
            pricetype=_form_text(form, "pricetype")))

    @app.post("/account/{broker}/logout", include_in_schema=False, dependencies=guarded)
    async def logout(request: Request, broker: str) -> Response:
        return await act(request, broker, "loggedout", lambda form: gateway.logout(broker))
