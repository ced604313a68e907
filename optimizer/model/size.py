"""How big a scenario's model will be, estimated from the scenario alone, before any array is
built: so that a model that cannot fit in memory is refused in a second with its estimate,
instead of filling the machine for minutes (issue 14, item 12).

The estimate, with ``K`` futures (disruptions + 1; with a ``risk_model``, at most its
``samples`` distinct draws + 1, each with the expected number of occurrences per draw), ``G``
goods, ``J`` suppliers and ``T`` periods:

- **data stage**: the per-(future, supplier, period) and per-(future, good, period) arrays
  (availability, spot access, the severities they come from; disrupted flags and multipliers)
  are built uncompressed: about ``32 K J T + 24 K G T`` bytes (measured: 31 bytes per
  (future, supplier, period) at 20 goods x 5 suppliers x 60 months x 1,000 futures);
- **model and solver**: time blocks merge identical periods (``docs/model.md``), so a
  (future, good) pair has at most ``min(T, 2 + 2 h (1 + L))`` blocks, where ``h`` is the number
  of hits on the good in that future and ``L`` the number of its suppliers with a spot lead
  time (goods linked by ``inputs`` share their blocks: each counts its chain's sum); each
  block has one column per supplier and about five more (stock, release, refill,
  production, reduction, shortfall), and the LP, its sparse matrix and HiGHS's copy of it cost
  about 1 kB per column (measured: 630 MB peak for 295,000 columns and 180 MB of data).

The estimate is an upper bound on the blocks and a rule of thumb on bytes; it is meant to tell
apart "fits", "large: are you sure?" and "cannot fit", not to be exact.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from optimizer.scenario.routes import supplier_routes, supplier_shipping_time
from optimizer.scenario.schema import Scenario

BASE_BYTES = 150e6
"""The engine itself (Python, NumPy, Pyomo, HiGHS loaded)."""
DATA_BYTES_PER_SUPPLIER_CELL = 32
DATA_BYTES_PER_GOOD_CELL = 24
BYTES_PER_COLUMN = 1000
WARN_SHARE = 0.25
"""Above this share of the machine's memory a run asks for ``--yes``."""
REFUSE_SHARE = 0.9
"""Above this share of the machine's memory a run is refused: it cannot fit."""


class ModelTooLarge(Exception):
    """The model will not fit, or is large enough to ask first; the message says which, with
    the estimate and the machine's memory."""


@dataclass(frozen=True)
class SizeEstimate:
    """The estimated size of one scenario's model (see the module's docstring)."""

    futures: int
    goods: int
    suppliers: int
    periods: int
    columns: int
    """Estimated LP columns after time compression (an upper bound)."""
    nonzeros: int
    """Estimated constraint-matrix nonzeros."""
    bytes: float
    """Estimated peak memory of a run, bytes."""

    def describe(self) -> str:
        return (
            f"{self.futures:,} futures x {self.goods:,} goods ({self.suppliers:,} suppliers) x "
            f"{self.periods:,} periods: about {self.columns:,} columns, {self.nonzeros:,} "
            f"nonzeros and {_gb(self.bytes)} of memory"
        )


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def machine_memory() -> int:
    """Physical memory of this machine, bytes (0 when it cannot be read)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 0


def estimate_size(scenario: Scenario) -> SizeEstimate:
    """Estimate the model's columns, nonzeros and peak memory from the scenario alone
    (vectorised over goods; one pass over the hits)."""
    goods = list(scenario.goods)
    gidx = {g: i for i, g in enumerate(goods)}
    G = len(goods)
    T = int(scenario.window.periods)
    sup_good, sup_country, sup_lead = [], [], []
    for g in goods:
        for s in scenario.goods[g].suppliers.values():
            sup_good.append(gidx[g])
            sup_country.append(s.country)
            sup_lead.append(s.spot_lead_time + supplier_shipping_time(scenario, s) > 0)
    sup_good_a = np.asarray(sup_good, dtype=np.int64)
    sup_country_a = np.asarray(sup_country, dtype=object)
    # a hit that names no goods also covers the goods whose suppliers' origin names its country
    links = [
        (gidx[g], c) for g in goods for s in scenario.goods[g].suppliers.values() for c in s.origin
    ]
    # ... and a hit that names a route the goods of the suppliers on it
    links += [
        (gidx[g], r)
        for g in goods
        for s in scenario.goods[g].suppliers.values()
        for r in supplier_routes(scenario, s)
    ]
    reach_good = np.concatenate([sup_good_a, np.asarray([x[0] for x in links], dtype=np.int64)])
    reach_country = np.concatenate([sup_country_a, np.asarray([x[1] for x in links], dtype=object)])
    n_sup = np.bincount(sup_good_a, minlength=G)
    n_lead = np.bincount(sup_good_a, weights=np.asarray(sup_lead, float), minlength=G)
    J = len(sup_good)

    def hit_mask(countries: list[str], hit_goods: list[str] | None) -> np.ndarray:
        if hit_goods is None:
            mask = np.zeros(G, dtype=bool)
            mask[reach_good[np.isin(reach_country, countries)]] = True
            return mask
        return np.isin(np.arange(G), [gidx[g] for g in hit_goods if g in gidx])

    # blocks per (future, good): the no-disruption future has at most two (plant online);
    # goods of one chain share their starts within each future (`_chain_blocks`)
    chain = _chains(scenario, goods)

    def in_future(per_good: np.ndarray) -> np.ndarray:
        return _chain_blocks(chain, per_good, T)

    blocks = in_future(np.minimum(T, 2).astype(float) * np.ones(G))
    rm = scenario.risk_model
    if rm is not None and rm.events:
        # at most `samples` distinct drawn futures besides the no-disruption one (identical
        # draws are merged); each holds about the expected number of occurrences per draw
        K = 1 + int(rm.samples)
        years = float(scenario.window.years)
        hits = np.zeros(G)
        for event in rm.events.values():
            expected = event.rate * years if event.rate is not None else event.probability
            hits += float(expected) * hit_mask(event.countries, event.goods)
        blocks = blocks + rm.samples * in_future(np.minimum(T, 2 + 2 * hits * (1 + n_lead)))
    else:
        K = 1 + len(scenario.disruptions)
        for d in scenario.disruptions.values():
            hits = np.zeros(G)
            for hit in d.hits:
                hits += hit_mask(hit.countries, hit.goods)
            blocks = blocks + in_future(np.minimum(T, 2 + 2 * hits * (1 + n_lead)))
    cells = float(blocks.sum())
    supplier_cells = float((blocks * n_sup).sum())
    columns = int(supplier_cells + 6 * cells)
    nonzeros = int(3 * supplier_cells + 10 * cells)
    data = (
        DATA_BYTES_PER_SUPPLIER_CELL * float(K) * J * T
        + DATA_BYTES_PER_GOOD_CELL * float(K) * G * T
    )
    return SizeEstimate(
        futures=K,
        goods=G,
        suppliers=J,
        periods=T,
        columns=columns,
        nonzeros=nonzeros,
        bytes=BASE_BYTES + data + BYTES_PER_COLUMN * columns,
    )


def _chains(scenario: Scenario, goods: list[str]) -> np.ndarray | None:
    """Each good's chain (goods linked by ``inputs``, a connected component), or None when no
    good has inputs."""
    gidx = {g: i for i, g in enumerate(goods)}
    links = [(gidx[g], gidx[i]) for g in goods for i in scenario.goods[g].inputs if i in gidx]
    if not links:
        return None
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    out, inp = zip(*links)
    graph = coo_matrix((np.ones(len(out)), (out, inp)), shape=(len(goods), len(goods)))
    return connected_components(graph, directed=False)[1]


def _chain_blocks(chain: np.ndarray | None, blocks: np.ndarray, T: int) -> np.ndarray:
    """One future's blocks per good when goods linked by ``inputs`` share their block starts
    (``data.align_chain_blocks``): each has at most the sum of its chain's blocks (the union of
    their starts), and at most T. Per future: summed over many futures first, the cap at T
    made a chain of 20,000 sampled futures look like one (2,280 columns estimated for the
    shipped risk file's 4.66M)."""
    if chain is None:
        return blocks
    per_chain = np.bincount(chain, weights=blocks)
    return np.minimum(float(T), per_chain[chain])


def size_warning(estimate: SizeEstimate, memory: int | None = None) -> str | None:
    """The line to print when a model above :data:`WARN_SHARE` of the machine's memory is
    solved anyway (``--yes``); None below it."""
    memory = machine_memory() if memory is None else memory
    if memory <= 0 or estimate.bytes <= WARN_SHARE * memory:
        return None
    return (
        f"a large model: {estimate.describe()}, {estimate.bytes / memory:.0%} of this "
        f"machine's {_gb(memory)}; solving it as --yes asks"
    )


def check_size(estimate: SizeEstimate, *, yes: bool = False, memory: int | None = None) -> None:
    """Raise :class:`ModelTooLarge` when the estimate exceeds :data:`REFUSE_SHARE` of the
    machine's memory (always), or :data:`WARN_SHARE` of it without ``yes``."""
    memory = machine_memory() if memory is None else memory
    if memory <= 0:
        return
    if estimate.bytes > REFUSE_SHARE * memory:
        raise ModelTooLarge(
            f"the model is too large for this machine: {estimate.describe()}, against "
            f"{_gb(memory)} of memory here. Shorten the window or use a coarser period, merge "
            "or drop disruptions, or split the goods into several scenario files."
        )
    if estimate.bytes > WARN_SHARE * memory and not yes:
        raise ModelTooLarge(
            f"the model is large: {estimate.describe()}, more than "
            f"{WARN_SHARE:.0%} of this machine's {_gb(memory)}. Add --yes to solve it anyway."
        )


DECOMPOSED_BYTES_PER_COLUMN = 150
"""Memory per column when the model is decomposed from the data (no whole matrix, no HiGHS copy
of it): the chunks' arrays, 84 bytes per column measured at 34 goods x 5 x 60 and 1,559
futures, plus the layout's costs, bounds and maps and the chunks' bases."""


def decomposed_estimate(estimate: SizeEstimate) -> SizeEstimate:
    """The same model's estimate when the L-shaped method builds it chunk by chunk from the
    data (``optimizer.solve.decomposition_build``): the data arrays and
    :data:`DECOMPOSED_BYTES_PER_COLUMN` instead of the whole LP's 1 kB per column."""
    import dataclasses

    whole = BYTES_PER_COLUMN * estimate.columns
    return dataclasses.replace(
        estimate, bytes=estimate.bytes - whole + DECOMPOSED_BYTES_PER_COLUMN * estimate.columns
    )
