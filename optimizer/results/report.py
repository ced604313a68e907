"""``report.html``: one self-contained page a director can read, written for every run.

The page holds the recommended portfolio per good, budget use and the marginal value of money,
the risk of shortfall, supply shares before and after with their concentration, the loss in
each scenario and the assumptions read. Its charts are SVG images (``charts/svg.py``) embedded
as base64 data URIs and its styles are inline, so the file opens in any browser with nothing
beside it.

Every figure taken from ``portfolio.json`` carries ``data-key`` (its dotted JSON path, e.g.
``goods.gallium.stockpile.buy``), ``data-path`` (the same path as a JSON list, for keys that
contain dots) and ``data-value`` (the raw number), so tests and scripts can check the page
against the JSON. Figures read from the scenario carry ``data-input`` (their path in
``resolved.yaml``) and ``data-value`` instead. All text that comes from the scenario is escaped.

Why one module over 600 lines: it is the page's sections in reading order, each a short method
of one class; the page shell is in ``html.py`` and the assumptions in ``report_assumptions.py``.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from optimizer import __version__
from optimizer.results.charts.run import (
    LEVER_LABELS,
    budget_chart,
    cash_by_good_chart,
    scenario_loss_chart,
    supply_shares_chart,
)
from optimizer.results.html import (
    _img,
    _label,
    _listed_note,
    _table,
    _top_note,
    fmt_days,
    fmt_money,
    fmt_qty,
    fmt_share,
    html_page,
    num,
    td,
    th,
)
from optimizer.results.report_assumptions import _Assumptions
from optimizer.results.report_findings import _Findings
from optimizer.results.report_limits import limits_section, upstream_section
from optimizer.results.scenario_detail import REPORT_MAX_FUTURES, largest_futures
from optimizer.results.solved import SolvedRun

__all__ = ["render_report", "write_report"]


# --- formatting ------------------------------------------------------------------------------


# --- page ------------------------------------------------------------------------------------


class _Page(_Findings, _Assumptions):
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
        cards += self._baseline_card()
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
        html += [
            self._baseline_sentence(),
            self._budget_sentence(),
            self._normal_shortfall(),
            self._route_sentence(),
        ]
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
        label = self.supplier_label(g, s)
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
                f"<li><strong>{escape(self.good_label(g))}</strong>: {action}. Cash "
                f"{num(fmt_money(v['cash']), ['goods', g, 'cash'], v['cash'])}.</li>"
            )
            reserve_cell = ", ".join(self._reserve_text(g)) or "none"
            rows.append(
                f'<td class="t">{escape(self.good_label(g))}</td>'
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
                f'<td class="t">{escape(self.good_label(g))}</td>'
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
                f'<td class="t">{escape(self.good_label(g))}</td>'
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
                f'<td class="t">{escape(self.good_label(g))}</td>'
                f'<td class="t">{self._shares_text(g, "before")}</td>'
                + td(
                    f"{hhi.get('before', 0):.3f}", ["goods", g, "hhi", "before"], hhi.get("before")
                )
                + f'<td class="t">{self._shares_text(g, "after")}</td>'
                + td(f"{hhi.get('after', 0):.3f}", ["goods", g, "hhi", "after"], hhi.get("after"))
                + "".join(
                    td(f"{w[when]:.3f}", ["goods", g, "hhi_governance", when], w[when])
                    for w in [v.get("hhi_governance")]
                    if w
                    for when in ("before", "after")
                )
            )
        head = th(
            "Good",
            "Before: supply shares",
            "Concentration before (HHI)",
            "After: supply shares",
            "Concentration after (HHI)",
            "Governance-weighted before",
            "Governance-weighted after",
        )
        names = {c: self.country(c) for c in self.countries}
        return "\n".join(
            [
                '<section id="supply"><h2>Where supply comes from</h2>',
                "<p>Shares of each good's supply in normal times (no disruption). "
                "<em>Before</em>: no levers, each good bought from the cheapest suppliers first. "
                "<em>After</em>: with the recommended portfolio over the window, domestic "
                "production included. Concentration is the Herfindahl-Hirschman index, the sum "
                "of squared shares: 1 means a single supplier, lower is more diverse. The "
                "governance-weighted index weighs each country's squared share by its "
                "governance risk, (10 - governance score) / 10 (a country without a score "
                "counts as 5, home production as 0): moving supply to better governed countries "
                "lowers it even where the plain index rises.</p>",
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
        every = self.pf.get("scenarios") or {}
        if not every:
            return ""
        scen = largest_futures(every, REPORT_MAX_FUTURES)
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
            *[f"Shortfall: {self.good_label(g)}" for g in goods],
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
                    + _top_note(len(every), "scenarios", listed=len(scen)),
                ),  # fmt: skip
                _listed_note(len(scen), len(every)),
                _table(head, rows, "compact"),
                "</section>",
            ]
        )

    def render(self) -> str:
        title = f"Portfolio report: {self.pf.get('scenario') or 'scenario'}"
        body = [
            self.header(),
            self.summary(),
            self.portfolio(),
            self.budget(),
            self.risk(),
            self.supply(),
            limits_section(self.pf),
            upstream_section(self.pf),
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


def render_report(portfolio: dict, resolved: dict | None = None) -> str:
    """The HTML of ``report.html`` for a ``portfolio.json`` dictionary and the resolved scenario
    (the dictionary of ``resolved.yaml``; assumptions are left out without it)."""
    return _Page(portfolio, resolved or {}).render()


def write_report(result: SolvedRun, path: Path) -> None:
    """Write ``report.html`` for one run to ``path``."""
    html = render_report(result.portfolio, result.loaded.resolved)
    Path(path).write_text(html, encoding="utf-8")
