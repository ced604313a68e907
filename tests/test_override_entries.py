"""``--set`` and ``--param`` change existing entries, never create new ones (issue 15, item 10):
a name the scenario lacks is reported with the flag and the names it has; fields of the schema
that the file leaves out (``budget.total``, ``risk.cvar``) may still be set."""

from __future__ import annotations

import pytest
from test_sweep import DIRECT, frontier_case

from optimizer.api import run
from optimizer.scenario import load_scenario_dict
from optimizer.scenario.errors import ScenarioError
from optimizer.scenario.overrides import _named_maps
from optimizer.studies.sweep_param import sweep_param


def test_the_named_maps_come_from_the_schema():
    assert set(_named_maps()) == {
        ("countries",),
        ("goods",),
        ("goods", "*", "suppliers"),
        ("disruptions",),
        ("budget", "lines"),
        ("risk_model", "events"),
        ("groups",),
        ("risk", "limits"),
        ("goods", "*", "inputs"),
        ("goods", "*", "suppliers", "*", "origin"),
        ("routes",),
    }


@pytest.mark.parametrize(
    ("override", "noun", "names"),
    [
        ("disruptions.bna.probability=0.1", "disruption `bna`", "ban"),
        ("goods.galium.demand=5", "good `galium`", "gallium"),
        ("goods.gallium.suppliers.japan.capacity=5", "supplier `japan`", "cn, jp"),
        ("countries.FR.name=France", "country `FR`", "CN, JP"),
        ("budget.lines.fund.limit=5M", "budget line `fund`", "none"),
    ],
)
def test_set_refuses_a_new_entry_and_lists_the_existing_names(override, noun, names):
    with pytest.raises(ScenarioError) as info:
        load_scenario_dict(frontier_case(), overrides=[override])
    [issue] = info.value.issues
    assert f"has no {noun}" in issue.message
    assert f"(it has: {names})" in issue.message
    assert "--set changes values of existing entries" in issue.message
    assert issue.origin == f"set by --set {override}"
    assert "required key missing" not in issue.format()


def test_set_may_still_fill_a_field_the_file_leaves_out():
    """The file has no total budget and no CVaR: both are fields of the schema, not named
    entries, so --set gives them (a budget of 100 buys 20 reserved units: 3700 - 16 x 20)."""
    loaded = load_scenario_dict(
        frontier_case(), overrides=["budget.total=100", "risk.cvar.weight=0"]
    )
    assert loaded.scenario.budget.total == pytest.approx(100)
    res = run(frontier_case(), DIRECT, overrides=["budget.total=100"])
    assert res.objective == pytest.approx(3700 - 16 * 20)


def test_param_names_its_flag_and_the_disruptions_there_are():
    with pytest.raises(ScenarioError) as info:
        sweep_param(frontier_case(), "disruptions.embargo.probability", [0.1, 0.2], DIRECT)
    [issue] = info.value.issues
    assert "no disruption `embargo`" in issue.message and "(it has: ban)" in issue.message
    assert "--param changes values" in issue.message
    assert issue.origin == "set by --param disruptions.embargo.probability"
    assert "--param disruptions.ban" in issue.hint
