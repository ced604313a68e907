"""The baseline "against doing nothing" (issue 15, item 6): the same futures with every
first-stage lever at zero, solved once more, in ``portfolio.json``, the terminal and the report.

Hand-worked on ``frontier_case`` of ``tests/test_sweep.py``: with no lever, no_disruption
(p = 0.7) buys 100 units from cn at 10 and ban (p = 0.3) is all short at 100 a unit:
objective 0.7 x 1000 + 0.3 x 10000 = 3700, expected loss 0.3 x 10000 = 3000, CVaR 95 % the
loss of ban, 10000. With a budget of 150 the portfolio reserves 30 units with jp (objective
3700 - 16 x 30 = 3220): it saves 480.
"""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape

import pytest
from rich.console import Console
from test_sweep import DIRECT, frontier_case

from optimizer.api import run
from optimizer.cli.run import print_summary
from optimizer.results.report import render_report


def test_baseline_of_a_hand_worked_case():
    res = run(frontier_case(), DIRECT, overrides=["budget.total=150"])
    assert res.objective == pytest.approx(3220)
    base = res.portfolio["baseline"]
    assert base["status"] == "optimal"
    assert base["objective"] == pytest.approx(3700)
    assert base["expected_loss"] == pytest.approx(3000)
    assert base["cvar"] == pytest.approx(10000)
    assert base["expected_second_stage"] == pytest.approx(3700)
    assert base["saving"] == pytest.approx(480)

    console = Console(record=True, width=200)
    print_summary(res.portfolio, console)
    assert "against doing nothing" in console.export_text()

    html = render_report(res.portfolio, res.loaded.resolved)
    para = re.search(r'<p id="baseline">(.*?)</p>', html, re.S)[1]
    assert "Against doing nothing" in re.sub(r"<[^>]+>", "", unescape(para))
    saving = re.search(r'data-key="baseline\.saving" data-value="([^"]+)"', para)
    assert float(saving[1]) == pytest.approx(480)


def test_baseline_of_a_mip_fixes_the_contract_at_zero():
    """A contract with a fixed cost of 100 (binary): with budget 300 it is signed (r = 30,
    3700 + 100 - 480 = 3320); doing nothing is still 3700, a saving of 380."""
    data = frontier_case(reserve={"max": 30, "fee": 5, "fixed_cost": 100}, stock=False)
    res = run(data, replace(DIRECT, mip_gap=1e-9), overrides=["budget.total=300"])
    assert res.objective == pytest.approx(3320)
    assert res.portfolio["baseline"]["objective"] == pytest.approx(3700)
    assert res.portfolio["baseline"]["saving"] == pytest.approx(380)


def test_baseline_infeasible_or_skipped_is_said():
    """30 days of required cover cannot be held with no stock bought: the baseline has no
    plan and says why; above the size limit it is skipped, and said so."""
    data = frontier_case()
    data["goods"]["gallium"]["coverage_days"] = 30
    res = run(data, DIRECT)
    base = res.portfolio["baseline"]
    assert base["status"] == "infeasible" and "no feasible plan" in base["reason"]
    assert "No comparison with doing nothing" in render_report(res.portfolio, {})
    res = run(frontier_case(), replace(DIRECT, baseline_max_columns=0))
    assert res.portfolio["baseline"]["status"] == "skipped"
    assert "columns" in res.portfolio["baseline"]["reason"]
    res = run(frontier_case(), replace(DIRECT, baseline=False))
    assert "baseline" not in res.portfolio
