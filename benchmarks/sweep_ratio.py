"""Issue 5's measure: a 20-level budget sweep of the ladder's M scenario against one cold run.

    .venv/bin/python benchmarks/sweep_ratio.py direct      # or pyomo; a second argument: workers

"One cold run" is the mean of five ``optimizer.api.run`` calls (load, build, hand-over, cold
solve, results) at levels across the range; the sweep is ``sweep_budget`` over 0.2bn to 4bn in
20 levels, warm, every warm level certified. Prints one line with both times and their ratio.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import synthetic_scenario  # noqa: E402

from optimizer.api import RunConfig, run  # noqa: E402
from optimizer.sweep import parse_range, sweep_budget  # noqa: E402


def main() -> None:
    interface = sys.argv[1] if len(sys.argv) > 1 else "direct"
    d = synthetic_scenario(50, 8, 60, 50, seed=0, integer=False)
    levels, cfg = parse_range("0.2bn:4bn:20"), RunConfig(interface=interface)
    run(d, cfg)  # imports and caches out of the clock
    cold = []
    for level in levels[::4]:
        t = time.perf_counter()
        run(d, cfg, overrides=[f"budget.total={float(level)!r}"])
        cold.append(time.perf_counter() - t)
    one = statistics.mean(cold)
    t = time.perf_counter()
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    s = sweep_budget(d, levels, config=cfg, workers=workers)
    sweep = time.perf_counter() - t
    loadavg = Path("/proc/loadavg")
    load = loadavg.read_text().split()[:3] if loadavg.exists() else ["?"]
    print(
        f"{interface}: one cold run {one:.2f} s (mean of {len(cold)}); sweep of 20 {sweep:.2f} s;"
        f" ratio {sweep / one:.2f}x; certified {s.timings['certified_levels']}, failures "
        f"{s.timings['certificate_failures']}; load average {' '.join(load)}"
    )


if __name__ == "__main__":
    main()
