"""Which method solves a model: the extensive form or the decomposition (``solver.method``).

``auto`` decomposes from a measured number of columns of the extensive form, lower for a
model with integer columns, when the model allows it (:func:`choose_method`);
:func:`may_decompose` guesses the same from the scenario alone, before any array is built,
for the memory estimate.
"""

from __future__ import annotations

from optimizer.data import futures_subset
from optimizer.model import build_model
from optimizer.model.terms import BuiltModel
from optimizer.scenario.schema import Scenario
from optimizer.solve.decomposition_split import NotDecomposable, split_model

__all__ = ["AUTO_MIN_COLUMNS", "AUTO_MIN_COLUMNS_MIP", "choose_method", "may_decompose"]

#: With ``method: auto``, models with at least this many columns in their extensive form are
#: decomposed (when they can be). Measured on this project's 2-core machine, wall seconds, the
#: decomposition on 2 local workers (benchmarks/README.md): 34 goods x 5 x 60 sampled, 378,877
#: columns (787 futures) extensive 7.1 against 11.9; 757,827 columns (1,558 futures) 26.0
#: against 19.2; 1,894,180 columns 106.7 against 45.2. On 20 goods x 5 x 60 with written-out
#: futures, 289,000 columns (K = 1,000) about even, 1,442,779 (K = 5,000) 344.3 against 45.2.
#: Futures alone did not tell: 787 futures of 34 goods lost where 1,000 of 20 broke even.
AUTO_MIN_COLUMNS = 500_000

#: The same for a model with integer first-stage columns (fixed costs, modules): HiGHS's
#: branch and bound runs over the whole extensive LP, the decomposition's over the small
#: master. Measured on the shipped eu_critical_raw_materials_risk.yaml (13 integer columns),
#: wall seconds, 2 workers: 69,372 columns (300 samples) extensive 7.3 against 10.4; 115,335
#: (500) 12.7 against 12.5; 233,471 (1,000) 31.5 against 11.4.
AUTO_MIN_COLUMNS_MIP = 100_000


def choose_method(
    m: BuiltModel,
    method: str = "auto",
    min_columns: int | None = None,
    scenario: Scenario | None = None,
) -> tuple[str, str]:
    """``extensive`` or ``decomposed`` for ``method`` ``auto | extensive | decomposed``, and
    why. ``auto`` decomposes from ``min_columns`` columns of the extensive form on (the
    model's own count: a layout-only ``m`` has it too; None: :data:`AUTO_MIN_COLUMNS`, or
    :data:`AUTO_MIN_COLUMNS_MIP` for a model with integer columns), when the model allows it
    (:class:`NotDecomposable` otherwise: the reason is returned). ``decomposed`` on a model
    that does not allow it raises :class:`NotDecomposable`. With ``scenario``, the structure
    is read from a model of the first two futures built from ``m.data`` (``m`` may then be a
    layout-only model)."""
    if method not in ("auto", "extensive", "decomposed"):
        raise ValueError(f"unknown solver method {method!r}; use auto, extensive or decomposed")
    if method == "extensive":
        return "extensive", "asked for"
    futures, columns = m.data.K, m.lp.n_cols
    if min_columns is None:
        min_columns = AUTO_MIN_COLUMNS_MIP if m.lp.is_mip else AUTO_MIN_COLUMNS
    if method == "auto" and columns < min_columns:  # small: no need to look at the structure
        return "extensive", f"{columns:,} columns < {min_columns:,}"
    try:
        if scenario is not None:
            split_model(build_model(scenario, futures_subset(m.data, 0, 2)))
        else:
            split_model(m)
    except NotDecomposable as exc:
        if method == "decomposed":
            raise
        return "extensive", f"not decomposable: {exc}"
    if method == "decomposed":
        return "decomposed", "asked for"
    return "decomposed", f"{columns:,} columns >= {min_columns:,} ({futures:,} futures)"


def may_decompose(scenario: Scenario, method: str = "auto", columns: int = 0) -> bool:
    """Whether a run of ``scenario`` with about ``columns`` columns in its extensive form (the
    size estimate's) will likely be decomposed under ``method``, read from the scenario alone
    (before any array is built, for the memory estimate): not asked extensive, enough columns
    for ``auto`` (:data:`AUTO_MIN_COLUMNS_MIP`, the lower threshold: whether the model has
    integer columns is known once it is built), no CVaR limit (the row the method refuses)."""
    if method == "extensive" or (method == "auto" and columns < AUTO_MIN_COLUMNS_MIP):
        return False
    cvar = scenario.risk.cvar
    return cvar is None or cvar.limit is None
