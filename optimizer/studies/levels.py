"""The levels a study runs at, and the scenario values it changes.

:func:`parse_range` and :func:`parse_param` read the command line's ranges (``0:500M:25M``,
``a,b,c``); the other helpers find and set a value by its dotted key path in a scenario, so a
sweep (and the stress test to come) can re-run one scenario at many values.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from optimizer.scenario.loader import LoadedScenario
from optimizer.scenario.schema import override_text
from optimizer.scenario.units import parse_money, parse_share

#: Most points one range may ask for.
MAX_STEPS = 10_000


def parse_range(text: str) -> np.ndarray:
    """``FROM:TO:STEPS`` as ``STEPS`` evenly spaced values, both ends included.

    ``FROM`` and ``TO`` are amounts of money (``0``, ``250M``, ``1.2bn``, ``2.5e6``) or, when
    either ends in ``%``, shares (``0%:100%:11`` gives 0, 0.1, ..., 1). ``STEPS`` is the number of
    points, a whole number >= 2 (1 only when ``FROM`` equals ``TO``). Raises ``ValueError`` with
    a message saying what was expected.

    >>> parse_range("0:400M:5").tolist()
    [0.0, 100000000.0, 200000000.0, 300000000.0, 400000000.0]
    """
    example = "write FROM:TO:STEPS, e.g. 0:400M:21 (21 levels from 0 to 400M) or 0%:100%:11"
    if not isinstance(text, str):
        raise ValueError(f"expected a range as text; {example}; got {text!r}")
    parts = text.split(":")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise ValueError(f"a range has three parts separated by ':'; {example}; got {text!r}")
    lo_text, hi_text, steps_text = (p.strip() for p in parts)
    share = lo_text.endswith("%") or hi_text.endswith("%")
    parse = parse_share if share else parse_money
    try:
        lo = parse(lo_text)
        hi = parse(hi_text)
    except ValueError as exc:
        raise ValueError(f"in the range {text!r}: {exc}") from None
    try:
        steps = int(steps_text.replace("_", ""))
    except ValueError:
        raise ValueError(
            f"in the range {text!r}: STEPS is the number of levels, a whole number such as 21, "
            f"got {steps_text!r} (a step size is not accepted: 0:400M:21 has steps of 20M)"
        ) from None
    if steps < 1:
        raise ValueError(f"in the range {text!r}: STEPS must be at least 1, got {steps}")
    if steps > MAX_STEPS:
        raise ValueError(
            f"in the range {text!r}: at most {MAX_STEPS:,} levels in one sweep, got {steps:,}"
        )
    if steps == 1 and lo != hi:
        raise ValueError(
            f"in the range {text!r}: one level cannot span {lo_text} to {hi_text}; "
            "use at least 2 STEPS (both ends are included)"
        )
    # 15 significant digits: 0.15, not 0.15000000000000002, in overrides and files
    return np.array([float(f"{v:.15g}") for v in np.linspace(lo, hi, steps)])


def parse_param(text: str) -> tuple[str, np.ndarray]:
    """``key.path=FROM:TO:STEPS`` (the ``--param`` option) as the key path and its values."""
    key, sep, rng = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(
            f"expected key.path=FROM:TO:STEPS, e.g. disruptions.escalation.probability=0%:30%:7, "
            f"got {text!r}"
        )
    return key.strip(), parse_range(rng)


def _source(scenario: str | Path | dict | LoadedScenario) -> str | Path | dict:
    """Something :func:`optimizer.api.run` can load again with overrides."""
    if isinstance(scenario, LoadedScenario):
        return scenario.resolved
    return scenario


def _levels(levels: Sequence[float] | np.ndarray) -> np.ndarray:
    arr = np.unique(np.asarray(levels, dtype=float))  # sorted, duplicates dropped
    if arr.size == 0:
        raise ValueError("a sweep needs at least one level")
    if not np.all(np.isfinite(arr)):
        raise ValueError("every level of a sweep must be a finite number")
    return arr


def _split_key(key: str) -> list[str]:
    return [p for p in key.replace("[", ".").replace("]", "").split(".") if p != ""]


def _lookup(data: Any, key: str) -> tuple[bool, Any]:
    """(found, value) of ``key`` (``a.b[0].c`` or ``a.b.0.c``) in plain data."""
    node = data
    for part in _split_key(key):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _format_value(v: float, key: str = "") -> str:
    """A value for an override of ``key``: ``repr`` of the float reads back exactly (YAML or
    the scenario's number parsers); an event rate gets its ``per year``."""
    return override_text(key, v)


def _with_limit(scenario, name: str, level: float):
    """``scenario`` (frozen pydantic) with the limit of budget ``name`` set to ``level``, so
    that each level's portfolio reports its own limit."""
    b = scenario.budget
    if name == "total":
        budget = b.model_copy(update={"total": float(level)})
    else:
        lines = dict(b.lines)
        lines[name] = lines[name].model_copy(update={"limit": float(level)})
        budget = b.model_copy(update={"lines": lines})
    return scenario.model_copy(update={"budget": budget})
