"""Webhooks OpenAlgo users point TradingView and ChartInk at, with OpenAlgo's payloads:
``POST /strategy/webhook/<id>`` (``{"symbol", "action", "position_size"}``) and
``POST /chartink/webhook/<id>`` (``{"stocks": "SBIN,INFY", "scan_name": "... BUY ..."}``).

Strategies are declared in ``OPENALGO_HOME/webhooks.toml`` (or the file
``OPENALGO_WEBHOOKS`` names)::

    [[strategy]]
    id = "a-long-random-id"      # the secret part of the URL
    name = "breakout"            # the orders' strategy
    platform = "tradingview"     # or "chartink"
    mode = "LONG"                # TradingView: LONG, SHORT or BOTH
    broker = "angel"             # optional: default OPENALGO_BROKER
    start_time = "09:20"         # optional (IST): no order before
    end_time = "15:00"           # optional: no entry after
    squareoff_time = "15:15"     # optional: no exit after (nothing squares off by itself)
    active = true                # false: every alert refused
    [[strategy.symbols]]
    symbol = "SBIN"
    exchange = "NSE"
    product = "MIS"
    quantity = 10

Semantics are OpenAlgo's: LONG enters with BUY and exits with SELL (to a flat position),
SHORT the reverse, BOTH trades to ``position_size``; ChartInk's scan name says BUY, SELL
(exit long), SHORT or COVER (exit short).

A delivery is idempotent: each order's tag is derived from the delivery, ``"wh"`` + 18
hex digits of SHA-256 over the webhook id, the body (its JSON re-serialised with sorted
keys, so spacing and key order do not matter), the symbol's position in the delivery and
the minute (UTC) it arrived. A delivery whose tag of the previous minute is already in the
journal reuses that tag. The journal never sends a tag twice, so the same body delivered
again within 60 seconds (at least; up to 120) places one order; an alert meant to trade
twice in a minute must differ in its body (TradingView: add ``{{timenow}}``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from ..errors import ConfigurationError, OpenAlgoError
from ..models import IST
from .errors import API_ERRORS, Refused, error, error_response
from .inputs import SignedWhole, Text, Whole
from .orders import smart_order

if TYPE_CHECKING:
    from .app import Api

__all__ = ["WINDOW", "Strategy", "delivery_tag", "load_strategies", "register"]

WINDOW = 60  # seconds


class SymbolMap(BaseModel):
    """One symbol a strategy trades."""

    model_config = ConfigDict(extra="forbid")

    symbol: Text
    exchange: Text
    product: Text = "MIS"
    quantity: Whole


class Strategy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    name: Text
    platform: Literal["tradingview", "chartink"] = "tradingview"
    mode: Literal["LONG", "SHORT", "BOTH"] = "LONG"
    broker: str | None = None
    symbols: list[SymbolMap] = Field(min_length=1)
    active: bool = True
    start_time: dt.time | None = None
    end_time: dt.time | None = None
    squareoff_time: dt.time | None = None

    def refusal(self, now: dt.time, *, exit_: bool) -> str | None:
        """Why an entry (or an exit) is not taken at ``now`` (IST), or None."""
        if not self.active:
            return f"strategy {self.name} is inactive"
        if self.start_time is not None and now < self.start_time:
            return f"no orders before the start time {self.start_time:%H:%M} IST"
        last, what = ((self.squareoff_time, "square-off") if exit_
                      else (self.end_time, "end"))
        if last is not None and now >= last:
            return f"no {'exits' if exit_ else 'entries'} after the {what} time {last:%H:%M} IST"
        return None


def load_strategies(path: Path) -> dict[str, Strategy]:
    """The strategies in ``path`` by id; none when the file does not exist.

    Raises:
        ConfigurationError: unreadable, not TOML, or a strategy breaks a rule (named).
    """
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(f"cannot read the webhooks file {path}: {exc}") from None
    strategies = []
    for number, entry in enumerate(data.get("strategy", []), 1):
        try:
            strategies.append(Strategy.model_validate(entry))
        except PydanticError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigurationError(f"{path}: strategy {number}: {where}: {first['msg']}"
                                     ) from None
    found = {s.id: s for s in strategies}
    if len(found) != len(strategies):
        raise ConfigurationError(f"{path}: two strategies share an id")
    return found


def delivery_tag(webhook_id: str, body: Any, position: int, minute: int) -> str:
    """The order tag of one symbol of one delivery (see the module docstring)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    digest = hashlib.sha256(f"{webhook_id}\n{minute}\n{position}\n{canonical}".encode())
    return "wh" + digest.hexdigest()[:18]


class TradingViewAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")  # alerts often carry more (price, time)

    symbol: Text
    action: Literal["BUY", "SELL", "buy", "sell"]
    position_size: SignedWhole | None = None


class ChartinkAlert(BaseModel):
    model_config = ConfigDict(extra="ignore")

    stocks: str = Field(default="", max_length=4096)
    scan_name: str = Field(default="", max_length=256)


@dataclass(frozen=True)
class _Order:
    """What one symbol of a delivery asks for: an entry (``quantity``) or a target net
    position (``target``)."""

    mapping: SymbolMap
    action: str
    quantity: int | None = None
    target: int | None = None


def _tradingview(strategy: Strategy, alert: TradingViewAlert) -> list[_Order]:
    mapping = next((m for m in strategy.symbols if m.symbol == alert.symbol), None)
    if mapping is None:
        raise Refused(error(400, f"symbol: no mapping for {alert.symbol} in strategy"
                                 f" {strategy.name}"))
    action = alert.action.upper()
    size = alert.position_size
    if strategy.mode == "BOTH":
        if size is None:
            raise Refused(error(400, "position_size: required in BOTH mode"))
        if (action == "BUY" and size < 0) or (action == "SELL" and size > 0):
            raise Refused(error(400, f"position_size: {action} in BOTH mode needs"
                                     f" position_size {'>=' if action == 'BUY' else '<='} 0"))
        return [_Order(mapping, action, target=size)]
    exit_action = "SELL" if strategy.mode == "LONG" else "BUY"
    if action == exit_action:
        return [_Order(mapping, action, target=0)]
    return [_Order(mapping, action, quantity=abs(size) if size else mapping.quantity)]


_SCANS = (("BUY", "BUY", False), ("SELL", "SELL", True), ("SHORT", "SELL", False),
          ("COVER", "BUY", True))


def _chartink(strategy: Strategy, alert: ChartinkAlert) -> list[_Order]:
    scan = alert.scan_name.upper()
    found = next(((action, exits) for word, action, exits in _SCANS if word in scan), None)
    if found is None:
        raise Refused(error(400, "scan_name: no BUY, SELL, SHORT or COVER in it"))
    action, exits = found
    by_symbol = {m.symbol: m for m in strategy.symbols}
    names = [s.strip().upper() for s in alert.stocks.split(",") if s.strip()]
    orders = [_Order(by_symbol[n], action, target=0) if exits
              else _Order(by_symbol[n], action, quantity=by_symbol[n].quantity)
              for n in names if n in by_symbol]
    if not orders:
        raise Refused(error(400, "stocks: none of them is mapped in strategy"
                                 f" {strategy.name}"))
    return orders


async def _raw_body(request: Request) -> bytes:
    """The body as delivered (already read, bounded by the guard, and valid JSON)."""
    return await request.body()


def register(app: FastAPI, api: Api, strategies: Mapping[str, Strategy],
             clock: Callable[[], float] = time.time) -> None:
    gw = api.gateway

    def strategy_of(request: Request, webhook_id: str, platform: str) -> Strategy:
        found = strategies.get(webhook_id)
        if found is None or found.platform != platform:
            client = request.client.host if request.client else ""
            raise Refused(api.wrong_guess(client, error(404, "Invalid webhook ID")))
        wait = api.api_limit.hit("webhook " + webhook_id)
        if wait:
            raise Refused(error(429, "Rate limit exceeded. Please slow down your requests.",
                                retry_after=round(wait, 3)))
        return found

    def tag(webhook_id: str, body: Any, position: int) -> str:
        minute = int(clock() // WINDOW)
        earlier = delivery_tag(webhook_id, body, position, minute - 1)
        if gw.journal.get(earlier) is not None:
            return earlier
        return delivery_tag(webhook_id, body, position, minute)

    def place(strategy: Strategy, orders: list[_Order], raw: bytes) -> JSONResponse:
        """Each order in turn; 200 when all were placed, else the worst failure's status
        with every order's result. Refused (400) as a whole outside the strategy's hours."""
        now = dt.datetime.fromtimestamp(clock(), IST).time()
        for order in orders:
            why = strategy.refusal(now, exit_=order.target == 0)
            if why is not None:
                return error(400, why)
        body = json.loads(raw)
        broker = api.broker_named(strategy.broker)
        results, statuses = [], [200]
        for position, order in enumerate(orders):
            m = order.mapping
            fields = {"symbol": m.symbol, "exchange": m.exchange, "product": m.product,
                      "action": order.action, "pricetype": "MARKET", "strategy": strategy.name,
                      "tag": tag(strategy.id, body, position)}
            try:
                if order.target is not None:
                    result = smart_order(gw, broker, fields, order.target)
                else:
                    receipt = gw.place_order(broker, {**fields, "quantity": order.quantity})
                    result = {"orderid": receipt.order_id, "status": "success"}
            except OpenAlgoError as exc:
                refusal = error_response(exc)
                statuses.append(refusal.status_code)
                result = {"status": "error", "message": json.loads(bytes(refusal.body))["message"]}
            results.append({"symbol": m.symbol, **result})
        placed = sum(r["status"] == "success" for r in results)
        return JSONResponse({"status": "success" if max(statuses) == 200 else "error",
                             "message": f"{placed} of {len(results)} orders placed",
                             "results": results}, status_code=max(statuses))

    @app.post("/strategy/webhook/{webhook_id}", tags=["webhooks"],
              responses=API_ERRORS)
    def tradingview(request: Request, webhook_id: str, alert: TradingViewAlert,
                    raw: Annotated[bytes, Depends(_raw_body)]) -> JSONResponse:
        """A TradingView (or OpenAlgo ``Strategy``) alert for a LONG, SHORT or BOTH
        strategy."""
        strategy = strategy_of(request, webhook_id, "tradingview")
        return place(strategy, _tradingview(strategy, alert), raw)

    @app.post("/chartink/webhook/{webhook_id}", tags=["webhooks"],
              responses=API_ERRORS)
    def chartink(request: Request, webhook_id: str, alert: ChartinkAlert,
                 raw: Annotated[bytes, Depends(_raw_body)]) -> JSONResponse:
        """A ChartInk scan alert: every mapped stock in ``stocks``."""
        strategy = strategy_of(request, webhook_id, "chartink")
        return place(strategy, _chartink(strategy, alert), raw)
