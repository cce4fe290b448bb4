"""Run a simulator in-process (sync httpx transport over ASGI) or on a real socket.

Either way a simulator raising :class:`ConnectionDropped` drops the connection
without a reply, and the client sees ``httpx.RemoteProtocolError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import anyio
import httpx
import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

__all__ = ["ConnectionDropped", "InProcessTransport", "ServerThread"]

ASGIApp = Any


class ConnectionDropped(Exception):
    """Raised inside a simulator to drop the connection without a reply."""


class InProcessTransport(httpx.BaseTransport):
    """A synchronous httpx transport that calls an ASGI app in this process.

    Each request runs the app in a fresh event loop in the calling thread, so
    the transport holds no thread and needs no closing; concurrent requests from
    several threads run side by side. Honours the request's read timeout
    (``httpx.ReadTimeout``) and turns :class:`ConnectionDropped` into
    ``httpx.RemoteProtocolError``, as a real socket would.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        timeout = (request.extensions.get("timeout") or {}).get("read")
        status, headers, content = anyio.run(self._run, request, body, timeout)
        return httpx.Response(status, headers=headers, content=content, request=request)

    async def _run(self, request: httpx.Request, body: bytes,
                   timeout: float | None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        url = request.url
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": request.method, "scheme": url.scheme, "path": url.path,
            "raw_path": url.raw_path.split(b"?")[0], "query_string": url.query,
            "root_path": "", "headers": [(k.lower(), v) for k, v in request.headers.raw],
            "client": ("127.0.0.1", 50000), "server": (url.host, url.port or 80),
            "extensions": {},
        }
        sent = False
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await anyio.sleep_forever()
            raise AssertionError("unreachable")  # pragma: no cover

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            with anyio.fail_after(timeout):
                await self.app(scope, receive, send)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out waiting for the simulator",
                                    request=request) from None
        except ConnectionDropped:
            raise httpx.RemoteProtocolError("server disconnected without sending a response",
                                            request=request) from None
        return start["status"], list(start.get("headers", [])), b"".join(chunks)


class _Protocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol, but :class:`ConnectionDropped` aborts the connection
    with no reply and nothing logged (uvicorn alone answers 500 and logs a traceback)."""

    app: ASGIApp
    transport: asyncio.Transport

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lost = False
        app = self.app

        async def dropping(scope: Any, receive: Any, send: Any) -> None:
            try:
                await app(scope, receive, send)
            except ConnectionDropped:
                self.transport.abort()
                for _ in range(8):  # until uvicorn marks the request disconnected
                    if self._lost:
                        break
                    await asyncio.sleep(0)

        self.app = dropping

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        super().connection_lost(exc)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """Serve an ASGI app with uvicorn on a background thread (real sockets); over TLS
    when given a certificate and its key (PEM files), as every real broker serves."""

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, *,
                 ssl_certfile: str | None = None, ssl_keyfile: str | None = None) -> None:
        if (ssl_certfile is None) != (ssl_keyfile is None):
            raise ValueError("TLS needs both a certificate and its key")
        self.host = host
        self.port = port or free_port(host)
        self.scheme = "https" if ssl_certfile else "http"
        config = uvicorn.Config(app, host=host, port=self.port, log_level="warning",
                                lifespan="off", access_log=False, proxy_headers=False,
                                http=_Protocol,
                                ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run, daemon=True,
                                        name=f"uvicorn:{self.port}")

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C raises KeyboardInterrupt here)."""
        while self._thread.is_alive():
            self._thread.join(timeout=0.5)

    def stop(self) -> None:
        """Stop serving; requests still in flight (a stalled reply) are not waited for."""
        self.server.should_exit = self.server.force_exit = True
        self._thread.join(timeout=10)

    @contextlib.contextmanager
    def running(self) -> Iterator[str]:
        self.start()
        try:
            yield self.url
        finally:
            self.stop()
