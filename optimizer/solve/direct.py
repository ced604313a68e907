"""HiGHS driven directly through highspy: the model's arrays handed over in one ``passModel``.

The fast path for very large models (no per-element Python at all). The object is persistent:
:meth:`DirectHighs.set_row_bounds` changes a right-hand side in place and the next
:meth:`solve` starts warm from the previous basis (LP).
"""

from __future__ import annotations

import time

import highspy
import numpy as np
import scipy.sparse as sp

from optimizer.model.lp import LinearProgram
from optimizer.solve.base import (
    SolveResult,
    SolverOptions,
    highs_bounds,
    pass_lp,
    prepare_scheduler,
    quiet_stdout,
    status_from_highs,
)


class DirectHighs:
    """A persistent HiGHS instance holding one :class:`LinearProgram`."""

    name = "highs (direct)"

    def __init__(self, lp: LinearProgram, options: SolverOptions):
        t0 = time.perf_counter()
        self.lp = lp
        self.options = options
        with quiet_stdout():
            self.h = highspy.Highs()
        self.h.setOptionValue("output_flag", bool(options.log))
        self.row_scale = lp.row_scales()
        A = (sp.diags(self.row_scale) @ lp.matrix).tocsc()
        self._integer = np.flatnonzero(lp.integrality)
        pass_lp(
            self.h,
            A,
            lp.cost,
            lp.col_lower,
            lp.col_upper,
            lp.row_lower * self.row_scale,
            lp.row_upper * self.row_scale,
            offset=float(lp.objective_constant),
            integrality=(np.asarray(lp.integrality) != 0).astype(np.int32)
            if len(self._integer)
            else None,
        )
        for key, value in options.highs_options().items():
            self.h.setOptionValue(key, value)
        self.hand_over_seconds = time.perf_counter() - t0

    def set_row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Change row bounds in place (the next solve starts from the current basis)."""
        self.lp.set_row_bounds(rows, lower, upper)
        self._push_row_bounds(rows, lower, upper)

    def _push_row_bounds(self, rows, lower, upper) -> None:
        """Hand row bounds (in the model's units) to HiGHS, scaled as the rows were."""
        rows = np.asarray(rows, dtype=np.int32)
        scale = self.row_scale[rows]
        lower = np.asarray(lower, float) * scale
        upper = np.asarray(upper, float) * scale
        self.h.changeRowsBounds(len(rows), rows, highs_bounds(lower), highs_bounds(upper))

    def update(self, lp: LinearProgram) -> bool:
        """Take the numbers of ``lp`` (a rebuild of the model with other data) in place, keeping
        HiGHS's basis for a warm re-solve: changed costs, column and row bounds, matrix
        coefficients and the objective constant. Only when ``lp`` has the same shape
        (:meth:`LinearProgram.same_shape`); returns False, changing nothing, otherwise. The
        rows keep the scale factors chosen at hand-over."""
        old = self.lp
        if not old.same_shape(lp):
            return False
        h, scale = self.h, self.row_scale
        cost = lp.cost
        cols = np.flatnonzero(cost != old.cost)
        if len(cols):
            h.changeColsCost(len(cols), cols.astype(np.int32), cost[cols])
        lo, up = lp.col_lower, lp.col_upper
        cols = np.flatnonzero((lo != old.col_lower) | (up != old.col_upper))
        if len(cols):
            h.changeColsBounds(
                len(cols), cols.astype(np.int32), highs_bounds(lo[cols]), highs_bounds(up[cols])
            )
        lo, up = lp.row_lower, lp.row_upper
        rows = np.flatnonzero((lo != old.row_lower) | (up != old.row_upper))
        if len(rows):
            self._push_row_bounds(rows, lo[rows], up[rows])
        a, b = old.matrix, lp.matrix
        changed = np.flatnonzero(a.data != b.data)
        if len(changed):
            col_of = np.repeat(np.arange(lp.n_cols), np.diff(b.indptr))
            for k in changed:  # coefficients one at a time: HiGHS has no batch call for them
                row = int(b.indices[k])
                h.changeCoeff(row, int(col_of[k]), float(b.data[k] * scale[row]))
        if lp.objective_constant != old.objective_constant:
            h.changeObjectiveOffset(float(lp.objective_constant))
        self.lp = lp
        return True

    def solve(self) -> SolveResult:
        """Solve; for a MIP, solve again as an LP with the integers fixed to get duals."""
        h = self.h
        t0 = time.perf_counter()
        prepare_scheduler(self.options.threads)
        h.run()
        solve_s = time.perf_counter() - t0
        info = h.getInfo()
        text = h.modelStatusToString(h.getModelStatus())
        has_solution = info.primal_solution_status == 2
        status = status_from_highs(text, has_solution)
        limit_first = status == "time_limit" and not has_solution
        if limit_first:
            status = "error"
            text = f"{text} before any feasible portfolio was found"
        result = SolveResult(
            status=status,
            termination=text,
            has_solution=has_solution,
            limit_before_solution=limit_first,
            iterations=int(max(info.simplex_iteration_count, 0) + max(info.ipm_iteration_count, 0)),
            seconds={"hand_over": self.hand_over_seconds, "solve": solve_s},
        )
        if not has_solution:
            return result
        t1 = time.perf_counter()
        sol = h.getSolution()
        x = np.asarray(sol.col_value, dtype=float)
        result.x = x
        result.seconds["load_solution"] = time.perf_counter() - t1
        result.objective = float(info.objective_function_value)
        if len(self._integer):
            result.bound = float(info.mip_dual_bound)
            result.mip_gap = float(max(info.mip_gap, 0.0)) if np.isfinite(info.mip_gap) else None
            t1 = time.perf_counter()
            result.row_dual = self._fixed_lp_duals(x)
            result.seconds["duals"] = time.perf_counter() - t1
        else:
            result.bound = result.objective
            result.mip_gap = 0.0
            result.row_dual = (
                np.asarray(sol.row_dual, dtype=float) * self.row_scale if sol.dual_valid else None
            )
        return result

    def _fixed_lp_duals(self, x: np.ndarray) -> np.ndarray | None:
        """Row duals of the LP with every integer column fixed at its (rounded) value; the
        integrality and bounds are restored afterwards so the object can be re-solved."""
        h, idx = self.h, self._integer.astype(np.int32)
        n = len(idx)
        lo = highs_bounds(self.lp.col_lower[idx])
        up = highs_bounds(self.lp.col_upper[idx])
        fixed = np.round(x[idx])
        cont = np.array([highspy.HighsVarType.kContinuous] * n)
        integ = np.array([highspy.HighsVarType.kInteger] * n)
        h.changeColsIntegrality(n, idx, cont)
        h.changeColsBounds(n, idx, fixed, fixed)
        try:
            h.run()
            sol = h.getSolution()
            ok = h.modelStatusToString(h.getModelStatus()) == "Optimal" and sol.dual_valid
            return np.asarray(sol.row_dual, dtype=float) * self.row_scale if ok else None
        finally:
            h.changeColsBounds(n, idx, lo, up)
            h.changeColsIntegrality(n, idx, integ)
