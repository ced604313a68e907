"""``stockpile compare``: existing results side by side, the same tables, workbook and chart
as a batch's comparison.

Exits 0, 1 when a folder holds no results, 2 when --out is a file or a folder stockpile did
not write (nothing is written there), 6 when the comparison cannot be written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

import optimizer.cli.common as cli
from optimizer.cli.common import _summary


def compare(
    folders: Annotated[
        list[Path],
        typer.Argument(
            help="Result folders: of single runs (stockpile run --out), of batches, or "
            "folders of run folders.",
            show_default=False,
        ),
    ],
    out_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--out",
            "-o",
            help="Where to write runs.csv, runs_goods.csv, comparison.xlsx, comparison.png and "
            "comparison.html. Default: comparison under output.folder of config.yaml "
            "(results/comparison).",
        ),
    ] = None,
    config: cli.ConfigOption = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no summary.")] = False,
) -> None:
    """Compare existing results side by side: the same tables, workbook and chart as a batch.

    The varied values are the batch's grid when the folders are one batch's; otherwise the
    scenario values that differ between the runs (from their resolved.yaml).

    Example:

        stockpile compare results/crm results/crm_250M --out results/compare
    """
    from optimizer.results.write import OutputRefused, check_study_folder
    from optimizer.studies.compare import write_comparison
    from optimizer.studies.compare_records import CompareError, find_runs

    if out_dir is None:
        out_dir = Path(cli.read_config(config).output.folder) / "comparison"

    try:
        check_study_folder(out_dir)  # never overwrite a runs.csv of the user's
    except OutputRefused as exc:
        cli.refuse_output(exc)
    try:
        records, keys = find_runs(folders)
    except CompareError as exc:
        cli.err.print(f"[red]{cli._esc(str(exc))}[/]")
        raise typer.Exit(cli.EXIT_INPUT) from None
    try:
        write_comparison(
            out_dir,
            records,
            keys,
            title="Comparison of "
            + ", ".join(str(f) for f in folders[:4])
            + (" ..." if len(folders) > 4 else ""),
        )
    except OutputRefused as exc:
        cli.refuse_output(exc)
    except OSError as exc:
        cli.err.print(f"[red]could not write {cli._esc(out_dir)}: {cli._esc(str(exc))}[/]")
        raise typer.Exit(cli.EXIT_INTERNAL) from None
    if not quiet:
        _summary(records, keys, cli.out, f"{len(records)} runs")
        if keys:
            cli.out.print("varied: " + ", ".join(keys))
        cli.out.print(
            f"comparison written to [bold]{cli._esc(out_dir)}[/]: runs.csv, runs_goods.csv, "
            "comparison.xlsx, comparison.png, comparison.html"
        )
