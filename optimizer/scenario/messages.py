"""From pydantic's errors to issues a person can act on: the file, line and key path of the
mistake, what was expected (with the field's own documentation and unit), and what to change.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from typing import Any, Union

import yaml
from pydantic import BaseModel, BeforeValidator

from optimizer.scenario.checks import KeyPath, format_path
from optimizer.scenario.errors import Issue
from optimizer.scenario.located_yaml import _Loc, _Locs
from optimizer.scenario.schema import Scenario
from optimizer.scenario.units import parse_share


def _locate(path: KeyPath, locs: _Locs, root: _Loc) -> _Loc:
    """The location of ``path``, or of its nearest parent that has one."""
    for n in range(len(path), 0, -1):
        loc = locs.get(path[:n])
        if loc is not None:
            return loc
    return root


def _from_pydantic(err: Any, locs: _Locs, root: _Loc, model: type[BaseModel] = Scenario) -> Issue:
    """One pydantic error entry as a located, plainly worded issue; ``model`` is the root model
    that was validated (the scenario, or ``config.yaml``'s ``Config``), where the valid keys
    and the fields' documentation are looked up."""
    path: KeyPath = tuple(p for p in err["loc"] if p != "[key]")
    kind: str = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    hint: str | None = None
    if "[key]" in err["loc"]:
        message = f"a name here must be text, got {_show(path[-1] if path else value)}"
    elif kind == "extra_forbidden":
        key = str(path[-1])
        names = _field_names(path[:-1], model)
        message = f"unknown key `{key}`"
        match = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        if match:
            hint = f"did you mean `{match[0]}`?"
        elif names:
            hint = f"valid keys here: {', '.join(names)}"
    elif kind == "missing":
        message = "required key missing"
        doc = _field_doc(path, model)
        key = path[-1] if path else ""
        hint = f"add `{key}:`" + (f" ({doc})" if doc else "")
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op, bound = {
            "greater_than_equal": (">=", ctx.get("ge")),
            "greater_than": (">", ctx.get("gt")),
            "less_than_equal": ("<=", ctx.get("le")),
            "less_than": ("<", ctx.get("lt")),
        }[kind]
        if _is_share(path, model):
            message = f"must be {op} {_bound(bound, share=True)}, got {_show_raw(value)}"
            hint = "a share is a fraction from 0 to 1, or a percentage from 0% to 100%"
        else:
            message = f"must be {op} {_bound(bound)}, got {_show_raw(value)}"
    elif kind in ("value_error", "assertion_error"):
        message = re.sub(r"^(Value error|Assertion failed), ", "", str(err["msg"]))
        as_python = f"got {value!r}"
        pythonic = isinstance(value, bool) or not isinstance(value, (str, int, float))
        if pythonic and message.endswith(as_python):
            # the parsers show the value as Python writes it: None, True, {'a': 1}
            message = message[: len(message) - len(as_python)] + f"got {_show(value)}"
        message, has_hint, hint_text = message.partition("; hint: ")
        hint = hint_text if has_hint else None
    elif kind in ("model_type", "model_attributes_type"):
        names = _field_names(path, model)
        message = f"expected a section of keys, got {_show(value)}"
        if names:
            hint = f"keys here: {', '.join(names)}"
    elif kind == "dict_type":
        message = f"expected a section of named entries (name: ...), got {_show(value)}"
    elif kind == "list_type":
        message = f"expected a list such as [a, b], got {_show(value)}"
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            hint = f"write [{value}]"
    elif kind == "string_type":
        message = f"expected text, got {_show(value)}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            hint = f"put it in quotes: '{value}'"
    elif kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        message = f"must be one of {', '.join(options)}, got {_show(value)}"
        match = difflib.get_close_matches(str(value), options, n=1, cutoff=0.6)
        if match:
            hint = f"did you mean `{match[0]}`?"
    elif kind == "too_short":
        wanted = {("goods",): "one good"}.get(path)
        n = ctx.get("min_length", 1)
        message = (
            f"must list at least {wanted}"
            if wanted
            else f"must list at least {n} entr{'y' if n == 1 else 'ies'}, got none"
        )
    else:
        text = str(err.get("msg", "invalid value"))
        text = re.sub(r"^Input should be", "should be", text)
        message = f"{text}, got {_show(value)}"
    loc = _locate(path, locs, root)
    return Issue(loc.file, loc.line, loc.column, format_path(path), message, hint, loc.origin)


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``| None`` from a type."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _annotation_at(path: KeyPath, model: type[BaseModel] = Scenario) -> Any:
    """The schema's type annotation at a key path (through models, dict values and list
    items), or None when the path leaves the schema."""
    tp: Any = model
    for part in path:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            fields = tp.model_fields
            if not isinstance(part, str) or part not in fields:
                return None
            info = fields[part]
            tp = (
                typing.Annotated[(info.annotation, *info.metadata)]
                if info.metadata
                else info.annotation
            )
        elif origin is dict:
            tp = typing.get_args(tp)[1]
        elif origin is list:
            tp = typing.get_args(tp)[0]
        else:
            return None
    return tp


def _model_at(path: KeyPath, model: type[BaseModel] = Scenario) -> type[BaseModel] | None:
    tp = _unwrap(_annotation_at(path, model))
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _field_names(path: KeyPath, model: type[BaseModel] = Scenario) -> list[str]:
    """The valid keys of the section at ``path`` (empty when it is not a schema model)."""
    section = _model_at(path, model)
    return list(section.model_fields) if section else []


def _field_doc(path: KeyPath, model: type[BaseModel] = Scenario) -> str | None:
    """The schema's description of the field at ``path``, on one line."""
    section = _model_at(path[:-1], model) if path else None
    if section is None:
        return None
    fields = section.model_fields
    info = fields.get(path[-1]) if isinstance(path[-1], str) else None
    if info is None or not info.description:
        return None
    return " ".join(info.description.split())


def _is_share(path: KeyPath, model: type[BaseModel] = Scenario) -> bool:
    """Whether the field at ``path`` is a share (parsed by ``parse_share``)."""
    tp = _annotation_at(path, model)
    stack = [tp]
    while stack:
        t = stack.pop()
        if typing.get_origin(t) is typing.Annotated:
            args = typing.get_args(t)
            if any(
                isinstance(m, BeforeValidator) and m.func is parse_share for m in t.__metadata__
            ):
                return True
            stack.append(args[0])
        elif typing.get_origin(t) in (Union, types.UnionType):
            stack.extend(typing.get_args(t))
    return False


def _bound(bound: Any, share: bool = False) -> str:
    if share and isinstance(bound, (int, float)):
        return f"{bound * 100:g} %"
    if isinstance(bound, float) and bound.is_integer():
        return str(int(bound))
    return str(bound)


def _show_raw(value: Any) -> str:
    """A value as the user wrote it, without quotes for text (``-5M``, ``120%``)."""
    if isinstance(value, str):
        return _clip(value)
    return _show(value)


def _show(value: Any) -> str:
    """A value for a message, in YAML-like words."""
    if value is None:
        return "nothing (the value is empty)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _clip(str(value))
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return repr(_clip(value))
    if isinstance(value, (dict, list)):
        kind = "a section" if isinstance(value, dict) else "a list"
        try:
            flow = yaml.safe_dump(value, default_flow_style=True, width=10**9).strip()
        except yaml.YAMLError:
            flow = str(value)
        if flow.endswith("\n...") or flow.endswith("..."):
            flow = flow.rsplit("...", 1)[0].strip()
        return f"{kind} {_clip(flow)}"
    return _clip(repr(value))


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[Issue] = set()
    out = []
    for issue in issues:
        if issue not in seen:
            seen.add(issue)
            out.append(issue)
    return out
