"""Split a built model into its first stage and its futures' second stages (L-shaped method).

Stage four, beside the direct and Pyomo solvers: reads a :class:`~optimizer.model.BuiltModel`
(its :class:`~optimizer.model.lp.LinearProgram` and the maps from domain entities to columns)
and returns plain NumPy / SciPy arrays, so that nothing of Pyomo or HiGHS is pickled.

Which rows couple what (checked by :func:`split_model` on every model, see ``docs/model.md``,
"Decomposition"):

- first-stage columns: ``buy``, ``reserve``, ``contract``, ``build``, ``plant``, ``modules``,
  ``prepare`` and the CVaR threshold ``cvar_threshold`` (eta);
- rows holding first-stage columns only (budget, coverage, contract, plant, module rows) stay
  in the master problem;
- every other row holds second-stage columns of exactly one future (supply, stock, production,
  demand reduction, balance, service level, the concentration cap of ``no_disruption`` and the
  ``cvar_excess`` row of each future, which also holds eta); the first-stage columns in such a
  row move to its right-hand side once the first stage is fixed;
- ``cvar_limit`` holds the excess of every future: it links the futures, and a model with it
  is refused (:class:`NotDecomposable`). A ``max_shortfall`` row (a service level) is a
  future's own row; since a first stage can leave a future without any feasible operation,
  the subproblems then return feasibility cuts (``decomposition_worker``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimizer.model.terms import BuiltModel

#: Variable blocks decided before the future is known.
FIRST_STAGE_BLOCKS = (
    "buy",
    "reserve",
    "contract",
    "build",
    "plant",
    "modules",
    "prepare",
    "cvar_threshold",
)
#: Second-stage blocks aligned with the cells (future, good, time block) of ModelData.
_CELL_BLOCKS = ("stock", "release", "refill", "produce", "reduce", "shortfall")
#: Row blocks the decomposition refuses, with the reason given to the user.
_REFUSED_ROWS = {
    "cvar_limit": "the CVaR limit row adds up the excess loss of every future",
}


class NotDecomposable(ValueError):
    """The model has a row or column the decomposition does not handle; solve the extensive
    form instead. The message says which and why."""


@dataclass
class Split:
    """The stage structure of a model.

    ``first``: global indices of the first-stage columns; ``master_rows``: rows with
    first-stage columns only; ``col_future`` / ``row_future``: the future of every column / row
    (-1 for the first stage and the master rows); ``artificial_upper``: an upper bound for each
    first-stage column that has none (inf where it has one), large enough never to bind at an
    optimum (see :func:`artificial_bounds`); ``lower``: the first stage's lower bounds, with
    eta's raised from -inf to 0 (losses are never negative).
    """

    K: int
    first: np.ndarray
    master_rows: np.ndarray
    col_future: np.ndarray
    row_future: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    artificial_upper: np.ndarray


def _col_future(m: BuiltModel) -> np.ndarray:
    lp, d = m.lp, m.data
    out = np.full(lp.n_cols, -2, dtype=np.int64)
    for name in FIRST_STAGE_BLOCKS:
        if name in lp.variables:
            out[lp.variables[name].index] = -1
    cell_k = d.cell_k
    purchase = m.cols.get("purchase")
    if purchase is not None and len(purchase):
        out[purchase] = cell_k[d.sc_cell]
    for name in _CELL_BLOCKS:
        cols = m.cols.get(name)
        if cols is None:
            continue
        where = cols >= 0
        out[cols[where]] = cell_k[where]
    xi = m.cols.get("cvar_excess_loss")
    if xi is not None:
        out[xi] = np.arange(d.K)
    for name, block in lp.variables.items():
        if name.startswith("limit_over_"):
            # a benchmark's units over its limit: limits act on the no_disruption future's
            # supply, future 0 (optimizer/model/limits.py)
            out[block.index] = 0
    unknown = np.flatnonzero(out == -2)
    if len(unknown):
        names = sorted({b.name for b in lp.variables.values() if unknown[0] in b.index})
        raise NotDecomposable(
            f"the variable block {names} is neither first stage nor a future's second stage"
        )
    return out


def _row_future(lp, col_future: np.ndarray) -> np.ndarray:
    """The one future of each row's second-stage columns, -1 for first-stage-only rows; raises
    when a row holds two futures' columns."""
    A = lp.matrix.tocsr()
    cf = col_future[A.indices]
    big = np.iinfo(np.int64).max
    lo = np.where(cf >= 0, cf, big)
    hi = cf
    out = np.full(lp.n_rows, -1, dtype=np.int64)
    nonempty = np.flatnonzero(np.diff(A.indptr) > 0)
    if len(nonempty) and len(cf):
        starts = A.indptr[:-1][nonempty]
        rmin = np.minimum.reduceat(lo, starts)
        rmax = np.maximum.reduceat(hi, starts)
        second = rmax >= 0
        linked = second & (rmin != rmax)
        if linked.any():
            name, _ = lp.block_of_row(int(nonempty[np.flatnonzero(linked)[0]]))
            raise NotDecomposable(f"the rows {name!r} hold the variables of several futures")
        out[nonempty[second]] = rmax[second]
    return out


def artificial_bounds(m: BuiltModel, first: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Upper bounds for the first-stage columns that have none, never binding at an optimum:

    - ``buy[g]``: twice the largest demand of ``g`` over the window in any future, units. A
      unit bought costs more than its residual credit, and a unit released serves demand (the
      balance has no other outlet in a disrupted block), so an optimum buys at most that.
    - eta (``cvar_threshold``): twice the largest possible loss (damage x demand over the
      window, summed over goods) of any future, in CVaR money units; the threshold at an
      optimum is the value at risk, one of the futures' losses.

    The solver checks at the end that none of them is binding and doubles it when one is.
    """
    d = m.data
    art = np.full(len(first), np.inf)
    pos = {int(c): i for i, c in enumerate(first)}
    demand = d.cell_demand()
    per_kg = np.zeros((d.K, d.G))
    np.add.at(per_kg, (d.cell_k, d.cell_g), demand)
    top_g = per_kg.max(axis=0) if d.K else np.zeros(d.G)
    buy = m.cols.get("buy")
    if buy is not None:
        for g in np.flatnonzero(buy >= 0):
            i = pos[int(buy[g])]
            if not np.isfinite(upper[i]):
                art[i] = 2.0 * top_g[g] + 1.0
    eta = m.cols.get("cvar_threshold")
    if eta is not None:
        unit = float(m.info.get("cvar_money_unit", 1.0))
        loss = (per_kg * d.damage[None, :]).sum(axis=1).max() if d.K else 0.0
        art[pos[int(eta[0])]] = 2.0 * loss / unit + 1.0
    return art


def split_model(m: BuiltModel) -> Split:
    """The first stage, the master rows and the future of every row and column of ``m``."""
    lp = m.lp
    for name, why in _REFUSED_ROWS.items():
        if name in lp.constraints and lp.constraints[name].size:
            raise NotDecomposable(why)
    col_future = _col_future(m)
    if (lp.integrality[col_future >= 0] != 0).any():
        raise NotDecomposable("a second-stage variable is integer")
    row_future = _row_future(lp, col_future)
    first = np.flatnonzero(col_future < 0)
    lower = lp.col_lower[first].copy()
    upper = lp.col_upper[first].copy()
    eta = m.cols.get("cvar_threshold")
    if eta is not None:
        lower[np.searchsorted(first, eta[0])] = max(0.0, lower[np.searchsorted(first, eta[0])])
    art = artificial_bounds(m, first, upper)
    left = ~np.isfinite(upper) & ~np.isfinite(art)
    if left.any() or not np.isfinite(lower).all():
        raise NotDecomposable("a first-stage variable has no finite bound")
    return Split(
        K=m.data.K,
        first=first,
        master_rows=np.flatnonzero(row_future < 0),
        col_future=col_future,
        row_future=row_future,
        lower=lower,
        upper=upper,
        artificial_upper=art,
    )


@dataclass
class ChunkData:
    """One chunk of futures as arrays, the unit of work sent to a worker once.

    ``cost``, ``col_lower``, ``col_upper``: the chunk's second-stage columns (in global order);
    ``W``: their rows x columns, ``T``: the same rows x the first-stage columns, both already
    multiplied by ``row_scale`` (a power of two per row, :meth:`LinearProgram.row_scales`), as
    are ``row_lower`` / ``row_upper``; the rows' bounds for the first stage at ``x`` are
    ``row_lower - T x`` and ``row_upper - T x``. ``col_group`` / ``row_group``: the cut group
    (0 .. n_groups-1 within the chunk) of each column and row. ``cols`` / ``rows``: global
    indices, for assembling the extensive form's solution.
    """

    token: str
    index: int
    n_groups: int
    cols: np.ndarray
    rows: np.ndarray
    cost: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    W: sp.csc_matrix
    T: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    row_scale: np.ndarray
    col_group: np.ndarray
    row_group: np.ndarray
    elastic: np.ndarray | None = None
    """Rows (chunk positions) that may be violated in a feasibility problem: those that can
    leave a future without a feasible operation (service levels); None: every row."""
    col_good: np.ndarray | None = None
    """The good of each column (-1 where the model does not tie the column to one good, e.g. a
    future's CVaR excess): read by :func:`split_by_goods`, then dropped."""


def col_goods(m: BuiltModel) -> np.ndarray:
    """The good of every column of ``m``: purchases by their supplier's good, the cell blocks
    (stock, release, refill, produce, reduce, shortfall) by their cell's good, first-stage
    columns of a good (buy, build, plant, modules, prepare; reserve and contract by their
    supplier's good); -1 for the rest."""
    d = m.data
    out = np.full(m.lp.n_cols, -1, dtype=np.int64)
    purchase = m.cols.get("purchase")
    if purchase is not None and len(purchase):
        out[purchase] = d.supplier_good[d.sc_j]
    for name in _CELL_BLOCKS:
        cols = m.cols.get(name)
        if cols is not None:
            where = cols >= 0
            out[cols[where]] = d.cell_g[where]
    for name, owner in (("reserve", d.supplier_good), ("contract", d.supplier_good)):
        cols = m.cols.get(name)
        if cols is not None:
            where = cols >= 0
            out[cols[where]] = owner[where]
    for name in ("buy", "build", "plant", "modules", "prepare"):
        cols = m.cols.get(name)
        if cols is not None:
            where = cols >= 0
            out[cols[where]] = np.arange(d.G)[where]
    return out


def split_by_goods(chunks: list[ChunkData], G: int) -> tuple[np.ndarray, int]:
    """Refine every chunk's cut groups by *good component* (in place); returns the component
    of each good and the number of components (for :func:`apply_goods` on a chunk built
    again).

    Within a future the second stage falls apart into one LP per good, unless rows tie goods
    together (a bill of materials, a benchmark over several goods, a future's CVaR excess,
    which holds every good's loss). Goods tied in any chunk form one component
    (:func:`scipy.sparse.csgraph.connected_components` on the chunks' rows, columns and
    goods). A cut group of futures is split into one group per component: its value is a sum
    of independent LPs, so each part is a convex function of the first stage with its own
    subgradient, nonzero only on that component's first-stage columns. The master then models
    each good's cost of the futures apart instead of their sum (docs/model.md,
    "Decomposition": fewer iterations, sparse cuts)."""
    parent = np.arange(G)

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    labels = []
    for ch in chunks:
        label, good_label = _labels(ch, G)
        labels.append(label)
        order = np.argsort(good_label, kind="stable")
        same = good_label[order][1:] == good_label[order][:-1]
        for a, b in zip(order[:-1][same], order[1:][same]):
            ra, rb = find(int(a)), find(int(b))
            if ra != rb:
                parent[rb] = ra
    roots = np.array([find(g) for g in range(G)], dtype=np.int64)
    _, comp_of_good = np.unique(roots, return_inverse=True)
    comp_of_good = comp_of_good.reshape(-1).astype(np.int64)
    n_comp = int(comp_of_good.max()) + 1 if G else 1
    for ch, label in zip(chunks, labels):
        apply_goods(ch, comp_of_good, n_comp, label)
    return comp_of_good, n_comp


def _labels(ch: ChunkData, G: int) -> tuple[np.ndarray, np.ndarray]:
    """Connected-component label of each row and column of the chunk (rows first), and of
    each good, in the graph of W's nonzeros and of each column to its good."""
    from scipy.sparse.csgraph import connected_components

    n_r, n_c = ch.W.shape
    good = ch.col_good if ch.col_good is not None else np.full(n_c, -1)
    known = np.flatnonzero(good >= 0)
    W = ch.W.tocoo()
    r = np.concatenate([W.row, n_r + known])
    c = np.concatenate([n_r + W.col, n_r + n_c + good[known]])
    n = n_r + n_c + G
    graph = sp.coo_matrix((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    return label[: n_r + n_c], label[n_r + n_c :]


def apply_goods(
    ch: ChunkData, comp_of_good: np.ndarray, n_comp: int, label: np.ndarray | None = None
) -> None:
    """Split the chunk's cut groups by the good components ``comp_of_good`` (in place);
    ``label``: the chunk's component labels (:func:`_labels`) when already known."""
    n_r, n_c = ch.W.shape
    if label is None:
        label, _ = _labels(ch, len(comp_of_good))
    good = ch.col_good if ch.col_good is not None else np.full(n_c, -1)
    # component of each local label: that of any good in it (0 for a label without one)
    comp_of_label = np.zeros(int(label.max()) + 1 if len(label) else 0, dtype=np.int64)
    known = np.flatnonzero(good >= 0)
    comp_of_label[label[n_r + known]] = comp_of_good[good[known]]
    ch.row_group = ch.row_group * n_comp + comp_of_label[label[:n_r]]
    ch.col_group = ch.col_group * n_comp + comp_of_label[label[n_r:]]
    ch.n_groups = ch.n_groups * n_comp
    ch.col_good = None


def make_chunks(
    m: BuiltModel, split: Split, group_of_future: np.ndarray, chunk_of_group: np.ndarray, token: str
) -> list[ChunkData]:
    """Cut the second stage into chunks of whole cut groups of futures.

    ``group_of_future[k]``: the cut group of future ``k`` (non-decreasing); ``chunk_of_group``:
    the chunk of each group (non-decreasing)."""
    lp = m.lp
    A = lp.matrix.tocsr()
    scale = lp.row_scales()
    cost = lp.cost
    cl, cu = lp.col_lower, lp.col_upper
    rl, ru = lp.row_lower, lp.row_upper
    good = col_goods(m)
    col_group = np.where(split.col_future >= 0, group_of_future[split.col_future], -1)
    row_group = np.where(split.row_future >= 0, group_of_future[split.row_future], -1)
    col_order = np.argsort(col_group, kind="stable")
    row_order = np.argsort(row_group, kind="stable")
    n_chunks = int(chunk_of_group.max()) + 1 if len(chunk_of_group) else 0
    first_group = np.searchsorted(chunk_of_group, np.arange(n_chunks + 1))
    cg_sorted = col_group[col_order]
    rg_sorted = row_group[row_order]
    chunks = []
    for c in range(n_chunks):
        g0, g1 = first_group[c], first_group[c + 1]
        cols = col_order[np.searchsorted(cg_sorted, g0) : np.searchsorted(cg_sorted, g1)]
        rows = row_order[np.searchsorted(rg_sorted, g0) : np.searchsorted(rg_sorted, g1)]
        s = scale[rows]
        block = sp.diags(s) @ A[rows]
        block = block.tocsc()
        chunks.append(
            ChunkData(
                token=token,
                index=c,
                n_groups=int(g1 - g0),
                cols=cols,
                rows=rows,
                cost=cost[cols],
                col_lower=cl[cols],
                col_upper=cu[cols],
                W=block[:, cols].tocsc(),
                T=block[:, split.first].tocsr(),
                row_lower=rl[rows] * s,
                row_upper=ru[rows] * s,
                row_scale=s,
                col_group=col_group[cols] - g0,
                row_group=row_group[rows] - g0,
                col_good=good[cols],
            )
        )
    return chunks
