"""The decomposition's chunks built straight from the data (optimizer/solve/decomposition_build.py)
against the split of the whole built model: the same master, the same W, T, h per chunk, the
same numbering, so the same optimum and the same portfolio.json."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from optimizer.api import load
from optimizer.data import futures_subset, prepare
from optimizer.model import build_model
from optimizer.results import portfolio
from optimizer.solve.decomposed import DecompositionOptions, _groups, solve_decomposed
from optimizer.solve.decomposition_build import from_data, from_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import synthetic_scenario  # noqa: E402
from test_decomposition import EXACT, TIGHT, assert_same, extensive, one_good  # noqa: E402


def _same(a, b, what: str) -> None:
    """Two arrays, sparse matrices or scalars exactly equal."""
    if hasattr(a, "toarray"):
        assert a.shape == b.shape, what
        assert (a != b).nnz == 0, what
    elif isinstance(a, np.ndarray):
        assert a.shape == b.shape, what
        np.testing.assert_array_equal(a, b, err_msg=what)
    else:
        assert a == b, what


def _both(scenario, data, per_chunk: int, cut_groups: int = 0):
    whole = build_model(scenario, data)
    layout = build_model(scenario, data, layout_only=True)
    gof, cog = _groups(data.K, per_chunk, cut_groups)
    return from_model(whole, gof, cog, "t"), from_data(scenario, layout, gof, cog, "t"), layout


def test_futures_subset_by_hand():
    """The one-good case: futures ``no_disruption`` (p 0.7) and ``ban`` (p 0.3), a 1-year
    window of one yearly period, one supplier: one cell and one supplier cell per future.
    The subset of futures 1..1 is ``ban`` alone: K = 1, p = [0.3] (not renormalised), its cell
    renumbered to future 0 and its supplier cell to cell 0, CN's availability 0 (severity 1)."""
    sc = load(one_good(0.3)).scenario
    d = prepare(sc)
    assert d.K == 2 and d.C == 2
    s = futures_subset(d, 1, 2)
    assert s.scenarios == ["ban"]
    assert s.probability == pytest.approx([0.3])
    assert list(s.cell_k) == [0] and list(s.sc_cell) == [0]
    assert s.avail[0, 0, 0] == pytest.approx(0.0)
    assert d.avail[0, 0, 0] == pytest.approx(1.0)  # the whole data is unchanged
    assert futures_subset(d, 0, 2).C == 2


@pytest.mark.parametrize(
    ("seed", "integer", "compress", "per_chunk", "cut_groups"),
    [
        (1, False, True, 3, 0),
        (2, False, False, 2, 0),  # concentration cap, every period its own block
        (3, False, True, 1, 1),  # concentration cap, one future per chunk
        (2, True, True, 4, 0),  # MIP first stage
        (5, True, False, 100, 3),  # one chunk, three cut groups
    ],
)
def test_chunks_from_data_equal_the_split_of_the_whole_model(
    seed, integer, compress, per_chunk, cut_groups
):
    """Random synthetic cases (4 goods x 3 suppliers x 12 months, 8 disruptions; budget
    lines, CVaR weight, the concentration cap on seeds 2 and 3; integer levers with
    ``integer``): every field of the master data (costs, bounds, artificial bounds, master
    rows and their coefficients, constant) and of every chunk (global columns and rows, W, T,
    row bounds and scales, cut groups) is exactly the same from the data as from the split."""
    sc = load(synthetic_scenario(4, 3, 12, 8, seed=seed, integer=integer)).scenario
    data = prepare(sc, compress_time=compress)
    (s1, c1), (s2, c2), layout = _both(sc, data, per_chunk, cut_groups)
    for f in s1.__dataclass_fields__:
        _same(getattr(s1, f), getattr(s2, f), f"master {f}")
    assert len(c1) == len(c2) > 0
    for a, b in zip(c1, c2):
        for f in a.__dataclass_fields__:
            _same(getattr(a, f), getattr(b, f), f"chunk {a.index} {f}")
    whole = build_model(sc, data)
    assert layout.lp.stats() == whole.lp.stats()
    assert s2.is_mip == integer


def test_data_path_gives_the_extensive_portfolio():
    """Solving from the data (``scenario=``) with the layout-only model, then summarising
    with the results stage, gives the extensive form's portfolio.json key by key: the
    one-good hand case with a budget of 660 (buy 30, objective 3250, budget marginal value
    15/22, see test_decomposition.py) and a random MIP case."""
    ext = extensive(one_good(0.3, 660.0))
    sc = ext.loaded.scenario
    layout = build_model(sc, prepare(sc), layout_only=True)
    d = solve_decomposed(layout, EXACT, TIGHT, scenario=sc)
    assert d.objective == pytest.approx(3250.0, rel=1e-7)
    pf = portfolio(
        sc, layout, d, input_sha256=ext.loaded.input_sha256, seconds={}, interface="decomposed"
    )
    assert pf["budget"]["total"]["marginal_value"] == pytest.approx(15 / 22, rel=1e-6)
    assert_same(ext.portfolio, pf)

    ext = extensive(synthetic_scenario(4, 3, 12, 8, seed=2, integer=True))
    sc = ext.loaded.scenario
    layout = build_model(sc, prepare(sc), layout_only=True)
    dec = DecompositionOptions(gap=1e-8, futures_per_chunk=3)
    d = solve_decomposed(layout, EXACT, dec, scenario=sc)
    assert d.status == "optimal"
    assert d.objective == pytest.approx(ext.objective, rel=1e-6)
    pf = portfolio(
        sc, layout, d, input_sha256=ext.loaded.input_sha256, seconds={}, interface="decomposed"
    )
    assert_same(ext.portfolio, pf, rel=1e-5, abs_=1e-3)


def test_chunks_without_their_solvers_give_the_same_cuts_warm():
    """``keep_solvers=False`` keeps only each chunk's basis: the cut data equal those of kept
    HiGHS objects, and a second call at the same first stage restarts from the stored basis,
    already optimal: 0 simplex iterations (the cold first call needs some)."""
    from optimizer.solve.decomposition_pool import LocalPool

    sc = load(synthetic_scenario(4, 3, 12, 8, seed=1, integer=False)).scenario
    data = prepare(sc)
    layout = build_model(sc, data, layout_only=True)
    gof, cog = _groups(data.K, 3, 0)
    stage, chunks = from_data(sc, layout, gof, cog, "basis-kept")
    _, bare_chunks = from_data(sc, layout, gof, cog, "basis-only")  # its own cache entries
    x = np.minimum(stage.lower + 1.0, np.minimum(stage.upper, stage.artificial_upper))
    kept = LocalPool(chunks, keep_solvers=True)
    bare = LocalPool(bare_chunks, keep_solvers=False)
    try:
        want = kept.evaluate(x)
        first = bare.evaluate(x)
        again = bare.evaluate(x)
        assert sum(r.iterations for r in first) > 0
        assert [r.iterations for r in again] == [0] * len(chunks)
        for a, b in zip(want, again):
            assert b.status == "Optimal"
            np.testing.assert_allclose(b.value, a.value, rtol=1e-9, atol=1e-6)
            np.testing.assert_allclose(
                b.gradient.toarray(), a.gradient.toarray(), rtol=1e-7, atol=1e-6
            )
    finally:
        kept.close()
        bare.close()


def test_memory_estimate_when_decomposed():
    """A decomposed run holds the data, the layout and the chunks' arrays, not the whole LP:
    1,000,000 estimated columns cost 150 bytes each (150 MB) instead of 1 kB (1 GB), so the
    estimate drops by 850 MB, the rest unchanged. ``may_decompose``: the one-good case under
    ``auto`` estimated at 99,999 columns: no, at 100,000 (the lower, MIP threshold: whether
    the model has integer columns is known only once it is built): yes; asked ``decomposed``:
    yes; with a CVaR limit (a row the method refuses): no."""
    from optimizer.model.size import SizeEstimate, decomposed_estimate
    from optimizer.solve.decomposition_choice import may_decompose

    est = SizeEstimate(2, 1, 1, 12, columns=1_000_000, nonzeros=3_000_000, bytes=2.0e9)
    assert decomposed_estimate(est).bytes == pytest.approx(2.0e9 - 0.85e9)
    assert decomposed_estimate(est).columns == 1_000_000
    sc = load(one_good(0.3)).scenario
    assert not may_decompose(sc, "auto", 99_999)
    assert may_decompose(sc, "auto", 100_000)
    assert may_decompose(sc, "decomposed", 2)
    assert not may_decompose(sc, "extensive", 10_000)
    limited = load(one_good(0.3, cvar={"alpha": 0.8, "limit": 5000})).scenario
    assert not may_decompose(limited, "decomposed", 10_000)


def test_a_priced_benchmark_decomposes_like_the_extensive_form():
    """A CRMA-style benchmark (at most 50 % of each good from the first supplier's country,
    5 % of the damage per unit over it) adds ``limit_over_*`` columns: second stage of the
    no_disruption future (future 0), whose limit rows only chunk 0 holds. One future per chunk
    (so chunks 1.. drop the rows and the columns), from the whole model and from the data: the
    same chunks field by field, and the extensive form's objective to 1e-6."""
    raw = synthetic_scenario(4, 3, 12, 8, seed=1)
    raw["risk"] = dict(raw.get("risk") or {})
    raw["risk"]["limits"] = {"crma": {"max_share": "50%", "per_country": True, "benchmark": 1000}}
    ext = extensive(raw)
    assert ext.portfolio["limits"]["crma"]["units_over"] > 0  # the benchmark is exceeded
    sc = ext.loaded.scenario
    data = prepare(sc)
    (s1, c1), (s2, c2), layout = _both(sc, data, 1)
    for a, b in zip(c1, c2):
        for f in a.__dataclass_fields__:
            _same(getattr(a, f), getattr(b, f), f"chunk {a.index} {f}")
    for use_data in (False, True):
        built = layout if use_data else build_model(sc, data)
        dec = DecompositionOptions(gap=1e-8, futures_per_chunk=1)
        d = solve_decomposed(built, EXACT, dec, scenario=sc if use_data else None)
        assert d.status == "optimal"
        assert d.objective == pytest.approx(ext.objective, rel=1e-6)


def test_a_chunk_built_again_is_the_chunk_first_built():
    """``ChunkSource.one(c)`` (what a pool calls when the worker holding chunk ``c`` was lost,
    the client keeping no chunk) gives exactly the arrays ``all()`` gave for ``c``, cut
    groups split by good included: here a budget and the concentration cap (seed 2) with
    integer first-stage columns, no CVaR (so one component per good: 4 goods)."""
    from optimizer.solve.decomposition_build import ChunkSource
    from optimizer.solve.decomposition_split import split_by_goods

    data = synthetic_scenario(4, 3, 12, 8, seed=2, integer=True)
    data["risk"].pop("cvar", None)
    sc = load(data).scenario
    d = prepare(sc)
    layout = build_model(sc, d, layout_only=True)
    gof, cog = _groups(d.K, 3, 0)
    source = ChunkSource(sc, layout, gof, cog, "again")
    _, chunks = source.all()
    source.goods = split_by_goods(chunks, d.G)
    assert source.goods[1] == 4
    for c, first in enumerate(chunks):
        again = source.one(c)
        for name in vars(first):
            _same(getattr(first, name), getattr(again, name), f"chunk {c} {name}")


def test_lost_worker_s_chunks_are_built_again_from_the_data():
    """With a ``rebuild`` function the Dask pool keeps no chunk in this process (and its
    workers run without Dask's profiler); after a
    worker is killed its chunks are built again from the data and sent elsewhere: the same
    cut values as in-process, ``resends`` > 0."""
    import contextlib
    import os

    from optimizer.solve.decomposition_build import ChunkSource
    from optimizer.solve.decomposition_pool import DaskPool, LocalPool, local_client

    sc = load(synthetic_scenario(3, 2, 12, 6, seed=3, integer=False)).scenario
    d = prepare(sc)
    layout = build_model(sc, d, layout_only=True)
    gof, cog = _groups(d.K, 2, 0)
    source = ChunkSource(sc, layout, gof, cog, "rebuilt")
    stage, chunks = source.all()
    x = np.minimum(stage.lower + 1.0, np.minimum(stage.upper, stage.artificial_upper))
    local = LocalPool(chunks)
    want = local.evaluate(x)
    local.close()
    with local_client(workers=2) as client:
        pool = DaskPool(client, chunks, rebuild=source.one)
        assert pool.chunks is None
        # the workers run without Dask's statistical profiler (solve/cluster.WORKER_CONFIG)
        profiled = client.run(
            lambda: __import__("dask").config.get("distributed.worker.profile.enabled")
        )
        assert set(profiled.values()) == {False}
        victim = sorted(client.scheduler_info()["workers"])[0]
        with contextlib.suppress(Exception):  # the worker dies before it can answer
            client.run(os._exit, 1, workers=[victim])
        got = pool.evaluate(x)
        pool.close()
    assert pool.resends > 0
    for a, b in zip(want, got):
        np.testing.assert_allclose(b.value, a.value, rtol=1e-9, atol=1e-6)


def test_a_sampled_start_changes_where_the_method_begins_not_where_it_ends():
    """``start_futures``: the first first stage is the extensive optimum on the first futures.
    The one-good case (optimum 2800 with 60 bought, by hand in tests/test_decomposition.py)
    with its ban (0.3) written as two identical bans of 0.15: three futures, the same optimum.
    A start on the first two (no_disruption 0.7 and one ban 0.15, scaled to 0.82 and 0.18):
    a unit in stock nets 22 - 0.82 * 10 - 0.18 * 100 < 0, so 60 are bought, the optimum
    itself: the first upper bound is 2800 already. From the cheapest first stage (nothing
    bought) the first upper bound is 3700 (0.7 * 1000 + 0.3 * 100 * 100). Both end at 2800."""
    from optimizer.solve.decomposition_start import sample_start

    data = one_good(0.15)
    data["disruptions"]["ban_b"] = data["disruptions"]["ban"]
    sc = load(data).scenario
    d = prepare(sc)
    assert d.K == 3
    layout = build_model(sc, d, layout_only=True)
    start = sample_start(sc, d, 2, EXACT, 1)
    assert start is not None and start[0] == pytest.approx(60.0, rel=1e-9)
    for futures, first_upper in ((0, 3700.0), (2, 2800.0)):
        dec = DecompositionOptions(gap=1e-9, futures_per_chunk=1, start_futures=futures)
        res = solve_decomposed(layout, EXACT, dec, scenario=sc)
        assert res.objective == pytest.approx(2800.0, rel=1e-7)
        assert res.history[0][1] == pytest.approx(first_upper, rel=1e-7)


def test_chunks_are_placed_on_workers_by_size():
    """Largest first to the least loaded worker. Sizes 10, 7, 5, 4, 3 on two workers: 10 -> A,
    7 -> B, 5 -> B (7 < 10; B 12), 4 -> A (10 < 12; A 14), 3 -> B (12 < 14; B 15): A holds
    chunks 0 and 3 (14), B 1, 2 and 4 (15), where round-robin gave 18 against 11."""
    from optimizer.solve.decomposition_pool import place_by_size

    placed = place_by_size({0: 10, 1: 7, 2: 5, 3: 4, 4: 3}, ["A", "B"])
    assert placed == {"A": [0, 3], "B": [1, 2, 4]}
    assert place_by_size({0: 5}, ["A", "B"]) == {"A": [0], "B": []}
