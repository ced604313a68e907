"""Issue 5's measure: a 20-level budget sweep of the ladder's M scenario against one cold run.

    .venv/bin/python benchmarks/sweep_ratio.py direct                    # or pyomo
    .venv/bin/python benchmarks/sweep_ratio.py direct --workers 2        # 2 worker processes
    .venv/bin/python benchmarks/sweep_ratio.py direct --rounds 5 --ablate
    .venv/bin/python benchmarks/sweep_ratio.py --size SM --mip --rounds 1 [--workers 2]
    .venv/bin/python benchmarks/sweep_ratio.py --param KEY=FROM:TO:STEPS  # any scenario value

"One cold run" is the mean of five ``optimizer.api.run`` calls (load, build, hand-over, cold
solve, results) at levels across the range; the sweep is ``sweep_budget`` over 0.2bn to 4bn in
20 levels, warm, every warm level certified. The shared 2-vCPU machine's speed drifts by 30 %
from one minute to the next, so each round measures its own cold runs right before its sweeps,
and the script prints every round's ratio and the median (default 3 rounds). ``ablate`` also
sweeps, in the same round, without Devex pricing (HiGHS's own choice, for the sweep only: the
cold runs keep the shipped settings) and without keeping the optimum where the budget does not
bind (``optimizer/studies/sweep_levels.py``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import synthetic_scenario  # noqa: E402

import optimizer.studies.sweep as sweep_module  # noqa: E402
from optimizer.api import RunConfig, run  # noqa: E402
from optimizer.solve.base import WARM_RESOLVE_OPTIONS  # noqa: E402
from optimizer.studies.levels import parse_param, parse_range  # noqa: E402
from optimizer.studies.sweep import sweep_budget  # noqa: E402
from optimizer.studies.sweep_param import sweep_param  # noqa: E402

DEVEX = dict(WARM_RESOLVE_OPTIONS)
KEEP = sweep_module._LevelSolver.still_optimal


def variant(devex: bool, keep: bool, cfg: RunConfig) -> RunConfig:
    """Switch the sweep's two speed-ups on or off in this process; returns the sweep's
    configuration (without Devex: HiGHS's own pricing choice, the default before it)."""
    WARM_RESOLVE_OPTIONS.clear()
    if devex:
        WARM_RESOLVE_OPTIONS.update(DEVEX)
    sweep_module._LevelSolver.still_optimal = KEEP if keep else (lambda self, level: False)
    return cfg if devex else replace(cfg, pricing="choose")


VARIANTS = {
    "as shipped": (True, True),
    "no Devex": (False, True),
    "no keeping": (True, False),
    "neither": (False, False),
}


SIZES = {  # synthetic_scenario(goods, suppliers, periods, disruptions) and the budget range
    "M": ((50, 8, 60, 50), "0.2bn:4bn:20"),
    "S": ((10, 4, 24, 10), "0:400M:20"),  # a smoke test's size, seconds in all
    "SM": ((20, 6, 36, 20), "0.1bn:1.5bn:20"),  # for --mip: about 3.5 s per cold MIP solve
    "L": ((200, 10, 60, 200), "0.8bn:16bn:20"),  # minutes per round
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("interface", nargs="?", default="direct", choices=["direct", "pyomo"])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ablate", action="store_true", help="also sweep without each speed-up")
    parser.add_argument("--size", default="M", choices=list(SIZES))
    parser.add_argument("--mip", action="store_true", help="keep the integer levers (a MIP)")
    parser.add_argument(
        "--param",
        metavar="KEY=FROM:TO:STEPS",
        help="sweep this scenario value instead of the budget (sweep_param, updated in place)",
    )
    args = parser.parse_args()
    interface, workers, rounds = args.interface, args.workers, args.rounds
    names = list(VARIANTS) if args.ablate else ["as shipped"]
    shape, budget_range = SIZES[args.size]
    d = synthetic_scenario(*shape, seed=0, integer=args.mip)
    levels, cfg = parse_range(budget_range), RunConfig(interface=interface)
    key = "budget.total"
    if args.param:
        key, levels = parse_param(args.param)
        names = ["as shipped"]
    run(d, cfg)  # imports and caches out of the clock
    ratios: dict[str, list[float]] = {name: [] for name in names}
    for r in range(1, rounds + 1):
        cold = []
        for level in levels[::4]:
            t = time.perf_counter()
            run(d, cfg, overrides=[f"{key}={float(level)!r}"])
            cold.append(time.perf_counter() - t)
        one = statistics.mean(cold)
        line = [f"round {r}: one cold run {one:.2f} s (mean of {len(cold)})"]
        for name in names:
            sweep_cfg = variant(*VARIANTS[name], cfg)
            t = time.perf_counter()
            if args.param:
                s = sweep_param(d, key, levels, config=sweep_cfg, workers=workers)
            else:
                s = sweep_budget(d, levels, config=sweep_cfg, workers=workers)
            sweep = time.perf_counter() - t
            ratios[name].append(sweep / one)
            line.append(
                f"{name}: sweep {sweep:.2f} s, {sweep / one:.2f}x "
                f"(certified {s.timings.get('certified_levels', 0)}, "
                f"failures {s.timings.get('certificate_failures', 0)})"
            )
        variant(True, True, cfg)
        print("; ".join(line))
    loadavg = Path("/proc/loadavg")
    load = loadavg.read_text().split()[:3] if loadavg.exists() else ["?"]
    print(f"{interface}, {workers} worker(s), load average {' '.join(load)}; median ratios:")
    for name, values in ratios.items():
        rounds_text = ", ".join(f"{x:.2f}" for x in values)
        print(f"  {name}: {statistics.median(values):.2f}x (rounds {rounds_text})")


if __name__ == "__main__":
    main()
