"""The gateway's outer layer (plain ASGI), in the order a request meets it:

1. the ``Host`` header must name this gateway (DNS rebinding: a page at ``evil.example``
   resolving to 127.0.0.1 gets 400, never the dashboard);
2. a client that sent too many wrong API keys gets 429 (with ``Retry-After``) before its
   key is even looked at;
3. an ``X-API-KEY`` header is checked before the body is read (403);
4. the body is bounded: a ``Content-Length`` over the limit is refused (413) unread, and a
   body streamed past it is cut off there and answered 413;
5. anything unexpected answers OpenAlgo's 500 shape, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection, MutableMapping
from typing import Any

from .errors import error

__all__ = ["MAX_BODY", "Guard"]

log = logging.getLogger("openalgo.server")
MAX_BODY = 64 * 1024  # a 100-order basket is ~15 KiB
#: paths a key or a webhook id is guessed on: a client over its allowance is refused
GUARDED = ("/api/", "/strategy/webhook/", "/chartink/webhook/")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def host_name(value: str) -> str:
    """The host of a ``Host`` header, lower-case, without the port (``[::1]:5000`` ->
    ``::1``)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class Guard:
    """Wraps the app. ``hosts``: the host names this gateway answers to; ``key_refusal``:
    given the client's address and the header key (or None), a response refusing it, or
    None to go on."""

    def __init__(self, app: ASGIApp, *, hosts: Collection[str],
                 key_refusal: Callable[[str, str | None], Any],
                 max_body: int = MAX_BODY) -> None:
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)
        self.key_refusal = key_refusal
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", ())}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        started = False
        seen = 0
        too_large = False

        async def bounded() -> Message:
            """The body, cut off (as if it ended) once past the limit."""
            nonlocal seen, too_large
            if too_large:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    too_large = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def watch(message: Message) -> None:
            """The app's answer, unless the body was cut off: then 413 instead."""
            nonlocal started
            if too_large:
                if message["type"] == "http.response.start":
                    started = True
                    await self._too_large()(scope, receive, send)
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, watch)
        except Exception as exc:
            log.error("unexpected %s on %s", type(exc).__name__, scope.get("path"))
            if started:
                raise
            await error(500, "internal error; see the server log")(scope, receive, send)

    def _too_large(self) -> Any:
        return error(413, f"request body too large (at most {self.max_body} bytes)")

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> Any:
        host = host_name(headers.get("host", ""))
        if host not in self.hosts:
            return error(400, f"Host {host or '(none)'!r} is not this gateway's; allowed:"
                              f" {', '.join(sorted(self.hosts))} (OPENALGO_ALLOWED_HOSTS)")
        length = headers.get("content-length", "0").strip()
        if not length.isdigit() or len(length) > 12:
            return error(400, "malformed Content-Length")
        if int(length) > self.max_body:
            return self._too_large()
        path: str = scope.get("path", "")
        if path.startswith(GUARDED):
            client = scope.get("client") or ("", 0)
            return self.key_refusal(str(client[0]), headers.get("x-api-key"))
        return None
