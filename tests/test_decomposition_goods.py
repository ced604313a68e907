"""Cuts by good component (optimizer/solve/decomposition_split.split_by_goods): within a future
the second stage is one LP per good unless rows tie goods together, so the decomposition keeps
one ``theta`` per (group of futures, good component). Hand-worked cases, and the components of
models with and without the rows that tie goods."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from test_chains import CASE as CHAIN
from test_decomposition import EXACT, G, assert_same, decomposed_portfolio, extensive, one_good

from optimizer.solve.decomposed import DecompositionOptions, _groups, solve_decomposed
from optimizer.solve.decomposition_build import from_model
from optimizer.solve.decomposition_split import split_by_goods


def two_goods(budget: float | None = None, cvar: dict | None = None) -> dict:
    """``one_good`` (gallium, damage 100) plus germanium: the same in every number but damage
    80, both cut by the same ban (p 0.3)."""
    data = one_good(0.3, budget, cvar)
    data["goods"]["germanium"] = copy.deepcopy(data["goods"][G])
    data["goods"]["germanium"]["damage"] = 80
    return data


def components(data: dict, per_chunk: int = 1) -> tuple[int, list]:
    res = extensive(data)
    m = res.model
    gof, cog = _groups(m.data.K, per_chunk, 0)
    _, chunks = from_model(m, gof, cog, "components")
    return split_by_goods(chunks, m.data.G)[1], chunks


def test_two_goods_by_hand_with_a_shared_budget():
    """Per unit in stock (cost 20 + storage 2, credit 0.7 * 10 = 7 at the end, released in the
    ban: saves 0.3 * damage): gallium -15 (damage 100), germanium 22 - 7 - 24 = -9 (damage
    80), each up to its release limit 60. Separately: gallium 3700 - 60 * 15 = 2800,
    germanium 0.7 * 1000 + 0.3 * 80 * 100 = 3100, - 60 * 9 = 2560; together 5360.

    With a total budget of 1,980 = 90 units at 22: the 60 of gallium first (15 per unit beats
    9), then 30 of germanium: 2800 + 3100 - 30 * 9 = 5630; the budget's marginal value is
    germanium's 9/22 per euro. The budget row sits in the master; each good's cost of each
    future has its own theta (2 components), and the answer is the extensive form's, key by
    key."""
    for budget, objective, ge in ((None, 5360.0, 60.0), (1980.0, 5630.0, 30.0)):
        ext = extensive(two_goods(budget))
        assert ext.objective == pytest.approx(objective, rel=1e-9)
        d, pf = decomposed_portfolio(ext)
        assert d.status == "optimal"
        assert d.objective == pytest.approx(objective, rel=1e-7)
        assert pf["goods"][G]["stockpile"]["buy"] == pytest.approx(60, rel=1e-7)
        assert pf["goods"]["germanium"]["stockpile"]["buy"] == pytest.approx(ge, rel=1e-7)
        assert_same(ext.portfolio, pf)
        if budget is not None:
            assert pf["budget"]["total"]["marginal_value"] == pytest.approx(9 / 22, rel=1e-6)
    n, chunks = components(two_goods(1980.0))
    assert n == 2
    # one chunk per future, each with one group per good; every nonzero of a chunk's W joins
    # a row and a column of the same group
    assert [c.n_groups for c in chunks] == [2, 2]
    for c in chunks:
        W = c.W.tocoo()
        assert np.array_equal(c.row_group[W.row], c.col_group[W.col])
        assert sorted(set(c.col_group)) == [0, 1]


def test_by_good_and_summed_cuts_reach_the_same_optimum():
    """Same two-goods case with the budget: cuts per good (default) and per group of futures
    with every good summed (``by_good=False``) certify the same 5630."""
    ext = extensive(two_goods(1980.0))
    for by_good in (True, False):
        d = solve_decomposed(
            ext.model, EXACT, DecompositionOptions(gap=1e-9, futures_per_chunk=2, by_good=by_good)
        )
        assert d.status == "optimal"
        assert d.objective == pytest.approx(5630.0, rel=1e-7)
        assert d.lower_bound == pytest.approx(5630.0, rel=1e-6)


def test_rows_that_tie_goods_merge_their_components():
    """The CVaR's excess row of a future holds every good's loss: one component. A good made
    from another (the magnet chain of tests/test_chains.py, objective 30900 by hand there)
    shares the input's balance rows: one component, and the decomposed run still gives
    30900."""
    n, _ = components(two_goods(1980.0, cvar={"alpha": 0.8, "weight": 0.1}))
    assert n == 1
    n, chunks = components(copy.deepcopy(CHAIN))
    assert n == 1
    assert all(c.n_groups == 1 for c in chunks)
    ext = extensive(copy.deepcopy(CHAIN))
    d, pf = decomposed_portfolio(ext)
    assert d.objective == pytest.approx(30900, rel=1e-7)
    assert_same(ext.portfolio, pf)
