"""The "Assumptions read" section of ``report.html``: the goods, suppliers, disruptions and
solver settings the engine read from the scenario (after ``extends:`` and ``--set``).

:class:`_Assumptions` is a part of :class:`optimizer.results.report._Page` (which inherits it):
its methods read the page's ``pf`` (``portfolio.json``), ``res`` (``resolved.yaml``) and its
helpers (``unit``, ``money``, ``country``, ``supplier``), kept in one class so the methods moved
here unchanged.
"""

from __future__ import annotations

from html import escape

from optimizer.results.html import (
    DASH,
    _label,
    _per_unit,
    _table,
    fmt_days,
    fmt_money,
    fmt_qty,
    fmt_share,
    td,
    td_in,
    th,
)


class _Assumptions:
    """The assumptions section's methods of the run report's page."""

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
                f'<td class="t">{escape(self.good_label(g))}</td><td class="t">{escape(unit)}</td>'
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
                    f'<td class="t">{escape(self.good_label(g))}</td>'
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
                        _per_unit(st.get("storage_cost"), unit + " a year"),
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
                    f'<td class="t">{escape(self.good_label(g))}</td>'
                    + td_in(
                        _per_unit(dom.get("capex"), unit + " a year of capacity"),
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
                    f'<td class="t">{escape(self.good_label(g))}</td>'
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
                    f'<td class="t">{escape(self.good_label(g))}</td>'
                    f'<td class="t">{escape(self.supplier_label(g, s))}</td>'
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
                            _per_unit(res.get("fee"), unit + " a year of capacity, each year"),
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
