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
  colour per variant.

A folder given to :func:`find_runs` may be one run's results (``portfolio.json`` and/or
``status.json``), a batch's output folder (``batch.json`` and ``runs/``), or a folder of run
folders. When the runs do not come from one batch, the varied values are the keys whose values
differ between their ``resolved.yaml``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from optimizer.results import goods_table
from optimizer.scenario.located_yaml import FAST_LOADER

__all__ = [
    "CompareError",
    "RunRecord",
    "find_runs",
    "goods_long_table",
    "read_run",
    "runs_table",
    "varied_keys",
    "write_comparison",
]

#: Most columns of varied values found by comparing resolved scenarios.
MAX_DIFF_KEYS = 12
#: Keys never shown as varied values (they name rather than define a scenario).
_IGNORED_KEYS = ("name", "description")
#: Most grid points drawn as grouped bars (more: points of cost against risk).
MAX_GROUPS = 40

_MONEY_KEYS = {
    "total",
    "limit",
    "unit_cost",
    "capex",
    "fixed_cost",
    "fee",
    "storage_cost",
    "damage",
    "prepare_cost",
}
_SHARE_KEYS = {
    "share",
    "probability",
    "severity",
    "max_share",
    "residual_value",
    "alpha",
    "max_shortfall",
}


class CompareError(Exception):
    """A folder given to compare holds no run results."""


# --- reading runs -----------------------------------------------------------------------------


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


_Loader = FAST_LOADER


@dataclass
class RunRecord:
    """One run's results as read from its folder."""

    name: str
    folder: Path
    variant: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    """Varied values as written (a batch's grid values), by key."""
    status: str = "missing"
    reason: str = ""
    portfolio: dict | None = None
    seconds: float | None = None
    resolved_values: dict[str, Any] = field(default_factory=dict)
    """Varied values as the resolved scenario holds them, when known without reading it."""

    @cached_property
    def resolved(self) -> dict | None:
        """The run's ``resolved.yaml``, or None."""
        path = self.folder / "resolved.yaml"
        try:
            return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except (OSError, yaml.YAMLError):
            return None

    def value(self, key: str) -> Any:
        """The value at dotted ``key`` for a table: the resolved scenario's when it is a plain
        value, else the value as written."""
        if key in self.resolved_values:
            return self.resolved_values[key]
        resolved = self.resolved
        if resolved is not None:
            found, v = value_at(resolved, key)
            if found and not isinstance(v, (dict, list)):
                return v
        if key in self.values:
            from optimizer.studies.batch_file import value_label, yaml_value

            v = self.values[key]
            return yaml_value(v) if isinstance(v, (dict, list)) else value_label(v)
        if resolved is not None:
            found, v = value_at(resolved, key)
            if found:
                return json.dumps(v, default=str)
        return None


def read_run(
    folder: str | Path,
    name: str | None = None,
    variant: str | None = None,
    values: dict | None = None,
    resolved_values: dict | None = None,
) -> RunRecord:
    """A run folder as a :class:`RunRecord` (status ``missing`` when it holds no results)."""
    folder = Path(folder)
    status_doc = _read_json(folder / "status.json")
    pf = _read_json(folder / "portfolio.json")
    rec = RunRecord(name or folder.name, folder, variant, dict(values or {}))
    rec.resolved_values = dict(resolved_values or {})
    if status_doc:
        rec.status = status_doc.get("status") or "missing"
        rec.reason = status_doc.get("reason") or ""
        rec.seconds = status_doc.get("seconds")
        if variant is None:
            rec.variant = status_doc.get("variant")
        if not values and status_doc.get("values"):
            rec.values = dict(status_doc["values"])
        if not resolved_values and status_doc.get("resolved_values"):
            rec.resolved_values = dict(status_doc["resolved_values"])
    if pf:
        rec.portfolio = pf
        if not status_doc:
            rec.status = pf.get("status") or "missing"
        if rec.seconds is None:
            rec.seconds = (pf.get("solver") or {}).get("seconds")
    return rec


def _is_run(folder: Path) -> bool:
    return (folder / "portfolio.json").is_file() or (folder / "status.json").is_file()


def find_runs(paths: list[str | Path]) -> tuple[list[RunRecord], list[str]]:
    """The runs in ``paths`` (each a run folder, a batch folder or a folder of run folders),
    and the keys to show as varied values. Raises :class:`CompareError` for a path without
    runs."""
    records: list[RunRecord] = []
    batch_keys: list[str] = []
    from_batch = True
    for p in paths:
        p = Path(p)
        if not p.is_dir():
            raise CompareError(f"{p}: not a folder")
        manifest = _read_json(p / "batch.json")
        if _is_run(p):
            records.append(read_run(p))
            from_batch = False
        elif manifest and isinstance(manifest.get("runs"), list):
            for r in manifest["runs"]:
                records.append(
                    read_run(
                        p / r["folder"],
                        r.get("name"),
                        r.get("variant"),
                        r.get("values"),
                        r.get("resolved_values"),
                    )
                )
            for k in manifest.get("keys") or []:
                if k not in batch_keys:
                    batch_keys.append(k)
        else:
            inner = p / "runs" if (p / "runs").is_dir() else p
            found = sorted(
                c
                for c in inner.iterdir()
                if c.is_dir() and not c.name.startswith(".") and _is_run(c)
            )
            if not found:
                raise CompareError(
                    f"{p}: no results here (expected portfolio.json, or a batch's batch.json, "
                    "or folders of runs)"
                )
            records.extend(read_run(c) for c in found)
            from_batch = False
    _unique_names(records)
    if from_batch and batch_keys:
        return records, batch_keys
    keys = list(batch_keys)
    for k in varied_keys(records):
        if k not in keys:
            keys.append(k)
    return records, keys[: max(MAX_DIFF_KEYS, len(batch_keys))]


def _unique_names(records: list[RunRecord]) -> None:
    seen: dict[str, int] = {}
    for r in records:
        seen[r.name] = seen.get(r.name, 0) + 1
    dup = {n for n, c in seen.items() if c > 1}
    for r in records:
        if r.name in dup:
            r.name = str(r.folder)


def _segments(key: str) -> list[str | int]:
    out: list[str | int] = []
    for part in key.split("."):
        m = re.fullmatch(r"([^\[\]]*)((?:\[\d+\])*)", part)
        if not m:
            out.append(part)
            continue
        if m.group(1):
            out.append(m.group(1))
        out.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return out


def value_at(data: Any, key: str) -> tuple[bool, Any]:
    """(found, value) at a dotted key path (``a.b[0].c`` or ``a.b.0.c``)."""
    cur = data
    for seg in _segments(key):
        if isinstance(cur, dict) and seg in cur:
            cur = cur[seg]
        elif isinstance(cur, dict) and str(seg) in cur:
            cur = cur[str(seg)]
        elif isinstance(cur, list):
            try:
                cur = cur[int(seg)]
            except (ValueError, IndexError):
                return False, None
        else:
            return False, None
    return True, cur


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key path -> plain value; lists of plain values are one value."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(data, list) and any(isinstance(v, (dict, list)) for v in data):
        for i, v in enumerate(data):
            out.update(_flatten(v, f"{prefix}[{i}]"))
    elif isinstance(data, list):
        out[prefix] = json.dumps(data, default=str)
    else:
        out[prefix] = data
    return out


def varied_keys(records: list[RunRecord]) -> list[str]:
    """Dotted keys whose resolved values differ between the runs (in the first run's order)."""
    flat = [_flatten(r.resolved) for r in records if r.resolved is not None]
    if len(flat) < 2:
        return []
    order: list[str] = []
    seen: set[str] = set()
    for f in flat:
        for k in f:
            if k not in seen:
                seen.add(k)
                order.append(k)
    keys = []
    for k in order:
        if k.split(".")[0] in _IGNORED_KEYS:
            continue
        vals = {json.dumps(f.get(k), default=str, sort_keys=True) for f in flat}
        if len(vals) > 1:
            keys.append(k)
    return keys


# --- the tables -------------------------------------------------------------------------------


def _col(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", str(text)).strip("_") or "_"


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
    return pd.DataFrame(rows, columns=columns)


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
    """Write ``runs.csv``, ``runs_goods.csv``, ``comparison.xlsx`` and ``comparison.png`` into
    ``out`` (each file whole or not at all). Returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = runs_table(records, keys, relative_to=out)
    goods = goods_long_table(records, keys)
    files = [
        _atomic(out / "runs.csv", lambda p: runs.to_csv(p, index=False, float_format="%.10g")),
        _atomic(
            out / "runs_goods.csv", lambda p: goods.to_csv(p, index=False, float_format="%.10g")
        ),
        _atomic(
            out / "comparison.xlsx", lambda p: write_workbook(p, runs, goods, keys, records, title)
        ),
    ]
    labels = chart_labels(records, runs, keys)
    files.append(
        _atomic(out / "comparison.png", lambda p: comparison_chart(runs, keys, p, title, labels))
    )
    return files


def _key_unit(key: str) -> str | None:
    last = re.sub(r"\[\d+\]$", "", key.split(".")[-1])
    if last in _MONEY_KEYS:
        return "EUR"
    if last in _SHARE_KEYS:
        return "share"
    return None


def _units(records: list[RunRecord]) -> dict[str, str]:
    units: dict[str, str] = {}
    for r in records:
        for good, g in ((r.portfolio or {}).get("goods") or {}).items():
            units.setdefault(_col(good), g.get("unit") or "units")
    return units


def _window(records: list[RunRecord]) -> str:
    for r in records:
        res = r.resolved
        if res and isinstance(res.get("window"), dict) and res["window"].get("years"):
            y = res["window"]["years"]
            return f"over {y:g} years"
    return "over the window"


_FIXED_HEADERS = {
    "name": ("Run", None),
    "variant": ("Variant", None),
    "status": ("Status", None),
    "reason": ("Why not optimal", None),
    "objective_eur": ("Objective (EUR)", "money"),
    "first_stage_cash_eur": ("Cash spent on the portfolio (EUR)", "money"),
    "first_stage_economic_eur": ("Economic cost of the portfolio (EUR)", "money"),
    "expected_second_stage_eur": ("Expected operating cost and damage (EUR)", "money"),
    "expected_loss_eur": ("Expected loss from shortfalls (EUR)", "money"),
    "cvar_eur": ("CVaR of the loss (EUR)", "money"),
    "cvar_alpha": ("CVaR level (share)", "share"),
    "budget_total_eur": ("Total budget (EUR)", "money"),
    "cash_total_eur": ("Cash used: total budget (EUR)", "money"),
    "marginal_value_total": ("Marginal value of the total budget (EUR per EUR)", "ratio"),
    "mip_gap": ("MIP gap (share)", "share"),
    "seconds": ("Solve time (s)", "seconds"),
    "input_sha256": ("Resolved scenario SHA-256", None),
    "folder": ("Results folder", None),
    # goods table
    "good": ("Good", None),
    "unit": ("Unit", None),
    "stock_buy": ("Stock bought (units)", "qty"),
    "stock_level": ("Stock level (units)", "qty"),
    "days_of_cover": ("Days of cover", "qty"),
    "stockpile_cash_eur": ("Stockpile cash (EUR)", "money"),
    "reserve_per_year": ("Reserved capacity per supplier (units / year)", None),
    "reserve_total_per_year": ("Reserved capacity (units / year)", "qty"),
    "domestic_capacity_per_year": ("Domestic capacity built (units / year)", "qty"),
    "domestic_cash_eur": ("Domestic cash (EUR)", "money"),
    "demand_reduction_expected": ("Expected demand reduction (units)", "qty"),
    "cash_eur": ("Cash (EUR)", "money"),
    "economic_cost_eur": ("Economic cost (EUR)", "money"),
    "expected_shortfall": ("Expected shortfall (units)", "qty"),
    "worst_shortfall": ("Worst shortfall (units)", "qty"),
    "expected_damage_eur": ("Expected damage (EUR)", "money"),
    "shares_before": ("Supply shares before", None),
    "shares_after": ("Supply shares after", None),
    "hhi_before": ("HHI before (0-1)", "ratio"),
    "hhi_after": ("HHI after (0-1)", "ratio"),
}

_FORMATS = {
    "money": "#,##0",
    "share": "0.0%",
    "ratio": "0.000",
    "qty": "#,##0.###",
    "seconds": "0.00",
}


def _header(
    col: str, keys: list[str], units: dict[str, str], window: str
) -> tuple[str, str | None]:
    if col in keys:
        unit = _key_unit(col)
        return (f"{col} ({unit})" if unit else col), (
            "money" if unit == "EUR" else "share" if unit == "share" else None
        )
    if col in _FIXED_HEADERS:
        return _FIXED_HEADERS[col]
    if col.startswith("cash_") and col.endswith("_eur"):
        return f"Cash used: {col[5:-4]} (EUR)", "money"
    if col.startswith("expected_shortfall_"):
        good = col[len("expected_shortfall_") :]
        return f"Expected shortfall: {good} ({units.get(good, 'units')} {window})", "qty"
    return col, None


def write_workbook(
    path: Path,
    runs: pd.DataFrame,
    goods: pd.DataFrame,
    keys: list[str],
    records: list[RunRecord],
    title: str | None = None,
) -> None:
    """``comparison.xlsx``: sheets Runs, Goods and About, with readable headers and units
    (written in openpyxl's streaming mode: thousands of runs stay quick)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    units = _units(records)
    window = _window(records)
    wb = Workbook(write_only=True)
    fill = PatternFill("solid", fgColor="DDE7F0")
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for sheet, df in (("Runs", runs), ("Goods", goods)):
        ws = wb.create_sheet(sheet)
        cols = list(df.columns)
        fmts = []
        header = []
        for j, c in enumerate(cols, start=1):
            text, fmt = _header(c, keys, units, window)
            cell = WriteOnlyCell(ws, value=text)
            cell.font, cell.fill, cell.alignment = bold, fill, wrap
            header.append(cell)
            fmts.append(_FORMATS.get(fmt) if fmt else None)
            width = max(10, min(45, max(len(w) for w in text.split()) + 2, len(text) // 2 + 4))
            if c in ("reason", "folder", "shares_before", "shares_after", "reserve_per_year"):
                width = 40
            ws.column_dimensions[get_column_letter(j)].width = width
        ws.freeze_panes = "B2"
        if len(df):
            ws.auto_filter.ref = f"A1:{get_column_letter(max(1, len(cols)))}{len(df) + 1}"
        ws.row_dimensions[1].height = 45
        ws.append(header)
        for values in df.itertuples(index=False):
            row = []
            for j, v in enumerate(values):
                if v is None or (isinstance(v, float) and not math.isfinite(v)):
                    row.append(None)
                    continue
                if hasattr(v, "item"):
                    v = v.item()
                if fmts[j] and isinstance(v, (int, float)) and not isinstance(v, bool):
                    cell = WriteOnlyCell(ws, value=v)
                    cell.number_format = fmts[j]
                    row.append(cell)
                else:
                    row.append(v)
            ws.append(row)
    about = wb.create_sheet("About")
    about.column_dimensions["A"].width = 120
    lines = [
        (title or "Comparison of runs", True),
        ("", False),
        (f"{len(records)} runs; {sum(r.status == 'optimal' for r in records)} optimal.", False),
        (
            "Runs: one row per run. Varied values are those of the resolved scenario "
            "(money in euros, shares as fractions).",
            False,
        ),
        (
            "Goods: one row per run and good; quantities in each good's unit (column Unit), "
            f"shortfalls {window}, reserved and domestic capacity per year.",
            False,
        ),
        (
            f"Money in euros {window}. Objective = economic cost of the portfolio + expected "
            "operating cost and damage + CVaR weight x CVaR.",
            False,
        ),
        (
            "Expected loss: probability-weighted damage of the shortfalls. CVaR: the expected loss "
            "in the worst (1 - level) of probability.",
            False,
        ),
        ("A run that is not optimal has no figures; its status and reason say why.", False),
    ]
    for text, is_title in lines:
        cell = WriteOnlyCell(about, value=text)
        cell.font = Font(bold=is_title, size=13 if is_title else 11)
        about.append([cell])
    wb.save(path)


# --- the chart --------------------------------------------------------------------------------


def _money_scale(values) -> tuple[float, str]:
    finite = [abs(float(v)) for v in values if v is not None and math.isfinite(float(v))]
    top = max(finite) if finite else 0.0
    for div, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if top >= div * 0.999:
            return div, f"EUR {suffix}"
    return 1.0, "EUR"


def comparison_chart(
    runs: pd.DataFrame,
    keys: list[str],
    path: Path,
    title: str | None,
    labels: list[str] | None = None,
) -> Path:
    """The variants compared on cost and risk: cash spent on the portfolio, expected loss and
    CVaR, one panel each. Up to :data:`MAX_GROUPS` grid points: grouped bars (a group per grid
    point, a colour per variant; a red cross for a run without a portfolio). More: cost
    against risk as points, a colour per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = runs.reset_index(drop=True).copy()
    df["_variant"] = df["variant"].fillna("runs").astype(str) if len(df) else []
    df["_label"] = labels if labels is not None else [str(n) for n in df.get("name", [])]
    has = df["objective_eur"].notna() if len(df) else pd.Series([], dtype=bool)
    ok = df[has]
    variants = list(dict.fromkeys(df["_variant"]))
    groups = list(dict.fromkeys(df["_label"]))
    cmap = plt.get_cmap("tab10")
    colour = {v: cmap(i % 10) for i, v in enumerate(variants)}
    panels = (
        ("first_stage_cash_eur", "Cash spent on the portfolio"),
        ("expected_loss_eur", "Expected loss from shortfalls"),
        ("cvar_eur", f"CVaR{_alpha_text(ok)} of the loss"),
    )
    if ok.empty:
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.text(0.5, 0.5, "no run has a portfolio", ha="center", va="center")
        ax.set_axis_off()
    elif len(groups) <= MAX_GROUPS:
        width = min(9 + 0.25 * len(df), 22)
        fig, axes = plt.subplots(3, 1, figsize=(width, 10), sharex=True, constrained_layout=True)
        bar = 0.8 / max(1, len(variants))
        for ax, (col, name) in zip(axes, panels):
            div, unit = _money_scale(ok[col])
            for vi, v in enumerate(variants):
                rows = df[df["_variant"] == v]
                offset = (vi - (len(variants) - 1) / 2) * bar
                xs = [groups.index(lab) + offset for lab in rows["_label"]]
                hs = [
                    float(h) / div if ok_ else 0.0
                    for h, ok_ in zip(rows[col].fillna(0.0), rows["objective_eur"].notna())
                ]
                ax.bar(xs, hs, width=bar * 0.95, color=colour[v], label=v)
                bad = [x for x, ok_ in zip(xs, rows["objective_eur"].notna()) if not ok_]
                if bad:
                    ax.plot(
                        bad,
                        [0] * len(bad),
                        "x",
                        color="#c00000",
                        markersize=9,
                        mew=2,
                        label="no portfolio" if vi == 0 else None,
                    )
            ax.set_ylabel(unit)
            ax.set_title(name, loc="left", fontsize=10)
            ax.grid(True, axis="y", alpha=0.3)
        axes[-1].set_xticks(range(len(groups)))
        rotate = max((len(g) for g in groups), default=0) * len(groups) > 110
        axes[-1].set_xticklabels(
            groups, rotation=30 if rotate else 0, ha="right" if rotate else "center", fontsize=8
        )
        axes[-1].set_xlabel(" / ".join(keys) if keys else "run")
        handles, names = axes[0].get_legend_handles_labels()
        for ax in axes[1:]:
            for h, n in zip(*ax.get_legend_handles_labels()):
                if n not in names:
                    handles.append(h)
                    names.append(n)
        axes[0].legend(handles, names, title="variant", fontsize=8, ncols=min(4, len(names)))
    else:
        fig, axes = plt.subplots(1, 2, figsize=(13, 5.8), constrained_layout=True)
        xd, xu = _money_scale(ok["first_stage_cash_eur"])
        for ax, (col, name) in zip(axes, panels[1:]):
            yd, yu = _money_scale(ok[col])
            for v in variants:
                g = ok[ok["_variant"] == v]
                ax.plot(
                    g["first_stage_cash_eur"].astype(float) / xd,
                    g[col].astype(float) / yd,
                    "o",
                    color=colour[v],
                    label=v,
                    markersize=4,
                    alpha=0.8,
                )
            ax.set_xlabel(f"cash spent on the portfolio ({xu})")
            ax.set_ylabel(f"{name} ({yu})")
            ax.set_title(f"{name} against cost", fontsize=10)
            ax.grid(True, alpha=0.3)
        axes[0].legend(title="variant", fontsize=8)
    failed = df[~has] if len(df) else df
    if len(failed):
        names = ", ".join(f"{n} ({s})" for n, s in zip(failed["name"][:4], failed["status"][:4]))
        more = f" and {len(failed) - 4} more" if len(failed) > 4 else ""
        fig.text(0.01, 0.002, f"No portfolio: {names}{more}", fontsize=7, color="#a00000")
    fig.suptitle(title or "Comparison of runs: cost and risk", fontsize=12)
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
    return Path(path)


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


def _alpha_text(ok: pd.DataFrame) -> str:
    alphas = ok["cvar_alpha"].dropna().unique() if "cvar_alpha" in ok else []
    return f"{alphas[0]:.0%}" if len(alphas) == 1 else ""


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
