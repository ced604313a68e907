"""A batch file: read it, check it, expand it into runs.

A batch file (``scenario-format.md``, "Runs and batches") names a ``base`` scenario (relative to
the batch file), a ``vary:`` grid (the Cartesian product of dotted keys and their values) and
named ``variants:`` (each a set of overrides). The runs are the grid crossed with the base (no
overrides) and each variant; each run is named by its variant and its grid values, e.g.
``no_domestic,total=100M,weight=0.5``. :func:`load_batch` reads it, reporting every mistake
with its file and line; :class:`Batch` and :class:`RunSpec` are what it gives.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from optimizer import __version__
from optimizer.scenario.checks import format_path
from optimizer.scenario.errors import Issue, ScenarioError

#: Keys a batch file may have.
BATCH_KEYS = ("base", "vary", "variants", "name", "description")


#: Name of the run without a variant's overrides.
BASE_VARIANT = "base"


#: Most runs one batch may expand to.
MAX_RUNS = 100_000


#: Longest run name (the folder adds ``-<sha12>``).
MAX_NAME = 120


class BatchError(Exception):
    """The batch file, its base scenario or some of its runs are not valid: nothing was solved.

    ``problems`` pairs each distinct :class:`Issue` with the names of the runs it occurs in
    (empty for a problem of the batch file or of the base scenario)."""

    def __init__(self, problems: Sequence[tuple[Issue, Sequence[str]]]) -> None:
        self.problems = [(issue, list(runs)) for issue, runs in problems]
        super().__init__(str(self))

    @property
    def issues(self) -> list[Issue]:
        return [issue for issue, _ in self.problems]

    def __str__(self) -> str:
        lines = []
        for issue, runs in self.problems:
            lines.append(issue.format() + (f" (in {describe_runs(runs)})" if runs else ""))
        return "\n".join(lines)


class BatchRunError(Exception):
    """The batch could not be run at all (no scheduler, no worker, nothing writable)."""


def describe_runs(names: Sequence[str], limit: int = 3) -> str:
    """``run a``, ``runs a, b``, ``12 runs: a, b, c, ...``."""
    names = list(names)
    if len(names) == 1:
        return f"run {names[0]}"
    shown = ", ".join(names[:limit]) + (", ..." if len(names) > limit else "")
    return f"{len(names)} runs: {shown}" if len(names) > limit else f"runs {shown}"


@dataclass(frozen=True)
class RunSpec:
    """One run of a batch: its name, variant, grid values (as written) and overrides."""

    name: str
    variant: str
    values: tuple[tuple[str, Any], ...]
    """(vary key, value as written in the batch file), in the order of ``vary:``."""
    overrides: tuple[str, ...]
    """``key.path=value`` strings: the grid's, then the variant's."""
    sources: tuple[tuple[int | None, str], ...]
    """For each override: (line in the batch file, what set it)."""

    @property
    def values_dict(self) -> dict[str, Any]:
        return dict(self.values)


@dataclass(frozen=True)
class Batch:
    """A batch file, read and expanded into its runs."""

    path: Path
    display: str
    base: Path
    base_display: str
    vary: dict[str, list[Any]]
    variants: dict[str, dict[str, Any]]
    runs: list[RunSpec]
    title: str | None = None
    description: str | None = None

    @property
    def keys(self) -> list[str]:
        """The varied keys, in order."""
        return list(self.vary)

    def manifest(self) -> dict:
        """The plan of the batch as plain data (``batch.json``)."""
        return {
            "batch": self.display,
            "name": self.title,
            "description": self.description,
            "base": self.base_display,
            "vary": self.vary,
            "variants": self.variants,
            "keys": self.keys,
            "engine_version": __version__,
        }


def override_text(key: str, value: Any) -> str:
    """``key=value`` with the value written as one-line YAML, read back to the same value by the
    scenario loader (text stays text: ``'NO'`` is quoted, ``65%`` and ``100M`` are not)."""
    return f"{key}={yaml_value(value)}"


def yaml_value(value: Any) -> str:
    text = yaml.safe_dump(
        value, default_flow_style=True, width=math.inf, allow_unicode=True, sort_keys=False
    )
    text = text.strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")].strip()
    elif text.endswith("..."):
        text = text[:-3].strip()
    return text


def value_label(value: Any) -> str:
    """A value as it appears in a run name: ``100M``, ``0.5``, ``65%``, ``null``."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (int, float)):
        return f"{value:g}"
    if value is None:
        return "none"
    if isinstance(value, dict):
        return "_".join(value_label(v) for v in value.values())
    if isinstance(value, list):
        return "+".join(value_label(v) for v in value)
    return yaml_value(value)


_UNSAFE = re.compile(r"[^A-Za-z0-9._%+=@,-]+")


def _safe(text: str) -> str:
    """Text usable in a folder name on every system: other characters become ``_``."""
    return _UNSAFE.sub("_", text).strip("_.") or "_"


def key_labels(keys: Sequence[str]) -> dict[str, str]:
    """The shortest dotted suffix that tells each key from the others: ``budget.total`` ->
    ``total``; ``goods.a.max`` and ``goods.b.max`` -> ``a.max`` and ``b.max``."""
    parts = {k: re.split(r"\.|(?=\[)", k) for k in keys}
    labels: dict[str, str] = {}
    for k in keys:
        for n in range(1, len(parts[k]) + 1):
            label = ".".join(parts[k][-n:]).replace(".[", "[")
            others = [".".join(parts[o][-n:]).replace(".[", "[") for o in keys if o != k]
            if label not in others:
                break
        labels[k] = label
    return labels


def _read_batch_yaml(path: Path, display: str) -> tuple[Any, dict]:
    """The batch file's data and the location of each key path (the scenario loader's reader,
    so that its reading rules hold: ``NO`` stays text, duplicate keys are errors)."""
    from optimizer.scenario.located_yaml import _read_yaml  # the same YAML rules as scenario files

    try:
        data, locs, _ = _read_yaml(path, display)
    except ScenarioError as exc:
        issues = []
        for i in exc.issues:
            if i.message == "the file is empty":
                i = dataclasses.replace(
                    i, hint="a batch needs at least base: and vary: or variants:"
                )
            elif "top level must be a mapping" in i.message:
                i = dataclasses.replace(
                    i, message="the top level must be a mapping of keys (base:, vary:, variants:)"
                )
            issues.append(i)
        raise BatchError([(i, []) for i in issues]) from None
    return data, {p: loc.line for p, loc in locs.items()}


def is_batch_file(path: str | Path) -> bool:
    """Whether ``path`` reads as a batch file (a mapping with a top-level ``base:`` and no
    ``goods:``); False for a scenario or a file that cannot be read (the scenario loader then
    says why)."""
    from optimizer.scenario.located_yaml import _read_yaml

    try:
        data, _, _ = _read_yaml(Path(path), str(path))
    except (ScenarioError, OSError):
        return False
    return isinstance(data, dict) and "base" in data and "goods" not in data


def identical_runs(runs: Sequence[RunSpec], shas: dict[str, str]) -> dict[str, str]:
    """``{run: earlier run}`` for each run whose resolved scenario has the SHA-256 of an
    earlier run in ``runs`` (a variant that changes nothing against the base, say): solving it
    again tells nothing new."""
    first: dict[str, str] = {}
    twins: dict[str, str] = {}
    for r in runs:
        sha = shas.get(r.name)
        if sha is None:
            continue
        if sha in first:
            twins[r.name] = first[sha]
        else:
            first[sha] = r.name
    return twins


def load_batch(path: str | Path) -> Batch:
    """Read a batch file and expand it into its runs. Raises :class:`BatchError` with every
    problem found in the file (not in the scenarios: see :func:`run_batch`)."""
    display = str(path)
    path = Path(path)
    data, lines = _read_batch_yaml(path, display)
    problems: list[Issue] = []

    def add(keypath: tuple, message: str, hint: str | None = None) -> None:
        line = None
        for n in range(len(keypath), 0, -1):
            line = lines.get(keypath[:n])
            if line is not None:
                break
        problems.append(Issue(display, line, None, format_path(keypath), message, hint))

    for key in data:
        if key not in BATCH_KEYS:
            near = difflib.get_close_matches(str(key), BATCH_KEYS, n=1)
            add(
                (key,),
                f"unknown key `{key}`",
                f"did you mean `{near[0]}`?" if near else "a batch has " + ", ".join(BATCH_KEYS),
            )

    # base
    base_name = data.get("base")
    base = Path()
    base_display = ""
    if base_name is None:
        problems.append(
            Issue(
                display,
                None,
                None,
                "base",
                "required key missing",
                "add `base: scenario.yaml` (the path is relative to the batch file)",
            )
        )
    elif not isinstance(base_name, str) or not base_name.strip():
        add(("base",), f"expected the name of a scenario file, got {base_name!r}")
    else:
        base = path.parent / base_name.strip()
        base_display = os.path.normpath(os.path.join(os.path.dirname(display), base_name.strip()))
        if not base.is_file():
            add(
                ("base",),
                f"the base scenario `{base_name}` does not exist (looked for {base_display})",
                "the path is relative to the batch file",
            )

    for key in ("name", "description"):
        if key in data and data[key] is not None and not isinstance(data[key], str):
            add((key,), f"expected text, got {data[key]!r}")

    # vary
    vary: dict[str, list[Any]] = {}
    raw_vary = data.get("vary") or {}
    if not isinstance(raw_vary, dict):
        add(
            ("vary",),
            "expected a mapping of dotted keys to lists of values",
            "for example  vary: {budget.total: [100M, 250M]}",
        )
        raw_vary = {}
    for key, values in raw_vary.items():
        kp = ("vary", key)
        if not _valid_key(key):
            add(kp, f"`{key}` is not a dotted key path", "for example budget.total")
            continue
        if not isinstance(values, list):
            add(
                kp,
                f"expected a list of values, got {_show(values)}",
                f"write {key}: [{value_label(values)}, ...]",
            )
            continue
        if not values:
            add(kp, "the list of values is empty", "give at least one value")
            continue
        seen: dict[str, int] = {}
        for i, v in enumerate(values):
            text = yaml_value(v)
            if text in seen:
                add(
                    kp + (i,),
                    f"the value {value_label(v)} is listed twice",
                    "each value gives its own runs; list it once",
                )
            seen[text] = i
        vary[key] = values

    # variants
    variants: dict[str, dict[str, Any]] = {}
    raw_variants = data.get("variants") or {}
    if not isinstance(raw_variants, dict):
        add(
            ("variants",),
            "expected a mapping of variant names to overrides",
            "for example  variants: {no_domestic: {goods.gallium.domestic.max: 0}}",
        )
        raw_variants = {}
    for vname, overrides in raw_variants.items():
        kp = ("variants", vname)
        if vname == BASE_VARIANT:
            add(
                kp,
                f"`{BASE_VARIANT}` is the name of the run without overrides",
                "give the variant another name",
            )
            continue
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", str(vname)):
            add(
                kp,
                f"`{vname}` is not a usable variant name",
                "use letters, digits, _ . + - (it names the run folders)",
            )
            continue
        if not isinstance(overrides, dict) or not overrides:
            add(
                kp,
                f"expected a mapping of dotted keys to values, got {_show(overrides)}",
                "for example  no_domestic: {goods.gallium.domestic.max: 0}",
            )
            continue
        ok = True
        for key in overrides:
            if not _valid_key(key):
                add(kp + (key,), f"`{key}` is not a dotted key path", "for example budget.total")
                ok = False
            elif key in vary:
                add(
                    kp + (key,),
                    f"the variant sets `{key}`, which vary: also sets",
                    f"remove `{key}` from the variant or from vary:",
                )
                ok = False
        if ok:
            variants[str(vname)] = overrides

    n_runs = math.prod(len(v) for v in vary.values()) * (1 + len(variants))
    if n_runs > MAX_RUNS:
        add(
            ("vary",),
            f"the batch expands to {n_runs:,} runs, more than {MAX_RUNS:,}",
            "split it into several batches",
        )
    if problems:
        raise BatchError([(i, []) for i in _sorted(problems)])

    runs = _expand(vary, variants, lines)
    return Batch(
        path=path,
        display=display,
        base=base,
        base_display=base_display,
        vary=vary,
        variants=variants,
        runs=runs,
        title=data.get("name"),
        description=data.get("description"),
    )


def _valid_key(key: Any) -> bool:
    return isinstance(key, str) and bool(key.strip()) and "=" not in key and " " not in key.strip()


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a section"
    if isinstance(value, list):
        return "a list"
    return f"`{value_label(value)}`"


def _sorted(issues: list[Issue]) -> list[Issue]:
    return sorted(issues, key=lambda i: (i.line if i.line is not None else 1 << 30, i.path))


def _expand(vary: dict[str, list], variants: dict[str, dict], lines: dict) -> list[RunSpec]:
    labels = key_labels(list(vary))
    runs: list[RunSpec] = []
    used: set[str] = set()
    keys = list(vary)
    for variant in [BASE_VARIANT, *variants]:
        v_over = variants.get(variant, {})
        for combo in itertools.product(*(list(enumerate(vary[k])) for k in keys)):
            values = tuple((k, v) for k, (_, v) in zip(keys, combo))
            overrides = [override_text(k, v) for k, v in values]
            sources = [
                (lines.get(("vary", k, i), lines.get(("vary", k))), f"vary {k}: {value_label(v)}")
                for k, (i, v) in zip(keys, combo)
            ]
            for k, v in v_over.items():
                overrides.append(override_text(k, v))
                sources.append(
                    (
                        lines.get(("variants", variant, k), lines.get(("variants", variant))),
                        f"variant {variant}",
                    )
                )
            parts = [variant] + [f"{labels[k]}={value_label(v)}" for k, v in values]
            name = _safe(",".join(parts))[:MAX_NAME]
            unique, n = name, 2
            while unique in used:
                unique, n = f"{name}~{n}", n + 1
            used.add(unique)
            runs.append(RunSpec(unique, variant, values, tuple(overrides), tuple(sources)))
    return runs
