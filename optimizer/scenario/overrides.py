"""``--set`` overrides: ``key.path=value`` applied to a scenario's data before validation.

An override may address a list item either way (``hits.0.severity`` or ``hits[0].severity``);
its value is read as one-line YAML. A bad override is reported as an issue whose origin is the
override itself. An override changes values of entries the scenario has: it never creates a
new named entry (a good, supplier, country, disruption, event or budget line), so that a typo
or a name from another file is reported with the names that exist (:func:`missing_entry`),
instead of as a half-written new entry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, get_args, get_origin

from optimizer.scenario.checks import KeyPath, format_path
from optimizer.scenario.errors import Issue, ScenarioError
from optimizer.scenario.located_yaml import _Builder, _compose, _Loc, _Locs
from optimizer.scenario.messages import _show

_INDEX_RE = re.compile(r"\[(\d+)\]")

#: What one entry of a named map is called in messages, by the map's own key.
_ENTRY_NOUN = {
    "goods": "good",
    "suppliers": "supplier",
    "countries": "country",
    "disruptions": "disruption",
    "events": "event",
    "lines": "budget line",
    "routes": "route",
}


@lru_cache(maxsize=1)
def _named_maps() -> tuple[tuple[str, ...], ...]:
    """Key paths of the scenario's maps keyed by user names (``goods``, ``goods.*.suppliers``,
    ``budget.lines``...), read from the schema: every ``dict[str, Model]`` field."""
    from pydantic import BaseModel

    from optimizer.scenario.schema import Scenario

    def model_of(annotation: Any) -> Any:
        args = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) is not None and get_origin(annotation) is not dict and args:
            return model_of(args[0])  # Optional[...] / Union
        return annotation

    found: list[tuple[str, ...]] = []

    def walk(model: Any, prefix: tuple[str, ...], seen: frozenset) -> None:
        for name, field in model.model_fields.items():
            key = field.alias or name
            ann = model_of(field.annotation)
            if get_origin(ann) is dict:
                found.append((*prefix, key))
                value = get_args(ann)[1] if len(get_args(ann)) == 2 else None
                if isinstance(value, type) and issubclass(value, BaseModel) and value not in seen:
                    walk(value, (*prefix, key, "*"), seen | {value})
            elif isinstance(ann, type) and issubclass(ann, BaseModel) and ann not in seen:
                walk(ann, (*prefix, key), seen | {ann})

    walk(Scenario, (), frozenset({Scenario}))
    return tuple(found)


def _is_named_map(path: tuple) -> bool:
    return any(
        len(p) == len(path) and all(a == "*" or a == str(b) for a, b in zip(p, path))
        for p in _named_maps()
    )


def missing_entry(
    data: dict[str, Any], segments: Sequence[str | int], flag: str = "--set"
) -> tuple[str, str] | None:
    """(message, hint) when the key path ``segments`` goes through a named entry ``data`` does
    not have (``disruptions.ban`` in a file without a disruption ``ban``): ``flag`` (``--set``,
    ``--param``) changes existing entries only. None when every named entry on the path exists."""
    current: Any = data
    path: tuple = ()
    for segment in segments:
        if current is None:
            current = {}  # a section the file leaves out: no entries in it
        if isinstance(current, dict):
            key = str(segment)
            if _is_named_map(path) and key not in current:
                where = format_path(path) if path else "the scenario"
                noun = _ENTRY_NOUN.get(str(path[-1]), "entry") if path else "entry"
                names = ", ".join(str(k) for k in current) or "none"
                return (
                    f"the scenario has no {noun} `{key}` under `{where}` (it has: {names}); "
                    f"{flag} changes values of existing entries and does not create new ones",
                    f"use one of the existing names, e.g. {flag} "
                    f"{format_path((*path, next(iter(current))))}..."
                    if current
                    else f"add the {noun} to the scenario file first",
                )
            current = current.get(key)
        elif isinstance(current, list):
            index = segment if isinstance(segment, int) else _as_index(segment)
            if index is None or not 0 <= index < len(current):
                return None  # reported with the list's length by _set_path
            current = current[index]
        else:
            return None
        path = (*path, segment)
    return None


_SEGMENT_RE = re.compile(r"^([^\[\]]*)((?:\[\d+\])*)$")


def _parse_override(text: str) -> tuple[list[str | int], Any, str]:
    """Split ``key.path=value``; the value read as YAML. Raises ScenarioError."""
    origin = f"set by --set {text}"
    key, sep, value_text = text.partition("=")
    key = key.strip()

    def fail(message: str, hint: str | None = None, path: str = "") -> ScenarioError:
        return ScenarioError([Issue(None, None, None, path, message, hint, origin)])

    if not sep:
        raise fail(
            f"an override must look like key.path=value, got `{text}`",
            "for example --set budget.total=250M",
        )
    if not key:
        raise fail("the key before `=` is empty", "for example --set budget.total=250M")
    segments: list[str | int] = []
    for part in key.split("."):
        match = _SEGMENT_RE.match(part.strip())
        name = match.group(1).strip() if match else ""
        if not match or (not name and not match.group(2)) or (not name and not segments):
            raise fail(
                f"`{key}` has an empty or malformed part between dots",
                "write the keys separated by single dots: goods.gallium.demand",
                key,
            )
        if name:
            segments.append(name)
        segments.extend(int(i) for i in _INDEX_RE.findall(match.group(2)))
    if not value_text.strip():
        return segments, None, origin
    try:
        node = _compose(value_text, None, origin)
    except ScenarioError as exc:
        raise ScenarioError(
            [
                Issue(
                    None,
                    None,
                    None,
                    format_path(segments),
                    f"the value cannot be read as YAML: {i.message}",
                    i.hint,
                    origin,
                )
                for i in exc.issues
            ]
        ) from None
    if node is None:
        return segments, None, origin
    builder = _Builder(None, origin)
    value = builder.run(node)
    if builder.issues:
        raise ScenarioError(
            [
                Issue(None, None, None, format_path(segments), i.message, i.hint, origin)
                for i in builder.issues
            ]
        )
    return segments, value, origin


def _apply_overrides(data: dict[str, Any], locs: _Locs, overrides: Sequence[str]) -> None:
    """Apply the overrides to ``data`` in place, recording their origin in ``locs``."""
    if isinstance(overrides, str):  # one override given as a plain string
        overrides = [overrides]
    issues: list[Issue] = []
    for text in overrides:
        try:
            segments, value, origin = _parse_override(text)
        except ScenarioError as exc:
            issues.extend(exc.issues)
            continue
        problem = missing_entry(data, segments, "--set") or _set_path(
            data, locs, segments, value, _Loc(None, origin=origin)
        )
        if problem is not None:
            message, hint = problem
            issues.append(Issue(None, None, None, format_path(segments), message, hint, origin))
    if issues:
        raise ScenarioError(issues)


def _set_path(
    data: dict[str, Any], locs: _Locs, segments: list[str | int], value: Any, origin: _Loc
) -> tuple[str, str | None] | None:
    """Set ``value`` at the key path; a (message, hint) when the path cannot be followed."""
    current: Any = data
    path: KeyPath = ()
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if isinstance(current, dict):
            key = str(segment)
            path = path + (key,)
            if last:
                current[key] = value
                break
            if current.get(key) is None:
                current[key] = {}
                locs[path] = origin
            elif not isinstance(current[key], (dict, list)):
                return (
                    f"`{format_path(path)}` holds the value {_show(current[key])}, not a "
                    "section, so it has no keys below it",
                    None,
                )
            current = current[key]
        else:  # a list
            index = segment if isinstance(segment, int) else _as_index(segment)
            if index is None or not 0 <= index < len(current):
                return (
                    f"`{format_path(path)}` is a list of {len(current)} items; "
                    f"there is no item `{segment}`",
                    f"use a position from 0 to {len(current) - 1}, as in {format_path(path)}[0]"
                    if current
                    else None,
                )
            path = path + (index,)
            if last:
                current[index] = value
                break
            if current[index] is None:
                current[index] = {}
            elif not isinstance(current[index], (dict, list)):
                return (
                    f"`{format_path(path)}` holds the value {_show(current[index])}, not a "
                    "section, so it has no keys below it",
                    None,
                )
            current = current[index]
    for p in [p for p in locs if p[: len(path)] == path]:
        del locs[p]
    locs[path] = origin
    return None


def _as_index(segment: str | int) -> int | None:
    text = str(segment).strip()
    return int(text) if text.isdigit() else None
