"""A broker that logs in by browser redirect (ICICI Breeze-like), as facts on the kit.

The broker's login page sends the browser back to ``REDIRECT_URL?apisession=<token>``
without our state; ``finish_login`` trades that token for a session at
``customerdetails`` (a GET with a JSON body). Every body is compact JSON, on GET too;
once logged in, ``prepare`` signs each call: ``sha256(timestamp + body + secret)``.
Replies are ``{"Success": ..., "Status": ..., "Error": ...}``; the master is a zip of
per-exchange CSV files with quoted, space-padded header names.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from urllib.parse import urlencode

from openalgo_core import (
    CORE_API,
    BrokerClient,
    BrokerInfo,
    CredentialField,
    Credentials,
    Exchange,
    Instrument,
    InstrumentIndex,
    OrderRequest,
    Position,
    Session,
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
    csv_rows,
    unzip,
)

INFO = BrokerInfo(
    id="fakeredirect", display_name="Fake Redirect Broker",
    exchanges=frozenset({Exchange.NSE, Exchange.BSE, Exchange.NFO, Exchange.NSE_INDEX}),
    credentials=(CredentialField(name="API_KEY", secret=True),
                 CredentialField(name="API_SECRET", secret=True),
                 CredentialField(name="REDIRECT_URL", secret=False, required=False)),
    login_style="redirect",
    base_urls={"api": "https://api.fakeredirect.example/breezeapi/api/v1",
               "login": "https://api.fakeredirect.example/apiuser",
               "files": "https://directlink.fakeredirect.example"},
    core_api=CORE_API)

PRODUCTS = {"MIS": "intraday", "CNC": "cash", "NRML": "margin"}
PRODUCTS_BACK = {code: product for product, code in PRODUCTS.items()}
#: the master's members and the exchange of their rows (Series "0": an index)
MASTER_FILES = {"NSEScripMaster.txt": "NSE", "BSEScripMaster.txt": "BSE",
                "FONSEScripMaster.txt": "NFO"}


class FakeRedirectBroker(RestBroker):
    info = INFO
    replies = Replies(
        broker=INFO.id,
        envelopes=(Envelope(status="Status", ok=("200",), failed=("500", "5"),
                            message=("Error",), data="Success"),),
        session_expired=Codes(messages=("session key is expired",)))
    order_id_at = ("Success.order_id",)
    redirect_param = "apisession"

    def login_url(self, login: Login) -> str:
        """The login page, with the API key URL-encoded: ICICI's keys hold ``+ = ! ^ #``."""
        api_key = login.credentials.require("API_KEY")[0]
        return login.client.url("login", "/login?") + urlencode({"api_key": api_key})

    def headers(self, credentials: Credentials, session: Session | None) -> Mapping[str, str]:
        if session is None:
            return {"Content-Type": "application/json"}
        return {"Content-Type": "application/json", "X-AppKey": credentials.require("API_KEY")[0],
                "X-SessionToken": session.access_token.get_secret_value()}

    def prepare(self, call: Call, credentials: Credentials, session: Session | None) -> Call:
        """The body as compact JSON bytes (``{}`` when there is none, GET too); signed
        once logged in."""
        content = json.dumps({} if call.json is None else call.json,
                             separators=(",", ":")).encode()
        if session is None:
            return call._replace(json=None, content=content)
        (secret,) = credentials.require("API_SECRET")
        stamp = dt.datetime.now(dt.UTC).isoformat()[:19] + ".000Z"
        checksum = hashlib.sha256(stamp.encode() + content + secret.encode()).hexdigest()
        return call._replace(json=None, content=content, headers={
            **(call.headers or {}), "X-Checksum": f"token {checksum}", "X-Timestamp": stamp})

    def finish_login(self, login: Login) -> Session:
        (api_key,) = login.credentials.require("API_KEY")
        reply = self.send(login.client, Call("GET", "api", "/customerdetails", json={
            "SessionToken": login.code, "AppKey": api_key}),
            kind="login", credentials=login.credentials)
        data = reply.data if isinstance(reply.data, Mapping) else {}
        return self.session(reply, data.get("idirect_userid", ""), data.get("session_token"))

    def order_call(self, order: OrderRequest, instrument: Instrument,
                   credentials: Credentials) -> Call:
        return Call("POST", "api", "/order", json={
            "stock_token": instrument.token, "exchange_code": instrument.broker_exchange,
            "product": PRODUCTS[order.product], "action": order.action.lower(),
            "order_type": order.pricetype.lower(), "quantity": str(order.quantity),
            "price": str(order.price), "stoploss": str(order.trigger_price),
            "user_remark": order.tag})

    def positions_call(self, credentials: Credentials) -> Call:
        return Call("GET", "api", "/portfoliopositions")

    def position(self, row: Row, instruments: InstrumentIndex) -> Position:
        inst = instruments.by_token(row.text("stock_token"), row.text("exchange_code"))
        if inst is None:
            raise row.fail("stock_token", "names no instrument of the master contract")
        return Position(
            symbol=inst.symbol, exchange=inst.exchange,
            product=row.lookup("product", PRODUCTS_BACK), quantity=row.whole("quantity"),
            average_price=row.decimal("average_price"), ltp=row.decimal("ltp"),
            pnl=row.decimal("booked_profit_loss") + row.decimal("unrealized_pnl"))

    def master(self, client: BrokerClient, progress: ProgressCallback,
               session: Session | None) -> list[Instrument]:
        """``SecurityMaster.zip``: tick sizes in paise, expiries ``28-Mar-2024``."""
        content = client.download(client.url("files", "/SecurityMaster.zip"), progress=progress)
        files = unzip(content, MASTER_FILES, what="SecurityMaster.zip", broker=self.broker)
        with InstrumentBuilder(self.broker, tick_scale=Decimal(100),
                               parse_expiry=_expiry) as build:
            for name, exchange in MASTER_FILES.items():
                build.each(csv_rows(files[name], what=f"{name} row", broker=self.broker),
                           functools.partial(_read, build, exchange))
        return build.result()


def _expiry(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%d-%b-%Y").date()


def _read(build: InstrumentBuilder, exchange: str, row: Row) -> None:
    """One row of an exchange's file: on NFO a future (OptionType ``XX``) or an option,
    else an equity or (Series ``0``) an index."""
    r = row.data
    if exchange == "NFO":
        args = (r["ExchangeCode"], exchange, r["ShortName"], exchange, r["Token"],
                r["LotSize"], r["TickSize"], r["ExpiryDate"])
        if r["OptionType"] == "XX":
            build.future(*args)
        else:
            build.option(*args, r["StrikePrice"], r["OptionType"])
    elif r["Series"] == "0":
        build.index(r["ExchangeCode"], exchange + "_INDEX", r["ShortName"], exchange,
                    r["Token"], r["TickSize"])
    else:
        build.equity(r["ExchangeCode"], exchange, r["ShortName"], exchange, r["Token"],
                     r["CompanyName"], r["LotSize"], r["TickSize"])


hooks = KitHooks(INFO, broker=f"{__name__}:FakeRedirectBroker",
                 simulator=f"{__package__}.simulator:FakeRedirectSimulator")
