"""Constraints a user switches on in the scenario file.

- :func:`add_budget`: ``budget_total`` and ``budget_line`` rows on first-stage cash;
- :func:`add_concentration_cap`: the CRMA-style cap on one country's no-disruption share;
- :func:`add_coverage`: initial stock >= days of demand;
- :func:`add_service_level`: per scenario, shortfall <= a share of demand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimizer.model.terms import LEVERS, BuiltModel
from optimizer.scenario.schema import Scenario


def add_budget(m: BuiltModel, scenario: Scenario) -> None:
    """``cash of the covered levers and goods <= limit`` for the total and each budget line.

    The constant part of the cash (storage of the initial stock) moves to the right-hand side.
    The rows are named ``budget_total`` and ``budget_line`` (one row per line, in file order);
    ``m.budget_rows`` maps ``"total"`` and each line's name to its global row.
    """
    lp, d = m.lp, m.data
    cols, coefs, goods, levers = m.cash.arrays()
    constant = m.cash.constant
    gidx = {g: i for i, g in enumerate(d.goods)}

    def row(name: str, block: str, limit: float, lever_set, good_set) -> None:
        lever_mask = np.isin(np.arange(len(LEVERS)), [LEVERS.index(v) for v in lever_set])
        good_mask = np.isin(np.arange(d.G), [gidx[g] for g in good_set if g in gidx])
        keep = lever_mask[levers] & good_mask[goods]
        const = float(constant[np.ix_(good_mask, lever_mask)].sum())
        row_block.setdefault(block, []).append((name, limit - const, cols[keep], coefs[keep]))
        limits[name] = limit

    row_block: dict[str, list] = {}
    limits: dict[str, float] = {}
    budget = scenario.budget
    if budget.total is not None:
        row("total", "budget_total", budget.total, LEVERS, d.goods)
    for name, line in budget.lines.items():
        row(name, "budget_line", line.limit, line.levers or LEVERS, line.goods or d.goods)
    for block, entries in row_block.items():
        rows = lp.add_constraints(
            block,
            len(entries),
            upper=np.array([e[1] for e in entries]),
            doc="first-stage cash of the covered levers and goods <= limit, euros",
        )
        for r, (name, _, c, v) in zip(rows, entries):
            lp.add_terms(np.full(len(c), r), c, v)
            m.budget_rows[name] = int(r)
            m.info.setdefault("budget_limit", {})[name] = limits[name]


def add_concentration_cap(m: BuiltModel, scenario: Scenario) -> None:
    """In ``no_disruption``, over the window: purchases of a good from one listed country <=
    ``share`` x (all purchases of the good + its domestic production). One row per good and
    listed country that supplies it (``concentration_cap``)."""
    cap = scenario.risk.concentration_cap
    if cap is None:
        return
    lp, d = m.lp, m.data
    share = cap.share
    listed = set(cap.countries) if cap.countries is not None else set(d.countries)
    listed_idx = [i for i, c in enumerate(d.countries) if c in listed]
    pairs = (
        pd.DataFrame({"good": d.supplier_good, "country": d.supplier_country})
        .loc[lambda f: f.country.isin(listed_idx)]
        .drop_duplicates()
        .reset_index(drop=True)
    )
    if pairs.empty:
        return
    rows = lp.add_constraints(
        "concentration_cap",
        len(pairs),
        upper=0.0,
        doc="no-disruption purchases from one country <= share x supply of the good",
    )
    pairs["row"] = rows
    m.rows["concentration_cap"] = rows
    m.info["cap_pairs"] = pairs
    base = d.cell_k[d.sc_cell] == 0
    sc = pd.DataFrame(
        {
            "col": m.cols["purchase"][base],
            "good": d.supplier_good[d.sc_j[base]],
            "sup_country": d.supplier_country[d.sc_j[base]],
        }
    )
    terms = sc.merge(pairs, on="good")
    coef = (terms.sup_country.to_numpy() == terms.country.to_numpy()) - share
    lp.add_terms(terms.row.to_numpy(), terms.col.to_numpy(), coef)
    prod = m.cols["produce"]
    base_cells = np.flatnonzero((d.cell_k == 0) & (prod >= 0))
    pc = pd.DataFrame({"col": prod[base_cells], "good": d.cell_g[base_cells]}).merge(
        pairs, on="good"
    )
    lp.add_terms(pc.row.to_numpy(), pc.col.to_numpy(), -share)


def add_coverage(m: BuiltModel) -> None:
    """``initial + buy >= coverage_days / 365 * yearly demand`` (``coverage``)."""
    lp, d = m.lp, m.data
    goods = np.flatnonzero(~np.isnan(d.coverage_units) & d.has_stock)
    rows = lp.add_constraints(
        "coverage",
        len(goods),
        lower=d.coverage_units[goods] - d.stock_initial[goods],
        doc="stock at the start covers the required days of demand",
    )
    lp.add_terms(rows, m.cols["buy"][goods], 1.0)
    m.rows["coverage"] = rows


def add_service_level(m: BuiltModel) -> None:
    """Per scenario and good: ``sum shortfall <= max_shortfall * sum demand``
    (``max_shortfall``)."""
    lp, d = m.lp, m.data
    cells = np.flatnonzero(~np.isnan(d.max_shortfall[d.cell_g]))
    if len(cells) == 0:
        return
    pair = d.cell_k[cells] * d.G + d.cell_g[cells]
    uniq, inv = np.unique(pair, return_inverse=True)
    demand = np.bincount(inv, weights=d.cell_demand()[cells], minlength=len(uniq))
    share = d.max_shortfall[uniq % d.G]
    rows = lp.add_constraints(
        "max_shortfall",
        len(uniq),
        upper=share * demand,
        doc="total shortfall of a good in a scenario <= share of its demand",
    )
    lp.add_terms(rows[inv], m.cols["shortfall"][cells], 1.0)
    m.rows["max_shortfall"] = rows


def add_all(m: BuiltModel, scenario: Scenario) -> None:
    add_budget(m, scenario)
    add_concentration_cap(m, scenario)
    add_coverage(m)
    add_service_level(m)
