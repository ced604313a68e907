"""Located, plainly worded problems found in a scenario, and the exception that carries them.

An :class:`Issue` says where (file, line, column, dotted key path), what was expected and what
was found, and what to change. :class:`ScenarioError` is raised with *all* the issues found in a
scenario, never only the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    """One problem in a scenario, located as precisely as the loader could.

    ``path`` is the dotted key path (``goods.gallium.suppliers.japan.capacity``), list items as
    ``hits[0]``; ``""`` for a problem with the file as a whole.
    """

    file: str | None
    """Path of the file as the user gave it (relative paths stay relative); None when the
    problem does not come from a file (a ``--set`` override, a scenario built in memory)."""
    line: int | None
    """1-based line, or None when unknown."""
    column: int | None
    """1-based column, or None when unknown."""
    path: str
    """Dotted key path, ``""`` for the file as a whole."""
    message: str
    """What was expected and what was found: ``must be >= 0, got -5``."""
    hint: str | None = None
    """What to change: ``did you mean `stockpile`?``."""
    origin: str | None = None
    """Where the value came from when not from the file itself: ``set by --set budget.total=x``."""
    severity: Severity = "error"
    """``error`` stops the run; ``warning`` is reported and the run goes on."""

    def format(self) -> str:
        """``{file}:{line}: {path}: {message} (hint: ...) [origin]``; parts that are unknown are
        left out, and a warning's message starts with ``warning:``."""
        head = ""
        if self.file is not None:
            head = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [p for p in (head, self.path) if p]
        message = f"warning: {self.message}" if self.severity == "warning" else self.message
        text = ": ".join([*parts, message])
        if self.hint:
            text += f" (hint: {self.hint})"
        if self.origin:
            text += f" [{self.origin}]"
        return text

    def __str__(self) -> str:
        return self.format()


def sort_issues(issues: Iterable[Issue], first_file: str | None = None) -> list[Issue]:
    """Issues in reading order: the scenario's own file first (``first_file``), then other files
    by name, then issues without a file (overrides); within a file by line and column."""

    def key(issue: Issue) -> tuple[int, str, int, int, str]:
        if issue.file is None:
            rank = 2
        elif issue.file == first_file:
            rank = 0
        else:
            rank = 1
        big = 1 << 30
        return (
            rank,
            issue.file or "",
            issue.line if issue.line is not None else big,
            issue.column if issue.column is not None else big,
            issue.path,
        )

    return sorted(issues, key=key)


class ScenarioError(Exception):
    """Raised with ALL the errors found in a scenario (not only the first).

    ``issues`` holds every error, in reading order (file, line, column). Warnings are not
    raised: a scenario that loads carries them in ``LoadedScenario.warnings``.
    """

    issues: list[Issue]

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = list(issues)
        super().__init__(self.issues)

    def __str__(self) -> str:
        return "\n".join(issue.format() for issue in self.issues)
