"""The batch file as a pydantic model, for its JSON Schema (``stockpile schema --batch``).

:func:`optimizer.studies.batch_file.load_batch` reads batch files with its own checks (every
mistake located by line); this model mirrors those checks so that editors get the same rules
from ``schemas/batch.schema.json``. ``tests/test_json_schema.py`` feeds the same files to both
and requires them to agree. The checks between keys (a value listed twice, a variant setting a
key that ``vary:`` sets, too many runs) are model validators: pydantic applies them, JSON Schema
cannot say them. Whether the ``base`` file exists is the loader's (the model sees no files).

Where the loader reads a falsy ``vary:`` or ``variants:`` (``[]``, ``0``, ``""``) as empty, the
model does too; the JSON Schema allows only a mapping or ``null`` there.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from optimizer.scenario.json_schema import DRAFT, portable
from optimizer.studies.batch_file import BASE_VARIANT, MAX_RUNS, yaml_value

__all__ = ["BatchFile", "batch_json_schema"]

#: A dotted key path (``budget.total``, ``disruptions.ban.hits[0].severity``): no ``=``, no
#: space inside it (the loader's ``_valid_key``).
DottedKey = Annotated[str, StringConstraints(pattern=r"^\s*[^\s=]([^ =]*[^\s=])?\s*$")]

#: A variant's name: it names run folders.
VariantName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")]


def _empty_if_falsy(value: object) -> object:
    return value or {}


def _named_variants(value: object) -> object:
    """As the loader: a falsy value is no variants, a variant's name is read as text
    (``1:`` names the variant ``1``)."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return value or {}


class BatchFile(BaseModel):
    """A batch file: a base scenario, a grid of values (``vary:``) and named variants; the
    runs are the grid crossed with the base (no overrides) and each variant
    (docs/scenario-format.md, "Runs and batches")."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    base: Annotated[str, StringConstraints(pattern=r"\S")]
    """The scenario file every run starts from, relative to the batch file."""
    name: str | None = None
    """Title of the batch, shown in the comparison."""
    description: str | None = None
    """Free text: what the batch compares."""
    vary: Annotated[
        dict[DottedKey, Annotated[list[Any], Field(min_length=1)]] | None,
        BeforeValidator(_empty_if_falsy),
    ] = None
    """The grid: dotted key path -> list of values (``budget.total: [100M, 250M]``); every
    combination is one run. A value is written as in a scenario file (``65%``, ``18 months``,
    ``null``, a mapping)."""
    variants: Annotated[
        dict[VariantName, Annotated[dict[DottedKey, Any], Field(min_length=1)]] | None,
        BeforeValidator(_named_variants),
    ] = None
    """Named sets of overrides (dotted key path -> value), each run over the whole grid; the
    name ``base`` is taken by the runs without overrides."""

    @model_validator(mode="after")
    def _runs(self) -> BatchFile:
        vary = self.vary or {}
        variants = self.variants or {}
        for key, values in vary.items():
            texts = [yaml_value(v) for v in values]
            twice = [values[i] for i, t in enumerate(texts) if t in texts[:i]]
            if twice:
                raise ValueError(f"vary {key}: the value {twice[0]!r} is listed twice")
        if BASE_VARIANT in variants:
            raise ValueError(f"`{BASE_VARIANT}` is the name of the run without overrides")
        for name, overrides in variants.items():
            both = [k for k in overrides if k in vary]
            if both:
                raise ValueError(f"variant {name} sets `{both[0]}`, which vary: also sets")
        n_runs = math.prod(len(v) for v in vary.values()) * (1 + len(variants))
        if n_runs > MAX_RUNS:
            raise ValueError(f"the batch expands to {n_runs:,} runs, more than {MAX_RUNS:,}")
        return self


def _closed(node: Any) -> Any:
    """Pydantic writes a mapping with constrained keys as ``patternProperties`` alone, which
    lets any other key through; a key must match (the model refuses the others), so such a
    mapping gets ``additionalProperties: false``."""
    if isinstance(node, list):
        return [_closed(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: (v if k == "default" else _closed(v)) for k, v in node.items()}
    if "patternProperties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def batch_json_schema() -> dict[str, Any]:
    """The JSON Schema of a batch file, generated from :class:`BatchFile` (draft-07, read
    alike by 2020-12 validators: ``optimizer.scenario.json_schema.DRAFT``)."""
    schema = _closed(BatchFile.model_json_schema(mode="validation"))
    variants = schema["properties"]["variants"]["anyOf"][0]
    variants["propertyNames"] = {"not": {"const": BASE_VARIANT}}
    document = {
        "$schema": DRAFT,
        "title": "stockpile batch file",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
        "description": (
            " ".join(schema["description"].split())
            + " Generated by `stockpile schema --batch`; do not edit by hand."
        ),
    }
    return portable(document)
