"""Upstream origin of what a supplier sells (``origin``): a hit on an origin country cuts the
supplier in proportion. Each case worked out by hand.

Case: ``magnet`` (demand 100 a year, damage 1000 per unit, window 1 year) bought only from jp
(JP, 20 per unit, 100 a year) whose magnets are 80 % Chinese material (``origin: {CN: 80%}``).
``cn_ban`` (probability 50 %, the whole year) hits CN. A second good ``oxide`` is bought from
cn (CN, 10) and has no demand; it is there to be named by hits.
"""

from __future__ import annotations

import copy

import pytest
from test_model_terms import CONFIGS, approx, supplier

from optimizer.api import RunConfig, run
from optimizer.data import prepare
from optimizer.scenario import ScenarioError, load_scenario_dict

CASE = {
    "name": "origin",
    "window": {"years": 1, "period": "year"},
    "groups": {"autocracies": ["CN", "RU"]},
    "countries": {"CN": {}, "JP": {}, "RU": {}},
    "goods": {
        "magnet": {
            "demand": 100,
            "damage": 1000,
            "suppliers": {"jp": supplier("JP", 20, 100, origin={"CN": "80%"})},
        },
        "oxide": {"demand": 0, "damage": 0, "suppliers": {"cn": supplier("CN", 10, 1000)}},
    },
    "disruptions": {
        "cn_ban": {"probability": "50%", "duration": "1 year", "hits": [{"countries": ["CN"]}]}
    },
}


def solve(data: dict, **config):
    config.setdefault("mip_gap", 1e-9)
    res = run(data, config=RunConfig(**config))
    assert res.status == "optimal"
    return res


def bought(res, scen: str) -> float:
    df = res.periods
    return float(df[(df["scenario"] == scen) & (df["good"] == "magnet")]["purchase_jp"].sum())


@pytest.mark.parametrize("config", CONFIGS)
def test_eighty_percent_chinese_origin_delivers_twenty_percent_in_a_chinese_ban(config):
    """The hit names no goods: it covers the goods supplied from CN (oxide) and the goods whose
    suppliers' origin names CN (magnet). jp delivers at most 100 * (1 - 0) * (1 - 0.8 * 1) =
    20. no_disruption: 100 from jp, 2000. cn_ban: 20 from jp (400) and 80 short (80000).
    Objective 0.5 * 2000 + 0.5 * 80400 = 41200."""
    res = solve(copy.deepcopy(CASE), **config)
    assert bought(res, "cn_ban") == approx(20)
    assert bought(res, "no_disruption") == approx(100)
    assert res.portfolio["scenarios"]["cn_ban"]["shortfall"]["magnet"] == approx(80)
    assert res.portfolio["objective"] == approx(41200)


@pytest.mark.parametrize(
    ("hit", "avail"),
    [
        pytest.param({"countries": ["CN"], "severity": "50%"}, 1 - 0.8 * 0.5, id="half-ban"),
        pytest.param(
            {"countries": ["CN", "JP"], "severity": "50%"}, 0.5 * (1 - 0.8 * 0.5), id="both"
        ),
        pytest.param({"countries": ["autocracies"]}, 0.2, id="through-a-group"),
        pytest.param({"countries": ["CN"], "goods": ["oxide"]}, 1.0, id="hit-names-oxide-only"),
        pytest.param({"countries": ["CN"], "goods": ["magnet"]}, 0.2, id="hit-names-magnet"),
        pytest.param({"countries": ["RU"]}, 1.0, id="other-country"),
    ],
)
def test_availability_with_origin(hit, avail):
    """Availability of jp in cn_ban = (1 - severity(JP)) * (1 - 0.8 * severity(CN) for the
    magnet): half a ban 1 - 0.4 = 0.6; CN and JP both at 50 % 0.5 * 0.6 = 0.3; a group standing
    for CN and RU 0.2; a hit naming only the oxide does not reach the magnet (1.0), one naming
    the magnet does (0.2); a hit on RU, which jp does not depend on, nothing (1.0)."""
    data = copy.deepcopy(CASE)
    data["disruptions"]["cn_ban"]["hits"] = [hit]
    d = prepare(load_scenario_dict(data).scenario)
    j = d.supplier_names.index("jp")
    assert d.avail[1, j, 0] == approx(avail)
    assert d.avail[0, j, 0] == approx(1.0)


def test_origin_reaches_sampled_futures():
    """A risk model whose one event is certain (probability 100 %) and hits CN for the whole
    year: every draw is the same future, where jp delivers 20 % as with the hand-written ban."""
    data = copy.deepcopy(CASE)
    del data["disruptions"]
    data["risk_model"] = {
        "samples": 5,
        "events": {"ban": {"probability": "100%", "countries": ["CN"], "duration": "1 year",
                           "start": "0 months"}},
    }  # fmt: skip
    d = prepare(load_scenario_dict(data).scenario)
    j = d.supplier_names.index("jp")
    assert d.avail[:, j, 0].min() == approx(0.2)


@pytest.mark.parametrize(
    ("origin", "path", "words"),
    [
        ({"CM": "80%"}, "goods.magnet.suppliers.jp.origin.CM", "unknown country `CM`"),
        ({"autocracies": "80%"}, "goods.magnet.suppliers.jp.origin.autocracies", "group"),
        ({"JP": "10%"}, "goods.magnet.suppliers.jp.origin.JP", "own country"),
        ({"CN": "80%", "RU": "30%"}, "goods.magnet.suppliers.jp.origin", "110 %"),
        ({"CN": "180%"}, "goods.magnet.suppliers.jp.origin.CN", "<= 100 %"),
    ],
)
def test_bad_origin_is_located(origin, path, words):
    data = copy.deepcopy(CASE)
    data["goods"]["magnet"]["suppliers"]["jp"]["origin"] = origin
    with pytest.raises(ScenarioError) as info:
        load_scenario_dict(data)
    (issue,) = info.value.issues
    assert issue.path == path
    assert words in issue.message
    assert issue.hint


def test_upstream_names_the_origin_behind_the_shortfall():
    """The 80 % case: the 80 magnets short in cn_ban are put down to jp's Chinese material;
    no_disruption has none. The report's upstream table says so."""
    from optimizer.results.report import render_report

    res = solve(copy.deepcopy(CASE))
    assert res.portfolio["upstream"] == {
        "cn_ban": {"magnet": {"shortfall": approx(80), "inputs": {}, "origin": {"jp": ["CN"]}}}
    }
    assert "supplier jp: material from CN" in render_report(res.portfolio, res.loaded.resolved)
