"""From a validated scenario to the arrays the model is built from.

Stage two of ``scenario -> data -> model -> solve -> results``. Everything here is NumPy:
per-good, per-supplier and per-(scenario, good, period) arrays, and the **time blocks** that
compress runs of identical periods (see ``docs/model.md``, "Time blocks").

Units: flows per period (``*_pp``) are units of the good per period; money in euros; first-stage
capacities stay per year as in the scenario file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimizer.sampling import NO_DISRUPTION, Futures, layout, scenario_futures
from optimizer.scenario.routes import supplier_shipping_time
from optimizer.scenario.schema import Scenario

__all__ = ["NO_DISRUPTION", "ModelData", "prepare"]
INF = np.inf


@dataclass
class ModelData:
    """Arrays describing one scenario, ready for the model builder.

    Index sets: ``G`` goods, ``J`` suppliers (contiguous by good), ``K`` scenarios
    (``no_disruption`` first), ``T`` periods, ``C`` cells (scenario, good, time block) and ``SC``
    supplier cells (a cell x a supplier of its good).
    """

    name: str
    years: float
    periods_per_year: int
    T: int
    goods: list[str]
    units: list[str]
    countries: list[str]
    scenarios: list[str]
    probability: np.ndarray  # (K,)
    # --- goods (G,) ---
    demand_pp: np.ndarray
    damage: np.ndarray
    coverage_units: np.ndarray  # nan when no coverage requirement
    max_shortfall: np.ndarray  # nan when none
    has_stock: np.ndarray
    stock_initial: np.ndarray
    stock_max: np.ndarray  # inf when unlimited
    stock_unit_cost: np.ndarray
    storage_cost: np.ndarray  # per unit per year
    residual_value: np.ndarray
    max_release_pp: np.ndarray  # inf when unlimited
    has_domestic: np.ndarray
    capex: np.ndarray  # per unit of yearly capacity
    plant_fixed_cost: np.ndarray
    production_cost: np.ndarray
    domestic_max: np.ndarray  # units per year
    module: np.ndarray  # nan when continuous
    lead_periods: np.ndarray  # int
    life_share: np.ndarray  # min(1, years / lifetime)
    has_reduction: np.ndarray
    reduction_share: np.ndarray
    reduction_cost: np.ndarray
    preparation_cost: np.ndarray
    # --- suppliers (J,) ---
    supplier_names: list[str]
    supplier_good: np.ndarray
    supplier_country: np.ndarray
    supplier_cost: np.ndarray
    spot_pp: np.ndarray
    spot_lead_periods: np.ndarray  # spot_lead_time + shipping_time, in periods
    has_reserve: np.ndarray
    reserve_max: np.ndarray  # units per year
    reserve_fee: np.ndarray  # per unit of yearly capacity per year
    reserve_fixed_cost: np.ndarray
    # --- per (K, G, T) and (K, J, T) ---
    disrupted: np.ndarray  # (K, G, T) bool
    price_mult: np.ndarray  # (K, G, T)
    demand_mult: np.ndarray  # (K, G, T)
    avail: np.ndarray  # (K, J, T) in [0, 1]
    spot_ok: np.ndarray  # (K, J, T) bool
    online: np.ndarray  # (G, T) bool
    # --- time blocks ---
    cell_k: np.ndarray  # (C,)
    cell_g: np.ndarray
    cell_t0: np.ndarray
    cell_len: np.ndarray
    sc_cell: np.ndarray  # (SC,)
    sc_j: np.ndarray
    sampling: dict | None = None
    """``{"drawn", "distinct", "seed"}`` when the futures were drawn from a risk model."""
    # --- who supplies (issue 12): bill of materials, one entry per (good, input) ---
    bom_good: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bom_input: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    bom_amount: np.ndarray = field(default_factory=lambda: np.zeros(0))  # input units per unit
    # --- who supplies: origin links, one per (supplier, origin country) ---
    origin_supplier: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    origin_good: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    origin_country: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    origin_share: np.ndarray = field(default_factory=lambda: np.zeros(0))
    origin_severity: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0)))  # (K, V, T)
    # --- routes: the shipping routes, and which suppliers' goods pass each ---
    routes: list[str] = field(default_factory=list)
    supplier_route: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    """(J, R) bool: supplier ``j``'s goods pass route ``r``."""

    @property
    def G(self) -> int:
        return len(self.goods)

    @property
    def J(self) -> int:
        return len(self.supplier_names)

    @property
    def K(self) -> int:
        return len(self.scenarios)

    @property
    def C(self) -> int:
        return len(self.cell_k)

    # per-cell views ------------------------------------------------------------------------
    def cell_demand(self) -> np.ndarray:
        """Demand of each cell over its block, units."""
        mult = self.demand_mult[self.cell_k, self.cell_g, self.cell_t0]
        return self.cell_len * self.demand_pp[self.cell_g] * mult

    def cell_disrupted(self) -> np.ndarray:
        return self.disrupted[self.cell_k, self.cell_g, self.cell_t0]


def _periods(years: float, per_year: int) -> int:
    return int(round(years * per_year))


def prepare(
    scenario: Scenario,
    *,
    compress_time: bool = True,
    samples: int | None = None,
    seed: int | None = None,
    futures: Futures | None = None,
) -> ModelData:
    """Turn a validated scenario into arrays; ``compress_time`` merges identical periods.

    The futures are the file's hand-written disruptions, or ``samples`` draws from its
    ``risk_model`` with ``seed`` (both default to the file's values); ``futures`` gives them
    ready-made instead (a stress test's chunk of draws)."""
    lay = layout(scenario)
    P = lay.periods_per_year
    T = lay.T
    years = lay.years
    goods = lay.goods
    G = len(goods)
    countries = lay.countries
    cidx = {c: i for i, c in enumerate(countries)}
    gidx = {g: i for i, g in enumerate(goods)}

    def per_good(fn) -> np.ndarray:
        return np.array([fn(scenario.goods[g]) for g in goods], dtype=float)

    # goods ---------------------------------------------------------------------------------
    demand_pp = per_good(lambda g: g.demand / P)
    stock = [scenario.goods[g].stockpile for g in goods]
    dom = [scenario.goods[g].domestic for g in goods]
    red = [scenario.goods[g].demand_reduction for g in goods]

    def opt(items, fn, default):
        return np.array([fn(x) if x is not None else default for x in items], dtype=float)

    stock_max = opt(stock, lambda s: INF if s.max is None else s.max, 0.0)
    max_release = opt(stock, lambda s: INF if s.max_release is None else s.max_release / P, 0.0)
    lifetime_share = opt(
        dom, lambda d: 1.0 if d.lifetime is None else min(1.0, years / d.lifetime), 1.0
    )
    lead = np.array([_periods(d.lead_time, P) if d else 0 for d in dom], dtype=np.int64)

    # suppliers -----------------------------------------------------------------------------
    sup_names, sup_good, sup_country, sup_cost, sup_cap, sup_lead = [], [], [], [], [], []
    res_has, res_max, res_fee, res_fixed = [], [], [], []
    for g in goods:
        for name, s in scenario.goods[g].suppliers.items():
            sup_names.append(name)
            sup_good.append(gidx[g])
            sup_country.append(cidx[s.country])
            sup_cost.append(s.unit_cost)
            sup_cap.append(s.capacity / P)
            # extra deliveries in a disruption: ramp-up, then the voyage (docs/model.md)
            sup_lead.append(_periods(s.spot_lead_time + supplier_shipping_time(scenario, s), P))
            r = s.reserve
            res_has.append(r is not None and r.max > 0)
            res_max.append(r.max if r else 0.0)
            res_fee.append(r.fee if r else 0.0)
            res_fixed.append(r.fixed_cost if r else 0.0)
    sup_good_a = np.array(sup_good, dtype=np.int64)
    sup_country_a = np.array(sup_country, dtype=np.int64)

    # futures -------------------------------------------------------------------------------
    drawn_here = futures is None
    if futures is None:
        futures = scenario_futures(scenario, samples, seed)
    names = futures.names
    sampling = (
        None
        if futures.drawn is None
        else {"drawn": futures.drawn, "distinct": futures.distinct, "seed": futures.seed}
    )
    K = futures.K
    probs = futures.probability
    disrupted = futures.disrupted
    price_mult = futures.price_mult
    demand_mult = futures.demand_mult
    origin = origin_arrays(scenario, goods, countries)
    J = len(sup_names)
    # the futures drawn here are not seen outside: their severity's storage becomes avail
    avail = origin_availability(futures.severity, origin, J, in_place=drawn_here)
    # a copy, not a view: a view would keep the whole (K, J + V, T) severity alive (in place
    # above only when V = 0, so these V rows are still the links' severities)
    origin["origin_severity"] = futures.severity[:, J:, :].copy()
    del futures  # with the severity: only the arrays taken from it stay

    sup_lead_a = np.array(sup_lead, dtype=np.int64)
    spot_ok = spot_access(disrupted, sup_good_a, sup_lead_a)
    t = np.arange(T)
    online = t[None, :] >= lead[:, None]  # (G, T)

    cells = _time_blocks(
        disrupted, price_mult, demand_mult, avail, spot_ok, online, sup_good_a, compress_time
    )
    bom = bill_of_materials(scenario, goods)
    cells = align_chain_blocks(cells, bom, K, G, T)
    cell_k, cell_g, cell_t0, cell_len = cells

    # supplier cells: every cell times every supplier of its good (suppliers contiguous by good)
    n_sup = np.bincount(sup_good_a, minlength=G)
    first_sup = np.concatenate([[0], np.cumsum(n_sup)[:-1]])
    per_cell = n_sup[cell_g]
    sc_cell = np.repeat(np.arange(len(cell_k)), per_cell)
    offsets = np.arange(per_cell.sum()) - np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
    sc_j = first_sup[cell_g][sc_cell] + offsets

    def cov(good) -> float:
        return np.nan if good.coverage_days is None else good.coverage_days / 365.0 * good.demand

    return ModelData(
        name=scenario.name,
        years=years,
        periods_per_year=P,
        T=T,
        goods=goods,
        units=[scenario.goods[g].unit for g in goods],
        countries=countries,
        scenarios=names,
        probability=probs,
        demand_pp=demand_pp,
        damage=per_good(lambda g: g.damage),
        coverage_units=per_good(cov),
        max_shortfall=per_good(lambda g: np.nan if g.max_shortfall is None else g.max_shortfall),
        has_stock=np.array([s is not None for s in stock]),
        stock_initial=opt(stock, lambda s: s.initial, 0.0),
        stock_max=stock_max,
        stock_unit_cost=opt(stock, lambda s: s.unit_cost, 0.0),
        storage_cost=opt(stock, lambda s: s.storage_cost, 0.0),
        residual_value=opt(stock, lambda s: s.residual_value, 0.0),
        max_release_pp=max_release,
        has_domestic=np.array([d is not None and d.max > 0 for d in dom]),
        capex=opt(dom, lambda d: d.capex, 0.0),
        plant_fixed_cost=opt(dom, lambda d: d.fixed_cost, 0.0),
        production_cost=opt(dom, lambda d: d.unit_cost, 0.0),
        domestic_max=opt(dom, lambda d: d.max, 0.0),
        module=opt(dom, lambda d: np.nan if d.module is None else d.module, np.nan),
        lead_periods=lead,
        life_share=lifetime_share,
        has_reduction=np.array([r is not None and r.max_share > 0 for r in red]),
        reduction_share=opt(red, lambda r: r.max_share, 0.0),
        reduction_cost=opt(red, lambda r: r.unit_cost, 0.0),
        preparation_cost=opt(red, lambda r: r.preparation_cost, 0.0),
        supplier_names=sup_names,
        supplier_good=sup_good_a,
        supplier_country=sup_country_a,
        supplier_cost=np.array(sup_cost, dtype=float),
        spot_pp=np.array(sup_cap, dtype=float),
        spot_lead_periods=sup_lead_a,
        has_reserve=np.array(res_has, dtype=bool),
        reserve_max=np.array(res_max, dtype=float),
        reserve_fee=np.array(res_fee, dtype=float),
        reserve_fixed_cost=np.array(res_fixed, dtype=float),
        disrupted=disrupted,
        price_mult=price_mult,
        demand_mult=demand_mult,
        avail=avail,
        spot_ok=spot_ok,
        online=online,
        cell_k=cell_k,
        cell_g=cell_g,
        cell_t0=cell_t0,
        cell_len=cell_len,
        sc_cell=sc_cell,
        sc_j=sc_j,
        sampling=sampling,
        routes=list(lay.routes),
        supplier_route=lay.supplier_routes[: len(sup_names)].copy(),  # not a view of (J + V, R)
        **bom,
        **origin,
    )


def spot_access(disrupted: np.ndarray, sup_good: np.ndarray, sup_lead: np.ndarray) -> np.ndarray:
    """(K, J, T) bool: supplier ``j`` can deliver extra (spot) in period ``t`` of future ``k``:
    its good is not disrupted then, or has been for at least ``sup_lead[j]`` periods (the
    periods elapsed since the current disrupted stretch of the good began).

    Memory: one (K, G, T) comparison per distinct lead time (few), copied to the rows of the
    suppliers with that lead, instead of a (K, J, T) int64 of elapsed periods."""
    K, G, T = disrupted.shape
    t = np.arange(T, dtype=np.int32 if T < 2**31 else np.int64)
    began = disrupted.copy()
    began[:, :, 1:] &= ~disrupted[:, :, :-1]
    last_start = np.where(began, t, t.dtype.type(0))
    np.maximum.accumulate(last_start, axis=2, out=last_start)
    elapsed = np.subtract(t, last_start, out=last_start)  # only meaningful where disrupted
    del began
    calm = ~disrupted
    spot_ok = np.empty((K, len(sup_good), T), dtype=bool)
    for lead in np.unique(sup_lead):
        js = np.flatnonzero(sup_lead == lead)
        ok = calm | (elapsed >= int(lead))  # (K, G, T)
        spot_ok[:, js, :] = ok[:, sup_good[js], :]
    return spot_ok


def _time_blocks(
    disrupted: np.ndarray,
    price_mult: np.ndarray,
    demand_mult: np.ndarray,
    avail: np.ndarray,
    spot_ok: np.ndarray,
    online: np.ndarray,
    sup_good: np.ndarray,
    compress: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells (scenario, good, first period, length): maximal runs of identical periods.

    A new block starts at period ``t`` of scenario ``k`` and good ``g`` whenever any datum of
    that good changes between ``t - 1`` and ``t``: its disrupted flag, price or demand
    multiplier, plant online, or any of its suppliers' availability or spot access. Without
    compression every period is its own block.
    """
    K, G, T = disrupted.shape
    if compress:
        change = np.zeros((K, G, T), dtype=bool)
        change[:, :, 1:] = (
            (disrupted[:, :, 1:] != disrupted[:, :, :-1])
            | (price_mult[:, :, 1:] != price_mult[:, :, :-1])
            | (demand_mult[:, :, 1:] != demand_mult[:, :, :-1])
            | (online[None, :, 1:] != online[None, :, :-1])
        )
        # fold the supplier changes onto their goods: any change of a supplier splits its good
        # (one good at a time: temporaries of its suppliers only, not (K, J, T) ones)
        for g in np.unique(sup_good):
            js = np.flatnonzero(sup_good == g)
            a, s = avail[:, js, :], spot_ok[:, js, :]
            sup_change = a[:, :, 1:] != a[:, :, :-1]
            sup_change |= s[:, :, 1:] != s[:, :, :-1]
            change[:, g, 1:] |= sup_change.any(axis=1)
        change[:, :, 0] = True
    else:
        change = np.ones((K, G, T), dtype=bool)
    k, g, t0 = np.nonzero(change)
    nxt = np.empty_like(t0)
    nxt[:-1] = t0[1:]
    nxt[-1] = T
    same = np.zeros(len(t0), dtype=bool)
    same[:-1] = (k[1:] == k[:-1]) & (g[1:] == g[:-1])
    length = np.where(same, nxt, T) - t0
    return k, g, t0, length


# --- who supplies (issue 12) -------------------------------------------------------------------


def bill_of_materials(scenario: Scenario, goods: list[str]) -> dict[str, np.ndarray]:
    """``bom_good``, ``bom_input``, ``bom_amount``: one entry per (good, input) of the goods'
    ``inputs`` (units of the input per unit of the good produced at home)."""
    gidx = {g: i for i, g in enumerate(goods)}
    entries = [
        (gidx[g], gidx[i], amount)
        for g in goods
        for i, amount in scenario.goods[g].inputs.items()
        if i in gidx and amount > 0
    ]
    out, inp, amount = zip(*entries) if entries else ((), (), ())
    return {
        "bom_good": np.array(out, dtype=np.int64),
        "bom_input": np.array(inp, dtype=np.int64),
        "bom_amount": np.array(amount, dtype=float),
    }


def align_chain_blocks(
    cells: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    bom: dict[str, np.ndarray],
    K: int,
    G: int,
    T: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split the time blocks so that goods linked by ``inputs`` share their block boundaries.

    Production of a good consumes its inputs in the same period; with the blocks of the good
    and of its inputs starting at the same periods, the consumption of a block is the input's
    use in the block of the same periods, and the blocks stay exact (docs/model.md). Goods in
    one chain (connected through inputs, in either direction) get the union of their block
    starts, per scenario. Without inputs, or without compression, the cells are unchanged.
    """
    k, g, t0, length = cells
    if len(bom["bom_good"]) == 0 or (length == 1).all():
        return cells
    # imported here: scipy's graph module (and the linear algebra it loads) costs a small run
    # without inputs about 0.2 s for nothing (benchmarks/README.md, "A small run, end to end")
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    links = coo_matrix(
        (np.ones(len(bom["bom_good"])), (bom["bom_good"], bom["bom_input"])), shape=(G, G)
    )
    _, chain = connected_components(links, directed=False)
    starts = np.zeros((K, int(chain.max()) + 1, T), dtype=bool)
    starts[k, chain[g], t0] = True
    change = starts[:, chain, :]  # (K, G, T): every good takes its chain's starts
    k, g, t0 = np.nonzero(change)
    nxt = np.empty_like(t0)
    nxt[:-1] = t0[1:]
    nxt[-1] = T
    same = np.zeros(len(t0), dtype=bool)
    same[:-1] = (k[1:] == k[:-1]) & (g[1:] == g[:-1])
    return k, g, t0, np.where(same, nxt, T) - t0


def origin_arrays(scenario: Scenario, goods: list[str], countries: list[str]) -> dict:
    """One *origin link* per (supplier, origin country) of the suppliers' ``origin``:
    ``origin_supplier`` (the supplier's index, suppliers in model order), ``origin_good``,
    ``origin_country`` (country index) and ``origin_share`` (share of what the supplier sells
    that depends on that country)."""
    cidx = {c: i for i, c in enumerate(countries)}
    links = []
    j = 0
    for gi, g in enumerate(goods):
        for s in scenario.goods[g].suppliers.values():
            links.extend((j, gi, cidx[c], share) for c, share in s.origin.items() if c in cidx)
            j += 1
    sup, good, country, share = zip(*links) if links else ((), (), (), ())
    return {
        "origin_supplier": np.array(sup, dtype=np.int64),
        "origin_good": np.array(good, dtype=np.int64),
        "origin_country": np.array(country, dtype=np.int64),
        "origin_share": np.array(share, dtype=float),
    }


def origin_availability(
    severity: np.ndarray, origin: dict, J: int, *, in_place: bool = False
) -> np.ndarray:
    """Availability (K, J, T) of the suppliers from the severities (K, J + V, T) of the
    suppliers followed by their V origin links: ``(1 - severity of the supplier's own
    country) * (1 - min(1, sum over its links of share * severity of the link's country))``
    (the links of a supplier added in link order).

    ``in_place``: ``severity`` is not used afterwards; without origin links its storage
    becomes the availability (no second (K, J, T) array). Memory otherwise: the availability
    and one (K, T) sum at a time (a loop over the suppliers that have links, and over their
    links, each vectorised over every future and period)."""
    own = severity[:, :J, :]
    if severity.shape[1] == J:
        if in_place:
            return np.subtract(1.0, severity, out=severity)
        return 1.0 - own
    avail = 1.0 - own
    sup, share = origin["origin_supplier"], origin["origin_share"]
    cut = np.empty((severity.shape[0], severity.shape[2]))
    for j in np.unique(sup):
        cut.fill(0.0)
        for v in np.flatnonzero(sup == j):  # the supplier's links, in link order
            cut += share[v] * severity[:, J + v, :]
        np.minimum(cut, 1.0, out=cut)
        np.subtract(1.0, cut, out=cut)
        avail[:, j, :] *= cut
    return avail


def futures_subset(data: ModelData, start: int, stop: int) -> ModelData:
    """The same data restricted to the futures ``start .. stop - 1`` (in model order), for
    building one chunk of the L-shaped method from the data (``optimizer.solve``'s
    decomposition) instead of splitting the whole model.

    Probabilities are kept as they are (not renormalised), so every probability-weighted cost
    of a future is the one it has in the whole model; the cells and supplier cells of those
    futures keep their order (the whole model's order restricted to the range). Goods,
    suppliers and first-stage data are shared, not copied.
    """
    import dataclasses  # here, so that this helper stays one self-contained addition

    start, stop = max(0, int(start)), min(data.K, int(stop))
    lo, hi = np.searchsorted(data.cell_k, [start, stop])  # cells are sorted by future
    slo, shi = np.searchsorted(data.sc_cell, [lo, hi])  # supplier cells sorted by cell
    per_future = {
        "scenarios": data.scenarios[start:stop],
        "probability": data.probability[start:stop],
        "disrupted": data.disrupted[start:stop],
        "price_mult": data.price_mult[start:stop],
        "demand_mult": data.demand_mult[start:stop],
        "avail": data.avail[start:stop],
        "spot_ok": data.spot_ok[start:stop],
        "cell_k": data.cell_k[lo:hi] - start,
        "cell_g": data.cell_g[lo:hi],
        "cell_t0": data.cell_t0[lo:hi],
        "cell_len": data.cell_len[lo:hi],
        "sc_cell": data.sc_cell[slo:shi] - lo,
        "sc_j": data.sc_j[slo:shi],
    }
    if data.origin_severity.shape[0] == data.K:
        per_future["origin_severity"] = data.origin_severity[start:stop]
    return dataclasses.replace(data, **per_future)
