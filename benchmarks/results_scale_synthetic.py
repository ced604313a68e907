"""Writing a results folder at 20,000 futures without solving them: ``scenarios.csv`` from
random column values of the real model, the other files from a ``portfolio.json`` of a solved
run inflated to that many futures.

    .venv/bin/python benchmarks/results_scale_synthetic.py --samples 20000 \\
        --portfolio results/eu_risk_2000/portfolio.json

1. ``scenarios.csv``: the model of ``scenarios/eu_critical_raw_materials_risk.yaml`` at
   ``risk_model.samples=N`` is prepared and built (not solved); its column values are drawn at
   random (30 % non-zero, as ``write_csv.py`` does: what is written does not depend on the
   solve), then the file is written at ``full`` and at ``totals``, each timed.
2. ``portfolio.json``, ``report.html``, ``portfolio.xlsx``: ``--portfolio`` (a solved run's
   ``portfolio.json``, with its ``resolved.yaml`` beside it) with its futures repeated under
   new names up to the drawn count (probabilities divided accordingly), then each file written
   and timed. Against an older checkout (``PYTHONPATH=OLD``) step 1 writes that engine's
   full table only.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from optimizer.api import load
from optimizer.data import prepare
from optimizer.model import build_model
from optimizer.results import period_table, write_large_csv
from optimizer.results.write import dumps_json

HERE = Path(__file__).resolve().parent
SCENARIO = HERE.parent / "scenarios" / "eu_critical_raw_materials_risk.yaml"


def _inflate(pf: dict, count: int) -> dict:
    names = list(pf["scenarios"])
    futures = {}
    upstream = {}
    for i in range(count):
        src = names[i % len(names)]
        name = f"s{i:05d}"
        futures[name] = {**pf["scenarios"][src]}
        futures[name]["probability"] = pf["scenarios"][src]["probability"] * len(names) / count
        if src in (pf.get("upstream") or {}):
            upstream[name] = pf["upstream"][src]
    return {**pf, "scenarios": futures, "upstream": upstream}


def _timed(rows: list, what: str, path: Path, write) -> None:
    t = time.perf_counter()
    write(path)
    rows.append((what, time.perf_counter() - t, path.stat().st_size / 1e6))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=20000)
    parser.add_argument("--portfolio", type=Path, required=True)
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        help="files not to write (e.g. portfolio.xlsx: an "
        "older engine's workbook took time quadratic in its rows)",
    )
    args = parser.parse_args()
    loaded = load(SCENARIO, overrides=(f"risk_model.samples={args.samples}",))
    model = build_model(loaded.scenario, prepare(loaded.scenario, compress_time=True))
    d = model.data
    rng = np.random.default_rng(0)
    x = rng.random(model.lp.n_cols) * (rng.random(model.lp.n_cols) < 0.3)
    rows: list = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        _timed(rows, "scenarios.csv full", out / "full.csv",
               lambda p: write_large_csv(period_table(model, x), p))  # fmt: skip
        try:
            from optimizer.results.scenario_detail import future_totals
        except ImportError:
            future_totals = None
        if future_totals is not None:
            _timed(rows, "scenarios.csv totals", out / "totals.csv",
                   lambda p: write_large_csv(future_totals(model, x), p))  # fmt: skip
        pf = _inflate(json.loads(args.portfolio.read_text()), d.K)
        resolved = yaml.safe_load((args.portfolio.parent / "resolved.yaml").read_text())
        from optimizer.results.excel import portfolio_workbook
        from optimizer.results.report import render_report

        writers = {
            "portfolio.json": lambda p: p.write_text(dumps_json(pf)),
            "report.html": lambda p: p.write_text(render_report(pf, resolved)),
            "portfolio.xlsx": lambda p: portfolio_workbook(pf, resolved).save(p),
        }
        for name, write in writers.items():
            if name not in args.skip:
                _timed(rows, name, out / name, write)
    full_rows = int(d.cell_len.sum())
    print(f"{d.K:,} futures x {d.G} goods x {d.T} periods; full detail {full_rows:,} rows\n")
    print("| file | seconds | MB |")
    print("|---|---:|---:|")
    for what, seconds, mb in rows:
        print(f"| {what} | {seconds:.2f} | {mb:.1f} |")


if __name__ == "__main__":
    main()
