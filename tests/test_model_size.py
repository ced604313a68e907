"""The model-size guard (issue 14, item 12): estimates from the scenario alone, refuses what
cannot fit, asks for --yes above a threshold."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from optimizer.api import load, run
from optimizer.model.size import ModelTooLarge, check_size, estimate_size

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import synthetic_scenario  # noqa: E402


def test_estimate_bounds_the_real_model():
    """The block count is an upper bound: the estimated columns are at least the real ones,
    and not wildly more (within 4x on a synthetic scenario with overlapping hits)."""
    sc = synthetic_scenario(8, 3, 24, 20, seed=3, integer=False)
    est = estimate_size(load(sc).scenario)
    real = run(sc).model.lp
    assert est.futures == 21 and est.goods == 8 and est.periods == 24
    assert real.n_cols <= est.columns <= 4 * real.n_cols
    assert real.matrix.nnz <= est.nonzeros * 1.5


def test_hand_counted_estimate():
    """One good, two suppliers (no spot lead), 12 monthly periods, one disruption with one hit.

    Blocks: no-disruption min(12, 2) = 2; the disruption min(12, 2 + 2*1*(1+0)) = 4; 6 cells,
    12 supplier cells. Columns 12 + 6*6 = 48; nonzeros 3*12 + 10*6 = 96; bytes 150e6 +
    32*2*2*12 + 24*2*1*12 + 1000*48 = 150,050,112."""
    sc = {
        "window": {"years": 1, "period": "month"},
        "countries": {"CN": {}, "JP": {}},
        "goods": {
            "ga": {
                "demand": 12,
                "damage": 10,
                "suppliers": {
                    "cn": {"country": "CN", "unit_cost": 1, "capacity": 12},
                    "jp": {"country": "JP", "unit_cost": 2, "capacity": 6},
                },
            }
        },
        "disruptions": {
            "ban": {"probability": "10%", "duration": "3 months", "hits": [{"countries": ["CN"]}]}
        },
    }
    est = estimate_size(load(sc).scenario)
    assert est.columns == 48 and est.nonzeros == 96
    assert est.bytes == pytest.approx(150_050_112)


def test_check_size_refuses_and_asks():
    """2,000 goods x 500 disruptions x 360 months (the issue's case) cannot fit in 24 GB:
    its data arrays alone are about 32 * 501 * 10,000 * 360 = 58 GB."""
    sc = synthetic_scenario(40, 5, 360, 10, seed=1, integer=False)
    est = estimate_size(load(sc).scenario)
    with pytest.raises(ModelTooLarge, match="too large for this machine"):
        check_size(est, memory=int(est.bytes))  # more than 90 % of memory: refused
    with pytest.raises(ModelTooLarge, match="--yes"):
        check_size(est, memory=int(est.bytes * 2))  # 50 %: asks
    check_size(est, memory=int(est.bytes * 2), yes=True)  # asked and answered
    check_size(est, memory=int(est.bytes * 10))  # 10 %: fine
    with pytest.raises(ModelTooLarge, match="too large"):
        check_size(est, memory=int(est.bytes), yes=True)  # --yes does not override "cannot fit"


# --- through the command line (the guard wired into the pipeline) --------------------------------


def _tiny_file(tmp_path):
    import yaml

    sc = synthetic_scenario(2, 2, 12, 2, seed=1, integer=False)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(sc, sort_keys=False), encoding="utf-8")
    return path, estimate_size(load(sc).scenario)


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_cli_refuses_what_cannot_fit_with_exit_1(tmp_path, monkeypatch, command):
    """The machine's memory is made the estimate itself (above 90 %: cannot fit): exit 1, the
    estimate and the memory in the message, nothing written, --yes does not override it."""
    from typer.testing import CliRunner

    import optimizer.model.size as size
    from optimizer.cli import app

    path, est = _tiny_file(tmp_path)
    monkeypatch.setattr(size, "machine_memory", lambda: int(est.bytes))
    out = tmp_path / "out"
    extra = ["--budget", "0:1M:2"] if command == "sweep" else []
    r = CliRunner().invoke(app, [command, str(path), *extra, "--out", str(out), "--yes"])
    text = " ".join(r.output.split())
    assert r.exit_code == 1, r.output
    assert "too large for this machine" in text and f"{est.columns:,} columns" in text
    assert "of memory here" in text and not out.exists()


def test_cli_asks_for_yes_then_warns(tmp_path, monkeypatch):
    """Memory twice the estimate (50 %, above the 25 % threshold): refused without --yes
    (exit 1, naming --yes); with --yes solved (exit 0) with a warning line."""
    from typer.testing import CliRunner

    import optimizer.model.size as size
    from optimizer.cli import app

    path, est = _tiny_file(tmp_path)
    monkeypatch.setattr(size, "machine_memory", lambda: int(est.bytes * 2))
    r = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "o1"), "-q"])
    assert r.exit_code == 1 and "--yes" in r.output
    r = CliRunner().invoke(app, ["run", str(path), "--out", str(tmp_path / "o2"), "-q", "--yes"])
    assert r.exit_code == 0, r.output
    assert "a large model" in " ".join(r.output.split())


def test_risk_model_estimate_counts_samples_and_expected_hits():
    """One good, two suppliers, 12 months, a risk model of 50 samples with one event on CN
    at probability 40 %: K = 51; blocks = 2 (no disruption) + 50 * min(12, 2 + 2 * 0.4 * 1)
    = 2 + 50 * 2.8 = 142 cells, 284 supplier cells; columns 284 + 6 * 142 = 1,136."""
    sc = {
        "window": {"years": 1, "period": "month"},
        "countries": {"CN": {}, "JP": {}},
        "goods": {
            "ga": {
                "demand": 12,
                "damage": 10,
                "suppliers": {
                    "cn": {"country": "CN", "unit_cost": 1, "capacity": 12},
                    "jp": {"country": "JP", "unit_cost": 2, "capacity": 6},
                },
            }
        },
        "risk_model": {
            "samples": 50,
            "events": {"ban": {"probability": "40%", "duration": "3 months", "countries": ["CN"]}},
        },
    }
    est = estimate_size(load(sc).scenario)
    assert est.futures == 51
    assert est.columns == pytest.approx(1136, abs=1)
