"""The size ladder: build and solve synthetic scenarios of growing size and report where the
time and memory go.

Sizes are goods x suppliers per good x months x disruption scenarios:

====  ===================  ==========================================================
S     10 x 4 x 24 x 10     seconds
M     50 x 8 x 60 x 50     uncompressed: about 1.6M columns
L     200 x 10 x 60 x 200  uncompressed: tens of millions of columns (skipped by default)
====  ===================  ==========================================================

Every case (size x compressed or not x interface x algorithm) runs in a **fresh Python
process**, so that its peak RSS is that process's own ``ru_maxrss`` and no case warms another's
caches. The solver gets ``--time-limit`` seconds; the process is killed when it runs longer than
the time limit plus ``--kill-margin`` seconds of wall clock (the margin covers model building and
writing the results, which the solver's limit does not).

Examples::

    python benchmarks/ladder.py                                 # S, both interfaces, both forms
    python benchmarks/ladder.py --sizes S,M --out table.md
    python benchmarks/ladder.py --sizes M --interfaces direct --algorithms simplex,ipm,choose
    python benchmarks/ladder.py --custom 3x2x12x2 --interfaces direct --compress on

The scenarios are LPs by default (``integer=False`` in ``generate.py``: no fixed costs, modules
or preparation costs), so that the interfaces and algorithms solve the same LP; ``--integer``
includes the integer levers. Every figure in the table comes from one run of that case.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

SIZES: dict[str, tuple[int, int, int, int]] = {
    "S": (10, 4, 24, 10),
    "M": (50, 8, 60, 50),
    "L": (200, 10, 60, 200),
}
INTERFACES = ("pyomo", "direct")
ALGORITHMS = ("choose", "simplex", "ipm")

COLUMNS = [
    "size",
    "compressed",
    "interface",
    "algorithm",
    "variables",
    "constraints",
    "nonzeros",
    "build s",
    "hand-over s",
    "solve s",
    "total s",
    "peak RSS MB",
    "status",
    "objective",
    "(build + hand-over) / solve",
]
STAGES = [
    "load",
    "prepare",
    "build",
    "pyomo_build",
    "hand_over",
    "solve",
    "duals",
    "results",
    "write",
    "other",
]


# --- one case, in its own process -------------------------------------------------------------


def worker(spec: dict) -> dict:
    """Generate, run and write one case; returns the measurements (in this process)."""
    import resource

    sys.path.insert(0, str(HERE))
    from generate import synthetic_scenario

    from optimizer.api import RunConfig, run

    # import the solver layer before the clock starts: importing Pyomo (which pulls in
    # scipy.stats) takes 1-3 s once per process and is not part of any run stage
    t0 = time.perf_counter()
    if spec["interface"] == "pyomo":
        import optimizer.solve.pyomo_backend  # noqa: F401
    else:
        import optimizer.solve.direct  # noqa: F401
    import_s = time.perf_counter() - t0

    g, s, t, k = spec["dims"]
    t0 = time.perf_counter()
    scenario = synthetic_scenario(g, s, t, k, seed=spec["seed"], integer=spec["integer"])
    generate_s = time.perf_counter() - t0

    config = RunConfig(
        compress_time=spec["compress"],
        interface=spec["interface"],
        algorithm=spec["algorithm"],
        time_limit=spec["time_limit"],
    )
    t0 = time.perf_counter()
    result = run(scenario, config)
    run_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    write_error = None
    files: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="ladder-") as tmp:
        folder = Path(tmp) / "results"
        try:
            if spec.get("formats"):
                result.write(folder, formats=tuple(spec["formats"]))
            else:
                result.write(folder)  # the engine's default formats
        except Exception as exc:  # noqa: BLE001 - reported in the table, not raised
            write_error = f"{type(exc).__name__}: {exc}"
        write_s = time.perf_counter() - t1
        total_s = time.perf_counter() - t0
        if folder.is_dir():
            files = {f.name: f.stat().st_size for f in sorted(folder.iterdir()) if f.is_file()}

    seconds = dict(result.seconds)
    seconds["write"] = write_s
    seconds["other"] = max(0.0, total_s - sum(v for kk, v in seconds.items() if kk != "other"))
    model = result.portfolio["solver"]["model"]
    return {
        "status": result.status,
        "objective": result.objective,
        "iterations": result.portfolio["solver"].get("iterations"),
        "model": model,
        "seconds": seconds,
        "run_s": run_s,
        "total_s": total_s,
        "generate_s": generate_s,
        "import_s": import_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "write_error": write_error,
        "files": files,
    }


def run_case(spec: dict, kill_after: float) -> dict:
    """Run one case in a fresh process; a case that outlives ``kill_after`` seconds is killed."""
    with tempfile.TemporaryDirectory(prefix="ladder-case-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--worker",
            json.dumps(spec),
            "--result-file",
            str(out),
        ]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=kill_after)
        except subprocess.TimeoutExpired:
            return {
                "status": f"killed (wall clock > {kill_after:.0f} s)",
                "wall_s": time.perf_counter() - t0,
            }
        wall = time.perf_counter() - t0
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr or "").strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
            return {"status": f"error ({tail[0][:120]})", "wall_s": wall}
        res = json.loads(out.read_text())
        res["wall_s"] = wall
        return res


# --- the table ----------------------------------------------------------------------------------


def _f(x: float | None, digits: int = 3) -> str:
    if x is None:
        return ""
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}g}" if abs(x) < 1 else f"{x:.{digits + 1}g}"


def _int(x) -> str:
    return "" if x is None else f"{int(x):,}"


def _label(case: dict) -> str:
    dims = "x".join(map(str, case["dims"]))
    return dims if case["size"] == dims else f"{case['size']} {dims}"


def row_of(case: dict) -> list[str]:
    label = _label(case)
    head = [label, "yes" if case["compress"] else "no", case["interface"], case["algorithm"]]
    res = case.get("result")
    if res is None:
        return head + [""] * 8 + [f"skipped ({case['skip_reason']})", "", ""]
    if "model" not in res:
        return head + [""] * 8 + [res["status"], "", ""]
    sec = res["seconds"]
    build = sec.get("prepare", 0) + sec.get("build", 0) + sec.get("pyomo_build", 0)
    hand = sec.get("hand_over", 0)
    solve = sec.get("solve", 0)
    ratio = (build + hand) / solve if solve > 0 else None
    m = res["model"]
    obj = res.get("objective")
    status = res["status"] + (
        f"; write failed: {res['write_error']}" if res.get("write_error") else ""
    )
    return head + [
        _int(m["variables"]),
        _int(m["constraints"]),
        _int(m["nonzeros"]),
        _f(build),
        _f(hand),
        _f(solve),
        _f(res["total_s"]),
        _f(res["peak_rss_mb"]),
        status,
        "" if obj is None else f"{obj:.10g}",
        _f(ratio),
    ]


def stage_row(case: dict) -> list[str] | None:
    res = case.get("result")
    if not res or "seconds" not in res:
        return None
    label = _label(case)
    sec = res["seconds"]
    return (
        [label, "yes" if case["compress"] else "no", case["interface"], case["algorithm"]]
        + [_f(sec.get(s)) if s in sec else "" for s in STAGES]
        + [
            _f(res["total_s"]),
            _int(res.get("iterations")),
            _f(res.get("import_s")),
            _f(res.get("generate_s")),
            _f(sum((res.get("files") or {}).values()) / 1e6),
        ]
    )


def markdown(header: list[str], rows: list[list[str]]) -> str:
    numeric = {
        i
        for i, h in enumerate(header)
        if h not in ("size", "compressed", "interface", "algorithm", "status")
    }
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if i in numeric else "---" for i in range(len(header))) + "|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def compression_lines(cases: list[dict]) -> list[str]:
    out = []
    for size in dict.fromkeys(c["size"] for c in cases):
        mine = [c for c in cases if c["size"] == size]
        dims = mine[0]["dims"]

        def model(compress: bool, mine: list[dict] = mine):
            for c in mine:
                res = c.get("result") or {}
                if c["compress"] == compress and "model" in res:
                    return res["model"]
            return None

        on, off = model(True), model(False)
        g, s, t, k = dims
        if on is None:
            continue
        if off is not None:
            out.append(
                f"- {size}: variables {off['variables']:,} / {on['variables']:,} = "
                f"**{off['variables'] / on['variables']:.1f}x** fewer when compressed; rows "
                f"{off['constraints'] / on['constraints']:.1f}x, nonzeros "
                f"{off['nonzeros'] / on['nonzeros']:.1f}x; blocks {off['blocks']:,} / "
                f"{on['blocks']:,} = {off['blocks'] / on['blocks']:.1f}x"
            )
        else:
            cells = (k + 1) * g * t  # every (scenario, good, period) is a block uncompressed
            out.append(
                f"- {size}: uncompressed not run; blocks {cells:,} (every (scenario, good, "
                f"period)) / {on['blocks']:,} = {cells / on['blocks']:.1f}x; the variables "
                f"scale about the same (purchases: one per block and supplier)"
            )
    return out


def environment() -> str:
    try:
        from importlib.metadata import version

        versions = ", ".join(f"{p} {version(p)}" for p in ("pyomo", "highspy", "numpy", "scipy"))
    except Exception:  # noqa: BLE001
        versions = "versions unknown"
    cpus = os.cpu_count()
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(fh.readline().split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GB RAM"
    except OSError:
        pass
    try:
        load = ", load average {:.2f} {:.2f} {:.2f} at the start".format(*os.getloadavg())
    except OSError:
        load = ""
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs{mem}{load}; Python "
        f"{platform.python_version()}; {versions}"
    )


# --- main -----------------------------------------------------------------------------------------


def _parse_dims(text: str) -> tuple[int, int, int, int]:
    parts = text.lower().split("x")
    if len(parts) != 4:
        raise argparse.ArgumentTypeError(f"expected GxSxTxK such as 3x2x12x2, got {text!r}")
    try:
        return tuple(int(p) for p in parts)  # type: ignore[return-value]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole numbers in {text!r}") from None


def _columns_estimate(dims: tuple[int, int, int, int]) -> int:
    """Purchase columns of the uncompressed model: (disruptions + 1) x goods x suppliers x T."""
    g, s, t, k = dims
    return (k + 1) * g * s * t


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--sizes",
        default=None,
        help="comma-separated names among S, M, L (default S, or none with --custom)",
    )
    p.add_argument(
        "--custom",
        action="append",
        default=[],
        type=str,
        help="extra size GxSxTxK (goods x suppliers x months x scenarios); repeatable "
        "or comma-separated",
    )
    p.add_argument("--interfaces", default="pyomo,direct", help="pyomo, direct or both")
    p.add_argument("--algorithms", default="choose", help="among choose, simplex, ipm")
    p.add_argument(
        "--compress",
        choices=("both", "on", "off"),
        default="both",
        help="run the compressed model, the uncompressed one, or both (default)",
    )
    kind = p.add_mutually_exclusive_group()
    kind.add_argument(
        "--integer",
        action="store_true",
        help="include the integer levers (fixed costs, modules): a MIP",
    )
    kind.add_argument("--lp", action="store_true", help="an LP (the default)")
    p.add_argument("--time-limit", type=float, default=600.0, help="solver limit per case, s")
    p.add_argument(
        "--kill-margin",
        type=float,
        default=180.0,
        help="kill a case after time limit + this many seconds of wall clock",
    )
    p.add_argument(
        "--skip-uncompressed-above",
        default="M",
        help="skip the uncompressed model of sizes larger than this one (S, M, L, or "
        "none to never skip; default M, so L runs compressed only)",
    )
    p.add_argument(
        "--formats",
        default=None,
        help="formats of the results folder written by each case, e.g. json,csv,yaml "
        "(default: RunResult.write's default)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="also write the report (markdown) to this file")
    p.add_argument("--json", type=Path, help="also write the raw measurements (JSON)")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--result-file", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        res = worker(json.loads(args.worker))
        Path(args.result_file).write_text(json.dumps(res))
        return 0

    sizes: list[tuple[str, tuple[int, int, int, int]]] = []
    names = args.sizes if args.sizes is not None else ("" if args.custom else "S")
    for name in filter(None, (n.strip().upper() for n in names.split(","))):
        if name not in SIZES:
            sys.exit(f"unknown size {name!r}; use S, M, L or --custom GxSxTxK")
        sizes.append((name, SIZES[name]))
    for text in args.custom:
        for item in filter(None, (x.strip() for x in text.split(","))):
            try:
                sizes.append((item, _parse_dims(item)))
            except argparse.ArgumentTypeError as exc:
                sys.exit(str(exc))
    interfaces = [x.strip() for x in args.interfaces.split(",") if x.strip()]
    algorithms = [x.strip() for x in args.algorithms.split(",") if x.strip()]
    for x in interfaces:
        if x not in INTERFACES:
            sys.exit(f"unknown interface {x!r}; use pyomo and/or direct")
    for x in algorithms:
        if x not in ALGORITHMS:
            sys.exit(f"unknown algorithm {x!r}; use choose, simplex and/or ipm")
    skip_above = args.skip_uncompressed_above.strip().upper()
    if skip_above in ("NONE", "NEVER", ""):
        limit_cols = None
    elif skip_above in SIZES:
        limit_cols = _columns_estimate(SIZES[skip_above])
    else:
        sys.exit(f"--skip-uncompressed-above: use S, M, L or none, got {skip_above!r}")
    compress_modes = {"both": [True, False], "on": [True], "off": [False]}[args.compress]
    integer = bool(args.integer)
    kill_after = args.time_limit + args.kill_margin

    cases: list[dict] = []
    for size, dims in sizes:
        for compress in compress_modes:
            skip = None
            if not compress and limit_cols is not None and _columns_estimate(dims) > limit_cols:
                skip = (
                    f"uncompressed above {skip_above}: ~{_columns_estimate(dims) / 1e6:.1f}M "
                    "purchase columns"
                )
            for interface in interfaces:
                for algorithm in algorithms:
                    cases.append(
                        {
                            "size": size,
                            "dims": list(dims),
                            "compress": compress,
                            "interface": interface,
                            "algorithm": algorithm,
                            "seed": args.seed,
                            "integer": integer,
                            "time_limit": args.time_limit,
                            "skip_reason": skip,
                            "formats": [f.strip() for f in args.formats.split(",") if f.strip()]
                            if args.formats
                            else None,
                        }
                    )

    command = "python benchmarks/ladder.py " + " ".join(
        a for a in (sys.argv[1:] if argv is None else argv)
    )
    started = _dt.datetime.now().isoformat(timespec="seconds")
    env = environment()

    def written_files() -> str:
        names = dict.fromkeys(
            n for c in cases for n in ((c.get("result") or {}).get("files") or {})
        )
        what = ", ".join(names) if names else "nothing written yet"
        how = (
            ("formats " + ", ".join(args.formats.split(",")))
            if args.formats
            else ("the engine's default formats")
        )
        return f"{what} ({how})"

    def report() -> str:
        rows = [row_of(c) for c in cases if "result" in c or c["skip_reason"]]
        stages = [r for r in (stage_row(c) for c in cases) if r]
        parts = [
            f"Command: `{command.strip()}`  ",
            f"Started {started}; {env}.  ",
            f"Scenarios: `generate.py` seed {args.seed}, "
            f"{'with integer levers (MIP)' if integer else 'LP (integer=False)'}; solver time "
            f"limit {args.time_limit:g} s, kill after {kill_after:g} s; each case in a fresh "
            "process, one run each.",
            "",
            markdown(COLUMNS, rows),
            "",
            "build s = prepare + build (+ pyomo_build); total s = load + build + hand-over + solve "
            "+ results + writing the results folder (end to end, in the case's process). "
            f"Results folder: {written_files()}.",
            "",
            "Compression (uncompressed / compressed):",
            "",
            *compression_lines(cases),
            "",
            "Where the time goes (seconds; other = total minus the named stages: Pyomo's "
            "solution loading, building the result objects; import = importing the solver "
            "layer and generate = synthetic_scenario, both before the clock starts and not in "
            "total):",
            "",
            markdown(
                [
                    "size",
                    "compressed",
                    "interface",
                    "algorithm",
                    *STAGES,
                    "total",
                    "iterations",
                    "import",
                    "generate",
                    "folder MB",
                ],
                stages,
            ),
        ]
        return "\n".join(parts) + "\n"

    for i, case in enumerate(cases, 1):
        label = (
            f"[{i}/{len(cases)}] {case['size']} compressed={case['compress']} "
            f"{case['interface']} {case['algorithm']}"
        )
        if case["skip_reason"]:
            print(f"{label}: skipped ({case['skip_reason']})", file=sys.stderr, flush=True)
            continue
        print(f"{label} ...", file=sys.stderr, flush=True)
        spec = {
            k: case[k]
            for k in (
                "dims",
                "compress",
                "interface",
                "algorithm",
                "seed",
                "integer",
                "time_limit",
                "formats",
            )
        }
        case["result"] = run_case(spec, kill_after)
        res = case["result"]
        print(
            f"{label}: {res['status']} in {res.get('wall_s', 0):.1f} s wall",
            file=sys.stderr,
            flush=True,
        )
        if args.out:
            args.out.write_text(report())
        if args.json:
            args.json.write_text(json.dumps(cases, indent=1))

    text = report()
    print(text)
    if args.out:
        args.out.write_text(text)
    if args.json:
        args.json.write_text(json.dumps(cases, indent=1))
    # a case that crashed is a failure; a time limit or a kill is a measurement
    failed = [c for c in cases if c.get("result", {}).get("status", "").startswith("error")]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
