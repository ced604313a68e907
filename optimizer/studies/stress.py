"""The stress test (``stockpile stress``): portfolios tested on futures they were not tuned to.

``risk-model.md``, "The stress test", is the contract. :func:`run_stress` reads each results
folder's first stage, obtains the futures (:func:`~optimizer.studies.stress_eval.stress_futures`),
evaluates every portfolio on every future (:func:`~optimizer.studies.stress_eval.evaluate`) and, on
request, the value of information and the statistical quality of the run's sample:

- **EVPI** (expected value of perfect information) ``= RP - WS``: ``RP`` is the portfolio's
  expected cost on the futures, ``WS`` (wait and see) the expectation of each future's own
  optimum when that future is known in advance (a full model per future, first stage free).
  On more than ``evpi_samples`` futures, ``WS`` is estimated on that many futures drawn by
  probability, with its confidence interval.
- **VSS** (value of the stochastic solution) ``= EEV - RP``: ``EEV`` is the expected cost, on
  the same futures, of the first stage optimised on the *average future* (see
  :func:`optimizer.studies.stress_eval.average_future`).
- **Replications** (Mak, Morton & Wood 1999): ``M`` independent sample sets of the run's size,
  each solved; per set ``r`` the gap ``f_r(x) - v_r`` between the portfolio's cost on the set
  and the set's own optimum; their mean and 95 % interval (Student t), and how much the
  decisions move between sets.

Money in euros over the window.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from optimizer.data import ModelData
from optimizer.model import build_model
from optimizer.pipeline import RunConfig
from optimizer.results import dumps_json, write_csv, write_folder
from optimizer.results.stress_report import (
    exceedance_png,
    mean_ci,
    stress_document,
    stress_table,
    write_stress_report,
)
from optimizer.scenario.loader import load_scenario, load_scenario_dict
from optimizer.scenario.schema import Scenario
from optimizer.solve.base import SolverOptions
from optimizer.solve.direct import DirectHighs
from optimizer.studies.stress_eval import (  # noqa: F401 - StressError is part of this API
    ChunkRunner,
    Decisions,
    Evaluation,
    Futures,
    StressError,
    StressSolveError,
    average_future,
    chunk_runner,
    decisions_from_portfolio,
    evaluate,
    read_results_folder,
    stress_futures,
    without_cvar,
)

#: Default cap on the futures solved with perfect foresight for EVPI.
EVPI_SAMPLES = 200
#: The sample is "enough" when the gap's 95 % upper end is below this share of the cost.
GAP_TARGET = 0.01


@dataclass
class StressOutcome:
    """What :func:`run_stress` produced: the ``stress.json`` dictionary and the evaluation."""

    document: dict
    evaluation: Evaluation
    labels: list[str]
    out: Path | None


def _labels(folders: Sequence[Path]) -> list[str]:
    """One label per folder: its name, made unique with its position when names repeat."""
    names = [Path(f).name or str(f) for f in folders]
    return [n if names.count(n) == 1 else f"{n} ({i + 1})" for i, n in enumerate(names)]


def run_seed(scenario: Scenario) -> int | None:
    """The seed the run drew its own futures with (None for hand-written disruptions)."""
    rm = getattr(scenario, "risk_model", None)
    return getattr(rm, "seed", None) if rm is not None else None


def solve_full(scenario: Scenario, data: ModelData, options: SolverOptions, what: str):
    """Build and solve the whole model (first stage free, no CVaR term) over ``data``."""
    m = build_model(without_cvar(scenario), data)
    res = DirectHighs(m.lp, options).solve()
    if res.status != "optimal" or res.x is None:
        raise StressSolveError(f"{what}: HiGHS ended {res.termination}")
    return m, res


def _wait_and_see_job(futures: Futures, options: SolverOptions, compress: bool, index):
    """Each future's own optimum with perfect foresight (one full model per future: with
    foresight every future has its own first stage)."""
    out = np.zeros(len(index))
    for n, i in enumerate(index):
        data, _ = futures.prepare(np.array([i]), compress, probability=np.ones(1))
        _, res = solve_full(futures.scenario, data, options, f"future {futures.names[i]}")
        out[n] = res.objective
    return out


def evpi_subset(futures: Futures, cap: int, seed: int) -> tuple[np.ndarray, np.ndarray, int | None]:
    """The futures EVPI is computed on: all of them when at most ``cap`` (their weights, exact
    for hand-written ones), else ``cap`` drawn by probability (seeded), equally weighted."""
    if len(futures) <= cap:
        return np.arange(len(futures)), futures.weight, futures.draws
    rng = np.random.default_rng(seed)
    drawn = rng.choice(len(futures), size=cap, p=futures.weight)
    index, counts = np.unique(drawn, return_counts=True)
    return index, counts / cap, cap


def run_stress(
    folders: Sequence[str | Path],
    out: str | Path | None,
    *,
    scenario_file: str | Path | dict | Scenario | None = None,
    samples: int | None = None,
    seed: int | None = None,
    config: RunConfig | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    evpi: bool = False,
    vss: bool = False,
    evpi_samples: int = EVPI_SAMPLES,
    replications: int = 0,
    chunk: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> StressOutcome:
    """The whole stress test of the results ``folders`` on the futures of ``scenario_file``
    (a path, a scenario as a dictionary or a validated :class:`Scenario`; default: the first
    folder's ``resolved.yaml``).
    Writes ``stress.json``, ``stress.csv`` and ``report.html`` into ``out`` (atomically)
    unless ``out`` is None. ``progress(phase, done, total)`` as futures are solved. Raises
    :class:`StressError` (the user's input), :class:`~optimizer.scenario.errors.ScenarioError`
    (a bad scenario file) and :class:`StressSolveError`."""
    from optimizer.studies.stress_eval import CHUNK

    t0 = time.perf_counter()
    rc = config or RunConfig()
    if (workers or 1) > 1 or scheduler is not None:
        rc = dataclasses.replace(rc, threads=1)  # one HiGHS thread per worker, as batches
    options = rc.solver_options(False)
    runs = [read_results_folder(f) for f in folders]
    if isinstance(scenario_file, Scenario):  # already validated (scripts, benchmarks)
        source: object = scenario_file.name
        scenario = scenario_file
    elif isinstance(scenario_file, dict):  # a scenario as data (scripts, benchmarks)
        source = scenario_file.get("name", "the scenario given")
        scenario = load_scenario_dict(scenario_file).scenario
    else:
        source = Path(scenario_file) if scenario_file is not None else runs[0].resolved
        scenario = load_scenario(source).scenario
    own_seed = run_seed(load_scenario(runs[0].resolved).scenario)
    if seed is None:
        seed = own_seed + 1 if own_seed is not None else 1
    futures = stress_futures(scenario, samples, seed)
    if replications and futures.draws is None:
        raise StressError(
            f"{source}: --replications needs futures drawn from a risk_model: block; this file "
            "has hand-written disruptions only (its expectation is exact, there is no sample "
            "to replicate). Leave out --replications or give --scenario a file with a risk model"
        )
    labels = _labels([r.path for r in runs])
    base, _ = futures.prepare(np.array([0]), rc.compress_time)
    decisions = [
        decisions_from_portfolio(label, r.portfolio, base) for label, r in zip(labels, runs)
    ]

    with chunk_runner(workers, scheduler) as runner:
        extra: list[Decisions] = []
        if vss:
            avg = average_future(futures, rc.compress_time)
            m, res = solve_full(scenario, avg, options, "the average future")
            extra.append(Decisions.from_solution("average-future plan", m, res.x))

        def tick(phase: str, total: int):
            done = [0]

            def step(n: int) -> None:
                done[0] += n
                if progress:
                    progress(phase, done[0], total)

            return step

        ev = evaluate(
            futures,
            decisions + extra,
            options,
            compress_time=rc.compress_time,
            chunk=chunk or CHUNK,
            runner=runner,
            progress=tick("futures", len(futures)),
        )
        doc = stress_document(
            _only(ev, len(decisions)), labels, [str(r.path) for r in runs], time.perf_counter() - t0
        )
        voi: dict = {}
        if evpi:
            index, w, draws = evpi_subset(futures, evpi_samples, seed)
            size = max(1, (chunk or CHUNK) // 20)
            jobs = [(index[i : i + size],) for i in range(0, len(index), size)]
            parts = runner.map(
                _wait_and_see_job,
                (futures, options, rc.compress_time),
                jobs,
                tick("perfect foresight", len(index)),
            )
            ws = np.concatenate(parts)
            for i, label in enumerate(labels):
                voi.setdefault(label, {})
                voi[label]["evpi"] = mean_ci(ev.cost[i, index] - ws, w, draws)
                voi[label]["wait_and_see"] = mean_ci(ws, w, draws)
                voi[label]["evpi_futures"] = int(len(index))
        if vss:
            eev = ev.cost[len(decisions)]
            for i, label in enumerate(labels):
                voi.setdefault(label, {})
                voi[label]["vss"] = mean_ci(eev - ev.cost[i], futures.weight, futures.draws)
                voi[label]["expected_cost_average_future_plan"] = mean_ci(
                    eev, futures.weight, futures.draws
                )
        if voi:
            doc["value_of_information"] = voi
        if replications:
            doc["replications"] = replicate(
                scenario,
                decisions[0],
                replications,
                run_size(scenario, futures),
                seed + 1,
                options,
                rc.compress_time,
                upper=doc["portfolios"][labels[0]]["expected_cost"],
                runner=runner,
            )
    doc["seconds"]["total"] = round(time.perf_counter() - t0, 3)
    ev_shown = _only(ev, len(decisions))
    written = None
    if out is not None:
        png = exceedance_png(ev_shown, labels)
        table = stress_table(ev_shown, labels)
        written = write_folder(
            Path(out),
            {
                "stress.json": lambda p: p.write_text(dumps_json(doc), encoding="utf-8"),
                "stress.csv": lambda p: write_csv(table, p),
                "report.html": lambda p: write_stress_report(doc, png, p),
            },
        )
    return StressOutcome(doc, ev_shown, labels, written)


def _only(ev: Evaluation, n: int) -> Evaluation:
    """The evaluation of the first ``n`` portfolios (the user's, not the average-future plan)."""
    return Evaluation(
        ev.futures, ev.decisions[:n], ev.cost[:n], ev.loss[:n], ev.shortfall[:n],
        ev.over_limit[:n], ev.seconds, ev.workers,
    )  # fmt: skip


def run_size(scenario: Scenario, futures: Futures) -> int:
    """The run's sample size: ``risk_model.samples``, else the number of futures."""
    rm = getattr(scenario, "risk_model", None)
    return int(getattr(rm, "samples", 0) or len(futures))


def replicate(
    scenario: Scenario,
    candidate: Decisions,
    m_sets: int,
    n: int,
    first_seed: int,
    options: SolverOptions,
    compress_time: bool = True,
    *,
    upper: dict | None = None,
    draw: Callable[[Scenario, int, int], Futures] = stress_futures,
    runner: ChunkRunner | None = None,
) -> dict:
    """The multiple-replication procedure of Mak, Morton & Wood (1999).

    For ``r = 1..M``: draw ``n`` futures (seed ``first_seed + r - 1``), solve the model over
    them (``v_r``, the set's optimum, and its decisions) and evaluate ``candidate`` on the same
    set (``f_r``). ``gap_r = f_r - v_r >= 0``; the gap estimate is their mean with a Student-t
    95 % interval; ``lower_bound`` the mean of ``v_r``. ``upper``: the candidate's expected cost
    on the fresh stress futures. The sample is enough when the gap's upper end is below
    :data:`GAP_TARGET` of the cost; otherwise ``suggested_samples = n (gap upper / target)^2``
    (the interval narrows as ``1 / sqrt(n)``)."""
    from scipy import stats

    v, f = np.zeros(m_sets), np.zeros(m_sets)
    moves: list[Decisions] = []
    for r in range(m_sets):
        fut = draw(scenario, n, first_seed + r)
        data, _ = fut.prepare(np.arange(len(fut)), compress_time)
        m, res = solve_full(scenario, data, options, f"sample set {r + 1}")
        v[r] = res.objective
        moves.append(Decisions.from_solution(f"set {r + 1}", m, res.x))
        ev = evaluate(fut, [candidate], options, compress_time=compress_time, runner=runner)
        f[r] = float(fut.weight @ ev.cost[0])
    t = float(stats.t.ppf(0.975, m_sets - 1)) if m_sets > 1 else math.inf
    gap = f - v
    half = t * gap.std(ddof=1) / math.sqrt(m_sets) if m_sets > 1 else math.inf
    lb_half = t * v.std(ddof=1) / math.sqrt(m_sets) if m_sets > 1 else math.inf
    cost = abs(upper["mean"]) if upper else abs(float(f.mean()))
    gap_hi = float(gap.mean() + half)
    target = GAP_TARGET * cost
    enough = bool(gap_hi <= target)
    goods = list(scenario.goods)
    sup_good = np.concatenate(
        [np.full(len(g.suppliers), i) for i, g in enumerate(scenario.goods.values())]
    ).astype(int)

    def spread(values: np.ndarray) -> dict:
        return {
            g: {"mean": float(values[:, i].mean()), "sd": float(values[:, i].std(ddof=1))}
            if m_sets > 1
            else {"mean": float(values[:, i].mean()), "sd": None}
            for i, g in enumerate(goods)
        }

    reserve = np.array([np.bincount(sup_good, d.reserve, len(goods)) for d in moves])
    return {
        "replications": m_sets,
        "samples": n,
        "seeds": [first_seed, first_seed + m_sets - 1],
        "lower_bound": {"mean": float(v.mean()), "ci95": [v.mean() - lb_half, v.mean() + lb_half]},
        "upper_bound": upper,
        "gap": {"mean": float(gap.mean()), "ci95": [max(0.0, gap.mean() - half), gap_hi]},
        "gap_share_upper": gap_hi / cost if cost else None,
        "target_share": GAP_TARGET,
        "enough": enough,
        "suggested_samples": None
        if enough or not math.isfinite(gap_hi)
        else int(math.ceil(n * (gap_hi / target) ** 2)),
        "decisions_spread": {
            "stock_bought": spread(np.array([d.buy for d in moves])),
            "reserve": spread(reserve),
            "domestic_capacity": spread(np.array([d.build for d in moves])),
        },
    }


__all__ = [
    "EVPI_SAMPLES",
    "StressError",
    "StressOutcome",
    "StressSolveError",
    "replicate",
    "run_stress",
]
