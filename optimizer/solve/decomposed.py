"""The L-shaped (Benders) method by future: the extensive form's optimum, certified.

Stage four, beside :mod:`optimizer.solve.direct`. :func:`solve_decomposed` takes the same
:class:`~optimizer.model.BuiltModel` and :class:`SolverOptions` and returns the same
:class:`SolveResult` (a :class:`DecomposedResult`), with ``x`` in the extensive form's column
order, so that the results stage reads it as if the extensive form had been solved.

- **Master** (this process): the first-stage columns, the rows that hold only them (budget,
  coverage, contract, plant, modules) and one variable ``theta[g]`` per cut group of futures,
  bounded below by the cuts gathered so far. Its optimum is a lower bound on the extensive
  form's (the artificial bounds of :func:`~optimizer.solve.decomposition_split.artificial_bounds`
  are checked not to bind). Integer first-stage columns stay integer: a MIP master.
- **Subproblems**: chunks of futures, each one block-diagonal LP per HiGHS call with the first
  stage fixed, warm-started between iterations (:mod:`decomposition_worker`). The second-stage
  cost at a first stage ``x`` plus the first-stage cost is the extensive form's objective at
  ``x``: an upper bound, exact.
- **Cuts**: ``theta[g] >= Q_g(x^) + s_g (x - x^)`` with ``s_g = -T_g' pi_g`` from the chunk's
  row duals (rows holding first-stage columns; eta, the CVaR threshold, is one of them).
- **Level stabilisation** (Lemarechal-Nemirovskii-Nesterov, infinity norm, so the projection is
  an LP/MIP): the next first stage is the point closest to the best one so far whose cutting-
  plane model is at most ``LB + level * (UB - LB)``. Plain Kelley cutting planes zig-zag.

The loop stops when ``(UB - LB) / max(1, |UB|) <= gap`` (default 1e-6 for an LP, the MIP gap
for a MIP) and returns the best first stage with its futures' solutions.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp

from optimizer.model.terms import BuiltModel
from optimizer.scenario.schema import Scenario
from optimizer.solve.base import (
    SolveResult,
    SolverOptions,
    highs_bounds,
    prepare_scheduler,
    quiet_stdout,
)
from optimizer.solve.decomposition_build import ChunkSource, StageOne, from_model
from optimizer.solve.decomposition_pool import keeps_solvers, open_pool
from optimizer.solve.decomposition_split import ChunkData, NotDecomposable, split_by_goods
from optimizer.solve.decomposition_start import sample_start
from optimizer.solve.decomposition_worker import INFEASIBLE

_INF = highspy.kHighsInf

__all__ = [
    "DecomposedResult",
    "DecompositionOptions",
    "NotDecomposable",
    "solve_decomposed",
]

#: Cut groups when none are asked: one cut per future up to this many futures. On the synthetic
#: 20 x 5 x 60 case at K = 1,000, 200 groups and 1,001 took the same 12 iterations and 40 one
#: 21 (level 0.5); more groups make the master larger (benchmarks/README.md).
AUTO_CUT_GROUPS = 400


@dataclass(frozen=True)
class DecompositionOptions:
    """How the L-shaped method runs.

    ``gap``: stop at this relative gap between the bounds (None: 1e-6 for an LP, the solver's
    ``mip_gap`` for a MIP); ``futures_per_chunk``: futures in one HiGHS subproblem call;
    ``cut_groups``: how many ``theta`` variables, each with its own cut per iteration (futures
    split evenly among them; 0: :data:`AUTO_CUT_GROUPS`, at most one per future);
    ``level``: the level parameter in (0, 1), 0 for plain (multi-)cutting planes, measured
    fastest on the synthetic cases (benchmarks/README.md);
    ``max_iterations``: of the master loop; ``workers``: local processes for the subproblems
    (1: in this process, no Dask); ``scheduler``: an existing Dask scheduler's address
    (``workers`` is then ignored); ``client``: an open ``distributed.Client`` to use instead;
    ``keep_solvers``: keep one HiGHS object per chunk between iterations (else only its
    basis, and the chunk's LP is passed to HiGHS again each time; None: the pool's
    ``keeps_solvers``, below 1M columns of the extensive form in each process that solves
    chunks); ``by_good``: split each cut group further by good component
    (:func:`~optimizer.solve.decomposition_split.split_by_goods`): one ``theta`` per (group of
    futures, component).
    """

    gap: float | None = None
    futures_per_chunk: int = 25
    cut_groups: int = 0
    level: float = 0.0
    max_iterations: int = 500
    workers: int = 1
    scheduler: str | None = None
    client: object | None = None
    keep_solvers: bool | None = None
    by_good: bool = True
    start_futures: int = 200


@dataclass
class DecomposedResult(SolveResult):
    """A :class:`SolveResult` with the method's certificate: ``lower_bound`` and
    ``upper_bound`` (euros; the upper bound is the extensive form's objective at the returned
    first stage), ``gap`` (relative), the master iterations and the bounds after each
    (``history``: lower, upper), the subproblem calls, workers, resent chunks and the workers'
    peak memory."""

    lower_bound: float | None = None
    upper_bound: float | None = None
    gap: float | None = None
    master_iterations: int = 0
    history: list[tuple[float, float]] = field(default_factory=list)
    chunks: int = 0
    workers: int = 1
    resends: int = 0
    kept_solvers: bool = True
    """Whether the chunks' HiGHS objects were kept between iterations (else only their bases)."""
    worker_peak_mb: list[float] = field(default_factory=list)
    """Peak resident memory of each Dask worker process (MB, since it started), read when the
    pool closed; empty when the subproblems ran in this process."""


class _Master:
    """The master LP/MIP in HiGHS: columns ``x`` (first stage), ``theta`` (one per cut group)
    and, for the level projection, ``t`` (the weighted infinity-norm distance)."""

    def __init__(self, split: StageOne, n_groups: int, options: SolverOptions, level: bool):
        n1 = len(split.first)
        self.n1, self.ng, self.level = n1, n_groups, level
        self.c1 = split.cost
        self.upper = np.minimum(split.upper, split.artificial_upper)
        self.integer = np.flatnonzero(split.integer)
        ncol = n1 + n_groups + (1 if level else 0)
        with quiet_stdout():
            self.h = h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        if options.threads:  # as prepare_scheduler is told in solve(): the pool's size
            h.setOptionValue("threads", int(options.threads))
        cost = np.zeros(ncol)
        if level:
            cost[-1] = 1.0
        else:
            cost[:n1] = self.c1
            cost[n1 : n1 + n_groups] = 1.0
        # each theta held at 0 until its group's first cut (add_cuts frees it): without cuts
        # the master would be unbounded
        self.has_cut = np.zeros(n_groups, dtype=bool)
        lower = np.concatenate([split.lower, np.zeros(n_groups), [0.0] * level])
        upper = np.concatenate([self.upper, np.zeros(n_groups), [_INF] * level])
        h.addVars(ncol, highs_bounds(lower), highs_bounds(upper))
        h.changeColsCost(ncol, np.arange(ncol, dtype=np.int32), cost)
        if len(self.integer):
            k = len(self.integer)
            h.changeColsIntegrality(
                k, self.integer.astype(np.int32), np.array([highspy.HighsVarType.kInteger] * k)
            )
        rows = split.master_rows
        self.row_scale = split.row_scale
        A = (sp.diags(self.row_scale) @ split.A).tocsr()
        self._add_rows(split.row_lower * self.row_scale, split.row_upper * self.row_scale, A, ncol)
        self.n_master_rows = len(rows)
        if level:
            # level row: c1 x + sum theta <= level; proximity: w (x - centre) in [-t, t]
            w = np.abs(self.c1)
            span = self.upper - split.lower
            w = np.where(w > 0, w, 1.0 / np.where(np.isfinite(span) & (span > 0), span, 1.0))
            self.w = w
            row = sp.csr_matrix(np.concatenate([self.c1, np.ones(n_groups), [0.0]])[None, :])
            self._add_rows(np.array([-_INF]), np.array([_INF]), row, ncol)
            eye = sp.hstack(
                [sp.diags(w), sp.csr_matrix((n1, n_groups)), sp.csr_matrix(np.ones((n1, 1)))]
            )
            self._add_rows(np.full(n1, -_INF), np.full(n1, _INF), eye.tocsr(), ncol)  # w x + t
            eye = sp.hstack(
                [sp.diags(w), sp.csr_matrix((n1, n_groups)), sp.csr_matrix(-np.ones((n1, 1)))]
            )
            self._add_rows(np.full(n1, -_INF), np.full(n1, _INF), eye.tocsr(), ncol)  # w x - t
            self.level_row = self.n_master_rows
        self.options = options

    def _add_rows(self, lo: np.ndarray, up: np.ndarray, A: sp.csr_matrix, ncol: int) -> None:
        A = sp.csr_matrix(A, shape=(A.shape[0], ncol))
        if A.shape[0] == 0:
            return
        self.h.addRows(
            A.shape[0],
            highs_bounds(lo),
            highs_bounds(up),
            A.nnz,
            A.indptr[:-1].astype(np.int32),
            A.indices.astype(np.int32),
            A.data.astype(np.float64),
        )

    def add_cuts(
        self,
        value: np.ndarray,
        gradient: sp.csr_matrix,
        at: np.ndarray,
        groups: np.ndarray,
    ) -> None:
        """``theta[g] - s_g x >= Q_g(x^) - s_g x^`` for the groups ``groups`` (``gradient``: the
        sparse ``s_g``, one row per group x first-stage columns), rows scaled by powers of two
        (coefficients of euros per unit can reach 1e8). A ``theta`` still held at 0 (every
        group's until its first cut) is freed."""
        k = gradient.shape[0]
        gradient = sp.csr_matrix(gradient)
        gradient.eliminate_zeros()
        rhs = value - gradient @ at
        ncol = self.n1 + self.ng + (1 if self.level else 0)
        theta = sp.csr_matrix((np.ones(k), (np.arange(k), groups)), shape=(k, self.ng))
        coef = sp.hstack(
            [-gradient, theta, sp.csr_matrix((k, ncol - self.n1 - self.ng))], format="csr"
        )
        new = groups[~self.has_cut[groups]]
        if len(new):
            self.has_cut[new] = True
            cols = (self.n1 + new).astype(np.int32)
            free = np.full(len(cols), _INF)
            self.h.changeColsBounds(len(cols), cols, -free, free)
        absval = np.abs(coef.data)
        starts = coef.indptr[:-1]  # every row holds its theta: never empty
        big = np.maximum.reduceat(absval, starts)
        small = np.minimum.reduceat(absval, starts)
        scale = np.exp2(-np.round(np.log2(np.sqrt(big * small))))
        coef.data *= np.repeat(scale, np.diff(coef.indptr))
        self._add_rows(rhs * scale, np.full(k, _INF), coef, ncol)

    def add_feasibility_cut(
        self, violation: float, gradient: sp.csr_matrix, at: np.ndarray
    ) -> None:
        """``g x <= g x^ - v`` (``v`` > 0, the violation of a future's rows at ``x^``, and
        ``g`` its subgradient: see ``decomposition_worker._feasibility_cut``), scaled by a power
        of two. A ``g`` of zeros leaves ``0 <= -v``: no first stage helps, the master is
        infeasible."""
        g = sp.csr_matrix(gradient, shape=(1, self.n1))
        g.eliminate_zeros()
        rhs = float((g @ at)[0]) - violation
        big = float(np.abs(g.data).max()) if g.nnz else 1.0
        scale = float(np.exp2(-np.round(np.log2(big))))
        ncol = self.n1 + self.ng + (1 if self.level else 0)
        self._add_rows(np.array([-_INF]), np.array([rhs * scale]), g * scale, ncol)

    def set_level(self, level: float, centre: np.ndarray) -> None:
        h = self.h
        h.changeRowBounds(self.level_row, -_INF, float(level))
        n1 = self.n1
        start = self.level_row + 1
        wc = self.w * centre
        idx = np.arange(start, start + n1, dtype=np.int32)
        h.changeRowsBounds(n1, idx, wc, np.full(n1, _INF))  # w x + t >= w c
        idx = np.arange(start + n1, start + 2 * n1, dtype=np.int32)
        h.changeRowsBounds(n1, idx, np.full(n1, -_INF), wc)  # w x - t <= w c

    def set_upper(self, cols: np.ndarray, upper: np.ndarray) -> None:
        self.upper[cols] = upper
        lo = np.asarray(self.h.getLp().col_lower_)[cols]
        self.h.changeColsBounds(len(cols), cols.astype(np.int32), lo, upper)

    def solve(self, mip_gap: float) -> tuple[str, np.ndarray | None, float, float]:
        """Status, first stage, objective (without the constant) and dual bound."""
        h = self.h
        h.setOptionValue("mip_rel_gap", float(mip_gap))
        prepare_scheduler(self.options.threads)
        h.run()
        status = h.modelStatusToString(h.getModelStatus())
        if status not in ("Optimal", "Infeasible"):
            # a warm start after new rows can end "Not Set" in HiGHS 1.16: solve again cold
            h.clearSolver()
            h.run()
            status = h.modelStatusToString(h.getModelStatus())
        if status not in ("Optimal", "Infeasible"):
            # HiGHS 1.16's MIP can end "Solve error" when its presolved optimum violates a cut
            # by 2e-6 in the original space (seen on the random MIP cases of
            # tests/test_decomposition.py); without presolve the same master solves
            h.clearSolver()
            h.setOptionValue("presolve", "off")
            h.run()
            h.setOptionValue("presolve", "choose")
            status = h.modelStatusToString(h.getModelStatus())
        info = h.getInfo()
        if info.primal_solution_status != 2:
            return status, None, np.nan, np.nan
        x = np.asarray(h.getSolution().col_value)
        obj = float(info.objective_function_value)
        bound = float(info.mip_dual_bound) if len(self.integer) else obj
        return status, x, obj, bound

    def row_duals_at(self, x: np.ndarray) -> np.ndarray | None:
        """Duals of the master rows (unscaled) in the LP with the integer columns fixed at
        ``x``; the last solve of this object."""
        h = self.h
        if len(self.integer):
            idx = self.integer.astype(np.int32)
            k = len(idx)
            h.changeColsIntegrality(k, idx, np.array([highspy.HighsVarType.kContinuous] * k))
            fixed = np.round(x[self.integer])
            h.changeColsBounds(k, idx, fixed, fixed)
            h.run()
        sol = h.getSolution()
        if h.modelStatusToString(h.getModelStatus()) != "Optimal" or not sol.dual_valid:
            return None
        return np.asarray(sol.row_dual)[: self.n_master_rows] * self.row_scale


def _groups(K: int, per_chunk: int, cut_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut group of each future and chunk of each group (both contiguous)."""
    n_chunks = max(1, -(-K // max(1, per_chunk)))
    chunk_of_future = np.arange(K) * n_chunks // max(K, 1)
    wanted = AUTO_CUT_GROUPS if cut_groups <= 0 else cut_groups
    n_groups = max(n_chunks, min(K, wanted))
    group_of_future = np.arange(K) * n_groups // max(K, 1)
    # a group never straddles two chunks: split groups at chunk boundaries
    pair = group_of_future * n_chunks + chunk_of_future
    _, group_of_future = np.unique(pair, return_inverse=True)
    n_groups = int(group_of_future.max()) + 1
    chunk_of_group = np.zeros(n_groups, dtype=np.int64)
    chunk_of_group[group_of_future] = chunk_of_future
    return group_of_future, chunk_of_group


def _at_artificial(x: np.ndarray, split: StageOne, upper: np.ndarray) -> np.ndarray:
    art = np.isfinite(split.artificial_upper)
    return np.flatnonzero(art & (x >= upper - 1e-9 * np.maximum(1.0, np.abs(upper))))


def solve_decomposed(
    m: BuiltModel,
    options: SolverOptions | None = None,
    decomposition: DecompositionOptions | None = None,
    scenario: Scenario | None = None,
) -> DecomposedResult:
    """Solve the built model ``m`` by the L-shaped method (see the module's docstring).

    With ``scenario``, the chunks are built from the data, chunk by chunk
    (:func:`~optimizer.solve.decomposition_build.from_data`): ``m`` may then be the model's
    layout only (``build_model(..., layout_only=True)``), its matrix is never read. Without,
    the whole model ``m`` is split.

    Raises :class:`NotDecomposable` (with the reason) for a model the method does not handle:
    solve its extensive form instead. Otherwise never raises for the outcome: the status is
    ``optimal`` once the bounds meet within the gap, ``time_limit`` (with the best first stage
    so far and its exact objective) when ``options.time_limit`` passes first, ``infeasible``
    when the master has no solution. Times in seconds.
    """
    options = options or SolverOptions()
    dec = decomposition or DecompositionOptions()
    t_start = time.perf_counter()
    group_of_future, chunk_of_group = _groups(m.data.K, dec.futures_per_chunk, dec.cut_groups)
    token = uuid.uuid4().hex
    source = None
    if scenario is None:
        split, chunks = from_model(m, group_of_future, chunk_of_group, token)
    else:
        source = ChunkSource(scenario, m, group_of_future, chunk_of_group, token)
        split, chunks = source.all()
    if dec.by_good:
        goods = split_by_goods(chunks, m.data.G)
        if source is not None:
            source.goods = goods
    service = m.lp.constraints.get("max_shortfall")
    service_rows = np.asarray(service.index) if service is not None else np.zeros(0, int)

    def mark(chunk: ChunkData) -> ChunkData:
        # the rows a phase one may violate: a future's service levels (the model is otherwise
        # always feasible: a shortfall absorbs any gap)
        chunk.elastic = np.flatnonzero(np.isin(chunk.rows, service_rows))
        return chunk

    for c in chunks:
        mark(c)
        c.col_good = None  # read by split_by_goods only: not sent to the workers
    places = [(c.cols, c.rows) for c in chunks]
    n_chunks = len(chunks)
    is_mip = split.is_mip
    gap_tol = dec.gap if dec.gap is not None else (options.mip_gap if is_mip else 1e-6)
    n1, ng = len(split.first), sum(c.n_groups for c in chunks)
    group_start = np.cumsum([0] + [c.n_groups for c in chunks])  # the chunks' theta, in order
    rebuild = (lambda c: mark(source.one(c))) if source is not None else None
    seconds = {
        "hand_over": time.perf_counter() - t_start,
        "subproblems": 0.0,
        "chunks_wall": 0.0,  # summed over the chunks, inside the processes that solved them
        "chunks_cpu": 0.0,
        "master": 0.0,
    }
    master = _Master(split, ng, options, level=False)
    proj = _Master(split, ng, options, level=True) if dec.level > 0 else None
    const = split.constant

    def fail(status, text) -> DecomposedResult:
        seconds["solve"] = time.perf_counter() - t_start - seconds["hand_over"]
        return DecomposedResult(status, text, False, seconds=seconds, chunks=n_chunks)

    pool_cm = open_pool(dec.client, dec.scheduler, dec.workers, chunks, options.threads, rebuild)
    # the pool holds the chunks now; on Dask workers, with a source to build a lost worker's
    # chunks again, this process keeps none of their matrices
    del chunks
    with pool_cm as pool:
        iterations = 0
        keep = dec.keep_solvers
        if keep is None:  # the workers are known once the pool is open (a scheduler's too)
            keep = keeps_solvers(split.n_cols, pool.workers)
        pool.keep_solvers = keep

        def evaluate(x: np.ndarray) -> tuple[str, float]:
            nonlocal iterations
            t = time.perf_counter()
            results = pool.evaluate(x)
            seconds["subproblems"] += time.perf_counter() - t
            seconds["chunks_wall"] += sum(r.seconds for r in results)
            seconds["chunks_cpu"] += sum(r.cpu_seconds for r in results)
            iterations += sum(r.iterations for r in results)
            bad = [r for r in results if r.status != "Optimal" and r.violation is None]
            if bad:
                return bad[0].status, np.nan
            # a chunk without feasible operation at x gets a feasibility cut (x gets no upper
            # bound); the feasible chunks' groups get their optimality cuts all the same
            cuts = [r for r in results if r.violation is not None]
            fine = [i for i, r in enumerate(results) if r.violation is None]
            value = np.concatenate([results[i].value for i in fine]) if fine else np.zeros(0)
            if fine:
                grad = sp.vstack([results[i].gradient for i in fine], format="csr")
                groups = np.concatenate(
                    [np.arange(group_start[i], group_start[i + 1]) for i in fine]
                )
            for mm in (master, proj):
                if mm is None:
                    continue
                if fine:
                    mm.add_cuts(value, grad, x, groups)
                for r in cuts:
                    mm.add_feasibility_cut(r.violation, r.feasibility_gradient, x)
            if cuts:
                return "Infeasible", np.inf
            return "Optimal", float(self_c1 @ x + value.sum() + const)

        self_c1 = master.c1
        # start: the cheapest first stage (every theta still held at 0)
        t = time.perf_counter()
        status, sol, _, _ = master.solve(gap_tol / 4)
        seconds["master"] += time.perf_counter() - t
        if sol is None:
            return fail("infeasible" if status == "Infeasible" else "error", status)
        master.h.clearSolver()  # start the real master cold
        best_x = sol[:n1].copy()
        if (
            dec.start_futures > 0
            and scenario is not None
            and not is_mip
            and dec.start_futures < m.data.K
        ):
            t = time.perf_counter()
            start = sample_start(scenario, m.data, dec.start_futures, options, n1)
            seconds["start"] = time.perf_counter() - t
            if start is not None:
                best_x = np.clip(start, split.lower, master.upper)
        status, ub = evaluate(best_x)
        if status not in ("Optimal", "Infeasible"):
            return fail("error", f"a future's second stage ended {status}")
        lb = -np.inf
        history: list[tuple[float, float]] = []
        gap = np.inf
        final = "optimal"
        text = "Optimal"
        for _ in range(dec.max_iterations):
            t = time.perf_counter()
            status, sol, _, bound = master.solve(gap_tol / 4)
            seconds["master"] += time.perf_counter() - t
            # (a theta is held at 0 until its group has a cut: the master is bounded, and
            # HiGHS's MIP "infeasible or unbounded" means infeasible)
            if sol is None and status in INFEASIBLE and not np.isfinite(ub):
                return fail(
                    "infeasible",
                    "no first stage leaves every future a feasible operation (a service level "
                    "cannot be met)",
                )
            if sol is None:
                return fail("error", f"the master problem ended {status}")
            x_lb = sol[:n1]
            if master.has_cut.all():  # a theta held at 0 makes no lower bound
                lb = max(lb, bound + const)
            gap = (ub - lb) / max(1.0, abs(ub))
            history.append((lb, ub))
            if gap <= gap_tol:
                hit = np.union1d(
                    _at_artificial(best_x, split, master.upper),
                    _at_artificial(x_lb, split, master.upper),
                )
                if not len(hit):
                    break
                for mm in (master, proj):  # a bound meant never to bind did: widen it
                    if mm is not None:
                        mm.set_upper(hit, 2.0 * mm.upper[hit])
                lb = -np.inf
                continue
            if options.time_limit is not None and (
                time.perf_counter() - t_start > options.time_limit
            ):
                final, text = "time_limit", "Time limit reached"
                break
            x_new = x_lb
            if proj is not None and np.isfinite(ub):
                proj.set_level(lb - const + dec.level * (ub - lb), best_x)
                t = time.perf_counter()
                _, psol, _, _ = proj.solve(1e-4)
                seconds["master"] += time.perf_counter() - t
                if psol is not None:
                    x_new = psol[:n1]
            status, f = evaluate(x_new)
            if status not in ("Optimal", "Infeasible"):
                return fail("error", f"a future's second stage ended {status}")
            if f < ub:
                ub, best_x = f, x_new.copy()
        else:
            final, text = "time_limit", f"Iteration limit ({dec.max_iterations}) reached"
        if not np.isfinite(ub):
            return fail(final, f"{text} before a first stage feasible in every future was found")

        # the best first stage, its futures' solutions: the extensive form's x
        t = time.perf_counter()
        results = pool.evaluate(best_x, want_primal=True)
        seconds["subproblems"] += time.perf_counter() - t
        workers = pool.workers
        resends = getattr(pool, "resends", 0)
    worker_peak_mb = list(getattr(pool, "peak_mb", []))
    x = np.zeros(split.n_cols)
    x[split.first] = best_x
    row_dual = np.zeros(split.n_rows)
    second_stage = 0.0
    for (cols, rows), r in zip(places, results):
        x[cols] = r.x
        row_dual[rows] = r.row_dual
        second_stage += float(r.value.sum())
    master_duals = master.row_duals_at(best_x)
    if master_duals is None:
        row_dual = None
    else:
        row_dual[split.master_rows] = master_duals
    objective = float(split.cost @ best_x + second_stage + const)
    gap = (objective - lb) / max(1.0, abs(objective))
    seconds["solve"] = time.perf_counter() - t_start - seconds["hand_over"]
    return DecomposedResult(
        status=final,
        termination=f"{text}: bounds within {max(gap, 0.0):.2g} after {len(history)} iterations",
        has_solution=True,
        objective=objective,
        bound=float(lb),
        mip_gap=float(max(gap, 0.0)),
        x=x,
        row_dual=row_dual,
        iterations=iterations,
        seconds=seconds,
        lower_bound=float(lb),
        upper_bound=objective,
        gap=float(gap),
        master_iterations=len(history),
        history=history,
        chunks=n_chunks,
        workers=workers,
        resends=resends,
        kept_solvers=keep,
        worker_peak_mb=worker_peak_mb,
    )
