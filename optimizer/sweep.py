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

import math
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from optimizer.api import RunConfig, RunResult, load, run
from optimizer.results.portfolio import portfolio
from optimizer.scenario.loader import LoadedScenario
from optimizer.scenario.schema import is_rate_key, override_text
from optimizer.scenario.units import parse_money, parse_share
from optimizer.solve.base import SolveResult
from optimizer.solve.certificate import lp_certificate

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called after each level is solved."""

#: Quantities above this count as a lever being used (units or units per year).
_ON = 1e-6
#: Relative objective difference above which a warm and a cold solve disagree.
_AGREE = 1e-6
#: Most points one range may ask for.
MAX_STEPS = 10_000

FRONTIER_COLUMNS = [
    "level",
    "status",
    "objective",
    "cash_used",
    "expected_loss",
    "cvar",
    "marginal_value",
    "seconds",
    "warm",
    "iterations",
]
GOODS_COLUMNS = [
    "level",
    "good",
    "stock_buy",
    "reserve_total",
    "domestic_capacity",
    "expected_shortfall",
    "worst_shortfall",
    "cash",
]


# --- ranges -----------------------------------------------------------------------------------


def parse_range(text: str) -> np.ndarray:
    """``FROM:TO:STEPS`` as ``STEPS`` evenly spaced values, both ends included.

    ``FROM`` and ``TO`` are amounts of money (``0``, ``250M``, ``1.2bn``, ``2.5e6``) or, when
    either ends in ``%``, shares (``0%:100%:11`` gives 0, 0.1, ..., 1). ``STEPS`` is the number of
    points, a whole number >= 2 (1 only when ``FROM`` equals ``TO``). Raises ``ValueError`` with
    a message saying what was expected.

    >>> parse_range("0:400M:5").tolist()
    [0.0, 100000000.0, 200000000.0, 300000000.0, 400000000.0]
    """
    example = "write FROM:TO:STEPS, e.g. 0:400M:21 (21 levels from 0 to 400M) or 0%:100%:11"
    if not isinstance(text, str):
        raise ValueError(f"expected a range as text; {example}; got {text!r}")
    parts = text.split(":")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise ValueError(f"a range has three parts separated by ':'; {example}; got {text!r}")
    lo_text, hi_text, steps_text = (p.strip() for p in parts)
    share = lo_text.endswith("%") or hi_text.endswith("%")
    parse = parse_share if share else parse_money
    try:
        lo = parse(lo_text)
        hi = parse(hi_text)
    except ValueError as exc:
        raise ValueError(f"in the range {text!r}: {exc}") from None
    try:
        steps = int(steps_text.replace("_", ""))
    except ValueError:
        raise ValueError(
            f"in the range {text!r}: STEPS is the number of levels, a whole number such as 21, "
            f"got {steps_text!r} (a step size is not accepted: 0:400M:21 has steps of 20M)"
        ) from None
    if steps < 1:
        raise ValueError(f"in the range {text!r}: STEPS must be at least 1, got {steps}")
    if steps > MAX_STEPS:
        raise ValueError(
            f"in the range {text!r}: at most {MAX_STEPS:,} levels in one sweep, got {steps:,}"
        )
    if steps == 1 and lo != hi:
        raise ValueError(
            f"in the range {text!r}: one level cannot span {lo_text} to {hi_text}; "
            "use at least 2 STEPS (both ends are included)"
        )
    # 15 significant digits: 0.15, not 0.15000000000000002, in overrides and files
    return np.array([float(f"{v:.15g}") for v in np.linspace(lo, hi, steps)])


def parse_param(text: str) -> tuple[str, np.ndarray]:
    """``key.path=FROM:TO:STEPS`` (the ``--param`` option) as the key path and its values."""
    key, sep, rng = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(
            f"expected key.path=FROM:TO:STEPS, e.g. disruptions.ban.probability=0:20%:11, "
            f"got {text!r}"
        )
    return key.strip(), parse_range(rng)


# --- the result -------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """A sweep's answer.

    ``frontier``: one row per level (``FRONTIER_COLUMNS``): the level (euros for a budget, the
    parameter's value otherwise), solver status, objective, cash used (of the swept budget; of
    all first-stage cash for a parameter sweep), expected loss and CVaR of the shortfall damage,
    the marginal value of the swept budget (of the total budget for a parameter sweep; NaN
    without one), seconds spent on the level, ``warm`` (the solve started from an earlier
    level's basis or solution) and simplex/IPM iterations.

    ``goods``: long format, one row per (level, good) (``GOODS_COLUMNS``).

    ``switches``: ``(level, text)`` at the first level where a lever is used that was not at
    the level before: a stockpile started, a contract signed, a plant built, demand measures
    prepared.

    ``timings`` (seconds, wall clock): ``total_seconds`` (the whole sweep), ``first_seconds``
    (the first level solved, cold, including load and build: about what one ``stockpile run``
    costs), ``ratio`` (total / first), ``warm_solve_seconds_mean`` and ``cold_solve_seconds``
    (the solver call alone, warm levels and cold ones), ``cold_check_seconds`` (spent
    re-solving levels cold to check them), ``levels``, ``warm_levels`` and
    ``cold_checks_in_background``.

    ``cold_checks``: per checked level, both statuses and objectives, their relative
    difference, ``agree`` and the seconds the check took. ``portfolios``: each level's
    ``portfolio.json`` dictionary (not written by :meth:`write`).
    """

    scenario: str
    key: str
    kind: Literal["budget", "param"]
    interface: str
    frontier: pd.DataFrame
    goods: pd.DataFrame
    switches: list[tuple[float, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, Any] = field(default_factory=dict)
    cold_checks: list[dict[str, Any]] = field(default_factory=list)
    portfolios: list[dict] = field(default_factory=list, repr=False)
    is_mip: bool = False
    workers: int = 1
    order: str = "up"
    """The order the levels were solved in: ``down`` (from the top, an LP), ``up`` (a MIP:
    the top first, then from the bottom) or ``any`` (spread over worker processes)."""

    @property
    def label(self) -> str:
        """What was swept, for people: ``total budget``, ``budget line X`` or the key path."""
        if self.kind == "budget":
            if self.key == "budget.total":
                return "total budget"
            return f"budget line {self.key.split('.')[2]}"
        return self.key

    def summary(self) -> dict[str, Any]:
        """``sweep.json``: what was swept, the timings, the checks, the switches, warnings."""
        f = self.frontier
        return {
            "scenario": self.scenario,
            "swept": self.key,
            "kind": self.kind,
            "levels": [float(v) for v in f["level"]],
            "statuses": {s: int(n) for s, n in f["status"].value_counts().items()},
            "interface": self.interface,
            "mip": self.is_mip,
            "workers": self.workers,
            "solve_order": self.order,
            "timings": {k: _round(v) for k, v in self.timings.items()},
            "cold_checks": self.cold_checks,
            "switches": [{"level": float(lv), "lever": text} for lv, text in self.switches],
            "warnings": list(self.warnings),
        }

    def write(self, out_dir: str | Path) -> Path:
        """Write ``frontier.csv``, ``frontier_goods.csv``, ``frontier.png``, ``report.html``
        (the chart and the table on one self-contained page) and ``sweep.json`` into
        ``out_dir`` atomically (complete or not at all)."""
        from optimizer.charts import frontier_png
        from optimizer.results.sweep_report import render_sweep_report
        from optimizer.results.write import dumps_json, write_folder

        png = frontier_png(self)
        summary = self.summary()
        report = render_sweep_report(summary, self.frontier, png, self.label)
        writers = {
            "frontier.csv": lambda p: self.frontier.to_csv(p, index=False, float_format="%.10g"),
            "frontier_goods.csv": lambda p: self.goods.to_csv(p, index=False, float_format="%.10g"),
            "frontier.png": lambda p: p.write_bytes(png),
            "report.html": lambda p: p.write_text(report, encoding="utf-8"),
            "sweep.json": lambda p: p.write_text(dumps_json(summary)),
        }
        return write_folder(Path(out_dir), writers)


def _round(v: Any) -> Any:
    return round(v, 4) if isinstance(v, float) and math.isfinite(v) else v


# --- one level's rows -------------------------------------------------------------------------


@dataclass
class _Level:
    """What one solved level contributes (picklable: workers send these back)."""

    index: int
    level: float
    portfolio: dict
    seconds: float
    solve_seconds: float
    warm: bool
    iterations: int
    cold_check: dict | None = None
    certified: bool | None = None  # LP warm levels: passed the optimality certificate

    @classmethod
    def cold(cls, index: int, level: float, res: RunResult, seconds: float) -> _Level:
        """A level solved cold by a whole ``run`` (``res``) that took ``seconds``."""
        solve = res.solve
        return cls(
            index,
            float(level),
            res.portfolio,
            seconds,
            solve.seconds.get("solve", 0.0),
            False,
            solve.iterations,
        )


def _certificate_note(what: str, cert) -> str:
    """The warning for a warm answer whose optimality certificate failed (``what``: the
    level, as people read it)."""
    return (
        f"{what}: the warm re-solve failed its optimality certificate ({cert.reason}); it was "
        "solved again from scratch"
    )


def _budget_entry(pf: dict, name: str | None) -> dict | None:
    b = pf.get("budget")
    if not b:
        return None
    if name is None or name == "total":
        return b["total"]
    return b["lines"].get(name)


def _frontier_row(lv: _Level, budget_name: str | None, kind: str) -> dict:
    pf = lv.portfolio
    cost = pf.get("cost") or {}
    nan = float("nan")
    entry = _budget_entry(pf, budget_name)
    if kind == "budget":
        cash = entry["used"] if entry else nan
    else:
        cash = cost.get("first_stage_cash", nan)
    mv = nan
    if entry is not None and (kind == "budget" or entry.get("limit") is not None):
        mv = entry["marginal_value"]
    objective = pf.get("objective")
    return {
        "level": lv.level,
        "status": pf["status"],
        "objective": nan if objective is None else objective,
        "cash_used": nan if cash is None else cash,
        "expected_loss": cost.get("expected_loss", nan),
        "cvar": cost.get("cvar", nan),
        "marginal_value": mv,
        "seconds": lv.seconds,
        "warm": lv.warm,
        "iterations": lv.iterations,
    }


def _goods_rows(lv: _Level) -> list[dict]:
    rows = []
    for g, v in (lv.portfolio.get("goods") or {}).items():
        rows.append(
            {
                "level": lv.level,
                "good": g,
                "stock_buy": v["stockpile"]["buy"],
                "reserve_total": float(sum(v["reserve"].values())),
                "domestic_capacity": v["domestic"]["capacity"],
                "expected_shortfall": v["expected_shortfall"],
                "worst_shortfall": v["worst_shortfall"],
                "cash": v["cash"],
            }
        )
    return rows


def levers_on(pf: dict) -> dict[tuple, str]:
    """The first-stage levers a portfolio uses, each with the text naming it."""
    on: dict[tuple, str] = {}
    for g, v in (pf.get("goods") or {}).items():
        if v["stockpile"]["buy"] > _ON:
            on[(g, "stockpile")] = f"{g}: stockpile started"
        for sup, q in v["reserve"].items():
            if q > _ON:
                on[(g, "reserve", sup)] = f"{g}: contract signed with {sup}"
        if v["domestic"]["capacity"] > _ON:
            on[(g, "domestic")] = f"{g}: plant built"
        if v["demand_reduction"].get("prepared"):
            on[(g, "demand_reduction")] = f"{g}: demand measures prepared"
    return on


def find_switches(levels: Sequence[float], portfolios: Sequence[dict]) -> list[tuple[float, str]]:
    """``(level, text)`` for each lever used at a level but not at the previous level with a
    solution (levels in increasing order; the first level has nothing to compare with)."""
    out: list[tuple[float, str]] = []
    prev: dict[tuple, str] | None = None
    for level, pf in zip(levels, portfolios):
        if not pf.get("goods"):
            continue
        on = levers_on(pf)
        if prev is not None:
            out.extend((float(level), text) for key, text in on.items() if key not in prev)
        prev = on
    return out


def _assemble(
    levels_done: list[_Level],
    *,
    scenario: str,
    key: str,
    kind: Literal["budget", "param"],
    budget_name: str | None,
    interface: str,
    is_mip: bool,
    workers: int,
    total_seconds: float,
    warnings: list[str],
    first_seconds: float | None = None,
) -> SweepResult:
    levels_done = sorted(levels_done, key=lambda lv: lv.index)
    frontier = pd.DataFrame(
        [_frontier_row(lv, budget_name, kind) for lv in levels_done], columns=FRONTIER_COLUMNS
    )
    frontier["warm"] = frontier["warm"].astype(bool)
    goods = pd.DataFrame(
        [row for lv in levels_done for row in _goods_rows(lv)], columns=GOODS_COLUMNS
    )
    pfs = [lv.portfolio for lv in levels_done]
    checks = [lv.cold_check for lv in levels_done if lv.cold_check is not None]
    warm_solves = [lv.solve_seconds for lv in levels_done if lv.warm]
    cold_solves = [lv.solve_seconds for lv in levels_done if not lv.warm]
    if first_seconds is None:
        first_seconds = levels_done[0].seconds if levels_done else float("nan")
    first = first_seconds
    timings: dict[str, Any] = {
        "total_seconds": total_seconds,
        "first_seconds": first,
        "ratio": total_seconds / first if first and first > 0 else float("nan"),
        "levels": len(levels_done),
        "warm_levels": len(warm_solves),
        "cold_solve_seconds": float(np.mean(cold_solves)) if cold_solves else float("nan"),
        "warm_solve_seconds_mean": float(np.mean(warm_solves)) if warm_solves else float("nan"),
        "cold_check_seconds": float(sum(c["seconds"] for c in checks)),
        "certified_levels": sum(1 for lv in levels_done if lv.certified),
        "certificate_failures": sum(1 for lv in levels_done if lv.certified is False),
    }
    return SweepResult(
        scenario=scenario,
        key=key,
        kind=kind,
        interface=interface,
        frontier=frontier,
        goods=goods,
        switches=find_switches([lv.level for lv in levels_done], pfs),
        warnings=warnings + [c["warning"] for c in checks if c.get("warning")],
        timings=timings,
        cold_checks=[{k: v for k, v in c.items() if k != "warning"} for c in checks],
        portfolios=pfs,
        is_mip=is_mip,
        workers=workers,
    )


# --- budget sweeps ----------------------------------------------------------------------------


def _source(scenario: str | Path | dict | LoadedScenario) -> str | Path | dict:
    """Something :func:`optimizer.api.run` can load again with overrides."""
    if isinstance(scenario, LoadedScenario):
        return scenario.resolved
    return scenario


def _budget_key(line: str | None) -> tuple[str, str]:
    """(override key path, name in ``budget_rows``) of the total or of one line."""
    if line is None or line == "total":
        return "budget.total", "total"
    return f"budget.lines.{line}.limit", line


def _with_limit(scenario, name: str, level: float):
    """``scenario`` (frozen pydantic) with the limit of budget ``name`` set to ``level``, so
    that each level's portfolio reports its own limit."""
    b = scenario.budget
    if name == "total":
        budget = b.model_copy(update={"total": float(level)})
    else:
        lines = dict(b.lines)
        lines[name] = lines[name].model_copy(update={"limit": float(level)})
        budget = b.model_copy(update={"lines": lines})
    return scenario.model_copy(update={"budget": budget})


def _levels(levels: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.unique(np.asarray(levels, dtype=float))  # sorted, duplicates dropped
    if arr.size == 0:
        raise ValueError("a sweep needs at least one level")
    if not np.all(np.isfinite(arr)):
        raise ValueError("every level of a sweep must be a finite number")
    return arr


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


# --- cold checks ------------------------------------------------------------------------------


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
        root = str(Path(__file__).resolve().parents[1])  # so that `optimizer` imports
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        code = "import sys; from optimizer.sweep import _cold_main; _cold_main(*sys.argv[1:])"
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


# --- one persistent model, many levels --------------------------------------------------------


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
        replace(config, warm_resolves=True),
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


# --- workers ----------------------------------------------------------------------------------

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


def _pool(workers: int, initializer=None, initargs=()):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: a forked child would inherit HiGHS's thread pool in an unknown state
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=initializer,
        initargs=initargs,
    )


def _collect(futures, total: int, progress: Progress | None) -> list:
    from concurrent.futures import as_completed

    out = []
    for n, fut in enumerate(as_completed(futures), start=1):
        out.append(fut.result())
        if progress:
            progress(n, total)
    return out


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


# --- parameter sweeps -------------------------------------------------------------------------


def _split_key(key: str) -> list[str]:
    return [p for p in key.replace("[", ".").replace("]", "").split(".") if p != ""]


def _lookup(data: Any, key: str) -> tuple[bool, Any]:
    """(found, value) of ``key`` (``a.b[0].c`` or ``a.b.0.c``) in plain data."""
    node = data
    for part in _split_key(key):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _format_value(v: float, key: str = "") -> str:
    """A value for an override of ``key``: ``repr`` of the float reads back exactly (YAML or
    the scenario's number parsers); an event rate gets its ``per year``."""
    return override_text(key, v)


def _param_level(src, config: RunConfig, overrides, key: str, index: int, value: float) -> _Level:
    t0 = time.perf_counter()
    res = run(src, config, overrides=(*overrides, f"{key}={_format_value(value, key)}"))
    return _Level.cold(index, value, res, time.perf_counter() - t0)


def _param_levels_warm(
    src, config: RunConfig, overrides, key: str, arr: np.ndarray, progress: Progress | None
) -> tuple[list[_Level], list[str]]:
    """The values of a parameter sweep in increasing order, one persistent HiGHS (direct
    interface) updated in place: each value's model is rebuilt as arrays (load, prepare,
    build: cheap, and done in a thread for the next value while HiGHS, which releases the GIL,
    solves this one), and when it has the shape of the model held, only its changed numbers go
    to HiGHS, which re-solves warm from the previous basis (:meth:`DirectHighs.update`). A
    value whose model has another shape (a parameter that changes the time blocks or the rows),
    and any value of a MIP, is solved cold as a fresh run. Every warm answer is checked
    against its optimality conditions; one that fails is solved again cold and that answer
    kept."""
    from optimizer.data import prepare
    from optimizer.model import build_model

    cfg = replace(config, interface="direct", warm_resolves=True)

    def rebuild(v: float):
        loaded = load(src, (*overrides, f"{key}={_format_value(v, key)}"))
        built = build_model(
            loaded.scenario, prepare(loaded.scenario, compress_time=cfg.compress_time)
        )
        _ = built.lp.matrix, built.lp.cost  # assembled here, in the thread
        return loaded, built

    done: list[_Level] = []
    notes: list[str] = []
    t0 = time.perf_counter()
    held = run(src, cfg, overrides=(*overrides, f"{key}={_format_value(arr[0], key)}"))
    done.append(_Level.cold(0, arr[0], held, time.perf_counter() - t0))
    if progress:
        progress(1, len(arr))
    with ThreadPoolExecutor(max_workers=1) as builder:
        upcoming = builder.submit(rebuild, float(arr[1])) if len(arr) > 1 else None
        for i in range(1, len(arr)):
            t0 = time.perf_counter()
            v = float(arr[i])
            loaded, built = upcoming.result()
            upcoming = builder.submit(rebuild, float(arr[i + 1])) if i + 1 < len(arr) else None
            lv = None
            if not held.model.lp.is_mip and held.solver.update(built.lp):
                t1 = time.perf_counter()
                result = held.solver.solve()
                solve_seconds = time.perf_counter() - t1
                cert = None
                if result.status == "optimal" and result.x is not None:
                    cert = lp_certificate(built.lp, result.x, result.row_dual)
                if cert is not None and not cert.ok:
                    notes.append(_certificate_note(f"{key} = {v:,.6g}", cert))
                else:
                    pf = portfolio(
                        loaded.scenario,
                        built,
                        result,
                        input_sha256=loaded.input_sha256,
                        seconds=dict(result.seconds),
                        interface="direct",
                    )
                    lv = _Level(i, v, pf, 0.0, solve_seconds, True, result.iterations)
                    lv.certified = cert is not None
            if lv is None:  # a MIP, another shape or a failed certificate: a fresh cold run
                held = run(loaded, cfg)
                lv = _Level.cold(i, v, held, 0.0)
            lv.seconds = time.perf_counter() - t0
            done.append(lv)
            if progress:
                progress(i + 1, len(arr))
    return done, notes


def sweep_param(
    scenario: str | Path | dict | LoadedScenario,
    key_path: str,
    values: Sequence[float] | np.ndarray,
    config: RunConfig | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    overrides: Sequence[str] = (),
) -> SweepResult:
    """Solve ``scenario`` with the numeric value at ``key_path`` (``disruptions.ban.probability``,
    ``disruptions.ban.price_multiplier``, ``risk.concentration_cap.share``, list items as
    ``hits[0].severity`` or ``hits.0.severity``) set to each of ``values``.

    Correct first, fast second: the model is **rebuilt** as arrays for every value (a
    parameter may sit anywhere: matrix coefficients, costs, scenario probabilities, the set of
    rows), and only the numbers that changed are handed to the HiGHS instance already holding
    the previous value's model, which re-solves warm (:func:`_param_levels_warm`; an LP on any
    interface but an explicit ``interface="pyomo"``, which rebuilds Pyomo's model and solves
    every value cold, as a MIP does). A value whose model has another shape is solved cold.
    ``workers > 1`` runs values in parallel processes instead (``threads=1`` each, each value
    cold). Budgets are swept faster still by :func:`sweep_budget`.

    The frontier's ``marginal_value`` is that of the total budget (NaN without one);
    ``cash_used`` is all first-stage cash. Raises ``ValueError`` when the value at
    ``key_path`` exists and is not a number, and
    :class:`~optimizer.scenario.errors.ScenarioError` when a value is out of range (a
    probability above 100 %, say).
    """
    config = config or RunConfig()
    src = _source(scenario)
    overrides = tuple(overrides)
    key = key_path.strip()
    if not key or "=" in key:
        raise ValueError(f"expected a key path such as disruptions.ban.probability, got {key!r}")
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError("a parameter sweep needs one or more finite values")
    arr = np.unique(arr)
    base = load(src, overrides)
    found, current = _lookup(base.resolved, key)
    if (
        found
        and current is not None
        and (isinstance(current, (bool, dict, list)) or not isinstance(current, (int, float)))
        and not (is_rate_key(key) and isinstance(current, str))  # "0.4 per year"
    ):
        raise ValueError(
            f"{key} is not a number in this scenario (it is {current!r}); --param sweeps "
            "numeric values only"
        )

    t0 = time.perf_counter()
    notes: list[str] = []
    if workers > 1 and len(arr) > 1:
        cfg = replace(config, threads=1, warm_resolves=True)
        with _pool(min(workers, len(arr))) as ex:
            futures = [
                ex.submit(_param_level, src, cfg, overrides, key, i, float(v))
                for i, v in enumerate(arr)
            ]
            done = _collect(futures, len(arr), progress)
    elif config.interface != "pyomo":
        done, notes = _param_levels_warm(src, config, overrides, key, arr, progress)
    else:
        done = []
        for i, v in enumerate(arr):
            done.append(_param_level(src, config, overrides, key, i, float(v)))
            if progress:
                progress(i + 1, len(arr))
    is_mip = any(
        (pf.get("solver") or {}).get("model", {}).get("integer_variables", 0) > 0
        for pf in (lv.portfolio for lv in done)
    )
    result = _assemble(
        done,
        scenario=base.scenario.name,
        key=key,
        kind="param",
        budget_name="total",
        interface=(done[0].portfolio.get("solver") or {}).get("interface", config.interface),
        is_mip=is_mip,
        workers=workers,
        total_seconds=time.perf_counter() - t0,
        warnings=[w.format() for w in base.warnings] + notes,
    )
    result.order = "any" if workers > 1 and len(arr) > 1 else "up"
    return result


# --- progress for the command line ------------------------------------------------------------


class ProgressBar:
    """``progress(done, total)`` drawing a rich progress bar with the time remaining, shown only
    once the sweep has run for ``delay`` seconds (short sweeps print nothing)."""

    def __init__(self, console, description: str = "sweeping", delay: float = 2.0):
        self.console = console
        self.description = description
        self.delay = delay
        self.start = time.perf_counter()
        self._bar = None
        self._task = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if time.perf_counter() - self.start < self.delay or done >= total:
                return
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("remaining"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=total, completed=0)
        self._bar.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False
