"""Why a scenario has no feasible portfolio, in the scenario's own words.

The physical model is always feasible (a shortfall can absorb any gap), so infeasibility comes
from the requirements a user switched on: budgets, coverage days, service levels, the
concentration cap and the CVaR limit, together with the bounds they press against. The
**elastic re-solve** below adds a penalised slack to each such requirement and minimises the
total violation, scaled so that each requirement counts relative to its own size. The
requirements left with a slack are the ones that cannot hold; the requirements that are tight
at that point are the ones they conflict with. Each is reported with its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.format import money_short as _eur
from optimizer.model.lp import LinearProgram
from optimizer.model.terms import BuiltModel
from optimizer.solve.base import SolverOptions

#: Constraint blocks a user switches on in the scenario file.
REQUIREMENTS = (
    "budget_total",
    "budget_line",
    "coverage",
    "max_shortfall",
    "concentration_cap",
    "cvar_limit",
)


@dataclass(frozen=True)
class Conflict:
    """One requirement in the conflict: ``violated`` by ``amount`` (in its own unit), or
    ``tight`` when it holds with no room left and blocks the repair of another."""

    block: str
    position: int
    violated: bool
    amount: float
    text: str


def _elastic(lp: LinearProgram) -> tuple[LinearProgram, np.ndarray, np.ndarray, np.ndarray]:
    """A copy of ``lp`` with zero cost, continuous, and a slack on each requirement row.

    Returns the copy, the requirement rows, and the columns of their slacks (below lower, above
    upper)."""
    e = LinearProgram()
    for b in lp.variables.values():
        e.add_variables(b.name, b.size, b.lower, b.upper, 0.0)
    for b in lp.constraints.values():
        e.add_constraints(b.name, b.size, b.lower, b.upper)
    A = lp.matrix.tocoo()
    e.add_terms(A.row, A.col, A.data)
    rows = np.concatenate(
        [lp.constraints[n].index for n in REQUIREMENTS if n in lp.constraints] or [np.zeros(0, int)]
    )
    lo, up = e.row_lower[rows], e.row_upper[rows]
    scale = 1.0 / np.maximum(
        1.0,
        np.maximum(
            np.abs(np.where(np.isfinite(lo), lo, 0)), np.abs(np.where(np.isfinite(up), up, 0))
        ),
    )
    below = e.add_variables(
        "slack_below", len(rows), 0.0, np.where(np.isfinite(lo), np.inf, 0.0), scale
    )
    above = e.add_variables(
        "slack_above", len(rows), 0.0, np.where(np.isfinite(up), np.inf, 0.0), scale
    )
    e.add_terms(rows, below, 1.0)
    e.add_terms(rows, above, -1.0)
    return e, rows, below, above


def find_conflicts(m: BuiltModel, options: SolverOptions | None = None) -> list[Conflict]:
    """The violated and the tight requirements of an infeasible model (empty if the elastic
    model finds nothing to relax, which means the conflict lies in the bounds alone)."""
    from optimizer.solve.direct import DirectHighs

    lp = m.lp
    e, rows, below, above = _elastic(lp)
    opts = options or SolverOptions()
    res = DirectHighs(e, SolverOptions(time_limit=opts.time_limit, mip_gap=1e-6)).solve()
    if not res.has_solution or res.x is None:
        return []
    x = res.x
    viol = x[below] + x[above]
    activity = lp.matrix @ x[: lp.n_cols]
    lo, up = lp.row_lower[rows], lp.row_upper[rows]
    tol = 1e-6 * np.maximum(1.0, np.abs(np.where(np.isfinite(up), up, lo)))
    tight = (np.abs(activity[rows] - up) <= tol) | (np.abs(activity[rows] - lo) <= tol)
    if res.row_dual is not None:  # only the requirements that actually block the repair
        tight &= np.abs(res.row_dual[rows]) > 1e-9
    out: list[Conflict] = []
    for i, r in enumerate(rows):
        block, pos = lp.block_of_row(int(r))
        if viol[i] > tol[i]:
            out.append(
                Conflict(
                    block, pos, True, float(viol[i]), describe(m, block, pos, float(viol[i]), x)
                )
            )
    if not out:
        return []
    for i, r in enumerate(rows):
        block, pos = lp.block_of_row(int(r))
        if viol[i] <= tol[i] and tight[i]:
            out.append(Conflict(block, pos, False, 0.0, describe(m, block, pos, 0.0, x)))
    return out


def describe(m: BuiltModel, block: str, pos: int, amount: float, x: np.ndarray) -> str:
    """A requirement in plain words, with its numbers; ``amount`` > 0 says by how much it is
    violated at the least-violation point ``x``."""
    d, lp = m.data, m.lp
    row = lp.constraints[block].start + pos
    up = lp.row_upper[row]
    if block in ("budget_total", "budget_line"):
        name = next((k for k, r in m.budget_rows.items() if r == row), "?")
        label = "the total budget" if name == "total" else f"budget line '{name}'"
        limit = m.info["budget_limit"][name]
        if amount > 0:
            return (
                f"{label} of {_eur(limit)} is short by {_eur(amount)}: the other "
                f"requirements need at least {_eur(limit + amount)} of it"
            )
        return f"{label} of {_eur(limit)} is fully used"
    if block == "coverage":
        g = int(np.flatnonzero(~np.isnan(d.coverage_units) & d.has_stock)[pos])
        need = d.coverage_units[g]
        days = need / (d.demand_pp[g] * d.periods_per_year) * 365 if d.demand_pp[g] else 0
        buy = need - d.stock_initial[g]
        cost = buy * (d.stock_unit_cost[g] + d.storage_cost[g] * d.years)
        text = (
            f"coverage of {days:,.0f} days for {d.goods[g]} needs a stock of {need:,.4g} "
            f"{d.units[g]} (buying {max(buy, 0):,.4g} costs {_eur(max(cost, 0))} with storage)"
        )
        if np.isfinite(d.stock_max[g]) and need > d.stock_max[g] + 1e-9:
            text += f", more than the stockpile max of {d.stock_max[g]:,.4g} {d.units[g]}"
        if amount > 0:
            text += f"; it cannot be met by {amount:,.4g} {d.units[g]}"
        return text
    if block == "max_shortfall":
        cells = np.flatnonzero(~np.isnan(d.max_shortfall[d.cell_g]))
        pair = np.unique(d.cell_k[cells] * d.G + d.cell_g[cells])[pos]
        k, g = divmod(int(pair), d.G)
        text = (
            f"the service level for {d.goods[g]} (shortfall at most "
            f"{d.max_shortfall[g]:.0%} of demand) in scenario '{d.scenarios[k]}'"
        )
        if amount > 0:
            return (
                text + f" cannot hold: even at best the shortfall exceeds it by "
                f"{amount:,.4g} {d.units[g]}"
            )
        return text + " holds with no room left"
    if block == "concentration_cap":
        pairs = m.info["cap_pairs"]
        g, c = int(pairs.good.iloc[pos]), int(pairs.country.iloc[pos])
        text = f"the concentration cap on {d.countries[c]} for {d.goods[g]}"
        if amount > 0:
            return text + (
                f" cannot hold: other sources cannot supply enough; "
                f"{amount:,.4g} {d.units[g]} too much would come from {d.countries[c]}"
            )
        return text + " is binding"
    if block == "cvar_limit":
        if amount > 0:
            return (
                f"the CVaR limit of {_eur(up)} cannot hold: the least CVaR reachable is "
                f"{_eur(up + amount)}"
            )
        return f"the CVaR limit of {_eur(up)} is binding"
    return f"{block}[{pos}]"


#: A decomposed run holds only its model's layout; its diagnosis builds the whole LP up to
#: this many columns (the elastic re-solve is one LP of that size), and gives none above.
DIAGNOSE_MAX_COLUMNS = 2_000_000


def explain_infeasibility(result) -> list[str] | None:
    """Plain-words lines naming the conflicting requirements of an infeasible run (None when
    the run was decomposed and its whole LP is above :data:`DIAGNOSE_MAX_COLUMNS`)."""
    m = result.model
    if m.lp.layout_only:
        if m.lp.n_cols > DIAGNOSE_MAX_COLUMNS:
            return None
        from optimizer.model import build_model

        m = build_model(result.loaded.scenario, result.data)
    conflicts = find_conflicts(m)
    if not conflicts:
        return _bounds_only(m)
    lines = [c.text for c in conflicts if c.violated]
    partners = [c.text for c in conflicts if not c.violated]
    if partners:
        lines.append("in conflict with: " + "; ".join(partners))
    return lines


def _bounds_only(m: BuiltModel) -> list[str]:
    d = m.data
    lines = []
    for g in range(d.G):
        if d.has_stock[g] and d.stock_initial[g] > d.stock_max[g] + 1e-9:
            lines.append(
                f"{d.goods[g]}: the initial stock {d.stock_initial[g]:,.4g} exceeds "
                f"the stockpile max {d.stock_max[g]:,.4g}"
            )
    return lines
