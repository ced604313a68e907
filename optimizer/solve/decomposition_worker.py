"""The subproblem side of the L-shaped method: one chunk of futures, first stage fixed.

A worker process keeps one persistent HiGHS object per chunk (:data:`_CACHE`), so that every
iteration after the first starts warm from the previous basis: only the first-stage vector
comes in, and per cut group a value (euros) and a subgradient go out. The chunk's arrays
(:class:`ChunkData`) are sent once; a worker that has lost its cache (a restart, a chunk moved
after a lost worker) rebuilds the HiGHS object from them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp

from optimizer.solve.base import (
    WARM_RESOLVE_OPTIONS,
    highs_bounds,
    pass_lp,
    prepare_scheduler,
    quiet_stdout,
)
from optimizer.solve.decomposition_split import ChunkData

#: (token, chunk index) -> (HiGHS object or None, group-sum matrix, rows holding first-stage
#: columns, last optimal basis or None); one per chunk held by a process. Without the HiGHS
#: object (``keep_solver=False``) only the basis is kept and the LP is passed again at the
#: next call, warm-started from it: a few bytes per column instead of HiGHS's copy of the LP.
_CACHE: dict[tuple[str, int], tuple[highspy.Highs | None, sp.csr_matrix, np.ndarray, object]] = {}


@dataclass
class ChunkResult:
    """What one chunk returns for a first stage ``x``.

    ``value[g]``: the second-stage cost of cut group ``g`` (probability-weighted euros, the
    objective's own units); ``gradient[g]``: its subgradient with respect to the first-stage
    columns (``-T' pi`` over the group's rows), a sparse matrix (groups x first-stage
    columns). With ``primal``: the chunk's column values and row duals (unscaled, HiGHS's
    sign), for assembling the extensive form's solution.
    """

    index: int
    status: str
    value: np.ndarray | None = None
    gradient: sp.csr_matrix | None = None
    iterations: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time of the solving thread for this chunk (``seconds`` is wall time): on a shared
    machine the two differ by the time the thread waited for a core."""
    x: np.ndarray | None = None
    row_dual: np.ndarray | None = None
    built: bool = False
    violation: float | None = None
    """With status ``Infeasible``: the least total violation of the chunk's ``elastic`` rows
    (its service levels) at ``x``, in the rows' scaled units (> 0), and in
    ``feasibility_gradient`` its subgradient (one row): a feasibility cut
    ``violation + g (x' - x) <= 0`` for the master."""
    feasibility_gradient: sp.csr_matrix | None = None


def _build(chunk: ChunkData, threads: int) -> highspy.Highs:
    """The chunk's LP in a new HiGHS object."""
    with quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    W = chunk.W.tocsc()
    pass_lp(h, W, chunk.cost, chunk.col_lower, chunk.col_upper, chunk.row_lower, chunk.row_upper)
    for key, value in WARM_RESOLVE_OPTIONS.items():
        h.setOptionValue(key, value)
    if threads:
        h.setOptionValue("threads", int(threads))
    return h


def _maps(chunk: ChunkData) -> tuple[sp.csr_matrix, np.ndarray]:
    """The chunk's group-sum matrix (groups x rows) and its rows holding first-stage columns."""
    n = chunk.W.shape[0]
    groups = sp.csr_matrix((np.ones(n), (chunk.row_group, np.arange(n))), shape=(chunk.n_groups, n))
    linked = np.flatnonzero(np.diff(chunk.T.indptr) > 0).astype(np.int32)
    return groups, linked


def evaluate_chunk(
    chunk: ChunkData,
    x: np.ndarray,
    want_primal: bool = False,
    threads: int = 0,
    keep_solver: bool = True,
) -> ChunkResult:
    """Solve the chunk's second stage with the first stage fixed at ``x`` (first-stage columns
    in :attr:`Split.first` order) and return its cut data (see :class:`ChunkResult`).
    ``keep_solver``: keep the HiGHS object for the next call (else only its basis)."""
    t0, c0 = time.perf_counter(), time.thread_time()
    key = (chunk.token, chunk.index)
    cached = _CACHE.get(key)
    built = cached is None or cached[0] is None
    if cached is None:
        groups, linked = _maps(chunk)
    else:
        groups, linked = cached[1], cached[2]
    if built:
        h = _build(chunk, threads)
        if cached is not None and cached[3] is not None:
            h.setBasis(cached[3])
    else:
        h = cached[0]
    _CACHE[key] = (h if keep_solver else None, groups, linked, None)
    shift = chunk.T[linked] @ x  # only rows holding first-stage columns move
    lo = chunk.row_lower[linked] - shift
    up = chunk.row_upper[linked] - shift
    h.changeRowsBounds(len(linked), linked, highs_bounds(lo), highs_bounds(up))
    prepare_scheduler(threads)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    its = int(max(info.simplex_iteration_count, 0))
    if not keep_solver and status == "Optimal":
        _CACHE[key] = (None, groups, linked, h.getBasis())
    if status in INFEASIBLE:
        status = "Infeasible"
        cut = _feasibility_cut(chunk, x, threads)
        if cut is not None:
            return ChunkResult(
                chunk.index,
                status,
                iterations=its,
                built=built,
                violation=cut[0],
                feasibility_gradient=cut[1],
            )
    if status != "Optimal":
        return ChunkResult(chunk.index, status, iterations=its, built=built)
    sol = h.getSolution()
    y = np.asarray(sol.col_value, dtype=float)
    pi = np.asarray(sol.row_dual, dtype=float)  # of the scaled rows
    value = np.bincount(chunk.col_group, weights=chunk.cost * y, minlength=chunk.n_groups)
    # d value / d x = -T' pi, summed over each group's rows (sparse: a group of one good's
    # futures touches that good's first-stage columns only)
    gradient = (groups @ sp.diags(-pi) @ chunk.T).tocsr()
    result = ChunkResult(
        chunk.index,
        status,
        value=value,
        gradient=gradient,
        iterations=its,
        seconds=time.perf_counter() - t0,
        cpu_seconds=time.thread_time() - c0,
        built=built,
    )
    if want_primal:
        result.x = y
        result.row_dual = pi * chunk.row_scale
    return result


#: HiGHS's verdicts on a chunk that has no feasible operation at the given first stage.
INFEASIBLE = ("Infeasible", "Primal infeasible or unbounded")

#: A phase-one violation at or below this (scaled row units) is HiGHS's tolerance, not a
#: future left without a feasible operation: no cut is made and the solve reports the status.
MIN_VIOLATION = 1e-6


def _feasibility_cut(
    chunk: ChunkData, x: np.ndarray, threads: int
) -> tuple[float, sp.csr_matrix] | None:
    """Phase one of an infeasible chunk at first stage ``x``: its ``elastic`` rows (the service
    levels; every row when None) given a slack of each sign, cost 1, the least total violation
    ``v(x)`` and its subgradient ``-T' pi`` (one row over the first-stage columns). ``v`` is
    convex in ``x`` and 0 exactly where the chunk is feasible, so every feasible first stage
    meets ``v + g (x' - x) <= 0``. None when the violation is within HiGHS's tolerance (a
    numerical verdict, not a cut)."""
    W = chunk.W.tocsc()
    n_rows, n_cols = W.shape
    rows = np.arange(n_rows) if chunk.elastic is None else np.asarray(chunk.elastic)
    if not len(rows):
        return None
    k = len(rows)
    eye = sp.csc_matrix((np.ones(k), (rows, np.arange(k))), shape=(n_rows, k))
    A = sp.hstack([W, eye, -eye], format="csc")
    cost = np.concatenate([np.zeros(n_cols), np.ones(2 * k)])
    lower = np.concatenate([chunk.col_lower, np.zeros(2 * k)])
    upper = np.concatenate([chunk.col_upper, np.full(2 * k, np.inf)])
    shift = chunk.T @ x
    with quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if threads:
        h.setOptionValue("threads", int(threads))
    pass_lp(h, A, cost, lower, upper, chunk.row_lower - shift, chunk.row_upper - shift)
    prepare_scheduler(threads)
    h.run()
    if h.modelStatusToString(h.getModelStatus()) != "Optimal":
        return None
    violation = float(h.getInfo().objective_function_value)
    if violation <= MIN_VIOLATION:
        return None
    pi = np.asarray(h.getSolution().row_dual, dtype=float)
    return violation, sp.csr_matrix(-(chunk.T.T @ pi).reshape(1, -1))


def evaluate_chunks(
    chunks: list[ChunkData],
    x: np.ndarray,
    want_primal: bool = False,
    threads: int = 0,
    keep_solver: bool = True,
) -> list[ChunkResult]:
    """:func:`evaluate_chunk` for several chunks in turn (one task per worker and iteration)."""
    return [evaluate_chunk(c, x, want_primal, threads, keep_solver) for c in chunks]


def forget(token: str) -> int:
    """Drop the HiGHS objects of a finished solve (``token``); returns how many."""
    keys = [k for k in _CACHE if k[0] == token]
    for k in keys:
        del _CACHE[k]
    return len(keys)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, MB: Linux's ``VmHWM`` (the high-water mark
    of this process's own memory; ``ru_maxrss`` is carried over ``exec`` from the process that
    started it, so a Dask worker spawned from a 3 GB client reported 3 GB), else ``ru_maxrss``
    (KiB on Linux, bytes on macOS)."""
    import resource
    import sys

    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024.0**2 if sys.platform == "darwin" else peak / 1024.0
