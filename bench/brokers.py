"""What each broker brings to the benchmarks: its simulator, a logged-in gateway,
its official SDK as a baseline, and a pandas baseline for its master contract.

Everything generic (timing, the raw-httpx floor, pacing, the REST gateway) lives
in the benchmark modules; a new broker adds one :class:`BrokerBench` here.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pyotp

from openalgo_core import Gateway, LoginChallenge, Registry
from openalgo_core.config import env_var
from openalgo_core.http import POOL_LIMITS, SOCKET_OPTIONS
from openalgo_core.testing import SimulatorBase
from openalgo_core.testing.browser import submit_login_page
from openalgo_core.testing.transport import free_port
from openalgo_core.testing.wiring import broker_environ, wire_all, wired_gateway

from .tls import TLSFiles

ORDER = {"symbol": "SBIN", "exchange": "NSE", "action": "BUY", "quantity": 1,
         "pricetype": "MARKET", "product": "MIS"}


@dataclass
class Live:
    """A broker simulator on a loopback socket and a gateway logged in to it."""

    broker: str
    sim: SimulatorBase | SimProcess
    url: str
    env: dict[str, str]
    gateway: Gateway


@dataclass
class BrokerBench:
    id: str
    make_sim: Callable[[dict[str, str], int | None], SimulatorBase]
    #: the master-contract files, by download URL -> {(symbol, exchange): token}, the way
    #: OpenAlgo builds it
    pandas_symbol_map: Callable[[Mapping[str, bytes]], dict[tuple[str, str], str]]
    #: the official SDK, where the broker has one (IndMoney has none): its name, the
    #: statement importing it, and (sim url, env) -> a function placing ORDER through it
    sdk_name: str | None = None
    sdk_import: str | None = None
    sdk_orders: Callable[[str, dict[str, str]], Callable[[], Any]] | None = None
    #: the format's floor for reading the master files (``json.loads`` of a JSON array,
    #: ``csv.reader`` over CSVs), and its name in the report
    floor_name: str = "json.loads"
    floor: Callable[[Mapping[str, bytes]], Any] = lambda files: [
        json.loads(data) for data in files.values()]
    #: what the simulator process needs in its environment besides the credentials
    sim_env: Mapping[str, str] = field(default_factory=dict)
    #: for a broker whose login is a person at its own page (ICICI's redirect): what they
    #: type there (its simulator process reads the same from ``sim_env``)
    login_answers: Mapping[str, str] = field(default_factory=dict)

    @property
    def sdks(self) -> dict[str, str]:
        """``{name: import statement}`` of the official SDK, if any (start-up bench)."""
        return {self.sdk_name: self.sdk_import} if self.sdk_name and self.sdk_import else {}


def credentials(broker: str, registry: Registry) -> dict[str, str]:
    """Generated credentials for every field the broker declares (the kit's wiring)."""
    return broker_environ(registry.load(broker))


class SimProcess:
    """The broker's simulator in its own process (``openalgo sim``), so that it does
    not share a GIL with the client being measured. Controlled through ``/_sim/``."""

    def __init__(self, broker: str, env: dict[str, str], tls: TLSFiles | None = None) -> None:
        self.port = free_port()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.verify: ssl.SSLContext | bool = tls.context() if tls else True
        serve_tls = ["--ssl-certfile", tls.cert, "--ssl-keyfile", tls.key] if tls else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "openalgo_core", "sim", broker, "--port", str(self.port),
             *serve_tls],
            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.url + "/_sim/stats", timeout=1, verify=self.verify)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"{broker} simulator did not start") from None
                time.sleep(0.05)

    def faults(self, **changes: Any) -> None:
        httpx.post(self.url + "/_sim/faults", json=changes,
                   verify=self.verify).raise_for_status()

    def stats(self) -> dict[str, int]:
        result: dict[str, int] = httpx.get(self.url + "/_sim/stats", verify=self.verify).json()
        return result

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)


@contextmanager
def live(bench: BrokerBench, *, pace: bool = True, master_size: int | None = None,
         tls: TLSFiles | None = None, **sim_faults: Any) -> Iterator[Live]:
    """A logged-in gateway and the broker's simulator: in its own process (over HTTPS
    when given ``tls``), or (when ``master_size`` asks for a big master contract) in a
    thread of this one, wired by the testing kit."""
    registry = Registry()
    env = credentials(bench.id, registry)
    if master_size:
        sims = {bench.id: bench.make_sim(env, master_size)}
        with wire_all(registry, [bench.id], mode="http", environ=env, sims=sims, pace=pace,
                      sleep=time.sleep) as harnesses:
            harness = harnesses[bench.id]
            harness.login()
            assert harness.url is not None
            yield Live(bench.id, harness.sim, harness.url, env, harness.gateway)
        return
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        sim = SimProcess(bench.id, {**env, **bench.sim_env}, tls)
        stack.callback(sim.stop)
        if sim_faults:
            sim.faults(**sim_faults)
        env[env_var(bench.id, "BASE_URL")] = sim.url
        # Over TLS, the gateway's own transport settings, trusting the bench's authority.
        transports = {bench.id: httpx.HTTPTransport(
            verify=tls.context(), socket_options=SOCKET_OPTIONS, limits=POOL_LIMITS)
        } if tls else None
        gateway = stack.enter_context(wired_gateway(registry, env, home=tmp, pace=pace,
                                                    transports=transports))
        _log_in(gateway, bench, sim.verify)
        yield Live(bench.id, sim, sim.url, env, gateway)


def _log_in(gateway: Gateway, bench: BrokerBench, verify: ssl.SSLContext | bool) -> None:
    """Unattended, or (a redirect login) as the person at the broker's page would."""
    result = gateway.authenticate(bench.id)
    if isinstance(result, LoginChallenge) and result.kind == "url" and result.url:
        with httpx.Client(verify=verify) as browser:
            back = submit_login_page(browser, result.url, bench.login_answers)
        gateway.handle_callback(bench.id, dict(parse_qsl(back.query.decode())))


# -- Angel One -------------------------------------------------------------------------
def _angel_sim(env: dict[str, str], master_size: int | None) -> SimulatorBase:
    from openalgo_angel.simulator import AngelSimulator

    return AngelSimulator(environ=env, master_size=master_size, margin_limit=None)


def _angel_sdk(url: str, env: dict[str, str]) -> Callable[[], Any]:
    os.chdir(tempfile.mkdtemp(prefix="smartapi-logs-"))  # the SDK writes logs/ into the cwd
    from SmartApi import SmartConnect

    sdk = SmartConnect(api_key=env["OPENALGO_ANGEL_API_KEY"], root=url)
    sdk.generateSession(env["OPENALGO_ANGEL_CLIENT_ID"], env["OPENALGO_ANGEL_PIN"],
                        pyotp.TOTP(env["OPENALGO_ANGEL_TOTP_SECRET"]).now())
    params = {"variety": "NORMAL", "tradingsymbol": "SBIN-EQ", "symboltoken": "3045",
              "transactiontype": "BUY", "exchange": "NSE", "ordertype": "MARKET",
              "producttype": "INTRADAY", "duration": "DAY", "price": "0", "squareoff": "0",
              "stoploss": "0", "quantity": "1"}

    def place() -> Any:
        order_id = sdk.placeOrder(dict(params))
        if not order_id:
            raise RuntimeError("SDK order failed")
        return order_id
    return place


def _angel_pandas(files: Mapping[str, bytes]) -> dict[tuple[str, str], str]:
    """OpenAlgo's way: DataFrame from the JSON, vectorised string fixes, then a map."""
    import pandas as pd

    (data,) = files.values()
    df = pd.read_json(io.BytesIO(data), dtype=False)
    symbol = df["symbol"].str.replace(r"-(EQ|BE|MF|SG)$", "", regex=True)
    return dict(zip(zip(symbol, df["exch_seg"], strict=True), df["token"], strict=True))


ANGEL = BrokerBench(id="angel", make_sim=_angel_sim, sdk_name="smartapi-python",
                    sdk_import="import SmartApi", sdk_orders=_angel_sdk,
                    pandas_symbol_map=_angel_pandas)


# -- Definedge ---------------------------------------------------------------------------
#: where pyintegrate 3.0.0 downloads the master whatever its URLs are (sdk-observed.md)
_DEFINEDGE_MASTER = "https://app.definedgesecurities.com/public/allmaster.zip"


def _definedge_sim(env: dict[str, str], master_size: int | None) -> SimulatorBase:
    from openalgo_definedge.simulator import DefinedgeSimulator

    return DefinedgeSimulator(environ=env, master_size=master_size, margin_limit=None)


def _definedge_sdk(url: str, env: dict[str, str]) -> Callable[[], Any]:
    import requests
    from integrate import ConnectToIntegrate, IntegrateOrders
    from integrate import connect as integrate_connect

    class ToSimulator(requests.adapters.HTTPAdapter):
        """The SDK's hard-coded master download, sent to the simulator (path kept)."""

        def send(self, request: requests.PreparedRequest, *args: Any,
                 **kwargs: Any) -> requests.Response:
            request.url = url + "/public/allmaster.zip"
            return super().send(request, *args, **kwargs)

    # the SDK extracts the master next to its own module: a temporary directory instead
    integrate_connect.__file__ = os.path.join(tempfile.mkdtemp(prefix="pyintegrate-"),
                                              "connect.py")
    conn = ConnectToIntegrate(login_url=url + "/auth/realms/debroking/dsbpkc/",
                              base_url=url + "/dart/v1/")
    conn._req_sess.mount(_DEFINEDGE_MASTER, ToSimulator())
    conn.login(api_token=env["OPENALGO_DEFINEDGE_API_KEY"],
               api_secret=env["OPENALGO_DEFINEDGE_API_SECRET"],
               totp=pyotp.TOTP(env["OPENALGO_DEFINEDGE_TOTP_SECRET"]).now())
    orders = IntegrateOrders(conn)

    def place() -> Any:
        reply = orders.place_order(exchange="NSE", tradingsymbol="SBIN-EQ", quantity=1,
                                   order_type="BUY", price_type="MARKET",
                                   product_type="INTRADAY", price=0, algo_id="99999")
        if reply.get("status") != "SUCCESS":
            raise RuntimeError(f"SDK order failed: {reply}")
        return reply["order_id"]
    return place


def _allmaster_rows(files: Mapping[str, bytes]) -> list[list[list[str]]]:
    """The floor of Definedge's format: unzip, decode, and every row as ``csv.reader``
    gives it (kept, as ``json.loads`` keeps Angel's rows: the format decoded, no more)."""
    rows = []
    for data in files.values():
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            text = archive.read("allmaster.csv").decode()
        rows.append(list(csv.reader(io.StringIO(text))))
    return rows


def _definedge_pandas(files: Mapping[str, bytes]) -> dict[tuple[str, str], str]:
    """OpenAlgo's way: a header-less DataFrame, the -EQ/-BE suffix stripped, then a map."""
    import pandas as pd

    (data,) = files.values()
    df = pd.read_csv(io.BytesIO(data), compression="zip", header=None, dtype=str,
                     keep_default_na=False)
    symbol = df[3].str.replace(r"-(EQ|BE|MF|SG)$", "", regex=True)
    return dict(zip(zip(symbol, df[0], strict=True), df[1], strict=True))


DEFINEDGE = BrokerBench(id="definedge", make_sim=_definedge_sim, sdk_name="pyintegrate",
                        sdk_import="import integrate", sdk_orders=_definedge_sdk,
                        pandas_symbol_map=_definedge_pandas, floor=_allmaster_rows,
                        floor_name="zipfile + csv.reader")


# -- IndMoney (INDstocks) ------------------------------------------------------------------
def _indmoney_sim(env: dict[str, str], master_size: int | None) -> SimulatorBase:
    from openalgo_indmoney.simulator import IndMoneySimulator

    return IndMoneySimulator(environ=env, master_size=master_size, margin_limit=None,
                             token_interval=0)


def _csv_floor(files: Mapping[str, bytes]) -> list[list[list[str]]]:
    """The format's floor: every record of every CSV file, as ``csv.reader`` reads it."""
    return [list(csv.reader(io.StringIO(data.decode()))) for data in files.values()]


def _indmoney_pandas(files: Mapping[str, bytes]) -> dict[tuple[str, str], str]:
    """OpenAlgo's way (broker/indmoney master_contract_db): a DataFrame per file, the
    exchange mapped from EXCH and SEGMENT, futures and options rebuilt from the trading
    symbol, the expiry and the strike with vectorised string operations, then a map."""
    import pandas as pd

    found: dict[tuple[str, str], str] = {}
    for url, data in files.items():
        df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
        if "source=index" in url:
            exchange = df["EXCH"].map({"NSE": "NSE_INDEX", "BSE": "BSE_INDEX"})
            symbol = df["SEGMENT"].str.upper().str.replace(" ", "", regex=False)
        else:
            kind = df["INSTRUMENT_NAME"]
            derivative = df["SEGMENT"].isin(["D", "FNO"])
            exchange = df["EXCH"].where(~derivative, df["EXCH"].map({"NSE": "NFO",
                                                                     "BSE": "BFO"}))
            base = df["TRADING_SYMBOL"].str.extract(r"^(.+?)-[A-Za-z]{3}\d{4}", expand=False)
            expiry = pd.to_datetime(df["EXPIRY_DATE"], errors="coerce").dt.strftime(
                "%d%b%y").str.upper()
            strike = pd.to_numeric(df["STRIKE_PRICE"], errors="coerce").map(
                lambda v: f"{v:g}", na_action="ignore")
            option = base + expiry + strike + df["OPTION_TYPE"]
            future = base + expiry + "FUT"
            symbol = df["TRADING_SYMBOL"].where(kind == "EQUITY", option.where(
                kind.str.startswith("OPT"), future))
        for key, token in zip(zip(symbol, exchange, strict=True), df["SECURITY_ID"],
                              strict=True):
            found.setdefault(key, token)
    return found


INDMONEY = BrokerBench(id="indmoney", make_sim=_indmoney_sim,
                       pandas_symbol_map=_indmoney_pandas, floor_name="csv.reader",
                       floor=_csv_floor,
                       # the bench expires sessions several times a second: INDstocks'
                       # one-generation-a-minute rule is off in its simulator process; and
                       # its account never runs out of margin (INDstocks refuses a shortfall
                       # at placement: thousands of buys would be refused, not booked)
                       sim_env={"OPENALGO_INDMONEY_SIM_TOKEN_INTERVAL": "0",
                                "OPENALGO_INDMONEY_SIM_MARGIN_LIMIT": "none"})

# -- Kotak Neo ---------------------------------------------------------------------------
def _kotak_sim(env: dict[str, str], master_size: int | None) -> SimulatorBase:
    from openalgo_kotak.simulator import KotakSimulator

    return KotakSimulator(environ=env, master_size=master_size, margin_limit=None)


class _ToSimulator(httpx.HTTPTransport):
    """kotakneoapi's transport: every host (the login host, the base URL validation
    names) sent to the simulator at ``url``, paths kept, trusting ``REQUESTS_CA_BUNDLE``."""

    def __init__(self, url: str) -> None:
        bundle = os.environ.get("REQUESTS_CA_BUNDLE")
        super().__init__(verify=ssl.create_default_context(cafile=bundle) if bundle else True)
        self.target = httpx.URL(url)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme=self.target.scheme, host=self.target.host,
                                            port=self.target.port)
        request.headers["Host"] = self.target.netloc.decode()
        return super().handle_request(request)


def _kotak_sdk(url: str, env: dict[str, str]) -> Callable[[], Any]:
    os.environ.setdefault("NEO_LOG_FILE_ENABLED", "false")  # else it writes ./logs
    from neo_api_client import NeoAPI

    sdk = NeoAPI(consumer_key=env["OPENALGO_KOTAK_ACCESS_TOKEN"], environment="prod",
                 transport=_ToSimulator(url))
    sdk.totp_login(mobile_number="+91" + env["OPENALGO_KOTAK_MOBILE"],
                   ucc=env["OPENALGO_KOTAK_UCC"],
                   totp=pyotp.TOTP(env["OPENALGO_KOTAK_TOTP_SECRET"]).now())
    sdk.totp_validate(mpin=env["OPENALGO_KOTAK_MPIN"])

    def place() -> Any:
        reply = sdk.place_order(exchange_segment="nse_cm", product="MIS", price="0",
                                order_type="MKT", quantity="1", validity="DAY",
                                trading_symbol="SBIN-EQ", transaction_type="B")
        if reply.get("stat") != "Ok":
            raise RuntimeError(f"SDK order failed: {reply}")
        return reply["nOrdNo"]
    return place


def _kotak_csvs(files: Mapping[str, bytes]) -> dict[str, bytes]:
    """The segment CSVs the download fetched (the file list it read first left out)."""
    return {url: data for url, data in files.items() if url.endswith(".csv")}


def _kotak_pandas(files: Mapping[str, bytes]) -> dict[tuple[str, str], str]:
    """OpenAlgo's way: a DataFrame per segment file (headers stripped of spaces and
    ``;``), symbols built with pandas string operations, then a map."""
    import pandas as pd

    found: dict[tuple[str, str], str] = {}
    for data in _kotak_csvs(files).values():
        df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
        df.columns = df.columns.str.replace(" ", "").str.replace(";", "")
        segment = df["pExchSeg"].iloc[0] if len(df) else ""
        if segment.endswith("_cm"):
            symbol = df["pSymbolName"]
        else:
            seconds = pd.to_numeric(df["lExpiryDate"]) + (
                315513000 if segment in ("nse_fo", "cde_fo") else 0)
            expiry = pd.to_datetime(seconds, unit="s").dt.strftime("%d%b%y").str.upper()
            strike = (pd.to_numeric(df["dStrikePrice"]) / 100).map(lambda v: f"{v:g}")
            kind = df["pOptionType"].str.replace("XX", "FUT")
            symbol = df["pSymbolName"] + expiry + strike.where(kind != "FUT", "") + kind
        found.update(zip(zip(symbol, df["pExchSeg"], strict=True), df["pSymbol"], strict=True))
    return found


KOTAK = BrokerBench(id="kotak", make_sim=_kotak_sim, sdk_name="kotakneoapi",
                    sdk_import=("import os; os.environ.setdefault('NEO_LOG_FILE_ENABLED', 'false');"
                                " import neo_api_client"), sdk_orders=_kotak_sdk,
                    pandas_symbol_map=_kotak_pandas, floor_name="csv.reader",
                    floor=lambda files: _csv_floor(_kotak_csvs(files)),
                    sim_env={"OPENALGO_KOTAK_SIM_REPEAT_TAGS": "1"})


# -- ICICI Direct (Breeze) ---------------------------------------------------------------
#: the person at ICICI's login page, in the bench's simulator process too
_ICICI_USER = {"user_id": "BE123456", "password": "bench-password"}


def _icici_sim(env: dict[str, str], master_size: int | None) -> SimulatorBase:
    from openalgo_icici.simulator import BreezeSimulator

    sim = BreezeSimulator(environ=env, master_size=master_size, margin_limit=None)
    sim.user_id, sim.password = _ICICI_USER["user_id"], _ICICI_USER["password"]
    return sim


def _icici_sdk(url: str, env: dict[str, str]) -> Callable[[], Any]:
    """breeze-connect 1.0.69 on the simulator: its import-time master download (and the
    ones its session makes) served by the simulator, its hosts pointed there."""
    import urllib.request

    os.chdir(tempfile.mkdtemp(prefix="breeze-logs-"))  # the SDK writes logs/ into the cwd
    master = url + "/MotherAppMaster/SecurityMaster.zip"
    real = urllib.request.urlopen

    def loopback(target: Any, *args: Any, **kwargs: Any) -> Any:
        text = target if isinstance(target, str) else target.full_url
        if not text.startswith(url) and "icicidirect.com" not in text:
            raise OSError(f"the bench allows no internet: {text}")
        return io.BytesIO(httpx.get(master, verify=False).content)  # loopback, own cert

    urllib.request.urlopen = loopback  # type: ignore[assignment]
    try:
        from breeze_connect import breeze_connect as sdk_module
    finally:
        urllib.request.urlopen = real
    sdk_module.urlopen = loopback
    import config  # type: ignore[import-not-found]  # breeze-connect's own, top level

    config.API_URL = url + "/breezeapi/api/v1/"
    config.SECURITY_MASTER_URL = master
    with httpx.Client(verify=False) as browser:  # the bench's own simulator
        back = submit_login_page(browser, f"{url}/apiuser/login?api_key="
                                 f"{env['OPENALGO_ICICI_API_KEY']}", _ICICI_USER)
    sdk = sdk_module.BreezeConnect(api_key=env["OPENALGO_ICICI_API_KEY"])
    sdk.generate_session(api_secret=env["OPENALGO_ICICI_API_SECRET"],
                         session_token=dict(parse_qsl(back.query.decode()))["apisession"])

    def place() -> Any:
        reply = sdk.place_order(stock_code="STABAN", exchange_code="NSE", product="cash",
                                action="buy", order_type="market", quantity="1", price="",
                                validity="day")
        if not isinstance(reply, dict) or reply.get("Status") != 200:
            raise RuntimeError(f"SDK order failed: {reply}")
        return reply["Success"]["order_id"]
    return place


def _security_master_rows(files: Mapping[str, bytes]) -> list[list[list[str]]]:
    """The floor of ICICI's format: unzip, decode, every row of the three members this
    plugin reads as ``csv.reader`` gives it."""
    rows = []
    for data in files.values():
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name in ("NSEScripMaster.txt", "BSEScripMaster.txt", "FONSEScripMaster.txt"):
                rows.append(list(csv.reader(io.StringIO(archive.read(name).decode()))))
    return rows


def _icici_pandas(files: Mapping[str, bytes]) -> dict[tuple[str, str], str]:
    """OpenAlgo's way (broker/icici master_contract_db): a DataFrame per member, headers
    stripped of quotes and spaces and upper-cased, F&O symbols rebuilt with vectorised
    string operations, then a map."""
    import pandas as pd

    found: dict[tuple[str, str], str] = {}
    aliases = {"NIFTY 50": "NIFTY", "NIFTY BANK": "BANKNIFTY", "NIFTY FIN SERVICE":
               "FINNIFTY", "NIFTY MID SELECT": "MIDCPNIFTY"}
    for data in files.values():
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for name, exchange in (("NSEScripMaster.txt", "NSE"), ("BSEScripMaster.txt", "BSE")):
                df = pd.read_csv(archive.open(name), dtype=str, keep_default_na=False)
                df.columns = df.columns.str.replace('"', "").str.strip().str.upper()
                index = df["SERIES"] == "0"
                where = pd.Series(exchange, index=df.index).where(~index, exchange + "_INDEX")
                symbol = df["EXCHANGECODE"].where(~index, df["EXCHANGECODE"].map(
                    lambda v: aliases.get(v, v.replace(" ", ""))))
                found.update(zip(zip(symbol, where, strict=True), df["TOKEN"], strict=True))
            df = pd.read_csv(archive.open("FONSEScripMaster.txt"), dtype=str,
                             keep_default_na=False)
            df.columns = df.columns.str.replace('"', "").str.strip().str.upper()
            name = df["EXCHANGECODE"].map(lambda v: aliases.get(v, v))
            expiry = pd.to_datetime(df["EXPIRYDATE"], format="%d-%b-%Y").dt.strftime(
                "%d%b%y").str.upper()
            future = df["OPTIONTYPE"] == "XX"
            strike = df["STRIKEPRICE"].str.replace(r"\.0+$", "", regex=True)
            symbol = (name + expiry + "FUT").where(future, name + expiry + strike
                                                   + df["OPTIONTYPE"])
            found.update(zip(zip(symbol, ["NFO"] * len(df), strict=True), df["TOKEN"],
                             strict=True))
    return found


#: breeze-connect does not import offline (it downloads the security master at import:
#: sdk-observed.md): its ``urlopen`` answers an empty zip, and its logs/ go to a temporary
#: directory
_BREEZE_IMPORT = """
import io, os, tempfile, urllib.request, zipfile
os.chdir(tempfile.mkdtemp(prefix="breeze-logs-"))
_empty = io.BytesIO()
zipfile.ZipFile(_empty, "w").close()
urllib.request.urlopen = lambda *args, **kwargs: io.BytesIO(_empty.getvalue())
import breeze_connect
"""

ICICI = BrokerBench(id="icici", make_sim=_icici_sim, sdk_name="breeze-connect",
                    sdk_import=_BREEZE_IMPORT, sdk_orders=_icici_sdk,
                    pandas_symbol_map=_icici_pandas, floor=_security_master_rows,
                    floor_name="zipfile + csv.reader",
                    # its account never runs out of margin (thousands of bench buys); the
                    # person at ICICI's page is known to the bench
                    sim_env={"OPENALGO_ICICI_SIM_MARGIN_LIMIT": "none",
                             "OPENALGO_ICICI_SIM_USER_ID": _ICICI_USER["user_id"],
                             "OPENALGO_ICICI_SIM_PASSWORD": _ICICI_USER["password"]},
                    login_answers=_ICICI_USER)

BROKERS = {b.id: b for b in (ANGEL, DEFINEDGE, INDMONEY, KOTAK, ICICI)}


def installed() -> list[BrokerBench]:
    """The benchmarked brokers whose plugin is installed and loads."""
    ok = {r.id for r in Registry().load_all() if r.status == "ok"}
    return [bench for broker, bench in BROKERS.items() if broker in ok]
