"""The thin front for user code: load and run a scenario, keep what each stage produced.

``scenario -> data -> model -> solve -> results``. The run itself lives in
:mod:`optimizer.pipeline` (:func:`run`, :func:`load`, :class:`RunConfig`) and its result in
:mod:`optimizer.results.run` (:class:`RunResult`); this module keeps the names user code
imports from ``optimizer.api``.

:func:`pyomo_model` returns a scenario's model as a Pyomo ``ConcreteModel`` to add your own
constraints to, then solve (``examples/pyomo_constraint.py``).
"""

from __future__ import annotations

from optimizer.pipeline import PyomoModel, RunConfig, load, pyomo_model, run
from optimizer.results.run import RunResult

__all__ = ["PyomoModel", "RunConfig", "RunResult", "load", "pyomo_model", "run"]
