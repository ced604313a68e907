"""Stress-test throughput: futures per second on a generated portfolio, 1 vs 2 workers.

A synthetic scenario (``generate.py``) of GOODS goods is run once with a few disruptions; its
portfolio is then stress-tested on a scenario of the same goods with FUTURES hand-written
disruptions (the same generator and seed, so the goods and suppliers are identical; handed
over as data: a YAML file of 10,000 disruptions exceeds the loader's 200,000-value cap), in this
process (1 worker) and on a local Dask cluster of 2 workers. Prints a Markdown table.

    python benchmarks/stress.py                          # 30 goods, 10,000 futures
    python benchmarks/stress.py --futures 1000 --workers 1

Target (issue 11): 10,000 futures of a 30-good portfolio in under 60 s with 2 workers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import synthetic_scenario  # noqa: E402

from optimizer.api import RunConfig, run  # noqa: E402
from optimizer.scenario.loader import load_scenario_dict  # noqa: E402
from optimizer.studies.stress import run_stress  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--goods", type=int, default=30)
    ap.add_argument("--suppliers", type=int, default=3)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--run-scenarios", type=int, default=10)
    ap.add_argument("--futures", type=int, default=10_000)
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--chunk", type=int, default=200, help="futures per LP")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        t = time.perf_counter()
        base = synthetic_scenario(
            args.goods, args.suppliers, args.months, args.run_scenarios, seed=args.seed
        )
        res = run(base, RunConfig(interface="direct", time_limit=600))
        folder = res.write(tmp_path / "run", ("json", "yaml"))
        run_s = time.perf_counter() - t
        print(f"run: {res.status} in {run_s:.1f} s", file=sys.stderr)

        t = time.perf_counter()
        many = synthetic_scenario(
            args.goods, args.suppliers, args.months, args.futures, seed=args.seed
        )
        futures = load_scenario_dict(many).scenario
        print(
            f"futures generated and validated in {time.perf_counter() - t:.1f} s (not counted)",
            file=sys.stderr,
        )

        rows = []
        for w in (int(x) for x in args.workers.split(",")):
            t = time.perf_counter()
            out = run_stress([folder], None, scenario_file=futures, workers=w, chunk=args.chunk)
            total = time.perf_counter() - t
            n = len(out.evaluation.futures)
            rows.append((w, n, total, out.evaluation.seconds, n / total))
            print(f"{w} worker(s): {total:.1f} s", file=sys.stderr)

    print(
        f"\nStress test, {args.goods} goods x {args.suppliers} suppliers x {args.months} months, "
        f"{args.chunk} futures per LP\n"
    )
    print("| workers | futures | total s | evaluation s | futures / s |")
    print("|---:|---:|---:|---:|---:|")
    for w, n, total, ev_s, rate in rows:
        print(f"| {w} | {n:,} | {total:.1f} | {ev_s:.1f} | {rate:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
