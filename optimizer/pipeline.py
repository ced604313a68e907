"""One run through the stages, in order: ``scenario -> data -> model -> solve -> results``.

:func:`run` loads, prepares, builds, solves and summarises one scenario and returns a
:class:`~optimizer.results.run.RunResult`; :class:`RunConfig` says how it is solved. The
studies (sweeps, batches) call :func:`run` many times; ``optimizer.api`` re-exports all three
for user code. Nothing here computes anything of its own: each concept lives in its stage.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.config import Config
from optimizer.data import ModelData, prepare
from optimizer.model import BuiltModel, build_model
from optimizer.model.size import check_size, decomposed_estimate, estimate_size, size_warning
from optimizer.results import portfolio
from optimizer.results.portfolio import baseline_summary
from optimizer.results.run import RunResult
from optimizer.scenario.loader import LoadedScenario, load_scenario, load_scenario_dict
from optimizer.solve import PYOMO_MAX_COLUMNS, SolverOptions, choose_interface, make_solver
from optimizer.solve.base import Interface, SolveResult
from optimizer.solve.baseline import solve_doing_nothing
from optimizer.solve.decomposed import DecompositionOptions, solve_decomposed
from optimizer.solve.decomposition_choice import (
    AUTO_MIN_COLUMNS_MIP,
    choose_method,
    may_decompose,
)


@dataclass(frozen=True)
class RunConfig:
    """How one run is solved. ``time_limit`` in seconds (None: none); ``mip_gap`` relative;
    ``pricing``: an LP's dual simplex pricing (``devex``, ``steepest_edge`` or ``choose``);
    ``warm_resolves``: an LP will be re-solved warm many times after this run (a sweep sets
    it; see :data:`optimizer.solve.base.WARM_RESOLVE_OPTIONS`)."""

    compress_time: bool = True
    mip_gap: float = 1e-4
    time_limit: float | None = None
    threads: int = 0
    interface: Interface = "auto"
    pyomo_max_columns: int = PYOMO_MAX_COLUMNS
    algorithm: str = "choose"
    pricing: str = "devex"
    presolve: bool = True
    log: bool = False
    warm_resolves: bool = False
    method: str = "auto"
    """``auto | extensive | decomposed`` (``solver.method`` in config.yaml); a run re-solved
    warm (``warm_resolves``) is always extensive."""
    workers: int = 1
    """Local processes for a decomposed run's subproblems (1: this process, no Dask);
    ``from_config`` turns ``solver.workers: 0`` into one per core. A script that sets it above
    1 needs the usual ``if __name__ == "__main__":`` guard of Python's process start."""
    scheduler: str | None = None
    """An existing Dask scheduler (``tcp://HOST:PORT``) for a decomposed run's subproblems;
    ``workers`` is then ignored."""
    baseline: bool = True
    """Also solve the scenario with no lever (``portfolio.json``'s ``baseline``: the cost of
    doing nothing), one extra solve; sweeps turn it off."""
    baseline_max_columns: int = 200_000
    """Above this many columns the baseline is skipped (and ``baseline`` says so)."""
    large_model_ok: bool = False
    """Solve a model estimated above a quarter of the machine's memory (``--yes``); one that
    cannot fit is refused whatever this says (:mod:`optimizer.model.size`)."""

    @classmethod
    def from_config(cls, cfg: Config, **overrides: Any) -> RunConfig:
        s = cfg.solver
        values = dict(
            compress_time=cfg.model.compress_time,
            mip_gap=s.mip_gap,
            time_limit=s.time_limit,
            threads=s.threads,
            interface=s.interface,
            method=s.method,
            workers=s.workers or os.cpu_count() or 1,
            pyomo_max_columns=s.pyomo_max_columns,
            algorithm=s.algorithm,
            pricing=s.pricing,
            presolve=s.presolve,
            log=s.log,
        )
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def solver_options(self, is_mip: bool = False) -> SolverOptions:
        """The HiGHS settings; ``pricing`` and ``warm_resolves`` apply to an LP only (a MIP
        keeps HiGHS's own pricing, which these measurements did not cover)."""
        return SolverOptions(
            time_limit=self.time_limit,
            mip_gap=self.mip_gap,
            threads=self.threads,
            algorithm=self.algorithm,
            presolve=self.presolve,
            log=self.log,  # type: ignore[arg-type]
            pricing="choose" if is_mip else self.pricing,  # type: ignore[arg-type]
            warm_resolves=self.warm_resolves and not is_mip,
        )


def load(
    scenario: str | Path | dict | LoadedScenario, overrides: tuple[str, ...] | list[str] = ()
) -> LoadedScenario:
    """Read and validate a scenario given as a path, a dict or an already loaded scenario."""
    if isinstance(scenario, LoadedScenario):
        return scenario
    if isinstance(scenario, dict):
        return load_scenario_dict(scenario, overrides=overrides)
    return load_scenario(scenario, overrides=overrides)


def run(
    scenario: str | Path | dict | LoadedScenario,
    config: RunConfig | None = None,
    overrides: tuple[str, ...] | list[str] = (),
    on_note: Callable[[str], None] | None = None,
) -> RunResult:
    """Load, prepare, build, solve and summarise one scenario.

    Raises :class:`~optimizer.scenario.errors.ScenarioError` for a bad scenario, and
    :class:`~optimizer.model.size.ModelTooLarge` before any array is built when the model's
    estimated memory cannot fit the machine (or is above a quarter of it without
    ``config.large_model_ok``); ``on_note`` receives a line when a large model is solved anyway.
    A solve that does not end optimal is *not* raised: check ``result.status``.
    """
    config = config or RunConfig()
    asked = "extensive" if config.warm_resolves else config.method
    loaded, data, built, seconds, (method, why) = _build(
        scenario, config, overrides, on_note, asked
    )
    solver = None
    if method == "decomposed":
        interface = "decomposed"
        result = solve_decomposed(
            built,
            config.solver_options(built.lp.is_mip),
            decomposition=DecompositionOptions(workers=config.workers, scheduler=config.scheduler),
            scenario=loaded.scenario,
        )
        seconds.update(result.seconds)
    else:
        interface = choose_interface(built.lp, config.interface, config.pyomo_max_columns)
        t = time.perf_counter()
        solver = make_solver(built.lp, config.solver_options(built.lp.is_mip), interface)
        setup = time.perf_counter() - t
        result = solver.solve()
        _solve_seconds(seconds, result, interface, setup)
    return _finish(loaded, data, built, result, config, seconds, interface, solver, method, why)


def _build(
    scenario: str | Path | dict | LoadedScenario,
    config: RunConfig,
    overrides: tuple[str, ...] | list[str],
    on_note: Callable[[str], None] | None,
    asked: str = "extensive",
) -> tuple[LoadedScenario, ModelData, BuiltModel, dict[str, float], tuple[str, str]]:
    """The stages before the solve: load, check the size, prepare, build (seconds of each),
    and the solution method for ``asked`` (``auto``, ``extensive``, ``decomposed``) with why.
    A model that will be decomposed is built as a layout only (no matrix)."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    loaded = load(scenario, overrides)
    seconds["load"] = time.perf_counter() - t

    estimate = estimate_size(loaded.scenario)
    if may_decompose(loaded.scenario, asked, estimate.columns):
        estimate = decomposed_estimate(estimate)  # built chunk by chunk, never whole
    check_size(estimate, yes=config.large_model_ok)
    note = size_warning(estimate)
    if note and on_note is not None:
        on_note(note)

    t = time.perf_counter()
    data = prepare(loaded.scenario, compress_time=config.compress_time)
    seconds["prepare"] = time.perf_counter() - t

    t = time.perf_counter()
    # a model that may be decomposed is built as a layout first: the decomposition builds its
    # chunks of futures from the data, never the whole matrix (docs/model.md, "Decomposition")
    # (from the lower, MIP threshold: the estimate's columns are an upper bound, and
    # choose_method then reads the layout's own count and whether it has integer columns)
    layout = asked == "decomposed" or (asked == "auto" and estimate.columns >= AUTO_MIN_COLUMNS_MIP)
    built = build_model(loaded.scenario, data, layout_only=layout)
    method, why = choose_method(built, asked, scenario=loaded.scenario if layout else None)
    if layout and method != "decomposed":
        built = build_model(loaded.scenario, data)
    if method != "decomposed":
        _ = built.lp.matrix  # assemble the sparse matrix here, so that it is timed as build
    seconds["build"] = time.perf_counter() - t
    return loaded, data, built, seconds, (method, why)


def _solve_seconds(
    seconds: dict[str, float], result: SolveResult, interface: str, setup: float
) -> None:
    """Add a solve's own times to ``seconds``, and ``solver_setup``: importing the interface
    and creating the solver, beyond the model's own hand-over."""
    for key, value in result.seconds.items():
        seconds[key if key != "build" else "pyomo_build"] = value
    own = result.seconds.get("build", 0.0) if interface == "pyomo" else seconds.get("hand_over", 0)
    seconds["solver_setup"] = max(0.0, setup - own)


def _finish(
    loaded: LoadedScenario,
    data: ModelData,
    built: BuiltModel,
    result: SolveResult,
    config: RunConfig,
    seconds: dict[str, float],
    interface: str,
    solver: Any,
    method: str = "extensive",
    why: str = "",
) -> RunResult:
    """The results stage: the portfolio (and its baseline) of a solved model."""
    t = time.perf_counter()
    pf = portfolio(
        loaded.scenario,
        built,
        result,
        input_sha256=loaded.input_sha256,
        seconds=seconds,
        interface=interface,
    )
    seconds["results"] = time.perf_counter() - t
    pf["solver"]["method"] = {"used": method, "why": why}
    if method == "decomposed":
        pf["solver"]["method"].update(
            lower_bound=result.lower_bound,
            upper_bound=result.upper_bound,
            gap=result.gap,
            master_iterations=result.master_iterations,
            workers=result.workers,
        )
    if config.baseline and result.has_solution:
        t = time.perf_counter()
        pf["baseline"] = _baseline(loaded, built, config, pf.get("objective"))
        seconds["baseline"] = time.perf_counter() - t
    pf["solver"]["times"] = {k: round(v, 4) for k, v in seconds.items()}
    return RunResult(loaded, data, built, result, pf, seconds, solver)


def _baseline(loaded: LoadedScenario, built, config: RunConfig, objective) -> dict:
    """The portfolio's baseline "against doing nothing" (see :mod:`optimizer.solve.baseline`),
    or why it was skipped."""
    n = built.lp.n_cols
    if n > config.baseline_max_columns:
        return {
            "status": "skipped",
            "reason": f"the model has {n:,} columns, over {config.baseline_max_columns:,}: "
            "the extra solve was not spent",
        }
    if built.lp.layout_only:  # decomposed from the data: the baseline needs the whole LP
        built = build_model(loaded.scenario, built.data)
    base = solve_doing_nothing(built, config.solver_options(is_mip=False))
    return baseline_summary(loaded.scenario, built, base, objective)


class PyomoModel:
    """One scenario's model as a Pyomo ``ConcreteModel``, for user code that adds its own
    constraints before solving (see :func:`pyomo_model` and ``examples/pyomo_constraint.py``).

    ``model`` mirrors the model block by block: one indexed ``Var`` per variable block
    (``model.buy``, ``model.reserve``, ``model.build``, ...) and one indexed ``Constraint`` per
    constraint block (``model.budget_total``, ``model.demand_balance``, ...); rows are scaled
    by exact powers of two, which changes no solution. :meth:`cash` gives first-stage cash (euros
    over the window) as a Pyomo expression, so a policy rule needs no column arithmetic.
    :meth:`solve` solves ``model`` as it stands (with your constraints) through HiGHS and
    returns the usual :class:`RunResult` (``portfolio``, tables, ``write``).
    """

    def __init__(
        self,
        loaded: LoadedScenario,
        data: ModelData,
        built: BuiltModel,
        config: RunConfig,
        seconds: dict[str, float],
    ):
        from optimizer.solve.pyomo_backend import PyomoHighs

        self.loaded, self.data, self.built, self.config = loaded, data, built, config
        self.seconds = seconds
        t = time.perf_counter()
        self.solver = PyomoHighs(built.lp, config.solver_options(built.lp.is_mip))
        self._setup = time.perf_counter() - t
        self.model = self.solver.model
        self.columns = self.solver.columns
        """The Pyomo variables in the model's column order."""

    def cash(self, good: str | None = None, lever: str | None = None):
        """First-stage cash over the window in euros, as a Pyomo linear expression: of one
        ``good`` (a key of ``goods:``) and/or one ``lever`` (``stockpile``, ``reserve``,
        ``domestic``, ``demand_reduction``), or all of it. The same cash the budget rows
        limit and ``portfolio.json`` reports (``goods.<g>.cash_by_lever``)."""
        import numpy as np
        from pyomo.core.expr.numeric_expr import LinearExpression

        from optimizer.model.terms import LEVERS

        cols, coefs, goods, levers = self.built.cash.arrays()
        keep = np.ones(len(cols), dtype=bool)
        rows: slice | int = slice(None)  # of the constant cash, (goods, levers)
        lever_col: slice | int = slice(None)
        if good is not None:
            if good not in self.data.goods:
                raise KeyError(f"no good {good!r}; the goods are {', '.join(self.data.goods)}")
            rows = self.data.goods.index(good)
            keep &= goods == rows
        if lever is not None:
            if lever not in LEVERS:
                raise KeyError(f"no lever {lever!r}; the levers are {', '.join(LEVERS)}")
            lever_col = LEVERS.index(lever)
            keep &= levers == lever_col
        constant = self.built.cash.constant
        fixed = 0.0 if constant is None else float(np.sum(constant[rows, lever_col]))
        return LinearExpression(
            constant=fixed,
            linear_coefs=coefs[keep].tolist(),
            linear_vars=[self.columns[j] for j in cols[keep]],
        )

    def solve(self) -> RunResult:
        """Solve ``model`` as it stands now, your constraints included, through HiGHS (Pyomo's
        contrib interface); the portfolio and its baseline as :func:`run` gives them, and the
        variables of ``model`` hold the solution. Can be called again after further changes."""
        self.solver.reload()
        result = self.solver.solve()
        if result.x is not None:  # the values into the model too, for user code to read
            for var, value in zip(self.columns, result.x.tolist()):
                var.set_value(value, skip_validation=True)
        seconds = dict(self.seconds)
        _solve_seconds(seconds, result, "pyomo", self._setup)
        return _finish(self.loaded, self.data, self.built, result, self.config, seconds,
                       "pyomo", self.solver)  # fmt: skip

    def result_from_values(self, objective: float | None = None) -> RunResult:
        """The portfolio of the values the model's variables hold now, after you solved
        ``model`` with a Pyomo solver of your own (e.g. ``SolverFactory("appsi_highs")``).
        ``objective``: the solver's objective (default: the model's objective evaluated at the
        values). Marginal values (duals) are not read: ``portfolio.json`` leaves them empty."""
        import numpy as np
        import pyomo.environ as pyo

        x = np.array([0.0 if v.value is None else float(v.value) for v in self.columns])
        value = float(pyo.value(self.model.objective)) if objective is None else objective
        result = SolveResult("optimal", "values read from the Pyomo model", True, value, value,
                             0.0, x)  # fmt: skip
        return _finish(self.loaded, self.data, self.built, result, self.config,
                       dict(self.seconds), "pyomo", None)  # fmt: skip


def pyomo_model(
    scenario: str | Path | dict | LoadedScenario,
    config: RunConfig | None = None,
    overrides: tuple[str, ...] | list[str] = (),
) -> PyomoModel:
    """The scenario's model built as a Pyomo ``ConcreteModel`` (``.model``), ready for your own
    constraints; ``.solve()`` then returns a :class:`RunResult` like :func:`run`'s.

    >>> pm = pyomo_model("scenarios/critical_raw_materials.yaml")
    >>> pm.model.at_least_a_fifth_domestic = pyo.Constraint(
    ...     expr=pm.cash(lever="domestic") >= 0.2 * pm.cash())
    >>> result = pm.solve()

    Raises what :func:`run` raises for a bad scenario. Always the extensive model (one LP/MIP
    holding every future), whatever ``config.method`` says.
    """
    config = config or RunConfig()
    loaded, data, built, seconds, _ = _build(scenario, config, overrides, None)
    return PyomoModel(loaded, data, built, config, seconds)
