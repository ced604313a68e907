"""``comparison.xlsx``: the comparison's two tables for people (one sheet each, readable
headers with units, number formats) and an "About" sheet."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from optimizer.results.cells import round_table, text_cell
from optimizer.studies.compare_records import RunRecord

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


def _col(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", str(text)).strip("_") or "_"


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
    for sheet, df in (("Runs", round_table(runs)), ("Goods", round_table(goods))):
        ws = wb.create_sheet(sheet)
        cols = list(df.columns)
        fmts = []
        header = []
        for j, c in enumerate(cols, start=1):
            text, fmt = _header(c, keys, units, window)
            cell = text_cell(ws, text)
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
                elif isinstance(v, str):
                    row.append(text_cell(ws, v))
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
        cell = text_cell(about, text)
        cell.font = Font(bold=is_title, size=13 if is_title else 11)
        about.append([cell])
    wb.save(path)
