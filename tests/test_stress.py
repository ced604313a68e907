"""The stress test (``stockpile stress``): fixed decisions on futures, by hand-worked cases.

The small case used throughout (``one_good``), worked by hand:

- one good, demand 100 units/year, damage 100 EUR/unit, window 1 year of 1 period;
- supplier ``cn`` (CN) at 10 EUR/unit, capacity 1,000/year;
- a stockpile at 20 EUR/unit, no storage cost, residual value 0 (a unit left at the end earns
  nothing), so a unit bought costs 20 whatever happens;
- futures: ``no_disruption`` (probability 0.7) and ``ban`` (0.3: CN cut completely all year).

With ``x`` units stocked: no_disruption costs ``20x + 1,000`` (100 units bought at 10);
ban costs ``20x + 100 (100 - x)`` (release ``x``, the rest short). Expected cost
``20x + 700 + 0.3 * 100 (100 - x) = 3,700 - 10x``, lowest at ``x = 100``: RP = 2,700, per
future [3,000, 2,000], no loss.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from optimizer.api import RunConfig, run
from optimizer.cli import app
from optimizer.data import prepare
from optimizer.model.risk import cvar_of
from optimizer.results.stress_report import mean_ci, var_cvar
from optimizer.solve.base import SolverOptions
from optimizer.studies.stress import replicate, run_stress
from optimizer.studies.stress_eval import (
    Futures,
    decisions_from_portfolio,
    evaluate,
    stress_futures,
    subset_data,
)

TOL = {"rel": 1e-6, "abs": 1e-6}
runner = CliRunner()


def approx(v):
    return pytest.approx(v, **TOL)


ONE_GOOD = {
    "name": "one good <b>&</b>",
    "window": {"years": 1, "period": "year"},
    "countries": {"CN": {}},
    "goods": {
        "gallium": {
            "demand": 100,
            "damage": 100,
            "stockpile": {"unit_cost": 20, "residual_value": 0},
            "suppliers": {"cn": {"country": "CN", "unit_cost": 10, "capacity": 1000}},
        }
    },
    "disruptions": {
        "ban": {"probability": 0.3, "duration": "1 year", "hits": [{"countries": ["CN"]}]}
    },
}

#: Two goods and every lever kind (binaries included: a contract, modules, a preparation),
#: three disruptions, a CVaR weight (the stress test reports the objective without it) and a
#: shortfall limit.
SEVERAL = {
    "name": "several goods",
    "window": {"years": 2, "period": "quarter"},
    "countries": {"CN": {}, "JP": {}, "RU": {}},
    "risk": {"cvar": {"alpha": 0.9, "weight": 0.3}},
    "budget": {"total": 20000},
    "goods": {
        "gallium": {
            "demand": 100,
            "damage": 100,
            "stockpile": {"unit_cost": 20, "storage_cost": 1, "residual_value": 0.5, "max": 30},
            "demand_reduction": {"max_share": 0.2, "unit_cost": 60, "preparation_cost": 50},
            "suppliers": {
                "cn": {"country": "CN", "unit_cost": 10, "capacity": 1000},
                "jp": {
                    "country": "JP",
                    "unit_cost": 15,
                    "capacity": 30,
                    "reserve": {"fee": 2, "max": 10, "fixed_cost": 40},
                },
            },
        },
        "germanium": {
            "demand": 50,
            "damage": 300,
            "max_shortfall": 0.9,
            "stockpile": {"unit_cost": 250, "storage_cost": 5, "residual_value": 0.2},
            "domestic": {
                "capex": 20,
                "max": 40,
                "module": 10,
                "unit_cost": 32,
                "lead_time": "3 months",
            },
            "suppliers": {
                "cn": {"country": "CN", "unit_cost": 30, "capacity": 1000},
                "ru": {"country": "RU", "unit_cost": 33, "capacity": 20},
            },
        },
    },
    "disruptions": {
        "ban": {
            "probability": 0.1,
            "start": "6 months",
            "duration": "1 year",
            "hits": [{"countries": ["CN"]}],
            "price_multiplier": 1.5,
        },
        "partial": {
            "probability": 0.2,
            "duration": "6 months",
            "hits": [{"countries": ["CN"], "goods": ["germanium"], "severity": 0.5}],
        },
        "sanctions": {
            "probability": 0.05,
            "duration": "2 years",
            "hits": [{"countries": ["RU", "CN"], "goods": ["germanium"], "severity": 0.8}],
            "demand_multiplier": 1.2,
        },
    },
}


def _run_to(tmp_path, data: dict, name: str):
    res = run(copy.deepcopy(data), RunConfig(mip_gap=1e-9))
    assert res.status == "optimal"
    folder = tmp_path / name
    res.write(folder, ("json", "yaml"))
    return res, folder


# --- statistics ---------------------------------------------------------------------------------


def test_cvar_of_by_hand_and_against_the_pairwise_definition():
    """Losses 0, 100, 300 with probabilities 0.5, 0.3, 0.2, alpha 0.75: the worst 25 % is
    0.2 at 300 and 0.05 at 100, so CVaR = (0.2 * 300 + 0.05 * 100) / 0.25 = 260. Ties and
    random weighted lists give the pairwise formula's value (min over eta in the losses of
    eta + sum_j p_j (l_j - eta)+ / (1 - alpha)) to 1e-9."""
    import numpy as np

    assert cvar_of(np.array([300.0, 0.0, 100.0]), np.array([0.2, 0.5, 0.3]), 0.75) == approx(260.0)
    rng = np.random.default_rng(7)
    for k in (1, 2, 5, 50, 400):
        loss = np.round(rng.exponential(100.0, k), 0)  # rounding makes ties
        p = rng.random(k)
        p /= p.sum()
        for alpha in (0.5, 0.9, 0.95, 0.99):
            pairwise = np.maximum(loss[None, :] - loss[:, None], 0.0) @ p
            want = float(np.min(loss + pairwise / (1.0 - alpha)))
            assert cvar_of(loss, p, alpha) == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_var_and_cvar_of_a_weighted_loss_list_by_hand():
    """Losses 0, 10, 50, 100 with probabilities 0.5, 0.3, 0.15, 0.05 (cumulative 0.5, 0.8,
    0.95, 1). At 90 %: VaR = 50 (first loss with P(L <= l) >= 0.9), CVaR = 50 + 0.05 * (100 -
    50) / 0.1 = 75. At 95 %: VaR = 50, CVaR = 50 + 0.05 * 50 / 0.05 = 100. At 99 %: VaR = CVaR =
    100. CVaR also equals the model's own definition (``cvar_of``)."""
    loss = np.array([10.0, 0.0, 100.0, 50.0])
    w = np.array([0.3, 0.5, 0.05, 0.15])
    for alpha, var, cvar in ((0.9, 50, 75), (0.95, 50, 100), (0.99, 100, 100)):
        got = var_cvar(loss, w, alpha)
        assert got == (approx(var), approx(cvar))
        assert got[1] == approx(cvar_of(loss, w, alpha))


def test_mean_ci_exact_for_hand_written_and_normal_for_draws():
    """Weighted futures: the expectation is exact, 0.25 * 4 + 0.75 * 8 = 7, interval [7, 7].
    Draws 1 and 3 (two equally weighted draws): mean 2, sample sd sqrt(((1-2)^2 + (3-2)^2) / 1)
    = sqrt(2), half-width 1.96 * sqrt(2) / sqrt(2) = 1.96: [0.04, 3.96]."""
    assert mean_ci(np.array([4.0, 8.0]), np.array([0.25, 0.75]), None) == {
        "mean": approx(7.0),
        "ci95": [approx(7.0), approx(7.0)],
    }
    got = mean_ci(np.array([1.0, 3.0]), np.array([0.5, 0.5]), 2)
    assert got["mean"] == approx(2.0)
    assert got["ci95"] == [pytest.approx(2 - 1.959964, rel=1e-6), pytest.approx(2 + 1.959964)]


# --- futures --------------------------------------------------------------------------------------


def test_subset_of_prepared_futures_equals_preparing_them_alone():
    """Time blocks never span scenarios: the futures 0 and 2 cut out of the whole prepared
    data hold the same cells and arrays as preparing a file with that one disruption."""
    from optimizer.api import load

    sc = load(copy.deepcopy(SEVERAL)).scenario
    whole = prepare(sc)
    part = subset_data(whole, np.array([0, 2]))
    alone = prepare(sc.model_copy(update={"disruptions": {"partial": sc.disruptions["partial"]}}))
    for name in ("cell_k", "cell_g", "cell_t0", "cell_len", "sc_cell", "sc_j", "avail"):
        assert np.array_equal(getattr(part, name), getattr(alone, name)), name
    assert part.scenarios == ["no_disruption", "partial"]


def test_hand_written_futures_carry_their_probabilities():
    """no_disruption takes what the disruptions leave: 1 - 0.3 = 0.7."""
    from optimizer.api import load

    fut = stress_futures(load(copy.deepcopy(ONE_GOOD)).scenario, None, None)
    assert fut.names == ["no_disruption", "ban"]
    assert fut.weight.tolist() == [approx(0.7), approx(0.3)]
    assert fut.draws is None


# --- evaluation -----------------------------------------------------------------------------------


def test_one_good_stress_test_by_hand(tmp_path):
    """The run stocks x = 100; on its own futures the cost is 3,000 without a disruption and
    2,000 in the ban, expected 0.7 * 3,000 + 0.3 * 2,000 = 2,700, loss 0 (module docstring)."""
    _, folder = _run_to(tmp_path, ONE_GOOD, "run")
    doc = run_stress([folder], None).document
    st = doc["portfolios"]["run"]
    assert st["expected_cost"] == {"mean": approx(2700), "ci95": [approx(2700), approx(2700)]}
    assert st["expected_loss"]["mean"] == approx(0.0)
    assert st["gap"]["expected_cost"] == approx(0.0)


@pytest.mark.parametrize("case", ["one_good", "several"])
def test_stress_on_the_runs_own_file_reproduces_its_in_sample_figures(tmp_path, case):
    """On its own hand-written file the stress test evaluates exactly the run's futures with
    the run's decisions, so expected cost (objective without CVaR: first_stage_economic +
    expected_second_stage), expected loss, each future's loss and each good's expected
    shortfall equal portfolio.json's to 1e-6."""
    data = ONE_GOOD if case == "one_good" else SEVERAL
    res, folder = _run_to(tmp_path, data, "run")
    pf = res.portfolio
    out = run_stress([folder], tmp_path / "stress")
    st = out.document["portfolios"]["run"]
    cost = pf["cost"]
    assert st["expected_cost"]["mean"] == approx(
        cost["first_stage_economic"] + cost["expected_second_stage"]
    )
    assert st["expected_loss"]["mean"] == approx(cost["expected_loss"])
    for g, v in pf["goods"].items():
        assert st["expected_shortfall"][g]["mean"] == approx(v["expected_shortfall"])
    losses = dict(zip(out.evaluation.futures.names, out.evaluation.loss[0]))
    for name, s in pf["scenarios"].items():
        assert losses[name] == approx(s["loss"])
    assert st["limit_not_met"]["futures"] == 0
    assert sorted(p.name for p in (tmp_path / "stress").iterdir()) == [
        ".stockpile-results",  # the marker: only a folder holding it is ever replaced
        "report.html",
        "stress.csv",
        "stress.json",
    ]


def test_paired_differences_of_two_portfolios_by_hand(tmp_path):
    """Portfolio A stocks 100 (costs [3,000, 2,000], loss [0, 0]); portfolio B may not stock
    (max 0), so it buys 100 at 10 without a disruption (1,000) and loses 100 x 100 = 10,000 in
    the ban. B - A per future: cost [-2,000, 8,000], loss [0, 10,000]; expected
    0.7 * -2,000 + 0.3 * 8,000 = 1,000 and 0.3 * 10,000 = 3,000, exact (hand-written futures)."""
    _, a = _run_to(tmp_path, ONE_GOOD, "a")
    b_data = copy.deepcopy(ONE_GOOD)
    b_data["goods"]["gallium"]["stockpile"]["max"] = 0
    _, b = _run_to(tmp_path, b_data, "b")
    doc = run_stress([a, b], None).document
    diff = doc["paired_differences"]["b"]
    assert diff["versus"] == "a"
    assert diff["expected_cost"] == {"mean": approx(1000), "ci95": [approx(1000), approx(1000)]}
    assert diff["expected_loss"]["mean"] == approx(3000)
    assert doc["portfolios"]["b"]["chance_of_shortfall"]["mean"] == approx(0.3)
    assert doc["portfolios"]["b"]["loss_var"]["95%"] == approx(10000)


def test_evpi_and_vss_by_hand(tmp_path):
    """EVPI: with foresight, no_disruption stocks nothing (cost 1,000) and the ban stocks 100
    (2,000 against 10,000 unstocked): WS = 0.7 * 1,000 + 0.3 * 2,000 = 1,300; RP = 2,700;
    EVPI = 1,400 (per future 2,000 and 0).

    VSS: the average future has availability 0.7 * 1 + 0.3 * 0 = 0.7 (700 units/year from CN,
    more than the demand) and counts as disrupted; buying 100 at 10 beats stocking at 20, so
    its plan stocks 0. On the futures that plan costs 1,000 and 10,000: EEV = 0.7 * 1,000 +
    0.3 * 10,000 = 3,700; VSS = 3,700 - 2,700 = 1,000."""
    _, folder = _run_to(tmp_path, ONE_GOOD, "run")
    doc = run_stress([folder], None, evpi=True, vss=True).document
    v = doc["value_of_information"]["run"]
    assert v["wait_and_see"]["mean"] == approx(1300)
    assert v["evpi"] == {"mean": approx(1400), "ci95": [approx(1400), approx(1400)]}
    assert v["expected_cost_average_future_plan"]["mean"] == approx(3700)
    assert v["vss"]["mean"] == approx(1000)
    assert v["evpi_futures"] == 2


def test_evpi_on_a_subset_is_an_estimate_with_an_interval(tmp_path):
    """With --evpi-samples 1 of two futures, one future is drawn by probability and EVPI is
    that future's own value (2,000 or 0) with a normal interval of one draw (no spread)."""
    _, folder = _run_to(tmp_path, ONE_GOOD, "run")
    doc = run_stress([folder], None, evpi=True, evpi_samples=1).document
    v = doc["value_of_information"]["run"]
    assert v["evpi_futures"] == 1
    assert v["evpi"]["mean"] in (approx(2000), approx(0))


def test_a_shortfall_limit_the_decisions_cannot_meet_is_counted_not_fatal(tmp_path):
    """Run: demand 100/year, 4 quarters, max_shortfall 50 % of demand, a 6-month ban (demand
    50 in it, so the limit holds with no stock); stock costs 1,000 a unit, more than the 100 of
    damage, so nothing is stocked. Stress file: the ban lasts the whole year (probability 0.2):
    shortfall 100 > 50, the limit cannot be met with no stock. That future is flagged (1
    future, probability 0.2) and counts its loss 100 x 100 = 10,000; expected loss 2,000."""
    data = copy.deepcopy(ONE_GOOD)
    data["window"]["period"] = "quarter"
    g = data["goods"]["gallium"]
    g["max_shortfall"] = 0.5
    g["stockpile"]["unit_cost"] = 1000
    data["disruptions"]["ban"].update(probability=0.2, duration="6 months")
    _, folder = _run_to(tmp_path, data, "run")
    longer = copy.deepcopy(data)
    longer["disruptions"]["ban"]["duration"] = "1 year"
    path = tmp_path / "longer.yaml"
    path.write_text(yaml.safe_dump(longer))
    doc = run_stress([folder], None, scenario_file=path).document
    st = doc["portfolios"]["run"]
    assert st["limit_not_met"] == {"futures": 1, "probability": approx(0.2), "examples": ["ban"]}
    assert st["expected_loss"]["mean"] == approx(2000)


def test_chunks_and_workers_do_not_change_the_answer(tmp_path):
    """One future per LP gives the same per-future costs as all futures in one LP."""
    res, folder = _run_to(tmp_path, SEVERAL, "run")
    fut = stress_futures(res.loaded.scenario, None, None)
    dec = decisions_from_portfolio("run", res.portfolio, res.data)
    whole = evaluate(fut, [dec], SolverOptions(), chunk=10)
    one = evaluate(fut, [dec], SolverOptions(), chunk=1)
    assert one.cost == pytest.approx(whole.cost, rel=1e-9)
    assert one.loss == pytest.approx(whole.loss, rel=1e-9, abs=1e-9)


def test_replications_of_a_portfolio_optimal_on_every_set_have_no_gap(tmp_path):
    """Mak, Morton & Wood with a stand-in sampler that returns the file's own two futures for
    every seed: each set's optimum is the run's (x = 100, 2,700) and the candidate costs 2,700
    on it, so every gap is 0, the lower bound 2,700, the decisions do not move (stock bought
    100, sd 0) and the sample is enough."""
    res, _ = _run_to(tmp_path, ONE_GOOD, "run")
    sc = res.loaded.scenario
    dec = decisions_from_portfolio("run", res.portfolio, res.data)

    def draw(scenario, n, seed) -> Futures:
        return stress_futures(scenario, n, seed)

    rep = replicate(sc, dec, 3, 2, 5, SolverOptions(), draw=draw)
    assert rep["gap"]["mean"] == approx(0.0)
    assert rep["gap"]["ci95"][1] == approx(0.0)
    assert rep["lower_bound"]["mean"] == approx(2700)
    assert rep["decisions_spread"]["stock_bought"]["gallium"] == {
        "mean": approx(100),
        "sd": approx(0),
    }
    assert rep["enough"] is True and rep["suggested_samples"] is None


# --- command line ---------------------------------------------------------------------------------


def _invoke(*args: str):
    return runner.invoke(app, ["stress", *args], catch_exceptions=False)


def test_cli_stress_end_to_end(tmp_path):
    """Two runs compared on the file's futures: files written, exit 0; stress.csv has one row
    per (portfolio, future) with the hand-worked costs (module docstring)."""
    _, a = _run_to(tmp_path, ONE_GOOD, "a")
    b_data = copy.deepcopy(ONE_GOOD)
    b_data["goods"]["gallium"]["stockpile"]["max"] = 0
    _, b = _run_to(tmp_path, b_data, "b")
    out = tmp_path / "stress"
    r = _invoke(
        str(a),
        str(b),
        "--out",
        str(out),
        "--evpi",
        "--vss",
        "--config",
        str(Path(__file__).with_name("defaults.yaml")),
    )
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "stress.json").read_text())
    assert set(doc["portfolios"]) == {"a", "b"}
    import pandas as pd

    table = pd.read_csv(out / "stress.csv")
    assert len(table) == 4
    costs = table.set_index(["portfolio", "future"])["cost_eur"]
    assert costs[("a", "ban")] == approx(2000) and costs[("b", "ban")] == approx(10000)
    html = (out / "report.html").read_text()
    assert "one good &lt;b&gt;&amp;&lt;/b&gt;" in html and "<b>&</b>" not in html
    assert "perfect warning of which future comes would be worth" in html


def test_cli_not_a_results_folder_exits_1_without_traceback(tmp_path):
    (tmp_path / "empty").mkdir()
    r = _invoke(str(tmp_path / "empty"), "--out", str(tmp_path / "o"))
    assert r.exit_code == 1
    assert "portfolio.json is missing" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("bad", ["0", "-1"])
def test_cli_bad_samples_exit_2(tmp_path, bad):
    _, folder = _run_to(tmp_path, ONE_GOOD, "run")
    r = _invoke(str(folder), "--out", str(tmp_path / "o"), "--samples", bad)
    assert r.exit_code == 2
    assert "Traceback" not in r.output


def test_cli_replications_on_hand_written_futures_exit_1(tmp_path):
    _, folder = _run_to(tmp_path, ONE_GOOD, "run")
    r = _invoke(str(folder), "--out", str(tmp_path / "o"), "--replications", "3")
    assert r.exit_code == 1
    assert "risk_model" in r.output and "Traceback" not in r.output


# --- the report in a browser --------------------------------------------------------------------


def test_stress_report_renders_in_chromium(tmp_path):
    from test_report import CHROMIUM, _loaded_in_chromium

    if not CHROMIUM.exists():
        pytest.skip("headless Chromium not installed at /usr/bin/chromium")
    _, folder = _run_to(tmp_path, ONE_GOOD, "run")
    run_stress([folder], tmp_path / "stress", evpi=True)
    html = (tmp_path / "stress" / "report.html").read_text("utf-8")
    dom, body = _loaded_in_chromium(html, tmp_path)
    imgs = [el for el in dom.elements if el["tag"] == "img"]
    assert body["attrs"].get("data-images") == str(len(imgs)) == "1"
    for img in imgs:
        assert img["attrs"].get("data-complete") == "true"
        assert int(img["attrs"].get("data-natural-width", "0")) > 100


@pytest.mark.slow
def test_two_dask_workers_give_the_same_answer_as_one(tmp_path):
    """The futures, solved one per LP on a local cluster of two worker processes (data
    scattered once per phase), give the hand-worked figures: expected cost 2,700, EVPI 1,400."""
    _, folder = _run_to(tmp_path, ONE_GOOD, "run")
    doc = run_stress([folder], None, evpi=True, workers=2, chunk=1).document
    assert doc["portfolios"]["run"]["expected_cost"]["mean"] == approx(2700)
    assert doc["value_of_information"]["run"]["evpi"]["mean"] == approx(1400)
    assert doc["workers"] == 2


def test_futures_from_prepared_data_are_sliced_per_chunk_like_hand_written_ones(tmp_path):
    """The path sampled futures take (all futures prepared once, each chunk a slice of the
    arrays): on the same futures it gives the same per-future costs as preparing each chunk
    from the file's disruptions; marked as 10 equally weighted draws, the expected cost gets a
    normal interval around the same mean."""
    res, _ = _run_to(tmp_path, SEVERAL, "run")
    sc = res.loaded.scenario
    hand = stress_futures(sc, None, None)
    sliced = Futures(sc, hand.names, hand.weight, draws=10, seed=1, data=prepare(sc))
    dec = decisions_from_portfolio("run", res.portfolio, res.data)
    a = evaluate(hand, [dec], SolverOptions(), chunk=2)
    b = evaluate(sliced, [dec], SolverOptions(), chunk=2)
    assert b.cost == pytest.approx(a.cost, rel=1e-9)
    ci = mean_ci(b.cost[0], sliced.weight, sliced.draws)
    assert ci["mean"] == approx(float(hand.weight @ a.cost[0]))
    assert ci["ci95"][0] < ci["mean"] < ci["ci95"][1]


def test_cli_bad_scenario_file_exits_1_with_its_location(tmp_path):
    """A --scenario file with a mistake is reported like `stockpile run` reports it (file and
    key), exit 1, nothing written."""
    _, folder = _run_to(tmp_path, ONE_GOOD, "run")
    bad = copy.deepcopy(ONE_GOOD)
    bad["goods"]["gallium"]["demand"] = "lots"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(bad))
    r = _invoke(str(folder), "--out", str(tmp_path / "o"), "--scenario", str(path))
    assert r.exit_code == 1
    assert "bad.yaml" in r.output and "demand" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "o").exists()


def test_cli_goods_that_do_not_match_exit_1(tmp_path):
    """A scenario without the portfolio's good cannot carry its decisions: exit 1, naming the
    goods on each side."""
    _, folder = _run_to(tmp_path, ONE_GOOD, "run")
    other = copy.deepcopy(ONE_GOOD)
    other["goods"] = {"germanium": other["goods"]["gallium"]}
    path = tmp_path / "other.yaml"
    path.write_text(yaml.safe_dump(other))
    r = _invoke(str(folder), "--out", str(tmp_path / "o"), "--scenario", str(path))
    assert r.exit_code == 1
    assert "gallium" in r.output and "germanium" in r.output and "Traceback" not in r.output


# --- sampled futures (the risk model) ----------------------------------------------------------

SAMPLED = {
    "name": "sampled",
    "window": {"years": 1, "period": "quarter"},
    "countries": {"CN": {}, "JP": {}},
    "goods": {
        "ga": {
            "demand": 40,
            "damage": 100,
            "stockpile": {"unit_cost": 10},
            "suppliers": {
                "cn": {"country": "CN", "unit_cost": 1, "capacity": 60},
                "jp": {"country": "JP", "unit_cost": 3, "capacity": 8},
            },
        }
    },
    "risk_model": {
        "samples": 40,
        "seed": 7,
        "events": {
            "ban": {
                "rate": "0.8 per year",
                "countries": ["CN"],
                "severity": {"min": "20%", "max": "100%"},
                "duration": {"min": "3 months", "max": "9 months"},
            }
        },
    },
}


def test_sampled_stress_uses_fresh_draws_and_its_interval_narrows_as_one_over_sqrt_n(tmp_path):
    """Stress tests of one portfolio on 400 and on 6,400 fresh futures (seeds 11 and 12): the
    95 % interval of the expected loss is 1.96 s / sqrt(N), so its half-width shrinks by about
    sqrt(6,400 / 400) = 4 (the two sample standard deviations s differ by sampling noise only:
    the ratio is allowed 3 to 5). Both means lie inside each other's interval widened by the
    other's (the same true expectation), and the futures are draws, not the run's own: the
    default seed is the run's + 1, so the 40 in-sample draws are not repeated."""
    res, folder = _run_to(tmp_path, SAMPLED, "run")
    assert res.portfolio["risk_model"]["drawn"] == 40
    small = run_stress([folder], None, samples=400, seed=11).document
    large = run_stress([folder], None, samples=6400, seed=12).document
    assert small["futures"]["exact"] is False and large["futures"]["exact"] is False

    def half(doc):
        lo, hi = doc["portfolios"]["run"]["expected_loss"]["ci95"]
        return (hi - lo) / 2

    ratio = half(small) / half(large)
    assert 3.0 < ratio < 5.0, ratio
    m_small = small["portfolios"]["run"]["expected_loss"]["mean"]
    m_large = large["portfolios"]["run"]["expected_loss"]["mean"]
    assert abs(m_small - m_large) < half(small) + half(large)
    default = run_stress([folder], None, samples=400).document
    assert default["futures"]["seed"] == SAMPLED["risk_model"]["seed"] + 1


def test_the_shipped_risk_model_scenario_runs_and_its_stress_test_runs(tmp_path):
    """From a fresh clone: the shipped EU risk-model file solves (on 20 of its draws, to keep CI
    short) and its portfolio is stress-tested on 100 fresh futures, writing every file."""
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[1] / "scenarios"
    res = run(
        shipped / "eu_critical_raw_materials_risk.yaml",
        RunConfig(mip_gap=1e-3),
        overrides=("risk_model.samples=20",),
    )
    assert res.status == "optimal"
    assert res.portfolio["risk_model"]["drawn"] == 20
    folder = res.write(tmp_path / "eu_risk", ("json", "yaml"))
    outcome = run_stress([folder], tmp_path / "stress", samples=100)
    doc = outcome.document
    assert doc["futures"]["exact"] is False
    st = doc["portfolios"]["eu_risk"]
    lo, hi = st["expected_cost"]["ci95"]
    assert lo <= st["expected_cost"]["mean"] <= hi
    assert {"stress.json", "stress.csv", "report.html"} <= {
        p.name for p in (tmp_path / "stress").iterdir()
    }
