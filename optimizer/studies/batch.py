"""Batches: many runs of one base scenario, solved in parallel on Dask, compared in one table.

A batch file (``scenario-format.md``, "Runs and batches") names a ``base`` scenario (relative to
the batch file), a ``vary:`` grid (the Cartesian product of dotted keys and their values) and
named ``variants:`` (each a set of overrides). The runs are the grid crossed with the base (no
overrides) and each variant; each run is named by its variant and its grid values, e.g.
``no_domestic,total=100M,weight=0.5``.

:func:`run_batch` (here) does it all, with its pieces beside it: reading and expanding the batch
file in ``batch_file.py``, checking and solving one run on a worker in ``batch_solve.py``, the
run folders and what a re-run keeps in ``batch_records.py``, the Dask client in ``workers.py``.
In this order:

1. read the batch file (:func:`load_batch`) and the base scenario, in this process: a mistake
   in either is reported with its file and line before any worker starts;
2. start a local Dask cluster of worker processes (one HiGHS thread each: HiGHS fixes its thread
   count once per process), or connect to an existing scheduler (``tcp://HOST:PORT``);
3. validate **every** run on the cluster (the base's resolved scenario with the run's overrides)
   and stop with all the problems found, each located at the line of the batch file that set the
   bad value, before anything is solved;
4. skip the runs whose folder ``OUT/runs/<name>-<sha12>/`` (``sha12``: the start of the SHA-256
   of the run's resolved scenario) already holds a finished run, unless ``force``;
5. solve the others, one task each. A worker writes its run's folder atomically (the files of
   ``RunResult.write`` plus ``status.json``) and hands back only small data (status, reason,
   objective, seconds, the portfolio dictionary). A run that fails (infeasible, time limit,
   solver error, an exception, its worker lost) is recorded with its reason; the others go on;
6. write the comparison of the batch's runs: ``runs.csv``, ``runs_goods.csv``,
   ``comparison.xlsx`` and ``comparison.png`` (see :mod:`optimizer.studies.compare`).

Resuming: an interrupted batch loses no finished run (each folder is complete or absent), and
running the same command again solves only what is missing. Runs that failed for a reason that
may not recur (a lost worker, an internal error) are solved again; the solver's own outcomes
(optimal, infeasible, time limit, solver error) are kept. ``force`` redoes every run.

On a cluster, the output folder must be one the workers share (as Dask clusters usually have);
when a worker cannot write there, this process writes the run's folder from what the worker
sent back (``portfolio.json``, ``portfolio.csv``, ``resolved.yaml``, ``status.json``; no
``scenarios.csv``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from optimizer.pipeline import RunConfig
from optimizer.results.write import check_study_folder, claim_study_folder
from optimizer.scenario.errors import Issue, ScenarioError
from optimizer.scenario.loader import load_scenario

__all__ = [
    "Batch",
    "BatchError",
    "BatchEvents",
    "BatchResult",
    "BatchRunError",
    "RunOutcome",
    "RunSpec",
    "load_batch",
    "run_batch",
    "solve_run",
]

from optimizer.studies.batch_file import Batch, BatchError, BatchRunError, RunSpec, load_batch
from optimizer.studies.batch_records import (
    _write_failure,
    _write_fallback,
    _write_text_atomic,
    category_of,
    kept_run,
    resolve_reason,
    solve_settings,
)
from optimizer.studies.batch_solve import _check_on_cluster, _digest, _validate, solve_run
from optimizer.studies.workers import _n_workers, _quiet_dask, _slots, dask_client

log = logging.getLogger(__name__)


# --- errors -----------------------------------------------------------------------------------


# --- the batch file ---------------------------------------------------------------------------


# --- outcomes ---------------------------------------------------------------------------------


@dataclass
class RunOutcome:
    """How one run of a batch ended."""

    name: str
    variant: str
    values: dict[str, Any]
    folder: Path
    sha: str
    status: str
    """optimal | time_limit | infeasible | unbounded | error | invalid | exception |
    worker_lost | cancelled"""
    reason: str = ""
    explanation: list[str] = field(default_factory=list)
    objective: float | None = None
    seconds: float = 0.0
    skipped: bool = False
    """Finished by an earlier run of the batch and kept."""
    resolved_because: str = ""
    """Why a run finished earlier was solved again (settings changed, a lost worker...)."""
    resolved_values: dict[str, Any] = field(default_factory=dict)
    """The varied values as the resolved scenario holds them (euros, fractions)."""

    @property
    def category(self) -> str:
        return category_of(self.status)[0]

    @property
    def exit_code(self) -> int:
        return category_of(self.status)[1]

    @property
    def ok(self) -> bool:
        return self.status == "optimal"


@dataclass
class BatchResult:
    """The outcome of :func:`run_batch`."""

    batch: Batch
    out: Path
    outcomes: list[RunOutcome]
    files: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    workers: int = 0
    warnings: list[tuple[Issue, list[str]]] = field(default_factory=list)

    @property
    def failed(self) -> list[RunOutcome]:
        return [o for o in self.outcomes if not o.ok]

    @property
    def exit_code(self) -> int:
        """0 when every run is optimal; 1 when no run is valid (nothing could be solved: a
        mistake in the batch file, as a bad base is); 3 otherwise (the others' results are
        written)."""
        if self.outcomes and all(o.status == "invalid" for o in self.outcomes):
            return 1
        return 0 if not self.failed else 3


class BatchEvents:
    """What :func:`run_batch` reports as it goes (the command line draws a progress bar)."""

    def phase(self, text: str) -> None:
        """A step begins: starting workers, validating, solving, writing the comparison."""

    def start(self, total: int, skipped: int, invalid: int = 0) -> None:
        """``total`` runs in the batch: ``skipped`` of them finished earlier and kept,
        ``invalid`` not valid (recorded, never solved); the rest are solved."""

    def finished(self, outcome: RunOutcome) -> None:
        """One run ended (solved or failed)."""


# --- the worker's side ------------------------------------------------------------------------


# --- the client's side ------------------------------------------------------------------------


def run_batch(
    batch: Batch | str | Path,
    out: str | Path,
    config: RunConfig | None = None,
    *,
    formats: Sequence[str] | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    strict: bool = False,
    events: BatchEvents | None = None,
    allowed_failures: int = 0,
    task: Callable[..., dict] | None = None,
    compare: bool = True,
    local_validation_seconds: float = 2.0,
    connect_timeout: float = 20.0,
) -> BatchResult:
    """Validate, solve and compare a batch (see the module's docstring).

    ``workers``: processes of the local cluster (default: the number of CPUs, at most the
    number of runs); ignored with ``scheduler`` (``tcp://HOST:PORT`` of a running Dask
    scheduler). Each run is solved with ``config`` and one HiGHS thread. ``task`` replaces
    :func:`solve_run` (same signature; for tests). Every run is validated before any is
    solved. Raises :class:`BatchError` when the batch file or its base is not valid, or, with
    ``strict``, when any run is not (nothing is solved then); without ``strict`` a run that is
    not valid is recorded as ``invalid`` with its located problems and the others are solved.
    Raises :class:`BatchRunError` when the batch cannot run at all, and
    :class:`~optimizer.results.write.OutputRefused` (before any work) when ``out`` is a file or
    a folder stockpile did not write; a failing run is never raised but recorded."""
    t_start = time.perf_counter()
    events = events or BatchEvents()
    if not isinstance(batch, Batch):
        batch = load_batch(batch)
    config = dataclasses.replace(config or RunConfig(), threads=1)
    formats = tuple(formats) if formats is not None else None
    out = check_study_folder(Path(out).absolute())  # before any work: OutputRefused
    task = task or solve_run
    seconds: dict[str, float] = {}

    try:
        base = load_scenario(batch.base)
    except ScenarioError as exc:
        raise BatchError([(i, []) for i in exc.issues]) from None

    n_local = max(1, min(int(workers or os.cpu_count() or 1), len(batch.runs)))
    stack = ExitStack()
    clients: list[Any] = []

    def get_client():
        if not clients:
            events.phase(
                f"connecting to {scheduler}"
                if scheduler
                else f"starting {n_local} worker process(es)"
            )
            t = time.perf_counter()
            pyomo = config.interface == "pyomo" or (
                config.interface == "auto" and config.pyomo_max_columns > 0
            )  # auto goes to highspy directly unless pyomo_max_columns says otherwise
            preload = ["optimizer.studies.batch"] + (
                ["optimizer.solve.pyomo_backend"] if pyomo else []
            )
            stack.enter_context(_quiet_dask())
            clients.append(
                stack.enter_context(
                    dask_client(
                        n_local,
                        scheduler,
                        allowed_failures,
                        preload=preload,
                        connect_timeout=connect_timeout,
                    )
                )
            )
            seconds["start"] = time.perf_counter() - t
        return clients[0]

    with stack:
        # Validate here (a bad variant is reported within seconds, without starting any
        # worker). When that would take more than `local_validation_seconds`, the cluster is
        # started at once in the background, validation goes on here meanwhile, and what is
        # left when the cluster is up is validated there.
        events.phase(f"validating {len(batch.runs)} runs")
        t = time.perf_counter()
        results, left = _validate(batch, base, local_validation_seconds, get_client)
        if left:
            results += _check_on_cluster(get_client(), batch, base, left)
        checked, warnings = _digest(batch, base, results, strict=strict)
        invalid_problems = checked.pop("__invalid__", [])
        invalid: dict[str, list[Issue]] = {}
        for issue, names in invalid_problems:
            for name in names:
                invalid.setdefault(name, []).append(issue)
        del results
        seconds["validate"] = time.perf_counter() - t

        plan = []
        manifest_runs = []
        for r in batch.runs:
            if r.name in invalid:
                continue
            sha = checked[r.name]["sha"]
            folder = out / "runs" / f"{r.name}-{sha[:12]}"
            plan.append((r, sha, folder))
            manifest_runs.append(
                {
                    "name": r.name,
                    "variant": r.variant,
                    "values": r.values_dict,
                    "overrides": list(r.overrides),
                    "input_sha256": sha,
                    "resolved_values": checked[r.name].get("resolved_values") or {},
                    "folder": f"runs/{folder.name}",
                }
            )
        manifest = {**batch.manifest(), "runs": manifest_runs}
        try:
            claim_study_folder(out)
            (out / "runs").mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BatchRunError(f"cannot create the output folder {out}: {exc}") from None
        _write_text_atomic(out / "batch.json", json.dumps(manifest, indent=2, default=str) + "\n")

        outcomes: dict[str, RunOutcome] = {}
        for r in batch.runs:  # not valid: recorded with the reason, never solved
            if r.name not in invalid:
                continue
            reason = "; ".join(issue.format() for issue in invalid[r.name])
            folder = out / "runs" / f"{r.name}-invalid"
            job = {
                "name": r.name,
                "variant": r.variant,
                "values": list(r.values),
                "overrides": list(r.overrides),
                "base": batch.base_display,
                "batch": batch.display,
            }
            _write_failure(folder, job, "invalid", reason)
            outcomes[r.name] = RunOutcome(
                r.name, r.variant, r.values_dict, folder, "", status="invalid", reason=reason
            )
        todo = []
        settings = solve_settings(config)
        why: dict[str, str] = {}
        for r, sha, folder in plan:
            previous = None if force else kept_run(folder, settings)
            if previous is None and not force:
                why[r.name] = resolve_reason(folder, settings) or ""
            if previous is not None:
                outcomes[r.name] = RunOutcome(
                    name=r.name,
                    variant=r.variant,
                    values=r.values_dict,
                    folder=folder,
                    sha=sha,
                    status=previous.get("status") or "error",
                    reason=previous.get("reason") or "",
                    explanation=list(previous.get("explanation") or []),
                    objective=previous.get("objective"),
                    seconds=float(previous.get("seconds") or 0.0),
                    skipped=True,
                    resolved_values=checked[r.name].get("resolved_values") or {},
                )
            else:
                todo.append((r, sha, folder))
        events.start(
            len(batch.runs),
            sum(o.skipped for o in outcomes.values()),
            sum(o.status == "invalid" for o in outcomes.values()),
        )

        token = uuid.uuid4().hex[:8]
        jobs: dict[Any, tuple[RunSpec, str, Path, dict]] = {}
        futures = []
        n_workers = _n_workers(clients[0]) if clients else 0
        seconds["solve"] = 0.0
        if todo:
            from distributed import as_completed

            client = get_client()
            n_workers = _n_workers(client)
            t = time.perf_counter()
            events.phase(f"solving {len(todo)} runs on {n_workers} worker(s)")

            # At most as many runs on the cluster as it has threads: a worker holds only the
            # run it solves, so a worker that dies takes no other run with it (the scheduler
            # counts every run on a lost worker as a suspect), and a large batch does not
            # flood the scheduler.
            pending = list(enumerate(todo))[::-1]
            ac = as_completed(loop=client.loop)
            slots, slots_checked = _slots(client), time.perf_counter()

            def submit_next() -> None:
                i, (r, sha, folder) = pending.pop()
                job = {
                    "name": r.name,
                    "variant": r.variant,
                    "values": list(r.values),
                    "overrides": list(r.overrides),
                    "folder": str(folder),
                    "sha": sha,
                    "base": batch.base_display,
                    "batch": batch.display,
                    "resolved_values": checked[r.name].get("resolved_values") or {},
                    "settings": settings,
                }
                # Each task carries its scenario, validated above (about 30 kB), or else the
                # base and its overrides (a few kB): tasks share no data, so a lost worker
                # takes only its own run with it.
                scenario = checked[r.name].pop("loaded", None) or base.resolved
                fut = client.submit(
                    task,
                    job,
                    scenario,
                    config,
                    formats,
                    key=f"stockpile-run-{token}-{i}",
                    pure=False,
                )
                jobs[fut.key] = (r, sha, folder, job)
                futures.append(fut)
                ac.add(fut)

            in_flight = 0
            try:
                while pending and in_flight < slots:
                    submit_next()
                    in_flight += 1
                for fut in ac:
                    in_flight -= 1
                    r, sha, folder, job = jobs.pop(fut.key)
                    outcome = _collect(fut, r, sha, folder, job, formats)
                    outcome.resolved_because = why.get(r.name, "")
                    outcomes[r.name] = outcome
                    fut.release()
                    events.finished(outcome)
                    if pending and time.perf_counter() - slots_checked > 2.0:
                        slots, slots_checked = _slots(client), time.perf_counter()
                    while pending and (in_flight < slots or in_flight == 0):
                        submit_next()
                        in_flight += 1
            except BaseException:
                client.cancel([f for f in futures if not f.done()])
                raise
            seconds["solve"] = time.perf_counter() - t

    ordered = [outcomes[r.name] for r in batch.runs]
    result = BatchResult(batch, out, ordered, seconds=seconds, workers=n_workers, warnings=warnings)
    if compare:
        events.phase("writing the comparison")
        t = time.perf_counter()
        result.files = write_batch_comparison(result)
        seconds["compare"] = time.perf_counter() - t
    seconds["total"] = time.perf_counter() - t_start
    return result


def _collect(fut, r: RunSpec, sha: str, folder: Path, job: dict, formats) -> RunOutcome:
    """The outcome of one finished future; writes the folder when the worker could not."""
    outcome = RunOutcome(
        r.name,
        r.variant,
        r.values_dict,
        folder,
        sha,
        status="exception",
        resolved_values=dict(job.get("resolved_values") or {}),
    )
    if fut.status == "finished":
        try:
            res = fut.result()
        except Exception as exc:  # noqa: BLE001 - the result could not be fetched
            res = None
            outcome.reason = f"the run's result was lost: {type(exc).__name__}: {exc}"
        if res is not None:
            outcome.status = res["status"]
            outcome.reason = res.get("reason") or ""
            outcome.explanation = list(res.get("explanation") or [])
            outcome.objective = res.get("objective")
            outcome.seconds = float(res.get("seconds") or 0.0)
            if not res.get("written"):
                try:
                    _write_fallback(folder, res, formats)
                except OSError as exc:
                    outcome.reason += f" (its folder could not be written: {exc})"
            return outcome
    else:
        exc = None
        if fut.status == "error":
            try:
                exc = fut.exception()
            except Exception as e:  # noqa: BLE001
                exc = e
        from distributed import KilledWorker

        if isinstance(exc, KilledWorker):
            outcome.status = "worker_lost"
            outcome.reason = (
                "worker lost: the process solving this run died (out of memory, killed or crashed)"
            )
        elif fut.status == "cancelled":
            outcome.status = "cancelled"
            outcome.reason = "cancelled: the cluster stopped before this run ended"
        else:
            outcome.reason = (
                f"the run failed on the cluster ({fut.status}): {type(exc).__name__}: {exc}"
            )
    with suppress(OSError):
        _write_failure(folder, job, outcome.status, outcome.reason)
    return outcome


def write_batch_comparison(result: BatchResult) -> list[Path]:
    """``runs.csv``, ``runs_goods.csv``, ``comparison.xlsx`` and ``comparison.png`` of the
    batch's runs, in the batch's order, into its output folder."""
    from optimizer.studies.compare import write_comparison
    from optimizer.studies.compare_records import read_run

    records = [
        read_run(o.folder, name=o.name, variant=o.variant, values=o.values) for o in result.outcomes
    ]
    title = result.batch.title or Path(result.batch.display).stem
    return write_comparison(result.out, records, result.batch.keys, title=title)
