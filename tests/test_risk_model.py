"""The risk model (``risk_model:``): its validation, the sampling of futures, the merge of
identical draws, and the optimisation over the samples (issue 11, items 1, 2 and 6).

Statistical checks compare with analytic confidence intervals of 4 standard deviations (a
false alarm about once in 16,000 runs; the draws are seeded, so a test either always passes or
always fails on every machine).
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from optimizer.api import run
from optimizer.cli import app
from optimizer.data import prepare
from optimizer.sampling import (
    NO_DISRUPTION,
    draw_futures,
    draw_occurrences,
    draw_slice,
    hand_written_futures,
    materialise,
    merge_draws,
    stable_int,
)
from optimizer.scenario import ScenarioError, load_scenario, load_scenario_dict
from optimizer.studies.batch_file import load_batch
from optimizer.studies.sweep_param import sweep_param

runner = CliRunner()

#: One good, gallium: 1 unit a month (12 a year), damage 100 euros per unit short; China sells
#: at 10 euros, the US at 30 euros but only 0.5 units a month; a stock costs 20 euros a unit
#: and is worth nothing at the end. One year in months.
BASE: dict = {
    "name": "risk test",
    "window": {"years": 1, "period": "month"},
    "countries": {"CN": {}, "US": {}, "JP": {}},
    "goods": {
        "gallium": {
            "demand": 12,
            "damage": 100,
            "stockpile": {"unit_cost": 20, "residual_value": 0},
            "suppliers": {
                "cn": {"country": "CN", "unit_cost": 10, "capacity": 12},
                "us": {"country": "US", "unit_cost": 30, "capacity": 6},
            },
        },
        "germanium": {
            "demand": 12,
            "damage": 50,
            "suppliers": {
                "cn_ge": {"country": "CN", "unit_cost": 10, "capacity": 12},
                "jp": {"country": "JP", "unit_cost": 12, "capacity": 12},
            },
        },
    },
}


def with_risk(events: dict, samples: int = 1000, seed: int = 1, years: float = 1) -> dict:
    s = copy.deepcopy(BASE)
    s["window"]["years"] = years
    s["risk_model"] = {"samples": samples, "seed": seed, "events": events}
    return s


def scenario_of(data: dict):
    return load_scenario_dict(data).scenario


# --- the optimisation over samples ------------------------------------------------------------


def test_certain_event_gives_the_optimum_of_the_same_hand_written_disruption():
    """China cuts gallium and germanium (100 %) in months 4 and 5 (start 3 months, 2 months).

    By hand: gallium lacks 2 units; the stock (20 euros a unit) is cheaper than the US (30)
    and than the damage (100): buy 2 units = 40 euros. Purchases: gallium 10 months x 1 unit x
    10 = 100; germanium 10 months x 10 + 2 months x 12 (Japan) = 124. Objective 40 + 100 + 124
    = 264 euros. With ``probability: 100%`` every draw is this one future: one distinct
    sample, probability 1, and ``no_disruption`` with probability 0, as in the hand-written
    file."""
    hand = copy.deepcopy(BASE)
    hand["disruptions"] = {
        "ban": {
            "probability": "100%",
            "start": "3 months",
            "duration": "2 months",
            "hits": [{"countries": ["CN"], "severity": "100%"}],
        }
    }
    sampled = with_risk(
        {
            "ban": {
                "probability": "100%",
                "start": "3 months",
                "duration": "2 months",
                "countries": ["CN"],
                "severity": "100%",
            }
        },
        samples=50,
    )
    a, b = run(hand).portfolio, run(sampled).portfolio
    assert a["objective"] == pytest.approx(264.0, abs=1e-6)
    assert b["objective"] == pytest.approx(a["objective"], abs=1e-6)
    assert b["goods"]["gallium"]["stockpile"]["buy"] == pytest.approx(2.0, abs=1e-6)
    assert b["cost"]["expected_loss"] == pytest.approx(a["cost"]["expected_loss"], abs=1e-6)
    assert {k: v["probability"] for k, v in b["scenarios"].items()} == {
        NO_DISRUPTION: 0.0,
        "s0001": 1.0,
    }
    assert b["risk_model"] == {"drawn": 50, "distinct": 1, "seed": 1}
    assert "risk_model" not in a


def test_hand_written_and_sampled_futures_have_the_same_arrays():
    """The same certain event, drawn or written by hand, gives identical arrays (severity,
    disrupted, multipliers), so prepare() cannot tell the two sources apart."""
    hand = copy.deepcopy(BASE)
    hand["disruptions"] = {
        "ban": {
            "probability": "100%",
            "start": "2 months",
            "duration": "3 months",
            "price_multiplier": 2,
            "demand_multiplier": 1.5,
            "hits": [{"countries": ["CN"], "goods": ["gallium"], "severity": "60%"}],
        }
    }
    event = {
        "probability": "100%",
        "start": "2 months",
        "duration": "3 months",
        "countries": ["CN"],
        "goods": ["gallium"],
        "severity": "60%",
        "price_multiplier": 2,
        "demand_multiplier": 1.5,
    }
    h = hand_written_futures(scenario_of(hand))
    s = draw_futures(scenario_of(with_risk({"ban": event})), 10, 3)
    for name in ("severity", "disrupted", "price_mult", "demand_mult"):
        np.testing.assert_array_equal(getattr(h, name), getattr(s, name))
    np.testing.assert_allclose(s.probability, [0.0, 1.0])
    # by hand: supplier 0 (cn, gallium), months 3-5 (periods 2, 3, 4) lose 60 %
    expected = np.zeros(12)
    expected[2:5] = 0.6
    np.testing.assert_allclose(s.severity[1, 0], expected)
    assert not s.severity[1, 2].any()  # cn_ge: germanium was not named


# --- sampling -----------------------------------------------------------------------------------


def test_poisson_mean_count_lies_in_its_confidence_interval():
    """Rate 0.4 a year over 5 years: counts ~ Poisson(2). Over N = 20,000 draws the mean count
    has standard deviation sqrt(2 / 20,000) = 0.01; it must lie within 2 +- 0.04 (4 sd). The
    share of draws with no occurrence is e^-2 = 0.1353, sd sqrt(0.1353 x 0.8647 / 20,000) =
    0.00242."""
    s = scenario_of(
        with_risk(
            {"ban": {"rate": "0.4 per year", "countries": ["CN"], "duration": "1 month"}}, years=5
        )
    )
    n = 20_000
    occ = draw_occurrences(s, n, 7)
    counts = np.bincount(occ.draw, minlength=n)
    assert abs(counts.mean() - 2.0) < 4 * math.sqrt(2 / n)
    p0 = math.exp(-2)
    assert abs((counts == 0).mean() - p0) < 4 * math.sqrt(p0 * (1 - p0) / n)
    assert occ.start.min() >= 0 and occ.start.max() <= 59  # 60 months


def test_rate_per_month_is_converted():
    """``0.05 per month`` = 0.6 a year: over 5 years Poisson(3); N = 20,000, sd of the mean
    sqrt(3 / 20,000) = 0.0122."""
    s = scenario_of(
        with_risk(
            {"ban": {"rate": "0.05/month", "countries": ["CN"], "duration": "1 month"}}, years=5
        )
    )
    assert s.risk_model.events["ban"].rate == pytest.approx(0.6)
    counts = np.bincount(draw_occurrences(s, 20_000, 1).draw, minlength=20_000)
    assert abs(counts.mean() - 3.0) < 4 * math.sqrt(3 / 20_000)


def test_discrete_severity_frequencies_match_the_weights():
    """Severity 50 % with weight 1, 100 % with weight 3: 100 % in 3/4 of the occurrences. With a
    certain event, N = 20,000 occurrences; sd of the share sqrt(0.75 x 0.25 / 20,000) =
    0.00306."""
    s = scenario_of(
        with_risk(
            {
                "ban": {
                    "probability": "100%",
                    "countries": ["CN"],
                    "duration": "1 month",
                    "severity": [["50%", 1], ["100%", 3]],
                }
            }
        )
    )
    occ = draw_occurrences(s, 20_000, 5)
    assert len(occ.severity) == 20_000
    assert set(np.unique(occ.severity)) == {0.5, 1.0}
    share = (occ.severity == 1.0).mean()
    assert abs(share - 0.75) < 4 * math.sqrt(0.75 * 0.25 / 20_000)


def test_uniform_and_triangular_means():
    """Uniform severity 40-80 %: mean 60 %, sd (0.4 / sqrt 12) = 0.1155, sd of the mean over
    20,000 = 0.000816. Triangular duration 1, 4, 7 months: mean (1 + 4 + 7) / 3 = 4 months;
    after rounding to whole months the mean stays 4 (the density is symmetric about 4)."""
    s = scenario_of(
        with_risk(
            {
                "ban": {
                    "probability": "100%",
                    "start": "0 months",
                    "countries": ["CN"],
                    "severity": {"min": "40%", "max": "80%"},
                    "duration": {"min": "1 month", "mode": "4 months", "max": "7 months"},
                }
            }
        )
    )
    occ = draw_occurrences(s, 20_000, 2)
    assert abs(occ.severity.mean() - 0.6) < 4 * 0.4 / math.sqrt(12) / math.sqrt(20_000)
    assert occ.severity.min() >= 0.4 and occ.severity.max() <= 0.8
    # variance of the triangular (a^2+b^2+c^2-ab-ac-bc)/18 = (1+16+49-4-7-28)/18 = 1.5 months^2
    assert abs(occ.length.mean() - 4.0) < 4 * math.sqrt(1.5 + 1 / 12) / math.sqrt(20_000)
    assert occ.length.min() >= 1 and occ.length.max() <= 7


def test_durations_round_to_at_least_one_period_and_stop_at_the_window_end():
    """Start 11 months, 6 months long, in a 12-month window: cut to 1 period (month 12). A 3-day
    duration (0.1 month) becomes one whole month."""
    s = scenario_of(
        with_risk(
            {
                "late": {
                    "probability": "100%",
                    "start": "11 months",
                    "countries": ["CN"],
                    "duration": "6 months",
                },
                "short": {
                    "probability": "100%",
                    "start": "2 months",
                    "countries": ["US"],
                    "duration": "3 days",
                },
            }
        )
    )
    occ = draw_occurrences(s, 4, 1)
    late = occ.event == 0
    assert (occ.start[late] == 11).all() and (occ.length[late] == 1).all()
    assert (occ.start[~late] == 2).all() and (occ.length[~late] == 1).all()


def test_same_seed_same_draws_other_seed_other_draws_and_events_keep_their_streams():
    """Each event draws from the stream seeded by (seed, SHA-256 of its name): adding event B,
    or changing B's rate, leaves event A's occurrences exactly as they were."""
    a = {
        "rate": "0.5 per year",
        "countries": ["CN"],
        "severity": {"min": "20%", "max": "90%"},
        "duration": {"min": "1 month", "max": "9 months"},
    }
    b = {"rate": "0.3 per year", "countries": ["US"], "duration": "2 months"}
    only_a = scenario_of(with_risk({"a": a}, years=5))
    both = scenario_of(with_risk({"a": a, "b": b}, years=5))
    b_faster = scenario_of(with_risk({"a": a, "b": {**b, "rate": "2 per year"}}, years=5))
    one, two = draw_occurrences(only_a, 500, 11), draw_occurrences(only_a, 500, 11)
    np.testing.assert_array_equal(one.rows(), two.rows())
    np.testing.assert_array_equal(one.draw, two.draw)
    other = draw_occurrences(only_a, 500, 12)
    assert one.rows().shape != other.rows().shape or not np.array_equal(one.rows(), other.rows())

    def event_a(occ):
        sel = occ.event == 0
        return occ.draw[sel], occ.rows()[sel]

    for variant in (both, b_faster):
        d, r = event_a(draw_occurrences(variant, 500, 11))
        np.testing.assert_array_equal(d, one.draw)
        np.testing.assert_array_equal(r, one.rows())
    # SHA-256("a") = ca978112ca1bbdca fac231b3...: its first 8 bytes read little-endian
    assert stable_int("a") == 0xCABD1BCA128197CA


def test_merge_sums_the_probabilities_of_identical_draws():
    """A 50 % event with fixed start, severity and duration has two possible futures: nothing
    or the one occurrence. Of N = 1,000 draws c have the event; merged: no_disruption with
    (N - c) / N, s0001 with c / N; probabilities sum to 1; distinct = 2."""
    s = scenario_of(
        with_risk(
            {
                "ban": {
                    "probability": "50%",
                    "start": "1 month",
                    "countries": ["CN"],
                    "duration": "2 months",
                }
            },
            samples=1000,
        )
    )
    occ = draw_occurrences(s, 1000, 4)
    c = len(occ.draw)
    f = draw_futures(s, 1000, 4)
    assert f.names == [NO_DISRUPTION, "s0001"]
    np.testing.assert_allclose(f.probability, [(1000 - c) / 1000, c / 1000])
    assert f.distinct == 2 and f.drawn == 1000
    assert abs(c / 1000 - 0.5) < 4 * math.sqrt(0.25 / 1000)


def test_merge_counts_match_the_probabilities_and_no_disruption_is_always_there():
    """A certain event with a discrete severity (3 values) and a discrete start (2 months): at
    most 3 x 2 = 6 distinct futures, none empty. no_disruption is still scenario 0 with
    probability 0; every other probability is its count of draws / N and they sum to 1."""
    s = scenario_of(
        with_risk(
            {
                "ban": {
                    "probability": "100%",
                    "countries": ["CN"],
                    "duration": "1 month",
                    "start": [["0 months", 1], ["6 months", 1]],
                    "severity": [["25%", 1], ["50%", 1], ["100%", 2]],
                }
            }
        )
    )
    n = 2000
    occ = draw_occurrences(s, n, 9)
    merged = merge_draws(occ)
    f = draw_futures(s, n, 9)
    assert merged.empty == -1
    assert f.names[0] == NO_DISRUPTION and f.probability[0] == 0.0
    assert f.K == 1 + 6 and f.distinct == 6
    assert f.probability.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(f.probability[1:], merged.count / n)
    # each future's probability is the share of draws with that (start, severity)
    for k in range(1, f.K):
        j = np.nonzero(f.severity[k, 0])[0]  # periods where cn (gallium) is cut
        start, sev = j[0], f.severity[k, 0, j[0]]
        share = ((occ.start == start) & (occ.severity == sev)).mean()
        assert f.probability[k] == pytest.approx(share, abs=1e-12)


def test_overlapping_occurrences_take_the_largest_severity_and_multiplier():
    """Event A cuts China 50 % in months 1-4 (price x 1.5); event B cuts China and Japan 100 %
    in months 3-6 (price x 3). Per (supplier, month) the largest severity: cn 0.5, 0.5, 1, 1,
    1, 1, 0...; jp (germanium) 0, 0, 1, 1, 1, 1, 0...; per (good, month) the largest price
    multiplier: gallium 1.5, 1.5, 3, 3, 3, 3, 1, ..."""
    s = scenario_of(
        with_risk(
            {
                "a": {
                    "probability": "100%",
                    "start": "0 months",
                    "duration": "4 months",
                    "countries": ["CN"],
                    "severity": "50%",
                    "price_multiplier": 1.5,
                },
                "b": {
                    "probability": "100%",
                    "start": "2 months",
                    "duration": "4 months",
                    "countries": ["CN", "JP"],
                    "severity": "100%",
                    "price_multiplier": 3,
                },
            }
        )
    )
    occ = draw_occurrences(s, 3, 1)
    sev, disrupted, price, demand = materialise(s, occ, np.array([1]))
    np.testing.assert_allclose(sev[0, 0], [0.5, 0.5, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0])  # cn
    np.testing.assert_allclose(sev[0, 1], 0)  # us
    np.testing.assert_allclose(sev[0, 3], [0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0])  # jp
    np.testing.assert_allclose(price[0, 0], [1.5, 1.5, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1])
    assert disrupted[0, 0].tolist() == [True] * 6 + [False] * 6
    np.testing.assert_allclose(demand, 1.0)


def test_draw_slice_gives_the_same_futures_as_the_whole_draw():
    """Chunks of draws (for a stress test) materialise exactly the futures that the whole draw
    holds: the arrays of draws 10-19 equal rows 10-19 of all 30 draws materialised at once."""
    s = scenario_of(
        with_risk(
            {
                "ban": {
                    "rate": "1 per year",
                    "countries": ["CN"],
                    "duration": {"min": "1 month", "max": "5 months"},
                }
            }
        )
    )
    occ = draw_occurrences(s, 30, 2)
    whole = materialise(s, occ, np.arange(30))
    chunk = draw_slice(s, 30, 2, 10, 20)
    np.testing.assert_array_equal(chunk.severity, whole[0][10:20])
    np.testing.assert_allclose(chunk.probability, 1 / 30)
    assert chunk.names[0] == "f000011"


def test_prepare_samples_and_seed_override_the_file():
    """prepare(scenario, samples=N, seed=S) draws N futures with seed S whatever the file says
    (the stress test's call); its futures equal draw_futures(scenario, N, S)."""
    s = scenario_of(
        with_risk(
            {"ban": {"rate": "0.7 per year", "countries": ["CN"], "duration": "2 months"}},
            samples=10,
            seed=1,
        )
    )
    d = prepare(s, compress_time=False, samples=200, seed=5)
    f = draw_futures(s, 200, 5)
    assert d.sampling == {"drawn": 200, "distinct": f.distinct, "seed": 5}
    assert d.scenarios == f.names
    np.testing.assert_allclose(d.probability, f.probability)
    np.testing.assert_allclose(d.avail, 1 - f.severity)


def test_a_risk_model_without_events_leaves_hand_written_disruptions_in_charge():
    """``risk_model: {samples: 50}`` beside hand-written disruptions (no events): the futures
    are the hand-written ones (no_disruption 90 %, ban 10 %), not one empty sample."""
    data = copy.deepcopy(BASE)
    data["disruptions"] = {
        "ban": {"probability": "10%", "duration": "2 months", "hits": [{"countries": ["CN"]}]}
    }
    data["risk_model"] = {"samples": 50}
    d = prepare(scenario_of(data))
    assert d.scenarios == [NO_DISRUPTION, "ban"]
    np.testing.assert_allclose(d.probability, [0.9, 0.1])
    assert d.sampling is None


def test_an_empty_risk_model_is_one_certain_future_without_disruption():
    """No events: every draw is empty, so no_disruption has probability 1 and is the only
    scenario; drawn 20, distinct 1."""
    data = with_risk({}, samples=20)
    d = prepare(scenario_of(data))
    assert d.scenarios == [NO_DISRUPTION]
    np.testing.assert_allclose(d.probability, [1.0])
    assert d.sampling == {"drawn": 20, "distinct": 1, "seed": 1}


# --- overrides, batches, sweeps ------------------------------------------------------------------


def _write(tmp_path: Path, data: dict, name: str = "risk.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


EVENTS = {
    "cn_export_controls": {
        "rate": "0.4 per year",
        "countries": ["CN"],
        "severity": {"min": "50%", "max": "100%"},
        "duration": {"min": "3 months", "max": "18 months"},
    },
    "us_strike": {"probability": "30%", "countries": ["US"], "duration": "2 months"},
}


def test_set_overrides_reach_the_risk_model(tmp_path):
    path = _write(tmp_path, with_risk(EVENTS, years=5))
    loaded = load_scenario(
        path,
        [
            "risk_model.events.cn_export_controls.rate=0.5 per year",
            "risk_model.events.cn_export_controls.severity.min=60%",
            "risk_model.samples=300",
        ],
    )
    ev = loaded.scenario.risk_model.events["cn_export_controls"]
    assert ev.rate == pytest.approx(0.5)
    assert ev.severity.values == pytest.approx((0.6, 1.0))
    assert loaded.scenario.risk_model.samples == 300
    # the resolved file reads back to the same scenario
    again = load_scenario_dict(yaml.safe_load(loaded.resolved_yaml))
    assert again.scenario == loaded.scenario


def test_extends_merges_the_risk_model(tmp_path):
    base = _write(tmp_path, with_risk(EVENTS, years=5), "base.yaml")
    child = _write(
        tmp_path,
        {
            "extends": base.name,
            "risk_model": {"seed": 7, "events": {"us_strike": {"probability": "10%"}}},
        },
        "child.yaml",
    )
    s = load_scenario(child).scenario
    assert s.risk_model.seed == 7
    assert s.risk_model.events["us_strike"].probability == pytest.approx(0.1)
    assert s.risk_model.events["us_strike"].duration.values == pytest.approx((2 / 12,))
    assert s.risk_model.events["cn_export_controls"].rate == pytest.approx(0.4)


def test_a_risk_model_file_can_extend_a_file_with_hand_written_disruptions(tmp_path):
    """``disruptions: null`` clears the base file's stories, so the child's risk model is
    alone; without it the two blocks clash (an error naming risk_model)."""
    hand = copy.deepcopy(BASE)
    hand["disruptions"] = {
        "ban": {"probability": "10%", "duration": "2 months", "hits": [{"countries": ["CN"]}]}
    }
    base = _write(tmp_path, hand, "hand.yaml")
    risk = {"samples": 10, "events": {"ban": _event()}}
    clash = _write(tmp_path, {"extends": base.name, "risk_model": risk}, "clash.yaml")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(clash)
    assert exc.value.issues[0].path == "risk_model"
    assert "disruptions: null" in exc.value.issues[0].hint
    child = _write(
        tmp_path,
        {"extends": base.name, "disruptions": None, "risk_model": risk},
        "child.yaml",
    )
    s = load_scenario(child).scenario
    assert s.disruptions == {} and list(s.risk_model.events) == ["ban"]


def test_batch_grid_over_a_rate_keeps_common_random_numbers(tmp_path):
    """A batch grid over the rate of cn_export_controls: the runs' files differ only there, so
    us_strike's occurrences are identical in both (common random numbers)."""
    base = _write(tmp_path, with_risk(EVENTS, samples=400, years=5), "base.yaml")
    batch = tmp_path / "batch.yaml"
    batch.write_text(
        "base: base.yaml\nvary:\n  risk_model.events.cn_export_controls.rate: "
        "[0.2 per year, 1 per year]\n"
    )
    b = load_batch(batch)
    assert len(b.runs) == 2
    scenarios = [load_scenario(base, r.overrides).scenario for r in b.runs]
    rates = [s.risk_model.events["cn_export_controls"].rate for s in scenarios]
    assert rates == pytest.approx([0.2, 1.0])
    occ = [draw_occurrences(s, 400, 1) for s in scenarios]
    strike = [o.event == 1 for o in occ]
    np.testing.assert_array_equal(occ[0].rows()[strike[0]], occ[1].rows()[strike[1]])
    np.testing.assert_array_equal(occ[0].draw[strike[0]], occ[1].draw[strike[1]])
    # the controls themselves: ~0.2 x 5 = 1 against 1 x 5 = 5 per draw
    n_controls = [int((~m).sum()) for m in strike]
    assert n_controls[0] < n_controls[1]


def test_param_sweep_of_a_rate():
    """``--param risk_model.events.ban.rate=...``: the sweep writes each value with its
    ``per year`` and each level optimises over its own draws.

    By hand: China's gallium stops (100 %) in months 1-2, so a draw is disrupted when it has at
    least one occurrence (all start at 0): share p (about 1 - e^-rate). Germanium is not hit:
    12 x 10 = 120 euros. Gallium in normal times 12 x 10 = 120; when disrupted 10 x 10 = 100
    plus the 2 missing units from: stock (20 each, bought in every future), the US (0.5 a
    month, 30 each: 1 unit) or damage (100 each). Expected costs:
    two stock units 40 + (1 - p) 120 + p 100 + 120 = 280 - 20 p;
    one stock unit and the US 20 + (1 - p) 120 + p 130 + 120 = 260 + 10 p;
    no stock: (1 - p) 120 + p 230 + 120 = 240 + 110 p. The optimum is the smallest."""
    s = with_risk(
        {
            "ban": {
                "rate": "1 per year",
                "countries": ["CN"],
                "goods": ["gallium"],
                "start": "0 months",
                "duration": "2 months",
            }
        },
        samples=200,
        years=1,
    )
    rates = [0.2, 0.6]
    res = sweep_param(s, "risk_model.events.ban.rate", rates)
    assert res.frontier["status"].tolist() == ["optimal", "optimal"]
    for rate, objective, pf in zip(rates, res.frontier["objective"], res.portfolios, strict=True):
        varied = copy.deepcopy(s)
        varied["risk_model"]["events"]["ban"]["rate"] = f"{rate} per year"
        occ = draw_occurrences(scenario_of(varied), 200, 1)
        p = len(np.unique(occ.draw)) / 200
        assert abs(p - (1 - math.exp(-rate))) < 4 * math.sqrt(0.25 / 200)
        expected = min(280 - 20 * p, 260 + 10 * p, 240 + 110 * p)
        assert objective == pytest.approx(expected, abs=1e-6)
        # a draw is its multiset of occurrences: 0, 1, 2, ... identical bans are distinct draws
        counts = np.bincount(occ.draw, minlength=200)
        assert pf["risk_model"] == {"drawn": 200, "distinct": len(np.unique(counts)), "seed": 1}


# --- bad input ------------------------------------------------------------------------------------


def _one_issue(tmp_path: Path, data: dict, text: str | None = None):
    path = tmp_path / "bad.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    issues = exc.value.issues
    assert issues, "expected at least one issue"
    return issues[0], path


def _event(**changes) -> dict:
    ev = {"rate": "0.4 per year", "countries": ["CN"], "duration": "3 months"}
    ev.update(changes)
    return {k: v for k, v in ev.items() if v is not None}


BAD = {
    "rate_without_per_year": (
        _event(rate=0.4),
        "rate",
        "per year",
    ),
    "min_above_max": (
        _event(severity={"min": "90%", "max": "50%"}),
        "severity",
        "above max",
    ),
    "weights_sum_zero": (
        _event(duration=[["1 month", 0], ["2 months", 0]]),
        "duration",
        "add up to 0",
    ),
    "mode_outside": (
        _event(duration={"min": "1 month", "mode": "9 months", "max": "3 months"}),
        "duration",
        "not between",
    ),
    "severity_above_100": (
        _event(severity=[["50%", 1], ["120%", 1]]),
        "severity",
        "out of range",
    ),
    "unknown_country": (_event(countries=["CN", "XX"]), "countries[1]", "unknown country"),
    "unknown_good": (_event(goods=["galium"]), "goods[0]", "unknown good"),
    "probability_above_100": (
        _event(rate=None, probability="130%"),
        "probability",
        "<= 100 %",
    ),
    "rate_and_probability": (_event(probability="20%"), "", "exactly one of rate or probability"),
    "duration_without_unit": (_event(duration=3), "duration", "needs a unit"),
    "multiplier_zero": (_event(price_multiplier=0), "price_multiplier", "above 0"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_event_input_is_located_with_a_hint(tmp_path, case):
    event, key, words = BAD[case]
    data = with_risk({"ban": event})
    issue, path = _one_issue(tmp_path, data)
    text = path.read_text().splitlines()
    assert issue.file == str(path)
    assert issue.line is not None
    expected_path = "risk_model.events.ban" + (f".{key}" if key and key[0] != "[" else "")
    if key.endswith("]"):
        expected_path = "risk_model.events.ban." + key
    assert issue.path == expected_path, issue.format()
    assert words in issue.message + (issue.hint or ""), issue.format()
    assert issue.hint, issue.format()
    # the line is that of the key, of the list item, or (the event as a whole) of its name
    line = text[issue.line - 1]
    if key.endswith("]"):
        assert line.strip().startswith("- "), (issue.line, line)
    else:
        assert (key or "ban") in line, (issue.line, line)


def test_both_blocks_is_an_error_with_a_hint(tmp_path):
    data = with_risk({"ban": _event()})
    data["disruptions"] = {
        "old": {"probability": "10%", "duration": "3 months", "hits": [{"countries": ["CN"]}]}
    }
    issue, path = _one_issue(tmp_path, data)
    assert issue.path == "risk_model"
    assert "both" in issue.message and "remove" in issue.hint
    assert path.read_text().splitlines()[issue.line - 1].startswith("risk_model:")


def test_bad_samples_and_unknown_keys(tmp_path):
    data = with_risk({"ban": _event(sevrity="50%")}, samples=0)
    path = _write(tmp_path, data, "bad.yaml")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(path)
    by_path = {i.path: i for i in exc.value.issues}
    assert "must be >= 1" in by_path["risk_model.samples"].message
    assert by_path["risk_model.events.ban.sevrity"].hint == "did you mean `severity`?"


def test_validate_exits_1_without_a_traceback(tmp_path):
    path = _write(tmp_path, with_risk({"ban": _event(rate=0.4)}), "bad.yaml")
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    assert "risk_model.events.ban.rate" in r.output and "per year" in r.output
    good = _write(tmp_path, with_risk({"ban": _event()}), "good.yaml")
    assert runner.invoke(app, ["validate", str(good)]).exit_code == 0


def test_the_json_schema_covers_the_risk_model():
    """Editors using ``stockpile schema`` accept the shipped risk model (its four forms of
    distribution, rates with units) and refuse a rate without ``per year``."""
    schema = json.loads(runner.invoke(app, ["schema"]).stdout)
    shipped = yaml.safe_load(
        (
            Path(__file__).resolve().parents[1]
            / "scenarios"
            / "eu_critical_raw_materials_risk.yaml"
        ).read_text(encoding="utf-8")
    )
    data = copy.deepcopy(BASE)
    data["risk_model"] = shipped["risk_model"]
    validator = jsonschema.Draft202012Validator(schema)
    assert [e.message for e in validator.iter_errors(data)] == []
    data["risk_model"]["events"]["cn_antimony_controls"]["rate"] = 0.1
    assert list(validator.iter_errors(data))
