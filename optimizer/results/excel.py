"""``portfolio.xlsx``: the tables of ``report.html`` for those who work in spreadsheets.

Sheets: Portfolio (one row per good: decisions, cash, risk, concentration), Reserve contracts
(one row per good and supplier, as ``reserves.csv``), Budget, Scenarios, Supply shares (one row
per good and country, as ``supply_shares.csv``), Assumptions. Scenarios lists at most
:data:`~optimizer.results.scenario_detail.WORKBOOK_MAX_FUTURES` futures, those with the largest
expected loss (its first header says so); every future is in ``scenarios.csv``. One number per
cell, no packed
text. Cells hold the numbers of ``portfolio.json``, rounded as every results file
(``cells.py``: 12 significant digits), so formulas and checks work on them; number formats add
thousands separators and percentages for reading. Every sheet has readable headers with units,
a frozen header row and set column widths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from optimizer.results.cells import append_row
from optimizer.results.portfolio import reserves_table, supply_shares_table
from optimizer.results.scenario_detail import WORKBOOK_MAX_FUTURES, largest_futures
from optimizer.results.solved import SolvedRun

__all__ = ["portfolio_workbook", "write_portfolio_xlsx"]

#: Number formats: thousands separators; money in whole euros; shares as percentages.
EUR = '#,##0 "EUR"'
QTY = "#,##0.###"
PCT = "0.0%"
RATIO = "0.000"
DAYS = "#,##0"

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
LEVERS = ("stockpile", "reserve", "domestic", "demand_reduction")


def _sheet(
    wb: Workbook,
    title: str,
    columns: list[tuple[str, str | None, int]],
    rows: list[list[Any]],
    first: bool = False,
):
    """Add a sheet with a header row (``columns``: header, number format, width) and rows."""
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    append_row(ws, [c[0] for c in columns])
    for cell in ws[1]:
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
    ws.row_dimensions[1].height = 45
    for row in rows:
        append_row(ws, row)
    last = len(rows) + 1  # given, so that openpyxl does not scan every cell for each column
    for j, (_, fmt, width) in enumerate(columns, start=1):
        letter = get_column_letter(j)
        ws.column_dimensions[letter].width = width
        if fmt and last >= 2:
            for (cell,) in ws.iter_rows(min_row=2, max_row=last, min_col=j, max_col=j):
                cell.number_format = fmt
    ws.freeze_panes = "B2"
    return ws


def portfolio_workbook(pf: dict, resolved: dict | None = None) -> Workbook:
    """The workbook for a ``portfolio.json`` dictionary and the resolved scenario."""
    resolved = resolved or {}
    goods = pf.get("goods") or {}
    names = {k: (v or {}).get("name") or k for k, v in (resolved.get("countries") or {}).items()}
    wb = Workbook()

    rows = []
    for g, v in goods.items():
        st, dom = v["stockpile"], v["domestic"]
        dr = v.get("demand_reduction") or {}
        lev = v.get("cash_by_lever") or {}
        rows.append(
            [
                g, v.get("unit"), st["buy"], st["level"], st.get("days_of_cover"),
                sum((v.get("reserve") or {}).values()), dom["capacity"],
                dr.get("expected_reduction", 0.0),
                lev.get("stockpile", 0.0), lev.get("reserve", 0.0), lev.get("domestic", 0.0),
                lev.get("demand_reduction", 0.0), v["cash"], v["economic_cost"],
                v["expected_shortfall"], v.get("expected_shortfall_share"), v["worst_shortfall"],
                v["expected_damage"], v["hhi"]["before"], v["hhi"]["after"],
            ]
        )  # fmt: skip
    _sheet(
        wb, "Portfolio",
        [
            ("Good", None, 20), ("Unit", None, 8), ("Stock bought (units)", QTY, 14),
            ("Stock held (units)", QTY, 14), ("Stock held (days of demand)", DAYS, 13),
            ("Reserved capacity, all suppliers (units/yr)", QTY, 16),
            ("Domestic capacity built (units/yr)", QTY, 15),
            ("Demand cut, expected (units over the window)", QTY, 16),
            ("Cash: stockpile (EUR)", EUR, 18), ("Cash: reserve contracts (EUR)", EUR, 18),
            ("Cash: domestic capacity (EUR)", EUR, 18), ("Cash: demand measures (EUR)", EUR, 17),
            ("Cash, total (EUR)", EUR, 18), ("Economic cost (EUR)", EUR, 18),
            ("Expected shortfall (units over the window)", QTY, 16),
            ("Expected shortfall (share of demand)", "0.00%", 14),
            ("Worst-case shortfall (units)", QTY, 15), ("Expected damage (EUR)", EUR, 18),
            ("Concentration before (HHI)", RATIO, 13), ("Concentration after (HHI)", RATIO, 13),
        ],
        rows, first=True,
    )  # fmt: skip

    reserves = reserves_table(pf, resolved)
    rows = [
        [
            r.good,
            r.supplier,
            r.country,
            names.get(r.country, r.country),
            r.unit,
            r.reserved_per_year,
            r.max_per_year,
            r.fee_eur_per_unit_year,
            r.fee_eur_per_year,
        ]
        for r in reserves.itertuples(index=False)
    ]
    _sheet(
        wb, "Reserve contracts",
        [("Good", None, 20), ("Supplier", None, 18), ("Country code", None, 12),
         ("Country", None, 18), ("Unit", None, 8), ("Reserved capacity (units/yr)", QTY, 16),
         ("Largest reservable (units/yr)", QTY, 16),
         ("Fee (EUR per unit of yearly capacity, per year)", EUR, 18),
         ("Fee for the reserved capacity (EUR per yr)", EUR, 18)],
        rows,
    )  # fmt: skip

    budget = pf.get("budget") or {}
    rows = []
    if budget:
        t = budget.get("total") or {}
        rows.append(
            [
                "total",
                t.get("limit"),
                t.get("used"),
                _ratio(t.get("used"), t.get("limit")),
                t.get("marginal_value"),
            ]
        )
        for n, line in (budget.get("lines") or {}).items():
            rows.append(
                [
                    n,
                    line.get("limit"),
                    line.get("used"),
                    _ratio(line.get("used"), line.get("limit")),
                    line.get("marginal_value"),
                ]
            )
    _sheet(
        wb, "Budget",
        [("Budget", None, 20), ("Limit (EUR)", EUR, 18), ("Cash used (EUR)", EUR, 18),
         ("Share used", PCT, 10), ("Saving from one more euro (EUR per EUR)", "0.0000", 16)],
        rows,
    )  # fmt: skip

    every = pf.get("scenarios") or {}
    scen = largest_futures(every, WORKBOOK_MAX_FUTURES)
    scenario_header = "Scenario"
    if len(scen) < len(every):
        scenario_header = (
            f"Scenario (the {len(scen):,} of {len(every):,} with the largest expected loss; "
            "all are in portfolio.json and scenarios.csv)"
        )
    gnames = list(goods)
    rows = [
        [
            k,
            s["probability"],
            s["loss"],
            s.get("cost"),
            *[s["shortfall"].get(g, 0.0) for g in gnames],
        ]
        for k, s in scen.items()
    ]
    _sheet(
        wb, "Scenarios",
        [(scenario_header, None, 26), ("Probability", PCT, 11), ("Shortfall damage (EUR)", EUR, 18),
         ("Operating cost and damage (EUR)", EUR, 20),
         *[(f"Shortfall: {g} ({goods[g].get('unit')}, over the window)", QTY, 14) for g in gnames]],
        rows,
    )  # fmt: skip

    rows = [
        [r.good, r.country, "EU domestic production" if r.country == "domestic"
         else names.get(r.country, r.country), r.before, r.after]
        for r in supply_shares_table(pf).itertuples(index=False)
    ]  # fmt: skip
    _sheet(
        wb, "Supply shares",
        [("Good", None, 20), ("Country code", None, 12), ("Country", None, 22),
         ("Share before (no levers)", PCT, 13), ("Share after (portfolio)", PCT, 13)],
        rows,
    )  # fmt: skip

    limits = pf.get("limits") or {}
    if limits:
        rows = [
            [
                name,
                r["good"],
                r["country"] or "the countries listed, together",
                "at most" if v["kind"] == "max_share" else "at least",
                v["share"],
                r["share"],
                "hard" if v["hard"] else "benchmark",
                v["benchmark"],
                r["units_over"],
                r["shadow_price"] / 100,
                (v.get("explained") or {}).get("cost"),
            ]
            for name, v in limits.items()
            for r in v["rows"]
        ]
        _sheet(
            wb, "Limits",
            [("Limit", None, 20), ("Good", None, 18), ("Country", None, 22), ("Rule", None, 9),
             ("Limit share", PCT, 10), ("Share reached (no disruption)", PCT, 13),
             ("Kind", None, 11), ("Benchmark (EUR per unit over a cap, short of a floor)", EUR, 14),
             ("Units over a cap or short of a floor (over the window)", QTY, 13),
             ("Saving from one more percentage point (EUR)", EUR, 18),
             ("Whole cost of the limit (EUR, --explain-limits)", EUR, 18)],
            rows,
        )  # fmt: skip

    _sheet(
        wb,
        "Assumptions",
        [("Key path (resolved.yaml)", None, 60), ("Value", None, 24)],
        list(_flatten(resolved)),
    )
    return wb


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _flatten(data: Any, prefix: str = ""):
    """(dotted key path, value) for every leaf of the resolved scenario."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(data, list):
        if all(not isinstance(x, (dict, list)) for x in data):
            yield [prefix, ", ".join(str(x) for x in data)]
        else:
            for i, v in enumerate(data):
                yield from _flatten(v, f"{prefix}[{i}]")
    elif data is not None:
        yield [prefix, data]


def write_portfolio_xlsx(result: SolvedRun, path: Path) -> None:
    """Write ``portfolio.xlsx`` for one run to ``path``."""
    portfolio_workbook(result.portfolio, result.loaded.resolved).save(Path(path))
