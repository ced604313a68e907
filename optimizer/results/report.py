"""``report.html``: one self-contained page a director can read, written for every run.

The page holds the recommended portfolio per good, budget use and the marginal value of money,
the risk of shortfall, supply shares before and after with their concentration, the loss in
each scenario and the assumptions read. Its charts are PNG images embedded as base64 data URIs
and its styles are inline, so the file opens in any browser with nothing beside it.

Every figure taken from ``portfolio.json`` carries ``data-key`` (its dotted JSON path, e.g.
``goods.gallium.stockpile.buy``), ``data-path`` (the same path as a JSON list, for keys that
contain dots) and ``data-value`` (the raw number), so tests and scripts can check the page
against the JSON. Figures read from the scenario carry ``data-input`` (their path in
``resolved.yaml``) and ``data-value`` instead. All text that comes from the scenario is escaped.
"""

from __future__ import annotations

import base64
import json
from html import escape
from pathlib import Path
from typing import Any

from optimizer import __version__
from optimizer.results.charts.run import (
    LEVER_LABELS,
    MAX_CHART_ROWS,
    budget_chart,
    cash_by_good_chart,
    scenario_loss_chart,
    supply_shares_chart,
)
from optimizer.results.solved import SolvedRun

__all__ = ["render_report", "write_report"]

NBSP = "\u00a0"
DASH = "\u2013"


# --- formatting ------------------------------------------------------------------------------


def _top_note(count: int, what: str) -> str:
    """A caption's note when a chart shows only the largest entries."""
    if count <= MAX_CHART_ROWS:
        return ""
    return (
        f" The chart shows the {MAX_CHART_ROWS} largest of {count:,} {what}; the table lists all."
    )


def fmt_money(v: float | None) -> str:
    """Euros, always in millions with thousands separators: ``EUR 1,234.5 M``, ``EUR 0.078 M``."""
    if v is None:
        return DASH
    if abs(v) < 0.5:  # solver noise (1e-9 euros) reads as zero
        return f"EUR{NBSP}0"
    m = v / 1e6
    text = f"{m:,.1f}" if abs(m) >= 0.95 else f"{m:,.2g}"
    return f"EUR{NBSP}{text}{NBSP}M"


def fmt_qty(v: float | None, unit: str = "") -> str:
    """A quantity with thousands separators and its unit: ``40 t``, ``1,436.8 t``, ``0.024 t``."""
    if v is None:
        return DASH
    if v == 0:
        text = "0"
    elif abs(v) >= 100:
        text = f"{v:,.0f}"
    elif abs(v) >= 1:
        text = f"{v:,.1f}"
        text = text[:-2] if text.endswith(".0") else text
    else:
        text = f"{v:.2g}"
    return f"{text}{NBSP}{unit}" if unit else text


def fmt_share(v: float | None) -> str:
    """A fraction as a percentage: ``75.0 %``, ``0.012 %``."""
    if v is None:
        return DASH
    p = v * 100
    text = f"{p:.1f}" if (p == 0 or abs(p) >= 0.1) else f"{p:.2g}"
    return f"{text}{NBSP}%"


def fmt_days(v: float | None) -> str:
    return DASH if v is None else f"{v:,.0f}{NBSP}days"


def fmt_duration_years(years: float | None) -> str:
    if years is None:
        return DASH
    months = years * 12
    if abs(months - round(months)) < 1e-6 and months < 36 and round(months) % 12:
        return f"{round(months)}{NBSP}months"
    text = f"{years:,.2f}".rstrip("0").rstrip(".")
    return f"{text}{NBSP}{'year' if text == '1' else 'years'}"


def _label(name: str) -> str:
    return name.replace("_", " ")


def _num_attrs(path: list[str], value: float | None, attr: str = "data-key") -> str:
    if value is None or isinstance(value, bool):
        return ""
    dotted = ".".join(str(p) for p in path)
    out = f' {attr}="{escape(dotted)}" data-value="{float(value)!r}"'
    if attr == "data-key":
        out += f' data-path="{escape(json.dumps([str(p) for p in path]))}"'
    return out


def num(text: str, path: list[str] | None = None, value: float | None = None) -> str:
    """An inline figure from ``portfolio.json`` (a span carrying its JSON path and raw value)."""
    attrs = _num_attrs(path, value) if path is not None else ""
    return f'<span class="fig"{attrs}>{escape(text)}</span>'


def td(text: str, path: list[str] | None = None, value: float | None = None, cls: str = "n") -> str:
    """A table cell; numeric cells are right-aligned and carry their JSON path and raw value."""
    attrs = _num_attrs(path, value) if path is not None else ""
    return f'<td class="{cls}"{attrs}>{escape(text)}</td>'


def td_in(text: str, path: list[str] | None = None, value: Any = None, cls: str = "n") -> str:
    """A table cell holding an assumption read from the scenario (``data-input``)."""
    attrs = ""
    if path is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        attrs = _num_attrs(path, value, attr="data-input")
    return f'<td class="{cls}"{attrs}>{escape(text)}</td>'


def th(*labels: str) -> str:
    return "<tr>" + "".join(f"<th>{escape(x)}</th>" for x in labels) + "</tr>"


def _table(head: str, rows: list[str], cls: str = "") -> str:
    body = "\n".join(f"<tr>{r}</tr>" for r in rows)
    return (
        f'<div class="tw"><table class="{cls}"><thead>{head}</thead>'
        f"<tbody>\n{body}\n</tbody></table></div>"
    )


def _img(png: bytes | None, alt: str, name: str, caption: str) -> str:
    if not png:
        return ""
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{escape(alt)}" '
        f'data-chart="{escape(name)}"><figcaption>{escape(caption)}</figcaption></figure>'
    )


# --- page ------------------------------------------------------------------------------------

CSS = """
:root { --ink:#1c2733; --muted:#5b6670; --line:#d5dbe1; --band:#f3f6f9; --accent:#1f4e79;
        --ok:#2d7d46; --warn:#a86400; --bad:#b03a2e; }
* { box-sizing: border-box; }
body { margin:0; background:#eef1f4; color:var(--ink);
       font: 15px/1.5 "Segoe UI", "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; background:#fff; padding: 32px 48px 48px;
       box-shadow: 0 0 12px rgba(0,0,0,.08); }
header { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 8px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: var(--muted); }
h1 { font-size: 27px; margin: 4px 0 6px; line-height: 1.25; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line);
     color: var(--accent); }
h3 { font-size: 16px; margin: 22px 0 6px; }
p { margin: 6px 0 10px; }
.lead { color: var(--muted); margin: 0; }
.meta { color: var(--muted); font-size: 13px; margin-top: 8px; }
.badge { display:inline-block; padding: 1px 9px; border-radius: 10px; color:#fff; font-size: 12.5px;
         font-weight: 600; vertical-align: 2px; }
.badge.ok { background: var(--ok); } .badge.warn { background: var(--warn); }
.badge.bad { background: var(--bad); }
.alert { border-left: 5px solid var(--warn); background: #fff6e5; padding: 10px 14px;
         margin: 14px 0; }
.alert.bad { border-color: var(--bad); background: #fdeceb; }
.cards { display:grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 16px 0 8px; }
.card { background: var(--band); border: 1px solid var(--line); border-radius: 6px;
        padding: 10px 14px; }
.card .label { font-size: 12.5px; color: var(--muted); }
.card .value { font-size: 21px; font-weight: 650; margin-top: 2px; white-space: nowrap; }
ul.recs { padding-left: 20px; margin: 6px 0 14px; } ul.recs li { margin: 4px 0; }
.tw { overflow-x: auto; margin: 8px 0 14px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th { text-align: left; background: var(--band); border-bottom: 2px solid var(--line);
     padding: 6px 8px;
     font-weight: 600; vertical-align: bottom; }
td { border-bottom: 1px solid var(--line); padding: 5px 8px; vertical-align: top; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.t { text-align: left; }
tbody tr:nth-child(even) td { background: #fafbfc; }
table.compact { font-size: 12.5px; } table.compact td, table.compact th { padding: 4px 6px; }
figure { margin: 12px 0 18px; } figure img { max-width: 100%; height: auto; display:block; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
.note { color: var(--muted); font-size: 13px; }
.fig { font-variant-numeric: tabular-nums; white-space: nowrap; }
footer { margin-top: 36px; padding-top: 10px; border-top: 1px solid var(--line);
         color: var(--muted);
         font-size: 12.5px; }
@media print { body { background:#fff; } main { box-shadow:none; padding: 0; }
               h2 { break-after: avoid; } figure, table { break-inside: avoid; } }
@media (max-width: 800px) { .cards { grid-template-columns: repeat(2, 1fr); }
                            main { padding: 16px; } }
"""


class _Page:
    def __init__(self, pf: dict, resolved: dict):
        self.pf = pf
        self.res = resolved or {}
        self.goods = pf.get("goods") or {}
        self.countries = {
            k: (v or {}).get("name") or k for k, v in (self.res.get("countries") or {}).items()
        }

    def unit(self, g: str) -> str:
        return (self.goods.get(g) or {}).get("unit") or (
            (self.res.get("goods") or {}).get(g, {}).get("unit") or ""
        )

    def money(self, *path: str) -> str:
        """An amount of money from ``portfolio.json`` at ``path``, formatted and tagged."""
        value = self.pf
        for part in path:
            value = value[part]
        return num(fmt_money(value), list(path), value)

    def country(self, c: str) -> str:
        return "EU domestic production" if c == "domestic" else self.countries.get(c, c)

    # -- sections ------------------------------------------------------------------------------

    def header(self) -> str:
        pf = self.pf
        status = pf.get("status") or "unknown"
        cls = {"optimal": "ok", "time_limit": "warn"}.get(status, "bad")
        status_text = {
            "optimal": "optimal",
            "time_limit": "stopped by the time limit",
        }.get(status, status)
        sha = (pf.get("input_sha256") or "")[:12]
        desc = (self.res.get("description") or "").strip()
        out = [
            "<header>",
            '<div class="kicker">Stockpile and mitigation portfolio</div>',
            f"<h1>{escape(pf.get('scenario') or 'Unnamed scenario')}</h1>",
            f'<p class="lead">{escape(desc)}</p>' if desc else "",
            f'<div class="meta">Solver status: <span class="badge {cls}" id="status" '
            f'data-status="{escape(status)}">{escape(status_text)}</span>'
            f" &middot; engine {escape(str(pf.get('engine_version') or __version__))}"
            f" &middot; input SHA-256 {escape(sha)}&hellip;</div>",
            "</header>",
        ]
        if status == "time_limit":
            gap = pf.get("mip_gap")
            gap_text = fmt_share(gap) if gap is not None else "an unknown margin"
            out.append(
                '<div class="alert" id="time-limit-warning"><strong>Stopped by the time '
                "limit.</strong> The portfolio below is the best one found, not a proven "
                f"optimum: it may cost up to {num(gap_text, ['mip_gap'], gap)} more than the "
                "best possible portfolio (the optimality gap). Rerun with a longer time limit "
                "before committing money.</div>"
            )
        elif status != "optimal":
            out.append(
                '<div class="alert bad" id="no-solution"><strong>No portfolio.</strong> The '
                f"solver ended with status {escape(status)} "
                f"({escape(str(pf.get('termination') or ''))}). See the assumptions below and "
                "the command's message for the requirements that conflict.</div>"
            )
        return "\n".join(out)

    def summary(self) -> str:
        cost = self.pf.get("cost")
        if not cost:
            return ""
        years = (self.res.get("window") or {}).get("years")
        alpha = cost.get("cvar_alpha", 0.95)
        tail = 1 - alpha
        cards = [
            (
                "Cash to commit over the window",
                cost["first_stage_cash"],
                ["cost", "first_stage_cash"],
            ),
            ("Expected shortfall damage", cost["expected_loss"], ["cost", "expected_loss"]),
            (f"Average damage in the worst {tail:.0%} of outcomes", cost["cvar"], ["cost", "cvar"]),
            (
                "Expected total cost, normal purchases included",
                self.pf.get("objective"),
                ["objective"],
            ),
        ]
        html = ['<section id="summary"><h2>In short</h2><div class="cards">']
        for label, v, path in cards:
            html.append(
                f'<div class="card"><div class="label">{escape(label)}</div>'
                f'<div class="value">{num(fmt_money(v), path, v)}</div></div>'
            )
        html.append("</div>")
        window = f"the {years:g}-year window" if years else "the window"
        html.append(
            f"<p>The recommended portfolio commits "
            f"{self.money('cost', 'first_stage_cash')}"
            f" of cash over {window}. Its economic cost, after what the stock is still worth at "
            f"the end and the share of plants' life used up, is "
            f"{self.money('cost', 'first_stage_economic')}."
            f" With it, the damage of the supply that is still missing is expected at "
            f"{self.money('cost', 'expected_loss')}"
            f" across the scenarios, and averages "
            f"{num(fmt_money(cost['cvar']), ['cost', 'cvar'], cost['cvar'])} in the worst "
            f"{tail:.0%} of outcomes.</p>"
        )
        html.append(self._budget_sentence())
        html.append("</section>")
        return "\n".join(html)

    def _budget_sentence(self) -> str:
        budget = self.pf.get("budget") or {}
        binding = []
        total = budget.get("total") or {}
        if total.get("marginal_value"):
            binding.append(
                ("the total budget", ["budget", "total", "marginal_value"], total["marginal_value"])
            )
        for name, line in (budget.get("lines") or {}).items():
            if line.get("marginal_value"):
                binding.append(
                    (
                        f"the {_label(name)}",
                        ["budget", "lines", name, "marginal_value"],
                        line["marginal_value"],
                    )
                )
        if not binding:
            return (
                "<p>No budget limit binds: more money would not lower the expected cost. The "
                "portfolio is limited by the options on offer, not by money.</p>"
            )
        parts = [
            f"{escape(label)} (one more euro saves {num(f'EUR {mv:,.2f}', path, mv)})"
            for label, path, mv in binding
        ]
        return (
            "<p>Money is short: the portfolio uses all of " + "; all of ".join(parts) + ". "
            "A saving above EUR 1.00 per euro means that raising that budget pays for itself "
            "in expected avoided damage and costs.</p>"
        )

    def supplier(self, g: str, s: str) -> str:
        """A supplier's name with its country: ``usa (United States)``."""
        sup = (((self.res.get("goods") or {}).get(g) or {}).get("suppliers") or {}).get(s) or {}
        country = self.country(sup["country"]) if sup.get("country") else ""
        label = _label(s)
        return f"{label} ({country})" if country and country.lower() != label.lower() else label

    def _reserve_text(self, g: str) -> list[str]:
        unit = self.unit(g)
        return [
            f"{escape(self.supplier(g, s))} "
            + num(fmt_qty(q, unit + "/yr"), ["goods", g, "reserve", s], q)
            for s, q in (self.goods[g].get("reserve") or {}).items()
            if q
        ]

    def portfolio(self) -> str:
        if not self.goods:
            return ""
        recs, rows = [], []
        for g, v in self.goods.items():
            unit = self.unit(g)
            st, dom, dr = v["stockpile"], v["domestic"], v.get("demand_reduction") or {}
            bits = []
            if st["buy"] > 0:
                days = st.get("days_of_cover")
                days_text = (
                    " (the stock then covers "
                    f"{num(fmt_days(days), ['goods', g, 'stockpile', 'days_of_cover'], days)}"
                    " of normal demand)"
                    if days is not None
                    else ""
                )
                bits.append(
                    "buy "
                    f"{num(fmt_qty(st['buy'], unit), ['goods', g, 'stockpile', 'buy'], st['buy'])} "
                    f"into the strategic stock{days_text}"
                )
            res = self._reserve_text(g)
            if res:
                bits.append("reserve capacity with " + ", ".join(res))
            cap_path = ["goods", g, "domestic", "capacity"]
            cut_path = ["goods", g, "demand_reduction", "expected_reduction"]
            if dom["capacity"] > 0:
                bits.append(
                    "build "
                    f"{num(fmt_qty(dom['capacity'], unit + '/yr'), cap_path, dom['capacity'])}"
                    " of domestic capacity"
                )
            if dr.get("prepared"):
                bits.append("prepare the demand measures")
            cut = dr.get("expected_reduction") or 0.0
            if cut > 0:
                bits.append(
                    "cut demand during disruptions (expected "
                    f"{num(fmt_qty(cut, unit), cut_path, cut)}"
                    " over the window)"
                )
            if not bits:
                action = (
                    "no action: the market and the other goods' levers are the better use of money"
                )
            else:
                action = "; ".join(bits)
            recs.append(
                f"<li><strong>{escape(_label(g).capitalize())}</strong>: {action}. Cash "
                f"{num(fmt_money(v['cash']), ['goods', g, 'cash'], v['cash'])}.</li>"
            )
            reserve_cell = ", ".join(self._reserve_text(g)) or "none"
            rows.append(
                f'<td class="t">{escape(_label(g))}</td>'
                + td(fmt_qty(st["buy"], unit), ["goods", g, "stockpile", "buy"], st["buy"])
                + td(fmt_qty(st["level"], unit), ["goods", g, "stockpile", "level"], st["level"])
                + td(
                    fmt_days(st.get("days_of_cover")),
                    ["goods", g, "stockpile", "days_of_cover"],
                    st.get("days_of_cover"),
                )
                + f'<td class="t">{reserve_cell}</td>'
                + td(
                    fmt_qty(dom["capacity"], unit + "/yr"),
                    ["goods", g, "domestic", "capacity"],
                    dom["capacity"],
                )
                + td(
                    fmt_qty(dr.get("expected_reduction", 0.0), unit),
                    ["goods", g, "demand_reduction", "expected_reduction"],
                    dr.get("expected_reduction", 0.0),
                )
                + td(fmt_money(v["cash"]), ["goods", g, "cash"], v["cash"])
                + td(
                    fmt_money(v["economic_cost"]), ["goods", g, "economic_cost"], v["economic_cost"]
                )
            )
        head = th(
            "Good", "Stock bought", "Stock held", "Stock held (days of demand)",
            "Reserved supplier capacity", "Domestic capacity built",
            "Demand cut (expected, over the window)", "Cash", "Economic cost",
        )  # fmt: skip
        lever_rows = []
        for g, v in self.goods.items():
            cells = "".join(
                td(
                    fmt_money(v["cash_by_lever"].get(lv, 0.0)),
                    ["goods", g, "cash_by_lever", lv],
                    v["cash_by_lever"].get(lv, 0.0),
                )
                for lv in LEVER_LABELS
            )
            lever_rows.append(
                f'<td class="t">{escape(_label(g))}</td>'
                + cells
                + td(fmt_money(v["cash"]), ["goods", g, "cash"], v["cash"])
            )
        lever_head = th("Good", *LEVER_LABELS.values(), "Total")
        return "\n".join(
            [
                '<section id="portfolio"><h2>What to buy and build</h2>',
                "<p>The recommended portfolio, good by good. Stock is bought once, before any "
                "disruption, and released only during one; reserved capacity is a contract that "
                "keeps a supplier's volume available to us; domestic capacity produces after its "
                "lead time.</p>",
                '<ul class="recs">' + "\n".join(recs) + "</ul>",
                _table(head, rows),
                _img(
                    cash_by_good_chart(self.pf),
                    "Cash per good and lever",
                    "cash-by-good",
                    "Cash committed over the window per good, by lever (EUR million)."
                    + _top_note(len(self.pf.get("goods") or {}), "goods"),
                ),  # fmt: skip
                "<h3>Cash per lever</h3>",
                _table(lever_head, lever_rows, "compact"),
                '<p class="note">Cash is what the budget pays over the window: purchases into '
                "stock and its storage, contract fees, plant investment, preparation of demand "
                "measures. Economic cost deducts the value of stock still held at the end "
                "(expected over the scenarios) and counts plant investment only for the share of "
                "its life within the window.</p>",
                "</section>",
            ]
        )

    def budget(self) -> str:
        budget = self.pf.get("budget")
        if not budget:
            return ""
        rows = []
        items = [("Total budget", ["budget", "total"], budget.get("total") or {})]
        items += [
            (_label(n), ["budget", "lines", n], line)
            for n, line in (budget.get("lines") or {}).items()
        ]
        res_lines = ((self.res.get("budget") or {}).get("lines")) or {}
        for i, (label, path, b) in enumerate(items):
            limit, used, mv = b.get("limit"), b.get("used", 0.0), b.get("marginal_value", 0.0)
            share = used / limit if limit else None
            covers = "all levers and goods"
            if i > 0:
                spec = res_lines.get(path[-1]) or {}
                lev = spec.get("levers")
                gds = spec.get("goods")
                covers = (", ".join(_label(x) for x in lev) if lev else "all levers") + (
                    " for " + ", ".join(_label(x) for x in gds) if gds else ""
                )
            state = "binding" if mv else ("no limit" if limit is None else "not binding")
            rows.append(
                f'<td class="t">{escape(label)}</td><td class="t">{escape(covers)}</td>'
                + (
                    td(fmt_money(limit), path + ["limit"], limit)
                    if limit is not None
                    else td("no limit")
                )
                + td(fmt_money(used), path + ["used"], used)
                + td(fmt_share(share))
                + td(f"EUR {mv:,.2f}", path + ["marginal_value"], mv)
                + f'<td class="t">{state}</td>'
            )
        head = th(
            "Budget", "Covers", "Limit", "Cash used", "Share used",
            "Saving from one more euro", "State",
        )  # fmt: skip
        return "\n".join(
            [
                '<section id="budget"><h2>Budget use</h2>',
                "<p>How much of each budget the portfolio uses, and what one more euro of it "
                "would be worth: the expected cost (damage and operating cost) it would save. A "
                "budget that is not fully used is worth nothing more at the margin.</p>",
                _table(head, rows),
                _img(
                    budget_chart(self.pf),
                    "Budget use per line",
                    "budget",
                    "Cash used against the limit of each budget (EUR million).",
                ),  # fmt: skip
                f'<p class="note">Marginal values are read from the '
                f"{escape(str(budget.get('marginal_values_from') or 'LP'))}.</p>",
                "</section>",
            ]
        )

    def risk(self) -> str:
        if not self.goods:
            return ""
        rows = []
        for g, v in self.goods.items():
            unit = self.unit(g)
            rows.append(
                f'<td class="t">{escape(_label(g))}</td>'
                + td(
                    fmt_qty(v["expected_shortfall"], unit),
                    ["goods", g, "expected_shortfall"],
                    v["expected_shortfall"],
                )
                + td(
                    fmt_share(v.get("expected_shortfall_share")),
                    ["goods", g, "expected_shortfall_share"],
                    v.get("expected_shortfall_share"),
                )
                + td(
                    fmt_qty(v["worst_shortfall"], unit),
                    ["goods", g, "worst_shortfall"],
                    v["worst_shortfall"],
                )
                + td(
                    fmt_money(v["expected_damage"]),
                    ["goods", g, "expected_damage"],
                    v["expected_damage"],
                )
            )
        head = th(
            "Good", "Expected shortfall (over the window)", "Share of demand",
            "Worst-case shortfall (worst scenario)", "Expected damage",
        )  # fmt: skip
        cost = self.pf.get("cost") or {}
        alpha = cost.get("cvar_alpha", 0.95)
        weight = cost.get("cvar_weight", 0.0)
        cvar = cost.get("cvar")
        return "\n".join(
            [
                '<section id="risk"><h2>Risk of shortfall</h2>',
                "<p>What is still missing with the recommended portfolio: the supply that no "
                "stock, contract, plant or demand measure covers. Expected values weigh each "
                "scenario by its probability; the worst case is the largest shortfall in any "
                "one scenario.</p>",
                _table(head, rows),
                f"<p>Across all goods, the damage in the worst {1 - alpha:.0%} of outcomes "
                f"averages {num(fmt_money(cvar), ['cost', 'cvar'], cvar)} (conditional value at "
                f"risk at {alpha:.0%}); the objective weighs it by {weight:g}.</p>",
                "</section>",
            ]
        )

    def _shares_text(self, g: str, when: str) -> str:
        shares = (self.goods[g].get("supply_shares") or {}).get(when) or {}
        if not shares:
            return "none"
        return ", ".join(
            escape(self.country(c))
            + " "
            + num(fmt_share(s), ["goods", g, "supply_shares", when, c], s)
            for c, s in shares.items()
        )

    def supply(self) -> str:
        if not self.goods:
            return ""
        rows = []
        for g, v in self.goods.items():
            hhi = v.get("hhi") or {}
            rows.append(
                f'<td class="t">{escape(_label(g))}</td>'
                f'<td class="t">{self._shares_text(g, "before")}</td>'
                + td(
                    f"{hhi.get('before', 0):.3f}", ["goods", g, "hhi", "before"], hhi.get("before")
                )
                + f'<td class="t">{self._shares_text(g, "after")}</td>'
                + td(f"{hhi.get('after', 0):.3f}", ["goods", g, "hhi", "after"], hhi.get("after"))
            )
        head = th(
            "Good",
            "Before: supply shares",
            "Concentration before (HHI)",
            "After: supply shares",
            "Concentration after (HHI)",
        )
        names = {c: self.country(c) for c in self.countries}
        return "\n".join(
            [
                '<section id="supply"><h2>Where supply comes from</h2>',
                "<p>Shares of each good's supply in normal times (no disruption). "
                "<em>Before</em>: no levers, each good bought from the cheapest suppliers first. "
                "<em>After</em>: with the recommended portfolio over the window, domestic "
                "production included. Concentration is the Herfindahl-Hirschman index, the sum "
                "of squared shares: 1 means a single supplier, lower is more diverse.</p>",
                _img(
                    supply_shares_chart(self.pf, names),
                    "Supply shares before and after",
                    "supply-shares",
                    "Normal-time supply shares by country, before and after the portfolio; the "
                    "dashed line marks 65 %, the EU Critical Raw Materials Act benchmark."
                    + _top_note(len(self.pf.get("goods") or {}), "goods"),
                ),  # fmt: skip
                _table(head, rows),
                "</section>",
            ]
        )

    def scenarios(self) -> str:
        scen = self.pf.get("scenarios") or {}
        if not scen:
            return ""
        goods = list(self.goods)
        rows = []
        for k, s in scen.items():
            cells = "".join(
                td(
                    fmt_qty(s["shortfall"].get(g, 0.0), self.unit(g)),
                    ["scenarios", k, "shortfall", g],
                    s["shortfall"].get(g, 0.0),
                )
                for g in goods
            )
            rows.append(
                f'<td class="t">{escape(_label(k))}</td>'
                + td(fmt_share(s["probability"]), ["scenarios", k, "probability"], s["probability"])
                + td(fmt_money(s["loss"]), ["scenarios", k, "loss"], s["loss"])
                + td(fmt_money(s.get("cost")), ["scenarios", k, "cost"], s.get("cost"))
                + cells
            )
        head = th(
            "Scenario", "Probability", "Shortfall damage", "Operating cost and damage",
            *[f"Shortfall: {_label(g)}" for g in goods],
        )  # fmt: skip
        return "\n".join(
            [
                '<section id="scenarios"><h2>Scenarios</h2>',
                "<p>The loss in each scenario with the recommended portfolio: the damage of "
                "supply not delivered, and the whole second-stage cost (purchases at the "
                "scenario's prices, production, demand measures and damage). Shortfalls are in "
                "units over the window.</p>",
                _img(
                    scenario_loss_chart(self.pf),
                    "Shortfall damage per scenario",
                    "scenario-loss",
                    "Shortfall damage in each scenario (EUR million), with its probability."
                    + _top_note(len(self.pf.get("scenarios") or {}), "scenarios"),
                ),  # fmt: skip
                _table(head, rows, "compact"),
                "</section>",
            ]
        )

    # -- assumptions ---------------------------------------------------------------------------

    def assumptions(self) -> str:
        r = self.res
        out = ['<section id="assumptions"><h2>Assumptions read</h2>']
        out.append(
            "<p>The figures the engine read from the scenario file, after <code>extends:</code> "
            "and any overrides. Money is in euros, flows per year, per-unit money per unit of "
            "the good. Replace illustrative assumptions with the taskforce's own data before "
            "reading the results as advice.</p>"
        )
        w = r.get("window") or {}
        b = r.get("budget") or {}
        risk = r.get("risk") or {}
        rows = [
            '<td class="t">Planning window</td>'
            + td_in(
                f"{w.get('years', 0):g} years in {w.get('period', '')}s",
                ["window", "years"],
                w.get("years"),
                "t",
            ),
            '<td class="t">Total budget</td>'
            + td_in(
                fmt_money(b.get("total")) if b.get("total") is not None else "no limit",
                ["budget", "total"],
                b.get("total"),
                "t",
            ),
        ]
        for name, line in (b.get("lines") or {}).items():
            rows.append(
                f'<td class="t">Budget line: {escape(_label(name))}</td>'
                + td_in(
                    fmt_money(line.get("limit")),
                    ["budget", "lines", name, "limit"],
                    line.get("limit"),
                    "t",
                )
            )
        cap = risk.get("concentration_cap")
        if cap:
            countries = cap.get("countries")
            rows.append(
                '<td class="t">Concentration cap (normal-time share of one country)</td>'
                + td_in(
                    f"{fmt_share(cap.get('share'))} for "
                    + (
                        ", ".join(self.country(c) for c in countries)
                        if countries
                        else "every country"
                    ),
                    ["risk", "concentration_cap", "share"],
                    cap.get("share"),
                    "t",
                )  # fmt: skip
            )
        else:
            rows.append('<td class="t">Concentration cap</td><td class="t">off</td>')
        cv = risk.get("cvar")
        if cv:
            text = f"alpha {fmt_share(cv.get('alpha'))}, weight {cv.get('weight', 0):g}"
            if cv.get("limit") is not None:
                text += f", limit {fmt_money(cv.get('limit'))}"
            rows.append(
                '<td class="t">Risk aversion (CVaR of shortfall damage)</td>'
                + td_in(text, ["risk", "cvar", "weight"], cv.get("weight"), "t")
            )
        out.append(_table(th("Setting", "Value"), rows))
        out.append(self._goods_assumptions())
        out.append(self._supplier_assumptions())
        out.append(self._disruption_assumptions())
        out.append(self._solver_facts())
        out.append("</section>")
        return "\n".join(out)

    def _goods_assumptions(self) -> str:
        goods = self.res.get("goods") or {}
        rows, stock_rows, dom_rows, dr_rows = [], [], [], []
        for g, v in goods.items():
            unit = v.get("unit") or ""
            p = ["goods", g]
            rows.append(
                f'<td class="t">{escape(_label(g))}</td><td class="t">{escape(unit)}</td>'
                + td_in(fmt_qty(v.get("demand"), unit + "/yr"), p + ["demand"], v.get("demand"))
                + td_in(_per_unit(v.get("damage"), unit), p + ["damage"], v.get("damage"))
                + td_in(
                    fmt_days(v.get("coverage_days")), p + ["coverage_days"], v.get("coverage_days")
                )
                + td_in(
                    fmt_share(v.get("max_shortfall")), p + ["max_shortfall"], v.get("max_shortfall")
                )
            )
            st = v.get("stockpile")
            if st:
                q = p + ["stockpile"]
                stock_rows.append(
                    f'<td class="t">{escape(_label(g))}</td>'
                    + td_in(fmt_qty(st.get("initial"), unit), q + ["initial"], st.get("initial"))
                    + td_in(
                        fmt_qty(st.get("max"), unit) if st.get("max") is not None else "no limit",
                        q + ["max"],
                        st.get("max"),
                    )
                    + td_in(
                        _per_unit(st.get("unit_cost"), unit), q + ["unit_cost"], st.get("unit_cost")
                    )
                    + td_in(
                        _per_unit(st.get("storage_cost"), unit + "/yr"),
                        q + ["storage_cost"],
                        st.get("storage_cost"),
                    )
                    + td_in(
                        fmt_share(st.get("residual_value")),
                        q + ["residual_value"],
                        st.get("residual_value"),
                    )
                    + td_in(
                        fmt_qty(st.get("max_release"), unit + "/yr")
                        if st.get("max_release") is not None
                        else "no limit",
                        q + ["max_release"],
                        st.get("max_release"),
                    )
                )
            dom = v.get("domestic")
            if dom:
                q = p + ["domestic"]
                dom_rows.append(
                    f'<td class="t">{escape(_label(g))}</td>'
                    + td_in(
                        _per_unit(dom.get("capex"), unit + "/yr of capacity"),
                        q + ["capex"],
                        dom.get("capex"),
                    )
                    + td_in(
                        fmt_money(dom.get("fixed_cost")), q + ["fixed_cost"], dom.get("fixed_cost")
                    )
                    + td_in(
                        _per_unit(dom.get("unit_cost"), unit),
                        q + ["unit_cost"],
                        dom.get("unit_cost"),
                    )
                    + td_in(fmt_qty(dom.get("max"), unit + "/yr"), q + ["max"], dom.get("max"))
                    + td_in(str(dom.get("lead_time") or DASH))
                    + td_in(str(dom.get("lifetime") or "whole cost counted"))
                )
            dr = v.get("demand_reduction")
            if dr:
                q = p + ["demand_reduction"]
                dr_rows.append(
                    f'<td class="t">{escape(_label(g))}</td>'
                    + td_in(fmt_share(dr.get("max_share")), q + ["max_share"], dr.get("max_share"))
                    + td_in(
                        _per_unit(dr.get("unit_cost"), unit), q + ["unit_cost"], dr.get("unit_cost")
                    )
                    + td_in(
                        fmt_money(dr.get("preparation_cost")),
                        q + ["preparation_cost"],
                        dr.get("preparation_cost"),
                    )
                )
        parts = [
            "<h3>Goods: demand and damage</h3>",
            _table(
                th(
                    "Good",
                    "Unit",
                    "Normal demand",
                    "Damage per unit not supplied",
                    "Required stock (days)",
                    "Largest shortfall allowed",
                ),
                rows,
                "compact",
            ),
        ]
        if stock_rows:
            parts += [
                "<h3>Strategic stock</h3>",
                _table(
                    th(
                        "Good",
                        "Held at start",
                        "Largest stock",
                        "Price per unit",
                        "Storage per unit and year",
                        "Value kept at the end",
                        "Largest release",
                    ),
                    stock_rows,
                    "compact",
                ),
            ]
        if dom_rows:
            parts += [
                "<h3>Domestic capacity</h3>",
                _table(
                    th(
                        "Good",
                        "Investment per unit of yearly capacity",
                        "Fixed plant cost",
                        "Production cost",
                        "Largest capacity",
                        "Lead time",
                        "Economic life",
                    ),
                    dom_rows,
                    "compact",
                ),
            ]
        if dr_rows:
            parts += [
                "<h3>Demand measures</h3>",
                _table(
                    th(
                        "Good",
                        "Largest share of demand cut",
                        "Cost per unit cut",
                        "Preparation cost",
                    ),
                    dr_rows,
                    "compact",
                ),
            ]
        return "\n".join(parts)

    def _supplier_assumptions(self) -> str:
        rows = []
        for g, v in (self.res.get("goods") or {}).items():
            unit = v.get("unit") or ""
            for s, sup in (v.get("suppliers") or {}).items():
                q = ["goods", g, "suppliers", s]
                res = sup.get("reserve") or {}
                rows.append(
                    f'<td class="t">{escape(_label(g))}</td><td class="t">{escape(_label(s))}</td>'
                    f'<td class="t">{escape(self.country(sup.get("country", "")))}</td>'
                    + td_in(
                        _per_unit(sup.get("unit_cost"), unit),
                        q + ["unit_cost"],
                        sup.get("unit_cost"),
                    )
                    + td_in(
                        fmt_qty(sup.get("capacity"), unit + "/yr"),
                        q + ["capacity"],
                        sup.get("capacity"),
                    )
                    + td_in(str(sup.get("spot_lead_time") or DASH).replace("0 years", DASH))
                    + (
                        td_in(
                            fmt_qty(res.get("max"), unit + "/yr"),
                            q + ["reserve", "max"],
                            res.get("max"),
                        )
                        + td_in(
                            _per_unit(res.get("fee"), unit + "/yr per year"),
                            q + ["reserve", "fee"],
                            res.get("fee"),
                        )
                        + td_in(
                            fmt_money(res.get("fixed_cost")),
                            q + ["reserve", "fixed_cost"],
                            res.get("fixed_cost"),
                        )
                        if res
                        else td_in("none offered", cls="t") + td_in(DASH) + td_in(DASH)
                    )
                )
        if not rows:
            return ""
        return "\n".join(
            [
                "<h3>Suppliers</h3>",
                _table(
                    th(
                        "Good",
                        "Supplier",
                        "Country",
                        "Normal price",
                        "Capacity available to us",
                        "Spot lead time in a disruption",
                        "Largest reservation",
                        "Reservation fee",
                        "Contract signing cost",
                    ),
                    rows,
                    "compact",
                ),  # fmt: skip
            ]
        )

    def _disruption_assumptions(self) -> str:
        rows = []
        for k, d in (self.res.get("disruptions") or {}).items():
            hits = []
            for h in d.get("hits") or []:
                who = ", ".join(self.country(c) for c in h.get("countries") or [])
                what = ", ".join(_label(x) for x in h.get("goods") or []) or "all goods"
                text = f"{who}: {what} cut by {fmt_share(h.get('severity'))}"
                if h.get("start") or h.get("duration"):
                    start = h.get("start") or d.get("start")
                    text += f" (from {start}, for {h.get('duration') or d.get('duration')})"
                hits.append(escape(text))
            q = ["disruptions", k]
            rows.append(
                f'<td class="t">{escape(_label(k))}</td>'
                + td_in(fmt_share(d.get("probability")), q + ["probability"], d.get("probability"))
                + td_in(str(d.get("start") or DASH))
                + td_in(str(d.get("duration") or DASH))
                + f'<td class="t">{"<br>".join(hits)}</td>'
                + td_in(
                    f"x {d.get('price_multiplier', 1):g}",
                    q + ["price_multiplier"],
                    d.get("price_multiplier"),
                )
                + td_in(
                    f"x {d.get('demand_multiplier', 1):g}",
                    q + ["demand_multiplier"],
                    d.get("demand_multiplier"),
                )
            )
        if not rows:
            return "<h3>Disruptions</h3><p>None: only the no-disruption scenario was solved.</p>"
        return "\n".join(
            [
                "<h3>Disruptions</h3>",
                '<p class="note">Probabilities are over the window and exclusive; the engine '
                "adds a no-disruption scenario with what is left.</p>",
                _table(
                    th(
                        "Scenario",
                        "Probability",
                        "Starts after",
                        "Lasts",
                        "What it cuts",
                        "Prices",
                        "Demand",
                    ),
                    rows,
                    "compact",
                ),  # fmt: skip
            ]
        )

    def _solver_facts(self) -> str:
        pf = self.pf
        s = pf.get("solver") or {}
        model = s.get("model") or {}
        rows = [
            '<td class="t">Status</td>'
            f'<td class="t">{escape(str(pf.get("status")))} '
            f"({escape(str(pf.get('termination') or ''))})</td>",
            '<td class="t">Optimality gap</td>'
            + td(
                fmt_share(pf.get("mip_gap")) if pf.get("mip_gap") is not None else DASH,
                ["mip_gap"],
                pf.get("mip_gap"),
                "t",
            ),
            '<td class="t">Solve time</td>'
            + td(f"{s.get('seconds', 0):,.2f} s", ["solver", "seconds"], s.get("seconds"), "t"),
            '<td class="t">Model size</td><td class="t">'
            + escape(
                ", ".join(
                    f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}" for k, v in model.items()
                )
            )
            + "</td>",
            '<td class="t">Input SHA-256 (of resolved.yaml)</td>'
            f'<td class="t">{escape(str(pf.get("input_sha256") or ""))}</td>',
        ]
        return "<h3>How it was solved</h3>" + _table(th("Fact", "Value"), rows, "compact")

    def render(self) -> str:
        title = f"Portfolio report: {self.pf.get('scenario') or 'scenario'}"
        body = [
            self.header(),
            self.summary(),
            self.portfolio(),
            self.budget(),
            self.risk(),
            self.supply(),
            self.scenarios(),
            self.assumptions(),
            "<footer>Written by stockpile-optimizer "
            f"{escape(str(self.pf.get('engine_version') or __version__))}. The figures are the "
            "model's optimum under the assumptions listed above; quantities use the scenario's "
            "units (stock in units, capacities per year, shortfalls over the window), money is "
            "in euros over the window. The same tables are in portfolio.xlsx, the whole answer "
            "in portfolio.json.</footer>",
        ]
        return html_page(title, body)


def html_page(title: str, sections: list[str]) -> str:
    """A self-contained HTML page: the report styles inline, the non-empty ``sections`` (HTML)
    one after the other in ``<main>``; ``title`` is escaped."""
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n"
        + "\n".join(x for x in sections if x)
        + "\n</main>\n</body>\n</html>\n"
    )


def _per_unit(v: float | None, unit: str) -> str:
    """Money per unit, in euros with thousands separators: ``EUR 325,000 per t``."""
    if v is None:
        return DASH
    text = f"{v:,.0f}" if abs(v) >= 100 or v == 0 else f"{v:,.2f}"
    return f"EUR{NBSP}{text}{NBSP}per{NBSP}{unit}" if unit else f"EUR{NBSP}{text}"


def render_report(portfolio: dict, resolved: dict | None = None) -> str:
    """The HTML of ``report.html`` for a ``portfolio.json`` dictionary and the resolved scenario
    (the dictionary of ``resolved.yaml``; assumptions are left out without it)."""
    return _Page(portfolio, resolved or {}).render()


def write_report(result: SolvedRun, path: Path) -> None:
    """Write ``report.html`` for one run to ``path``."""
    html = render_report(result.portfolio, result.loaded.resolved)
    Path(path).write_text(html, encoding="utf-8")
