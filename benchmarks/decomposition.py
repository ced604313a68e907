"""Extensive form against the L-shaped decomposition (issue 13), one case per process.

For each number of futures K (synthetic scenarios of ``benchmarks/generate.py``, LP, 20 goods x
5 suppliers x 60 months unless told otherwise) it runs, each in its own Python process so that
peak memory is that process's own ``ru_maxrss``:

- ``extensive``: the model handed to HiGHS whole (``DirectHighs``, the settings of ``run``);
- ``decomposed-1``: :func:`optimizer.solve.decomposed.solve_decomposed`, subproblems in the
  same process;
- ``decomposed-2``: the same with the subproblems on 2 local Dask worker processes (the
  workers' peak memory is reported apart: ``workers_rss_mb``, the largest of them, and
  ``all_processes_mb``, the client's peak plus every worker's);
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
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODES = ("extensive", "decomposed-1", "decomposed-2", "decomposed-remote")


#: Expected disruption occurrences per sampled future (sampled_scenario): about what one
#: synthetic disruption of 1 to 3 hits brings, so the futures are of the same size.
OCCURRENCES_PER_FUTURE = 1.5


def sampled_scenario(goods: int, suppliers: int, months: int, samples: int, seed: int) -> dict:
    """The synthetic scenario of ``benchmarks/generate.py`` (LP) with its disruptions replaced
    by a risk model drawing ``samples`` futures (they never pass through the scenario file):
    one event per hit of ``goods`` synthetic disruptions, on the same countries and goods, with
    the hit's severity as the top of a uniform spread from half of it, a duration from 1 month
    to twice the hit's, a start anywhere in the window, the disruption's price multiplier, and
    a rate such that a future holds :data:`OCCURRENCES_PER_FUTURE` occurrences on average."""
    sys.path.insert(0, str(HERE))
    from generate import synthetic_scenario

    data = synthetic_scenario(goods, suppliers, months, goods, seed, integer=False)
    years = months / 12.0
    hits = []
    for dis in data.pop("disruptions").values():
        for hit in dis["hits"]:
            dur = int(str(hit.get("duration", dis["duration"])).split()[0])
            hits.append((hit, dur, float(dis.get("price_multiplier", 1.0))))
    rate = OCCURRENCES_PER_FUTURE / (len(hits) * years)
    events = {}
    for i, (hit, dur, price) in enumerate(hits):
        sev = float(hit["severity"])
        events[f"event_{i + 1:03d}"] = {
            "rate": f"{rate:.6g} per year",
            "countries": list(hit["countries"]),
            **({"goods": list(hit["goods"])} if "goods" in hit else {}),
            "severity": {"min": sev / 2, "max": sev},
            "duration": {"min": "1 months", "max": f"{max(2, 2 * dur)} months"},
            "price_multiplier": max(1.0, price),
        }
    data["risk_model"] = {"samples": int(samples), "seed": int(seed), "events": events}
    return data


def _case(
    goods: int,
    suppliers: int,
    months: int,
    futures: int,
    mode: str,
    seed: int,
    scheduler: str | None = None,
    keep_solvers: str = "auto",
    sampled: bool = False,
    tuning: dict | None = None,
) -> dict:
    """Run one mode on one size in this process; returns its measurements."""
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    from generate import synthetic_scenario

    from optimizer.api import RunConfig, load
    from optimizer.data import prepare
    from optimizer.model import build_model

    t0 = time.perf_counter()
    if sampled:
        loaded = load(sampled_scenario(goods, suppliers, months, futures - 1, seed))
    else:
        loaded = load(
            synthetic_scenario(goods, suppliers, months, futures - 1, seed, integer=False)
        )
    load_s = time.perf_counter() - t0
    data = prepare(loaded.scenario)
    # the decomposition builds its chunks from the data: only the model's layout is built whole
    m = build_model(loaded.scenario, data, layout_only=mode != "extensive")
    if mode == "extensive":
        _ = m.lp.matrix
    build_s = time.perf_counter() - t0
    options = RunConfig(threads=int((tuning or {}).pop("threads", 0))).solver_options(m.lp.is_mip)
    c0, t0 = time.process_time(), time.perf_counter()
    row: dict = {
        "K": data.K,
        "sampled": sampled,
        "mode": mode,
        "columns": m.lp.n_cols,
        "load_s": load_s,
        "build_s": build_s,
    }
    if mode == "extensive":
        from optimizer.solve.direct import DirectHighs

        res = DirectHighs(m.lp, options).solve()
        row.update(iterations=res.iterations, subproblem_s=None, master_iterations=None)
    else:
        from optimizer.solve.decomposed import DecompositionOptions, solve_decomposed

        keep = {"auto": None, "yes": True, "no": False}[keep_solvers]
        tuning = tuning or {}
        if mode == "decomposed-remote":
            dec = DecompositionOptions(scheduler=scheduler, keep_solvers=keep, **tuning)
        else:
            dec = DecompositionOptions(workers=int(mode.split("-")[1]), keep_solvers=keep, **tuning)
        res = solve_decomposed(m, options, dec, scenario=loaded.scenario)
        row.update(
            iterations=res.iterations,
            chunk_build_s=res.seconds["hand_over"],
            subproblem_s=res.seconds["subproblems"],
            chunks_wall_s=res.seconds["chunks_wall"],
            chunks_cpu_s=res.seconds["chunks_cpu"],
            master_s=res.seconds["master"],
            master_iterations=res.master_iterations,
            lower_bound=res.lower_bound,
            gap=res.gap,
            workers=res.workers,
            worker_peak_mb=res.worker_peak_mb,
        )
    row.update(
        status=res.status,
        objective=res.objective,
        solve_s=time.perf_counter() - t0,
        cpu_s=time.process_time() - c0,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        # each worker's own peak, read by the pool before it closed (RUSAGE_CHILDREN counted
        # the processes Dask forks from this one at its size, not what the workers used)
        workers_rss_mb=max(row.get("worker_peak_mb") or [0.0]),
        all_processes_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        + sum(row.get("worker_peak_mb") or []),
    )
    return row


def profile_pools(
    goods: int, suppliers: int, months: int, futures: int, seed: int, rounds: int = 4
) -> list[dict]:
    """The same chunks evaluated ``rounds`` times at alternating first stages in this process
    (``LocalPool``) and on 2 local Dask workers (``DaskPool``): per round the wall time of the
    evaluation, and the chunks' own wall and CPU seconds summed inside the processes that
    solved them (so that a slower worker shows as CPU, a waiting one as wall only)."""
    sys.path.insert(0, str(HERE.parent))
    import numpy as np

    from optimizer.api import load
    from optimizer.data import prepare
    from optimizer.model import build_model
    from optimizer.solve.decomposed import _groups
    from optimizer.solve.decomposition_build import from_data
    from optimizer.solve.decomposition_pool import DaskPool, LocalPool, local_client

    loaded = load(sampled_scenario(goods, suppliers, months, futures - 1, seed))
    data = prepare(loaded.scenario)
    layout = build_model(loaded.scenario, data, layout_only=True)
    gof, cog = _groups(data.K, 25, 0)
    stage, chunks = from_data(loaded.scenario, layout, gof, cog, "profile-local")
    top = np.minimum(stage.upper, stage.artificial_upper)
    xs = [stage.lower + f * (top - stage.lower) * 0.01 for f in (0.0, 1.0)]
    out = []

    def rounds_of(pool, name):
        for i in range(rounds):
            t0, c0 = time.perf_counter(), time.process_time()
            res = pool.evaluate(xs[i % 2])
            out.append(
                {
                    "pool": name,
                    "round": i,
                    "wall_s": time.perf_counter() - t0,
                    "client_cpu_s": time.process_time() - c0,
                    "chunks_wall_s": sum(r.seconds for r in res),
                    "chunks_cpu_s": sum(r.cpu_seconds for r in res),
                    "iterations": sum(r.iterations for r in res),
                }
            )
            print(json.dumps(out[-1]), file=sys.stderr, flush=True)

    local = LocalPool(chunks)
    rounds_of(local, "local")
    local.close()
    for c in chunks:
        c.token = "profile-dask"
    with local_client(workers=2) as client:
        pool = DaskPool(client, chunks)
        rounds_of(pool, "dask-2")
        pool.close()
    return out


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
        "--keep-solvers",
        args.keep_solvers,
    ]
    if args.sampled:
        cmd.append("--sampled")
    cmd += ["--cuts", args.cuts, "--cut-groups", str(args.cut_groups), "--level", str(args.level)]
    cmd += ["--threads", str(args.threads)]
    if args.start_futures is not None:
        cmd += ["--start-futures", str(args.start_futures)]
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
    the extensive form's at the same K, then per mode the exponent of the whole time and of
    the memory of every process against K (fitted on its smallest and largest K)."""
    ext = {r["K"]: r.get("objective") for r in rows if r["mode"] == "extensive"}
    head = (
        "| K | mode | columns | whole s | solve s | CPU s | subproblems s | chunks CPU s "
        "| master its | gap | peak MB | workers MB | all processes MB | objective | rel. diff |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    out = [head]
    ok = [r for r in rows if r.get("status") not in ("failed", None)]
    for r in rows:
        if r.get("status") in ("failed", None):
            out.append(f"| {r['K']} | {r['mode']} | failed |" + " |" * 12)
            continue
        z = ext.get(r["K"])
        diff = None if not z or r["mode"] == "extensive" else (r["objective"] - z) / abs(z)
        out.append(
            f"| {r['K']} | {r['mode']} | {r['columns']:,} | {r['build_s'] + r['solve_s']:.1f} | "
            f"{r['solve_s']:.1f} | {r['cpu_s']:.1f} | {_fmt(r.get('subproblem_s'), '.1f')} | "
            f"{_fmt(r.get('chunks_cpu_s'), '.1f')} | "
            f"{_fmt(r.get('master_iterations'), 'd')} | {_fmt(r.get('gap'), '.1e')} | "
            f"{r['peak_rss_mb']:.0f} | {r['workers_rss_mb']:.0f} | "
            f"{r.get('all_processes_mb', r['peak_rss_mb']):.0f} | {r['objective']:.10g} | "
            f"{_fmt(diff, '.1e')} |"
        )
    for mode in dict.fromkeys(r["mode"] for r in ok):
        mine = sorted((r for r in ok if r["mode"] == mode), key=lambda r: r["K"])
        if len(mine) < 2 or mine[0]["K"] == mine[-1]["K"]:
            continue
        a, b = mine[0], mine[-1]
        span = math.log(b["K"] / a["K"])
        t = math.log((b["build_s"] + b["solve_s"]) / (a["build_s"] + a["solve_s"])) / span
        mem_a = a.get("all_processes_mb", a["peak_rss_mb"])
        mem_b = b.get("all_processes_mb", b["peak_rss_mb"])
        out.append(
            f"\n{mode}: whole time ~ K^{t:.2f}, memory of every process ~ "
            f"K^{math.log(mem_b / mem_a) / span:.2f} (K = {a['K']:,} to {b['K']:,})"
        )
    return "\n".join(out)


def worker_ratios(rows: list[dict]) -> str:
    """Per K and repetition, the subproblem phase on 1 worker over that on 2 (the issue's
    "2 workers against 1"), and their median."""
    out = []
    for k in dict.fromkeys(r["K"] for r in rows):
        ratios = []
        for rep in dict.fromkeys(r.get("rep", 0) for r in rows):
            one = [
                r for r in rows if (r["K"], r.get("rep", 0), r["mode"]) == (k, rep, "decomposed-1")
            ]
            two = [
                r for r in rows if (r["K"], r.get("rep", 0), r["mode"]) == (k, rep, "decomposed-2")
            ]
            if one and two and one[0].get("subproblem_s") and two[0].get("subproblem_s"):
                ratios.append(one[0]["subproblem_s"] / two[0]["subproblem_s"])
        if ratios:
            ratios.sort()
            listed = ", ".join(f"{r:.2f}x" for r in ratios)
            out.append(
                f"K = {k:,}: 2 workers against 1 on the subproblem phase {listed} "
                f"(median {ratios[len(ratios) // 2]:.2f}x)"
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
    p.add_argument(
        "--keep-solvers",
        choices=("auto", "yes", "no"),
        default="auto",
        help="keep one HiGHS object per chunk between iterations (no: only its basis)",
    )
    p.add_argument(
        "--sampled",
        action="store_true",
        help="draw K - 1 futures from a risk model (sampled_scenario) instead of writing "
        "K - 1 disruptions into the scenario",
    )
    p.add_argument(
        "--profile-pools",
        action="store_true",
        help="time the subproblem rounds in-process against 2 Dask workers (profile_pools)",
    )
    p.add_argument(
        "--cuts",
        choices=("by-good", "by-future"),
        default="by-good",
        help="one cut per (group of futures, good component), the default, or per group of "
        "futures (all goods summed, as before)",
    )
    p.add_argument("--cut-groups", type=int, default=0, help="groups of futures (0: the default)")
    p.add_argument("--level", type=float, default=0.0, help="level stabilisation (0: none)")
    p.add_argument(
        "--start-futures",
        type=int,
        default=None,
        help="start from the optimum on this many futures (default: the library's, 200; 0: off)",
    )
    p.add_argument("--threads", type=int, default=0, help="HiGHS threads per process (0: HiGHS)")
    p.add_argument(
        "--repeat", type=int, default=1, help="run every case this many times, interleaved"
    )
    p.add_argument(
        "--ceiling",
        action="store_true",
        help="after each repetition, what 2 processes give over 1 on this machine now "
        "(benchmarks/parallel_ceiling.py)",
    )
    p.add_argument("--one", choices=MODES, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.profile_pools:
        rows = profile_pools(args.goods, args.suppliers, args.months, args.futures[0], args.seed)
        print(json.dumps(rows))
        return 0
    if args.one:
        row = _case(
            args.goods,
            args.suppliers,
            args.months,
            args.futures[0],
            args.one,
            args.seed,
            args.scheduler,
            args.keep_solvers,
            args.sampled,
            {
                "by_good": args.cuts == "by-good",
                "cut_groups": args.cut_groups,
                "level": args.level,
                **({} if args.start_futures is None else {"start_futures": args.start_futures}),
                "threads": args.threads,
            },
        )
        row.update(
            cuts=args.cuts,
            cut_groups=args.cut_groups,
            level=args.level,
            start_futures=args.start_futures,
            threads=args.threads,
        )
        print(json.dumps(row))
        return 0
    rows = []
    modes = [m for m in args.modes if m != "decomposed-remote" or args.scheduler]
    for rep in range(args.repeat):
        for k in args.futures:
            for mode in modes:
                rows.append({**_run_in_process(args, k, mode), "rep": rep})
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
        if args.ceiling:
            from parallel_ceiling import main as ceiling

            ceiling(["--rounds", "1"])  # prints its own table
    print(table(rows))
    print(worker_ratios(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
