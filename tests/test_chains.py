"""Goods made from goods (``inputs``): domestic production consumes its inputs in the same
period, from the inputs' own supply; each case worked out by hand.

Case: ``magnet`` (demand 100 a year, damage 1000 per unit) has no supplier; it is made at home
(capex 1 per unit of yearly capacity, unit cost 5, max 100) from 0.5 units of ``oxide`` per
magnet. ``oxide`` has no final demand (damage 0); cn (CN) sells it at 10 with plenty of
capacity, au (AU) at 20 with 20 a year. ``oxide_ban`` (probability 50 %) cuts CN's oxide.
"""

from __future__ import annotations

import copy

import pytest
from test_model_terms import CONFIGS, approx, supplier

from optimizer.api import RunConfig, run
from optimizer.scenario import ScenarioError, load_scenario_dict

CASE = {
    "name": "magnet chain",
    "window": {"years": 1, "period": "year"},
    "countries": {"CN": {}, "AU": {}},
    "goods": {
        "magnet": {
            "demand": 100,
            "damage": 1000,
            "inputs": {"oxide": 0.5},
            "domestic": {"capex": 1, "unit_cost": 5, "max": 100},
        },
        "oxide": {
            "demand": 0,
            "damage": 0,
            "suppliers": {"cn": supplier("CN", 10, 1000), "au": supplier("AU", 20, 20)},
        },
    },
    "disruptions": {
        "oxide_ban": {
            "probability": "50%",
            "duration": "1 year",
            "hits": [{"countries": ["CN"], "goods": ["oxide"]}],
        }
    },
}


def solve(data: dict, **config):
    config.setdefault("mip_gap", 1e-9)
    res = run(data, config=RunConfig(**config))
    assert res.status == "optimal"
    return res


def total(res, scen: str, good: str, column: str) -> float:
    df = res.periods
    return float(df[(df["scenario"] == scen) & (df["good"] == good)][column].sum())


def test_input_ban_limits_downstream_production():
    """No oxide stock. no_disruption: 100 magnets need 50 oxide from cn: 500 + production
    100 * 5 = 500. oxide_ban: au's 20 oxide make 40 magnets (400 + 200), 60 magnets short at
    1000. Build 100 (capex 100: each unit of capacity saves 0.5 * 1000 of damage in
    no_disruption alone). Objective 100 + 0.5 * (500 + 500) + 0.5 * (400 + 200 + 60000)
    = 100 + 500 + 30300 = 30900. The oxide is never short: it has no final demand, and what
    production consumes must be delivered."""
    res = solve(copy.deepcopy(CASE))
    assert res.portfolio["objective"] == approx(30900)
    assert total(res, "no_disruption", "magnet", "production") == approx(100)
    assert total(res, "oxide_ban", "magnet", "production") == approx(40)
    assert total(res, "oxide_ban", "magnet", "shortfall") == approx(60)
    assert total(res, "oxide_ban", "oxide", "purchase_au") == approx(20)
    assert total(res, "oxide_ban", "oxide", "shortfall") == approx(0)
    assert res.portfolio["scenarios"]["oxide_ban"]["shortfall"] == {
        "magnet": approx(60),
        "oxide": approx(0),
    }


def test_input_stock_restores_downstream_production():
    """The same with 30 units of oxide already in stock (max 30, so nothing is bought; unit
    cost 10, residual value 100 %). oxide_ban: au 20 + release 30 = 50 oxide -> 100 magnets,
    no shortfall. Residual credit: the 30 held at the end of no_disruption, 0.5 * 30 * 10 =
    150. Objective 100 + 0.5 * 1000 + 0.5 * (400 + 500) - 150 = 900."""
    data = copy.deepcopy(CASE)
    data["goods"]["oxide"]["stockpile"] = {"initial": 30, "max": 30, "unit_cost": 10}
    res = solve(data)
    assert res.portfolio["objective"] == approx(900)
    assert total(res, "oxide_ban", "oxide", "release") == approx(30)
    assert total(res, "oxide_ban", "magnet", "production") == approx(100)
    assert total(res, "oxide_ban", "magnet", "shortfall") == approx(0)


@pytest.mark.parametrize("config", CONFIGS)
def test_chain_blocks_are_aligned_and_exact(config):
    """Monthly periods, the ban from month 7 to 12. magnet's own data never change (one block
    per scenario), oxide's do at month 7: compressed, magnet's block is split there too.
    no_disruption as before: 1000. oxide_ban: months 1-6 normal, 50 magnets from 25 oxide
    (250 + 250); months 7-12 au's 10 oxide make 20 magnets (200 + 100), 30 short (30000).
    Objective 100 + 0.5 * 1000 + 0.5 * (500 + 300 + 30000) = 16000, in every configuration."""
    data = copy.deepcopy(CASE)
    data["window"]["period"] = "month"
    data["disruptions"]["oxide_ban"].update({"start": "6 months", "duration": "6 months"})
    res = solve(data, **config)
    assert res.portfolio["objective"] == approx(16000)
    assert total(res, "oxide_ban", "magnet", "shortfall") == approx(30)


@pytest.mark.parametrize(
    ("inputs", "path", "words"),
    [
        ({"oxyde": 0.5}, "goods.magnet.inputs.oxyde", "unknown good"),
        ({"magnet": 1}, "goods.magnet.inputs.magnet", "input of itself"),
        ({"oxide": -1}, "goods.magnet.inputs.oxide", ">= 0"),
    ],
)
def test_bad_inputs_are_located(inputs, path, words):
    data = copy.deepcopy(CASE)
    data["goods"]["magnet"]["inputs"] = inputs
    with pytest.raises(ScenarioError) as info:
        load_scenario_dict(data)
    (issue,) = info.value.issues
    assert issue.path == path
    assert words in issue.message
    if "oxyde" in inputs:
        assert issue.hint == "did you mean `oxide`?"


def test_inputs_loop_is_an_error_and_inputs_without_plant_warn():
    data = copy.deepcopy(CASE)
    data["goods"]["oxide"]["inputs"] = {"magnet": 2}
    with pytest.raises(ScenarioError) as info:
        load_scenario_dict(data)
    (issue,) = info.value.issues
    assert "loop" in issue.message and "magnet -> oxide -> magnet" in issue.message
    data = copy.deepcopy(CASE)
    data["goods"]["oxide"]["inputs"] = {"magnet": 2}
    data["goods"]["magnet"]["inputs"] = {}
    loaded = load_scenario_dict(data)
    (warning,) = loaded.warnings
    assert warning.path == "goods.oxide.inputs"
    assert "no domestic production" in warning.message


def test_size_estimate_bounds_a_chain():
    """Three one-month hits on the oxide (months 3, 6 and 9) give it blocks starting at
    months 1, 3, 4, 6, 7, 9, 10 in the ban: 7 blocks, and the magnet shares them although no
    hit names it. The estimate counts the chain's blocks for each of its goods (more columns
    than the same file without inputs) and stays an upper bound of the real model's."""
    from optimizer.model.size import estimate_size

    data = copy.deepcopy(CASE)
    data["window"]["period"] = "month"
    data["disruptions"]["oxide_ban"]["hits"] = [
        {"countries": ["CN"], "goods": ["oxide"], "start": f"{m} months", "duration": "1 month"}
        for m in (2, 5, 8)
    ]
    res = solve(data)
    magnet = (res.data.cell_g == 0) & (res.data.cell_k == 1)
    assert magnet.sum() == 7
    est = estimate_size(res.loaded.scenario)
    assert est.columns >= res.model.lp.n_cols
    data["goods"]["magnet"]["inputs"] = {}
    assert estimate_size(load_scenario_dict(data).scenario).columns < est.columns


def test_size_estimate_of_a_chain_counts_every_sampled_future():
    """The chain case (one yearly period, T = 1) with a risk model of 200 samples, the oxide
    ban at 50 %: each future has at most T = 1 block per good (the chain's sum, 2, capped at 1),
    so 1 + 200 = 201 blocks per good, 402 cells; the oxide's 2 suppliers give 402 supplier
    cells (the magnet has none): columns 402 + 6 * 402 = 2,814. The cap at T once applied to
    the sum over all futures, which gave 2 cells and 14 columns. The real model is smaller
    (identical draws merge) and the estimate stays above it."""
    from optimizer.model.size import estimate_size

    data = copy.deepcopy(CASE)
    del data["disruptions"]
    data["risk_model"] = {
        "samples": 200,
        "seed": 3,
        "events": {
            "ban": {
                "probability": "50%",
                "duration": "1 year",
                "countries": ["CN"],
                "goods": ["oxide"],
            }
        },
    }
    est = estimate_size(load_scenario_dict(data).scenario)
    assert est.futures == 201
    assert est.columns == 2814
    res = solve(data)
    assert res.model.lp.n_cols <= est.columns


def test_report_names_the_upstream_hit_behind_a_downstream_shortfall():
    """In the first case the 60 magnets short in oxide_ban fall in the block where the oxide
    is disrupted, and cn (CN) is the oxide supplier that lost capacity: upstream names the
    oxide and CN. no_disruption has no shortfall: no entry."""
    res = solve(copy.deepcopy(CASE))
    assert res.portfolio["upstream"] == {
        "oxide_ban": {"magnet": {"shortfall": approx(60), "inputs": {"oxide": ["CN"]}}}
    }
    data = copy.deepcopy(CASE)
    data["goods"]["oxide"]["stockpile"] = {"initial": 30, "max": 30, "unit_cost": 10}
    assert solve(data).portfolio["upstream"] == {}


def test_no_plant_no_input_named_as_cause():
    """A good that is not made at home owes none of its shortfall to its inputs. magnet now
    also has a supplier jp (JP, 20 a unit, 100 a year) and the plant costs 1000 per unit of
    capacity; oxide_ban also halves JP's magnets. A unit of plant would save in oxide_ban at
    most 0.5 * (1000 - 5 - 0.5 * 20) = 492.5 < 1000: nothing is built. no_disruption: 100
    from jp, 2000. oxide_ban: jp's 50 (1000) and 50 short (50000). Objective 0.5 * 2000 +
    0.5 * 51000 = 26500. The 50 short fall in the block where the oxide is banned, but no
    magnet is made from oxide, so upstream names nothing (it named the oxide before)."""
    data = copy.deepcopy(CASE)
    data["goods"]["magnet"]["domestic"]["capex"] = 1000
    data["goods"]["magnet"]["suppliers"] = {"jp": supplier("JP", 20, 100)}
    data["countries"]["JP"] = {}
    data["disruptions"]["oxide_ban"]["hits"].append(
        {"countries": ["JP"], "goods": ["magnet"], "severity": "50%"}
    )
    res = solve(data)
    assert res.portfolio["objective"] == approx(26500)
    assert res.portfolio["goods"]["magnet"]["domestic"]["capacity"] == approx(0)
    assert res.portfolio["scenarios"]["oxide_ban"]["shortfall"]["magnet"] == approx(50)
    assert res.portfolio["upstream"] == {}


def test_report_has_the_upstream_table():
    """report.html of the first case: the upstream section names the oxide and CN, and its
    tagged shortfall (60) equals portfolio.json."""
    import json

    from test_report import _check_figures, _parse

    from optimizer.results import dumps_json
    from optimizer.results.report import render_report

    res = solve(copy.deepcopy(CASE))
    pf = json.loads(dumps_json(res.portfolio))
    html = render_report(pf, res.loaded.resolved)
    page = _parse(html)
    keys = {el["attrs"].get("data-key") for el in page.elements}
    assert "upstream.oxide_ban.magnet.shortfall" in keys
    assert _check_figures(page.elements, pf) > 0
    assert "Shortfalls caused upstream" in html and "oxide (from CN)" in html


def test_hard_limit_on_an_input_warns_of_the_downstream_shortfall():
    """No disruption; a hard limit of at most 50 % of the oxide from CN. cn <= 0.5 (cn + au)
    means cn <= au <= 20, so at most 40 oxide, 80 magnets: 20 short at 1000. Build 80
    (capex 80), produce 80 (400), oxide 20 from cn (200) and 20 from au (400): objective
    80 + 400 + 200 + 400 + 20000 = 21080. The oxide itself is never short (no final demand),
    so the warning must name the magnet, made from the oxide the limit holds back."""
    data = copy.deepcopy(CASE)
    data.pop("disruptions")
    data["risk"] = {
        "limits": {"oxide_cn": {"max_share": "50%", "countries": ["CN"], "goods": ["oxide"]}}
    }
    res = solve(data)
    assert res.portfolio["objective"] == approx(21080)
    assert total(res, "no_disruption", "magnet", "shortfall") == approx(20)
    warnings = [w for w in res.portfolio["warnings"] if "oxide_cn" in w]
    assert len(warnings) == 1
    assert "of magnet unmet in the no-disruption future, made at home from oxide" in warnings[0]
