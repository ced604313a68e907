"""Batches: many runs of one base scenario, solved in parallel on Dask, compared in one table.

A batch file (``scenario-format.md``, "Runs and batches") names a ``base`` scenario (relative to
the batch file), a ``vary:`` grid (the Cartesian product of dotted keys and their values) and
named ``variants:`` (each a set of overrides). The runs are the grid crossed with the base (no
overrides) and each variant; each run is named by its variant and its grid values, e.g.
``no_domestic,total=100M,weight=0.5``.

:func:`run_batch` does it all, in this order:

1. read the batch file (:func:`load_batch`) and the base scenario, in this process: a mistake
   in either is reported with its file and line before any worker starts;
2. start a local Dask cluster of worker processes (one HiGHS thread each: HiGHS fixes its thread
   count once per process), or connect to an existing scheduler (``tcp://HOST:PORT``);
3. validate **every** run on the cluster (the base's resolved scenario with the run's overrides)
   and stop with all the problems found, each located at the line of the batch file that set the
   bad value, before anything is solved;
4. skip the runs whose folder ``OUT/runs/<name>-<sha12>/`` (``sha12``: the start of the SHA-256
   of the run's resolved scenario) already holds a finished run, unless ``force``;
5. solve the others, one task each. A worker writes its run's folder atomically (the files of
   ``RunResult.write`` plus ``status.json``) and hands back only small data (status, reason,
   objective, seconds, the portfolio dictionary). A run that fails (infeasible, time limit,
   solver error, an exception, its worker lost) is recorded with its reason; the others go on;
6. write the comparison of the batch's runs: ``runs.csv``, ``runs_goods.csv``,
   ``comparison.xlsx`` and ``comparison.png`` (see :mod:`optimizer.compare`).

Resuming: an interrupted batch loses no finished run (each folder is complete or absent), and
running the same command again solves only what is missing. Runs that failed for a reason that
may not recur (a lost worker, an internal error) are solved again; the solver's own outcomes
(optimal, infeasible, time limit, solver error) are kept. ``force`` redoes every run.

On a cluster, the output folder must be one the workers share (as Dask clusters usually have);
when a worker cannot write there, this process writes the run's folder from what the worker
sent back (``portfolio.json``, ``portfolio.csv``, ``resolved.yaml``, ``status.json``; no
``scenarios.csv``).
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import json
import logging
import math
import os
import re
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from optimizer import __version__
from optimizer.api import RunConfig
from optimizer.results import dumps_json, goods_table, write_folder
from optimizer.scenario.checks import format_path
from optimizer.scenario.errors import Issue, ScenarioError
from optimizer.scenario.loader import LoadedScenario, load_scenario, load_scenario_dict

__all__ = [
    "Batch",
    "BatchError",
    "BatchEvents",
    "BatchResult",
    "BatchRunError",
    "RunOutcome",
    "RunSpec",
    "load_batch",
    "run_batch",
    "solve_run",
]

log = logging.getLogger(__name__)

#: Keys a batch file may have.
BATCH_KEYS = ("base", "vary", "variants", "name", "description")
#: Name of the run without a variant's overrides.
BASE_VARIANT = "base"
#: Most runs one batch may expand to.
MAX_RUNS = 100_000
#: Longest run name (the folder adds ``-<sha12>``).
MAX_NAME = 120
#: Categories of a finished run that a re-run keeps (the solver's own outcomes). Others (a lost
#: worker, an internal error, a run never finished) are solved again.
KEPT_CATEGORIES = frozenset({"ok", "time_limit", "infeasible", "solver"})
#: Above this many model columns an infeasible run is not explained (the explanation re-solves).
EXPLAIN_MAX_COLUMNS = 200_000
#: Largest batch whose validated scenarios are kept (about 30 kB each) and handed to the
#: workers, so that no run is loaded twice; larger batches load each run again to solve it.
KEEP_LOADED_MAX = 5_000
#: Failing runs whose problems are re-read with line numbers of the base file.
RELOCATE_MAX_RUNS = 20

#: status -> (category, exit-code-like number, as in ``stockpile run``).
_CATEGORIES: dict[str, tuple[str, int]] = {
    "optimal": ("ok", 0),
    "time_limit": ("time_limit", 4),
    "infeasible": ("infeasible", 3),
    "unbounded": ("solver", 5),
    "error": ("solver", 5),
    "invalid": ("input", 1),
    "exception": ("internal", 6),
    "worker_lost": ("worker_lost", 6),
    "cancelled": ("internal", 6),
}


def category_of(status: str) -> tuple[str, int]:
    """(category, exit-code-like number) of a run status."""
    return _CATEGORIES.get(status, ("internal", 6))


# --- errors -----------------------------------------------------------------------------------


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


# --- the batch file ---------------------------------------------------------------------------


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
    from optimizer.scenario.loader import _read_yaml  # the same YAML rules as scenario files

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


# --- outcomes ---------------------------------------------------------------------------------


@dataclass
class RunOutcome:
    """How one run of a batch ended."""

    name: str
    variant: str
    values: dict[str, Any]
    folder: Path
    sha: str
    status: str
    """optimal | time_limit | infeasible | unbounded | error | invalid | exception |
    worker_lost | cancelled"""
    reason: str = ""
    explanation: list[str] = field(default_factory=list)
    objective: float | None = None
    seconds: float = 0.0
    skipped: bool = False
    """Finished by an earlier run of the batch and kept."""
    resolved_values: dict[str, Any] = field(default_factory=dict)
    """The varied values as the resolved scenario holds them (euros, fractions)."""

    @property
    def category(self) -> str:
        return category_of(self.status)[0]

    @property
    def exit_code(self) -> int:
        return category_of(self.status)[1]

    @property
    def ok(self) -> bool:
        return self.status == "optimal"


@dataclass
class BatchResult:
    """The outcome of :func:`run_batch`."""

    batch: Batch
    out: Path
    outcomes: list[RunOutcome]
    files: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    workers: int = 0
    warnings: list[tuple[Issue, list[str]]] = field(default_factory=list)

    @property
    def failed(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def exit_code(self) -> int:
        """0 when every run is optimal, 3 otherwise (the others' results are written)."""
        return 0 if not self.failed else 3


class BatchEvents:
    """What :func:`run_batch` reports as it goes (the command line draws a progress bar)."""

    def phase(self, text: str) -> None:
        """A step begins: starting workers, validating, solving, writing the comparison."""

    def start(self, total: int, skipped: int) -> None:
        """``total`` runs in the batch, ``skipped`` of them finished earlier and kept."""

    def finished(self, outcome: RunOutcome) -> None:
        """One run ended (solved or failed)."""


# --- the worker's side ------------------------------------------------------------------------


def check_runs(
    base: dict,
    base_display: str,
    jobs: Sequence[tuple[str, Sequence[str]]],
    keys: Sequence[str] = (),
    keep: bool = False,
) -> list[dict]:
    """Validate runs (a Dask task): each job is (name, overrides) on the base's resolved
    scenario. Returns, per job, its name, the SHA-256 of its resolved scenario (None when not
    valid), its errors and warnings, the resolved values of ``keys`` and, with ``keep``, the
    :class:`LoadedScenario` itself (about 30 kB: the run is then solved without loading it
    again)."""
    out = []
    for name, overrides in jobs:
        try:
            loaded = load_scenario_dict(base, name=base_display, overrides=list(overrides))
        except ScenarioError as exc:
            out.append({"name": name, "sha": None, "errors": exc.issues, "warnings": []})
            continue
        except Exception as exc:  # noqa: BLE001 - reported as a problem of that run
            issue = Issue(None, None, None, "", f"internal error: {type(exc).__name__}: {exc}")
            out.append({"name": name, "sha": None, "errors": [issue], "warnings": []})
            continue
        out.append(
            {
                "name": name,
                "sha": loaded.input_sha256,
                "errors": [],
                "warnings": loaded.warnings,
                "resolved_values": resolved_values(loaded.resolved, keys),
                "loaded": loaded if keep else None,
            }
        )
    return out


def resolved_values(resolved: dict, keys: Sequence[str]) -> dict[str, Any]:
    """The plain values at dotted ``keys`` of a resolved scenario (missing or not plain: left
    out): the varied values of a run as its tables show them."""
    from optimizer.compare import value_at

    values = {}
    for k in keys:
        found, v = value_at(resolved, k)
        if found and not isinstance(v, (dict, list)):
            values[k] = v
    return values


def _status_doc(job: dict, status: str, **extra: Any) -> dict:
    category, code = category_of(status)
    doc = {
        "name": job["name"],
        "batch": job.get("batch"),
        "base": job.get("base"),
        "variant": job.get("variant"),
        "values": dict(job.get("values") or []),
        "resolved_values": dict(job.get("resolved_values") or {}),
        "overrides": list(job.get("overrides") or []),
        "status": status,
        "category": category,
        "exit_code": code,
        "reason": "",
        "explanation": [],
        "objective": None,
        "input_sha256": job.get("sha"),
        "engine_version": __version__,
    }
    doc.update(extra)
    doc["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return doc


def _write_results(result, folder: Path, formats: Sequence[str] | None, status_text: str) -> None:
    """The folder of ``RunResult.write`` plus ``status.json``: in one atomic step when
    ``RunResult`` hands out its writers (``RunResult.writers(formats)``); otherwise
    ``status.json`` is added (atomically) right after the folder appears, and a folder found
    without it is read by its ``portfolio.json``."""
    fmt = tuple(formats) if formats is not None else None
    own = getattr(result, "writers", None)
    if callable(own):
        writers = dict(own(fmt) if fmt is not None else own())
        writers["status.json"] = _text_writer(status_text)
        write_folder(folder, writers)
        return
    if fmt is None:
        result.write(folder)
    else:
        result.write(folder, fmt)
    _write_text_atomic(folder / "status.json", status_text)


def _text_writer(text: str) -> Callable[[Path], None]:
    return lambda p: p.write_text(text, encoding="utf-8")


def solve_run(
    job: dict,
    base: dict | LoadedScenario,
    config: RunConfig,
    formats: Sequence[str] | None = None,
) -> dict:
    """Solve one run and write its folder (a Dask task; any process with the engine installed).

    ``job`` holds the run's name, overrides, folder and labels; ``base`` the run's scenario as
    validated (a :class:`LoadedScenario`), or the base scenario's resolved data to which the
    run's overrides are applied here. Never raises for a failing run: the failure is in the
    returned ``status``. Returns small, picklable data: name, status, reason, explanation,
    objective, seconds, whether the folder was written, and the portfolio dictionary (plus the
    resolved scenario when the folder could not be written here)."""
    from optimizer.api import run

    t0 = time.perf_counter()
    result = None
    loaded: LoadedScenario | None = None
    explanation: list[str] = []
    detail: str | None = None
    try:
        if isinstance(base, LoadedScenario):
            loaded = base
        else:
            loaded = load_scenario_dict(
                base, name=job.get("base") or "<base>", overrides=list(job["overrides"])
            )
        result = run(loaded, config)
    except ScenarioError as exc:
        status, reason = "invalid", "; ".join(i.format() for i in exc.issues)
    except Exception as exc:  # noqa: BLE001 - recorded as this run's failure; the batch goes on
        status = "exception"
        reason = f"internal error: {type(exc).__name__}: {exc}"
        detail = traceback.format_exc()
    else:
        status = result.status
        reason = ""
        if status == "infeasible":
            explanation = _explain(result)
            reason = "no feasible portfolio" + (f": {explanation[0]}" if explanation else "")
        elif status == "time_limit":
            gap = result.portfolio.get("mip_gap")
            reason = "stopped by the time limit; " + (
                f"the portfolio is the best found, within {gap:.2%} of optimal"
                if result.solve.has_solution and gap is not None
                else "the portfolio is the best found"
            )
        elif status != "optimal":
            reason = f"the solver stopped without a portfolio: {result.solve.termination}"
    seconds = time.perf_counter() - t0
    portfolio = result.portfolio if result is not None else None
    objective = result.objective if result is not None and result.solve.has_solution else None
    doc = _status_doc(
        job,
        status,
        reason=reason,
        explanation=explanation,
        objective=objective,
        seconds=round(seconds, 4),
        worker=_worker_address(),
    )
    if detail:
        doc["traceback"] = detail
    if loaded is not None:
        doc["input_sha256"] = loaded.input_sha256

    folder = Path(job["folder"])
    status_text = json.dumps(doc, indent=2, default=str) + "\n"
    written, write_error = True, None
    try:
        if result is not None and result.solve.has_solution:
            _write_results(result, folder, formats, status_text)
        else:
            writers: dict[str, Callable[[Path], None]] = {}
            if portfolio is not None:
                writers["portfolio.json"] = _text_writer(dumps_json(portfolio))
            if loaded is not None:
                writers["resolved.yaml"] = _text_writer(loaded.resolved_yaml)
            writers["status.json"] = _text_writer(status_text)
            write_folder(folder, writers)
    except OSError as exc:
        written, write_error = False, f"{type(exc).__name__}: {exc}"
    return {
        "name": job["name"],
        "status": status,
        "reason": reason,
        "explanation": explanation,
        "objective": objective,
        "seconds": seconds,
        "sha": doc["input_sha256"],
        "written": written,
        "write_error": write_error,
        "portfolio": portfolio,
        "status_doc": doc,
        "resolved_yaml": (loaded.resolved_yaml if loaded is not None and not written else None),
    }


def _explain(result) -> list[str]:
    try:
        if result.model.lp.stats().get("variables", 0) > EXPLAIN_MAX_COLUMNS:
            return []
        from optimizer.diagnose import explain_infeasibility

        return list(explain_infeasibility(result))
    except Exception:  # noqa: BLE001 - the explanation is a help, never a failure
        return []


def _worker_address() -> str | None:
    try:
        from distributed import get_worker

        return get_worker().address
    except Exception:  # noqa: BLE001 - not in a Dask worker
        return None


# --- the client's side ------------------------------------------------------------------------


def _existing(folder: Path) -> dict | None:
    """The status of a finished run folder, or None when there is none to keep."""
    status_file = folder / "status.json"
    try:
        if status_file.is_file():
            return json.loads(status_file.read_text(encoding="utf-8"))
        pf_file = folder / "portfolio.json"
        if pf_file.is_file():
            pf = json.loads(pf_file.read_text(encoding="utf-8"))
            return {"status": pf.get("status"), "objective": pf.get("objective"), "reason": ""}
    except (OSError, ValueError):
        return None
    return None


def kept_run(folder: Path) -> dict | None:
    """The status of the run finished in ``folder`` when a re-run keeps it (the solver's own
    outcome: optimal, time limit, infeasible, solver error); None when it must be solved
    (no finished run there, or it failed for a reason that may not recur)."""
    previous = _existing(folder)
    if previous is None or category_of(previous.get("status") or "")[0] not in KEPT_CATEGORIES:
        return None
    return previous


@contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's own log messages off (the batch reports lost workers itself), then back."""
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def dask_client(
    workers: int | None = None,
    scheduler: str | None = None,
    allowed_failures: int = 0,
    wait_for_workers: float = 60.0,
    preload: Sequence[str] = (),
    connect_timeout: float = 20.0,
) -> Iterator[Any]:
    """A Dask client: on a new local cluster of ``workers`` processes (one thread each, all on
    127.0.0.1, no dashboard), or on the existing scheduler at ``scheduler``.

    ``allowed_failures``: how many times a run whose worker died is tried again on the local
    cluster before it is recorded as ``worker_lost`` (a remote scheduler keeps its own
    setting). ``preload``: modules each local worker imports as it starts (the solver's
    imports take seconds: better while the cluster starts than in the first run)."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{connect_timeout}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise BatchRunError(
                f"cannot reach the Dask scheduler at {scheduler}: {type(exc).__name__}: {exc}"
            ) from None
        try:
            try:
                client.wait_for_workers(1, timeout=wait_for_workers)
            except (TimeoutError, OSError):
                raise BatchRunError(
                    f"no Dask worker joined the scheduler at {scheduler} within "
                    f"{wait_for_workers:g} s"
                ) from None
            yield client
        finally:
            client.close()
        return
    n = max(1, int(workers or os.cpu_count() or 1))
    try:
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.CRITICAL,
            scheduler_kwargs={"allowed_failures": allowed_failures},
            preload=list(preload),
        )
    except Exception as exc:  # noqa: BLE001 - e.g. worker processes that cannot start
        raise BatchRunError(
            f"could not start a local Dask cluster of {n} worker process(es): "
            f"{type(exc).__name__}: {exc} (a script that runs a batch must guard its main code "
            "with `if __name__ == '__main__':`, as worker processes import it)"
        ) from None
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def _slots(client) -> int:
    """Threads of the cluster's workers (at least 1)."""
    try:
        return max(1, sum(client.nthreads().values()))
    except Exception:  # noqa: BLE001
        return 1


def _n_workers(client) -> int:
    try:
        return len(client.scheduler_info(n_workers=-1)["workers"])
    except TypeError:  # older distributed: no n_workers argument
        return len(client.scheduler_info()["workers"])
    except Exception:  # noqa: BLE001
        return 0


def _relocate(batch: Batch, run: RunSpec, issues: Sequence[Issue]) -> list[Issue]:
    """Point the issues that an override caused at the line of the batch file that set it."""
    out = []
    for issue in issues:
        origin = issue.origin or ""
        if origin.startswith("set by --set "):
            text = origin[len("set by --set ") :]
            if text in run.overrides:
                line, what = run.sources[run.overrides.index(text)]
                issue = dataclasses.replace(
                    issue, file=batch.display, line=line, column=None, origin=f"{what}: {text}"
                )
        out.append(issue)
    return out


def _check_here(
    batch: Batch, base: LoadedScenario, runs: Sequence[RunSpec], seconds: float
) -> tuple[list[dict], list[RunSpec]]:
    """Validate runs in this process for at most about ``seconds``; (results, runs left)."""
    t0 = time.perf_counter()
    results: list[dict] = []
    keep = len(batch.runs) <= KEEP_LOADED_MAX
    for i, r in enumerate(runs):
        if time.perf_counter() - t0 > seconds:
            return results, list(runs[i:])
        results.extend(
            check_runs(base.resolved, batch.base_display, [(r.name, r.overrides)], batch.keys, keep)
        )
    return results, []


def _validate(
    batch: Batch, base: LoadedScenario, budget: float, start_cluster: Callable[[], Any]
) -> tuple[list[dict], list[RunSpec]]:
    """Validate runs here; once the whole would take more than ``budget`` seconds, start the
    cluster in a background thread and stop when it is up. Returns (results, runs left)."""
    from concurrent.futures import ThreadPoolExecutor

    t0 = time.perf_counter()
    results: list[dict] = []
    runs = list(batch.runs)
    keep = len(runs) <= KEEP_LOADED_MAX
    pool = None
    starting = None
    try:
        for i, r in enumerate(runs):
            if starting is not None and starting.done():
                starting.result()  # raises what starting the cluster raised
                return results, runs[i:]
            results.extend(
                check_runs(
                    base.resolved, batch.base_display, [(r.name, r.overrides)], batch.keys, keep
                )
            )
            elapsed = time.perf_counter() - t0
            if starting is None and i + 1 < len(runs):
                projected = elapsed / (i + 1) * len(runs)
                if projected > budget:
                    pool = ThreadPoolExecutor(1, thread_name_prefix="stockpile-cluster-start")
                    starting = pool.submit(start_cluster)
        if starting is not None:
            starting.result()
        return results, []
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def _check_on_cluster(
    client, batch: Batch, base: LoadedScenario, runs: Sequence[RunSpec], chunk: int | None = None
) -> list[dict]:
    """Validate runs on the cluster, in chunks."""
    jobs = [(r.name, r.overrides) for r in runs]
    if not jobs:
        return []
    n = max(1, _n_workers(client))
    size = chunk or max(1, min(50, math.ceil(len(jobs) / (4 * n))))
    keep = len(batch.runs) <= KEEP_LOADED_MAX
    futures = [
        client.submit(
            check_runs,
            base.resolved,
            batch.base_display,
            jobs[i : i + size],
            batch.keys,
            keep,
            pure=False,
        )
        for i in range(0, len(jobs), size)
    ]
    return [r for f in futures for r in f.result()]


def validate_runs(
    batch: Batch, base: LoadedScenario, client=None
) -> tuple[dict[str, str], list[tuple[Issue, list[str]]]]:
    """Validate every run: on the cluster when ``client`` is given, here otherwise.

    Returns (run name -> SHA-256 of its resolved scenario, warnings new to the base, each with
    its runs). Raises :class:`BatchError` with every problem found, each located in the batch
    file (for a bad override) or in the base scenario, with the runs it occurs in."""
    if client is None:
        results, _ = _check_here(batch, base, batch.runs, math.inf)
    else:
        results = _check_on_cluster(client, batch, base, batch.runs)
    checked, warnings = _digest(batch, base, results)
    return {name: c["sha"] for name, c in checked.items()}, warnings


def _digest(
    batch: Batch, base: LoadedScenario, results: list[dict], strict: bool = True
) -> tuple[dict[str, dict], list[tuple[Issue, list[str]]]]:
    """Each valid run's check (sha, resolved values, loaded scenario) and the new warnings;
    raises BatchError for the rest."""
    by_name = {r.name: r for r in batch.runs}
    shas: dict[str, dict] = {}
    errors: dict[str, list[str]] = {}
    error_issue: dict[str, Issue] = {}
    base_warn = {(w.path, w.message) for w in base.warnings}
    warn_runs: dict[str, list[str]] = {}
    warn_issue: dict[str, Issue] = {}
    relocated = 0
    for r in results:
        run = by_name[r["name"]]
        if r["sha"] is None:
            issues = r["errors"]
            if relocated < RELOCATE_MAX_RUNS:  # the base file's own lines, from the file itself
                relocated += 1
                try:
                    load_scenario(batch.base, overrides=list(run.overrides))
                except ScenarioError as exc:
                    issues = exc.issues
                except Exception:  # noqa: BLE001 - keep the issues found on the cluster
                    pass
            for issue in _relocate(batch, run, issues):
                if issue.severity != "error":
                    continue
                key = issue.format()
                error_issue.setdefault(key, issue)
                errors.setdefault(key, []).append(run.name)
            continue
        shas[run.name] = r
        for w in r["warnings"]:
            if (w.path, w.message) in base_warn:
                continue
            w = dataclasses.replace(w, file=None, line=None, column=None)
            key = w.format()
            warn_issue.setdefault(key, w)
            warn_runs.setdefault(key, []).append(run.name)
    problems = [(error_issue[k], names) for k, names in errors.items()]
    if problems and strict:
        raise BatchError(problems)
    shas["__invalid__"] = problems  # type: ignore[assignment]  # read by run_batch
    return shas, [(warn_issue[k], names) for k, names in warn_runs.items()]


def _write_fallback(folder: Path, res: dict, formats: Sequence[str] | None) -> None:
    """Write a run's folder here from what its worker sent back (the worker could not)."""
    import pandas as pd

    writers: dict[str, Callable[[Path], None]] = {}
    pf = res.get("portfolio")
    doc = dict(res["status_doc"])
    doc["note"] = (
        "written by the batch's client: the worker could not write here "
        f"({res.get('write_error')}); scenarios.csv is missing"
    )
    if pf is not None:
        writers["portfolio.json"] = _text_writer(dumps_json(pf))
        if (formats is None or "csv" in formats) and pf.get("goods"):
            table = goods_table(pf)
            writers["portfolio.csv"] = lambda p: pd.DataFrame(table).to_csv(p, index=False)
    if res.get("resolved_yaml"):
        writers["resolved.yaml"] = _text_writer(res["resolved_yaml"])
    writers["status.json"] = _text_writer(json.dumps(doc, indent=2, default=str) + "\n")
    write_folder(folder, writers)


def _write_failure(folder: Path, job: dict, status: str, reason: str) -> None:
    doc = _status_doc(job, status, reason=reason)
    write_folder(folder, {"status.json": _text_writer(json.dumps(doc, indent=2) + "\n")})


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def run_batch(
    batch: Batch | str | Path,
    out: str | Path,
    config: RunConfig | None = None,
    *,
    formats: Sequence[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    strict: bool = False,
    events: BatchEvents | None = None,
    allowed_failures: int = 0,
    task: Callable[..., dict] | None = None,
    compare: bool = True,
    local_validation_seconds: float = 2.0,
    connect_timeout: float = 20.0,
) -> BatchResult:
    """Validate, solve and compare a batch (see the module's docstring).

    ``workers``: processes of the local cluster (default: the number of CPUs, at most the
    number of runs); ignored with ``scheduler`` (``tcp://HOST:PORT`` of a running Dask
    scheduler). Each run is solved with ``config`` and one HiGHS thread. ``task`` replaces
    :func:`solve_run` (same signature; for tests). Every run is validated before any is
    solved. Raises :class:`BatchError` when the batch file or its base is not valid, or, with
    ``strict``, when any run is not (nothing is solved then); without ``strict`` a run that is
    not valid is recorded as ``invalid`` with its located problems and the others are solved.
    Raises :class:`BatchRunError` when the batch cannot run at all; a failing run is never
    raised but recorded."""
    t_start = time.perf_counter()
    events = events or BatchEvents()
    if not isinstance(batch, Batch):
        batch = load_batch(batch)
    config = dataclasses.replace(config or RunConfig(), threads=1)
    formats = tuple(formats) if formats is not None else None
    out = Path(out).absolute()
    task = task or solve_run
    seconds: dict[str, float] = {}

    try:
        base = load_scenario(batch.base)
    except ScenarioError as exc:
        raise BatchError([(i, []) for i in exc.issues]) from None

    n_local = max(1, min(int(workers or os.cpu_count() or 1), len(batch.runs)))
    stack = ExitStack()
    clients: list[Any] = []

    def get_client():
        if not clients:
            events.phase(
                f"connecting to {scheduler}"
                if scheduler
                else f"starting {n_local} worker process(es)"
            )
            t = time.perf_counter()
            preload = ["optimizer.batch"] + (
                ["optimizer.solve.pyomo_backend"] if config.interface != "direct" else []
            )
            stack.enter_context(_quiet_dask())
            clients.append(
                stack.enter_context(
                    dask_client(
                        n_local,
                        scheduler,
                        allowed_failures,
                        preload=preload,
                        connect_timeout=connect_timeout,
                    )
                )
            )
            seconds["start"] = time.perf_counter() - t
        return clients[0]

    with stack:
        # Validate here (a bad variant is reported within seconds, without starting any
        # worker). When that would take more than `local_validation_seconds`, the cluster is
        # started at once in the background, validation goes on here meanwhile, and what is
        # left when the cluster is up is validated there.
        events.phase(f"validating {len(batch.runs)} runs")
        t = time.perf_counter()
        results, left = _validate(batch, base, local_validation_seconds, get_client)
        if left:
            results += _check_on_cluster(get_client(), batch, base, left)
        checked, warnings = _digest(batch, base, results, strict=strict)
        invalid_problems = checked.pop("__invalid__", [])
        invalid: dict[str, list[Issue]] = {}
        for issue, names in invalid_problems:
            for name in names:
                invalid.setdefault(name, []).append(issue)
        del results
        seconds["validate"] = time.perf_counter() - t

        plan = []
        manifest_runs = []
        for r in batch.runs:
            if r.name in invalid:
                continue
            sha = checked[r.name]["sha"]
            folder = out / "runs" / f"{r.name}-{sha[:12]}"
            plan.append((r, sha, folder))
            manifest_runs.append(
                {
                    "name": r.name,
                    "variant": r.variant,
                    "values": r.values_dict,
                    "overrides": list(r.overrides),
                    "input_sha256": sha,
                    "resolved_values": checked[r.name].get("resolved_values") or {},
                    "folder": f"runs/{folder.name}",
                }
            )
        manifest = {**batch.manifest(), "runs": manifest_runs}
        try:
            (out / "runs").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BatchRunError(f"cannot create the output folder {out}: {exc}") from None
        _write_text_atomic(out / "batch.json", json.dumps(manifest, indent=2, default=str) + "\n")

        outcomes: dict[str, RunOutcome] = {}
        for r in batch.runs:  # not valid: recorded with the reason, never solved
            if r.name not in invalid:
                continue
            reason = "; ".join(issue.format() for issue in invalid[r.name])
            folder = out / "runs" / f"{r.name}-invalid"
            job = {
                "name": r.name,
                "variant": r.variant,
                "values": list(r.values),
                "overrides": list(r.overrides),
                "base": batch.base_display,
                "batch": batch.display,
            }
            _write_failure(folder, job, "invalid", reason)
            outcomes[r.name] = RunOutcome(
                r.name, r.variant, r.values_dict, folder, "", status="invalid", reason=reason
            )
        todo = []
        for r, sha, folder in plan:
            previous = None if force else kept_run(folder)
            if previous is not None:
                outcomes[r.name] = RunOutcome(
                    name=r.name,
                    variant=r.variant,
                    values=r.values_dict,
                    folder=folder,
                    sha=sha,
                    status=previous.get("status") or "error",
                    reason=previous.get("reason") or "",
                    explanation=list(previous.get("explanation") or []),
                    objective=previous.get("objective"),
                    seconds=float(previous.get("seconds") or 0.0),
                    skipped=True,
                    resolved_values=checked[r.name].get("resolved_values") or {},
                )
            else:
                todo.append((r, sha, folder))
        events.start(len(plan), len(outcomes))

        token = uuid.uuid4().hex[:8]
        jobs: dict[Any, tuple[RunSpec, str, Path, dict]] = {}
        futures = []
        n_workers = _n_workers(clients[0]) if clients else 0
        seconds["solve"] = 0.0
        if todo:
            from distributed import as_completed

            client = get_client()
            n_workers = _n_workers(client)
            t = time.perf_counter()
            events.phase(f"solving {len(todo)} runs on {n_workers} worker(s)")

            # At most as many runs on the cluster as it has threads: a worker holds only the
            # run it solves, so a worker that dies takes no other run with it (the scheduler
            # counts every run on a lost worker as a suspect), and a large batch does not
            # flood the scheduler.
            pending = list(enumerate(todo))[::-1]
            ac = as_completed(loop=client.loop)
            slots, slots_checked = _slots(client), time.perf_counter()

            def submit_next() -> None:
                i, (r, sha, folder) = pending.pop()
                job = {
                    "name": r.name,
                    "variant": r.variant,
                    "values": list(r.values),
                    "overrides": list(r.overrides),
                    "folder": str(folder),
                    "sha": sha,
                    "base": batch.base_display,
                    "batch": batch.display,
                    "resolved_values": checked[r.name].get("resolved_values") or {},
                }
                # Each task carries its scenario, validated above (about 30 kB), or else the
                # base and its overrides (a few kB): tasks share no data, so a lost worker
                # takes only its own run with it.
                scenario = checked[r.name].pop("loaded", None) or base.resolved
                fut = client.submit(
                    task,
                    job,
                    scenario,
                    config,
                    formats,
                    key=f"stockpile-run-{token}-{i}",
                    pure=False,
                )
                jobs[fut.key] = (r, sha, folder, job)
                futures.append(fut)
                ac.add(fut)

            in_flight = 0
            try:
                while pending and in_flight < slots:
                    submit_next()
                    in_flight += 1
                for fut in ac:
                    in_flight -= 1
                    r, sha, folder, job = jobs.pop(fut.key)
                    outcome = _collect(fut, r, sha, folder, job, formats)
                    outcomes[r.name] = outcome
                    fut.release()
                    events.finished(outcome)
                    if pending and time.perf_counter() - slots_checked > 2.0:
                        slots, slots_checked = _slots(client), time.perf_counter()
                    while pending and (in_flight < slots or in_flight == 0):
                        submit_next()
                        in_flight += 1
            except BaseException:
                client.cancel([f for f in futures if not f.done()])
                raise
            seconds["solve"] = time.perf_counter() - t

    ordered = [outcomes[r.name] for r in batch.runs]
    result = BatchResult(batch, out, ordered, seconds=seconds, workers=n_workers, warnings=warnings)
    if compare:
        events.phase("writing the comparison")
        t = time.perf_counter()
        result.files = write_batch_comparison(result)
        seconds["compare"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t_start
    return result


def _collect(fut, r: RunSpec, sha: str, folder: Path, job: dict, formats) -> RunOutcome:
    """The outcome of one finished future; writes the folder when the worker could not."""
    outcome = RunOutcome(
        r.name,
        r.variant,
        r.values_dict,
        folder,
        sha,
        status="exception",
        resolved_values=dict(job.get("resolved_values") or {}),
    )
    if fut.status == "finished":
        try:
            res = fut.result()
        except Exception as exc:  # noqa: BLE001 - the result could not be fetched
            res = None
            outcome.reason = f"the run's result was lost: {type(exc).__name__}: {exc}"
        if res is not None:
            outcome.status = res["status"]
            outcome.reason = res.get("reason") or ""
            outcome.explanation = list(res.get("explanation") or [])
            outcome.objective = res.get("objective")
            outcome.seconds = float(res.get("seconds") or 0.0)
            if not res.get("written"):
                try:
                    _write_fallback(folder, res, formats)
                except OSError as exc:
                    outcome.reason += f" (its folder could not be written: {exc})"
            return outcome
    else:
        exc = None
        if fut.status == "error":
            try:
                exc = fut.exception()
            except Exception as e:  # noqa: BLE001
                exc = e
        from distributed import KilledWorker

        if isinstance(exc, KilledWorker):
            outcome.status = "worker_lost"
            outcome.reason = (
                "worker lost: the process solving this run died (out of memory, killed or crashed)"
            )
        elif fut.status == "cancelled":
            outcome.status = "cancelled"
            outcome.reason = "cancelled: the cluster stopped before this run ended"
        else:
            outcome.reason = (
                f"the run failed on the cluster ({fut.status}): {type(exc).__name__}: {exc}"
            )
    with suppress(OSError):
        _write_failure(folder, job, outcome.status, outcome.reason)
    return outcome


def write_batch_comparison(result: BatchResult) -> list[Path]:
    """``runs.csv``, ``runs_goods.csv``, ``comparison.xlsx`` and ``comparison.png`` of the
    batch's runs, in the batch's order, into its output folder."""
    from optimizer.compare import read_run, write_comparison

    records = [
        read_run(o.folder, name=o.name, variant=o.variant, values=o.values) for o in result.outcomes
    ]
    title = result.batch.title or Path(result.batch.display).stem
    return write_comparison(result.out, records, result.batch.keys, title=title)
