"""Fault injection in front of a simulator's routes: what goes wrong, and how often."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.routing import Route

from .transport import ConnectionDropped

if TYPE_CHECKING:
    from .simulator import SimulatorBase

__all__ = ["Faults", "FaultMiddleware"]

#: What a ``malformed`` reply's body becomes: JSON cut short.
MALFORMED_BODY = b'{"status": tru'


@dataclass
class Faults:
    """What goes wrong, and how often.

    Every fault acts only on requests in ``scope`` (``orders``: the simulator's
    ``order_paths``; ``reads``: every other request), except ``rate_limit_per_second``,
    which counts orders. Counters (``drop_after_accept``, ``error_after_accept``,
    ``malformed``, ``rate_limit_next``, ``reject_orders``) act on the next N matching
    requests; ``error_after_accept`` books the order, then answers the broker's 5xx.
    ``mutate``, while set, gets the body of every matching reply and returns the body
    to send: a check rewrites one field of the reply it aims at and passes the others
    through (set in-process only: it is not part of ``/_sim/faults``).
    """

    latency_ms: float = 0.0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    rate_limit_per_second: int = 0
    drop_after_accept: int = 0
    error_after_accept: int = 0
    stall_after_accept_ms: float = 0.0
    malformed: int = 0
    rate_limit_next: int = 0
    reject_orders: int = 0
    #: the ``Retry-After`` header of rate-limited replies (``""``: none), e.g. ``"abc"``
    retry_after: str = ""
    scope: Literal["all", "orders", "reads"] = "all"
    mutate: Callable[[bytes], bytes] | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict[str, Any]:
        """The faults as ``/_sim/faults`` shows them (``mutate``: whether one is set)."""
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["mutate"] = self.mutate is not None
        return data


class FaultMiddleware:
    """The simulator's ASGI app: faults first, then the routes.

    Plain paths with async endpoints (``exact``) are dispatched by a dict lookup;
    Starlette routes the rest (path parameters, sync endpoints, mounts) and answers
    404/405. A client that disconnects mid-request ends the request quietly.
    """

    def __init__(self, app: Any, sim: SimulatorBase, exact: Mapping[str, Route]) -> None:
        self.app = app
        self.sim = sim
        self.exact = exact

    async def dispatch(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            route = self.exact.get(scope["path"]) if scope["type"] == "http" else None
            if route is None or scope["method"] not in (route.methods or ()):
                await self.app(scope, receive, send)
                return
            response = await route.endpoint(Request(scope, receive))
            await response(scope, receive, send)
        except ClientDisconnect:
            return

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_sim/"):
            await self.dispatch(scope, receive, send)
            return
        sim, faults = self.sim, self.sim.faults
        is_order = scope["path"] in sim.order_paths and scope["method"] == "POST"
        applies = faults.scope == "all" or (faults.scope == "orders") == is_order
        sim.stats["requests"] += 1
        if applies and faults.latency_ms:
            await anyio.sleep(faults.latency_ms / 1000)
        if ((is_order and sim._over_rate()) or (applies and sim._roll(faults.rate_limit_rate))
                or (applies and sim._take("rate_limit_next"))):
            sim.stats["refused"] += 1
            refusal = sim.rate_limited_response()
            if faults.retry_after:
                refusal.headers["Retry-After"] = faults.retry_after
            await refusal(scope, receive, send)
            return
        if applies and sim._roll(faults.error_rate):
            await sim.server_error_response()(scope, receive, send)
            return
        if is_order and sim._take("reject_orders"):
            await sim.order_rejected_response()(scope, receive, send)
            return
        if is_order:
            sim.stats["orders"] += 1
        rewrites = applies and (faults.malformed or faults.mutate is not None)
        if not (rewrites or (is_order and (faults.drop_after_accept or faults.stall_after_accept_ms
                                           or faults.error_after_accept))):
            await self.dispatch(scope, receive, send)  # no fault acts on the reply
            return
        await self._faulty_reply(scope, receive, send, is_order=is_order, applies=applies)

    async def _faulty_reply(self, scope: dict[str, Any], receive: Any, send: Any, *,
                            is_order: bool, applies: bool) -> None:
        sim = self.sim
        start: dict[str, Any] = {}
        body: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                body.append(message.get("body", b""))

        await self.dispatch(scope, receive, capture)
        if not start:  # the client went away
            return
        if is_order and sim._take("drop_after_accept"):
            raise ConnectionDropped
        if is_order and sim._take("error_after_accept"):
            await sim.server_error_response()(scope, receive, send)
            return
        if is_order and sim.faults.stall_after_accept_ms:
            await anyio.sleep(sim.faults.stall_after_accept_ms / 1000)
        content = b"".join(body)
        if applies and sim._take("malformed"):
            content = MALFORMED_BODY
        elif applies and (mutate := sim.faults.mutate) is not None:
            content = mutate(content)
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(content)).encode()))
        await send({"type": "http.response.start", "status": start.get("status", 500),
                    "headers": headers})
        await send({"type": "http.response.body", "body": content})
