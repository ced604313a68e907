"""Units an economist writes (issue 15, item 13): ``25 kt`` for a good counted in t, prices
per kg (``55 EUR/kg``) converted to the good's unit, a plain message with what to write when a
unit cannot be used, and an unclosed ``[`` reported on the line that opened it."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_model_terms import G, scenario, supplier

from optimizer.scenario import load_scenario, load_scenario_dict
from optimizer.scenario.errors import ScenarioError
from optimizer.scenario.units import convert_good_quantity


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        ("25 kt", "t", 25_000.0),  # 25 x 1e6 kg / 1e3 kg
        ("1.5 Mt", "kt", 1_500.0),  # 1.5e9 / 1e6
        ("500 kg", "t", 0.5),
        ("25 kt/yr", "t", 25_000.0),
        ("25 kt per year", "t", 25_000.0),
        ("55 EUR/kg", "t", 55_000.0),  # 55 euros per kg x 1000 kg per t
        ("EUR 55/kg", "t", 55_000.0),
        ("1.2M EUR/kt", "t", 1_200.0),  # 1.2e6 euros per 1e6 kg = 1.2 per kg = 1200 per t
        ("2 € per t", "kt", 2_000.0),
        ("25", "t", "25"),  # no unit: left for the schema
        ("25 kt", "doses", "25 kt"),  # a good not counted in mass: left (and refused)
        ("3 years", "t", "3 years"),
    ],
)
def test_convert_good_quantity(value, unit, expected):
    assert convert_good_quantity(value, unit) == (
        pytest.approx(expected) if isinstance(expected, float) else expected
    )


def test_a_scenario_in_kt_and_eur_per_kg_loads_in_tonnes():
    """demand '2 kt' = 2000 t; damage '150 EUR/kg' = 150,000 per t; a capacity of '5 kt/yr'
    = 5000 t a year; unit_cost '10 EUR/kg' = 10,000 per t."""
    data = scenario(
        {
            "unit": "t",
            "demand": "2 kt",
            "damage": "150 EUR/kg",
            "suppliers": {"cn": supplier("CN", "10 EUR/kg", "5 kt/yr")},
        }
    )
    good = load_scenario_dict(data).scenario.goods[G]
    assert good.demand == pytest.approx(2000)
    assert good.damage == pytest.approx(150_000)
    assert good.suppliers["cn"].capacity == pytest.approx(5000)
    assert good.suppliers["cn"].unit_cost == pytest.approx(10_000)


def test_a_mass_for_a_good_not_counted_in_mass_says_what_to_write():
    data = scenario({"unit": "doses", "demand": "25 kt"})
    with pytest.raises(ScenarioError) as info:
        load_scenario_dict(data)
    text = info.value.issues[0].format()
    assert f"goods.{G}.demand" in text
    assert "write the number alone, in the good's own unit" in text
    assert "'55 EUR/kg'" in text


def test_an_unclosed_bracket_is_reported_on_its_own_line(tmp_path: Path):
    text = (
        "name: x\n"
        "window: {years: 1, period: year}\n"
        "countries: {CN: {}}\n"
        "goods:\n"
        "  g: {demand: 10, damage: 5, suppliers: {cn: {country: CN, unit_cost: 1, capacity: 9}}}\n"
        "disruptions:\n"
        "  ban:\n"
        "    probability: 10%\n"
        "    duration: 1 year\n"
        "    hits: [{countries: [CN]}\n"  # line 10: the outer [ is never closed
        "    price_multiplier: 2\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    [issue] = info.value.issues
    assert issue.line == 10
    assert issue.column == 11
    assert "the [ opened here" in issue.message and "line 11" in issue.message
    assert issue.hint == "close it with ] on this line"
