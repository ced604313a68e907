"""The command line as an economist meets it (issue 15): batch files validated as batches,
``run --formats``, help texts that keep their defaults and list every file written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from test_cli import TINY, _run, _write


def _batch(tmp_path: Path, variants: dict) -> Path:
    _write(tmp_path, TINY, "base.yaml")
    data = {"base": "base.yaml", "vary": {"budget.total": ["1k", "2k"]}, "variants": variants}
    p = tmp_path / "b.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def test_validate_checks_a_batch_file_as_a_batch(tmp_path):
    """A batch (top-level base:) beside a scenario: both valid, exit 0. The variant
    ``same`` sets japan's capacity to the 5 it already has: its runs have the resolved scenario
    of the base's runs and are pointed out; ``more`` (capacity 6) is not."""
    batch = _batch(
        tmp_path,
        {
            "same": {"goods.gallium.suppliers.japan.capacity": 5},
            "more": {"goods.gallium.suppliers.japan.capacity": 6},
        },
    )
    scenario = tmp_path / "base.yaml"
    r = _run("validate", str(scenario), str(batch))
    assert r.exit_code == 0, r.output
    assert "b.yaml: valid (batch)" in r.output
    assert "6 runs, each valid" in r.output
    assert "run same,total=1k is identical to run base,total=1k" in r.output
    assert "more," not in r.output
    r = _run("validate", str(scenario), str(batch), "--json")
    report = json.loads(r.stdout)
    assert [x["kind"] for x in report] == ["scenario", "batch"]
    assert sum("identical" in n for n in report[1]["notes"]) == 2


def test_validate_reports_a_bad_batch_run_with_its_line(tmp_path):
    """A variant naming a supplier the base lacks: exit 1, the batch's problem located."""
    batch = _batch(tmp_path, {"typo": {"goods.gallium.suppliers.japn.capacity": 5}})
    r = _run("validate", str(batch))
    assert r.exit_code == 1
    assert "b.yaml" in r.output and "japn" in r.output
    assert "Traceback" not in r.output


def _help(*command: str) -> str:
    """``--help`` of a command, wide, box drawing and line breaks folded into single spaces."""
    from typer.testing import CliRunner

    from optimizer.cli import app

    r = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "400"})
    assert r.exit_code == 0, r.output
    return " ".join(re.sub(r"[│╭╮╰╯─┃]", " ", r.output).split())


def test_help_keeps_defaults_and_lists_every_file_written():
    """Markdown mode drops text in angle brackets: the defaults are said in words instead."""
    run_help = _help("run")
    for name in ("portfolio.json", "scenarios.csv", "resolved.yaml", "report.html"):
        assert name in run_help
    assert "portfolio.xlsx" in run_help
    assert "under output.folder of config.yaml (results/critical_raw_materials)" in run_help
    assert "--formats" in run_help and "xlsx (portfolio.xlsx)" in run_help
    assert "config.yaml>/." not in run_help
    assert "(results/crm-sweep)" in _help("sweep")
    assert "(results/policy_batch)" in _help("batch")
    assert "(results/comparison)" in _help("compare")


def test_run_formats_writes_only_the_files_asked(tmp_path):
    out = tmp_path / "out"
    r = _run("run", str(_write(tmp_path, TINY)), "--out", str(out), "--formats", "json,csv", "-q")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "portfolio.csv",
        "portfolio.json",
        "reserves.csv",
        "scenarios.csv",
        "supply_shares.csv",
    ]


@pytest.mark.parametrize(("formats", "said"), [("", "no format given"), ("json,pdf", "'pdf'")])
def test_run_formats_empty_or_unknown_is_a_usage_error(tmp_path, formats, said):
    out = tmp_path / "out"
    r = _run("run", str(_write(tmp_path, TINY)), "--out", str(out), "--formats", formats)
    assert r.exit_code == 2
    assert "--formats takes a comma-separated list of json, csv, yaml, html, xlsx" in r.output
    assert said in r.output
    assert not out.exists()


def test_compare_writes_under_the_output_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = _write(tmp_path, TINY)
    for name, total in (("a", "1k"), ("b", "2k")):
        r = _run("run", str(scenario), "--out", f"runs/{name}", "--set", f"budget.total={total}")
        assert r.exit_code == 0, r.output
    r = _run("compare", "runs/a", "runs/b", "-q")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "results" / "comparison" / "runs.csv").exists()
    assert not (tmp_path / "comparison").exists()


def test_comparison_page_flags_identical_runs_and_escapes_names(tmp_path, monkeypatch):
    """Two runs of the same scenario (folders ``a<b>`` and ``c``) and one with another budget:
    ``c`` is identical to ``a<b>`` (same resolved-scenario hash), in runs.csv and on the page,
    and the name is escaped there."""
    import pandas as pd

    monkeypatch.chdir(tmp_path)
    scenario = _write(tmp_path, TINY)
    for name, total in (("a<b>", "1k"), ("c", "1k"), ("d", "2k")):
        args = ["run", str(scenario), "--out", f"runs/{name}", "--set", f"budget.total={total}"]
        r = _run(*args, "--formats", "json,yaml", "-q")
        assert r.exit_code == 0, r.output
    r = _run("compare", "runs/a<b>", "runs/c", "runs/d", "--out", "cmp", "-q")
    assert r.exit_code == 0, r.output
    runs = pd.read_csv(tmp_path / "cmp" / "runs.csv").set_index("name")
    assert runs.loc["c", "identical_to"] == "a<b>"
    assert runs["identical_to"].isna().sum() == 2
    html = (tmp_path / "cmp" / "comparison.html").read_text(encoding="utf-8")
    assert 'id="identical-runs"' in html
    assert "c is identical to a&lt;b&gt;" in html and "a<b>" not in html
    assert "data:image/png;base64," in html
