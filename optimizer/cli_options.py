"""Command-line options shared by ``run``, ``sweep`` and ``batch``: one definition each, with
its help text and the values typer checks (a wrong ``--interface`` exits 2 with the choices)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal, Optional

import typer

InterfaceOption = Annotated[
    Optional[Literal["auto", "pyomo", "direct"]],
    typer.Option(
        help="auto (default: Pyomo up to 50,000 columns), pyomo, or direct (highspy arrays).",
    ),
]
ConfigOption = Annotated[Path, typer.Option(help="How to run: solver, limits, outputs.")]
MipGapOption = Annotated[Optional[float], typer.Option(help="Relative MIP gap, e.g. 0.001.")]
