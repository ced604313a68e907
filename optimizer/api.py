"""The thin front: run the stages in order and keep what each produced.

``scenario -> data -> model -> solve -> results``. Nothing here computes anything of its own;
each concept lives in its stage's module.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.config import Config
from optimizer.data import ModelData, prepare
from optimizer.model import BuiltModel, build_model
from optimizer.results import (
    dumps_json,
    goods_table,
    period_table,
    portfolio,
    write_csv,
    write_folder,
    write_large_csv,
)
from optimizer.scenario.loader import LoadedScenario, load_scenario, load_scenario_dict
from optimizer.solve import SolveResult, SolverOptions, choose_interface, make_solver
from optimizer.solve.base import Interface


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

    @classmethod
    def from_config(cls, cfg: Config, **overrides: Any) -> RunConfig:
        s = cfg.solver
        values = dict(
            compress_time=cfg.model.compress_time,
            mip_gap=s.mip_gap,
            time_limit=s.time_limit,
            threads=s.threads,
            interface=s.interface,
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


@dataclass
class RunResult:
    """Everything one run produced. ``portfolio`` is the ``portfolio.json`` dictionary;
    ``periods`` the ``scenarios.csv`` table (built on first use)."""

    loaded: LoadedScenario
    data: ModelData
    model: BuiltModel
    solve: SolveResult
    portfolio: dict
    seconds: dict[str, float] = field(default_factory=dict)
    solver: Any = None

    @property
    def status(self) -> str:
        return self.solve.status

    @property
    def objective(self) -> float | None:
        return self.solve.objective

    @cached_property
    def periods(self) -> pd.DataFrame:
        if self.solve.x is None:
            return pd.DataFrame()
        return period_table(self.model, self.solve.x)

    @cached_property
    def goods(self) -> pd.DataFrame:
        return goods_table(self.portfolio)

    def writers(
        self, formats: tuple[str, ...] = ("json", "csv", "yaml", "html", "xlsx")
    ) -> dict[str, Callable[[Path], None]]:
        """File name -> the function writing it, for the formats asked (``json``
        portfolio.json, ``csv`` portfolio.csv and scenarios.csv, ``yaml`` resolved.yaml,
        ``html`` report.html, ``xlsx`` portfolio.xlsx)."""
        writers = {}
        if "json" in formats:
            writers["portfolio.json"] = lambda p: p.write_text(
                dumps_json(self.portfolio), encoding="utf-8"
            )
        if "csv" in formats:
            writers["portfolio.csv"] = lambda p: write_csv(self.goods, p)
            writers["scenarios.csv"] = lambda p: write_large_csv(self.periods, p)
        if "yaml" in formats:
            writers["resolved.yaml"] = lambda p: p.write_text(
                self.loaded.resolved_yaml, encoding="utf-8"
            )
        if "html" in formats:
            from optimizer.results.report import write_report

            writers["report.html"] = lambda p: write_report(self, p)
        if "xlsx" in formats:
            from optimizer.results.excel import write_portfolio_xlsx

            writers["portfolio.xlsx"] = lambda p: write_portfolio_xlsx(self, p)
        return writers

    def write(
        self,
        out: str | Path,
        formats: tuple[str, ...] = ("json", "csv", "yaml", "html", "xlsx"),
    ) -> Path:
        """Write the results folder atomically (see ``results.md``)."""
        return write_folder(Path(out), self.writers(formats))


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
) -> RunResult:
    """Load, prepare, build, solve and summarise one scenario.

    Raises :class:`~optimizer.scenario.errors.ScenarioError` for a bad scenario. A solve that
    does not end optimal is *not* raised: check ``result.status``.
    """
    config = config or RunConfig()
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    loaded = load(scenario, overrides)
    seconds["load"] = time.perf_counter() - t

    t = time.perf_counter()
    data = prepare(loaded.scenario, compress_time=config.compress_time)
    seconds["prepare"] = time.perf_counter() - t

    t = time.perf_counter()
    built = build_model(loaded.scenario, data)
    _ = built.lp.matrix  # assemble the sparse matrix here, so that it is timed as build
    seconds["build"] = time.perf_counter() - t

    interface = choose_interface(built.lp, config.interface, config.pyomo_max_columns)
    t = time.perf_counter()
    solver = make_solver(built.lp, config.solver_options(built.lp.is_mip), interface)
    setup = time.perf_counter() - t
    result = solver.solve()
    for key, value in result.seconds.items():
        seconds[key if key != "build" else "pyomo_build"] = value
    # importing the interface and creating the solver, beyond the model's own build/hand-over
    own = result.seconds.get("build", 0.0) if interface == "pyomo" else seconds.get("hand_over", 0)
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
    pf["solver"]["times"] = {k: round(v, 4) for k, v in seconds.items()}
    return RunResult(loaded, data, built, result, pf, seconds, solver)
