"""``stockpile sweep``: solve a scenario over a range of a budget or a parameter and write the
frontier (``frontier.csv``, ``frontier.png``, ``sweep.html``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from optimizer.cli.common import (
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_SOLVER,
    EXIT_TIME_LIMIT,
    EXIT_USAGE,
    ConfigOption,
    InterfaceOption,
    MipGapOption,
    YesOption,
    _esc,
    _money,
    _print_issues,
    check_seconds,
    err,
    internal_error,
    note,
    out,
    read_config,
    refuse_large,
    refuse_output,
    write_or_exit,
)


def sweep(
    scenario: Annotated[Path, typer.Argument(help="The scenario file (YAML).", show_default=False)],
    budget: Annotated[
        Optional[str],
        typer.Option(
            help="Budget levels FROM:TO:STEPS, both ends included: 0:400M:21 is 0, 20M, ..., "
            "400M. The total budget unless --line is given.",
        ),
    ] = None,
    line: Annotated[
        Optional[str], typer.Option(help="Sweep this budget line's limit instead of the total.")
    ] = None,
    param: Annotated[
        Optional[str],
        typer.Option(
            help="Sweep any numeric scenario value instead: key.path=FROM:TO:STEPS, e.g. "
            "disruptions.escalation.probability=0%:30%:7 (each value's model is rebuilt as arrays "
            "and, where its shape is unchanged, re-solved warm in place).",
        ),
    ] = None,
    out_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--out",
            "-o",
            help="Results folder (frontier.csv, frontier_goods.csv, frontier.png, report.html, "
            "sweep.json); "
            "replaced only when the sweep succeeds. Default: a folder named after the scenario "
            "file with -sweep under output.folder of config.yaml (results/crm-sweep).",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes to spread the levels over (one HiGHS thread each). For MIPs, where "
            "warm starts help little; an LP budget sweep is fastest with 1.",
        ),
    ] = 1,
    set_: Annotated[
        Optional[list[str]],
        typer.Option("--set", help="Override a scenario value first: --set risk.cvar.weight=0.5"),
    ] = None,
    config: ConfigOption = None,
    interface: InterfaceOption = None,
    time_limit: Annotated[
        Optional[float],
        typer.Option(help="Solver time limit per level, seconds.", callback=check_seconds),
    ] = None,
    mip_gap: MipGapOption = None,
    cold_check_every: Annotated[
        int,
        typer.Option(
            min=0,
            help="Also solve every N-th level from scratch and compare with its warm re-solve "
            "(0: never). Every warm LP level is already checked against its optimality "
            "conditions, at almost no cost.",
        ),
    ] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no summary.")] = False,
    yes: YesOption = False,
    debug: Annotated[bool, typer.Option(help="Show Python tracebacks of internal errors.")] = False,
) -> None:
    """Solve a scenario at many budget levels (or values of a parameter); write the frontier.

    A budget sweep builds the model once and re-solves it warm at each level; a --param
    sweep hands each value's changed numbers to the same HiGHS and re-solves warm. Writes
    frontier.csv (one row per level: status, objective, cash used, expected loss, CVaR,
    marginal value), frontier_goods.csv (per level and good), frontier.png, report.html (the
    chart and the table on one page) and sweep.json (timings, checks, the levels where a lever
    switches on), all at once.

    Examples:

        S=scenarios/critical_raw_materials.yaml

        stockpile sweep $S --budget 0:400M:21 --out results/f

        stockpile sweep $S --param disruptions.escalation.probability=0%:30%:7 --out results/p
    """
    from optimizer.model.size import ModelTooLarge
    from optimizer.pipeline import RunConfig
    from optimizer.results.write import OutputRefused, check_output_target
    from optimizer.scenario.errors import ScenarioError
    from optimizer.studies.levels import parse_param, parse_range
    from optimizer.studies.progress import ProgressBar
    from optimizer.studies.sweep import sweep_budget
    from optimizer.studies.sweep_param import sweep_param

    if (budget is None) == (param is None):
        err.print("[red]give either --budget FROM:TO:STEPS or --param key.path=FROM:TO:STEPS[/]")
        raise typer.Exit(EXIT_USAGE)
    if line is not None and budget is None:
        err.print("[red]--line goes with --budget (it names the budget line to sweep)[/]")
        raise typer.Exit(EXIT_USAGE)
    try:
        if budget is not None:
            key, levels = None, parse_range(budget)
        else:
            key, levels = parse_param(param)
    except ValueError as exc:
        err.print(f"[red]{'--budget' if budget is not None else '--param'}: {_esc(str(exc))}[/]")
        raise typer.Exit(EXIT_USAGE) from None
    cfg = read_config(config)
    rc = RunConfig.from_config(cfg, time_limit=time_limit, mip_gap=mip_gap, interface=interface)
    target = out_dir or Path(cfg.output.folder) / f"{scenario.stem}-sweep"
    try:
        check_output_target(target)  # before solving: never replace a folder of the user's
    except OutputRefused as exc:
        refuse_output(exc)
    what = key or (f"budget line {line}" if line else "total budget")
    overrides = tuple(set_ or ())
    try:
        _check_size(scenario, overrides, yes)
        with ProgressBar(err, f"sweeping {what}") as bar:
            progress = bar if err.is_terminal else None
            if key is None:
                result = sweep_budget(
                    scenario,
                    levels,
                    line=line,
                    config=rc,
                    progress=progress,
                    workers=workers,
                    cold_check_every=cold_check_every,
                    overrides=overrides,
                )
            else:
                result = sweep_param(
                    scenario,
                    key,
                    levels,
                    config=rc,
                    workers=workers,
                    progress=progress,
                    overrides=overrides,
                )
    except ModelTooLarge as exc:
        refuse_large(exc)
    except ScenarioError as exc:
        _print_issues(exc.issues, f"{scenario}: the scenario has mistakes")
        raise typer.Exit(EXIT_INPUT) from None
    except ValueError as exc:  # a budget line the scenario lacks, a --param key not a number
        err.print(f"[red]{_esc(str(exc))}[/]")
        raise typer.Exit(EXIT_INPUT) from None
    except Exception as exc:  # noqa: BLE001 - an internal error must not look like a user's
        internal_error(exc, debug)

    for warning in result.warnings:
        err.print(f"[yellow]{_esc(warning)}[/]")
    statuses = set(result.frontier["status"])
    if not statuses & {"optimal", "time_limit"}:
        err.print(
            f"[red]no level has a feasible portfolio ({', '.join(sorted(statuses))}); "
            f"nothing was written to {_esc(target)}[/]"
        )
        raise typer.Exit(EXIT_INFEASIBLE if statuses == {"infeasible"} else EXIT_SOLVER)
    write_or_exit(lambda: result.write(target), target)

    if not quiet:
        print_frontier(result)
        out.print(f"results written to [bold]{_esc(target)}[/]")
        if _suggest_workers(result):
            err.print(
                f"[dim]tip: this model has integer decisions, so a level gains little from "
                f"the one before; --workers {os.cpu_count()} spreads the levels over "
                f"processes (20 MIP levels: 1.6x faster with 2 workers on 2 cores, "
                f"benchmarks/README.md)[/]"
            )
    if "time_limit" in statuses:
        err.print(
            "[yellow]some levels stopped at the time limit: their portfolios are the best "
            "found (status time_limit in frontier.csv)[/]"
        )
        raise typer.Exit(EXIT_TIME_LIMIT)


def _check_size(scenario: Path, overrides: tuple[str, ...], yes: bool) -> None:
    """Refuse (``ModelTooLarge``) a scenario whose model cannot fit, before any level is
    built; warn when a large one is solved anyway (``--yes``)."""
    from optimizer.model.size import check_size, estimate_size, size_warning
    from optimizer.pipeline import load

    estimate = estimate_size(load(scenario, overrides).scenario)
    check_size(estimate, yes=yes)
    text = size_warning(estimate)
    if text:
        note(text)


def _suggest_workers(result) -> bool:
    """Whether to point a MIP sweep run in one process, long enough to matter, at --workers."""
    cores = os.cpu_count() or 1
    long = result.timings.get("total_seconds", 0.0) > 10.0
    return result.is_mip and result.workers == 1 and cores > 1 and len(result.frontier) > 2 and long


def print_frontier(result, console: Console = out) -> None:
    """The terminal summary of a sweep: one row per level, the switches, the timings."""
    budget = result.kind == "budget"

    def money(v: float) -> str:
        return _money(None if v != v else v)  # NaN (no solution) prints as "-"

    line = result.key.split(".")[2] if result.key.startswith("budget.lines.") else None
    t = Table(title=_esc(f"{result.scenario}: {result.label}"), title_justify="left")
    cols = ["level", "status", "objective", f"cash used (line {line})" if line else "cash used"]
    cols += ["portfolio cash"] if line else []
    cols += ["exp. loss", "CVaR", "marg. value"]
    cols += ["avg. value since level before", "budgets binding"] if budget else []
    for col in cols:
        t.add_column(col, justify="left" if col in ("status", "budgets binding") else "right")

    def value(v: float) -> str:
        return "-" if v != v else f"{v:.4g}"

    for _, r in result.frontier.iterrows():
        row = [
            money(r["level"]) if budget else f"{r['level']:.6g}",
            r["status"],
            money(r["objective"]),
            money(r["cash_used"]),
        ]
        row += [money(r["portfolio_cash"])] if line else []
        row += [money(r["expected_loss"]), money(r["cvar"]), value(r["marginal_value"])]
        if budget:
            row += [value(r["average_value"]), _esc(str(r["binding"] or "none"))]
        t.add_row(*row)
    console.print(t)
    changes = [(lv, text) for lv, text in result.switches]
    changes += [(lv, text) for lv, text in result.switches_off]
    for level, text in sorted(changes, key=lambda c: c[0]):
        console.print(f"  at {money(level) if budget else f'{level:.6g}'}: {_esc(text)}")
    if result.is_mip and budget:
        console.print(
            "  integer decisions: the marginal value is the LP's dual with them fixed at each "
            "level's optimum (it jumps); the average value since the level before counts the "
            "decisions that change"
        )
    tm = result.timings
    timing = f"{tm['levels']} levels in {tm['total_seconds']:.1f} s"
    if budget and tm.get("warm_levels"):
        timing += (
            f" = {tm['ratio']:.2f}x the first (cold) level; warm re-solves "
            f"{tm['warm_solve_seconds_mean']:.2f} s each against {tm['cold_solve_seconds']:.2f} s"
            " cold"
        )
    console.print(timing)
