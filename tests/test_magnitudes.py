"""Issue 14, item 9: numbers the solver cannot represent are refused at validation, and an
"infeasible" from HiGHS is reported as such only when the elastic diagnosis confirms it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from optimizer.cli import app
from optimizer.scenario.checks import MAGNITUDE_MAX, MAGNITUDE_MIN

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = str(ROOT / "tests" / "defaults.yaml")
runner = CliRunner()

TINY = {
    "name": "tiny",
    "window": {"years": 1, "period": "quarter"},
    "budget": {"total": "1k"},
    "countries": {"CN": {}},
    "goods": {
        "gallium": {
            "unit": "t",
            "demand": 40,
            "damage": 100,
            "stockpile": {"unit_cost": 10},
            "suppliers": {"china": {"country": "CN", "unit_cost": 1, "capacity": 60}},
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


def _write(folder: Path, data: dict) -> Path:
    p = folder / "s.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "key, value",
    [
        ("damage", 1e308),  # passed validate, then numpy overflowed and exited 5
        ("demand", 3e13),  # reported infeasible although feasible
        ("damage", 1e-300),  # positive but below what scaling keeps
        ("demand", 2 * MAGNITUDE_MAX),
    ],
)
def test_validate_refuses_magnitudes_the_solver_cannot_represent(tmp_path, key, value):
    """Exit 1 with the line, the key, the accepted range (1e-9 to 1e12) and why."""
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["goods"]["gallium"][key] = value
    r = runner.invoke(app, ["validate", str(_write(tmp_path, data))])
    assert r.exit_code == 1, r.output
    text = " ".join(r.output.split())
    assert f"goods.gallium.{key}:" in text
    assert "between 1e-9 and 1e12" in text and "HiGHS treats 1e20 as infinite" in text


@pytest.mark.parametrize("value", [0, MAGNITUDE_MIN, MAGNITUDE_MAX, 1e11])
def test_validate_accepts_the_edges_of_the_range(tmp_path, value):
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["goods"]["gallium"]["damage"] = value
    r = runner.invoke(app, ["validate", str(_write(tmp_path, data))])
    assert r.exit_code == 0, r.output


def test_an_unconfirmed_infeasible_is_reported_doubtful_with_exit_5(tmp_path, monkeypatch):
    """HiGHS's verdict is forced to "infeasible" on the feasible TINY scenario: the elastic
    re-solve finds a portfolio breaking no requirement, so the run says the answer is
    numerically doubtful and exits 5, not 3 (nothing is written)."""
    import optimizer.pipeline as pipeline

    real = pipeline.run

    def infeasible(*a, **k):
        result = real(*a, **k)
        result.solve.status = "infeasible"
        return result

    monkeypatch.setattr(pipeline, "run", infeasible)
    out = tmp_path / "out"
    r = runner.invoke(
        app, ["run", str(_write(tmp_path, TINY)), "--out", str(out), "--config", DEFAULTS]
    )
    assert r.exit_code == 5, r.output
    assert "numerically doubtful" in " ".join(r.output.split())
    assert not out.exists()


# A confirmed infeasible still exits 3: see tests/test_cli.py,
# test_infeasible_exit_3_names_the_conflict_and_keeps_old_results.
