"""Stage three: the portfolio model, assembled from whole arrays.

:func:`build_model` composes the terms (``terms.py``), the user-switched constraints
(``constraints.py``), the limits on supply shares (``limits.py``) and the CVaR transform
(``risk.py``).
"""

from __future__ import annotations

from optimizer.data import ModelData
from optimizer.model import chains, constraints, limits, risk, terms
from optimizer.model.terms import LEVERS, BuiltModel
from optimizer.scenario.schema import Scenario


def build_model(scenario: Scenario, data: ModelData, layout_only: bool = False) -> BuiltModel:
    """The whole model of ``scenario`` from its prepared arrays ``data``; ``layout_only``: its
    blocks, bounds, costs and maps without the matrix (for a model built in pieces, see
    :attr:`~optimizer.model.lp.LinearProgram.layout_only`)."""
    m = terms.build(data, layout_only)
    chains.add_inputs(m)
    constraints.add_all(m, scenario)
    limits.add_limits(m, scenario)
    risk.add_cvar(m, scenario.risk.cvar)
    return m


__all__ = ["LEVERS", "BuiltModel", "build_model"]
