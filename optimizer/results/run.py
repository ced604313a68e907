"""One run's result: what each stage produced, and the files it writes.

:class:`RunResult` lives in the results stage, the stage that produces it, so that the
report and workbook writers (``report.py``, ``excel.py``) take it without importing a front.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.data import ModelData
from optimizer.model import BuiltModel
from optimizer.results.portfolio import (
    goods_table,
    period_table,
    reserves_table,
    supply_shares_table,
)
from optimizer.results.scenario_detail import (
    FULL_DETAIL_MAX_FUTURES,
    future_totals,
    written_detail,
)
from optimizer.results.write import dumps_json, write_csv, write_folder, write_large_csv
from optimizer.scenario.loader import LoadedScenario
from optimizer.solve import SolveResult


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
    def scenario_totals(self) -> pd.DataFrame:
        """``scenarios.csv`` at ``totals``: one row per (future, good), the period columns
        summed over the window, with loss and operating cost in euros
        (:func:`optimizer.results.scenario_detail.future_totals`)."""
        if self.solve.x is None:
            return pd.DataFrame()
        return future_totals(self.model, self.solve.x)

    @cached_property
    def goods(self) -> pd.DataFrame:
        return goods_table(self.portfolio)

    @cached_property
    def supply_shares(self) -> pd.DataFrame:
        """``supply_shares.csv``: one row per good and country, shares before and after."""
        return supply_shares_table(self.portfolio)

    @cached_property
    def reserves(self) -> pd.DataFrame:
        """``reserves.csv``: one row per good and supplier with a reserve option."""
        return reserves_table(self.portfolio, self.loaded.resolved)

    def writers(
        self,
        formats: tuple[str, ...] = ("json", "csv", "yaml", "html", "xlsx"),
        scenario_detail: str = "auto",
    ) -> dict[str, Callable[[Path], None]]:
        """File name -> the function writing it, for the formats asked (``json``
        portfolio.json, ``csv`` portfolio.csv, scenarios.csv, supply_shares.csv and
        reserves.csv, ``yaml`` resolved.yaml,
        ``html`` report.html, ``xlsx`` portfolio.xlsx).

        ``scenario_detail`` (``auto``, ``full`` or ``totals``; ``output.scenario_detail``)
        chooses the rows of scenarios.csv (:mod:`optimizer.results.scenario_detail`); the
        choice made is recorded in ``portfolio["scenario_detail"]``."""
        detail = written_detail(scenario_detail, self.data.K)
        self.portfolio["scenario_detail"] = {
            "asked": scenario_detail,
            "written": detail if "csv" in formats else None,
            "futures": int(self.data.K),
            "full_up_to_futures": FULL_DETAIL_MAX_FUTURES,
        }
        writers = {}
        if "json" in formats:
            writers["portfolio.json"] = lambda p: p.write_text(
                dumps_json(self.portfolio), encoding="utf-8"
            )
        if "csv" in formats:
            writers["portfolio.csv"] = lambda p: write_csv(self.goods, p)
            table = (lambda: self.periods) if detail == "full" else (lambda: self.scenario_totals)
            writers["scenarios.csv"] = lambda p: write_large_csv(table(), p)
            writers["supply_shares.csv"] = lambda p: write_csv(self.supply_shares, p)
            writers["reserves.csv"] = lambda p: write_csv(self.reserves, p)
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
        scenario_detail: str = "auto",
    ) -> Path:
        """Write the results folder atomically (see ``results.md``); ``scenario_detail`` as in
        :meth:`writers`."""
        return write_folder(Path(out), self.writers(formats, scenario_detail))
