"""The report's sections on who supplies: the limits on supply shares (their rule, what they
cost at the margin and in whole, units over them, the warnings) and, for goods made from
inputs, which upstream hit caused a shortfall. Every figure from ``portfolio.json`` carries
its ``data-key`` (see ``html.py``)."""

from __future__ import annotations

from html import escape

import numpy as np

from optimizer.results.html import _label, _table, fmt_money, fmt_qty, td, th
from optimizer.results.scenario_detail import REPORT_MAX_FUTURES


def _rule(v: dict) -> str:
    word = "at most" if v["kind"] == "max_share" else "at least"
    who = "from each single country listed" if v["per_country"] else "from the countries listed"
    text = f"{word} {v['share']:.0%} {who}"
    if not v["hard"]:
        beyond = "over" if v["kind"] == "max_share" else "short of"
        text += f"; a benchmark at EUR {v['benchmark']:,.0f} per unit {beyond} it"
    return text


def limits_section(pf: dict) -> str:
    """The limits table and the warnings, or nothing when the scenario has no limit."""
    limits = pf.get("limits") or {}
    warnings = pf.get("warnings") or []
    if not limits and not warnings:
        return ""
    explained = any("explained" in v for v in limits.values())
    rows = []
    for name, v in limits.items():
        path = ["limits", name]
        per_point = v["shadow_price"] / 100
        row = (
            f'<td class="t">{escape(_label(name))}</td><td class="t">{escape(_rule(v))}</td>'
            + td(fmt_money(per_point) if abs(per_point) >= 1000 else f"EUR {per_point:,.2f}")
            + (
                td(fmt_qty(v["units_over"]), path + ["units_over"], v["units_over"])
                if not v["hard"]
                else td("hard")
            )
            + (
                td(fmt_money(v["penalty"]), path + ["penalty"], v["penalty"])
                if not v["hard"]
                else td("-")
            )
        )
        if explained:
            cost = (v.get("explained") or {}).get("cost")
            row += (
                td(fmt_money(cost), path + ["explained", "cost"], cost)
                if cost is not None
                else td("-")
            )
        rows.append(row)
    head = th(
        "Limit",
        "Rule",
        "Saving from one more percentage point",
        "Units over a cap (short of a floor)",
        "Penalty",
        *(["Whole cost (solved without it)"] if explained else []),
    )
    notes = "".join(f'<div class="alert">{escape(w)}</div>' for w in warnings)
    return "\n".join(
        [
            '<section id="limits"><h2>Limits on who supplies</h2>',
            "<p>Each limit bounds the share of some countries in a good's supply in normal "
            "times (no disruption), over the window, domestic production included. The saving "
            "from one more percentage point is what loosening the limit by one point would save "
            "in expected cost (0 when it does not bind). A benchmark is not a rule: each unit "
            "over it is paid at its price, and the optimum goes over it where that is cheaper "
            "than complying.</p>",
            _table(head, rows) if rows else "",
            notes,
            "</section>",
        ]
    )


def upstream_section(pf: dict) -> str:
    """Per scenario and downstream good: the shortfall and the inputs (and countries) whose
    disruption caused it; nothing when no such shortfall."""
    upstream = pf.get("upstream") or {}
    entries = [(scen, g, v) for scen, goods in upstream.items() for g, v in goods.items()]
    count = len(entries)
    if count > REPORT_MAX_FUTURES:  # thousands of sampled futures: the largest only
        futures = pf.get("scenarios") or {}
        expected = np.array(
            [(futures.get(s) or {}).get("probability", 0.0) * v["shortfall"] for s, _, v in entries]
        )
        keep = np.sort(np.argsort(-expected, kind="stable")[:REPORT_MAX_FUTURES])
        entries = [entries[i] for i in keep]
    rows = []
    for scen, g, v in entries:
        causes = "; ".join(
            [
                f"{_label(i)} (from {', '.join(cs) if cs else 'its suppliers'})"
                for i, cs in v["inputs"].items()
            ]
            + [
                f"supplier {_label(j)}: material from {', '.join(cs)}"
                for j, cs in (v.get("origin") or {}).items()
            ]
        )
        rows.append(
            f'<td class="t">{escape(_label(scen))}</td><td class="t">{escape(_label(g))}</td>'
            + td(fmt_qty(v["shortfall"]), ["upstream", scen, g, "shortfall"], v["shortfall"])
            + f'<td class="t">{escape(causes)}</td>'
        )
    if not rows:
        return ""
    return "\n".join(
        [
            '<section id="upstream"><h2>Shortfalls caused upstream</h2>',
            "<p>The shortfall of goods made at home from inputs in the periods where an input "
            "was disrupted (with the countries whose supply of it was cut), and of goods whose "
            "suppliers depend on another country's material (origin) in the periods where "
            "that country was hit.</p>",
            ""
            if len(entries) == count
            else f'<p class="note">The {len(entries):,} of {count:,} rows with the largest '
            "expected shortfall (probability x shortfall); every row is in portfolio.json "
            "(<code>upstream</code>).</p>",
            _table(th("Scenario", "Good", "Shortfall (units)", "Upstream hit"), rows),
            "</section>",
        ]
    )
