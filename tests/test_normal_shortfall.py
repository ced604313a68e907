"""A hard cap forcing shortfall in normal times is said in words (issue 15, item 5): in
``portfolio.json`` (``normal_time_shortfall``), the terminal and ``report.html``."""

from __future__ import annotations

import re
from html import unescape

import pytest
from rich.console import Console
from test_model_terms import G, approx, scenario, solve, supplier

from optimizer.cli.run import print_summary
from optimizer.results.report import render_report


def capped(jp_capacity: float) -> dict:
    """cn (CN) at 10 with capacity 1000 and jp (JP) at 30 with ``jp_capacity``; demand 100,
    damage 100; no disruption; at most 65 % of the good from CN."""
    good = {
        "suppliers": {
            "cn": supplier("CN", 10, 1000),
            "jp": supplier("JP", 30, jp_capacity),
        }
    }
    return scenario(good, risk={"concentration_cap": {"share": "65%", "countries": ["CN"]}})


def test_a_binding_cap_that_leaves_demand_unmet_is_reported():
    """jp can sell 20: CN <= 0.65 (CN + 20) gives CN <= 13 / 0.35 = 260/7 = 37.14, so the
    supply is 20 + 260/7 = 400/7 and the shortfall 100 - 400/7 = 300/7 = 42.86 units over the
    one-year window, damage 100 x 300/7 = 4285.71 euros, in no_disruption (probability 1)."""
    res = solve(capped(20))
    [entry] = res.portfolio["normal_time_shortfall"]
    assert entry["good"] == G
    assert entry["shortfall"] == approx(300 / 7)
    assert entry["damage"] == approx(30000 / 7)
    assert entry["probability"] == approx(1.0)
    assert entry["capped_countries"] == ["CN"]
    assert entry["cap_share"] == approx(0.65)

    console = Console(record=True, width=200)
    print_summary(res.portfolio, console)
    said = console.export_text()
    assert f"Even with no disruption, {G} is short 42.86 unit over the window" in said
    assert "the 65% concentration cap on CN binds" in said

    html = render_report(res.portfolio, res.loaded.resolved)
    box = re.search(r'<div class="alert" id="normal-shortfall">(.*?)</div>', html, re.S)[1]
    text = re.sub(r"<[^>]+>", "", unescape(box)).replace("\xa0", " ")
    assert f"Even with no disruption, {G} is short" in text
    assert "65% concentration cap on CN binds" in text
    value = re.search(r'data-key="normal_time_shortfall\.0\.shortfall" data-value="([^"]+)"', box)
    assert float(value[1]) == approx(300 / 7)


@pytest.mark.parametrize("jp_capacity", [35, 1000])
def test_no_sentence_when_normal_demand_is_met(jp_capacity):
    """With jp able to sell 35 (exactly what the cap needs: CN 65, JP 35) or more, nothing is
    short in normal times: no key, no sentence, no alert."""
    res = solve(capped(jp_capacity))
    assert "normal_time_shortfall" not in res.portfolio
    assert 'id="normal-shortfall"' not in render_report(res.portfolio, res.loaded.resolved)
