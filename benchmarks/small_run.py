"""How long one small ``stockpile run`` takes, end to end, as a ratio to a bare Python start.

Runs ``stockpile run scenarios/critical_raw_materials.yaml`` (the shipped scenario, about 600
columns) as a fresh process, the way a user does, for each case (interface x output formats),
``--rounds`` times, and prints the median wall time and its ratio to ``python -c pass`` measured
in the same rounds (a loaded machine slows both). Issue 15's target: every output under 1.0 s,
under 40x ``python -c pass``.

Python's bytecode cache is on in the processes timed, as after any ``pip install``, even when
``PYTHONDONTWRITEBYTECODE`` is set around it (``--no-bytecode`` keeps it off: then every run
compiles the package's and its libraries' uncached sources again); one untimed warm-up run of
each case comes first.

    python benchmarks/small_run.py --rounds 5
    python benchmarks/small_run.py --rounds 3 --cases direct:json,pyomo:all
    git archive 9e7ed5c | tar -x -C /tmp/before
    python benchmarks/small_run.py --rounds 5 --before /tmp/before --cases auto:all,direct:json
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "critical_raw_materials.yaml"
ALL = "json,csv,yaml,html,xlsx"


CPU: list[float] = []
"""CPU seconds (user + system) of each process :func:`wall` ran, in order: less sensitive than
wall time to other jobs on a shared machine (they take turns on the cores, not CPU seconds)."""


def wall(args: list[str], env: dict[str, str] | None = None, cwd: Path = ROOT) -> float:
    """Seconds of wall time of one process started in ``cwd`` (its CPU seconds go to
    :data:`CPU`); raises when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=env, cwd=cwd)
    spent = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return spent


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--cases",
        default="auto:all,pyomo:all,direct:json,direct:json,csv,yaml,direct:html,direct:xlsx",
        help="interface:formats, comma separated; 'all' for every format",
    )
    p.add_argument("--no-bytecode", action="store_true", help="keep PYTHONDONTWRITEBYTECODE")
    p.add_argument(
        "--before",
        default=None,
        help="a source tree of another version (e.g. `git archive` of an older commit); each "
        "case is timed on it too, interleaved with this tree round by round",
    )
    a = p.parse_args(argv)
    env = dict(os.environ)
    if not a.no_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    # each tree's processes start in its folder: ``python -m`` puts the working directory
    # first on sys.path, before PYTHONPATH
    trees: dict[str, tuple[dict[str, str], Path]] = {"now": (env, ROOT)}
    if a.before:
        before = Path(a.before).resolve()
        trees = {"before": ({**env, "PYTHONPATH": str(before)}, before), "now": (env, ROOT)}
    cases: list[tuple[str, str]] = []
    for part in a.cases.split(","):
        if ":" in part:
            iface, fmt = part.split(":", 1)
            cases.append((iface, ALL if fmt == "all" else fmt))
        else:  # a further format of the case before
            iface, fmt = cases[-1]
            cases[-1] = (iface, f"{fmt},{part}")
    base: list[float] = []
    base_cpu: list[float] = []
    times: dict[tuple[str, str, str], list[float]] = {(t, *c): [] for c in cases for t in trees}
    cpu: dict[tuple[str, str, str], list[float]] = {k: [] for k in times}
    with tempfile.TemporaryDirectory() as tmp:

        def command(iface: str, fmt: str) -> list[str]:
            out = Path(tmp) / f"{iface}-{fmt.replace(',', '-')}"
            cmd = [sys.executable, "-m", "optimizer", "run", str(SCENARIO), "--out", str(out)]
            return cmd + ["--interface", iface, "--formats", fmt, "-q"]

        wall([sys.executable, "-c", "pass"], env)
        for tree_env, cwd in trees.values():  # warm-up: bytecode written, files cached
            for iface, fmt in cases:
                wall(command(iface, fmt), tree_env, cwd)
        for _ in range(a.rounds):
            base.append(wall([sys.executable, "-c", "pass"], env))
            base_cpu.append(CPU[-1])
            for iface, fmt in cases:
                for tree, (tree_env, cwd) in trees.items():
                    times[(tree, iface, fmt)].append(wall(command(iface, fmt), tree_env, cwd))
                    cpu[(tree, iface, fmt)].append(CPU[-1])
    b, bc = statistics.median(base), statistics.median(base_cpu)
    print(f"python -c pass: {b:.3f} s wall, {bc:.3f} s CPU (medians of {a.rounds})")
    head = f"{'tree':<7} {'interface':<10} {'formats':<24} {'median s':>9} {'x pass':>8}"
    print(f"{head} {'CPU s':>7} {'CPU x pass':>10}")
    for key, ts in times.items():
        tree, iface, fmt = key
        m, c = statistics.median(ts), statistics.median(cpu[key])
        line = f"{tree:<7} {iface:<10} {fmt:<24} {m:>9.2f} {m / b:>8.1f}"
        print(f"{line} {c:>7.2f} {c / max(bc, 1e-9):>10.1f}")


if __name__ == "__main__":
    main()
