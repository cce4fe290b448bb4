"""Kotak Securities' Neo Trade API as facts on the core's broker kit (brokers/kotak-icici A,
sdk-observed.md: what kotakneoapi 3.0.9 sends).

- Replies: ``{"stat": "Ok"|"Not_Ok", "stCode", "errMsg"}`` (``stat`` spelled ``ok`` too, and
  odd failures such as ``"bad request"``), the login envelope ``{"data": {"status":
  "success", ...}}``, ``{"error": [{"code", "message"}]}`` for a missing field, and bare
  ``{"data": ...}`` (holdings, the scrip-master list). ``stCode`` 100022 is the session's
  end; 5203 "No Data" an empty book; 100008 and 1037 the static-IP refusals of orders
  (:data:`STATIC_IP`), 1017 the SEBI algo refusal (:data:`ALGO_REFUSED`).
- Login, the current flow: ``tradeApiLogin`` on the fixed login host with the access token
  raw in ``Authorization`` (no ``Bearer``), ``neo-fin-key`` and ``{mobileNumber, ucc,
  totp}`` answers a view token and sid; ``tradeApiValidate`` with those as ``Auth``/``sid``
  and ``{mpin}`` answers the session token and sid, and the **base URL every later call
  uses**. The TOTP is computed when its secret is stored (unattended), else typed at
  ``/kotak/callback``, with the mobile number and MPIN when they are not configured. The
  seed's ``BROKER_API_KEY``/``BROKER_API_SECRET`` hold the UCC and the access token; a
  value from the retired consumer key/secret flow is refused before anything is sent.
- Calls: ``Sid``, ``Auth`` and ``neo-fin-key`` on every call; the access token in
  ``Authorization`` too on orders, quotes and the scrip-master list (as the SDK does).
  Orders are form-encoded ``jData`` JSON with Kotak's short keys, every value text, our tag
  in ``ig`` (echoed as ``GuiOrdId`` in the books: reconciliation finds an order by it).
- Books: orders, trades, positions (``portfolio/v2/positions``, valued by
  :mod:`.positions`), limits, holdings (valued with quotes). Master: :mod:`.instruments`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Final
from urllib.parse import urlencode

from openalgo_core import (
    AuthenticationError,
    BrokerClient,
    ConfigurationError,
    Credentials,
    Instrument,
    InstrumentIndex,
    LoginChallenge,
    OrderRejectedError,
    OrderRequest,
    Position,
    Session,
)
from openalgo_core.config import parse_url
from openalgo_core.errors import BrokerResponseError
from openalgo_core.http import ProgressCallback, RequestKind, parse_json, unreadable
from openalgo_core.kit import ANY, Call, Codes, Envelope, Login, Replies, RestBroker, Row
from openalgo_core.kit.replies import Reply, classify, lookup
from openalgo_core.kit.symbols import equity_symbol
from openalgo_core.models import Funds, Holding, Order, Trade

from . import INFO
from .instruments import SEGMENT_FILES, parse_scrip_master, segment_of
from .mapping import (
    CASH_SEGMENTS,
    MARKET_PROTECTION,
    MCX_UNITS,
    OFF_VALUES,
    PRICETYPES,
    PRICETYPES_BACK,
    PRODUCTS_BACK,
    SEGMENTS_BACK,
    SIDES,
    SIDES_BACK,
    number_text,
    protective_limit,
    status,
)
from .positions import Figures, figures

__all__ = ["ALGO_REFUSED", "REPLIES", "STATIC_IP", "KotakBroker", "mobile_number",
           "modify_body", "order_body"]

log = logging.getLogger("openalgo.kotak")

LOGIN_PATH: Final = "/login/1.0/tradeApiLogin"
VALIDATE_PATH: Final = "/login/1.0/tradeApiValidate"
PLACE_PATH: Final = "/quick/order/rule/ms/place"
MODIFY_PATH: Final = "/quick/order/vr/modify"
CANCEL_PATH: Final = "/quick/order/cancel"
ORDERS_PATH: Final = "/quick/user/orders"
TRADES_PATH: Final = "/quick/user/trades"
#: what the SDK calls (the notes' ``/quick/user/positions`` is the older path)
POSITIONS_PATH: Final = "/portfolio/v2/positions"
LIMITS_PATH: Final = "/quick/user/limits"
HOLDINGS_PATH: Final = "/portfolio/v1/holdings"
FILE_PATHS_PATH: Final = "/script-details/1.0/masterscrip/file-paths"
QUOTES_PATH: Final = "/script-details/1.0/quotes/neosymbol/"
#: the paths that carry the access token in ``Authorization`` after login (as the SDK)
AUTHORIZED: Final = frozenset({PLACE_PATH, MODIFY_PATH, CANCEL_PATH, FILE_PATHS_PATH})
NEO_FIN_KEY: Final = "neotradeapi"
ORDER_SOURCE: Final = "NEOTRADEAPI"
#: instruments per quotes request (the SDK's documented limit)
QUOTES_PER_CALL: Final = 50

#: ``stCode`` of an order refused for the IP it came from (since 1 April 2026 orders need
#: the static IP whitelisted for the API, and a session created from it) -> what to do.
STATIC_IP: Final = {
    "100008": "Kotak accepts orders only from the static IP whitelisted for your Trade API"
              " (since 1 April 2026): send them from that IP, or whitelist this one in the"
              " API Dashboard",
    "1037": "Kotak accepts orders only on a session created from the whitelisted static IP"
            " (since 1 April 2026): log in again from that IP",
}
#: ``stCode`` of Kotak's SEBI-era refusal "algo order not allowed" (⚠ its exact trigger is
#: not documented: SEBI treats an unregistered strategy sending more than 10 orders a
#: second as an algo).
ALGO_REFUSED: Final = ("1017",)
ALGO_HINT: Final = ("Kotak refused it as an algo order (SEBI's retail-algo rules since 1 April"
                    " 2026: keep under 10 orders a second, or register the strategy with"
                    " Kotak); the order was not placed")
#: A UCC: Kotak's client codes are 5 characters (⚠ 4 to 10 letters and digits accepted).
UCC_PATTERN: Final = re.compile(r"[A-Za-z0-9]{4,10}")
#: What a Consumer Key or Secret of the retired napi devportal flow looks like (WSO2 keys).
RETIRED_KEY: Final = re.compile(r"[A-Za-z0-9_]{20,40}")
RETIRED_FLOW: Final = ("Kotak retired the consumer key/secret login in October 2025: put your"
                       " UCC (the client code in the Neo app's profile) in BROKER_API_KEY"
                       " and the access token from Neo app > Invest > Trade API > API"
                       " Dashboard in BROKER_API_SECRET")
_NO_REASON: Final = frozenset({"", "--", "NA", "na"})
_FORM: Final = {"Content-Type": "application/x-www-form-urlencoded"}
_ORDER_TIME: Final = "%d-%b-%Y %H:%M:%S"  # ordEntTm: 22-Jan-2025 14:28:01
_FILL_TIME: Final = "%d-%b-%Y %H:%M:%S"   # flDt + flTm: 22-Jan-2025 + 14:28:16

REPLIES: Final = Replies(
    broker=INFO.id,
    envelopes=(
        Envelope(status="stat", ok=("ok",),
                 failed=("not_ok", "bad request", "please provide valid order number"),
                 code=("stCode",), message=("errMsg", "emsg", "message")),
        Envelope(status="error", failed=(ANY,), code=("error.0.code",),
                 message=("error.0.message",)),
        Envelope(status="data.status", ok=("success",), failed=(ANY,),
                 message=("data.message", "message", "errMsg"), data="data"),
        Envelope(status="fault", failed=(ANY,), code=("fault.code",),
                 message=("fault.message", "fault.description")),
        Envelope(status="data", ok=(ANY,), data="data"),
    ),
    session_expired=Codes(codes=("100022",), messages=("invalid session",)),
    # the WSO2 gateway's refusal of a bad token, and the static-IP refusals of orders
    unauthorized=Codes(codes=("900901", "900902", *STATIC_IP),
                       messages=("invalid credentials",)),
    rate_limited=Codes(http=(429,), messages=("too many requests",)),
    empty=Codes(codes=("5203",), messages=("no data",)),
    code=("stCode", "code", "error.0.code"),
    message=("errMsg", "message", "error.0.message", "Message"),
)


def mobile_number(text: str) -> str:
    """``+91`` and the 10 digits of an Indian mobile number typed any common way
    (``98765 43210``, ``+919876543210``, ``919876543210``, ``09876543210``).

    Raises:
        AuthenticationError: not such a number (nothing was sent).
    """
    digits = re.sub(r"[\s\-()]", "", text).removeprefix("+")
    if len(digits) == 12 and digits.startswith("91"):
        digits = digits[2:]
    elif len(digits) == 11 and digits.startswith("0"):
        digits = digits[1:]
    if not re.fullmatch(r"[6-9]\d{9}", digits):
        raise AuthenticationError("the mobile number must be the 10 digits registered with"
                                  " Kotak (+91 optional); nothing was sent", broker=INFO.id)
    return "+91" + digits


def check_keys(ucc: str, access_token: str) -> None:
    """Refuse a UCC or access token from the retired consumer key/secret flow.

    Raises:
        ConfigurationError: naming the variable, never its value.
    """
    if RETIRED_KEY.fullmatch(ucc):
        raise ConfigurationError(f"kotak: BROKER_API_KEY (OPENALGO_KOTAK_UCC) holds what looks"
                                 f" like a Consumer Key. {RETIRED_FLOW}")
    if not UCC_PATTERN.fullmatch(ucc):
        raise ConfigurationError("kotak: BROKER_API_KEY (OPENALGO_KOTAK_UCC) is not a UCC: the"
                                 " 5-character client code in the Neo app's profile")
    if access_token.lower().startswith("bearer"):
        raise ConfigurationError("kotak: BROKER_API_SECRET (OPENALGO_KOTAK_ACCESS_TOKEN) holds"
                                 " a Bearer token of the retired flow. " + RETIRED_FLOW)


def order_body(order: OrderRequest, instrument: Instrument, slm_as_sl: bool) -> dict[str, Any]:
    """``jData`` of a new order, every value text (``"0"`` for zero), as kotakneoapi 3.0.9
    sends it, with the core's tag in ``ig``; an SL-M order is an SL at a protective limit
    when ``slm_as_sl`` (Kotak refuses SL-M from API sessions)."""
    prices = _prices(order, instrument, slm_as_sl)
    return {"am": "NO", "dq": str(order.disclosed_quantity), "es": instrument.broker_exchange,
            "mp": MARKET_PROTECTION, "pc": order.product.value, "pr": prices["pr"],
            "pt": prices["pt"], "qt": str(order.quantity), "rt": "DAY", "tp": prices["tp"],
            "ts": instrument.broker_symbol, "tt": SIDES[order.action.value], "ig": order.tag,
            "os": ORDER_SOURCE}


def modify_body(order: Order, change: OrderRequest, instrument: Instrument,
                slm_as_sl: bool) -> dict[str, Any]:
    """``jData`` of a modify: the whole order as it should stand (the SDK's keys)."""
    return {"no": order.order_id, "qt": str(change.quantity),
            **_prices(change, instrument, slm_as_sl), "dq": str(change.disclosed_quantity),
            "vd": "DAY", "am": "NO", "mp": MARKET_PROTECTION, "os": ORDER_SOURCE}


def _prices(order: OrderRequest, instrument: Instrument, slm_as_sl: bool) -> dict[str, str]:
    """``pt``, ``pr`` and ``tp``: price 0 for market types, trigger 0 but for stops."""
    kind = order.pricetype.value
    price, trigger = order.price, order.trigger_price
    if kind == "SL-M" and slm_as_sl:
        kind = "SL"
        price = protective_limit(trigger, order.action.value == "BUY", instrument.tick_size,
                                 instrument.option_type in ("CE", "PE"))
    return {"pt": PRICETYPES[kind], "pr": number_text(price), "tp": number_text(trigger)}


def check_mcx_quantity(instrument: Instrument, credentials: Credentials) -> None:
    """An MCX order is sent only once ``MCX_QUANTITY`` says its quantity is in units (⚠
    unconfirmed: if Kotak counted MCX in lots, a quantity in units would over-order by
    the lot size).

    Raises:
        ConfigurationError: an MCX order without ``MCX_QUANTITY=units``.
    """
    if instrument.exchange != "MCX":
        return
    setting = (credentials.get("MCX_QUANTITY") or "").strip().lower()
    if setting != MCX_UNITS:
        raise ConfigurationError(
            "kotak: MCX orders are not sent until OPENALGO_KOTAK_MCX_QUANTITY is 'units':"
            " whether Kotak reads an MCX quantity as units or lots is unconfirmed, and lots"
            " would multiply the order by its lot size. Confirm with one small order in"
            " Kotak's own app, then set it (quantities in units are the only mode supported)")


def slm_as_sl(credentials: Credentials) -> bool:
    """Whether SL-M orders go as SL (``SLM_AS_SL``: on unless no/false/0/off)."""
    return (credentials.get("SLM_AS_SL") or "").strip().lower() not in OFF_VALUES


@dataclass(frozen=True, slots=True)
class _Leg:
    """A position row read, before it is valued."""

    symbol: str
    exchange: str
    product: str
    key: tuple[str, str]  # (segment, token): how quotes and holdings name it
    row: Row
    figures: Figures
    ltp: Decimal


@dataclass(frozen=True, slots=True)
class _Held:
    """A holding row read, before it is valued."""

    symbol: str
    exchange: str
    key: tuple[str, str]
    quantity: int
    average_price: Decimal


class KotakBroker(RestBroker):
    """Kotak Neo: what differs from any other REST broker."""

    info = INFO
    replies = REPLIES
    order_id_at = ("nOrdNo",)
    order_book_at = "data"
    trade_book_at = "data"
    positions_at = "data"
    holdings_at = "data"
    books_may_be_absent = frozenset({"positions", "order book", "trade book", "holdings"})
    code_prompt = "Enter the 6-digit TOTP from the authenticator app registered with Kotak"
    #: as OpenAlgo's Kotak login form labels them (⚠ its stored form is the older one: MPIN
    #: and TOTP are the Neo app's own words)
    field_labels: ClassVar[Mapping[str, str]] = {
        "mobile": "Mobile Number", "mpin": "MPIN", "code": "TOTP"}

    def headers(self, credentials: Credentials, session: Session | None) -> Mapping[str, str]:
        if session is None:
            return {"neo-fin-key": NEO_FIN_KEY}
        extra = session.extra
        return {"accept": "application/json", "neo-fin-key": NEO_FIN_KEY,
                "Sid": extra["sid"].get_secret_value() if "sid" in extra else "",
                "Auth": session.access_token.get_secret_value()}

    def prepare(self, call: Call, credentials: Credentials, session: Session | None) -> Call:
        """The access token in ``Authorization`` on the calls the SDK sends it with."""
        quotes = call.path.startswith(QUOTES_PATH)
        if session is None or (call.path not in AUTHORIZED and not quotes):
            return call
        token = session.extra.get("access")
        value = token.get_secret_value() if token else credentials.get("ACCESS_TOKEN") or ""
        return call._replace(headers={**(call.headers or {}), "Authorization": value})

    def send(self, client: BrokerClient, call: Call, *, kind: RequestKind,
             credentials: Credentials, session: Session | None = None,
             tag: str | None = None) -> Reply:
        """Kotak's refusals reworded where its own words say too little: an order refused
        for the IP it came from says so (:data:`STATIC_IP`), and the SEBI algo refusal what
        it means (:data:`ALGO_REFUSED`)."""
        try:
            return super().send(client, call, kind=kind, credentials=credentials,
                                session=session, tag=tag)
        except AuthenticationError as exc:
            if kind == "order" and exc.code in STATIC_IP:
                raise AuthenticationError(f"{STATIC_IP[exc.code]} (Kotak: {exc.message})",
                                          broker=self.broker, code=exc.code, raw=exc.raw,
                                          status_code=exc.status_code) from None
            raise
        except OrderRejectedError as exc:
            if exc.code in ALGO_REFUSED:
                raise OrderRejectedError(f"{exc.reason}: {ALGO_HINT}", broker=self.broker,
                                         code=exc.code, raw=exc.raw,
                                         status_code=exc.status_code) from None
            raise

    # -- login -----------------------------------------------------------------------------
    def authenticate(self, credentials: Credentials,
                     client: BrokerClient) -> Session | LoginChallenge:
        """The kit's login, once the UCC and access token are known not to be the retired
        flow's (nothing is sent, nor asked for, otherwise)."""
        check_keys(*credentials.require("UCC", "ACCESS_TOKEN"))
        return super().authenticate(credentials, client)

    def finish_login(self, login: Login) -> Session:
        """``tradeApiLogin`` with the TOTP, then ``tradeApiValidate`` with the MPIN."""
        ucc, access, mobile, mpin = login.credentials.require("UCC", "ACCESS_TOKEN", "MOBILE",
                                                              "MPIN")
        check_keys(ucc, access)
        number = mobile_number(mobile)
        try:
            view = self.send(login.client, Call("POST", "login", LOGIN_PATH, json={
                "mobileNumber": number, "ucc": ucc, "totp": login.code or ""},
                headers={"Authorization": access}), kind="login", credentials=login.credentials)
        except AuthenticationError as exc:
            if "-" not in access:  # the Neo app's access token is a UUID
                raise AuthenticationError(
                    f"{exc.message} (BROKER_API_SECRET is not shaped like the Neo app's access"
                    f" token; {RETIRED_FLOW})", broker=self.broker, code=exc.code,
                    raw=exc.raw, status_code=exc.status_code) from None
            raise
        step = self._row(view, view.data, "login reply",
                         lambda row: (row.text("token"), row.text("sid")))
        reply = self.send(login.client, Call("POST", "login", VALIDATE_PATH, json={"mpin": mpin},
                                             headers={"Authorization": access, "sid": step[1],
                                                      "Auth": step[0]}),
                          kind="login", credentials=login.credentials)
        data = reply.data if isinstance(reply.data, Mapping) else {}
        return self.session(reply, str(data.get("ucc") or ucc), data.get("token"),
                            hosts={"trade": data.get("baseUrl")},
                            extra={"sid": data.get("sid"), "access": access})

    # -- orders ----------------------------------------------------------------------------
    def order_call(self, order: OrderRequest, instrument: Instrument,
                   credentials: Credentials) -> Call:
        check_mcx_quantity(instrument, credentials)
        return _jdata(PLACE_PATH, order_body(order, instrument, slm_as_sl(credentials)))

    def modify_call(self, order: Order, change: OrderRequest, instrument: Instrument,
                    credentials: Credentials) -> Call:
        check_mcx_quantity(instrument, credentials)
        return _jdata(MODIFY_PATH, modify_body(order, change, instrument,
                                               slm_as_sl(credentials)))

    def cancel_call(self, order: Order, credentials: Credentials) -> Call:
        return _jdata(CANCEL_PATH, {"on": order.order_id, "am": "NO"})

    def order_book_call(self, credentials: Credentials) -> Call:
        return Call("GET", "trade", ORDERS_PATH)

    def order_row(self, row: Row, instruments: InstrumentIndex) -> Order:
        """One order-book row: the tag is ``GuiOrdId``, the reason ``rejRsn``."""
        symbol, exchange = self._symbol(row, instruments)
        found = status(row.text("ordSt"))
        if found is None:
            raise row.fail("ordSt", "is not a status Kotak documents")
        reason = row.text("rejRsn", "")
        return Order(
            broker=self.broker, order_id=row.text("nOrdNo"), symbol=symbol, exchange=exchange,
            action=row.lookup("trnsTp", SIDES_BACK), quantity=row.whole("qty"),
            pricetype=row.lookup("prcTp", PRICETYPES_BACK),
            product=row.lookup("prod", PRODUCTS_BACK), price=row.decimal("prc", 0),
            trigger_price=row.decimal("trgPrc", 0), status=found,
            filled_quantity=row.whole("fldQty", 0), average_price=row.decimal("avgPrc", 0),
            reason="" if reason in _NO_REASON else reason,
            tag=row.text("GuiOrdId", "") or None,
            timestamp=row.stamp("ordEntTm", _ORDER_TIME), raw=row.data)

    # -- books -----------------------------------------------------------------------------
    def trade_book_call(self, credentials: Credentials) -> Call:
        return Call("GET", "trade", TRADES_PATH)

    def trade_row(self, row: Row, instruments: InstrumentIndex) -> Trade:
        """One fill: ``fldQty`` at ``avgPrc`` (its ``tok`` is empty: found by ``trdSym``)."""
        symbol, exchange = self._symbol(row, instruments)
        quantity, price = row.whole("fldQty"), row.decimal("avgPrc")
        when = f"{row.text('flDt', '')} {row.text('flTm', '')}"
        return Trade(broker=self.broker, order_id=row.text("nOrdNo"),
                     trade_id=row.text("flId"), symbol=symbol, exchange=exchange,
                     action=row.lookup("trnsTp", SIDES_BACK),
                     product=row.lookup("prod", PRODUCTS_BACK), quantity=quantity,
                     average_price=price, trade_value=price * quantity,
                     timestamp=Row({"at": when}, what="trade time",
                                   broker=self.broker).stamp("at", _FILL_TIME))

    def positions_call(self, credentials: Credentials) -> Call:
        return Call("GET", "trade", POSITIONS_PATH)

    def fetch_positions(self, session: Session, credentials: Credentials, client: BrokerClient,
                        instruments: InstrumentIndex) -> list[Position]:
        """Every row by Kotak's formulas (:mod:`.positions`); an equity leg carried from an
        earlier day at its holding's average cost (one holdings call, only then); the last
        price the row's own ``ltp``, else quotes (only for open legs lacking one)."""
        reply = self._read(self.positions_call(credentials), session, credentials, client)
        legs = self.rows(reply, self.positions_at, "positions",
                         lambda row: self._leg(row, instruments))
        carried = [leg for leg in legs if leg.figures.carried and leg.key[0] in CASH_SEGMENTS]
        if carried:
            costs = self._holding_costs(session, credentials, client)
            legs = [self._costed(leg, costs) if leg in carried else leg for leg in legs]
        wanted = [leg.key for leg in legs if leg.figures.net and not leg.ltp > 0]
        prices = self._quotes(wanted, session, credentials, client) if wanted else {}
        found = []
        for leg in legs:
            ltp = leg.ltp if leg.ltp > 0 else prices.get(leg.key, Decimal(0))
            if leg.figures.net and not ltp > 0:
                raise BrokerResponseError(f"positions: no last price for {leg.symbol} (its"
                                          f" row has none and quotes named none)",
                                          broker=self.broker)
            found.append(Position(symbol=leg.symbol, exchange=leg.exchange,
                                  product=leg.product, quantity=leg.figures.net,
                                  average_price=leg.figures.average, ltp=ltp,
                                  pnl=leg.figures.pnl(ltp)))
        return found

    def _leg(self, row: Row, instruments: InstrumentIndex) -> _Leg:
        symbol, exchange = self._symbol(row, instruments)
        return _Leg(symbol, exchange, row.lookup("prod", PRODUCTS_BACK),
                    (row.text("exSeg"), row.text("tok")), row, figures(row),
                    row.decimal("ltp", 0))

    def _costed(self, leg: _Leg, costs: Mapping[tuple[str, str], Decimal]) -> _Leg:
        """``leg`` with its carried equity valued at the holding's cost, when one matches
        (⚠ else at Kotak's carried amount, the previous close)."""
        cost = costs.get(leg.key)
        if cost is None:
            return leg
        return _Leg(leg.symbol, leg.exchange, leg.product, leg.key, leg.row,
                    figures(leg.row, carried_cost=cost), leg.ltp)

    def _holding_costs(self, session: Session, credentials: Credentials,
                       client: BrokerClient) -> dict[tuple[str, str], Decimal]:
        reply = self._read(self.holdings_call(credentials), session, credentials, client)
        pairs = self.rows(reply, self.holdings_at, "holdings", lambda row: (
            (row.text("exchangeSegment"), row.text("exchangeIdentifier")),
            row.decimal("averagePrice")))
        return dict(pairs)

    def funds_call(self, credentials: Credentials) -> Call:
        return _jdata(LIMITS_PATH, {"seg": "ALL", "exch": "ALL", "prod": "ALL"})

    def funds_row(self, row: Row) -> Funds:
        """``limits``: ⚠ ``Net`` is what is free to trade (``CollateralValue`` -
        ``MarginUsed`` in Kotak's sample), ``Collateral`` the pledged collateral, the day's
        P&L ``RealizedMtomPrsnt`` and ``UnrealizedMtomPrsnt``."""
        return Funds(broker=self.broker, available_cash=row.decimal("Net"),
                     collateral=row.decimal("Collateral", 0),
                     used_margin=row.decimal("MarginUsed", 0),
                     realised_pnl=row.decimal("RealizedMtomPrsnt", 0),
                     unrealised_pnl=row.decimal("UnrealizedMtomPrsnt", 0))

    def holdings_call(self, credentials: Credentials) -> Call:
        return Call("GET", "trade", HOLDINGS_PATH)

    def fetch_holdings(self, session: Session, credentials: Credentials,
                       client: BrokerClient, instruments: InstrumentIndex) -> list[Holding]:
        """Holdings rows (⚠ ``quantity``, settled and T1 together), valued at the last
        price from quotes (the rows carry only the previous close)."""
        reply = self._read(self.holdings_call(credentials), session, credentials, client)
        held = self.rows(reply, self.holdings_at, "holdings",
                         lambda row: self._held(row, instruments))
        prices = self._quotes([h.key for h in held], session, credentials, client) \
            if held else {}
        found = []
        for item in held:
            ltp = prices.get(item.key)
            if ltp is None:
                raise BrokerResponseError(f"holdings: no last price for {item.symbol}",
                                          broker=self.broker)
            found.append(Holding(symbol=item.symbol, exchange=item.exchange,
                                 quantity=item.quantity, average_price=item.average_price,
                                 ltp=ltp, pnl=(ltp - item.average_price) * item.quantity))
        return found

    def _held(self, row: Row, instruments: InstrumentIndex) -> _Held | None:
        segment, token = row.text("exchangeSegment"), row.text("exchangeIdentifier")
        quantity = row.whole("quantity")
        if quantity <= 0:
            return None
        instrument = instruments.by_token(token, segment)
        if instrument is not None:
            symbol, exchange = instrument.symbol, instrument.exchange
        elif segment in CASH_SEGMENTS:
            symbol, exchange = row.text("symbol"), SEGMENTS_BACK[segment]
        else:
            raise row.fail("exchangeSegment", "is not a cash segment")
        return _Held(symbol, exchange, (segment, token), quantity, row.decimal("averagePrice"))

    # -- quotes and the master ---------------------------------------------------------------
    def _quotes(self, keys: Iterable[tuple[str, str]], session: Session,
                credentials: Credentials, client: BrokerClient
                ) -> dict[tuple[str, str], Decimal]:
        """The last price of each (segment, token), :data:`QUOTES_PER_CALL` to a call; the
        reply is a JSON array (or an error envelope)."""
        wanted = sorted(set(keys))
        prices: dict[tuple[str, str], Decimal] = {}
        for start in range(0, len(wanted), QUOTES_PER_CALL):
            batch = wanted[start:start + QUOTES_PER_CALL]
            names = ",".join(f"{segment}|{token}" for segment, token in batch)
            call = Call("GET", "trade", f"{QUOTES_PATH}{names}/ltp")
            for row in self._quote_rows(client, call, session, credentials):
                key = (row.text("exchange"), row.text("exchange_token"))
                prices[key] = row.decimal("ltp")
        return prices

    def _quote_rows(self, client: BrokerClient, call: Call, session: Session,
                    credentials: Credentials) -> list[Row]:
        call = self.prepare(call, credentials, session)
        base = session.extra["url.trade"].get_secret_value() \
            if "url.trade" in session.extra else None
        response = client.request("GET", client.url("trade", call.path, base=base),
                                  kind="read", headers={**self.headers(credentials, session),
                                                        **(call.headers or {})})
        body = parse_json(response, self.broker)
        rows = body if isinstance(body, list) else lookup(body, "data")
        if isinstance(body, dict) and not isinstance(rows, list):
            classify(response, self.replies)  # an error envelope: its typed error
            raise unreadable(response, self.broker, "quotes are not a list")
        if not isinstance(rows, list) or response.status_code >= 400:
            raise unreadable(response, self.broker, "quotes are not a list")
        try:
            return [Row(raw, what="quote", broker=self.broker) for raw in rows]
        except BrokerResponseError as exc:
            raise unreadable(response, self.broker, exc.message) from None

    def master(self, client: BrokerClient, progress: ProgressCallback,
               session: Session | None) -> list[Instrument]:
        """The day's file list (``file-paths``, behind the session's base URL and the
        access token), then each segment's CSV from the host it names, one progress bar
        counting the bytes of all of them. A failed download fails the whole master (the
        gateway keeps the last one it had)."""
        live = self.require_session(session)
        reply = self.send(client, Call("GET", "trade", FILE_PATHS_PATH), kind="read",
                          credentials=Credentials(self.broker, {}), session=live)
        urls = self._file_urls(reply)
        files: dict[str, bytes] = {}
        for segment, url in urls.items():
            before = sum(map(len, files.values()))
            files[segment] = client.download(url, progress=_after(before, progress))
        return parse_scrip_master(files)

    def _file_urls(self, reply: Reply) -> dict[str, str]:
        """The URL of each segment file the plugin reads, from ``data.filesPaths``.

        Raises:
            BrokerResponseError: no list, a URL that is not http(s), or no NSE cash file.
        """
        paths = lookup(reply.body, "data.filesPaths")
        if not isinstance(paths, list):
            raise unreadable(reply.response, self.broker, "scrip master: filesPaths is not a"
                                                          " list")
        urls: dict[str, str] = {}
        for path in paths:
            segment = segment_of(path) if isinstance(path, str) else None
            if segment is None or segment in urls:
                continue
            try:
                parse_url(path, "a scrip-master URL")
            except ConfigurationError as exc:
                raise unreadable(reply.response, self.broker, str(exc)) from None
            urls[segment] = path
        if "nse_cm" not in urls:
            raise unreadable(reply.response, self.broker, "scrip master: no nse_cm file listed")
        missing = [s for s in SEGMENT_FILES if s not in urls]
        if missing:
            log.warning("kotak scrip master: no file listed for %s", ", ".join(missing))
        return {segment: urls[segment] for segment in SEGMENT_FILES if segment in urls}

    def _symbol(self, row: Row, instruments: InstrumentIndex) -> tuple[str, str]:
        """OpenAlgo's symbol and exchange for a row naming ``tok`` (or ``trdSym``) and
        ``exSeg``; failing the master, a cash symbol without its series."""
        segment, trading_symbol = row.text("exSeg"), row.text("trdSym")
        token = row.text("tok", "")
        instrument = (instruments.by_token(token, segment) if token else None) \
            or instruments.by_broker_symbol(trading_symbol, segment)
        if instrument is not None:
            return instrument.symbol, instrument.exchange
        exchange = SEGMENTS_BACK.get(segment)
        if exchange is None:
            raise row.fail("exSeg", "is not a segment this plugin trades on")
        return equity_symbol(trading_symbol), exchange


def _after(before: int, progress: ProgressCallback) -> ProgressCallback:
    """One file's progress, counted on from the bytes of the files before it (one bar for
    all of them; the total is not known until the last one has started)."""
    def report(done: int, total: int | None) -> None:
        progress(before + done, None)
    return report


def _jdata(path: str, body: Mapping[str, Any]) -> Call:
    """A POST whose form field ``jData`` is ``body`` as JSON (as the SDK encodes it),
    form-encoded here: bytes take the client's cached path, a ``form`` httpx's own."""
    return Call("POST", "trade", path, content=urlencode({"jData": json.dumps(body)}).encode(),
                headers=_FORM)
