"""How much of each future ``scenarios.csv`` holds: every period, or one total per good.

``scenarios.csv`` at full detail has one row per (future, good, period): 20,000 sampled futures
of nine goods over 20 periods are 3.6 million rows and about 420 MB, too much to open in a
spreadsheet and most of a run's writing time (``benchmarks/README.md``, "Results at scale").
``output.scenario_detail`` in ``config.yaml`` (``stockpile run --scenario-detail``) chooses:

- ``full``: one row per (future, good, period), the columns of the results contract;
- ``totals``: one row per (future, good), the period columns summed over the window
  (:func:`future_totals`), with the loss and the operating cost in euros;
- ``auto`` (default): ``full`` up to :data:`FULL_DETAIL_MAX_FUTURES` futures, ``totals`` above.

The totals are exact: summed from the same column values as the full rows, so each equals the
sum of that future's and good's rows at ``full`` (to the 12 significant digits every results
file carries). Quantities are in the scenario's units over the window, money in euros over the
window.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from optimizer.model.terms import BuiltModel
from optimizer.results.portfolio import Solution

ScenarioDetail = Literal["auto", "full", "totals"]

#: The choices of ``output.scenario_detail`` and ``--scenario-detail``.
SCENARIO_DETAILS: tuple[str, ...] = ("auto", "full", "totals")

#: With ``auto``, the most futures (``no_disruption`` included) whose ``scenarios.csv`` is
#: written at full detail; above, per-future totals. Measured on the shipped risk-model file
#: (nine goods, 20 periods; benchmarks/README.md, "Results at scale"): 1,000 futures are
#: 180,000 rows, 21 MB, written in about 2 s; past that the file outgrows what people open
#: and dominates the run's writing time, while the totals stay one row per future and good.
FULL_DETAIL_MAX_FUTURES = 1_000

#: The columns of ``scenarios.csv`` at ``totals``, in order (``docs/results.md``).
TOTALS_COLUMNS: tuple[str, ...] = (
    "scenario",
    "good",
    "probability",
    "disrupted_periods",
    "demand",
    "purchase_total",
    "production",
    "release",
    "refill",
    "reduction",
    "shortfall",
    "loss_eur",
    "cost_eur",
)


def written_detail(asked: str, futures: int) -> Literal["full", "totals"]:
    """The detail ``scenarios.csv`` is written at for ``asked`` (``auto``, ``full`` or
    ``totals``) and a run of ``futures`` futures: ``auto`` is ``full`` up to
    :data:`FULL_DETAIL_MAX_FUTURES` futures and ``totals`` above."""
    if asked not in SCENARIO_DETAILS:
        raise ValueError(
            f"scenario_detail must be one of {', '.join(SCENARIO_DETAILS)}, not {asked!r}"
        )
    if asked == "auto":
        return "full" if futures <= FULL_DETAIL_MAX_FUTURES else "totals"
    return asked  # type: ignore[return-value]


def future_totals(m: BuiltModel, x: np.ndarray) -> pd.DataFrame:
    """``scenarios.csv`` at ``totals``: one row per (future, good), in the order of the futures
    and goods, for the solution ``x`` (the solver's column values).

    Columns (:data:`TOTALS_COLUMNS`): ``probability`` of the future; ``disrupted_periods``
    (periods of the window in which the good is disrupted in that future); ``demand``,
    ``purchase_total``, ``production``, ``release``, ``refill``, ``reduction`` and
    ``shortfall`` in units over the window (the sums of the full rows' columns of that name);
    ``loss_eur``, the shortfall's damage (shortfall x damage per unit, euros over the window);
    ``cost_eur``, the future's operating cost of the good (purchases at that future's prices,
    production, demand reduction and damage, euros over the window; summed over the goods it
    is ``portfolio.json``'s ``scenarios.<future>.cost``)."""
    d = m.data
    sol = Solution(m, x)
    K, G = d.K, d.G
    pair = d.cell_k * G + d.cell_g  # (future, good) of each cell, k-major like the rows

    def per_pair(values: np.ndarray, where: np.ndarray = pair) -> np.ndarray:
        return np.bincount(where, weights=values, minlength=K * G)

    sc_pair = pair[d.sc_cell]
    price = d.supplier_cost[d.sc_j] * d.price_mult[d.cell_k[d.sc_cell], d.cell_g[d.sc_cell],
                                                   d.cell_t0[d.sc_cell]]  # fmt: skip
    g = d.cell_g
    cost = per_pair(price * sol.purchase, sc_pair) + per_pair(
        sol.produce * d.production_cost[g] + sol.reduce * d.reduction_cost[g]
        + sol.shortfall * d.damage[g]
    )  # fmt: skip
    shortfall = per_pair(sol.shortfall)
    frame = {
        "scenario": pd.Categorical.from_codes(np.repeat(np.arange(K), G), d.scenarios),
        "good": pd.Categorical.from_codes(np.tile(np.arange(G), K), d.goods),
        "probability": np.repeat(np.asarray(d.probability, dtype=float), G),
        "disrupted_periods": d.disrupted.sum(axis=2).reshape(K * G).astype(np.int64),
        "demand": per_pair(d.cell_demand()),
        "purchase_total": per_pair(sol.purchase, sc_pair),
        "production": per_pair(sol.produce),
        "release": per_pair(sol.release),
        "refill": per_pair(sol.refill),
        "reduction": per_pair(sol.reduce),
        "shortfall": shortfall,
        "loss_eur": shortfall * np.tile(d.damage, K),
        "cost_eur": cost,
    }
    df = pd.DataFrame(frame, columns=list(TOTALS_COLUMNS))
    num = list(TOTALS_COLUMNS[4:])
    df[num] = df[num].where(df[num].abs() > 1e-9, 0.0)
    return df


#: The most futures ``portfolio.xlsx``'s sheet *Scenarios* lists (one row each); above, the
#: ones with the largest expected loss. Excel holds 1,048,576 rows a sheet, and a sheet of
#: 20,000 futures takes longer to write than the whole rest of the workbook; every future is
#: in ``scenarios.csv`` and ``portfolio.json``.
WORKBOOK_MAX_FUTURES = FULL_DETAIL_MAX_FUTURES

#: The most futures ``report.html``'s table of scenarios lists; above, the ones with the
#: largest expected loss, so the page stays the same size at 20,000 futures as at 50.
REPORT_MAX_FUTURES = 50


def largest_futures(scenarios: dict, n: int) -> dict:
    """The ``n`` futures of ``portfolio.json``'s ``scenarios`` with the largest expected loss
    (probability x loss, euros), in their order in ``scenarios``; all of them when there are
    ``n`` or fewer. Ties keep the earlier future."""
    if len(scenarios) <= n:
        return scenarios
    names = list(scenarios)
    expected = np.fromiter(
        (s["probability"] * (s["loss"] or 0.0) for s in scenarios.values()),
        dtype=float,
        count=len(names),
    )
    keep = np.sort(np.argsort(-expected, kind="stable")[:n])
    return {names[i]: scenarios[names[i]] for i in keep}
