"""The JSON Schema and the reference page come from the schema's field docstrings."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from optimizer.cli import app
from optimizer.scenario.reference import markdown

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def test_reference_page_is_generated_not_written_twice():
    page = (ROOT / "docs" / "scenario-reference.md").read_text()
    assert page == markdown(), "run: stockpile schema --markdown > docs/scenario-reference.md"


@pytest.mark.parametrize(
    "path", sorted(p for p in (ROOT / "scenarios").rglob("*.yaml") if "batch" not in p.name)
)
def test_shipped_scenarios_pass_the_json_schema(path):
    """Editors using the exported schema accept what the engine accepts (2.5M, 65%, ...)."""
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    data = yaml.safe_load(path.read_text())  # a file with extends: is checked as partial
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]
    assert errors == []


def test_json_schema_refuses_unknown_keys_and_bad_units():
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    v = jsonschema.Draft202012Validator(schema)
    base = {"window": {"years": 1}, "goods": {"g": {"demand": 1, "damage": "2M"}}}
    assert not list(v.iter_errors(base))
    assert list(v.iter_errors({**base, "budgte": {}}))
    bad = {
        "window": {"years": 1},
        "disruptions": {
            "d": {"probability": "12%", "duration": 18, "hits": [{"countries": ["CN"]}]}
        },
        "goods": base["goods"],
    }
    assert list(v.iter_errors(bad))  # a duration needs its unit
