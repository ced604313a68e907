"""The data stage's arrays at many sampled futures (issue 13): the memory-lean ``materialise``
and ``prepare`` give exactly the arrays of plain reference implementations written here (loops
over occurrences, origin links, futures and periods applying the rules of ``docs/model.md``),
and ``ModelData`` holds no memory it does not show (no array that is a view of a larger one).

The case (``CASE``): two years in months (T = 24); gallium bought from cn (CN, ships through
malacca), us (US, spot lead time 2 months) and jp (JP, 60 % Chinese and 30 % Russian
material); germanium from cn_ge (CN) and tr (TR, 50 % Chinese material, spot lead 3 months,
shipping 1 month); magnet from jp_m (JP, 80 % Chinese) and us_m (US). Five events, frequent
enough that occurrences of one event and of different events overlap in most draws: a ban on
CN, a closure of the malacca route, a common shock on CN and JP limited to gallium, a Russian
event (RU has no supplier: it reaches jp and magnet's suppliers only through origin links) and
a US demand surge.

The arrays are compared exactly (``assert_array_equal``): the rules are maxima and the same
floating-point operations in the same order, so the lean code must reproduce them bit for bit.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from test_model_terms import supplier

from optimizer.data import ModelData, origin_availability, prepare, spot_access
from optimizer.sampling import (
    _hit_masks,
    draw_futures,
    draw_occurrences,
    layout,
    materialise,
    merge_draws,
)
from optimizer.scenario import load_scenario_dict

CASE: dict = {
    "name": "memory",
    "window": {"years": 2, "period": "month"},
    "routes": {"malacca": {}},
    "countries": {"CN": {"route": ["malacca"]}, "US": {}, "JP": {}, "TR": {}, "RU": {}},
    "goods": {
        "gallium": {
            "demand": 12,
            "damage": 100,
            "suppliers": {
                "cn": supplier("CN", 10, 12),
                "us": supplier("US", 30, 6, spot_lead_time="2 months"),
                "jp": supplier("JP", 20, 6, origin={"CN": "60%", "RU": "30%"}),
            },
        },
        "germanium": {
            "demand": 12,
            "damage": 50,
            "suppliers": {
                "cn_ge": supplier("CN", 10, 12),
                "tr": supplier(
                    "TR",
                    12,
                    12,
                    origin={"CN": "50%"},
                    spot_lead_time="3 months",
                    shipping_time="1 month",
                ),
            },
        },
        "magnet": {
            "demand": 6,
            "damage": 80,
            "suppliers": {
                "jp_m": supplier("JP", 15, 6, origin={"CN": "80%"}),
                "us_m": supplier("US", 25, 6),
            },
        },
    },
}

EVENTS: dict = {
    "cn_ban": {
        "rate": "1.5 per year",
        "countries": ["CN"],
        "severity": {"min": "30%", "max": "100%"},
        "duration": {"min": "1 month", "max": "8 months"},
        "price_multiplier": {"min": 1.2, "max": 3},
    },
    "malacca_closure": {
        "rate": "1 per year",
        "countries": ["malacca"],
        "severity": "70%",
        "duration": "3 months",
        "demand_multiplier": {"min": 1, "max": 1.3},
    },
    "asia_shock": {
        "probability": "40%",
        "countries": ["CN", "JP"],
        "goods": ["gallium"],
        "severity": [["50%", 1], ["100%", 1]],
        "duration": {"min": "2 months", "mode": "4 months", "max": "12 months"},
        "price_multiplier": [[1.5, 1], [2, 1]],
    },
    "ru_sanctions": {
        "rate": "0.8 per year",
        "countries": ["RU"],
        "severity": {"min": "40%", "max": "90%"},
        "duration": {"min": "1 month", "max": "6 months"},
    },
    "us_surge": {
        "rate": "1 per year",
        "countries": ["US"],
        "severity": "20%",
        "duration": "2 months",
        "demand_multiplier": {"min": 1.1, "max": 1.5},
    },
}


def risk_case(events: dict = EVENTS, *, origin: bool = True, samples: int = 300) -> dict:
    data = copy.deepcopy(CASE)
    if not origin:
        for good in data["goods"].values():
            for s in good["suppliers"].values():
                s.pop("origin", None)
    data["risk_model"] = {"samples": samples, "seed": 7, "events": copy.deepcopy(events)}
    return data


def scenario_of(data: dict):
    return load_scenario_dict(data).scenario


# --- reference implementations: plain loops over the rules of docs/model.md -----------------


def reference_materialise(scenario, occ, draws) -> tuple[np.ndarray, ...]:
    """Per occurrence of a chosen draw, per supplier (good) it hits and period it covers: the
    largest severity (0 if none), the largest multipliers (1 if none), disrupted if any."""
    lay = layout(scenario)
    events = list(scenario.risk_model.events.values())
    K, J, G, T = len(draws), lay.J, lay.G, lay.T
    severity = np.zeros((K, J, T))
    disrupted = np.zeros((K, G, T), dtype=bool)
    price = np.full((K, G, T), np.nan)  # nan: no occurrence covers it yet
    demand = np.full((K, G, T), np.nan)
    future_of = {int(d): k for k, d in enumerate(draws) if d >= 0}
    for i in range(len(occ.draw)):
        k = future_of.get(int(occ.draw[i]))
        if k is None:
            continue
        hit_j, hit_g = _hit_masks(lay, events[occ.event[i]].countries, events[occ.event[i]].goods)
        for t in range(occ.start[i], occ.start[i] + occ.length[i]):
            for j in np.flatnonzero(hit_j):
                severity[k, j, t] = max(severity[k, j, t], occ.severity[i])
            for g in np.flatnonzero(hit_g):
                disrupted[k, g, t] = True
                price[k, g, t] = np.fmax(price[k, g, t], occ.price[i])
                demand[k, g, t] = np.fmax(demand[k, g, t], occ.demand[i])
    return severity, disrupted, np.nan_to_num(price, nan=1.0), np.nan_to_num(demand, nan=1.0)


def reference_avail(severity: np.ndarray, d: ModelData) -> np.ndarray:
    """(1 - own severity) * (1 - min(1, sum over the supplier's links of share * severity))."""
    J = d.J
    cut = np.zeros((severity.shape[0], J, severity.shape[2]))
    for v, j in enumerate(d.origin_supplier):
        cut[:, j, :] += d.origin_share[v] * severity[:, J + v, :]
    return (1.0 - severity[:, :J, :]) * (1.0 - np.minimum(1.0, cut))


def reference_spot_ok(d: ModelData) -> np.ndarray:
    """Spot access: the good is not disrupted, or has been for >= the supplier's lead periods
    (counted from the first period of its current disrupted stretch)."""
    K, J, T = d.K, d.J, d.T
    ok = np.ones((K, J, T), dtype=bool)
    for k in range(K):
        for j in range(J):
            g = d.supplier_good[j]
            began = 0
            for t in range(T):
                if d.disrupted[k, g, t] and (t == 0 or not d.disrupted[k, g, t - 1]):
                    began = t
                if d.disrupted[k, g, t]:
                    ok[k, j, t] = t - began >= d.spot_lead_periods[j]
    return ok


def reference_cells(d: ModelData) -> list[tuple[int, int, int, int]]:
    """(future, good, first period, length): a block starts at t = 0 and wherever a datum of
    the good (disrupted, multipliers, plant online) or of one of its suppliers (availability,
    spot access) differs from the period before."""
    cells = []
    for k in range(d.K):
        for g in range(d.G):
            js = np.flatnonzero(d.supplier_good == g)
            starts = [0]
            for t in range(1, d.T):
                here = (d.disrupted, d.price_mult, d.demand_mult)
                if (
                    any(a[k, g, t] != a[k, g, t - 1] for a in here)
                    or d.online[g, t] != d.online[g, t - 1]
                    or (d.avail[k, js, t] != d.avail[k, js, t - 1]).any()
                    or (d.spot_ok[k, js, t] != d.spot_ok[k, js, t - 1]).any()
                ):
                    starts.append(t)
            ends = [*starts[1:], d.T]
            cells.extend((k, g, a, b - a) for a, b in zip(starts, ends, strict=True))
    return cells


# --- materialise -----------------------------------------------------------------------------


def test_materialise_equals_the_loop_over_occurrences():
    """300 draws of the five overlapping events; the futures asked for in a shuffled order with
    a future without occurrence (-1) first: every array equals the reference, bit for bit."""
    s = scenario_of(risk_case())
    occ = draw_occurrences(s, 300, 7)
    per_draw = np.bincount(occ.draw, minlength=300)
    assert per_draw.max() >= 4  # overlaps happen: the test exercises the maxima
    draws = np.concatenate([[-1], np.random.default_rng(0).permutation(300)])
    got = materialise(s, occ, draws)
    want = reference_materialise(s, occ, draws)
    for a, b in zip(got, want, strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    assert got[0][0].max() == 0.0 and got[2][0].min() == 1.0  # the -1 future: no disruption


def test_materialise_in_small_blocks_is_the_same(monkeypatch):
    """The blocks of futures that bound the temporaries do not change the result: with blocks
    of one future the arrays are those of the default blocks."""
    import optimizer.sampling as sampling

    s = scenario_of(risk_case())
    occ = draw_occurrences(s, 120, 7)
    draws = np.arange(120)
    whole = materialise(s, occ, draws)
    monkeypatch.setattr(sampling, "_RAISE_BLOCK", 1)
    for a, b in zip(materialise(s, occ, draws), whole, strict=True):
        np.testing.assert_array_equal(a, b)


def test_multipliers_below_one_follow_the_documented_rule():
    """A demand fall (multiplier 0.8 to 0.9) on US goods: where an occurrence covers a (good,
    period) the multiplier is the largest covering one, even below 1 (docs/model.md: the
    largest pi_i, 1 if none), whatever other events could hit the good; elsewhere 1."""
    events = {
        "us_recession": {
            "rate": "1 per year",
            "countries": ["US"],
            "severity": "10%",
            "duration": {"min": "1 month", "max": "6 months"},
            "demand_multiplier": {"min": 0.8, "max": 0.9},
        },
        "cn_ban": EVENTS["cn_ban"],
    }
    s = scenario_of(risk_case(events))
    occ = draw_occurrences(s, 200, 7)
    draws = np.arange(200)
    got = materialise(s, occ, draws)
    want = reference_materialise(s, occ, draws)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
    demand = got[3]
    assert demand.min() >= 0.8 and (demand < 1).any()
    assert (demand[~got[1]] == 1.0).all()


def test_draw_futures_materialises_its_merged_draws():
    """draw_futures: no_disruption, then one future per other distinct draw (in order of first
    appearance), each with the reference arrays of its representative draw."""
    s = scenario_of(risk_case())
    f = draw_futures(s, 300, 7)
    occ = draw_occurrences(s, 300, 7)
    merged = merge_draws(occ)
    others = merged.first_draw[np.arange(len(merged.count)) != merged.empty]
    want = reference_materialise(s, occ, np.concatenate([[-1], others]))
    got = (f.severity, f.disrupted, f.price_mult, f.demand_mult)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


# --- prepare -----------------------------------------------------------------------------------


@pytest.mark.parametrize("origin", [True, False])
def test_prepare_equals_the_reference_arrays(origin):
    """prepare's availability, spot access and time blocks equal the references computed from
    the drawn futures' severity (with and without origin links)."""
    s = scenario_of(risk_case(origin=origin, samples=150))
    f = draw_futures(s, 150, 7)
    severity = f.severity.copy()
    d = prepare(s)
    assert d.K == f.K and d.J == 7
    np.testing.assert_array_equal(d.disrupted, f.disrupted)
    np.testing.assert_array_equal(d.price_mult, f.price_mult)
    np.testing.assert_array_equal(d.demand_mult, f.demand_mult)
    np.testing.assert_array_equal(d.avail, reference_avail(severity, d))
    np.testing.assert_array_equal(d.origin_severity, severity[:, d.J :, :])
    assert d.origin_severity.shape[1] == (4 if origin else 0)
    assert (d.avail < 1).any() and (~d.spot_ok).any()
    np.testing.assert_array_equal(d.spot_ok, reference_spot_ok(d))
    cells = list(zip(d.cell_k, d.cell_g, d.cell_t0, d.cell_len, strict=True))
    assert cells == reference_cells(d)
    if origin:  # RU reaches jp only through its origin link: avail < 1 without a hit on JP
        jp = d.supplier_names.index("jp")
        only_ru = (d.origin_severity[:, 1, :] > 0) & (severity[:, jp, :] == 0)
        only_ru &= d.origin_severity[:, 0, :] == 0
        assert only_ru.any()
        np.testing.assert_allclose(
            d.avail[:, jp, :][only_ru], 1 - 0.3 * d.origin_severity[:, 1, :][only_ru]
        )


def test_prepare_leaves_futures_it_is_given_unchanged():
    """prepare(futures=...) computes availability in a new array: the caller's severity is
    not overwritten (only futures prepare draws itself are reused in place)."""
    s = scenario_of(risk_case(origin=False, samples=50))
    f = draw_futures(s, 50, 7)
    before = f.severity.copy()
    d = prepare(s, futures=f)
    np.testing.assert_array_equal(f.severity, before)
    np.testing.assert_array_equal(d.avail, 1.0 - before)


def test_origin_availability_by_hand():
    """Supplier 0 (own severity 0.5) has links to two countries with shares 0.6 and 0.3 and
    severities 1.0 and 0.5: cut 0.6 * 1 + 0.3 * 0.5 = 0.75, availability (1 - 0.5) * (1 -
    0.75) = 0.125. Supplier 1 (own 0.2) has one link of share 0.8 at severity 1.0 and one of
    0.5 at 1.0: cut 1.3 capped at 1, availability 0.8 * 0 = 0. Supplier 2 (own 0.25), no link:
    0.75."""
    sev = np.array([[[0.5], [0.2], [0.25], [1.0], [0.5], [1.0], [1.0]]])  # (1, 3 + 4, 1)
    origin = {
        "origin_supplier": np.array([0, 0, 1, 1]),
        "origin_share": np.array([0.6, 0.3, 0.8, 0.5]),
    }
    got = origin_availability(sev, origin, 3)
    assert got[0, :, 0] == pytest.approx([0.125, 0.0, 0.75])


def test_spot_access_by_hand():
    """One good disrupted in periods 1-4 and 6 (T = 8); supplier leads 0, 2 and 1 periods.
    Lead 0: always. Lead 2: not in 1, 2 (elapsed 0, 1) nor 6 (a new stretch, elapsed 0); yes
    in 3, 4. Lead 1: not in 1 and 6."""
    disrupted = np.array([[[0, 1, 1, 1, 1, 0, 1, 0]]], dtype=bool)
    got = spot_access(disrupted, np.array([0, 0, 0]), np.array([0, 2, 1]))
    assert got[0].astype(int).tolist() == [
        [1, 1, 1, 1, 1, 1, 1, 1],
        [1, 0, 0, 1, 1, 1, 0, 1],
        [1, 0, 1, 1, 1, 1, 0, 1],
    ]


# --- memory held -----------------------------------------------------------------------------


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


@pytest.mark.parametrize("origin", [True, False])
def test_model_data_holds_no_hidden_memory(origin):
    """Every array of ModelData owns its memory or shares it with other fields that together
    cover it: no field is a view that keeps a larger array alive (the (K, J + V, T) severity
    behind ``origin_severity`` was one, even with V = 0)."""
    d = prepare(scenario_of(risk_case(origin=origin, samples=100)))
    seen: dict[int, tuple[np.ndarray, int]] = {}
    for value in vars(d).values():
        if isinstance(value, np.ndarray):
            root = _root(value)
            held, shown = seen.get(id(root), (root, 0))
            seen[id(root)] = (held, shown + value.nbytes)
    hidden = {r.shape: r.nbytes - shown for r, shown in seen.values() if r.nbytes > shown}
    assert not hidden


def test_multipliers_below_one_count_in_hand_written_and_sampled_futures():
    """A disruption whose demand multiplier is 0.5 halves the demand while it lasts (design:
    the largest multiplier of the hits covering a (good, period), 1 where none; before, a
    hand-written multiplier below 1 was raised to 1). One good, demand 100 a year, cn (CN) at
    10 and jp (JP) at 30 with capacity 1000 each; ``slump`` (p 0.3, one year) cuts CN and
    halves demand: 50 bought from jp at 30. Objective 0.7 * 100 * 10 + 0.3 * 50 * 30 =
    700 + 450 = 1150 (1600 if the 0.5 were ignored). The same future drawn from a risk model
    (one event, probability 1, covering the whole year) has the same demand multiplier."""
    from optimizer.api import RunConfig, run
    from optimizer.sampling import draw_futures
    from optimizer.scenario import load_scenario_dict

    data = {
        "name": "slump",
        "window": {"years": 1, "period": "year"},
        "countries": {"CN": {}, "JP": {}},
        "goods": {
            "gallium": {
                "demand": 100,
                "damage": 100,
                "suppliers": {
                    "cn": {"country": "CN", "unit_cost": 10, "capacity": 1000},
                    "jp": {"country": "JP", "unit_cost": 30, "capacity": 1000},
                },
            }
        },
        "disruptions": {
            "slump": {
                "probability": 0.3,
                "duration": "1 year",
                "demand_multiplier": 0.5,
                "hits": [{"countries": ["CN"], "severity": 1.0}],
            }
        },
    }
    res = run(data, config=RunConfig(interface="direct", baseline=False))
    assert res.objective == pytest.approx(1150.0, rel=1e-9)
    sampled = {k: v for k, v in data.items() if k != "disruptions"}
    sampled["risk_model"] = {
        "samples": 10,
        "seed": 1,
        "events": {
            "slump": {
                "probability": 1.0,
                "countries": ["CN"],
                "severity": 1.0,
                "start": "0 years",
                "duration": "1 year",
                "demand_multiplier": 0.5,
            }
        },
    }
    futures = draw_futures(load_scenario_dict(sampled).scenario, 10, 1)
    assert futures.names[0] == "no_disruption" and futures.probability[0] == 0
    np.testing.assert_allclose(futures.demand_mult[1:], 0.5)
