"""What the file writers read from a run, as a :class:`~typing.Protocol`.

``report.html`` and ``portfolio.xlsx`` need a run's ``portfolio.json`` dictionary and its
loaded scenario only. Typing them against this protocol instead of
:class:`~optimizer.results.run.RunResult` keeps the imports one way: ``run.py`` imports the
writers, the writers import nothing of ``run.py``.
"""

from __future__ import annotations

from typing import Protocol

from optimizer.scenario.loader import LoadedScenario


class SolvedRun(Protocol):
    """A solved run as the writers see it (a :class:`~optimizer.results.run.RunResult`)."""

    @property
    def portfolio(self) -> dict:
        """The ``portfolio.json`` dictionary."""
        ...

    @property
    def loaded(self) -> LoadedScenario:
        """The scenario as read (``resolved`` is the dictionary of ``resolved.yaml``)."""
        ...
