"""Issue 14, data loss: the results writer replaces only folders it wrote itself.

Each test sets up what a user has on disk, runs the writer, and checks that nothing the tool did
not write is gone or changed.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from optimizer.config import Config, ConfigError, load_config
from optimizer.results.write import (
    MARKER,
    OutputRefused,
    check_output_target,
    remove_stale_temporaries,
    write_folder,
)


def _writers(text: str = "x"):
    return {"portfolio.json": lambda p: p.write_text(text, encoding="utf-8")}


def test_refuses_a_folder_it_did_not_write(tmp_path):
    """`mkdir d; echo x > d/thesis.tex; --out d` must not delete thesis.tex."""
    d = tmp_path / "d"
    d.mkdir()
    (d / "thesis.tex").write_text("my thesis", encoding="utf-8")
    with pytest.raises(OutputRefused, match="did not write"):
        write_folder(d, _writers())
    assert (d / "thesis.tex").read_text(encoding="utf-8") == "my thesis"
    assert sorted(os.listdir(d)) == ["thesis.tex"]
    assert sorted(os.listdir(tmp_path)) == ["d"]  # no temporaries left behind


def test_refuses_the_scenarios_own_folder(tmp_path):
    """`--out $PWD` in the scenario's own folder: the scenario survives."""
    scenario = tmp_path / "gallium.yaml"
    scenario.write_text("name: g\n", encoding="utf-8")
    with pytest.raises(OutputRefused):
        write_folder(tmp_path, _writers())
    assert scenario.read_text(encoding="utf-8") == "name: g\n"


def test_refuses_an_existing_file(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputRefused, match="existing file"):
        write_folder(f, _writers())
    assert f.is_file() and f.read_text(encoding="utf-8") == "keep me"
    assert sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_refuses_a_symlink(tmp_path):
    target = tmp_path / "real"
    target.mkdir()
    (target / "data.csv").write_text("1", encoding="utf-8")
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(OutputRefused, match="symbolic link"):
        write_folder(link, _writers())
    assert link.is_symlink() and (target / "data.csv").read_text(encoding="utf-8") == "1"


def test_replaces_its_own_folder_and_an_empty_one(tmp_path):
    out = tmp_path / "res"
    write_folder(out, _writers("first"))
    assert (out / MARKER).is_file()
    write_folder(out, _writers("second"))
    assert (out / "portfolio.json").read_text(encoding="utf-8") == "second"
    empty = tmp_path / "empty"
    empty.mkdir()
    write_folder(empty, _writers())
    assert (empty / "portfolio.json").is_file()


def test_accepts_a_results_folder_from_before_the_marker(tmp_path):
    """A folder holding only result files (written by an earlier version) is still ours."""
    old = tmp_path / "old"
    old.mkdir()
    (old / "portfolio.json").write_text("{}", encoding="utf-8")
    (old / "report.html").write_text("<p>", encoding="utf-8")
    write_folder(old, _writers("new"))
    assert (old / "portfolio.json").read_text(encoding="utf-8") == "new"
    assert not (old / "report.html").exists()  # the whole folder was replaced: it was ours


def test_refuses_an_empty_format_list(tmp_path):
    out = tmp_path / "res"
    write_folder(out, _writers("kept"))
    with pytest.raises(OutputRefused, match="no output format"):
        write_folder(out, {})
    assert (out / "portfolio.json").read_text(encoding="utf-8") == "kept"


def test_config_refuses_an_empty_format_list(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("output:\n  formats: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="formats"):
        load_config(cfg)
    assert Config().output.formats  # the default has formats


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_of_killed_runs_are_removed(tmp_path):
    """Leftovers of a killed run (its PID gone, marker inside) go; everything else stays:
    a live run's temporaries, unmarked look-alikes, and the user's own dot-folders."""
    dead, alive = _dead_pid(), os.getpid()
    ours = [tmp_path / f".res.partial-{dead}-abc123", tmp_path / f".res.old-{dead}"]
    keep = [
        tmp_path / f".res.partial-{alive}-zz",  # a run still going
        tmp_path / f".other.old-{dead}",  # no marker: not provably ours
        tmp_path / ".git",
    ]
    for d in ours + keep:
        d.mkdir()
        (d / "big.csv").write_text("1", encoding="utf-8")
    for d in ours + keep[:1]:
        (d / MARKER).write_text("", encoding="utf-8")
    removed = remove_stale_temporaries(tmp_path)
    assert sorted(removed) == sorted(ours)
    assert all(not d.exists() for d in ours)
    assert all(d.exists() for d in keep)


def test_next_write_into_the_parent_cleans_up(tmp_path):
    dead = _dead_pid()
    stale = tmp_path / f".res.partial-{dead}-q1"
    stale.mkdir()
    (stale / MARKER).write_text("", encoding="utf-8")
    write_folder(tmp_path / "res", _writers())
    assert not stale.exists()
    assert sorted(os.listdir(tmp_path)) == ["res"]


def test_check_output_target_is_usable_before_a_solve(tmp_path):
    assert check_output_target(tmp_path / "new") == tmp_path / "new"
    (tmp_path / "x.txt").write_text("", encoding="utf-8")
    with pytest.raises(OutputRefused):
        check_output_target(tmp_path)


# --- formula injection and characters the writers cannot carry (issue 14, items 5 and 16) -----

INJECT = {
    "name": '=HYPERLINK("http://example.invalid","click")',
    "window": {"years": 1, "period": "quarter"},
    "countries": {"CN": {}, "JP": {}},
    "goods": {
        "gallium": {
            "unit": "=1+1",
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
            "duration": "6 months",
            "hits": [{"countries": ["CN"]}],
        }
    },
}


def test_scenario_text_never_becomes_a_formula(tmp_path):
    """A name like ``=HYPERLINK(...)`` and a unit ``=1+1`` reach portfolio.xlsx as text cells
    and the CSV files with a leading apostrophe; the HTML report escapes them."""
    import csv

    from openpyxl import load_workbook

    from optimizer.api import run

    out = run(INJECT).write(tmp_path / "res")
    wb = load_workbook(out / "portfolio.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert INJECT["name"] in texts  # kept, as text
    for name in ("portfolio.csv", "scenarios.csv"):
        with open(out / name, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                bad = [v for v in row if v[:1] in ("=", "+", "@")]
                assert not bad, (name, bad)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "=HYPERLINK(&quot;" in html or "=HYPERLINK(&#34;" in html


def test_control_characters_reach_the_workbook_escaped(tmp_path):
    """A control character that openpyxl refuses (it cannot be written in XML) arrives as
    ``\\x07``, not as a crash. Validation now refuses it in a scenario's name (item 5,
    tests/test_scenario_text.py), so the writer is given it directly: it stays a second guard."""
    from openpyxl import load_workbook

    from optimizer.api import run
    from optimizer.results.excel import portfolio_workbook
    from optimizer.scenario.errors import ScenarioError

    with pytest.raises(ScenarioError, match="control character"):
        run({**INJECT, "name": "bell\x07name"})
    result = run(INJECT)
    pf = {**result.portfolio, "scenario": "bell\x07name"}
    resolved = {**result.loaded.resolved, "name": "bell\x07name"}
    portfolio_workbook(pf, resolved).save(tmp_path / "p.xlsx")
    wb = load_workbook(tmp_path / "p.xlsx")
    texts = {c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row}
    assert "bell\\x07name" in texts


def test_csv_safe_rules():
    import pandas as pd

    from optimizer.results.cells import csv_safe, csv_text

    assert csv_text("=1+1") == "'=1+1" and csv_text("@SUM(A1)") == "'@SUM(A1)"
    assert csv_text("-cmd") == "'-cmd" and csv_text("gallium") == "gallium"
    assert csv_text(-5.0) == -5.0  # numbers are never touched
    t = pd.DataFrame({"good": ["=1+1", "ga"], "x": [-1.0, 2.0]})
    t["cat"] = pd.Categorical(["+a", "b"])
    safe = csv_safe(t)
    assert safe["good"].tolist() == ["'=1+1", "ga"]
    assert safe["cat"].astype(str).tolist() == ["'+a", "b"]
    assert safe["x"].tolist() == [-1.0, 2.0]
    assert t["good"].tolist() == ["=1+1", "ga"]  # the caller's table is not changed
    # an object column of flags with a gap (a key some compared runs lack) holds no text: it
    # is left alone instead of failing (stockpile compare of two EU runs crashed on one)
    flags = pd.DataFrame({"hard": pd.Series([True, None], dtype=object), "n": ["-x", "ok"]})
    safe = csv_safe(flags)
    assert safe["hard"].tolist() == [True, None]
    assert safe["n"].tolist() == ["'-x", "ok"]


def test_a_run_does_not_replace_a_batch_folder(tmp_path):
    """A batch's folder carries the marker too, but holds run folders and the comparison: a
    single run (or sweep, or stress test) pointed at it would replace it whole, so it refuses."""
    batch = tmp_path / "policy"
    (batch / "runs" / "abc").mkdir(parents=True)
    (batch / MARKER).write_text("", encoding="utf-8")
    (batch / "runs.csv").write_text("name\n", encoding="utf-8")
    with pytest.raises(OutputRefused, match="batch's or a comparison's"):
        write_folder(batch, _writers())
    assert (batch / "runs" / "abc").is_dir() and (batch / "runs.csv").is_file()
