"""Limits on supply shares by country or group (``risk.limits``), hard or as benchmarks.

A limit bounds the share of some countries in a good's supply in ``no_disruption`` over the
window, where supply is purchases plus domestic production (the expression of the
concentration cap, ``constraints.add_concentration_cap``). With ``A`` the limited countries and
``S_g = sum_j purchase[j] + produce[g]`` (``no_disruption``, every block):

- a cap ``max_share = s`` on their total: ``sum_{j in A} purchase[j] - s * S_g <= over``;
- with ``per_country``, the same row for each single country ``c`` of ``A``;
- a floor ``min_share = s`` on their total: ``s * S_g - sum_{j in A} purchase[j] - produce[g]
  <= over`` (home production counts as supply from the listed countries); per country, the
  same without ``produce``.

``over`` is 0 for a hard limit; with ``benchmark = b`` it is a variable ``>= 0`` (units of the
good over the window) costing ``b`` euros per unit in the no-disruption future, so
``p_0 * b`` in the objective, like the purchases it stands against. Every row is written as
``<= 0`` so that ``-dual`` is the euros saved by one more unit of room; the limit's shadow
price, euros per unit of share (per 100 percentage points), is ``sum_rows -dual_r * S_g(r)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimizer.model.terms import BuiltModel
from optimizer.scenario.schema import Limit, Scenario

#: ``country`` of a row that bounds the total of the limited countries.
TOTAL = -1


@dataclass
class LimitRows:
    """The rows one limit added, for reporting. Arrays are aligned with ``rows``."""

    name: str
    kind: str  # "max_share" | "min_share"
    share: float
    per_country: bool
    benchmark: float | None
    rows: np.ndarray  # global row indices
    good: np.ndarray  # good index of each row
    country: np.ndarray  # country index, or TOTAL
    over: np.ndarray  # column of the row's ``over`` variable, -1 when hard
    member: np.ndarray  # (C,) bool: the limited countries


def limited_countries(limit: Limit, countries: list[str]) -> np.ndarray:
    """Boolean mask over ``countries``: listed (``all``: every one) and not exempt."""
    listed = countries if limit.countries == "all" else limit.countries
    return np.isin(countries, list(listed)) & ~np.isin(countries, list(limit.exempt))


def add_limits(m: BuiltModel, scenario: Scenario) -> None:
    """One block of rows per limit (``limit_<name>``), and ``limit_over_<name>`` variables for a
    benchmark; ``m.info["limits"]`` lists a :class:`LimitRows` per limit."""
    out: list[LimitRows] = []
    for name, limit in scenario.risk.limits.items():
        added = _add_limit(m, name, limit)
        if added is not None:
            out.append(added)
    m.info["limits"] = out


def _base_supply(m: BuiltModel) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``no_disruption`` purchase columns (column, good, country) and production columns
    (column, good): the terms of ``S_g``."""
    d = m.data
    base = d.cell_k[d.sc_cell] == 0
    purchases = pd.DataFrame(
        {
            "col": m.cols["purchase"][base],
            "good": d.supplier_good[d.sc_j[base]],
            "sup_country": d.supplier_country[d.sc_j[base]],
        }
    )
    prod = m.cols["produce"]
    cells = np.flatnonzero((d.cell_k == 0) & (prod >= 0))
    production = pd.DataFrame({"col": prod[cells], "good": d.cell_g[cells]})
    return purchases, production


def _add_limit(m: BuiltModel, name: str, limit: Limit) -> LimitRows | None:
    lp, d = m.lp, m.data
    floor = limit.min_share is not None
    share = float(limit.min_share if floor else limit.max_share)  # type: ignore[arg-type]
    member = limited_countries(limit, d.countries)
    goods = np.ones(d.G, bool) if limit.goods is None else np.isin(d.goods, limit.goods)
    sup_ok = goods[d.supplier_good]
    if limit.per_country:
        sel = sup_ok & member[d.supplier_country]
        pairs = pd.DataFrame({"good": d.supplier_good[sel], "country": d.supplier_country[sel]})
    elif floor:  # every covered good that has any source: its floor binds whatever it buys
        sources = np.zeros(d.G, bool)
        sources[d.supplier_good] = True
        sources |= d.has_domestic
        gs = np.flatnonzero(goods & sources)
        pairs = pd.DataFrame({"good": gs, "country": TOTAL})
    else:  # a cap only matters for goods some limited country supplies
        gs = np.unique(d.supplier_good[sup_ok & member[d.supplier_country]])
        pairs = pd.DataFrame({"good": gs, "country": TOTAL})
    pairs = pairs.drop_duplicates().sort_values(["good", "country"]).reset_index(drop=True)
    if pairs.empty:
        return None
    n = len(pairs)
    sign = -1.0 if floor else 1.0
    rows = lp.add_constraints(
        f"limit_{name}",
        n,
        upper=0.0,
        doc=f"{'floor' if floor else 'cap'} on the no-disruption supply share of "
        f"the countries of limit {name}, units",
    )
    pairs["row"] = rows
    purchases, production = _base_supply(m)
    terms = purchases.merge(pairs, on="good")
    sup_c = terms.sup_country.to_numpy()
    row_c = terms.country.to_numpy()
    counted = np.where(row_c == TOTAL, member[sup_c], sup_c == row_c)
    lp.add_terms(terms.row.to_numpy(), terms.col.to_numpy(), sign * (counted - share))
    pc = production.merge(pairs, on="good")
    home = floor & (pc.country.to_numpy() == TOTAL)  # home production counts towards a floor
    lp.add_terms(pc.row.to_numpy(), pc.col.to_numpy(), sign * (home.astype(float) - share))
    over = np.full(n, -1, dtype=np.int64)
    if limit.benchmark is not None:
        over = lp.add_variables(
            f"limit_over_{name}",
            n,
            0.0,
            np.inf,
            d.probability[0] * limit.benchmark,  # a cost of the no-disruption future
            doc=f"units over limit {name} in no_disruption over the window",
        )
        lp.add_terms(rows, over, -1.0)
    m.rows[f"limit_{name}"] = rows
    return LimitRows(
        name=name,
        kind="min_share" if floor else "max_share",
        share=share,
        per_country=limit.per_country,
        benchmark=limit.benchmark,
        rows=rows,
        good=pairs.good.to_numpy(),
        country=pairs.country.to_numpy(),
        over=over,
        member=member,
    )
