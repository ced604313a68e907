"""Issue 14 through the command line: every command that writes a folder refuses, before any
work and with exit 2, a folder it did not write; user text reaches spreadsheets as text.

Each test puts on disk what a user has (a thesis, the scenario itself, a ``runs.csv`` of their
own), runs the command, and checks the exit code, the message and that the files are intact.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import openpyxl
import pytest
import typer
import yaml
from typer.testing import CliRunner

from optimizer.cli import app, register_batch
from optimizer.results.write import MARKER

runner = CliRunner()
DEFAULTS = str(Path(__file__).with_name("defaults.yaml"))  # an empty config: the defaults

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


def _write(folder: Path, data: dict, name: str = "s.yaml") -> Path:
    p = folder / name
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return p


def _cli(*args: str):
    return runner.invoke(app, [*args, "--config", DEFAULTS], catch_exceptions=False)


def _user_folder(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A folder of the user's holding their thesis and the scenario itself."""
    d = tmp_path / "d"
    d.mkdir()
    thesis = d / "thesis.tex"
    thesis.write_text("my thesis", encoding="utf-8")
    scenario = _write(d, TINY)
    return d, thesis, scenario


def _assert_refused(r, d: Path, thesis: Path, scenario: Path | None) -> None:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert "did not write" in r.output and "nothing was written" in r.output
    assert thesis.read_text(encoding="utf-8") == "my thesis"
    if scenario is not None:
        assert yaml.safe_load(scenario.read_text(encoding="utf-8")) == TINY
    assert not (d / MARKER).exists()
    assert not [n for n in os.listdir(d.parent) if n.startswith(".")]  # no temporaries


def test_run_refuses_a_users_folder_holding_the_scenario(tmp_path):
    """`stockpile run d/s.yaml --out d` (issue 14, items 1 and 2): exit 2, nothing touched."""
    d, thesis, scenario = _user_folder(tmp_path)
    r = _cli("run", str(scenario), "--out", str(d))
    _assert_refused(r, d, thesis, scenario)
    assert sorted(os.listdir(d)) == ["s.yaml", "thesis.tex"]


def test_run_refuses_an_existing_file(tmp_path):
    scenario = _write(tmp_path, TINY)
    f = tmp_path / "notes.txt"
    f.write_text("keep me", encoding="utf-8")
    r = _cli("run", str(scenario), "--out", str(f))
    assert r.exit_code == 2 and "existing file" in r.output
    assert f.read_text(encoding="utf-8") == "keep me"


def test_run_refuses_before_solving(tmp_path, monkeypatch):
    """The check comes before any work: the solver is never called."""
    import optimizer.pipeline as pipeline

    def boom(*a, **k):
        raise AssertionError("solved although the output folder is refused")

    monkeypatch.setattr(pipeline, "run", boom)
    d, thesis, scenario = _user_folder(tmp_path)
    r = _cli("run", str(scenario), "--out", str(d))
    _assert_refused(r, d, thesis, scenario)


def test_run_replaces_its_own_folder(tmp_path):
    """The folder it wrote is replaced (the marker says it is stockpile's)."""
    scenario = _write(tmp_path, TINY)
    out = tmp_path / "out"
    assert _cli("run", str(scenario), "--out", str(out)).exit_code == 0
    assert (out / MARKER).is_file()
    assert _cli("run", str(scenario), "--out", str(out)).exit_code == 0


def test_sweep_refuses_a_users_folder(tmp_path):
    d, thesis, scenario = _user_folder(tmp_path)
    r = _cli("sweep", str(scenario), "--budget", "0:1k:2", "--out", str(d))
    _assert_refused(r, d, thesis, scenario)


def test_compare_refuses_to_overwrite_a_users_runs_csv(tmp_path):
    """`stockpile compare ... --out d` where d holds the user's own runs.csv: exit 2, the file
    is the user's still; into a new folder the comparison is written and marked."""
    scenario = _write(tmp_path, TINY)
    run_dir = tmp_path / "r1"
    assert _cli("run", str(scenario), "--out", str(run_dir)).exit_code == 0
    d, thesis, _ = _user_folder(tmp_path)
    mine = d / "runs.csv"
    mine.write_text("my,own\n1,2\n", encoding="utf-8")
    r = runner.invoke(app, ["compare", str(run_dir), "--out", str(d)], catch_exceptions=False)
    _assert_refused(r, d, thesis, None)
    assert mine.read_text(encoding="utf-8") == "my,own\n1,2\n"

    new = tmp_path / "cmp"
    r = runner.invoke(app, ["compare", str(run_dir), "--out", str(new)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert (new / MARKER).is_file() and (new / "runs.csv").is_file()
    # again into its own folder: allowed
    r = runner.invoke(app, ["compare", str(run_dir), "--out", str(new)], catch_exceptions=False)
    assert r.exit_code == 0, r.output


def _batch_app() -> typer.Typer:
    a = typer.Typer()

    @a.callback()
    def _main() -> None:
        """test app"""

    register_batch(a)
    return a


def test_batch_refuses_a_users_folder_before_any_work(tmp_path, monkeypatch):
    """`stockpile batch d/batch.yaml --out d` (the batch file's own folder): exit 2 before a
    worker starts; batch.json, runs/ and runs.csv are not written there."""
    import optimizer.studies.batch as batch_mod

    monkeypatch.setattr(batch_mod, "dask_client", None)  # any use would fail loudly
    d, thesis, scenario = _user_folder(tmp_path)
    batch = _write(d, {"base": "s.yaml", "vary": {"budget.total": ["1k", "2k"]}}, "batch.yaml")
    r = runner.invoke(_batch_app(), ["batch", str(batch), "--out", str(d), "--config", DEFAULTS])
    _assert_refused(r, d, thesis, scenario)
    assert sorted(os.listdir(d)) == ["batch.yaml", "s.yaml", "thesis.tex"]


# --- formula injection (item 16) through compare, batch and sweep ------------------------------

HYPERLINK = '=HYPERLINK("http://example.invalid","click")'


def _hostile() -> dict:
    data = yaml.safe_load(yaml.safe_dump(TINY))
    data["name"] = HYPERLINK
    data["goods"]["gallium"]["unit"] = "=1+1"
    return data


def _no_formula_cells(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [
        f"{ws.title}!{c.coordinate}"
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]


def _csv_cells(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        return [cell for row in csv.reader(f) for cell in row]


def test_compare_and_sweep_write_user_text_as_text(tmp_path):
    """A scenario named `=HYPERLINK(...)` whose good's unit is `=1+1`: no formula cell in
    comparison.xlsx, and every CSV cell starting with `=` carries the leading apostrophe."""
    scenario = _write(tmp_path, _hostile())
    run_dir = tmp_path / "r1"
    assert _cli("run", str(scenario), "--out", str(run_dir)).exit_code == 0
    cmp_dir = tmp_path / "cmp"
    r = runner.invoke(app, ["compare", str(run_dir), "--out", str(cmp_dir)])
    assert r.exit_code == 0, r.output
    assert _no_formula_cells(cmp_dir / "comparison.xlsx") == []
    goods_cells = _csv_cells(cmp_dir / "runs_goods.csv")
    assert "'=1+1" in goods_cells
    for name in ("runs.csv", "runs_goods.csv"):
        assert not [c for c in _csv_cells(cmp_dir / name) if c.startswith("=")]

    sweep_dir = tmp_path / "sw"
    r = _cli("sweep", str(scenario), "--budget", "0:1k:2", "--out", str(sweep_dir))
    assert r.exit_code == 0, r.output
    for name in ("frontier.csv", "frontier_goods.csv"):
        assert not [c for c in _csv_cells(sweep_dir / name) if c.startswith("=")]


@pytest.mark.slow
def test_batch_comparison_writes_user_text_as_text(tmp_path):
    """The same hostile scenario as a batch's base: comparison.xlsx has no formula cell."""
    _write(tmp_path, _hostile())
    batch = _write(tmp_path, {"base": "s.yaml", "vary": {"budget.total": ["1k"]}}, "b.yaml")
    out = tmp_path / "out"
    r = runner.invoke(
        _batch_app(),
        ["batch", str(batch), "--out", str(out), "--workers", "1", "--formats", "json,csv,yaml"]
        + ["--config", DEFAULTS],
    )
    assert r.exit_code == 0, r.output
    assert _no_formula_cells(out / "comparison.xlsx") == []
    assert "'=1+1" in _csv_cells(out / "runs_goods.csv")
    assert (out / MARKER).is_file()
