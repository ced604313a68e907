"""Charts drawn with matplotlib's Agg backend, one module per page family.

``run.py``: the run report's charts (``report.html``); ``sweep.py``: a sweep's frontier
(``frontier.png``, also in ``sweep.html``). They take plain data or a :class:`~typing.Protocol`
of what they read, never a study's own types, so the results stage imports nothing above it.
"""
