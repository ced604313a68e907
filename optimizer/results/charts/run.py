"""Charts of one run for ``report.html``, as small hand-written SVG (``charts/svg.py``).

Each function takes the ``portfolio.json`` dictionary (and what else it needs) and returns the
SVG as bytes, or ``None`` when there is nothing to draw. The report embeds them as data URIs
in ``<img>`` elements, so the page needs no other file. They were matplotlib PNGs until
matplotlib's import and text layout became the largest cost of a small run
(benchmarks/README.md, "A small run, end to end"); the sweep, batch and stress charts, which
are files too, stay matplotlib PNGs.

- :func:`cash_by_good_chart`: first-stage cash per good, stacked by lever.
- :func:`budget_chart`: cash used against the limit of the total budget and of each line.
- :func:`supply_shares_chart`: no-disruption supply shares by country, before and after.
- :func:`scenario_loss_chart`: shortfall damage in each scenario, with its probability.

Goods are named by their display ``label`` where the portfolio carries one (``goods.<g>.label``),
else by their key with ``_`` as spaces.
"""

from __future__ import annotations

from optimizer.results.charts.svg import Bar, Segment, VLine, bar_chart, nice_ticks

LEVER_LABELS = {
    "stockpile": "Strategic stock",
    "reserve": "Reserved supplier capacity",
    "domestic": "Domestic capacity",
    "demand_reduction": "Demand measures",
}
LEVER_COLOURS = {
    "stockpile": "#1f4e79",
    "reserve": "#2e8b8b",
    "domestic": "#c98a1b",
    "demand_reduction": "#7a6a9b",
}
#: China keeps one red throughout; other countries get distinct colours in order of appearance
#: (matplotlib's tab20 and tab20b without their reds), so 34 countries never share a colour.
CHINA_COLOUR = "#b03a2e"
COUNTRY_PALETTE = [
    "#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#9467bd", "#c5b0d5",
    "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7", "#bcbd22", "#dbdb8d",
    "#17becf", "#9edae5", "#393b79", "#5254a3", "#6b6ecf", "#9c9ede", "#637939", "#8ca252",
    "#b5cf6b", "#cedb9c", "#8c6d31", "#bd9e39", "#e7ba52", "#e7cb94", "#7b4173", "#a55194",
    "#ce6dbd", "#de9ed6",
]  # fmt: skip
DOMESTIC_COLOUR = "#333333"
TEXT = "#222222"


def _millions(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.1f}"


#: Charts show at most this many goods or scenarios (the largest); the tables list them all.
MAX_CHART_ROWS = 25


def top_goods(goods: dict, n: int = MAX_CHART_ROWS) -> dict:
    """The ``n`` goods that matter most to the portfolio (cash plus expected damage), in their
    original order; all of them when there are no more than ``n``."""
    if len(goods) <= n:
        return goods
    weight = {g: v.get("cash", 0.0) + v.get("expected_damage", 0.0) for g, v in goods.items()}
    keep = set(sorted(goods, key=lambda g: -weight[g])[:n])
    return {g: v for g, v in goods.items() if g in keep}


def top_scenarios(scenarios: dict, n: int = MAX_CHART_ROWS) -> dict:
    """The ``n`` scenarios with the largest expected loss (probability x loss)."""
    if len(scenarios) <= n:
        return scenarios
    ranked = sorted(scenarios, key=lambda k: -scenarios[k]["probability"] * scenarios[k]["loss"])
    keep = set(ranked[:n])
    return {k: v for k, v in scenarios.items() if k in keep}


def _label(name: str, item: dict | None = None) -> str:
    """A good's (or line's) name for people: its ``label`` if the portfolio has one, else the
    key with spaces for underscores."""
    if item and item.get("label"):
        return str(item["label"])
    return name.replace("_", " ")


def cash_by_good_chart(pf: dict) -> bytes | None:
    """Horizontal bars: cash per good over the window (EUR M), stacked by lever."""
    goods = top_goods(pf.get("goods") or {})
    if not goods:
        return None
    bars, used_levers = [], set()
    for g, v in goods.items():
        left, segments = 0.0, []
        for lever, colour in LEVER_COLOURS.items():
            value = v.get("cash_by_lever", {}).get(lever, 0.0) / 1e6
            if value > 0:
                used_levers.add(lever)
                segments.append(Segment(left, value, colour))
                left += value
        bars.append(Bar(_label(g, v), segments, f"{left:,.1f}", end_at=left))
    top = max((b.end_at or 0.0) for b in bars)
    legend = [(LEVER_LABELS[k], LEVER_COLOURS[k]) for k in LEVER_LABELS if k in used_levers]
    return bar_chart(
        bars,
        x_max=top * 1.12 if top > 0 else 1.0,
        ticks=nice_ticks(top) if top > 0 else [0.0],
        x_label="Cash over the window (EUR million)",
        tick_format=_millions,
        legend=legend,
        note="" if used_levers else "No cash spent",
    )


def budget_chart(pf: dict) -> bytes | None:
    """Horizontal bars: cash used (filled) against the limit (outline) per budget line."""
    budget = pf.get("budget") or {}
    rows = []
    total = budget.get("total")
    if total and total.get("limit") is not None:
        rows.append(("Total budget", total))
    for name, line in (budget.get("lines") or {}).items():
        if line.get("limit") is not None:
            rows.append((_label(name, line), line))
    if not rows:
        return None
    bars = []
    for label, line in rows:
        lim, used = line["limit"] / 1e6, line["used"] / 1e6
        colour = "#b03a2e" if used >= lim * 0.999 else "#1f4e79"
        share = used / lim if lim else 0.0
        bars.append(
            Bar(
                label,
                [
                    Segment(0.0, lim, "white", stroke=AXIS_GREY),
                    Segment(0.0, used, colour, height=0.36),
                ],
                f"{used:,.1f} of {lim:,.1f} ({share:.0%})",
                end_at=max(used, lim),
            )
        )
    top = max(max(r[1]["limit"], r[1]["used"]) / 1e6 for r in rows) or 1.0
    return bar_chart(
        bars,
        x_max=top * 1.35,
        ticks=nice_ticks(top),
        x_label="Cash over the window (EUR million); red: the limit binds",
        tick_format=_millions,
        legend=[("Limit", "#dddddd"), ("Used", "#1f4e79"), ("Used, the limit binds", "#b03a2e")],
    )


AXIS_GREY = "#888888"


def _ink_on(colour: str) -> str:
    """White text on dark fills, dark text on light ones (``colour`` as ``#rrggbb``)."""
    r, g, b = (int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return "white" if 0.299 * r + 0.587 * g + 0.114 * b < 0.6 else TEXT


def _country_colours(goods: dict) -> dict[str, str]:
    colours: dict[str, str] = {}
    for v in goods.values():
        for when in ("before", "after"):
            for c in v.get("supply_shares", {}).get(when, {}):
                if c in ("domestic", "CN") or c in colours:
                    continue
                colours[c] = COUNTRY_PALETTE[len(colours) % len(COUNTRY_PALETTE)]
    colours["domestic"] = DOMESTIC_COLOUR
    colours["CN"] = CHINA_COLOUR
    return colours


def supply_shares_chart(pf: dict, country_names: dict[str, str] | None = None) -> bytes | None:
    """Pairs of 100 % bars per good: no-disruption supply shares by country before (no
    levers) and after (the recommended portfolio)."""
    goods = top_goods(pf.get("goods") or {})
    if not goods:
        return None
    country_names = country_names or {}
    colours = _country_colours(goods)
    bars, seen = [], {}
    for g, v in goods.items():
        for when in ("before", "after"):
            left, segments = 0.0, []
            for c, share in v.get("supply_shares", {}).get(when, {}).items():
                if c not in seen:
                    seen[c] = "EU domestic" if c == "domestic" else country_names.get(c, c)
                inner = (c if c != "domestic" else "dom.") if share >= 0.08 else None
                segments.append(
                    Segment(left, share * 100, colours[c], height=0.72, inner=inner,
                            inner_ink=_ink_on(colours[c]))
                )  # fmt: skip
                left += share * 100
            bars.append(Bar(f"{_label(g, v)} - {when}", segments))
    return bar_chart(
        bars,
        x_max=100.0,
        ticks=[0, 20, 40, 60, 80, 100],
        x_label="Share of normal-time supply (%)",
        legend=[(name, colours[c]) for c, name in seen.items()],
        vlines=[VLine(65.0, "#b03a2e", "65 %")],
        separators=range(2, len(bars), 2),
    )


def scenario_loss_chart(pf: dict) -> bytes | None:
    """Horizontal bars: shortfall damage in each scenario (EUR M), labelled with its
    probability and the value."""
    scenarios = top_scenarios(pf.get("scenarios") or {})
    if not scenarios:
        return None
    bars = []
    for k, v in scenarios.items():
        loss = v["loss"] / 1e6
        bars.append(
            Bar(
                f"{_label(k, v)} (p = {v['probability']:.0%})",
                [Segment(0.0, loss, "#b03a2e")],
                f"{loss:,.1f}",
                end_at=loss,
            )
        )
    top = max(v["loss"] for v in scenarios.values()) / 1e6
    return bar_chart(
        bars,
        x_max=top * 1.15 if top > 0 else 1.0,
        ticks=nice_ticks(top) if top > 0 else [0.0],
        x_label="Shortfall damage in the scenario (EUR million)",
        tick_format=_millions,
    )
