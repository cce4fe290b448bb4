"""Master contract: a full-size file in the broker's real format, served by its
simulator. Download + parse + index, loading the day's cache, and lookups per
second; against pandas (read the file, build the symbol map: OpenAlgo's way)
and against plain ``json.loads`` of the same file (the floor)."""

from __future__ import annotations

import gc
import json
import random
import statistics
import tempfile
import time
from typing import Any

from openalgo_core.instruments import InstrumentCache, InstrumentIndex

from .brokers import BrokerBench, live


def _best_of(repeats: int, call: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run(bench: BrokerBench, rows: int = 200_000, repeats: int = 5) -> dict[str, Any]:
    with live(bench, master_size=rows) as stack:
        gateway, client = stack.gateway, stack.gateway.client(bench.id)
        gateway.instruments(bench.id)  # the simulator renders its file once, untimed
        seen: list[Any] = []
        client.http.event_hooks["request"].append(seen.append)
        start = time.perf_counter()
        fresh = gateway.instruments(bench.id, refresh=True)
        download_parse_index = time.perf_counter() - start
        client.http.event_hooks["request"].remove(seen.append)
        url = str(seen[-1].url)
        data = client.download(url)
        plugin = gateway.registry.record(bench.id).plugin

        def parse_index() -> InstrumentIndex:
            return InstrumentIndex.from_instruments(
                bench.id, plugin.fetch_instruments(client=_Canned(data), progress=_no_progress))

        floor, _ = _best_of(repeats, lambda: json.loads(data))
        parse, index = _best_of(repeats, parse_index)
        pandas, _ = _best_of(max(2, repeats // 2), lambda: bench.pandas_symbol_map(data))
        with tempfile.TemporaryDirectory() as tmp:
            cache = InstrumentCache(tmp)
            cache.save(index)
            load, loaded = _best_of(repeats, lambda: cache.load(bench.id))
        rows_ = list(index)
        keys = [(i.symbol, i.exchange)
                for i in random.Random(1).sample(rows_, min(100_000, len(rows_)))]
        cold = _lookups(loaded, keys)
        warm = _lookups(loaded, keys)
        fresh_rate = _lookups(index, keys)
        plain = {(i.symbol, i.exchange): i for i in rows_}
        start = time.perf_counter()
        for key in keys:
            plain[key]  # the baseline: a bare dict subscript
        bare = len(keys) / (time.perf_counter() - start)
    return {
        "rows": len(index), "file_mb": len(data) / 1e6,
        "download_parse_index_s": download_parse_index, "json_loads_floor_s": floor,
        "parse_index_s": parse, "pandas_s": pandas, "cache_load_s": load,
        "parse_vs_floor": parse / floor, "pandas_vs_floor": pandas / floor,
        "cache_load_vs_parse": load / parse,
        "cache_load_vs_download_parse_index": load / download_parse_index,
        "lookups_per_s_fresh": fresh_rate, "lookups_per_s_cached_first": cold,
        "lookups_per_s_cached_warm": warm, "rows_downloaded": len(fresh),
        "lookups_per_s_bare_dict": bare,
        "goal": "parse+index <= 2x json.loads; cached load < 1/10 of parse; >= 1M lookups/s",
    }


def _lookups(index: InstrumentIndex, keys: list[tuple[str, str]]) -> float:
    resolve = index.resolve
    start = time.perf_counter()
    for symbol, exchange in keys:
        resolve(symbol, exchange)
    return len(keys) / (time.perf_counter() - start)


def _no_progress(done: int, total: int | None) -> None:
    return None


class _Canned:
    """Stands in for the client so the plugin parses bytes already downloaded."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def url(self, host: str, path: str = "") -> str:
        return path

    def download(self, url: str, *, progress: Any = None) -> bytes:
        return self.data
