"""Batches (``stockpile batch``) and comparisons (``stockpile compare``).

Real Dask clusters throughout: a local cluster of worker processes started by the command, and
a scheduler and a worker started here through Dask's own command-line tools on 127.0.0.1, used
through their address. A 6-run grid on the shipped scenario must match six single runs.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import cloudpickle
import openpyxl
import pandas as pd
import pytest
import typer
import yaml
from typer.testing import CliRunner

import optimizer.studies.batch as batch_mod
from optimizer.api import RunConfig, run
from optimizer.cli import register_batch as register
from optimizer.studies.batch import BatchError, BatchRunError, load_batch, run_batch

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = str(ROOT / "tests" / "defaults.yaml")  # an empty config: the defaults
SHIPPED = ROOT / "scenarios" / "critical_raw_materials.yaml"
POLICY = ROOT / "scenarios" / "policy_batch.yaml"
DASK = Path(sys.executable).parent / "dask"

runner = CliRunner()
_real_solve_run = batch_mod.solve_run


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _main() -> None:
        """test app"""

    register(app)
    return app


APP = _app()


def _cli(*args: str):
    return runner.invoke(APP, [*args, "--config", DEFAULTS], catch_exceptions=False)


def _write_batch(folder: Path, data: dict, name: str = "batch.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _folders(out: Path) -> list[Path]:
    runs = out / "runs"
    return sorted(p for p in runs.iterdir() if p.is_dir() and not p.name.startswith("."))


#: Per-run files without report.html and portfolio.xlsx (seconds per run); the failure test
#: writes the default ones.
LIGHT = ("--formats", "json,csv,yaml")

GRID = {
    "name": "CRM grid",
    "base": str(SHIPPED),
    "vary": {"budget.total": ["120M", "180M", "240M"], "risk.cvar.weight": [0.2, 0.5]},
}


# --- the batch file ---------------------------------------------------------------------------


def test_policy_batch_expands_to_the_grid_crossed_with_base_and_variants():
    b = load_batch(POLICY)
    assert b.base == SHIPPED.parent / "critical_raw_materials.yaml"
    assert b.keys == ["budget.total", "risk.concentration_cap"]
    assert len(b.runs) == 3 * 2 * 3  # 6 grid points x (base + 2 variants)
    names = [r.name for r in b.runs]
    assert len(set(names)) == len(names)
    assert names[0] == "base,total=120M,concentration_cap=none"
    first_no_domestic = next(r for r in b.runs if r.variant == "no_domestic")
    assert first_no_domestic.overrides == (
        "budget.total=120M",
        "risk.concentration_cap=null",
        "goods.gallium.domestic.max=0",
    )
    capped = b.runs[1]
    assert capped.overrides[1] == "risk.concentration_cap={share: 65%, countries: [CN, RU]}"


def test_batch_file_mistakes_are_located(tmp_path):
    bad = _write_batch(
        tmp_path,
        {
            "base": "missing.yaml",
            "vary": {"budget.total": "100M"},
            "variants": {"base": {"budget.total": 1}, "v": {"risk.cvar.weight": 0.1}},
            "varients": {},
        },
    )
    with pytest.raises(BatchError) as exc:
        load_batch(bad)
    text = str(exc.value)
    assert f"{bad}:1: base: the base scenario `missing.yaml` does not exist" in text
    assert "vary.budget.total: expected a list of values" in text
    assert "variants.base: `base` is the name of the run without overrides" in text
    assert "varients: unknown key `varients` (hint: did you mean `variants`?)" in text
    conflict = _write_batch(
        tmp_path,
        {
            "base": str(SHIPPED),
            "vary": {"budget.total": ["1M"]},
            "variants": {"v": {"budget.total": "2M"}},
        },
        "conflict.yaml",
    )
    with pytest.raises(BatchError, match="the variant sets `budget.total`, which vary: also sets"):
        load_batch(conflict)


# --- a grid on the shipped scenario -----------------------------------------------------------


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """The 6-run grid, solved once by the command on a local cluster of 2 workers."""
    tmp = tmp_path_factory.mktemp("grid")
    path = _write_batch(tmp, GRID)
    out = tmp / "out"
    t = time.perf_counter()
    r = _cli("batch", str(path), "--out", str(out), "--workers", "2", *LIGHT)
    return path, out, r, time.perf_counter() - t


def test_grid_runs_match_single_runs(grid):
    _, out, r, _ = grid
    assert r.exit_code == 0, r.output
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 6
    assert list(runs.columns[:4]) == ["name", "variant", "budget.total", "risk.cvar.weight"]
    for col in (
        "status",
        "objective_eur",
        "cash_total_eur",
        "cash_stockpile_fund_eur",
        "cash_industry_fund_eur",
        "expected_loss_eur",
        "cvar_eur",
        "expected_shortfall_gallium",
        "expected_shortfall_magnesium",
    ):
        assert col in runs.columns
    assert set(runs["status"]) == {"optimal"}
    assert sorted(runs["budget.total"].unique()) == [120e6, 180e6, 240e6]
    cfg = RunConfig(threads=1)
    for budget in GRID["vary"]["budget.total"]:
        for weight in GRID["vary"]["risk.cvar.weight"]:
            single = run(
                SHIPPED, cfg, overrides=[f"budget.total={budget}", f"risk.cvar.weight={weight}"]
            )
            name = f"base,total={budget},weight={weight}"
            row = runs[runs["name"] == name].iloc[0]
            assert row["objective_eur"] == pytest.approx(single.objective, rel=1e-6)
            assert row["expected_loss_eur"] == pytest.approx(
                single.portfolio["cost"]["expected_loss"], rel=1e-6, abs=1.0
            )
            assert row["input_sha256"] == single.loaded.input_sha256
            folder = out / row["folder"]
            assert folder.name == f"{name}-{single.loaded.input_sha256[:12]}"
            assert {
                "portfolio.json",
                "portfolio.csv",
                "scenarios.csv",
                "resolved.yaml",
                "status.json",
            } <= {p.name for p in folder.iterdir()}
    goods = pd.read_csv(out / "runs_goods.csv")
    assert len(goods) == 6 * 4 and "stock_buy" in goods.columns
    wb = openpyxl.load_workbook(out / "comparison.xlsx", read_only=True)
    assert wb.sheetnames == ["Runs", "Goods", "About"]
    headers = [c.value for c in next(wb["Runs"].iter_rows(max_row=1))]
    assert "budget.total (EUR)" in headers and "Objective (EUR)" in headers
    assert "Expected shortfall: gallium (t over 5 years)" in headers
    assert (out / "comparison.png").stat().st_size > 10_000
    manifest = json.loads((out / "batch.json").read_text())
    assert [m["name"] for m in manifest["runs"]] == list(runs["name"])


def test_rerun_keeps_finished_runs(grid):
    path, out, _, first_seconds = grid
    stamps = {p.name: (p / "status.json").read_text() for p in _folders(out)}
    marker = _folders(out)[0] / "marker"
    marker.write_text("kept")
    t = time.perf_counter()
    r = _cli("batch", str(path), "--out", str(out), "--workers", "2", *LIGHT)
    seconds = time.perf_counter() - t
    assert r.exit_code == 0, r.output
    assert "6 of 6 runs already finished" in r.output
    assert marker.exists()  # the folder was not rewritten
    assert {p.name: (p / "status.json").read_text() for p in _folders(out)} == stamps
    assert seconds < first_seconds  # no worker was even started
    assert len(pd.read_csv(out / "runs.csv")) == 6


def test_compare_batch_folder_gives_the_batch_tables(grid, tmp_path):
    _, out, _, _ = grid
    r = runner.invoke(
        APP, ["compare", str(out), "--out", str(tmp_path / "cmp")], catch_exceptions=False
    )
    assert r.exit_code == 0, r.output
    mine = pd.read_csv(tmp_path / "cmp" / "runs.csv").drop(columns=["folder"])
    theirs = pd.read_csv(out / "runs.csv").drop(columns=["folder"])
    pd.testing.assert_frame_equal(mine, theirs)


# --- invalid and failing runs -----------------------------------------------------------------


def _broken_batch(tmp_path):
    data = yaml.safe_load(POLICY.read_text())
    data["base"] = str(SHIPPED)
    data["vary"] = {"budget.total": ["150M"]}
    data["variants"] = {"broken": {"goods.gallium.suppliers.china.capacity": -5}}
    return _write_batch(tmp_path, data)


def _override_line(path) -> int:
    return next(
        i
        for i, text in enumerate(path.read_text().splitlines(), start=1)
        if "goods.gallium.suppliers.china.capacity" in text
    )


def test_broken_variant_is_reported_and_the_others_finish(tmp_path):
    """By default a variant that is not valid is reported (file, line, key) and recorded as
    ``invalid``; the other runs are solved and the batch exits 3."""
    path = _broken_batch(tmp_path)
    out = tmp_path / "out"
    r = _cli("batch", str(path), "--out", str(out), "--workers", "1")
    assert r.exit_code == 3, r.output
    said = " ".join(r.output.split())
    assert (
        f"{path}:{_override_line(path)}: goods.gallium.suppliers.china.capacity: must be >= 0"
        in said
    )
    runs = pd.read_csv(out / "runs.csv")
    status = dict(zip(runs["name"], runs["status"]))
    assert sorted(status.values()) == ["invalid", "optimal"], status


def test_strict_batch_solves_nothing_when_a_variant_is_broken(tmp_path):
    path = _broken_batch(tmp_path)
    out = tmp_path / "out"
    r = _cli("batch", str(path), "--out", str(out), "--strict")
    assert r.exit_code == 1, r.output
    said = " ".join(r.output.split())
    where = f"{path}:{_override_line(path)}: goods.gallium.suppliers.china.capacity"
    assert f"{where}: must be >= 0, got -5" in said
    assert "[variant broken: goods.gallium.suppliers.china.capacity=-5]" in said
    assert "nothing was solved" in said
    assert not (out / "runs").exists() or not _folders(out)
    assert not (out / "runs.csv").exists()


def _crash_variant(job, *args):
    """A task whose worker dies on the run of variant `crash`, and that cannot write the folder
    of variant `unshared` (as a worker that does not share the output folder)."""
    if job["variant"] == "crash":
        os._exit(13)
    if job["variant"] == "unshared":
        job = {**job, "folder": "/proc/no-such-folder/run"}
    return _real_solve_run(job, *args)


@pytest.fixture
def crash_task(monkeypatch):
    """`stockpile batch` with :func:`_crash_variant` as its task (sent to the workers by value)."""
    module = sys.modules[__name__]
    cloudpickle.register_pickle_by_value(module)
    monkeypatch.setattr(batch_mod, "run_batch", functools.partial(run_batch, task=_crash_variant))
    yield
    cloudpickle.unregister_pickle_by_value(module)


def test_failures_are_recorded_and_the_others_finish(tmp_path, crash_task):
    """An infeasible variant and a variant whose worker dies: both recorded with their reason,
    the base run finishes, the comparison is written, exit code 3."""
    path = _write_batch(
        tmp_path,
        {
            "base": str(SHIPPED),
            "vary": {"budget.total": ["1M"]},
            "variants": {
                "tight": {"goods.gallium.max_shortfall": "0%"},
                "crash": {"risk.cvar.weight": 0.3},
                "unshared": {"risk.cvar.weight": 0.4},
            },
        },
    )
    out = tmp_path / "out"
    r = _cli("batch", str(path), "--out", str(out), "--workers", "2")
    assert r.exit_code == 3, r.output
    runs = pd.read_csv(out / "runs.csv").set_index("name")
    assert runs.loc["base,total=1M", "status"] == "optimal"
    base_files = {p.name for p in (out / runs.loc["base,total=1M", "folder"]).iterdir()}
    assert {"portfolio.json", "report.html", "portfolio.xlsx", "status.json"} <= base_files
    assert runs.loc["tight,total=1M", "status"] == "infeasible"
    assert "no feasible portfolio: the total budget" in runs.loc["tight,total=1M", "reason"]
    assert runs.loc["crash,total=1M", "status"] == "worker_lost"
    assert "worker lost" in runs.loc["crash,total=1M", "reason"]
    status = json.loads((out / runs.loc["tight,total=1M", "folder"] / "status.json").read_text())
    assert status["category"] == "infeasible" and status["exit_code"] == 3
    assert any("service level for gallium" in line for line in status["explanation"])
    assert "2 of 4 runs did not end optimal" in r.output
    # the worker could not write its folder: this process wrote it from what came back
    unshared = out / runs.loc["unshared,total=1M", "folder"]
    assert runs.loc["unshared,total=1M", "status"] == "optimal"
    assert {"portfolio.json", "portfolio.csv", "resolved.yaml", "status.json"} <= {
        p.name for p in unshared.iterdir()
    }
    assert "scenarios.csv is missing" in json.loads((unshared / "status.json").read_text())["note"]
    # the next run of the batch solves the lost worker's run again and keeps the others
    folders = {name: out / runs.loc[name, "folder"] for name in runs.index}
    assert batch_mod.kept_run(folders["crash,total=1M"]) is None
    assert batch_mod.kept_run(folders["base,total=1M"])["status"] == "optimal"
    assert batch_mod.kept_run(folders["tight,total=1M"])["status"] == "infeasible"


# --- an existing cluster, through its address -------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """`dask scheduler` and one `dask worker` (1 process, 1 thread) on 127.0.0.1."""
    tmp = tmp_path_factory.mktemp("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = [open(tmp / "scheduler.log", "w"), open(tmp / "worker.log", "w")]  # noqa: SIM115
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    str(DASK),
                    "scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-dashboard",
                ],
                stdout=logs[0],
                stderr=subprocess.STDOUT,
                cwd=tmp,
            )
        )
        procs.append(
            subprocess.Popen(
                [
                    str(DASK),
                    "worker",
                    address,
                    "--host",
                    "127.0.0.1",
                    "--nthreads",
                    "1",
                    "--nworkers",
                    "1",
                    "--no-dashboard",
                    "--local-directory",
                    str(tmp / "w"),
                ],
                stdout=logs[1],
                stderr=subprocess.STDOUT,
                cwd=tmp,
            )
        )
        yield address
    finally:
        for p in reversed(procs):
            _stop(p)
        for f in logs:
            f.close()


def test_batch_through_a_scheduler_address(dask_cluster, tmp_path):
    path = _write_batch(
        tmp_path,
        {"base": str(SHIPPED), "vary": {"budget.total": ["150M", "200M"]}},
    )
    out = tmp_path / "out"
    r = _cli("batch", str(path), "--out", str(out), "--scheduler", dask_cluster, *LIGHT)
    assert r.exit_code == 0, r.output
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs["status"]) == ["optimal", "optimal"]
    statuses = [json.loads((out / f / "status.json").read_text()) for f in runs["folder"]]
    # solved by the worker started above, not in this process
    assert all(s["worker"] and s["worker"].startswith("tcp://127.0.0.1:") for s in statuses)
    single = run(SHIPPED, RunConfig(threads=1), overrides=["budget.total=150M"])
    assert runs["objective_eur"][0] == pytest.approx(single.objective, rel=1e-6)

    # --force solves every run again, on the same cluster
    marker = out / runs["folder"][0] / "marker"
    marker.write_text("old")
    r = _cli("batch", str(path), "--out", str(out), "--scheduler", dask_cluster, "--force", *LIGHT)
    assert r.exit_code == 0, r.output
    assert not marker.exists()


def test_unreachable_scheduler_is_reported(tmp_path):
    path = _write_batch(tmp_path, {"base": str(SHIPPED), "vary": {"budget.total": ["150M"]}})
    address = f"tcp://127.0.0.1:{_free_port()}"
    with pytest.raises(BatchRunError, match=f"cannot reach the Dask scheduler at {address}"):
        run_batch(path, tmp_path / "o", scheduler=address, connect_timeout=1.0)
    r = _cli("batch", str(path), "--out", str(tmp_path / "o"), "--scheduler", "127.0.0.1:8786")
    assert r.exit_code == 2 and "--scheduler must be an address" in r.output


# --- compare ----------------------------------------------------------------------------------


def test_compare_two_result_folders(tmp_path):
    a = run(SHIPPED, RunConfig(threads=1))
    b = run(SHIPPED, RunConfig(threads=1), overrides=["budget.total=120M"])
    a.write(tmp_path / "crm", ("json", "csv", "yaml"))
    b.write(tmp_path / "crm_120M", ("json", "csv", "yaml"))
    out = tmp_path / "cmp"
    r = runner.invoke(
        APP,
        ["compare", str(tmp_path / "crm"), str(tmp_path / "crm_120M"), "--out", str(out)],
        catch_exceptions=False,
    )
    assert r.exit_code == 0, r.output
    runs = pd.read_csv(out / "runs.csv")
    assert list(runs["name"]) == ["crm", "crm_120M"]
    assert list(runs["budget.total"]) == [180e6, 120e6]  # the one value that differs
    assert list(runs["objective_eur"]) == pytest.approx([a.objective, b.objective], rel=1e-9)
    assert {"runs_goods.csv", "comparison.xlsx", "comparison.png"} <= {
        p.name for p in out.iterdir()
    }
    r = runner.invoke(APP, ["compare", str(tmp_path / "nothing_here")], catch_exceptions=False)
    assert r.exit_code == 1
