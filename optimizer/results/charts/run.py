"""Charts of one run for ``report.html``, drawn with matplotlib's Agg backend as PNG bytes.

Each function takes the ``portfolio.json`` dictionary (and what else it needs) and returns the
PNG as bytes, or ``None`` when there is nothing to draw. The report embeds them as base64 data
URIs, so the page needs no other file.

- :func:`cash_by_good_chart`: first-stage cash per good, stacked by lever.
- :func:`budget_chart`: cash used against the limit of the total budget and of each line.
- :func:`supply_shares_chart`: no-disruption supply shares by country, before and after.
- :func:`scenario_loss_chart`: shortfall damage in each scenario, with its probability.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

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
#: (matplotlib's tab20 and tab20b without their reds), so 38 countries never share a colour.
CHINA_COLOUR = "#b03a2e"
COUNTRY_PALETTE = [
    c
    for name in ("tab20", "tab20b")
    for c in (matplotlib.colors.to_hex(x) for x in matplotlib.colormaps[name].colors)
    if c not in ("#d62728", "#ff9896", "#843c39", "#ad494a", "#d6616b", "#e7969c")
]
DOMESTIC_COLOUR = "#333333"
TEXT = "#222222"
GRID = "#d9d9d9"
DPI = 110


def _style(ax) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.spines[["left", "bottom"]].set_color("#888888")
    ax.tick_params(colors=TEXT, labelsize=9)
    ax.xaxis.grid(True, color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    plt.close(fig)
    return buf.getvalue()


def _millions(x, _pos=None) -> str:
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


def _label(name: str) -> str:
    return name.replace("_", " ")


def cash_by_good_chart(pf: dict) -> bytes | None:
    """Horizontal bars: cash per good over the window (EUR M), stacked by lever."""
    goods = top_goods(pf.get("goods") or {})
    if not goods:
        return None
    names = list(goods)[::-1]
    levers = list(LEVER_LABELS)
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(names) + 1.6))
    left = [0.0] * len(names)
    used_levers = []
    for lever in levers:
        vals = [goods[g].get("cash_by_lever", {}).get(lever, 0.0) / 1e6 for g in names]
        if not any(v > 0 for v in vals):
            continue
        used_levers.append(lever)
        ax.barh(
            [_label(g) for g in names],
            vals,
            left=left,
            color=LEVER_COLOURS[lever],
            label=LEVER_LABELS[lever],
            height=0.6,
        )
        left = [a + b for a, b in zip(left, vals)]
    top = max(left) if left else 0.0
    for i, total in enumerate(left):
        ax.text(total + top * 0.01, i, f"{total:,.1f}", va="center", fontsize=8.5, color=TEXT)
    ax.set_xlim(0, top * 1.12 if top > 0 else 1)
    ax.set_xlabel("Cash over the window (EUR million)", color=TEXT)
    ax.xaxis.set_major_formatter(FuncFormatter(_millions))
    _style(ax)
    if used_levers:
        below = -0.12 - 0.6 / (len(names) + 2)
        ax.legend(
            frameon=False, fontsize=9, loc="upper center", bbox_to_anchor=(0.5, below),
            ncol=len(used_levers),
        )  # fmt: skip
    else:
        ax.text(0.5, 0.5, "No cash spent", transform=ax.transAxes, ha="center", color=TEXT)
    return _png(fig)


def budget_chart(pf: dict) -> bytes | None:
    """Horizontal bars: cash used (filled) against the limit (outline) per budget line."""
    budget = pf.get("budget") or {}
    rows = []
    total = budget.get("total")
    if total and total.get("limit") is not None:
        rows.append(("Total budget", total))
    for name, line in (budget.get("lines") or {}).items():
        if line.get("limit") is not None:
            rows.append((_label(name), line))
    if not rows:
        return None
    rows = rows[::-1]
    labels = [r[0] for r in rows]
    limits = [r[1]["limit"] / 1e6 for r in rows]
    used = [r[1]["used"] / 1e6 for r in rows]
    fig, ax = plt.subplots(figsize=(9, 0.55 * len(rows) + 1.4))
    ax.barh(labels, limits, color="white", edgecolor="#888888", height=0.6, label="Limit")
    colours = ["#b03a2e" if u >= lim * 0.999 else "#1f4e79" for u, lim in zip(used, limits)]
    ax.barh(labels, used, color=colours, height=0.36, label="Used")
    top = max(limits + used) if limits else 1.0
    for i, (u, lim) in enumerate(zip(used, limits)):
        share = u / lim if lim else 0.0
        ax.text(
            max(u, lim) + top * 0.01, i, f"{u:,.1f} of {lim:,.1f} ({share:.0%})",
            va="center", fontsize=8.5, color=TEXT,
        )  # fmt: skip
    ax.set_xlim(0, top * 1.35)
    ax.set_xlabel("Cash over the window (EUR million); red: the limit binds", color=TEXT)
    ax.xaxis.set_major_formatter(FuncFormatter(_millions))
    _style(ax)
    return _png(fig)


def _ink_on(colour: str) -> str:
    """White text on dark fills, dark text on light ones."""
    r, g, b = matplotlib.colors.to_rgb(colour)
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
    names = list(goods)
    labels, rows = [], []
    for g in names:
        for when in ("before", "after"):
            labels.append(f"{_label(g)} - {when}")
            rows.append(goods[g].get("supply_shares", {}).get(when, {}))
    labels, rows = labels[::-1], rows[::-1]
    fig, ax = plt.subplots(figsize=(9, 0.32 * len(rows) + 1.9))
    seen: set[str] = set()
    for i, shares in enumerate(rows):
        left = 0.0
        for c, s in shares.items():
            label = None
            if c not in seen:
                seen.add(c)
                label = "EU domestic" if c == "domestic" else country_names.get(c, c)
            ax.barh(i, s * 100, left=left, color=colours[c], height=0.72, label=label)
            if s >= 0.08:
                ax.text(
                    left + s * 50, i, c if c != "domestic" else "dom.", ha="center",
                    va="center", fontsize=7.5, color=_ink_on(colours[c]),
                )  # fmt: skip
            left += s * 100
    ax.set_yticks(range(len(labels)), labels, fontsize=8.5)
    for i in range(1, len(names)):
        ax.axhline(2 * i - 0.5, color="#aaaaaa", linewidth=0.8)
    ax.axvline(65, color="#b03a2e", linestyle="--", linewidth=1)
    ax.text(65, len(rows) - 0.3, " 65 %", color="#b03a2e", fontsize=8, va="bottom")
    ax.set_xlim(0, 100)
    ax.set_xlabel("Share of normal-time supply (%)", color=TEXT)
    _style(ax)
    ax.legend(
        frameon=False, fontsize=8.5, loc="upper center", bbox_to_anchor=(0.5, -0.09),
        ncol=min(6, max(1, len(seen))),
    )  # fmt: skip
    return _png(fig)


def scenario_loss_chart(pf: dict) -> bytes | None:
    """Horizontal bars: shortfall damage in each scenario (EUR M), labelled with its
    probability and the value."""
    scenarios = top_scenarios(pf.get("scenarios") or {})
    if not scenarios:
        return None
    names = list(scenarios)[::-1]
    losses = [scenarios[k]["loss"] / 1e6 for k in names]
    labels = [f"{_label(k)} (p = {scenarios[k]['probability']:.0%})" for k in names]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(names) + 1.4))
    ax.barh(labels, losses, color="#b03a2e", height=0.6)
    top = max(losses) if losses else 0.0
    for i, v in enumerate(losses):
        ax.text(v + top * 0.01, i, f"{v:,.1f}", va="center", fontsize=8.5, color=TEXT)
    ax.set_xlim(0, top * 1.15 if top > 0 else 1)
    ax.set_xlabel("Shortfall damage in the scenario (EUR million)", color=TEXT)
    ax.xaxis.set_major_formatter(FuncFormatter(_millions))
    _style(ax)
    return _png(fig)
