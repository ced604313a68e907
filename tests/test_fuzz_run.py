"""Mutated scenarios through the whole `stockpile run`, not only the loader (issue 14).

The mutations are those of ``test_scenario_loading.corrupted_files`` (deleted, replaced and
renamed keys, garbage characters, bad ``--set`` overrides). Whatever the mutation, the command
must end with one of the documented exit codes for a user's input or the solver's verdict
(0 optimal, 1 input mistakes, 2 bad command line, 3 infeasible, 4 time limit, 5 solver
failure), never 6 ("bug in the engine") and never a Python traceback. CI runs a small budget of
examples; the slow-marked test runs many more.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from test_scenario_loading import corrupted_files
from typer.testing import CliRunner

from optimizer.cli import app

runner = CliRunner()
USER_CODES = {0, 1, 2, 3, 4, 5}


def _run_case(case: tuple[str, list[str]]) -> None:
    text, overrides = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mutated.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        args = ["run", str(path), "--out", str(Path(tmp) / "out"), "--quiet"]
        config = Path(tmp) / "config.yaml"
        config.write_text("output:\n  formats: [json, csv]\n", encoding="utf-8")
        args += ["--time-limit", "20", "--config", str(config)]
        for o in overrides:
            args += ["--set", o]
        r = runner.invoke(app, args)
        output = r.output + (r.stderr if r.stderr_bytes is not None else "")
        assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
        assert r.exit_code in USER_CODES, (r.exit_code, output[-2000:])
        assert "Traceback" not in output, output[-2000:]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=corrupted_files())
def test_mutated_scenarios_run_without_a_bug_exit(case: tuple[str, list[str]]) -> None:
    _run_case(case)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=corrupted_files())
def test_mutated_scenarios_run_without_a_bug_exit_long(case: tuple[str, list[str]]) -> None:
    _run_case(case)
