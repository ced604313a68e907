"""``comparison.html`` of a batch or a comparison: the runs side by side on one self-contained
page, with the comparison chart embedded.

It takes plain data (the ``runs.csv`` table, the varied keys, the chart's PNG bytes), so this
module imports nothing from the studies that call it. Every text from the scenarios and the
batch file (names, values, reasons) is escaped. Runs whose resolved scenario is that of an
earlier run (``identical_to``: a variant that changes nothing) are flagged.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

import pandas as pd

from optimizer import __version__
from optimizer.results.html import DASH, _img, _table, fmt_money, html_page, td, th

__all__ = ["render_comparison"]

_MONEY = (
    ("objective_eur", "Objective"),
    ("first_stage_cash_eur", "Cash committed"),
    ("expected_loss_eur", "Expected loss"),
    ("cvar_eur", "CVaR"),
)


def _number(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _text(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return DASH
    return str(v)


def render_comparison(
    runs: pd.DataFrame, keys: list[str], chart_png: bytes | None, title: str | None
) -> str:
    """The HTML of ``comparison.html``: ``runs`` is the ``runs.csv`` table (with its
    ``identical_to`` column), ``keys`` the varied keys, ``chart_png`` ``comparison.png``."""
    heading = title or "Comparison of runs"
    twins = runs.get("identical_to", pd.Series([None] * len(runs), index=runs.index))
    flagged = [(str(n), str(t)) for n, t in zip(runs["name"], twins) if isinstance(t, str) and t]
    rows = []
    for i, r in runs.reset_index(drop=True).iterrows():
        cells = [f'<td class="t">{escape(_text(r["name"]))}</td>']
        cells += [f'<td class="t">{escape(_text(r.get(k)))}</td>' for k in keys]
        cells.append(f'<td class="t">{escape(_text(r.get("status")))}</td>')
        for col, _ in _MONEY:
            v = _number(r.get(col))
            cells.append(td(fmt_money(v) if v is not None else DASH, ["runs", str(i), col], v))
        twin = twins.iloc[i] if i < len(twins) else None
        note = f"identical to {twin}" if isinstance(twin, str) and twin else ""
        reason = _text(r.get("reason")) if _text(r.get("reason")) != DASH else ""
        cells.append(f'<td class="t">{escape("; ".join(x for x in (note, reason) if x))}</td>')
        rows.append("".join(cells))
    head = th("Run", *keys, "Status", *(label for _, label in _MONEY), "Note")
    alert = ""
    if flagged:
        items = "".join(f"<li>{escape(n)} is identical to {escape(t)}</li>" for n, t in flagged)
        alert = (
            '<div class="alert" id="identical-runs"><strong>Runs identical to an earlier '
            "one.</strong> Their resolved scenario (and so their answer) is the same: the "
            f"variant changes nothing there.<ul>{items}</ul></div>"
        )
    body = [
        "<header>",
        '<div class="kicker">Comparison of runs</div>',
        f"<h1>{escape(heading)}</h1>",
        f'<div class="meta">{len(runs)} runs &middot; engine {escape(__version__)}</div>',
        "</header>",
        alert,
        _img(
            chart_png,
            "The runs on cost against risk",
            "comparison",
            "Each run's cash committed against its expected loss and CVaR, one colour per variant.",
        ),
        '<section id="runs"><h2>The runs</h2>' + _table(head, rows) + "</section>",
        "<footer>Money in euros over the window. The same table, with every column, is in "
        "runs.csv; per good in runs_goods.csv; for spreadsheets in comparison.xlsx.</footer>",
    ]
    return html_page(f"Comparison: {heading}", body)
