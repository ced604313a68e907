"""Which upstream hit caused a downstream shortfall (``portfolio.json`` key ``upstream``).

For a good made at home from inputs (``goods.<g>.inputs``), a shortfall in a block where one of
its inputs is disrupted is attributed to that input, with the countries whose suppliers of the
input lost capacity in the block. For a good whose suppliers have an ``origin``, a shortfall in
a block where an origin country is hit is attributed to that supplier and country. Blocks of
a good and its inputs are aligned (``data.align_chain_blocks``), so the input's block is the
one with the same scenario and first period. A good with no home production capacity in the
solution (no plant built) makes nothing from its inputs, so its shortfall is never put down to
them (only to an ``origin``).
"""

from __future__ import annotations

import numpy as np

from optimizer.model.terms import BuiltModel

_TOL = 1e-7


def upstream_causes(
    m: BuiltModel, shortfall: np.ndarray, capacity: np.ndarray | None = None
) -> dict:
    """``{scenario: {good: {"shortfall": units, "inputs": {input: [countries]}, "origin":
    {supplier: [countries]}}}}`` for every (scenario, good) whose shortfall falls in blocks
    where an input is disrupted or a country a supplier's ``origin`` names is hit (``origin``
    only when so); ``shortfall`` holds the solution's shortfall per cell. ``capacity``: the
    solution's home production capacity per good (units per year); a good without any is not
    made from its inputs, so no input is named for it (every good counts as made when left
    out). Units over the window. Vectorised per (good, input) pair and origin link; the loops
    at the end run over the entries reported."""
    d = m.data
    if len(d.bom_good) == 0 and len(d.origin_supplier) == 0:
        return {}
    makes = np.ones(d.G, dtype=bool) if capacity is None else np.asarray(capacity) > _TOL
    key = (d.cell_k * d.G + d.cell_g) * d.T + d.cell_t0
    order = np.argsort(key, kind="stable")
    caused: dict[int, list[np.ndarray]] = {}  # good -> cells whose shortfall an input explains
    named: list[tuple[np.ndarray, int, int, np.ndarray]] = []  # (k, good, input, country)
    for g, i in zip(d.bom_good, d.bom_input):
        if not makes[g]:
            continue
        short = np.flatnonzero((d.cell_g == g) & (shortfall > _TOL))
        want = (d.cell_k[short] * d.G + i) * d.T + d.cell_t0[short]
        pos = order[np.searchsorted(key, want, sorter=order)]
        cells = short[d.disrupted[d.cell_k[pos], i, d.cell_t0[pos]]]
        if len(cells) == 0:
            continue
        caused.setdefault(int(g), []).append(cells)
        js = np.flatnonzero(d.supplier_good == i)
        k, t0 = d.cell_k[cells], d.cell_t0[cells]
        row, col = np.nonzero(d.avail[k[:, None], js[None, :], t0[:, None]] < 1.0 - 1e-12)
        named.append((k[row], int(g), int(i), d.supplier_country[js[col]]))
        named.append((np.unique(k), int(g), int(i), np.full(len(np.unique(k)), -1)))
    through: list[tuple[np.ndarray, int, int, int]] = []  # (k, good, supplier, country)
    for v, (j, g, c) in enumerate(zip(d.origin_supplier, d.origin_good, d.origin_country)):
        short = np.flatnonzero((d.cell_g == g) & (shortfall > _TOL))
        cells = short[d.origin_severity[d.cell_k[short], v, d.cell_t0[short]] > 0]
        if len(cells):
            caused.setdefault(int(g), []).append(cells)
            through.append((np.unique(d.cell_k[cells]), int(g), int(j), int(c)))
    out: dict = {}
    for g, parts in caused.items():
        cells = np.unique(np.concatenate(parts))
        per_k = np.bincount(d.cell_k[cells], weights=shortfall[cells], minlength=d.K)
        for k in np.flatnonzero(per_k > _TOL):
            out.setdefault(d.scenarios[k], {})[d.goods[g]] = {
                "shortfall": float(per_k[k]),
                "inputs": {},
            }
    for k_arr, g, j, c in through:
        for k in k_arr.tolist():
            entry = out.get(d.scenarios[k], {}).get(d.goods[g])
            if entry is None:
                continue
            countries = entry.setdefault("origin", {}).setdefault(d.supplier_names[j], [])
            if d.countries[c] not in countries:
                countries.append(d.countries[c])
    for k_arr, g, i, c_arr in named:
        for k, c in sorted(set(zip(k_arr.tolist(), c_arr.tolist()))):
            entry = out.get(d.scenarios[k], {}).get(d.goods[g])
            if entry is None:
                continue
            countries = entry["inputs"].setdefault(d.goods[i], [])
            if c >= 0 and d.countries[c] not in countries:
                countries.append(d.countries[c])
    return out
