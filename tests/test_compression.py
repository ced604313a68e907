"""Time-block compression is exact (``docs/model.md``, "Time blocks").

The compressed model (runs of identical periods merged into blocks) and the uncompressed one
(every period its own block) must have the same optimal value, and a first-stage portfolio
optimal in one must be optimal in the other. Checked on hand-made scenarios (two of them built
so that the first-stage decisions are unique and worked out by hand) and on small random ones from
``benchmarks/generate.py``.

Degeneracy: the first-stage decisions of a random scenario need not be unique (two levers can tie),
so comparing them directly would be flaky. Instead each model's first stage is *fixed* in the
other model and that model re-solved: the objective must not move. This is the exchange property
the documentation states, and it holds whatever optimum the solver picked.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from optimizer.api import RunConfig, load, run
from optimizer.data import prepare
from optimizer.model import build_model
from optimizer.solve import SolverOptions, make_solver

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import synthetic_scenario  # noqa: E402

REL = 1e-6
GAP = 1e-9
FIRST_STAGE = ("buy", "reserve", "contract", "build", "plant", "modules", "prepare")


def solve(d: dict, compress: bool, interface: str = "direct"):
    r = run(d, RunConfig(compress_time=compress, interface=interface, mip_gap=GAP))
    assert r.status == "optimal", (compress, interface, r.portfolio.get("termination"))
    return r


def first_stage(r) -> dict[str, np.ndarray]:
    """The first-stage columns of a solved run, by variable block."""
    out = {}
    for name in FIRST_STAGE:
        block = r.model.lp.variables.get(name)
        if block is not None and block.size:
            out[name] = r.solve.x[block.start : block.start + block.size].copy()
    return out


def objective_with_first_stage(d: dict, compress: bool, fixed: dict[str, np.ndarray]) -> float:
    """Optimal value of the (un)compressed model with its first stage fixed at ``fixed``.

    Continuous values are fixed within a relative 1e-9 box (the solver's own values may sit
    1e-10 outside a budget row); integer values exactly, after rounding.
    """
    loaded = load(d)
    m = build_model(loaded.scenario, prepare(loaded.scenario, compress_time=compress))
    for name, values in fixed.items():
        block = m.lp.variables[name]
        if block.kind == "continuous":
            eps = 1e-9 * np.maximum(1.0, np.abs(values))
            lo, up = values - eps, values + eps
        else:
            lo = up = np.round(values)
        block.lower[:] = np.clip(lo, block.lower, block.upper)
        block.upper[:] = np.clip(up, block.lower, block.upper)
    res = make_solver(m.lp, SolverOptions(mip_gap=GAP), "direct").solve()
    assert res.status == "optimal", res.termination
    return res.objective


def check_exact(d: dict):
    """Same optimum compressed and uncompressed; first stages exchangeable. Returns both runs."""
    on, off = solve(d, True), solve(d, False)
    assert on.objective == pytest.approx(off.objective, rel=REL, abs=1e-6)
    assert (
        on.portfolio["solver"]["model"]["variables"]
        <= off.portfolio["solver"]["model"]["variables"]
    )
    # the compressed portfolio is optimal uncompressed, and the other way round
    assert objective_with_first_stage(d, False, first_stage(on)) == pytest.approx(
        off.objective, rel=REL, abs=1e-6
    )
    assert objective_with_first_stage(d, True, first_stage(off)) == pytest.approx(
        on.objective, rel=REL, abs=1e-6
    )
    return on, off


def blocks_bound(d: dict) -> int:
    """An upper bound on the compressed blocks, from the scenario alone.

    Within a (scenario, good) a new block can start only at a hit's start or end, at a hit's
    start plus a supplier's spot lead time (a disrupted stretch starts at some hit's start), or
    when the plant comes online. So per (scenario k, good g): blocks <= 1 + 1 (plant) +
    hits_k * (2 + number of distinct spot lead times of g's suppliers).
    """
    bound = 0
    hits = [0] + [len(x["hits"]) for x in d.get("disruptions", {}).values()]
    for good in d["goods"].values():
        leads = {s.get("spot_lead_time") for s in good["suppliers"].values()} - {None}
        for h in hits:
            bound += 2 + h * (2 + len(leads))
    return bound


# --- hand-made scenarios --------------------------------------------------------------------------


def _good(**extra) -> dict:
    return {"unit": "t", "demand": 120, "damage": 100, **extra}


def stockpile_case() -> dict:
    """One good, demand 10 a month, damage 100. CN sells at 10 (plenty); JP at 20, 5 a month,
    only 2 months into a disruption (spot lead time). Stock: 10 a unit + 1 a year storage over 2
    years = 12, residual value 5, release at most 5 a month. A CN ban (p = 0.2) in months 7-12.

    In the ban, months 7-8: release 5, shortfall 5; months 9-12: JP 5 + release 5. So 30 units
    are released. Each of them is worth 0.2 x 100 (shortfall avoided) + 0.8 x 5 (credit when
    no ban) = 24 > 12; a 31st unit is never released: worth 5 < 12. Refilling after the ban
    costs 10 for a credit of 5: never. So buy = 30, uniquely.
    Objective: 30 x 12 - 0.8 x 5 x 30 + 0.8 x 2400 (CN all window)
    + 0.2 x (18 x 10 x 10 + 20 x 20 (JP) + 10 x 100 (shortfall)) = 360 - 120 + 1920 + 640 = 2800.
    """
    return {
        "window": {"years": 2, "period": "month"},
        "countries": {"CN": {}, "JP": {}},
        "goods": {
            "ga": _good(
                stockpile={
                    "max": 100,
                    "unit_cost": 10,
                    "storage_cost": 1,
                    "residual_value": 0.5,
                    "max_release": 60,
                },
                suppliers={
                    "cn": {"country": "CN", "unit_cost": 10, "capacity": 1000},
                    "jp": {
                        "country": "JP",
                        "unit_cost": 20,
                        "capacity": 60,
                        "spot_lead_time": "2 months",
                    },
                },
            )
        },
        "disruptions": {
            "ban": {
                "probability": 0.2,
                "start": "6 months",
                "duration": "6 months",
                "hits": [{"countries": ["CN"], "severity": 1.0}],
            }
        },
    }


def reserve_domestic_case() -> dict:
    """One good, demand 10 a month, damage 100. CN at 10; JP has no spot capacity but up to 60
    a year (5 a month) can be reserved at 12, fee 5 a year (10 over the 2-year window). Domestic:
    capex 15 per unit of yearly capacity, production 15, at most 60 a year, online after 12
    months, lifetime 2 years (counted whole). A CN ban (p = 0.5) in months 7-18.

    Reserve r: r units delivered over the 12 ban months, each saving 100 - 12 of damage with
    p 0.5 = 44 per unit against a fee of 10: r = 60 (the max). Domestic b: b/2 units over the 6
    ban months after it comes online (reserve + plant then meet the demand of 10 exactly), each
    saving 0.5 x (100 - 15) = 42.5, i.e. 21.25 per unit of capacity against capex 15: b = 60.
    In normal times CN (10) is cheaper than JP (12) and the plant (15): both unused.
    Objective: 600 + 900 + 0.5 x 2400 + 0.5 x (1200 + 720 (JP) + 3000 (shortfall) + 450 (plant))
    = 5385.
    """
    return {
        "window": {"years": 2, "period": "month"},
        "countries": {"CN": {}, "JP": {}},
        "goods": {
            "ga": _good(
                domestic={
                    "capex": 15,
                    "unit_cost": 15,
                    "max": 60,
                    "lead_time": "12 months",
                    "lifetime": "2 years",
                },
                suppliers={
                    "cn": {"country": "CN", "unit_cost": 10, "capacity": 1000},
                    "jp": {
                        "country": "JP",
                        "unit_cost": 12,
                        "capacity": 0,
                        "reserve": {"max": 60, "fee": 5},
                    },
                },
            )
        },
        "disruptions": {
            "ban": {
                "probability": 0.5,
                "start": "6 months",
                "duration": "12 months",
                "hits": [{"countries": ["CN"], "severity": 1.0}],
            }
        },
    }


def everything_case() -> dict:
    """Two goods, every lever and every switched-on constraint: overlapping hits with their own
    timing and severities, price and demand multipliers, two disruptions of one good within a
    scenario (release, refill, release), an initial stock, a binding budget and budget line,
    the concentration cap, coverage, a service level and CVaR (weight and limit)."""
    return {
        "window": {"years": 3, "period": "month"},
        "budget": {"total": 2500, "lines": {"stock": {"limit": 1500, "levers": ["stockpile"]}}},
        "risk": {
            "concentration_cap": {"share": "65%", "countries": ["CN"]},
            "cvar": {"alpha": 0.9, "weight": 0.3, "limit": 1e6},
        },
        "countries": {"CN": {}, "RU": {}, "JP": {}, "DE": {}},
        "goods": {
            "ga": _good(
                coverage_days=30,
                max_shortfall="60%",
                stockpile={
                    "initial": 5,
                    "max": 80,
                    "unit_cost": 11,
                    "storage_cost": 1.5,
                    "residual_value": 0.7,
                    "max_release": 90,
                },
                demand_reduction={"max_share": 0.1, "unit_cost": 40},
                suppliers={
                    "cn": {"country": "CN", "unit_cost": 10, "capacity": 100},
                    "ru": {"country": "RU", "unit_cost": 11, "capacity": 30},
                    "jp": {
                        "country": "JP",
                        "unit_cost": 16,
                        "capacity": 24,
                        "spot_lead_time": "3 months",
                        "reserve": {"max": 36, "fee": 2.5},
                    },
                },
            ),
            "ge": {
                "unit": "t",
                "demand": 60,
                "damage": 300,
                "stockpile": {"max": 40, "unit_cost": 30, "storage_cost": 2, "residual_value": 0.9},
                "domestic": {
                    "capex": 40,
                    "unit_cost": 45,
                    "max": 30,
                    "lead_time": "10 months",
                    "lifetime": "10 years",
                },
                "suppliers": {
                    "cn": {"country": "CN", "unit_cost": 28, "capacity": 50},
                    "de": {
                        "country": "DE",
                        "unit_cost": 35,
                        "capacity": 12,
                        "spot_lead_time": "1 month",
                        "reserve": {"max": 20, "fee": 4},
                    },
                },
            },
        },
        "disruptions": {
            "two_bans": {
                "probability": 0.15,
                "start": "4 months",
                "duration": "5 months",
                "hits": [
                    {"countries": ["CN"], "goods": ["ga"], "severity": 1.0},
                    {
                        "countries": ["CN"],
                        "goods": ["ga"],
                        "severity": 0.6,
                        "start": "20 months",
                        "duration": "6 months",
                    },
                ],
                "price_multiplier": 2.0,
            },
            "cn_ru": {
                "probability": 0.1,
                "start": "10 months",
                "duration": "14 months",
                "hits": [
                    {"countries": ["CN", "RU"], "severity": 0.8},
                    {
                        "countries": ["CN"],
                        "goods": ["ge"],
                        "severity": 1.0,
                        "start": "14 months",
                        "duration": "4 months",
                    },
                ],
                "price_multiplier": 1.5,
                "demand_multiplier": 1.1,
            },
            "late": {
                "probability": 0.05,
                "start": "30 months",
                "duration": "2 years",
                "hits": [{"countries": ["CN"], "severity": 0.5}],
            },
        },
    }


def quarterly_case() -> dict:
    """Quarterly periods with durations that round to whole quarters and a hit that outlasts the
    window; a MIP (contract fixed cost, plant in modules, prepared demand measure)."""
    return {
        "window": {"years": 4, "period": "quarter"},
        "countries": {"CN": {}, "KR": {}},
        "goods": {
            "ga": _good(
                stockpile={
                    "max": 60,
                    "unit_cost": 10,
                    "storage_cost": 0.5,
                    "residual_value": 0.8,
                    "max_release": 100,
                },
                domestic={
                    "capex": 20,
                    "unit_cost": 14,
                    "max": 60,
                    "module": 20,
                    "lead_time": "7 months",
                    "lifetime": "8 years",
                },
                demand_reduction={"max_share": 0.2, "unit_cost": 30, "preparation_cost": 50},
                suppliers={
                    "cn": {"country": "CN", "unit_cost": 10, "capacity": 200},
                    "kr": {
                        "country": "KR",
                        "unit_cost": 13,
                        "capacity": 20,
                        "reserve": {"max": 40, "fee": 2, "fixed_cost": 30},
                    },
                },
            )
        },
        "disruptions": {
            "ban": {
                "probability": 0.3,
                "start": "11 months",
                "duration": "5 months",
                "hits": [{"countries": ["CN"], "severity": 0.9}],
                "price_multiplier": 3,
            },
            "long": {
                "probability": 0.1,
                "start": "2 years",
                "duration": "5 years",
                "hits": [{"countries": ["CN"], "severity": 0.7}],
            },
        },
    }


def test_stockpile_case_unique_decision():
    on, off = check_exact(stockpile_case())
    for r in (on, off):
        assert r.objective == pytest.approx(2800, rel=REL)
        assert r.portfolio["goods"]["ga"]["stockpile"]["buy"] == pytest.approx(30, rel=REL)
    # no ban: 1 block; ban: months 0-6, 6-8, 8-12, 12-24
    assert on.portfolio["solver"]["model"]["blocks"] == 1 + 4
    assert off.portfolio["solver"]["model"]["blocks"] == 2 * 24


def test_reserve_domestic_case_unique_decisions():
    on, off = check_exact(reserve_domestic_case())
    for r in (on, off):
        g = r.portfolio["goods"]["ga"]
        assert r.objective == pytest.approx(5385, rel=REL)
        assert g["reserve"]["jp"] == pytest.approx(60, rel=REL)
        assert g["domestic"]["capacity"] == pytest.approx(60, rel=REL)
    # no disruption: before/after the plant comes online; ban: 0-6, 6-12, 12-18, 18-24
    assert on.portfolio["solver"]["model"]["blocks"] == 2 + 4


@pytest.mark.parametrize("case", [everything_case, quarterly_case])
def test_hand_made_cases_exact(case):
    d = case()
    on, off = check_exact(d)
    assert on.portfolio["solver"]["model"]["blocks"] <= blocks_bound(d)


def test_long_window_one_disruption_has_few_blocks():
    """60 months, one 12-month disruption. Per (scenario, good) a block starts only at the
    window's start, the plant's start (month 24), the disruption's start (12) and end (24), and
    when the spot lead time (3 months) has passed (15). So no_disruption has 2 blocks and the
    disruption 4 (0-12, 12-15, 15-24, 24-60): 6 blocks instead of 2 x 60 = 120 periods."""
    d = {
        "window": {"years": 5, "period": "month"},
        "countries": {"CN": {}, "JP": {}, "DE": {}},
        "goods": {
            "ga": _good(
                stockpile={"max": 100, "unit_cost": 10, "storage_cost": 1, "residual_value": 0.5},
                domestic={"capex": 30, "unit_cost": 15, "max": 40, "lead_time": "24 months"},
                demand_reduction={"max_share": 0.1, "unit_cost": 50},
                suppliers={
                    "cn": {"country": "CN", "unit_cost": 10, "capacity": 200},
                    "jp": {
                        "country": "JP",
                        "unit_cost": 14,
                        "capacity": 20,
                        "spot_lead_time": "3 months",
                    },
                    "de": {
                        "country": "DE",
                        "unit_cost": 16,
                        "capacity": 10,
                        "reserve": {"max": 30, "fee": 2},
                    },
                },
            )
        },
        "disruptions": {
            "ban": {
                "probability": 0.2,
                "start": "12 months",
                "duration": "12 months",
                "hits": [{"countries": ["CN"], "severity": 1.0}],
            }
        },
    }
    on, off = check_exact(d)
    m_on, m_off = on.portfolio["solver"]["model"], off.portfolio["solver"]["model"]
    assert m_on["blocks"] == 6
    assert m_off["blocks"] == 120
    # per block at most: 3 purchases, shortfall, produce, reduce, stock, release or refill (8);
    # first stage: buy, reserve, build (3)
    assert m_on["variables"] <= 3 + 8 * 6
    assert m_on["variables"] * 10 < m_off["variables"]


# --- random scenarios -----------------------------------------------------------------------------


def _random_dims(seed: int) -> tuple[int, int, int, int, bool]:
    rng = np.random.default_rng(1000 + seed)
    return (
        int(rng.integers(1, 4)),
        int(rng.integers(1, 4)),
        int(rng.integers(6, 19)),
        int(rng.integers(1, 5)),
        seed % 5 == 4,
    )  # every fifth case a MIP


@pytest.mark.parametrize("seed", range(15))
def test_random_scenarios_exact(seed):
    g, s, t, k, integer = _random_dims(seed)
    d = synthetic_scenario(g, s, t, k, seed=seed, integer=integer)
    on, off = check_exact(d)
    assert on.portfolio["solver"]["model"]["blocks"] <= blocks_bound(d)
    assert off.portfolio["solver"]["model"]["blocks"] == (k + 1) * g * t


@pytest.mark.parametrize("seed", [1, 4, 7])
def test_pyomo_equals_direct(seed):
    g, s, t, k, integer = _random_dims(seed)
    d = synthetic_scenario(g, s, t, k, seed=seed, integer=integer)
    direct = solve(d, True, "direct")
    pyomo = solve(d, True, "pyomo")
    assert pyomo.objective == pytest.approx(direct.objective, rel=REL, abs=1e-6)
    assert pyomo.portfolio["solver"]["model"] == direct.portfolio["solver"]["model"]
    unc = solve(d, False, "pyomo")
    assert unc.objective == pytest.approx(direct.objective, rel=REL, abs=1e-6)


# --- a known engine problem -----------------------------------------------------------------------


def large_loss_mip_case(months: int) -> dict:
    """Two goods supplied by CN only, the 65 % cap on CN (so a third of the demand is short in
    every scenario: losses of about 1e10 euros), CVaR in the objective, a plant with a fixed cost
    (a MIP). Always feasible: buying nothing and accepting the shortfall is a solution."""
    return {
        "window": {"years": months / 12, "period": "month"},
        "risk": {
            "concentration_cap": {"share": "65%", "countries": ["CN"]},
            "cvar": {"alpha": 0.95, "weight": 0.24},
        },
        "countries": {"CN": {}},
        "goods": {
            "a": {
                "demand": 3260,
                "damage": 3.285e6,
                "domestic": {
                    "capex": 8e5,
                    "unit_cost": 5e5,
                    "max": 723,
                    "lead_time": "12 months",
                    "lifetime": "10 years",
                    "fixed_cost": 2.727e8,
                },
                "suppliers": {"cn": {"country": "CN", "unit_cost": 3.885e5, "capacity": 3920}},
            },
            "b": {
                "demand": 481,
                "damage": 846300,
                "demand_reduction": {"max_share": 0.128, "unit_cost": 159800},
                "suppliers": {
                    "cn": {
                        "country": "CN",
                        "unit_cost": 67920,
                        "capacity": 581,
                        "reserve": {"max": 112, "fee": 8374},
                    }
                },
            },
        },
        "disruptions": {
            "ban": {
                "probability": 0.005,
                "start": "1 month",
                "duration": "2 months",
                "hits": [{"countries": ["CN"], "goods": ["a"], "severity": 0.58}],
                "price_multiplier": 1.65,
            }
        },
    }


@pytest.mark.parametrize("months", [12, 13])
def test_large_loss_mip_is_not_reported_infeasible(months):
    d = large_loss_mip_case(months)
    on = run(d, RunConfig(compress_time=True, interface="direct"))
    off = run(d, RunConfig(compress_time=False, interface="direct"))
    assert on.status == "optimal"
    assert off.status == "optimal"
    assert on.objective == pytest.approx(off.objective, rel=REL)
