"""A batch's records on disk: each run's folder and ``status.json``, and what a resumed batch
keeps.

A run's folder is written atomically (complete or absent). A finished run whose category is
one of :data:`KEPT_CATEGORIES` (the solver's own outcomes) is kept by a re-run; the others (a
lost worker, an internal error) are solved again.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from optimizer import __version__
from optimizer.results import dumps_json, goods_table, write_csv, write_folder

#: Categories of a finished run that a re-run keeps (the solver's own outcomes). Others (a lost
#: worker, an internal error, a run never finished) are solved again.
KEPT_CATEGORIES = frozenset({"ok", "time_limit", "infeasible", "solver"})


#: status -> (category, exit-code-like number, as in ``stockpile run``).
_CATEGORIES: dict[str, tuple[str, int]] = {
    "optimal": ("ok", 0),
    "time_limit": ("time_limit", 4),
    "infeasible": ("infeasible", 3),
    "unbounded": ("solver", 5),
    "error": ("solver", 5),
    "invalid": ("input", 1),
    "exception": ("internal", 6),
    "worker_lost": ("worker_lost", 6),
    "cancelled": ("internal", 6),
}


def category_of(status: str) -> tuple[str, int]:
    """(category, exit-code-like number) of a run status."""
    return _CATEGORIES.get(status, ("internal", 6))


def _status_doc(job: dict, status: str, **extra: Any) -> dict:
    category, code = category_of(status)
    doc = {
        "name": job["name"],
        "batch": job.get("batch"),
        "base": job.get("base"),
        "variant": job.get("variant"),
        "values": dict(job.get("values") or []),
        "resolved_values": dict(job.get("resolved_values") or {}),
        "overrides": list(job.get("overrides") or []),
        "status": status,
        "category": category,
        "exit_code": code,
        "reason": "",
        "explanation": [],
        "objective": None,
        "input_sha256": job.get("sha"),
        "engine_version": __version__,
        "settings": job.get("settings"),
    }
    doc.update(extra)
    doc["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    return doc


def _write_results(result, folder: Path, formats: Sequence[str] | None, status_text: str) -> None:
    """The folder of ``RunResult.write`` plus ``status.json``: in one atomic step when
    ``RunResult`` hands out its writers (``RunResult.writers(formats)``); otherwise
    ``status.json`` is added (atomically) right after the folder appears, and a folder found
    without it is read by its ``portfolio.json``."""
    fmt = tuple(formats) if formats is not None else None
    own = getattr(result, "writers", None)
    if callable(own):
        writers = dict(own(fmt) if fmt is not None else own())
        writers["status.json"] = _text_writer(status_text)
        write_folder(folder, writers)
        return
    if fmt is None:
        result.write(folder)
    else:
        result.write(folder, fmt)
    _write_text_atomic(folder / "status.json", status_text)


def _text_writer(text: str) -> Callable[[Path], None]:
    return lambda p: p.write_text(text, encoding="utf-8")


def _existing(folder: Path) -> dict | None:
    """The status of a finished run folder, or None when there is none to keep."""
    status_file = folder / "status.json"
    try:
        if status_file.is_file():
            return json.loads(status_file.read_text(encoding="utf-8"))
        pf_file = folder / "portfolio.json"
        if pf_file.is_file():
            pf = json.loads(pf_file.read_text(encoding="utf-8"))
            return {"status": pf.get("status"), "objective": pf.get("objective"), "reason": ""}
    except (OSError, ValueError):
        return None
    return None


def solve_settings(config: Any) -> dict[str, Any]:
    """What of a run's ``RunConfig`` can change its answer, recorded in ``status.json``
    (``settings``) and compared by a re-run: the MIP gap, the time limit, time compression, the
    HiGHS algorithm and presolve, and the engine's version. Not the interface (Pyomo or
    highspy hand the same arrays to the same HiGHS) nor the threads (one per run)."""
    return {
        "mip_gap": float(config.mip_gap),
        "time_limit": None if config.time_limit is None else float(config.time_limit),
        "compress_time": bool(config.compress_time),
        "algorithm": str(config.algorithm),
        "presolve": bool(config.presolve),
        "engine_version": __version__,
    }


def _why_resolve(previous: dict, settings: dict[str, Any] | None) -> str | None:
    """Why a finished run must be solved again under ``settings``; None when it is kept."""
    if settings is None:
        return None
    old = previous.get("settings")
    if not isinstance(old, dict):
        return "recorded without its solver settings (an earlier engine)"
    changed = []
    for key, new in settings.items():
        was = old.get(key)
        if was == new:
            continue
        if key == "time_limit":
            # a time limit matters only to a run it stopped, and only when it is now longer
            if previous.get("status") != "time_limit":
                continue
            if new is not None and was is not None and new <= was:
                continue
        changed.append(f"{key} {_setting(was)} -> {_setting(new)}")
    return ("settings changed: " + ", ".join(changed)) if changed else None


def _setting(v: Any) -> str:
    return "none" if v is None else f"{v:g}" if isinstance(v, float) else str(v)


def kept_run(folder: Path, settings: dict[str, Any] | None = None) -> dict | None:
    """The status of the run finished in ``folder`` when a re-run keeps it (the solver's own
    outcome: optimal, time limit, infeasible, solver error, under the same ``settings`` of
    :func:`solve_settings` when given); None when it must be solved (see :func:`resolve_reason`)."""
    previous = _existing(folder)
    if previous is None or category_of(previous.get("status") or "")[0] not in KEPT_CATEGORIES:
        return None
    return None if _why_resolve(previous, settings) else previous


def resolve_reason(folder: Path, settings: dict[str, Any] | None = None) -> str | None:
    """Why the run finished in ``folder`` is solved again (None: nothing was finished there,
    or it is kept): it failed for a reason that may not recur, or its settings changed."""
    previous = _existing(folder)
    if previous is None:
        return None
    if category_of(previous.get("status") or "")[0] not in KEPT_CATEGORIES:
        return f"its earlier attempt ended {previous.get('status')}"
    return _why_resolve(previous, settings)


def _write_fallback(folder: Path, res: dict, formats: Sequence[str] | None) -> None:
    """Write a run's folder here from what its worker sent back (the worker could not)."""
    writers: dict[str, Callable[[Path], None]] = {}
    pf = res.get("portfolio")
    doc = dict(res["status_doc"])
    doc["note"] = (
        "written by the batch's client: the worker could not write here "
        f"({res.get('write_error')}); scenarios.csv is missing"
    )
    if pf is not None:
        writers["portfolio.json"] = _text_writer(dumps_json(pf))
        if (formats is None or "csv" in formats) and pf.get("goods"):
            table = goods_table(pf)
            writers["portfolio.csv"] = lambda p: write_csv(table, p)
    if res.get("resolved_yaml"):
        writers["resolved.yaml"] = _text_writer(res["resolved_yaml"])
    writers["status.json"] = _text_writer(json.dumps(doc, indent=2, default=str) + "\n")
    write_folder(folder, writers)


def _write_failure(folder: Path, job: dict, status: str, reason: str) -> None:
    doc = _status_doc(job, status, reason=reason)
    write_folder(folder, {"status.json": _text_writer(json.dumps(doc, indent=2) + "\n")})


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
