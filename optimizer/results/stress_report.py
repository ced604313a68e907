"""What a stress test writes: ``stress.json``, ``stress.csv`` and ``report.html``.

Statistics over futures (all vectorised over the futures' axis):

- :func:`mean_ci`: the weighted mean and its 95 % interval. Hand-written futures carry their
  probabilities and the expectation over them is exact (``ci95 = [mean, mean]``); sampled
  futures stand for ``draws`` equally weighted draws (identical ones merged, weight = share of
  draws), the interval is the normal approximation ``mean +- 1.96 sd / sqrt(draws)`` with the
  draws' sample standard deviation.
- :func:`var_cvar`: value at risk ``VaR_a = min {l : P(L <= l) >= a}`` and
  ``CVaR_a = VaR_a + E[(L - VaR_a)+] / (1 - a)`` (the Rockafellar-Uryasev minimum, as the model's
  CVaR term).

Money in euros over the window; shortfalls in units of the good over the window.
"""

from __future__ import annotations

import base64
import io
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from optimizer import __version__

Z95 = 1.959963984540054
LEVELS = (0.90, 0.95, 0.99)
#: Shortfall (units) below this counts as none.
SHORT_TOL = 1e-6


def mean_ci(values: np.ndarray, weight: np.ndarray, draws: int | None) -> dict:
    """``{mean, ci95: [lo, hi]}`` of ``values`` (futures on axis 0) under ``weight``."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weight, dtype=float)
    mean = np.tensordot(w, v, axes=(0, 0))
    if draws is None or draws <= 1:
        half = np.zeros_like(mean)
    else:
        dev = v - mean
        var = np.tensordot(w, dev * dev, axes=(0, 0)) * draws / (draws - 1)
        half = Z95 * np.sqrt(var / draws)
    return {"mean": _num(mean), "ci95": [_num(mean - half), _num(mean + half)]}


def _num(x):
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x.tolist()


def var_cvar(loss: np.ndarray, weight: np.ndarray, alpha: float) -> tuple[float, float]:
    """VaR and CVaR at level ``alpha`` of the discrete distribution ``loss`` with probabilities
    ``weight`` (euros)."""
    order = np.argsort(loss, kind="stable")
    x, w = np.asarray(loss, float)[order], np.asarray(weight, float)[order]
    cum = np.cumsum(w) / w.sum()
    i = int(np.searchsorted(cum, alpha - 1e-12, side="left"))
    var = float(x[min(i, len(x) - 1)])
    cvar = var + float(w @ np.maximum(x - var, 0.0)) / w.sum() / (1.0 - alpha)
    return var, cvar


def exceedance(loss: np.ndarray, weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The points of ``P(L > l)``: distinct losses ascending and the probability above each."""
    values, inv = np.unique(np.asarray(loss, float), return_inverse=True)
    p = np.bincount(inv, weights=weight, minlength=len(values)) / np.sum(weight)
    above = 1.0 - np.cumsum(p)
    return values, np.clip(above, 0.0, 1.0)


def portfolio_stats(
    cost: np.ndarray,
    loss: np.ndarray,
    shortfall: np.ndarray,
    over_limit: np.ndarray,
    weight: np.ndarray,
    draws: int | None,
    goods: list[str],
    names: list[str],
) -> dict:
    """The figures of one portfolio over the futures (see ``docs/results.md``, stress.json)."""
    short = mean_ci(shortfall, weight, draws)
    any_short = (shortfall > SHORT_TOL).any(axis=1).astype(float)
    risk = {f"{round(a * 100)}%": var_cvar(loss, weight, a) for a in LEVELS}
    over = np.flatnonzero(over_limit)
    return {
        "expected_cost": mean_ci(cost, weight, draws),
        "expected_loss": mean_ci(loss, weight, draws),
        "expected_shortfall": {
            g: {"mean": short["mean"][i], "ci95": [short["ci95"][0][i], short["ci95"][1][i]]}
            for i, g in enumerate(goods)
        },
        "loss_var": {k: v[0] for k, v in risk.items()},
        "loss_cvar": {k: v[1] for k, v in risk.items()},
        "chance_of_shortfall": mean_ci(any_short, weight, draws),
        "worst_loss": float(loss.max(initial=0.0)),
        "limit_not_met": {
            "futures": int(len(over)),
            "probability": float(weight[over].sum()),
            "examples": [names[i] for i in over[:10]],
        },
    }


def stress_document(ev, labels: list[str], folders: list[str], seconds: float) -> dict:
    """The ``stress.json`` dictionary of an :class:`~optimizer.stress.Evaluation`."""
    fut = ev.futures
    w, draws = fut.weight, fut.draws
    goods = list(fut.scenario.goods)
    doc: dict = {
        "engine_version": __version__,
        "scenario": fut.scenario.name,
        "futures": {
            "source": "hand-written disruptions" if draws is None else "risk model",
            "count": len(fut),
            "draws": draws,
            "seed": fut.seed,
            "exact": draws is None,
        },
        "portfolios": {},
    }
    for i, label in enumerate(labels):
        st = portfolio_stats(
            ev.cost[i], ev.loss[i], ev.shortfall[i], ev.over_limit[i], w, draws, goods, fut.names
        )
        ins = ev.decisions[i].in_sample
        st["folder"] = folders[i]
        if ins:
            st["in_sample"] = ins
            st["gap"] = {
                "expected_cost": st["expected_cost"]["mean"] - ins["expected_cost"],
                "expected_loss": st["expected_loss"]["mean"] - ins["expected_loss"],
            }
        doc["portfolios"][label] = st
    if len(labels) > 1:
        doc["paired_differences"] = {
            label: {
                "versus": labels[0],
                "expected_cost": mean_ci(ev.cost[i] - ev.cost[0], w, draws),
                "expected_loss": mean_ci(ev.loss[i] - ev.loss[0], w, draws),
            }
            for i, label in enumerate(labels)
            if i
        }
    doc["seconds"] = {"evaluation": round(ev.seconds, 3), "total": round(seconds, 3)}
    doc["workers"] = ev.workers
    return doc


def stress_table(ev, labels: list[str]) -> pd.DataFrame:
    """``stress.csv``: one row per (portfolio, future): probability, cost, loss, whether a
    shortfall limit was not met."""
    P, K = ev.cost.shape
    return pd.DataFrame(
        {
            "portfolio": np.repeat(labels, K),
            "future": np.tile(ev.futures.names, P),
            "probability": np.tile(ev.futures.weight, P),
            "cost_eur": ev.cost.ravel(),
            "loss_eur": ev.loss.ravel(),
            "shortfall_limit_not_met": ev.over_limit.ravel(),
        }
    )


# --- report.html ----------------------------------------------------------------------------------


def exceedance_png(ev, labels: list[str]) -> bytes:
    """The loss exceedance curves, portfolios overlaid: the chance that the loss exceeds each
    amount (EUR M on the x axis)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    for i, label in enumerate(labels):
        x, p = exceedance(ev.loss[i], ev.futures.weight)
        xs = np.concatenate([[0.0], x]) / 1e6
        ps = np.concatenate([[p[0] + (1 - p[0]) * (x[0] > 0) if len(p) else 0.0], p])
        ax.step(xs, ps * 100, where="post", label=label, linewidth=1.8)
    ax.set_xlabel("shortfall damage in a future (EUR M)")
    ax.set_ylabel("chance the damage is larger (%)")
    ax.set_ylim(bottom=0)
    ax.grid(True, color="#d9d9d9", linewidth=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _ci_text(entry: dict, exact: bool) -> str:
    from optimizer.results.report import fmt_money

    if exact:
        return fmt_money(entry["mean"])
    lo, hi = entry["ci95"]
    return f"{fmt_money(entry['mean'])} ({fmt_money(lo)} to {fmt_money(hi)})"


def render_stress_report(doc: dict, png: bytes) -> str:
    """The HTML of the stress test's ``report.html`` (all scenario text escaped)."""
    from optimizer.results.report import fmt_money, fmt_share, html_page

    fut = doc["futures"]
    exact = fut["exact"]
    title = f"Stress test: {doc['scenario']}"
    where = (
        f"the {fut['count']:,} hand-written disruption futures of the file, weighted by their "
        "probabilities (the expectation over them is exact)"
        if exact
        else f"{fut['draws']:,} futures drawn afresh from the risk model (seed {fut['seed']}); "
        "figures in brackets are 95 % confidence intervals"
    )
    parts = [
        f"<h1>{escape(title)}</h1>",
        f"<p>Each portfolio's decisions (what to buy, reserve and build) were kept fixed and "
        f"tested on {escape(where)}. In each future the best response with those decisions was "
        "worked out; expected cost is the decisions' cost plus the expected cost of running "
        "supply (without the risk-aversion term), expected loss the expected damage from "
        "shortfalls.</p>",
    ]
    rows = []
    for label, st in doc["portfolios"].items():
        ins = st.get("in_sample") or {}
        lim = st["limit_not_met"]
        rows.append(
            "<tr>"
            + f"<td>{escape(label)}</td>"
            + f'<td class="n">{escape(_ci_text(st["expected_cost"], exact))}</td>'
            + f'<td class="n">{escape(fmt_money(ins.get("expected_cost")))}</td>'
            + f'<td class="n">{escape(_ci_text(st["expected_loss"], exact))}</td>'
            + f'<td class="n">{escape(fmt_money(ins.get("expected_loss")))}</td>'
            + f'<td class="n">{escape(fmt_money(st["loss_var"]["95%"]))}</td>'
            + f'<td class="n">{escape(fmt_money(st["loss_cvar"]["95%"]))}</td>'
            + f'<td class="n">{escape(fmt_share(st["chance_of_shortfall"]["mean"]))}</td>'
            + f'<td class="n">{lim["futures"]:,}</td>'
            + "</tr>"
        )
    head = (
        "<tr><th>portfolio</th><th>expected cost</th><th>in the run</th><th>expected loss</th>"
        "<th>in the run</th><th>loss VaR 95 %</th><th>loss CVaR 95 %</th>"
        "<th>chance of any shortfall</th><th>futures where a shortfall limit is not met</th></tr>"
    )
    parts.append("<h2>Portfolios on the same futures</h2>")
    parts.append(
        f'<div class="tw"><table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'
    )
    parts.append(_words(doc))
    data = base64.b64encode(png).decode("ascii")
    parts.append(
        "<h2>How often is the damage large?</h2>"
        f'<figure><img src="data:image/png;base64,{data}" alt="loss exceedance curves" '
        'data-chart="exceedance"><figcaption>For each amount of shortfall damage, the chance '
        "that a future's damage is larger. A curve further down and to the left is a safer "
        "portfolio; one with no damage in any future lies on the horizontal axis."
        "</figcaption></figure>"
    )
    if doc.get("paired_differences"):
        parts.append(_paired(doc, exact))
    if doc.get("value_of_information"):
        parts.append(_voi(doc["value_of_information"]))
    if doc.get("replications"):
        parts.append(_replications(doc["replications"]))
    parts.append(
        f"<footer>stockpile {escape(doc['engine_version'])}; every figure is in stress.json, "
        "one row per portfolio and future in stress.csv.</footer>"
    )
    return html_page(title, parts)


def _words(doc: dict) -> str:
    from optimizer.results.report import fmt_money

    out = []
    for label, st in doc["portfolios"].items():
        ins = st.get("in_sample")
        text = (
            f"{label}: expected cost {fmt_money(st['expected_cost']['mean'])}, expected damage "
            f"from shortfalls {fmt_money(st['expected_loss']['mean'])}; the damage exceeds "
            f"{fmt_money(st['loss_var']['95%'])} in at most one future in twenty."
        )
        if ins:
            gap = st["gap"]["expected_loss"]
            text += (
                f" The run itself expected {fmt_money(ins['expected_loss'])} of damage: these "
                f"futures show {fmt_money(abs(gap))} {'more' if gap > 0 else 'less'}."
                if abs(gap) >= 0.5
                else " That is what the run itself expected."
            )
        if st["limit_not_met"]["futures"]:
            text += (
                f" In {st['limit_not_met']['futures']:,} futures the decisions cannot keep a "
                "good's shortfall within its limit (max_shortfall); their figures count the "
                "shortfall beyond it."
            )
        out.append(f"<p>{escape(text)}</p>")
    return "<h2>In words</h2>" + "".join(out)


def _paired(doc: dict, exact: bool) -> str:
    rows = []
    for label, d in doc["paired_differences"].items():
        c, lo = d["expected_cost"], d["expected_loss"]
        verdict = ""
        if not exact:
            a, b = c["ci95"]
            verdict = "cheaper" if b < 0 else "dearer" if a > 0 else "not distinguishable"
        rows.append(
            f"<tr><td>{escape(label)}</td><td>{escape(d['versus'])}</td>"
            f'<td class="n">{escape(_ci_text(c, exact))}</td>'
            f'<td class="n">{escape(_ci_text(lo, exact))}</td><td>{escape(verdict)}</td></tr>'
        )
    return (
        "<h2>Differences on the same futures</h2><p>Each portfolio against the first, future by "
        "future (a negative figure: cheaper or less damage than the first).</p>"
        '<div class="tw"><table><thead><tr><th>portfolio</th><th>against</th>'
        "<th>expected cost difference</th><th>expected loss difference</th><th></th></tr>"
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _voi(v: dict) -> str:
    parts = ["<h2>Value of information</h2>"]
    for label, e in v.items():
        if "evpi" in e:
            ev = e["evpi"]
            parts.append(
                f"<p>{escape(label)}: perfect warning of which future comes would be worth "
                f"{escape(_ci_text(ev, ev['ci95'][0] == ev['ci95'][1]))} (expected value of "
                f"perfect information, on {e['evpi_futures']:,} futures).</p>"
            )
        if "vss" in e:
            vs = e["vss"]
            parts.append(
                f"<p>{escape(label)}: planning for the average future instead of the whole range "
                f"of futures would cost {escape(_ci_text(vs, vs['ci95'][0] == vs['ci95'][1]))} "
                "more in expectation (value of the stochastic solution).</p>"
            )
    return "".join(parts)


def _replications(r: dict) -> str:
    from optimizer.results.report import fmt_money, fmt_share

    gap = r["gap"]
    text = (
        f"{r['replications']} independent sample sets of {r['samples']:,} futures: the "
        f"optimality gap of the portfolio is estimated at {fmt_money(gap['mean'])} (95 % upper "
        f"bound {fmt_money(gap['ci95'][1])}, {fmt_share(r['gap_share_upper'])} of its cost). "
    )
    text += (
        "The sample size is enough."
        if r["enough"]
        else f"The sample size is not enough for a 1 % gap: about {r['suggested_samples']:,} "
        "futures are suggested (the gap's interval narrows as 1 / sqrt(samples))."
    )
    return f"<h2>Is the sample large enough?</h2><p>{escape(text)}</p>"


def write_stress_report(doc: dict, png: bytes, path: Path) -> None:
    Path(path).write_text(render_stress_report(doc, png), encoding="utf-8")
