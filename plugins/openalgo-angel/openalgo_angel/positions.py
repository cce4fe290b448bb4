"""getPosition (brokers/angel 1.4) mapped to unified :class:`Position` rows."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from openalgo_core import (
    BrokerClient,
    BrokerResponseError,
    Credentials,
    InstrumentIndex,
    Position,
    Session,
    ValidationError,
)
from openalgo_core.models import to_decimal

from . import _api
from .mapping import PRODUCTS_BACK, SEGMENTS, equity_symbol


def fetch_positions(session: Session, credentials: Credentials, client: BrokerClient,
                    instruments: InstrumentIndex) -> list[Position]:
    """The day's positions, closed ones (net 0) included; ``data: null`` is ``[]``.

    Raises:
        SessionExpiredError: AG8001/AG8002/AG8003.
        BrokerResponseError: ``status: false`` or a row that cannot be read.
    """
    (api_key,) = credentials.require("API_KEY")
    response = client.request(
        "GET", client.url("api", _api.POSITIONS_PATH), kind="read",
        headers=_api.headers(api_key, session.access_token.get_secret_value()))
    data = _api.check(response, call="read").get("data")
    if data is None:
        return []
    if not isinstance(data, list):
        raise _api.unreadable(response, "data is neither a list nor null")
    try:
        return [position(row, instruments) for row in data]
    except BrokerResponseError as exc:
        raise BrokerResponseError(exc.message, broker=_api.BROKER, raw=response.content,
                                  status_code=response.status_code) from None


def position(row: Any, instruments: InstrumentIndex) -> Position:
    """One Angel position row as a :class:`Position`.

    The symbol comes from the master contract by ``(symboltoken, exchange)``;
    failing that, the trading symbol with its series suffix removed. The average
    price is ``avgnetprice``, or the open side's average when Angel leaves it 0.

    Raises:
        BrokerResponseError: a field is missing or not a number, or an unknown
            exchange or product.
    """
    if not isinstance(row, Mapping):
        raise BrokerResponseError(f"position row is not an object: {row!r}"[:200],
                                  broker=_api.BROKER)
    segment, product = _text(row, "exchange"), _text(row, "producttype")
    instrument = instruments.by_token(_text(row, "symboltoken"), segment)
    if instrument is not None:
        symbol, exchange = instrument.symbol, instrument.exchange
    elif segment in SEGMENTS:
        symbol, exchange = equity_symbol(_text(row, "tradingsymbol")), SEGMENTS[segment]
    else:
        raise BrokerResponseError(f"position on unknown exchange {segment!r}",
                                  broker=_api.BROKER)
    if product not in PRODUCTS_BACK:
        raise BrokerResponseError(f"position with unknown producttype {product!r}",
                                  broker=_api.BROKER)
    net = _number(row, "netqty")
    if net != net.to_integral_value():
        raise BrokerResponseError(f"netqty is not whole: {net}", broker=_api.BROKER)
    average = _number(row, "avgnetprice")
    if average == 0 and net:
        average = _number(row, "buyavgprice" if net > 0 else "sellavgprice")
    pnl = (_number(row, "pnl") if "pnl" in row
           else _number(row, "realised") + _number(row, "unrealised"))
    return Position(symbol=symbol, exchange=exchange, product=PRODUCTS_BACK[product],
                    quantity=int(net), average_price=average, ltp=_number(row, "ltp"), pnl=pnl)


def _text(row: Mapping[str, Any], field: str) -> str:
    value = row.get(field)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise BrokerResponseError(f"position row lacks {field}", broker=_api.BROKER)
    return value.strip()


def _number(row: Mapping[str, Any], field: str) -> Decimal:
    try:
        return to_decimal(row.get(field), field)
    except ValidationError as exc:
        raise BrokerResponseError(f"position row: {exc}", broker=_api.BROKER) from None
