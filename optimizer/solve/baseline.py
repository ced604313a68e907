"""The baseline "against doing nothing": the same futures with every first-stage lever at zero.

:func:`solve_doing_nothing` fixes the columns of every first-stage decision (stock bought,
capacity reserved and contracts signed, plants and modules built, demand measures prepared) at
zero in a fresh HiGHS instance (``direct``: the arrays are handed over once) and solves what is
left: the second stage, each future's purchases, releases of any initial stock and shortfalls.
Its objective is the expected total cost of doing nothing, which the portfolio's objective is
compared with in ``portfolio.json`` (``baseline``).
"""

from __future__ import annotations

import numpy as np

from optimizer.model import BuiltModel
from optimizer.solve.base import SolveResult, SolverOptions

#: The model's column blocks that are first-stage decisions (levers chosen before the future).
FIRST_STAGE_BLOCKS = ("buy", "reserve", "contract", "build", "plant", "modules", "prepare")


def first_stage_columns(built: BuiltModel) -> np.ndarray:
    """Global column indices of every first-stage decision of ``built``."""
    parts = [np.asarray(built.cols[b]) for b in FIRST_STAGE_BLOCKS if b in built.cols]
    cols = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
    return np.unique(cols[cols >= 0]).astype(np.int64)


def solve_doing_nothing(built: BuiltModel, options: SolverOptions) -> SolveResult:
    """Solve ``built`` with every first-stage column fixed at zero (one extra solve, cold)."""
    import highspy

    from optimizer.solve.direct import DirectHighs

    solver = DirectHighs(built.lp, options)
    cols = first_stage_columns(built)
    if cols.size:
        zeros = np.zeros(cols.size)
        solver.h.changeColsBounds(cols.size, cols.astype(np.int32), zeros, zeros)
        integer = solver._integer
        if len(integer) and np.isin(integer, cols).all():
            # every integer decision is a lever fixed at zero: nothing to branch on, an LP
            solver.h.changeColsIntegrality(
                len(integer),
                integer.astype(np.int32),
                np.array([highspy.HighsVarType.kContinuous] * len(integer)),
            )
            solver._integer = np.zeros(0, dtype=np.int64)
    return solver.solve()
