"""Futures: the hand-written disruptions, or samples drawn from a scenario's risk model.

Part of the data stage (``scenario -> data -> ...``): imports only ``optimizer.scenario``.
Both sources give the same :class:`Futures` (names, probabilities and the per-(future, supplier,
period) and per-(future, good, period) arrays), built with the same overlap rules: per
(country, good, period) the largest severity, per (good, period) the largest price and demand
multiplier. The mathematics is in ``docs/model.md``, "Risk model (sampled futures)".

Sampling is vectorised NumPy: one random stream per event (seeded from the file's seed and the
event's name through SHA-256, never Python's ``hash()``), one array operation per event and per
drawn quantity, no Python loop per draw.

Units: times in periods of the window (``window.period``), severities as fractions in [0, 1],
multipliers dimensionless, rates in events per year.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from optimizer.scenario.routes import supplier_routes
from optimizer.scenario.schema import Event, Scenario
from optimizer.scenario.units import Spread

NO_DISRUPTION = "no_disruption"
_EPS = 1e-9


@dataclass(frozen=True)
class Layout:
    """The index sets shared by every future: goods ``G``, suppliers ``J`` (contiguous by good,
    in file order), countries, and the window's ``T`` periods of ``1 / periods_per_year``
    years.

    The last ``links`` "suppliers" are *origin links* (``origin:`` of a supplier, one per
    supplier and origin country, in supplier order): the supplier's good in the origin
    country. A hit computes their severity as for any supplier (a hit that names no goods
    covers the goods they belong to); ``data.origin_availability`` turns it into the cut of the
    supplier they belong to.

    ``routes`` are the scenario's routes; ``supplier_routes`` (J, R) marks the routes each
    supplier's goods pass (an origin link passes none: the route of upstream material is not
    described). A hit that names a route covers the suppliers on it as if they were in a
    country it names."""

    goods: list[str]
    countries: list[str]
    supplier_good: np.ndarray  # (J,) good index
    supplier_country: np.ndarray  # (J,) country index
    T: int
    periods_per_year: int
    years: float
    links: int = 0
    routes: tuple[str, ...] = ()
    supplier_routes: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))

    @property
    def G(self) -> int:
        return len(self.goods)

    @property
    def J(self) -> int:
        return len(self.supplier_good)


def layout(scenario: Scenario) -> Layout:
    """The goods, countries and suppliers of a scenario in the order the model uses."""
    goods = list(scenario.goods)
    countries = list(scenario.countries)
    sup_good, sup_country = [], []
    for gi, g in enumerate(goods):
        for s in scenario.goods[g].suppliers.values():
            if s.country not in countries:  # load_scenario refuses these; kept for safety
                countries.append(s.country)
            sup_good.append(gi)
            sup_country.append(countries.index(s.country))
    links = [  # origin links, after every supplier (load_scenario refuses unknown countries)
        (gi, countries.index(c))
        for gi, g in enumerate(goods)
        for s in scenario.goods[g].suppliers.values()
        for c in s.origin
        if c in countries
    ]
    for gi, ci in links:
        sup_good.append(gi)
        sup_country.append(ci)
    routes = tuple(scenario.routes)
    on_route = np.zeros((len(sup_good), len(routes)), dtype=bool)
    ridx = {r: i for i, r in enumerate(routes)}
    j = 0
    for g in goods:
        for s in scenario.goods[g].suppliers.values():
            on_route[j, [ridx[r] for r in supplier_routes(scenario, s) if r in ridx]] = True
            j += 1
    w = scenario.window
    return Layout(
        goods,
        countries,
        np.array(sup_good, dtype=np.int64),
        np.array(sup_country, dtype=np.int64),
        w.periods,
        w.periods_per_year,
        w.years,
        len(links),
        routes,
        on_route,
    )


@dataclass
class Futures:
    """The futures the model optimises over, ``no_disruption`` first.

    ``severity`` (K, J, T) is the share of each supplier's capacity lost; ``disrupted``
    (K, G, T) marks the goods hit; ``price_mult`` and ``demand_mult`` (K, G, T) multiply prices
    and demand. ``drawn`` and ``distinct`` are the numbers of draws and of distinct draws (None
    for hand-written disruptions); ``seed`` the seed used.
    """

    names: list[str]
    probability: np.ndarray  # (K,)
    severity: np.ndarray  # (K, J, T)
    disrupted: np.ndarray  # (K, G, T) bool
    price_mult: np.ndarray  # (K, G, T)
    demand_mult: np.ndarray  # (K, G, T)
    drawn: int | None = None
    distinct: int | None = None
    seed: int | None = None

    @property
    def K(self) -> int:
        return len(self.names)


def _hit_masks(
    lay: Layout, countries: list[str], goods: list[str] | None
) -> tuple[np.ndarray, np.ndarray]:
    """(suppliers hit (J,), goods hit (G,)): suppliers in ``countries`` (or on a route that
    ``countries`` names) of the listed goods, or, when no goods are listed, of every good
    supplied from those countries (or over those routes)."""
    cidx = {c: i for i, c in enumerate(lay.countries)}
    gidx = {g: i for i, g in enumerate(lay.goods)}
    hit_c = np.isin(lay.supplier_country, [cidx[c] for c in countries if c in cidx])
    ridx = [i for i, r in enumerate(lay.routes) if r in countries and r not in cidx]
    if ridx:
        hit_c |= lay.supplier_routes[:, ridx].any(axis=1)
    if goods is None:
        hit_g = np.zeros(lay.G, dtype=bool)
        hit_g[lay.supplier_good[hit_c]] = True
    else:
        hit_g = np.isin(np.arange(lay.G), [gidx[g] for g in goods if g in gidx])
    return hit_c & hit_g[lay.supplier_good], hit_g


def _empty(K: int, lay: Layout) -> tuple[np.ndarray, ...]:
    T = lay.T
    return (
        np.zeros((K, lay.J, T)),
        np.zeros((K, lay.G, T), dtype=bool),
        np.ones((K, lay.G, T)),
        np.ones((K, lay.G, T)),
    )


def hand_written_futures(scenario: Scenario, lay: Layout | None = None) -> Futures:
    """The file's ``disruptions:`` as futures; ``no_disruption`` takes the probability left.

    A hit covers periods ``round(start * P)`` to ``round((start + duration) * P)`` (P periods
    per year), cut at the window's end."""
    lay = lay or layout(scenario)
    P, T = lay.periods_per_year, lay.T
    names = [NO_DISRUPTION, *scenario.disruptions]
    probs = np.array([0.0] + [d.probability for d in scenario.disruptions.values()])
    probs[0] = max(0.0, 1.0 - probs[1:].sum())
    severity, disrupted, price_mult, demand_mult = _empty(len(names), lay)
    for k, d in enumerate(scenario.disruptions.values(), start=1):
        for hit in d.hits:
            start = round((hit.start if hit.start is not None else d.start) * P)
            dur = round((hit.duration if hit.duration is not None else d.duration) * P)
            stop = min(T, start + dur)
            if start >= stop:
                continue
            hit_j, hit_g = _hit_masks(lay, hit.countries, hit.goods)
            span = slice(start, stop)
            severity[k, hit_j, span] = np.maximum(severity[k, hit_j, span], hit.severity)
            disrupted[k, hit_g, span] = True
            # the hits of one disruption share its multipliers: a hit covering a (good,
            # period) sets them, a multiplier below 1 included (demand falling, say)
            price_mult[k, hit_g, span] = d.price_multiplier
            demand_mult[k, hit_g, span] = d.demand_multiplier
    return Futures(names, probs, severity, disrupted, price_mult, demand_mult)


# --- drawing --------------------------------------------------------------------------------------


def stable_int(name: str) -> int:
    """A 64-bit integer from ``name`` through SHA-256: the same on every machine and run."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "little")


def sample_spread(spread: Spread, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` independent draws of a spread (a fixed value uses no random numbers)."""
    v = spread.values
    if spread.kind == "value" or (spread.kind != "discrete" and v[0] == v[-1]):
        return np.full(n, v[0])
    if spread.kind == "uniform":
        return rng.uniform(v[0], v[1], n)
    if spread.kind == "triangular":
        return rng.triangular(v[0], v[1], v[2], n)
    w = np.asarray(spread.weights, dtype=float)
    return np.asarray(v)[rng.choice(len(v), size=n, p=w / w.sum())]


@dataclass(frozen=True)
class Occurrences:
    """Every occurrence drawn, one row each, sorted by draw, then event, start, length and
    values. ``start`` and ``length`` are in periods (length >= 1, cut at the window's end)."""

    draws: int
    events: list[str]
    draw: np.ndarray  # (M,) int64
    event: np.ndarray  # (M,) int64
    start: np.ndarray  # (M,) int64
    length: np.ndarray  # (M,) int64
    severity: np.ndarray  # (M,)
    price: np.ndarray  # (M,)
    demand: np.ndarray  # (M,)

    def rows(self) -> np.ndarray:
        """(M, 6) floats: event, start, length, severity, price, demand (exact copies)."""
        return np.column_stack(
            [self.event, self.start, self.length, self.severity, self.price, self.demand]
        ).astype(float)


def _draw_event(event: Event, name: str, seed: int, n: int, lay: Layout) -> tuple[np.ndarray, ...]:
    """One event's occurrences over ``n`` draws, from its own stream. Order of use of the
    stream: counts for all draws, then per occurrence start, severity, duration, price, demand."""
    rng = np.random.default_rng([seed, stable_int(name)])
    if event.rate is not None:
        counts = rng.poisson(event.rate * lay.years, n)
    else:
        counts = (rng.random(n) < event.probability).astype(np.int64)
    m = int(counts.sum())
    draw = np.repeat(np.arange(n, dtype=np.int64), counts)
    P, T = lay.periods_per_year, lay.T
    if event.start is None:
        start_years = rng.random(m) * lay.years
    else:
        start_years = sample_spread(event.start, rng, m)
    start = np.floor(start_years * P + _EPS).astype(np.int64)
    severity = sample_spread(event.severity, rng, m)
    duration = sample_spread(event.duration, rng, m)
    price = sample_spread(event.price_multiplier, rng, m)
    demand = sample_spread(event.demand_multiplier, rng, m)
    length = np.maximum(1, np.rint(duration * P).astype(np.int64))
    length = np.minimum(length, T - start)
    keep = start < T  # a start drawn at or after the window's end never happens in it
    return (
        draw[keep],
        start[keep],
        length[keep],
        severity[keep],
        price[keep],
        demand[keep],
    )


def draw_occurrences(scenario: Scenario, samples: int, seed: int) -> Occurrences:
    """All occurrences of ``samples`` draws from the scenario's risk model."""
    lay = layout(scenario)
    events = scenario.risk_model.events if scenario.risk_model else {}
    parts = []
    for e, (name, event) in enumerate(events.items()):
        d, s, ln, sev, pr, dm = _draw_event(event, name, seed, samples, lay)
        parts.append((d, np.full(len(d), e, dtype=np.int64), s, ln, sev, pr, dm))
    if parts:
        cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
    else:
        cols = [np.zeros(0, dtype=np.int64)] * 4 + [np.zeros(0)] * 3
    draw, event, start, length, sev, pr, dm = cols
    order = np.lexsort((dm, pr, sev, length, start, event, draw))
    return Occurrences(
        samples,
        list(events),
        draw[order],
        event[order],
        start[order],
        length[order],
        sev[order],
        pr[order],
        dm[order],
    )


@dataclass(frozen=True)
class Merged:
    """Distinct draws: ``sample_of_draw`` (N,) maps each draw to its distinct sample, numbered
    in order of first appearance; ``count`` (D,) the draws per sample; ``first_draw`` (D,) one
    draw that represents it; ``empty`` the sample without occurrence, or -1 when none was
    drawn."""

    sample_of_draw: np.ndarray
    count: np.ndarray
    first_draw: np.ndarray
    empty: int


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct rows of a 2-D array by one ``lexsort``: (id of each row's distinct row (N,),
    first row of each distinct row (D,), count of each (D,)); ids in sorted row order."""
    if len(a) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.lexsort(a.T[::-1])
    s = a[order]
    new = np.ones(len(a), dtype=bool)
    new[1:] = (s[1:] != s[:-1]).any(axis=1)
    group = np.cumsum(new) - 1
    ids = np.empty(len(a), dtype=np.int64)
    ids[order] = group
    starts = np.nonzero(new)[0]
    first = np.minimum.reduceat(order, starts)
    count = np.diff(np.append(starts, len(a)))
    return ids, first, count


def merge_draws(occ: Occurrences) -> Merged:
    """Group identical draws (same occurrences with the same values) vectorised: each distinct
    occurrence row gets an id, each draw the sorted tuple of its ids (padded with -1), and
    ``np.unique`` over those tuples finds the distinct draws."""
    n = occ.draws
    per_draw = np.bincount(occ.draw, minlength=n)
    width = int(per_draw.max()) if n else 0
    key = np.full((n, max(width, 1)), -1, dtype=np.int64)
    if len(occ.draw):
        row_id, _, _ = _unique_rows(occ.rows())
        first = np.concatenate([[0], np.cumsum(per_draw)[:-1]])
        rank = np.arange(len(occ.draw)) - first[occ.draw]
        key[occ.draw, rank] = row_id
        key.sort(axis=1)  # occurrences of a draw in a canonical order
    inverse, first_draw, count = _unique_rows(key)
    order = np.argsort(first_draw, kind="stable")  # number samples by first appearance
    renumber = np.empty_like(order)
    renumber[order] = np.arange(len(order))
    empty_draws = np.nonzero(per_draw == 0)[0]
    empty = int(renumber[inverse[empty_draws[0]]]) if len(empty_draws) else -1
    return Merged(renumber[inverse], count[order], first_draw[order], empty)


def materialise(
    scenario: Scenario, occ: Occurrences, draws: np.ndarray, lay: Layout | None = None
) -> tuple[np.ndarray, ...]:
    """The arrays (severity (K, J, T), disrupted, price_mult, demand_mult (K, G, T)) of the
    futures ``draws`` (K draw indices, in that order; -1 for a future without occurrence),
    with the overlap rules of ``docs/model.md``: per (supplier, period) the largest severity
    of the occurrences covering it (0 if none), per (good, period) the largest price and
    demand multipliers (1 if none).

    Vectorised per event (a loop over events, none over futures or draws): the event's
    occurrences sorted by future give, with ``maximum.reduceat``, its (futures it occurs in, T)
    layer of largest severity and multipliers; each layer is raised with ``np.maximum`` into
    the rows of the suppliers (goods) it hits, in place in the (K, N, T) outputs. Memory: the
    four outputs and per event a few arrays of its futures only (an event occurs in a few % of
    them), not one (K, T) layer per event."""
    lay = lay or layout(scenario)
    draws = np.asarray(draws, dtype=np.int64)
    K, T = len(draws), lay.T
    events = list((scenario.risk_model.events if scenario.risk_model else {}).values())
    severity = np.zeros((K, lay.J, T))
    disrupted = np.zeros((K, lay.G, T), dtype=bool)
    # multipliers are above 0: 0 marks "no occurrence yet", set to 1 (neutral) at the end
    price_mult = np.zeros((K, lay.G, T))
    demand_mult = np.zeros((K, lay.G, T))
    slot = np.full(occ.draws, -1, dtype=np.int64)
    real = draws >= 0  # -1: a future without occurrence (no_disruption)
    slot[draws[real]] = np.arange(K)[real]
    k_all = slot[occ.draw]
    mine = np.flatnonzero(k_all >= 0)
    mine = mine[np.lexsort((k_all[mine], occ.event[mine]))]  # by event, then future
    bounds = np.searchsorted(occ.event[mine], np.arange(len(events) + 1))
    t = np.arange(T)
    for e, event in enumerate(events):
        sel = mine[bounds[e] : bounds[e + 1]]
        if not len(sel):
            continue
        hit_j, hit_g = _hit_masks(lay, event.countries, event.goods)
        k = k_all[sel]
        s = occ.start[sel]
        on = (t[None, :] >= s[:, None]) & (t[None, :] < (s + occ.length[sel])[:, None])  # (m, T)
        uk, first = np.unique(k, return_index=True)
        jj, gg = np.flatnonzero(hit_j), np.flatnonzero(hit_g)
        if len(jj):
            layer = np.maximum.reduceat(np.where(on, occ.severity[sel][:, None], 0.0), first)
            _raise_rows(severity, uk, jj, layer)
        if len(gg):
            _raise_rows(disrupted, uk, gg, np.logical_or.reduceat(on, first))
            layer = np.maximum.reduceat(np.where(on, occ.price[sel][:, None], 0.0), first)
            _raise_rows(price_mult, uk, gg, layer)
            layer = np.maximum.reduceat(np.where(on, occ.demand[sel][:, None], 0.0), first)
            _raise_rows(demand_mult, uk, gg, layer)
    calm = ~disrupted  # no occurrence covers the (good, period): neutral multipliers
    price_mult[calm] = 1.0
    demand_mult[calm] = 1.0
    return severity, disrupted, price_mult, demand_mult


#: Elements (futures x rows x periods) raised at once by :func:`_raise_rows`: bounds its
#: temporaries (~8 bytes each, twice) whatever the number of futures an event occurs in.
_RAISE_BLOCK = 1 << 21


def _raise_rows(out: np.ndarray, ks: np.ndarray, rows: np.ndarray, layer: np.ndarray) -> None:
    """``out[k, r, :] = max(out[k, r, :], layer[i, :])`` for ``k = ks[i]`` and every ``r`` of
    ``rows`` (``out`` (K, N, T); ``ks`` distinct; logical or for a bool ``out``), in blocks of
    futures so that the gathered (futures, rows, T) temporaries stay small."""
    step = max(1, _RAISE_BLOCK // max(1, len(rows) * out.shape[2]))
    raise_ = np.logical_or if out.dtype == bool else np.maximum
    for lo in range(0, len(ks), step):
        cells = np.ix_(ks[lo : lo + step], rows)
        out[cells] = raise_(out[cells], layer[lo : lo + step, None, :])


def sample_names(count: int) -> list[str]:
    """``s0001``, ``s0002``, ... (at least four digits)."""
    width = max(4, len(str(count)))
    return [f"s{i:0{width}d}" for i in range(1, count + 1)]


def draw_futures(scenario: Scenario, samples: int, seed: int) -> Futures:
    """``samples`` futures drawn from the risk model, identical ones merged (probability = share
    of draws), ``no_disruption`` first (probability 0 when no draw was empty), then the other
    distinct samples ``s0001``, ... in order of first appearance."""
    lay = layout(scenario)
    occ = draw_occurrences(scenario, samples, seed)
    merged = merge_draws(occ)
    D = len(merged.count)
    others = np.flatnonzero(np.arange(D) != merged.empty)
    draws = np.concatenate([[-1], merged.first_draw[others]]).astype(np.int64)
    prob = np.concatenate(
        [[merged.count[merged.empty] if merged.empty >= 0 else 0], merged.count[others]]
    ) / float(samples)
    severity, disrupted, price_mult, demand_mult = materialise(scenario, occ, draws, lay)
    names = [NO_DISRUPTION, *sample_names(len(others))]
    return Futures(names, prob, severity, disrupted, price_mult, demand_mult, samples, D, seed)


def draw_slice(
    scenario: Scenario,
    samples: int,
    seed: int,
    first: int,
    stop: int,
    occ: Occurrences | None = None,
) -> Futures:
    """Draws ``first`` to ``stop - 1`` of ``samples`` draws, unmerged, each with probability
    ``1 / samples``: for a stress test that evaluates many futures in chunks. The occurrences
    are those of the full draw (the same futures as :func:`draw_futures` merges); pass ``occ``
    (from :func:`draw_occurrences` with the same samples and seed) to draw them only once for
    all chunks. Named ``f000001``, ... by draw number (1-based)."""
    if occ is None:
        occ = draw_occurrences(scenario, samples, seed)
    draws = np.arange(first, min(stop, samples), dtype=np.int64)
    severity, disrupted, price_mult, demand_mult = materialise(scenario, occ, draws)
    names = [f"f{i + 1:06d}" for i in draws]
    prob = np.full(len(draws), 1.0 / samples)
    return Futures(names, prob, severity, disrupted, price_mult, demand_mult, samples, None, seed)


def scenario_futures(
    scenario: Scenario, samples: int | None = None, seed: int | None = None
) -> Futures:
    """The futures of a scenario: drawn from its risk model (``samples`` and ``seed`` override
    the file's), or its hand-written disruptions when it has no risk model (or one without
    events beside hand-written disruptions: ``extends:`` may bring a risk model's settings)."""
    rm = scenario.risk_model
    if rm is None or (not rm.events and scenario.disruptions):
        return hand_written_futures(scenario)
    return draw_futures(
        scenario, rm.samples if samples is None else samples, rm.seed if seed is None else seed
    )
