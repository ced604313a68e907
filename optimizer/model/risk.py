"""CVaR of the scenario loss, added as a transform on a built model.

The loss of scenario ``k`` is its shortfall damage, ``sum_g damage_g * shortfall[g, *, k]``
(euros). With the Rockafellar-Uryasev linearisation,
``CVaR_alpha = eta + 1/(1 - alpha) * sum_k p_k * xi_k`` with ``xi_k >= loss_k - eta`` and
``xi_k >= 0``. :func:`add_cvar` adds ``eta``, ``xi`` and the ``cvar_excess`` rows, puts
``weight * CVaR`` in the objective and, with a limit, the ``cvar_limit`` row. Nothing else in
the model changes.
"""

from __future__ import annotations

import numpy as np

from optimizer.model.lp import INF
from optimizer.model.terms import BuiltModel
from optimizer.scenario.schema import CVaR


def add_cvar(m: BuiltModel, cvar: CVaR | None) -> None:
    """Add CVaR at level ``alpha`` as an objective term (``weight``) and/or a limit."""
    if cvar is None or (cvar.weight == 0 and cvar.limit is None):
        return
    lp, d = m.lp, m.data
    p = d.probability
    scale = 1.0 / (1.0 - cvar.alpha)
    eta = lp.add_variables(
        "cvar_threshold",
        1,
        -INF,
        INF,
        cvar.weight,
        doc="eta: the loss threshold (value at risk at the optimum), euros",
    )
    xi = lp.add_variables(
        "cvar_excess_loss",
        d.K,
        0.0,
        INF,
        cvar.weight * scale * p,
        doc="xi_k: loss of scenario k above the threshold, euros",
    )
    rows = lp.add_constraints("cvar_excess", d.K, lower=0.0, doc="xi_k >= loss_k - eta")
    lp.add_terms(rows, xi, 1.0)
    lp.add_terms(rows, np.repeat(eta, d.K), 1.0)
    lp.add_terms(rows[d.cell_k], m.cols["shortfall"], -d.damage[d.cell_g])
    m.cols["cvar_threshold"] = eta
    m.cols["cvar_excess_loss"] = xi
    if cvar.limit is not None:
        row = lp.add_constraints("cvar_limit", 1, upper=cvar.limit, doc="CVaR <= limit, euros")
        lp.add_terms(
            np.repeat(row, d.K + 1), np.concatenate([eta, xi]), np.concatenate([[1.0], scale * p])
        )
        m.rows["cvar_limit"] = row


def cvar_of(losses: np.ndarray, probs: np.ndarray, alpha: float) -> float:
    """CVaR_alpha of a discrete loss distribution, euros: the expected loss in the worst
    ``1 - alpha`` of probability (``min_eta eta + E[(L - eta)+] / (1 - alpha)``)."""
    if len(losses) == 0:
        return 0.0
    order = np.argsort(losses)
    loss, p = losses[order], probs[order]
    # the minimum of the piecewise-linear function is reached at one of the losses
    excess = np.maximum(loss[None, :] - loss[:, None], 0.0) @ p
    return float(np.min(loss + excess / (1.0 - alpha)))
