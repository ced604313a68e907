"""What each limit on supply shares costs the portfolio: the scenario solved again without it
(``stockpile run --explain-limits``).

The shadow price in ``portfolio.json`` says what one more point of share is worth at the
margin; this says what the whole limit costs: the objective and the cash with the limit minus
those without it, every other part of the scenario unchanged. One more solve per limit.
"""

from __future__ import annotations

import dataclasses

from optimizer.pipeline import RunConfig, run
from optimizer.results.run import RunResult

CAP = "concentration_cap"
"""Name under which the scenario's ``risk.concentration_cap`` is explained."""


def explain_limits(result: RunResult, config: RunConfig) -> dict[str, dict]:
    """Per limit (and ``concentration_cap`` when the scenario has one): ``objective_without``
    and ``cash_without`` (euros over the window) and ``cost`` (objective with minus without:
    euros of expected cost, damage and penalties the limit adds) and ``cash`` (cash with minus
    without); None values when the run without it did not end optimal. Also stored in
    ``result.portfolio["limits"][name]["explained"]`` (the cap under ``limits_explained``)."""
    loaded = result.loaded
    scenario = loaded.scenario
    risk = scenario.risk
    variants = {
        name: risk.model_copy(
            update={"limits": {n: v for n, v in risk.limits.items() if n != name}}
        )
        for name in risk.limits
    }
    if risk.concentration_cap is not None:
        variants[CAP] = risk.model_copy(update={"concentration_cap": None})
    pf = result.portfolio
    out: dict[str, dict] = {}
    for name, without in variants.items():
        other = dataclasses.replace(loaded, scenario=scenario.model_copy(update={"risk": without}))
        res = run(other, config)
        ok = res.status == "optimal" and res.objective is not None
        obj = res.objective if ok else None
        cash = res.portfolio["cost"]["first_stage_cash"] if ok else None
        out[name] = {
            "objective_without": obj,
            "cash_without": cash,
            "cost": None if obj is None else pf["objective"] - obj,
            "cash": None if cash is None else pf["cost"]["first_stage_cash"] - cash,
        }
        if name in pf.get("limits", {}):
            pf["limits"][name]["explained"] = out[name]
    if CAP in out:
        pf["limits_explained"] = {CAP: out[CAP]}
    return out
