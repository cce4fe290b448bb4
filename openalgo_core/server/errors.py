"""OpenAlgo's error shape, everywhere: ``{"status": "error", "message": ...}``.

Every refusal the server makes (a bad key, a rate limit, bad input, an unknown path, a
broker failure, an endpoint this gateway does not implement) answers in this shape with
a meaningful status; FastAPI's own ``{"detail": ...}`` body never reaches a client, and
nothing answers 422. :data:`API_ERRORS` documents the statuses in the OpenAPI schema.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

from ..errors import (
    AuthenticationError,
    BrokerConnectionError,
    BrokerError,
    ConfigurationError,
    OpenAlgoError,
    OrderNotFoundError,
    OrderNotPlacedError,
    OrderRejectedError,
    OrderStatusUnknownError,
    PluginError,
    PluginNotFoundError,
    RateLimitError,
    UnsupportedOperationError,
    ValidationError,
)

__all__ = ["API_ERRORS", "ErrorReply", "Refused", "error", "error_response", "install",
           "retry_after"]

log = logging.getLogger("openalgo.server")


class ErrorReply(BaseModel):
    """OpenAlgo's error body; some errors add context (``tag``, ``broker``, ``code``,
    ``retry_after``, ``path``)."""

    model_config = ConfigDict(extra="allow")

    status: str = "error"
    message: str


_WHY = {
    400: "bad input (names the field and the rule); nothing was sent",
    401: "the broker session is missing or expired and logging in needs a person",
    403: "invalid openalgo apikey",
    404: "unknown broker, order or path",
    413: "request body too large",
    429: "rate limit exceeded; the Retry-After header says when to try again",
    501: "the broker (or this gateway) does not implement this operation",
    502: "the broker refused or answered badly; an order's outcome may be unknown (tag)",
    503: "the broker is unreachable or the gateway is misconfigured",
    504: "an order was sent and its outcome is still unknown; its tag finds it",
}

#: the error statuses every ``/api/v1`` endpoint can answer, for ``responses=``
API_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorReply, "description": why} for status, why in _WHY.items()}


class Refused(Exception):
    """Stop a request with a ready response (bad key, rate limit, no broker)."""

    def __init__(self, response: Response) -> None:
        self.response = response


def retry_after(seconds: float) -> str:
    """The ``Retry-After`` header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


def error(status: int, message: str, *, headers: dict[str, str] | None = None,
          **extra: Any) -> JSONResponse:
    """OpenAlgo's error shape with ``status``; a 429 always carries ``Retry-After``."""
    if status == 429 and not (headers and "Retry-After" in headers):
        headers = {**(headers or {}), "Retry-After": retry_after(extra.get("retry_after", 1))}
    return JSONResponse({"status": "error", "message": message, **extra}, status_code=status,
                        headers=headers)


def error_response(exc: OpenAlgoError) -> JSONResponse:
    """Map a core error to OpenAlgo's error shape and a meaningful status."""
    if isinstance(exc, ValidationError):
        return error(400, str(exc))
    if isinstance(exc, OrderRejectedError):
        return error(400, exc.reason, code=exc.code, broker=exc.broker)
    if isinstance(exc, OrderStatusUnknownError):
        return error(502 if exc.status_code else 504, str(exc), tag=exc.tag, broker=exc.broker)
    if isinstance(exc, OrderNotPlacedError):  # settled: not live; the tag may be resent
        return error(502, str(exc), tag=exc.tag, broker=exc.broker)
    if isinstance(exc, OrderNotFoundError):
        return error(404, str(exc), broker=exc.broker)
    if isinstance(exc, UnsupportedOperationError):
        return error(501, str(exc))
    if isinstance(exc, PluginNotFoundError):
        return error(404, str(exc))
    if isinstance(exc, AuthenticationError):
        return error(401, str(exc), broker=exc.broker)
    if isinstance(exc, RateLimitError):
        wait = exc.retry_after or 1.0
        return error(429, str(exc), retry_after=wait)
    if isinstance(exc, BrokerConnectionError | ConfigurationError | PluginError):
        return error(503, str(exc))
    if isinstance(exc, BrokerError):
        return error(502, str(exc))
    return error(500, "internal error; see the server log")


def _validation_message(exc: RequestValidationError) -> str:
    """The first problem, as ``field: rule`` (a nested field as ``orders.2.quantity``)."""
    errors = exc.errors()
    if not errors:
        return "invalid request"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query"))
    message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    if first.get("type") == "json_invalid":
        return "the body is not valid JSON"
    if first.get("type") == "missing":
        message = "required"
    elif first.get("type") == "extra_forbidden":
        message = "unknown field"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return (f"{where}: {message}" if where else message) + more


def install(app: FastAPI) -> None:
    """Answer every framework-level refusal in OpenAlgo's shape: an unknown path is
    OpenAlgo's 404 (with ``path``), a wrong method 405, bad input 400, core errors by
    :func:`error_response`."""

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error(400, _validation_message(exc))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error(404, "Not found", path=request.url.path)
        if exc.status_code == 405:
            return error(405, f"method {request.method} not allowed on {request.url.path}",
                         headers=dict(exc.headers or {}))
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(OpenAlgoError)
    async def _core(request: Request, exc: OpenAlgoError) -> JSONResponse:
        if error_response(exc).status_code == 500:
            log.error("unexpected %s on %s: %s", type(exc).__name__, request.url.path, exc)
        return error_response(exc)

    @app.exception_handler(Refused)
    async def _refused(request: Request, exc: Refused) -> Response:
        return exc.response

    framework_schema = app.openapi

    def honest_schema() -> dict[str, Any]:
        """FastAPI's schema without the 422 it documents on every route (this server
        answers bad input with 400)."""
        if app.openapi_schema is None:
            schema = framework_schema()
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            components = schema.get("components", {}).get("schemas", {})
            for name in ("HTTPValidationError", "ValidationError"):
                components.pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = honest_schema  # type: ignore[method-assign]
