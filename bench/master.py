"""Master contract: full-size files in the broker's real format, served by its
simulator. Download + parse + index, loading the day's cache, and lookups per
second; against pandas (read the files, build the symbol map: OpenAlgo's way)
and against the format's floor on the same files (``json.loads`` of a JSON array,
``csv.reader`` over CSVs)."""

from __future__ import annotations

import gc
import random
import statistics
import tempfile
import time
from typing import Any

import httpx

from openalgo_core.instruments import InstrumentCache, InstrumentIndex

from .brokers import BrokerBench, live


def _interleaved(repeats: int, calls: dict[str, Any]
                 ) -> tuple[dict[str, float], dict[str, Any], dict[str, float]]:
    """Median seconds of each call, run in turn ``repeats`` times so that machine
    noise falls on all of them alike; each call's last result; and its best time."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for name, call in calls.items():
            gc.collect()
            start = time.perf_counter()
            results[name] = call()
            times[name].append(time.perf_counter() - start)
    return ({name: statistics.median(t) for name, t in times.items()}, results,
            {name: min(t) for name, t in times.items()})


def run(bench: BrokerBench, rows: int = 200_000, repeats: int = 7) -> dict[str, Any]:
    with live(bench, master_size=rows) as stack:
        gateway, client = stack.gateway, stack.gateway.client(bench.id)
        gateway.instruments(bench.id)  # the simulator renders its files once, untimed
        seen: list[Any] = []
        client.http.event_hooks["request"].append(seen.append)
        start = time.perf_counter()
        fresh = gateway.instruments(bench.id, refresh=True)
        download_parse_index = time.perf_counter() - start
        client.http.event_hooks["request"].remove(seen.append)
        # every reply the download got (a file list behind the broker's auth too), by URL
        files = {str(r.url): client.http.request(r.method, r.url, headers=r.headers).content
                 for r in seen}
        data = b"".join(files.values())
        plugin = gateway.registry.record(bench.id).plugin
        session = gateway.session(bench.id)

        def parse_index() -> InstrumentIndex:
            return InstrumentIndex.from_instruments(
                bench.id, plugin.fetch_instruments(client=_Canned(files, client),
                                                   progress=_no_progress, session=session))

        with tempfile.TemporaryDirectory() as tmp:
            cache = InstrumentCache(tmp)
            cache.save(parse_index())
            medians, results, best = _interleaved(repeats, {
                "floor": lambda: bench.floor(files), "parse": parse_index,
                "load": lambda: cache.load(bench.id)})
        pandas = _interleaved(max(2, repeats // 3),
                              {"pandas": lambda: bench.pandas_symbol_map(files)})[0]["pandas"]
        floor, parse, load = medians["floor"], medians["parse"], medians["load"]
        index, loaded = results["parse"], results["load"]
        rows_ = list(index)
        keys = [(i.symbol, i.exchange)
                for i in random.Random(1).sample(rows_, min(100_000, len(rows_)))]
        cold = _lookups(loaded, keys, passes=1)  # first touch: finds and parses each row
        warm = _lookups(loaded, keys)
        fresh_rate = _lookups(index, keys)
        plain = {(i.symbol, i.exchange): i for i in rows_}
        bare = _rate(keys, lambda: _bare(plain, keys))
    return {
        "rows": len(index), "file_mb": len(data) / 1e6, "repeats": repeats,
        "files": len(files), "floor_name": bench.floor_name,
        "download_parse_index_s": download_parse_index, "floor_s": floor,
        "parse_index_s": parse, "pandas_s": pandas, "cache_load_s": load,
        "parse_vs_floor": parse / floor, "pandas_vs_floor": pandas / floor,
        "parse_vs_floor_best": best["parse"] / best["floor"],
        "cache_load_vs_parse": load / parse,
        "cache_load_vs_download_parse_index": load / download_parse_index,
        "lookups_per_s_fresh": fresh_rate, "lookups_per_s_cached_first": cold,
        "lookups_per_s_cached_warm": warm, "rows_downloaded": len(fresh),
        "lookups_per_s_bare_dict": bare,
        "goal": "parse+index <= 2x json.loads; cached load < 1/10 of parse; >= 1M lookups/s",
    }


def _rate(keys: list[tuple[str, str]], loop: Any, passes: int = 5) -> float:
    """Lookups per second over ``keys``: the best of ``passes`` passes (as timeit)."""
    best = float("inf")
    for _ in range(passes):
        start = time.perf_counter()
        loop()
        best = min(best, time.perf_counter() - start)
    return len(keys) / best


def _lookups(index: InstrumentIndex, keys: list[tuple[str, str]], passes: int = 5) -> float:
    def loop() -> None:
        resolve = index.resolve
        for symbol, exchange in keys:
            resolve(symbol, exchange)
    return _rate(keys, loop, passes)


def _bare(plain: dict[tuple[str, str], Any], keys: list[tuple[str, str]]) -> None:
    for key in keys:
        plain[key]  # the baseline: a bare dict subscript


def _no_progress(done: int, total: int | None) -> None:
    return None


class _Canned:
    """Stands in for the client so the plugin parses bytes already downloaded: each
    request or download answers what the same URL answered."""

    def __init__(self, files: dict[str, bytes], client: Any) -> None:
        # by path and query: a base-URL override rewrote the hosts of the requests recorded
        self.files = {httpx.URL(url).raw_path: data for url, data in files.items()}
        self.client = client

    def url(self, host: str, path: str = "", *, base: str | None = None) -> str:
        return str(self.client.url(host, path, base=base))

    def download(self, url: str, *, params: Any = None, **ignored: Any) -> bytes:
        return self.files[httpx.URL(url, params=params).raw_path]

    def request(self, method: str, url: str, **ignored: Any) -> httpx.Response:
        return httpx.Response(200, content=self.download(url),
                              request=httpx.Request(method, url))
