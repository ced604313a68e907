"""A first stage to start the L-shaped method from: the optimum on a sample of the futures.

Stage four, beside :mod:`decomposed`. Cutting planes started from the cheapest first stage
(nothing bought) spend their first iterations far from the optimum; the extensive form of a
few hundred of the futures is solved in seconds and puts the first cuts near it
(benchmarks/README.md, "Decomposition": the master iterations it saves). The start only
changes where the method begins: the bounds, and so the certified optimum, are those of all
the futures.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from optimizer.data import futures_subset
from optimizer.model import build_model
from optimizer.scenario.schema import Scenario
from optimizer.solve.base import SolverOptions
from optimizer.solve.decomposition_split import split_model
from optimizer.solve.direct import DirectHighs


def sample_start(
    scenario: Scenario, data, futures: int, options: SolverOptions, n_first: int
) -> np.ndarray | None:
    """The first-stage columns (in the master's order, ``n_first`` of them) of the extensive
    form on the model's first ``futures`` futures (``no_disruption`` and the first drawn,
    which are in the order of their first draw: a random sample), their probabilities scaled
    to add up to 1. None when that model has no solution (the caller starts from the cheapest
    first stage instead)."""
    n = min(int(futures), data.K)
    if n < 2:
        return None
    sub = futures_subset(data, 0, n)
    total = float(sub.probability.sum())
    if total <= 0:
        return None
    sub = dataclasses.replace(sub, probability=sub.probability / total)
    m = build_model(scenario, sub)
    split = split_model(m)
    if len(split.first) != n_first:
        return None
    quick = dataclasses.replace(options, time_limit=None, log=False)
    res = DirectHighs(m.lp, quick).solve()
    if not res.has_solution or res.x is None:
        return None
    return np.asarray(res.x)[split.first]
