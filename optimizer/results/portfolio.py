"""Stage five: from the solver's column values to the answer people and scripts read.

:func:`portfolio` builds the ``portfolio.json`` dictionary of the results contract;
:func:`period_table` the per-(scenario, good, period) table of ``scenarios.csv``;
:func:`goods_table` the one-row-per-good table of ``portfolio.csv``; :func:`supply_shares_table`
(``supply_shares.csv``) and :func:`reserves_table` (``reserves.csv``) the long tables of supply
shares and reserve contracts, one row per good and country or supplier. Quantities use the
scenario file's units: stock in units, capacities and reserves per year, shortfalls in units over
the window, money in euros over the window.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer import __version__
from optimizer.model.risk import cvar_of
from optimizer.model.terms import LEVERS, BuiltModel
from optimizer.results.chains import upstream_causes
from optimizer.results.limits import limits_report
from optimizer.results.routes import route_shares_by_good
from optimizer.scenario.schema import Scenario
from optimizer.solve.base import SolveResult

_TOL = 1e-7
#: Above this many distinct supplier names, scenarios.csv has purchases per country instead.
MAX_SUPPLIER_COLUMNS = 40


def _val(x: np.ndarray, cols: np.ndarray) -> np.ndarray:
    return np.where(cols >= 0, x[np.maximum(cols, 0)], 0.0)


def _clean(v: float, tol: float = 1e-9) -> float:
    """Round solver noise (1e-12) to zero so that reports do not show -0.0 or 1e-13."""
    return 0.0 if abs(v) < tol else float(v)


class Solution:
    """Column values arranged by domain entity, shared by every results table."""

    def __init__(self, m: BuiltModel, x: np.ndarray):
        d = self.data = m.data
        self.m = m
        self.x = x
        self.buy = _val(x, m.cols["buy"])
        self.reserve = _val(x, m.cols["reserve"])
        self.build = _val(x, m.cols["build"])
        self.prepare = _val(x, m.cols["prepare"])
        self.purchase = x[m.cols["purchase"]]
        self.produce = _val(x, m.cols["produce"])
        self.release = _val(x, m.cols["release"])
        self.refill = _val(x, m.cols["refill"])
        self.reduce = _val(x, m.cols["reduce"])
        self.shortfall = x[m.cols["shortfall"]]
        self.level = d.stock_initial + self.buy
        tracked = m.cols["stock"] >= 0
        self.stock_end = np.where(tracked, _val(x, m.cols["stock"]), self.level[d.cell_g])
        # per (scenario, good) totals
        K, G = d.K, d.G
        self.shortfall_kg = np.zeros((K, G))
        np.add.at(self.shortfall_kg, (d.cell_k, d.cell_g), self.shortfall)
        self.demand_kg = np.zeros((K, G))
        np.add.at(self.demand_kg, (d.cell_k, d.cell_g), d.cell_demand())
        self.reduce_kg = np.zeros((K, G))
        np.add.at(self.reduce_kg, (d.cell_k, d.cell_g), self.reduce)
        self.loss_k = self.shortfall_kg @ d.damage
        last = (d.cell_t0 + d.cell_len) == d.T
        self.stock_final_kg = np.zeros((K, G))
        self.stock_final_kg[d.cell_k[last], d.cell_g[last]] = self.stock_end[last]
        self.cash = m.cash.by_good_and_lever(x, G)

    def operating_cost_k(self) -> np.ndarray:
        """Second-stage cost of each scenario without the residual credit, euros: purchases at
        the scenario's prices, production, demand reduction and shortfall damage."""
        d = self.data
        k_sc = d.cell_k[d.sc_cell]
        g_sc = d.cell_g[d.sc_cell]
        price = d.supplier_cost[d.sc_j] * d.price_mult[k_sc, g_sc, d.cell_t0[d.sc_cell]]
        cost = np.bincount(k_sc, weights=price * self.purchase, minlength=d.K)
        g = d.cell_g
        per_cell = (
            self.produce * d.production_cost[g]
            + self.reduce * d.reduction_cost[g]
            + self.shortfall * d.damage[g]
        )
        return cost + np.bincount(d.cell_k, weights=per_cell, minlength=d.K)

    def residual_credit_g(self) -> np.ndarray:
        """Expected credit for the stock held at the window's end, per good, euros."""
        d = self.data
        credit = d.residual_value * d.stock_unit_cost * d.has_stock
        return (d.probability @ self.stock_final_kg) * credit


def supply_shares_before(m: BuiltModel, g: int) -> dict[str, float]:
    """No levers, no cap, no disruption: normal demand met from spot capacity, cheapest
    supplier first; shares by country over what is supplied."""
    d = m.data
    js = np.flatnonzero(d.supplier_good == g)
    order = js[np.argsort(d.supplier_cost[js], kind="stable")]
    need = d.demand_pp[g]
    by_country: dict[str, float] = {}
    for j in order:
        take = min(need, d.spot_pp[j])
        if take > 0:
            c = d.countries[d.supplier_country[j]]
            by_country[c] = by_country.get(c, 0.0) + take
            need -= take
    return _shares(by_country)


def _shares(amounts: dict[str, float]) -> dict[str, float]:
    total = sum(amounts.values())
    if total <= _TOL:
        return {}
    return {
        k: _clean(v / total)
        for k, v in sorted(amounts.items(), key=lambda kv: -kv[1])
        if v / total > 1e-9
    }


def _hhi(shares: dict[str, float]) -> float:
    return float(sum(s * s for s in shares.values()))


#: Governance score assumed for a country the scenario gives none (the middle of 0-10).
DEFAULT_GOVERNANCE = 5.0


def governance_risk(scenario: Scenario) -> dict[str, float]:
    """Each country's weight in the governance-weighted index, ``(10 - governance) / 10``:
    0 for the best governed (10), 1 for the worst (0); ``domestic`` (home production) 0."""
    weights = {
        c: (10.0 - (DEFAULT_GOVERNANCE if v.governance is None else v.governance)) / 10.0
        for c, v in scenario.countries.items()
    }
    weights["domestic"] = 0.0
    return weights


def _hhi_governance(shares: dict[str, float], weights: dict[str, float]) -> float:
    """The JRC supply-risk style concentration: ``sum_c share_c^2 * (10 - governance_c) / 10``,
    0 to 1; a country missing from ``weights`` counts with the default governance."""
    default = (10.0 - DEFAULT_GOVERNANCE) / 10.0
    return float(sum(s * s * weights.get(c, default) for c, s in shares.items()))


def _first_scenario_supply(sol: Solution) -> tuple[np.ndarray, np.ndarray]:
    """Purchases in the first scenario over the window by (good, supplier country), and
    domestic production by good, units; one pass over the arrays for every good."""
    d = sol.data
    base = d.cell_k[d.sc_cell] == 0
    j = d.sc_j[base]
    n_c = len(d.countries)
    bought = np.bincount(
        d.supplier_good[j] * n_c + d.supplier_country[j],
        weights=sol.purchase[base],
        minlength=d.G * n_c,
    ).reshape(d.G, n_c)
    first = d.cell_k == 0
    produced = np.bincount(d.cell_g[first], weights=sol.produce[first], minlength=d.G)
    return bought, produced


def supply_shares_after(
    sol: Solution, g: int, supply: tuple[np.ndarray, np.ndarray] | None = None
) -> dict[str, float]:
    """The optimum's no-disruption mix over the window: purchases by supplier country and
    domestic production (key ``domestic``). ``supply``: :func:`_first_scenario_supply` of
    ``sol``, when it is computed once for every good."""
    d = sol.data
    bought, produced = supply if supply is not None else _first_scenario_supply(sol)
    amounts = {d.countries[c]: float(bought[g, c]) for c in np.flatnonzero(bought[g])}
    if produced[g] > _TOL:
        amounts["domestic"] = float(produced[g])
    return _shares(amounts)


def portfolio(
    scenario: Scenario,
    m: BuiltModel,
    result: SolveResult,
    *,
    input_sha256: str,
    seconds: dict[str, float],
    interface: str,
) -> dict:
    """The ``portfolio.json`` dictionary (every key of the results contract, plus more)."""
    d = m.data
    out: dict = {
        "scenario": scenario.name,
        "input_sha256": input_sha256,
        "engine_version": __version__,
        "status": result.status,
        "termination": result.termination,
        "mip_gap": result.mip_gap,
        "objective": result.objective,
    }
    if d.sampling is not None:  # futures drawn from a risk model: how many, how many distinct
        out["risk_model"] = dict(d.sampling)
    solver = {
        "name": "highs",
        "interface": interface,
        "seconds": seconds.get("solve", 0.0),
        "build_seconds": seconds.get("build", 0.0),
        "times": {k: round(v, 4) for k, v in seconds.items()},
        "iterations": result.iterations,
        "model": {**m.lp.stats(), "periods": d.T, "scenarios": d.K, "blocks": int(d.C)},
    }
    if not result.has_solution or result.x is None:
        out.update({"cost": None, "budget": None, "goods": {}, "scenarios": {}, "solver": solver})
        out.update({"limits": {}, "warnings": [], "upstream": {}})
        return out
    sol = Solution(m, result.x)
    alpha = scenario.risk.cvar.alpha if scenario.risk.cvar else 0.95
    weight = scenario.risk.cvar.weight if scenario.risk.cvar else 0.0
    cvar = cvar_of(sol.loss_k, d.probability, alpha)
    residual = sol.residual_credit_g()
    life = np.ones((d.G, len(LEVERS)))
    life[:, LEVERS.index("domestic")] = d.life_share
    economic_g = (sol.cash * life).sum(axis=1) - residual
    op_k = sol.operating_cost_k()
    out["cost"] = {
        "first_stage_cash": _clean(sol.cash.sum()),
        "first_stage_economic": _clean(economic_g.sum()),
        "expected_second_stage": _clean(float(d.probability @ op_k)),
        "expected_loss": _clean(float(d.probability @ sol.loss_k)),
        "cvar": _clean(cvar),
        "cvar_alpha": alpha,
        "cvar_weight": weight,
        "expected_residual_credit": _clean(residual.sum()),
    }
    out["budget"] = _budget(scenario, m, sol, result)
    supply = _first_scenario_supply(sol)
    limits, warnings = limits_report(m, result.x, result.row_dual, *supply, sol.shortfall_kg[0])
    out["cost"]["limit_penalties"] = _clean(
        float(d.probability[0]) * sum(v["penalty"] for v in limits.values())
    )
    out["limits"] = limits
    out["warnings"] = warnings
    weights = governance_risk(scenario)
    out["goods"] = {
        g: _good(m, sol, i, economic_g[i], supply, weights) for i, g in enumerate(d.goods)
    }
    for g, v in out["goods"].items():  # names for people: the file's label:, else the key
        good = scenario.goods[g]
        v["label"] = good.label or g
        v["supplier_labels"] = {s: (good.suppliers[s].label or s) for s in good.suppliers}
    if d.routes:  # shipping routes: the share of each good's normal supply passing each
        for g, shares in route_shares_by_good(d, sol.purchase, sol.produce).items():
            out["goods"][g]["route_shares"] = shares
    out["scenarios"] = {
        name: {
            "probability": float(d.probability[k]),
            "loss": _clean(sol.loss_k[k]),
            "cost": _clean(op_k[k]),
            "shortfall": {g: _clean(sol.shortfall_kg[k, i]) for i, g in enumerate(d.goods)},
        }
        for k, name in enumerate(d.scenarios)
    }
    out["upstream"] = upstream_causes(m, sol.shortfall, sol.build)
    short = normal_time_shortfall(scenario, m, sol, result)
    if short:
        out["normal_time_shortfall"] = short
    out["solver"] = solver
    return out


def baseline_summary(scenario: Scenario, m: BuiltModel, result: SolveResult, objective) -> dict:
    """``portfolio.json``'s ``baseline``: the same futures with no lever (``result``, solved
    with every first-stage decision at zero). ``objective`` (euros, the expected total cost
    of doing nothing: normal purchases plus shortfall damage, plus any weighted CVaR),
    ``expected_loss`` and ``cvar`` of the shortfall damage, and ``saving``: its objective less
    the portfolio's (``objective``), what the portfolio is expected to save."""
    if not result.has_solution or result.x is None:
        return {
            "status": result.status,
            "reason": "with no lever the scenario has no feasible plan (a requirement such as "
            "coverage days or a service level needs one)",
        }
    sol = Solution(m, result.x)
    d = m.data
    alpha = scenario.risk.cvar.alpha if scenario.risk.cvar else 0.95
    base = result.objective
    return {
        "status": result.status,
        "objective": _clean(base),
        "expected_loss": _clean(float(d.probability @ sol.loss_k)),
        "cvar": _clean(cvar_of(sol.loss_k, d.probability, alpha)),
        "expected_second_stage": _clean(float(d.probability @ sol.operating_cost_k())),
        "saving": _clean(base - objective) if objective is not None else None,
    }


def normal_time_shortfall(
    scenario: Scenario, m: BuiltModel, sol: Solution, result: SolveResult
) -> list[dict]:
    """Goods short even in ``no_disruption``: per good its ``shortfall`` (units over the
    window), ``damage`` (euros over the window), the future's ``probability`` and
    ``capped_countries``: the countries whose concentration cap binds for the good (its row's
    dual is not zero), the likely cause; empty when no cap binds."""
    d = m.data
    if not d.scenarios or d.scenarios[0] != "no_disruption":
        return []
    short = sol.shortfall_kg[0]
    demand = sol.demand_kg[0]
    goods = np.flatnonzero(short > 1e-6 * np.maximum(1.0, demand))
    if goods.size == 0:
        return []
    pairs = m.info.get("cap_pairs")
    capped: dict[int, list[str]] = {}
    if pairs is not None and result.row_dual is not None:
        duals = np.abs(np.asarray(result.row_dual)[pairs["row"].to_numpy()])
        for g, c in pairs.loc[duals > 1e-9, ["good", "country"]].itertuples(index=False):
            capped.setdefault(int(g), []).append(d.countries[int(c)])
    cap = scenario.risk.concentration_cap
    return [
        {
            "good": d.goods[g],
            "unit": d.units[g],
            "shortfall": _clean(float(short[g])),
            "damage": _clean(float(short[g] * d.damage[g])),
            "probability": float(d.probability[0]),
            "capped_countries": capped.get(int(g), []),
            "cap_share": cap.share if cap is not None and capped.get(int(g)) else None,
        }
        for g in goods
    ]


def _budget(scenario: Scenario, m: BuiltModel, sol: Solution, result: SolveResult) -> dict:
    d = m.data
    lever_idx = {v: i for i, v in enumerate(LEVERS)}

    def used(levers, goods) -> float:
        gi = [d.goods.index(g) for g in goods if g in d.goods]
        li = [lever_idx[v] for v in levers]
        return float(sol.cash[np.ix_(gi, li)].sum())

    def entry(name: str, limit: float | None, levers, goods) -> dict:
        u = used(levers, goods)
        mv = 0.0
        row = m.budget_rows.get(name)
        if (
            row is not None
            and result.row_dual is not None
            and u >= (limit or 0) - 1e-6 * max(1.0, abs(limit or 0))
        ):
            mv = max(0.0, -float(result.row_dual[row]))
        return {"limit": limit, "used": _clean(u), "marginal_value": _clean(mv)}

    b = scenario.budget
    return {
        "total": entry("total", b.total, LEVERS, d.goods),
        "lines": {
            name: entry(name, line.limit, line.levers or LEVERS, line.goods or d.goods)
            for name, line in b.lines.items()
        },
        "marginal_values_from": "LP with integer decisions fixed" if m.lp.is_mip else "LP",
    }


def _good(
    m: BuiltModel,
    sol: Solution,
    g: int,
    economic: float,
    supply: tuple[np.ndarray, np.ndarray],
    weights: dict[str, float],
) -> dict:
    d = m.data
    p = d.probability
    per_day = d.demand_pp[g] * d.periods_per_year / 365.0
    level = float(sol.level[g])
    js = np.flatnonzero((d.supplier_good == g) & d.has_reserve)
    before = supply_shares_before(m, g)
    after = supply_shares_after(sol, g, supply)
    expected_short = float(p @ sol.shortfall_kg[:, g])
    cash = sol.cash[g]
    total_demand = float(p @ sol.demand_kg[:, g])
    return {
        "unit": d.units[g],
        "stockpile": {
            "buy": _clean(sol.buy[g]),
            "level": _clean(level),
            "days_of_cover": _clean(level / per_day) if per_day > 0 else None,
            "cash": _clean(cash[LEVERS.index("stockpile")]),
        },
        "reserve": {d.supplier_names[j]: _clean(sol.reserve[j]) for j in js},
        "domestic": {
            "capacity": _clean(sol.build[g]),
            "built": bool(sol.build[g] > 1e-6),
            "cash": _clean(cash[LEVERS.index("domestic")]),
        },
        "demand_reduction": {
            "prepared": bool(sol.prepare[g] > 0.5) if m.cols["prepare"][g] >= 0 else None,
            "expected_reduction": _clean(float(p @ sol.reduce_kg[:, g])),
            "cash": _clean(cash[LEVERS.index("demand_reduction")]),
        },
        "cash": _clean(cash.sum()),
        "cash_by_lever": {lever: _clean(cash[i]) for i, lever in enumerate(LEVERS)},
        "economic_cost": _clean(economic),
        "expected_shortfall": _clean(expected_short),
        "expected_shortfall_share": _clean(expected_short / total_demand) if total_demand else 0.0,
        "worst_shortfall": _clean(float(sol.shortfall_kg[:, g].max())),
        "expected_damage": _clean(expected_short * d.damage[g]),
        "supply_shares": {"before": before, "after": after},
        "hhi": {"before": _clean(_hhi(before)), "after": _clean(_hhi(after))},
        "hhi_governance": {
            "before": _clean(_hhi_governance(before, weights)),
            "after": _clean(_hhi_governance(after, weights)),
        },
    }


def goods_table(pf: dict) -> pd.DataFrame:
    """One row per good (``portfolio.csv``): each lever's decision, cash, economic cost,
    expected and worst shortfall, supply shares and HHI before/after. ``shares_before`` and
    ``shares_after`` are readable summaries (``CN=0.750; JP=0.075``) kept for the results
    contract; :func:`supply_shares_table` has the same shares one number per cell."""
    rows = []
    for g, v in pf.get("goods", {}).items():
        rows.append(
            {
                "good": g,
                "unit": v["unit"],
                "stock_buy": v["stockpile"]["buy"],
                "stock_level": v["stockpile"]["level"],
                "days_of_cover": v["stockpile"]["days_of_cover"],
                "stockpile_cash_eur": v["stockpile"]["cash"],
                "reserve_total_per_year": sum(v["reserve"].values()),
                "domestic_capacity_per_year": v["domestic"]["capacity"],
                "domestic_cash_eur": v["domestic"]["cash"],
                "demand_reduction_expected": v["demand_reduction"]["expected_reduction"],
                "cash_eur": v["cash"],
                "economic_cost_eur": v["economic_cost"],
                "expected_shortfall": v["expected_shortfall"],
                "worst_shortfall": v["worst_shortfall"],
                "expected_damage_eur": v["expected_damage"],
                "shares_before": "; ".join(
                    f"{k}={s:.3f}" for k, s in v["supply_shares"]["before"].items()
                ),
                "shares_after": "; ".join(
                    f"{k}={s:.3f}" for k, s in v["supply_shares"]["after"].items()
                ),
                "hhi_before": v["hhi"]["before"],
                "hhi_after": v["hhi"]["after"],
                "hhi_governance_before": v["hhi_governance"]["before"],
                "hhi_governance_after": v["hhi_governance"]["after"],
            }
        )
    return pd.DataFrame(rows)


#: Columns of ``supply_shares.csv``.
SUPPLY_SHARE_COLUMNS = ["good", "country", "before", "after"]
#: Columns of ``reserves.csv``.
RESERVE_COLUMNS = [
    "good",
    "supplier",
    "country",
    "unit",
    "reserved_per_year",
    "max_per_year",
    "fee_eur_per_unit_year",
    "fee_eur_per_year",
]


def supply_shares_table(pf: dict) -> pd.DataFrame:
    """One row per good and country (``supply_shares.csv``): the share of the good's
    no-disruption supply from that country before (no levers) and after (the portfolio), as
    fractions in [0, 1]; 0.0 where the country supplies nothing on that side. The country
    ``domestic`` is domestic production. Countries in the order of ``portfolio.json``: those
    of ``before`` (largest first), then those only in ``after``."""
    rows = []
    for g, v in pf.get("goods", {}).items():
        before, after = v["supply_shares"]["before"], v["supply_shares"]["after"]
        for c in dict.fromkeys([*before, *after]):
            rows.append([g, c, float(before.get(c, 0.0)), float(after.get(c, 0.0))])
    return pd.DataFrame(rows, columns=SUPPLY_SHARE_COLUMNS).astype(
        {"before": float, "after": float}
    )


def reserves_table(pf: dict, resolved: dict) -> pd.DataFrame:
    """One row per good and supplier offering a reserve contract (``reserves.csv``): the
    supplier's country, the good's unit, the capacity reserved by the portfolio (units per
    year; 0 where the option is not used), the most that could be reserved (units per year),
    the fee in euros per unit of reserved yearly capacity per year, and the fee per year for
    the capacity reserved (reserved x fee, euros per year; the fixed cost of signing is in
    ``cash_by_lever``). ``resolved``: the resolved scenario (``resolved.yaml``'s data)."""
    goods = resolved.get("goods") or {}
    rows = []
    for g, v in pf.get("goods", {}).items():
        suppliers = (goods.get(g) or {}).get("suppliers") or {}
        for name, reserved in v["reserve"].items():
            supplier = suppliers.get(name) or {}
            contract = supplier.get("reserve") or {}
            fee = float(contract.get("fee") or 0.0)
            rows.append(
                [
                    g,
                    name,
                    supplier.get("country"),
                    v.get("unit"),
                    float(reserved),
                    float(contract.get("max") or 0.0),
                    fee,
                    float(reserved) * fee,
                ]
            )
    numbers = {c: float for c in RESERVE_COLUMNS[4:]}
    return pd.DataFrame(rows, columns=RESERVE_COLUMNS).astype(numbers)


def period_table(m: BuiltModel, x: np.ndarray) -> pd.DataFrame:
    """One row per (scenario, good, period), blocks spread evenly over their periods: demand,
    purchases per supplier (``purchase_<supplier>``), production, release, refill, reduction,
    shortfall, stock at the period's end, the disrupted flag and the price multiplier."""
    d = m.data
    sol = Solution(m, x)
    L = d.cell_len
    rep = np.repeat(np.arange(d.C), L)
    offset = np.arange(len(rep)) - np.repeat(np.cumsum(L) - L, L)
    period = d.cell_t0[rep] + offset
    frame = {
        "scenario": pd.Categorical.from_codes(d.cell_k[rep], d.scenarios),
        "good": pd.Categorical.from_codes(d.cell_g[rep], d.goods),
        "period": period + 1,
        "disrupted": d.disrupted[d.cell_k[rep], d.cell_g[rep], period],
        "price_multiplier": d.price_mult[d.cell_k[rep], d.cell_g[rep], period],
        "demand": (d.cell_demand() / L)[rep],
    }
    # purchases: one column per supplier name (``purchase_china``), or, when names are too many
    # for a table people read (and for memory at scale), one per country
    # (``purchase_country_CN``); ``purchase_total`` always
    names = sorted(set(d.supplier_names), key=d.supplier_names.index)
    if len(names) <= MAX_SUPPLIER_COLUMNS:
        labels = [f"purchase_{n}" for n in names]
        column_of = np.array([names.index(n) for n in d.supplier_names], dtype=np.int64)
    else:
        used = sorted(set(d.supplier_country.tolist()))
        labels = [f"purchase_country_{d.countries[c]}" for c in used]
        column_of = np.searchsorted(used, d.supplier_country)
    per_cell = np.zeros((d.C, len(labels)))
    np.add.at(per_cell, (d.sc_cell, column_of[d.sc_j]), sol.purchase)
    for i, label in enumerate(labels):
        frame[label] = (per_cell[:, i] / L)[rep]
    frame["purchase_total"] = (per_cell.sum(axis=1) / L)[rep]
    for col, arr in (
        ("production", sol.produce),
        ("release", sol.release),
        ("refill", sol.refill),
        ("reduction", sol.reduce),
        ("shortfall", sol.shortfall),
    ):
        frame[col] = (arr / L)[rep]
    # stock moves linearly inside a block from its previous end to its end
    first = d.cell_t0 == 0
    prev = np.where(first, sol.level[d.cell_g], np.roll(sol.stock_end, 1))
    frac = (offset + 1) / L[rep]
    frame["stock"] = prev[rep] + (sol.stock_end - prev)[rep] * frac
    df = pd.DataFrame(frame)
    num = df.select_dtypes("number").columns.drop(["period", "price_multiplier"])
    df[num] = df[num].where(df[num].abs() > 1e-9, 0.0)
    return df
