"""Timing, statistics and process helpers shared by the benchmarks."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    """Latency statistics over samples in seconds."""

    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    def as_dict(self) -> dict[str, float]:
        return {"median_ms": self.median * 1e3, "p99_ms": self.p99 * 1e3, "n": len(self.samples)}


def interleaved(calls: dict[str, Callable[[], Any]], n: int, warmup: int = 20) -> dict[str, Stats]:
    """Measure several contenders in round-robin, so machine noise hits all alike."""
    for call in calls.values():
        for _ in range(warmup):
            call()
    results = {name: Stats() for name in calls}
    for _ in range(n):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            results[name].samples.append(time.perf_counter() - start)
    return results


def run_python(code: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; it must print one JSON object last."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
