"""Stockpile and mitigation optimisation for strategic dependencies.

The stages, each its own module with one-way imports:
``scenario`` (read and validate) -> ``data`` (arrays, time blocks) -> ``model`` (the LP/MIP)
-> ``solve`` (HiGHS through Pyomo, or directly) -> ``results`` (portfolio, tables, files).
``api`` is the thin front that runs them in order; ``cli`` is the ``stockpile`` command.
"""

__version__ = "0.1.0"
