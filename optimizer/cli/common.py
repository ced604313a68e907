"""What the ``stockpile`` commands share: exit codes, the terminal consoles, the options used
by several commands (one definition each, with its help text and the values typer checks: a
wrong ``--interface`` exits 2 with the choices), and the printing of problems and run tables.

Exit codes (stable, for scripts):

====  =======================================================================
0     solved to optimality; results written
1     the scenario or config has mistakes (each reported with file, line, key), a file
      named does not exist, or the model cannot fit this machine's memory
2     the command line itself is wrong (unknown option, missing argument, a value out of
      range), or --out is a file or a folder stockpile did not write
3     no feasible portfolio: the scenario's requirements conflict (confirmed by the elastic
      diagnosis)
4     stopped by the time limit; the best portfolio found was written, flagged (or none was
      found yet: nothing written)
5     the solver failed, the problem is unbounded, or an infeasible verdict the diagnosis could
      not confirm (numerically doubtful); nothing written
6     results could not be written, or an internal error (please report it)
130   interrupted (``batch``): finished runs are kept; the same command resumes
====  =======================================================================
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal, NoReturn, Optional

import typer
from rich.console import Console
from rich.markup import escape as _escape_markup

from optimizer.format import money as _money

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_INFEASIBLE, EXIT_TIME_LIMIT, EXIT_SOLVER, EXIT_INTERNAL = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
)
EXIT_INTERRUPTED = 130
#: Rows of the summary table printed in the terminal (runs.csv has them all).
SUMMARY_ROWS = 30

InterfaceOption = Annotated[
    Optional[Literal["auto", "pyomo", "direct"]],
    typer.Option(
        help="auto (default: Pyomo up to 50,000 columns), pyomo, or direct (highspy arrays).",
    ),
]
MethodOption = Annotated[
    Optional[Literal["auto", "extensive", "decomposed"]],
    typer.Option(
        help="auto (default: decomposed by future from 500,000 columns, 100,000 with integer "
        "columns, when the model allows it), extensive (one LP/MIP) or decomposed (L-shaped, "
        "certified by two bounds).",
    ),
]
ConfigOption = Annotated[
    Optional[Path],
    typer.Option(
        help="How to run: solver, limits, outputs (YAML). Default: config.yaml in the current "
        "folder when there is one, else the defaults.",
        show_default=False,
    ),
]


def check_seconds(value: Optional[float]) -> Optional[float]:
    """``--time-limit``: a finite number of seconds above 0 (else exit 2 with this message)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise typer.BadParameter(f"{value:g} is not a time limit: give seconds above 0, e.g. 60.")
    return value


def check_threads(value: Optional[int]) -> Optional[int]:
    """``--threads``: 0 (HiGHS chooses) or more (else exit 2 with this message)."""
    if value is not None and value < 0:
        raise typer.BadParameter(
            f"{value} is not a number of threads: give 0 (HiGHS chooses) or more."
        )
    return value


def check_gap(value: Optional[float]) -> Optional[float]:
    """``--mip-gap``: a finite relative gap in [0, 1) (else exit 2 with this message)."""
    if value is not None and not (math.isfinite(value) and 0 <= value < 1):
        raise typer.BadParameter(
            f"{value:g} is not a relative gap: give a number from 0 up to (not including) 1, "
            "e.g. 0.001 for 0.1%."
        )
    return value


YesOption = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Solve a model estimated above a quarter of this machine's memory (one that "
        "cannot fit is refused anyway).",
    ),
]


def workers_option(help: str) -> Any:
    """The ``--workers`` / ``-w`` option (at least 1) of a command that solves on local worker
    processes, with the command's own ``help``: run, batch and stress declare it alike."""
    return Annotated[
        Optional[int],
        typer.Option("--workers", "-w", min=1, help=help, show_default=False),
    ]


MipGapOption = Annotated[
    Optional[float],
    typer.Option(help="Relative MIP gap, from 0 up to 1, e.g. 0.001.", callback=check_gap),
]

# emoji=False: user text is printed as it is (a line number 100 after a colon is not an emoji
# code, nor is a value `:x:`); markup in user text is escaped with `_esc` wherever it is printed.
out = Console(emoji=False)
err = Console(stderr=True, emoji=False)


#: The files a run can write, by format name (``output.formats`` in config.yaml).
FORMATS = {
    "json": "portfolio.json",
    "csv": "portfolio.csv, scenarios.csv, supply_shares.csv, reserves.csv",
    "yaml": "resolved.yaml",
    "html": "report.html",
    "xlsx": "portfolio.xlsx",
}
FormatsOption = Annotated[
    Optional[str],
    typer.Option(
        help="Files to write, comma separated: "
        + ", ".join(f"{k} ({v})" for k, v in FORMATS.items())
        + ". Default: output.formats in config.yaml (all five). report.html takes most of a "
        "small run's time: --formats json,csv,yaml leaves it out.",
    ),
]


def parse_formats(text: str | None, default) -> tuple[str, ...]:
    """The formats of ``--formats`` (``default``, from config.yaml, when not given). An empty
    list or an unknown name is a command-line mistake: said, exit 2."""
    if text is None:
        return tuple(default)
    chosen = tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    wrong = [f for f in chosen if f not in FORMATS]
    if wrong or not chosen:
        what = f"unknown {', '.join(repr(w) for w in wrong)}" if wrong else "no format given"
        err.print(
            f"[red]--formats takes a comma-separated list of {', '.join(FORMATS)} ({what}); "
            f"for example --formats json,csv[/]"
        )
        raise typer.Exit(EXIT_USAGE)
    return chosen


if not out.is_terminal:  # files and pipes: wide enough that tables do not wrap
    out = Console(width=150, emoji=False)
if not err.is_terminal:
    err = Console(stderr=True, width=150, emoji=False)


def _print_issues(issues, title: str) -> None:
    errors = [i for i in issues if i.severity == "error"]
    warnings = [i for i in issues if i.severity != "error"]
    for issue in warnings:
        err.print(f"[yellow]{_esc(issue.format())}[/]")
    if errors:
        err.print(
            f"[bold red]{_esc(title)}[/] ({len(errors)} problem{'s' if len(errors) > 1 else ''}):"
        )
        for issue in errors:
            err.print(f"  [red]{_esc(issue.format())}[/]")


def internal_error(exc: Exception, debug: bool) -> None:
    """Report a bug of the engine (not the user's) and exit 6; with ``--debug``, re-raise."""
    if debug:
        raise exc
    err.print(
        f"[red]internal error: {type(exc).__name__}: {_esc(str(exc))}[/]\n"
        "This is a bug in the engine, not in your scenario; rerun with --debug and "
        "report the output."
    )
    raise typer.Exit(EXIT_INTERNAL) from None


def read_config(config: Optional[Path]):
    """The run configuration of ``--config`` (a file named there must exist), else of
    ``config.yaml`` in the current folder when there is one, else the defaults. Mistakes are
    printed with file, line and key, and exit 1."""
    from optimizer.config import ConfigError, load_config

    try:
        if config is None:
            return load_config(Path("config.yaml"))
        return load_config(config, must_exist=True)
    except ConfigError as exc:
        _print_issues(exc.issues, f"{config or 'config.yaml'}: the config has mistakes")
        raise typer.Exit(EXIT_INPUT) from None


def refuse_large(exc: Exception) -> NoReturn:
    """Report a model too large for this machine (``ModelTooLarge``) and exit 1."""
    err.print(f"[red]{_esc(str(exc))}[/]")
    raise typer.Exit(EXIT_INPUT) from None


def note(text: str) -> None:
    """A warning line on standard error (user text printed literally)."""
    err.print(f"[yellow]{_esc(text)}[/]")


def refuse_output(exc: Exception) -> NoReturn:
    """Report an output folder the tool may not write to (``OutputRefused``) and exit 2."""
    err.print(f"[red]{_esc(str(exc))}[/]")
    raise typer.Exit(EXIT_USAGE) from None


def write_or_exit(write: Callable[[], object], target: Path) -> None:
    """Call ``write`` (a results folder written whole into ``target``): a folder that became
    one the tool may not replace while solving exits 2, a failing disk exits 6; either way the
    earlier results there are untouched."""
    from optimizer.results.write import OutputRefused

    try:
        write()
    except OutputRefused as exc:  # the folder changed while solving
        refuse_output(exc)
    except OSError as exc:
        err.print(
            f"[red]could not write {_esc(target)}: {_esc(str(exc))}; earlier results there are "
            "untouched[/]"
        )
        raise typer.Exit(EXIT_INTERNAL) from None


_TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def check_cluster_options(workers: int | None, scheduler: str | None) -> None:
    """``--workers`` and ``--scheduler`` of a command that can use Dask: not both, and a
    scheduler given as an address (``tcp://HOST:PORT``); otherwise exit 2 with the reason."""
    if scheduler is not None and workers is not None:
        err.print("[red]give either --workers (a local cluster) or --scheduler, not both[/]")
        raise typer.Exit(EXIT_USAGE)
    if scheduler is not None and "://" not in scheduler:
        err.print(
            "[red]--scheduler must be an address such as tcp://HOST:8786, got "
            f"{_esc(repr(scheduler))}[/]"
        )
        raise typer.Exit(EXIT_USAGE)


def _esc(text: object) -> str:
    """User text (names, paths, messages) to print literally inside rich markup: markup
    escaped, control characters other than tab and line feed shown as ``\\xNN`` (an escape
    sequence in a name must not drive the terminal)."""
    shown = _TERMINAL_CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))
    return _escape_markup(shown)


def _money_or_dash(v) -> str:
    return "-" if v is None else _money(v)


def _summary(records, keys, console, title: str) -> None:
    """The runs as a terminal table (the first SUMMARY_ROWS; runs.csv has them all)."""
    from rich.table import Table

    from optimizer.studies.compare import runs_table

    df = runs_table(records, keys)
    if df.empty:
        return
    t = Table(title=_esc(title), title_justify="left")
    for col in ("run", "status", "objective", "cash spent", "expected loss", "CVaR"):
        t.add_column(col, justify="left" if col in ("run", "status") else "right")
    for _, row in df.head(SUMMARY_ROWS).iterrows():
        status = row["status"]
        colour = "green" if status == "optimal" else "yellow"
        t.add_row(
            _esc(str(row["name"])),
            f"[{colour}]{status}[/]",
            _money_or_dash(_num(row.get("objective_eur"))),
            _money_or_dash(_num(row.get("first_stage_cash_eur"))),
            _money_or_dash(_num(row.get("expected_loss_eur"))),
            _money_or_dash(_num(row.get("cvar_eur"))),
        )
    console.print(t)
    if len(df) > SUMMARY_ROWS:
        console.print(f"... and {len(df) - SUMMARY_ROWS} more runs (all in runs.csv)")


def _num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if f != f else f
