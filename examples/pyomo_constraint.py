"""Add your own rule to the model through Pyomo, solve, and compare with the plain run.

The rule here: "at least 20 % of the first-stage cash goes to domestic capacity (recycling,
reshoring)", a policy floor the scenario format has no key for. ``optimizer.api.pyomo_model``
returns the scenario's model as a Pyomo ``ConcreteModel`` (``pm.model``: ``buy``, ``reserve``,
``build``, ... and ``budget_total``, ``demand_balance``, ...); ``pm.cash(lever=...)`` is the
cash the budget rows count, in euros over the window. Run it from the repository's root:

    python examples/pyomo_constraint.py scenarios/critical_raw_materials.yaml --share 0.2

It prints the cash by lever and the objective (expected cost plus the CVaR term) with and
without the rule, and with ``--out FOLDER`` writes the constrained run's results folder like
``stockpile run`` does.
"""

from __future__ import annotations

import argparse

import pyomo.environ as pyo

from optimizer.api import PyomoModel, RunConfig, RunResult, pyomo_model, run


def add_lever_floor(pm: PyomoModel, lever: str, share: float) -> None:
    """Require at least ``share`` (0-1) of all first-stage cash to go to ``lever``
    (``stockpile``, ``reserve``, ``domestic`` or ``demand_reduction``)."""
    pm.model.lever_floor = pyo.Constraint(expr=pm.cash(lever=lever) >= share * pm.cash())


def cash_by_lever(result: RunResult) -> dict[str, float]:
    """Euros over the window per lever, summed over goods (from ``portfolio.json``)."""
    total: dict[str, float] = {}
    for good in result.portfolio["goods"].values():
        for lever, cash in good.get("cash_by_lever", {}).items():
            total[lever] = total.get(lever, 0.0) + cash
    return total


def main(argv: list[str] | None = None) -> tuple[RunResult, RunResult]:
    """Solve the scenario as it is and with the floor; returns (plain, with the floor)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario")
    ap.add_argument("--lever", default="domestic")
    ap.add_argument("--share", type=float, default=0.2)
    ap.add_argument("--out", default=None, help="write the constrained run's results here")
    a = ap.parse_args(argv)

    plain = run(a.scenario, RunConfig(interface="pyomo"))
    pm = pyomo_model(a.scenario)
    add_lever_floor(pm, a.lever, a.share)
    floored = pm.solve()
    for name, res in (("as the scenario says", plain), (f"{a.lever} >= {a.share:.0%}", floored)):
        cash = cash_by_lever(res)
        spent = sum(cash.values())
        parts = ", ".join(f"{k} EUR {v / 1e6:,.1f}M" for k, v in cash.items() if v > 0.5)
        print(f"{name}: status {res.status}, objective EUR {res.objective / 1e6:,.1f}M")
        print(f"  cash EUR {spent / 1e6:,.1f}M: {parts or 'none'}")
    if a.out:
        floored.write(a.out)
        print(f"results written to {a.out}")
    return plain, floored


if __name__ == "__main__":
    main()
