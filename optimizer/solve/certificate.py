"""An optimality certificate for an LP solution, checked without solving again.

A warm re-solve after a change of right-hand side can, rarely, report a wrong optimum (HiGHS
issues #3294 and #3194; see ``benchmarks/README.md``). Instead of re-solving cold to find out,
:func:`lp_certificate` checks the solution against the LP's optimality conditions in the
model's own units: the primal point satisfies every row and bound, and the duals give a lower
bound (the dual objective) equal to the primal objective. Both are a sparse matrix-vector
product. A solution that passes is optimal to the stated tolerances whatever the solver did
to find it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimizer.model.lp import LinearProgram


@dataclass(frozen=True)
class Certificate:
    """``primal_violation``: the largest row or bound violation, relative to the size of that
    row's bound; ``gap``: ``|primal - dual| / max(1, |primal|)``; ``ok`` when both are within
    tolerance and the duals have the signs their bounds allow."""

    ok: bool
    primal_violation: float
    gap: float
    primal: float
    dual: float
    reason: str = ""


def lp_certificate(
    lp: LinearProgram,
    x: np.ndarray,
    row_dual: np.ndarray | None,
    *,
    feasibility: float = 1e-7,
    optimality: float = 1e-7,
    row_lower: np.ndarray | None = None,
    row_upper: np.ndarray | None = None,
) -> Certificate:
    """Check that ``x`` with the row duals ``row_dual`` (HiGHS's sign: a minimisation's binding
    ``<=`` row has a dual <= 0) solves ``lp`` to the given relative tolerances. ``row_lower``
    and ``row_upper``: the row bounds to check against, when not ``lp``'s current ones (a
    sweep checks one level in a thread while the next level's bounds are already set)."""
    c = lp.cost
    primal = float(c @ x + lp.objective_constant)
    if row_dual is None:
        return Certificate(False, np.inf, np.inf, primal, np.nan, "the solver gave no duals")
    A = lp.matrix
    activity = A @ x
    rl = lp.row_lower if row_lower is None else row_lower
    ru = lp.row_upper if row_upper is None else row_upper
    cl, cu = lp.col_lower, lp.col_upper

    def violation(value: np.ndarray, lo: np.ndarray, up: np.ndarray, size: np.ndarray) -> float:
        with np.errstate(invalid="ignore"):
            below = np.where(np.isfinite(lo), (lo - value) / size, 0.0)
            above = np.where(np.isfinite(up), (value - up) / size, 0.0)
        return float(max(0.0, below.max(initial=0.0), above.max(initial=0.0)))

    # a row's violation is measured against the size of its terms (sum |a_ij x_j|) and bounds:
    # a stock balance of 40,000 t with a right-hand side of 0 is not held to 1e-6 t
    terms = abs(A) @ np.abs(x)
    finite = lambda b: np.where(np.isfinite(b), np.abs(b), 0.0)  # noqa: E731
    row_size = np.maximum.reduce([np.ones_like(terms), terms, finite(rl), finite(ru)])
    col_size = np.maximum.reduce([np.ones_like(x), np.abs(x), finite(cl), finite(cu)])
    pv = max(violation(activity, rl, ru, row_size), violation(x, cl, cu, col_size))

    # reduced costs z = c - A'y; the dual objective takes each multiplier at the bound its sign
    # points to; a multiplier that points to an infinite bound is tolerated only when tiny
    y = np.asarray(row_dual, dtype=float)
    z = c - A.T @ y
    scale = max(1.0, float(np.abs(c).max(initial=0.0)))
    tiny = 1e-9 * scale

    def bound_terms(mult: np.ndarray, lo: np.ndarray, up: np.ndarray) -> tuple[float, bool]:
        at = np.where(mult > 0, lo, up)
        bad = ~np.isfinite(at) & (np.abs(mult) > tiny)
        safe = np.where(np.isfinite(at), at, 0.0)
        return float(mult @ safe), bool(bad.any())

    row_part, row_bad = bound_terms(y, rl, ru)
    col_part, col_bad = bound_terms(z, cl, cu)
    dual = row_part + col_part + lp.objective_constant
    gap = abs(primal - dual) / max(1.0, abs(primal))
    reason = ""
    if pv > feasibility:
        reason = f"a requirement is violated by {pv:.2g} (relative)"
    elif row_bad or col_bad:
        reason = "a dual points to a bound that does not exist"
    elif gap > optimality:
        reason = f"primal and dual objectives differ by {gap:.2g} (relative)"
    return Certificate(not reason, pv, gap, primal, dual, reason)
