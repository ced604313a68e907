"""The comparison's chart (``comparison.png``): the variants compared on cost and risk.

Takes the ``runs.csv`` table as a DataFrame and plain labels, so the results stage imports
nothing of the studies that compare runs.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

#: Most grid points drawn as grouped bars (more: points of cost against risk).
MAX_GROUPS = 40


def _money_scale(values) -> tuple[float, str]:
    finite = [abs(float(v)) for v in values if v is not None and math.isfinite(float(v))]
    top = max(finite) if finite else 0.0
    for div, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if top >= div * 0.999:
            return div, f"EUR {suffix}"
    return 1.0, "EUR"


def comparison_chart(
    runs: pd.DataFrame,
    keys: list[str],
    path: Path,
    title: str | None,
    labels: list[str] | None = None,
) -> Path:
    """The variants compared on cost and risk: cash spent on the portfolio, expected loss and
    CVaR, one panel each. Up to :data:`MAX_GROUPS` grid points: grouped bars (a group per grid
    point, a colour per variant; a red cross for a run without a portfolio). More: cost
    against risk as points, a colour per variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    df = runs.reset_index(drop=True).copy()
    df["_variant"] = df["variant"].fillna("runs").astype(str) if len(df) else []
    df["_label"] = labels if labels is not None else [str(n) for n in df.get("name", [])]
    has = df["objective_eur"].notna() if len(df) else pd.Series([], dtype=bool)
    ok = df[has]
    variants = list(dict.fromkeys(df["_variant"]))
    groups = list(dict.fromkeys(df["_label"]))
    cmap = plt.get_cmap("tab10")
    colour = {v: cmap(i % 10) for i, v in enumerate(variants)}
    panels = (
        ("first_stage_cash_eur", "Cash spent on the portfolio"),
        ("expected_loss_eur", "Expected loss from shortfalls"),
        ("cvar_eur", f"CVaR{_alpha_text(ok)} of the loss"),
    )
    if ok.empty:
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.text(0.5, 0.5, "no run has a portfolio", ha="center", va="center")
        ax.set_axis_off()
    elif len(groups) <= MAX_GROUPS:
        width = min(9 + 0.25 * len(df), 22)
        fig, axes = plt.subplots(3, 1, figsize=(width, 10), sharex=True, constrained_layout=True)
        bar = 0.8 / max(1, len(variants))
        for ax, (col, name) in zip(axes, panels):
            div, unit = _money_scale(ok[col])
            for vi, v in enumerate(variants):
                rows = df[df["_variant"] == v]
                offset = (vi - (len(variants) - 1) / 2) * bar
                xs = [groups.index(lab) + offset for lab in rows["_label"]]
                hs = [
                    float(h) / div if ok_ else 0.0
                    for h, ok_ in zip(rows[col].fillna(0.0), rows["objective_eur"].notna())
                ]
                ax.bar(xs, hs, width=bar * 0.95, color=colour[v], label=v)
                bad = [x for x, ok_ in zip(xs, rows["objective_eur"].notna()) if not ok_]
                if bad:
                    ax.plot(
                        bad,
                        [0] * len(bad),
                        "x",
                        color="#c00000",
                        markersize=9,
                        mew=2,
                        label="no portfolio" if vi == 0 else None,
                    )
            ax.set_ylabel(unit)
            ax.set_title(name, loc="left", fontsize=10)
            ax.grid(True, axis="y", alpha=0.3)
        axes[-1].set_xticks(range(len(groups)))
        rotate = max((len(g) for g in groups), default=0) * len(groups) > 110
        axes[-1].set_xticklabels(
            groups, rotation=30 if rotate else 0, ha="right" if rotate else "center", fontsize=8
        )
        axes[-1].set_xlabel(" / ".join(keys) if keys else "run")
        handles, names = axes[0].get_legend_handles_labels()
        for ax in axes[1:]:
            for h, n in zip(*ax.get_legend_handles_labels()):
                if n not in names:
                    handles.append(h)
                    names.append(n)
        axes[0].legend(handles, names, title="variant", fontsize=8, ncols=min(4, len(names)))
    else:
        fig, axes = plt.subplots(1, 2, figsize=(13, 5.8), constrained_layout=True)
        xd, xu = _money_scale(ok["first_stage_cash_eur"])
        for ax, (col, name) in zip(axes, panels[1:]):
            yd, yu = _money_scale(ok[col])
            for v in variants:
                g = ok[ok["_variant"] == v]
                ax.plot(
                    g["first_stage_cash_eur"].astype(float) / xd,
                    g[col].astype(float) / yd,
                    "o",
                    color=colour[v],
                    label=v,
                    markersize=4,
                    alpha=0.8,
                )
            ax.set_xlabel(f"cash spent on the portfolio ({xu})")
            ax.set_ylabel(f"{name} ({yu})")
            ax.set_title(f"{name} against cost", fontsize=10)
            ax.grid(True, alpha=0.3)
        axes[0].legend(title="variant", fontsize=8)
    failed = df[~has] if len(df) else df
    if len(failed):
        names = ", ".join(f"{n} ({s})" for n, s in zip(failed["name"][:4], failed["status"][:4]))
        more = f" and {len(failed) - 4} more" if len(failed) > 4 else ""
        fig.text(0.01, 0.002, f"No portfolio: {names}{more}", fontsize=7, color="#a00000")
    fig.suptitle(title or "Comparison of runs: cost and risk", fontsize=12)
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
    return Path(path)


def _alpha_text(ok: pd.DataFrame) -> str:
    alphas = ok["cvar_alpha"].dropna().unique() if "cvar_alpha" in ok else []
    return f"{alphas[0]:.0%}" if len(alphas) == 1 else ""
