"""The L-shaped method (optimizer/solve/decomposed.py) against the extensive form.

Hand-worked cases first (the optimum in each docstring), then random synthetic cases (LP and
MIP, with CVaR, budget lines and the concentration cap) where the extensive form's optimum is
the reference: the decomposed objective equals it to 1e-6 relative, the bounds bracket it, and
the assembled x is a feasible point of the extensive LP with that objective (so an optimal one).
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from optimizer.api import RunConfig, run
from optimizer.results import portfolio
from optimizer.solve import SolverOptions
from optimizer.solve.certificate import lp_certificate
from optimizer.solve.decomposed import DecompositionOptions, NotDecomposable, solve_decomposed
from optimizer.solve.decomposition_pool import DaskPool, LocalPool, local_client
from optimizer.solve.decomposition_split import split_model

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import synthetic_scenario  # noqa: E402

G = "gallium"
EXACT = SolverOptions(mip_gap=1e-9)
TIGHT = DecompositionOptions(gap=1e-8, futures_per_chunk=2)


def extensive(data: dict):
    # the baseline "against doing nothing" is an extra solve of its own, not part of the
    # portfolio the decomposition reproduces
    res = run(data, config=RunConfig(interface="direct", mip_gap=1e-9, baseline=False))
    assert res.status == "optimal"
    return res


def decomposed_portfolio(res, dec: DecompositionOptions = TIGHT):
    """Solve the extensive run's own built model by decomposition and summarise it with the
    results stage, as ``run`` would."""
    d = solve_decomposed(res.model, EXACT, dec)
    pf = portfolio(
        res.loaded.scenario,
        res.model,
        d,
        input_sha256=res.loaded.input_sha256,
        seconds={},
        interface="decomposed",
    )
    return d, pf


def assert_same(a, b, path="portfolio", rel=1e-6, abs_=1e-6):
    """Every key and value of two portfolio dictionaries the same (numbers to tolerance),
    except the solver's own report."""
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            if path == "portfolio" and k in ("solver", "termination", "mip_gap"):
                continue
            assert_same(a[k], b[k], f"{path}.{k}", rel, abs_)
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{path}[{i}]", rel, abs_)
    elif isinstance(a, float | int) and not isinstance(a, bool) and a is not None:
        assert b == pytest.approx(a, rel=rel, abs=abs_), path
    else:
        assert a == b, path


def one_good(p: float, budget: float | None = None, cvar: dict | None = None) -> dict:
    data = {
        "name": "decomposition hand case",
        "window": {"years": 1, "period": "year"},
        "countries": {"CN": {}},
        "goods": {
            G: {
                "demand": 100,
                "damage": 100,
                "suppliers": {"cn": {"country": "CN", "unit_cost": 10, "capacity": 1000}},
                "stockpile": {
                    "unit_cost": 20,
                    "storage_cost": 2,
                    "residual_value": "50%",
                    "max_release": 60,
                },
            }
        },
        "disruptions": {
            "ban": {
                "probability": p,
                "duration": "1 year",
                "hits": [{"countries": ["CN"], "severity": 1.0}],
            }
        },
    }
    if budget is not None:
        data["budget"] = {"total": budget}
    if cvar is not None:
        data["risk"] = {"cvar": cvar}
    return copy.deepcopy(data)


# --- hand-worked -------------------------------------------------------------------------------


def test_one_good_two_futures_by_hand():
    """One good, two futures: ``no_disruption`` (0.7) and ``ban`` (0.3, CN cut for the whole
    1-year window). Stock unit cost a = 20, storage h = 2 per unit-year, residual 50 % (credit
    10 per unit still held at the end), release at most 60; CN sells at 10; damage 100.

    A unit in stock costs 22 of cash, earns 0.7 * 10 = 7 of credit in no_disruption and saves
    0.3 * 100 = 30 of damage in ban (when released): net -15 per unit up to the 60 that can be
    released. Without a budget: buy 60, objective 0.7*1000 + 0.3*100*100 - 60*15 = 2800.
    With a total budget of 660 = 30 * 22: buy 30, objective 3700 - 30*15 = 3250; one more euro
    buys 1/22 unit, saving 15/22 of objective: the budget's marginal value.

    The decomposed master holds ``buy`` and the budget row; its cuts come from the two futures'
    subproblems (the stock balance holds ``buy``). Same portfolio.json, key by key."""
    for budget, buy, objective in ((None, 60.0, 2800.0), (660.0, 30.0, 3250.0)):
        ext = extensive(one_good(0.3, budget))
        d, pf = decomposed_portfolio(ext)
        assert d.status == "optimal"
        assert d.objective == pytest.approx(objective, rel=1e-7)
        assert d.lower_bound <= objective * (1 + 1e-9)
        assert d.upper_bound == pytest.approx(objective, rel=1e-7)
        assert pf["goods"][G]["stockpile"]["buy"] == pytest.approx(buy, rel=1e-7)
        assert_same(ext.portfolio, pf)
        if budget is not None:
            assert pf["budget"]["total"]["marginal_value"] == pytest.approx(15 / 22, rel=1e-6)


def test_cvar_threshold_is_first_stage_by_hand():
    """The ``one_good`` case at p = 0.3 with CVaR weight 0.1 at alpha 0.8, release limit 60.

    Loss in ban: 100 * (100 - x) (x units released, x <= 60); 0 in no_disruption. The worst
    20 % of probability lies in ban, so CVaR = loss(ban) = 100 (100 - x), slope -100 per unit,
    weight 0.1: -10. Net per unit -15 - 10 = -25 < 0 up to 60: buy 60.
    Objective 2800 + 0.1 * 100 * 40 = 3200, CVaR 4000. eta (the threshold) sits in the master,
    the excess of each future in its subproblem."""
    ext = extensive(one_good(0.3, cvar={"alpha": 0.8, "weight": 0.1}))
    assert ext.objective == pytest.approx(3200)
    d, pf = decomposed_portfolio(ext)
    assert d.objective == pytest.approx(3200, rel=1e-7)
    assert pf["cost"]["cvar"] == pytest.approx(4000, rel=1e-7)
    assert pf["goods"][G]["stockpile"]["buy"] == pytest.approx(60, rel=1e-7)
    assert_same(ext.portfolio, pf)


def test_mip_first_stage_by_hand():
    """A binary in the master: cn (CN, 10, capacity 1000) is cut by ``ban`` (p 0.3) for the
    whole 1-year window; jp (JP, 30, spot capacity 20) offers a reservation of up to 30
    units/year at a fee of 5 with a fixed contract cost of 100 (binary ``contract``); demand
    100, damage 100; total budget 200.

    Without levers: 0.7*100*10 + 0.3*(20*30 + 80*100) = 700 + 2580 = 3280. A reserved unit
    replaces a shortfall (100) by a purchase at 30 in ban: saves 0.3*70 = 21 for a fee of 5,
    net -16. Signed, the budget leaves (200 - 100)/5 = 20 units: 3280 - 20*16 + 100 = 3060 <
    3280, so sign and reserve 20. With the contract fixed, one more euro reserves 1/5 unit:
    marginal value (21 - 5)/5 = 3.2 (from the master LP with the binary fixed)."""
    data = one_good(0.3, budget=200)
    good = data["goods"][G]
    del good["stockpile"]
    good["suppliers"]["jp"] = {
        "country": "JP",
        "unit_cost": 30,
        "capacity": 20,
        "reserve": {"max": 30, "fee": 5, "fixed_cost": 100},
    }
    data["countries"]["JP"] = {}
    ext = extensive(data)
    assert ext.model.lp.is_mip
    d, pf = decomposed_portfolio(ext)
    assert d.objective == pytest.approx(3060, rel=1e-7)
    assert pf["goods"][G]["reserve"]["jp"] == pytest.approx(20, rel=1e-7)
    assert pf["budget"]["total"]["marginal_value"] == pytest.approx(3.2, rel=1e-6)
    assert_same(ext.portfolio, pf)


def test_split_puts_each_row_where_its_columns_are():
    """The one-good case with a budget: master = the budget row (buy only); every other row
    holds the columns of one future; ``buy`` and nothing else is first stage."""
    ext = extensive(one_good(0.3, 660.0))
    s = split_model(ext.model)
    lp = ext.model.lp
    assert [lp.block_of_row(int(r))[0] for r in s.master_rows] == ["budget_total"]
    assert list(s.first) == list(lp.variables["buy"].index)
    assert set(s.row_future[s.row_future >= 0]) == {0, 1}


def test_refuses_what_it_cannot_do():
    """A CVaR limit sums every future's excess: refused with the reason (solve extensive)."""
    ext = extensive(one_good(0.3, cvar={"alpha": 0.8, "limit": 5000}))
    with pytest.raises(NotDecomposable, match="CVaR limit"):
        solve_decomposed(ext.model, EXACT)


def test_choose_method(monkeypatch):
    """``auto`` decomposes from ``min_columns`` columns of the extensive form on (the one-good
    case's own count ``n``: decomposed at ``n``, not at ``n + 1``), never a model with a CVaR
    limit; ``decomposed`` on that model raises with the reason. Without ``min_columns``, an
    LP is held to ``AUTO_MIN_COLUMNS`` (500,000) and a model with integer columns to
    ``AUTO_MIN_COLUMNS_MIP`` (100,000): with the two set to ``n + 1`` and ``n``, the LP of
    ``n`` columns stays extensive and a MIP of ``n`` columns is decomposed."""
    import optimizer.solve.decomposition_choice as dec_mod
    from optimizer.solve.decomposition_choice import (
        AUTO_MIN_COLUMNS,
        AUTO_MIN_COLUMNS_MIP,
        choose_method,
    )

    assert (AUTO_MIN_COLUMNS, AUTO_MIN_COLUMNS_MIP) == (500_000, 100_000)  # docs/model.md
    m = extensive(one_good(0.3)).model
    n = m.lp.n_cols
    why = f"{n:,} columns >= {n:,} (2 futures)"
    assert choose_method(m, "auto", min_columns=n) == ("decomposed", why)
    method, why = choose_method(m, "auto", min_columns=n + 1)
    assert method == "extensive" and why == f"{n:,} columns < {n + 1:,}"
    assert choose_method(m, "auto")[0] == "extensive"
    assert choose_method(m, "extensive", min_columns=1)[0] == "extensive"
    data = one_good(0.3)
    data["goods"][G]["suppliers"]["cn"]["reserve"] = {"max": 10, "fee": 1, "fixed_cost": 5}
    mip = extensive(data).model
    assert mip.lp.is_mip and not m.lp.is_mip
    k = mip.lp.n_cols
    monkeypatch.setattr(dec_mod, "AUTO_MIN_COLUMNS_MIP", k)
    monkeypatch.setattr(dec_mod, "AUTO_MIN_COLUMNS", k + 1)
    assert choose_method(mip, "auto")[0] == "decomposed"
    monkeypatch.setattr(dec_mod, "AUTO_MIN_COLUMNS", n)
    monkeypatch.setattr(dec_mod, "AUTO_MIN_COLUMNS_MIP", 1)
    assert choose_method(m, "auto")[0] == "decomposed"
    monkeypatch.setattr(dec_mod, "AUTO_MIN_COLUMNS", n + 1)
    assert choose_method(m, "auto")[0] == "extensive"
    limited = extensive(one_good(0.3, cvar={"alpha": 0.8, "limit": 5000})).model
    method, why = choose_method(limited, "auto", min_columns=1)
    assert method == "extensive" and "CVaR limit" in why
    with pytest.raises(NotDecomposable):
        choose_method(limited, "decomposed")


# --- random synthetic cases --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seed", "integer"),
    [(1, False), (2, False), (3, False), (2, True), (5, True)],
)
def test_random_cases_match_extensive(seed, integer):
    """Synthetic scenarios (4 goods x 3 suppliers x 12 months, 8 disruptions: budget total and
    lines, CVaR weight; seeds 2 and 3 have the concentration cap; with ``integer`` 5 and 7
    integer columns: contracts, plants, modules, preparation). The
    extensive form's objective z* lies within the certified bounds, the decomposed objective is
    the extensive LP's objective at the assembled x and equals z* to 1e-6, and that x satisfies
    every row of the extensive LP."""
    data = synthetic_scenario(4, 3, 12, 8, seed=seed, integer=integer)
    ext = extensive(data)
    d = solve_decomposed(ext.model, EXACT, DecompositionOptions(gap=1e-8, futures_per_chunk=3))
    assert d.status == "optimal"
    z = ext.objective
    assert d.objective == pytest.approx(z, rel=1e-6)
    assert d.lower_bound <= z + 1e-7 * abs(z)
    assert d.upper_bound >= z - 1e-7 * abs(z)
    lp = ext.model.lp
    assert d.objective == pytest.approx(float(lp.cost @ d.x + lp.objective_constant), rel=1e-12)
    cert = lp_certificate(lp, d.x, np.zeros(lp.n_rows))
    assert cert.primal_violation <= 1e-6
    assert lp.is_mip == integer


def test_time_limit_returns_the_best_first_stage_with_its_exact_objective():
    """With no time to iterate, the loop stops after its first master solve: status
    ``time_limit``, the starting first stage with its futures solved (so the objective is the
    extensive LP's at that x, >= the optimum z*) and a lower bound <= z*."""
    ext = extensive(synthetic_scenario(3, 2, 12, 5, seed=7, integer=False))
    z = ext.objective
    d = solve_decomposed(ext.model, SolverOptions(time_limit=0.0), DecompositionOptions())
    assert d.status == "time_limit"
    assert d.has_solution
    lp = ext.model.lp
    assert d.objective == pytest.approx(float(lp.cost @ d.x + lp.objective_constant), rel=1e-12)
    assert d.objective >= z * (1 - 1e-9)
    assert d.lower_bound <= z * (1 + 1e-9)
    assert d.gap > 1e-6


def test_chunking_and_level_do_not_change_the_answer():
    """The same optimum whatever the chunk size, the cut groups or the level stabilisation."""
    data = synthetic_scenario(3, 3, 12, 10, seed=11, integer=False)
    ext = extensive(data)
    for dec in (
        DecompositionOptions(gap=1e-8, futures_per_chunk=1, cut_groups=1),
        DecompositionOptions(gap=1e-8, futures_per_chunk=4, level=0.5),
        DecompositionOptions(gap=1e-8, futures_per_chunk=100),
    ):
        d = solve_decomposed(ext.model, EXACT, dec)
        assert d.objective == pytest.approx(ext.objective, rel=1e-6), dec


# --- workers -----------------------------------------------------------------------------------


def test_two_local_workers_and_a_lost_one():
    """Chunks on two Dask worker processes give the in-process cut data; after one worker is
    killed, its chunks are sent again and solved elsewhere (same cut data, ``resends`` > 0)."""
    data = synthetic_scenario(3, 2, 12, 6, seed=3, integer=False)
    ext = extensive(data)
    m = ext.model
    s = split_model(m)
    from optimizer.solve.decomposed import _groups
    from optimizer.solve.decomposition_split import make_chunks

    gof, cog = _groups(s.K, 2, 0)
    chunks = make_chunks(m, s, gof, cog, "test-token")
    x = np.clip(ext.solve.x[s.first], s.lower, None)
    want = LocalPool(chunks).evaluate(x)
    with local_client(workers=2) as client:
        pool = DaskPool(client, chunks)
        got = pool.evaluate(x)
        for a, b in zip(want, got):
            np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-6)
        victim = sorted(client.scheduler_info()["workers"])[0]
        with contextlib.suppress(Exception):  # the worker dies before it can answer
            client.run(os._exit, 1, workers=[victim])
        again = pool.evaluate(x)
        for a, b in zip(want, again):
            np.testing.assert_allclose(a.value, b.value, rtol=1e-9, atol=1e-6)
        assert pool.resends > 0
        pool.close()
        d = solve_decomposed(m, EXACT, DecompositionOptions(gap=1e-8, client=client))
    assert d.workers >= 1  # the killed worker may not have come back yet
    assert d.objective == pytest.approx(ext.objective, rel=1e-6)


def test_chunk_solvers_kept_below_a_column_count_per_process(monkeypatch):
    """``keeps_solvers``: HiGHS objects are kept while each process that solves chunks holds
    fewer than ``KEEP_SOLVERS_MAX_COLUMNS`` (1,000,000) columns and all their copies (750 bytes
    a column) fit in a quarter of the memory. 1,900,000 columns: on 2 processes 950,000 each,
    kept; in one, not; with 4 GB of memory, not (1.425 GB > 1 GB). The solve applies it with
    the pool's workers: the threshold set between n/2 and n columns of a small model keeps them
    on 2 workers and not in this process, and the answer is the same either way."""
    import optimizer.solve.decomposition_pool as dec_mod

    assert dec_mod.keeps_solvers(1_900_000, 2)
    assert not dec_mod.keeps_solvers(1_900_000, 1)
    assert not dec_mod.keeps_solvers(2_000_000, 2)  # 1,000,000 each: not below
    # and all copies within a quarter of the memory: 750 B x 1.9M = 1.425 GB > 4 GB / 4
    assert not dec_mod.keeps_solvers(1_900_000, 2, memory=4e9)
    assert dec_mod.keeps_solvers(1_900_000, 2, memory=5.7e9)  # 1.425 GB = 5.7 GB / 4
    assert dec_mod.keeps_solvers(1_900_000, 2, memory=0)  # unknown: not checked
    data = synthetic_scenario(3, 2, 12, 6, seed=3, integer=False)
    ext = extensive(data)
    m = ext.model
    n = m.lp.n_cols
    monkeypatch.setattr(dec_mod, "KEEP_SOLVERS_MAX_COLUMNS", n * 3 // 4)
    alone = solve_decomposed(m, EXACT, DecompositionOptions(gap=1e-8, futures_per_chunk=2))
    assert not alone.kept_solvers
    with local_client(workers=2) as client:
        spread = solve_decomposed(
            m, EXACT, DecompositionOptions(gap=1e-8, client=client, futures_per_chunk=2)
        )
    assert spread.workers == 2 and spread.kept_solvers
    asked = solve_decomposed(m, EXACT, DecompositionOptions(gap=1e-8, keep_solvers=True))
    assert asked.kept_solvers
    for d in (alone, spread, asked):
        assert d.objective == pytest.approx(ext.objective, rel=1e-6)


# --- solver.method through the pipeline and the command line ----------------------------------


def test_method_decomposed_through_run_gives_the_hand_worked_optimum():
    """``RunConfig(method="decomposed")`` in :func:`optimizer.pipeline.run`: the one-good case
    without a budget (objective 2800, buy 60: see the first test) and portfolio.json says how
    it was solved, with both bounds; ``auto`` on 2 futures stays extensive and says why."""
    from optimizer.pipeline import RunConfig, run

    res = run(one_good(0.3), RunConfig(method="decomposed"))
    assert res.status == "optimal"
    assert res.objective == pytest.approx(2800.0, rel=1e-7)
    assert res.portfolio["goods"][G]["stockpile"]["buy"] == pytest.approx(60.0, rel=1e-7)
    method = res.portfolio["solver"]["method"]
    assert method["used"] == "decomposed" and method["why"] == "asked for"
    assert method["lower_bound"] <= 2800.0 * (1 + 1e-9)
    assert method["upper_bound"] == pytest.approx(2800.0, rel=1e-7)
    auto = run(one_good(0.3), RunConfig())
    n = auto.portfolio["solver"]["method"]
    assert n["used"] == "extensive" and re.fullmatch(r"\d[\d,]* columns < 500,000", n["why"])
    assert auto.objective == pytest.approx(2800.0, rel=1e-7)


def test_cli_method_decomposed_on_a_model_it_cannot_solve_exits_1(tmp_path):
    """A CVaR limit cannot be decomposed: `--method decomposed` says so and what to use, exit 1,
    nothing written, no traceback."""
    import yaml
    from typer.testing import CliRunner

    from optimizer.cli import app

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(one_good(0.3, cvar={"alpha": 0.8, "limit": 5000})))
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["run", str(path), "--method", "decomposed", "--out", str(out)])
    assert r.exit_code == 1, r.output
    assert "--method extensive" in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_cli_decomposed_run_on_two_local_workers(tmp_path, monkeypatch):
    """`stockpile run --method decomposed --workers 2`: the futures' subproblems go to a local
    Dask cluster of 2 processes and the answer is the hand-worked one above (objective 2800,
    60 bought); portfolio.json says how many workers held chunks (one future per chunk here,
    so both futures' chunks are spread over the 2 workers)."""
    import functools
    import json

    import optimizer.pipeline as pipeline

    one_per_chunk = functools.partial(pipeline.DecompositionOptions, futures_per_chunk=1)
    monkeypatch.setattr(pipeline, "DecompositionOptions", one_per_chunk)

    import yaml
    from typer.testing import CliRunner

    from optimizer.cli import app

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(one_good(0.3)))
    out = tmp_path / "out"
    args = ["run", str(path), "--method", "decomposed", "--workers", "2", "--out", str(out)]
    r = CliRunner().invoke(app, [*args, "--formats", "json", "-q"])
    assert r.exit_code == 0, r.output
    pf = json.loads((out / "portfolio.json").read_text())
    assert pf["objective"] == pytest.approx(2800.0, rel=1e-7)
    assert pf["goods"][G]["stockpile"]["buy"] == pytest.approx(60.0, rel=1e-7)
    assert pf["solver"]["method"]["used"] == "decomposed"
    assert pf["solver"]["method"]["workers"] == 2


def test_cli_unreachable_scheduler_exits_6_before_solving(tmp_path):
    """A --scheduler nobody listens on is reported in one line (exit 6, nothing written); a
    value that is not an address is a usage error (exit 2); --workers with --scheduler too."""
    import socket

    import yaml
    from typer.testing import CliRunner

    from optimizer.cli import app

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(one_good(0.3)))
    out = tmp_path / "out"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = ["run", str(path), "--out", str(out)]
    r = CliRunner().invoke(app, [*run, "--scheduler", f"tcp://127.0.0.1:{port}"])
    assert r.exit_code == 6, r.output
    assert "--scheduler" in r.output and "Traceback" not in r.output
    assert not out.exists()
    r = CliRunner().invoke(app, [*run, "--scheduler", "127.0.0.1:8786"])
    assert r.exit_code == 2 and "must be an address" in r.output
    r = CliRunner().invoke(app, [*run, "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"])
    assert r.exit_code == 2 and "not both" in r.output


def test_one_highs_thread_in_this_process():
    """``solver.threads: 1`` with the subproblems in this process: the master's HiGHS object is
    told the same thread count as the chunks' (it used HiGHS's default pool while the
    scheduler was recorded as 1 thread, and every chunk then ended "Not Set"). The hand case
    of the first test: objective 2800."""
    ext = extensive(one_good(0.3))
    d = solve_decomposed(ext.model, SolverOptions(mip_gap=1e-9, threads=1), TIGHT)
    assert d.status == "optimal"
    assert d.objective == pytest.approx(2800.0, rel=1e-7)
    back = solve_decomposed(ext.model, EXACT, TIGHT)  # and back to HiGHS's own choice
    assert back.objective == pytest.approx(2800.0, rel=1e-7)


def test_cli_profile_of_a_decomposed_run_counts_each_second_once(tmp_path):
    """``stockpile run --method decomposed --profile``: the parts of the decomposed solve (the
    subproblem rounds, the chunks' seconds summed over workers, the master) are listed under
    ``solve`` and not added again to the total, and ``solve`` no longer holds the chunks'
    building (``hand_over``), listed on its own row: the total is the sum of the stage rows.
    Before, the table summed both, and the shipped risk file at 20,000 samples showed a total
    of 371 s for a run of 95 s."""
    import re

    import yaml
    from typer.testing import CliRunner

    from optimizer.cli import app

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(one_good(0.3)))
    args = ["run", str(path), "--method", "decomposed", "--profile", "--out", str(tmp_path / "o")]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    rows = dict(re.findall(r"│ +([a-z_ ']+?[a-z_]) +│ +([0-9.]+) │", r.output))
    assert "of which subproblem rounds" in rows and "of which the master" in rows
    stages = [k for k in rows if not k.startswith(("of which", "chunks'", "total"))]
    assert "hand_over" in stages and "solve" in stages
    total = float(rows["total"])
    assert total == pytest.approx(sum(float(rows[k]) for k in stages), abs=0.01)
