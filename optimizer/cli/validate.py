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
    """Check scenario and batch files without solving: exit 0 when all are valid, 1 otherwise.

    A file with a top-level base: is checked as a batch: the batch file itself, its base
    scenario and every run it expands to (as stockpile batch would before solving); runs
    identical to an earlier one (a variant that changes nothing) are pointed out."""
    from optimizer.scenario.errors import ScenarioError
    from optimizer.scenario.loader import load_scenario
    from optimizer.studies.batch_file import is_batch_file

    report = []
    ok = True
    for f in files:
        kind = "batch" if is_batch_file(f) else "scenario"
        notes: list[str] = []
        if kind == "batch":
            valid, issues, notes = _check_batch(f, bool(set_))
        else:
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
                "kind": kind,
                "valid": valid,
                "notes": notes,
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
                out.print(f"[green]{_esc(str(f))}: valid{' (batch)' if kind == 'batch' else ''}[/]")
                for i in issues:
                    out.print(f"  [yellow]{_esc(i.format())}[/]")
                for note in notes:
                    out.print(f"  [yellow]{_esc(note)}[/]")
            else:
                _print_issues(issues, f"{f}: not valid")
    if json_out:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    raise typer.Exit(EXIT_OK if ok else EXIT_INPUT)


def _check_batch(path: Path, with_set: bool) -> tuple[bool, list, list[str]]:
    """(valid, issues, notes) of a batch file: the file, its base and every run."""
    from optimizer.scenario.errors import ScenarioError
    from optimizer.scenario.loader import load_scenario
    from optimizer.studies.batch_file import BatchError, identical_runs, load_batch
    from optimizer.studies.batch_solve import validate_runs

    notes = []
    if with_set:
        notes.append("--set does not apply to a batch file (its runs set their own values)")
    try:
        batch = load_batch(path)
        base = load_scenario(batch.base)
        shas, warnings = validate_runs(batch, base)
    except BatchError as exc:
        return False, exc.issues, notes
    except ScenarioError as exc:
        return False, list(exc.issues), notes
    for run, twin in identical_runs(batch.runs, shas).items():
        notes.append(f"run {run} is identical to run {twin} (the same resolved scenario)")
    notes.insert(0, f"{len(batch.runs)} runs, each valid")
    return True, [w for w, _ in warnings], notes
