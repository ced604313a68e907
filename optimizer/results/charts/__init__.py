"""Charts, one module per page family.

``run.py``: the run report's charts (``report.html``), small hand-written SVG (``svg.py``), so
that a run pays for no plotting library; ``sweep.py``: a sweep's frontier (``frontier.png``,
also in ``sweep.html``) and ``compare.py``: a batch's comparison, matplotlib PNGs (files of
their own), imported only when drawn. They take plain data or a :class:`~typing.Protocol` of
what they read, never a study's own types, so the results stage imports nothing above it.
"""
