"""What a sweep's report says (issue 15, items 1-4): what binds at each level (the total and
each line), levers switched on and off, a MIP's average value per euro beside its dual, and a
budget line's own cash beside the portfolio's.

The cases extend ``frontier_case`` of ``tests/test_sweep.py`` (its module docstring works out
the base: without levers the objective is 3700; a reserved unit with jp saves 16 net, 3.2 per
euro, up to 30 units; a stocked unit saves 15 net for 22 of cash, 15/22 per euro, up to 60).
"""

from __future__ import annotations

import json
import re
from html import unescape

import numpy as np
import pandas as pd
import pytest
from test_sweep import DIRECT, G, approx, frontier_case, supplier

from optimizer.studies.levels import parse_range
from optimizer.studies.sweep import sweep_budget
from optimizer.studies.sweep_frontier import find_switches


def page_text(html: str, section: str) -> str:
    """The text of ``<section id=section>`` of a page, tags and entities removed."""
    body = re.search(rf'<section id="{section}">(.*?)</section>', html, re.S)[1]
    return re.sub(r"<[^>]+>", "", unescape(body)).replace("\xa0", " ")


def test_a_line_still_binding_above_the_totals_kink_is_named(tmp_path):
    """The stockpile line ``stockpile_fund`` is capped at 660 euros (30 units at 22). With a
    total budget B: the reserve first (150 euros, 3.2 per euro), then stock up to the line, so
    the total binds while B < 150 + 660 = 810 (marginal value 15/22 between 150 and 810).

    - at 800: total used 800 (binds, 15/22); the line used 650 < 660 (slack);
    - at 900: total used 810 < 900 (slack, 0); the line used 660 = its limit, each euro more
      there buys 1/22 unit saving 15: 15/22 = 0.682 per euro.

    So the report must not say "more money buys nothing": the total stops binding between
    800 and 900, the line still binds at the top level 1000, worth 0.682."""
    data = frontier_case(
        budget={"lines": {"stockpile_fund": {"limit": 660, "levers": ["stockpile"]}}}
    )
    res = sweep_budget(data, parse_range("0:1000:11"), config=DIRECT)
    f = res.frontier.set_index("level")
    assert f.loc[800, "binding"] == "total"
    assert f.loc[900, "binding"] == "stockpile_fund"
    assert f.loc[1000, "binding"] == "stockpile_fund"
    assert f.loc[900, "marginal_value"] == approx(0.0)
    assert f.loc[1000, "portfolio_cash"] == approx(810)
    budgets = res.summary()["budgets"]
    assert budgets[9]["budgets"]["stockpile_fund"]["marginal_value"] == approx(15 / 22)
    assert budgets[8]["budgets"]["stockpile_fund"]["marginal_value"] == approx(0.0)

    out = res.write(tmp_path / "s")
    html = (out / "report.html").read_text(encoding="utf-8")
    text = page_text(html, "findings")
    assert "The total budget stops binding between EUR 0.0008 M and EUR 0.0009 M" in text
    assert "more money buys nothing" not in text
    assert "the budget line stockpile_fund (0.682 EUR per EUR) still binds" in text
    binding = page_text(html, "binding")
    assert "binds: 0.682" in binding and "slack" in binding
    cells = re.findall(r'data-key="budgets\.(\d+)\.(\w+)" data-value="([^"]+)"', html)
    got = {(int(i), k): float(v) for i, k, v in cells}
    assert got[(8, "total")] == approx(15 / 22)
    assert got[(8, "stockpile_fund")] == approx(0.0)
    assert got[(9, "total")] == approx(0.0)
    assert got[(10, "stockpile_fund")] == approx(15 / 22)
    # the CSV carries the new columns after the old ones
    csv = pd.read_csv(out / "frontier.csv")
    assert csv["binding"].fillna("").tolist()[8:] == ["total", "stockpile_fund", "stockpile_fund"]


def mip_case() -> dict:
    """jp as in ``frontier_case`` (no stock) and ``au``: price 30, no spot capacity, reserve up
    to 100 at a fee of 4 plus a fixed 200 for signing (binary). A unit reserved with au saves
    0.3 x (100 - 30) = 21 for 4: net 17, 4.25 per euro once signed."""
    data = frontier_case(stock=False)
    data["countries"]["AU"] = {}
    data["goods"][G]["suppliers"]["au"] = supplier(
        "AU", 30, 0, reserve={"max": 100, "fee": 4, "fixed_cost": 200}
    )
    return data


def test_mip_sweep_switches_on_and_off_and_reports_average_values(tmp_path):
    """Worked by hand for budgets 0, 100, ..., 600 (jp: 3.2 per euro, up to 150 euros; au:
    200 to sign, then 4.25 per euro):

    ======  ==========================  ==========  =====================================
    B       best portfolio              objective   average value since the level before
    ======  ==========================  ==========  =====================================
    0       nothing                     3700        -
    100     jp 20                       3380        (3700 - 3380) / 100 = 3.2
    200     jp 30 (150 used)            3220        1.6
    300     jp 30 (au 25 gives 3475)    3220        0
    400     au 50 (jp 30 + au 12.5:     3050        1.7
            3207.5)
    500     au 75                       2625        4.25
    600     au 100 (all of demand)      2200        4.25
    ======  ==========================  ==========  =====================================

    At 400 the contract with jp is dropped and au signed; the dual there (au's, integers
    fixed) is 4.25 while the average since 300 is 1.7."""
    res = sweep_budget(mip_case(), parse_range("0:600:7"), config=DIRECT)
    f = res.frontier.set_index("level")
    want = {0: 3700, 100: 3380, 200: 3220, 300: 3220, 400: 3050, 500: 2625, 600: 2200}
    for level, obj in want.items():
        assert f.loc[level, "objective"] == approx(obj), level
    avg = {100: 3.2, 200: 1.6, 300: 0.0, 400: 1.7, 500: 4.25, 600: 4.25}
    for level, v in avg.items():
        assert f.loc[level, "average_value"] == approx(v), level
    assert pd.isna(f.loc[0, "average_value"])
    assert f.loc[400, "marginal_value"] == approx(4.25)
    assert res.switches == [
        (100.0, f"{G}: contract signed with jp"),
        (400.0, f"{G}: contract signed with au"),
    ]
    assert res.switches_off == [(400.0, f"{G}: contract with jp dropped")]

    out = res.write(tmp_path / "m")
    html = (out / "report.html").read_text(encoding="utf-8")
    text = page_text(html, "findings")
    assert "A euro buys most between EUR 0.0004 M and EUR 0.0005 M" in text
    assert "by 4.25 euros on average" in text
    assert "dual of the LP with those decisions fixed" in text
    # at 600 au reserves all 100 units demanded: nothing more to buy, the total is slack
    assert "The total budget stops binding between EUR 0.0005 M and EUR 0.0006 M" in text
    switches = page_text(html, "switches")
    assert "gallium: contract with jp dropped" in switches
    meta = json.loads((out / "sweep.json").read_text())
    assert meta["switches_off"] == [{"level": 400.0, "lever": f"{G}: contract with jp dropped"}]


def test_line_sweep_labels_its_own_cash_and_the_portfolios():
    """Sweeping ``stockpile_fund`` (stock only) with the reserve unconstrained: the line's
    cash is min(L, 1320); the portfolio's adds the reserve's 30 x 5 = 150."""
    data = frontier_case(
        budget={"lines": {"stockpile_fund": {"limit": 1, "levers": ["stockpile"]}}}
    )
    res = sweep_budget(data, [0, 660, 1500], line="stockpile_fund", config=DIRECT)
    f = res.frontier.set_index("level")
    for level in (0, 660, 1500):
        assert f.loc[level, "cash_used"] == approx(min(level, 1320))
        assert f.loc[level, "portfolio_cash"] == approx(150 + min(level, 1320))
    from optimizer.results.sweep_report import render_sweep_report

    html = render_sweep_report(res.summary(), res.frontier, None, res.label)
    head = re.search(r'<section id="frontier">.*?<thead>(.*?)</thead>', html, re.S)[1]
    assert "Cash used (line stockpile_fund)" in head
    assert "Portfolio cash (all levers)" in head


@pytest.mark.parametrize("off", [False, True])
def test_find_switches_on_and_off(off):
    """Stock bought at levels 1 and 2, none at 3, again at 4: on at 1 and 4, off at 3."""

    def pf(buy):
        return {
            "goods": {
                "g": {
                    "stockpile": {"buy": buy},
                    "reserve": {},
                    "domestic": {"capacity": 0.0},
                    "demand_reduction": {"prepared": None},
                }
            }
        }

    pfs = [pf(0.0), pf(5.0), pf(6.0), pf(0.0), pf(1.0)]
    got = find_switches([0, 1, 2, 3, 4], pfs, off=off)
    if off:
        assert got == [(3.0, "g: no stock bought")]
    else:
        assert got == [(1.0, "g: stockpile started"), (4.0, "g: stockpile started")]


def test_the_marginal_value_axis_clips_a_spike_only():
    """The shipped scenario's frontier at 0, 50M, 100M: 467, 22.6, 4.8 (then 0). 467 is over
    10 x 22.6 = 226: clipped, the axis ends at 1.15 x 22.6 = 25.99. 22.6 is under 10 x 4.8:
    kept. The hand-worked frontier's 3.2 and 15/22 (4.7 x) are both kept: 1.15 x 3.2 = 3.68."""
    from optimizer.results.charts.sweep import mv_ceiling

    top, clipped = mv_ceiling(np.array([466.9, 22.6, 4.8, 0.0, np.nan]))
    assert top == pytest.approx(1.15 * 22.6)
    assert clipped.tolist() == [True, False, False, False, False]
    top, clipped = mv_ceiling(np.array([3.2, 15 / 22, 0.0]))
    assert top == pytest.approx(1.15 * 3.2) and not clipped.any()
