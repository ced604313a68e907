"""Parameter sweeps: :func:`sweep_param` traces a sensitivity curve of any numeric scenario
value (a disruption's probability, a price multiplier, the cap share).

Each value's model is rebuilt as arrays; where it keeps its shape only the changed numbers go
to the HiGHS instance holding the previous value's model, which re-solves warm.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from optimizer.pipeline import RunConfig, load, run
from optimizer.results.portfolio import portfolio
from optimizer.scenario.errors import Issue, ScenarioError
from optimizer.scenario.loader import LoadedScenario
from optimizer.scenario.overrides import missing_entry
from optimizer.scenario.schema import is_rate_key
from optimizer.solve.certificate import lp_certificate
from optimizer.studies.levels import _format_value, _lookup, _source, _split_key
from optimizer.studies.progress import Progress
from optimizer.studies.sweep_frontier import SweepResult, _assemble, _certificate_note, _Level
from optimizer.studies.workers import _collect, _pool


def _param_level(src, config: RunConfig, overrides, key: str, index: int, value: float) -> _Level:
    t0 = time.perf_counter()
    cfg = replace(config, baseline=False)  # a sweep compares levels, not each with nothing
    res = run(src, cfg, overrides=(*overrides, f"{key}={_format_value(value, key)}"))
    return _Level.cold(index, value, res, time.perf_counter() - t0)


def _param_levels_warm(
    src, config: RunConfig, overrides, key: str, arr: np.ndarray, progress: Progress | None
) -> tuple[list[_Level], list[str]]:
    """The values of a parameter sweep in increasing order, one persistent HiGHS (direct
    interface) updated in place: each value's model is rebuilt as arrays (load, prepare,
    build: cheap, and done in a thread for the next value while HiGHS, which releases the GIL,
    solves this one), and when it has the shape of the model held, only its changed numbers go
    to HiGHS, which re-solves warm from the previous basis (:meth:`DirectHighs.update`). A
    value whose model has another shape (a parameter that changes the time blocks or the rows),
    and any value of a MIP, is solved cold as a fresh run. Every warm answer is checked
    against its optimality conditions; one that fails is solved again cold and that answer
    kept."""
    from optimizer.data import prepare
    from optimizer.model import build_model

    cfg = replace(config, interface="direct", warm_resolves=True, baseline=False)

    def rebuild(v: float):
        loaded = load(src, (*overrides, f"{key}={_format_value(v, key)}"))
        built = build_model(
            loaded.scenario, prepare(loaded.scenario, compress_time=cfg.compress_time)
        )
        _ = built.lp.matrix, built.lp.cost  # assembled here, in the thread
        return loaded, built

    done: list[_Level] = []
    notes: list[str] = []
    t0 = time.perf_counter()
    held = run(src, cfg, overrides=(*overrides, f"{key}={_format_value(arr[0], key)}"))
    done.append(_Level.cold(0, arr[0], held, time.perf_counter() - t0))
    if progress:
        progress(1, len(arr))
    with ThreadPoolExecutor(max_workers=1) as builder:
        upcoming = builder.submit(rebuild, float(arr[1])) if len(arr) > 1 else None
        for i in range(1, len(arr)):
            t0 = time.perf_counter()
            v = float(arr[i])
            loaded, built = upcoming.result()
            upcoming = builder.submit(rebuild, float(arr[i + 1])) if i + 1 < len(arr) else None
            lv = None
            if not held.model.lp.is_mip and held.solver.update(built.lp):
                t1 = time.perf_counter()
                result = held.solver.solve()
                solve_seconds = time.perf_counter() - t1
                cert = None
                if result.status == "optimal" and result.x is not None:
                    cert = lp_certificate(built.lp, result.x, result.row_dual)
                if cert is not None and not cert.ok:
                    notes.append(_certificate_note(f"{key} = {v:,.6g}", cert))
                else:
                    pf = portfolio(
                        loaded.scenario,
                        built,
                        result,
                        input_sha256=loaded.input_sha256,
                        seconds=dict(result.seconds),
                        interface="direct",
                    )
                    lv = _Level(i, v, pf, 0.0, solve_seconds, True, result.iterations)
                    lv.certified = cert is not None
            if lv is None:  # a MIP, another shape or a failed certificate: a fresh cold run
                held = run(loaded, cfg)
                lv = _Level.cold(i, v, held, 0.0)
            lv.seconds = time.perf_counter() - t0
            done.append(lv)
            if progress:
                progress(i + 1, len(arr))
    return done, notes


def sweep_param(
    scenario: str | Path | dict | LoadedScenario,
    key_path: str,
    values: Sequence[float] | np.ndarray,
    config: RunConfig | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    overrides: Sequence[str] = (),
) -> SweepResult:
    """Solve ``scenario`` with the numeric value at ``key_path`` (``disruptions.ban.probability``,
    ``disruptions.ban.price_multiplier``, ``risk.concentration_cap.share``, list items as
    ``hits[0].severity`` or ``hits.0.severity``) set to each of ``values``.

    Correct first, fast second: the model is **rebuilt** as arrays for every value (a
    parameter may sit anywhere: matrix coefficients, costs, scenario probabilities, the set of
    rows), and only the numbers that changed are handed to the HiGHS instance already holding
    the previous value's model, which re-solves warm (:func:`_param_levels_warm`; an LP on any
    interface but an explicit ``interface="pyomo"``, which rebuilds Pyomo's model and solves
    every value cold, as a MIP does). A value whose model has another shape is solved cold.
    ``workers > 1`` runs values in parallel processes instead (``threads=1`` each, each value
    cold). Budgets are swept faster still by :func:`sweep_budget`.

    The frontier's ``marginal_value`` is that of the total budget (NaN without one);
    ``cash_used`` is all first-stage cash. Raises ``ValueError`` when the value at
    ``key_path`` exists and is not a number, and
    :class:`~optimizer.scenario.errors.ScenarioError` when a value is out of range (a
    probability above 100 %, say).
    """
    config = config or RunConfig()
    src = _source(scenario)
    overrides = tuple(overrides)
    key = key_path.strip()
    if not key or "=" in key:
        raise ValueError(f"expected a key path such as disruptions.ban.probability, got {key!r}")
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError("a parameter sweep needs one or more finite values")
    arr = np.unique(arr)
    base = load(src, overrides)
    missing = missing_entry(base.resolved, _split_key(key), "--param")
    if missing is not None:
        origin = f"set by --param {key}"
        raise ScenarioError([Issue(None, None, None, key, *missing, origin)])
    found, current = _lookup(base.resolved, key)
    if (
        found
        and current is not None
        and (isinstance(current, (bool, dict, list)) or not isinstance(current, (int, float)))
        and not (is_rate_key(key) and isinstance(current, str))  # "0.4 per year"
    ):
        raise ValueError(
            f"{key} is not a number in this scenario (it is {current!r}); --param sweeps "
            "numeric values only"
        )

    t0 = time.perf_counter()
    notes: list[str] = []
    if workers > 1 and len(arr) > 1:
        cfg = replace(config, threads=1, warm_resolves=True)
        with _pool(min(workers, len(arr))) as ex:
            futures = [
                ex.submit(_param_level, src, cfg, overrides, key, i, float(v))
                for i, v in enumerate(arr)
            ]
            done = _collect(futures, len(arr), progress)
    elif config.interface != "pyomo":
        done, notes = _param_levels_warm(src, config, overrides, key, arr, progress)
    else:
        done = []
        for i, v in enumerate(arr):
            done.append(_param_level(src, config, overrides, key, i, float(v)))
            if progress:
                progress(i + 1, len(arr))
    is_mip = any(
        (pf.get("solver") or {}).get("model", {}).get("integer_variables", 0) > 0
        for pf in (lv.portfolio for lv in done)
    )
    result = _assemble(
        done,
        scenario=base.scenario.name,
        key=key,
        kind="param",
        budget_name="total",
        interface=(done[0].portfolio.get("solver") or {}).get("interface", config.interface),
        is_mip=is_mip,
        workers=workers,
        total_seconds=time.perf_counter() - t0,
        warnings=[w.format() for w in base.warnings] + notes,
    )
    result.order = "any" if workers > 1 and len(arr) > 1 else "up"
    return result
