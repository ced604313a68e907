"""Charts of results, drawn with matplotlib's Agg backend (files only, no display needed).

:func:`frontier_png` draws a sweep's frontier (``frontier.png``): expected loss and CVaR
against the swept budget or parameter, the marginal value of the budget on a second axis, the
levels where a lever switches on marked with numbers along the top and explained in a key under
the plot, and the level where the budget stops binding. The expected loss (left axis) and
the CVaR (right axis) each have their own scale; the marginal value has its own panel below,
with a spike far above the other values (the dual at the lowest level) clipped and its value
written beside it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd


class DrawnSweep(Protocol):
    """What the frontier chart reads from a sweep (a
    :class:`optimizer.studies.sweep_frontier.SweepResult`; a protocol, so that the results stage
    imports nothing from the studies above it)."""

    scenario: str
    key: str
    kind: str
    frontier: pd.DataFrame
    switches: list[tuple[float, str]]
    warnings: list[str]
    timings: dict[str, Any]
    portfolios: list[dict]

    @property
    def label(self) -> str:
        """What was swept, for people: ``total budget``, ``budget line X`` or the key path."""
        ...


_SCALES = ((1e9, "bn"), (1e6, "M"), (1e3, "k"))
_SHARE_KEYS = ("probability", "share", "severity", "max_share", "residual_value", "alpha")
#: Order of the switches in the key: the rarest, largest decisions first.
_LEVER_ORDER = ("plant built", "demand measures prepared", "stockpile started", "contract signed")

LOSS_COLOUR = "#1f4e79"
CVAR_COLOUR = "#c0504d"
MV_COLOUR = "#4f8f3a"
SWITCH_COLOUR = "#333333"

# layout, in inches
_WIDTH = 11.0
_TITLE = 0.75
_PLOT = 3.4
_MV_PLOT = 1.5  # the marginal value's own panel under the losses
_GAP = 0.15
_BELOW_PLOT = 1.1  # tick labels, axis label, the legend (two rows) and a gap
_KEY_LINE = 0.165


def money_scale(values) -> tuple[float, str]:
    """(divisor, label) so that the largest of ``values`` reads as a few digits: EUR bn, M, k."""
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    top = float(np.abs(arr).max()) if arr.size else 0.0
    for div, suffix in _SCALES:
        if top >= div * 0.999:
            return div, f"EUR {suffix}"
    return 1.0, "EUR"


def _fmt_money(v: float) -> str:
    """``EUR 250M``, ``EUR 1.2bn``, ``EUR 660``."""
    div, unit = money_scale([v])
    return f"EUR {v / div:,.4g}{unit[4:]}"


def _x_axis(result: DrawnSweep) -> tuple[float, str, Callable[[float], str]]:
    """(divisor, axis label, text of one level) for the swept quantity."""
    levels = result.frontier["level"].to_numpy(dtype=float)
    if result.kind == "budget":
        div, unit = money_scale(levels)
        return div, f"{result.label} ({unit})", _fmt_money
    last = result.key.replace("]", "").split(".")[-1]
    if last in _SHARE_KEYS and levels.size and levels.min() >= 0 and levels.max() <= 1:
        return 0.01, f"{result.key} (%)", lambda v: f"{v * 100:.4g}%"
    return 1.0, result.key, lambda v: f"{v:,.4g}"


def _rank(text: str) -> int:
    for i, lever in enumerate(_LEVER_ORDER):
        if lever in text:
            return i
    return len(_LEVER_ORDER)


def _groups(switches: list[tuple[float, str]]) -> list[tuple[float, list[str]]]:
    out: dict[float, list[str]] = {}
    for level, text in switches:
        out.setdefault(float(level), []).append(text)
    return [(lv, sorted(texts, key=_rank)) for lv, texts in sorted(out.items())]


def _key_lines(groups, level_text, per_group: int = 4, width: int = 135) -> list[str]:
    lines = []
    for n, (level, texts) in enumerate(groups, start=1):
        shown = texts[:per_group]
        more = len(texts) - len(shown)
        body = "; ".join(shown) + (f"; and {more} more" if more else "")
        lines.extend(
            textwrap.wrap(
                f"({n}) at {level_text(level)}: {body}", width=width, subsequent_indent="      "
            )
        )
    return lines


def frontier_png(result: DrawnSweep, max_groups: int = 15) -> bytes:
    """Draw ``result``'s frontier; the PNG bytes of ``frontier.png`` and the sweep's report."""
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    f = result.frontier
    x_div, x_label, level_text = _x_axis(result)
    ok = f["status"].isin(["optimal", "time_limit"]).to_numpy()
    levels = f["level"].to_numpy(dtype=float)
    x = levels / x_div
    loss = f["expected_loss"].to_numpy(dtype=float)
    cvar = f["cvar"].to_numpy(dtype=float)
    mv = f["marginal_value"].to_numpy(dtype=float)

    groups = _groups(result.switches)
    shown = groups[:max_groups]
    key = _key_lines(shown, level_text)
    if len(groups) > max_groups:
        key.append(f"... and {len(groups) - max_groups} more levels with switches (sweep.json)")
    key_h = _KEY_LINE * len(key) + (0.2 if key else 0.0)
    has_mv = bool(ok.any() and np.isfinite(mv[ok]).any())
    mv_h = _MV_PLOT + _GAP if has_mv else 0.0
    height = _TITLE + _PLOT + mv_h + _BELOW_PLOT + key_h
    bottom = _BELOW_PLOT + key_h
    fig = plt.figure(figsize=(_WIDTH, height), dpi=120)
    ax = fig.add_axes((0.08, (bottom + mv_h) / height, 0.80, _PLOT / height))

    # expected loss on the left axis and CVaR on the right one, each on its own scale: the
    # CVaR (the worst outcomes) is often ten times the expected loss and would flatten it
    loss_div, loss_unit = money_scale(loss[ok] if ok.any() else [0.0])
    cvar_div, cvar_unit = money_scale(cvar[ok] if ok.any() else [0.0])
    ax.plot(x[ok], loss[ok] / loss_div, "-o", color=LOSS_COLOUR, ms=4, lw=2, label="expected loss")
    ax_cvar = ax.twinx()
    ax_cvar.plot(
        x[ok],
        cvar[ok] / cvar_div,
        "-s",
        color=CVAR_COLOUR,
        ms=4,
        lw=2,
        label=f"CVaR of the loss (worst {100 - _alpha(result) * 100:.0f} %, right axis)",
    )
    bad = ~ok
    if bad.any():
        ax.plot(
            x[bad],
            np.zeros(bad.sum()),
            "x",
            color="grey",
            ms=7,
            mew=2,
            clip_on=False,
            label="no feasible portfolio",
        )
    ax.set_ylabel(f"expected loss ({loss_unit})", color=LOSS_COLOUR)
    ax_cvar.set_ylabel(f"CVaR ({cvar_unit})", color=CVAR_COLOUR)
    ax.tick_params(axis="y", colors=LOSS_COLOUR)
    ax_cvar.tick_params(axis="y", colors=CVAR_COLOUR)
    for a in (ax, ax_cvar):
        a.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.4g}"))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.4g}"))
    ax.grid(True, alpha=0.3)
    top = max(1e-12, float(np.nanmax(loss[ok] / loss_div)) if ok.any() else 1.0)
    ax.set_ylim(0, top * 1.15)  # room along the top for the switch numbers
    ctop = max(1e-12, float(np.nanmax(cvar[ok] / cvar_div)) if ok.any() else 1.0)
    ax_cvar.set_ylim(0, ctop * 1.15)
    handles, labels = ax.get_legend_handles_labels()
    h2, l2 = ax_cvar.get_legend_handles_labels()
    handles += h2
    labels += l2

    if has_mv:
        ax_mv = fig.add_axes((0.08, bottom / height, 0.80, _MV_PLOT / height), sharex=ax)
        ax.tick_params(axis="x", labelbottom=False)
        # a step function of the level (constant between kinks): drawn as steps that change
        # half-way between two levels
        ax_mv.plot(
            x[ok],
            mv[ok],
            "--D",
            color=MV_COLOUR,
            ms=3.5,
            lw=1.5,
            drawstyle="steps-mid",
            label=f"marginal value of the {_mv_name(result)} (lower panel)",
        )
        ceiling, clipped = mv_ceiling(mv[ok])
        ax_mv.set_ylim(0, ceiling)
        for xi, v in zip(x[ok][clipped], mv[ok][clipped]):
            ax_mv.annotate(
                f"{v:,.3g} (off the axis)",
                (xi, ceiling),
                xytext=(4, -10),
                textcoords="offset points",
                fontsize=7.5,
                color=MV_COLOUR,
            )
            ax_mv.plot([xi], [ceiling], "^", color=MV_COLOUR, ms=6, clip_on=False)
        ax_mv.set_ylabel("EUR saved per\nextra EUR", color=MV_COLOUR)
        ax_mv.tick_params(axis="y", colors=MV_COLOUR)
        ax_mv.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.3g}"))
        ax_mv.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.4g}"))
        ax_mv.grid(True, alpha=0.3)
        ax_mv.set_xlabel(x_label)
        h3, l3 = ax_mv.get_legend_handles_labels()
        handles += h3
        labels += l3
        if clipped.any():
            handles.append(Line2D([], [], ls="", marker="^", color=MV_COLOUR))
            labels.append("marginal value above the axis (clipped, value written)")
        if result.kind == "budget" and _mark_kink(ax, x[ok], mv[ok]):
            _mark_kink(ax_mv, x[ok], mv[ok])
            handles.append(Line2D([], [], ls="-.", color=MV_COLOUR, lw=1.2))
            labels.append(f"the {result.label} stops binding")
    else:
        ax.set_xlabel(x_label)

    # lever switches: a dotted line and a numbered circle along the top, explained below
    for n, (level, _) in enumerate(shown, start=1):
        xi = level / x_div
        ax.axvline(xi, color=SWITCH_COLOUR, lw=0.8, ls=":", alpha=0.6, zorder=0)
        ax.annotate(
            str(n),
            (xi, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, -9),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=7.5,
            fontweight="bold",
            color="white",
            zorder=6,
            bbox={"boxstyle": "circle,pad=0.2", "fc": SWITCH_COLOUR, "ec": "none"},
        )
    if groups:
        handles.append(Line2D([], [], ls=":", color=SWITCH_COLOUR, lw=0.8))
        labels.append("a lever switches on (numbered; see below)")

    fig.legend(
        handles,
        labels,
        loc="upper left",
        bbox_to_anchor=(0.08, (_BELOW_PLOT + key_h - 0.5) / height),
        ncol=3,
        fontsize=8.5,
        frameon=False,
        handlelength=2.5,
    )
    title = f"{result.scenario}: frontier of the {result.label}"
    if result.kind == "param":
        title = f"{result.scenario}: sensitivity to {result.key}"
    fig.text(0.08, 1 - 0.12 / height, title, ha="left", va="top", fontsize=12, fontweight="bold")
    fig.text(0.08, 1 - 0.42 / height, _subtitle(result), fontsize=9, color="#555555", va="top")
    if key:
        fig.text(
            0.08,
            (key_h + 0.02) / height,
            "\n".join(key),
            fontsize=8.5,
            va="top",
            ha="left",
            linespacing=1.35,
        )
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _subtitle(result: DrawnSweep) -> str:
    f, t = result.frontier, result.timings
    text = f"{len(f)} levels"
    bad = int((~f["status"].isin(["optimal", "time_limit"])).sum())
    if bad:
        text += f" ({bad} without a feasible portfolio)"
    if t.get("total_seconds") is not None:
        secs = t["total_seconds"]
        text += f", solved in {secs:.1f} s" if secs >= 1 else f", solved in {secs:.2f} s"
        ratio = t.get("ratio")
        if result.kind == "budget" and t.get("warm_levels") and ratio and np.isfinite(ratio):
            text += f" = {ratio:.2f}x the first, cold level (warm re-solves)"
    if result.warnings:
        text += f"; {len(result.warnings)} warning(s), see sweep.json"
    return text


def _mv_name(result: DrawnSweep) -> str:
    return result.label if result.kind == "budget" else "total budget"


def _alpha(result: DrawnSweep) -> float:
    for pf in result.portfolios:
        cost = pf.get("cost")
        if cost and cost.get("cvar_alpha") is not None:
            return float(cost["cvar_alpha"])
    return 0.95


#: A marginal value this many times the next largest is a spike, clipped off the axis.
_SPIKE = 10.0


def mv_ceiling(mv: np.ndarray) -> tuple[float, np.ndarray]:
    """The marginal value axis's top and which values lie above it (clipped). A value more
    than 10 times the largest of the others (the dual at the lowest level, where the budget's
    price is often not unique and huge) is clipped, so that the rest stays readable: the axis
    ends at 1.15 x the largest value kept."""
    v = np.where(np.isfinite(mv), mv, 0.0)
    clipped = np.zeros(v.shape, dtype=bool)
    if v.size > 2:
        order = np.argsort(v)[::-1]
        for n, i in enumerate(order[:-1]):
            rest = v[order[n + 1]]
            if rest > 0 and v[i] > _SPIKE * rest:
                clipped[order[: n + 1]] = True
            else:
                break
    kept = v[~clipped]
    top = float(kept.max()) if kept.size else 0.0
    return max(1e-9, top) * 1.15, clipped


def _mark_kink(ax, x: np.ndarray, mv: np.ndarray) -> bool:
    """A dashed line where the budget stops binding: half-way between the last level with a
    positive marginal value and the next (from there on every level has none)."""
    pos = np.flatnonzero(mv > 1e-9)
    if pos.size == 0 or pos[-1] + 1 >= len(mv):
        return False
    i = pos[-1]
    xk = (x[i] + x[i + 1]) / 2
    ax.axvline(xk, color=MV_COLOUR, lw=1.2, ls="-.", alpha=0.9, zorder=0)
    return True
