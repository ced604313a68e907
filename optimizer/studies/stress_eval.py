"""The stress test's evaluation: fixed first-stage decisions solved on many futures.

The study (``stockpile stress``) is :mod:`optimizer.stress`; this module reads results folders,
obtains the futures and solves them. Each results folder's
first stage (stock bought, reserves, domestic capacity, demand-reduction preparation and the
binaries that go with them) is read back, fixed, and every future's second stage is solved.
With the first stage fixed the LP separates by future, so many futures share one LP (a chunk):
one build and one HiGHS call per chunk, never one per future. Chunks run in this process
(``workers=1``) or on the Dask set-up of batches.

Per future ``k`` (euros over the window): ``cost_k = first-stage cost + operating cost_k -
residual credit_k`` and ``loss_k = sum_g damage_g * shortfall_kg``; the first-stage cost counts
domestic capex times ``min(1, years / lifetime)`` as in the objective. Its weighted mean is the
run's objective without the CVaR term (``portfolio.json``: ``first_stage_economic +
expected_second_stage``).

The one place that obtains futures is :func:`stress_futures`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from optimizer.data import NO_DISRUPTION, ModelData, prepare
from optimizer.model import build_model
from optimizer.model.lp import INF
from optimizer.model.terms import LEVERS, BuiltModel
from optimizer.results.portfolio import Solution
from optimizer.scenario.schema import Scenario
from optimizer.solve.base import SolverOptions
from optimizer.solve.direct import DirectHighs

#: First-stage column blocks of the model (``terms.py``).
FIRST_STAGE = ("buy", "reserve", "contract", "build", "plant", "modules", "prepare")
#: Futures per LP: large enough that HiGHS's set-up is shared, small enough for quick solves.
CHUNK = 200
#: Shortfall beyond a good's ``max_shortfall`` share below this many units counts as met.
LIMIT_TOL = 1e-6


class StressError(Exception):
    """A problem with the user's input (a folder that is not a results folder, goods that do
    not match the scenario); the message says which file and what to change."""


class StressSolveError(Exception):
    """HiGHS did not solve a chunk of futures to optimality (time limit, numerical trouble)."""


# --- reading a results folder -------------------------------------------------------------------


@dataclass
class Decisions:
    """First-stage decisions aligned with a :class:`ModelData`'s goods (G,) and suppliers (J,).

    ``buy``: units bought into the stockpile; ``reserve``: units per year reserved per supplier;
    ``build``: domestic capacity built, units per year; ``prepare``: 1 where the demand measure
    is prepared. ``in_sample``: the run's own figures (euros), when read from a results folder.
    """

    label: str
    buy: np.ndarray
    reserve: np.ndarray
    build: np.ndarray
    prepare: np.ndarray
    in_sample: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_solution(cls, label: str, m: BuiltModel, x: np.ndarray) -> Decisions:
        """The decisions of a solved model ``m`` at column values ``x``."""

        def val(name: str) -> np.ndarray:
            cols = m.cols[name]
            return np.where(cols >= 0, x[np.maximum(cols, 0)], 0.0)

        return cls(label, val("buy"), val("reserve"), val("build"), np.round(val("prepare")))


@dataclass
class ResultsFolder:
    """A run's results folder: its ``portfolio.json`` and the path of its ``resolved.yaml``."""

    path: Path
    portfolio: dict
    resolved: Path

    @property
    def label(self) -> str:
        return self.path.name or str(self.path)


def read_results_folder(folder: str | Path) -> ResultsFolder:
    """Read a folder written by ``stockpile run``; :class:`StressError` when it is not one."""
    path = Path(folder)
    if not path.is_dir():
        raise StressError(f"{path}: no such folder; give a folder written by `stockpile run`")
    pf_path, resolved = path / "portfolio.json", path / "resolved.yaml"
    for f in (pf_path, resolved):
        if not f.is_file():
            raise StressError(
                f"{path}: not a results folder ({f.name} is missing); give a folder written "
                "by `stockpile run --out DIR` with the json and yaml formats"
            )
    try:
        pf = json.loads(pf_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StressError(f"{pf_path}: cannot be read as JSON ({exc})") from None
    if not isinstance(pf, dict) or not pf.get("goods"):
        status = pf.get("status") if isinstance(pf, dict) else None
        raise StressError(
            f"{pf_path}: holds no portfolio (status {status!r}); only a run that found a "
            "portfolio can be stress-tested"
        )
    return ResultsFolder(path, pf, resolved)


def decisions_from_portfolio(label: str, pf: dict, data: ModelData) -> Decisions:
    """The first stage of ``portfolio.json`` aligned with ``data`` (the evaluation scenario).

    ``portfolio.json`` writes each value exactly (JSON round-trips floats); only solver noise
    below 1e-9 was written as 0. :class:`StressError` when the goods or reserved suppliers do
    not match the evaluation scenario's."""
    goods = pf["goods"]
    missing = [g for g in data.goods if g not in goods]
    extra = [g for g in goods if g not in data.goods]
    if missing or extra:
        raise StressError(
            f"{label}: the portfolio's goods do not match the scenario evaluated "
            f"(missing from the portfolio: {', '.join(missing) or 'none'}; not in the scenario: "
            f"{', '.join(extra) or 'none'}); use --scenario with a file of the same goods"
        )
    gi = {g: i for i, g in enumerate(data.goods)}
    buy, build, prep = np.zeros(data.G), np.zeros(data.G), np.zeros(data.G)
    reserve = np.zeros(data.J)
    for g, v in goods.items():
        i = gi[g]
        buy[i] = float(v["stockpile"]["buy"] or 0.0)
        build[i] = float(v["domestic"]["capacity"] or 0.0)
        prep[i] = 1.0 if (v.get("demand_reduction") or {}).get("prepared") else 0.0
        for name, q in (v.get("reserve") or {}).items():
            of_good = np.flatnonzero(data.supplier_good == i)
            js = [j for j in of_good if data.supplier_names[j] == name]
            if not js:
                if q:
                    raise StressError(
                        f"{label}: reserve with supplier {name!r} of {g} is not in the scenario "
                        "evaluated; use --scenario with a file of the same suppliers"
                    )
                continue
            reserve[js[0]] = float(q or 0.0)
    cost = pf.get("cost") or {}
    in_sample = {
        "expected_cost": (cost.get("first_stage_economic") or 0.0)
        + (cost.get("expected_second_stage") or 0.0),
        "expected_loss": cost.get("expected_loss") or 0.0,
        "cvar": cost.get("cvar"),
        "cvar_alpha": cost.get("cvar_alpha"),
        "objective": pf.get("objective"),
    }
    return Decisions(label, buy, reserve, build, prep, in_sample)


# --- futures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Futures:
    """The futures a stress test evaluates: ``names`` (``no_disruption`` first) with their
    probabilities ``weight`` (sum 1). ``draws``: None for a file's hand-written disruptions
    (weighted, the expectation over them is exact); otherwise the number of equally weighted
    draws they stand for (identical draws merged, their weights the share of draws)."""

    scenario: Scenario
    names: list[str]
    weight: np.ndarray
    draws: int | None = None
    seed: int | None = None
    data: ModelData | None = None  # the prepared futures, when sampled

    def __len__(self) -> int:
        return len(self.names)

    def prepare(
        self, index: np.ndarray, compress_time: bool = True, probability: np.ndarray | None = None
    ) -> tuple[ModelData, np.ndarray]:
        """Model data of the futures at positions ``index`` (ascending) and, per scenario ``k``
        of that data, the position of its future (-1 for an extra ``no_disruption``, which
        every model holds so that normal-times limits apply; probability 0). ``probability``
        per future of ``index`` (default: their weights)."""
        index = np.asarray(index, dtype=np.int64)
        p = self.weight[index] if probability is None else np.asarray(probability, float)
        if self.data is not None:
            ks = index if index[0] == 0 else np.concatenate([[0], index])
            data = subset_data(self.data, ks)
        else:
            chosen = {self.names[i]: None for i in index if i > 0}
            disruptions = {k: v for k, v in self.scenario.disruptions.items() if k in chosen}
            data = prepare(self.scenario.model_copy(update={"disruptions": disruptions}),
                           compress_time=compress_time)  # fmt: skip
        position = index if index[0] == 0 else np.concatenate([[-1], index])
        prob = np.zeros(len(position))
        prob[position >= 0] = p
        return dataclasses.replace(data, probability=prob), position


def stress_futures(scenario: Scenario, samples: int | None, seed: int | None) -> Futures:
    """The futures to evaluate: ``samples`` fresh draws (seed ``seed``) from the scenario's
    ``risk_model``, or, for a scenario without one, its hand-written disruptions with their
    probabilities (``samples`` and ``seed`` then do not apply)."""
    risk_model = getattr(scenario, "risk_model", None)
    if risk_model is not None:  # sampled (branch `risk`): N equally weighted draws
        n = int(samples or risk_model.samples)
        data = prepare(scenario, compress_time=True, samples=n, seed=seed)  # type: ignore[call-arg]
        return Futures(scenario, list(data.scenarios), data.probability, n, seed, data)
    names = [NO_DISRUPTION, *scenario.disruptions]
    p = np.array([0.0] + [d.probability for d in scenario.disruptions.values()])
    p[0] = max(0.0, 1.0 - p[1:].sum())
    return Futures(scenario, names, p / p.sum())


def subset_data(data: ModelData, ks: np.ndarray) -> ModelData:
    """The scenarios ``ks`` (ascending) of ``data``, with their cells and supplier cells; the
    same arrays as preparing those scenarios alone (time blocks never span scenarios)."""
    ks = np.asarray(ks, dtype=np.int64)
    new_k = np.full(data.K, -1, dtype=np.int64)
    new_k[ks] = np.arange(len(ks))
    keep = new_k[data.cell_k] >= 0
    new_cell = np.cumsum(keep) - 1
    keep_sc = keep[data.sc_cell]
    return dataclasses.replace(
        data,
        scenarios=[data.scenarios[k] for k in ks],
        probability=data.probability[ks],
        disrupted=data.disrupted[ks],
        price_mult=data.price_mult[ks],
        demand_mult=data.demand_mult[ks],
        avail=data.avail[ks],
        spot_ok=data.spot_ok[ks],
        cell_k=new_k[data.cell_k[keep]],
        cell_g=data.cell_g[keep],
        cell_t0=data.cell_t0[keep],
        cell_len=data.cell_len[keep],
        sc_cell=new_cell[data.sc_cell[keep_sc]],
        sc_j=data.sc_j[keep_sc],
    )


# --- evaluation ---------------------------------------------------------------------------------


def without_cvar(scenario: Scenario) -> Scenario:
    """The scenario with no CVaR term or limit: the stress test reports expected cost."""
    return scenario.model_copy(update={"risk": scenario.risk.model_copy(update={"cvar": None})})


def first_stage_values(m: BuiltModel, dec: Decisions) -> tuple[np.ndarray, np.ndarray]:
    """Columns of every first-stage block and the values ``dec`` fixes them at (binaries
    follow the quantities: a contract is signed where something is reserved, a plant built
    where capacity is, modules = capacity / module size)."""
    d = m.data
    tol = 1e-9
    size = np.nan_to_num(d.module, nan=1.0)
    modules = np.round(np.where(np.isnan(d.module), 0.0, dec.build / size))
    values = {
        "buy": dec.buy,
        "reserve": dec.reserve,
        "contract": (dec.reserve > tol).astype(float),
        "build": dec.build,
        "plant": (dec.build > tol).astype(float),
        "modules": modules,
        "prepare": dec.prepare,
    }
    cols, vals = [], []
    for name in FIRST_STAGE:
        c = m.cols[name]
        where = np.flatnonzero(c >= 0)
        cols.append(c[where])
        vals.append(values[name][where])
    return np.concatenate(cols).astype(np.int64), np.concatenate(vals)


def fix_first_stage(m: BuiltModel, dec: Decisions) -> np.ndarray:
    """Fix every first-stage column at ``dec`` (bounds lower = upper, integers made
    continuous) and free the rows that hold first-stage columns only (budgets, coverage,
    contract and plant links: the decisions are given, not chosen). Returns the columns."""
    lp = m.lp
    cols, vals = first_stage_values(m, dec)
    first = np.zeros(lp.n_cols, dtype=bool)
    first[cols] = True
    for name in FIRST_STAGE:
        b = lp.variables[name]
        b.kind = "continuous"
    set_columns(m, cols, vals)
    A = lp.matrix.tocsr()
    second = np.abs(A) @ (~first).astype(float) > 0
    only_first = (np.diff(A.indptr) > 0) & ~second
    for b in lp.constraints.values():
        sel = only_first[b.start : b.start + b.size]
        b.lower[sel], b.upper[sel] = -INF, INF
    return cols


def set_columns(m: BuiltModel, cols: np.ndarray, vals: np.ndarray) -> None:
    """Set columns' bounds to ``lower = upper = vals`` in the model's blocks."""
    for b in m.lp.variables.values():
        sel = (cols >= b.start) & (cols < b.start + b.size)
        b.lower[cols[sel] - b.start] = vals[sel]
        b.upper[cols[sel] - b.start] = vals[sel]


def _limit_slack(m: BuiltModel) -> None:
    """Let ``max_shortfall`` rows be exceeded at a penalty per unit above any euro a unit of
    supply can cost, so that a future where the fixed first stage cannot meet the limit is
    solved (and flagged) instead of making its whole chunk infeasible. Where the limit can be
    met the penalty keeps the excess at 0 (an exact penalty), so the futures' optimum is
    unchanged."""
    rows = m.rows.get("max_shortfall")
    if rows is None or len(rows) == 0:
        return
    d = m.data
    top = max(
        float(d.damage.max(initial=0)),
        float(d.supplier_cost.max(initial=0) * d.price_mult.max(initial=1)),
        float(d.production_cost.max(initial=0)),
        float(d.reduction_cost.max(initial=0)),
        float(d.stock_unit_cost.max(initial=0)),
    )
    cols = m.lp.add_variables("max_shortfall_excess", len(rows), 0.0, INF, 10.0 * top + 1.0)
    m.lp.add_terms(rows, cols, -1.0)


@dataclass
class ChunkResult:
    """Per portfolio (first axis) and future of a chunk: ``cost`` and ``loss`` (euros),
    ``shortfall`` per good (units), ``over_limit`` (a good's ``max_shortfall`` not met).
    ``position``: the futures' positions in :class:`Futures`."""

    position: np.ndarray
    cost: np.ndarray
    loss: np.ndarray
    shortfall: np.ndarray
    over_limit: np.ndarray
    seconds: float = 0.0


def per_future(m: BuiltModel, x: np.ndarray) -> tuple[np.ndarray, ...]:
    """Cost, loss, shortfall per good and over-limit flag of every scenario of ``m`` at ``x``
    (vectorised over cells): cost = first-stage cost (capex times its lifetime share) +
    operating cost - credit for the stock held at the end."""
    d = m.data
    sol = Solution(m, x)
    life = np.ones((d.G, len(LEVERS)))
    life[:, LEVERS.index("domestic")] = d.life_share
    first = float((sol.cash * life).sum())
    credit = d.residual_value * d.stock_unit_cost * d.has_stock
    cost = first + sol.operating_cost_k() - sol.stock_final_kg @ credit
    # no service level (nan) means no limit, also where demand is 0 (inf * 0 would be nan)
    limit = np.where(
        np.isnan(d.max_shortfall), np.inf, np.nan_to_num(d.max_shortfall) * sol.demand_kg
    )
    over = (sol.shortfall_kg > limit * (1 + 1e-7) + LIMIT_TOL).any(axis=1)
    return cost, sol.loss_k, sol.shortfall_kg, over


def evaluate_chunk(
    futures: Futures,
    index: np.ndarray,
    decisions: Sequence[Decisions],
    options: SolverOptions,
    compress_time: bool = True,
) -> ChunkResult:
    """Solve the second stage of the futures at ``index`` for each portfolio in one LP: built
    once, each portfolio's first stage set as column bounds and re-solved warm."""
    import time

    t0 = time.perf_counter()
    data, position = futures.prepare(index, compress_time, probability=np.ones(len(index)))
    # every scenario weighted 1 in the LP: each future's own cost, none left at probability 0
    data = dataclasses.replace(data, probability=np.ones(data.K))
    m = build_model(without_cvar(futures.scenario), data)
    fix_first_stage(m, decisions[0])
    _limit_slack(m)
    solver = DirectHighs(m.lp, options)
    keep = position >= 0
    P, n = len(decisions), int(keep.sum())
    out = ChunkResult(
        position[keep], np.zeros((P, n)), np.zeros((P, n)), np.zeros((P, n, data.G)),
        np.zeros((P, n), dtype=bool),
    )  # fmt: skip
    for i, dec in enumerate(decisions):
        if i:
            cols, vals = first_stage_values(m, dec)
            set_columns(m, cols, vals)
            solver.h.changeColsBounds(len(cols), cols.astype(np.int32), vals, vals)
        res = solver.solve()
        if res.status != "optimal" or res.x is None:
            raise StressSolveError(
                f"futures {futures.names[index[0]]} to {futures.names[index[-1]]} for "
                f"{dec.label}: HiGHS ended {res.termination}"
            )
        cost, loss, short, over = per_future(m, res.x)
        out.cost[i], out.loss[i], out.shortfall[i], out.over_limit[i] = (
            cost[keep], loss[keep], short[keep], over[keep]
        )  # fmt: skip
    out.seconds = time.perf_counter() - t0
    return out


def chunks(n: int, size: int = CHUNK) -> list[np.ndarray]:
    """Positions ``0..n-1`` cut into consecutive chunks of at most ``size``."""
    return [np.arange(lo, min(n, lo + size)) for lo in range(0, n, max(1, size))]


@dataclass
class Evaluation:
    """Every portfolio on every future: arrays (portfolio, future[, good])."""

    futures: Futures
    decisions: list[Decisions]
    cost: np.ndarray
    loss: np.ndarray
    shortfall: np.ndarray
    over_limit: np.ndarray
    seconds: float = 0.0
    workers: int = 1


def _collect(futures: Futures, decisions, parts: list[ChunkResult]) -> Evaluation:
    P, K = len(decisions), len(futures)
    G = parts[0].shortfall.shape[2] if parts else 0
    ev = Evaluation(
        futures, list(decisions), np.zeros((P, K)), np.zeros((P, K)), np.zeros((P, K, G)),
        np.zeros((P, K), dtype=bool),
    )  # fmt: skip
    for part in parts:
        ev.cost[:, part.position] = part.cost
        ev.loss[:, part.position] = part.loss
        ev.shortfall[:, part.position] = part.shortfall
        ev.over_limit[:, part.position] = part.over_limit
    return ev


class ChunkRunner:
    """Runs jobs ``fn(*shared, *job)``: in this process (``client`` None) or on a Dask client,
    ``shared`` scattered once to every worker (no Pyomo or HiGHS object is ever sent)."""

    def __init__(self, client=None) -> None:
        self.client = client

    @property
    def workers(self) -> int:
        if self.client is None:
            return 1
        from optimizer.studies.workers import _n_workers

        return _n_workers(self.client)

    def map(
        self,
        fn: Callable,
        shared: tuple,
        jobs: Sequence[tuple],
        progress: Callable[[int], None] | None = None,
    ) -> list:
        """The results of every job in job order; ``progress(n)`` after each job with the
        length of its first argument (the futures it solved)."""

        def size(job: tuple) -> int:
            return len(job[0]) if job and hasattr(job[0], "__len__") else 1

        if self.client is None:
            results = []
            for job in jobs:
                results.append(fn(*shared, *job))
                if progress:
                    progress(size(job))
            return results
        from distributed import as_completed

        client = self.client
        sent = [client.scatter(s, broadcast=True, hash=False) for s in shared]
        futs = [client.submit(fn, *sent, *job, pure=False) for job in jobs]
        order = {f.key: i for i, f in enumerate(futs)}
        results = [None] * len(jobs)
        for fut in as_completed(futs, loop=client.loop):
            i = order[fut.key]
            results[i] = fut.result()
            if progress:
                progress(size(jobs[i]))
        return results


@contextmanager
def chunk_runner(workers: int | None = 1, scheduler: str | None = None) -> Iterator[ChunkRunner]:
    """In this process with one worker, else on the Dask set-up of batches: a local cluster of
    ``workers`` processes (one HiGHS thread each) or the scheduler at ``scheduler``; one
    cluster for a whole study."""
    if (workers or 1) == 1 and scheduler is None:
        yield ChunkRunner(None)
        return
    import warnings

    from optimizer.studies.workers import _quiet_dask, dask_client

    # no "port 8787 in use" warning: no dashboard is served
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with (
            _quiet_dask(),
            dask_client(
                workers=workers, scheduler=scheduler, preload=("optimizer.studies.stress_eval",)
            ) as client,
        ):
            yield ChunkRunner(client)


def evaluate(
    futures: Futures,
    decisions: Sequence[Decisions],
    options: SolverOptions,
    *,
    compress_time: bool = True,
    chunk: int = CHUNK,
    runner: ChunkRunner | None = None,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """Every portfolio of ``decisions`` on every future, ``chunk`` futures per LP, on
    ``runner`` (default: in this process)."""
    import time

    t0 = time.perf_counter()
    jobs = [(idx,) for idx in chunks(len(futures), chunk)]
    runner = runner or ChunkRunner()
    parts = runner.map(
        _eval_job, (futures, list(decisions), options, compress_time), jobs, progress
    )
    n = runner.workers
    ev = _collect(futures, decisions, parts)
    ev.seconds, ev.workers = time.perf_counter() - t0, n
    return ev


def _eval_job(futures, decisions, options, compress_time, index):
    return evaluate_chunk(futures, index, decisions, options, compress_time)


def average_future(futures: Futures, compress_time: bool = True) -> ModelData:
    """The *average future*: one future with probability 1 (beside ``no_disruption`` at 0),
    each period as its own block, where per supplier and period the availability is the
    expected availability ``sum_k p_k avail_kjt``, spot purchases are open where futures
    holding at least half the probability have spot access, and per good and period the price
    and demand multipliers are their expectations; the good counts as disrupted (stock may be
    released, not refilled) in the periods where any future of positive probability
    disrupts it."""
    data, _ = futures.prepare(np.arange(len(futures)), compress_time)
    p = futures.weight
    pos = p > 0

    def two(normal: np.ndarray, avg: np.ndarray) -> np.ndarray:
        return np.stack([normal, avg])

    G, J, T = data.G, data.J, data.T
    avail = two(np.ones((J, T)), np.tensordot(p, data.avail, 1))
    spot_ok = two(np.ones((J, T), bool), np.tensordot(p, data.spot_ok.astype(float), 1) >= 0.5)
    disrupted = two(np.zeros((G, T), bool), data.disrupted[pos].any(axis=0))
    price = two(np.ones((G, T)), np.tensordot(p, data.price_mult, 1))
    demand = two(np.ones((G, T)), np.tensordot(p, data.demand_mult, 1))
    cell_k = np.repeat(np.arange(2), G * T)
    cell_g = np.tile(np.repeat(np.arange(G), T), 2)
    cell_t0 = np.tile(np.arange(T), 2 * G)
    n_sup = np.bincount(data.supplier_good, minlength=G)
    first_sup = np.concatenate([[0], np.cumsum(n_sup)[:-1]]).astype(np.int64)
    per_cell = n_sup[cell_g]
    sc_cell = np.repeat(np.arange(len(cell_k)), per_cell)
    offsets = np.arange(per_cell.sum()) - np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
    return dataclasses.replace(
        data,
        scenarios=[NO_DISRUPTION, "average_future"],
        probability=np.array([0.0, 1.0]),
        disrupted=disrupted,
        price_mult=price,
        demand_mult=demand,
        avail=avail,
        spot_ok=spot_ok,
        cell_k=cell_k,
        cell_g=cell_g,
        cell_t0=cell_t0,
        cell_len=np.ones(len(cell_k), dtype=np.int64),
        sc_cell=sc_cell,
        sc_j=first_sup[cell_g][sc_cell] + offsets,
    )
