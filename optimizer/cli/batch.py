"""``stockpile batch``: solve every run of a batch file, resume, write the comparison.

Exit codes of ``batch`` (as ``stockpile run``'s, for the batch as a whole):

====  =======================================================================
0     every run solved to optimality; all results and the comparison written
1     the batch file, its base scenario or a run's overrides have mistakes (with --strict, or
      when no run is valid); nothing solved
2     the command line itself is wrong, or --out is a file or a folder stockpile did not write
3     some runs did not end optimal (infeasible, time limit, solver error, worker lost): each
      is recorded with its reason, the others' results and the comparison are written
6     the batch could not run (no scheduler, no worker, nothing writable) or internal error
130   interrupted: finished runs are kept; the same command resumes
====  =======================================================================
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

import optimizer.cli.common as cli
from optimizer.cli.common import (
    EXIT_INTERRUPTED,
    ConfigOption,
    InterfaceOption,
    MipGapOption,
    _summary,
    check_seconds,
    workers_option,
)
from optimizer.studies.progress import rich_bar

WorkersOption = workers_option(
    "Worker processes of the local Dask cluster, one HiGHS thread each "
    "(default: the number of CPUs)."
)


class _Events:
    """Progress across the batch: a bar with done, failed, remaining and time left on a
    terminal; a line every few runs (and for each failure) otherwise."""

    def __init__(self, console, quiet: bool) -> None:
        self.console = console
        self.quiet = quiet
        self.progress = None
        self.task = None
        self.ok = self.failed = self.skipped = self.invalid = self.total = self.done = 0
        self.step = 1
        self.t0 = time.perf_counter()

    def phase(self, text: str) -> None:
        if not self.quiet and self.progress is None:
            self.console.print(f"[dim]{cli._esc(text)}...[/]")

    def start(self, total: int, skipped: int, invalid: int = 0) -> None:
        self.total, self.skipped, self.invalid = total, skipped, invalid
        todo = self.todo
        self.step = max(1, todo // 20)
        self.t0 = time.perf_counter()
        if self.quiet:
            return
        if invalid:
            self.console.print(
                f"{invalid} of {total} runs not valid: recorded with their problems, not solved"
            )
        if skipped:
            self.console.print(
                f"{skipped} of {total} runs already finished in the output folder with the same "
                "settings: kept (--force solves them again)"
            )
        if todo and self.console.is_terminal:
            self.progress = rich_bar(
                self.console,
                counts="[green]{task.fields[ok]} ok[/]  [red]{task.fields[failed]} failed[/]  "
                "{task.fields[left]} left",
            )
            self.progress.start()
            self.task = self.progress.add_task("runs", total=todo, ok=0, failed=0, left=todo)

    def finished(self, outcome) -> None:
        self.done += 1
        if outcome.ok:
            self.ok += 1
        else:
            self.failed += 1
        left = self.todo - self.done
        if self.quiet:
            return
        if not outcome.ok:
            msg = f"[yellow]{cli._esc(outcome.name)}: {outcome.status}[/]"
            if outcome.reason:
                msg += f" - {cli._esc(outcome.reason)}"
            self.console.print(msg)
        if self.progress is not None:
            self.progress.update(self.task, advance=1, ok=self.ok, failed=self.failed, left=left)
        elif self.done % self.step == 0 or left == 0:
            elapsed = time.perf_counter() - self.t0
            eta = elapsed / self.done * left if self.done else 0.0
            self.console.print(
                f"runs: {self.done}/{self.todo} done, {self.ok} ok, "
                f"{self.failed} failed, {left} left, {elapsed:.0f} s elapsed, about "
                f"{eta:.0f} s left"
            )

    @property
    def todo(self) -> int:
        """Runs to solve in this invocation (not kept, not invalid)."""
        return max(0, self.total - self.skipped - self.invalid)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def batch(
    batch_file: Annotated[
        Path,
        typer.Argument(help="The batch file (YAML: base, vary, variants).", show_default=False),
    ],
    out_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--out",
            "-o",
            help="Output folder: runs/ (one folder per run), runs.csv, runs_goods.csv, "
            "comparison.xlsx, comparison.png, comparison.html. Default: a folder named after "
            "the batch file under output.folder of config.yaml (results/policy_batch).",
        ),
    ] = None,
    workers: WorkersOption = None,
    scheduler: Annotated[
        Optional[str],
        typer.Option(
            help="Run on an existing Dask cluster: the scheduler's address, tcp://HOST:PORT. "
            "The workers need the engine installed and the output folder shared.",
        ),
    ] = None,
    connect_timeout: Annotated[
        Optional[float],
        typer.Option(
            help="Seconds to wait for the --scheduler to answer (default: batch.connect_timeout "
            "in config.yaml, 20).",
            callback=check_seconds,
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Solve every run again, even those already finished.")
    ] = False,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Solve nothing if any run is not valid (by default the invalid runs are "
            "reported first and recorded, and the others are solved).",
        ),
    ] = False,
    config: ConfigOption = None,
    time_limit: Annotated[
        Optional[float],
        typer.Option(help="Solver time limit per run, seconds.", callback=check_seconds),
    ] = None,
    mip_gap: MipGapOption = None,
    interface: InterfaceOption = None,
    compress: Annotated[
        Optional[bool],
        typer.Option("--compress/--no-compress", help="Merge identical periods into blocks."),
    ] = None,
    formats: cli.FormatsOption = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only problems and failures.")
    ] = False,
    yes: cli.YesOption = False,
    debug: Annotated[bool, typer.Option(help="Show Python tracebacks of internal errors.")] = False,
) -> None:
    """Solve every run of a batch in parallel and compare them.

    A batch file names a base scenario, a vary: grid (every combination of the values of some
    keys) and named variants: (sets of overrides); the runs are the grid crossed with the base
    and each variant. Every run is validated before anything is solved. Runs are solved on a
    local Dask cluster (--workers) or an existing one (--scheduler); a run that fails is
    recorded with its reason and the others go on. Each run's folder is keyed by the hash of
    its resolved scenario: running the command again skips finished runs solved with the same
    settings (gap, compression, algorithm, engine version; a time limit that stopped a run and
    is now longer) and says why any other is solved again (--force redoes them all).

    Example:

        stockpile batch scenarios/policy_batch.yaml --out results/policy --workers 2
    """
    from optimizer.pipeline import RunConfig
    from optimizer.results.write import OutputRefused, check_study_folder
    from optimizer.studies.batch import BatchError, BatchRunError, load_batch, run_batch
    from optimizer.studies.compare_records import read_run

    out, err = cli.out, cli.err
    cfg = cli.read_config(config)
    cli.check_cluster_options(workers, scheduler)
    chosen = cli.parse_formats(formats, cfg.output.formats)
    rc = RunConfig.from_config(
        cfg,
        time_limit=time_limit,
        mip_gap=mip_gap,
        interface=interface,
        compress_time=compress,
        large_model_ok=yes or None,
    )
    target = out_dir or Path(cfg.output.folder) / batch_file.stem
    try:
        check_study_folder(target)  # before any work: never overwrite a file of the user's
    except OutputRefused as exc:
        cli.refuse_output(exc)

    try:
        spec = load_batch(batch_file)
    except BatchError as exc:
        _print_problems(exc, f"{batch_file}: the batch has mistakes")
        raise typer.Exit(cli.EXIT_INPUT) from None
    if not quiet:
        out.print(
            f"[bold]{cli._esc(spec.title or str(batch_file))}[/]: {len(spec.runs)} runs "
            f"({len(spec.runs) // (1 + len(spec.variants))} grid points x "
            f"{1 + len(spec.variants)} variants: base"
            + "".join(f", {v}" for v in spec.variants)
            + ")"
        )

    if "html" in chosen and len(spec.runs) > 20 and not quiet:
        err.print(
            "[dim]each run writes report.html, which takes seconds per run; for a large batch, "
            "--formats json,csv,yaml,xlsx leaves it out (the comparison is written either "
            "way)[/]"
        )
    events = _Events(err, quiet)
    try:
        result = run_batch(
            spec,
            target,
            rc,
            formats=chosen,
            workers=workers,
            scheduler=scheduler,
            force=force,
            strict=strict,
            events=events,
            connect_timeout=connect_timeout or cfg.batch.connect_timeout,
        )
    except BatchError as exc:
        events.close()
        _print_problems(exc, f"{batch_file}: some runs are not valid; nothing was solved")
        raise typer.Exit(cli.EXIT_INPUT) from None
    except OutputRefused as exc:
        events.close()
        cli.refuse_output(exc)
    except BatchRunError as exc:
        events.close()
        err.print(f"[red]{cli._esc(str(exc))}[/]")
        raise typer.Exit(cli.EXIT_INTERNAL) from None
    except KeyboardInterrupt:
        events.close()
        err.print(
            "[yellow]interrupted: the runs finished so far are kept in "
            f"{cli._esc(target)}/runs; run the same command again to solve the rest[/]"
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:  # noqa: BLE001 - an internal error must not look like a user's
        events.close()
        if debug:
            raise
        err.print(
            f"[red]internal error: {type(exc).__name__}: {cli._esc(str(exc))}[/]\n"
            "Finished runs are kept in the output folder. This is a bug in the engine; rerun "
            "with --debug and report the output."
        )
        raise typer.Exit(cli.EXIT_INTERNAL) from None
    events.close()

    for issue, runs in result.warnings:
        err.print(f"[yellow]{cli._esc(issue.format())} (in {cli._esc(_runs_text(runs))})[/]")
    if not quiet:
        records = [read_run(o.folder, o.name, o.variant, o.values) for o in result.outcomes]
        _summary(records, spec.keys, out, "Runs")
        s = result.seconds
        solved = sum(not o.skipped and o.status != "invalid" for o in result.outcomes)
        invalid = sum(o.status == "invalid" for o in result.outcomes)
        kept = len(result.outcomes) - solved - invalid
        again = [o for o in result.outcomes if o.resolved_because]
        out.print(
            f"{solved} runs solved, {kept} kept from before"
            + (f", {invalid} not valid" if invalid else "")
            + ", on "
            f"{result.workers} worker(s) in {s.get('total', 0):.1f} s (validation "
            f"{s.get('validate', 0):.1f} s, solving {s.get('solve', 0):.1f} s)"
        )
        if again:
            reasons: dict[str, int] = {}
            for o in again:
                reasons[o.resolved_because] = reasons.get(o.resolved_because, 0) + 1
            out.print(
                f"{len(again)} run(s) finished before were solved again: "
                + "; ".join(f"{n} {cli._esc(why)}" for why, n in reasons.items())
            )
        out.print(
            f"results written to [bold]{cli._esc(target)}[/]: runs.csv, runs_goods.csv, "
            "comparison.xlsx, comparison.png, comparison.html, runs/"
        )
        _print_identical(target / "runs.csv", err)
    failed = result.failed
    if failed and result.exit_code == cli.EXIT_INPUT:
        err.print(
            f"[bold red]no run of {cli._esc(batch_file)} is valid; nothing was solved[/] "
            f"({len(failed)} runs):"
        )
    elif failed:
        err.print(
            f"[bold yellow]{len(failed)} of {len(result.outcomes)} runs did not end optimal:[/]"
        )
    if failed:
        for o in failed[:50]:
            err.print(f"  [yellow]{cli._esc(o.name)}: {o.status}[/] - {cli._esc(o.reason)}")
            for line in o.explanation[1:4]:
                err.print(f"      {cli._esc(line)}")
        if len(failed) > 50:
            err.print(f"  ... and {len(failed) - 50} more (status and reason in runs.csv)")
    raise typer.Exit(result.exit_code)


def _runs_text(runs) -> str:
    from optimizer.studies.batch_file import describe_runs

    return describe_runs(runs)


def _print_problems(exc, title: str) -> None:
    err = cli.err
    n = len(exc.problems)
    err.print(f"[bold red]{cli._esc(title)}[/] ({n} problem{'s' if n > 1 else ''}):")
    for issue, runs in exc.problems:
        err.print(f"  [red]{cli._esc(issue.format())}[/]")
        if runs:
            err.print(f"      in {cli._esc(_runs_text(runs))}")


def _print_identical(runs_csv, console) -> None:
    """Name the runs whose resolved scenario is that of an earlier run (``identical_to``)."""
    import pandas as pd

    try:
        runs = pd.read_csv(runs_csv, usecols=["name", "identical_to"]).dropna()
    except (OSError, ValueError):
        return
    for name, twin in runs.itertuples(index=False):
        console.print(
            f"[yellow]run {cli._esc(name)} is identical to run {cli._esc(twin)} (the same "
            "resolved scenario): its variant changes nothing there[/]"
        )
