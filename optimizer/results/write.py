"""Writing a results folder atomically: complete or not at all.

Files are written into a temporary sibling folder, then swapped in with renames, so a run that
fails at any point leaves an earlier ``DIR`` untouched.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from optimizer.results.cells import csv_safe, round_figure, round_table


def _json_default(o):
    if hasattr(o, "item"):
        return o.item()
    raise TypeError(f"cannot write {type(o).__name__} to JSON")


def _finite(obj):
    """JSON has no inf/nan: write them as null; other floats rounded (``cells.py``)."""
    if isinstance(obj, float):
        return round_figure(obj) if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def dumps_json(data: dict) -> str:
    return json.dumps(_finite(data), indent=2, default=_json_default) + "\n"


def write_csv(table: pd.DataFrame, path: Path, float_format: str | None = None) -> None:
    """Write a table as CSV with text that a spreadsheet would take for a formula neutralised
    (:func:`optimizer.results.cells.csv_safe`; ``docs/results.md``) and floats rounded to
    :data:`optimizer.results.cells.SIGNIFICANT_DIGITS` significant digits."""
    round_table(csv_safe(table)).to_csv(path, index=False, float_format=float_format)


def write_large_csv(table: pd.DataFrame, path: Path) -> None:
    """Write a large table (``scenarios.csv``: millions of rows at scale) as CSV through
    Arrow's C++ writer: at the ladder's L size (2.4 million rows, 23 columns) 4.9 s against
    63 s for ``DataFrame.to_csv`` (benchmarks/README.md). Numbers are rounded as in every
    results file (:func:`optimizer.results.cells.round_table`), then written exactly (shortest
    round-trip form); strings quoted (formula-like text neutralised as by :func:`write_csv`),
    booleans ``true``/``false``."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    arrow = pa.Table.from_pandas(round_table(csv_safe(table)), preserve_index=False)
    pa_csv.write_csv(arrow, str(path))


MARKER = ".stockpile-results"
"""The file that marks a folder as written by this tool. Only such a folder (or an empty one)
is ever replaced; anything else is refused, so ``--out`` can never delete a user's files."""

RESULT_FILES = frozenset(
    {
        "portfolio.json",
        "portfolio.csv",
        "scenarios.csv",
        "supply_shares.csv",
        "reserves.csv",
        "resolved.yaml",
        "report.html",
        "portfolio.xlsx",
        "status.json",
        "frontier.csv",
        "frontier_goods.csv",
        "frontier.png",
        "sweep.json",
        "stress.json",
        "stress.csv",
    }
)
"""Files a results folder holds. A folder written before :data:`MARKER` existed is recognised
as results when it holds nothing else."""

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?:partial|old)-(?P<pid>\d+)(?:-[A-Za-z0-9_]+)?$")


class OutputRefused(Exception):
    """The output path is not one this tool may write to; the message says why and what to do.
    Front ends map it to exit code 2 (a bad command line)."""


def _refuse_link_or_file(out: Path) -> None:
    if out.is_symlink():
        raise OutputRefused(
            f"{out} is a symbolic link; results are written only to a real folder. Give --out a "
            "new folder name (or the folder the link points to, if it holds earlier results)."
        )
    if out.exists() and not out.is_dir():
        raise OutputRefused(
            f"{out} is an existing file, not a results folder; nothing was written. Give --out "
            "a new folder name."
        )


def check_output_target(out: str | Path) -> Path:
    """Refuse, before any work, an output path whose replacement could lose something the tool
    did not write: an existing file, a symbolic link, a folder that is neither empty nor marked
    by :data:`MARKER`, or a marked folder of a batch or comparison (:data:`STUDY_FILES`), which
    only a batch or compare may add to. Returns the path."""
    out = Path(out)
    _refuse_link_or_file(out)
    if not out.exists():
        return out
    if (out / MARKER).is_file():
        study = sorted({e.name for e in os.scandir(out)} & STUDY_FILES)
        if study:
            raise OutputRefused(
                f"{out} holds a batch's or a comparison's results ({', '.join(study)}), which "
                "this command would replace whole; nothing was written. Give --out a new folder "
                "name."
            )
        return out
    try:
        entries = next(os.scandir(out), None)
    except OSError as exc:
        raise OutputRefused(
            f"{out} cannot be read ({exc.strerror}); nothing was written."
        ) from None
    if entries is None:
        return out
    if {e.name for e in os.scandir(out)} <= RESULT_FILES:
        return out  # written by an earlier version, before the marker
    raise OutputRefused(
        f"{out} is an existing folder that stockpile did not write (it has no {MARKER} file), "
        "so it is left untouched and nothing was written. Give --out a new folder name, or the "
        "folder of earlier stockpile results to replace them."
    )


STUDY_FILES = frozenset(
    {
        "batch.json",
        "runs",
        "runs.csv",
        "runs_goods.csv",
        "comparison.xlsx",
        "comparison.png",
        "comparison.html",
    }
)
"""What a batch's or a comparison's folder holds: these studies fill their folder file by file
(a batch adds run folders as they finish) instead of replacing it whole."""

_PARTIAL_FILE = re.compile(r"^\..+\.partial-\d+")


def check_study_folder(out: str | Path, own: frozenset[str] = STUDY_FILES) -> Path:
    """Refuse, before any work, a folder a study (a batch, a comparison) would write its files
    into when a file of the user's could be overwritten there: an existing file, a symbolic link,
    or a folder that is neither empty, nor marked by :data:`MARKER`, nor holding only ``own``
    files (a study's folder written before the marker existed). Returns the path."""
    out = Path(out)
    _refuse_link_or_file(out)
    if not out.exists() or (out / MARKER).is_file():
        return out
    try:
        names = {e.name for e in os.scandir(out)}
    except OSError as exc:
        raise OutputRefused(
            f"{out} cannot be read ({exc.strerror}); nothing was written."
        ) from None
    foreign = sorted(n for n in names - own if not _PARTIAL_FILE.match(n))
    if not foreign:
        return out
    shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
    raise OutputRefused(
        f"{out} is an existing folder that stockpile did not write (it holds {shown} and no "
        f"{MARKER} file), so it is left untouched and nothing was written. Give --out a new "
        "folder name, or the folder of earlier stockpile results."
    )


def claim_study_folder(out: str | Path, own: frozenset[str] = STUDY_FILES) -> Path:
    """Check ``out`` (:func:`check_study_folder`), create it and mark it as this tool's
    (:data:`MARKER`). Returns the path."""
    out = check_study_folder(out, own)
    out.mkdir(parents=True, exist_ok=True)
    marker = out / MARKER
    if not marker.is_file():
        marker.write_text(
            "This folder was written by stockpile (a batch or a comparison); stockpile writes "
            "its files here again and may replace it whole.\n",
            encoding="utf-8",
        )
    return out


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


def remove_stale_temporaries(parent: Path) -> list[Path]:
    """Remove this tool's own leftovers in ``parent``: ``.NAME.partial-PID-*`` and
    ``.NAME.old-PID`` folders of runs that were killed (their process is gone) and that carry
    :data:`MARKER`. Nothing else is touched. Returns what was removed."""
    removed = []
    try:
        candidates = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in candidates:
        m = _TEMP.match(entry.name)
        if not m or not entry.is_dir(follow_symlinks=False):
            continue
        if _pid_alive(int(m["pid"])) or not (Path(entry.path) / MARKER).is_file():
            continue
        shutil.rmtree(entry.path, ignore_errors=True)
        removed.append(Path(entry.path))
    return removed


def write_folder(out: Path, writers: dict[str, Callable[[Path], None]]) -> Path:
    """Write each ``name -> writer(path)`` into a temporary folder beside ``out``, then move it
    into place, replacing an earlier ``out`` only once everything is written.

    ``out`` must be new, empty, or a folder this tool wrote (:func:`check_output_target`);
    otherwise :class:`OutputRefused` is raised and nothing is touched. Stale temporaries of
    killed runs in the same parent are removed first (:func:`remove_stale_temporaries`)."""
    if not writers:
        raise OutputRefused(
            "no output format was chosen (output.formats is empty), so there is nothing to "
            "write; earlier results were left as they are. List at least one format."
        )
    out = Path(out)
    check_output_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out.parent)
    pid = os.getpid()
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-{pid}-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it owner-only; results are for sharing
    old = None
    try:
        (tmp / MARKER).write_text(
            "This folder was written by stockpile; the next run with the same --out replaces "
            "it whole.\n",
            encoding="utf-8",
        )
        for name, writer in writers.items():
            writer(tmp / name)
        if out.exists():
            check_output_target(out)  # again: it may have changed while we wrote
            old = out.parent / f".{out.name}.old-{pid}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(out, old)
        os.replace(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
