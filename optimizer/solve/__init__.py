"""Stage four: hand the assembled model to HiGHS and read back what it found."""

from __future__ import annotations

from optimizer.model.lp import LinearProgram
from optimizer.solve.base import (
    PYOMO_MAX_COLUMNS,
    Interface,
    SolveResult,
    SolverOptions,
    Status,
)


def choose_interface(
    lp: LinearProgram, interface: Interface, pyomo_max_columns: int = PYOMO_MAX_COLUMNS
) -> str:
    """``auto`` becomes ``pyomo`` up to ``pyomo_max_columns`` columns (default 0: never),
    ``direct`` above."""
    if interface == "auto":
        return "pyomo" if lp.n_cols <= pyomo_max_columns else "direct"
    return interface


def make_solver(lp: LinearProgram, options: SolverOptions, interface: Interface = "auto"):
    """A persistent solver for ``lp``: ``pyomo`` (Pyomo's contrib HiGHS interface, in memory),
    ``direct`` (highspy, one array hand-over) or ``auto`` (Pyomo up to
    :data:`PYOMO_MAX_COLUMNS` columns, by default none)."""
    interface = choose_interface(lp, interface)
    if interface == "direct":
        from optimizer.solve.direct import DirectHighs

        return DirectHighs(lp, options)
    if interface == "pyomo":
        from optimizer.solve.pyomo_backend import PyomoHighs

        return PyomoHighs(lp, options)
    raise ValueError(f"unknown solver interface {interface!r}; use 'pyomo' or 'direct'")


__all__ = [
    "PYOMO_MAX_COLUMNS",
    "Interface",
    "choose_interface",
    "SolveResult",
    "SolverOptions",
    "Status",
    "make_solver",
]
