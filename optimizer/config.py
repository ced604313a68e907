"""How to run (not what to model): ``config.yaml`` at the project's root.

The command line may override any of it; a scenario file may not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class SolverConfig(_Strict):
    """HiGHS and the interface that drives it."""

    interface: Literal["auto", "pyomo", "direct"] = "auto"
    """``pyomo``: Pyomo's contrib HiGHS interface, in memory. ``direct``: the model's arrays
    handed to highspy in one call. ``auto`` (default): Pyomo up to ``pyomo_max_columns``
    columns, direct above, where Pyomo's build would cost more than the solve."""
    pyomo_max_columns: int = Field(50_000, ge=0)
    """With ``interface: auto``, the largest model (in columns) sent through Pyomo."""
    time_limit: float | None = Field(600.0, gt=0)
    """Seconds; a run stopped by it with a feasible answer writes that answer, flagged."""
    mip_gap: float = Field(1e-4, ge=0, le=1)
    """Relative optimality gap at which a MIP stops."""
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


class Config(_Strict):
    """The whole of ``config.yaml``."""

    solver: SolverConfig = SolverConfig()
    model: ModelConfig = ModelConfig()
    output: OutputConfig = OutputConfig()
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    """How much the command prints."""


class ConfigError(Exception):
    """``config.yaml`` could not be read; the message says where and what."""


def load_config(path: str | Path | None) -> Config:
    """Read ``config.yaml``; defaults when ``path`` is None or the file does not exist."""
    if path is None:
        return Config()
    p = Path(path)
    if not p.exists():
        return Config()
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        return Config.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    except ValidationError as exc:
        lines = [f"{p}: {'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from None
