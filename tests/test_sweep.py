"""Sweeps (``optimizer/sweep.py``): the frontier equals the hand-worked optimum at every level,
warm re-solves equal cold solves, the objective never rises with the budget, and ranges parse.

The hand-worked case (``frontier_case``), worked out from ``docs/model.md``:

- one good ``gallium``, demand 100 units/year, damage 100 EUR/unit, window 1 year, one period;
- ``cn`` (CN) sells at 10 with plenty of capacity; the disruption ``ban`` (p = 0.3) cuts CN
  completely for the whole year;
- ``jp`` (JP) sells at 30, has no spot capacity, and offers a reserve of up to 30 units/year
  at a fee of 5/unit/year;
- a stockpile at 20/unit, storage 2/unit/year, residual value 50 % (credit 10 per unit held at
  the end), release at most 60 a year.

Without any lever: 0.7 * 100 * 10 (no_disruption) + 0.3 * 100 * 100 (ban, all short) = 3700.

- A reserved unit costs 5 of cash and, in ``ban``, buys a unit at 30 instead of a shortfall
  at 100: saves 0.3 * 70 = 21, net 16 per unit, **3.2 per euro**, up to 30 units = 150 euros.
- A stocked unit costs 20 + 2 = 22 of cash; in no_disruption it earns the credit 10, in ban it
  is released and saves 100: net 22 - 0.7 * 10 - 0.3 * 100 = -15 per unit, **15/22 = 0.6818
  per euro**, up to 60 units = 1320 euros.
- Together (30 + 60 = 90 <= demand 100) they do not compete; the reserve is the better buy.

So with a total budget ``B`` (nothing else limits cash):

==============  =======================================  =================  ==========
B               objective                                marginal value     decisions
==============  =======================================  =================  ==========
0 .. 150        3700 - 3.2 B                             3.2                r = B/5
150 .. 1470     3700 - 480 - 15/22 (B - 150)             15/22              r = 30, s = (B-150)/22
>= 1470         3700 - 480 - 900 = 2320                  0 (slack)          r = 30, s = 60
==============  =======================================  =================  ==========

Shortfall in ban: 100 - r - s; expected loss 0.3 * 100 * (100 - r - s); CVaR 95 % = the loss
of ban, 100 * (100 - r - s) (ban holds 30 % of the probability, more than the 5 % tail).
The budget stops binding at 1470 (levels 1400 and 1500 lie on both sides of that kink).
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer.api import RunConfig, run
from optimizer.studies.levels import parse_param, parse_range
from optimizer.studies.sweep import sweep_budget
from optimizer.studies.sweep_frontier import FRONTIER_COLUMNS, GOODS_COLUMNS, find_switches
from optimizer.studies.sweep_param import sweep_param

G = "gallium"
TOL = {"rel": 1e-6, "abs": 1e-6}
DIRECT = RunConfig(interface="direct", mip_gap=1e-9)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
try:
    from generate import synthetic_scenario
except ImportError:  # pragma: no cover - the generator is written elsewhere
    synthetic_scenario = None


def approx(v):
    return pytest.approx(v, **TOL)


def supplier(country, unit_cost, capacity, **extra):
    return {"country": country, "unit_cost": unit_cost, "capacity": capacity, **extra}


def frontier_case(*, reserve: dict | None = None, stock: bool = True, **extra) -> dict:
    good: dict = {
        "demand": 100,
        "damage": 100,
        "suppliers": {
            "cn": supplier("CN", 10, 1000),
            "jp": supplier("JP", 30, 0, reserve=reserve or {"max": 30, "fee": 5}),
        },
    }
    if stock:
        good["stockpile"] = {
            "unit_cost": 20,
            "storage_cost": 2,
            "residual_value": "50%",
            "max_release": 60,
        }
    data = {
        "name": "hand-worked sweep",
        "window": {"years": 1, "period": "year"},
        "countries": {"CN": {}, "JP": {}},
        "goods": {G: good},
        "disruptions": {
            "ban": {
                "probability": 0.3,
                "duration": "1 year",
                "hits": [{"countries": ["CN"], "severity": 1.0}],
            }
        },
        **extra,
    }
    return copy.deepcopy(data)


def hand(B: float) -> dict:
    """The table of the module docstring at budget ``B``."""
    r = min(30.0, B / 5)
    s = min(60.0, max(0.0, (B - 150) / 22))
    short = 100 - r - s
    if B < 150:
        mv = 3.2
    elif B < 1470:
        mv = 15 / 22
    else:
        mv = 0.0
    return {
        "objective": 3700 - 16 * r - 15 * s,
        "marginal_value": mv,
        "cash_used": 5 * r + 22 * s,
        "expected_loss": 0.3 * 100 * short,
        "cvar": 100 * short,
        "reserve": r,
        "stock": s,
    }


def by_level_iterations(f: pd.DataFrame, level: float) -> int:
    return int(f.loc[np.isclose(f["level"], level), "iterations"].iloc[0])


# --- the hand-worked frontier -------------------------------------------------------------------


@pytest.mark.parametrize("interface", ["direct", "pyomo"])
def test_frontier_equals_hand_worked_optimum(interface):
    """Levels 0, 100, ..., 2000 of the total budget (the scenario has none: the sweep creates
    it). Every level matches the table of the module docstring, including 1400 (budget binding,
    marginal value 15/22) and 1500 (slack, 0) on both sides of the kink at 1470, and 100
    (3.2, the reserve) against 200 (15/22, the stock). The marginal value at 0 is not
    asserted: there the budget's dual is not unique (no smaller budget is feasible)."""
    res = sweep_budget(
        frontier_case(), parse_range("0:2000:21"), config=RunConfig(interface=interface)
    )
    f = res.frontier
    assert list(f.columns) == FRONTIER_COLUMNS
    assert f["level"].tolist() == approx([100.0 * i for i in range(21)])
    assert (f["status"] == "optimal").all()
    for _, row in f.iterrows():
        want = hand(row["level"])
        for col in ("objective", "cash_used", "expected_loss", "cvar"):
            assert row[col] == approx(want[col]), (row["level"], col)
        if row["level"] > 0:
            assert row["marginal_value"] == approx(want["marginal_value"]), row["level"]
    by_level = f.set_index("level")
    assert by_level.loc[1400, "marginal_value"] == approx(15 / 22)
    assert by_level.loc[1500, "marginal_value"] == approx(0.0)
    assert by_level.loc[1400, "objective"] == approx(3220 - 15 / 22 * 1250)
    assert by_level.loc[1500, "objective"] == approx(2320)
    # solved from the top down: the top level cold, every other warm from the one above
    assert f["warm"].tolist() == [True] * 20 + [False]
    # from 2000 down to 1500 the top level's cash (1470) fits under the budget: its optimum is
    # kept without calling the solver; below the kink (1400) the solver must work again
    assert (f.loc[(f["level"] >= 1500) & (f["level"] < 2000), "iterations"] == 0).all()
    assert by_level_iterations(f, 1400) > 0

    goods = res.goods
    assert list(goods.columns) == GOODS_COLUMNS
    for _, row in goods.iterrows():
        want = hand(row["level"])
        assert row["reserve_total"] == approx(want["reserve"])
        assert row["stock_buy"] == approx(want["stock"])
        assert row["cash"] == approx(want["cash_used"])
        assert row["worst_shortfall"] == approx(100 - want["reserve"] - want["stock"])

    assert res.switches == [
        (100.0, f"{G}: contract signed with jp"),
        (200.0, f"{G}: stockpile started"),
    ]
    # every warm level passed its optimality certificate; no cold checks by default
    assert res.timings["certified_levels"] == 20
    assert res.timings["certificate_failures"] == 0
    assert res.cold_checks == []
    assert res.warnings == []


def test_cold_checks_on_request_agree():
    """With ``cold_check_every=10`` the 10th and 20th levels solved (2000 first, then down) are
    also solved cold, and agree with their warm re-solves."""
    res = sweep_budget(frontier_case(), parse_range("0:2000:21"), cold_check_every=10)
    assert [c["level"] for c in res.cold_checks] == [100.0, 1100.0]
    assert all(c["agree"] for c in res.cold_checks)


def test_budget_line_sweep_and_its_kink():
    """Sweep the line ``stockpile_fund`` (levers: stockpile) of a scenario without a total: the
    reserve is unconstrained (30 units, saving 480), so objective = 3220 - 15/22 min(L, 1320);
    the line stops binding at 1320 (1300: 15/22; 1400: 0). Each level's portfolio reports its
    own limit."""
    data = frontier_case(
        budget={"lines": {"stockpile_fund": {"limit": 1, "levers": ["stockpile"]}}}
    )
    res = sweep_budget(data, parse_range("0:1500:16"), line="stockpile_fund", config=DIRECT)
    f = res.frontier.set_index("level")
    for level, row in f.iterrows():
        assert row["objective"] == approx(3220 - 15 / 22 * min(level, 1320))
        assert row["cash_used"] == approx(min(level, 1320))
    assert f.loc[1300, "marginal_value"] == approx(15 / 22)
    assert f.loc[1400, "marginal_value"] == approx(0)
    assert res.portfolios[3]["budget"]["lines"]["stockpile_fund"]["limit"] == approx(300)
    assert res.label == "budget line stockpile_fund"
    with pytest.raises(ValueError, match="no budget line 'nope'.*stockpile_fund"):
        sweep_budget(data, [1, 2], line="nope", config=DIRECT)


def test_initial_stock_storage_is_moved_to_the_right_hand_side():
    """Initial stock 10 (max 70, so still 60 more can be bought) costs 2 * 10 = 20 of storage
    whatever is decided: a budget below 20 is infeasible; above, the levers get ``B - 20``.
    Each level must equal an independent cold run at that budget."""
    data = frontier_case()
    data["goods"][G]["stockpile"].update({"initial": 10, "max": 70})
    levels = [0, 10, 20, 120, 500, 1000, 2000]
    res = sweep_budget(data, levels, config=DIRECT, cold_check_every=1)
    f = res.frontier
    assert f["status"].tolist()[:2] == ["infeasible", "infeasible"]
    assert (f["status"][2:] == "optimal").all()
    for level, obj in zip(f["level"][2:], f["objective"][2:]):
        ref = run(data, DIRECT, overrides=[f"budget.total={level}"])
        assert obj == approx(ref.objective)
    assert res.warnings == []
    assert f["cash_used"].iloc[3] == approx(120)


@pytest.mark.parametrize("background", [False, True])
def test_warm_equals_cold_at_every_level(background):
    """``cold_check_every=1``: every warm re-solve is checked against a cold solve in a fresh
    solver (right after the level, or all in a background process); all agree to 1e-6, and
    equal a separate ``run`` per level."""
    data = frontier_case()
    levels = [700, 50, 1600, 300, 300, 1100]  # unsorted, with a duplicate
    res = sweep_budget(
        data, levels, config=DIRECT, cold_check_every=1, cold_check_background=background
    )
    assert res.timings["cold_checks_in_background"] is background
    assert res.frontier["level"].tolist() == [50, 300, 700, 1100, 1600]
    assert len(res.cold_checks) == 4 and all(c["agree"] for c in res.cold_checks)
    for c in res.cold_checks:
        assert c["rel_diff"] <= 1e-9
    for level, obj in zip(res.frontier["level"], res.frontier["objective"]):
        assert obj == approx(run(data, DIRECT, overrides=[f"budget.total={level}"]).objective)


@pytest.mark.parametrize("interface", ["direct", "pyomo"])
def test_mip_frontier_with_a_fixed_contract_cost(interface):
    """No stock; the contract with jp has a fixed cost of 100 (binary). With budget B the
    contract is affordable from B = 100 and then reserves r = min(30, (B - 100)/5), saving
    16 r - 100: worth signing only when r > 6.25 (B > 131.25). Levels 0, 50, ..., 300:

    - 0, 50, 100: not signed, objective 3700 (all short in ban);
    - 150: r = 10, 3700 + 100 - 160 = 3640; 200: r = 20, 3480 (marginal value with the
      contract fixed: 3.2); 250: r = 30, 3320; 300: r = 30 (cash 250, slack), 3320, value 0.

    On ``direct`` each level from 50 on starts from the solution of the level below."""
    data = frontier_case(reserve={"max": 30, "fee": 5, "fixed_cost": 100}, stock=False)
    cfg = RunConfig(interface=interface, mip_gap=1e-9)
    res = sweep_budget(data, parse_range("0:300:7"), config=cfg, cold_check_every=3)
    f = res.frontier.set_index("level")
    want = {0: 3700, 50: 3700, 100: 3700, 150: 3640, 200: 3480, 250: 3320, 300: 3320}
    for level, obj in want.items():
        assert f.loc[level, "objective"] == approx(obj), level
    assert f.loc[200, "marginal_value"] == approx(3.2)
    assert f.loc[300, "marginal_value"] == approx(0)
    assert res.is_mip
    assert res.switches == [(150.0, f"{G}: contract signed with jp")]
    # solved at 300 first, then upwards from 0: each level but 0 starts from the one below
    assert res.frontier["warm"].tolist() == [False] + [interface == "direct"] * 5 + [False]
    assert all(c["agree"] for c in res.cold_checks)


def test_workers_give_the_same_frontier():
    """Levels spread over 2 worker processes (each with its own model) give the serial
    answers."""
    data = frontier_case()
    levels = parse_range("0:2000:9")
    serial = sweep_budget(data, levels, config=DIRECT)
    pooled = sweep_budget(data, levels, config=DIRECT, workers=2)
    assert pooled.workers == 2
    pd.testing.assert_series_equal(
        serial.frontier["objective"], pooled.frontier["objective"], rtol=1e-9
    )
    assert pooled.switches == serial.switches


# --- the property: more budget never costs more -------------------------------------------------


@pytest.mark.skipif(synthetic_scenario is None, reason="benchmarks/generate.py not available")
@pytest.mark.parametrize(
    ("seed", "integer"),
    [(0, False), (1, False), (2, False), (3, False), (5, False), (6, False), (4, True), (7, True)],
)
def test_objective_never_rises_as_the_budget_grows(seed, integer):
    """Random small scenarios (3 goods x 2 suppliers x 6 months x 3 disruptions, CVaR and
    sometimes the concentration cap included; budget lines dropped so that the total binds).
    From 0 to 1.2 x the cash the unconstrained optimum spends, every level with a solution has
    an objective no higher than the level before (LP to 1e-9 relative; MIP to its gap), a
    feasible level is never followed by an infeasible one, the marginal value is >= 0, and the
    budget binds at some level."""
    data = synthetic_scenario(3, 2, 6, 3, seed=seed, integer=integer)
    data["budget"] = {}
    free = run(data, DIRECT).portfolio["cost"]["first_stage_cash"]
    res = sweep_budget(data, np.linspace(0, 1.2 * free, 9), config=DIRECT, cold_check_every=4)
    f = res.frontier
    ok = (f["status"] == "optimal").to_numpy()
    assert ok[-1]
    assert np.all(ok[np.argmax(ok) :]), "a feasible level followed by an infeasible one"
    obj = f["objective"].to_numpy()[ok]
    tol = 1e-9 if not integer else 2e-9 + 2 * DIRECT.mip_gap
    assert np.all(np.diff(obj) <= tol * np.maximum(1.0, np.abs(obj[:-1])))
    assert obj[0] > obj[-1]
    mv = f["marginal_value"].to_numpy()[ok]
    assert (mv >= 0).all() and mv.max() > 0
    assert f["objective"].iloc[-1] == approx(run(data, DIRECT).objective)
    assert res.warnings == []


# --- parameter sweeps ---------------------------------------------------------------------------


def test_param_sweep_of_a_probability():
    """The stock alone (no reserve offer with capacity: jp's reserve max 0), probability p of
    ``ban`` from 5 % to 30 %. A stocked unit nets 22 - (1-p) 10 - 100 p = 12 - 90 p: bought
    (60 units, the release limit) only when p > 2/15. Objective = (1-p) 1000 + p 10000 - 60
    max(0, 90 p - 12) = 1000 + 9000 p - 60 max(0, 90 p - 12): 1450 at 5 %, 2800 at 30 %."""
    data = frontier_case(reserve={"max": 0, "fee": 5})
    key, values = parse_param("disruptions.ban.probability=5%:30%:6")
    res = sweep_param(data, key, values, config=DIRECT)
    f = res.frontier
    assert f["level"].tolist() == approx([0.05, 0.1, 0.15, 0.2, 0.25, 0.3])
    for p, obj in zip(f["level"], f["objective"]):
        assert obj == approx(1000 + 9000 * p - 60 * max(0.0, 90 * p - 12))
    assert f["marginal_value"].isna().all()  # no total budget
    assert f["cash_used"].tolist() == approx([0, 0, 1320, 1320, 1320, 1320])
    assert res.switches == [(0.15, f"{G}: stockpile started")]
    assert res.kind == "param" and res.key == "disruptions.ban.probability"


def test_param_sweep_list_items_workers_and_errors():
    """A list item addressed with brackets, over 2 processes; a non-numeric key is refused; a
    value out of range is the scenario's error."""
    from optimizer.scenario.errors import ScenarioError

    data = frontier_case(reserve={"max": 0, "fee": 5})
    res = sweep_param(
        data, "disruptions.ban.hits[0].severity", [0.0, 0.5, 1.0], config=DIRECT, workers=2
    )
    # severity s: cn delivers (1 - s) 100 in ban; with s = 1 the p = 0.3 case: 2800
    assert res.frontier["objective"].iloc[-1] == approx(2800)
    assert res.frontier["objective"].is_monotonic_increasing
    with pytest.raises(ValueError, match="not a number"):
        sweep_param(data, "window.period", [1, 2], config=DIRECT)
    with pytest.raises(ScenarioError):
        sweep_param(data, "disruptions.ban.probability", [1.5], config=DIRECT)


# --- results folder -----------------------------------------------------------------------------


def test_write_folder(tmp_path):
    res = sweep_budget(frontier_case(), parse_range("0:2k:5"), config=DIRECT)
    out = res.write(tmp_path / "sweep")
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        ".stockpile-results",  # the marker: only a folder holding it is ever replaced
        "frontier.csv",
        "frontier.png",
        "frontier_goods.csv",
        "report.html",
        "sweep.json",
    ]
    f = pd.read_csv(out / "frontier.csv")
    assert list(f.columns) == FRONTIER_COLUMNS and len(f) == 5
    assert len(pd.read_csv(out / "frontier_goods.csv")) == 5
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["swept"] == "budget.total"
    assert meta["timings"]["ratio"] > 0
    assert {"total_seconds", "first_seconds", "ratio"} <= set(meta["timings"])
    assert (out / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_find_switches_compares_with_the_previous_solved_level():
    def pf(buy, prepared=None):
        return {
            "goods": {
                "g": {
                    "stockpile": {"buy": buy},
                    "reserve": {},
                    "domestic": {"capacity": 0.0},
                    "demand_reduction": {"prepared": prepared},
                }
            }
        }

    pfs = [pf(0.0), {"goods": {}}, pf(5.0, True), pf(6.0, True), pf(0.0, True), pf(1.0, True)]
    assert find_switches([0, 1, 2, 3, 4, 5], pfs) == [
        (2.0, "g: stockpile started"),
        (2.0, "g: demand measures prepared"),
        (5.0, "g: stockpile started"),
    ]


# --- ranges -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0:400M:5", [0, 100e6, 200e6, 300e6, 400e6]),
        ("0:400M:21", list(np.linspace(0, 400e6, 21))),
        ("100k:1.2bn:2", [100e3, 1.2e9]),
        ("0%:100%:11", [i / 10 for i in range(11)]),
        ("0.05:30%:6", [0.05, 0.1, 0.15, 0.2, 0.25, 0.3]),
        (" 2.5e6 : 2.5M : 1 ", [2.5e6]),
        ("1_000:3_000:3", [1000, 2000, 3000]),
    ],
)
def test_parse_range(text, expected):
    assert parse_range(text).tolist() == approx(expected)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0:400M", "three parts"),
        ("0:400M:21:3", "three parts"),
        ("0::21", "three parts"),
        ("zero:400M:21", "amount of money"),
        ("0:400 apples:21", "amount of money"),
        ("0%:lots%:11", "share"),
        ("0:400M:20M", "a step size is not accepted"),
        ("0:400M:2.5", "whole number"),
        ("0:400M:0", "at least 1"),
        ("0:400M:1", "at least 2 STEPS"),
        ("0:1:1000000", "at most"),
        ("0:inf:3", "amount of money"),
    ],
)
def test_parse_range_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_range(text)


def test_parse_param_errors():
    assert parse_param("risk.concentration_cap.share=50%:80%:4")[0] == (
        "risk.concentration_cap.share"
    )
    with pytest.raises(ValueError, match="key.path=FROM:TO:STEPS"):
        parse_param("0:1:3")
    with pytest.raises(ValueError, match="three parts"):
        parse_param("disruptions.ban.probability=0.1")


def test_warm_resolves_use_devex_pricing_for_an_lp_only(monkeypatch):
    """A sweep re-solves its LP warm many times, so it asks HiGHS for Devex pricing
    (``simplex_dual_edge_weight_strategy`` 1) whatever ``pricing`` says: with steepest edge,
    every warm start recomputes all edge weights. ``pricing`` (default ``devex``) sets it for
    a plain LP run; ``choose`` leaves HiGHS's default; a MIP always keeps HiGHS's default."""
    key = "simplex_dual_edge_weight_strategy"

    def opts(is_mip=False, **kw):
        return RunConfig(**kw).solver_options(is_mip).highs_options()

    assert opts()[key] == 1
    assert opts(pricing="steepest_edge")[key] == 2
    assert key not in opts(pricing="choose")
    assert opts(pricing="steepest_edge", warm_resolves=True)[key] == 1
    assert key not in opts(is_mip=True, warm_resolves=True)
    assert key not in opts(is_mip=True, pricing="steepest_edge")
    warm = run(frontier_case(), RunConfig(interface="direct", pricing="choose", warm_resolves=True))
    assert warm.solver.h.getOptionValue(key)[1] == 1
    plain = run(frontier_case(), RunConfig(interface="direct", pricing="choose"))
    assert plain.solver.h.getOptionValue(key)[1] != 1

    import optimizer.studies.sweep as sweep_module

    seen = []

    def spy(src, config, overrides=()):
        seen.append(config)
        return run(src, config, overrides)

    monkeypatch.setattr(sweep_module, "run", spy)
    res = sweep_budget(frontier_case(), [100, 200], config=DIRECT)
    assert [c.warm_resolves for c in seen] == [True]
    assert res.frontier["objective"].tolist() == approx(
        [hand(100)["objective"], hand(200)["objective"]]
    )


def test_sweep_report_matches_the_frontier_and_names_the_kink(tmp_path):
    """``report.html`` of the hand-worked frontier (levels 0, 100, ..., 2000): every figure of
    its frontier table equals ``frontier.csv`` (``data-key`` ``frontier.<row>.<column>``);
    the findings say the budget stops binding between 1400 and 1500 (the kink at 1470 of the
    module docstring) and that a euro buys most where the marginal value is 3.2 (the reserve,
    below 150 euros); the chart is embedded and the switches listed."""
    import re
    from html import unescape

    res = sweep_budget(frontier_case(), parse_range("0:2000:21"), config=DIRECT)
    out = res.write(tmp_path / "sweep")
    html = (out / "report.html").read_text(encoding="utf-8")
    f = pd.read_csv(out / "frontier.csv")
    cells = re.findall(r'data-key="frontier\.(\d+)\.(\w+)" data-value="([^"]+)"', html)
    table = re.search(r'<section id="frontier">(.*?)</section>', html, re.S)[1]
    assert len(re.findall(r'data-key="frontier\.', table)) == 21 * 7 - 1  # no average at 0
    for row, col, value in cells:
        assert float(value) == approx(float(f.loc[int(row), col])), (row, col)
    findings = unescape(re.search(r'<section id="findings">(.*?)</section>', html, re.S)[1])
    text = re.sub(r"<[^>]+>", "", findings).replace("\xa0", " ")
    assert "stops binding between EUR 0.0014 M and EUR 0.0015 M" in text
    best = re.search(r'data-key="frontier\.(\d+)\.marginal_value" data-value="([^"]+)"', findings)
    assert float(best[2]) == approx(3.2)
    assert int(best[1]) in (0, 1)  # level 0 or 100: below the reserve's 150 euros
    assert 'data-chart="frontier"' in html and "data:image/png;base64," in html
    assert "gallium: contract signed with jp" in unescape(html)
    assert "gallium: stockpile started" in unescape(html)


def test_a_level_failing_its_certificate_is_solved_again_cold(monkeypatch):
    """If a warm level's optimality certificate fails (the rare wrong warm optimum), that
    level is solved again from scratch in a fresh solver and compared (here the warm answer
    was right, so the two agree and the level is recorded as checked), and a warning says so;
    the other levels are untouched. Level 1400 of the hand-worked case: 3220 - 15/22 * 1250."""
    import optimizer.studies.sweep as sweep_module
    from optimizer.solve.certificate import Certificate

    real = sweep_module.lp_certificate
    calls = []

    def flaky(lp, x, row_dual, **kw):
        calls.append(kw)
        cert = real(lp, x, row_dual, **kw)
        if len(calls) == 1:  # the first warm level checked: 1400, just below the top
            return Certificate(False, 0.0, 1.0, cert.primal, cert.dual, "made to fail")
        return cert

    monkeypatch.setattr(sweep_module, "lp_certificate", flaky)
    res = sweep_budget(frontier_case(), [1000, 1400, 1500], config=DIRECT)
    f = res.frontier.set_index("level")
    assert f.loc[1400, "objective"] == approx(3220 - 15 / 22 * 1250)
    assert [c["level"] for c in res.cold_checks] == [1400]
    assert res.cold_checks[0]["agree"]
    assert f.loc[1000, "objective"] == approx(hand(1000)["objective"])
    assert res.timings["certificate_failures"] == 1
    assert any("1,400" in w and "made to fail" in w for w in res.warnings)
    assert all("row_upper" in kw for kw in calls)  # each level checked against its own bounds


def test_the_certificate_checks_the_bounds_it_is_given():
    """The optimum at budget 1400 satisfies its own budget row but not the bounds of budget
    1000: checked against those (as a sweep's thread would be, by mistake), it fails."""
    from optimizer.solve.certificate import lp_certificate

    r = run(frontier_case(budget={"total": 1400}), DIRECT)
    lp, row = r.model.lp, r.model.budget_rows["total"]
    assert lp_certificate(lp, r.solve.x, r.solve.row_dual).ok
    upper = lp.row_upper
    upper[row] -= 400
    cert = lp_certificate(lp, r.solve.x, r.solve.row_dual, row_upper=upper)
    assert not cert.ok and "violated" in cert.reason


# --- parameter sweeps: one HiGHS updated in place ------------------------------------------


def test_param_sweep_re_solves_warm_in_place():
    """The probability sweep of ``test_param_sweep_of_a_probability`` (a LP): the first value
    is a cold run; every later value only changes numbers of the same model (the scenario
    probabilities weight the costs), so HiGHS takes them in place and re-solves warm from the
    previous basis, and every warm answer passes its certificate. Objectives as there:
    1000 + 9000 p - 60 max(0, 90 p - 12)."""
    data = frontier_case(reserve={"max": 0, "fee": 5})
    res = sweep_param(data, "disruptions.ban.probability", [0.05, 0.1, 0.2, 0.3], config=DIRECT)
    f = res.frontier
    assert f["warm"].tolist() == [False, True, True, True]
    assert res.timings["certified_levels"] == 3 and res.timings["certificate_failures"] == 0
    for p, obj in zip(f["level"], f["objective"]):
        assert obj == approx(1000 + 9000 * p - 60 * max(0.0, 90 * p - 12))
    # an explicit Pyomo interface keeps the rebuild: every value cold
    res = sweep_param(
        data, "disruptions.ban.probability", [0.05, 0.3], config=RunConfig(interface="pyomo")
    )
    assert res.frontier["warm"].tolist() == [False, False]
    assert res.frontier["objective"].tolist() == approx([1450, 2800])


def test_param_sweep_with_another_shape_is_solved_cold():
    """``window.years`` changes the number of periods, hence the model's shape: each value is
    a fresh cold run (``warm`` False), equal to a separate ``run`` at that value. What is
    checked here is the fallback, not an optimum: the in-place path is checked against the
    hand-worked optimum in ``test_param_sweep_re_solves_warm_in_place``."""
    data = frontier_case(reserve={"max": 0, "fee": 5})
    res = sweep_param(data, "window.years", [1, 2], config=DIRECT)
    assert res.frontier["warm"].tolist() == [False, False]
    for years, obj in zip(res.frontier["level"], res.frontier["objective"]):
        ref = run(data, DIRECT, overrides=[f"window.years={int(years)}"])
        assert obj == approx(ref.objective)


@pytest.mark.skipif(synthetic_scenario is None, reason="benchmarks/generate.py not found")
@pytest.mark.parametrize(
    "key, values, warm",
    [
        ("disruptions.disruption_001.probability", [0.01, 0.2, 0.5], [0, 1, 1]),  # costs
        ("disruptions.disruption_001.price_multiplier", [1.0, 3.0, 8.0], [0, 1, 1]),  # costs
        ("disruptions.disruption_001.hits[0].severity", [0.2, 0.6, 1.0], [0, 1, 1]),  # bounds
        # weight 0 has no CVaR terms at all: 0 -> 0.5 changes the shape (cold), 0.5 -> 1 not
        ("risk.cvar.weight", [0.0, 0.5, 1.0], [0, 0, 1]),
    ],
)
def test_warm_param_sweep_equals_separate_runs(key, values, warm):
    """On the ladder's S scenario as an LP, a parameter sweep re-solves in place where the
    model keeps its shape and cold where it does not, and gives at every value the objective
    of a separate cold run with that value (1e-7 relative)."""
    data = synthetic_scenario(10, 4, 24, 10, seed=0, integer=False)
    res = sweep_param(data, key, values, config=DIRECT)
    assert res.frontier["warm"].tolist() == [bool(w) for w in warm]
    assert (res.frontier["status"] == "optimal").all()
    for v, obj in zip(res.frontier["level"], res.frontier["objective"]):
        ref = run(data, DIRECT, overrides=[f"{key}={v!r}"])
        assert obj == pytest.approx(ref.objective, rel=1e-7), (key, v)
    assert res.warnings == [w for w in res.warnings if "certificate" not in w]


def test_direct_solver_update_takes_numbers_in_place():
    """``DirectHighs.update``: a rebuild with other costs, bounds and coefficients (demand
    100 -> 150, damage 100 -> 120, the ban's severity 1 -> 0.5) is taken in place and re-solved
    to the optimum of a fresh solve; a model of another shape (2 years) is refused and the
    solver keeps its model."""
    from optimizer.data import prepare
    from optimizer.model import build_model
    from optimizer.scenario import load_scenario_dict

    data = frontier_case()
    first = run(data, DIRECT)
    other = copy.deepcopy(data)
    other["goods"][G].update({"demand": 150, "damage": 120})
    other["disruptions"]["ban"]["hits"][0]["severity"] = 0.5
    loaded = load_scenario_dict(other)
    built = build_model(loaded.scenario, prepare(loaded.scenario))
    assert first.solver.update(built.lp)
    warm = first.solver.solve()
    assert warm.objective == approx(run(other, DIRECT).objective)
    longer = load_scenario_dict({**data, "window": {"years": 2, "period": "year"}})
    shaped = build_model(longer.scenario, prepare(longer.scenario))
    assert not first.solver.update(shaped.lp)
    assert first.solver.lp is built.lp


def test_direct_solver_update_changes_matrix_coefficients():
    """The concentration cap's share sits in the matrix (purchases from capped countries <=
    share x all purchases): 65 % -> 40 % changes coefficients only, which ``update`` hands to
    HiGHS one by one; the warm re-solve equals a fresh run at 40 %."""
    from optimizer.data import prepare
    from optimizer.model import build_model
    from optimizer.scenario import load_scenario_dict

    data = frontier_case(risk={"concentration_cap": {"share": 0.65, "countries": ["CN"]}})
    data["goods"][G]["suppliers"]["jp"]["capacity"] = 100  # so that a cap can be met
    first = run(data, DIRECT)
    tighter = copy.deepcopy(data)
    tighter["risk"]["concentration_cap"]["share"] = 0.4
    loaded = load_scenario_dict(tighter)
    built = build_model(loaded.scenario, prepare(loaded.scenario))
    old, new = first.model.lp.matrix, built.lp.matrix
    assert first.model.lp.same_shape(built.lp)
    assert (old.data != new.data).any()  # coefficients differ, not only costs or bounds
    assert first.solver.update(built.lp)
    warm = first.solver.solve()
    assert warm.status == "optimal"
    assert warm.objective == approx(run(tighter, DIRECT).objective)
    assert warm.objective > first.objective  # a tighter cap costs more
