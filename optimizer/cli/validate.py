"""``stockpile validate``: check scenario files without solving."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from optimizer.cli.common import (
    EXIT_INPUT,
    EXIT_OK,
    _esc,
    _print_issues,
    out,
)


def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
    set_: Annotated[
        Optional[list[str]], typer.Option("--set", help="Overrides to apply before checking.")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Check scenario files without solving: exit 0 when all are valid, 1 otherwise."""
    from optimizer.scenario.errors import ScenarioError
    from optimizer.scenario.loader import load_scenario

    report = []
    ok = True
    for f in files:
        try:
            loaded = load_scenario(f, overrides=tuple(set_ or ()))
            issues = list(loaded.warnings)
            valid = True
        except ScenarioError as exc:
            issues, valid = list(exc.issues), False
        ok &= valid
        report.append(
            {
                "file": str(f),
                "valid": valid,
                "issues": [
                    {
                        "file": i.file,
                        "line": i.line,
                        "column": i.column,
                        "path": i.path,
                        "message": i.message,
                        "hint": i.hint,
                        "origin": i.origin,
                        "severity": i.severity,
                    }
                    for i in issues
                ],
            }
        )
        if not json_out:
            if valid:
                out.print(f"[green]{_esc(f)}: valid[/]")
                for i in issues:
                    out.print(f"  [yellow]{_esc(i.format())}[/]")
            else:
                _print_issues(issues, f"{f}: not valid")
    if json_out:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    raise typer.Exit(EXIT_OK if ok else EXIT_INPUT)
