"""A linear program assembled from whole arrays, with named blocks of variables and constraints.

The model terms (``terms.py``, ``constraints.py``, ``risk.py``) add variables, constraints and
matrix coefficients as NumPy arrays, never element by element. The solver layer turns the result
into a Pyomo model or hands it to HiGHS directly. Block names come from the domain (``buy``,
``purchase``, ``demand_balance``, ``budget_total``) and name the Pyomo components.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.sparse as sp

INF = np.inf
Kind = Literal["continuous", "binary", "integer"]


@dataclass
class Block:
    """A named, contiguous range of columns (variables) or rows (constraints)."""

    name: str
    start: int
    size: int
    lower: np.ndarray
    upper: np.ndarray
    kind: Kind = "continuous"
    doc: str = ""

    @property
    def index(self) -> np.ndarray:
        """Global indices of the block's members."""
        return np.arange(self.start, self.start + self.size)


@dataclass
class LinearProgram:
    """``min c x + c0  s.t.  row_lower <= A x <= row_upper,  col_lower <= x <= col_upper``,
    with some columns integer."""

    variables: dict[str, Block] = field(default_factory=dict)
    constraints: dict[str, Block] = field(default_factory=dict)
    n_cols: int = 0
    n_rows: int = 0
    objective_constant: float = 0.0
    _cost_parts: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    _coef_parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=list)
    _matrix: sp.csc_matrix | None = None
    _cost: np.ndarray | None = None
    layout_only: bool = False
    """Keep the blocks, bounds and costs but no matrix coefficient (:meth:`add_terms` drops
    them): the layout of a model too large to hold whole, whose rows are built in pieces (the
    decomposition builds each chunk of futures from the data). ``matrix`` is then empty."""
    nonzeros: int | None = None
    """With ``layout_only``: the whole matrix's nonzeros, when its builder counted them."""

    # building ------------------------------------------------------------------------------
    def add_variables(
        self,
        name: str,
        size: int,
        lower: float | np.ndarray = 0.0,
        upper: float | np.ndarray = INF,
        cost: float | np.ndarray = 0.0,
        kind: Kind = "continuous",
        doc: str = "",
    ) -> np.ndarray:
        """Add ``size`` variables named ``name``; returns their global column indices."""
        if name in self.variables:
            raise ValueError(f"variable block {name!r} exists")
        lo = np.broadcast_to(np.asarray(lower, dtype=float), (size,)).copy()
        up = np.broadcast_to(np.asarray(upper, dtype=float), (size,)).copy()
        block = Block(name, self.n_cols, size, lo, up, kind, doc)
        self.variables[name] = block
        self.n_cols += size
        cols = block.index
        self.add_cost(cols, cost)
        return cols

    def add_constraints(
        self,
        name: str,
        size: int,
        lower: float | np.ndarray = -INF,
        upper: float | np.ndarray = INF,
        doc: str = "",
    ) -> np.ndarray:
        """Add ``size`` rows named ``name``; returns their global row indices."""
        if name in self.constraints:
            raise ValueError(f"constraint block {name!r} exists")
        lo = np.broadcast_to(np.asarray(lower, dtype=float), (size,)).copy()
        up = np.broadcast_to(np.asarray(upper, dtype=float), (size,)).copy()
        block = Block(name, self.n_rows, size, lo, up, "continuous", doc)
        self.constraints[name] = block
        self.n_rows += size
        return block.index

    def add_terms(self, rows: np.ndarray, cols: np.ndarray, coefs: float | np.ndarray) -> None:
        """Add coefficients ``A[rows, cols] += coefs`` (arrays broadcast together)."""
        rows, cols, coefs = np.broadcast_arrays(
            np.asarray(rows, dtype=np.int64),
            np.asarray(cols, dtype=np.int64),
            np.asarray(coefs, dtype=float),
        )
        if self.layout_only:
            return
        keep = coefs != 0
        self._coef_parts.append((rows[keep].copy(), cols[keep].copy(), coefs[keep].copy()))
        self._matrix = None

    def add_cost(self, cols: np.ndarray, coefs: float | np.ndarray) -> None:
        """Add objective coefficients ``c[cols] += coefs``."""
        cols, coefs = np.broadcast_arrays(np.asarray(cols, np.int64), np.asarray(coefs, float))
        keep = coefs != 0
        if keep.any():
            self._cost_parts.append((cols[keep].copy(), coefs[keep].copy()))
            self._cost = None

    # reading -------------------------------------------------------------------------------
    @property
    def cost(self) -> np.ndarray:
        """Objective coefficients (assembled once; a later :meth:`add_cost` reassembles)."""
        if self._cost is None or len(self._cost) != self.n_cols:
            c = np.zeros(self.n_cols)
            for cols, coefs in self._cost_parts:
                np.add.at(c, cols, coefs)
            self._cost = c
        return self._cost

    @property
    def matrix(self) -> sp.csc_matrix:
        """The constraint matrix (rows x cols), duplicates summed."""
        if self.layout_only:
            raise RuntimeError("a layout-only model has no matrix: build the model whole")
        if self._matrix is None:
            if self._coef_parts:
                r = np.concatenate([p[0] for p in self._coef_parts])
                c = np.concatenate([p[1] for p in self._coef_parts])
                v = np.concatenate([p[2] for p in self._coef_parts])
            else:
                r = c = np.zeros(0, np.int64)
                v = np.zeros(0)
            m = sp.csc_matrix((v, (r, c)), shape=(self.n_rows, self.n_cols))
            m.sum_duplicates()
            m.eliminate_zeros()
            self._matrix = m
        return self._matrix

    def _concat(self, blocks: dict[str, Block], attr: str, n: int) -> np.ndarray:
        if not blocks:
            return np.zeros(n)
        return np.concatenate([getattr(b, attr) for b in blocks.values()])

    @property
    def col_lower(self) -> np.ndarray:
        return self._concat(self.variables, "lower", 0)

    @property
    def col_upper(self) -> np.ndarray:
        return self._concat(self.variables, "upper", 0)

    @property
    def row_lower(self) -> np.ndarray:
        return self._concat(self.constraints, "lower", 0)

    @property
    def row_upper(self) -> np.ndarray:
        return self._concat(self.constraints, "upper", 0)

    @property
    def integrality(self) -> np.ndarray:
        """1 for integer or binary columns, 0 for continuous."""
        parts = [
            np.full(b.size, b.kind != "continuous", dtype=np.int8) for b in self.variables.values()
        ]
        return np.concatenate(parts) if parts else np.zeros(0, np.int8)

    @property
    def is_mip(self) -> bool:
        return any(b.kind != "continuous" and b.size for b in self.variables.values())

    def set_row_bounds(self, rows, lower, upper) -> None:
        """Change the bounds of global rows (the solver layer mirrors this in HiGHS)."""
        for r, lo, up in zip(np.atleast_1d(rows), np.atleast_1d(lower), np.atleast_1d(upper)):
            name, pos = self.block_of_row(int(r))
            self.constraints[name].lower[pos] = lo
            self.constraints[name].upper[pos] = up

    def same_shape(self, other: LinearProgram) -> bool:
        """Whether ``other`` has this model's rows, columns, integrality and matrix pattern, so
        that only numbers differ (costs, bounds, coefficients) and a solver holding this model
        can take ``other``'s numbers in place (:meth:`DirectHighs.update`)."""
        if (self.n_rows, self.n_cols) != (other.n_rows, other.n_cols):
            return False
        if not np.array_equal(self.integrality, other.integrality):
            return False
        a, b = self.matrix, other.matrix
        return np.array_equal(a.indptr, b.indptr) and np.array_equal(a.indices, b.indices)

    def block_of_row(self, row: int) -> tuple[str, int]:
        """The constraint block holding a global row, and the row's position in it."""
        for b in self.constraints.values():
            if b.start <= row < b.start + b.size:
                return b.name, row - b.start
        raise IndexError(row)

    def row_scales(self) -> np.ndarray:
        """A power of two per row bringing its coefficients' geometric mean near 1.

        Budget and CVaR rows mix coefficients in euros (1e5 to 1e7 per unit) with right-hand
        sides near 1e9; HiGHS's absolute feasibility tolerances (1e-6 to 1e-7) then act on
        numbers too large to meet them after presolve. Scaling by exact powers of two changes
        no value's mantissa, so the solution is the same; duals are scaled back by the solver
        layer (``dual = scaled dual * scale``).
        """
        A = self.matrix.tocsr()
        absval = np.abs(A.data)
        nrows = self.n_rows
        counts = np.diff(A.indptr)
        big = np.zeros(nrows)
        small = np.ones(nrows)
        nonempty = counts > 0
        if absval.size:
            big[nonempty] = np.maximum.reduceat(absval, A.indptr[:-1][nonempty])
            small[nonempty] = np.minimum.reduceat(absval, A.indptr[:-1][nonempty])
        mean = np.sqrt(np.where(nonempty, big * small, 1.0))
        return np.exp2(-np.round(np.log2(mean)))

    def stats(self) -> dict[str, int]:
        return {
            "variables": self.n_cols,
            "constraints": self.n_rows,
            "nonzeros": int(self.nonzeros if self.layout_only else self.matrix.nnz),
            "integer_variables": int(self.integrality.sum()),
        }
