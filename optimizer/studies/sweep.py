"""Sweeps: solve one scenario at many values of a budget or of any numeric parameter.

Two entry points:

- :func:`sweep_budget` traces the **frontier** of the total budget or of one budget line. The
  model is built once; each further level only changes the budget row's right-hand side
  (``limit - constant cash``, see ``optimizer/model/constraints.py``) in the persistent solver
  and re-solves it. For an LP HiGHS keeps its basis, so each re-solve starts warm; for a MIP
  solved through ``interface="direct"`` the previous level's solution is handed over as a start
  (with a larger budget it stays feasible). Every warm LP level is checked against its
  optimality conditions (``optimizer/solve/certificate.py``), and ``cold_check_every=N`` adds
  a cold re-solve of every N-th level in a fresh solver (HiGHS has had hot-start bugs).
- :func:`sweep_param` traces a sensitivity curve of any numeric scenario value (a disruption's
  probability, a price multiplier, the cap share): each value's model is rebuilt as arrays,
  and where it keeps its shape only the changed numbers go to the HiGHS instance holding the
  previous value's model, which re-solves warm.

Both return a :class:`SweepResult`: ``frontier`` (one row per level), ``goods`` (per level and
good, long format), ``switches`` (levels where a lever switches on) and timings;
:meth:`SweepResult.write` writes ``frontier.csv``, ``frontier_goods.csv``, ``frontier.png``,
``report.html`` and ``sweep.json`` into a results folder, atomically.

Levels are solved in order, one step at a time (small RHS steps keep warm starts short): for an
LP from the highest level down, for a MIP upwards. Three things keep an LP sweep cheap, each
measured in ``benchmarks/README.md``: HiGHS runs with Devex pricing
(:data:`optimizer.solve.base.WARM_RESOLVE_OPTIONS`), so a warm start does not recompute every
steepest-edge weight; where the budget does not bind, the level above's optimum is kept
without calling the solver; and each level's portfolio is assembled, and its certificate
checked, in a thread while HiGHS (which releases the GIL) solves the next one.
``workers > 1`` spreads the levels over processes, each holding its own persistent model
(HiGHS ``threads`` is fixed per process, so each worker runs with ``threads=1``): the choice
when warm starts do not help, as for a MIP.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from optimizer.pipeline import RunConfig, load, run
from optimizer.scenario.loader import LoadedScenario
from optimizer.solve.base import SolveResult
from optimizer.solve.certificate import lp_certificate
from optimizer.studies.levels import _levels, _source
from optimizer.studies.progress import Progress
from optimizer.studies.sweep_frontier import SweepResult, _assemble, _certificate_note, _Level
from optimizer.studies.sweep_levels import (
    _BackgroundChecks,
    _check_at,
    _LevelSolver,
    _worker_init,
    _worker_level,
)
from optimizer.studies.workers import _collect, _pool


def _budget_key(line: str | None) -> tuple[str, str]:
    """(override key path, name in ``budget_rows``) of the total or of one line."""
    if line is None or line == "total":
        return "budget.total", "total"
    return f"budget.lines.{line}.limit", line


def sweep_budget(
    scenario: str | Path | dict | LoadedScenario,
    levels: Sequence[float] | np.ndarray,
    line: str | None = None,
    config: RunConfig | None = None,
    progress: Progress | None = None,
    workers: int = 1,
    cold_check_every: int = 0,
    overrides: Sequence[str] = (),
    cold_check_background: bool = False,
) -> SweepResult:
    """Solve ``scenario`` at each budget level (euros) of the total budget, or of the budget line
    ``line``, re-solving one persistent model.

    The model is built once (:func:`optimizer.api.run` at the highest level, with the budget set
    by an override, which creates the total budget if the scenario has none); each further level
    changes only the budget row's upper bound to ``level - constant`` (the constant is the
    storage of the initial stock) and re-solves. An LP is then solved from the top down, each
    level warm from the basis of the level above (the top level is usually the cheapest cold
    solve, and on the ladder's M scenario the way down took 16 % fewer simplex iterations than
    the way up). A MIP is solved upwards from the lowest level, and on the ``direct`` interface
    each level starts from the solution of the level below, which a larger budget keeps
    feasible (Pyomo's interface passes no start: each MIP level is solved from scratch, without
    a rebuild). The result lists the levels sorted increasing, de-duplicated. Where the
    optimum of the level above still fits under the smaller budget (its cash is within it),
    that optimum is kept without a solve: 0 iterations in ``frontier``. An LP sweep runs HiGHS
    with Devex pricing (``RunConfig.warm_resolves``).

    Every warm LP level is checked against its optimality conditions
    (:func:`optimizer.solve.certificate.lp_certificate`: primal feasibility and equal primal
    and dual objectives, one sparse product, no solve); a level that fails is solved again
    from scratch and that answer kept, with a warning. This guards against the rare wrong warm
    optimum (HiGHS #3294) at almost no cost. In addition, every ``cold_check_every``-th level
    (default 0: none) is solved cold in a fresh HiGHS; a disagreement beyond 1e-6 relative (or
    twice the MIP gap) is recorded in ``warnings`` and the cold answer kept. Each such check
    costs one cold solve. ``cold_check_background=True`` runs them
    all in one background process instead, overlapping the sweep (they do not depend on it):
    worth it only with an idle CPU; on the 2-vCPU machine of ``benchmarks/README.md`` the two
    HiGHS processes slowed each other down and the sweep took longer.

    ``workers > 1`` spreads the levels over that many processes, each building its own model
    once and running HiGHS with ``threads=1``: for a MIP, where a warm start buys little. The
    processes are spawned, so a script calling this needs the usual
    ``if __name__ == "__main__":`` guard. ``overrides`` (``key.path=value``) are applied to the
    scenario first, as ``--set`` does. ``progress(done, total)`` is called after each level.

    Raises :class:`~optimizer.scenario.errors.ScenarioError` for a bad scenario and
    ``ValueError`` for a negative level or a budget line the scenario does not have.
    """
    config = config or RunConfig()
    arr = _levels(levels)
    if np.any(arr < 0):
        raise ValueError(f"a budget cannot be negative, got {arr.min():,.6g}")
    src = _source(scenario)
    key, name = _budget_key(line)
    overrides = tuple(overrides)
    if name != "total":
        base = load(src, overrides)
        if name not in base.scenario.budget.lines:
            have = ", ".join(base.scenario.budget.lines) or "none"
            raise ValueError(f"the scenario has no budget line {name!r} (its lines: {have})")
    if workers > 1 and len(arr) > 1:
        return _sweep_budget_pool(
            src, arr, key, name, config, progress, workers, cold_check_every, overrides
        )

    t0 = time.perf_counter()
    n = len(arr)
    top = n - 1  # the first, cold solve: the highest level, usually the easiest
    first = run(
        src,
        replace(config, warm_resolves=True, baseline=False),
        overrides=(*overrides, f"{key}={float(arr[top])!r}"),
    )
    interface = first.portfolio["solver"]["interface"]
    solver = _LevelSolver(
        first.loaded.scenario,
        first.model,
        first.solver,
        config,
        name,
        first.loaded.input_sha256,
        interface,
    )
    solver.solved = 1
    solver.prev_x = first.solve.x
    solver.prev_level = float(arr[top])
    solver.prev_result = first.solve
    done = {top: _Level.cold(top, arr[top], first, time.perf_counter() - t0)}
    if progress:
        progress(1, n)
    # LP: downwards from the top, each level warm from the basis of the one above (on the
    # ladder's M scenario 16 % fewer simplex iterations than upwards from the bottom). MIP:
    # upwards from the bottom after the top, so that each level's start (the solution one
    # level down) stays feasible.
    order = list(range(top - 1, -1, -1)) if not solver.is_mip else list(range(top))
    checks = [i for pos, i in enumerate([top, *order]) if _check_at(pos, cold_check_every)]
    notes: list[str] = []
    background = bool(cold_check_background) and bool(checks)
    checker = None
    try:
        if background:
            uppers = {i: solver.upper(arr[i]) for i in checks}
            checker = _BackgroundChecks(
                first.model.lp, config.solver_options(solver.is_mip), solver.row, uppers
            )

        # Each level's results (its portfolio) are assembled, and a warm LP level checked
        # against its optimality conditions (a mat-vec; one that fails is solved again from
        # scratch and that answer kept), in a thread while HiGHS, which releases the GIL,
        # solves the next level: on two cores that work leaves the critical path. Cold checks
        # run once every level is solved (they use a solver of their own).
        def finish(i: int, res: SolveResult, timing: tuple, rows: tuple | None):
            lv = solver.level(i, float(arr[i]), res, *timing)
            cert = None
            if rows is not None:
                cert = lp_certificate(
                    first.model.lp, res.x, res.row_dual, row_lower=rows[0], row_upper=rows[1]
                )
            return lv, cert

        lp = first.model.lp
        pending: list[tuple[int, Future]] = []
        with ThreadPoolExecutor(max_workers=1) as assemble:
            for pos, i in enumerate(order, start=2):
                res, *timing = solver.resolve(float(arr[i]))
                check = not solver.is_mip and res.x is not None and res.status == "optimal"
                rows = (lp.row_lower, lp.row_upper) if check else None  # this level's bounds
                pending.append((i, assemble.submit(finish, i, res, tuple(timing), rows)))
                if progress:
                    progress(pos, n)
            for i, job in pending:
                lv, cert = job.result()
                cold_needed = i in checks and not background
                if cert is not None:
                    lv.certified = cert.ok
                    if not cert.ok:
                        notes.append(_certificate_note(f"level {arr[i]:,.6g}", cert))
                        cold_needed = True
                if cold_needed:
                    solver.check_inline(lv)
                done[i] = lv
        if checker is not None:
            try:
                cold = checker.results()
            except (RuntimeError, OSError, pickle.UnpicklingError) as exc:
                notes.append(
                    f"the background cold checks failed ({exc}); they were run here instead"
                )
                background = False
                for i in checks:
                    solver.check_inline(done[i])
            else:
                for i in checks:
                    solver.apply_check(done[i], cold[i])
    finally:
        if checker is not None:
            checker.close()
    result = _assemble(
        list(done.values()),
        scenario=first.loaded.scenario.name,
        key=key,
        kind="budget",
        budget_name=name,
        interface=interface,
        is_mip=solver.is_mip,
        workers=1,
        total_seconds=time.perf_counter() - t0,
        warnings=[w.format() for w in first.loaded.warnings] + notes,
        first_seconds=done[top].seconds,
    )
    result.timings["cold_checks_in_background"] = background
    result.order = "up" if solver.is_mip else "down"
    return result


def _sweep_budget_pool(src, arr, key, name, config, progress, workers, every, overrides):
    t0 = time.perf_counter()
    cfg = replace(config, threads=1, warm_resolves=True)
    workers = min(workers, len(arr))
    with _pool(workers, _worker_init, (src, overrides, key, name, float(arr[0]), cfg)) as ex:
        futures = [
            ex.submit(_worker_level, i, float(lv), _check_at(i, every)) for i, lv in enumerate(arr)
        ]
        results = _collect(futures, len(arr), progress)
    done = [lv for lv, _ in results]
    meta = results[0][1]
    result = _assemble(
        done,
        scenario=meta["name"],
        key=key,
        kind="budget",
        budget_name=name,
        interface=meta["interface"],
        is_mip=meta["is_mip"],
        workers=workers,
        total_seconds=time.perf_counter() - t0,
        warnings=meta["warnings"],
    )
    result.timings["cold_checks_in_background"] = False
    result.order = "any"
    return result
