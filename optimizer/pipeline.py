"""One run through the stages, in order: ``scenario -> data -> model -> solve -> results``.

:func:`run` loads, prepares, builds, solves and summarises one scenario and returns a
:class:`~optimizer.results.run.RunResult`; :class:`RunConfig` says how it is solved. The
studies (sweeps, batches) call :func:`run` many times; ``optimizer.api`` re-exports all three
for user code. Nothing here computes anything of its own: each concept lives in its stage.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from optimizer.config import Config
from optimizer.data import prepare
from optimizer.model import build_model
from optimizer.model.size import check_size, decomposed_estimate, estimate_size, size_warning
from optimizer.results import portfolio
from optimizer.results.portfolio import baseline_summary
from optimizer.results.run import RunResult
from optimizer.scenario.loader import LoadedScenario, load_scenario, load_scenario_dict
from optimizer.solve import SolverOptions, choose_interface, make_solver
from optimizer.solve.base import Interface
from optimizer.solve.baseline import solve_doing_nothing
from optimizer.solve.decomposed import (
    AUTO_MIN_FUTURES,
    choose_method,
    may_decompose,
    solve_decomposed,
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
    pyomo_max_columns: int = 50_000
    algorithm: str = "choose"
    pricing: str = "devex"
    presolve: bool = True
    log: bool = False
    warm_resolves: bool = False
    method: str = "auto"
    """``auto | extensive | decomposed`` (``solver.method`` in config.yaml); a run re-solved
    warm (``warm_resolves``) is always extensive."""
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
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    loaded = load(scenario, overrides)
    seconds["load"] = time.perf_counter() - t

    estimate = estimate_size(loaded.scenario)
    asked = "extensive" if config.warm_resolves else config.method
    if may_decompose(loaded.scenario, asked, estimate.futures):
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
    layout = asked == "decomposed" or (asked == "auto" and data.K >= AUTO_MIN_FUTURES)
    built = build_model(loaded.scenario, data, layout_only=layout)
    method, why = choose_method(built, asked, scenario=loaded.scenario if layout else None)
    if layout and method != "decomposed":
        built = build_model(loaded.scenario, data)
    if method != "decomposed":
        _ = built.lp.matrix  # assemble the sparse matrix here, so that it is timed as build
    seconds["build"] = time.perf_counter() - t

    solver = None
    if method == "decomposed":
        interface = "decomposed"
        result = solve_decomposed(
            built, config.solver_options(built.lp.is_mip), scenario=loaded.scenario
        )
        seconds.update(result.seconds)
    else:
        interface = choose_interface(built.lp, config.interface, config.pyomo_max_columns)
        t = time.perf_counter()
        solver = make_solver(built.lp, config.solver_options(built.lp.is_mip), interface)
        setup = time.perf_counter() - t
        result = solver.solve()
        for key, value in result.seconds.items():
            seconds[key if key != "build" else "pyomo_build"] = value
        # importing the interface and creating the solver, beyond the model's own hand-over
        own = (
            result.seconds.get("build", 0.0)
            if interface == "pyomo"
            else seconds.get("hand_over", 0)
        )
        seconds["solver_setup"] = max(0.0, setup - own)

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
