"""A broker that texts a one-time password (Definedge-like), as facts on the broker kit.

``start_login`` asks the broker to text a code and keeps its ``request_id`` in the
challenge; ``finish_login`` sends the typed code back with the checksum
``ac = sha256(request_id + otp + API_SECRET)``. Sessions ride in a raw ``Authorization``
header (no ``Bearer``); orders, cancels (``on``), modifies (``no``) and the funds query
are form-encoded ``jData``; an empty book (orders, trades, positions) is the broker's
"no data" error, and positions carry amounts, not P&L; statuses are three-letter codes;
one order is found in the order book (the broker has no call for one); the master is a
JSON array in the broker's own trading symbols.

**Holdings are unsupported**: this broker's API offers no holdings call, so
``fetch_holdings`` answers :class:`~openalgo_core.errors.UnsupportedOperationError`
(the kit's default for a ``holdings_call`` not supplied): the end-to-end case of an
operation a broker truly lacks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from openalgo_core import (
    CORE_API,
    BrokerClient,
    BrokerInfo,
    CredentialField,
    Credentials,
    Exchange,
    Funds,
    Instrument,
    InstrumentIndex,
    Order,
    OrderRequest,
    OrderStatus,
    Position,
    Session,
    Trade,
)
from openalgo_core.http import ProgressCallback
from openalgo_core.kit import (
    Call,
    Codes,
    Envelope,
    InstrumentBuilder,
    KitHooks,
    Login,
    Replies,
    RestBroker,
    Row,
    equity_symbol,
    json_array,
)

INFO = BrokerInfo(
    id="fakeotp", display_name="Fake OTP Broker",
    exchanges=frozenset({Exchange.NSE, Exchange.BSE, Exchange.NFO, Exchange.NSE_INDEX}),
    credentials=(CredentialField(name="API_KEY", secret=True),
                 CredentialField(name="API_SECRET", secret=True),
                 CredentialField(name="MOBILE", secret=False),
                 CredentialField(name="PIN", secret=True)),
    login_style="otp",
    base_urls={"api": "https://openapi.fakeotp.example", "files": "https://files.fakeotp.example"},
    core_api=CORE_API)

SIDES = {"BUY": "B", "SELL": "S"}
SIDES_BACK = {code: side for side, code in SIDES.items()}
TYPES = {"MARKET": "MKT", "LIMIT": "L", "SL": "SL", "SL-M": "SL-M"}
TYPES_BACK = {code: kind for kind, code in TYPES.items()}
SEGMENTS = {"nse_cm": "NSE", "bse_cm": "BSE", "nse_fo": "NFO", "nse_idx": "NSE_INDEX"}
PRODUCTS = {"MIS": "MIS", "CNC": "CNC", "NRML": "NRML"}
STATUSES = {"OPN": OrderStatus.OPEN, "TRG": OrderStatus.TRIGGER_PENDING,
            "CMP": OrderStatus.COMPLETE, "CAN": OrderStatus.CANCELLED,
            "REJ": OrderStatus.REJECTED}
#: the broker's time stamps (IST)
TIME = "%d-%b-%Y %H:%M:%S"


class FakeOtpBroker(RestBroker):
    info = INFO
    replies = Replies(
        broker=INFO.id,
        envelopes=(Envelope(status="status", ok=("success",), failed=("error",),
                            code=("errorcode",), message=("message",), data="data"),),
        session_expired=Codes(codes=("TOKEN_EXPIRED",)),
        empty=Codes(messages=("no data",)))
    order_id_at = ("data.nOrdNo",)
    code_prompt = "Enter the OTP sent to your phone"

    def headers(self, credentials: Credentials, session: Session | None) -> Mapping[str, str]:
        key = {"X-Api-Key": credentials.require("API_KEY")[0]}
        if session is None:
            return key
        return {**key, "Authorization": session.access_token.get_secret_value()}

    def start_login(self, login: Login) -> Mapping[str, str]:
        """Have the broker text the OTP; its ``request_id`` is kept for the second step."""
        mobile, pin = login.credentials.require("MOBILE", "PIN")
        reply = self.send(login.client, Call("POST", "api", "/v1/login/otp",
                                             json={"mobile": mobile, "pin": pin}),
                          kind="login", credentials=login.credentials)
        return {"request_id": Row(reply.data, what="OTP reply",
                                  broker=self.broker).text("request_id")}

    def finish_login(self, login: Login) -> Session:
        mobile, secret = login.credentials.require("MOBILE", "API_SECRET")
        request_id, otp = login.context["request_id"], login.code or ""
        checksum = hashlib.sha256((request_id + otp + secret).encode()).hexdigest()
        reply = self.send(login.client, Call("POST", "api", "/v1/login/verify", json={
            "request_id": request_id, "otp": otp, "ac": checksum}),
            kind="login", credentials=login.credentials)
        data = reply.data if isinstance(reply.data, Mapping) else {}
        return self.session(reply, mobile, data.get("session_token"))

    def order_call(self, order: OrderRequest, instrument: Instrument,
                   credentials: Credentials) -> Call:
        return Call("POST", "api", "/v1/orders", form={"jData": json.dumps({
            "tk": instrument.token, "tt": SIDES[order.action], "qt": str(order.quantity),
            "pt": TYPES[order.pricetype], "pc": PRODUCTS[order.product],
            "pr": str(order.price), "tp": str(order.trigger_price), "rt": order.tag})})

    def positions_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", "/v1/positions")

    def position(self, row: Row, instruments: InstrumentIndex) -> Position:
        """Net quantity, the open side's average, and P&L = sold - bought + net x ltp."""
        inst = _instrument(row, instruments)
        bought, sold = row.whole("flBuyQty"), row.whole("flSellQty")
        if bought < 0 or sold < 0:
            raise row.fail("flBuyQty", "or flSellQty is negative")
        spent, got, ltp = row.decimal("buyAmt"), row.decimal("sellAmt"), row.decimal("ltp")
        net = bought - sold
        average = spent / bought if net > 0 else got / sold if net < 0 else Decimal(0)
        return Position(symbol=inst.symbol, exchange=inst.exchange,
                        product=row.lookup("prod", PRODUCTS), quantity=net,
                        average_price=average.quantize(Decimal("0.01")), ltp=ltp,
                        pnl=got - spent + net * ltp)

    def order_book_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", "/v1/orders")

    def order_row(self, row: Row, instruments: InstrumentIndex) -> Order:
        inst = _instrument(row, instruments)
        return Order(
            broker=self.broker, order_id=row.text("nOrdNo"), symbol=inst.symbol,
            exchange=inst.exchange, action=row.lookup("trnsTp", SIDES_BACK),
            quantity=row.whole("qty"), pricetype=row.lookup("prcTp", TYPES_BACK),
            product=row.lookup("prod", PRODUCTS), price=row.decimal("prc"),
            trigger_price=row.decimal("trgPrc"), status=row.lookup("ordSt", STATUSES),
            filled_quantity=row.whole("fldQty"), average_price=row.decimal("avgPrc"),
            reason=row.text("rejRsn", ""), tag=row.text("rt", "") or None,
            timestamp=row.time("ordDtTm", TIME, None), raw=row.data)

    def cancel_call(self, order: Order, credentials: Credentials) -> Call:
        return Call("POST", "api", "/v1/orders/cancel",
                    form={"jData": json.dumps({"on": order.order_id})})

    def modify_call(self, order: Order, change: OrderRequest, instrument: Instrument,
                    credentials: Credentials) -> Call:
        return Call("POST", "api", "/v1/orders/modify", form={"jData": json.dumps({
            "no": order.order_id, "tk": instrument.token, "qt": str(change.quantity),
            "pt": TYPES[change.pricetype], "pr": str(change.price),
            "tp": str(change.trigger_price)})})

    def trade_book_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", "/v1/trades")

    def trade_row(self, row: Row, instruments: InstrumentIndex) -> Trade:
        inst = _instrument(row, instruments)
        quantity, price = row.whole("fldQty"), row.decimal("avgPrc")
        return Trade(broker=self.broker, order_id=row.text("nOrdNo"), trade_id=row.text("flId"),
                     symbol=inst.symbol, exchange=inst.exchange,
                     action=row.lookup("trnsTp", SIDES_BACK),
                     product=row.lookup("prod", PRODUCTS), quantity=quantity,
                     average_price=price, trade_value=price * quantity,
                     timestamp=row.time("flDtTm", TIME, None))

    def funds_call(self, credentials: Credentials) -> Call:
        return Call("POST", "api", "/v1/limits", form={"jData": json.dumps(
            {"seg": "ALL", "exch": "ALL", "prod": "ALL"})})

    def funds_row(self, row: Row) -> Funds:
        return Funds(broker=self.broker, available_cash=row.decimal("Net"),
                     collateral=row.decimal("CollateralValue"),
                     used_margin=row.decimal("MarginUsed"),
                     realised_pnl=row.decimal("RealizedMtomPrsnt"),
                     unrealised_pnl=row.decimal("UnrealizedMtomPrsnt"))

    def master(self, client: BrokerClient, progress: ProgressCallback,
               session: Session | None) -> list[Instrument]:
        """``scrips.json``: one object per instrument, expiries ``28MAR2024``."""
        content = client.download(client.url("files", "/master/scrips.json"), progress=progress)
        rows = json_array(content, what="scrips.json", broker=self.broker)

        def read(raw: Any) -> None:
            kind, segment, symbol, token = raw["type"], raw["exch"], raw["sym"], raw["token"]
            exchange, name, tick = SEGMENTS[segment], raw["name"], raw["tick"]
            if kind == "INDEX":
                build.index(name, exchange, symbol, segment, token, tick)
            elif kind == "EQ":
                build.equity(equity_symbol(symbol), exchange, symbol, segment, token, name,
                             raw["lot"], tick)
            elif kind == "FUT":
                build.future(name, exchange, symbol, segment, token, raw["lot"], tick,
                             raw["expiry"])
            else:
                build.option(name, exchange, symbol, segment, token, raw["lot"], tick,
                             raw["expiry"], raw["strike"], kind)

        with InstrumentBuilder(self.broker) as build:
            build.each(rows, read)
        return build.result()


def _instrument(row: Row, instruments: InstrumentIndex) -> Instrument:
    inst = instruments.by_token(row.text("tok"), row.text("exSeg"))
    if inst is None:
        raise row.fail("tok", "names no instrument of the master contract")
    return inst



hooks = KitHooks(INFO, broker=f"{__name__}:FakeOtpBroker",
                 simulator=f"{__package__}.simulator:FakeOtpSimulator")
