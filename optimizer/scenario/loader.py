"""Loading a scenario file: YAML with line numbers, ``extends:``, ``--set`` overrides, validation
against the schema, cross-section checks, and errors that point at the file, line and key.

Key paths are written dotted, list items with brackets: ``goods.gallium.suppliers.japan.capacity``,
``disruptions.ban.hits[0].countries[1]``. An override may address a list item either way
(``hits.0.severity`` or ``hits[0].severity``).

Reading rules beyond plain YAML (the schema has no yes/no fields, so nothing is lost):

- mapping keys are kept as written (``NO:`` is Norway, not ``false``; ``1:`` is the text "1");
- the YAML 1.1 words ``yes``/``no``/``on``/``off`` and dates stay text (``[CN, NO]``);
- duplicate keys, YAML tags other than the standard ones, and recursive aliases are errors;
- merge keys (``<<: *defaults``) are supported.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import os
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import yaml
from pydantic import BaseModel, BeforeValidator, ValidationError
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from optimizer.scenario.checks import KeyPath, format_path, located_checks
from optimizer.scenario.errors import Issue, ScenarioError, sort_issues
from optimizer.scenario.groups import resolve_groups
from optimizer.scenario.schema import Scenario
from optimizer.scenario.units import parse_share

__all__ = ["LoadedScenario", "apply_overrides", "load_scenario", "load_scenario_dict"]

#: libyaml's C parser and emitter where PyYAML was built with them (4-15x faster at the
#: ladder's M size: composing 0.27 s to 0.07 s, the resolved dump 0.19 s to 0.04 s); the
#: pure-Python ones otherwise. A file the C parser refuses is composed again by the Python one,
#: so error messages do not depend on how PyYAML was built.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
FAST_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

#: Most values a file may expand to (through aliases); guards against "billion laughs".
MAX_VALUES = 200_000
#: Longest chain of ``extends:``.
MAX_EXTENDS_DEPTH = 32

_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = _TAG + "merge"


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with everything needed to reproduce it."""

    scenario: Scenario
    """The validated scenario."""
    source: Path
    """The file loaded (``Path(name)`` for :func:`load_scenario_dict`)."""
    resolved: dict[str, Any]
    """Plain data of the scenario after ``extends`` and overrides, defaults filled in."""
    resolved_yaml: str
    """``resolved`` as YAML; :func:`load_scenario` reads it back to the same scenario."""
    input_sha256: str
    """SHA-256 (hex) of ``resolved_yaml`` encoded as UTF-8."""
    warnings: list[Issue] = field(default_factory=list)
    """Problems that do not stop the run, located like errors."""


@dataclass(frozen=True)
class _Loc:
    """Where a key path was set: a place in a file, or an override."""

    file: str | None
    line: int | None = None
    column: int | None = None
    origin: str | None = None


_Locs = dict[KeyPath, _Loc]


class _Abort(Exception):
    """Internal: stop reading a file (the issues are already recorded)."""


# --- public API ---------------------------------------------------------------------------------


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> LoadedScenario:
    """Read, merge (``extends:``), override (``--set``), validate and check a scenario file.

    ``overrides`` are ``key.path=value`` strings applied last, values read as YAML. Raises
    :class:`ScenarioError` carrying every error found, each with its file, line and key path.
    """
    display = str(path)
    source = Path(path)
    data, locs, root = _load_file(source, display, chain=())
    return _finish(data, locs, root, source, display, overrides)


def load_scenario_dict(
    data: dict[str, Any], *, name: str = "<dict>", overrides: Sequence[str] = ()
) -> LoadedScenario:
    """Validate and check a scenario given as plain data, as :func:`load_scenario` does a file.

    Issues carry ``file=name`` and no line. An ``extends:`` key is read relative to the current
    directory. The input is not modified.
    """
    root = _Loc(name)
    if not isinstance(data, dict):
        raise ScenarioError(
            [_issue(root, (), f"the scenario must be a mapping of keys, got {_show(data)}")]
        )
    data = copy.deepcopy(data)
    data, locs = _extend(data, {}, root, Path.cwd(), "", chain=())
    return _finish(data, locs, root, Path(name), name, overrides)


def apply_overrides(data: dict[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """A copy of ``data`` with each ``key.path=value`` override applied in turn.

    The value is read as YAML (``250M`` stays the text "250M" for the schema to parse; an
    empty value is null). Missing intermediate mappings are created; a list item is addressed
    by its position (``hits.0`` or ``hits[0]``). Raises :class:`ScenarioError` for an override
    without ``=``, with an empty key, or whose path goes through a plain value.
    """
    result = copy.deepcopy(data)
    _apply_overrides(result, {}, overrides)
    return result


# --- the steps ----------------------------------------------------------------------------------


def _finish(
    data: dict[str, Any],
    locs: _Locs,
    root: _Loc,
    source: Path,
    display: str,
    overrides: Sequence[str],
) -> LoadedScenario:
    """Apply overrides, validate, check, and build the result."""
    _apply_overrides(data, locs, overrides)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        issues = [_from_pydantic(err, locs, root) for err in exc.errors(include_url=False)]
        raise ScenarioError(_dedupe(sort_issues(issues, display))) from None

    scenario, group_issues = resolve_groups(scenario)  # group names -> their countries
    errors: list[Issue] = []
    warnings: list[Issue] = []
    for path, issue in [*group_issues, *located_checks(scenario)]:
        loc = _locate(path, locs, root)
        placed = Issue(
            loc.file,
            loc.line,
            loc.column,
            issue.path,
            issue.message,
            issue.hint,
            loc.origin,
            issue.severity,
        )
        (warnings if issue.severity == "warning" else errors).append(placed)
    if errors:
        raise ScenarioError(_dedupe(sort_issues(errors, display)))

    resolved = scenario.model_dump(mode="json")
    resolved_yaml = yaml.dump(resolved, Dumper=FAST_DUMPER, sort_keys=False, allow_unicode=True)
    return LoadedScenario(
        scenario=scenario,
        source=source,
        resolved=resolved,
        resolved_yaml=resolved_yaml,
        input_sha256=hashlib.sha256(resolved_yaml.encode("utf-8")).hexdigest(),
        warnings=_dedupe(sort_issues(warnings, display)),
    )


def _load_file(
    path: Path, display: str, chain: tuple[tuple[Path, str], ...]
) -> tuple[dict[str, Any], _Locs, _Loc]:
    """One file and, through ``extends:``, the files it builds on, merged."""
    data, locs, root = _read_yaml(path, display)
    data, locs = _extend(
        data, locs, root, path.parent, os.path.dirname(display), chain + ((_real(path), display),)
    )
    return data, locs, root


def _extend(
    data: dict[str, Any],
    locs: _Locs,
    root: _Loc,
    base_dir: Path,
    display_dir: str,
    chain: tuple[tuple[Path, str], ...],
) -> tuple[dict[str, Any], _Locs]:
    """Resolve the ``extends:`` key of ``data``, if any: load that file and merge ``data`` over
    it. ``chain`` lists the files being read (real path, display name), for cycles."""
    if "extends" not in data:
        return data, locs
    target_name = data.pop("extends")
    at = locs.get(("extends",), root)
    locs = {p: loc for p, loc in locs.items() if p[:1] != ("extends",)}

    def fail(message: str, hint: str | None = None) -> ScenarioError:
        return ScenarioError([_issue(at, ("extends",), message, hint)])

    if not isinstance(target_name, str) or not target_name.strip():
        raise fail(
            f"expected the name of a scenario file such as base.yaml, got {_show(target_name)}"
        )
    target_name = target_name.strip()
    target = base_dir / target_name
    target_display = os.path.normpath(os.path.join(display_dir, target_name))
    real = _real(target)
    seen = [p for p, _ in chain]
    if real in seen:
        names = [name for _, name in chain[seen.index(real) :]]
        raise fail(
            f"`extends:` makes a cycle: {' -> '.join([*names, target_display])}",
            "remove the `extends:` that leads back to a file already extended",
        )
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise fail(f"more than {MAX_EXTENDS_DEPTH} files extend one another")
    if not target.exists():
        raise fail(
            f"the file it extends, `{target_name}`, does not exist (looked for {target_display})",
            "the path is relative to the file that has the `extends:`",
        )
    if not target.is_file():
        raise fail(f"`{target_name}` is not a file (looked for {target_display})")
    base_data, base_locs, _ = _load_file(target, target_display, chain)
    merged_locs: _Locs = {}
    merged = _merge(base_data, base_locs, data, locs, (), merged_locs)
    return merged, merged_locs


def _merge(
    base: dict[str, Any],
    base_locs: _Locs,
    over: dict[str, Any],
    over_locs: _Locs,
    prefix: KeyPath,
    out: _Locs,
) -> dict[str, Any]:
    """Deep merge of mappings, ``over`` winning; lists and plain values are replaced whole.
    ``out`` receives the location of every key path of the result: the file that set it."""
    result: dict[str, Any] = {}
    for key, value in base.items():
        if key not in over:
            result[key] = value
            _copy_locs(value, prefix + (key,), base_locs, out)
    for key, value in over.items():
        path = prefix + (key,)
        if isinstance(base.get(key), dict) and isinstance(value, dict):
            result[key] = _merge(base[key], base_locs, value, over_locs, path, out)
            loc = over_locs.get(path) or base_locs.get(path)
            if loc is not None:
                out[path] = loc
        else:
            result[key] = value
            _copy_locs(value, path, over_locs, out)
    return result


def _copy_locs(value: Any, path: KeyPath, src: _Locs, out: _Locs) -> None:
    """Copy the locations of ``value`` and everything in it from ``src`` into ``out``."""
    if path in src:
        out[path] = src[path]
    if isinstance(value, dict):
        for key, item in value.items():
            _copy_locs(item, path + (key,), src, out)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _copy_locs(item, path + (i,), src, out)


# --- reading YAML with locations ----------------------------------------------------------------


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _read_yaml(path: Path, display: str) -> tuple[dict[str, Any], _Locs, _Loc]:
    """The top-level mapping of one file, and the location of every key path in it."""
    file_loc = _Loc(display)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError([_issue(file_loc, (), "the file does not exist")]) from None
    except IsADirectoryError:
        raise ScenarioError([_issue(file_loc, (), "this is a folder, not a file")]) from None
    except OSError as exc:
        raise ScenarioError(
            [_issue(file_loc, (), f"cannot read the file: {exc.strerror or exc}")]
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(
            [
                Issue(
                    display,
                    line,
                    None,
                    "",
                    f"the file is not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                    "save the file as UTF-8",
                )
            ]
        ) from None
    return _parse_document(text, display)


def _parse_document(text: str, display: str | None) -> tuple[dict[str, Any], _Locs, _Loc]:
    """Parse YAML text whose top level must be a mapping."""
    node = _compose(text, display, origin=None)
    file_loc = _Loc(display)
    if node is None:
        raise ScenarioError(
            [
                _issue(
                    file_loc,
                    (),
                    "the file is empty",
                    "a scenario needs at least window: and goods:",
                )
            ]
        )
    root = _Loc(display, node.start_mark.line + 1, node.start_mark.column + 1)
    if not isinstance(node, MappingNode):
        raise ScenarioError(
            [
                _issue(
                    root,
                    (),
                    "the top level must be a mapping of keys "
                    "(name:, window:, goods:, ...), got "
                    f"{_node_kind(node)}",
                )
            ]
        )
    builder = _Builder(display, origin=None)
    data = builder.run(node)
    if builder.issues:
        raise ScenarioError(sort_issues(builder.issues, display))
    return data, builder.locs, root


def _compose(text: str, display: str | None, origin: str | None) -> Node | None:
    """``yaml.compose`` with its errors turned into located issues."""
    if FAST_LOADER is not yaml.SafeLoader:
        try:
            return yaml.compose(text, Loader=FAST_LOADER)
        except yaml.YAMLError:
            pass  # the Python parser below words the error as the messages expect
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = exc.problem or exc.context or "the YAML cannot be read"
        if exc.context and exc.problem:
            message = f"{exc.problem} ({exc.context})"
        issue = Issue(
            display,
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
            "",
            message.strip(),
            _yaml_hint(message),
            origin,
        )
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line = before.count("\n") + 1
        column = exc.position - (before.rfind("\n") + 1) + 1
        char = exc.character
        shown = f"U+{char:04X}" if isinstance(char, int) else f"U+{ord(char[:1] or ' '):04X}"
        issue = Issue(
            display,
            line,
            column,
            "",
            f"the text holds a character YAML does not allow ({shown})",
            "remove it or put the value in quotes",
            origin,
        )
    except yaml.YAMLError as exc:
        issue = Issue(display, None, None, "", f"the YAML cannot be read: {exc}", None, origin)
    except RecursionError:
        issue = Issue(display, None, None, "", "the YAML is nested too deeply", None, origin)
    raise ScenarioError([issue])


def _yaml_hint(message: str) -> str | None:
    if "'\\t'" in message or "\t" in message:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in message:
        return "check the indentation, or put a value holding ': ' in quotes"
    if "could not find expected ':'" in message:
        return "each line of a section needs `key: value`"
    if "expected <block end>" in message:
        return "check the indentation of this line against the lines above"
    if "while parsing a flow" in message:
        return "a [ or { is not closed, or a comma is missing between items"
    if "found undefined alias" in message:
        return "an alias (*name) must come after its anchor (&name)"
    return None


class _Builder:
    """Turns a composed YAML node tree into plain data, recording the location of each key."""

    def __init__(self, display: str | None, origin: str | None) -> None:
        self.display = display
        self.origin = origin
        self.locs: _Locs = {}
        self.issues: list[Issue] = []
        self.count = 0
        self.active: set[int] = set()
        self.constructor = yaml.SafeLoader("")

    def run(self, node: Node) -> Any:
        try:
            return self.build(node, ())
        except _Abort:
            return None
        except RecursionError:
            self.fail(node, "the YAML is nested too deeply")
            return None

    def loc(self, node: Node) -> _Loc:
        mark = node.start_mark
        return _Loc(self.display, mark.line + 1, mark.column + 1, self.origin)

    def fail(self, node: Node, message: str, hint: str | None = None) -> None:
        loc = self.loc(node)
        self.issues.append(Issue(loc.file, loc.line, loc.column, "", message, hint, self.origin))

    def build(self, node: Node, path: KeyPath) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            self.fail(node, f"the YAML expands to more than {MAX_VALUES} values (through aliases)")
            raise _Abort
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        if id(node) in self.active:
            self.issues.append(
                self._at(node, path, "a YAML alias refers to the section that contains it")
            )
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                if node.tag != _TAG + "seq":
                    self.issues.append(self._tag_issue(node, path))
                    return None
                items = []
                for i, child in enumerate(node.value):
                    self.locs[path + (i,)] = self.loc(child)
                    items.append(self.build(child, path + (i,)))
                return items
            if isinstance(node, MappingNode):
                if node.tag != _TAG + "map":
                    self.issues.append(self._tag_issue(node, path))
                    return None
                return self.mapping(node, path)
            return None
        finally:
            self.active.discard(id(node))

    def mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        seen: dict[str, int] = {}
        merged: dict[str, Any] = {}
        merged_locs: _Locs = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self.merge_into(merged, merged_locs, value_node, path)
                continue
            if not isinstance(key_node, ScalarNode):
                self.issues.append(
                    self._at(
                        key_node, path, f"a key must be a plain name, found {_node_kind(key_node)}"
                    )
                )
                continue
            key = key_node.value
            key_path = path + (key,)
            line = key_node.start_mark.line + 1
            if key in seen:
                loc = self.loc(key_node)
                self.issues.append(
                    Issue(
                        loc.file,
                        loc.line,
                        loc.column,
                        format_path(key_path),
                        f"duplicate key, already set on line {seen[key]}",
                        "keep only one of them",
                        self.origin,
                    )
                )
                continue
            seen[key] = line
            self.locs[key_path] = self.loc(key_node)
            result[key] = self.build(value_node, key_path)
        for key, value in merged.items():
            if key not in result:
                result[key] = value
                _copy_locs(value, path + (key,), merged_locs, self.locs)
        return result

    def merge_into(
        self, merged: dict[str, Any], merged_locs: _Locs, node: Node, path: KeyPath
    ) -> None:
        """A merge key (``<<: *defaults`` or ``<<: [*a, *b]``): earlier sources win."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, MappingNode):
                self.issues.append(
                    self._at(
                        source,
                        path,
                        "`<<:` must be followed by an alias of a section (*name) or a list of them",
                    )
                )
                continue
            saved = self.locs
            self.locs = {}
            try:
                value = self.build(source, path)
                locs = self.locs
            finally:
                self.locs = saved
            if isinstance(value, dict):
                for key, item in value.items():
                    if key not in merged:
                        merged[key] = item
                        _copy_locs(item, path + (key,), locs, merged_locs)

    def scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        tag = node.tag
        text = node.value
        if tag == _TAG + "str" or tag in (_TAG + "timestamp", _TAG + "value", _MERGE_TAG):
            return text
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "bool":
            return text.lower() == "true" if text.lower() in ("true", "false") else text
        try:
            if tag == _TAG + "int":
                return self.constructor.construct_yaml_int(node)
            if tag == _TAG + "float":
                return self.constructor.construct_yaml_float(node)
        except (ValueError, yaml.YAMLError):
            return text
        self.issues.append(self._tag_issue(node, path))
        return None

    def _at(self, node: Node, path: KeyPath, message: str, hint: str | None = None) -> Issue:
        loc = self.loc(node)
        return Issue(loc.file, loc.line, loc.column, format_path(path), message, hint, self.origin)

    def _tag_issue(self, node: Node, path: KeyPath) -> Issue:
        tag = node.tag.replace(_TAG, "!!")
        return self._at(
            node,
            path,
            f"the YAML tag `{tag}` is not supported here",
            "remove the tag; write plain values, lists and sections",
        )


def _node_kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a section"
    if isinstance(node, SequenceNode):
        return "a list"
    return f"the value `{node.value}`"


# --- overrides ----------------------------------------------------------------------------------

_INDEX_RE = re.compile(r"\[(\d+)\]")
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
        problem = _set_path(data, locs, segments, value, _Loc(None, origin=origin))
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


# --- from pydantic errors to issues -------------------------------------------------------------


def _locate(path: KeyPath, locs: _Locs, root: _Loc) -> _Loc:
    """The location of ``path``, or of its nearest parent that has one."""
    for n in range(len(path), 0, -1):
        loc = locs.get(path[:n])
        if loc is not None:
            return loc
    return root


def _issue(loc: _Loc, path: KeyPath, message: str, hint: str | None = None) -> Issue:
    return Issue(loc.file, loc.line, loc.column, format_path(path), message, hint, loc.origin)


def _from_pydantic(err: Any, locs: _Locs, root: _Loc) -> Issue:
    """One pydantic error entry as a located, plainly worded issue."""
    path: KeyPath = tuple(p for p in err["loc"] if p != "[key]")
    kind: str = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    hint: str | None = None
    if "[key]" in err["loc"]:
        message = f"a name here must be text, got {_show(path[-1] if path else value)}"
    elif kind == "extra_forbidden":
        key = str(path[-1])
        names = _field_names(path[:-1])
        message = f"unknown key `{key}`"
        match = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        if match:
            hint = f"did you mean `{match[0]}`?"
        elif names:
            hint = f"valid keys here: {', '.join(names)}"
    elif kind == "missing":
        message = "required key missing"
        doc = _field_doc(path)
        key = path[-1] if path else ""
        hint = f"add `{key}:`" + (f" ({doc})" if doc else "")
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op, bound = {
            "greater_than_equal": (">=", ctx.get("ge")),
            "greater_than": (">", ctx.get("gt")),
            "less_than_equal": ("<=", ctx.get("le")),
            "less_than": ("<", ctx.get("lt")),
        }[kind]
        if _is_share(path):
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
    elif kind in ("model_type", "model_attributes_type"):
        names = _field_names(path)
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


def _annotation_at(path: KeyPath) -> Any:
    """The schema's type annotation at a key path (through models, dict values and list
    items), or None when the path leaves the schema."""
    tp: Any = Scenario
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


def _model_at(path: KeyPath) -> type[BaseModel] | None:
    tp = _unwrap(_annotation_at(path))
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _field_names(path: KeyPath) -> list[str]:
    """The valid keys of the section at ``path`` (empty when it is not a schema model)."""
    model = _model_at(path)
    return list(model.model_fields) if model else []


def _field_doc(path: KeyPath) -> str | None:
    """The schema's description of the field at ``path``, on one line."""
    model = _model_at(path[:-1]) if path else None
    if model is None:
        return None
    fields = model.model_fields
    info = fields.get(path[-1]) if isinstance(path[-1], str) else None
    if info is None or not info.description:
        return None
    return " ".join(info.description.split())


def _is_share(path: KeyPath) -> bool:
    """Whether the field at ``path`` is a share (parsed by ``parse_share``)."""
    tp = _annotation_at(path)
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


# --- showing values in messages -----------------------------------------------------------------


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
