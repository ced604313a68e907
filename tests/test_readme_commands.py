"""Every ``stockpile`` command in the README's code blocks runs and exits 0 (issue 15), so
that the README cannot drift from the program again.

The commands run in order, in a temporary copy of the repository's scenarios and config, with
the sizes made small: a budget sweep of 3 levels instead of 21, a parameter sweep of 2 values,
and the batch file cut to one grid point (its base and variants kept). Installation and test
commands (pip, pytest, apt-get) are not run. The whole README takes minutes on a loaded
2-core machine, so it is marked slow; the commands that solve nothing run in every CI pass.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent


def readme_commands(text: str) -> list[str]:
    """The ``stockpile`` commands of the README's ```bash blocks, in order, each with the
    shell variables set before it (``S=...``); comments and install steps left out."""
    commands: list[str] = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        assignments: list[str] = []
        for raw in block.splitlines():
            line = raw.split("  #", 1)[0].strip()
            if not line or line.startswith("#"):
                continue
            if re.match(r"^[A-Z_]+=\S+$", line):
                assignments.append(line)
                continue
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith(".venv/bin/stockpile"):
                    part = part[len(".venv/bin/") :]
                if part.startswith("stockpile "):
                    commands.append("; ".join([*assignments, part]))
    return commands


def small(command: str) -> str:
    """``command`` with small sizes: 3 budget levels, 2 parameter values, 1 worker."""
    command = re.sub(r"--budget (\S+?):(\S+?):\d+", r"--budget \1:\2:3", command)
    command = re.sub(r"(--param \S+?=\S+?:\S+?):\d+", r"\1:2", command)
    return re.sub(r"--workers \d+", "--workers 1", command)


def _copy_repo(tmp: Path) -> Path:
    shutil.copytree(ROOT / "scenarios", tmp / "scenarios")
    shutil.copy(ROOT / "config.yaml", tmp / "config.yaml")
    batch = tmp / "scenarios" / "policy_batch.yaml"
    data = yaml.safe_load(batch.read_text())
    data["vary"] = {k: v[:1] for k, v in (data.get("vary") or {}).items()}
    batch.write_text(yaml.safe_dump(data, sort_keys=False))
    return tmp


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


SOLVES_NOTHING = ("stockpile validate", "stockpile schema")


def test_the_readme_commands_are_found():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    names = {shlex.split(c.split("; ")[-1])[1] for c in commands}
    assert {"run", "sweep", "batch", "compare", "validate", "schema"} <= names
    assert all("S.yaml" not in c for c in commands), "S.yaml does not exist: use a real file"


def test_readme_commands_that_solve_nothing_exit_0(tmp_path):
    cwd = _copy_repo(tmp_path)
    commands = readme_commands(README.read_text(encoding="utf-8"))
    fast = [c for c in commands if any(k in c for k in SOLVES_NOTHING)]
    assert fast
    for command in fast:
        r = _run(command, cwd)
        assert r.returncode == 0, f"{command}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"


@pytest.mark.slow
def test_every_readme_command_exits_0(tmp_path):
    cwd = _copy_repo(tmp_path)
    for command in readme_commands(README.read_text(encoding="utf-8")):
        r = _run(small(command), cwd)
        assert r.returncode == 0, f"{small(command)}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
