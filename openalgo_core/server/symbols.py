"""The master contract, core-side for every broker, in OpenAlgo's shapes: search,
symbol, expiry, instruments (JSON or CSV).

Rows carry OpenAlgo's ``symtoken`` columns: ``symbol brsymbol name exchange brexchange
token expiry strike lotsize instrumenttype tick_size`` (``expiry`` as ``DD-MMM-YY``, ""
for none; ``strike`` 0 for none).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.responses import Response

from ..codes import Exchange
from ..errors import ValidationError
from ..models import Instrument
from .bodies import ExpiryBody, SearchBody, SymbolBody
from .errors import API_ERRORS

if TYPE_CHECKING:
    from ..instruments import InstrumentIndex
    from .app import Api

__all__ = ["COLUMNS", "MAX_SEARCH", "instrument_row", "register", "search"]

MAX_SEARCH = 100
COLUMNS = ("symbol", "brsymbol", "name", "exchange", "brexchange", "token", "expiry",
           "strike", "lotsize", "instrumenttype", "tick_size")


def instrument_row(i: Instrument) -> dict[str, Any]:
    return {"symbol": i.symbol, "brsymbol": i.broker_symbol, "name": i.name,
            "exchange": i.exchange, "brexchange": i.broker_exchange, "token": i.token,
            "expiry": i.expiry.strftime("%d-%b-%y").upper() if i.expiry else "",
            "strike": float(i.strike) if i.strike is not None else 0.0,
            "lotsize": i.lot_size, "instrumenttype": i.instrument_type,
            "tick_size": float(i.tick_size)}


def _exchange(value: str | None) -> str | None:
    """An exchange code, upper-cased, or None.

    Raises:
        ValidationError: not one of OpenAlgo's exchange codes.
    """
    if value is None:
        return None
    code = value.strip().upper()
    if code not in Exchange.__members__.values():
        raise ValidationError(f"exchange: unknown exchange {value!r} (one of"
                              f" {', '.join(Exchange)})", field="exchange")
    return code


def search(index: InstrumentIndex, query: str, exchange: str | None,
           limit: int = MAX_SEARCH) -> list[Instrument]:
    """Instruments on ``exchange`` (any, if None) whose symbol, name or broker symbol
    contains every word of ``query`` (case-insensitive): ``NIFTY 24000 CE``."""
    return index.search(query, limit, exchange=exchange)


def _csv(rows: Iterator[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def register(app: FastAPI, api: Api) -> None:
    gw = api.gateway

    def index(broker: str) -> InstrumentIndex:
        return gw.instruments(broker)

    @app.post("/api/v1/search", tags=["symbols"], responses=API_ERRORS)
    def search_symbols(request: Request, body: SearchBody) -> dict[str, Any]:
        """Instruments matching every word of ``query`` (at most 100)."""
        broker = api.broker(request, body)
        hits = search(index(broker), body.query, body.exchange)
        return {"status": "success", "message": f"Found {len(hits)} matching symbols",
                "data": [instrument_row(i) for i in hits]}

    @app.post("/api/v1/symbol", tags=["symbols"], responses=API_ERRORS)
    def symbol(request: Request, body: SymbolBody) -> dict[str, Any]:
        """One instrument (400 naming close matches when the symbol is unknown)."""
        broker = api.broker(request, body)
        found = gw.resolve(broker, body.symbol.strip().upper(), body.exchange)
        return {"status": "success", "data": instrument_row(found)}

    @app.post("/api/v1/expiry", tags=["symbols"], responses=API_ERRORS)
    def expiry(request: Request, body: ExpiryBody) -> dict[str, Any]:
        """The expiry dates of an underlying's futures or options, nearest first."""
        broker = api.broker(request, body)
        exchange = body.exchange
        name = body.symbol.strip().upper()
        kinds = {"FUT"} if body.instrumenttype == "futures" else {"CE", "PE"}
        found = index(broker)
        dates = sorted({i.expiry for i in found.search(name, len(found), exchange=exchange)
                        if i.expiry is not None and i.name.upper() == name
                        and i.instrument_type in kinds})
        return {"status": "success",
                "message": f"Found {len(dates)} expiry dates for {name} {body.instrumenttype}"
                           f" in {exchange}",
                "data": [d.strftime("%d-%b-%y").upper() for d in dates]}

    @app.get("/api/v1/instruments", tags=["symbols"], responses={
        **API_ERRORS, 200: {"content": {"application/json": {}, "text/csv": {}},
                            "description": "the rows as JSON, or CSV with format=csv"}})
    def instruments(request: Request,
                    apikey: Annotated[str | None, Query(max_length=256)] = None,
                    exchange: Annotated[str | None, Query(max_length=16)] = None,
                    format: Annotated[Literal["json", "csv"], Query()] = "json",
                    broker: Annotated[str | None, Query(max_length=32)] = None) -> Any:
        """The whole master contract, or one exchange's (a GET, as OpenAlgo's)."""
        api.check_key(request, apikey, orders=False)
        name = api.broker_named(broker)
        code = _exchange(exchange)
        rows = (instrument_row(i) for i in index(name) if code is None or i.exchange == code)
        if format == "csv":
            filename = f"instruments_{code or 'all'}.csv"
            return Response(_csv(rows), media_type="text/csv", headers={
                "Content-Disposition": f'attachment; filename="{filename}"'})
        data = list(rows)
        return {"status": "success", "message": f"Found {len(data)} instruments", "data": data}
