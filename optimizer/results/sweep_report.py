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


def _budget_names(summary: dict) -> list[str]:
    """The budgets of the sweep's portfolios, ``total`` first, in the order of the file."""
    names: list[str] = []
    for entry in summary.get("budgets") or []:
        for name in entry.get("budgets") or {}:
            if name not in names:
                names.append(name)
    return sorted(names, key=lambda n: n != "total")


def _binding_at(summary: dict, i: int) -> dict[str, float]:
    """``{budget: marginal value}`` of the budgets binding at row ``i`` (euros per euro)."""
    entries = summary.get("budgets") or []
    if i >= len(entries):
        return {}
    out = {}
    for name, e in (entries[i].get("budgets") or {}).items():
        mv = _finite(e.get("marginal_value"))
        if e.get("limit") is not None and mv is not None and mv > 1e-9:
            out[name] = mv
    return out


def _swept_name(summary: dict) -> str:
    """The swept budget's name in ``budgets``: ``total`` or the line's name."""
    key = str(summary.get("swept") or "")
    parts = key.split(".")
    return parts[2] if key.startswith("budget.lines.") and len(parts) > 2 else "total"


def _budget_label(name: str) -> str:
    return "the total budget" if name == "total" else f"the budget line {name}"


def _findings(summary: dict, f: pd.DataFrame) -> str:
    """The sentences a planner reads first; each true of every budget, not only the swept one."""
    budget = summary.get("kind") == "budget"
    mip = bool(summary.get("mip"))
    ok = f[f["status"].isin(_SOLVED)]
    if ok.empty:
        return '<div class="alert">No level has a feasible portfolio: see the table below.</div>'

    def fig(i: int, col: str) -> str:
        """Row ``i``'s ``col`` of frontier.csv as an inline figure."""
        v = float(f.loc[i, col])
        if col == "level":
            text = _level_text(v, budget)
        elif col in ("marginal_value", "average_value"):
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
    avg = pd.to_numeric(ok.get("average_value", pd.Series(dtype=float)), errors="coerce")
    avg = avg[avg.map(lambda v: math.isfinite(v))]
    if budget and mip and not avg.empty and avg.max() > 1e-9:
        # a MIP's dual prices the next euro with the integers held: headline the average
        best = int(avg.idxmax())
        prev = int(ok.index[list(ok.index).index(best) - 1])
        lines.append(
            f"A euro buys most between {fig(prev, 'level')} and {fig(best, 'level')}: there "
            f"each extra euro lowered the objective (expected cost, plus any weighted CVaR) by "
            f"{fig(best, 'average_value')} euros on average."
        )
    elif budget and not mv.empty and mv.max() > 1e-9:
        best = int(mv.idxmax())
        lines.append(
            f"A euro buys most at {fig(best, 'level')}: each extra euro there lowers the "
            f"objective (expected cost, plus any weighted CVaR) by "
            f"{fig(best, 'marginal_value')} euros."
        )
    if budget and not mv.empty:
        lines.extend(_binding_sentences(summary, f, mv))
    if mip:
        lines.append(
            "The model has integer decisions (plants, contracts with a fixed cost, prepared "
            "demand measures). Its marginal value is the dual of the LP with those decisions "
            "fixed at each level's optimum: it prices the next euro with them held as they "
            "are, so it jumps from level to level. The average value per euro between levels "
            "(the fall in the objective over the rise in the budget) counts the decisions "
            "that change."
        )
    bad = len(f) - len(ok)
    if bad:
        lines.append(f"{bad} level(s) have no feasible portfolio (status in the table).")
    return (
        '<section id="findings"><h2>What the frontier says</h2><p>'
        + " ".join(lines)
        + "</p></section>"
    )


def _binding_sentences(summary: dict, f: pd.DataFrame, mv: pd.Series) -> list[str]:
    """Where the swept budget stops binding, and which other budgets still bind above it."""
    swept = _swept_name(summary)
    label = _budget_label(swept)
    label_up = label[0].upper() + label[1:]
    positive = [int(i) for i in mv.index[mv > 1e-9]]
    top = int(mv.index[-1])

    def lvl(i: int) -> str:
        v = float(f.loc[i, "level"])
        return num(_level_text(v, True), ["frontier", str(i), "level"], v)

    others = {k: v for k, v in _binding_at(summary, top).items() if k != swept}
    still = ""
    if others:
        parts = [
            f"{_budget_label(k)} ({num(_mv_text(v), ['budgets', str(top), k], v)} EUR per EUR)"
            for k, v in others.items()
        ]
        verb = "binds" if len(parts) == 1 else "bind"
        still = (
            f" But at {lvl(top)} {' and '.join(parts)} still {verb}: money there, not in "
            f"{label}, would buy more."
        )
    if positive and positive[-1] != top:
        last = positive[-1]
        nxt = int(mv.index[list(mv.index).index(last) + 1])
        tail = (
            "above it more of it buys nothing the model values."
            if others
            else "above it no budget binds: more money buys nothing the model values."
        )
        return [f"{label_up} stops binding between {lvl(last)} and {lvl(nxt)}: {tail}{still}"]
    if positive and len(positive) == len(mv):
        return [f"{label_up} binds at every level swept: more of it would still buy risk down."]
    if positive:
        return [
            f"{label_up} binds at the highest level swept, {lvl(top)}, but not at every level "
            "below it (see the table of what binds): more of it would still buy risk down."
        ]
    return [f"{label_up} binds at no level swept.{still}"]


def _binding_table(summary: dict, f: pd.DataFrame) -> str:
    """What binds at each level: the marginal value of the total and of each line."""
    names = _budget_names(summary)
    entries = summary.get("budgets") or []
    if summary.get("kind") != "budget" or not names or not entries:
        return ""
    rows = []
    for i, entry in enumerate(entries):
        cells = [
            td(
                _level_text(float(entry["level"]), True),
                ["frontier", str(i), "level"],
                float(entry["level"]),
            )
        ]
        for name in names:
            e = (entry.get("budgets") or {}).get(name)
            mv = _finite(e.get("marginal_value")) if e else None
            if e is None or e.get("limit") is None:
                cells.append(td(DASH))
            elif mv is not None and mv > 1e-9:
                cells.append(td(f"binds: {_mv_text(mv)}", ["budgets", str(i), name], mv))
            else:
                cells.append(td("slack", ["budgets", str(i), name], 0.0))
        rows.append("".join(cells))
    head = th("Level", *[("total" if n == "total" else f"line {n}") for n in names])
    return (
        '<section id="binding"><h2>What binds at each level</h2>'
        "<p>For each budget, whether its limit binds and, if so, its marginal value: the euros "
        "of objective one more euro in that budget saves (the LP's dual; for a model with "
        "integer decisions, with them fixed). <q>slack</q>: money is left over there.</p>"
        + _table(head, rows, "compact")
        + "</section>"
    )


def _frontier_table(summary: dict, f: pd.DataFrame) -> str:
    budget = summary.get("kind") == "budget"
    swept = _swept_name(summary) if budget else "total"
    line = None if swept == "total" else swept
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
        ]
        if line:
            cells.append(money("portfolio_cash"))
        cells += [
            money("expected_loss"),
            money("cvar"),
            td(_mv_text(mv), ["frontier", str(i), "marginal_value"], mv),
        ]
        if budget:
            avg = _finite(r.get("average_value")) if solved else None
            cells.append(td(_mv_text(avg), ["frontier", str(i), "average_value"], avg))
        rows.append("".join(cells))
    cash_head = f"Cash used (line {line})" if line else "Cash used"
    head = th(
        "Level" if budget else str(summary.get("swept")),
        "Status",
        "Objective",
        cash_head,
        *(["Portfolio cash (all levers)"] if line else []),
        "Expected loss",
        "CVaR",
        "Marginal value (EUR per EUR)",
        *(["Average value since the level before (EUR per EUR)"] if budget else []),
    )
    return (
        '<section id="frontier"><h2>The frontier, level by level</h2>'
        + _table(head, rows)
        + "</section>"
    )


def _switches(summary: dict) -> str:
    on = [(s["level"], "on", s["lever"]) for s in summary.get("switches") or []]
    off = [(s["level"], "off", s["lever"]) for s in summary.get("switches_off") or []]
    items = sorted(on + off, key=lambda s: (s[0], s[1] != "off"))
    if not items:
        return ""
    budget = summary.get("kind") == "budget"
    rows = [
        td(_level_text(level, budget), None, None)
        + f'<td class="t">{change}</td><td class="t">{escape(text)}</td>'
        for level, change, text in items
    ]
    return (
        '<section id="switches"><h2>Where a lever switches on or off</h2>'
        "<p>Each level at which a decision appears (a stockpile started, a contract signed, a "
        "plant built, demand measures prepared) or is dropped from the level before (money "
        "moved to a better buy).</p>"
        + _table(th("Level", "On / off", "What changes"), rows, "compact")
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
        _binding_table(summary, f),
        _switches(summary),
        _warnings(summary),
        _how_solved(summary),
        "<footer>Written by stockpile-optimizer "
        f"{escape(__version__)}. Each level is the model's optimum at that value; money is in "
        "euros over the window. The same table is in frontier.csv, the per-good decisions in "
        "frontier_goods.csv, the timings and checks in sweep.json.</footer>",
    ]
    return html_page(f"Sweep report: {scenario}, {label}", body)
