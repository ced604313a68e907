"""Writing a run's results folder at many futures: each file's seconds and size, per
``scenarios.csv`` detail (issue 13, item 5).

    .venv/bin/python benchmarks/results_scale.py --samples 2000
    .venv/bin/python benchmarks/results_scale.py --samples 20000 --details totals

Solves ``scenarios/eu_critical_raw_materials_risk.yaml`` once at ``risk_model.samples=N``
(the default solver settings: ``method: auto``), then, for each detail asked (``full``,
``totals``), writes every file of the folder into a temporary folder one after the other in this
process, timing each writer and measuring its size. Prints a Markdown table. The machine is
shared: compare within one run. Run against an older checkout (``PYTHONPATH=OLD``) it
writes that engine's folder, whatever ``--details`` says.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from optimizer.api import RunConfig, run

HERE = Path(__file__).resolve().parent
SCENARIO = HERE.parent / "scenarios" / "eu_critical_raw_materials_risk.yaml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--details", nargs="+", default=["full", "totals"])
    args = parser.parse_args()
    t = time.perf_counter()
    result = run(
        SCENARIO,
        RunConfig(large_model_ok=True),
        overrides=(f"risk_model.samples={args.samples}",),
    )
    solve_seconds = time.perf_counter() - t
    print(
        f"{args.samples:,} samples: {result.data.K:,} distinct futures x {result.data.G} goods "
        f"x {result.data.T} periods, status {result.status}, run {solve_seconds:.1f} s\n"
    )
    print("| detail | file | seconds | MB |")
    print("|---|---|---:|---:|")
    for detail in args.details:
        for name in ("periods", "scenario_totals"):  # tables are built lazily: drop them
            result.__dict__.pop(name, None)
        total_s = total_mb = 0.0
        with tempfile.TemporaryDirectory() as tmp:
            try:
                writers = result.writers(scenario_detail=detail)
            except TypeError:  # an engine from before scenario_detail: its one way
                writers = result.writers()
            for name, write in writers.items():
                path = Path(tmp) / name
                t = time.perf_counter()
                write(path)
                seconds = time.perf_counter() - t
                mb = path.stat().st_size / 1e6
                total_s += seconds
                total_mb += mb
                print(f"| {detail} | {name} | {seconds:.2f} | {mb:.2f} |")
        print(f"| {detail} | **all** | **{total_s:.2f}** | **{total_mb:.1f}** |")


if __name__ == "__main__":
    main()
