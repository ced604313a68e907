"""Shares of each good's no-disruption supply that pass each shipping route.

``portfolio.json`` carries them per good as ``route_shares`` (``docs/results.md``): of the
optimum's no-disruption supply of the good over the window (purchases plus domestic
production, as ``supply_shares.after``), the share bought from suppliers whose goods pass the
route. A supplier on two routes counts in both, so the shares of one good may add up to more
than 1; domestic production passes no route.
"""

from __future__ import annotations

import numpy as np

from optimizer.data import ModelData


def route_shares(d: ModelData, purchase: np.ndarray, produce: np.ndarray) -> np.ndarray:
    """(G, R) shares in [0, 1]: per good and route, the no-disruption supply over the window
    bought from suppliers on the route, over the good's whole no-disruption supply (0 for a
    good supplied with nothing). ``purchase`` per supplier cell and ``produce`` per cell, in
    units per block, as the model's columns."""
    R = len(d.routes)
    base = d.cell_k[d.sc_cell] == 0
    by_supplier = np.bincount(d.sc_j[base], weights=purchase[base], minlength=d.J)
    first = d.cell_k == 0
    produced = np.bincount(d.cell_g[first], weights=produce[first], minlength=d.G)
    total = np.bincount(d.supplier_good, weights=by_supplier, minlength=d.G) + produced
    on_route = np.zeros((d.G, R))
    if R and d.J:
        np.add.at(on_route, d.supplier_good, by_supplier[:, None] * d.supplier_route)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total[:, None] > 1e-9, on_route / total[:, None], 0.0)
    return np.clip(share, 0.0, 1.0)


def route_shares_by_good(d: ModelData, purchase: np.ndarray, produce: np.ndarray) -> dict:
    """``{good: {route: share}}``, each good with the routes that any of its suppliers pass
    (a good none of whose suppliers is on a route has ``{}``); shares rounded to 12 digits."""
    share = route_shares(d, purchase, produce)
    out: dict[str, dict[str, float]] = {}
    for g, good in enumerate(d.goods):
        passes = d.supplier_route[d.supplier_good == g].any(axis=0)
        out[good] = {d.routes[r]: float(round(share[g, r], 12)) for r in np.flatnonzero(passes)}
    return out


def notable_route_shares(pf: dict, least: float = 0.005) -> list[tuple[str, str, float]]:
    """``(good, route, share)`` for each route share of ``portfolio.json`` above ``least``
    (half a percent), in the portfolio's order: what the terminal and the report put in one
    sentence."""
    return [
        (g, r, share)
        for g, v in (pf.get("goods") or {}).items()
        for r, share in (v.get("route_shares") or {}).items()
        if share > least
    ]
