"""Side-by-side comparison of runs: the tables, the workbook and the chart of a batch.

The same comparison comes from a batch (:func:`optimizer.studies.batch.run_batch`) and from any
result folders (``stockpile compare DIR1 DIR2 ...``):

- ``runs.csv``: one row per run: its name, variant, the varied values (as the resolved scenario
  holds them: euros, shares as fractions), status and reason, objective, costs, cash used per
  budget (the total and each line), expected loss, CVaR, and the expected shortfall per good;
- ``runs_goods.csv``: one row per run and good (long format): the columns of ``portfolio.csv``;
- ``comparison.xlsx``: the two tables for people (one sheet each, readable headers with units,
  number formats) and an "About" sheet;
- ``comparison.png``: the runs on cost (cash spent) against risk (expected loss, CVaR), one
  colour per variant;
- ``comparison.html``: the runs and the chart on one self-contained page, runs identical to an
  earlier one (``identical_to`` in ``runs.csv``: the same resolved scenario) flagged.

Reading the runs is ``compare_records.py``, the workbook ``compare_workbook.py``, the chart
``optimizer/results/charts/compare.py``; this module makes the tables and writes the files.
"""

from __future__ import annotations

import contextlib
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from optimizer.results import goods_table
from optimizer.results.charts.compare import _money_scale, comparison_chart
from optimizer.results.compare_report import render_comparison
from optimizer.results.write import claim_study_folder, write_csv
from optimizer.studies.compare_records import RunRecord
from optimizer.studies.compare_workbook import _col, _key_unit, write_workbook

__all__ = ["goods_long_table", "runs_table", "write_comparison"]


# --- the tables -------------------------------------------------------------------------------


def runs_table(
    records: list[RunRecord], keys: list[str], relative_to: Path | None = None
) -> pd.DataFrame:
    """One row per run (``runs.csv``); folders relative to ``relative_to`` when inside it."""
    rows = []
    lines: list[str] = []
    goods: list[str] = []
    for r in records:
        row: dict[str, Any] = {"name": r.name, "variant": r.variant}
        for k in keys:
            row[k] = r.value(k)
        row["status"] = r.status
        row["reason"] = r.reason
        pf = r.portfolio or {}
        has = bool(pf.get("goods")) and pf.get("cost") is not None
        cost = pf.get("cost") or {}
        row["objective_eur"] = pf.get("objective") if has else None
        row["first_stage_cash_eur"] = cost.get("first_stage_cash")
        row["first_stage_economic_eur"] = cost.get("first_stage_economic")
        row["expected_second_stage_eur"] = cost.get("expected_second_stage")
        row["expected_loss_eur"] = cost.get("expected_loss")
        row["cvar_eur"] = cost.get("cvar")
        row["cvar_alpha"] = cost.get("cvar_alpha")
        budget = pf.get("budget") or {}
        total = budget.get("total") or {}
        row["budget_total_eur"] = total.get("limit")
        row["cash_total_eur"] = total.get("used")
        for line, e in (budget.get("lines") or {}).items():
            col = f"cash_{_col(line)}_eur"
            row[col] = e.get("used")
            if col not in lines:
                lines.append(col)
        row["marginal_value_total"] = total.get("marginal_value")
        for good, g in (pf.get("goods") or {}).items():
            col = f"expected_shortfall_{_col(good)}"
            row[col] = g.get("expected_shortfall")
            if col not in goods:
                goods.append(col)
        row["mip_gap"] = pf.get("mip_gap")
        row["seconds"] = r.seconds
        row["input_sha256"] = pf.get("input_sha256")
        folder = r.folder
        if relative_to is not None:
            with contextlib.suppress(ValueError):
                folder = r.folder.absolute().relative_to(Path(relative_to).absolute())
        row["folder"] = str(folder)
        rows.append(row)
    head = [
        "name",
        "variant",
        *keys,
        "status",
        "reason",
        "objective_eur",
        "first_stage_cash_eur",
        "first_stage_economic_eur",
        "expected_second_stage_eur",
        "expected_loss_eur",
        "cvar_eur",
        "cvar_alpha",
        "budget_total_eur",
        "cash_total_eur",
    ]
    tail = ["mip_gap", "seconds", "input_sha256", "folder"]
    columns = head + lines + ["marginal_value_total"] + goods + tail
    table = pd.DataFrame(rows, columns=columns)
    table["identical_to"] = identical_to(table)
    return table


def identical_to(runs: pd.DataFrame) -> pd.Series:
    """For each run, the name of the first earlier run with the same ``input_sha256`` (the
    same resolved scenario: a variant that changes nothing), else None."""
    sha = runs["input_sha256"]
    first = runs.groupby(sha, sort=False, dropna=True)["name"].transform("first")
    same = sha.notna() & (first != runs["name"])
    return first.where(same, None).astype(object).where(same, None)


def goods_long_table(records: list[RunRecord], keys: list[str]) -> pd.DataFrame:
    """One row per run and good (``runs_goods.csv``): the columns of ``portfolio.csv``."""
    frames = []
    for r in records:
        pf = r.portfolio or {}
        if not pf.get("goods"):
            continue
        g = goods_table(pf)
        head = {"name": r.name, "variant": r.variant}
        head.update({k: r.value(k) for k in keys})
        head["status"] = r.status
        for i, (c, v) in enumerate(head.items()):
            g.insert(i, c, [v] * len(g))
        frames.append(g)
    if not frames:
        return pd.DataFrame(columns=["name", "variant", *keys, "status", "good"])
    return pd.concat(frames, ignore_index=True)


# --- files ------------------------------------------------------------------------------------


def _atomic(path: Path, write) -> Path:
    tmp = path.with_name(f".{path.stem}.partial-{os.getpid()}{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def write_comparison(
    out: str | Path, records: list[RunRecord], keys: list[str], title: str | None = None
) -> list[Path]:
    """Write ``runs.csv``, ``runs_goods.csv``, ``comparison.xlsx``, ``comparison.png`` and
    ``comparison.html`` (the table and the chart on one page, identical runs flagged) into
    ``out`` (each file whole or not at all). Returns the paths written.

    ``out`` must be new, empty or a folder stockpile wrote
    (:func:`~optimizer.results.write.check_study_folder`): otherwise
    :class:`~optimizer.results.write.OutputRefused` is raised and nothing is written, so a
    user's own ``runs.csv`` is never overwritten."""
    out = claim_study_folder(Path(out))
    runs = runs_table(records, keys, relative_to=out)
    goods = goods_long_table(records, keys)
    files = [
        _atomic(out / "runs.csv", lambda p: write_csv(runs, p, float_format="%.10g")),
        _atomic(out / "runs_goods.csv", lambda p: write_csv(goods, p, float_format="%.10g")),
        _atomic(
            out / "comparison.xlsx", lambda p: write_workbook(p, runs, goods, keys, records, title)
        ),
    ]
    labels = chart_labels(records, runs, keys)
    files.append(
        _atomic(out / "comparison.png", lambda p: comparison_chart(runs, keys, p, title, labels))
    )
    png = (out / "comparison.png").read_bytes()
    page = render_comparison(runs, keys, png, title)
    files.append(_atomic(out / "comparison.html", lambda p: p.write_text(page, encoding="utf-8")))
    return files


def chart_labels(records: list[RunRecord], runs: pd.DataFrame, keys: list[str]) -> list[str]:
    """A short label of each run's grid point (its varied values), or its name without keys."""
    from optimizer.studies.batch_file import value_label

    out = []
    for r, (_, row) in zip(records, runs.iterrows()):
        if not keys:
            out.append(r.name)
            continue
        parts = []
        for k in keys:
            if k in r.values:
                parts.append(value_label(r.values[k]))
            else:
                parts.append(_short(row.get(k), _key_unit(k)))
        out.append(" / ".join(parts))
    return out


def _short(v: Any, unit: str | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if unit == "EUR":
            d, u = _money_scale([v])
            return f"{v / d:g}{u[4:]}"
        if unit == "share":
            return f"{v * 100:g}%"
        return f"{v:g}"
    return str(v)
