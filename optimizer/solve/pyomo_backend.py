"""HiGHS through Pyomo's ``contrib.solver`` persistent interface (in memory, no LP files).

The Pyomo model mirrors the :class:`LinearProgram` block by block: one indexed ``Var`` per
variable block (``m.buy``, ``m.purchase``, ...) and one indexed ``Constraint`` per constraint
block (``m.budget_total``, ``m.demand_balance``, ...), each row a ``LinearExpression`` cut from
the sparse matrix. Pyomo's construction is per element by nature; it is the readable path
(``model.pprint()``, ``model.write("x.lp")``) and the default. ``interface: direct`` in
``config.yaml`` skips it for very large models.
"""

from __future__ import annotations

import math
import time

import highspy
import numpy as np
import pyomo.environ as pyo
import scipy.sparse as sp
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import TerminationCondition
from pyomo.core.expr.numeric_expr import LinearExpression

from optimizer.model.lp import LinearProgram
from optimizer.solve.base import SolveResult, SolverOptions, Status, prepare_scheduler

_DOMAIN = {"continuous": pyo.Reals, "binary": pyo.Binary, "integer": pyo.Integers}

_STATUS: dict[TerminationCondition, Status] = {
    TerminationCondition.convergenceCriteriaSatisfied: "optimal",
    TerminationCondition.maxTimeLimit: "time_limit",
    TerminationCondition.iterationLimit: "time_limit",
    TerminationCondition.provenInfeasible: "infeasible",
    TerminationCondition.locallyInfeasible: "infeasible",
    TerminationCondition.infeasibleOrUnbounded: "infeasible",
    TerminationCondition.unbounded: "unbounded",
}


def _bound(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def to_pyomo(
    lp: LinearProgram, row_scale: np.ndarray | None = None, name: str = "portfolio"
) -> tuple[pyo.ConcreteModel, list, list]:
    """Build the Pyomo model of ``lp``; returns it with the variables in column order and the
    constraint data in row order (``None`` for rows that were skipped as empty). Each row is
    multiplied by ``row_scale`` (exact powers of two, see :meth:`LinearProgram.row_scales`)."""
    m = pyo.ConcreteModel(name=name)
    columns: list = []
    for block in lp.variables.values():
        lo = [_bound(v) for v in block.lower]
        up = [_bound(v) for v in block.upper]
        var = pyo.Var(
            range(block.size),
            domain=_DOMAIN[block.kind],
            bounds=lambda _m, i, lo=lo, up=up: (lo[i], up[i]),
            doc=block.doc,
        )
        m.add_component(block.name, var)
        columns.extend(var[i] for i in range(block.size))

    scale = np.ones(lp.n_rows) if row_scale is None else row_scale
    A = (sp.diags(scale) @ lp.matrix).tocsr()
    indptr, indices, data = A.indptr, A.indices, A.data
    rows: list = []
    for block in lp.constraints.values():
        start = block.start
        lo_all = block.lower * scale[start : start + block.size]
        up_all = block.upper * scale[start : start + block.size]

        def rule(_m, i, lo_all=lo_all, up_all=up_all, start=start):
            r = start + i
            s, e = indptr[r], indptr[r + 1]
            lo, up = lo_all[i], up_all[i]
            if s == e:
                return pyo.Constraint.Skip  # empty rows are checked by the caller
            expr = LinearExpression(
                constant=0.0,
                linear_coefs=data[s:e].tolist(),
                linear_vars=[columns[j] for j in indices[s:e]],
            )
            if lo == up:
                return expr == float(lo)
            return (_bound(lo), expr, _bound(up))

        con = pyo.Constraint(range(block.size), rule=rule, doc=block.doc)
        m.add_component(block.name, con)
        rows.extend(con[i] if i in con else None for i in range(block.size))  # noqa: SIM401

    cost = lp.cost
    nz = np.flatnonzero(cost)
    m.objective = pyo.Objective(
        expr=LinearExpression(
            constant=float(lp.objective_constant),
            linear_coefs=cost[nz].tolist(),
            linear_vars=[columns[j] for j in nz],
        ),
        sense=pyo.minimize,
    )
    return m, columns, rows


def _empty_rows_infeasible(lp: LinearProgram) -> bool:
    A = lp.matrix.tocsr()
    empty = np.diff(A.indptr) == 0
    lo, up = lp.row_lower[empty], lp.row_upper[empty]
    return bool(np.any(lo > 1e-9) | np.any(up < -1e-9))


class PyomoHighs:
    """A persistent Pyomo model solved by ``pyomo.contrib.solver``'s HiGHS interface."""

    name = "highs (pyomo)"

    def __init__(self, lp: LinearProgram, options: SolverOptions):
        t0 = time.perf_counter()
        self.lp = lp
        self.options = options
        self.row_scale = lp.row_scales()
        self.model, self.columns, self.rows = to_pyomo(lp, self.row_scale)
        self.build_seconds = time.perf_counter() - t0
        self.opt = SolverFactory("highs")
        cfg = self.opt.config
        cfg.load_solutions = False
        cfg.raise_exception_on_nonoptimal_result = False
        cfg.time_limit = options.time_limit
        cfg.rel_gap = options.mip_gap
        if options.threads:
            cfg.threads = options.threads
        solver_options = dict(options.highs_options())
        for key in ("mip_rel_gap", "time_limit", "threads"):
            solver_options.pop(key, None)
        solver_options["output_flag"] = bool(options.log)
        cfg.solver_options = solver_options
        self._integer = [c for c, flag in zip(self.columns, lp.integrality) if flag]
        self._instance_set = False
        self._highs_time = 0.0  # HiGHS's run time so far: Pyomo reports it summed over runs
        self._infeasible_constant_row = _empty_rows_infeasible(lp)

    def reload(self) -> None:
        """Hand the Pyomo model to HiGHS afresh at the next :meth:`solve`, with whatever was
        added to or changed in it since (user constraints, see ``optimizer.api.pyomo_model``);
        without it, a solved instance sees only row-bound changes."""
        self._instance_set = False
        self._highs_time = 0.0

    def _minimal_updates(self) -> None:
        au = self.opt.config.auto_updates
        for flag in (
            "check_for_new_or_removed_constraints",
            "check_for_new_or_removed_vars",
            "check_for_new_or_removed_params",
            "check_for_new_objective",
            "update_constraints",
            "update_vars",
            "update_named_expressions",
            "update_objective",
        ):
            setattr(au, flag, False)

    def set_row_bounds(self, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> None:
        """Change row bounds in the Pyomo model and, in place, in HiGHS (the next solve starts
        from the current basis)."""
        self.lp.set_row_bounds(rows, lower, upper)
        for r, lo, up in zip(np.atleast_1d(rows), np.atleast_1d(lower), np.atleast_1d(upper)):
            con = self.rows[int(r)]
            if con is None:
                continue
            lo, up = lo * self.row_scale[int(r)], up * self.row_scale[int(r)]
            con.set_value((_bound(lo), con.body, _bound(up)))
            if self._instance_set:
                idx = self.opt._pyomo_con_to_solver_con_map[con]
                inf = highspy.kHighsInf
                self.opt._solver_model.changeRowBounds(
                    idx, max(float(lo), -inf), min(float(up), inf)
                )

    def solve(self) -> SolveResult:
        t0 = time.perf_counter()
        if self._infeasible_constant_row:
            return SolveResult(
                "infeasible",
                "a requirement with no decision in it cannot hold",
                False,
                seconds={"build": self.build_seconds},
            )
        if not self._instance_set:
            self.opt.set_instance(self.model)
            self._instance_set = True
            self._minimal_updates()
        hand_over = time.perf_counter() - t0
        prepare_scheduler(self.options.threads)
        res = self.opt.solve(self.model)
        solve_s = self._run_time(res)
        h = self.opt._solver_model  # the live highspy object, for iteration counts
        info = h.getInfo()
        status = _STATUS.get(res.termination_condition, "error")
        has_solution = res.incumbent_objective is not None
        limit_first = status == "time_limit" and not has_solution
        if limit_first:
            status = "error"
        result = SolveResult(
            status=status,
            termination=str(res.termination_condition.name),
            has_solution=has_solution,
            limit_before_solution=limit_first,
            iterations=int(max(info.simplex_iteration_count, 0) + max(info.ipm_iteration_count, 0)),
            seconds={"build": self.build_seconds, "hand_over": hand_over, "solve": solve_s},
        )
        if not has_solution:
            return result
        t1 = time.perf_counter()
        primals = res.solution_loader.get_vars()
        result.x = np.fromiter((primals[c] for c in self.columns), float, len(self.columns))
        result.seconds["load_solution"] = time.perf_counter() - t1
        result.objective = float(res.incumbent_objective)
        if self._integer:
            result.bound = float(res.objective_bound) if res.objective_bound is not None else None
            if result.bound is not None:
                denom = max(abs(result.objective), 1e-9)
                result.mip_gap = abs(result.objective - result.bound) / denom
            t1 = time.perf_counter()
            result.row_dual = self._fixed_lp_duals(result.x)
            result.seconds["duals"] = time.perf_counter() - t1
        else:
            result.bound = result.objective
            result.mip_gap = 0.0
            t1 = time.perf_counter()
            result.row_dual = self._duals(res.solution_loader)
            result.seconds["duals"] = time.perf_counter() - t1
        return result

    def _run_time(self, res) -> float:
        """Seconds HiGHS spent in this run: Pyomo's ``highs_time`` is HiGHS's run time since
        the persistent object was made, summed over every run."""
        total = res.timing_info.highs_time
        if total is None:
            return 0.0
        spent, self._highs_time = max(0.0, total - self._highs_time), total
        return spent

    def _duals(self, loader) -> np.ndarray | None:
        cons = [c for c in self.rows if c is not None]
        try:
            duals = loader.get_duals(cons)
        except Exception:  # noqa: BLE001 - the solver had no valid duals
            return None
        scaled = np.array([0.0 if c is None else duals[c] for c in self.rows], dtype=float)
        return scaled * self.row_scale

    def _fixed_lp_duals(self, x: np.ndarray) -> np.ndarray | None:
        """Duals of the LP with the integer decisions fixed at their optimum; the model is
        restored (unfixed, integer again) afterwards."""
        flags = self.lp.integrality
        values = np.round(x[np.flatnonzero(flags)])
        saved = [(v, v.domain) for v in self._integer]
        for v, val in zip(self._integer, values):
            v.domain = pyo.Reals
            v.fix(float(val))
        self.opt.update_variables(self._integer)
        try:
            res = self.opt.solve(self.model)
            self._run_time(res)  # the fixed LP's time is not the next run's
            if res.termination_condition != TerminationCondition.convergenceCriteriaSatisfied:
                return None
            return self._duals(res.solution_loader)
        finally:
            for v, domain in saved:
                v.unfix()
                v.domain = domain
            self.opt.update_variables(self._integer)
