"""Loading a scenario file: YAML with line numbers, ``extends:``, ``--set`` overrides, validation
against the schema, cross-section checks, and errors that point at the file, line and key.

This module holds the steps in order and ``extends:`` with its merging; the pieces are
``located_yaml.py`` (YAML with line numbers), ``overrides.py`` (``--set``) and ``messages.py``
(pydantic's errors as issues).

Key paths are written dotted, list items with brackets: ``goods.gallium.suppliers.japan.capacity``,
``disruptions.ban.hits[0].countries[1]``. An override may address a list item either way
(``hits.0.severity`` or ``hits[0].severity``).

The reading rules beyond plain YAML are in ``located_yaml.py``.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from optimizer.scenario import located_yaml
from optimizer.scenario.checks import KeyPath, located_checks
from optimizer.scenario.errors import Issue, ScenarioError, sort_issues
from optimizer.scenario.groups import resolve_groups
from optimizer.scenario.located_yaml import _copy_locs, _issue, _Loc, _Locs, _read_yaml, _real
from optimizer.scenario.messages import _clip, _dedupe, _from_pydantic, _locate, _show
from optimizer.scenario.overrides import _apply_overrides
from optimizer.scenario.routes import route_issues
from optimizer.scenario.schema import Scenario
from optimizer.scenario.units import convert_goods_units

__all__ = ["LoadedScenario", "apply_overrides", "load_scenario", "load_scenario_dict"]


#: Longest chain of ``extends:``.
MAX_EXTENDS_DEPTH = 32


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
    convert_goods_units(data)  # "25 kt", "55 EUR/kg" in the good's own unit
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        issues = [_from_pydantic(err, locs, root) for err in exc.errors(include_url=False)]
        raise ScenarioError(_dedupe(sort_issues(issues, display))) from None

    scenario, group_issues = resolve_groups(scenario)  # group names -> their countries
    errors: list[Issue] = []
    warnings: list[Issue] = []
    for path, issue in [*group_issues, *route_issues(scenario), *located_checks(scenario)]:
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
    resolved_yaml = yaml.dump(
        resolved, Dumper=located_yaml.FAST_DUMPER, sort_keys=False, allow_unicode=True
    )
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
    if Path(target_name).suffix.lower() not in (".yaml", ".yml"):
        raise fail(
            f"`extends:` names a scenario file ending in .yaml or .yml, got `{_clip(target_name)}`",
            "only scenario files can be extended; rename the base file to end in .yaml",
        )
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
