"""Stockpile and mitigation optimisation for strategic dependencies.

The stages, each its own module with one-way imports:
``scenario`` (read and validate) -> ``data`` (arrays, time blocks) -> ``model`` (the LP/MIP)
-> ``solve`` (HiGHS through Pyomo, or directly) -> ``results`` (portfolio, tables, files).
``pipeline`` runs them in order; ``studies`` (sweeps, batches, comparisons) run many solves;
``api`` (for user code) and ``cli`` (the ``stockpile`` command) are the front ends. The map
and the import rules: ``docs/architecture.md``.
"""

__version__ = "0.1.0"
