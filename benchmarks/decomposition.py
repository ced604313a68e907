"""Extensive form against the L-shaped decomposition (issue 13), one case per process.

For each number of futures K (synthetic scenarios of ``benchmarks/generate.py``, LP, 20 goods x
5 suppliers x 60 months unless told otherwise) it runs, each in its own Python process so that
peak memory is that process's own ``ru_maxrss``:

- ``extensive``: the model handed to HiGHS whole (``DirectHighs``, the settings of ``run``);
- ``decomposed-1``: :func:`optimizer.solve.decomposed.solve_decomposed`, subproblems in the
  same process;
- ``decomposed-2``: the same with the subproblems on 2 local Dask worker processes (the
  workers' peak memory is reported apart: ``workers_rss_mb``, the largest of them);
- ``decomposed-remote`` (with ``--scheduler tcp://127.0.0.1:PORT``): on the workers of an
  existing ``dask scheduler`` (e.g. one ``dask worker`` started beside it on loopback).

It prints a table (wall and CPU seconds, the subproblem phase, master iterations, peak memory,
objectives and their relative difference) and, with ``--json``, writes the raw rows. The
machine this runs on is shared: compare ratios within one run, not seconds across runs.

Usage::

    python benchmarks/decomposition.py --futures 1000 5000 [--modes extensive decomposed-1
        decomposed-2] [--goods 20 --suppliers 5 --months 60] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODES = ("extensive", "decomposed-1", "decomposed-2", "decomposed-remote")


def _case(
    goods: int,
    suppliers: int,
    months: int,
    futures: int,
    mode: str,
    seed: int,
    scheduler: str | None = None,
) -> dict:
    """Run one mode on one size in this process; returns its measurements."""
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    from generate import synthetic_scenario

    from optimizer.api import RunConfig, load
    from optimizer.data import prepare
    from optimizer.model import build_model

    t0 = time.perf_counter()
    loaded = load(synthetic_scenario(goods, suppliers, months, futures - 1, seed, integer=False))
    data = prepare(loaded.scenario)
    m = build_model(loaded.scenario, data)
    _ = m.lp.matrix
    build_s = time.perf_counter() - t0
    options = RunConfig().solver_options(m.lp.is_mip)
    c0, t0 = time.process_time(), time.perf_counter()
    row: dict = {"K": data.K, "mode": mode, "columns": m.lp.n_cols, "build_s": build_s}
    if mode == "extensive":
        from optimizer.solve.direct import DirectHighs

        res = DirectHighs(m.lp, options).solve()
        row.update(iterations=res.iterations, subproblem_s=None, master_iterations=None)
    else:
        from optimizer.solve.decomposed import DecompositionOptions, solve_decomposed

        if mode == "decomposed-remote":
            dec = DecompositionOptions(scheduler=scheduler)
        else:
            dec = DecompositionOptions(workers=int(mode.split("-")[1]))
        res = solve_decomposed(m, options, dec)
        row.update(
            iterations=res.iterations,
            subproblem_s=res.seconds["subproblems"],
            master_s=res.seconds["master"],
            master_iterations=res.master_iterations,
            lower_bound=res.lower_bound,
            gap=res.gap,
            workers=res.workers,
        )
    row.update(
        status=res.status,
        objective=res.objective,
        solve_s=time.perf_counter() - t0,
        cpu_s=time.process_time() - c0,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        workers_rss_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0,
    )
    return row


def _run_in_process(args: argparse.Namespace, futures: int, mode: str) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--one",
        mode,
        "--futures",
        str(futures),
        "--goods",
        str(args.goods),
        "--suppliers",
        str(args.suppliers),
        "--months",
        str(args.months),
        "--seed",
        str(args.seed),
    ]
    if args.scheduler:
        cmd += ["--scheduler", args.scheduler]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"K": futures, "mode": mode, "status": "failed", "error": proc.stderr[-500:]}
    return json.loads(lines[-1])


def _fmt(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table, with each decomposed objective's relative difference from
    the extensive form's at the same K."""
    ext = {r["K"]: r.get("objective") for r in rows if r["mode"] == "extensive"}
    head = (
        "| K | mode | columns | solve s | CPU s | subproblems s | master its | peak MB "
        "| workers MB | objective | rel. diff |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    out = [head]
    for r in rows:
        if r.get("status") == "failed":
            out.append(f"| {r['K']} | {r['mode']} | failed | | | | | | | | |")
            continue
        z = ext.get(r["K"])
        diff = None if not z or r["mode"] == "extensive" else (r["objective"] - z) / abs(z)
        out.append(
            f"| {r['K']} | {r['mode']} | {r['columns']:,} | {r['solve_s']:.1f} | "
            f"{r['cpu_s']:.1f} | {_fmt(r.get('subproblem_s'), '.1f')} | "
            f"{_fmt(r.get('master_iterations'), 'd')} | {r['peak_rss_mb']:.0f} | "
            f"{r['workers_rss_mb']:.0f} | {r['objective']:.10g} | {_fmt(diff, '.1e')} |"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--futures", type=int, nargs="+", default=[1000, 5000])
    p.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES[:3]))
    p.add_argument("--goods", type=int, default=20)
    p.add_argument("--suppliers", type=int, default=5)
    p.add_argument("--months", type=int, default=60)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--json", type=Path)
    p.add_argument("--scheduler", help="address of a running Dask scheduler (decomposed-remote)")
    p.add_argument("--one", choices=MODES, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        row = _case(
            args.goods,
            args.suppliers,
            args.months,
            args.futures[0],
            args.one,
            args.seed,
            args.scheduler,
        )
        print(json.dumps(row))
        return 0
    rows = []
    modes = [m for m in args.modes if m != "decomposed-remote" or args.scheduler]
    for k in args.futures:
        for mode in modes:
            rows.append(_run_in_process(args, k, mode))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
