"""Wire broker simulators to a gateway: the one recipe every test, demo and benchmark uses.

:func:`wire` gives a :class:`Harness` for one plugin, :func:`wire_all` one per
broker of a registry, all on one gateway. Each simulator runs in-process
(``"inprocess"``: an ASGI transport, no socket) or on a loopback socket
(``"http"``: uvicorn on a thread, ``OPENALGO_<ID>_BASE_URL`` pointing at it).
The gateway gets an isolated home, a memory session store, a recorded fake sleep
and no pacing, and credentials generated for every field the broker declares;
``omit`` keeps some from the gateway while the simulator still knows them (no
TOTP secret: the login becomes a code challenge only the user can answer).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import httpx

from ..config import env_var
from ..gateway import Gateway, SettlePolicy
from ..http import DEFAULT_TIMEOUT, BrokerClient, RetryPolicy
from ..info import BrokerInfo
from ..models import LoginChallenge, Session
from ..registry import Registry
from ..sessions import MemorySessionStore, SessionStore
from .browser import LoginPageError, submit_login_page
from .simulator import DEFAULT_CALLBACK_BASE, SimulatorBase, generate_credential
from .transport import InProcessTransport, ServerThread

__all__ = ["Harness", "Mode", "broker_environ", "wire", "wire_all", "wired_gateway"]

Mode = Literal["inprocess", "http"]


def broker_environ(info: BrokerInfo, *,
                   callback_base: str = DEFAULT_CALLBACK_BASE) -> dict[str, str]:
    """Generated credentials for every field ``info`` declares, under the variable
    names the core reads; ``REDIRECT_URL`` is ``<callback_base>/<id>/callback``; a
    setting (``choices``) its first value."""
    env = {env_var(info.id, spec.name): spec.choices[0] if spec.choices
           else generate_credential(spec.name, broker=info.id)
           for spec in info.credentials}
    if any(spec.name == "REDIRECT_URL" for spec in info.credentials):
        env[env_var(info.id, "REDIRECT_URL")] = f"{callback_base}/{info.id}/callback"
    return env


@dataclass
class Harness:
    """One broker's simulator and the gateway wired to it.

    ``environ`` is the gateway's environment (shared by every broker of a
    :func:`wire_all`): change it and the next login reads the change. ``sleeps``
    records what the gateway would have slept. ``url`` is the simulator's address
    over ``"http"`` (None in-process).
    """

    broker: str
    sim: SimulatorBase
    gateway: Gateway
    environ: dict[str, str]
    sleeps: list[float]
    mode: Mode
    url: str | None
    _resources: contextlib.ExitStack = field(repr=False)
    _http: httpx.Client | None = field(default=None, repr=False)

    def var(self, name: str) -> str:
        """The variable holding credential ``name`` for this broker."""
        return env_var(self.broker, name)

    def transport(self) -> httpx.BaseTransport | None:
        """How a new client reaches the simulator (None over a socket: plain httpx)."""
        return InProcessTransport(self.sim.app) if self.mode == "inprocess" else None

    def client(self, **options: Any) -> BrokerClient:
        """A bare client of the broker's plugin on the simulator (no pacing, the
        recorded sleep; ``options`` go to :class:`BrokerClient`); closed with the harness."""
        settings: dict[str, Any] = {"limiters": {}, "sleep": self.sleeps.append,
                                    "retry": RetryPolicy(attempts=3), **options}
        client = BrokerClient(self.gateway.info(self.broker), base_url=self.url,
                              transport=self.transport(), **settings)
        self._resources.callback(client.close)
        return client

    def http(self) -> httpx.Client:
        """The raw HTTP client on the simulator, for speaking the broker's protocol by
        hand: relative paths go to the simulator, and so do absolute URLs of the
        broker's hosts in-process. Made once, closed with the harness."""
        if self._http is None:
            info = self.gateway.info(self.broker)
            origin = self.url or next(
                (f"{p.scheme}://{p.netloc}" for p in map(urlsplit, info.base_urls.values())),
                "http://simulator.invalid")
            self._http = self._resources.enter_context(
                httpx.Client(transport=self.transport(), base_url=origin, timeout=10))
        return self._http

    def sim_orders(self) -> list[dict[str, Any]]:
        """Every order the simulator received, as ``/_sim/orders`` shows them."""
        return [o.as_json() for o in list(self.sim.book.orders.values())]

    def fault(self, **changes: Any) -> None:
        """Change the simulator's faults (see :class:`~openalgo_core.testing.Faults`)."""
        self.sim.faults = dataclasses.replace(self.sim.faults, **changes)

    def totp(self) -> str:
        """The current TOTP of the simulator's secret (which the gateway may lack)."""
        return self.sim.totp_now()

    def answer(self, challenge: LoginChallenge) -> dict[str, str]:
        """The callback parameters a user sends for ``challenge``: the typed code form
        (with its ``state``), or, for a URL, what the broker's redirect carries back
        after the user logged in at its page (no ``state``: the broker drops it)."""
        answers = self.sim.demo_login_params(challenge)
        if challenge.kind == "code":
            return {"state": challenge.state, **answers}
        if not challenge.url:
            raise LoginPageError(f"{self.broker}: a URL challenge without a URL")
        target = submit_login_page(self.http(), challenge.url, answers)
        return dict(parse_qsl(target.query.decode(), keep_blank_values=True))

    def login(self) -> Session:
        """Log in as a user would: unattended, by typing the code, or through the
        broker's login page; the session is stored in the gateway."""
        result = self.gateway.authenticate(self.broker)
        if isinstance(result, LoginChallenge):
            result = self.gateway.handle_callback(self.broker, self.answer(result))
        return result


@contextlib.contextmanager
def wire(plugin: object, *, mode: Mode = "inprocess", sim: SimulatorBase | None = None,
         **options: Any) -> Iterator[Harness]:
    """One plugin (registered in-process) wired to its simulator; see :func:`wire_all`
    for ``options``. ``sim`` replaces the plugin's own ``broker_simulator``."""
    registry = Registry(environ={}, discover=False)
    info = registry.register_broker(plugin)
    sims = {info.id: sim} if sim is not None else None
    with wire_all(registry, [info.id], mode=mode, sims=sims, **options) as harnesses:
        yield harnesses[info.id]


@contextlib.contextmanager
def wire_all(registry: Registry, brokers: Sequence[str], *, mode: Mode = "inprocess",
             environ: dict[str, str] | None = None, omit: Iterable[str] = (),
             sims: Mapping[str, SimulatorBase] | None = None,
             home: str | Path | None = None, retry: RetryPolicy | None = None,
             timeout: httpx.Timeout | None = None, pace: bool = False,
             sleep: Callable[[float], None] | None = None,
             clock: Callable[[], dt.datetime] | None = None,
             settle: SettlePolicy | None = None,
             callback_base: str = DEFAULT_CALLBACK_BASE) -> Iterator[dict[str, Harness]]:
    """Each of ``brokers`` wired to its simulator, all on one gateway.

    Args:
        environ: the credentials both sides use (default: generated for every field).
            The dict itself becomes the gateway's environment (``OPENALGO_HOME`` and,
            over ``"http"``, each ``OPENALGO_<ID>_BASE_URL`` are set in it): keep it to
            change what the next login reads. The simulators get a copy.
        omit: credential fields (``"TOTP_SECRET"``) removed from the gateway's environment.
        sims: simulators to use instead of building each plugin's own.
        home: ``OPENALGO_HOME`` and the instrument cache (default: a temporary directory).
        retry, timeout: the gateway's (default: 3 attempts, the core's timeouts).
        pace: pace requests to the brokers' rate limits (default off).
        sleep: the gateway's sleep (default: recorded in ``Harness.sleeps``, not slept).
        clock, settle: the gateway's clock and :class:`SettlePolicy` (default: the real
            time and the gateway's default policy).
        callback_base: where ``REDIRECT_URL`` points (the REST gateway's address).
    """
    with contextlib.ExitStack() as stack:
        if home is None:
            home = stack.enter_context(tempfile.TemporaryDirectory(prefix="openalgo-wire-"))
        env = {} if environ is None else environ
        if environ is None:
            for broker in brokers:
                env.update(broker_environ(registry.load(broker), callback_base=callback_base))
        credentials = dict(env)
        for broker in brokers:
            for name in omit:
                env.pop(env_var(broker, name), None)
        env["OPENALGO_HOME"] = str(home)
        built: dict[str, SimulatorBase] = {}
        transports: dict[str, httpx.BaseTransport] = {}
        urls: dict[str, str | None] = {}
        for broker in brokers:
            built[broker] = _simulator(registry, broker, credentials, sims)
            urls[broker] = None
            if mode == "http":
                urls[broker] = url = stack.enter_context(ServerThread(built[broker].app).running())
                env[env_var(broker, "BASE_URL")] = url
            else:
                transports[broker] = InProcessTransport(built[broker].app)
        sleeps: list[float] = []
        gateway = stack.enter_context(wired_gateway(
            registry, env, home=home, transports=transports, retry=retry, timeout=timeout,
            pace=pace, sleep=sleep or sleeps.append, clock=clock, settle=settle))
        yield {broker: Harness(broker, built[broker], gateway, env, sleeps, mode, urls[broker],
                               stack.enter_context(contextlib.ExitStack()))
               for broker in brokers}


@contextlib.contextmanager
def wired_gateway(registry: Registry, environ: dict[str, str], *, home: str | Path,
                  transports: Mapping[str, httpx.BaseTransport] | None = None,
                  retry: RetryPolicy | None = None, timeout: httpx.Timeout | None = None,
                  pace: bool = False,
                  sleep: Callable[[float], None] | None = None,
                  clock: Callable[[], dt.datetime] | None = None,
                  settle: SettlePolicy | None = None,
                  session_store: SessionStore | None = None) -> Iterator[Gateway]:
    """The gateway :func:`wire_all` builds, for simulators it does not run itself (one in
    another process, reached by ``OPENALGO_<ID>_BASE_URL`` in ``environ``), or for a second
    gateway on the same ``home`` (the next start of a process: pass the first one's
    ``session_store``, as the store on disk would give it): ``home`` as ``OPENALGO_HOME``
    with its instrument cache and order journal, a memory session store, 3 attempts, the
    core's timeouts, no pacing unless asked; closed on exit."""
    environ["OPENALGO_HOME"] = str(home)
    with Gateway(registry=registry, environ=environ,
                 session_store=session_store or MemorySessionStore(),
                 cache_dir=Path(home) / "cache", transports=transports,
                 retry=retry or RetryPolicy(attempts=3), timeout=timeout or DEFAULT_TIMEOUT,
                 pace=pace, sleep=sleep or time.sleep, clock=clock, settle=settle) as gateway:
        yield gateway


def _simulator(registry: Registry, broker: str, environ: Mapping[str, str],
               given: Mapping[str, SimulatorBase] | None) -> SimulatorBase:
    sim = (given or {}).get(broker) or registry.call(broker, "broker_simulator",
                                                     environ=environ)
    if not isinstance(sim, SimulatorBase):
        raise TypeError(f"{broker}: broker_simulator returned {type(sim).__name__},"
                        f" not a SimulatorBase")
    return sim
