"""The command line as an economist meets it (issue 15): batch files validated as batches,
``run --formats``, help texts that keep their defaults and list every file written."""

from __future__ import annotations

import json
from pathlib import Path

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
