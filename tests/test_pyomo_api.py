"""The Pyomo model as an API (``optimizer.api.pyomo_model``) and its example,
``examples/pyomo_constraint.py`` (issue 15, "Small runs feel instant": Pyomo stays a way in).

The hand-worked case is ``test_sweep.frontier_case`` at a total budget of 150 (see that
module's docstring): a reserved unit costs 5 of cash and is worth 16 (3.2 per euro), a stocked
unit costs 22 and is worth 15 (15/22 per euro). Plainly the whole 150 goes to 30 reserved
units: objective 3700 - 16 * 30 = 3220, no stock.

With the example's rule "at least half of the cash on the stockpile" (22 s >= 0.5 (5 r + 22 s),
i.e. 11 s >= 2.5 r) the budget still binds (both levers are worth more than they cost), and the
reserve, the better buy, is taken as far as the rule allows: r = 4.4 s, 5 (4.4 s) + 22 s =
44 s = 150, so s = 150/44 = 3.4091 units of stock (cash 75) and r = 15 units reserved (cash
75). Objective 3700 - 16 * 15 - 15 * 150/44 = 3700 - 240 - 51.136 = 3408.864: the rule costs
188.864 in expected cost.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from test_sweep import frontier_case

from optimizer.api import RunConfig, pyomo_model, run

ROOT = Path(__file__).resolve().parents[1]
TOL = {"rel": 1e-6, "abs": 1e-6}


def _example():
    spec = importlib.util.spec_from_file_location(
        "pyomo_constraint", ROOT / "examples" / "pyomo_constraint.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _case() -> dict:
    return frontier_case(budget={"total": 150})


def _cash(res, lever: str) -> float:
    return sum(g["cash_by_lever"].get(lever, 0.0) for g in res.portfolio["goods"].values())


def test_unchanged_pyomo_model_solves_like_run():
    """No added constraint: 30 reserved units, objective 3220, as ``run`` on either interface."""
    pm = pyomo_model(_case())
    res = pm.solve()
    assert res.status == "optimal"
    assert res.objective == pytest.approx(3220, **TOL)
    assert res.objective == pytest.approx(run(_case(), RunConfig(interface="direct")).objective)
    assert _cash(res, "reserve") == pytest.approx(150, **TOL)
    assert res.portfolio["solver"]["interface"] == "pyomo"
    # the duals are read as in a plain run: 150 is the kink between the reserve's 3.2 per euro
    # and the stock's 15/22, so the budget's marginal value is one of the two
    mv = res.portfolio["budget"]["total"]["marginal_value"]
    assert mv == pytest.approx(3.2, **TOL) or mv == pytest.approx(15 / 22, **TOL)


def test_example_rule_has_the_hand_worked_effect():
    """At least half of the cash on the stockpile: s = 150/44, r = 15, objective 3408.864."""
    pm = pyomo_model(_case())
    _example().add_lever_floor(pm, "stockpile", 0.5)
    res = pm.solve()
    assert res.status == "optimal"
    assert res.objective == pytest.approx(3700 - 240 - 15 * 150 / 44, **TOL)
    assert _cash(res, "stockpile") == pytest.approx(75, **TOL)
    assert _cash(res, "reserve") == pytest.approx(75, **TOL)
    good = res.portfolio["goods"]["gallium"]
    assert good["stockpile"]["buy"] == pytest.approx(150 / 44, **TOL)
    assert good["reserve"]["jp"] == pytest.approx(15, **TOL)
    # the Pyomo expression of the cash is the cash portfolio.json reports: 75 + 75 = 150
    assert pm.cash()() == pytest.approx(150, **TOL)
    assert pm.cash(lever="stockpile")() == pytest.approx(75, **TOL)
    assert pm.cash(good="gallium", lever="reserve")() == pytest.approx(75, **TOL)


def test_values_from_a_users_own_pyomo_solve():
    """Solved with Pyomo's contrib HiGHS directly, the values read back give the same
    portfolio: objective 3408.864, 75 of cash on each lever."""
    from pyomo.contrib.solver.common.factory import SolverFactory

    pm = pyomo_model(_case())
    _example().add_lever_floor(pm, "stockpile", 0.5)
    SolverFactory("highs").solve(pm.model)
    res = pm.result_from_values()
    assert res.objective == pytest.approx(3700 - 240 - 15 * 150 / 44, **TOL)
    assert _cash(res, "stockpile") == pytest.approx(75, **TOL)


def test_unknown_good_or_lever_is_named():
    pm = pyomo_model(_case())
    with pytest.raises(KeyError, match="the goods are gallium"):
        pm.cash(good="galium")
    with pytest.raises(KeyError, match="the levers are stockpile"):
        pm.cash(lever="recycling")


def test_example_runs_on_the_shipped_scenario(tmp_path, capsys):
    """The example as a user runs it: the floored run spends at least 20 % of its cash on
    domestic capacity and cannot beat the plain run (a constraint only removes portfolios)."""
    plain, floored = _example().main(
        [str(ROOT / "scenarios" / "critical_raw_materials.yaml"), "--out", str(tmp_path / "r")]
    )
    assert plain.status == floored.status == "optimal"
    total = sum(_cash(floored, lever) for lever in ("stockpile", "reserve", "domestic",
                                                      "demand_reduction"))  # fmt: skip
    assert _cash(floored, "domestic") >= 0.2 * total - 1e-6 * total
    assert floored.objective >= plain.objective - 1e-6 * abs(plain.objective)
    assert (tmp_path / "r" / "portfolio.json").exists()
    assert "domestic >= 20%" in capsys.readouterr().out


def test_auto_hands_small_models_to_highspy_unless_configured():
    """``interface: auto`` picks ``direct`` at any size by default (pyomo_max_columns 0); a
    ``pyomo_max_columns`` at or above the model's columns brings Pyomo back."""
    from optimizer.solve import choose_interface

    res = run(_case())
    assert res.portfolio["solver"]["interface"] == "direct"
    n = res.model.lp.n_cols
    assert choose_interface(res.model.lp, "auto") == "direct"
    assert choose_interface(res.model.lp, "auto", n) == "pyomo"
    assert choose_interface(res.model.lp, "auto", n - 1) == "direct"
    assert run(_case(), RunConfig(pyomo_max_columns=n)).portfolio["solver"]["interface"] == "pyomo"


def test_a_run_with_every_output_imports_no_library_it_does_not_need(tmp_path):
    """The shipped scenario, run and written with every format in a fresh process, never
    imports Pyomo, matplotlib, Dask or scipy's graph module (lazy imports: issue 15's "small
    runs feel instant"; how long it takes is measured in benchmarks/small_run.py)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from optimizer.api import run\n"
        f"r = run({str(ROOT / 'scenarios' / 'critical_raw_materials.yaml')!r})\n"
        f"r.write({str(tmp_path / 'out')!r})\n"
        "bad = ('pyomo', 'matplotlib', 'dask', 'distributed', 'scipy.sparse.csgraph')\n"
        "print(sorted({m for m in sys.modules if m.split('.')[0] in bad[:4]"
        " or m.startswith(bad[4])}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout[:2000]
    assert (tmp_path / "out" / "report.html").exists()
    assert (tmp_path / "out" / "portfolio.xlsx").exists()
