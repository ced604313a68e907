"""``stockpile run``: solve one scenario, write its results folder, print the summary."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Literal, Optional

import typer
from rich.console import Console
from rich.table import Table

from optimizer.cli.common import (
    EXIT_INFEASIBLE,
    EXIT_INPUT,
    EXIT_INTERNAL,
    EXIT_SOLVER,
    EXIT_TIME_LIMIT,
    ConfigOption,
    FormatsOption,
    InterfaceOption,
    MethodOption,
    MipGapOption,
    YesOption,
    _esc,
    _money,
    _money_or_dash,
    _print_issues,
    check_cluster_options,
    check_seconds,
    check_threads,
    err,
    internal_error,
    note,
    out,
    parse_formats,
    read_config,
    refuse_large,
    refuse_output,
    workers_option,
    write_or_exit,
)
from optimizer.format import quantity as _qty

WorkersOption = workers_option(
    "Local worker processes for the futures of a decomposed run (1: in this "
    "process). Default: solver.workers in config.yaml (one per core)."
)


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
        "reserved capacity",
        "domestic capacity",
        "exp. shortfall over the window",
        "worst shortfall over the window",
        "HHI before->after",
        "cash",
    ):
        # fold, never cut; the good's name on one line: natural_graphite must stay readable
        widest = max(len(v.get("label") or g) for g, v in pf["goods"].items())
        t.add_column(
            col,
            justify="left" if col == "good" else "right",
            overflow="fold",
            min_width=widest if col == "good" else None,
        )
    for g, v in pf["goods"].items():
        unit = v["unit"]
        names = v.get("supplier_labels") or {}
        reserve = (
            ", ".join(
                f"{_esc(names.get(k, k))} {_qty(q)} {_esc(unit)}/yr"
                for k, q in v["reserve"].items()
                if q > 0
            )
            or "-"
        )
        days = v["stockpile"]["days_of_cover"]
        t.add_row(
            _esc(v.get("label") or g),
            f"{_qty(v['stockpile']['buy'])} {_esc(unit)}",
            "-" if days is None else f"{days:,.0f}",
            reserve,
            f"{_qty(v['domestic']['capacity'])} {_esc(unit)}/yr" if v["domestic"]["built"] else "-",
            f"{_qty(v['expected_shortfall'])} {_esc(unit)}",
            f"{_qty(v['worst_shortfall'])} {_esc(unit)}",
            f"{v['hhi']['before']:.2f} -> {v['hhi']['after']:.2f}",
            _money(v["cash"]),
        )
    console.print(t)
    for line in normal_shortfall_lines(pf):
        console.print(f"[yellow]{_esc(line)}[/]")
    routes = route_line(pf)
    if routes:
        console.print(_esc(routes))
    b = Table(title="Budget", title_justify="left")
    for col in ("budget", "limit", "used", "marginal value (EUR per EUR)"):
        b.add_column(col, justify="left" if col == "budget" else "right")
    budget = pf["budget"]
    rows = [("total", budget["total"])] + list(budget["lines"].items())
    for name, e in rows:
        b.add_row(
            _esc(name),
            _money(e["limit"]) if e["limit"] is not None else "no limit",
            _money(e["used"]),
            f"{e['marginal_value']:.4g}",
        )
    console.print(b)
    _print_limits(pf, console)
    c = pf["cost"]
    console.print(
        f"objective {_money(pf['objective'])} = first stage {_money(c['first_stage_economic'])}"
        f" (cash {_money(c['first_stage_cash'])}) + expected operation "
        f"{_money(c['expected_second_stage'])}"
        + (f" + {c['cvar_weight']:g} x CVaR" if c.get("cvar_weight") else "")
        + (f" + limit penalties {_money(c['limit_penalties'])}" if c.get("limit_penalties") else "")
    )
    console.print(
        f"expected loss {_money(c['expected_loss'])}, CVaR{c['cvar_alpha']:.0%} {_money(c['cvar'])}"
    )
    base = pf.get("baseline") or {}
    if base.get("objective") is not None:
        console.print(
            f"against doing nothing (same futures, no levers): expected total cost "
            f"{_money(base['objective'])}, expected loss {_money(base['expected_loss'])}; "
            f"the portfolio saves {_money(base['saving'])}"
        )
    elif base.get("reason"):
        console.print(f"[dim]no comparison with doing nothing: {_esc(base['reason'])}[/]")


def _print_limits(pf: dict, console: Console) -> None:
    """The limits on supply shares: each rule, what it costs at the margin, units over it."""
    limits = pf.get("limits") or {}
    cap = (pf.get("limits_explained") or {}).get("concentration_cap")
    if cap is not None:
        console.print(f"the concentration cap costs {_money_or_dash(cap['cost'])}")
    if not limits:
        return
    t = Table(title="Limits on supply shares (no disruption)", title_justify="left")
    explained = any("explained" in v for v in limits.values())
    cols = ["limit", "rule", "EUR per point of share", "units over (short)", "penalty"]
    for col in cols + (["cost of the limit"] if explained else []):
        t.add_column(col, justify="left" if col in ("limit", "rule") else "right")
    for name, v in limits.items():
        rule = (
            f"{'at most' if v['kind'] == 'max_share' else 'at least'} {v['share']:.0%}"
            + (" from each country" if v["per_country"] else " from the countries listed")
            + (
                ""
                if v["hard"]
                else f", {_money(v['benchmark'])} per unit "
                + ("over" if v["kind"] == "max_share" else "short")
            )
        )
        t.add_row(
            _esc(name),
            rule,
            _money(v["shadow_price"] / 100),
            _qty(v["units_over"]) if not v["hard"] else "-",
            _money(v["penalty"]) if not v["hard"] else "-",
            *([_money_or_dash((v.get("explained") or {}).get("cost"))] if explained else []),
        )
    console.print(t)
    for warning in pf.get("warnings") or []:
        console.print(f"[yellow]warning: {_esc(warning)}[/]")


def normal_shortfall_lines(pf: dict) -> list[str]:
    """One sentence per good short even in the future without disruption (a hard limit, such
    as the concentration cap, leaving demand unmet in normal times)."""
    lines = []
    for e in pf.get("normal_time_shortfall") or []:
        cause = "a limit of the scenario (capacities, the concentration cap) leaves demand unmet"
        if e.get("capped_countries"):
            share = e.get("cap_share")
            cap = f"the {share:.0%} concentration cap" if share is not None else "the cap"
            cause = f"{cap} on {', '.join(e['capped_countries'])} binds and nothing replaces it"
        lines.append(
            f"Even with no disruption, {e['good']} is short {_qty(e['shortfall'])} {e['unit']} "
            f"over the window ({_money(e['damage'])} of damage): {cause}."
        )
    return lines


def route_line(pf: dict) -> str:
    """One sentence on the shipping routes (empty without routes): per good whose normal
    supply passes a route, the share through each, such as ``rare_earth_magnets 90%
    through red_sea``."""
    from optimizer.results.routes import notable_route_shares

    parts = [f"{g} {share:.0%} through {r}" for g, r, share in notable_route_shares(pf)]
    return f"Normal supply through shipping routes: {'; '.join(parts)}." if parts else ""


#: Parts of a decomposed solve, shown under ``solve`` and not added to the total: the sampled
#: start, the subproblem rounds (wall), the chunks' own wall and CPU seconds summed over the
#: workers (more than the wall with 2 workers), the master.
SOLVE_PARTS = {
    "start": "of which the sampled start",
    "subproblems": "of which subproblem rounds",
    "chunks_wall": "  chunks' wall, summed over workers",
    "chunks_cpu": "  chunks' CPU, summed over workers",
    "master": "of which the master",
}


def _print_profile(pf: dict, seconds: dict[str, float]) -> None:
    t = Table(title="Where the time went", title_justify="left")
    t.add_column("stage")
    t.add_column("seconds", justify="right")
    t.add_column("share", justify="right")
    total = sum(v for k, v in seconds.items() if k not in SOLVE_PARTS) or 1.0
    for k, v in seconds.items():
        if k in SOLVE_PARTS:
            continue
        t.add_row(k, f"{v:.3f}", f"{v / total:.0%}")
        if k == "solve":
            for part, label in SOLVE_PARTS.items():
                if part in seconds:
                    t.add_row(f"  [dim]{label}[/]", f"[dim]{seconds[part]:.3f}[/]", "")
    t.add_row("[bold]total[/]", f"{total:.3f}", "100%")
    err.print(t)
    model = pf["solver"]["model"]
    err.print(
        f"model: {model['variables']:,} variables, {model['constraints']:,} constraints, "
        f"{model['nonzeros']:,} nonzeros, {model['integer_variables']} integer; "
        f"{model['scenarios']} scenarios x {model['periods']} periods in {model['blocks']:,} "
        f"blocks; {pf['solver']['iterations']:,} solver iterations"
    )


def run(
    scenario: Annotated[Path, typer.Argument(help="The scenario file (YAML).", show_default=False)],
    out_dir: Annotated[
        Optional[Path],
        typer.Option(
            "--out",
            "-o",
            help="Results folder; replaced only when the run succeeds. Default: a folder "
            "named after the scenario file under output.folder of config.yaml "
            "(results/critical_raw_materials).",
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
    config: ConfigOption = None,
    time_limit: Annotated[
        Optional[float], typer.Option(help="Solver time limit, seconds.", callback=check_seconds)
    ] = None,
    mip_gap: MipGapOption = None,
    threads: Annotated[
        Optional[int],
        typer.Option(help="HiGHS threads (0: HiGHS chooses).", callback=check_threads),
    ] = None,
    interface: InterfaceOption = None,
    method: MethodOption = None,
    workers: WorkersOption = None,
    scheduler: Annotated[
        Optional[str],
        typer.Option(
            help="Solve a decomposed run's futures on an existing Dask cluster: tcp://HOST:PORT "
            "(start one with `dask scheduler` and `dask worker`).",
        ),
    ] = None,
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
    formats: FormatsOption = None,
    scenario_detail: Annotated[
        Optional[Literal["auto", "full", "totals"]],
        typer.Option(
            "--scenario-detail",
            help="Rows of scenarios.csv: full (one per future, good and period), totals (one "
            "per future and good: probability, shortfall, loss and cost over the window, "
            "summed exactly from the periods) or auto (full up to 1,000 futures, totals above, "
            "where the full file runs to hundreds of MB). Default: output.scenario_detail in "
            "config.yaml (auto).",
            show_default=False,
        ),
    ] = None,
    yes: YesOption = False,
    debug: Annotated[bool, typer.Option(help="Show Python tracebacks of internal errors.")] = False,
    explain_limits: Annotated[
        bool,
        typer.Option(
            "--explain-limits",
            help="Solve again without each limit on supply shares (and the concentration cap) "
            "and report what each costs in euros (one more solve per limit).",
        ),
    ] = False,
) -> None:
    """Solve one scenario and write its results folder.

    Writes portfolio.json, portfolio.csv, scenarios.csv, supply_shares.csv, reserves.csv,
    resolved.yaml, report.html and portfolio.xlsx into --out (those chosen by --formats), all
    at once: a run that fails leaves an earlier folder untouched.

    Example:

        stockpile run scenarios/critical_raw_materials.yaml --set budget.total=250M
    """
    from optimizer.model.size import ModelTooLarge
    from optimizer.pipeline import RunConfig
    from optimizer.pipeline import run as run_scenario
    from optimizer.results.write import OutputRefused, check_output_target
    from optimizer.scenario.errors import ScenarioError
    from optimizer.solve.decomposed import NotDecomposable

    cfg = read_config(config)
    check_cluster_options(workers, scheduler)
    if scheduler is not None:
        from optimizer.studies.workers import BatchRunError, probe_scheduler

        try:
            probe_scheduler(scheduler, cfg.batch.connect_timeout)
        except BatchRunError as exc:
            err.print(f"[red]--scheduler: {_esc(str(exc))}[/]")
            raise typer.Exit(EXIT_INTERNAL) from None
    rc = RunConfig.from_config(
        cfg,
        time_limit=time_limit,
        mip_gap=mip_gap,
        threads=threads,
        interface=interface,
        method=method,
        workers=workers,
        scheduler=scheduler,
        compress_time=compress,
        large_model_ok=yes or None,
    )
    chosen = parse_formats(formats, cfg.output.formats)
    target = out_dir or Path(cfg.output.folder) / scenario.stem
    try:
        check_output_target(target)  # before solving: never replace a folder of the user's
    except OutputRefused as exc:
        refuse_output(exc)
    try:
        with (
            err.status(f"solving {_esc(scenario)}", spinner="dots") if err.is_terminal else _null()
        ):
            result = run_scenario(scenario, rc, overrides=tuple(set_ or ()), on_note=note)
    except ModelTooLarge as exc:
        refuse_large(exc)
    except NotDecomposable as exc:
        err.print(
            f"[red]{_esc(scenario)}: --method decomposed cannot solve this model: {_esc(exc)}. "
            "Use --method extensive (or auto).[/]"
        )
        raise typer.Exit(EXIT_INPUT) from None
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
        raise typer.Exit(_explain_infeasible(result, target))
    if result.solve.limit_before_solution:
        err.print(
            "[yellow]stopped by the time limit before any portfolio was found; nothing was "
            f"written to {_esc(target)}. Give the solver more time: --time-limit SECONDS (or "
            "solver.time_limit in config.yaml).[/]"
        )
        raise typer.Exit(EXIT_TIME_LIMIT)
    if status in ("unbounded", "error") or not result.solve.has_solution:
        err.print(
            f"[red]the solver stopped without a portfolio: {result.solve.termination}; "
            f"nothing was written to {_esc(target)}[/]"
        )
        raise typer.Exit(EXIT_SOLVER)

    if explain_limits:
        from optimizer.studies.explain_limits import explain_limits as explain

        with (
            err.status("solving without each limit", spinner="dots")
            if err.is_terminal
            else (_null())
        ):
            explain(result, rc)
    t = time.perf_counter()
    detail = scenario_detail or cfg.output.scenario_detail
    write_or_exit(lambda: result.write(target, chosen, detail), target)
    result.seconds["write"] = time.perf_counter() - t

    if json_out:
        from optimizer.results import dumps_json

        sys.stdout.write(dumps_json(pf))
    elif not quiet:
        print_summary(pf)
        out.print(f"results written to [bold]{_esc(target)}[/]")
    if profile:
        _print_profile(pf, result.seconds)
    if status == "time_limit":
        err.print(
            f"[yellow]stopped by the time limit: the portfolio written is the best found, "
            f"within {pf['mip_gap'] or 0:.2%} of optimal[/]"
        )
        raise typer.Exit(EXIT_TIME_LIMIT)


def _explain_infeasible(result, target: Path) -> int:
    """Tell the user which requirements conflict (see optimizer/solve/diagnose.py) and return
    the exit code: 3 when the elastic re-solve confirms HiGHS's verdict (some requirement must
    be violated), 5 when it finds a portfolio meeting every requirement (HiGHS's verdict was
    numerical: the scenario's magnitudes are doubtful)."""
    try:
        from optimizer.solve.diagnose import explain_infeasibility

        lines = explain_infeasibility(result)
    except Exception:  # noqa: BLE001 - the diagnosis is a help, never a crash
        lines = None
    if lines == []:
        err.print(
            "[bold red]the solver reported no feasible portfolio, but a check could not "
            "confirm it:[/] no requirement has to be broken, so the answer is numerically "
            f"doubtful and nothing was written to {_esc(target)}.\n"
            "  Check the scenario's magnitudes: quantities and money far apart in size (e.g. a "
            "demand of 3e13 next to costs of 0.001) defeat the solver's scaling; express "
            "quantities in a larger or smaller unit so that the numbers stay within about "
            "1e-6 to 1e9."
        )
        return EXIT_SOLVER
    err.print("[bold red]no feasible portfolio:[/] the scenario's requirements cannot all hold.")
    for line in lines or []:
        err.print(f"  - {_esc(line)}")
    if not lines:
        err.print("  Check budgets against coverage days, caps and service levels.")
    return EXIT_INFEASIBLE


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False
