"""Every key of the results contract (``docs/results.md``) is present and consistent."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from optimizer.api import RunConfig, run
from optimizer.results.cells import round_table

ROOT = Path(__file__).resolve().parents[1]


def _contract_example() -> dict:
    """The ``portfolio.json`` example of results.md, comments stripped."""
    text = (ROOT / "docs" / "results.md").read_text()
    block = re.search(r"```json\n(.*?)```", text, re.S).group(1)
    block = re.sub(r"//[^\n]*", "", block).replace("…", "")
    return json.loads(block)


def _keys(example: dict, actual: dict, path: str = "") -> list[str]:
    """Contract keys missing from ``actual``. Names under ``goods``, ``scenarios``,
    ``budget.lines``, ``reserve`` and ``supply_shares`` are data (a good, a line, a country),
    so only the shape of their first entry is compared."""
    missing = []
    data_maps = {"goods", "scenarios", "lines", "reserve", "before", "after", "shortfall"}
    for key, value in example.items():
        name = path.rsplit(".", 1)[-1]
        if name in data_maps:
            if not actual:
                continue
            sub = next(iter(actual.values()))
            if isinstance(value, dict):
                missing += _keys(value, sub, f"{path}.*")
            break
        if key not in actual:
            missing.append(f"{path}.{key}".lstrip("."))
        elif isinstance(value, dict) and isinstance(actual[key], dict):
            missing += _keys(value, actual[key], f"{path}.{key}")
    return missing


SCENARIO = {
    "name": "contract check",
    "window": {"years": 2, "period": "quarter"},
    "budget": {"total": "500", "lines": {"stock_fund": {"limit": 300, "levers": ["stockpile"]}}},
    "risk": {"cvar": {"alpha": 0.9, "weight": 0.5}},
    "countries": {"CN": {}, "JP": {}},
    "goods": {
        "gallium": {
            "unit": "t",
            "demand": 40,
            "damage": 100,
            "stockpile": {"unit_cost": 10, "storage_cost": 1, "residual_value": "80%"},
            "domestic": {"capex": 20, "fixed_cost": 50, "max": 10, "lead_time": "6 months"},
            "suppliers": {
                "china": {"country": "CN", "unit_cost": 1, "capacity": 60},
                "japan": {
                    "country": "JP",
                    "unit_cost": 3,
                    "capacity": 5,
                    "reserve": {"max": 20, "fee": 2, "fixed_cost": 5},
                },
            },
        }
    },
    "disruptions": {
        "ban": {
            "probability": "20%",
            "start": "6 months",
            "duration": "1 year",
            "hits": [{"countries": ["CN"], "severity": "100%"}],
        },
    },
}


@pytest.fixture(scope="module")
def result():
    return run(SCENARIO, RunConfig(mip_gap=1e-9))


def test_every_contract_key_present(result):
    missing = _keys(_contract_example(), result.portfolio)
    assert missing == []


def test_objective_is_the_sum_of_its_parts(result):
    """objective = first-stage economic cost + expected second stage + weight * CVaR (the
    CVaR term is exact at the optimum when its weight is positive)."""
    pf = result.portfolio
    c = pf["cost"]
    assert pf["objective"] == pytest.approx(
        c["first_stage_economic"] + c["expected_second_stage"] + 0.5 * c["cvar"], rel=1e-9
    )
    assert sum(s["probability"] for s in pf["scenarios"].values()) == pytest.approx(1.0)
    assert pf["scenarios"]["no_disruption"]["probability"] == pytest.approx(0.8)
    assert c["expected_loss"] == pytest.approx(
        sum(s["probability"] * s["loss"] for s in pf["scenarios"].values())
    )


def test_cash_adds_up_over_goods_and_budget(result):
    pf = result.portfolio
    g = pf["goods"]["gallium"]
    by_lever = g["cash_by_lever"]
    assert g["cash"] == pytest.approx(sum(by_lever.values()))
    assert by_lever["stockpile"] == pytest.approx(g["stockpile"]["cash"])
    assert by_lever["domestic"] == pytest.approx(g["domestic"]["cash"])
    # storage is counted per unit held per year: (initial 0 + buy) * 1 euro * 2 years
    assert by_lever["stockpile"] == pytest.approx(g["stockpile"]["buy"] * (10 + 1 * 2))
    assert pf["budget"]["total"]["used"] == pytest.approx(pf["cost"]["first_stage_cash"])
    assert pf["budget"]["lines"]["stock_fund"]["used"] == pytest.approx(g["stockpile"]["cash"])
    assert pf["budget"]["total"]["used"] <= 500 + 1e-6


def test_tables_have_their_columns(result, tmp_path):
    out = result.write(tmp_path / "out")
    goods = pd.read_csv(out / "portfolio.csv")
    for col in (
        "good",
        "stock_buy",
        "reserve_total_per_year",
        "domestic_capacity_per_year",
        "cash_eur",
        "economic_cost_eur",
        "expected_shortfall",
        "worst_shortfall",
        "shares_before",
        "shares_after",
        "hhi_before",
        "hhi_after",
    ):
        assert col in goods.columns
    periods = pd.read_csv(out / "scenarios.csv")
    for col in (
        "scenario",
        "good",
        "period",
        "purchase_china",
        "purchase_japan",
        "production",
        "release",
        "reduction",
        "shortfall",
        "stock",
    ):
        assert col in periods.columns
    # one row per (scenario, good, period): 2 scenarios x 1 good x 8 quarters
    assert len(periods) == 2 * 1 * 8
    # the per-period shortfall adds up to the portfolio's per-scenario shortfall
    pf = result.portfolio
    for name, s in pf["scenarios"].items():
        assert periods[periods.scenario == name].shortfall.sum() == pytest.approx(
            s["shortfall"]["gallium"], abs=1e-6
        )


def test_periods_balance(result):
    """Each period: purchases + production + release - refill + reduction + shortfall =
    demand."""
    p = result.periods
    supply = (
        p.purchase_china
        + p.purchase_japan
        + p.production
        + p.release
        - p.refill
        + p.reduction
        + p.shortfall
    )
    assert (supply - p.demand).abs().max() < 1e-6


def test_threads_can_change_within_one_process():
    """HiGHS fixes its thread pool at the first solve of a process; a later run with another
    ``threads`` value must still solve (the engine resets the pool)."""
    first = run(SCENARIO, RunConfig(threads=0, interface="direct"))
    for threads, interface in ((1, "direct"), (2, "pyomo"), (1, "pyomo")):
        again = run(SCENARIO, RunConfig(threads=threads, interface=interface))
        assert again.status == "optimal"
        assert again.objective == pytest.approx(first.objective, rel=1e-6)


def test_many_suppliers_give_purchases_per_country(monkeypatch):
    """Above MAX_SUPPLIER_COLUMNS distinct supplier names, scenarios.csv reports purchases per
    country (and always the total), so that a 200-good list does not need a column per
    supplier."""
    import sys

    portfolio_module = sys.modules["optimizer.results.portfolio"]

    monkeypatch.setattr(portfolio_module, "MAX_SUPPLIER_COLUMNS", 1)
    r = run(SCENARIO, RunConfig(mip_gap=1e-9))
    p = r.periods
    assert "purchase_country_CN" in p.columns and "purchase_country_JP" in p.columns
    assert "purchase_china" not in p.columns
    assert (p.purchase_country_CN + p.purchase_country_JP - p.purchase_total).abs().max() < 1e-9


def test_scenarios_csv_reads_back_as_the_period_table_exactly(result, tmp_path):
    """``scenarios.csv`` (written by Arrow's CSV writer) reads back with pandas as the period
    table: the same columns in the same order, every number equal to the last bit to the
    period table rounded to 12 significant digits (the one rounding of every results file,
    ``cells.py``; then written in its shortest round-trip form), so within 1e-12 of the
    values computed; ``disrupted`` as booleans."""
    result.write(tmp_path / "out", formats=("csv",))
    back = pd.read_csv(tmp_path / "out" / "scenarios.csv")
    periods = result.periods
    rounded = round_table(periods)
    assert list(back.columns) == list(periods.columns)
    assert len(back) == len(periods)
    for col in periods.columns:
        if periods[col].dtype.kind == "f":
            assert (back[col].to_numpy() == rounded[col].to_numpy()).all(), col
            assert back[col].to_numpy() == pytest.approx(periods[col].to_numpy(), rel=1e-12)
        else:
            assert back[col].astype(str).tolist() == periods[col].astype(str).tolist(), col
    assert back["disrupted"].dtype == bool
