"""What two processes can give on this machine: the same HiGHS work in one process, then in
two at once (issue 13's "2 workers against 1" target, 1.7x).

It builds the chunks of a sampled case (``decomposition.sampled_scenario``: 34 goods x 5
suppliers x 60 months, 500 samples, 8 chunks of 25 futures) and solves them cold ``--reps``
times over, with no Dask and no client: first in one process alone, then in two processes
started together, each doing the same work. The ratio ``2 x alone / slower of the pair`` is
the most two workers could gain over one for this work; the decomposition's own 2-workers
ratio is to be read against it, measured in the same minutes (the cores of this virtual
machine are shared with the host's other guests, and the figure moves from run to run).

Usage::

    python benchmarks/parallel_ceiling.py [--rounds 3] [--reps 12]
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def make_chunks(path: Path, samples: int = 500) -> None:
    """Pickle 8 chunks of a sampled case and a first stage to ``path``."""
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    import numpy as np
    from decomposition import sampled_scenario

    from optimizer.api import load
    from optimizer.data import prepare
    from optimizer.model import build_model
    from optimizer.solve.decomposed import _groups
    from optimizer.solve.decomposition_build import from_data

    sc = load(sampled_scenario(34, 5, 60, samples - 1, 1)).scenario
    data = prepare(sc)
    layout = build_model(sc, data, layout_only=True)
    gof, cog = _groups(data.K, 25, 0)
    stage, chunks = from_data(sc, layout, gof, cog, "ceiling")
    x = np.minimum(stage.lower, np.minimum(stage.upper, stage.artificial_upper))
    path.write_bytes(pickle.dumps((chunks[:8], x)))


def solve_chunks(path: Path, reps: int) -> float:
    """Solve the pickled chunks cold ``reps`` times over with one HiGHS thread; wall seconds."""
    sys.path.insert(0, str(HERE.parent))
    from optimizer.solve import decomposition_worker as worker

    chunks, x = pickle.loads(path.read_bytes())
    t0 = time.perf_counter()
    for _ in range(reps):
        for c in chunks:
            worker._CACHE.clear()
            worker.evaluate_chunk(c, x, keep_solver=False, threads=1)
    return time.perf_counter() - t0


def _start(path: Path, reps: int) -> subprocess.Popen:
    cmd = [sys.executable, __file__, "--solve", str(path), "--reps", str(reps)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)


def _seconds(proc: subprocess.Popen) -> float:
    out, _ = proc.communicate()
    return float(out.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3, help="alone-then-pair measurements")
    p.add_argument("--reps", type=int, default=12, help="times the chunks are solved per process")
    p.add_argument("--solve", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.solve:
        print(solve_chunks(args.solve, args.reps))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chunks.pkl"
        make_chunks(path)
        rows = []
        for r in range(args.rounds):
            alone = _seconds(_start(path, args.reps))
            pair = [_start(path, args.reps), _start(path, args.reps)]
            a, b = (_seconds(q) for q in pair)
            rows.append(
                {"round": r, "alone_s": alone, "pair_s": [a, b], "ceiling": 2 * alone / max(a, b)}
            )
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print("| round | one process alone s | two at once s | ceiling (2 x alone / slower) |")
    print("|---:|---:|---:|---:|")
    for r in rows:
        a, b = r["pair_s"]
        print(f"| {r['round']} | {r['alone_s']:.2f} | {a:.2f}, {b:.2f} | {r['ceiling']:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
