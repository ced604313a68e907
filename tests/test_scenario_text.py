"""Issue 14, items 5 and 14: names, keys and units that results files cannot carry (control
characters) or that are unreasonably long are refused at validation, with file, line and key."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from optimizer.cli import app
from optimizer.scenario.checks import MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS

runner = CliRunner()

TINY = {
    "name": "tiny",
    "window": {"years": 1, "period": "quarter"},
    "countries": {"CN": {}},
    "goods": {
        "gallium": {
            "unit": "t",
            "demand": 40,
            "damage": 100,
            "suppliers": {"china": {"country": "CN", "unit_cost": 1, "capacity": 60}},
        }
    },
}


def _validate(tmp_path: Path, data: dict):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    r = runner.invoke(app, ["validate", str(p)], catch_exceptions=False)
    return r, " ".join(r.output.split())


def _with(change) -> dict:
    data = yaml.safe_load(yaml.safe_dump(TINY))
    change(data)
    return data


@pytest.mark.parametrize(
    "change, key",
    [
        (lambda d: d.update(name="tiny\x07bell"), "name"),
        (lambda d: d["goods"]["gallium"].update(unit="t\x1b[31m"), "goods.gallium.unit"),
        (lambda d: d["goods"].update({"ga\x00x": d["goods"].pop("gallium")}), "goods.ga"),
        (lambda d: d["countries"].update({"C\x0bN": {}}), "countries.C"),
    ],
)
def test_control_characters_are_refused_with_their_key(tmp_path, change, key):
    """Before, `name: "a\\x07b"` passed validate and `run` crashed in openpyxl."""
    r, text = _validate(tmp_path, _with(change))
    assert r.exit_code == 1, r.output
    assert "control character" in text and key in text and "s.yaml:" in text
    assert "\x1b" not in r.output and "\x07" not in r.output  # shown as \xNN, never raw


def test_a_description_may_hold_line_breaks_and_tabs(tmp_path):
    r, _ = _validate(tmp_path, _with(lambda d: d.update(description="line 1\n\tline 2\r\n")))
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize(
    "change, key, limit",
    [
        (lambda d: d.update(name="n" * 100_000), "name", MAX_NAME_CHARS),
        (
            lambda d: d["goods"].update({"g" * 201: d["goods"].pop("gallium")}),
            "goods.ggg",
            MAX_NAME_CHARS,
        ),
        (lambda d: d.update(description="d" * 10_001), "description", MAX_DESCRIPTION_CHARS),
    ],
)
def test_overlong_names_are_refused_quickly(tmp_path, change, key, limit):
    """A 100,000-character name made the summary take 93 s; now validate refuses it (exit 1)
    naming the length and the limit, in well under a few seconds."""
    t = time.perf_counter()
    r, text = _validate(tmp_path, _with(change))
    assert r.exit_code == 1, r.output
    assert key in text and f"at most {limit:,} are allowed" in text
    assert time.perf_counter() - t < 10


def test_a_name_at_the_limit_is_accepted(tmp_path):
    r, _ = _validate(tmp_path, _with(lambda d: d.update(name="n" * MAX_NAME_CHARS)))
    assert r.exit_code == 0, r.output
