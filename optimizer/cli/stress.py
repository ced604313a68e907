"""The ``stockpile stress`` command (``risk-model.md``, "The stress test").

:func:`register` adds it to the ``stockpile`` application (``optimizer/cli.py`` calls it).

Exit codes (as ``stockpile run``'s):

====  =======================================================================
0     every future solved; stress.json, stress.csv and report.html written
1     a folder is not a results folder, or the scenario file has mistakes
2     the command line itself is wrong (e.g. --samples 0), or --out is a file or a folder
      stockpile did not write (refused before any future is solved)
5     HiGHS could not solve some futures (time limit, numerical trouble); nothing written
6     the results could not be written, or an internal error (please report it)
====  =======================================================================
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from optimizer.cli import common as cli
from optimizer.cli.common import ConfigOption, workers_option
from optimizer.studies.progress import rich_bar

WorkersOption = workers_option(
    "Worker processes of a local Dask cluster (default 1: in this process)."
)


class _Progress:
    """A bar per phase (futures, perfect foresight) on a terminal; a line per phase otherwise."""

    def __init__(self, console, quiet: bool) -> None:
        self.console, self.quiet = console, quiet
        self.progress = None
        self.tasks: dict[str, int] = {}
        self.t0 = time.perf_counter()

    def __call__(self, phase: str, done: int, total: int) -> None:
        if self.quiet:
            return
        if not self.console.is_terminal:
            if done == total:
                self.console.print(
                    f"{phase}: {total:,} solved in {time.perf_counter() - self.t0:.1f} s"
                )
            return
        if self.progress is None:
            self.progress = rich_bar(self.console)
            self.progress.start()
        if phase not in self.tasks:
            self.tasks[phase] = self.progress.add_task(phase, total=total)
        self.progress.update(self.tasks[phase], completed=done)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def stress(
    results: Annotated[
        list[Path],
        typer.Argument(
            help="Results folders of `stockpile run` (portfolio.json and resolved.yaml); "
            "several are compared on the same futures.",
            show_default=False,
        ),
    ],
    out_dir: Annotated[
        Path,
        typer.Option("--out", "-o", help="Output folder: stress.json, stress.csv, report.html."),
    ],
    scenario: Annotated[
        Optional[Path],
        typer.Option(
            help="Scenario file whose futures are evaluated (default: the first folder's "
            "resolved.yaml). A file with hand-written disruptions is evaluated on exactly "
            "those, weighted by their probabilities.",
        ),
    ] = None,
    samples: Annotated[
        Optional[int],
        typer.Option(min=1, help="Futures drawn from the file's risk_model (default: its own)."),
    ] = None,
    seed: Annotated[
        Optional[int],
        typer.Option(help="Seed of the fresh draws (default: the run's seed + 1)."),
    ] = None,
    workers: WorkersOption = None,
    scheduler: Annotated[
        Optional[str],
        typer.Option(help="Run on an existing Dask cluster: tcp://HOST:PORT."),
    ] = None,
    evpi: Annotated[
        bool,
        typer.Option(
            "--evpi", help="Value of perfect information: each future solved with foresight."
        ),
    ] = False,
    evpi_samples: Annotated[
        int,
        typer.Option(
            min=1,
            help="At most this many futures are solved with foresight for --evpi; with more "
            "futures, EVPI is estimated on that many drawn by probability, with its interval.",
        ),
    ] = 200,
    vss: Annotated[
        bool,
        typer.Option("--vss", help="Value of the stochastic solution against the average future."),
    ] = False,
    replications: Annotated[
        int,
        typer.Option(
            min=0,
            help="Independent sample sets of the run's size (Mak, Morton & Wood): the "
            "optimality gap and how much the decisions move. Needs a risk_model.",
        ),
    ] = 0,
    chunk: Annotated[int, typer.Option(min=1, help="Futures solved together in one LP.")] = 200,
    config: ConfigOption = None,
    time_limit: Annotated[
        Optional[float],
        typer.Option(help="Solver time limit per LP, seconds.", callback=cli.check_seconds),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only problems.")] = False,
    debug: Annotated[bool, typer.Option(help="Show Python tracebacks of internal errors.")] = False,
) -> None:
    """Test portfolios on futures they were not optimised on.

    Keeps each results folder's decisions (what to buy, reserve and build) fixed and works out
    the best response in every future of the scenario file: expected cost and loss with
    confidence intervals, value at risk, the chance of any shortfall, the run's own figures
    beside them; several portfolios are compared future by future.

    Example:

        stockpile stress results/crm results/crm_250M --out results/crm_stress --evpi --vss
    """
    from optimizer.pipeline import RunConfig
    from optimizer.results.write import OutputRefused, check_output_target
    from optimizer.scenario.errors import ScenarioError
    from optimizer.studies.stress import StressError, StressSolveError, run_stress

    out, err = cli.out, cli.err
    cli.check_cluster_options(workers, scheduler)
    cfg = cli.read_config(config)
    try:
        check_output_target(out_dir)  # before any work: never replace a folder of the user's
    except OutputRefused as exc:
        cli.refuse_output(exc)
    rc = RunConfig.from_config(cfg, time_limit=time_limit)
    progress = _Progress(err, quiet)
    try:
        outcome = run_stress(
            results,
            out_dir,
            scenario_file=scenario,
            samples=samples,
            seed=seed,
            config=rc,
            workers=workers or 1,
            scheduler=scheduler,
            evpi=evpi,
            vss=vss,
            evpi_samples=evpi_samples,
            replications=replications,
            chunk=chunk,
            progress=progress,
        )
    except StressError as exc:
        progress.close()
        err.print(f"[red]{cli._esc(str(exc))}[/]")
        raise typer.Exit(cli.EXIT_INPUT) from None
    except ScenarioError as exc:
        progress.close()
        cli._print_issues(exc.issues, f"{scenario or results[0]}: the scenario has mistakes")
        raise typer.Exit(cli.EXIT_INPUT) from None
    except OutputRefused as exc:  # the folder changed while the futures were solved
        progress.close()
        cli.refuse_output(exc)
    except StressSolveError as exc:
        progress.close()
        err.print(f"[red]the futures could not all be solved: {cli._esc(str(exc))}[/]")
        raise typer.Exit(cli.EXIT_SOLVER) from None
    except OSError as exc:
        progress.close()
        err.print(f"[red]could not write {cli._esc(out_dir)}: {cli._esc(str(exc))}[/]")
        raise typer.Exit(cli.EXIT_INTERNAL) from None
    except Exception as exc:  # noqa: BLE001 - an internal error must not look like a user's
        progress.close()
        cli.internal_error(exc, debug)
    progress.close()
    doc = outcome.document
    if samples is not None and doc["futures"]["exact"] and not quiet:
        err.print(
            "[yellow]--samples does not apply: the scenario has hand-written disruptions, "
            "evaluated exactly[/]"
        )
    for label, st in doc["portfolios"].items():
        lim = st["limit_not_met"]
        if lim["futures"]:
            err.print(
                f"[yellow]{cli._esc(label)}: in {lim['futures']:,} futures (probability "
                f"{lim['probability']:.2%}) a good's shortfall exceeds its max_shortfall limit "
                "with these decisions; their figures count the shortfall beyond it[/]"
            )
    if not quiet:
        _summary(doc, out)
        out.print(
            f"results written to [bold]{cli._esc(out_dir)}[/]: stress.json, stress.csv, report.html"
        )
    raise typer.Exit(cli.EXIT_OK)


def _summary(doc: dict, console) -> None:
    from rich.table import Table

    fut = doc["futures"]
    exact = fut["exact"]
    t = Table(title=f"{fut['count']:,} futures ({fut['source']})", title_justify="left")
    for col in ("portfolio", "expected cost", "in the run", "expected loss", "in the run",
                "VaR 95 %", "CVaR 95 %", "P(shortfall)"):  # fmt: skip
        t.add_column(col, justify="left" if col == "portfolio" else "right")

    def ci(e: dict) -> str:
        if exact:
            return cli._money(e["mean"])
        return f"{cli._money(e['mean'])} ± {cli._money((e['ci95'][1] - e['ci95'][0]) / 2)}"

    for label, st in doc["portfolios"].items():
        ins = st.get("in_sample") or {}
        t.add_row(
            cli._esc(label),
            ci(st["expected_cost"]),
            cli._money(ins.get("expected_cost")),
            ci(st["expected_loss"]),
            cli._money(ins.get("expected_loss")),
            cli._money(st["loss_var"]["95%"]),
            cli._money(st["loss_cvar"]["95%"]),
            f"{st['chance_of_shortfall']['mean']:.1%}",
        )
    console.print(t)
    for label, v in (doc.get("value_of_information") or {}).items():
        if "evpi" in v:
            console.print(
                f"{cli._esc(label)}: perfect warning of which future comes would be worth "
                f"{ci(v['evpi'])}"
            )
        if "vss" in v:
            console.print(
                f"{cli._esc(label)}: planning on the average future would cost {ci(v['vss'])} "
                "more (VSS)"
            )
    rep = doc.get("replications")
    if rep:
        console.print(
            f"optimality gap {cli._money(rep['gap']['mean'])} (95 % upper "
            f"{cli._money(rep['gap']['ci95'][1])}): sample size "
            + ("enough" if rep["enough"] else f"not enough, try {rep['suggested_samples']:,}")
        )
