"""One run of a batch, on a worker: check its scenario, solve it, write its folder.

:func:`validate_runs` checks every run (here, or on the cluster) before anything is solved and
locates each problem at the line of the batch file that set the bad value; :func:`solve_run` is
the task a worker runs for one run.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from optimizer.model.size import ModelTooLarge
from optimizer.pipeline import RunConfig
from optimizer.results import dumps_json, write_folder
from optimizer.scenario.errors import Issue, ScenarioError
from optimizer.scenario.loader import LoadedScenario, load_scenario, load_scenario_dict
from optimizer.studies.batch_file import Batch, BatchError, RunSpec
from optimizer.studies.batch_records import _status_doc, _text_writer, _write_results
from optimizer.studies.workers import _n_workers, _worker_address

#: Above this many model columns an infeasible run is not explained (the explanation re-solves).
EXPLAIN_MAX_COLUMNS = 200_000


#: Failing runs whose problems are re-read with line numbers of the base file.
RELOCATE_MAX_RUNS = 20


def check_runs(
    base: dict,
    base_display: str,
    jobs: Sequence[tuple[str, Sequence[str]]],
    keys: Sequence[str] = (),
    keep: bool = False,
) -> list[dict]:
    """Validate runs (a Dask task): each job is (name, overrides) on the base's resolved
    scenario. Returns, per job, its name, the SHA-256 of its resolved scenario (None when not
    valid), its errors and warnings, the resolved values of ``keys`` and, with ``keep``, the
    :class:`LoadedScenario` itself (about 30 kB: the run is then solved without loading it
    again)."""
    out = []
    for name, overrides in jobs:
        try:
            loaded = load_scenario_dict(base, name=base_display, overrides=list(overrides))
        except ScenarioError as exc:
            out.append({"name": name, "sha": None, "errors": exc.issues, "warnings": []})
            continue
        except Exception as exc:  # noqa: BLE001 - reported as a problem of that run
            issue = Issue(None, None, None, "", f"internal error: {type(exc).__name__}: {exc}")
            out.append({"name": name, "sha": None, "errors": [issue], "warnings": []})
            continue
        out.append(
            {
                "name": name,
                "sha": loaded.input_sha256,
                "errors": [],
                "warnings": loaded.warnings,
                "resolved_values": resolved_values(loaded.resolved, keys),
                "loaded": loaded if keep else None,
            }
        )
    return out


def resolved_values(resolved: dict, keys: Sequence[str]) -> dict[str, Any]:
    """The plain values at dotted ``keys`` of a resolved scenario (missing or not plain: left
    out): the varied values of a run as its tables show them."""
    from optimizer.studies.compare_records import value_at

    values = {}
    for k in keys:
        found, v = value_at(resolved, k)
        if found and not isinstance(v, (dict, list)):
            values[k] = v
    return values


def solve_run(
    job: dict,
    base: dict | LoadedScenario,
    config: RunConfig,
    formats: Sequence[str] | None = None,
) -> dict:
    """Solve one run and write its folder (a Dask task; any process with the engine installed).

    ``job`` holds the run's name, overrides, folder and labels; ``base`` the run's scenario as
    validated (a :class:`LoadedScenario`), or the base scenario's resolved data to which the
    run's overrides are applied here. Never raises for a failing run: the failure is in the
    returned ``status``. Returns small, picklable data: name, status, reason, explanation,
    objective, seconds, whether the folder was written, and the portfolio dictionary (plus the
    resolved scenario when the folder could not be written here)."""
    from optimizer.pipeline import run

    t0 = time.perf_counter()
    result = None
    loaded: LoadedScenario | None = None
    explanation: list[str] = []
    detail: str | None = None
    try:
        if isinstance(base, LoadedScenario):
            loaded = base
        else:
            loaded = load_scenario_dict(
                base, name=job.get("base") or "<base>", overrides=list(job["overrides"])
            )
        result = run(loaded, config)
    except ScenarioError as exc:
        status, reason = "invalid", "; ".join(i.format() for i in exc.issues)
    except ModelTooLarge as exc:  # recorded as not valid here (re-solved on the next run)
        status, reason = "invalid", str(exc)
    except Exception as exc:  # noqa: BLE001 - recorded as this run's failure; the batch goes on
        status = "exception"
        reason = f"internal error: {type(exc).__name__}: {exc}"
        detail = traceback.format_exc()
    else:
        status = result.status
        reason = ""
        if status == "infeasible":
            found = _explain(result)
            explanation = found or []
            reason = "no feasible portfolio" + (f": {explanation[0]}" if explanation else "")
            if found == []:  # the elastic re-solve broke no requirement: HiGHS was wrong
                status = "error"
                reason = (
                    "the solver reported no feasible portfolio but a check could not confirm "
                    "it (no requirement has to be broken): numerically doubtful; check the "
                    "scenario's magnitudes"
                )
        elif status == "time_limit":
            gap = result.portfolio.get("mip_gap")
            reason = "stopped by the time limit; " + (
                f"the portfolio is the best found, within {gap:.2%} of optimal"
                if result.solve.has_solution and gap is not None
                else "the portfolio is the best found"
            )
        elif status != "optimal":
            reason = f"the solver stopped without a portfolio: {result.solve.termination}"
    seconds = time.perf_counter() - t0
    portfolio = result.portfolio if result is not None else None
    objective = result.objective if result is not None and result.solve.has_solution else None
    doc = _status_doc(
        job,
        status,
        reason=reason,
        explanation=explanation,
        objective=objective,
        seconds=round(seconds, 4),
        worker=_worker_address(),
    )
    if detail:
        doc["traceback"] = detail
    if loaded is not None:
        doc["input_sha256"] = loaded.input_sha256

    folder = Path(job["folder"])
    status_text = json.dumps(doc, indent=2, default=str) + "\n"
    written, write_error = True, None
    try:
        if result is not None and result.solve.has_solution:
            _write_results(result, folder, formats, status_text)
        else:
            writers: dict[str, Callable[[Path], None]] = {}
            if portfolio is not None:
                writers["portfolio.json"] = _text_writer(dumps_json(portfolio))
            if loaded is not None:
                writers["resolved.yaml"] = _text_writer(loaded.resolved_yaml)
            writers["status.json"] = _text_writer(status_text)
            write_folder(folder, writers)
    except OSError as exc:
        written, write_error = False, f"{type(exc).__name__}: {exc}"
    return {
        "name": job["name"],
        "status": status,
        "reason": reason,
        "explanation": explanation,
        "objective": objective,
        "seconds": seconds,
        "sha": doc["input_sha256"],
        "written": written,
        "write_error": write_error,
        "portfolio": portfolio,
        "status_doc": doc,
        "resolved_yaml": (loaded.resolved_yaml if loaded is not None and not written else None),
    }


def _explain(result) -> list[str] | None:
    """The conflicting requirements of an infeasible run; [] when the diagnosis found none
    (HiGHS's verdict is not confirmed), None when it was not run (too large) or failed."""
    try:
        if result.model.lp.stats().get("variables", 0) > EXPLAIN_MAX_COLUMNS:
            return None
        from optimizer.solve.diagnose import explain_infeasibility

        lines = explain_infeasibility(result)
        return None if lines is None else list(lines)
    except Exception:  # noqa: BLE001 - the explanation is a help, never a failure
        return None


def _relocate(batch: Batch, run: RunSpec, issues: Sequence[Issue]) -> list[Issue]:
    """Point the issues that an override caused at the line of the batch file that set it."""
    out = []
    for issue in issues:
        origin = issue.origin or ""
        if origin.startswith("set by --set "):
            text = origin[len("set by --set ") :]
            if text in run.overrides:
                line, what = run.sources[run.overrides.index(text)]
                issue = dataclasses.replace(
                    issue, file=batch.display, line=line, column=None, origin=f"{what}: {text}"
                )
        out.append(issue)
    return out


def _check_here(
    batch: Batch, base: LoadedScenario, runs: Sequence[RunSpec], seconds: float
) -> tuple[list[dict], list[RunSpec]]:
    """Validate runs in this process for at most about ``seconds``; (results, runs left)."""
    t0 = time.perf_counter()
    results: list[dict] = []
    keep = len(batch.runs) <= KEEP_LOADED_MAX
    for i, r in enumerate(runs):
        if time.perf_counter() - t0 > seconds:
            return results, list(runs[i:])
        results.extend(
            check_runs(base.resolved, batch.base_display, [(r.name, r.overrides)], batch.keys, keep)
        )
    return results, []


def _validate(
    batch: Batch, base: LoadedScenario, budget: float, start_cluster: Callable[[], Any]
) -> tuple[list[dict], list[RunSpec]]:
    """Validate runs here; once the whole would take more than ``budget`` seconds, start the
    cluster in a background thread and stop when it is up. Returns (results, runs left)."""
    from concurrent.futures import ThreadPoolExecutor

    t0 = time.perf_counter()
    results: list[dict] = []
    runs = list(batch.runs)
    keep = len(runs) <= KEEP_LOADED_MAX
    pool = None
    starting = None
    try:
        for i, r in enumerate(runs):
            if starting is not None and starting.done():
                starting.result()  # raises what starting the cluster raised
                return results, runs[i:]
            results.extend(
                check_runs(
                    base.resolved, batch.base_display, [(r.name, r.overrides)], batch.keys, keep
                )
            )
            elapsed = time.perf_counter() - t0
            if starting is None and i + 1 < len(runs):
                projected = elapsed / (i + 1) * len(runs)
                if projected > budget:
                    pool = ThreadPoolExecutor(1, thread_name_prefix="stockpile-cluster-start")
                    starting = pool.submit(start_cluster)
        if starting is not None:
            starting.result()
        return results, []
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def _check_on_cluster(
    client, batch: Batch, base: LoadedScenario, runs: Sequence[RunSpec], chunk: int | None = None
) -> list[dict]:
    """Validate runs on the cluster, in chunks."""
    jobs = [(r.name, r.overrides) for r in runs]
    if not jobs:
        return []
    n = max(1, _n_workers(client))
    size = chunk or max(1, min(50, math.ceil(len(jobs) / (4 * n))))
    keep = len(batch.runs) <= KEEP_LOADED_MAX
    futures = [
        client.submit(
            check_runs,
            base.resolved,
            batch.base_display,
            jobs[i : i + size],
            batch.keys,
            keep,
            pure=False,
        )
        for i in range(0, len(jobs), size)
    ]
    return [r for f in futures for r in f.result()]


def validate_runs(
    batch: Batch, base: LoadedScenario, client=None
) -> tuple[dict[str, str], list[tuple[Issue, list[str]]]]:
    """Validate every run: on the cluster when ``client`` is given, here otherwise.

    Returns (run name -> SHA-256 of its resolved scenario, warnings new to the base, each with
    its runs). Raises :class:`BatchError` with every problem found, each located in the batch
    file (for a bad override) or in the base scenario, with the runs it occurs in."""
    if client is None:
        results, _ = _check_here(batch, base, batch.runs, math.inf)
    else:
        results = _check_on_cluster(client, batch, base, batch.runs)
    checked, warnings = _digest(batch, base, results)
    shas = {name: c["sha"] for name, c in checked.items() if name != "__invalid__"}
    return shas, warnings


#: Largest batch whose validated scenarios are kept (about 30 kB each) and handed to the
#: workers, so that no run is loaded twice; larger batches load each run again to solve it.
KEEP_LOADED_MAX = 5_000


def _digest(
    batch: Batch, base: LoadedScenario, results: list[dict], strict: bool = True
) -> tuple[dict[str, dict], list[tuple[Issue, list[str]]]]:
    """Each valid run's check (sha, resolved values, loaded scenario) and the new warnings;
    raises BatchError for the rest."""
    by_name = {r.name: r for r in batch.runs}
    shas: dict[str, dict] = {}
    errors: dict[str, list[str]] = {}
    error_issue: dict[str, Issue] = {}
    base_warn = {(w.path, w.message) for w in base.warnings}
    warn_runs: dict[str, list[str]] = {}
    warn_issue: dict[str, Issue] = {}
    relocated = 0
    for r in results:
        run = by_name[r["name"]]
        if r["sha"] is None:
            issues = r["errors"]
            if relocated < RELOCATE_MAX_RUNS:  # the base file's own lines, from the file itself
                relocated += 1
                try:
                    load_scenario(batch.base, overrides=list(run.overrides))
                except ScenarioError as exc:
                    issues = exc.issues
                except Exception:  # noqa: BLE001 - keep the issues found on the cluster
                    pass
            for issue in _relocate(batch, run, issues):
                if issue.severity != "error":
                    continue
                key = issue.format()
                error_issue.setdefault(key, issue)
                errors.setdefault(key, []).append(run.name)
            continue
        shas[run.name] = r
        for w in r["warnings"]:
            if (w.path, w.message) in base_warn:
                continue
            w = dataclasses.replace(w, file=None, line=None, column=None)
            key = w.format()
            warn_issue.setdefault(key, w)
            warn_runs.setdefault(key, []).append(run.name)
    problems = [(error_issue[k], names) for k, names in errors.items()]
    if problems and strict:
        raise BatchError(problems)
    shas["__invalid__"] = problems  # type: ignore[assignment]  # read by run_batch
    return shas, [(warn_issue[k], names) for k, names in warn_runs.items()]
