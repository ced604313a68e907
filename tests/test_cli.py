"""The ``stockpile`` command: exit codes, files written, atomic replacement, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from optimizer.cli import app

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = str(ROOT / "tests" / "defaults.yaml")  # an empty config: the defaults
SHIPPED = ROOT / "scenarios" / "critical_raw_materials.yaml"
runner = CliRunner()

TINY = {
    "name": "tiny",
    "window": {"years": 1, "period": "quarter"},
    "budget": {"total": "1k"},
    "countries": {"CN": {}, "JP": {}},
    "goods": {
        "gallium": {
            "unit": "t",
            "demand": 40,
            "damage": 100,
            "stockpile": {"unit_cost": 10},
            "suppliers": {
                "china": {"country": "CN", "unit_cost": 1, "capacity": 60},
                "japan": {"country": "JP", "unit_cost": 3, "capacity": 5},
            },
        }
    },
    "disruptions": {
        "ban": {
            "probability": "30%",
            "start": "3 months",
            "duration": "6 months",
            "hits": [{"countries": ["CN"]}],
        }
    },
}


def _write(tmp_path: Path, data: dict, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_run_writes_every_file_and_exits_0(tmp_path):
    out = tmp_path / "out"
    r = _run("run", str(_write(tmp_path, TINY)), "--out", str(out), "--config", DEFAULTS)
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir()) == [
        ".stockpile-results",  # the marker: only a folder holding it is ever replaced
        "portfolio.csv",
        "portfolio.json",
        "portfolio.xlsx",
        "report.html",
        "reserves.csv",
        "resolved.yaml",
        "scenarios.csv",
        "supply_shares.csv",
    ]
    pf = json.loads((out / "portfolio.json").read_text())
    assert pf["status"] == "optimal"
    assert "Recommended portfolio" in r.output


def test_input_hash_is_sha256_of_resolved_yaml(tmp_path):
    import hashlib

    out = tmp_path / "out"
    _run("run", str(_write(tmp_path, TINY)), "--out", str(out), "-q")
    pf = json.loads((out / "portfolio.json").read_text())
    digest = hashlib.sha256((out / "resolved.yaml").read_bytes()).hexdigest()
    assert pf["input_sha256"] == digest


def test_set_override_changes_the_answer(tmp_path):
    """Budget 1k buys the whole stock need; ``--set budget.total=20`` lets it buy only 2 units
    (10 euros each), so the used budget is 20 and its marginal value positive."""
    out = tmp_path / "out"
    r = _run(
        "run", str(_write(tmp_path, TINY)), "--out", str(out), "--set", "budget.total=20", "--json"
    )
    assert r.exit_code == 0, r.output
    pf = json.loads(r.stdout)
    assert pf["budget"]["total"]["limit"] == pytest.approx(20)
    assert pf["budget"]["total"]["used"] == pytest.approx(20)
    assert pf["goods"]["gallium"]["stockpile"]["buy"] == pytest.approx(2)
    assert pf["budget"]["total"]["marginal_value"] > 0


def test_scenario_mistake_exit_1_no_traceback_and_old_results_kept(tmp_path):
    out = tmp_path / "out"
    good = _write(tmp_path, TINY)
    assert _run("run", str(good), "--out", str(out), "-q").exit_code == 0
    before = (out / "portfolio.json").read_text()
    bad = dict(TINY, goods={"gallium": dict(TINY["goods"]["gallium"], stockpil={"x": 1})})
    r = _run("run", str(_write(tmp_path, bad, "bad.yaml")), "--out", str(out))
    assert r.exit_code == 1
    assert "Traceback" not in r.output
    assert "goods.gallium.stockpil" in r.output and "stockpile" in r.output
    assert (out / "portfolio.json").read_text() == before


def test_infeasible_exit_3_names_the_conflict_and_keeps_old_results(tmp_path):
    """A 0 % service level in a 6-month total ban of the only supplier needs
    6/12 * 40 = 20 t of stock at 10 euros = 200 euros; a budget of 100 cannot pay it."""
    out = tmp_path / "out"
    assert _run("run", str(_write(tmp_path, TINY)), "--out", str(out), "-q").exit_code == 0
    before = (out / "portfolio.json").read_text()
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["goods"]["gallium"]["max_shortfall"] = "0%"
    data["goods"]["gallium"]["suppliers"].pop("japan")
    data["budget"]["total"] = 100
    data["disruptions"]["ban"]["hits"][0]["severity"] = "100%"
    r = _run("run", str(_write(tmp_path, data, "inf.yaml")), "--out", str(out))
    assert r.exit_code == 3, r.output
    assert "no feasible portfolio" in r.output
    assert "total budget" in r.output and "EUR 100" in r.output
    assert "service level for gallium" in r.output
    assert (out / "portfolio.json").read_text() == before


def test_missing_file_and_malformed_yaml_exit_1(tmp_path):
    r = _run("run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o"))
    assert r.exit_code == 1 and "Traceback" not in r.output
    p = tmp_path / "broken.yaml"
    p.write_text("name: x\ngoods: [1, 2\n")
    r = _run("run", str(p), "--out", str(tmp_path / "o"))
    assert r.exit_code == 1 and "broken.yaml:" in r.output and "Traceback" not in r.output


def test_bad_config_is_reported(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("solver: {mip_gap: -1}\n")
    r = _run("run", str(_write(tmp_path, TINY)), "--config", str(cfg), "--out", str(tmp_path / "o"))
    assert r.exit_code == 1 and "mip_gap" in r.output


def test_validate_and_json(tmp_path):
    good = _write(tmp_path, TINY)
    bad = _write(tmp_path, dict(TINY, window={"years": -1}), "bad.yaml")
    r = _run("validate", str(good))
    assert r.exit_code == 0 and "valid" in r.output
    r = _run("validate", str(good), str(bad), "--json")
    assert r.exit_code == 1
    report = json.loads(r.stdout)
    assert [x["valid"] for x in report] == [True, False]
    assert report[1]["issues"][0]["path"] == "window.years"


def test_schema_is_json_schema():
    r = _run("schema")
    schema = json.loads(r.stdout)
    whole = schema["$defs"]["Scenario"]  # files without extends:; PartialScenario with it
    assert whole["additionalProperties"] is False
    assert "goods" in whole["properties"]


def test_help_teaches():
    r = _run("run", "--help")
    assert "--set" in r.output and "--out" in r.output and "Example" in r.output


def test_python_m_optimizer_works():
    r = subprocess.run(
        [sys.executable, "-m", "optimizer", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert r.returncode == 0 and "stockpile" in r.stdout


def test_shipped_scenario_runs_from_the_readme(tmp_path):
    """The README's first command on the shipped scenario: optimal, every good reported."""
    out = tmp_path / "crm"
    r = _run("run", str(SHIPPED), "--out", str(out), "-q")
    assert r.exit_code == 0, r.output
    pf = json.loads((out / "portfolio.json").read_text())
    assert pf["status"] == "optimal"
    assert set(pf["goods"]) == set(yaml.safe_load(SHIPPED.read_text())["goods"])


def test_time_limit_writes_flagged_portfolio_and_exits_4(tmp_path, monkeypatch):
    """A run stopped by the time limit with a feasible portfolio writes it, flags it in
    portfolio.json and exits 4 (the solver outcome is simulated: a real time-out is not
    reproducible on a tiny model)."""
    import optimizer.pipeline as api

    real_run = api.run

    def stopped(*args, **kwargs):
        result = real_run(*args, **kwargs)
        result.solve.status = "time_limit"
        result.solve.mip_gap = 0.02
        result.portfolio.update(status="time_limit", mip_gap=0.02)
        return result

    monkeypatch.setattr(api, "run", stopped)
    out = tmp_path / "out"
    r = _run("run", str(_write(tmp_path, TINY)), "--out", str(out), "-q")
    assert r.exit_code == 4
    assert "time limit" in r.output and "2.00%" in r.output
    pf = json.loads((out / "portfolio.json").read_text())
    assert pf["status"] == "time_limit" and pf["mip_gap"] == pytest.approx(0.02)


@pytest.mark.parametrize(
    ("highs_status", "expected"),
    [
        ("Optimal", "optimal"),
        ("Time limit reached", "time_limit"),
        ("Infeasible", "infeasible"),
        ("Primal infeasible or unbounded", "infeasible"),
        ("Unbounded", "unbounded"),
        ("Solve error", "error"),
    ],
)
def test_solver_status_mapping(highs_status, expected):
    from optimizer.solve.base import status_from_highs

    assert status_from_highs(highs_status, True) == expected


def test_sweep_writes_the_frontier(tmp_path):
    """Budgets 0, 10 and 20 euros: each euro buys a tenth of a unit of stock (10 euros each)
    and the budget binds at every level, so cash used equals the level."""
    out = tmp_path / "sweep"
    r = _run("sweep", str(_write(tmp_path, TINY)), "--budget", "0:20:3", "--out", str(out))
    assert r.exit_code == 0, r.output
    assert {"frontier.csv", "frontier_goods.csv", "frontier.png", "sweep.json"} <= {
        p.name for p in out.iterdir()
    }
    import pandas as pd

    f = pd.read_csv(out / "frontier.csv")
    assert f["level"].tolist() == pytest.approx([0, 10, 20])
    assert f["cash_used"].tolist() == pytest.approx([0, 10, 20])
    assert (f["objective"].diff().dropna() <= 1e-9).all()


@pytest.mark.parametrize(
    "args",
    [
        ["--budget", "0:10:3", "--param", "budget.total=0:10:3"],
        ["--budget", "0:10"],
        ["--param", "budget.total"],
        ["--line", "x", "--param", "budget.total=0:10:2"],
    ],
)
def test_sweep_usage_errors_exit_2(tmp_path, args):
    r = _run("sweep", str(_write(tmp_path, TINY)), *args, "--out", str(tmp_path / "o"))
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_unknown_interface_is_a_usage_error(tmp_path, command):
    """The shared --interface option lists its choices; a wrong one exits 2 before any work."""
    extra = ["--budget", "0:10:2"] if command == "sweep" else []
    r = _run(command, str(_write(tmp_path, TINY)), *extra, "--interface", "bogus")
    assert r.exit_code == 2
    assert "auto" in r.output and "direct" in r.output and "Traceback" not in r.output


def test_a_long_mip_sweep_in_one_process_is_pointed_at_workers(monkeypatch):
    """The tip appears for a MIP sweep of more than 10 s in one process on a machine with
    more than one core, and not for an LP, a sweep with workers, a short one or one core."""
    from types import SimpleNamespace

    import pandas as pd

    import optimizer.cli.sweep as cli

    def result(is_mip=True, workers=1, seconds=50.8):
        return SimpleNamespace(
            is_mip=is_mip,
            workers=workers,
            frontier=pd.DataFrame({"level": range(20)}),
            timings={"total_seconds": seconds},
        )

    monkeypatch.setattr(cli.os, "cpu_count", lambda: 2)
    assert cli._suggest_workers(result())
    assert not cli._suggest_workers(result(is_mip=False))
    assert not cli._suggest_workers(result(workers=2))
    assert not cli._suggest_workers(result(seconds=3.0))
    monkeypatch.setattr(cli.os, "cpu_count", lambda: 1)
    assert not cli._suggest_workers(result())


def test_pricing_is_a_config_setting(tmp_path):
    """``solver.pricing`` in config.yaml: the shipped file says ``devex``; ``steepest_edge``
    solves the same LP to the same objective; a value not offered is an input mistake naming
    the key."""
    from optimizer.api import RunConfig
    from optimizer.config import load_config

    shipped = RunConfig.from_config(load_config(ROOT / "config.yaml"))
    assert shipped.pricing == "devex"
    objectives = []
    for pricing in ("devex", "steepest_edge", "choose"):
        cfg = tmp_path / f"{pricing}.yaml"
        cfg.write_text(f"solver: {{pricing: {pricing}}}\n")
        out = tmp_path / pricing
        r = _run("run", str(_write(tmp_path, TINY)), "--config", str(cfg), "--out", str(out))
        assert r.exit_code == 0, r.output
        objectives.append(json.loads((out / "portfolio.json").read_text())["objective"])
    assert objectives == pytest.approx([objectives[0]] * 3, rel=1e-9)
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("solver: {pricing: fastest}\n")
    r = _run("run", str(_write(tmp_path, TINY)), "--config", str(cfg), "--out", str(tmp_path / "x"))
    assert r.exit_code == 1 and "pricing" in r.output and "Traceback" not in r.output
