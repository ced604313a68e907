"""How to run (not what to model): ``config.yaml`` at the project's root.

The command line may override any of it; a scenario file may not.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from optimizer.scenario.errors import Issue, ScenarioError, sort_issues
from optimizer.scenario.located_yaml import _read_yaml
from optimizer.scenario.messages import _from_pydantic


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class SolverConfig(_Strict):
    """HiGHS and the interface that drives it."""

    interface: Literal["auto", "pyomo", "direct"] = "auto"
    """``pyomo``: Pyomo's contrib HiGHS interface, in memory. ``direct``: the model's arrays
    handed to highspy in one call. ``auto`` (default): Pyomo up to ``pyomo_max_columns``
    columns (0 by default: never), direct above. Both give the same answers; direct saves
    Pyomo's import and build (about 1.5 s of a small run's 2 s, benchmarks/README.md)."""
    method: Literal["auto", "extensive", "decomposed"] = "auto"
    """How the two-stage model is solved. ``extensive``: one LP/MIP holding every future.
    ``decomposed``: the L-shaped method by future (``docs/model.md``, "Decomposition"): a master
    problem for the first stage, the futures' second stages solved in chunks, certified by a
    lower and an upper bound that meet within 1e-6 (LP). ``auto`` (default): decomposed from
    500,000 columns of the extensive form on, 100,000 for a model with integer columns, when
    the model allows it (measured: an LP of 34 goods extensive ahead at 379,000 columns,
    decomposed at 758,000; the shipped risk file, a MIP, even at 115,000 and 2.8x faster
    decomposed at 233,000; benchmarks/README.md), extensive otherwise."""
    workers: int = Field(0, ge=0)
    """Local worker processes (a Dask cluster on this machine) for the futures' subproblems of
    a decomposed run: 0 (default) one per core, 1 in the run's own process. An extensive
    solve ignores it. ``stockpile run --workers`` overrides it; ``--scheduler`` runs the
    subproblems on an existing Dask cluster instead."""
    pyomo_max_columns: int = Field(0, ge=0)
    """With ``interface: auto``, the largest model (in columns) sent through Pyomo; 0
    (default): none, every model goes to highspy directly."""
    time_limit: float | None = Field(600.0, gt=0, allow_inf_nan=False)
    """Seconds; a run stopped by it with a feasible answer writes that answer, flagged."""
    mip_gap: float = Field(1e-4, ge=0, lt=1, allow_inf_nan=False)
    """Relative optimality gap at which a MIP stops: from 0 up to (not including) 1."""
    threads: int = Field(0, ge=0)
    """HiGHS threads; 0 lets HiGHS choose. Fixed once per process by HiGHS."""
    algorithm: Literal["choose", "simplex", "ipm"] = "choose"
    """HiGHS LP algorithm (see benchmarks/README.md for the measurements behind the default)."""
    pricing: Literal["devex", "steepest_edge", "choose"] = "devex"
    """Dual simplex pricing for an LP (HiGHS ``simplex_dual_edge_weight_strategy``; a MIP
    keeps HiGHS's choice). ``devex`` (default) solved the benchmark ladder's LPs as fast as
    HiGHS's own choice at S and 13 % and 28 % faster at M and L, and a sweep's warm re-solves
    use it whatever is set here (benchmarks/README.md)."""
    presolve: bool = True
    """HiGHS presolve."""
    log: bool = False
    """Show HiGHS's own log."""


class ModelConfig(_Strict):
    """Model generation."""

    compress_time: bool = True
    """Merge runs of identical periods into blocks (exact; see docs/model.md)."""


class OutputConfig(_Strict):
    """What a run writes."""

    folder: str = "results"
    """Default parent folder of results when ``--out`` is not given."""
    formats: list[Literal["json", "csv", "yaml", "html", "xlsx"]] = Field(
        ["json", "csv", "yaml", "html", "xlsx"], min_length=1
    )
    """``json``: portfolio.json; ``csv``: portfolio.csv and scenarios.csv; ``yaml``:
    resolved.yaml; ``html``: report.html; ``xlsx``: portfolio.xlsx. At least one: an empty
    list would replace earlier results with an empty folder, so it is refused."""
    scenario_detail: Literal["auto", "full", "totals"] = "auto"
    """The rows of scenarios.csv. ``full``: one per (future, good, period). ``totals``: one
    per (future, good), summed over the window, with loss and cost in euros. ``auto``
    (default): full up to 1,000 futures, totals above, where the full file runs to hundreds of
    MB (docs/results.md, "scenarios.csv at scale")."""


class BatchConfig(_Strict):
    """How a batch reaches its workers."""

    connect_timeout: float = Field(20.0, gt=0, allow_inf_nan=False)
    """Seconds to wait for an existing Dask scheduler (``--scheduler``) to answer before the
    batch stops with a message (``--connect-timeout`` overrides it)."""


class Config(_Strict):
    """The whole of ``config.yaml``."""

    solver: SolverConfig = SolverConfig()
    model: ModelConfig = ModelConfig()
    output: OutputConfig = OutputConfig()
    batch: BatchConfig = BatchConfig()
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """How much the command prints."""


class ConfigError(Exception):
    """``config.yaml`` could not be read or has mistakes: ``issues`` says where (file, line,
    key path), what was expected and what to change, worded as scenario errors are."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("\n".join(i.format() for i in issues))


def load_config(path: str | Path | None, *, must_exist: bool = False) -> Config:
    """Read ``config.yaml``; the defaults when ``path`` is None, or when the file does not exist
    and ``must_exist`` is false (the default ``config.yaml`` may be absent; a file the user
    named with ``--config`` may not). An empty file (or only comments) means the defaults.

    Raises :class:`ConfigError` with located issues: a missing file named explicitly, a folder,
    a file that is not UTF-8 YAML, unknown keys, values out of range."""
    if path is None:
        return Config()
    p = Path(path)
    display = str(path)
    if not p.exists() and not p.is_symlink() and not must_exist:
        return Config()
    try:
        data, locs, root = _read_yaml(p, display)
    except ScenarioError as exc:
        if _only_comments(p):
            return Config()
        raise ConfigError([_config_hint(i) for i in exc.issues]) from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        issues = [_from_pydantic(e, locs, root, Config) for e in exc.errors(include_url=False)]
        raise ConfigError(sort_issues(issues, display)) from None


def _only_comments(p: Path) -> bool:
    """Whether ``p`` is a readable text file holding no YAML value (empty, or comments)."""
    try:
        return p.is_file() and yaml.safe_load(p.read_text(encoding="utf-8-sig")) is None
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False


def _config_hint(issue: Issue) -> Issue:
    """A reading problem of the config file, with a hint about config rather than scenarios."""
    hints = {
        "the file does not exist": "check the path given to --config, or leave --config out "
        "to use config.yaml in the current folder (or the defaults)",
        "this is a folder, not a file": "give --config the config file (YAML), e.g. "
        "--config config.yaml",
    }
    hint = hints.get(issue.message)
    if issue.message.startswith("the top level must be a mapping"):
        return dataclasses.replace(
            issue,
            message="the top level must be a mapping of sections (solver:, model:, output:)",
        )
    return dataclasses.replace(issue, hint=hint) if hint else issue
