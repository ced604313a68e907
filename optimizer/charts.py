"""Charts of results, drawn with matplotlib's Agg backend (files only, no display needed).

:func:`frontier_chart` draws a sweep's frontier (``frontier.png``): expected loss and CVaR
against the swept budget or parameter, the marginal value of the budget on a second axis, the
levels where a lever switches on marked with numbers and explained in a key under the plot, and
the level where the budget stops binding.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from optimizer.sweep import SweepResult

_SCALES = ((1e9, "bn"), (1e6, "M"), (1e3, "k"), (1.0, ""))
_SHARE_KEYS = ("probability", "share", "severity", "max_share", "residual_value", "alpha")

LOSS_COLOUR = "#1f4e79"
CVAR_COLOUR = "#c0504d"
MV_COLOUR = "#4f8f3a"
SWITCH_COLOUR = "#333333"


def money_scale(values) -> tuple[float, str]:
    """(divisor, label) so that the largest of ``values`` reads as a few digits: EUR bn, M, k."""
    arr = np.asarray(values, dtype=float)
    arr = arr[np.isfinite(arr)]
    top = float(np.abs(arr).max()) if arr.size else 0.0
    for div, suffix in _SCALES:
        if top >= div * 0.999:
            return div, f"EUR {suffix}".strip()
    return 1.0, "EUR"


def _fmt_money(v: float) -> str:
    """``EUR 250M``, ``EUR 1.2bn``, ``EUR 660``."""
    div, unit = money_scale([v])
    return f"EUR {v / div:,.4g}{unit[4:]}"


def _x_axis(result: SweepResult) -> tuple[float, str, callable]:
    """(divisor, axis label, text of one level) for the swept quantity."""
    levels = result.frontier["level"].to_numpy(dtype=float)
    if result.kind == "budget":
        div, unit = money_scale(levels)
        return div, f"{result.label} ({unit})", _fmt_money
    last = result.key.replace("]", "").split(".")[-1]
    if last in _SHARE_KEYS and levels.size and levels.min() >= 0 and levels.max() <= 1:
        return 0.01, f"{result.key} (%)", lambda v: f"{v * 100:.4g}%"
    return 1.0, result.key, lambda v: f"{v:,.4g}"


def _groups(switches: list[tuple[float, str]]) -> list[tuple[float, list[str]]]:
    out: dict[float, list[str]] = {}
    for level, text in switches:
        out.setdefault(float(level), []).append(text)
    return sorted(out.items())


def _key_lines(groups, level_text, per_group: int = 4, width: int = 130) -> list[str]:
    lines = []
    for n, (level, texts) in enumerate(groups, start=1):
        shown = texts[:per_group]
        more = len(texts) - len(shown)
        body = "; ".join(shown) + (f"; and {more} more" if more else "")
        wrapped = textwrap.wrap(
            f"({n}) at {level_text(level)}: {body}", width=width, subsequent_indent="      "
        )
        lines.extend(wrapped)
    return lines


def frontier_chart(result: SweepResult, path: str | Path, max_groups: int = 12) -> Path:
    """Draw ``result``'s frontier into the PNG file ``path`` and return the path."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    f = result.frontier
    x_div, x_label, level_text = _x_axis(result)
    ok = f["status"].isin(["optimal", "time_limit"]).to_numpy()
    levels = f["level"].to_numpy(dtype=float)
    x = levels / x_div
    loss = f["expected_loss"].to_numpy(dtype=float)
    cvar = f["cvar"].to_numpy(dtype=float)
    mv = f["marginal_value"].to_numpy(dtype=float)
    y_div, y_unit = money_scale(np.concatenate([loss[ok], cvar[ok]]) if ok.any() else [0.0])

    groups = _groups(result.switches)
    shown_groups = groups[:max_groups]
    key = _key_lines(shown_groups, level_text)
    if len(groups) > max_groups:
        key.append(
            f"... and {len(groups) - max_groups} more levels with switches "
            "(sweep.json lists them all)"
        )
    # layout in inches: title 0.75, plot 4.6, axis label 0.65, key (one line = 0.19)
    key_h = 0.19 * len(key) + (0.15 if key else 0.0)
    height = 0.75 + 4.6 + 0.65 + key_h
    fig = plt.figure(figsize=(11, height), dpi=120)
    bottom = (0.65 + key_h) / height
    ax = fig.add_axes((0.08, bottom, 0.80, 4.6 / height))
    ax.plot(x[ok], loss[ok] / y_div, "-o", color=LOSS_COLOUR, ms=4, lw=2, label="expected loss")
    ax.plot(
        x[ok],
        cvar[ok] / y_div,
        "-s",
        color=CVAR_COLOUR,
        ms=4,
        lw=2,
        label=f"CVaR of the loss (worst {100 - _alpha(result) * 100:.0f} %)",
    )
    ax.set_xlabel(x_label)
    ax.set_ylabel(f"shortfall damage ({y_unit})")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.4g}"))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.4g}"))
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    legend_ax = ax

    if np.isfinite(mv[ok]).any():
        ax2 = ax.twinx()
        # constant between kinks: drawn as steps, changing half-way between two levels
        ax2.plot(
            x[ok],
            mv[ok],
            "--D",
            color=MV_COLOUR,
            ms=3.5,
            lw=1.5,
            drawstyle="steps-mid",
            label=f"marginal value of the {_mv_name(result)} (right axis)",
        )
        ax2.set_ylabel("marginal value (EUR saved per extra EUR)", color=MV_COLOUR)
        ax2.tick_params(axis="y", colors=MV_COLOUR)
        ax2.set_ylim(bottom=0, top=max(1e-9, float(np.nanmax(mv[ok]))) * 1.15)
        ax2.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.3g}"))
        legend_ax = ax2
        h2, l2 = ax2.get_legend_handles_labels()
        handles += h2
        labels += l2
        if result.kind == "budget":
            _mark_kink(ax, x[ok], mv[ok])

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
        handles, labels = _merge_legend(ax, handles, labels)

    # lever switches: numbered markers on the expected-loss curve, explained under the plot
    top = ax.get_ylim()[1]
    for n, (level, _) in enumerate(shown_groups, start=1):
        i = int(np.argmin(np.abs(levels - level)))
        xi, yi = level / x_div, loss[i] / y_div
        ax.axvline(xi, color=SWITCH_COLOUR, lw=0.8, ls=":", alpha=0.6, zorder=0)
        ax.annotate(
            str(n),
            (xi, yi),
            xytext=(0, 10),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
            fontweight="bold",
            color="white",
            zorder=5,
            bbox={"boxstyle": "circle,pad=0.25", "fc": SWITCH_COLOUR, "ec": "none"},
        )
    ax.set_ylim(0, top * 1.08)
    if groups:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], ls=":", color=SWITCH_COLOUR, lw=0.8))
        labels.append("a lever switches on (numbered, see below)")

    legend_ax.legend(handles, labels, loc="upper right", fontsize=8.5, framealpha=0.95)
    title = f"{result.scenario}: frontier of the {result.label}"
    if result.kind == "param":
        title = f"{result.scenario}: sensitivity to {result.key}"
    fig.text(0.08, 1 - 0.12 / height, title, ha="left", va="top", fontsize=12, fontweight="bold")
    t = result.timings
    sub = f"{len(f)} levels"
    if t.get("total_seconds") is not None:
        sub += f", {t['total_seconds']:.1f} s"
        if result.kind == "budget" and np.isfinite(t.get("ratio", np.nan)):
            sub += f" ({t['ratio']:.2f}x one cold run)"
    if result.warnings:
        sub += f"; {len(result.warnings)} warning(s), see sweep.json"
    fig.text(0.08, 1 - 0.42 / height, sub, fontsize=9, color="#555555", va="top")
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
    path = Path(path)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path


def _mv_name(result: SweepResult) -> str:
    return result.label if result.kind == "budget" else "total budget"


def _mv_name(result: SweepResult) -> str:
    return result.label if result.kind == "budget" else "total budget"


def _alpha(result: SweepResult) -> float:
    for pf in result.portfolios:
        cost = pf.get("cost")
        if cost and cost.get("cvar_alpha") is not None:
            return float(cost["cvar_alpha"])
    return 0.95


def _merge_legend(ax, handles, labels):
    h, lab = ax.get_legend_handles_labels()
    for hh, ll in zip(h, lab):
        if ll not in labels:
            handles.append(hh)
            labels.append(ll)
    return handles, labels


def _mark_kink(ax, x: np.ndarray, mv: np.ndarray) -> None:
    """A dashed line where the budget stops binding: between the last level with a positive
    marginal value and the first after it with none."""
    pos = np.flatnonzero(mv > 1e-9)
    if pos.size == 0 or pos[-1] + 1 >= len(mv):
        return
    i = pos[-1]
    if not np.all(mv[i + 1 :] <= 1e-9):
        return
    xk = (x[i] + x[i + 1]) / 2
    ax.axvline(xk, color=MV_COLOUR, lw=1, ls="--", alpha=0.7, zorder=0)
    ax.annotate(
        "budget stops binding",
        (xk, 0.5),
        xycoords=("data", "axes fraction"),
        xytext=(4, 0),
        textcoords="offset points",
        rotation=90,
        va="center",
        fontsize=8,
        color=MV_COLOUR,
    )
