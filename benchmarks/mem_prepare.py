"""Memory of the data stage at many sampled futures (issue 13): load, then ``prepare``.

The scenario is ``decomposition.sampled_scenario(goods, suppliers, months, samples - 1, 1)``
(34 goods x 5 suppliers x 60 months by default, one risk event per synthetic hit). It prints,
after loading and after ``prepare``:

- ``peak``: the process's peak resident memory so far (``ru_maxrss``, MB);
- ``cur``: its resident memory now (``VmRSS``, MB);
- ``cpu``: the stage's CPU seconds (``time.process_time``) and wall seconds;

then every array of the ``ModelData`` above 1 MB (shape, dtype, MB, and the size of the array
it is a view of, if any: a view keeps its whole base alive) and their total. With ``--layout``
it also builds the model's layout (``build_model(..., layout_only=True)``) and reports the same.
Run one size per process: ``ru_maxrss`` never goes down.

The synthetic scenario has neither origin links nor inputs; ``--origin`` gives every third
supplier an origin link to one or two other countries (40 % and 50 % of its material) and
``--inputs`` makes every odd-numbered good use 0.5 units of the good before it, so that those
paths of ``prepare`` (availability with links, chain-aligned time blocks) are measured too.

Usage::

    python benchmarks/mem_prepare.py 5000 [--goods 34 --suppliers 5 --months 60] [--layout]
        [--origin] [--inputs]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
from decomposition import sampled_scenario  # noqa: E402

from optimizer.api import load  # noqa: E402
from optimizer.data import prepare  # noqa: E402


def peak_mb() -> float:
    """Peak resident memory of this process so far, MB (Linux: ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_mb() -> float:
    """Resident memory of this process now, MB (``VmRSS`` of ``/proc/self/status``)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def stage(name: str, fn):
    """Run ``fn()`` and print its wall and CPU seconds, peak and current RSS."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(
        f"{name}: wall {wall:.1f} s, cpu {cpu:.1f} s, peak {peak_mb():,.0f} MB, "
        f"cur {current_mb():,.0f} MB"
    )
    return out


def add_origin_links(data: dict) -> None:
    """Every third supplier (in file order) depends on one or two other countries' material:
    40 % from the first, 50 % from the second."""
    countries = list(data["countries"])
    i = 0
    for good in data["goods"].values():
        for sup in good["suppliers"].values():
            i += 1
            if i % 3 == 0:
                others = [c for c in countries if c != sup["country"]][: 1 + i % 2]
                sup["origin"] = {c: f"{40 + 10 * n}%" for n, c in enumerate(others)}


def add_inputs(data: dict) -> None:
    """Every odd-numbered good (1, 3, ...) uses 0.5 units of the good before it per unit
    produced at home."""
    goods = list(data["goods"])
    for n in range(1, len(goods), 2):
        data["goods"][goods[n]]["inputs"] = {goods[n - 1]: 0.5}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("samples", type=int, help="sampled futures K (K - 1 draws + no_disruption)")
    ap.add_argument("--goods", type=int, default=34)
    ap.add_argument("--suppliers", type=int, default=5)
    ap.add_argument("--months", type=int, default=60)
    ap.add_argument("--layout", action="store_true", help="also build the model's layout")
    ap.add_argument("--origin", action="store_true", help="origin links on every 3rd supplier")
    ap.add_argument("--inputs", action="store_true", help="odd goods use the good before")
    args = ap.parse_args(argv)

    data = sampled_scenario(args.goods, args.suppliers, args.months, args.samples - 1, 1)
    if args.origin:
        add_origin_links(data)
    if args.inputs:
        add_inputs(data)
    scenario = stage("load", lambda: load(data).scenario)
    data = stage("prepare", lambda: prepare(scenario))
    print(f"K = {data.K:,} futures, {data.C:,} cells")
    total = 0
    for key, value in vars(data).items():
        if isinstance(value, np.ndarray) and value.nbytes > 1e6:
            base = value.base
            of = "" if base is None else f", view of {getattr(base, 'nbytes', 0) / 1e6:,.0f} MB"
            print(f"  {key} {value.shape} {value.dtype} {value.nbytes / 1e6:,.0f} MB{of}")
            total += value.nbytes
    print(f"arrays {total / 1e6:,.0f} MB")
    if args.layout:
        from optimizer.model import build_model

        stage("layout", lambda: build_model(scenario, data, layout_only=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
