"""Issue 14, items 11 and 17: a batch's resume is keyed on what can change a run's answer, and
runs that are not valid are counted on their own line, never as kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from optimizer.cli import register_batch
from optimizer.pipeline import RunConfig
from optimizer.studies.batch_records import kept_run, resolve_reason, solve_settings

DEFAULTS = str(Path(__file__).with_name("defaults.yaml"))
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


def _finished(tmp_path: Path, status: str, config: RunConfig, name: str = "r") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    doc = {"status": status, "objective": 1.0, "settings": solve_settings(config)}
    (folder / "status.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


def test_a_run_solved_with_another_gap_is_solved_again(tmp_path):
    """First with --mip-gap 0.99, then 0.0001: not kept, and the reason names the change."""
    folder = _finished(tmp_path, "optimal", RunConfig(mip_gap=0.99))
    now = solve_settings(RunConfig(mip_gap=0.0001))
    assert kept_run(folder, now) is None
    assert resolve_reason(folder, now) == "settings changed: mip_gap 0.99 -> 0.0001"
    same = solve_settings(RunConfig(mip_gap=0.99))
    assert kept_run(folder, same)["status"] == "optimal"
    assert resolve_reason(folder, same) is None


@pytest.mark.parametrize(
    "status, before, after, kept",
    [
        ("time_limit", 10.0, 60.0, False),  # stopped by the limit, now longer: solve again
        ("time_limit", 10.0, None, False),  # no limit at all now
        ("time_limit", 60.0, 10.0, True),  # a shorter limit would stop it sooner still
        ("optimal", 10.0, 60.0, True),  # the limit did not stop it: the answer stands
    ],
)
def test_a_run_stopped_by_the_time_limit_is_solved_again_when_it_is_raised(
    tmp_path, status, before, after, kept
):
    folder = _finished(tmp_path, status, RunConfig(time_limit=before))
    now = solve_settings(RunConfig(time_limit=after))
    assert (kept_run(folder, now) is not None) is kept
    if not kept:
        assert "time_limit" in resolve_reason(folder, now)


def test_another_engine_version_or_compression_is_solved_again(tmp_path):
    folder = _finished(tmp_path, "optimal", RunConfig())
    doc = json.loads((folder / "status.json").read_text())
    doc["settings"]["engine_version"] = "0.0.1"
    (folder / "status.json").write_text(json.dumps(doc))
    now = solve_settings(RunConfig())
    assert kept_run(folder, now) is None
    assert "engine_version 0.0.1 ->" in resolve_reason(folder, now)
    folder2 = _finished(tmp_path, "optimal", RunConfig(compress_time=False), "r2")
    assert kept_run(folder2, now) is None


def test_a_run_recorded_without_settings_is_solved_again(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "status.json").write_text(json.dumps({"status": "optimal"}))
    assert kept_run(folder, solve_settings(RunConfig())) is None
    assert "earlier engine" in resolve_reason(folder, solve_settings(RunConfig()))


# --- through the command line -------------------------------------------------------------------


def _app() -> typer.Typer:
    a = typer.Typer()

    @a.callback()
    def _main() -> None:
        """test app"""

    register_batch(a)
    return a


APP = _app()


def _batch(tmp_path: Path, vary: dict) -> Path:
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(TINY, sort_keys=False), encoding="utf-8")
    path = tmp_path / "b.yaml"
    path.write_text(yaml.safe_dump({"base": "s.yaml", "vary": vary}), encoding="utf-8")
    return path


def _cli(*args: str):
    return runner.invoke(
        APP,
        [*args, "--workers", "1", "--formats", "json", "--config", DEFAULTS],
        catch_exceptions=False,
    )


@pytest.mark.slow
def test_rerun_with_a_tighter_gap_solves_again_and_says_why(tmp_path):
    path = _batch(tmp_path, {"budget.total": ["1k"]})
    out = tmp_path / "out"
    assert _cli("batch", str(path), "--out", str(out), "--mip-gap", "0.99").exit_code == 0
    r = _cli("batch", str(path), "--out", str(out), "--mip-gap", "0.0001")
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "1 runs solved, 0 kept" in text
    assert "settings changed: mip_gap 0.99 -> 0.0001" in text
    r = _cli("batch", str(path), "--out", str(out), "--mip-gap", "0.0001")
    assert "0 runs solved, 1 kept" in " ".join(r.output.split())


def test_invalid_runs_are_their_own_line_never_kept(tmp_path):
    """One of two values is not valid (a negative budget): the progress says 1 of 2 not valid
    and nothing about runs kept; the summary counts 1 solved, 0 kept, 1 not valid."""
    path = _batch(tmp_path, {"budget.total": ["1k", "-5"]})
    r = _cli("batch", str(path), "--out", str(tmp_path / "out"))
    text = " ".join(r.output.split())
    assert r.exit_code == 3, r.output
    assert "1 of 2 runs not valid" in text
    assert "already finished" not in text
    assert "1 runs solved, 0 kept from before, 1 not valid" in text


def test_a_bad_vary_key_exits_1_as_a_bad_base_does(tmp_path):
    """`vary: {budget.totl: [...]}`: every run is not valid, so nothing can be solved: exit 1
    (an input mistake, as a bad `base:`), located at the batch file's line, not exit 3."""
    path = _batch(tmp_path, {"budget.totl": ["1k", "2k"]})
    r = _cli("batch", str(path), "--out", str(tmp_path / "out"))
    text = " ".join(r.output.split())
    assert r.exit_code == 1, r.output
    assert "no run of" in text and "nothing was solved" in text
    assert f"{path}:" in text and "unknown key `totl`" in text
    assert "2 of 2 runs not valid" in text
