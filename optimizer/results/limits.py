"""What each limit on supply shares did: its shadow price, the units over it, and a warning in
words when a hard limit leaves normal-time demand unmet (``portfolio.json`` keys ``limits``
and ``warnings``; see ``docs/results.md``)."""

from __future__ import annotations

import numpy as np

from optimizer.model.limits import TOTAL, LimitRows
from optimizer.model.terms import BuiltModel

_TOL = 1e-7


def _clean(v: float, tol: float = 1e-9) -> float:
    return 0.0 if abs(v) < tol else float(v)


def limits_report(
    m: BuiltModel,
    x: np.ndarray,
    row_dual: np.ndarray | None,
    bought: np.ndarray,
    produced: np.ndarray,
    shortfall_base: np.ndarray,
) -> tuple[dict, list[str]]:
    """Per limit: kind, share, hard or benchmark, ``shadow_price`` (euros per unit of share:
    the objective saved if the limit were one whole unit of share, 100 percentage points,
    looser, to first order), ``units_over`` (units of the goods over the window) and one entry
    per good (and country, for a per-country limit) with the share reached.

    ``bought`` (G, countries) and ``produced`` (G,) are the ``no_disruption`` supply over the
    window; ``shortfall_base`` (G,) its shortfall. Returns the report and the warnings.
    """
    d = m.data
    supply = bought.sum(axis=1) + produced  # S_g, units over the window
    report: dict = {}
    warnings: list[str] = []
    for lim in m.info.get("limits", []):
        assert isinstance(lim, LimitRows)
        floor = lim.kind == "min_share"
        dual = -row_dual[lim.rows] if row_dual is not None else np.full(len(lim.rows), np.nan)
        dual = np.where(np.abs(dual) < 1e-9, 0.0, dual)
        over = np.where(lim.over >= 0, x[np.maximum(lim.over, 0)], 0.0)
        s_g = supply[lim.good]
        in_set = np.where(
            lim.country == TOTAL,
            (bought[lim.good] * lim.member[None, :]).sum(axis=1) + floor * produced[lim.good],
            bought[lim.good, np.maximum(lim.country, 0)],
        )
        reached = np.divide(in_set, s_g, out=np.zeros_like(s_g), where=s_g > _TOL)
        entries = []
        for r in range(len(lim.rows)):
            entry = {
                "good": d.goods[lim.good[r]],
                "country": d.countries[lim.country[r]] if lim.country[r] != TOTAL else None,
                "share": _clean(reached[r]),
                "units_over": _clean(over[r]),
                "shadow_price": _clean(dual[r] * s_g[r]),
            }
            entries.append(entry)
        report[lim.name] = {
            "kind": lim.kind,
            "share": lim.share,
            "per_country": lim.per_country,
            "hard": lim.benchmark is None,
            "benchmark": lim.benchmark,
            "shadow_price": _clean(float(np.nansum(dual * s_g))),
            "units_over": _clean(float(over.sum())),
            "penalty": _clean(float(over.sum() * (lim.benchmark or 0.0))),
            "rows": entries,
        }
        if lim.benchmark is None:
            for r in np.flatnonzero(dual > 1e-9):
                g = int(lim.good[r])
                if shortfall_base[g] > 1e-6 * max(1.0, supply[g]):
                    warnings.append(_shortfall_warning(m, lim, r, shortfall_base[g]))
                for h in _made_from(d, g):  # a binding limit on an input starves its goods
                    if shortfall_base[h] > 1e-6 * max(1.0, supply[h]):
                        warnings.append(_shortfall_warning(m, lim, r, shortfall_base[h], h))
    if report and d.probability[0] <= 0:
        warnings.append(
            "no drawn future was free of disruption, so the no-disruption future on which the "
            "limits act has probability 0: they cost nothing there and shape nothing else. "
            "Draw more samples (risk_model.samples) or read the limits with hand-written "
            "disruptions"
        )
    return report, list(dict.fromkeys(warnings))


def _made_from(d, g: int) -> list[int]:
    """The goods made at home from ``g``, directly or through other inputs (``inputs``)."""
    found: list[int] = []
    todo = [g]
    while todo:
        i = todo.pop()
        for h in d.bom_good[d.bom_input == i].tolist():
            if h not in found and h != g:
                found.append(h)
                todo.append(h)
    return found


def _shortfall_warning(
    m: BuiltModel, lim: LimitRows, r: int, short: float, short_good: int | None = None
) -> str:
    """The warning of a hard limit row ``r`` that leaves ``short`` units of its own good
    (``short_good`` None) or of a good made from it unmet in the no-disruption future."""
    d = m.data
    g = int(lim.good[r])
    h = g if short_good is None else short_good
    unit = d.units[h] if d.units[h] != "unit" else "units"
    what = (
        f"at most {lim.share:.0%} from {d.countries[lim.country[r]]}"
        if lim.country[r] != TOTAL and lim.kind != "min_share"
        else f"{'at least' if lim.kind == 'min_share' else 'at most'} {lim.share:.0%} from "
        f"the countries it lists"
    )
    through = "" if h == g else f", made at home from {d.goods[g]}, which the limit holds back"
    return (
        f"limit `{lim.name}` ({what}) is hard and leaves {short:,.4g} {unit} of {d.goods[h]} "
        f"unmet in the no-disruption future{through}: the other sources cannot make up the "
        "rest. Give "
        f"it a `benchmark` (euros per unit {'over' if lim.kind == 'max_share' else 'short of'} "
        "it) to make it a target, or add capacity "
        "elsewhere"
    )
