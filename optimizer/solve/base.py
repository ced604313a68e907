"""What a solve returns, independent of the interface that ran it.

Like Pyomo's ``contrib.solver``, the result separates *why the solver stopped*
(``termination``, ``status``) from *what it found* (``x``, ``objective``). A solve never
raises for a non-optimal outcome: the command line maps each status to its exit code and a
batch records it.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Status = Literal["optimal", "time_limit", "infeasible", "unbounded", "error"]
Interface = Literal["auto", "pyomo", "direct"]

#: With ``interface: auto``, models up to this many columns go through Pyomo, larger ones
#: straight to highspy. 0: none. Pyomo's import and set-up cost about 1.5 s even for a model
#: of 600 columns (more than everything else in a small run) and its element-by-element build
#: about 1 s per 10,000 columns, for the same answers (benchmarks/README.md, "A small run,
#: end to end").
#: ``interface: pyomo`` and :func:`optimizer.api.pyomo_model` remain the ways into Pyomo.
PYOMO_MAX_COLUMNS = 0

#: ``pricing`` -> HiGHS's ``simplex_dual_edge_weight_strategy``.
PRICING: dict[str, int] = {"choose": -1, "devex": 1, "steepest_edge": 2}

#: HiGHS settings for an LP that will be re-solved warm after small changes (a sweep). With its
#: default dual steepest-edge pricing HiGHS recomputes every edge weight from scratch (one
#: solve per row) at the start of each warm re-solve; Devex pricing needs none. On the ladder's
#: M scenario the 19 warm levels of a budget sweep took 1.9-2.0 s with Devex against 2.7-2.9 s
#: (benchmarks/README.md). HiGHS reads it when it first sets up the simplex, so it must be set
#: before the first solve.
WARM_RESOLVE_OPTIONS: dict[str, object] = {"simplex_dual_edge_weight_strategy": PRICING["devex"]}


@dataclass(frozen=True)
class SolverOptions:
    """How to run HiGHS. ``time_limit`` in seconds (None: no limit); ``mip_gap`` relative;
    ``threads`` 0 = HiGHS's choice (fixed per process by HiGHS itself); ``pricing``: the dual
    simplex pricing (:data:`PRICING`; ``choose`` leaves HiGHS's default); ``warm_resolves``:
    the LP will be re-solved warm many times (:data:`WARM_RESOLVE_OPTIONS`, which wins)."""

    time_limit: float | None = None
    mip_gap: float = 1e-4
    threads: int = 0
    algorithm: Literal["choose", "simplex", "ipm"] = "choose"
    presolve: bool = True
    log: bool = False
    pricing: Literal["devex", "steepest_edge", "choose"] = "choose"
    warm_resolves: bool = False
    extra: dict[str, object] = field(default_factory=dict)

    def highs_options(self) -> dict[str, object]:
        opts: dict[str, object] = {
            "mip_rel_gap": float(self.mip_gap),
            "solver": self.algorithm,
            "presolve": "on" if self.presolve else "off",
        }
        if self.time_limit is not None:
            opts["time_limit"] = float(self.time_limit)
        if self.threads:
            opts["threads"] = int(self.threads)
        if self.pricing != "choose":
            opts["simplex_dual_edge_weight_strategy"] = PRICING[self.pricing]
        if self.warm_resolves:
            opts.update(WARM_RESOLVE_OPTIONS)
        opts.update(self.extra)
        return opts


@dataclass
class SolveResult:
    """The outcome of one solve.

    ``x`` holds the column values in the :class:`LinearProgram`'s order and ``row_dual`` the row
    duals of the LP with the integer decisions fixed at their optimum (HiGHS's sign: a binding
    ``<=`` row of a minimisation has a dual <= 0). Times in seconds.
    """

    status: Status
    termination: str
    has_solution: bool
    objective: float | None = None
    bound: float | None = None
    mip_gap: float | None = None
    x: np.ndarray | None = None
    row_dual: np.ndarray | None = None
    iterations: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    limit_before_solution: bool = False
    """Stopped by the time (or iteration) limit before any feasible portfolio was found:
    ``status`` is then ``error`` (there is nothing to write), and the command line exits 4
    with advice to give more time rather than 5."""

    @property
    def ok(self) -> bool:
        return self.status == "optimal"


def status_from_highs(model_status: str, has_solution: bool) -> Status:
    """Map HiGHS's model status text to the results contract's status."""
    s = model_status.lower()
    if s == "optimal":
        return "optimal"
    if "time limit" in s or "iteration limit" in s or "solution limit" in s:
        return "time_limit"
    if s == "infeasible":
        return "infeasible"
    if "unbounded" in s and "infeasible" in s:
        return "infeasible"
    if "unbounded" in s:
        return "unbounded"
    return "error"


_scheduler_threads: list[int] = []


def prepare_scheduler(threads: int) -> None:
    """HiGHS fixes its thread pool at the first solve of a process; a later solve asking for
    another ``threads`` value ends with status NotSet (see benchmarks/README.md). Reset the
    pool whenever the value changes, so that runs with different settings can share a
    process (tests, sweeps, batch workers)."""
    if _scheduler_threads and _scheduler_threads[-1] != threads:
        import highspy

        highspy.Highs.resetGlobalScheduler(True)
    _scheduler_threads[:] = [threads]


@contextlib.contextmanager
def quiet_stdout():
    """Silence file descriptor 1 (HiGHS prints a banner from C++ when an object is made)."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def highs_bounds(a) -> np.ndarray:
    """Bounds as HiGHS reads them: float64, infinite values at ``highspy.kHighsInf``."""
    import highspy

    return np.clip(np.asarray(a, dtype=np.float64), -highspy.kHighsInf, highspy.kHighsInf)


def pass_lp(
    h,
    A,
    cost: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    offset: float = 0.0,
    integrality: np.ndarray | None = None,
) -> None:
    """Hand an LP to the HiGHS object ``h`` as arrays, with ``passModel``'s pointer form.

    ``A``: a SciPy CSC matrix (rows x columns); bounds may be infinite; ``integrality``: 1 for
    an integer column (None: all continuous). Filling a ``HighsLp`` field by field converts
    every number through Python (measured 26 ms against 0.2 ms for 20,000 columns and 100,000
    nonzeros): per subproblem call of the decomposition that was more than the solve."""
    import highspy

    n_row, n_col = A.shape
    if integrality is None:
        integrality = np.zeros(n_col, dtype=np.int32)
    status = h.passModel(
        int(n_col),
        int(n_row),
        int(A.nnz),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMinimize),
        float(offset),
        np.ascontiguousarray(cost, dtype=np.float64),
        highs_bounds(col_lower),
        highs_bounds(col_upper),
        highs_bounds(row_lower),
        highs_bounds(row_upper),
        A.indptr[:-1].astype(np.int32),
        A.indices.astype(np.int32),
        A.data.astype(np.float64),
        np.ascontiguousarray(integrality, dtype=np.int32),
    )
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the LP handed to it")
