"""Results at scale (issue 13, item 5): ``scenarios.csv`` at full detail or per-future totals,
the workbook and the report of a bounded size whatever the number of futures.

The hand-worked case (used throughout): window 1 year in quarters (4 periods). Gallium: demand
120 a year (30 a quarter), damage 100 EUR/unit, supplier ``cn`` (CN) at 10 EUR/unit with plenty
of capacity, ``jp`` (JP) at 15 EUR/unit with 40 a year (10 a quarter). Germanium: demand 40 a
year (10 a quarter), damage 50 EUR/unit, supplier ``ru`` (RU) at 20 EUR/unit. Disruption
``ban`` (probability 0.2, so ``no_disruption`` 0.8) cuts CN completely for the first 6 months
(quarters 1 and 2). No lever is offered, so the second stage alone decides:

- ``no_disruption``: gallium 4 x 30 = 120 from cn, cost 120 x 10 = 1,200; germanium 40 from ru,
  cost 40 x 20 = 800; no shortfall.
- ``ban``, gallium: quarters 1-2 only jp, 10 a quarter (15 < damage 100, so bought), shortfall
  20 a quarter = 40 units, damage 40 x 100 = 4,000; quarters 3-4 cn again, 60 x 10 = 600.
  Purchases 20 + 60 = 80; cost 20 x 15 + 600 + 4,000 = 4,900; 2 disrupted periods.
  Germanium is untouched: 40 units, cost 800.
- Objective 0.8 x (1,200 + 800) + 0.2 x (4,900 + 800) = 1,600 + 1,140 = 2,740.
"""

from __future__ import annotations

import json

import numpy as np
import openpyxl
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from optimizer.api import RunConfig, run
from optimizer.cli import app
from optimizer.config import ConfigError, load_config
from optimizer.results import scenario_detail as sd
from optimizer.results.cells import round_figure, round_figures
from optimizer.results.excel import portfolio_workbook
from optimizer.results.report import render_report
from optimizer.results.scenario_detail import (
    FULL_DETAIL_MAX_FUTURES,
    REPORT_MAX_FUTURES,
    TOTALS_COLUMNS,
    WORKBOOK_MAX_FUTURES,
    largest_futures,
    written_detail,
)

EXCEL_MAX_ROWS = 1_048_576
TOL = {"rel": 1e-9, "abs": 1e-9}

HAND = {
    "name": "results at scale, hand-worked",
    "window": {"years": 1, "period": "quarter"},
    "countries": {"CN": {}, "JP": {}, "RU": {}},
    "goods": {
        "gallium": {
            "demand": 120,
            "damage": 100,
            "suppliers": {
                "cn": {"country": "CN", "unit_cost": 10, "capacity": 1000},
                "jp": {"country": "JP", "unit_cost": 15, "capacity": 40},
            },
        },
        "germanium": {
            "demand": 40,
            "damage": 50,
            "suppliers": {"ru": {"country": "RU", "unit_cost": 20, "capacity": 1000}},
        },
    },
    "disruptions": {
        "ban": {
            "probability": 0.2,
            "duration": "6 months",
            "hits": [{"countries": ["CN"], "severity": 1.0}],
        }
    },
}


@pytest.fixture(scope="module")
def hand():
    res = run(HAND, config=RunConfig())
    assert res.status == "optimal"
    assert res.objective == pytest.approx(2740, **TOL)
    return res


def _row(table: pd.DataFrame, scenario: str, good: str) -> pd.Series:
    sel = table[(table["scenario"] == scenario) & (table["good"] == good)]
    assert len(sel) == 1
    return sel.iloc[0]


# --- the totals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scenario", "good", "expected"),
    [
        (
            "no_disruption",
            "gallium",
            dict(probability=0.8, disrupted_periods=0, demand=120, purchase_total=120,
                 shortfall=0, loss_eur=0, cost_eur=1200),
        ),
        (
            "no_disruption",
            "germanium",
            dict(probability=0.8, disrupted_periods=0, demand=40, purchase_total=40,
                 shortfall=0, loss_eur=0, cost_eur=800),
        ),
        (
            "ban",
            "gallium",
            dict(probability=0.2, disrupted_periods=2, demand=120, purchase_total=80,
                 shortfall=40, loss_eur=4000, cost_eur=4900),
        ),
        (
            "ban",
            "germanium",
            dict(probability=0.2, disrupted_periods=0, demand=40, purchase_total=40,
                 shortfall=0, loss_eur=0, cost_eur=800),
        ),
    ],
)  # fmt: skip
def test_totals_are_the_hand_worked_figures(hand, scenario, good, expected):
    """The module docstring's arithmetic, one (future, good) row each: e.g. ``ban``/gallium
    buys 2 x 10 from jp and 2 x 30 from cn (80), is short 2 x 20 = 40 (damage 4,000) and costs
    20 x 15 + 60 x 10 + 4,000 = 4,900."""
    row = _row(hand.scenario_totals, scenario, good)
    for column, value in expected.items():
        assert row[column] == pytest.approx(value, **TOL), column
    assert row["production"] == row["release"] == row["refill"] == row["reduction"] == 0


def test_totals_equal_the_sum_of_the_full_rows(hand):
    """Every summed column of the totals is the sum of the full table's column over the
    periods of that future and good (``ban``/gallium shortfall 20 + 20 + 0 + 0 = 40), the
    disrupted periods the count of ``disrupted`` rows (2), and the loss the shortfall times
    the damage; one row per (future, good), 2 x 2 = 4, in the futures' order."""
    totals = hand.scenario_totals
    full = hand.periods
    assert list(totals.columns) == list(TOTALS_COLUMNS)
    assert len(totals) == 4 and len(full) == 16  # 2 futures x 2 goods (x 4 quarters)
    assert list(totals["scenario"]) == ["no_disruption"] * 2 + ["ban"] * 2
    keys = ["scenario", "good"]
    summed = ["demand", "purchase_total", "production", "release", "refill", "reduction"]
    by_pair = full.groupby(keys, observed=True)[[*summed, "shortfall", "disrupted"]].sum()
    for row in totals.itertuples(index=False):
        sums = by_pair.loc[(row.scenario, row.good)]
        for column in [*summed, "shortfall"]:
            assert getattr(row, column) == pytest.approx(sums[column], **TOL), column
        assert row.disrupted_periods == sums["disrupted"]
    damage = totals["good"].map({"gallium": 100.0, "germanium": 50.0}).astype(float)
    assert totals["loss_eur"].to_numpy() == pytest.approx((totals["shortfall"] * damage).to_numpy())


def test_totals_add_up_to_portfolio_json(hand):
    """Summed over the goods, a future's ``cost_eur`` and ``loss_eur`` are ``portfolio.json``'s
    ``scenarios.<future>.cost`` and ``loss``: ``ban`` 4,900 + 800 = 5,700 and 4,000;
    ``no_disruption`` 1,200 + 800 = 2,000 and 0; and the expected cost 0.8 x 2,000 +
    0.2 x 5,700 = 2,740 is the objective (no first stage)."""
    totals = hand.scenario_totals
    per_future = totals.groupby("scenario", observed=True)[["cost_eur", "loss_eur"]].sum()
    for name, s in hand.portfolio["scenarios"].items():
        assert per_future.loc[name, "cost_eur"] == pytest.approx(s["cost"], **TOL)
        assert per_future.loc[name, "loss_eur"] == pytest.approx(s["loss"], **TOL)
    assert per_future.loc["ban", "cost_eur"] == pytest.approx(5700, **TOL)
    first = totals.drop_duplicates("scenario")
    expected = (first["probability"].to_numpy() * per_future["cost_eur"].to_numpy()).sum()
    assert expected == pytest.approx(2740, **TOL)


# --- the choice -----------------------------------------------------------------------------


def test_auto_switches_at_the_threshold():
    """``auto``: full up to FULL_DETAIL_MAX_FUTURES futures, totals from one more; ``full``
    and ``totals`` whatever the count; anything else refused."""
    n = FULL_DETAIL_MAX_FUTURES
    assert written_detail("auto", 2) == "full"
    assert written_detail("auto", n) == "full"
    assert written_detail("auto", n + 1) == "totals"
    assert written_detail("full", 10 * n) == "full"
    assert written_detail("totals", 2) == "totals"
    with pytest.raises(ValueError, match="auto, full, totals"):
        written_detail("summary", 2)


@pytest.mark.parametrize(
    ("asked", "threshold", "written"),
    [("auto", 2, "full"), ("auto", 1, "totals"), ("full", 1, "full"), ("totals", 2, "totals")],
)
def test_written_folder_follows_the_choice(hand, tmp_path, monkeypatch, asked, threshold, written):
    """The hand case has 2 futures: ``auto`` writes the full 16 rows with a threshold of 2 and
    the 4 totals with a threshold of 1; portfolio.json records what was asked and written."""
    monkeypatch.setattr(sd, "FULL_DETAIL_MAX_FUTURES", threshold)
    out = hand.write(tmp_path / "out", ("json", "csv"), asked)
    table = pd.read_csv(out / "scenarios.csv")
    if written == "full":
        assert list(table.columns) == list(hand.periods.columns) and len(table) == 16
    else:
        assert list(table.columns) == list(TOTALS_COLUMNS) and len(table) == 4
        assert table["shortfall"].sum() == pytest.approx(40, **TOL)
    recorded = json.loads((out / "portfolio.json").read_text())["scenario_detail"]
    assert recorded["asked"] == asked and recorded["written"] == written
    assert recorded["futures"] == 2


# --- config key and command-line flag ------------------------------------------------------


def test_config_key_validates_with_a_located_message(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("output:\n  scenario_detail: totals\n")
    assert load_config(good).output.scenario_detail == "totals"
    assert load_config(None).output.scenario_detail == "auto"
    bad = tmp_path / "config.yaml"
    bad.write_text("output:\n  formats: [json]\n  scenario_detail: summary\n")
    with pytest.raises(ConfigError) as exc:
        load_config(bad)
    text = str(exc.value)
    assert "config.yaml:3" in text and "output.scenario_detail" in text
    assert "auto, full, totals" in text and "summary" in text


def test_run_flag_writes_totals_and_refuses_a_wrong_value(tmp_path):
    scenario = tmp_path / "hand.yaml"
    scenario.write_text(yaml.safe_dump(HAND))
    runner = CliRunner()
    wrong = runner.invoke(
        app, ["run", str(scenario), "--out", str(tmp_path / "a"), "--scenario-detail", "some"]
    )
    assert wrong.exit_code == 2
    assert "--scenario-detail" in wrong.output and "totals" in wrong.output
    assert not (tmp_path / "a").exists()
    args = ["run", str(scenario), "--out", str(tmp_path / "b"), "-q", "--formats", "json,csv"]
    done = runner.invoke(app, [*args, "--scenario-detail", "totals"])
    assert done.exit_code == 0, done.output
    assert len(pd.read_csv(tmp_path / "b" / "scenarios.csv")) == 4
    assert "--scenario-detail" in runner.invoke(app, ["run", "--help"]).output


# --- workbook and report at many futures --------------------------------------------------


def _many_futures(pf: dict, count: int) -> dict:
    """``pf`` with ``count`` synthetic futures: future i has probability 1/count and loss i
    euros (so the largest expected losses are the last ones), gallium short i / 100 units, and
    an upstream row each."""
    futures = {
        f"s{i:05d}": {
            "probability": 1 / count,
            "loss": float(i),
            "cost": float(i),
            "shortfall": {"gallium": i / 100, "germanium": 0.0},
        }
        for i in range(count)
    }
    upstream = {
        k: {"gallium": {"shortfall": v["shortfall"]["gallium"], "inputs": {"x": ["CN"]}}}
        for k, v in futures.items()
    }
    return {**pf, "scenarios": futures, "upstream": upstream}


def test_largest_futures_keeps_the_largest_expected_loss_in_order():
    """Expected losses 0.5 x 10 = 5, 0.1 x 100 = 10, 0.4 x 1 = 0.4, 0 x 50 = 0: the two
    largest are b (10) and a (5), kept in their order a, b."""
    scen = {
        "a": {"probability": 0.5, "loss": 10.0},
        "b": {"probability": 0.1, "loss": 100.0},
        "c": {"probability": 0.4, "loss": 1.0},
        "d": {"probability": 0.0, "loss": 50.0},
    }
    assert list(largest_futures(scen, 2)) == ["a", "b"]
    assert largest_futures(scen, 4) is scen


def test_workbook_lists_at_most_its_cap_of_futures(hand, monkeypatch):
    """The cap itself is well under Excel's 1,048,576 rows. With a cap of 40 (patched, to keep
    the test fast) and 60 futures the sheet Scenarios holds the header and 40 rows, the futures
    of largest loss (losses 20 to 59: s00020 to s00059, in order), and its first header says
    40 of 60."""
    import optimizer.results.excel as excel

    assert WORKBOOK_MAX_FUTURES < EXCEL_MAX_ROWS
    monkeypatch.setattr(excel, "WORKBOOK_MAX_FUTURES", 40)
    wb = portfolio_workbook(_many_futures(hand.portfolio, 60), hand.loaded.resolved)
    ws = wb["Scenarios"]
    assert ws.max_row == 41
    assert ws.cell(2, 1).value == "s00020" and ws.cell(41, 1).value == "s00059"
    assert "40 of 60" in ws.cell(1, 1).value


def test_workbook_of_few_futures_lists_them_all(hand, tmp_path):
    path = tmp_path / "p.xlsx"
    portfolio_workbook(hand.portfolio, hand.loaded.resolved).save(path)
    ws = openpyxl.load_workbook(path)["Scenarios"]
    assert ws.max_row == 3 and ws.cell(1, 1).value == "Scenario"


def test_report_does_not_grow_with_the_futures(hand):
    """The report of 20,000 futures lists as many rows as that of 200 (REPORT_MAX_FUTURES in
    the scenarios table and in the upstream table), its size within a few kB of it, and names
    how many it leaves out."""
    small = render_report(_many_futures(hand.portfolio, 200), hand.loaded.resolved)
    large = render_report(_many_futures(hand.portfolio, 20_000), hand.loaded.resolved)
    assert small.count("<tr") == large.count("<tr")
    assert large.count('data-key="scenarios.') == REPORT_MAX_FUTURES * 5  # prob, loss, cost, 2
    assert large.count('data-key="upstream.') == REPORT_MAX_FUTURES
    assert abs(len(large) - len(small)) < 5_000
    assert f"{REPORT_MAX_FUTURES} of 20,000 scenarios" in large
    assert 'data-key="scenarios.s19999.loss"' in large  # the largest is listed
    assert 'data-key="scenarios.s00000.loss"' not in large


def test_round_figure_in_plain_python_equals_the_vectorised_rounding():
    """The scalar rounding of JSON and workbook figures (plain Python, for speed) gives exactly
    what the vectorised one of the CSV files gives: 20,000 random values over 60 orders of
    magnitude, powers of ten and their neighbours, and the noisy sums of the docs
    (0.1 + 0.2 -> 0.3)."""
    rng = np.random.default_rng(5)
    sign = rng.choice([-1.0, 1.0], 20_000)
    powers = 10.0 ** np.arange(-25, 30)
    x = np.concatenate(
        [
            sign * rng.uniform(0.1, 1, 20_000) * 10.0 ** rng.integers(-30, 30, 20_000),
            powers,
            np.nextafter(powers, 0),
            np.nextafter(powers, np.inf),
            [0.1 + 0.2, 0.02400000000000013, 1 / 3, 0.0, np.inf, -np.inf],
        ]
    )
    scalar = np.array([round_figure(float(v)) for v in x])
    assert np.array_equal(scalar, round_figures(x))
    assert round_figure(0.1 + 0.2) == 0.3
