"""Start-up: importing the core, listing every plugin and importing one, against
``import httpx, pydantic`` (the floor) and against importing each official SDK.

Each contender runs in a fresh interpreter, many times, interleaved; wall time is
measured inside the child around the imports, peak memory is the child's maxrss.
"""

from __future__ import annotations

import os
import statistics
from typing import Any

from .brokers import ORDER
from .common import run_python

# Peak RSS from /proc (VmHWM): ru_maxrss would carry over the parent's peak across exec.
PROBE = """
import json, time
t = time.perf_counter()
{body}
elapsed = time.perf_counter() - t
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(json.dumps({{"s": elapsed, "rss_kb": int(hwm)}}))
"""


# Not a goal, shown so the lazy loading hides nothing: everything the first order
# needs (the order models, the HTTP client, every module of the plugin's package
# but its simulator), imported and built.
READY_TO_ORDER = """
import importlib, pkgutil
from openalgo_core import BrokerClient, Registry, order_from
r = Registry(); [x.id for x in r.records()]; info = r.load({plugin_id!r})
package = importlib.import_module(r.record({plugin_id!r}).entry_point.module.split(".")[0])
for m in pkgutil.iter_modules(package.__path__):
    if m.name != "simulator":
        importlib.import_module(package.__name__ + "." + m.name)
order_from({order!r}); BrokerClient(info).close()
"""


def contenders(plugin_id: str, sdks: dict[str, str]) -> dict[str, str]:
    core = (f"from openalgo_core import Registry\n"
            f"r = Registry(); [x.id for x in r.records()]; r.load({plugin_id!r})")
    found = {"floor: import httpx, pydantic": "import httpx, pydantic",
             "python alone": "pass",
             f"openalgo: core + list plugins + load {plugin_id}": core,
             f"(no goal) openalgo, ready for the first order on {plugin_id}":
                 READY_TO_ORDER.format(plugin_id=plugin_id, order=ORDER)}
    for name, statement in sdks.items():
        found[f"official SDK: {name}"] = statement
    return found


def run(plugin_id: str, sdks: dict[str, str], repeats: int = 15) -> dict[str, Any]:
    bodies = contenders(plugin_id, sdks)
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENALGO_")}
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in bodies}
    for _ in range(repeats):
        for name, body in bodies.items():
            samples[name].append(run_python(PROBE.format(body=body), env))
    rows = {name: {"median_s": statistics.median(x["s"] for x in runs),
                   "rss_mb": statistics.median(x["rss_kb"] for x in runs) / 1024}
            for name, runs in samples.items()}
    floor = rows["floor: import httpx, pydantic"]
    for row in rows.values():
        row["ratio_to_floor"] = row["median_s"] / floor["median_s"]
    return {"rows": rows, "goal": "core + list + load one <= 1.3x the floor"}
