"""One persistent model, many levels: the warm re-solves of a budget sweep.

:class:`_LevelSolver` holds the model built at the first level and, for each further level,
changes only the budget row's right-hand side and re-solves warm (an LP keeps its basis, a MIP
gets the previous solution as a start). Levels chosen by ``cold_check_every`` are re-solved
cold in a fresh solver, in a background process (:class:`_BackgroundChecks`) so the warm sweep
goes on meanwhile. ``_worker_init`` / ``_worker_level`` are the same solver in a worker process.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.pipeline import RunConfig, load
from optimizer.results.portfolio import portfolio
from optimizer.solve.base import SolveResult
from optimizer.studies.levels import _with_limit
from optimizer.studies.sweep_frontier import _Level

#: Relative objective difference above which a warm and a cold solve disagree.
_AGREE = 1e-6


def _set_mip_start(solver: Any, x: np.ndarray | None) -> bool:
    """Hand the previous level's solution to HiGHS as a MIP start. Only the ``direct``
    interface can (Pyomo's HiGHS interface passes no start). Returns whether it was taken."""
    h = getattr(solver, "h", None)
    if h is None or x is None:
        return False
    import highspy

    sol = highspy.HighsSolution()
    sol.col_value = np.asarray(x, dtype=float).tolist()
    sol.value_valid = True
    return h.setSolution(sol) == highspy.HighsStatus.kOk


def _cold_solve(lp, options, row: int, upper: float):
    """Solve ``lp`` from scratch in a fresh HiGHS (``direct``: no Pyomo rebuild) with the budget
    row's upper bound at ``upper``. Returns the SolveResult with ``seconds["check"]``, the
    wall time of the whole check."""
    from optimizer.solve.direct import DirectHighs

    t0 = time.perf_counter()
    fresh = DirectHighs(lp, options)
    fresh.set_row_bounds([row], [-np.inf], [upper])
    result = fresh.solve()
    result.seconds["check"] = time.perf_counter() - t0
    return result


class _BackgroundChecks:
    """Cold solves of some levels in one background Python process, overlapping the sweep.

    The process is started with ``python -c`` (not ``multiprocessing``), so that a user's
    script without an ``if __name__ == "__main__"`` guard is never re-imported. It reads
    ``(lp, options, row, {index: upper})`` from a pickle and writes ``{index: SolveResult}``.
    """

    def __init__(self, lp, options, row: int, uppers: dict[int, float]):
        self.dir = Path(tempfile.mkdtemp(prefix="stockpile-cold-checks-"))
        self.inp, self.out = self.dir / "in.pickle", self.dir / "out.pickle"
        with open(self.inp, "wb") as fh:
            pickle.dump((lp, options, row, uppers), fh, protocol=pickle.HIGHEST_PROTOCOL)
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])  # so that `optimizer` imports
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        code = (
            "import sys; from optimizer.studies.sweep_levels import _cold_main; "
            "_cold_main(*sys.argv[1:])"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(self.inp), str(self.out)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )

    def results(self) -> dict[int, Any]:
        """Wait for the process; its results, or ``RuntimeError`` saying why there are none."""
        _, stderr = self.proc.communicate()
        if self.proc.returncode != 0 or not self.out.exists():
            tail = (stderr or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
            raise RuntimeError(f"exit code {self.proc.returncode}: {' '.join(tail)}")
        with open(self.out, "rb") as fh:
            return pickle.load(fh)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def _cold_main(inp: str, out: str) -> None:
    """Entry point of the background process of :class:`_BackgroundChecks`."""
    with open(inp, "rb") as fh:
        lp, options, row, uppers = pickle.load(fh)
    results = {i: _cold_solve(lp, options, row, upper) for i, upper in uppers.items()}
    tmp = out + ".partial"
    with open(tmp, "wb") as fh:
        pickle.dump(results, fh, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, out)


def _check_at(index: int, every: int) -> bool:
    """Whether level ``index`` (0-based, in solve order) gets a cold check: the
    ``every``-th, ``2 every``-th, ... level; never the first (it is cold already)."""
    return every > 0 and index > 0 and (index + 1) % every == 0


class _LevelSolver:
    """A persistent model of one scenario with a budget row, re-solved at one level after
    another; used by the main process and by each worker."""

    def __init__(self, scenario, built, solver, config: RunConfig, name, sha, interface):
        self.scenario = scenario
        self.built = built
        self.solver = solver
        self.config = config
        self.name = name
        self.sha = sha
        self.interface = interface
        self.row = built.budget_rows[name]
        # the budget row is ``cash terms <= limit - constant``: recover the constant
        self.constant = float(built.info["budget_limit"][name] - built.lp.row_upper[self.row])
        self.is_mip = built.lp.is_mip
        self.prev_x: np.ndarray | None = None
        self.prev_level: float | None = None
        self.prev_result = None
        self.solved = 0
        self._cash_row = built.lp.matrix[[self.row], :].tocsr()  # cash terms of the budget row

    def upper(self, level: float) -> float:
        return float(level) - self.constant

    def portfolio(self, level: float, result, seconds: dict) -> dict:
        return portfolio(
            _with_limit(self.scenario, self.name, level),
            self.built,
            result,
            input_sha256=self.sha,
            seconds=seconds,
            interface=self.interface,
        )

    def still_optimal(self, level: float) -> bool:
        """Whether the previous optimum is also optimal at ``level``: the budget shrank (a
        smaller feasible set) and the previous portfolio's cash still fits under it."""
        prev = self.prev_result
        if prev is None or prev.status != "optimal" or prev.x is None:
            return False
        if self.prev_level is None or level > self.prev_level:
            return False
        upper = self.upper(level)
        cash = float((self._cash_row @ prev.x)[0])
        return cash <= upper + 1e-9 * max(1.0, abs(upper))

    def resolve(self, level: float) -> tuple[SolveResult, float, bool, float]:
        """Move the budget to ``level`` and re-solve: the SolveResult, the solver's wall
        seconds, whether it started warm, and the seconds spent in all. Where the budget does
        not bind (:meth:`still_optimal`) the previous optimum is kept without calling the
        solver (0 iterations)."""
        t0 = time.perf_counter()
        self.solver.set_row_bounds([self.row], [-np.inf], [self.upper(level)])
        warm = self.solved > 0  # LP: HiGHS starts from the basis it holds
        if self.is_mip:
            # the previous solution is feasible (a start) only if the budget did not shrink
            loosened = self.prev_level is not None and level >= self.prev_level
            warm = loosened and _set_mip_start(self.solver, self.prev_x)
        t1 = time.perf_counter()
        if self.still_optimal(level):
            result = replace(self.prev_result, iterations=0, seconds={"solve": 0.0})
        else:
            result = self.solver.solve()
        solve_seconds = time.perf_counter() - t1  # wall time: Pyomo's highs_time is cumulative
        self.solved += 1
        if result.x is not None:
            self.prev_x, self.prev_level = result.x, float(level)
            self.prev_result = result
        return result, solve_seconds, warm, time.perf_counter() - t0

    def level(
        self, index: int, level: float, result: SolveResult, solve_seconds, warm, spent
    ) -> _Level:
        """The level's row data from its SolveResult (reads only the scenario, the model's
        arrays and ``result``, so it may run in a thread while the solver works on the next
        level)."""
        t0 = time.perf_counter()
        pf = self.portfolio(level, result, dict(result.seconds))
        seconds = spent + time.perf_counter() - t0
        return _Level(index, float(level), pf, seconds, solve_seconds, warm, result.iterations)

    def solve(self, index: int, level: float) -> tuple[_Level, SolveResult]:
        """:meth:`resolve` and :meth:`level`, one after the other."""
        result, solve_seconds, warm, spent = self.resolve(level)
        return self.level(index, level, result, solve_seconds, warm, spent), result

    def check_inline(self, lv: _Level) -> None:
        options = replace(self.config, warm_resolves=False).solver_options(self.is_mip)
        cold = _cold_solve(self.built.lp, options, self.row, self.upper(lv.level))
        self.apply_check(lv, cold)

    def apply_check(self, lv: _Level, cold) -> None:
        """Compare level ``lv`` (solved warm) with its cold solve ``cold``; on disagreement
        keep the cold answer and say so."""
        warm_status = lv.portfolio["status"]
        warm_obj = lv.portfolio["objective"]
        check: dict[str, Any] = {
            "level": lv.level,
            "warm_status": warm_status,
            "cold_status": cold.status,
            "warm_objective": warm_obj,
            "cold_objective": cold.objective,
            "rel_diff": None,
        }
        tol = max(_AGREE, 2 * self.config.mip_gap) if self.is_mip else _AGREE
        agree = cold.status == warm_status
        if agree and cold.objective is not None and warm_obj is not None:
            rel = abs(cold.objective - warm_obj) / max(1.0, abs(cold.objective))
            check["rel_diff"] = rel
            agree = rel <= tol
        check["agree"] = bool(agree)
        check["seconds"] = cold.seconds.get("check", 0.0)
        if not agree:
            check["warning"] = (
                f"level {lv.level:,.6g}: the warm re-solve gave {warm_status} {warm_obj!r}, "
                f"a cold solve {cold.status} {cold.objective!r}; the cold answer is kept"
            )
            if cold.has_solution:
                lv.portfolio = self.portfolio(lv.level, cold, dict(cold.seconds))
                lv.warm = False
        lv.cold_check = check


#: The worker process's own solver, set up once by :func:`_worker_init`.
_WORKER: dict[str, Any] = {}


def _worker_init(src, overrides, key, name, level, config: RunConfig) -> None:
    """Build the model once per worker process (no solve); tasks then re-solve it."""
    from optimizer.data import prepare
    from optimizer.model import build_model
    from optimizer.solve import choose_interface, make_solver

    t0 = time.perf_counter()
    loaded = load(src, (*overrides, f"{key}={float(level)!r}"))
    data = prepare(loaded.scenario, compress_time=config.compress_time)
    built = build_model(loaded.scenario, data)
    _ = built.lp.matrix
    interface = choose_interface(built.lp, config.interface, config.pyomo_max_columns)
    solver = make_solver(built.lp, config.solver_options(built.lp.is_mip), interface)
    _WORKER["solver"] = _LevelSolver(
        loaded.scenario, built, solver, config, name, loaded.input_sha256, interface
    )
    _WORKER["setup"] = time.perf_counter() - t0
    _WORKER["meta"] = {
        "name": loaded.scenario.name,
        "warnings": [w.format() for w in loaded.warnings],
        "is_mip": built.lp.is_mip,
        "interface": interface,
    }


def _worker_level(index: int, level: float, cold_check: bool) -> tuple[_Level, dict]:
    s: _LevelSolver = _WORKER["solver"]
    lv, _ = s.solve(index, level)
    if cold_check:
        s.check_inline(lv)
    setup = _WORKER.pop("setup", None)
    if setup is not None:  # the worker's first level pays for its build
        lv.seconds += setup
    return lv, _WORKER["meta"]
