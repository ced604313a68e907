"""The portfolio model's decisions, costs and physical balances, built from whole arrays.

Stage three of ``scenario -> data -> model -> solve -> results``. Each function adds one family
of terms to the :class:`~optimizer.model.lp.LinearProgram` (see ``docs/model.md`` for the
mathematics, with the same names):

- :func:`add_stockpile`: ``buy``, ``stock``, ``release``, ``refill``, ``stock_balance``,
  ``stock_cap``, storage cost and the residual credit;
- :func:`add_reserve`: ``reserve`` and ``contract``;
- :func:`add_domestic`: ``build``, ``plant``, ``modules``, ``produce``;
- :func:`add_demand_reduction`: ``reduce`` and ``prepare``;
- :func:`add_supply`: ``purchase`` (spot and reserved capacity, availability, spot lead time);
- :func:`add_demand_balance`: ``shortfall`` and the balance of every (scenario, good, block).

User-switched constraints (budget, cap, coverage, service level) are in ``constraints.py``;
CVaR is a transform in ``risk.py``. Money in euros over the window; first-stage capacities in
units per year; second-stage flows in units per block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimizer.data import ModelData
from optimizer.model.lp import INF, LinearProgram

LEVERS = ("stockpile", "reserve", "domestic", "demand_reduction")
_LEVER = {name: i for i, name in enumerate(LEVERS)}


@dataclass
class CashLedger:
    """First-stage cash as linear terms, tagged by good and lever, for budget rows and
    reporting. ``cash(good, lever) = sum(coef * x[col]) + constant``."""

    cols: list[np.ndarray] = field(default_factory=list)
    coefs: list[np.ndarray] = field(default_factory=list)
    goods: list[np.ndarray] = field(default_factory=list)
    levers: list[np.ndarray] = field(default_factory=list)
    constant: np.ndarray | None = None  # (G, levers)

    def add(self, lever: str, cols: np.ndarray, coefs: np.ndarray, goods: np.ndarray) -> None:
        cols, coefs, goods = np.broadcast_arrays(cols, coefs, goods)
        self.cols.append(np.asarray(cols, np.int64))
        self.coefs.append(np.asarray(coefs, float))
        self.goods.append(np.asarray(goods, np.int64))
        self.levers.append(np.full(len(cols), _LEVER[lever]))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if not self.cols:
            z = np.zeros(0, np.int64)
            return z, np.zeros(0), z, z
        return (
            np.concatenate(self.cols),
            np.concatenate(self.coefs),
            np.concatenate(self.goods),
            np.concatenate(self.levers),
        )

    def by_good_and_lever(self, x: np.ndarray, n_goods: int) -> np.ndarray:
        """Cash per (good, lever) at the solution ``x``, euros."""
        cols, coefs, goods, levers = self.arrays()
        out = np.zeros((n_goods, len(LEVERS)))
        np.add.at(out, (goods, levers), coefs * x[cols])
        if self.constant is not None:
            out += self.constant
        return out


@dataclass
class BuiltModel:
    """The assembled LP with the maps from domain entities to its columns and rows.

    ``cols[name]`` is aligned with the entity it belongs to (goods, suppliers, cells or supplier
    cells of :class:`ModelData`) and holds -1 where the entity has no such variable.
    """

    lp: LinearProgram
    data: ModelData
    cash: CashLedger
    cols: dict[str, np.ndarray] = field(default_factory=dict)
    rows: dict[str, np.ndarray] = field(default_factory=dict)
    budget_rows: dict[str, int] = field(default_factory=dict)
    residual_credit_constant: float = 0.0
    info: dict[str, object] = field(default_factory=dict)


def _aligned(n: int, where: np.ndarray, cols: np.ndarray) -> np.ndarray:
    out = np.full(n, -1, dtype=np.int64)
    out[where] = cols
    return out


def build(data: ModelData, layout_only: bool = False) -> BuiltModel:
    """Build every term of the model except the user-switched constraints and CVaR
    (``layout_only``: without the matrix, see :attr:`LinearProgram.layout_only`)."""
    lp = LinearProgram(layout_only=layout_only)
    cash = CashLedger(constant=np.zeros((data.G, len(LEVERS))))
    m = BuiltModel(lp=lp, data=data, cash=cash)
    add_stockpile_first_stage(m)
    add_reserve(m)
    add_domestic(m)
    add_demand_reduction(m)
    add_supply(m)
    add_stockpile_operation(m)
    add_demand_balance(m)
    return m


# --- first stage ------------------------------------------------------------------------------


def add_stockpile_first_stage(m: BuiltModel) -> None:
    """``buy[g]``: units bought into the stockpile; ``initial + buy <= max``.

    Cash and cost per unit bought: ``unit_cost + storage_cost * years``; the storage of the
    initial stock is a constant. The residual credit is added in
    :func:`add_stockpile_operation`.
    """
    d, lp = m.data, m.lp
    goods = np.flatnonzero(d.has_stock)
    coef = d.stock_unit_cost[goods] + d.storage_cost[goods] * d.years
    cols = lp.add_variables(
        "buy",
        len(goods),
        0.0,
        d.stock_max[goods] - d.stock_initial[goods],
        coef,
        doc="units bought into the strategic stockpile",
    )
    m.cols["buy"] = _aligned(d.G, goods, cols)
    m.cash.add("stockpile", cols, coef, goods)
    storage_initial = d.storage_cost * d.stock_initial * d.years
    m.cash.constant[:, _LEVER["stockpile"]] += storage_initial
    lp.objective_constant += storage_initial.sum()


def add_reserve(m: BuiltModel) -> None:
    """``reserve[j]``: capacity reserved with supplier ``j`` (units/year), fee per unit and
    year; ``contract[j]`` binary when the contract has a fixed cost:
    ``reserve <= max * contract``."""
    d, lp = m.data, m.lp
    sup = np.flatnonzero(d.has_reserve)
    fee = d.reserve_fee[sup] * d.years
    cols = lp.add_variables(
        "reserve",
        len(sup),
        0.0,
        d.reserve_max[sup],
        fee,
        doc="capacity reserved under contract, units per year",
    )
    m.cols["reserve"] = _aligned(d.J, sup, cols)
    m.cash.add("reserve", cols, fee, d.supplier_good[sup])
    fixed = sup[d.reserve_fixed_cost[sup] > 0]
    ccols = lp.add_variables(
        "contract",
        len(fixed),
        0.0,
        1.0,
        d.reserve_fixed_cost[fixed],
        kind="binary",
        doc="1 if the reservation contract (with a fixed cost) is signed",
    )
    m.cols["contract"] = _aligned(d.J, fixed, ccols)
    m.cash.add("reserve", ccols, d.reserve_fixed_cost[fixed], d.supplier_good[fixed])
    rows = lp.add_constraints(
        "reserve_contract", len(fixed), upper=0.0, doc="reserve <= max * contract"
    )
    lp.add_terms(rows, m.cols["reserve"][fixed], 1.0)
    lp.add_terms(rows, ccols, -d.reserve_max[fixed])


def add_domestic(m: BuiltModel) -> None:
    """``build[g]``: domestic capacity (units/year) at ``capex`` per unit of yearly capacity;
    ``plant[g]`` binary when there is a fixed cost (``build <= max * plant``); ``modules[g]``
    integer when capacity comes in whole modules (``build = module * modules``). The objective
    counts capex and fixed cost times ``min(1, years / lifetime)``; the cash counts them whole.
    """
    d, lp = m.data, m.lp
    goods = np.flatnonzero(d.has_domestic)
    share = d.life_share[goods]
    cols = lp.add_variables(
        "build",
        len(goods),
        0.0,
        d.domestic_max[goods],
        d.capex[goods] * share,
        doc="domestic capacity built, units per year",
    )
    m.cols["build"] = _aligned(d.G, goods, cols)
    m.cash.add("domestic", cols, d.capex[goods], goods)

    fixed = goods[d.plant_fixed_cost[goods] > 0]
    pcols = lp.add_variables(
        "plant",
        len(fixed),
        0.0,
        1.0,
        d.plant_fixed_cost[fixed] * d.life_share[fixed],
        kind="binary",
        doc="1 if the domestic plant (with a fixed cost) is built",
    )
    m.cols["plant"] = _aligned(d.G, fixed, pcols)
    m.cash.add("domestic", pcols, d.plant_fixed_cost[fixed], fixed)
    rows = lp.add_constraints("plant_capacity", len(fixed), upper=0.0, doc="build <= max * plant")
    lp.add_terms(rows, m.cols["build"][fixed], 1.0)
    lp.add_terms(rows, pcols, -d.domestic_max[fixed])

    modular = goods[~np.isnan(d.module[goods])]
    n_max = np.floor(d.domestic_max[modular] / d.module[modular] + 1e-9)
    mcols = lp.add_variables(
        "modules",
        len(modular),
        0.0,
        n_max,
        kind="integer",
        doc="whole modules of domestic capacity built",
    )
    m.cols["modules"] = _aligned(d.G, modular, mcols)
    rows = lp.add_constraints("module_size", len(modular), 0.0, 0.0, doc="build = module * modules")
    lp.add_terms(rows, m.cols["build"][modular], 1.0)
    lp.add_terms(rows, mcols, -d.module[modular])


def add_demand_reduction(m: BuiltModel) -> None:
    """``prepare[g]`` binary when demand measures have a preparation cost. The per-period
    ``reduce`` variables are added with the balance (:func:`add_demand_balance`)."""
    d, lp = m.data, m.lp
    goods = np.flatnonzero(d.has_reduction & (d.preparation_cost > 0))
    cols = lp.add_variables(
        "prepare",
        len(goods),
        0.0,
        1.0,
        d.preparation_cost[goods],
        kind="binary",
        doc="1 if the demand measure is prepared",
    )
    m.cols["prepare"] = _aligned(d.G, goods, cols)
    m.cash.add("demand_reduction", cols, d.preparation_cost[goods], goods)


# --- second stage -----------------------------------------------------------------------------


def _prob(m: BuiltModel, cell_k: np.ndarray) -> np.ndarray:
    return m.data.probability[cell_k]


def add_supply(m: BuiltModel) -> None:
    """``purchase[j, block, k]`` from supplier ``j``, at the scenario's price:
    ``purchase <= L * avail * (spot_ok * capacity + reserve) / P`` per block of ``L`` periods.
    Suppliers without a reservation option get a plain upper bound."""
    d, lp = m.data, m.lp
    cell = d.sc_cell
    j = d.sc_j
    k, g, t0, L = d.cell_k[cell], d.cell_g[cell], d.cell_t0[cell], d.cell_len[cell]
    avail = d.avail[k, j, t0]
    spot = L * avail * d.spot_ok[k, j, t0] * d.spot_pp[j]
    price = d.supplier_cost[j] * d.price_mult[k, g, t0]
    reservable = d.has_reserve[j] & (avail > 0)
    upper = np.where(reservable, INF, spot)
    cols = lp.add_variables(
        "purchase",
        len(cell),
        0.0,
        upper,
        d.probability[k] * price,
        doc="units bought from a supplier in a block of a scenario",
    )
    m.cols["purchase"] = cols
    rsc = np.flatnonzero(reservable)
    rows = lp.add_constraints(
        "supplier_capacity",
        len(rsc),
        upper=spot[rsc],
        doc="purchase <= L * avail * (spot capacity + reserve) / P",
    )
    lp.add_terms(rows, cols[rsc], 1.0)
    lp.add_terms(rows, m.cols["reserve"][j[rsc]], -(L * avail)[rsc] / d.periods_per_year)
    m.rows["supplier_capacity"] = _aligned(len(cell), rsc, rows)


def add_stockpile_operation(m: BuiltModel) -> None:
    """Release, refill and stock level in each (scenario, good) where the good is disrupted.

    ``stock[b] = stock[b-1] - release[b] + refill[b]`` with ``stock[-1] = initial + buy``;
    ``release`` only in disrupted blocks (``<= L * max_release / P``), ``refill`` only in
    undisrupted ones, and ``stock <= initial + buy`` after a refill. Residual credit:
    ``-p_k * residual_value * unit_cost * stock at the window's end``; where the good is never
    disrupted the stock stays ``initial + buy`` and the credit falls on ``buy`` directly.
    """
    d, lp = m.data, m.lp
    C = d.C
    ever = d.disrupted.any(axis=2)  # (K, G)
    tracked = d.has_stock[d.cell_g] & ever[d.cell_k, d.cell_g]
    disrupted = d.cell_disrupted()
    credit = d.residual_value * d.stock_unit_cost  # per unit at the end, (G,)

    # where untracked, the credit is p_k * credit * (initial + buy)
    untracked_p = d.probability[:, None] * (~ever)  # (K, G)
    p_untracked = untracked_p.sum(axis=0)
    buy = m.cols["buy"]
    gs = np.flatnonzero(d.has_stock)
    lp.add_cost(buy[gs], -p_untracked[gs] * credit[gs])
    lp.objective_constant -= float((p_untracked * credit * d.stock_initial)[gs].sum())
    m.residual_credit_constant = -float((p_untracked * credit * d.stock_initial)[gs].sum())

    tc = np.flatnonzero(tracked)
    last = np.zeros(C, dtype=bool)
    last[tc] = (d.cell_t0 + d.cell_len)[tc] == d.T
    stock_cols = lp.add_variables(
        "stock",
        len(tc),
        0.0,
        INF,
        -np.where(last[tc], d.probability[d.cell_k[tc]] * credit[d.cell_g[tc]], 0.0),
        doc="stock held at the end of a block, units",
    )
    m.cols["stock"] = _aligned(C, tc, stock_cols)

    rel = tc[disrupted[tc]]
    rel_up = d.cell_len[rel] * d.max_release_pp[d.cell_g[rel]]
    rel_cols = lp.add_variables(
        "release", len(rel), 0.0, rel_up, doc="units released from the stockpile in a block"
    )
    m.cols["release"] = _aligned(C, rel, rel_cols)
    ref = tc[~disrupted[tc]]
    ref_cols = lp.add_variables(
        "refill", len(ref), 0.0, INF, doc="units bought back into the stockpile in a block"
    )
    m.cols["refill"] = _aligned(C, ref, ref_cols)

    first = d.cell_t0[tc] == 0
    rows = lp.add_constraints(
        "stock_balance",
        len(tc),
        np.where(first, d.stock_initial[d.cell_g[tc]], 0.0),
        np.where(first, d.stock_initial[d.cell_g[tc]], 0.0),
        doc="stock = previous stock - release + refill",
    )
    lp.add_terms(rows, stock_cols, 1.0)
    lp.add_terms(rows[~first], m.cols["stock"][tc[~first] - 1], -1.0)
    lp.add_terms(rows[first], buy[d.cell_g[tc[first]]], -1.0)
    rel_rows = rows[disrupted[tc]]
    lp.add_terms(rel_rows, rel_cols, 1.0)
    lp.add_terms(rows[~disrupted[tc]], ref_cols, -1.0)
    m.rows["stock_balance"] = _aligned(C, tc, rows)

    cap_rows = lp.add_constraints(
        "stock_cap",
        len(ref),
        upper=d.stock_initial[d.cell_g[ref]],
        doc="stock <= initial + buy (refill never lifts it above)",
    )
    lp.add_terms(cap_rows, m.cols["stock"][ref], 1.0)
    lp.add_terms(cap_rows, buy[d.cell_g[ref]], -1.0)


def add_demand_balance(m: BuiltModel) -> None:
    """``sum purchase + produce + release - refill + reduce + shortfall = demand`` per
    (scenario, good, block); adds ``produce`` (``<= L * build / P`` once the plant is online),
    ``reduce`` (``<= L * max_share * demand``, times ``prepare`` when it has a cost) and
    ``shortfall`` (costs ``damage`` per unit)."""
    d, lp = m.data, m.lp
    C = d.C
    k, g, t0, L = d.cell_k, d.cell_g, d.cell_t0, d.cell_len
    p = d.probability[k]
    demand = d.cell_demand()

    # domestic production
    dom = np.flatnonzero(d.has_domestic[g])
    online = d.online[g[dom], t0[dom]]
    prod_cols = lp.add_variables(
        "produce",
        len(dom),
        0.0,
        np.where(online, INF, 0.0),
        p[dom] * d.production_cost[g[dom]],
        doc="units produced domestically in a block",
    )
    m.cols["produce"] = _aligned(C, dom, prod_cols)
    on = dom[online]
    rows = lp.add_constraints(
        "domestic_capacity", len(on), upper=0.0, doc="produce <= L * build / P"
    )
    lp.add_terms(rows, m.cols["produce"][on], 1.0)
    lp.add_terms(rows, m.cols["build"][g[on]], -L[on] / d.periods_per_year)

    # demand reduction
    red = np.flatnonzero(d.has_reduction[g])
    red_up = d.reduction_share[g[red]] * demand[red]
    red_cols = lp.add_variables(
        "reduce",
        len(red),
        0.0,
        red_up,
        p[red] * d.reduction_cost[g[red]],
        doc="units of demand cut by demand measures in a block",
    )
    m.cols["reduce"] = _aligned(C, red, red_cols)
    prep = red[m.cols["prepare"][g[red]] >= 0]
    rows = lp.add_constraints(
        "demand_reduction_prepared", len(prep), upper=0.0, doc="reduce <= max * prepare"
    )
    lp.add_terms(rows, m.cols["reduce"][prep], 1.0)
    lp.add_terms(rows, m.cols["prepare"][g[prep]], -(d.reduction_share[g[prep]] * demand[prep]))

    short_cols = lp.add_variables(
        "shortfall", C, 0.0, INF, p * d.damage[g], doc="units of demand not supplied in a block"
    )
    m.cols["shortfall"] = short_cols

    rows = lp.add_constraints(
        "demand_balance",
        C,
        demand,
        demand,
        doc="purchases + production + release - refill + reduction + shortfall = demand",
    )
    m.rows["demand_balance"] = rows
    lp.add_terms(rows[d.sc_cell], m.cols["purchase"], 1.0)
    for name, sign in (("produce", 1.0), ("release", 1.0), ("refill", -1.0), ("reduce", 1.0)):
        where = np.flatnonzero(m.cols[name] >= 0)
        lp.add_terms(rows[where], m.cols[name][where], sign)
    lp.add_terms(rows, short_cols, 1.0)
