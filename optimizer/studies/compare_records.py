"""Reading runs to compare: a run's folder as a :class:`RunRecord`, and the runs under the
folders given to ``stockpile compare`` (:func:`find_runs`).

A folder may be one run's results (``portfolio.json`` and/or ``status.json``), a batch's
output folder (``batch.json`` and ``runs/``), or a folder of run folders. When the runs do not
come from one batch, the varied values are the keys whose values differ between their
``resolved.yaml`` (:func:`varied_keys`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from optimizer.scenario.located_yaml import FAST_LOADER

#: Most columns of varied values found by comparing resolved scenarios.
MAX_DIFF_KEYS = 12


#: Keys never shown as varied values (they name rather than define a scenario).
_IGNORED_KEYS = ("name", "description")


class CompareError(Exception):
    """A folder given to compare holds no run results."""


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


_Loader = FAST_LOADER


@dataclass
class RunRecord:
    """One run's results as read from its folder."""

    name: str
    folder: Path
    variant: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    """Varied values as written (a batch's grid values), by key."""
    status: str = "missing"
    reason: str = ""
    portfolio: dict | None = None
    seconds: float | None = None
    resolved_values: dict[str, Any] = field(default_factory=dict)
    """Varied values as the resolved scenario holds them, when known without reading it."""

    @cached_property
    def resolved(self) -> dict | None:
        """The run's ``resolved.yaml``, or None."""
        path = self.folder / "resolved.yaml"
        try:
            return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
        except (OSError, yaml.YAMLError):
            return None

    def value(self, key: str) -> Any:
        """The value at dotted ``key`` for a table: the resolved scenario's when it is a plain
        value, else the value as written."""
        if key in self.resolved_values:
            return self.resolved_values[key]
        resolved = self.resolved
        if resolved is not None:
            found, v = value_at(resolved, key)
            if found and not isinstance(v, (dict, list)):
                return v
        if key in self.values:
            from optimizer.studies.batch_file import value_label, yaml_value

            v = self.values[key]
            return yaml_value(v) if isinstance(v, (dict, list)) else value_label(v)
        if resolved is not None:
            found, v = value_at(resolved, key)
            if found:
                return json.dumps(v, default=str)
        return None


def read_run(
    folder: str | Path,
    name: str | None = None,
    variant: str | None = None,
    values: dict | None = None,
    resolved_values: dict | None = None,
) -> RunRecord:
    """A run folder as a :class:`RunRecord` (status ``missing`` when it holds no results)."""
    folder = Path(folder)
    status_doc = _read_json(folder / "status.json")
    pf = _read_json(folder / "portfolio.json")
    rec = RunRecord(name or folder.name, folder, variant, dict(values or {}))
    rec.resolved_values = dict(resolved_values or {})
    if status_doc:
        rec.status = status_doc.get("status") or "missing"
        rec.reason = status_doc.get("reason") or ""
        rec.seconds = status_doc.get("seconds")
        if variant is None:
            rec.variant = status_doc.get("variant")
        if not values and status_doc.get("values"):
            rec.values = dict(status_doc["values"])
        if not resolved_values and status_doc.get("resolved_values"):
            rec.resolved_values = dict(status_doc["resolved_values"])
    if pf:
        rec.portfolio = pf
        if not status_doc:
            rec.status = pf.get("status") or "missing"
        if rec.seconds is None:
            rec.seconds = (pf.get("solver") or {}).get("seconds")
    return rec


def _is_run(folder: Path) -> bool:
    return (folder / "portfolio.json").is_file() or (folder / "status.json").is_file()


def find_runs(paths: list[str | Path]) -> tuple[list[RunRecord], list[str]]:
    """The runs in ``paths`` (each a run folder, a batch folder or a folder of run folders),
    and the keys to show as varied values. Raises :class:`CompareError` for a path without
    runs."""
    records: list[RunRecord] = []
    batch_keys: list[str] = []
    from_batch = True
    for p in paths:
        p = Path(p)
        if not p.is_dir():
            raise CompareError(f"{p}: not a folder")
        manifest = _read_json(p / "batch.json")
        if _is_run(p):
            records.append(read_run(p))
            from_batch = False
        elif manifest and isinstance(manifest.get("runs"), list):
            for r in manifest["runs"]:
                records.append(
                    read_run(
                        p / r["folder"],
                        r.get("name"),
                        r.get("variant"),
                        r.get("values"),
                        r.get("resolved_values"),
                    )
                )
            for k in manifest.get("keys") or []:
                if k not in batch_keys:
                    batch_keys.append(k)
        else:
            inner = p / "runs" if (p / "runs").is_dir() else p
            found = sorted(
                c
                for c in inner.iterdir()
                if c.is_dir() and not c.name.startswith(".") and _is_run(c)
            )
            if not found:
                raise CompareError(
                    f"{p}: no results here (expected portfolio.json, or a batch's batch.json, "
                    "or folders of runs)"
                )
            records.extend(read_run(c) for c in found)
            from_batch = False
    _unique_names(records)
    if from_batch and batch_keys:
        return records, batch_keys
    keys = list(batch_keys)
    for k in varied_keys(records):
        if k not in keys:
            keys.append(k)
    return records, keys[: max(MAX_DIFF_KEYS, len(batch_keys))]


def _unique_names(records: list[RunRecord]) -> None:
    seen: dict[str, int] = {}
    for r in records:
        seen[r.name] = seen.get(r.name, 0) + 1
    dup = {n for n, c in seen.items() if c > 1}
    for r in records:
        if r.name in dup:
            r.name = str(r.folder)


def _segments(key: str) -> list[str | int]:
    out: list[str | int] = []
    for part in key.split("."):
        m = re.fullmatch(r"([^\[\]]*)((?:\[\d+\])*)", part)
        if not m:
            out.append(part)
            continue
        if m.group(1):
            out.append(m.group(1))
        out.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return out


def value_at(data: Any, key: str) -> tuple[bool, Any]:
    """(found, value) at a dotted key path (``a.b[0].c`` or ``a.b.0.c``)."""
    cur = data
    for seg in _segments(key):
        if isinstance(cur, dict) and seg in cur:
            cur = cur[seg]
        elif isinstance(cur, dict) and str(seg) in cur:
            cur = cur[str(seg)]
        elif isinstance(cur, list):
            try:
                cur = cur[int(seg)]
            except (ValueError, IndexError):
                return False, None
        else:
            return False, None
    return True, cur


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted key path -> plain value; lists of plain values are one value."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(data, list) and any(isinstance(v, (dict, list)) for v in data):
        for i, v in enumerate(data):
            out.update(_flatten(v, f"{prefix}[{i}]"))
    elif isinstance(data, list):
        out[prefix] = json.dumps(data, default=str)
    else:
        out[prefix] = data
    return out


def varied_keys(records: list[RunRecord]) -> list[str]:
    """Dotted keys whose resolved values differ between the runs (in the first run's order)."""
    flat = [_flatten(r.resolved) for r in records if r.resolved is not None]
    if len(flat) < 2:
        return []
    order: list[str] = []
    seen: set[str] = set()
    for f in flat:
        for k in f:
            if k not in seen:
                seen.add(k)
                order.append(k)
    keys = []
    for k in order:
        if k.split(".")[0] in _IGNORED_KEYS:
            continue
        vals = {json.dumps(f.get(k), default=str, sort_keys=True) for f in flat}
        if len(vals) > 1:
            keys.append(k)
    return keys
