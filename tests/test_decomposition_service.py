"""Service levels (``max_shortfall``) in the decomposition: a first stage can leave a future
with no feasible operation, and the subproblems then return feasibility cuts (phase one with
the service-level rows elastic, ``decomposition_worker._feasibility_cut``). The answers are
the extensive form's, worked by hand where the case is small."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from optimizer.api import RunConfig, run
from optimizer.solve.decomposed import DecompositionOptions, solve_decomposed
from optimizer.solve.decomposition_split import split_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import synthetic_scenario  # noqa: E402
from test_decomposition import (  # noqa: E402
    EXACT,
    TIGHT,
    G,
    assert_same,
    decomposed_portfolio,
    extensive,
    one_good,
)


def served(share: str, damage: float = 30) -> dict:
    """The one-good case of ``test_decomposition`` with a damage of ``damage`` per unit short
    and a service level: at most ``share`` of demand short in any future."""
    data = one_good(0.3)
    data["goods"][G]["damage"] = damage
    data["goods"][G]["max_shortfall"] = share
    return data


def test_service_level_by_hand():
    """Stock unit cost 20 + storage 2 = 22; 10 back per unit still held at the end (residual
    50 %); CN sells at 10; ``ban`` (p 0.3) cuts CN for the year; release at most 60; damage 30.

    A unit bought costs 22, earns 0.7 * 10 = 7 in no_disruption and saves 0.3 * 30 = 9 of
    damage in ban: net +6, so without a service level nothing is bought: 0.7 * 1000 +
    0.3 * 100 * 30 = 1600. With at most 50 % of demand short, ban needs 50 released: buy 50,
    1600 + 50 * 6 = 1900.

    The cheapest first stage (buy 0) leaves ban without a feasible operation, so the
    decomposition starts with no upper bound and a feasibility cut (the first bounds' upper is
    inf); it ends at the extensive form's optimum, portfolio.json key by key, also through
    ``run`` (chunks built from the data)."""
    ext = extensive(served("50%"))
    assert ext.objective == pytest.approx(1900.0, rel=1e-9)
    d, pf = decomposed_portfolio(ext)
    assert d.status == "optimal"
    assert d.objective == pytest.approx(1900.0, rel=1e-7)
    assert pf["goods"][G]["stockpile"]["buy"] == pytest.approx(50.0, rel=1e-7)
    assert not np.isfinite(d.history[0][1])
    assert_same(ext.portfolio, pf)
    piped = run(served("50%"), config=RunConfig(method="decomposed", baseline=False))
    assert piped.status == "optimal" and piped.objective == pytest.approx(1900.0, rel=1e-7)
    free = extensive(served("100%"))  # no binding service level: nothing bought
    assert free.objective == pytest.approx(1600.0, rel=1e-9)


def test_service_level_that_no_first_stage_meets_is_infeasible():
    """At most 30 % short needs 70 released in ban, above the release limit of 60: no first
    stage helps. The extensive form and the decomposition both say infeasible, through
    ``run`` too (status ``infeasible``, no portfolio)."""
    data = served("30%")
    res = run(data, config=RunConfig(interface="direct", baseline=False))
    assert res.status == "infeasible"
    d = solve_decomposed(res.model, EXACT, TIGHT)
    assert d.status == "infeasible" and not d.has_solution
    dec = run(data, config=RunConfig(method="decomposed", baseline=False))
    assert dec.status == "infeasible"


def test_decomposed_infeasible_run_names_the_service_level(tmp_path):
    """A decomposed run holds only the model's layout; its diagnosis builds the whole LP (up to
    ``DIAGNOSE_MAX_COLUMNS``) and names the requirement as the extensive run does: ban needs
    70 released, at most 60 can be, so the shortfall exceeds 30 % of demand by 10 units.
    ``stockpile run --method decomposed`` prints it, exit 3, nothing written."""
    import yaml
    from typer.testing import CliRunner

    from optimizer.cli import app
    from optimizer.solve.diagnose import explain_infeasibility

    data = served("30%")
    dec = run(data, config=RunConfig(method="decomposed", baseline=False))
    assert dec.model.lp.layout_only
    lines = explain_infeasibility(dec)
    ext = run(data, config=RunConfig(method="extensive", baseline=False))
    assert lines == explain_infeasibility(ext)
    assert "service level for gallium" in lines[0] and "by 10 unit" in lines[0]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["run", str(path), "--method", "decomposed", "--out", str(out)])
    assert r.exit_code == 3, r.output
    assert "service level for gallium" in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_a_service_level_is_no_longer_refused():
    """``split_model`` accepts ``max_shortfall`` rows (each holds one future's shortfall)."""
    s = split_model(extensive(served("50%")).model)
    assert s.K == 2


@pytest.mark.parametrize("seed", range(6))
def test_random_one_good_cases_match_the_formula(seed):
    """The one-good case with a drawn ban probability p, damage D and service level s (at
    least 40 %, so that the release limit of 60 can meet it). Per unit bought: 22 of cash,
    (1 - p) * 10 back at the end, p * D of damage saved in ban: net n = 22 - 10 (1 - p) - p D.
    Without the service level buy 60 when n < 0, else 0; with it at least 100 (1 - s). The
    objective is 1000 (1 - p) + 100 p D + n * buy. Extensive and decomposed both equal it."""
    rng = np.random.default_rng(seed)
    p, damage, share = rng.uniform(0.05, 0.6), rng.uniform(5, 100), rng.uniform(0.4, 1.0)
    data = one_good(round(p, 4))
    p = round(p, 4)
    data["goods"][G]["damage"] = round(damage, 3)
    damage = round(damage, 3)
    data["goods"][G]["max_shortfall"] = f"{100 * share:.3f}%"
    share = round(100 * share, 3) / 100
    net = 22 - 10 * (1 - p) - p * damage
    buy = max(60.0 if net < 0 else 0.0, 100 * (1 - share))
    expected = 1000 * (1 - p) + 100 * p * damage + net * buy
    ext = extensive(data)
    assert ext.objective == pytest.approx(expected, rel=1e-7)
    d, pf = decomposed_portfolio(ext)
    assert d.status == "optimal"
    assert d.objective == pytest.approx(expected, rel=1e-7)
    assert pf["goods"][G]["stockpile"]["buy"] == pytest.approx(buy, rel=1e-6, abs=1e-6)


def test_synthetic_case_with_binding_service_levels_matches_extensive():
    """A synthetic LP (4 goods x 2 suppliers x 12 months, 8 disruptions, with budgets): each
    good's service level set to 90 % of its worst share short without one. The levels bind
    (the objective rises) and the decomposition returns the extensive optimum to 1e-6, its
    portfolio key by key."""
    base = extensive(synthetic_scenario(4, 2, 12, 8, seed=2, integer=False))
    sums = base.periods.groupby(["scenario", "good"])[["shortfall", "demand"]].sum()
    worst = (sums["shortfall"] / sums["demand"]).groupby("good").max()
    data = synthetic_scenario(4, 2, 12, 8, seed=2, integer=False)
    for name, good in data["goods"].items():
        if worst.get(name, 0.0) > 0.01:
            good["max_shortfall"] = f"{90 * float(worst[name]):.2f}%"
    ext = extensive(data)
    assert ext.objective > base.objective * (1 + 1e-4)
    d, pf = decomposed_portfolio(ext, DecompositionOptions(gap=1e-8, futures_per_chunk=3))
    assert d.status == "optimal"
    assert d.objective == pytest.approx(ext.objective, rel=1e-6)
    assert_same(ext.portfolio, pf, rel=1e-4, abs_=1e-4)


def test_phase_one_violates_only_the_service_levels():
    """Each chunk's ``elastic`` rows are exactly its ``max_shortfall`` rows (one per good and
    future): the phase one measures the service levels' excess, not any row. With every row
    elastic the violation moved to rows no first stage can change and the cuts stalled (the
    shipped risk file at 1,000 samples, below)."""
    from optimizer.solve.decomposed import _groups
    from optimizer.solve.decomposition_split import make_chunks

    m = extensive(served("50%")).model
    s = split_model(m)
    gof, cog = _groups(s.K, 1, 0)
    rows = m.lp.constraints["max_shortfall"].index
    seen = 0
    for c in make_chunks(m, s, gof, cog, "t"):
        marked = np.flatnonzero(np.isin(c.rows, rows))
        seen += len(marked)
    assert seen == len(rows) == 2  # one good, two futures
    d = solve_decomposed(m, EXACT, DecompositionOptions(gap=1e-8, futures_per_chunk=1))
    assert d.objective == pytest.approx(1900.0, rel=1e-7)


@pytest.mark.slow
def test_shipped_risk_file_with_a_binding_service_level_matches_extensive():
    """The shipped risk file (a MIP) at 1,000 samples with at most 50 % of magnet demand short
    in any future: the decomposition (6 master iterations) returns the extensive optimum
    within the MIP gap (1e-4). With every row elastic in the phase one it had not converged
    after 59 iterations (2 minutes), its violations no longer falling; at 40 % both say
    infeasible."""
    path = Path(__file__).resolve().parents[1] / "scenarios" / "eu_critical_raw_materials_risk.yaml"
    sets = ["risk_model.samples=1000", "goods.rare_earth_magnets.max_shortfall=50%"]
    ext = run(path, RunConfig(method="extensive", baseline=False), overrides=sets)
    dec = run(path, RunConfig(method="decomposed", baseline=False), overrides=sets)
    assert ext.status == dec.status == "optimal"
    assert dec.objective == pytest.approx(ext.objective, rel=2e-4)
    sets[1] = "goods.rare_earth_magnets.max_shortfall=40%"
    assert run(path, RunConfig(method="decomposed", baseline=False), overrides=sets).status == (
        "infeasible"
    )
