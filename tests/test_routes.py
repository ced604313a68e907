"""Shipping routes and chokepoints (``routes:``, a supplier's or country's ``route``) and
``shipping_time``: a hit on a route cuts every supplier on it; a far supplier's extra
deliveries in a disruption arrive later. Each case worked out by hand.

Case (``CASE``): ``gallium``, demand 100 a year, damage 1000 per unit, window 1 year in one
period. ``cn`` (CN, 10 per unit, 60 a year) ships through the Red Sea (CN's default
``route: [red_sea]``); ``tr`` (TR, 15 per unit, 100 a year) is near and passes no route.
``closure`` (probability 50 %, the whole year) hits ``red_sea`` at 70 %. A second good
``germanium`` (bought from ``jp`` in JP, no route) is there to show what a route hit leaves
alone.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from test_model_terms import CONFIGS, approx, supplier

from optimizer.api import RunConfig, run
from optimizer.data import prepare
from optimizer.scenario import ScenarioError, load_scenario, load_scenario_dict

CASE = {
    "name": "routes",
    "window": {"years": 1, "period": "year"},
    "routes": {"red_sea": {"name": "Red Sea / Suez", "source": "assumption"}, "malacca": {}},
    "groups": {"asia": ["CN", "JP"]},
    "countries": {"CN": {"route": ["red_sea"]}, "TR": {}, "JP": {}},
    "goods": {
        "gallium": {
            "demand": 100,
            "damage": 1000,
            "suppliers": {"cn": supplier("CN", 10, 60), "tr": supplier("TR", 15, 100)},
        },
        "germanium": {"demand": 10, "damage": 1000, "suppliers": {"jp": supplier("JP", 5, 20)}},
    },
    "disruptions": {
        "closure": {
            "probability": "50%",
            "duration": "1 year",
            "hits": [{"countries": ["red_sea"], "severity": "70%"}],
        }
    },
}


def solve(data: dict, **config):
    config.setdefault("mip_gap", 1e-9)
    res = run(data, config=RunConfig(**config))
    assert res.status == "optimal"
    return res


def bought(res, scen: str, name: str, good: str = "gallium") -> float:
    df = res.periods
    return float(df[(df["scenario"] == scen) & (df["good"] == good)][f"purchase_{name}"].sum())


def avail(data: dict, name: str, k: int = 1, t: int = 0) -> float:
    d = prepare(load_scenario_dict(data).scenario)
    return float(d.avail[k, d.supplier_names.index(name), t])


# --- a hit on a route ---------------------------------------------------------------------------


@pytest.mark.parametrize("config", CONFIGS)
def test_red_sea_hit_shifts_supply_to_the_near_supplier(config):
    """no_disruption: 60 from cn at 10 (600) and the other 40 from tr at 15 (600): 1200.
    closure: cn on the Red Sea delivers 60 * (1 - 0.7) = 18 (180); tr makes up 82 (1230): 1410.
    Objective 0.5 * 1200 + 0.5 * 1410 = 1305. germanium is untouched: 10 from jp at 5 = 50 in
    both futures, objective 1355. No shortfall anywhere. Of gallium's no-disruption supply,
    60 / 100 = 0.6 passes the Red Sea; germanium's supplier passes no route."""
    res = solve(copy.deepcopy(CASE), **config)
    assert bought(res, "closure", "cn") == approx(18)
    assert bought(res, "closure", "tr") == approx(82)
    assert bought(res, "no_disruption", "cn") == approx(60)
    assert bought(res, "closure", "jp", "germanium") == approx(10)
    assert res.portfolio["objective"] == approx(1355)
    assert res.portfolio["scenarios"]["closure"]["shortfall"]["gallium"] == approx(0)
    assert res.portfolio["goods"]["gallium"]["route_shares"] == {"red_sea": approx(0.6)}
    assert res.portfolio["goods"]["germanium"]["route_shares"] == {}


def test_without_routes_portfolio_has_no_route_shares():
    """A file without routes keeps portfolio.json as it was (no ``route_shares`` key)."""
    data = copy.deepcopy(CASE)
    del data["routes"]
    data["countries"]["CN"] = {}
    data["disruptions"]["closure"]["hits"] = [{"countries": ["CN"], "severity": "70%"}]
    res = solve(data)
    assert "route_shares" not in res.portfolio["goods"]["gallium"]


@pytest.mark.parametrize(
    ("hits", "expected"),
    [
        pytest.param([{"countries": ["red_sea"], "severity": "70%"}], 0.3, id="route-alone"),
        pytest.param(
            [
                {"countries": ["red_sea"], "severity": "70%"},
                {"countries": ["CN"], "severity": "50%"},
            ],
            0.3,
            id="route-70-country-50-largest",
        ),
        pytest.param(
            [
                {"countries": ["red_sea"], "severity": "70%"},
                {"countries": ["CN"], "severity": "90%"},
            ],
            0.1,
            id="route-70-country-90-largest",
        ),
        pytest.param(
            [{"countries": ["CN", "red_sea"], "severity": "50%"}], 0.5, id="one-hit-both-names"
        ),
        pytest.param(
            [{"countries": ["red_sea"], "goods": ["germanium"], "severity": "70%"}],
            1.0,
            id="hit-names-another-good",
        ),
        pytest.param([{"countries": ["malacca"]}], 1.0, id="another-route"),
    ],
)
def test_route_and_country_hits_take_the_largest_severity(hits, expected):
    """cn is in CN and on the Red Sea. Overlapping hits do not compound (docs/model.md): its
    availability is 1 - the largest severity of the hits that reach it through its country
    or its route. 70 % on the route alone: 0.3; with 50 % on CN: max(0.7, 0.5) = 0.7 -> 0.3;
    with 90 % on CN: 0.1; one hit naming both at 50 %: 0.5 (not 0.25); a hit on the route
    that names only germanium leaves gallium's cn whole (1.0); a hit on the Strait of
    Malacca, which cn does not pass, too (1.0)."""
    data = copy.deepcopy(CASE)
    data["disruptions"]["closure"]["hits"] = hits
    assert avail(data, "cn") == approx(expected)
    assert avail(data, "cn", k=0) == approx(1.0)
    assert avail(data, "tr") == approx(1.0)


def test_route_hit_multiplies_with_an_origin_cut():
    """A supplier on a route that also has an upstream origin: the route counts like its own
    country (whole flow), the origin in proportion. jp2 (JP, on the Red Sea, origin CN 50 %)
    with the Red Sea at 70 % and CN at 100 %: (1 - 0.7) * (1 - 0.5 * 1.0) = 0.15."""
    data = copy.deepcopy(CASE)
    data["goods"]["gallium"]["suppliers"]["jp2"] = supplier(
        "JP", 12, 50, route="red_sea", origin={"CN": "50%"}
    )
    data["disruptions"]["closure"]["hits"] = [
        {"countries": ["red_sea"], "severity": "70%"},
        {"countries": ["CN"], "severity": "100%"},
    ]
    assert avail(data, "jp2") == approx(0.15)


def test_a_hit_that_names_no_goods_covers_the_goods_on_the_route():
    """The closure names no goods: it covers gallium (cn passes the Red Sea) and not
    germanium (jp passes no route). With jp put on the Red Sea too, germanium is hit as well,
    and a supplier-level ``route: []`` takes cn off its country's default route."""
    data = copy.deepcopy(CASE)
    d = prepare(load_scenario_dict(data).scenario)
    assert d.disrupted[1, :, 0].tolist() == [True, False]
    data["goods"]["germanium"]["suppliers"]["jp"]["route"] = ["malacca", "red_sea"]
    data["goods"]["gallium"]["suppliers"]["cn"]["route"] = []
    d = prepare(load_scenario_dict(data).scenario)
    assert d.disrupted[1, :, 0].tolist() == [False, True]
    assert avail(data, "jp") == approx(0.3)
    assert avail(data, "cn") == approx(1.0)


def test_risk_model_event_on_a_route():
    """A risk model whose one event is certain (probability 100 %, from the window's start,
    the whole year) and closes the Red Sea at 70 %: every draw is the same future, in which
    cn delivers 30 % and tr, off the route, 100 %, as with the hand-written closure."""
    data = copy.deepcopy(CASE)
    del data["disruptions"]
    data["risk_model"] = {
        "samples": 5,
        "events": {"closure": {"probability": "100%", "countries": ["red_sea"],
                               "severity": "70%", "duration": "1 year", "start": "0 months"}},
    }  # fmt: skip
    d = prepare(load_scenario_dict(data).scenario)
    assert d.avail[:, d.supplier_names.index("cn"), 0].min() == approx(0.3)
    assert d.avail[:, d.supplier_names.index("tr"), 0].min() == approx(1.0)
    assert not d.disrupted[:, 1, :].any()  # germanium: not on the route


def test_resolved_scenario_keeps_route_names_and_reloads():
    """``resolved.yaml`` keeps the route in the hit (a route is not expanded like a group),
    and loading the resolved data again gives the same scenario."""
    loaded = load_scenario_dict(copy.deepcopy(CASE))
    assert loaded.resolved["disruptions"]["closure"]["hits"][0]["countries"] == ["red_sea"]
    again = load_scenario_dict(copy.deepcopy(loaded.resolved))
    assert again.scenario == loaded.scenario


# --- shipping time ------------------------------------------------------------------------------

SHIP = {
    "name": "shipping time",
    "window": {"years": 1, "period": "quarter"},
    "countries": {"CN": {}, "US": {}},
    "goods": {
        "gallium": {
            "demand": 100,
            "damage": 1000,
            "suppliers": {
                "cn": supplier("CN", 10, 100),
                "us": supplier("US", 20, 100, shipping_time="6 months"),
            },
        }
    },
    "disruptions": {
        "ban": {"probability": "50%", "duration": "1 year", "hits": [{"countries": ["CN"]}]}
    },
}


@pytest.mark.parametrize("config", CONFIGS)
def test_shipping_time_delays_spot_deliveries(config):
    """Quarters; demand 25 a quarter. no_disruption: 100 from cn at 10 = 1000. ban (all year,
    CN at 100 %): us's spot deliveries arrive only after 0 + 6 months = 2 quarters, so
    quarters 1-2 are 50 short (50000) and quarters 3-4 take 50 from us at 20 (1000): 51000.
    Objective 0.5 * 1000 + 0.5 * 51000 = 26000."""
    res = solve(copy.deepcopy(SHIP), **config)
    assert bought(res, "ban", "us") == approx(50)
    assert res.portfolio["scenarios"]["ban"]["shortfall"]["gallium"] == approx(50)
    assert res.portfolio["objective"] == approx(26000)


@pytest.mark.parametrize(
    ("us", "country", "objective"),
    [
        pytest.param({}, {}, 1500, id="no-shipping-time"),
        pytest.param({}, {"shipping_time": "6 months"}, 26000, id="country-default"),
        pytest.param({"shipping_time": "0 months"}, {"shipping_time": "6 months"}, 1500,
                     id="supplier-overrides-country"),
        pytest.param({"shipping_time": "3 months", "spot_lead_time": "3 months"}, {}, 26000,
                     id="adds-to-spot-lead-time"),
        pytest.param({"shipping_time": "3 months"}, {}, 0.5 * 1000 + 0.5 * (25000 + 1500),
                     id="one-quarter"),
    ],
)  # fmt: skip
def test_shipping_time_sources_and_sum(us, country, objective):
    """Without shipping time us delivers all year in the ban: 100 at 20, objective
    0.5 * 1000 + 0.5 * 2000 = 1500. The country's 6 months apply when the supplier gives
    none (26000 as above); the supplier's own 0 wins over its country's. 3 months of spot lead
    time plus 3 of shipping time delay by 2 quarters, as 6 months of shipping (26000). 3
    months alone: 1 quarter short (25 * 1000) and 75 from us (1500): 0.5 * 1000 + 0.5 *
    26500 = 13750."""
    data = copy.deepcopy(SHIP)
    sup = data["goods"]["gallium"]["suppliers"]["us"]
    del sup["shipping_time"]
    sup.update(us)
    data["countries"]["US"].update(country)
    res = solve(data)
    assert res.portfolio["objective"] == approx(objective)


@pytest.mark.parametrize("config", CONFIGS)
def test_reserved_capacity_is_not_delayed_by_shipping_time(config):
    """us offers a reservation (up to 100 a year, fee 5 per unit a year). Reserving 100 costs
    500 and lets us deliver from the first quarter of the ban (the contracted flow is already
    under way): ban 100 from us at 20 = 2000, no shortfall. Objective 500 + 0.5 * 1000 +
    0.5 * 2000 = 2000, below 26000 without it, so the model reserves all 100."""
    data = copy.deepcopy(SHIP)
    data["goods"]["gallium"]["suppliers"]["us"]["reserve"] = {"max": 100, "fee": 5}
    res = solve(data, **config)
    assert res.portfolio["goods"]["gallium"]["reserve"]["us"] == approx(100)
    assert res.portfolio["objective"] == approx(2000)


# --- bad input ----------------------------------------------------------------------------------


def _one_issue(data: dict, tmp_path: Path):
    """The one error of ``data`` written to a file, with its file and line."""
    path = tmp_path / "routes.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (issue,) = info.value.issues
    assert issue.file == str(path)
    assert issue.line is not None and issue.line > 0
    return issue, path.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    ("edit", "path", "words", "hint"),
    [
        pytest.param(
            lambda d: d["goods"]["gallium"]["suppliers"]["tr"].update(route=["red_see"]),
            "goods.gallium.suppliers.tr.route[0]",
            "unknown route `red_see`",
            "red_sea",
            id="unknown-route-of-a-supplier",
        ),
        pytest.param(
            lambda d: d["countries"]["TR"].update(route=["malaca"]),
            "countries.TR.route[0]",
            "unknown route `malaca`",
            "malacca",
            id="unknown-route-of-a-country",
        ),
        pytest.param(
            lambda d: d["disruptions"]["closure"]["hits"][0].update(countries=["red_see"]),
            "disruptions.closure.hits[0].countries[0]",
            "red_see",
            "red_sea",
            id="unknown-route-in-a-hit",
        ),
        pytest.param(
            lambda d: d["routes"].update(TR={"name": "Turkish straits"}),
            "routes.TR",
            "both a route and a country",
            "TR_route",
            id="clash-with-a-country",
        ),
        pytest.param(
            lambda d: d["routes"].update(asia={}),
            "routes.asia",
            "both a route and a group",
            "asia_route",
            id="clash-with-a-group",
        ),
        pytest.param(
            lambda d: d["goods"]["gallium"]["suppliers"]["tr"].update(shipping_time="-2 weeks"),
            "goods.gallium.suppliers.tr.shipping_time",
            "duration",
            None,
            id="negative-shipping-time",
        ),
        pytest.param(
            lambda d: d["countries"]["CN"].update(shipping_time=6),
            "countries.CN.shipping_time",
            "needs a unit",
            None,
            id="shipping-time-without-unit",
        ),
        pytest.param(
            lambda d: d.setdefault("risk", {}).update(
                limits={"cap": {"max_share": "50%", "countries": ["red_sea"]}}
            ),
            "risk.limits.cap.countries[0]",
            "is a route, not a country",
            "countries",
            id="route-in-a-limit",
        ),
    ],
)
def test_bad_route_input_is_located(edit, path, words, hint, tmp_path):
    """Every new key's mistake: the message names the file, the line that holds the key, the
    key path, what is wrong, and (for a name) the nearest valid one."""
    data = copy.deepcopy(CASE)
    edit(data)
    issue, lines = _one_issue(data, tmp_path)
    assert issue.path == path
    assert words in issue.message
    line = lines[issue.line - 1]  # the key, or the list item that holds the wrong name
    assert path.split(".")[-1].split("[")[0] in line or issue.message.split("`")[1] in line
    if hint is not None:
        assert hint in issue.hint


@pytest.mark.parametrize("groups", [True, False], ids=["with-groups", "without-groups"])
def test_route_in_a_limit_or_cap_is_refused(groups):
    """A limit's or the concentration cap's list counts countries: a route there is refused
    with the same words whether the group step (groups declared) or the reference checks
    (no groups) read the list."""
    data = copy.deepcopy(CASE)
    if not groups:
        del data["groups"]
    data["risk"] = {
        "limits": {"cap": {"max_share": "50%", "countries": ["CN", "red_sea"]}},
        "concentration_cap": {"share": "65%", "countries": ["red_sea"]},
    }
    with pytest.raises(ScenarioError) as info:
        load_scenario_dict(data)
    paths = sorted(issue.path for issue in info.value.issues)
    assert paths == ["risk.concentration_cap.countries[0]", "risk.limits.cap.countries[1]"]
    assert all("is a route, not a country" in i.message for i in info.value.issues)


def test_unused_route_warns():
    """A route no supplier passes: a hit on it cuts nothing, which the load says."""
    loaded = load_scenario_dict(copy.deepcopy(CASE))
    (warning,) = [w for w in loaded.warnings if w.path == "routes.malacca"]
    assert "cuts nothing" in warning.message


def test_single_route_name_is_a_list_of_one():
    """``route: red_sea`` reads as ``[red_sea]``."""
    data = copy.deepcopy(CASE)
    data["countries"]["CN"]["route"] = "red_sea"
    scenario = load_scenario_dict(data).scenario
    assert scenario.countries["CN"].route == ["red_sea"]


@pytest.mark.parametrize("groups", [True, False], ids=["with-groups", "without-groups"])
def test_misspelt_route_in_a_hit_gets_did_you_mean(groups):
    """With or without groups (two different steps read the hit's list), a misspelt route in
    a hit gets the nearest route as a hint."""
    data = copy.deepcopy(CASE)
    if not groups:
        del data["groups"]
    data["disruptions"]["closure"]["hits"][0]["countries"] = ["red_see"]
    with pytest.raises(ScenarioError) as info:
        load_scenario_dict(data)
    (issue,) = info.value.issues
    assert issue.path == "disruptions.closure.hits[0].countries[0]"
    assert "route `red_see`" in issue.message
    assert "`red_sea`" in issue.hint


def test_terminal_says_the_route_share_in_one_sentence():
    """The terminal's sentence carries portfolio.json's route shares: gallium 60 % through
    red_sea (the first case by hand); nothing for a good whose supplier passes no route."""
    from optimizer.cli.run import route_line

    res = solve(copy.deepcopy(CASE))
    line = route_line(res.portfolio)
    assert line == "Normal supply through shipping routes: gallium 60% through red_sea."
    assert route_line({"goods": {"g": {"route_shares": {}}}}) == ""


def test_report_says_the_route_share_in_one_sentence():
    """The report's sentence carries the same 60 % (gallium through red_sea, by hand above),
    tagged with its portfolio.json path, and the route's display name, escaped."""
    from optimizer.results.report import render_report

    data = copy.deepcopy(CASE)
    data["routes"]["red_sea"]["name"] = "Red Sea <Suez>"
    res = solve(data)
    html = render_report(res.portfolio, res.loaded.resolved)
    assert 'data-key="goods.gallium.route_shares.red_sea"' in html
    assert "60%</span> through Red Sea &lt;Suez&gt;" in html
    assert "<Suez>" not in html


@pytest.mark.parametrize(
    ("case", "objective"),
    [pytest.param(CASE, 1355, id="red-sea"), pytest.param(SHIP, 26000, id="shipping-time")],
)
def test_decomposition_finds_the_same_hand_worked_optimum(case, objective):
    """The route cut and the shipping delay live in the per-future data, so the decomposition
    (one subproblem per future) finds the objectives worked out above: 1355 and 26000."""
    res = solve(copy.deepcopy(case), method="decomposed")
    assert res.portfolio["solver"]["method"]["used"] == "decomposed"
    assert res.portfolio["objective"] == approx(objective)


def test_set_changes_a_route_never_creates_one():
    """``--set`` may change a declared route and a supplier's route, never add a route."""
    loaded = load_scenario_dict(
        copy.deepcopy(CASE),
        overrides=["routes.red_sea.name=Suez", "goods.gallium.suppliers.tr.route=red_sea"],
    )
    assert loaded.scenario.routes["red_sea"].name == "Suez"
    assert loaded.scenario.goods["gallium"].suppliers["tr"].route == ["red_sea"]
    with pytest.raises(ScenarioError) as info:
        load_scenario_dict(copy.deepcopy(CASE), overrides=["routes.cape.name=Cape"])
    [issue] = info.value.issues
    assert "has no route `cape`" in issue.message
    assert "red_sea, malacca" in issue.message
