"""Goods made from goods: domestic production consumes its inputs (``goods.<g>.inputs``).

For a good ``g`` with inputs ``a[g, i]`` (units of ``i`` per unit of ``g`` produced at home),
the balance of input ``i`` in each (scenario, block) gains the consumption of the same block:

``sum purchase_i + produce_i + release_i - refill_i + reduce_i + shortfall_i
= demand_i + sum_g a[g, i] * produce_g``

and ``shortfall_i <= demand_i``: a shortfall covers final demand only, so what production
consumes must be delivered (else production stops). The blocks of goods linked by inputs start
at the same periods (``data.align_chain_blocks``), so the block of ``produce_g`` and the block
of ``i`` are the same periods.
"""

from __future__ import annotations

import numpy as np

from optimizer.model.terms import BuiltModel


def add_inputs(m: BuiltModel) -> None:
    """Consumption terms in the inputs' ``demand_balance`` rows, and shortfall bounds."""
    d, lp = m.data, m.lp
    if len(d.bom_good) == 0:
        return
    # cell of (scenario, good, first period): the key is unique and the cells are sorted by it
    key = (d.cell_k * d.G + d.cell_g) * d.T + d.cell_t0
    order = np.argsort(key, kind="stable")
    prod = m.cols["produce"]
    for out, inp, amount in zip(d.bom_good, d.bom_input, d.bom_amount):
        cells = np.flatnonzero((d.cell_g == out) & (prod >= 0))
        if len(cells) == 0:
            continue
        want = (d.cell_k[cells] * d.G + inp) * d.T + d.cell_t0[cells]
        pos = order[np.searchsorted(key, want, sorter=order)]
        if not (np.array_equal(key[pos], want) and (d.cell_len[pos] == d.cell_len[cells]).all()):
            raise RuntimeError("blocks of a good and its input are not aligned")
        lp.add_terms(m.rows["demand_balance"][pos], prod[cells], -amount)
    inputs = np.unique(d.bom_input)
    cells = np.flatnonzero(np.isin(d.cell_g, inputs))
    shortfall = lp.variables["shortfall"]
    local = m.cols["shortfall"][cells] - shortfall.start
    shortfall.upper[local] = d.cell_demand()[cells]
