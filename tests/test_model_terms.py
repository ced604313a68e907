"""One test per model term, each on a tiny scenario whose optimum is worked out by hand.

Every expected number follows ``docs/model.md`` (the model as implemented). Each docstring lists
the alternatives, what each costs and why the optimum is the one asserted. The cases are built so
that the asserted decisions are unique (no ties between levers, no degenerate optima).

Conventions used in every case unless the docstring says otherwise:

- one good ``gallium`` with demand 100 units/year and damage 100 EUR/unit;
- supplier ``cn`` in country CN at 10 EUR/unit with plenty of spot capacity;
- a disruption ``ban`` that cuts CN completely (severity 1) for the whole window;
- window 1 year, period = year (so one period, Y = 1, P = 1).

Notation: ``p`` the probability of the disruption, ``x`` the units bought into the stockpile,
``a`` the stockpile's unit cost, ``h`` its storage cost per unit per year, ``rv`` its residual
value share (a unit still held at the window's end earns ``rv * a`` in that scenario; a released
unit earns nothing).
"""

from __future__ import annotations

import copy

import pytest

from optimizer.api import RunConfig, run

G = "gallium"
TOL = {"rel": 1e-6, "abs": 1e-6}


def approx(value: float):
    return pytest.approx(value, **TOL)


# --- scenario builders --------------------------------------------------------------------------


def supplier(country: str, unit_cost: float, capacity: float, **extra) -> dict:
    return {"country": country, "unit_cost": unit_cost, "capacity": capacity, **extra}


def disruption(
    probability,
    *,
    countries=("CN",),
    severity=1.0,
    duration="1 year",
    start=None,
    **extra,
) -> dict:
    d = {
        "probability": probability,
        "duration": duration,
        "hits": [{"countries": list(countries), "severity": severity}],
        **extra,
    }
    if start is not None:
        d["start"] = start
    return d


def scenario(
    good: dict,
    *,
    disruptions: dict | None = None,
    years: float = 1,
    period: str = "year",
    budget: dict | None = None,
    risk: dict | None = None,
) -> dict:
    good = {"demand": 100, "damage": 100, **good}
    good.setdefault("suppliers", {"cn": supplier("CN", 10, 1000)})
    countries = sorted({s["country"] for s in good["suppliers"].values()})
    data = {
        "name": "hand-worked test case",
        "window": {"years": years, "period": period},
        "countries": {c: {} for c in countries},
        "goods": {G: good},
        "disruptions": disruptions or {},
    }
    if budget is not None:
        data["budget"] = budget
    if risk is not None:
        data["risk"] = risk
    return copy.deepcopy(data)


def solve(data: dict, **config):
    config.setdefault("mip_gap", 1e-9)  # tiny MIPs: close the gap, compare to 1e-6
    res = run(data, config=RunConfig(**config))
    assert res.status == "optimal"
    return res


# --- result accessors ---------------------------------------------------------------------------


def good_result(res) -> dict:
    return res.portfolio["goods"][G]


def stock_buy(res) -> float:
    return good_result(res)["stockpile"]["buy"]


def reserve_of(res, name: str) -> float:
    return (good_result(res).get("reserve") or {}).get(name, 0.0)


def domestic_capacity(res) -> float:
    return good_result(res)["domestic"]["capacity"]


def rows(res, scen: str):
    """The rows of ``res.periods`` for one scenario and the good, in period order."""
    df = res.periods
    sel = df[(df["scenario"] == scen) & (df["good"] == G)]
    return sel.sort_values("period").reset_index(drop=True)


def nonzero(shares: dict) -> dict:
    return {k: v for k, v in shares.items() if abs(v) > 1e-9}


# --- 1. stockpile: bought only when its expected benefit beats its cost -------------------------


def stock_case(p, *, max_release=60, initial=None, max_=None, residual_value="50%") -> dict:
    stock = {"unit_cost": 20, "storage_cost": 2, "residual_value": residual_value}
    if max_release is not None:
        stock["max_release"] = max_release
    if initial is not None:
        stock["initial"] = initial
    if max_ is not None:
        stock["max"] = max_
    return scenario({"stockpile": stock}, disruptions={"ban": disruption(p)})


@pytest.mark.parametrize(
    ("p", "max_release", "initial", "max_", "buy", "objective"),
    [
        pytest.param(0.05, 60, None, None, 0.0, 1450.0, id="p5%-buy-nothing"),
        pytest.param(0.3, 60, None, None, 60.0, 2800.0, id="p30%-bounded-by-max_release"),
        pytest.param(0.3, None, 10, 45, 35.0, 2825.0, id="p30%-bounded-by-max"),
    ],
)
def test_stockpile_bought_only_when_benefit_beats_cost(
    p, max_release, initial, max_, buy, objective
):
    """Stock: a = 20, h = 2, rv = 50 % (credit 10 per unit held at the end), demand 100,
    damage 100, CN at 10 cut completely by ``ban`` for the whole 1-year window.

    One more unit in stock costs a + h*Y = 20 + 2 = 22 of cash. In ``no_disruption``
    (probability 1 - p) it is never released (no disruption) and earns the credit 10. In ``ban``
    it is released (saving 100 of damage; keeping it would only earn 10) and earns no credit.
    Net expected cost per unit = 22 - (1 - p)*10 - p*100 = 12 - 90 p, negative iff p > 0.1333.
    A unit that cannot be released (beyond the release limit or the shortfall) nets
    22 - 10 = 12 > 0: never bought.

    - p = 0.05: 12 - 4.5 = +7.5 per unit -> buy 0. Objective = 0.95*100*10 (CN) +
      0.05*100*100 (shortfall) = 950 + 500 = 1450.
    - p = 0.3, max_release 60: 12 - 27 = -15 per unit, up to the 60 a year that can be
      released -> buy 60. Cash 60*22 = 1320, credit 0.7*10*60 = 420, economic first stage 900;
      second stage 0.7*1000 + 0.3*(40*100) = 700 + 1200 = 1900; objective 2800
      (= 3700 without stock - 60*15).
    - p = 0.3, no release limit, initial 10, max 45: buy up to max - initial = 35 (level 45 <
      shortfall 100, every unit released in ``ban``). Cash 35*20 + 2*45*1 = 790 (storage of the
      initial stock counts), credit 0.7*10*45 = 315, economic 475; second stage
      700 + 0.3*(55*100) = 2350; objective 2825.
    """
    res = solve(stock_case(p, max_release=max_release, initial=initial, max_=max_))
    assert res.portfolio["objective"] == approx(objective)
    assert stock_buy(res) == approx(buy)
    level = buy + (initial or 0)
    assert good_result(res)["stockpile"]["level"] == approx(level)
    ban = rows(res, "ban")
    released = min(level, max_release if max_release is not None else level)
    assert ban["release"].sum() == approx(released)
    assert ban["shortfall"].sum() == approx(100 - released)
    assert rows(res, "no_disruption")["release"].sum() == approx(0)


def test_stockpile_cost_split_cash_vs_economic():
    """The p = 0.3 case above (buy 60): cash 60*(20 + 2) = 1320; expected residual credit
    0.7 (no_disruption) * 0.5*20 * 60 = 420 (``ban`` releases all 60: no credit); economic first
    stage 1320 - 420 = 900; expected second stage 0.7*1000 + 0.3*4000 = 1900;
    expected loss 0.3*40*100 = 1200; objective 900 + 1900 = 2800."""
    res = solve(stock_case(0.3))
    cost = res.portfolio["cost"]
    assert cost["first_stage_cash"] == approx(1320)
    assert cost["first_stage_economic"] == approx(900)
    assert cost["expected_second_stage"] == approx(1900)
    assert cost["expected_loss"] == approx(1200)
    assert res.portfolio["objective"] == approx(2800)
    stock = good_result(res)["stockpile"]
    assert stock["cash"] == approx(1320)
    assert stock["days_of_cover"] == approx(60 / 100 * 365)
    assert res.portfolio["scenarios"]["ban"]["loss"] == approx(4000)
    assert res.portfolio["scenarios"]["ban"]["shortfall"][G] == approx(40)
    assert res.portfolio["scenarios"]["no_disruption"]["loss"] == approx(0)
    assert good_result(res)["expected_shortfall"] == approx(0.3 * 40)
    assert good_result(res)["worst_shortfall"] == approx(40)
    assert good_result(res)["expected_damage"] == approx(1200)


# --- 2. budget: binding with its marginal value, and slack --------------------------------------


def test_budget_binding_marginal_value():
    """The p = 0.3 stock case (each unit costs 22 of cash and saves 15 of objective, up to 60)
    with a total budget of 660: 660/22 = 30 units. Objective 3700 - 30*15 = 3250 (cash 660,
    credit 0.7*10*30 = 210, second stage 0.7*1000 + 0.3*70*100 = 2800; 660 - 210 + 2800).
    One more euro buys 1/22 unit, saving 15/22 = 0.681818... of objective: marginal value."""
    data = stock_case(0.3)
    data["budget"] = {"total": 660}
    res = solve(data)
    assert stock_buy(res) == approx(30)
    assert res.portfolio["objective"] == approx(3250)
    total = res.portfolio["budget"]["total"]
    assert total["limit"] == approx(660)
    assert total["used"] == approx(660)
    assert total["marginal_value"] > 0
    assert total["marginal_value"] == approx(15 / 22)


def test_budget_slack_has_zero_marginal_value():
    """Same case with a total budget of 2000 (written ``2k``): the unconstrained optimum (buy 60,
    cash 1320) fits, so the budget is slack: used 1320, marginal value 0, objective 2800."""
    data = stock_case(0.3)
    data["budget"] = {"total": "2k"}
    res = solve(data)
    assert stock_buy(res) == approx(60)
    assert res.portfolio["objective"] == approx(2800)
    total = res.portfolio["budget"]["total"]
    assert total["limit"] == approx(2000)
    assert total["used"] == approx(1320)
    assert total["marginal_value"] == approx(0)


def test_budget_marginal_value_with_integer_contract_fixed():
    """The reserve case with a fixed contract cost of 100 (binary) and a total budget of 200.

    Unconstrained: sign and reserve 30 (cash 100 + 150 = 250; 3280 - 480 + 100 = 2900).
    With 200: sign and reserve (200 - 100)/5 = 20, objective 3280 - 20*16 + 100 = 3060
    (cash 200; no_disruption 700; ban 0.3*(40*30 + 60*100) = 2160), better than not signing
    (3280). With the contract fixed at 1, one more euro reserves 1/5 unit, which saves
    0.3*(100 - 30) = 21 and costs the fee 5: marginal value (21 - 5)/5 = 3.2."""
    data = reserve_case(100)
    data["budget"] = {"total": 200}
    res = solve(data)
    assert reserve_of(res, "jp") == approx(20)
    assert res.portfolio["objective"] == approx(3060)
    total = res.portfolio["budget"]["total"]
    assert total["used"] == approx(200)
    assert total["marginal_value"] == approx(3.2)


# --- 3. budget lines -----------------------------------------------------------------------------


def lines_case() -> dict:
    good = {
        "stockpile": {"unit_cost": 20, "storage_cost": 2, "residual_value": 0.5, "max_release": 60},
        "suppliers": {
            "cn": supplier("CN", 10, 1000),
            "jp": supplier("JP", 30, 0, reserve={"max": 30, "fee": 5}),
        },
    }
    return scenario(
        good,
        disruptions={"ban": disruption(0.3)},
        budget={
            "total": 5000,
            "lines": {
                "stockpile_fund": {"limit": 660, "levers": ["stockpile"]},
                "contracts": {"limit": 1000, "levers": ["reserve"], "goods": [G]},
            },
        },
    )


def test_budget_line_binding_while_total_slack():
    """Stock as in the p = 0.3 case (22 cash per unit, -15 net per unit, release <= 60) and a
    reserve with ``jp`` (JP, 30 EUR/unit, no spot capacity, reserve max 30, fee 5/unit/year).

    A reserved unit costs 5 and, in ``ban`` (p = 0.3), buys a unit at 30 instead of a shortfall
    at 100: net 5 - 0.3*70 = -16, so reserve the maximum 30. (In no_disruption jp at 30 is
    dearer than cn at 10: unused.) Stock release <= 60 and jp <= 30 together (90) stay below the
    shortfall 100, so the levers do not compete.

    Without lines: stock 60 + reserve 30. The line ``stockpile_fund`` (660, levers [stockpile])
    allows 660/22 = 30 units; ``contracts`` (1000, reserve) holds 30*5 = 150, slack; the total
    (5000) holds 660 + 150 = 810, slack.

    Objective: cash 810, credit 0.7*10*30 = 210 -> economic 600; no_disruption 0.7*1000 = 700;
    ban 0.3*(30*30 + 40*100) = 0.3*4900 = 1470; total 2770 (= 3700 - 30*15 - 30*16).
    Marginal value of the stockpile line 15/22 (one euro buys 1/22 unit saving 15); the others 0.
    """
    res = solve(lines_case())
    assert stock_buy(res) == approx(30)
    assert reserve_of(res, "jp") == approx(30)
    assert res.portfolio["objective"] == approx(2770)
    budget = res.portfolio["budget"]
    fund = budget["lines"]["stockpile_fund"]
    assert fund["limit"] == approx(660)
    assert fund["used"] == approx(660)
    assert fund["marginal_value"] == approx(15 / 22)
    contracts = budget["lines"]["contracts"]
    assert contracts["used"] == approx(150)
    assert contracts["marginal_value"] == approx(0)
    assert budget["total"]["used"] == approx(810)
    assert budget["total"]["marginal_value"] == approx(0)
    ban = rows(res, "ban")
    assert ban["purchase_jp"].sum() == approx(30)
    assert ban["release"].sum() == approx(30)
    assert ban["shortfall"].sum() == approx(40)


# --- 4. reserved capacity, with and without a fixed contract cost -------------------------------


def reserve_case(fixed_cost: float) -> dict:
    jp_reserve = {"max": 30, "fee": 5}
    if fixed_cost:
        jp_reserve["fixed_cost"] = fixed_cost
    good = {
        "suppliers": {
            "cn": supplier("CN", 10, 1000),
            "jp": supplier("JP", 30, 20, reserve=jp_reserve),
        },
    }
    return scenario(good, disruptions={"ban": disruption(0.3)})


@pytest.mark.parametrize(
    ("fixed_cost", "reserve", "objective"),
    [
        pytest.param(0, 30.0, 2800.0, id="no-fixed-cost"),
        pytest.param(300, 30.0, 3100.0, id="fixed-300-signed"),
        pytest.param(500, 0.0, 3280.0, id="fixed-500-not-signed"),
    ],
)
def test_reserved_capacity(fixed_cost, reserve, objective):
    """cn (CN, 10, capacity 1000) is cut by ``ban`` (p = 0.3); jp (JP, 30) has spot capacity 20
    a year, and a reserve of up to 30 at a fee of 5/unit/year (plus a fixed contract cost).

    In ban, jp delivers its spot 20 plus the reserve (20 + r <= 100). Each reserved unit costs
    5 and saves 0.3*(100 - 30) = 21 -> net -16, so reserve the max 30 if the contract is signed:
    saving 30*16 = 480 before the fixed cost.

    Without any reserve: 0.7*1000 + 0.3*(20*30 + 80*100) = 700 + 2580 = 3280.
    - fixed 0: 3280 - 480 = 2800 (continuous reserve, 30).
    - fixed 300 (binary contract): 3280 - 480 + 300 = 3100 < 3280 -> sign, reserve 30.
    - fixed 500: 3280 - 480 + 500 = 3300 > 3280 -> do not sign, reserve 0, objective 3280.
    """
    res = solve(reserve_case(fixed_cost))
    assert res.portfolio["objective"] == approx(objective)
    assert reserve_of(res, "jp") == approx(reserve)
    ban = rows(res, "ban")
    assert ban["purchase_jp"].sum() == approx(20 + reserve)
    assert ban["purchase_cn"].sum() == approx(0)
    assert ban["shortfall"].sum() == approx(100 - 20 - reserve)
    cash = 5 * reserve + (fixed_cost if reserve > 0 else 0)
    assert res.portfolio["cost"]["first_stage_cash"] == approx(cash)


# --- 5. spot lead time ---------------------------------------------------------------------------


def lead_time_case(spot_lead_time: str | None) -> dict:
    jp = supplier("JP", 30, 400, reserve={"max": 1000, "fee": 5})
    if spot_lead_time is not None:
        jp["spot_lead_time"] = spot_lead_time
    good = {"demand": 400, "suppliers": {"cn": supplier("CN", 10, 1000), "jp": jp}}
    return scenario(
        good,
        period="quarter",
        disruptions={"ban": disruption(0.5, duration="2 quarters")},
    )


@pytest.mark.parametrize(
    ("spot_lead_time", "reserve", "objective"),
    [
        pytest.param("3 months", 400.0, 8000.0, id="lead-1-quarter"),
        pytest.param(None, 0.0, 6000.0, id="no-lead-time"),
    ],
)
def test_spot_lead_time_delivers_only_reserve(spot_lead_time, reserve, objective):
    """Quarterly periods over 1 year, demand 400/year = 100/quarter. cn (CN, 10, 1000/year) is
    cut in Q1-Q2 by ``ban`` (p = 0.5). jp (JP, 30) has spot 400/year = 100/quarter and a reserve
    (max 1000/year, fee 5/unit/year).

    - spot_lead_time 3 months = 1 quarter: in Q1 (first quarter of the disrupted stretch) jp
      delivers only r/4; from Q2 its spot 100 is back. A reserved unit (per year) delivers 1/4
      unit in Q1, saving 0.5*(100 - 30)/4 = 8.75 > fee 5 -> reserve until Q1 is covered:
      r/4 = 100, r = 400 (more saves nothing). Cash 400*5 = 2000; no_disruption 0.5*4*100*10 =
      2000; ban 0.5*(Q1 100*30 + Q2 100*30 + Q3-Q4 200*10) = 0.5*8000 = 4000; objective 8000
      (vs 9500 with no reserve, whose Q1 shortfall costs 100*100).
    - no lead time: jp's spot covers Q1 and Q2 at 30 -> reserve 0; objective
      2000 + 0.5*8000 = 6000.
    """
    res = solve(lead_time_case(spot_lead_time))
    assert reserve_of(res, "jp") == approx(reserve)
    assert res.portfolio["objective"] == approx(objective)
    ban = rows(res, "ban")
    assert len(ban) == 4
    assert list(ban["purchase_jp"]) == [approx(100), approx(100), approx(0), approx(0)]
    assert list(ban["purchase_cn"]) == [approx(0), approx(0), approx(100), approx(100)]
    assert ban["shortfall"].sum() == approx(0)


# --- 6. concentration cap ------------------------------------------------------------------------


def cap_case(*, domestic: bool = False) -> dict:
    good = {"suppliers": {"cn": supplier("CN", 10, 1000), "jp": supplier("JP", 20, 1000)}}
    if domestic:
        good["domestic"] = {"capex": 5, "unit_cost": 12, "max": 100}
    return scenario(good, risk={"concentration_cap": {"share": "65%", "countries": ["CN"]}})


def test_concentration_cap():
    """No disruption (no_disruption has probability 1). cn (CN) at 10 and jp (JP) at 20, each
    with capacity 1000; demand 100. Cap 65 % on CN.

    Without the cap all 100 come from CN (1000). With it: CN <= 0.65*100 = 65, and every unit
    moved from CN to JP costs 10 more, so CN 65, JP 35: objective 650 + 700 = 1350.
    Shares after: CN 0.65, JP 0.35; HHI 0.65^2 + 0.35^2 = 0.4225 + 0.1225 = 0.545.
    Before (cheapest spot first, no cap): CN 1.0, HHI 1.0."""
    res = solve(cap_case())
    assert res.portfolio["objective"] == approx(1350)
    nd = rows(res, "no_disruption")
    assert nd["purchase_cn"].sum() == approx(65)
    assert nd["purchase_jp"].sum() == approx(35)
    shares = good_result(res)["supply_shares"]
    assert nonzero(shares["after"]) == {"CN": approx(0.65), "JP": approx(0.35)}
    assert nonzero(shares["before"]) == {"CN": approx(1.0)}
    hhi = good_result(res)["hhi"]
    assert hhi["after"] == approx(0.545)
    assert hhi["before"] == approx(1.0)


def test_concentration_cap_counts_domestic_production():
    """The cap case plus a domestic plant (capex 5 per unit/year, no lifetime -> all of it
    counts; unit cost 12; no lead time; window 1 year). The cap's denominator includes domestic
    production: CN <= 0.65*(CN + JP + domestic). Filling the 35 units that CN may not supply
    from the plant costs 5 + 12 = 17 < jp's 20: build 35, produce 35, CN 65.
    Objective 650 + 35*12 + 35*5 = 650 + 420 + 175 = 1245 (< 1350 with jp).
    Shares after: CN 0.65, domestic 0.35; HHI 0.545."""
    res = solve(cap_case(domestic=True))
    assert res.portfolio["objective"] == approx(1245)
    assert domestic_capacity(res) == approx(35)
    nd = rows(res, "no_disruption")
    assert nd["purchase_cn"].sum() == approx(65)
    assert nd["production"].sum() == approx(35)
    assert nd["purchase_jp"].sum() == approx(0)
    shares = good_result(res)["supply_shares"]
    assert nonzero(shares["after"]) == {"CN": approx(0.65), "domestic": approx(0.35)}
    assert good_result(res)["hhi"]["after"] == approx(0.545)


# --- 17. supply shares before, cheapest spot capacity first --------------------------------------


def shares_case() -> dict:
    good = {
        "suppliers": {
            "cn_a": supplier("CN", 10, 50),
            "cn_b": supplier("CN", 15, 10),
            "jp": supplier("JP", 20, 30),
            "kr": supplier("KR", 25, 100),
        },
    }
    return scenario(good)


def test_supply_shares_before_cheapest_first_and_hhi():
    """Demand 100, no disruption, no levers. Cheapest first: cn_a (CN, 10) 50, cn_b (CN, 15) 10,
    jp (JP, 20) 30, kr (KR, 25) the remaining 10. Shares by country: CN 60/100 = 0.6,
    JP 0.3, KR 0.1; HHI 0.36 + 0.09 + 0.01 = 0.46. The optimum buys the same mix (it is the
    cheapest): after = before. Objective 500 + 150 + 600 + 250 = 1500."""
    res = solve(shares_case())
    assert res.portfolio["objective"] == approx(1500)
    expected = {"CN": approx(0.6), "JP": approx(0.3), "KR": approx(0.1)}
    shares = good_result(res)["supply_shares"]
    assert nonzero(shares["before"]) == expected
    assert nonzero(shares["after"]) == expected
    assert good_result(res)["hhi"]["before"] == approx(0.46)
    assert good_result(res)["hhi"]["after"] == approx(0.46)


# --- 7. domestic capacity: lead time, fixed cost (binary), lifetime, modules --------------------


def domestic_case(*, fixed_cost=0, module=None, lead_time="1 year") -> dict:
    dom = {"capex": 50, "unit_cost": 15, "max": 150, "lead_time": lead_time, "lifetime": "10 years"}
    if fixed_cost:
        dom["fixed_cost"] = fixed_cost
    if module is not None:
        dom["module"] = module
    return scenario(
        {"domestic": dom},
        years=2,
        disruptions={"ban": disruption(0.2, duration="2 years")},
    )


@pytest.mark.parametrize(
    ("fixed_cost", "lead_time", "capacity", "objective"),
    [
        pytest.param(2000, "1 year", 100.0, 5300.0, id="fixed-2000-built"),
        pytest.param(5000, "1 year", 0.0, 5600.0, id="fixed-5000-not-built"),
        pytest.param(2000, "0 years", 100.0, 3600.0, id="no-lead-time"),
    ],
)
def test_domestic_capacity_fixed_cost_lead_time_lifetime(
    fixed_cost, lead_time, capacity, objective
):
    """Window 2 years, yearly periods; demand 100/year; cn (CN, 10) cut for both years by ``ban``
    (p = 0.2). Domestic: capex 50 per unit/year, unit cost 15, max 150, lifetime 10 years ->
    economic share min(1, 2/10) = 0.2 of capex and fixed cost.

    With lead time 1 year the plant produces in year 2 only. A unit of capacity costs
    0.2*50 = 10 economic and saves, in ban, 100 - 15 = 85 in year 2: 0.2*85 = 17 -> net -7 per
    unit up to year 2's demand 100 (more saves nothing). In no_disruption cn (10) is cheaper
    than producing (15): unused. Build 100 saves 700 before the fixed cost.
    Without a plant: 0.8*2*1000 + 0.2*2*100*100 = 1600 + 4000 = 5600.

    - fixed 2000: build 100, cash 5000 + 2000 = 7000, economic 0.2*7000 = 1400; objective
      1400 + 1600 + 0.2*(year 1 shortfall 10000 + year 2 production 100*15 = 1500)
      = 1400 + 1600 + 2300 = 5300 < 5600 -> build 100.
    - fixed 5000: economic 0.2*(5000 + 5000) = 2000; 2000 + 1600 + 2300 = 5900 > 5600 -> no
      plant, objective 5600.
    - fixed 2000 and no lead time: each unit saves 2*17 = 34 > 10; objective
      1400 + 1600 + 0.2*(1500 + 1500) = 3600.
    """
    res = solve(domestic_case(fixed_cost=fixed_cost, lead_time=lead_time))
    assert res.portfolio["objective"] == approx(objective)
    dom = good_result(res)["domestic"]
    assert dom["capacity"] == approx(capacity)
    assert bool(dom["built"]) == (capacity > 0)
    cash = 50 * capacity + fixed_cost if capacity > 0 else 0.0
    assert dom["cash"] == approx(cash)
    assert res.portfolio["cost"]["first_stage_cash"] == approx(cash)
    assert res.portfolio["cost"]["first_stage_economic"] == approx(0.2 * cash)
    ban = rows(res, "ban")
    if lead_time == "1 year":
        assert list(ban["production"]) == [approx(0), approx(capacity)]
    else:
        assert list(ban["production"]) == [approx(capacity), approx(capacity)]
    assert rows(res, "no_disruption")["production"].sum() == approx(0)


def test_domestic_whole_modules():
    """The domestic case with lead time 1 year, no fixed cost, modules of 40/year
    (max 150 -> at most 3 modules). A module costs 0.2*50*40 = 400 economic (cash 2000).
    Year 2 of ban (p = 0.2) needs 100: the 1st and 2nd modules are fully used, saving
    0.2*85*40 = 680 > 400 each; the 3rd would produce only 20, saving 0.2*85*20 = 340 < 400.

    n = 0: 5600; n = 1: 400 + 1600 + 0.2*(10000 + 600 + 6000) = 5320;
    n = 2: 800 + 1600 + 0.2*(10000 + 1200 + 2000) = 5040; n = 3: 1200 + 1600 +
    0.2*(10000 + 1500) = 5100. Optimum n = 2, capacity 80, objective 5040 (the LP relaxation
    would build 2.5 modules)."""
    res = solve(domestic_case(module=40))
    assert res.portfolio["objective"] == approx(5040)
    dom = good_result(res)["domestic"]
    assert dom["capacity"] == approx(80)
    assert bool(dom["built"]) is True
    assert dom["cash"] == approx(4000)
    assert res.portfolio["cost"]["first_stage_economic"] == approx(800)
    ban = rows(res, "ban")
    assert list(ban["production"]) == [approx(0), approx(80)]
    assert list(ban["shortfall"]) == [approx(100), approx(20)]


# --- 8. CVaR: weight in the objective, and a limit ----------------------------------------------


def cvar_case(*, weight=None, limit=None) -> dict:
    cvar = {"alpha": "90%"}
    if weight is not None:
        cvar["weight"] = weight
    if limit is not None:
        cvar["limit"] = limit
    good = {
        "stockpile": {"unit_cost": 40, "residual_value": 0.5},
        "suppliers": {"cn": supplier("CN", 10, 100)},
    }
    return scenario(
        good,
        disruptions={
            "ban": disruption(0.04),
            "partial": disruption(0.08, severity="50%"),
        },
        risk={"cvar": cvar},
    )


@pytest.mark.parametrize(
    ("weight", "buy", "objective", "cvar"),
    [
        pytest.param(0.0, 0.0, 1720.0, None, id="weight-0"),
        pytest.param(0.2, 50.0, 2640.0, 2000.0, id="weight-0.2"),
        pytest.param(0.5, 100.0, 3080.0, 0.0, id="weight-0.5"),
    ],
)
def test_cvar_weight_changes_decision(weight, buy, objective, cvar):
    """cn (CN, 10, capacity 100 = demand). ``ban`` (p 0.04) cuts CN fully; ``partial`` (p 0.08)
    halves it (cn delivers 50); no_disruption 0.88. Stock: a = 40, no storage cost, rv 50 %
    (credit 20 per unit held at the end), no release limit. Credit 20 > cn's price 10, so stock
    is released only against a shortfall (damage 100), never to replace cn.

    With x units in stock: loss(ban) = 100*(100 - x), loss(partial) = 100*max(0, 50 - x),
    loss(no_disruption) = 0.

    Expected cost per unit: x < 50 (released in ban and partial):
    40 - 0.88*20 - 0.08*100 - 0.04*100 = 10.4; 50 <= x < 100 (released in ban only):
    40 - 0.96*20 - 0.04*100 = 16.8. Without stock the expected cost is
    0.88*1000 + 0.08*(500 + 5000) + 0.04*10000 = 880 + 440 + 400 = 1720.

    CVaR at alpha 0.9 (worst 10 % of probability: ban 0.04, then 0.06 of partial):
    CVaR = (0.04*loss(ban) + 0.06*loss(partial))/0.1 = 0.4*loss(ban) + 0.6*loss(partial).
    x = 0: 4000 + 3000 = 7000 (Rockafellar-Uryasev with eta = 5000: 5000 + 10*0.04*5000).
    Slope of CVaR: -100 per unit for x < 50, -40 per unit for 50 <= x < 100.

    Net per unit with weight w: 10.4 - 100 w (x < 50), 16.8 - 40 w (50 <= x < 100).

    - w = 0: +10.4 -> x = 0, objective 1720.
    - w = 0.2: -9.6 then +8.8 -> x = 50. Cash 2000, credit 0.88*20*50 = 880 -> economic 1120;
      second stage 880 + 0.08*500 + 0.04*5000 = 1120; CVaR = 0.4*5000 = 2000 (x 0.2 = 400);
      objective 2640 (= 1720 + 0.2*7000 - 50*9.6).
    - w = 0.5: -39.6 then -3.2 -> x = 100 (all losses 0, CVaR 0; a 101st unit saves nothing).
      Cash 4000, credit 0.88*20*100 + 0.08*20*50 = 1840 -> economic 2160; second stage
      880 + 0.08*500 = 920; objective 3080.
    """
    res = solve(cvar_case(weight=weight))
    assert stock_buy(res) == approx(buy)
    assert res.portfolio["objective"] == approx(objective)
    if cvar is not None:
        assert res.portfolio["cost"]["cvar"] == approx(cvar)


def test_cvar_limit():
    """The CVaR case above (x units in stock: CVaR_0.9 = 7000 - 100 x for x <= 50; each unit
    costs 10.4 in expectation) with weight 0 and limit 4000: 7000 - 100 x <= 4000 -> x >= 30,
    and no more than needed: x = 30.

    Cash 30*40 = 1200, credit 0.88*20*30 = 528 -> economic 672 (partial releases all 30,
    ban too); second stage 0.88*1000 + 0.08*(500 + 20*100) + 0.04*70*100 = 880 + 200 + 280 =
    1360; objective 2032 (= 1720 + 30*10.4). CVaR = 0.4*7000 + 0.6*2000 = 4000.
    """
    res = solve(cvar_case(limit=4000))
    assert stock_buy(res) == approx(30)
    assert res.portfolio["objective"] == approx(2032)
    assert res.portfolio["cost"]["cvar"] == approx(4000)
    assert res.portfolio["scenarios"]["ban"]["loss"] == approx(7000)
    assert res.portfolio["scenarios"]["partial"]["loss"] == approx(2000)


# --- 9. residual value --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("residual_value", "buy", "cash", "economic", "objective"),
    [
        pytest.param("50%", 60.0, 1320.0, 840.0, 2440.0, id="rv-50%"),
        pytest.param(0, 0.0, 0.0, 0.0, 2800.0, id="rv-0"),
    ],
)
def test_residual_value(residual_value, buy, cash, economic, objective):
    """The stock case (a = 20, h = 2, max_release 60) with p = 0.2.

    - rv 50 %: net per unit 22 - 0.8*10 - 0.2*100 = -6 -> buy 60. Cash 1320; the credit
      0.8*10*60 = 480 makes the economic first stage 840; second stage 0.8*1000 +
      0.2*40*100 = 1600; objective 2440 (= 2800 - 60*6).
    - rv 0: net 22 - 0.2*100 = +2 -> buy 0; objective 0.8*1000 + 0.2*10000 = 2800.
    """
    res = solve(stock_case(0.2, residual_value=residual_value))
    assert stock_buy(res) == approx(buy)
    assert res.portfolio["objective"] == approx(objective)
    assert res.portfolio["cost"]["first_stage_cash"] == approx(cash)
    assert res.portfolio["cost"]["first_stage_economic"] == approx(economic)


# --- 10. demand reduction -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit_cost", "preparation_cost", "reduced", "objective"),
    [
        pytest.param(40, 0, 20.0, 3340.0, id="cheaper-than-damage"),
        pytest.param(150, 0, 0.0, 3700.0, id="dearer-than-damage"),
        pytest.param(40, 100, 20.0, 3440.0, id="preparation-100-worth-it"),
        pytest.param(40, 500, 0.0, 3700.0, id="preparation-500-not-worth-it"),
    ],
)
def test_demand_reduction(unit_cost, preparation_cost, reduced, objective):
    """cn (CN, 10) cut by ``ban`` (p = 0.3); demand reduction up to 20 % of demand (20 units)
    at ``unit_cost``. In no_disruption a cut (>= 40) is dearer than cn (10): unused.
    Without reduction: 0.7*1000 + 0.3*100*100 = 3700.

    - unit cost 40 < damage 100: cut 20 in ban, saving 0.3*20*60 = 360 -> 3340.
    - unit cost 150 > damage 100: never cut -> 3700.
    - preparation cost 100 (binary): 3700 - 360 + 100 = 3440 < 3700 -> prepare, cut 20.
    - preparation cost 500: 3700 - 360 + 500 = 3840 > 3700 -> not prepared, 3700.
    """
    dr = {"max_share": "20%", "unit_cost": unit_cost}
    if preparation_cost:
        dr["preparation_cost"] = preparation_cost
    res = solve(scenario({"demand_reduction": dr}, disruptions={"ban": disruption(0.3)}))
    assert res.portfolio["objective"] == approx(objective)
    assert rows(res, "ban")["reduction"].sum() == approx(reduced)
    assert rows(res, "ban")["shortfall"].sum() == approx(100 - reduced)
    assert rows(res, "no_disruption")["reduction"].sum() == approx(0)
    prep = preparation_cost if reduced > 0 else 0.0
    assert res.portfolio["cost"]["first_stage_cash"] == approx(prep)


# --- 11. coverage days --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("initial", "buy", "objective"),
    [
        pytest.param(0, 30.0, 4010.0, id="no-initial-stock"),
        pytest.param(10, 20.0, 3810.0, id="initial-10"),
    ],
)
def test_coverage_days_force_stock(initial, buy, objective):
    """No disruption; demand 365/year from cn at 10 (3650). Stock a = 20, h = 2, rv 50 %: a
    unit never released nets 20 + 2 - 10 = +12, so nothing is bought unless forced.
    coverage_days 30 -> initial + buy >= 30/365*365 = 30.

    - initial 0: buy 30, cash 30*22 = 660, credit 300, objective 3650 + 360 = 4010.
    - initial 10: buy 20, cash 20*20 + 2*30 = 460, credit 10*30 = 300 (the initial stock is
      credited too), economic 160, objective 3650 + 160 = 3810.
    """
    stock = {"unit_cost": 20, "storage_cost": 2, "residual_value": 0.5}
    if initial:
        stock["initial"] = initial
    res = solve(scenario({"demand": 365, "coverage_days": 30, "stockpile": stock}))
    assert stock_buy(res) == approx(buy)
    assert good_result(res)["stockpile"]["level"] == approx(30)
    assert res.portfolio["objective"] == approx(objective)
    if initial == 0:
        assert good_result(res)["stockpile"]["days_of_cover"] == approx(30)
        assert good_result(res)["stockpile"]["cash"] == approx(660)


def test_coverage_absent_buys_nothing():
    """Same case without coverage_days: +12 per unit and no disruption -> buy 0, objective
    3650."""
    stock = {"unit_cost": 20, "storage_cost": 2, "residual_value": 0.5}
    res = solve(scenario({"demand": 365, "stockpile": stock}))
    assert stock_buy(res) == approx(0)
    assert res.portfolio["objective"] == approx(3650)


# --- 12. refill after a disruption --------------------------------------------------------------


def refill_case(residual_value) -> dict:
    stock = {
        "unit_cost": 20,
        "storage_cost": 1,
        "residual_value": residual_value,
        "max_release": 60,
    }
    return scenario(
        {"stockpile": stock},
        years=3,
        disruptions={"ban": disruption(0.2, start="1 year", duration="1 year")},
    )


@pytest.mark.parametrize(
    ("residual_value", "refill", "objective"),
    [
        pytest.param(1.0, 60.0, 3900.0, id="credit-20-above-price-10-refill"),
        pytest.param("25%", 0.0, 4740.0, id="credit-5-below-price-10-no-refill"),
    ],
)
def test_refill_after_disruption(residual_value, refill, objective):
    """Window 3 years, yearly periods; cn (CN, 10, 1000/year) cut in year 2 only by ``ban``
    (p = 0.2). Stock a = 20, h = 1 (3 per unit over the window), max_release 60/year.

    - rv 100 % (credit 20 > cn's price 10): a unit released in year 2 (saving 100) is bought
      back from cn in year 3 at 10 and earns the credit 20. Net per unit
      23 - 0.8*20 - 0.2*(100 - 10 + 20) = 23 - 16 - 22 = -15 -> buy 60 (the release limit; an
      unreleased unit nets 23 - 20 = +3). Cash 1380, credit (0.8 + 0.2)*20*60 = 1200 ->
      economic 180; second stage 0.8*3000 + 0.2*(1000 + 40*100 + 160*10) = 2400 + 1320 = 3720;
      objective 3900. In ban: stock 60, 0, 60; release 60 in year 2, refill 60 in year 3
      (cn delivers 100 + 60 = 160).
    - rv 25 % (credit 5 < 10): refilling loses 5 per unit, so no refill; net per unit
      23 - 0.8*5 - 0.2*100 = -1 -> still buy 60. Cash 1380, credit 0.8*5*60 = 240 -> economic
      1140; second stage 2400 + 0.2*(1000 + 4000 + 1000) = 3600; objective 4740.
    """
    res = solve(refill_case(residual_value))
    assert stock_buy(res) == approx(60)
    assert res.portfolio["objective"] == approx(objective)
    ban = rows(res, "ban")
    assert len(ban) == 3
    assert list(ban["release"]) == [approx(0), approx(60), approx(0)]
    assert list(ban["refill"]) == [approx(0), approx(0), approx(refill)]
    assert list(ban["stock"]) == [approx(60), approx(0), approx(refill)]
    assert list(ban["purchase_cn"]) == [approx(100), approx(0), approx(100 + refill)]
    assert list(ban["shortfall"]) == [approx(0), approx(40), approx(0)]


# --- 13. service level (max_shortfall) -----------------------------------------------------------


def test_max_shortfall_forces_stock():
    """The stock case at p = 0.05 buys nothing (+7.5 per unit). With max_shortfall 50 %, ban's
    shortfall (100 without stock) must be <= 50, so at least 50 units must be released: buy
    exactly 50 (each unit costs 7.5 in expectation). Objective 1450 + 50*7.5 = 1825
    (cash 1100, credit 0.95*10*50 = 475, second stage 950 + 0.05*50*100 = 1200)."""
    data = stock_case(0.05)
    data["goods"][G]["max_shortfall"] = "50%"
    res = solve(data)
    assert stock_buy(res) == approx(50)
    assert res.portfolio["objective"] == approx(1825)
    assert rows(res, "ban")["shortfall"].sum() == approx(50)
    assert good_result(res)["worst_shortfall"] == approx(50)


# --- 14. price and demand multipliers ------------------------------------------------------------


def test_price_and_demand_multipliers():
    """cn (CN, 10, capacity 200) and jp (JP, 20, capacity 1000); demand reduction up to 20 % at
    50. ``squeeze`` (p = 0.2) halves CN (cn delivers 100), multiplies prices by 3 (cn 30,
    jp 60) and demand by 1.5 (150); reduction cost is not multiplied.

    no_disruption: 100 from cn = 1000 (reduction at 50 > 10: unused).
    squeeze: cn 100*30 = 3000 (cheapest), then reduction 0.2*150 = 30 at 50 = 1500 (cheaper
    than jp at 60), then jp 20*60 = 1200; no shortfall (damage 100 > 60): 5700.
    Objective 0.8*1000 + 0.2*5700 = 800 + 1140 = 1940."""
    good = {
        "demand_reduction": {"max_share": 0.2, "unit_cost": 50},
        "suppliers": {"cn": supplier("CN", 10, 200), "jp": supplier("JP", 20, 1000)},
    }
    squeeze = disruption(0.2, severity=0.5, price_multiplier=3, demand_multiplier=1.5)
    res = solve(scenario(good, disruptions={"squeeze": squeeze}))
    assert res.portfolio["objective"] == approx(1940)
    sq = rows(res, "squeeze")
    assert sq["demand"].sum() == approx(150)
    assert sq["purchase_cn"].sum() == approx(100)
    assert sq["reduction"].sum() == approx(30)
    assert sq["purchase_jp"].sum() == approx(20)
    assert sq["shortfall"].sum() == approx(0)
    nd = rows(res, "no_disruption")
    assert nd["demand"].sum() == approx(100)
    assert nd["purchase_cn"].sum() == approx(100)


# --- 15. the no_disruption scenario --------------------------------------------------------------


def test_no_disruption_probability_is_the_rest():
    """Disruptions of 10 % and 25 %: no_disruption gets 1 - 0.35 = 0.65. Objective: cn at 10
    in no_disruption (0.65*1000 = 650), shortfall at 100 in both disruptions
    (0.35*10000 = 3500): 4150."""
    res = solve(scenario({}, disruptions={"a": disruption("10%"), "b": disruption("25%")}))
    scen = res.portfolio["scenarios"]
    assert set(scen) == {"a", "b", "no_disruption"}
    assert scen["no_disruption"]["probability"] == approx(0.65)
    assert scen["a"]["probability"] == approx(0.10)
    assert scen["b"]["probability"] == approx(0.25)
    assert res.portfolio["objective"] == approx(4150)


# --- 16. exactness of time compression, and the direct interface --------------------------------


def monthly_case() -> dict:
    """Monthly periods, so that compression merges many periods into blocks."""
    good = {
        "demand": 1200,
        "stockpile": {"unit_cost": 20, "storage_cost": 2, "residual_value": "25%"},
        "suppliers": {
            "cn": supplier("CN", 10, 2400),
            "jp": supplier(
                "JP", 30, 1200, spot_lead_time="2 months", reserve={"max": 1200, "fee": 5}
            ),
        },
    }
    return scenario(
        good,
        period="month",
        disruptions={"ban": disruption(0.5, start="3 months", duration="6 months")},
    )


def test_monthly_case_hand_value():
    """Monthly periods over 1 year, demand 1200/year = 100/month. cn (CN, 10) is cut in months
    4-9 by ``ban`` (p = 0.5). jp (JP, 30, spot 100/month) has spot_lead_time 2 months: in
    months 4-5 it delivers only reserved capacity (reserve max 1200/year, fee 5/unit/year),
    from month 6 its spot too. Stock a = 20, h = 2, rv 25 % (credit 5 < cn's 10: no refill).

    Months 4-5 need 200 units:
    - stock: 22 - 0.5*5 - 0.5*100 = -30.5 per unit released there;
    - reserve: 12 units of yearly reserve (fee 60) deliver 1/month in months 4 and 5, saving
      2*0.5*(100 - 30) = 70 -> -10 per 2 units, -5 per unit delivered.
    Stock is better at every margin: buy 200, reserve 0. A unit released in months 6-9 would
    replace jp at 30: 22 - 2.5 - 0.5*30 = +4.5 -> not bought.
    Objective: cash 4400, credit 0.5*5*200 = 500 -> economic 3900; no_disruption
    0.5*1200*10 = 6000; ban 0.5*(6 months of cn 6000 + months 6-9 jp 400*30 = 12000) = 9000;
    total 18900 (= 25000 with no levers - 200*30.5)."""
    res = solve(monthly_case())
    assert stock_buy(res) == approx(200)
    assert reserve_of(res, "jp") == approx(0)
    assert res.portfolio["objective"] == approx(18900)
    ban = rows(res, "ban")
    assert len(ban) == 12
    assert ban["release"].sum() == approx(200)
    assert ban["purchase_jp"].sum() == approx(400)
    assert ban["shortfall"].sum() == approx(0)


# (case builder, hand objective, hand first-stage decisions: buy, reserve jp, domestic capacity)
EXACTNESS_CASES = {
    "stock-p30": (lambda: stock_case(0.3), 2800.0, {"buy": 60.0}),
    "budget-binding": (
        lambda: {**stock_case(0.3), "budget": {"total": 660}},
        3250.0,
        {"buy": 30.0},
    ),
    "budget-lines": (lines_case, 2770.0, {"buy": 30.0, "jp": 30.0}),
    "reserve-fixed-300": (lambda: reserve_case(300), 3100.0, {"jp": 30.0}),
    "spot-lead-time": (lambda: lead_time_case("1 quarter"), 8000.0, {"jp": 400.0}),
    "domestic-fixed": (lambda: domestic_case(fixed_cost=2000), 5300.0, {"domestic": 100.0}),
    "domestic-modules": (lambda: domestic_case(module=40), 5040.0, {"domestic": 80.0}),
    "cvar-weight": (lambda: cvar_case(weight=0.2), 2640.0, {"buy": 50.0}),
    "refill": (lambda: refill_case(1.0), 3900.0, {"buy": 60.0}),
    "monthly": (monthly_case, 18900.0, {"buy": 200.0, "jp": 0.0}),
    "cap-domestic": (lambda: cap_case(domestic=True), 1245.0, {"domestic": 35.0}),
    "cvar-limit": (lambda: cvar_case(limit=4000), 2032.0, {"buy": 30.0}),
}

CONFIGS = [
    pytest.param({"compress_time": True, "interface": "pyomo"}, id="compressed-pyomo"),
    pytest.param({"compress_time": False, "interface": "pyomo"}, id="periods-pyomo"),
    pytest.param({"compress_time": True, "interface": "direct"}, id="compressed-direct"),
    pytest.param({"compress_time": False, "interface": "direct"}, id="periods-direct"),
]


def first_stage(res) -> dict:
    return {
        "buy": stock_buy(res) if good_result(res).get("stockpile") else 0.0,
        "jp": reserve_of(res, "jp"),
        "domestic": domestic_capacity(res) if good_result(res).get("domestic") else 0.0,
    }


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("case", list(EXACTNESS_CASES))
def test_time_compression_and_interface_exact(case, config):
    """Time blocks are exact (docs/model.md, "Time blocks"): the model with every period
    (compress_time false) has the same optimum as the compressed one, and the raw-highspy
    interface builds the same model as Pyomo. Each case's hand-worked objective and first-stage
    decisions (see the tests above) must come out of every combination."""
    build, objective, decisions = EXACTNESS_CASES[case]
    res = solve(build(), **config)
    assert res.portfolio["objective"] == approx(objective)
    got = first_stage(res)
    for key, value in decisions.items():
        assert got[key] == approx(value), key


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize(
    ("build", "marginal_value"),
    [
        pytest.param(lambda: {**stock_case(0.3), "budget": {"total": 660}}, 15 / 22, id="stock-lp"),
        pytest.param(
            lambda: {**reserve_case(100), "budget": {"total": 200}}, 3.2, id="reserve-mip-fixed"
        ),
    ],
)
def test_marginal_value_same_in_every_configuration(build, marginal_value, config):
    """The binding budgets of test_budget_binding_marginal_value (15/22) and
    test_budget_marginal_value_with_integer_contract_fixed (3.2), whatever the time compression
    and the interface."""
    res = solve(build(), **config)
    assert res.portfolio["budget"]["total"]["marginal_value"] == approx(marginal_value)


@pytest.mark.parametrize("config", CONFIGS)
def test_periods_totals_same_in_every_configuration(config):
    """Per-period rows of the refill case: whatever the configuration, ban's yearly rows are
    release (0, 60, 0), refill (0, 0, 60) (yearly periods: each block is one period)."""
    res = solve(refill_case(1.0), **config)
    ban = rows(res, "ban")
    assert list(ban["release"]) == [approx(0), approx(60), approx(0)]
    assert list(ban["refill"]) == [approx(0), approx(0), approx(60)]
