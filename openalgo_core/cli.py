"""The ``openalgo`` command.

Errors print one line (``error: ...``, naming the option for a bad value) and exit
non-zero: 1 for a failure, 2 for bad usage, 3 when an order's outcome is unknown.
``.env`` in the working directory is loaded first (existing environment variables win).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from . import __version__
from ._format import print_json, table
from .cli_day import BROKER_HELP, JSON_HELP, PRICETYPES, add_day_commands
from .config import EnvFileEnviron, env_var, load_env_file, parse_url
from .errors import (
    ConfigurationError,
    LoginRequiredError,
    OpenAlgoError,
    OrderStatusUnknownError,
    ValidationError,
)
from .gateway import Gateway, default_home
from .models import IST, LoginChallenge, OrderRequest, Position, Session

__all__ = ["main"]

PROG = "openalgo"


def positions_table(positions: Sequence[Position]) -> str:
    """The position book, its P&L totalled."""
    if not positions:
        return "(no positions)"
    return table([(p.symbol, p.exchange.value, p.product.value, p.quantity, p.average_price,
                   p.ltp, p.pnl) for p in positions],
                 ["symbol", "exchange", "product", "quantity", "average_price", "ltp", "pnl"],
                 totals=["pnl"])


class Progress:
    """A one-line download progress bar on stderr."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label, self.stream, self._shown = label, stream or sys.stderr, False

    def __call__(self, done: int, total: int | None) -> None:
        if total:
            filled = int(30 * done / total)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {done * 100 // total:3d}%"
        else:
            bar = f"{done / 1e6:8.1f} MB"
        self.stream.write(f"\r{self.label} {bar}")
        self.stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown:
            self.stream.write("\n")


def _session_line(session: Session) -> str:
    return (f"logged in to {session.broker} as {session.user_id}; session valid until"
            f" {session.expires_at.astimezone(IST):%Y-%m-%d %H:%M} IST")


def cmd_brokers(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    records = gw.brokers(load=True)
    rows: list[dict[str, Any]] = []
    for r in records:
        info = r.info
        rows.append({"id": r.id, "distribution": r.distribution, "version": r.version,
                     "status": r.status, "reason": r.reason,
                     "name": info.display_name if info else None,
                     "exchanges": sorted(info.exchanges) if info else [],
                     "login": info.login_style if info else None})
    if args.json:
        print_json(rows, out)
    elif not rows:
        out.write("no broker plugins installed; try `pip install openalgo-angel`\n")
    else:
        out.write(table([(r["id"], r["distribution"] or "-", r["version"] or "-",
                          r["status"] if r["status"] == "ok" else f"{r['status']}: {r['reason']}",
                          r["login"] or "-", " ".join(r["exchanges"])) for r in rows],
                        ["broker", "distribution", "version", "status", "login", "exchanges"])
                  + "\n")
    return 0


def _ask(label: str, *, secret: bool) -> str:
    """One line from standard input; a secret is read unseen from a terminal.

    Raises:
        EOFError: standard input is closed or at its end (cron, a pipe, ``< /dev/null``).
    """
    stdin = sys.stdin
    if stdin is None or stdin.closed:
        raise EOFError
    if secret and stdin.isatty():
        return getpass.getpass(f"{label}: ").strip()
    return input(f"{label}: ").strip()


def _no_input(gw: Gateway, challenge: LoginChallenge) -> ConfigurationError:
    """What to set so that nobody has to type ``challenge``'s fields."""
    broker = challenge.broker
    if challenge.kind == "url":
        what, variables = "address", {}
    else:
        known = {spec.name for spec in gw.info(broker).credentials}
        wanted = ["TOTP_SECRET" if name in ("code", "otp", "totp") else name.upper()
                  for name in challenge.fields]
        variables = dict.fromkeys(env_var(broker, w) for w in wanted if w in known)
        what = ", ".join(name.replace("_", " ") for name in challenge.fields)
    fix = (f"set {', '.join(variables)} to log in unattended" if variables
           else f"run `openalgo login {broker}` where you can type")
    return ConfigurationError(f"{broker}: no {what} could be asked for (standard input is"
                              f" closed); {fix}")


def cmd_login(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    """Log in; a code the broker sent can be sent again by typing ``resend``."""
    result = gw.authenticate(args.broker)
    while isinstance(result, LoginChallenge):
        try:
            if result.kind == "url":
                out.write(f"Open this URL and log in:\n  {result.url}\n")
                pasted = _ask("Paste the address you were sent back to", secret=False)
                params = dict(parse_qsl(urlsplit(pasted).query)) or dict(parse_qsl(pasted))
            else:
                hint = " (or type resend for a new code)" if result.resendable else ""
                out.write(f"{result.prompt}{hint}\n")
                out.flush()
                params = {name: _ask(result.label(name), secret=result.is_secret(name))
                          for name in result.fields}
        except EOFError:
            raise _no_input(gw, result) from None
        if result.resendable and params.get("code", "").lower() == "resend":
            result = gw.resend_code(args.broker, result.state)
            continue
        params["state"] = result.state
        result = gw.handle_callback(args.broker, params)
    out.write(_session_line(result) + "\n")
    return 0


def cmd_logout(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    gw.logout(args.broker)
    out.write(f"logged out of {args.broker}\n")
    return 0


def cmd_order(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    order = {"symbol": args.symbol, "exchange": args.exchange, "action": args.action,
             "quantity": args.quantity, "pricetype": args.pricetype, "product": args.product,
             "price": args.price, "trigger_price": args.trigger_price,
             "disclosed_quantity": args.disclosed_quantity, "strategy": args.strategy}
    if args.tag:
        order["tag"] = args.tag
    placed, _ = gw.validate_order(args.broker, order)
    receipt = gw.place_order(args.broker, placed)
    if args.json:
        print_json({"status": "success", "orderid": receipt.order_id, "tag": receipt.tag,
                    "order": placed.model_dump(exclude={"tag"})}, out)
    else:
        out.write(f"{args.broker}: {describe(placed)}, tag {receipt.tag}\n"
                  f"order id {receipt.order_id}\n")
    return 0


def describe(order: OrderRequest) -> str:
    """What an order asks for, in a trader's words: ``BUY 10 SBIN (NSE) LIMIT @ 812.50
    MIS``."""
    from ._format import number

    price = ""
    if order.pricetype.value in ("LIMIT", "SL"):
        price += f" @ {number(order.price)}"
    if order.pricetype.value in ("SL", "SL-M"):
        price += f" trigger {number(order.trigger_price)}"
    return (f"{order.action.value} {order.quantity} {order.symbol} ({order.exchange.value})"
            f" {order.pricetype.value}{price} {order.product.value}")


def cmd_positions(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    positions = gw.fetch_positions(args.broker)
    if args.json:
        print_json([p.model_dump(mode="json") for p in positions], out)
    else:
        out.write(positions_table(positions) + "\n")
    return 0


def cmd_instruments(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    progress = Progress(f"{args.broker} master contract")
    try:
        index = gw.instruments(args.broker, refresh=args.refresh, progress=progress)
    finally:
        progress.finish()
    if args.search:
        hits = index.search(args.search, limit=args.limit)
        out.write(table([(i.symbol, i.exchange, i.broker_symbol, i.token, i.lot_size,
                          i.tick_size, i.expiry or "") for i in hits],
                        ["symbol", "exchange", "broker_symbol", "token", "lot", "tick", "expiry"])
                  + "\n")
    else:
        out.write(f"{len(index)} instruments cached for {args.broker}\n")
    return 0


def cmd_sim(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    try:
        from .testing.transport import ServerThread, free_port
    except ImportError:
        raise ConfigurationError("simulators need the testing extra:"
                                 " pip install 'openalgo-core[testing]'") from None
    if (args.ssl_certfile is None) != (args.ssl_keyfile is None):
        raise ValidationError("--ssl-certfile and --ssl-keyfile go together")
    sim = gw.registry.call(args.broker, "broker_simulator", environ=os.environ)
    server = ServerThread(sim.app, host=args.host, port=args.port or free_port(args.host),
                          ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile)
    server.start()
    out.write(f"{args.broker} simulator listening on {server.url}\n"
              f"point the plugin at it:  export {env_var(args.broker, 'BASE_URL')}="
              f"{server.url}\n(Ctrl-C to stop)\n")
    out.flush()
    try:
        server.wait()
    finally:
        server.stop()
    return 0


def _server_extra() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise ConfigurationError("the gateway needs the server extra:"
                                 " pip install 'openalgo-core[server]'") from None


def serve_address(host: str | None, port: int | None) -> tuple[str, int]:
    """--host/--port, else REDIRECT_URL's host and port, else 127.0.0.1:5000.

    Raises:
        ConfigurationError: ``REDIRECT_URL`` is set but is not a URL.
    """
    raw = os.environ.get("REDIRECT_URL", "").strip().strip("'\"")
    if raw:
        redirect = parse_url(raw, "REDIRECT_URL")
        host, port = host or redirect.hostname, port or redirect.port
    return host or "127.0.0.1", port or 5000


def cmd_serve(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    _server_extra()
    import uvicorn

    from .server import ApiKeys, create_app
    from .server.app import LOOPBACK, allowed_hosts

    host, port = serve_address(args.host, args.port)
    if host not in LOOPBACK:
        if not args.allow_remote:
            raise ConfigurationError(
                f"--host {host} is reachable from other machines: pass --allow-remote"
                " (and set OPENALGO_DASHBOARD_PASSWORD) to serve beyond this machine")
        if not os.environ.get("OPENALGO_DASHBOARD_PASSWORD"):
            raise ConfigurationError("--allow-remote needs OPENALGO_DASHBOARD_PASSWORD: the"
                                     " dashboard and login pages then ask for it")
    keys = ApiKeys(os.environ, default_home())
    if not keys.configured:
        print("warning: no API key; every /api/v1 call will be refused with 403."
              " Run `openalgo apikey` or set OPENALGO_API_KEY.", file=sys.stderr)
    app = create_app(gw, api_keys=keys, hosts=allowed_hosts(os.environ, host))
    out.write(f"openalgo gateway on http://{host}:{port}  (API docs: /docs)\n")
    out.flush()
    uvicorn.run(app, host=host, port=port, log_level="warning")
    return 0


def cmd_apikey(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    """A new key; an existing one is replaced only with ``--replace`` (every client using
    it stops working)."""
    from .server.apikeys import HASH_FILE, create_api_key

    if (default_home() / HASH_FILE).exists() and not args.replace:
        raise ValidationError("an API key already exists; --replace makes a new one (clients"
                              " using the old key will be refused)", field="replace")
    key = create_api_key(default_home())
    out.write(f"{key}\n")
    print("This key is shown once; only its hash is stored. Send it as `apikey`"
          " (or the X-API-KEY header).", file=sys.stderr)
    return 0


def cmd_demo(gw: Gateway, args: argparse.Namespace, out: TextIO) -> int:
    _server_extra()
    try:
        from .demo import run_demo
    except ImportError:
        raise ConfigurationError("the demo needs the testing extra:"
                                 " pip install 'openalgo-core[testing,server]'") from None
    return run_demo(out, registry=gw.registry, table=_rows_table)


def cmd_new_plugin(args: argparse.Namespace, out: TextIO) -> int:
    from .scaffold import write_plugin

    target = write_plugin(args.broker, args.directory)
    out.write(f"wrote {target}: broker package {args.broker!r} on the kit, with its own"
              f" simulator\nnext:  cd {target} && pip install -e '.[test]' && pytest\n")
    return 0


def _rows_table(rows: list[dict[str, Any]]) -> str:
    """OpenAlgo's position rows (the REST reply) as a table, their P&L totalled."""
    if not rows:
        return "(no positions)"
    headers = list(rows[0])
    return table([[row[h] for h in headers] for row in rows], headers,
                 totals=["pnl"] if "pnl" in headers else ())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Trade through any installed broker plugin: log in, place and"
        " manage orders, read the books, serve OpenAlgo's REST API.")
    parser.add_argument("--version", action="version", version=f"openalgo-core {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str, **kwargs: Any) -> argparse.ArgumentParser:
        made: argparse.ArgumentParser = sub.add_parser(name, help=text, description=text,
                                                       **kwargs)
        return made

    p = command("brokers", "list installed broker plugins")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(run=cmd_brokers)

    for name, run, text in (("login", cmd_login, "log in and store the session"),
                            ("logout", cmd_logout, "forget the stored session")):
        p = command(name, text)
        p.add_argument("broker", help=BROKER_HELP)
        p.set_defaults(run=run)

    p = command("order", "place one order; print what was placed and its order id")
    p.add_argument("broker", help=BROKER_HELP)
    p.add_argument("--symbol", required=True, help="OpenAlgo's symbol (SBIN, NIFTY30DEC26FUT)")
    p.add_argument("--exchange", required=True, help="NSE, BSE, NFO, BFO, MCX, CDS ...")
    p.add_argument("--action", required=True, type=str.upper, choices=["BUY", "SELL"],
                   help="buy or sell")
    p.add_argument("--quantity", required=True, help="in units (a lot's multiple on F&O)")
    p.add_argument("--pricetype", default="MARKET", type=str.upper, choices=PRICETYPES,
                   help="the order type (default MARKET)")
    p.add_argument("--product", default="MIS", type=str.upper, choices=["MIS", "CNC", "NRML"],
                   help="intraday MIS (default), delivery CNC, or carry-forward NRML")
    p.add_argument("--price", default="0", help="the limit price (LIMIT and SL)")
    p.add_argument("--trigger-price", default="0", help="the stop trigger (SL and SL-M)")
    p.add_argument("--disclosed-quantity", default="0",
                   help="the quantity shown to the market (default 0: all)")
    p.add_argument("--strategy", default="cli", help="a strategy name kept with the order")
    p.add_argument("--tag", default=None,
                   help="your own unique order tag: placing the same tag again never sends"
                        " a second order (default: a new tag)")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(run=cmd_order)

    p = command("positions", "show the position book, its P&L totalled")
    p.add_argument("broker", help=BROKER_HELP)
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.set_defaults(run=cmd_positions)

    add_day_commands(sub)

    p = command("instruments", "download (once a day) and search the master contract")
    p.add_argument("broker", help=BROKER_HELP)
    p.add_argument("--search", default=None, help="list the instruments matching this text")
    p.add_argument("--limit", type=int, default=20, help="at most this many matches (20)")
    p.add_argument("--refresh", action="store_true", help="download even if cached today")
    p.set_defaults(run=cmd_instruments)

    p = command("sim", "serve a broker's simulator until interrupted")
    p.add_argument("broker", help=BROKER_HELP)
    p.add_argument("--host", default="127.0.0.1", help="the address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="the port (default: a free one)")
    p.add_argument("--ssl-certfile", default=None, help="serve HTTPS with this PEM certificate")
    p.add_argument("--ssl-keyfile", default=None, help="... and this PEM private key")
    p.set_defaults(run=cmd_sim)

    p = command("serve", "run the OpenAlgo-compatible REST gateway and dashboard")
    p.add_argument("--host", default=None, help="default: REDIRECT_URL's host, or 127.0.0.1")
    p.add_argument("--allow-remote", action="store_true",
                   help="serve on an address other machines can reach (needs"
                        " OPENALGO_DASHBOARD_PASSWORD)")
    p.add_argument("--port", type=int, default=None, help="default: REDIRECT_URL's port, or 5000")
    p.set_defaults(run=cmd_serve)

    p = command("apikey", "create the gateway's API key (printed once)")
    p.add_argument("--replace", action="store_true",
                   help="replace the existing key (clients using it will be refused)")
    p.set_defaults(run=cmd_apikey)

    p = command("demo", "every installed broker, end to end, on local simulators")
    p.set_defaults(run=cmd_demo)

    p = command("new-plugin", "write a new broker package (on the kit, with a simulator) that"
                              " passes conformance as it is")
    p.add_argument("broker", help="the broker id: lower-case letters, digits and _")
    p.add_argument("--directory", default=".", help="where to write openalgo-<broker>/")
    p.set_defaults(run=None, write=cmd_new_plugin)
    return parser


def _flag_error(exc: ValidationError, argv: Sequence[str]) -> str:
    """``exc``'s message naming the command-line option behind its field
    (``trigger_price: ...`` -> ``--trigger-price: ...``) when one was given."""
    text = str(exc)
    if exc.field is None:
        return text
    flag = "--" + exc.field.replace("_", "-")
    if not any(arg == flag or arg.startswith(flag + "=") for arg in argv):
        return text
    if text.startswith(f"{exc.field}:"):
        return flag + text[len(exc.field):]
    return f"{flag}: {text}"


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None,
         gateway: Gateway | None = None) -> int:
    """Run the CLI; returns the exit status."""
    out = out or sys.stdout
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    try:
        if args.run is None:  # needs no gateway, settings or credentials
            written: int = args.write(args, out)
            return written
        environ = EnvFileEnviron(".env")  # the real environment, before .env joins it
        load_env_file(".env")
        gw = gateway or Gateway(environ=environ)
        code: int = args.run(gw, args, out)
        return code
    except ValidationError as exc:
        print(f"error: {_flag_error(exc, argv)}", file=sys.stderr)
        return 2
    except LoginRequiredError as exc:
        print(f"error: {exc}; run `openalgo login {exc.broker}`", file=sys.stderr)
        return 1
    except OrderStatusUnknownError as exc:
        print(f"error: {exc} (tag {exc.tag}); check the order book before retrying",
              file=sys.stderr)
        return 3
    except OpenAlgoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
