"""``report.html`` of a sweep: the frontier on one self-contained page, styled like a run's.

It holds what a budget planner reads first (how far the expected loss falls over the range,
where the budget stops binding, where a euro buys most), the frontier chart embedded as a PNG
data URI, the frontier table, the levels where a lever switches on, the warnings, and how the
sweep was solved. Every figure of the frontier table carries ``data-key``
``frontier.<row>.<column>`` (the row and column of ``frontier.csv``) and ``data-value`` (the
raw number), so tests and scripts can check the page against the CSV. All text that comes
from the scenario is escaped.

The function takes plain data (the ``sweep.json`` summary and the frontier table), so this
module imports nothing from the sweep that calls it.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import pandas as pd

from optimizer import __version__
from optimizer.results.html import (
    DASH,
    NBSP,
    _img,
    _table,
    fmt_money,
    html_page,
    num,
    td,
    th,
)

__all__ = ["render_sweep_report"]

_SOLVED = ("optimal", "time_limit")


def _finite(v: Any) -> float | None:
    """``v`` as a finite float, or None (NaN, infinite, missing)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _level_text(v: float, budget: bool) -> str:
    return fmt_money(v) if budget else f"{v:,.6g}"


def _mv_text(v: float | None) -> str:
    """Euros of objective saved per extra euro of budget: ``3.20``, ``0.682``, ``0``."""
    if v is None:
        return DASH
    if abs(v) < 1e-9:
        return "0"
    return f"{v:,.3g}" if abs(v) < 10 else f"{v:,.1f}"


def _findings(summary: dict, f: pd.DataFrame) -> str:
    """Two or three sentences a planner reads first."""
    budget = summary.get("kind") == "budget"
    ok = f[f["status"].isin(_SOLVED)]
    if ok.empty:
        return '<div class="alert">No level has a feasible portfolio: see the table below.</div>'

    def fig(i: int, col: str) -> str:
        """Row ``i``'s ``col`` of frontier.csv as an inline figure."""
        v = float(f.loc[i, col])
        if col == "level":
            text = _level_text(v, budget)
        elif col == "marginal_value":
            text = _mv_text(v)
        else:
            text = fmt_money(v)
        return num(text, ["frontier", str(i), col], v)

    lo, hi = int(ok.index[0]), int(ok.index[-1])
    lines = [
        f"From {fig(lo, 'level')} to {fig(hi, 'level')} the expected loss moves from "
        f"{fig(lo, 'expected_loss')} to {fig(hi, 'expected_loss')} and the CVaR from "
        f"{fig(lo, 'cvar')} to {fig(hi, 'cvar')}."
    ]
    mv = pd.to_numeric(ok["marginal_value"], errors="coerce")
    mv = mv[mv.map(lambda v: math.isfinite(v))]
    if budget and not mv.empty:
        best = int(mv.idxmax())
        if mv[best] > 1e-9:
            lines.append(
                f"A euro buys most at {fig(best, 'level')}: each extra euro there lowers the "
                f"objective (expected cost, plus any weighted CVaR) by "
                f"{fig(best, 'marginal_value')} euros."
            )
        positive = [int(i) for i in mv.index[mv > 1e-9]]
        if positive and positive[-1] != int(mv.index[-1]):
            last = positive[-1]
            nxt = int(mv.index[list(mv.index).index(last) + 1])
            lines.append(
                f"The budget stops binding between {fig(last, 'level')} and "
                f"{fig(nxt, 'level')}: above it more money buys nothing the model values."
            )
        elif positive:
            lines.append(
                "The budget binds at every level swept: more money would still buy risk down."
            )
    bad = len(f) - len(ok)
    if bad:
        lines.append(f"{bad} level(s) have no feasible portfolio (status in the table).")
    return (
        '<section id="findings"><h2>What the frontier says</h2><p>'
        + " ".join(lines)
        + "</p></section>"
    )


def _frontier_table(summary: dict, f: pd.DataFrame) -> str:
    budget = summary.get("kind") == "budget"
    rows = []
    for i, r in f.iterrows():
        solved = r["status"] in _SOLVED

        def money(col: str, row=r, i=i, solved=solved) -> str:
            v = _finite(row[col]) if solved else None
            return td(fmt_money(v) if v is not None else DASH, ["frontier", str(i), col], v)

        mv = _finite(r["marginal_value"]) if solved else None
        cells = [
            td(_level_text(r["level"], budget), ["frontier", str(i), "level"], r["level"]),
            f'<td class="t">{escape(str(r["status"]))}</td>',
            money("objective"),
            money("cash_used"),
            money("expected_loss"),
            money("cvar"),
            td(_mv_text(mv), ["frontier", str(i), "marginal_value"], mv),
        ]
        rows.append("".join(cells))
    head = th(
        "Level" if budget else str(summary.get("swept")),
        "Status",
        "Objective",
        "Cash used",
        "Expected loss",
        "CVaR",
        "Marginal value (EUR per EUR)",
    )
    return (
        '<section id="frontier"><h2>The frontier, level by level</h2>'
        + _table(head, rows)
        + "</section>"
    )


def _switches(summary: dict) -> str:
    items = summary.get("switches") or []
    if not items:
        return ""
    budget = summary.get("kind") == "budget"
    rows = [
        td(_level_text(s["level"], budget), None, None) + f'<td class="t">{escape(s["lever"])}</td>'
        for s in items
    ]
    return (
        '<section id="switches"><h2>Where a lever switches on</h2>'
        "<p>The first level at which each decision appears (a stockpile started, a contract "
        "signed, a plant built, demand measures prepared).</p>"
        + _table(th("Level", "What switches on"), rows, "compact")
        + "</section>"
    )


def _warnings(summary: dict) -> str:
    items = summary.get("warnings") or []
    if not items:
        return ""
    lis = "".join(f"<li>{escape(w)}</li>" for w in items)
    return f'<section id="warnings"><h2>Warnings</h2><ul>{lis}</ul></section>'


def _how_solved(summary: dict) -> str:
    t = summary.get("timings") or {}

    def secs(key: str) -> str:
        v = _finite(t.get(key))
        return DASH if v is None else f"{v:,.2f}{NBSP}s"

    facts = [
        ("Interface", str(summary.get("interface"))),
        ("Model", "MIP (integer decisions)" if summary.get("mip") else "LP"),
        ("Levels", f"{len(summary.get('levels') or [])}"),
        ("Warm levels (started from another level)", str(t.get("warm_levels", DASH))),
        ("Warm levels passing the optimality certificate", str(t.get("certified_levels", DASH))),
        ("Worker processes", str(summary.get("workers"))),
        ("Solve order", str(summary.get("solve_order"))),
        ("Whole sweep", secs("total_seconds")),
        ("First level (cold, with load and build)", secs("first_seconds")),
    ]
    rows = [f'<td class="t">{escape(k)}</td><td class="t">{escape(v)}</td>' for k, v in facts]
    return (
        '<section id="solved"><h2>How it was solved</h2>'
        + _table(th("Fact", "Value"), rows, "compact")
        + "</section>"
    )


def render_sweep_report(
    summary: dict, frontier: pd.DataFrame, chart_png: bytes | None, label: str
) -> str:
    """The HTML of a sweep's ``report.html``: ``summary`` is the ``sweep.json`` dictionary,
    ``frontier`` the ``frontier.csv`` table, ``chart_png`` the bytes of ``frontier.png`` and
    ``label`` what was swept, for people (``total budget``)."""
    f = frontier.reset_index(drop=True)
    scenario = summary.get("scenario") or "scenario"
    levels = summary.get("levels") or []
    budget = summary.get("kind") == "budget"
    span = (
        f"{len(levels)} levels from {_level_text(min(levels), budget)} to "
        f"{_level_text(max(levels), budget)}"
        if levels
        else "no levels"
    )
    body = [
        "<header>",
        '<div class="kicker">Sweep: what each level buys</div>',
        f"<h1>{escape(scenario)}: {escape(label)}</h1>",
        f'<div class="meta">{escape(span)} &middot; engine {escape(__version__)}</div>',
        "</header>",
        _findings(summary, f),
        _img(
            chart_png,
            f"Expected loss and CVaR against the {label}",
            "frontier",
            "Expected loss and CVaR of the shortfall damage at each level; the marginal value "
            "of the budget on the right axis; numbered marks where a lever switches on.",
        ),
        _frontier_table(summary, f),
        _switches(summary),
        _warnings(summary),
        _how_solved(summary),
        "<footer>Written by stockpile-optimizer "
        f"{escape(__version__)}. Each level is the model's optimum at that value; money is in "
        "euros over the window. The same table is in frontier.csv, the per-good decisions in "
        "frontier_goods.csv, the timings and checks in sweep.json.</footer>",
    ]
    return html_page(f"Sweep report: {scenario}, {label}", body)
