"""The ``stockpile`` command.

Exit codes (stable, for scripts):

====  =======================================================================
0     solved to optimality; results written
1     the scenario or config has mistakes (each reported with file, line, key)
2     the command line itself is wrong (unknown option, missing argument)
3     no feasible portfolio: the scenario's requirements conflict
4     stopped by the time limit; the best portfolio found was written, flagged
5     the solver failed or the problem is unbounded; nothing written
6     results could not be written, or an internal error (please report it)
====  =======================================================================
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from optimizer import __version__
from optimizer.cli_options import ConfigOption, InterfaceOption, MipGapOption
from optimizer.format import money as _money
from optimizer.format import quantity as _qty

EXIT_OK, EXIT_INPUT, EXIT_USAGE, EXIT_INFEASIBLE, EXIT_TIME_LIMIT, EXIT_SOLVER, EXIT_INTERNAL = (
    0,
    1,
    2,
    3,
    4,
    5,
    6,
)

app = typer.Typer(
    name="stockpile",
    help=(
        "Stockpile and mitigation optimisation for strategic dependencies.\n\n"
        "Reads a scenario file (YAML: goods, suppliers, disruptions, budgets), decides how much "
        "to spend on strategic stockpiles, reserved supplier capacity, domestic capacity and "
        "demand measures, and writes the recommended portfolio.\n\n"
        "Start with:  stockpile run scenarios/critical_raw_materials.yaml --out results/crm"
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)
if not out.is_terminal:  # files and pipes: wide enough that tables do not wrap
    out = Console(width=150)
if not err.is_terminal:
    err = Console(stderr=True, width=150)


def _version(value: bool) -> None:
    if value:
        out.print(f"stockpile {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Stockpile and mitigation optimisation."""


def _print_issues(issues, title: str) -> None:
    errors = [i for i in issues if i.severity == "error"]
    warnings = [i for i in issues if i.severity != "error"]
    for issue in warnings:
        err.print(f"[yellow]{_esc(issue.format())}[/]")
    if errors:
        err.print(f"[bold red]{title}[/] ({len(errors)} problem{'s' if len(errors) > 1 else ''}):")
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


def _esc(text: str) -> str:
    return text.replace("[", "\\[")


def print_summary(pf: dict, console: Console = out) -> None:
    """The terminal summary of a portfolio: per good, the budget and the risk."""
    status = pf["status"]
    colour = "green" if status == "optimal" else "yellow"
    console.print(
        f"\n[bold]{_esc(pf['scenario'])}[/]  status: [{colour}]{status}[/]"
        + (f"  gap {pf['mip_gap']:.2%}" if pf.get("mip_gap") else "")
    )
    if not pf.get("goods"):
        return
    t = Table(title="Recommended portfolio", title_justify="left")
    for col in (
        "good",
        "stock bought",
        "days of cover",
        "reserved / year",
        "domestic / year",
        "exp. shortfall",
        "worst shortfall",
        "HHI before->after",
        "cash",
    ):
        t.add_column(col, justify="left" if col == "good" else "right")
    for g, v in pf["goods"].items():
        unit = v["unit"]
        reserve = ", ".join(f"{k} {_qty(q)}" for k, q in v["reserve"].items() if q > 0) or "-"
        days = v["stockpile"]["days_of_cover"]
        t.add_row(
            g,
            f"{_qty(v['stockpile']['buy'])} {unit}",
            "-" if days is None else f"{days:,.0f}",
            reserve,
            _qty(v["domestic"]["capacity"]) if v["domestic"]["built"] else "-",
            f"{_qty(v['expected_shortfall'])} {unit}",
            f"{_qty(v['worst_shortfall'])} {unit}",
            f"{v['hhi']['before']:.2f} -> {v['hhi']['after']:.2f}",
            _money(v["cash"]),
        )
    console.print(t)
    b = Table(title="Budget", title_justify="left")
    for col in ("budget", "limit", "used", "marginal value (EUR per EUR)"):
        b.add_column(col, justify="left" if col == "budget" else "right")
    budget = pf["budget"]
    rows = [("total", budget["total"])] + list(budget["lines"].items())
    for name, e in rows:
        b.add_row(
            name,
            _money(e["limit"]) if e["limit"] is not None else "no limit",
            _money(e["used"]),
            f"{e['marginal_value']:.4g}",
        )
    console.print(b)
    c = pf["cost"]
    console.print(
        f"objective {_money(pf['objective'])} = first stage {_money(c['first_stage_economic'])}"
        f" (cash {_money(c['first_stage_cash'])}) + expected operation "
        f"{_money(c['expected_second_stage'])}"
        + (f" + {c['cvar_weight']:g} x CVaR" if c.get("cvar_weight") else "")
    )
    console.print(
        f"expected loss {_money(c['expected_loss'])}, CVaR{c['cvar_alpha']:.0%} {_money(c['cvar'])}"
    )


def _print_profile(pf: dict, seconds: dict[str, float]) -> None:
    t = Table(title="Where the time went", title_justify="left")
    t.add_column("stage")
    t.add_column("seconds", justify="right")
    t.add_column("share", justify="right")
    total = sum(seconds.values()) or 1.0
    for k, v in seconds.items():
        t.add_row(k, f"{v:.3f}", f"{v / total:.0%}")
    t.add_row("[bold]total[/]", f"{total:.3f}", "100%")
    err.print(t)
    model = pf["solver"]["model"]
    err.print(
        f"model: {model['variables']:,} variables, {model['constraints']:,} constraints, "
        f"{model['nonzeros']:,} nonzeros, {model['integer_variables']} integer; "
        f"{model['scenarios']} scenarios x {model['periods']} periods in {model['blocks']:,} "
        f"blocks; {pf['solver']['iterations']:,} solver iterations"
    )


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="The scenario file (YAML).", show_default=False)],
    out_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--out",
            "-o",
            help="Results folder; replaced only when the run succeeds. "
            "Default: <output.folder in config.yaml>/<scenario file name>.",
        ),
    ] = None,
    set_: Annotated[
        Optional[list[str]],
        typer.Option(
            "--set",
            help="Override a scenario value: --set budget.total=250M (repeatable; the "
            "value is read as YAML).",
        ),
    ] = None,
    config: ConfigOption = Path("config.yaml"),
    time_limit: Annotated[Optional[float], typer.Option(help="Solver time limit, seconds.")] = None,
    mip_gap: MipGapOption = None,
    threads: Annotated[
        Optional[int], typer.Option(help="HiGHS threads (0: HiGHS chooses).")
    ] = None,
    interface: InterfaceOption = None,
    compress: Annotated[
        Optional[bool],
        typer.Option(
            "--compress/--no-compress", help="Merge identical periods into blocks (exact)."
        ),
    ] = None,
    profile: Annotated[
        bool,
        typer.Option(
            "--profile", help="Print where the time went: load, build, hand-over, solve, results."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print no summary.")] = False,
    json_out: Annotated[
        bool,
        typer.Option(
            "--json", help="Print portfolio.json to standard output instead of the summary."
        ),
    ] = False,
    debug: Annotated[bool, typer.Option(help="Show Python tracebacks of internal errors.")] = False,
) -> None:
    """Solve one scenario and write its results folder.

    Writes portfolio.json, portfolio.csv, scenarios.csv and resolved.yaml into --out, all at
    once: a run that fails leaves an earlier folder untouched.

    Example:

        stockpile run scenarios/critical_raw_materials.yaml --out results/crm \
            --set budget.total=250M
    """
    from optimizer.api import RunConfig
    from optimizer.api import run as run_scenario
    from optimizer.config import ConfigError, load_config
    from optimizer.scenario.errors import ScenarioError

    try:
        cfg = load_config(config)
    except ConfigError as exc:
        err.print(f"[red]{_esc(str(exc))}[/]")
        raise typer.Exit(EXIT_INPUT) from None
    rc = RunConfig.from_config(
        cfg,
        time_limit=time_limit,
        mip_gap=mip_gap,
        threads=threads,
        interface=interface,
        compress_time=compress,
    )
    target = out_dir or Path(cfg.output.folder) / scenario.stem
    try:
        with err.status(f"solving {scenario}", spinner="dots") if err.is_terminal else _null():
            result = run_scenario(scenario, rc, overrides=tuple(set_ or ()))
    except ScenarioError as exc:
        _print_issues(exc.issues, f"{scenario}: the scenario has mistakes")
        raise typer.Exit(EXIT_INPUT) from None
    except Exception as exc:  # noqa: BLE001 - an internal error must not look like a user's
        internal_error(exc, debug)

    for issue in result.loaded.warnings:
        err.print(f"[yellow]{_esc(issue.format())}[/]")
    pf = result.portfolio
    status = result.status
    if status == "infeasible":
        _explain_infeasible(result)
        raise typer.Exit(EXIT_INFEASIBLE)
    if status in ("unbounded", "error") or not result.solve.has_solution:
        err.print(
            f"[red]the solver stopped without a portfolio: {result.solve.termination}; "
            f"nothing was written to {target}[/]"
        )
        raise typer.Exit(EXIT_SOLVER)

    t = time.perf_counter()
    try:
        result.write(target, tuple(cfg.output.formats))
    except OSError as exc:
        err.print(
            f"[red]could not write {target}: {_esc(str(exc))}; earlier results there are "
            "untouched[/]"
        )
        raise typer.Exit(EXIT_INTERNAL) from None
    result.seconds["write"] = time.perf_counter() - t

    if json_out:
        from optimizer.results import dumps_json

        sys.stdout.write(dumps_json(pf))
    elif not quiet:
        print_summary(pf)
        out.print(f"results written to [bold]{target}[/]")
    if profile:
        _print_profile(pf, result.seconds)
    if status == "time_limit":
        err.print(
            f"[yellow]stopped by the time limit: the portfolio written is the best found, "
            f"within {pf['mip_gap'] or 0:.2%} of optimal[/]"
        )
        raise typer.Exit(EXIT_TIME_LIMIT)


def _explain_infeasible(result) -> None:
    """Tell the user which requirements conflict (see optimizer/diagnose.py)."""
    err.print("[bold red]no feasible portfolio:[/] the scenario's requirements cannot all hold.")
    try:
        from optimizer.diagnose import explain_infeasibility

        lines = explain_infeasibility(result)
    except Exception:  # noqa: BLE001 - the diagnosis is a help, never a crash
        lines = []
    for line in lines:
        err.print(f"  - {_esc(line)}")
    if not lines:
        err.print("  Check budgets against coverage days, caps and service levels.")


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


@app.command()
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
            "disruptions.ban.probability=0%:20%:11 (each value's model is rebuilt as arrays "
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
            "replaced only when the sweep succeeds. Default: <output.folder>/<scenario>-sweep.",
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
    config: ConfigOption = Path("config.yaml"),
    interface: InterfaceOption = None,
    time_limit: Annotated[
        Optional[float], typer.Option(help="Solver time limit per level, seconds.")
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

        stockpile sweep scenarios/critical_raw_materials.yaml --budget 0:400M:21 --out results/f

        stockpile sweep S.yaml --param disruptions.ban.probability=0%:20%:11 --out results/p
    """
    from optimizer.api import RunConfig
    from optimizer.config import ConfigError, load_config
    from optimizer.scenario.errors import ScenarioError
    from optimizer.sweep import ProgressBar, parse_param, parse_range, sweep_budget, sweep_param

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
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        err.print(f"[red]{_esc(str(exc))}[/]")
        raise typer.Exit(EXIT_INPUT) from None
    rc = RunConfig.from_config(cfg, time_limit=time_limit, mip_gap=mip_gap, interface=interface)
    target = out_dir or Path(cfg.output.folder) / f"{scenario.stem}-sweep"
    what = key or (f"budget line {line}" if line else "total budget")
    overrides = tuple(set_ or ())
    try:
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
            f"nothing was written to {target}[/]"
        )
        raise typer.Exit(EXIT_INFEASIBLE if statuses == {"infeasible"} else EXIT_SOLVER)
    try:
        result.write(target)
    except OSError as exc:
        err.print(
            f"[red]could not write {target}: {_esc(str(exc))}; earlier results there are "
            "untouched[/]"
        )
        raise typer.Exit(EXIT_INTERNAL) from None

    if not quiet:
        print_frontier(result)
        out.print(f"results written to [bold]{target}[/]")
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

    t = Table(title=f"{result.scenario}: {result.label}", title_justify="left")
    for col in ("level", "status", "objective", "cash used", "exp. loss", "CVaR", "marg. value"):
        t.add_column(col, justify="left" if col == "status" else "right")
    for _, r in result.frontier.iterrows():
        mv = r["marginal_value"]
        t.add_row(
            money(r["level"]) if budget else f"{r['level']:.6g}",
            r["status"],
            money(r["objective"]),
            money(r["cash_used"]),
            money(r["expected_loss"]),
            money(r["cvar"]),
            "-" if mv != mv else f"{mv:.4g}",
        )
    console.print(t)
    for level, text in result.switches:
        console.print(f"  at {money(level) if budget else f'{level:.6g}'}: {_esc(text)}")
    tm = result.timings
    line = f"{tm['levels']} levels in {tm['total_seconds']:.1f} s"
    if budget and tm.get("warm_levels"):
        line += (
            f" = {tm['ratio']:.2f}x the first (cold) level; warm re-solves "
            f"{tm['warm_solve_seconds_mean']:.2f} s each against {tm['cold_solve_seconds']:.2f} s"
            " cold"
        )
    console.print(line)


@app.command()
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
                out.print(f"[green]{f}: valid[/]")
                for i in issues:
                    out.print(f"  [yellow]{_esc(i.format())}[/]")
            else:
                _print_issues(issues, f"{f}: not valid")
    if json_out:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    raise typer.Exit(EXIT_OK if ok else EXIT_INPUT)


@app.command()
def schema(
    markdown: Annotated[
        bool, typer.Option("--markdown", help="Print the reference documentation instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of scenario files (for editors' autocompletion and checks).

    With --markdown, print the reference page (docs/scenario-reference.md) generated from the
    same field descriptions.
    """
    from optimizer.scenario.schema import Scenario

    if markdown:
        from optimizer.scenario.reference import markdown as render

        sys.stdout.write(render())
        return
    sys.stdout.write(json.dumps(Scenario.model_json_schema(mode="validation"), indent=2) + "\n")


from optimizer.cli_batch import register as _register_batch  # noqa: E402
from optimizer.cli_stress import register as _register_stress  # noqa: E402

_register_batch(app)
_register_stress(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
