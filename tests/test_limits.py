"""Limits on supply shares by country or group (``risk.limits``), each on a tiny case worked out
by hand. Conventions of ``test_model_terms``: one good ``gallium``, demand 100 units/year,
damage 100 EUR/unit, window 1 year; no disruption unless said (``no_disruption`` has
probability 1, so its purchases are the objective).

The shadow price of a limit is the objective saved per unit of share (100 percentage points)
that the limit is loosened: for a binding cap where the marginal unit moves from a supplier
at price ``a`` inside the limited set to one at ``b`` outside, ``S * (b - a)`` with ``S`` the
good's supply over the window.
"""

from __future__ import annotations

import pytest
from test_model_terms import CONFIGS, G, approx, disruption, rows, scenario, solve, supplier

from optimizer.scenario import ScenarioError, load_scenario_dict


def with_groups(data: dict, groups: dict | None = None, member_of: dict | None = None) -> dict:
    """Add top-level ``groups`` and countries' own ``groups`` lists (``{DE: [EU]}``)."""
    if groups:
        data["groups"] = groups
    for c, gs in (member_of or {}).items():
        data["countries"].setdefault(c, {})["groups"] = gs
    return data


def group_cap_case(**kw) -> dict:
    good = {
        "suppliers": {
            "cn": supplier("CN", 10, 1000),
            "ru": supplier("RU", 12, 1000),
            "jp": supplier("JP", 20, 1000),
        }
    }
    limits = {"autocracies_total": {"max_share": "30%", "countries": ["autocracies"]}}
    data = scenario(good, risk={"limits": limits}, **kw)
    return with_groups(data, {"autocracies": ["CN", "RU"]})


@pytest.mark.parametrize("config", CONFIGS)
def test_group_cap_binding_with_shadow_price(config):
    """autocracies = [CN, RU], at most 30 % of gallium together. cn (CN) 10, ru (RU) 12,
    jp (JP) 20, each 1000 a year; demand 100 over a year of 12 months.

    Unlimited, all 100 come from cn (1000). With the cap CN + RU <= 0.3 * 100 = 30: the 30
    come from cn (10 < ru's 12), the other 70 from jp: objective 30*10 + 70*20 = 1700.
    Shadow price: one more unit of share lets 100 more units move from jp to cn, saving
    100 * (20 - 10) = 1000 euros (10 euros per percentage point). Same in every configuration
    (the monthly blocks merge into one when compressed)."""
    res = solve(group_cap_case(period="month"), **config)
    assert res.portfolio["objective"] == approx(1700)
    nd = rows(res, "no_disruption")
    assert nd["purchase_cn"].sum() == approx(30)
    assert nd["purchase_ru"].sum() == approx(0)
    assert nd["purchase_jp"].sum() == approx(70)
    lim = res.portfolio["limits"]["autocracies_total"]
    assert lim["kind"] == "max_share" and lim["hard"] is True
    assert lim["shadow_price"] == approx(1000)
    assert lim["units_over"] == approx(0)
    assert [r["share"] for r in lim["rows"]] == [approx(0.3)]
    assert res.portfolio["warnings"] == []


def test_floor_on_friends_binding():
    """friends = [JP, KR], at least 50 %. cn (CN) 10, jp (JP) 20 but only 30 a year, kr (KR)
    25. Unlimited: all from cn (1000). With the floor JP + KR >= 50: jp's 30 first (20 < 25),
    then 20 from kr, cn the remaining 50: objective 500 + 600 + 500 = 1600.
    Shadow price: one unit of share less lets 100 units move from kr (25) to cn (10):
    100 * 15 = 1500."""
    good = {
        "suppliers": {
            "cn": supplier("CN", 10, 1000),
            "jp": supplier("JP", 20, 30),
            "kr": supplier("KR", 25, 1000),
        }
    }
    limits = {"friends_floor": {"min_share": "50%", "countries": ["friends"]}}
    data = with_groups(scenario(good, risk={"limits": limits}), {"friends": ["JP", "KR"]})
    res = solve(data)
    assert res.portfolio["objective"] == approx(1600)
    nd = rows(res, "no_disruption")
    assert nd["purchase_cn"].sum() == approx(50)
    assert nd["purchase_jp"].sum() == approx(30)
    assert nd["purchase_kr"].sum() == approx(20)
    lim = res.portfolio["limits"]["friends_floor"]
    assert lim["kind"] == "min_share"
    assert lim["shadow_price"] == approx(1500)
    assert lim["rows"][0]["share"] == approx(0.5)


def test_floor_as_benchmark_is_priced_per_unit_short():
    """The floor above as a benchmark of 5 euros per unit short of it. Each unit from jp costs
    10 more than from cn and saves 5 of penalty, each from kr 15 more: neither pays, so all
    100 from cn (1000) and the floor is 50 units short: penalty 5 * 50 = 250, objective 1250.
    The rule reads "per unit short of it" (a floor), not "over" (a cap), in the report and
    the terminal."""
    from rich.console import Console

    from optimizer.cli.run import _print_limits as print_limits
    from optimizer.results.report_limits import limits_section

    good = {
        "suppliers": {
            "cn": supplier("CN", 10, 1000),
            "jp": supplier("JP", 20, 30),
            "kr": supplier("KR", 25, 1000),
        }
    }
    limits = {"friends_floor": {"min_share": "50%", "countries": ["friends"], "benchmark": 5}}
    data = with_groups(scenario(good, risk={"limits": limits}), {"friends": ["JP", "KR"]})
    res = solve(data)
    assert res.portfolio["objective"] == approx(1250)
    lim = res.portfolio["limits"]["friends_floor"]
    assert lim["units_over"] == approx(50)
    assert lim["penalty"] == approx(250)
    html = limits_section(res.portfolio)
    assert "EUR 5 per unit short of it" in html and "per unit over" not in html
    console = Console(record=True, width=200)
    print_limits(res.portfolio, console)
    text = console.export_text()
    assert "per unit short" in text and "per unit over" not in text


def test_floor_counts_domestic_production():
    """The floor case with jp gone and a domestic plant (capex 5 per unit/year, unit cost 12,
    max 100): home production counts towards the floor. Meeting the 50 from the plant costs
    5 + 12 = 17 < kr's 25: build 50, produce 50, cn 50. Objective 500 + 50*17 = 1350."""
    good = {
        "suppliers": {"cn": supplier("CN", 10, 1000), "kr": supplier("KR", 25, 1000)},
        "domestic": {"capex": 5, "unit_cost": 12, "max": 100},
    }
    limits = {"friends_floor": {"min_share": "50%", "countries": ["friends"]}}
    data = with_groups(scenario(good, risk={"limits": limits}), {"friends": ["KR"]})
    res = solve(data)
    assert res.portfolio["objective"] == approx(1350)
    assert res.portfolio["goods"][G]["domestic"]["capacity"] == approx(50)
    assert rows(res, "no_disruption")["purchase_kr"].sum() == approx(0)


def crma_case(exempt: list[str]) -> dict:
    good = {"suppliers": {"de": supplier("DE", 10, 1000), "cn": supplier("CN", 12, 1000)}}
    limits = {
        "crma": {"max_share": "65%", "per_country": True, "countries": "all", "exempt": exempt}
    }
    data = scenario(good, risk={"limits": limits})
    return with_groups(data, member_of={"DE": ["EU"]})


@pytest.mark.parametrize(
    ("exempt", "objective", "de", "shadow", "limited"),
    [
        pytest.param(["EU"], 1000.0, 100.0, 0.0, ["CN"], id="EU-exempt"),
        pytest.param([], 1070.0, 65.0, 200.0, ["CN", "DE"], id="nobody-exempt"),
    ],
)
def test_crma_rule_exempts_eu_members(exempt, objective, de, shadow, limited):
    """The CRMA benchmark as a hard rule: at most 65 % from any single country, EU members
    exempt (DE names EU among its groups). de (DE) 10, cn (CN) 12.

    - EU exempt: DE is not limited, all 100 from de: objective 1000; the only row is CN's,
      slack (CN supplies nothing): shadow price 0.
    - nobody exempt: DE <= 65, the other 35 from cn: 650 + 420 = 1070; one more unit of share
      moves 100 units from cn to de: 100 * (12 - 10) = 200."""
    res = solve(crma_case(exempt))
    assert res.portfolio["objective"] == approx(objective)
    assert rows(res, "no_disruption")["purchase_de"].sum() == approx(de)
    lim = res.portfolio["limits"]["crma"]
    assert sorted(r["country"] for r in lim["rows"]) == limited
    assert lim["shadow_price"] == approx(shadow)


@pytest.mark.parametrize(
    ("benchmark", "cn", "over", "objective", "shadow"),
    [
        pytest.param(5, 100.0, 35.0, 1175.0, 500.0, id="penalty-5-cheaper-exceed"),
        pytest.param(15, 65.0, 0.0, 1350.0, 1000.0, id="penalty-15-dearer-comply"),
    ],
)
def test_benchmark_exceeded_exactly_where_penalty_is_cheaper(
    benchmark, cn, over, objective, shadow
):
    """CN at most 65 % as a benchmark of ``b`` euros per unit over it. cn (CN) 10, jp (JP) 20.
    Complying moves a unit from cn to jp at 20 - 10 = 10 euros; exceeding costs b.

    - b = 5 < 10: exceed by 35 (cn 100): objective 1000 + 35*5 = 1175; penalty 175; shadow
      price 100 * 5 = 500 (one more unit of share saves 100 units over).
    - b = 15 > 10: comply (cn 65, jp 35): objective 1350; shadow price 100 * 10 = 1000."""
    good = {"suppliers": {"cn": supplier("CN", 10, 1000), "jp": supplier("JP", 20, 1000)}}
    limits = {"cn_65": {"max_share": "65%", "countries": ["CN"], "benchmark": benchmark}}
    res = solve(scenario(good, risk={"limits": limits}))
    assert res.portfolio["objective"] == approx(objective)
    assert rows(res, "no_disruption")["purchase_cn"].sum() == approx(cn)
    lim = res.portfolio["limits"]["cn_65"]
    assert lim["hard"] is False
    assert lim["units_over"] == approx(over)
    assert lim["penalty"] == approx(over * benchmark)
    assert res.portfolio["cost"]["limit_penalties"] == approx(over * benchmark)
    assert lim["shadow_price"] == approx(shadow)
    c = res.portfolio["cost"]
    assert c["first_stage_economic"] + c["expected_second_stage"] + c["limit_penalties"] == approx(
        objective
    )


def test_hard_cap_forcing_normal_time_shortfall_warns():
    """cn (CN) 10 with 1000, jp (JP) 20 with only 20 a year; CN at most 65 % (hard).
    CN <= 0.65 * (CN + 20) -> CN <= 13 / 0.35 = 37.142857; shortfall 100 - 20 - 37.142857 =
    42.857143 at damage 100. Objective 371.42857 + 400 + 4285.7143 = 5057.1429.
    Shadow price: with share s, CN = 20 s / (1 - s) and the objective 8400 - 90 CN, so
    d objective / ds = -90 * 20 / 0.35^2 = -14693.878. The run warns in words."""
    good = {"suppliers": {"cn": supplier("CN", 10, 1000), "jp": supplier("JP", 20, 20)}}
    limits = {"cn_65": {"max_share": "65%", "countries": ["CN"]}}
    res = solve(scenario(good, risk={"limits": limits}))
    assert res.portfolio["objective"] == approx(371.42857142857 + 400 + 4285.7142857143)
    assert res.portfolio["scenarios"]["no_disruption"]["shortfall"][G] == approx(300 / 7)
    assert res.portfolio["limits"]["cn_65"]["shadow_price"] == pytest.approx(90 * 20 / 0.35**2)
    (warning,) = res.portfolio["warnings"]
    assert "`cn_65`" in warning and "42.86 units of gallium" in warning
    assert "benchmark" in warning


def test_benchmark_never_warns():
    """The same case with a benchmark of 1000 per unit over: exceeding (1000) is dearer than
    the shortfall it avoids (100 - 10 = 90), so the optimum is the hard one; still no warning,
    the user asked for a target, not a rule."""
    good = {"suppliers": {"cn": supplier("CN", 10, 1000), "jp": supplier("JP", 20, 20)}}
    limits = {"cn_65": {"max_share": "65%", "countries": ["CN"], "benchmark": "1k"}}
    res = solve(scenario(good, risk={"limits": limits}))
    assert res.portfolio["warnings"] == []


@pytest.mark.parametrize(
    ("limit", "path", "words"),
    [
        ({"max_share": "30%", "min_share": "10%"}, "risk.limits.bad", "not both"),
        ({"countries": ["CN"]}, "risk.limits.bad", "found neither"),
        ({"max_share": "30%", "goods": ["galium"]}, "risk.limits.bad.goods[0]", "unknown good"),
        ({"max_share": "130%"}, "risk.limits.bad.max_share", "<= 100 %"),
        ({"max_share": "30%", "per_country": "maybe"}, "risk.limits.bad.per_country", ""),
    ],
)
def test_bad_limits_are_located(limit, path, words):
    good = {"suppliers": {"cn": supplier("CN", 10, 1000)}}
    with pytest.raises(ScenarioError) as info:
        load_scenario_dict(scenario(good, risk={"limits": {"bad": limit}}))
    (issue,) = info.value.issues
    assert issue.path == path
    assert words in issue.message
    if "galium" in str(limit):
        assert issue.hint == "did you mean `gallium`?"


def test_governance_weighted_concentration_before_and_after():
    """Two suppliers: cn (CN, governance 2) at 10 with only 60 a year, cl (CL, governance 7)
    at 20; demand 100; CN at most 30 % (hard). Weights (10 - governance) / 10: CN 0.8, CL 0.3.

    Before (no levers, no limits, cheapest first): CN 60, CL 40.
    HHI 0.6^2 + 0.4^2 = 0.36 + 0.16 = 0.52; weighted 0.36*0.8 + 0.16*0.3 = 0.288 + 0.048 =
    0.336.
    After (the optimum under the cap): CN 30, CL 70. HHI 0.09 + 0.49 = 0.58: the plain index
    says *more* concentrated; weighted 0.09*0.8 + 0.49*0.3 = 0.072 + 0.147 = 0.219: less risky.
    """
    good = {"suppliers": {"cn": supplier("CN", 10, 60), "cl": supplier("CL", 20, 1000)}}
    limits = {"cn_30": {"max_share": "30%", "countries": ["CN"]}}
    data = scenario(good, risk={"limits": limits})
    data["countries"] = {"CN": {"governance": 2}, "CL": {"governance": "7.0"}}
    res = solve(data)
    v = res.portfolio["goods"][G]
    assert v["hhi"]["before"] == approx(0.52)
    assert v["hhi"]["after"] == approx(0.58)
    assert v["hhi_governance"]["before"] == approx(0.336)
    assert v["hhi_governance"]["after"] == approx(0.219)
    row = res.goods.iloc[0]
    assert row["hhi_governance_after"] == approx(0.219)


def test_governance_weighted_concentration_defaults():
    """No governance given: every country counts as 5 (weight 0.5), home production 0.
    cn (CN) 10 and a domestic plant (capex 5, unit cost 12, max 100) under a hard cap of 65 %
    on CN: CN 65, domestic 35 (17 per unit, no other supplier). Weighted after
    0.65^2 * 0.5 + 0.35^2 * 0 = 0.21125; before (suppliers only) CN 1.0 -> 0.5."""
    good = {
        "suppliers": {"cn": supplier("CN", 10, 1000)},
        "domestic": {"capex": 5, "unit_cost": 12, "max": 100},
    }
    limits = {"cn_65": {"max_share": "65%", "countries": ["CN"]}}
    res = solve(scenario(good, risk={"limits": limits}))
    v = res.portfolio["goods"][G]
    assert v["hhi_governance"]["after"] == approx(0.21125)
    assert v["hhi_governance"]["before"] == approx(0.5)


def test_floor_no_good_can_meet_warns_at_load():
    """A floor on friends (KR) for a good only CN supplies and nobody makes at home: only
    buying nothing meets it; the file loads with a warning on the floor's min_share."""
    good = {"suppliers": {"cn": supplier("CN", 10, 1000)}}
    limits = {"friends_floor": {"min_share": "50%", "countries": ["KR"]}}
    data = scenario(good, risk={"limits": limits})
    data["countries"]["KR"] = {}
    (warning,) = load_scenario_dict(data).warnings
    assert warning.path == "risk.limits.friends_floor.min_share"
    assert "no supplier of gallium" in warning.message


def test_terminal_summary_shows_limits_and_the_warning(tmp_path):
    """`stockpile run` prints each limit with its rule and its shadow price per percentage
    point (the forced-shortfall case: 14693.878 / 100 = 146.94 euros), and the warning."""
    import json

    import yaml
    from typer.testing import CliRunner

    from optimizer.cli import app

    good = {"suppliers": {"cn": supplier("CN", 10, 1000), "jp": supplier("JP", 20, 20)}}
    limits = {"cn_65": {"max_share": "65%", "countries": ["CN"]}}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario(good, risk={"limits": limits})))
    res = CliRunner().invoke(
        app,
        ["run", str(path), "--out", str(tmp_path / "out"), "--explain-limits"],
        catch_exceptions=False,
    )
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "Limits on supply shares" in text
    assert "at most 65% from the countries listed" in text
    assert "147" in text  # EUR per point of share, rounded
    assert "warning: limit `cn_65`" in text
    # --explain-limits: without the cap, cn covers all 100 (1000), so the cap costs
    # 5057.14 - 1000 = 4057.14 euros, in the summary and in portfolio.json
    assert "cost of the limit" in text
    pf = json.loads((tmp_path / "out" / "portfolio.json").read_text())
    assert pf["limits"]["cn_65"]["explained"]["cost"] == pytest.approx(5057.142857 - 1000)


def test_explain_limits_solves_again_without_each():
    """The group-cap case with a 65 % cap on CN too (concentration_cap): with both, cn 30,
    jp 70 (1700). Without the group cap, only CN <= 65 binds: cn 65 and the rest from ru
    (RU, 12, not capped), 650 + 35*12 = 1070, so the group cap costs 1700 - 1070 = 630.
    Without the concentration cap the group cap still holds (30 % < 65 %): 1700,
    cost 0. No cash in either (no first-stage lever)."""
    from optimizer.pipeline import RunConfig
    from optimizer.studies.explain_limits import explain_limits

    data = group_cap_case()
    data["risk"]["concentration_cap"] = {"share": "65%", "countries": ["CN"]}
    res = solve(data)
    assert res.portfolio["objective"] == approx(1700)
    out = explain_limits(res, RunConfig(mip_gap=1e-9))
    assert out["autocracies_total"]["objective_without"] == approx(1070)
    assert out["autocracies_total"]["cost"] == approx(630)
    assert out["autocracies_total"]["cash"] == approx(0)
    assert out["concentration_cap"]["cost"] == approx(0)
    assert res.portfolio["limits"]["autocracies_total"]["explained"]["cost"] == approx(630)
    assert res.portfolio["limits_explained"]["concentration_cap"]["cost"] == approx(0)


def test_report_shows_limits_their_cost_and_the_warning():
    """report.html of the forced-shortfall case, explained: a Limits section whose every
    tagged figure equals portfolio.json (units over, penalty, whole cost), the saving per
    percentage point (14693.878 / 100 = 146.94), and the warning in words."""
    import json

    from test_report import _check_figures, _parse

    from optimizer.pipeline import RunConfig
    from optimizer.results import dumps_json
    from optimizer.results.report import render_report
    from optimizer.studies.explain_limits import explain_limits

    good = {"suppliers": {"cn": supplier("CN", 10, 1000), "jp": supplier("JP", 20, 20)}}
    limits = {
        "cn_65": {"max_share": "65%", "countries": ["CN"]},
        "jp_cap": {"max_share": "90%", "countries": ["JP"], "benchmark": 5},
    }
    res = solve(scenario(good, risk={"limits": limits}))
    explain_limits(res, RunConfig(mip_gap=1e-9))
    pf = json.loads(dumps_json(res.portfolio))
    page = _parse(render_report(pf, res.loaded.resolved))
    keys = {el["attrs"].get("data-key") for el in page.elements}
    assert {"limits.jp_cap.units_over", "limits.cn_65.explained.cost"} <= keys
    assert _check_figures(page.elements, pf) > 0
    html = render_report(pf, res.loaded.resolved)
    assert "Limits on who supplies" in html and "EUR 146.94" in html
    assert "leaves 42.86 units of gallium unmet" in html


def test_limits_warn_when_no_drawn_future_is_free_of_disruption():
    """A risk model whose one event is certain: every draw is disrupted, no_disruption has
    probability 0, and a limit acting on it shapes nothing; the run says so."""
    good = {"suppliers": {"cn": supplier("CN", 10, 1000), "jp": supplier("JP", 20, 1000)}}
    limits = {"cn_65": {"max_share": "65%", "countries": ["CN"]}}
    data = scenario(good, risk={"limits": limits})
    data["risk_model"] = {
        "samples": 3,
        "events": {"ban": {"probability": "100%", "countries": ["CN"], "duration": "1 year",
                           "start": "0 months"}},
    }  # fmt: skip
    res = solve(data)
    assert res.portfolio["scenarios"]["no_disruption"]["probability"] == 0
    assert any("probability 0" in w for w in res.portfolio["warnings"])


def test_workbook_has_a_limits_sheet():
    """portfolio.xlsx gets a Limits sheet, one row per limit row: the benchmark case with
    b = 5 (35 units over, saving per point 500 / 100 = 5 euros)."""
    from optimizer.results.excel import portfolio_workbook

    good = {"suppliers": {"cn": supplier("CN", 10, 1000), "jp": supplier("JP", 20, 1000)}}
    limits = {"cn_65": {"max_share": "65%", "countries": ["CN"], "benchmark": 5}}
    res = solve(scenario(good, risk={"limits": limits}))
    ws = portfolio_workbook(res.portfolio, res.loaded.resolved)["Limits"]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, [c.value for c in ws[2]]))
    assert row["Limit"] == "cn_65" and row["Good"] == G
    assert row["Units over a cap or short of a floor (over the window)"] == approx(35)
    assert row["Saving from one more percentage point (EUR)"] == approx(5)
    assert row["Share reached (no disruption)"] == approx(1.0)


@pytest.mark.parametrize(
    ("benchmark", "cn", "objective", "penalties", "shadow"),
    [
        pytest.param(5, 100.0, 1587.5, 87.5, 250.0, id="exceed"),
        pytest.param(15, 65.0, 1675.0, 0.0, 500.0, id="comply"),
    ],
)
def test_benchmark_is_weighted_like_the_future_it_prices(
    benchmark, cn, objective, penalties, shadow
):
    """The benchmark case with a ban on CN (probability 50 %, the whole year): no_disruption
    has p0 = 0.5. Complying costs 0.5 * 10 per unit moved, exceeding 0.5 * b: the choice is
    the same as with p0 = 1 (exceed iff b < 10). In the ban jp supplies all 100 (2000).

    - b = 5: no_disruption cn 100 (1000) + 35 over (penalty 175); objective
      0.5 * (1000 + 175) + 0.5 * 2000 = 1587.5; limit_penalties 0.5 * 175 = 87.5; shadow
      price 0.5 * 5 * 100 = 250.
    - b = 15: comply (1350); objective 0.5 * 1350 + 1000 = 1675; shadow 0.5 * 10 * 100 = 500.
    """
    good = {"suppliers": {"cn": supplier("CN", 10, 1000), "jp": supplier("JP", 20, 1000)}}
    limits = {"cn_65": {"max_share": "65%", "countries": ["CN"], "benchmark": benchmark}}
    data = scenario(good, risk={"limits": limits}, disruptions={"ban": disruption(0.5)})
    res = solve(data)
    assert res.portfolio["objective"] == approx(objective)
    assert rows(res, "no_disruption")["purchase_cn"].sum() == approx(cn)
    assert res.portfolio["cost"]["limit_penalties"] == approx(penalties)
    assert res.portfolio["limits"]["cn_65"]["penalty"] == approx(2 * penalties)
    assert res.portfolio["limits"]["cn_65"]["shadow_price"] == approx(shadow)
    c = res.portfolio["cost"]
    total = c["first_stage_economic"] + c["expected_second_stage"] + c["limit_penalties"]
    assert total == approx(objective)
