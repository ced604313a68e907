"""Issue 14 through the command line: bad options, bad configs and text that is not YAML get a
plain message and the README's exit code, never a traceback; user text prints literally.

Items 6 (emoji and markup), 7 (--config), 8 (option bounds, --time-limit exit 4), 15
(``extends:`` and files that are not YAML).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from optimizer.cli import app

ROOT = Path(__file__).resolve().parents[1]
DEFAULTS = str(ROOT / "tests" / "defaults.yaml")
GALLIUM = ROOT / "scenarios" / "examples" / "gallium.yaml"
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


def _write(folder: Path, data: dict, name: str = "s.yaml") -> Path:
    p = folder / name
    p.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return p


def _invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _plain(r) -> str:
    """The output with rich's panel borders and line wrapping taken out."""
    return " ".join(
        line.strip(" │╭╮╰╯─") for line in r.output.splitlines() if line.strip(" │╭╮╰╯─")
    )


# --- item 8: option bounds ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "option",
    [
        ("--time-limit", "-5"),
        ("--time-limit", "0"),
        ("--time-limit", "nan"),
        ("--time-limit", "inf"),
        ("--mip-gap", "-1"),
        ("--mip-gap", "1"),
        ("--mip-gap", "5"),
        ("--mip-gap", "nan"),
        ("--threads", "-1"),
    ],
)
def test_run_refuses_options_out_of_bounds_with_exit_2(tmp_path, option):
    """Each bad value is a wrong command line (exit 2, the option named), not an engine bug
    (exit 6, as before), and nothing is solved or written."""
    out = tmp_path / "out"
    r = _invoke("run", str(_write(tmp_path, TINY)), "--out", str(out), *option)
    assert r.exit_code == 2, r.output
    assert option[0] in _plain(r) and "Traceback" not in r.output
    assert not out.exists()


@pytest.mark.parametrize("command", ["sweep", "batch"])
@pytest.mark.parametrize("option", [("--time-limit", "-5"), ("--mip-gap", "nan")])
def test_sweep_and_batch_refuse_options_out_of_bounds(tmp_path, command, option):
    extra = ["--budget", "0:1k:2"] if command == "sweep" else []
    r = _invoke(command, str(_write(tmp_path, TINY)), *extra, *option)
    assert r.exit_code == 2, r.output
    assert option[0] in _plain(r)


def test_a_tiny_time_limit_exits_4_as_the_readme_promises(tmp_path):
    """`--time-limit 1e-9`: HiGHS stops before any portfolio; that is the time limit (exit 4,
    with advice to give more time), not a solver failure (exit 5)."""
    out = tmp_path / "out"
    r = _invoke(
        "run", str(GALLIUM), "--out", str(out), "--time-limit", "1e-9", "--config", DEFAULTS
    )
    assert r.exit_code == 4, r.output
    assert "time limit" in _plain(r) and "--time-limit" in _plain(r)
    assert not out.exists()


def test_a_missing_scenario_file_exits_1(tmp_path):
    r = _invoke("run", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o"))
    assert r.exit_code == 1 and "does not exist" in r.output


# --- item 6: user text prints literally ----------------------------------------------------------


def test_line_100_and_emoji_codes_print_literally(tmp_path):
    """A mistake on line 100 prints `s.yaml:100:` (rich turned `:100:` into an emoji); a value
    `:x:` and a value with markup print as written."""
    text = "# padding\n" * 98 + yaml.safe_dump(TINY, sort_keys=False)
    text = text.replace("name: tiny", "name: tiny\nbogus: 1", 1)  # line 100
    text = text.replace("period: quarter", "period: ':x: [bold]y[/bold]'")
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    r = _invoke("validate", str(path))
    assert r.exit_code == 1, r.output
    assert f"{path}:100:" in _plain(r)
    assert "💯" not in r.output and "❌" not in r.output
    assert ":x: [bold]y[/bold]" in _plain(r)


# --- item 7: --config ----------------------------------------------------------------------------


def test_a_missing_config_given_explicitly_exits_1(tmp_path):
    r = _invoke("run", str(_write(tmp_path, TINY)), "--config", str(tmp_path / "nope.yaml"))
    assert r.exit_code == 1, r.output
    assert "nope.yaml" in r.output and "does not exist" in r.output


def test_the_default_config_may_be_absent(tmp_path, monkeypatch):
    """No --config and no config.yaml in the current folder: the defaults, exit 0."""
    monkeypatch.chdir(tmp_path)
    r = _invoke("run", str(_write(tmp_path, TINY)), "--out", str(tmp_path / "o"), "-q")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda p: p.mkdir(), "folder"),
        (lambda p: p.write_bytes(b"\x00\xff\xfe binary"), "not UTF-8"),
        (lambda p: p.write_text("[1, 2\n", encoding="utf-8"), "cfg.yaml:"),
        (lambda p: p.write_text("- a\n- b\n", encoding="utf-8"), "solver:"),
    ],
)
def test_a_config_that_is_no_config_exits_1_without_traceback(tmp_path, make, expected):
    cfg = tmp_path / "cfg.yaml"
    make(cfg)
    r = _invoke("run", str(_write(tmp_path, TINY)), "--config", str(cfg))
    assert r.exit_code == 1, r.output
    assert expected in _plain(r) and "Traceback" not in r.output


def test_config_mistakes_carry_file_line_key_and_plain_words(tmp_path):
    """An unknown key on line 3 and a gap of 5 on line 4: each with its line and key path, in
    the scenario messages' words (a suggestion, the bound), not pydantic's."""
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("# how to run\nsolver:\n  tim_limit: 60\n  mip_gap: 5\n", encoding="utf-8")
    r = _invoke("run", str(_write(tmp_path, TINY)), "--config", str(cfg))
    assert r.exit_code == 1, r.output
    text = _plain(r)
    assert f"{cfg}:3: solver.tim_limit: unknown key `tim_limit`" in text
    assert "did you mean `time_limit`?" in text
    assert f"{cfg}:4: solver.mip_gap: must be < 1, got 5" in text
    assert "Input should be" not in text


def test_an_empty_config_means_the_defaults(tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("# nothing set\n", encoding="utf-8")
    r = _invoke("run", str(_write(tmp_path, TINY)), "--config", str(cfg), "-o", str(tmp_path / "o"))
    assert r.exit_code == 0, r.output


# --- item 15: extends: and files that are not YAML -----------------------------------------------


def test_extends_reaches_only_yaml_files(tmp_path):
    """`extends: /etc/passwd` (or any file not ending in .yaml/.yml) is refused before it is
    read, and nothing of it is echoed."""
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\nmore:secret\n", encoding="utf-8")
    s = _write(tmp_path, {"extends": str(secret), "name": "x"})
    r = _invoke("validate", str(s))
    assert r.exit_code == 1
    assert ".yaml or .yml" in _plain(r)
    assert "root:x" not in r.output and "more:secret" not in r.output


def test_a_text_file_is_never_echoed_beyond_one_line(tmp_path):
    """Running a file that is not YAML keys: the message names its lines, not its content."""
    notes = tmp_path / "notes.yaml"
    notes.write_text("first line\nsecond line secret\nthird\n", encoding="utf-8")
    r = _invoke("validate", str(notes))
    assert r.exit_code == 1
    assert "secret" not in r.output and "lines 1 to 3" in _plain(r)
