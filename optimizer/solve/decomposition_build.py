"""The L-shaped method's master and chunks, from a whole built model or straight from the data.

Stage four, beside :mod:`decomposition_split`. Two sources give the same arrays:

- :func:`from_model`: the whole extensive LP is built, then split (:func:`split_model`,
  :func:`make_chunks`); fine up to a few thousand futures.
- :func:`from_data`: only the model's *layout* is built whole (blocks, bounds, costs and the
  maps of :class:`BuiltModel`, no matrix: ``build_model(..., layout_only=True)``); each chunk's
  second stage is built from :func:`optimizer.data.futures_subset` (the chunk's futures) by the
  same vectorised term builders, split, and its rows and columns renumbered into the extensive
  form's order. Peak memory is the layout, one chunk's model and the chunks' arrays, never the
  extensive matrix.

Renumbering: a block of the chunk's model is either *shared* (first-stage columns, master rows,
rows of the ``no_disruption`` future such as ``concentration_cap``: the same size in every
chunk's model as in the whole model) or *per future* (its sizes over the chunks add up to the
whole model's, members ordered by future, so chunk ``c``'s members follow those of chunks
``0 .. c-1``). A block that is neither is refused (:class:`NotDecomposable`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from optimizer.data import futures_subset
from optimizer.model import build_model
from optimizer.model.lp import Block, LinearProgram
from optimizer.model.terms import BuiltModel
from optimizer.scenario.schema import Scenario
from optimizer.solve.decomposition_split import (
    ChunkData,
    NotDecomposable,
    Split,
    artificial_bounds,
    make_chunks,
    split_model,
)


@dataclass
class StageOne:
    """What the master problem needs, in the extensive form's numbering.

    ``first``: the first-stage columns (global indices, increasing); ``cost``: their objective
    coefficients (euros per unit, probability-weighted terms of every future included);
    ``integer``: 1 where integer; ``lower`` / ``upper`` / ``artificial_upper`` as in
    :class:`Split`; ``master_rows``: global indices of the rows holding first-stage columns
    only, ``A`` their coefficients (rows x ``first``, unscaled), ``row_lower`` /
    ``row_upper`` their bounds and ``row_scale`` a power of two per row
    (:meth:`LinearProgram.row_scales`); ``constant``: the objective's constant, euros;
    ``n_cols`` / ``n_rows``: the extensive form's size; ``K``: futures.
    """

    K: int
    n_cols: int
    n_rows: int
    first: np.ndarray
    cost: np.ndarray
    integer: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    artificial_upper: np.ndarray
    master_rows: np.ndarray
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    row_scale: np.ndarray
    constant: float
    is_mip: bool


def stage_one(
    lp: LinearProgram,
    split: Split,
    rows_lp: LinearProgram | None = None,
    local_rows: np.ndarray | None = None,
    local_first: np.ndarray | None = None,
) -> StageOne:
    """The master's data from a whole model (``lp`` and its ``split``), or from a layout
    ``lp`` whose master rows' coefficients come from a chunk's model ``rows_lp`` (there the
    rows ``local_rows`` and first-stage columns ``local_first``, in the order of
    ``split.master_rows`` and ``split.first``)."""
    src = lp if rows_lp is None else rows_lp
    rows = split.master_rows if local_rows is None else local_rows
    first = split.first if local_first is None else local_first
    return StageOne(
        K=split.K,
        n_cols=lp.n_cols,
        n_rows=lp.n_rows,
        first=split.first,
        cost=lp.cost[split.first].copy(),
        integer=(lp.integrality[split.first] != 0).astype(np.int8),
        lower=split.lower,
        upper=split.upper,
        artificial_upper=split.artificial_upper,
        master_rows=split.master_rows,
        A=src.matrix.tocsr()[rows][:, first].tocsr(),
        row_lower=lp.row_lower[split.master_rows],
        row_upper=lp.row_upper[split.master_rows],
        row_scale=src.row_scales()[rows],
        constant=float(lp.objective_constant),
        is_mip=lp.is_mip,
    )


def from_model(
    m: BuiltModel, group_of_future: np.ndarray, chunk_of_group: np.ndarray, token: str
) -> tuple[StageOne, list[ChunkData]]:
    """Master and chunks of a whole built model (split after building)."""
    split = split_model(m)
    return stage_one(m.lp, split), make_chunks(m, split, group_of_future, chunk_of_group, token)


def _local_to_global(
    blocks: dict[str, Block], whole: dict[str, Block], offset: dict[str, int], n: int
) -> np.ndarray:
    """Global index of every member of a chunk model's blocks."""
    out = np.full(n, -1, dtype=np.int64)
    for name, b in blocks.items():
        if b.size:
            out[b.start : b.start + b.size] = whole[name].start + offset[name] + np.arange(b.size)
    return out


def _offsets(
    sizes: list[dict[str, int]], whole: dict[str, Block], what: str
) -> tuple[list[dict[str, int]], set[str]]:
    """Per chunk, where its members of each block start inside the whole model's block; and
    the names of the shared blocks (with more than one chunk)."""
    out: list[dict[str, int]] = [{} for _ in sizes]
    shared: set[str] = set()
    for name, b in whole.items():
        per = np.array([s.get(name, 0) for s in sizes], dtype=np.int64)
        if (per == b.size).all():  # shared (or a single chunk)
            starts = np.zeros(len(per), dtype=np.int64)
            if b.size and len(per) > 1:
                shared.add(name)
        elif per.sum() == b.size:  # per future, chunks in order
            starts = np.concatenate([[0], np.cumsum(per)[:-1]])
        else:
            raise NotDecomposable(
                f"the {what} block {name!r} is neither shared by all futures nor one per future"
            )
        for c, s in enumerate(starts):
            out[c][name] = int(s)
    return out, shared


class ChunkSource:
    """Chunks built from ``layout.data``, chunk by chunk (see the module's docstring):
    :meth:`all` builds the master's data and every chunk; :meth:`one` builds chunk ``c`` again,
    the same arrays, after a worker holding it was lost (so that the client need not keep
    every chunk's matrix once the workers hold them). ``layout`` is the whole model built with
    ``layout_only=True`` (or a whole model: its matrix is not read)."""

    def __init__(
        self,
        scenario: Scenario,
        layout: BuiltModel,
        group_of_future: np.ndarray,
        chunk_of_group: np.ndarray,
        token: str,
    ):
        self.scenario, self.layout, self.token = scenario, layout, token
        self.group_of_future = group_of_future
        n_chunks = int(chunk_of_group.max()) + 1 if len(chunk_of_group) else 0
        self.n_chunks = n_chunks
        self.first_group = np.searchsorted(chunk_of_group, np.arange(n_chunks + 1))
        self.future_start = np.searchsorted(group_of_future, self.first_group)
        self.col_off: list[dict[str, int]] = []
        self.row_off: list[dict[str, int]] = []
        self.shared_cols: set[str] = set()
        self.shared_rows: set[str] = set()
        self.goods: tuple[np.ndarray, int] | None = None
        """(component of each good, components) once the groups are split by good."""

    def _local(self, c: int) -> tuple[ChunkData, LinearProgram, Split]:
        """Chunk ``c`` in its own model's numbering, and that model."""
        k0, k1 = int(self.future_start[c]), int(self.future_start[c + 1])
        g0 = int(self.first_group[c])
        mc = build_model(self.scenario, futures_subset(self.layout.data, k0, k1))
        split = split_model(mc)
        (chunk,) = make_chunks(
            mc,
            split,
            self.group_of_future[k0:k1] - g0,
            np.zeros(int(self.first_group[c + 1]) - g0, dtype=np.int64),
            self.token,
        )
        chunk.index = c
        return chunk, mc.lp, split

    def _renumber(self, c: int, chunk: ChunkData, lp: LinearProgram | _BlockSizes) -> None:
        """Into the extensive form's numbering (in place); drops what chunk 0 holds alone."""
        whole = self.layout.lp
        cmap = _local_to_global(lp.variables, whole.variables, self.col_off[c], lp.n_cols)
        rmap = _local_to_global(lp.constraints, whole.constraints, self.row_off[c], lp.n_rows)
        if c > 0:
            # a shared block's rows with second-stage columns belong to no_disruption (the
            # first future, in chunk 0): in a later chunk's model they hold that chunk's first
            # future instead, and are dropped
            _keep_rows(chunk, ~_members(lp.constraints, self.shared_rows, lp.n_rows)[chunk.rows])
            # and so do a shared block's second-stage columns (a benchmark's units over its
            # limit): only chunk 0 holds them; here they sat in the rows just dropped
            _keep_cols(chunk, ~_members(lp.variables, self.shared_cols, lp.n_cols)[chunk.cols])
        chunk.cols = cmap[chunk.cols]
        chunk.rows = rmap[chunk.rows]

    def one(self, c: int) -> ChunkData:
        """Chunk ``c`` built again, as :meth:`all` made it (cut groups split by good too)."""
        from optimizer.solve.decomposition_split import apply_goods

        chunk, lp, _ = self._local(c)
        self._renumber(c, chunk, lp)
        if self.goods is not None:
            apply_goods(chunk, *self.goods)
        chunk.col_good = None
        return chunk

    def all(self) -> tuple[StageOne, list[ChunkData]]:
        """Master and chunks: the same arrays as :func:`from_model` on the whole model."""
        chunks: list[ChunkData] = []
        lps: list[_BlockSizes] = []
        split0: Split | None = None
        for c in range(self.n_chunks):
            chunk, lp, split = self._local(c)
            chunks.append(chunk)
            lps.append(_sizes_only(lp))
            if c == 0:
                split0, master_lp = split, lp
        whole = self.layout.lp
        if set(lps[0].variables) != set(whole.variables) or set(lps[0].constraints) != set(
            whole.constraints
        ):
            raise NotDecomposable("a chunk's model has other blocks than the whole model")
        col_sizes = [{n: b.size for n, b in lp.variables.items()} for lp in lps]
        row_sizes = [{n: b.size for n, b in lp.constraints.items()} for lp in lps]
        self.col_off, self.shared_cols = _offsets(col_sizes, whole.variables, "variable")
        self.row_off, self.shared_rows = _offsets(row_sizes, whole.constraints, "constraint")
        assert split0 is not None
        master_local, first_local = split0.master_rows, split0.first
        cmap0 = _local_to_global(
            master_lp.variables, whole.variables, self.col_off[0], lps[0].n_cols
        )
        rmap0 = _local_to_global(
            master_lp.constraints, whole.constraints, self.row_off[0], lps[0].n_rows
        )
        first, master_rows = cmap0[first_local], rmap0[master_local]
        for c, chunk in enumerate(chunks):
            self._renumber(c, chunk, lps[c])
        order = np.argsort(master_rows, kind="stable")
        if not np.array_equal(first, np.sort(first)):
            raise NotDecomposable("the first-stage columns are not in the whole model's order")
        split = _layout_split(self.layout, first, master_rows[order])
        stage = stage_one(whole, split, master_lp, master_local[order], first_local)
        if whole.layout_only:  # the whole matrix's nonzeros, for the results' model statistics
            whole.nonzeros = int(stage.A.nnz + sum(ch.W.nnz + ch.T.nnz for ch in chunks))
        return stage, chunks


def from_data(
    scenario: Scenario,
    layout: BuiltModel,
    group_of_future: np.ndarray,
    chunk_of_group: np.ndarray,
    token: str,
) -> tuple[StageOne, list[ChunkData]]:
    """Master and chunks built chunk by chunk from ``layout.data``
    (:meth:`ChunkSource.all`)."""
    return ChunkSource(scenario, layout, group_of_future, chunk_of_group, token).all()


@dataclass
class _BlockSizes:
    """A chunk model's blocks (positions and sizes only), kept to renumber it once every
    chunk is built, without keeping the model."""

    variables: dict[str, Block]
    constraints: dict[str, Block]
    n_cols: int
    n_rows: int


def _sizes_only(lp: LinearProgram) -> _BlockSizes:
    return _BlockSizes(
        {n: _copy_block(b) for n, b in lp.variables.items()},
        {n: _copy_block(b) for n, b in lp.constraints.items()},
        lp.n_cols,
        lp.n_rows,
    )


def _members(blocks: dict[str, Block], names: set[str], n: int) -> np.ndarray:
    """Mask of the members of the blocks ``names``."""
    out = np.zeros(n, dtype=bool)
    for name in names:
        b = blocks[name]
        out[b.start : b.start + b.size] = True
    return out


def _keep_rows(chunk: ChunkData, keep: np.ndarray) -> None:
    """Keep only the chunk's rows where ``keep`` (in place)."""
    if keep.all():
        return
    chunk.rows = chunk.rows[keep]
    chunk.W = chunk.W.tocsr()[keep].tocsc()
    chunk.T = chunk.T[keep].tocsr()
    chunk.row_lower = chunk.row_lower[keep]
    chunk.row_upper = chunk.row_upper[keep]
    chunk.row_scale = chunk.row_scale[keep]
    chunk.row_group = chunk.row_group[keep]


def _keep_cols(chunk: ChunkData, keep: np.ndarray) -> None:
    """Keep only the chunk's columns where ``keep`` (in place)."""
    if keep.all():
        return
    chunk.cols = chunk.cols[keep]
    chunk.W = chunk.W.tocsc()[:, keep]
    chunk.cost = chunk.cost[keep]
    chunk.col_lower = chunk.col_lower[keep]
    chunk.col_upper = chunk.col_upper[keep]
    chunk.col_group = chunk.col_group[keep]
    if chunk.col_good is not None:
        chunk.col_good = chunk.col_good[keep]


def _copy_block(b: Block) -> Block:
    """The block's position and size only (its bounds are not needed to renumber)."""
    return Block(b.name, b.start, b.size, np.zeros(0), np.zeros(0), b.kind)


def _layout_split(layout: BuiltModel, first: np.ndarray, master_rows: np.ndarray) -> Split:
    """The :class:`Split` fields the master needs, from the whole model's layout."""
    lp = layout.lp
    lower = lp.col_lower[first].copy()
    upper = lp.col_upper[first].copy()
    eta = layout.cols.get("cvar_threshold")
    if eta is not None:
        i = int(np.searchsorted(first, eta[0]))
        lower[i] = max(0.0, lower[i])
    art = artificial_bounds(layout, first, upper)
    empty = np.zeros(0, np.int64)
    return Split(
        K=layout.data.K,
        first=first,
        master_rows=master_rows,
        col_future=empty,
        row_future=empty,
        lower=lower,
        upper=upper,
        artificial_upper=art,
    )
