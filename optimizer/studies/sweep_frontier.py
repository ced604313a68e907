"""A sweep's answer: :class:`SweepResult` and how it is assembled from the solved levels.

One :class:`_Level` per solved level becomes a row of ``frontier`` (``FRONTIER_COLUMNS``), rows
of ``goods`` (``GOODS_COLUMNS``) and, where a lever switches on, an entry of ``switches``.
:meth:`SweepResult.write` writes the sweep's results folder.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from optimizer.results.run import RunResult

#: Quantities above this count as a lever being used (units or units per year).
_ON = 1e-6


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
    "portfolio_cash",
    "average_value",
    "binding",
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


@dataclass
class SweepResult:
    """A sweep's answer.

    ``frontier``: one row per level (``FRONTIER_COLUMNS``): the level (euros for a budget, the
    parameter's value otherwise), solver status, objective, cash used (of the swept budget; of
    all first-stage cash for a parameter sweep), expected loss and CVaR of the shortfall damage,
    the marginal value of the swept budget (of the total budget for a parameter sweep; NaN
    without one), seconds spent on the level, ``warm`` (the solve started from an earlier
    level's basis or solution) and simplex/IPM iterations; then ``portfolio_cash`` (all
    first-stage cash of the portfolio, euros: for a budget line's sweep ``cash_used`` is that
    line's own cash), ``average_value`` (euros of objective saved per euro between the previous
    solved level and this one: ``(objective before - objective) / (level - level before)``; NaN
    for the first level and for a parameter sweep) and ``binding`` (the budgets that bind at the
    level, ``total`` and line names joined by ``;``, empty when none does).

    ``goods``: long format, one row per (level, good) (``GOODS_COLUMNS``).

    ``switches``: ``(level, text)`` at the first level where a lever is used that was not at
    the level before: a stockpile started, a contract signed, a plant built, demand measures
    prepared. ``switches_off``: ``(level, text)`` where a lever used at the level before is
    not used any more (a contract dropped when money moves to a better buy).

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
    switches_off: list[tuple[float, str]] = field(default_factory=list)
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
            "switches_off": [{"level": float(lv), "lever": text} for lv, text in self.switches_off],
            "budgets": [_budgets_at(float(lv), pf) for lv, pf in zip(f["level"], self.portfolios)],
            "warnings": list(self.warnings),
        }

    def write(self, out_dir: str | Path) -> Path:
        """Write ``frontier.csv``, ``frontier_goods.csv``, ``frontier.png``, ``report.html``
        (the chart and the table on one self-contained page) and ``sweep.json`` into
        ``out_dir`` atomically (complete or not at all)."""
        from optimizer.results.charts.sweep import frontier_png
        from optimizer.results.sweep_report import render_sweep_report
        from optimizer.results.write import dumps_json, write_csv, write_folder

        png = frontier_png(self)
        summary = self.summary()
        report = render_sweep_report(summary, self.frontier, png, self.label)
        writers = {
            "frontier.csv": lambda p: write_csv(self.frontier, p, float_format="%.10g"),
            "frontier_goods.csv": lambda p: write_csv(self.goods, p, float_format="%.10g"),
            "frontier.png": lambda p: p.write_bytes(png),
            "report.html": lambda p: p.write_text(report, encoding="utf-8"),
            "sweep.json": lambda p: p.write_text(dumps_json(summary)),
        }
        return write_folder(Path(out_dir), writers)


def _budgets_at(level: float, pf: dict) -> dict[str, Any]:
    """``sweep.json``'s ``budgets`` entry of one level: each budget (``total`` and the lines)
    with its limit and cash used (euros) and its marginal value (euros per euro)."""
    b = pf.get("budget") or {}
    rows = {"total": b.get("total"), **(b.get("lines") or {})}
    return {
        "level": level,
        "budgets": {
            name: {k: e.get(k) for k in ("limit", "used", "marginal_value")}
            for name, e in rows.items()
            if e is not None and (name != "total" or e.get("limit") is not None)
        },
    }


def binding_budgets(pf: dict) -> list[str]:
    """The budgets (``total``, line names) that bind in portfolio ``pf``: a limit whose
    marginal value is positive (an extra euro there lowers the objective)."""
    b = pf.get("budget") or {}
    rows = {"total": b.get("total"), **(b.get("lines") or {})}
    return [
        name
        for name, e in rows.items()
        if e is not None
        and e.get("limit") is not None
        and (e.get("marginal_value") or 0.0) > _BINDS
    ]


#: A marginal value above this (euros per euro) counts as a budget binding.
_BINDS = 1e-9


def _round(v: Any) -> Any:
    return round(v, 4) if isinstance(v, float) and math.isfinite(v) else v


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
        "portfolio_cash": cost.get("first_stage_cash", nan),
        "average_value": nan,
        "binding": ";".join(binding_budgets(pf)),
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


def levers_on(pf: dict, off: bool = False) -> dict[tuple, str]:
    """The first-stage levers a portfolio uses, each with the text naming it (with
    ``off=True``, the text saying it is no longer used)."""
    on: dict[tuple, str] = {}
    for g, v in (pf.get("goods") or {}).items():
        if v["stockpile"]["buy"] > _ON:
            on[(g, "stockpile")] = f"{g}: " + ("no stock bought" if off else "stockpile started")
        for sup, q in v["reserve"].items():
            if q > _ON:
                text = f"contract with {sup} dropped" if off else f"contract signed with {sup}"
                on[(g, "reserve", sup)] = f"{g}: {text}"
        if v["domestic"]["capacity"] > _ON:
            on[(g, "domestic")] = f"{g}: " + ("no plant built" if off else "plant built")
        if v["demand_reduction"].get("prepared"):
            text = "demand measures not prepared" if off else "demand measures prepared"
            on[(g, "demand_reduction")] = f"{g}: {text}"
    return on


def find_switches(
    levels: Sequence[float], portfolios: Sequence[dict], off: bool = False
) -> list[tuple[float, str]]:
    """``(level, text)`` for each lever used at a level but not at the previous level with a
    solution (levels in increasing order; the first level has nothing to compare with). With
    ``off=True``: each lever used at the previous level with a solution and not at this one."""
    out: list[tuple[float, str]] = []
    prev: dict[tuple, str] | None = None
    for level, pf in zip(levels, portfolios):
        if not pf.get("goods"):
            continue
        on = levers_on(pf, off=off)
        if prev is not None:
            new, old = (prev, on) if off else (on, prev)
            out.extend((float(level), text) for key, text in new.items() if key not in old)
        prev = on
    return out


def _average_values(f: pd.DataFrame) -> pd.Series:
    """Euros of objective saved per euro between each solved level and the solved level
    before it (levels increasing); NaN for the first solved level."""
    solved = f["status"].isin(("optimal", "time_limit")) & f["objective"].notna()
    ok = f.loc[solved, ["level", "objective"]]
    step = ok["level"].diff()
    avg = -ok["objective"].diff() / step.where(step > 0)
    avg = avg.mask(avg.abs() < 1e-9, 0.0)  # solver noise reads as zero, not "-0"
    return avg.reindex(f.index)


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
    if kind == "budget":
        frontier["average_value"] = _average_values(frontier)
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
        switches_off=find_switches([lv.level for lv in levels_done], pfs, off=True),
        warnings=warnings + [c["warning"] for c in checks if c.get("warning")],
        timings=timings,
        cold_checks=[{k: v for k, v in c.items() if k != "warning"} for c in checks],
        portfolios=pfs,
        is_mip=is_mip,
        workers=workers,
    )
