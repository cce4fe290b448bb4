"""Run every benchmark for every installed broker; write BENCHMARKS.md, a plot and
bench/results.json. ``python -m bench.run [--quick]`` (``nox -s bench``)."""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openalgo_core import Registry

from . import journal, master, orders, rest, startup
from .brokers import installed
from .tls import make_tls_files

ROOT = Path(__file__).resolve().parents[1]


def _f(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def collect(quick: bool, only: list[str] | None = None,
            earlier: dict[str, Any] | None = None) -> dict[str, Any]:
    """Measure every installed broker (or those in ``only``, keeping the ``earlier``
    results of the others; each broker's row says when it was measured)."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results: dict[str, Any] = {
        "when": when, "python": sys.version.split()[0], "machine": platform.machine(),
        "cpus": __import__("os").cpu_count(), "quick": quick,
        "brokers": {}}
    if only and earlier:
        for broker, row in earlier.get("brokers", {}).items():
            results["brokers"][broker] = {"when": earlier.get("when", "?"), **row}
    tls = make_tls_files()
    for bench in installed():
        if only and bench.id not in only:
            continue
        print(f"[{bench.id}] start-up", flush=True)
        row: dict[str, Any] = {"when": when, "startup": startup.run(
            bench.id, bench.sdks, repeats=5 if quick else 15)}
        print(f"[{bench.id}] order round trip", flush=True)
        row["round_trip"] = orders.round_trip(bench, n=100 if quick else 500)
        print(f"[{bench.id}] order round trip over TLS", flush=True)
        row["round_trip_tls"] = orders.round_trip(bench, n=100 if quick else 500, tls=tls)
        print(f"[{bench.id}] master contract", flush=True)
        row["master"] = master.run(bench, rows=50_000 if quick else 200_000,
                                   repeats=3 if quick else 7)
        print(f"[{bench.id}] paced basket", flush=True)
        row["paced_basket"] = orders.paced_basket(bench, orders=40 if quick else 200)
        print(f"[{bench.id}] unlimited basket", flush=True)
        row["unlimited_basket"] = orders.unlimited_basket(bench, orders=200 if quick else 1000)
        print(f"[{bench.id}] order journal", flush=True)
        row["journal"] = journal.journal_cost(bench, n=100 if quick else 500)
        print(f"[{bench.id}] settling unknown outcomes", flush=True)
        row["settle"] = journal.settle(bench, orders=10 if quick else 40)
        print(f"[{bench.id}] re-login under 50 callers", flush=True)
        if Registry().load(bench.id).login_style == "redirect":
            row["relogin"] = {"skipped": "logging in needs a person at the broker's page"}
        else:
            row["relogin"] = journal.relogin(bench)
        print(f"[{bench.id}] REST gateway latency", flush=True)
        row["rest_latency"] = rest.latency(bench, n=100 if quick else 300)
        print(f"[{bench.id}] REST gateway sustained", flush=True)
        row["rest_sustained"] = rest.sustained(bench, seconds=5 if quick else 60)
        results["brokers"][bench.id] = row
    return results


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # (label, goal, ratio of a broker's results): one group of bars per measure
    measures: list[tuple[str, float | None, Callable[[dict[str, Any]], float | None]]] = [
        ("order vs\nraw httpx", 1.15, lambda r: r["round_trip"]["gateway_vs_floor"]),
        ("SDK vs us\n(speed-up)", 2.0, lambda r: r["round_trip"]["sdk_vs_gateway"]),
        ("SDK vs us,\nHTTPS", 2.0, lambda r: r["round_trip_tls"]["sdk_vs_gateway"]),
        ("start-up\nvs floor", 1.3, lambda r: next(
            v for k, v in r["startup"]["rows"].items() if k.startswith("openalgo")
        )["ratio_to_floor"]),
        ("master parse\nvs its floor", 2.0, lambda r: r["master"]["parse_vs_floor"]),
        ("pandas vs\nthe floor", None, lambda r: r["master"]["pandas_vs_floor"]),
        ("cache load\n/ parse", 0.1, lambda r: r["master"]["cache_load_vs_parse"])]
    brokers = list(results["brokers"])
    width = 0.8 / max(len(brokers), 1)
    fig, ax = plt.subplots(figsize=(11, 5))
    for b, broker in enumerate(brokers):
        xs, ys = [], []
        for m, (_, _, ratio) in enumerate(measures):
            value = ratio(results["brokers"][broker])
            if value is not None:  # no SDK, no SDK bars (IndMoney)
                xs.append(m - 0.4 + width * (b + 0.5))
                ys.append(value)
        bars = ax.bar(xs, ys, width * 0.95, label=broker)
        ax.bar_label(bars, fmt="%.2f", fontsize=6, rotation=90, padding=2)
    for m, (_, goal, _) in enumerate(measures):
        if goal is not None:
            ax.hlines(goal, m - 0.45, m + 0.45, colors="#c44e52", linewidth=2)
    ax.set_xticks(range(len(measures)), [label for label, _, _ in measures], fontsize=8)
    ax.set_ylabel("ratio (red line: goal)")
    ax.legend(fontsize=8, ncols=len(brokers))
    ax.set_title("openalgo benchmarks: ratios against baselines measured in the same run")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def report(results: dict[str, Any], image: str) -> str:
    out = [
        "# Benchmarks",
        "",
        f"Measured {results['when']} on {results['cpus']} CPUs ({results['machine']}), Python "
        f"{results['python']}{' (quick run)' if results['quick'] else ''}. Every number is a "
        "ratio against a baseline measured in the same run; machines here are shared and "
        "noisy, so read ratios, not milliseconds. Reproduce: `nox -s bench`.",
        "",
        f"![ratios]({image})",
        "",
    ]
    for broker, r in results["brokers"].items():
        rt, m, pb, ub = r["round_trip"], r["master"], r["paced_basket"], r["unlimited_basket"]
        out += [f"## {broker}", ""]
        if r.get("when", results["when"]) != results["when"]:
            out += [f"Measured {r['when']}, in a run of its own.", ""]
        out += ["### 1. Order round trip over loopback", ""]
        for title, trip in (("Plain HTTP", rt), (
                "HTTPS, every client verifying the simulator's certificate (brokers serve"
                " only HTTPS)", r["round_trip_tls"])):
            out += [f"{title}:", "", "| client | median ms | p99 ms | new connections per order |",
                    "|---|---:|---:|---:|"]
            out += [f"| {name} | {_f(v['median_ms'])} | {_f(v['p99_ms'])} | "
                    f"{_f(v['connections_per_call'])} |" for name, v in trip["rows"].items()]
            sdk = (f" Official SDK vs gateway: **{_f(trip['sdk_vs_gateway'])}x** slower"
                   " (goal >= 2x)." if trip["sdk_vs_gateway"] is not None else
                   " (The broker has no official SDK to compare with.)")
            out += ["", f"Gateway vs raw httpx: **{_f(trip['gateway_vs_floor'])}x** (goal <= "
                    f"1.15x).{sdk}", ""]
        out += ["### 2. Start-up (fresh interpreter, median)", "",
                "| what | seconds | ratio to floor | peak RSS MB |", "|---|---:|---:|---:|"]
        out += [f"| {name} | {_f(v['median_s'], 3)} | {_f(v['ratio_to_floor'])} | "
                f"{_f(v['rss_mb'], 1)} |" for name, v in r["startup"]["rows"].items()]
        floor = m.get("floor_name", "json.loads")
        out += ["", "### 3. Master contract", "",
                f"{m['rows']:,} rows, {_f(m['file_mb'], 1)} MB in the broker's real format"
                f" ({m.get('files', 1)} file(s)).", "",
                "| step | seconds | ratio |", "|---|---:|---:|",
                f"| {floor} (floor) | {_f(m['floor_s'], 3)} | 1.00 |",
                f"| openalgo parse + index | {_f(m['parse_index_s'], 3)} | "
                f"{_f(m['parse_vs_floor'])} |",
                f"| pandas read + symbol map (OpenAlgo's way) | {_f(m['pandas_s'], 3)} | "
                f"{_f(m['pandas_vs_floor'])} |",
                f"| download + parse + index (from the simulator) | "
                f"{_f(m['download_parse_index_s'], 3)} | |",
                f"| load the day's cache | {_f(m['cache_load_s'], 3)} | "
                f"{_f(m['cache_load_vs_parse'])} of parse, "
                f"{_f(m['cache_load_vs_download_parse_index'])} of download+parse |",
                "",
                f"Parse, {floor} and the cache load are medians of {m.get('repeats', 7)} runs"
                f" taken in turn (parse vs {floor} on the best run of each instead, as"
                " `timeit`: "
                f"{_f(m.get('parse_vs_floor_best', float('nan')))}x).", "",
                "Lookups, over 100,000 random symbols, best of 5 passes (as `timeit`): "
                f"{m['lookups_per_s_fresh']:,.0f}/s on a fresh index, "
                f"{m['lookups_per_s_cached_warm']:,.0f}/s on a loaded cache "
                f"({m['lookups_per_s_cached_first']:,.0f}/s on first touch, which finds the "
                "symbol by binary search and parses its row); a bare "
                "`dict[(symbol, exchange)]` subscript in the same loop: "
                f"{m['lookups_per_s_bare_dict']:,.0f}/s. Goal >= 1,000,000/s.", "",
                "### 4. Baskets", "",
                f"Paced: {pb['orders']} orders to a simulator refusing more than "
                f"{pb['limit_per_s']}/s: {_f(pb['elapsed_s'])} s, "
                f"{_f(pb['achieved_per_s'])}/s = {_f(100 * pb['achieved_share_of_limit'], 1)}% "
                f"of the limit, {pb['refused']} refused, {pb['accepted_by_broker']} accepted.",
                "",
                f"Unlimited: {ub['orders']} orders from {ub['workers']} threads:", "",
                "| client | seconds | orders/s |", "|---|---:|---:|"]
        out += [f"| {name} | {_f(v['elapsed_s'])} | {_f(v['orders_per_s'], 0)} |"
                for name, v in ub["rows"].items()]
        rl, rs = r["rest_latency"], r["rest_sustained"]
        out += ["", f"Gateway vs raw httpx: {_f(ub['gateway_vs_floor'])}x.", "",
                "### 5. REST gateway (`openalgo serve` in its own process)", "",
                "| call | median ms | p99 ms |", "|---|---:|---:|"]
        out += [f"| {name} | {_f(v['median_ms'])} | {_f(v['p99_ms'])} |"
                for name, v in rl["rows"].items()]
        sus = rs["sustained"]
        out += ["", f"Overhead of the REST hop: placeorder {_f(rl['placeorder_overhead_ms'])} ms, "
                f"positionbook {_f(rl['positionbook_overhead_ms'])} ms (median).", "",
                "Rate probes (5 s each; the sustained run takes the highest one held with"
                " zero errors and at least 97% of its target): " + ", ".join(
                    f"{p['target_per_s']}/s: achieved {_f(p['achieved_per_s'], 1)}/s, "
                    f"{p['errors']} errors, p99 {_f(p['p99_ms'], 1)} ms"
                    for p in rs["probes"]) + ".", "",
                f"Sustained: {sus['sent']} placeorder calls at {sus['target_per_s']}/s "
                f"(achieved {_f(sus['achieved_per_s'], 1)}/s), {sus['errors']} errors, "
                f"p50 {_f(sus['p50_ms'], 1)} ms, p99 {_f(sus['p99_ms'], 1)} ms. Gateway RSS "
                f"{_f(rs['rss_mb_before'], 1)} MB before, {_f(rs['rss_mb_after'], 1)} MB after.",
                ""]
        if "journal" in r:
            out += _journal_section(r["journal"], r["settle"], r["relogin"])
    return "\n".join(out)


def _journal_section(jc: dict[str, Any], st: dict[str, Any], rl: dict[str, Any]) -> list[str]:
    out = ["### 6. The order journal, settling, re-login", "",
           "The journal on the order path (interleaved, plain HTTP):", "",
           "| client | median ms | p99 ms |", "|---|---:|---:|"]
    out += [f"| {name} | {_f(v['median_ms'])} | {_f(v['p99_ms'])} |"
            for name, v in jc["rows"].items()]
    out += ["", f"Journaled gateway vs raw httpx: **{_f(jc['gateway_vs_floor'])}x** (goal <= "
            f"1.0x); vs the same gateway with a journal keeping nothing: "
            f"{_f(jc['journal_vs_no_journal'])}x. The journal alone (claim committed, the "
            f"acknowledgement handed to its writer): {_f(jc['journal_alone_median_us'], 0)} µs"
            " median.", "",
            f"Settling: {st['orders']} orders whose reply was dropped after the broker booked"
            f" them: {st['settled']} settled with the broker's order id, "
            f"{_f(st['book_reads_mean'])} order-book reads each (at most "
            f"{st['book_reads_max']}), {_f(st['median_ms_past_backoff'], 1)} ms median from the"
            f" lost reply to the receipt, past the policy's first back-off of "
            f"{st['policy_first_delay_s']} s (up to {st['policy_attempts']} reads).", "",
            _relogin_line(rl), ""]
    return out


def _relogin_line(rl: dict[str, Any]) -> str:
    if "skipped" in rl:
        return f"Re-login: not measured ({rl['skipped']})."
    return (f"Re-login: {rl['callers']} callers reading at once on an expired session: "
            f"{rl['login_requests_per_expiry']} login request per expiry (goal: exactly 1); "
            f"the wave took {_f(rl['expired_wave_ms'], 1)} ms against "
            f"{_f(rl['live_wave_ms'], 1)} ms on a live session "
            f"({_f(rl['expired_vs_live'])}x).")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--results", default=str(ROOT / "bench" / "results.json"))
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the report from bench/results.json, measure nothing")
    parser.add_argument("--broker", action="append", default=[],
                        help="measure only this broker (repeatable); the others' results"
                             " are kept from bench/results.json")
    args = parser.parse_args()
    saved = Path(args.results)
    if args.report_only:
        results = json.loads(saved.read_text())
    else:
        earlier = json.loads(saved.read_text()) if args.broker and saved.exists() else None
        results = collect(args.quick, args.broker, earlier)
        saved.parent.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(results, indent=2))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    image = out.with_name("bench-ratios.png")
    plot(results, image)
    analysis = ROOT / "bench" / "ANALYSIS.md"
    text = report(results, image.name)
    if analysis.exists():
        text += "\n" + analysis.read_text()
    out.write_text(text)
    print(f"wrote {out} and {image}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
