"""Reading YAML with locations: every value's file, line and column, so that a mistake can be
reported where it was written.

Reading rules beyond plain YAML (the schema has no yes/no fields, so nothing is lost):

- mapping keys are kept as written (``NO:`` is Norway, not ``false``; ``1:`` is the text "1");
- the YAML 1.1 words ``yes``/``no``/``on``/``off`` and dates stay text (``[CN, NO]``);
- duplicate keys, YAML tags other than the standard ones, and recursive aliases are errors;
- merge keys (``<<: *defaults``) are supported.

:func:`_read_yaml` reads a file into plain data and a map from key path to :class:`_Loc`;
batch files are read by the same rules (``optimizer/studies/batch_file.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from optimizer.scenario.checks import KeyPath, format_path
from optimizer.scenario.errors import Issue, ScenarioError, sort_issues

#: libyaml's C parser and emitter where PyYAML was built with them (4-15x faster at the
#: ladder's M size: composing 0.27 s to 0.07 s, the resolved dump 0.19 s to 0.04 s); the
#: pure-Python ones otherwise. A file the C parser refuses is composed again by the Python one,
#: so error messages do not depend on how PyYAML was built.
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


FAST_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


#: Most values a file may expand to (through aliases); guards against "billion laughs".
MAX_VALUES = 200_000


_TAG = "tag:yaml.org,2002:"


_MERGE_TAG = _TAG + "merge"


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
        opened = exc.context_mark
        hint = _yaml_hint(message)
        if (
            "while parsing a flow" in (exc.context or "")
            and opened is not None
            and mark is not None
            and opened.line < mark.line
        ):
            # a [ or { left open on an earlier line: point at the line that opened it
            bracket = "[" if "sequence" in exc.context else "{"
            closing = "]" if bracket == "[" else "}"
            message = (
                f"the {bracket} opened here (column {opened.column + 1}) is not closed: "
                f"line {mark.line + 1} goes on without a {closing}"
            )
            hint = f"close it with {closing} on this line"
            mark = opened
        issue = Issue(
            display,
            mark.line + 1 if mark else None,
            mark.column + 1 if mark else None,
            "",
            message.strip(),
            hint,
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
    # never more than the start of one line: the file may not be YAML at all (/etc/passwd)
    first, last = node.start_mark.line + 1, node.end_mark.line + 1
    if last > first:
        return f"text spanning lines {first} to {last} (not `key: value` lines)"
    text = str(node.value)
    return f"the value `{text if len(text) <= 60 else text[:59] + '…'}`"


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


def _issue(loc: _Loc, path: KeyPath, message: str, hint: str | None = None) -> Issue:
    return Issue(loc.file, loc.line, loc.column, format_path(path), message, hint, loc.origin)
