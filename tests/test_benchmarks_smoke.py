"""Smoke test of the benchmark ladder: ``benchmarks/ladder.py`` runs size S end to end (direct
interface, compressed model only, each case in its own process) and prints its table."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ladder_runs_size_s(tmp_path):
    out = tmp_path / "ladder.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "ladder.py"),
            "--sizes",
            "S",
            "--interfaces",
            "direct",
            "--compress",
            "on",
            "--time-limit",
            "60",
            "--kill-margin",
            "60",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| S 10x4x24x10 |")]
    assert len(rows) == 2, proc.stdout  # the results table and the time breakdown
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[1:4] == ["yes", "direct", "choose"]
    assert cells[12] == "optimal"
    assert int(cells[4].replace(",", "")) > 0  # variables
    assert float(cells[13]) > 0  # objective
    assert out.read_text().strip() == proc.stdout.strip()


def test_sweep_ratio_runs_size_s():
    """``benchmarks/sweep_ratio.py`` (issue 5's measure) runs end to end at size S with its
    ablation, every variant's warm levels certified, and prints the medians."""
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "sweep_ratio.py"),
            "--size",
            "S",
            "--rounds",
            "1",
            "--ablate",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    failures = re.findall(r"failures (\d+)", out)
    assert len(failures) == 4 and set(failures) == {"0"}, out
    for name in ("as shipped", "no Devex", "no keeping", "neither"):
        assert f"  {name}: " in out, out


def test_write_csv_runs_size_s():
    """``benchmarks/write_csv.py`` times both CSV writers at size S and prints its table."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "write_csv.py"), "--size", "S"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "2,640 rows" in proc.stdout
    assert "| Arrow (write_large_csv) |" in proc.stdout and "| pandas to_csv" in proc.stdout
