"""The shipped JSON Schemas (``schemas/``) are what editors read: generated, fresh, named by
every shipped file, and standard validators (``jsonschema``, the library check-jsonschema wraps:
Draft 2020-12, and draft-07, the dialect the schemas declare for yaml-language-server) accept
what the engine's loaders accept and refuse what they refuse."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from pydantic import ValidationError

from optimizer.cli.schema import schema_text
from optimizer.scenario.errors import ScenarioError
from optimizer.scenario.json_schema import scenario_json_schema
from optimizer.scenario.loader import load_scenario, load_scenario_dict
from optimizer.scenario.located_yaml import _read_yaml
from optimizer.studies.batch_file import BatchError, load_batch
from optimizer.studies.batch_schema import BatchFile, batch_json_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"
SHIPPED = sorted((ROOT / "scenarios").rglob("*.yaml"))
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")
REGENERATE = (
    "regenerate: stockpile schema > schemas/scenario.schema.json && "
    "stockpile schema --batch > schemas/batch.schema.json"
)


def _is_batch(path: Path) -> bool:
    return "base" in (yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


def _errors(name: str, data: object) -> list[str]:
    """The errors of ``data`` under the shipped schema ``name``, as a Draft 2020-12 validator
    reports them; a draft-07 validator (what yaml-language-server implements) must agree on
    whether there is any."""
    schema = _schema(name)
    errors = [
        f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
        for e in jsonschema.Draft202012Validator(schema).iter_errors(data)
    ]
    draft7 = list(jsonschema.Draft7Validator(schema).iter_errors(data))
    assert (draft7 == []) == (errors == []), (errors, [e.message for e in draft7])
    return errors


# --- the shipped schemas ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "generate"), [("scenario", scenario_json_schema), ("batch", batch_json_schema)]
)
def test_shipped_schema_is_generated_and_fresh(name, generate):
    shipped = (SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8")
    assert shipped == schema_text(generate()), f"schemas/{name}.schema.json is stale; {REGENERATE}"
    document = json.loads(shipped)
    # declared draft-07 (yaml-language-server's dialect), valid under 2020-12 as well
    assert document["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(document)
    jsonschema.Draft202012Validator.check_schema(document)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_file_names_its_schema_and_passes_it(path):
    """First line: the yaml-language-server modeline, a path relative to the file, to the
    batch schema for a batch file and the scenario schema otherwise. The file, read as the
    engine reads it and as a plain YAML reader does, has no error under that schema."""
    first = path.read_text(encoding="utf-8").splitlines()[0]
    m = MODELINE.match(first)
    assert m, f"{path.name}: first line should be a yaml-language-server $schema modeline"
    kind = "batch" if _is_batch(path) else "scenario"
    target = (path.parent / m.group(1)).resolve()
    assert target == (SCHEMAS / f"{kind}.schema.json").resolve(), m.group(1)
    engine_view, _, _ = _read_yaml(path, str(path))
    assert _errors(kind, engine_view) == []
    assert _errors(kind, yaml.safe_load(path.read_text(encoding="utf-8"))) == []


def test_the_library_has_files_of_both_kinds():
    """Partial files (extends:) and batch files are among those checked above."""
    texts = [p.read_text(encoding="utf-8") for p in SHIPPED]
    assert sum("\nextends:" in t for t in texts) >= 2
    assert sum(_is_batch(p) for p in SHIPPED) >= 1


# --- scenario files: the schema and the loader agree ---------------------------------------------

WHOLE = {
    "window": {"years": 2, "period": "quarter"},
    "countries": {"CN": {}, "JP": {}},
    "goods": {
        "gallium": {
            "demand": 40,
            "damage": "2M",
            "suppliers": {
                "china": {"country": "CN", "unit_cost": "300k", "capacity": 40},
                "japan": {"country": "JP", "unit_cost": "400k", "capacity": 5},
            },
        }
    },
    "disruptions": {
        "ban": {"probability": "20%", "duration": "6 months", "hits": [{"countries": ["CN"]}]}
    },
}

#: name -> (a whole file, does the loader accept it). The schema must say the same.
WHOLE_CASES = {
    "as_is": (WHOLE, True),
    "misspelt_key": ({**WHOLE, "budgte": {"total": "1M"}}, False),
    "wrong_type": ({**WHOLE, "window": {"years": "two"}}, False),
    "missing_goods": ({k: v for k, v in WHOLE.items() if k != "goods"}, False),
    "missing_window": ({k: v for k, v in WHOLE.items() if k != "window"}, False),
    "missing_nested_capacity": (
        {
            **WHOLE,
            "goods": {
                "gallium": {
                    "demand": 40,
                    "damage": "2M",
                    "suppliers": {"china": {"country": "CN", "unit_cost": 1}},
                }
            },
        },
        False,
    ),
    "duration_without_unit": (
        {**WHOLE, "disruptions": {"ban": {**WHOLE["disruptions"]["ban"], "duration": 6}}},
        False,
    ),
    "disruptions_null": ({**WHOLE, "disruptions": None}, True),
    "money_with_eur": ({**WHOLE, "budget": {"total": "EUR 2.5M"}}, True),
    "negative_money_text": ({**WHOLE, "budget": {"total": "-5M"}}, False),
}


@pytest.mark.parametrize("case", list(WHOLE_CASES))
def test_whole_files_schema_agrees_with_the_loader(case):
    data, accepted = WHOLE_CASES[case]
    try:
        load_scenario_dict(data)
        loader = True
    except ScenarioError:
        loader = False
    assert loader is accepted
    errors = _errors("scenario", data)
    assert (errors == []) is accepted, errors


#: name -> (a file extending ``base.yaml`` (WHOLE), does the loader accept it).
PARTIAL_CASES = {
    "only_a_name": ({"name": "smaller"}, True),
    "nested_override": (
        {"goods": {"gallium": {"suppliers": {"japan": {"capacity": 10}}}}},
        True,
    ),
    "clears_disruptions": ({"disruptions": None}, True),
    "misspelt_nested_key": (
        {"goods": {"gallium": {"suppliers": {"japan": {"capasity": 10}}}}},
        False,
    ),
    "wrong_nested_type": ({"goods": {"gallium": {"demand": "forty"}}}, False),
    "share_out_of_range": ({"disruptions": {"ban": {"probability": 1.5}}}, False),
    # a list is replaced whole by the merge: each of its items must be complete
    "incomplete_list_item": ({"disruptions": {"ban": {"hits": [{"severity": "50%"}]}}}, False),
    "extends_not_a_name": ({"name": "x"}, False),  # `extends: 3` below
}


@pytest.mark.parametrize("case", list(PARTIAL_CASES))
def test_partial_files_schema_agrees_with_the_loader(case, tmp_path):
    """A file with ``extends:`` is checked as a partial scenario: nothing required, every key
    checked for name and type; the loader (which merges it over the base first) agrees."""
    data, accepted = PARTIAL_CASES[case]
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(WHOLE), encoding="utf-8")
    data = {"extends": 3 if case == "extends_not_a_name" else "base.yaml", **data}
    path = tmp_path / "partial.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    try:
        load_scenario(path)
        loader = True
    except ScenarioError:
        loader = False
    assert loader is accepted
    errors = _errors("scenario", data)
    assert (errors == []) is accepted, errors


def test_extends_is_refused_nowhere_but_required_keys_only_in_whole_files():
    assert _errors("scenario", {"extends": "base.yaml"}) == []
    assert _errors("scenario", {}) != []  # without extends: window and goods are required
    assert _errors("scenario", {"goods": {"g": {"unit": "t"}}, "extends": "b.yaml"}) == []
    assert _errors("scenario", {"goods": {"g": {"unit": "t"}}, "window": {"years": 1}}) != []


#: Texts of quantities: (key in a good, text). Each is accepted by both or refused by both.
QUANTITY_TEXTS = [
    *[("damage", t) for t in ("2.5M", "750k", "1.2bn", "2.5e6", "2_500_000", "2,500,000")],
    *[("damage", t) for t in ("EUR 2.5M", "2.5M eur", "€2.5M", "1.2B", "+5", "-5", "5 dollars")],
    *[("demand", t) for t in ("1e3", "1_000", "1,000", " 7 ", "-3", "seven")],
    *[("max_shortfall", t) for t in ("65%", " 65 %", "0.65", "100%", "150%", "5e-2", "half")],
    *[("lead_time", t) for t in ("18 months", "18 Months", "2 YEARS", "6 weeks", "90 days")],
    *[("lead_time", t) for t in ("1 quarter", "18 mo", "18", "soon")],
]


@pytest.mark.parametrize(("key", "text"), QUANTITY_TEXTS)
def test_quantity_texts_schema_agrees_with_the_loader(key, text):
    good = {"demand": 1, "damage": 1}
    if key == "lead_time":
        good["domestic"] = {"capex": 1, "max": 1, "lead_time": text}
    else:
        good[key] = text
    data = {"window": {"years": 1}, "goods": {"g": good}}
    try:
        load_scenario_dict(data)
        loader = True
    except ScenarioError:
        loader = False
    assert (_errors("scenario", data) == []) is loader, (key, text, loader)


# --- batch files: the pydantic model, its schema and load_batch agree -----------------------------

BATCH = {
    "name": "t",
    "base": "base.yaml",
    "vary": {"budget.total": ["1M", "2M"]},
    "variants": {"cheap": {"goods.gallium.demand": 30}},
}

#: name -> (a batch file, does load_batch accept it, does the JSON Schema see the problem).
BATCH_CASES = {
    "as_is": (BATCH, True, True),
    "only_base": ({"base": "base.yaml"}, True, True),
    "null_vary": ({"base": "base.yaml", "vary": None, "variants": None}, True, True),
    "misspelt_key": ({**BATCH, "varry": {}}, False, True),
    "missing_base": ({k: v for k, v in BATCH.items() if k != "base"}, False, True),
    "base_not_text": ({**BATCH, "base": 3}, False, True),
    "name_not_text": ({**BATCH, "name": ["a"]}, False, True),
    "vary_not_a_mapping": ({**BATCH, "vary": ["budget.total"]}, False, True),
    "vary_value_not_a_list": ({**BATCH, "vary": {"budget.total": "1M"}}, False, True),
    "vary_empty_list": ({**BATCH, "vary": {"budget.total": []}}, False, True),
    "key_with_equals": ({**BATCH, "vary": {"budget.total=1": [1]}}, False, True),
    "key_with_space": ({**BATCH, "vary": {"budget total": [1]}}, False, True),
    "variant_named_base": ({**BATCH, "variants": {"base": {"a.b": 1}}}, False, True),
    "variant_bad_name": ({**BATCH, "variants": {"no domestic": {"a.b": 1}}}, False, True),
    "variant_empty": ({**BATCH, "variants": {"v": {}}}, False, True),
    "variant_not_a_mapping": ({**BATCH, "variants": {"v": [1]}}, False, True),
    "variant_named_by_a_number": ({**BATCH, "variants": {1: {"a.b": 1}}}, True, True),
    "vary_key_a_number": ({**BATCH, "vary": {1: [1, 2]}}, True, True),  # keys are read as text
    # checks between keys: the model (and load_batch) refuse, JSON Schema cannot say them
    "value_twice": ({**BATCH, "vary": {"budget.total": ["1M", "1M"]}}, False, False),
    "variant_sets_a_varied_key": (
        {**BATCH, "variants": {"v": {"budget.total": "3M"}}},
        False,
        False,
    ),
    "too_many_runs": (
        {"base": "base.yaml", "vary": {f"k{i}": list(range(10)) for i in range(6)}},
        False,
        False,
    ),
}


@pytest.mark.parametrize("case", list(BATCH_CASES))
def test_batch_model_and_schema_agree_with_load_batch(case, tmp_path):
    """The pydantic model mirrors load_batch exactly; its JSON Schema agrees wherever a schema
    can (the last three cases are checks between keys, which only the model makes)."""
    data, accepted, schema_sees_it = BATCH_CASES[case]
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(WHOLE), encoding="utf-8")
    path = tmp_path / "batch.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    try:
        load_batch(path)
        loader = True
    except BatchError:
        loader = False
    assert loader is accepted
    engine_view, _, _ = _read_yaml(path, str(path))  # as load_batch reads it
    try:
        BatchFile.model_validate(engine_view)
        model = True
    except ValidationError:
        model = False
    assert model is accepted
    schema_ok = _errors("batch", json.loads(json.dumps(data))) == []  # keys are text in JSON
    assert schema_ok is (accepted or not schema_sees_it)


def test_shipped_batch_expands_the_same_with_the_model(tmp_path):
    """The shipped batch file is read by both; the model keeps its grid and variants."""
    path = ROOT / "scenarios" / "policy_batch.yaml"
    batch = load_batch(path)
    model = BatchFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert list(model.vary or {}) == batch.keys
    assert set(model.variants or {}) == set(batch.variants)
    shutil.copy(path, tmp_path / "b.yaml")  # the base is then missing: only the loader sees it
    with pytest.raises(BatchError, match="does not exist"):
        load_batch(tmp_path / "b.yaml")
