"""The JSON Schema of scenario files, generated from the pydantic models of ``schema.py``.

Editors (any editor with yaml-language-server, such as VS Code's YAML extension) read it for
completion, hover documentation (the field docstrings) and underlines; ``stockpile schema``
prints it and ``schemas/scenario.schema.json`` is its output (a test keeps them equal).

One document covers both kinds of scenario file the loader reads (``loader.py``):

- a **whole** file (no ``extends:``) is validated against ``$defs/Scenario``, the pydantic
  model's own schema: required keys required, unknown keys refused;
- a file **with** ``extends:`` is deep-merged over the file it names, so on its own it is a
  **partial** scenario: ``$defs/PartialScenario``, the same keys and types with nothing
  required at any depth (no ``required``, no ``minProperties``). Items of lists stay whole:
  the merge replaces a list as a whole, so each item of a ``hits:`` list is a complete hit.

The choice is made with JSON Schema's ``if: {required: [extends]} then: ... else: ...``
(draft-07, see :data:`DRAFT`). Beyond the models, the document carries the loader's two extra
rules: ``extends:`` (the name of a scenario file, relative to this one) is allowed in a partial
file, and ``disruptions: null`` (clears the disruptions of the file extended; the loader reads
it as no disruptions in a whole file too) is allowed in both.

What a schema cannot say is still checked by the loader (``stockpile validate``): that goods
and countries named in hits exist, that an event has exactly one of ``rate`` and
``probability``, that probabilities add up to at most 1, and the like.
"""

from __future__ import annotations

import copy
from typing import Any

from optimizer.scenario.schema import Scenario

__all__ = ["DRAFT", "PARTIAL_PREFIX", "portable", "scenario_json_schema"]

#: The dialect the generated documents declare: draft-07, because yaml-language-server (VS Code's
#: YAML extension and the editors built on it) implements draft-07 and reports a schema that
#: declares 2020-12 as "not yet fully supported" on every file. The documents use only keywords
#: that mean the same in draft-07 and 2020-12 (``$defs`` is reached by JSON pointer in both),
#: so a 2020-12 validator reads them alike; the tests run both.
DRAFT = "http://json-schema.org/draft-07/schema#"

#: Name prefix of the partial copy of each model in ``$defs`` (``PartialGood``).
PARTIAL_PREFIX = "Partial"

#: Keys of the root whose value ``null`` the loader accepts (a ``mode="before"`` validator of
#: the model turns it into an empty mapping).
NULL_CLEARS = ("disruptions",)

_EXTENDS = {
    "type": "string",
    "minLength": 1,
    "pattern": r"\S",
    "description": "The scenario file this one builds on, relative to this file; this file is "
    "deep-merged over it (mappings merged key by key, lists and values replaced whole).",
}


def _partial(node: Any, in_list: bool = False) -> Any:
    """A copy of a schema node with nothing required, references pointing at the partial
    models; under ``items``/``prefixItems`` (a list, replaced whole by the merge) the node is
    kept whole."""
    if isinstance(node, list):
        return [_partial(v, in_list) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("default", "examples", "const", "enum"):  # data, not schema
            out[key] = copy.deepcopy(value)
        elif not in_list and key in ("required", "minProperties"):
            continue
        elif not in_list and key == "$ref" and value.startswith("#/$defs/"):
            out[key] = "#/$defs/" + PARTIAL_PREFIX + value[len("#/$defs/") :]
        elif key in ("items", "prefixItems"):
            out[key] = _partial(value, True)
        elif key in ("properties", "$defs"):  # names, not schema keywords
            out[key] = {k: _partial(v, in_list) for k, v in value.items()}
        else:
            out[key] = _partial(value, in_list)
    return out


def portable(node: Any) -> Any:
    """``node`` with every tuple (``prefixItems``, 2020-12 only) also given ``items: {anyOf:
    [...]}``, which draft-07 readers apply to each item: a 2020-12 validator checks each
    position exactly (``items`` then covers no item), a draft-07 one checks each item against
    the tuple's kinds."""
    if isinstance(node, list):
        return [portable(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: (v if k == "default" else portable(v)) for k, v in node.items()}
    if "prefixItems" in out and "items" not in out:
        out["items"] = {"anyOf": out["prefixItems"]}
    return out


def _allow_null(prop: dict) -> dict:
    """``prop`` also accepting ``null``, its description and default kept at the top."""
    keep = {k: prop[k] for k in ("title", "description", "default") if k in prop}
    rest = {k: v for k, v in prop.items() if k not in keep}
    return {"anyOf": [rest, {"type": "null"}], **keep}


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft-07, read alike by 2020-12 validators) of a scenario file: a
    whole scenario, or a partial one when the file has ``extends:`` (module docstring)."""
    whole = Scenario.model_json_schema(mode="validation")
    defs: dict[str, Any] = whole.pop("$defs")
    for key in NULL_CLEARS:
        whole["properties"][key] = _allow_null(whole["properties"][key])
    partial_root = _partial(whole)
    partial_root["properties"] = {"extends": _EXTENDS, **partial_root["properties"]}
    partial_root["title"] = f"{PARTIAL_PREFIX}Scenario"
    partial_root["description"] = (
        "A scenario file with `extends:`: merged over the file it names, so nothing is "
        "required here; every key is still checked for its name and type."
    )
    all_defs: dict[str, Any] = {"Scenario": whole, **defs}
    for name, model in defs.items():
        all_defs[PARTIAL_PREFIX + name] = _partial(model)
    all_defs[f"{PARTIAL_PREFIX}Scenario"] = partial_root
    document = {
        "$schema": DRAFT,
        "title": "stockpile scenario file",
        "description": (
            "A scenario of the stockpile engine (docs/scenario-format.md). A file with "
            "`extends:` is a partial scenario merged over the file it names; a file without it "
            "is a whole scenario. Generated by `stockpile schema`; do not edit by hand."
        ),
        "type": "object",
        "if": {"type": "object", "required": ["extends"]},
        "then": {"$ref": f"#/$defs/{PARTIAL_PREFIX}Scenario"},
        "else": {"$ref": "#/$defs/Scenario"},
        "$defs": all_defs,
    }
    return portable(document)
