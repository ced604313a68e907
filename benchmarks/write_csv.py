"""Writing ``scenarios.csv``: pandas' ``to_csv`` against the Arrow writer the engine uses.

    .venv/bin/python benchmarks/write_csv.py            # the ladder's L size (2.4M rows)
    .venv/bin/python benchmarks/write_csv.py --size S   # seconds in all

The table is :func:`optimizer.results.period_table` of the ladder's scenario at that size, for
column values drawn at random (what is written does not depend on the solve). Both writers
write the same table into a temporary folder, one after the other in this process; the script
prints their times, sizes and ratio as a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import synthetic_scenario  # noqa: E402
from ladder import SIZES  # noqa: E402

from optimizer.api import load  # noqa: E402
from optimizer.data import prepare  # noqa: E402
from optimizer.model import build_model  # noqa: E402
from optimizer.results import period_table, write_large_csv  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="L", choices=list(SIZES))
    args = parser.parse_args()
    loaded = load(synthetic_scenario(*SIZES[args.size], seed=0, integer=False))
    model = build_model(loaded.scenario, prepare(loaded.scenario, compress_time=True))
    rng = np.random.default_rng(0)
    x = rng.random(model.lp.n_cols) * (rng.random(model.lp.n_cols) < 0.3)
    table = period_table(model, x)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        writers = {
            "pandas to_csv (%.10g)": lambda p: table.to_csv(p, index=False, float_format="%.10g"),
            "Arrow (write_large_csv)": lambda p: write_large_csv(table, p),
        }
        for i, (name, write) in enumerate(writers.items()):
            path = Path(tmp) / f"{i}.csv"
            t = time.perf_counter()
            write(path)
            rows.append((name, time.perf_counter() - t, path.stat().st_size / 1e6))
    print(f"{args.size}: scenarios.csv of {len(table):,} rows x {table.shape[1]} columns\n")
    print("| writer | seconds | MB | vs pandas |")
    print("|---|---:|---:|---:|")
    for name, seconds, mb in rows:
        print(f"| {name} | {seconds:.2f} | {mb:.1f} | {rows[0][1] / seconds:.1f}x |")


if __name__ == "__main__":
    main()
