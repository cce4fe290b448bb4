"""OpenAlgo ``/api/v1`` endpoints this gateway does not implement: each answers 501 in
OpenAlgo's error shape, saying what is unsupported and why, so a client can tell "not
here" from a wrong URL (404)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from .errors import ErrorReply, error

__all__ = ["UNSUPPORTED", "register"]

_MARKET_DATA = ("live market data, which no openalgo-core broker hook provides yet")
_OPTIONS = ("option strikes picked by offset (ATM, ITM, OTM) or greeks, which need live"
            " market data no openalgo-core broker hook provides yet")

#: OpenAlgo endpoint -> why this gateway does not answer it
UNSUPPORTED: dict[str, str] = {
    "quotes": _MARKET_DATA,
    "multiquotes": _MARKET_DATA,
    "depth": _MARKET_DATA,
    "history": _MARKET_DATA,
    "intervals": "historical data intervals: history needs " + _MARKET_DATA,
    "ticker": _MARKET_DATA,
    "optionchain": _OPTIONS,
    "optiongreeks": _OPTIONS,
    "multioptiongreeks": _OPTIONS,
    "optionsymbol": _OPTIONS,
    "optionsorder": _OPTIONS,
    "optionsmultiorder": _OPTIONS,
    "syntheticfuture": _OPTIONS,
    "margin": "margin calculation, which is not in the broker contract",
    "placegttorder": "GTT orders, which are not in the broker contract",
    "modifygttorder": "GTT orders, which are not in the broker contract",
    "cancelgttorder": "GTT orders, which are not in the broker contract",
    "gttorderbook": "GTT orders, which are not in the broker contract",
    "analyzer": "analyzer (paper trading) mode: every order this gateway accepts goes to"
                " the broker",
    "telegram": "notifications, which are not part of this gateway",
    "whatsapp": "notifications, which are not part of this gateway",
    "chart": "chart preferences, which are not part of this gateway",
    "pnl": "P&L by symbol, which is not part of this gateway yet",
    "portfolio": "portfolio analytics, which are not part of this gateway",
    "sip": "SIP orders, which are not in the broker contract",
    "market/holidays": "the market calendar, which is not part of this gateway",
    "market/timings": "the market calendar, which is not part of this gateway",
}


def _message(name: str) -> str:
    return f"{name} is not supported by this gateway: it needs {UNSUPPORTED[name]}"


def _answer(message: str) -> Callable[[], JSONResponse]:
    def answer() -> JSONResponse:
        return error(501, message)
    return answer


def register(app: FastAPI) -> None:
    """A GET and POST route (and its sub-paths, such as ``analyzer/toggle``) per name."""
    for name in UNSUPPORTED:
        answer = _answer(_message(name))
        for path in (f"/api/v1/{name}", f"/api/v1/{name}/{{rest:path}}"):
            for method in ("GET", "POST"):
                app.add_api_route(
                    path, answer, methods=[method], tags=["unsupported"], status_code=501,
                    include_in_schema=not path.endswith("path}"),
                    operation_id=f"{method.lower()}_{name.replace('/', '_')}"
                                 f"{'_sub' if path.endswith('path}') else ''}",
                    summary=f"{name}: not supported (501)", description=_message(name),
                    responses={501: {"model": ErrorReply, "description": _message(name)}})
