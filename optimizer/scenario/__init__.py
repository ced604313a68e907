"""Scenario files: the schema, the loader with located error messages, and cross-checks.

``load_scenario(path, overrides)`` is the entry point; it returns a :class:`LoadedScenario` or
raises :class:`ScenarioError` with every problem found.
"""

from optimizer.scenario.checks import check_references, format_path
from optimizer.scenario.errors import Issue, ScenarioError
from optimizer.scenario.loader import (
    LoadedScenario,
    apply_overrides,
    load_scenario,
    load_scenario_dict,
)
from optimizer.scenario.schema import Scenario

__all__ = [
    "Issue",
    "LoadedScenario",
    "Scenario",
    "ScenarioError",
    "apply_overrides",
    "check_references",
    "format_path",
    "load_scenario",
    "load_scenario_dict",
]
