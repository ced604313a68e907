"""Progress of a study for the command line: a bar on a terminal, a line now and then
otherwise. The studies call a plain ``progress(done, total)`` callback and know nothing of
the terminal."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.markup import escape

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called after each level is solved."""


def rich_bar(console, counts: str | None = None, transient: bool = False):
    """The one look of every progress bar of the command line: the task's description, the
    bar, done/total, elapsed, and "time left"; ``counts`` (rich markup over the task's fields,
    e.g. ``"{task.fields[ok]} ok"``) adds a column before the times. Not started."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [TextColumn("[bold]{task.description}[/]"), BarColumn(), MofNCompleteColumn()]
    if counts:
        columns.append(TextColumn(counts))
    columns += [TimeElapsedColumn(), TextColumn("time left"), TimeRemainingColumn()]
    return Progress(*columns, console=console, transient=transient)


class ProgressBar:
    """``progress(done, total)`` drawing a rich progress bar with the time remaining, shown only
    once the sweep has run for ``delay`` seconds (short sweeps print nothing)."""

    def __init__(self, console, description: str = "sweeping", delay: float = 2.0):
        self.console = console
        self.description = escape(description)  # user text (a key path): printed literally
        self.delay = delay
        self.start = time.perf_counter()
        self._bar = None
        self._task = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if time.perf_counter() - self.start < self.delay or done >= total:
                return
            self._bar = rich_bar(self.console, transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.description, total=total, completed=0)
        self._bar.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> ProgressBar:
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> bool:
        self.close()
        return False
