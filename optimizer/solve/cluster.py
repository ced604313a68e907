"""A local Dask cluster for HiGHS work: the one way the engine starts worker processes on this
machine, used by the decomposition's subproblems (:mod:`decomposition_pool`) and by the
studies' batches and stress tests (:mod:`optimizer.studies.workers`)."""

from __future__ import annotations

from typing import Any

#: The environment of each worker process: one thread per numerical library, as Dask's own
#: default, but without Dask's ``MALLOC_TRIM_THRESHOLD_=65536``, whose frequent trimming cost
#: HiGHS 20-30 % more CPU per solve in a worker (benchmarks/README.md, "2 workers against 1").
WORKER_ENVIRON = {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1}

#: Dask settings of the workers: no statistical profiler (a thread sampling the worker's
#: stacks every 10 ms, for a dashboard the engine does not start). With it the subproblem
#: phase took 9-12 % longer on 2 workers (5,000 samples x 34 goods, two interleaved pairs).
WORKER_CONFIG = {"distributed.worker.profile.enabled": False}


def start_local_cluster(n_workers: int, silence_logs: int = 50, **kwargs: Any) -> Any:
    """A ``distributed.LocalCluster`` of ``n_workers`` processes, one thread each, on
    loopback, without a dashboard, its workers started with :data:`WORKER_ENVIRON`; further
    ``LocalCluster`` arguments in ``kwargs``. The caller closes it."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ": WORKER_ENVIRON, **WORKER_CONFIG}):
        return LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=silence_logs,
            **kwargs,
        )
