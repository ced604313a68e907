"""Studies: many solves of one scenario family, above the stages and below the front ends.

- ``sweep.py`` (budget frontier), ``sweep_param.py`` (sensitivity to any numeric value),
  ``sweep_levels.py`` (the warm re-solves), ``sweep_frontier.py`` (:class:`SweepResult`);
- ``batch.py`` (:func:`run_batch`), ``batch_file.py`` (reading and expanding a batch file),
  ``batch_solve.py`` (one run on a worker), ``batch_records.py`` (run folders, resuming);
- ``compare.py``: runs side by side (tables, workbook, chart);
- shared: ``levels.py`` (ranges, values by key path), ``workers.py`` (Dask client, process
  pool), ``progress.py`` (the progress bar).

The stress test will be ``stress.py``, built from the same pieces. A study imports the stages
and :mod:`optimizer.pipeline`, never a front end (``api``, ``cli``).
"""
