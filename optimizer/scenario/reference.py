"""The scenario format's reference documentation, generated from the schema.

The field docstrings of ``schema.py`` are the single source: ``stockpile schema --markdown``
prints this page and ``docs/scenario-reference.md`` is its output (a test keeps them equal).
"""

from __future__ import annotations

import typing
from types import UnionType

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from optimizer.scenario import schema
from optimizer.scenario.units import format_duration

_UNITS = {
    "Money": "money (euros; `2.5M`, `750k`, `1.2bn`)",
    "Flow": "units per year",
    "Quantity": "units",
    "Share": "share (`0.65` or `65%`)",
    "Duration": "duration (`18 months`)",
}


def _type_name(annotation, metadata) -> str:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(_type_name(a, []) for a in args)
    if origin is list:
        return f"list of {_type_name(typing.get_args(annotation)[0], [])}"
    if origin is dict:
        return f"map of name -> {_type_name(typing.get_args(annotation)[1], [])}"
    if origin is typing.Literal:
        return " \\| ".join(f"`{a}`" for a in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0], [])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    names = {float: "number", int: "whole number", str: "text", bool: "true/false"}
    return names.get(annotation, str(annotation))


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []

    def visit(model: type[BaseModel]) -> None:
        if model in seen:
            return
        seen.append(model)
        for f in model.model_fields.values():
            stack = [f.annotation]
            while stack:
                a = stack.pop()
                if isinstance(a, type) and issubclass(a, BaseModel):
                    visit(a)
                stack.extend(typing.get_args(a))

    visit(root)
    return seen


def _unit(field) -> str:
    """The quantity kind, recognised by the parser that the field's type uses."""
    kinds = {
        "parse_money": _UNITS["Money"],
        "parse_share": _UNITS["Share"],
        "parse_duration_years": _UNITS["Duration"],
        "parse_number": "number",
        "parse_rate_per_year": "rate (`0.4 per year`)",
        "share_spread": "share or distribution (see [Distributions](#distributions))",
        "duration_spread": "duration or distribution (see [Distributions](#distributions))",
        "multiplier_spread": "number > 0 or distribution (see [Distributions](#distributions))",
    }
    stack: list = [field.annotation, *field.metadata]
    while stack:
        item = stack.pop(0)
        name = getattr(getattr(item, "func", None), "__name__", "")
        if name in kinds:
            return kinds[name] + (" or none" if _optional(field.annotation) else "")
        stack.extend(getattr(item, "__metadata__", ()))
        stack.extend(typing.get_args(item))
    return ""


def _optional(annotation) -> bool:
    return type(None) in typing.get_args(annotation)


def markdown() -> str:
    """The reference page: one section per part of the format, one row per key."""
    lines = [
        "# Scenario file reference",
        "",
        "Generated from `optimizer/scenario/schema.py` by `stockpile schema --markdown`; do not",
        "edit by hand. Flows are per year, money in euros, durations carry a unit, shares are",
        "fractions or percentages. Unknown keys are refused.",
        "",
    ]
    for model in _models(schema.Scenario):
        lines += [f"## {model.__name__}", "", (model.__doc__ or "").strip(), ""]
        lines += ["| key | type | default | meaning |", "|---|---|---|---|"]
        for name, f in model.model_fields.items():
            kind = _unit(f) or _type_name(f.annotation, f.metadata)
            if f.is_required():
                default = "required"
            elif f.default is PydanticUndefined or f.default is None:
                default = "-"
            elif isinstance(f.default, BaseModel):
                default = "(defaults)"
            elif f.default in ({}, []):
                default = "empty"
            elif _unit(f).startswith("duration"):
                default = f"`{format_duration(f.default)}`"
            else:
                default = f"`{f.default:g}`" if isinstance(f.default, float) else f"`{f.default}`"
            doc = " ".join((f.description or "").split())
            lines.append(f"| `{name}` | {kind} | {default} | {doc} |")
        lines.append("")
    lines += [
        "## Distributions",
        "",
        "Quantities of a risk model's event (severity, duration, start, multipliers) are one",
        "value or a distribution, written in one of four forms, values in the quantity's unit:",
        "",
        "| form | meaning |",
        "|---|---|",
        "| `50%` | always this value |",
        "| `{min: 50%, max: 100%}` | uniform between min and max |",
        "| `{min: 3 months, mode: 6 months, max: 18 months}` | triangular, most likely at mode |",
        "| `[[50%, 3], [100%, 1]]` | discrete: each value with a relative weight (>= 0) |",
        "",
    ]
    return "\n".join(lines)
