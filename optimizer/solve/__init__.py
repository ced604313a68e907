"""Stage four: hand the assembled model to HiGHS and read back what it found."""

from __future__ import annotations

from optimizer.model.lp import LinearProgram
from optimizer.solve.base import (
    Interface,
    SolveError,
    SolveResult,
    SolverOptions,
    Status,
)


def make_solver(lp: LinearProgram, options: SolverOptions, interface: Interface = "pyomo"):
    """A persistent solver for ``lp``: ``pyomo`` (Pyomo's contrib HiGHS interface, the default)
    or ``direct`` (highspy, one array hand-over; for very large models)."""
    if interface == "direct":
        from optimizer.solve.direct import DirectHighs

        return DirectHighs(lp, options)
    if interface == "pyomo":
        from optimizer.solve.pyomo_backend import PyomoHighs

        return PyomoHighs(lp, options)
    raise ValueError(f"unknown solver interface {interface!r}; use 'pyomo' or 'direct'")


__all__ = ["Interface", "SolveError", "SolveResult", "SolverOptions", "Status", "make_solver"]
