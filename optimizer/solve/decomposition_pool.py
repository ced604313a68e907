"""Where the subproblem chunks are solved: in this process, or on Dask workers.

:class:`LocalPool` calls :func:`evaluate_chunk` here, one chunk after the other (tests, one
core). :class:`DaskPool` scatters each chunk's arrays to the workers once; per iteration only
the first-stage vector goes out and the cut data come back. A chunk whose worker died is sent
again from this process (which keeps every chunk) and solved elsewhere: a lost worker costs its
tasks, not the run. No Pyomo object and no HiGHS object ever crosses a process boundary.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from optimizer.solve.decomposition_split import ChunkData
from optimizer.solve.decomposition_worker import ChunkResult, evaluate_chunk, forget

#: How often a chunk is sent again after its worker was lost, before the solve gives up.
MAX_RESENDS = 3


class Pool(Protocol):
    workers: int

    def evaluate(self, x: np.ndarray, want_primal: bool = False) -> list[ChunkResult]: ...

    def close(self) -> None: ...


class LocalPool:
    """Every chunk solved in this process, in order."""

    def __init__(self, chunks: Sequence[ChunkData], threads: int = 0):
        self.chunks = list(chunks)
        self.threads = threads
        self.workers = 1

    def evaluate(self, x: np.ndarray, want_primal: bool = False) -> list[ChunkResult]:
        return [evaluate_chunk(c, x, want_primal, self.threads) for c in self.chunks]

    def close(self) -> None:
        if self.chunks:
            forget(self.chunks[0].token)


class DaskPool:
    """The chunks spread over the workers of a ``distributed.Client``."""

    def __init__(self, client: Any, chunks: Sequence[ChunkData], threads: int = 0):
        self.client = client
        self.chunks = list(chunks)
        self.threads = threads
        self.workers = max(1, len(client.scheduler_info().get("workers", {})))
        self.resends = 0
        self._data = self._scatter(range(len(self.chunks)))

    def _scatter(self, which) -> dict[int, Any]:
        """Send chunks to the workers, spread round-robin (each chunk to one worker)."""
        which = list(which)
        workers = sorted(self.client.scheduler_info().get("workers", {}))
        out: dict[int, Any] = {}
        for n, i in enumerate(which):
            target = [workers[n % len(workers)]] if workers else None
            (fut,) = self.client.scatter([self.chunks[i]], workers=target, hash=False)
            out[i] = fut
        return out

    def evaluate(self, x: np.ndarray, want_primal: bool = False) -> list[ChunkResult]:
        x = np.asarray(x, dtype=float)
        pending = list(range(len(self.chunks)))
        results: dict[int, ChunkResult] = {}
        tries = 0
        while pending:
            futures = {
                i: self.client.submit(
                    evaluate_chunk,
                    self._data[i],
                    x,
                    want_primal,
                    self.threads,
                    pure=False,
                    retries=1,
                )
                for i in pending
            }
            failed = []
            for i, fut in futures.items():
                try:
                    results[i] = fut.result()
                except Exception:  # noqa: BLE001 - a lost worker, its data, a killed task
                    failed.append(i)
            if not failed:
                break
            tries += 1
            if tries > MAX_RESENDS:
                raise RuntimeError(
                    f"{len(failed)} chunks of futures failed on the workers {MAX_RESENDS} times"
                )
            self.resends += len(failed)
            self._data.update(self._scatter(failed))
            pending = failed
        return [results[i] for i in range(len(self.chunks))]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self.chunks:
                self.client.run(forget, self.chunks[0].token)
        with contextlib.suppress(Exception):
            self.client.cancel(list(self._data.values()))


@contextlib.contextmanager
def local_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client on ``workers`` new local processes (one thread each, loopback, no
    dashboard) or on the existing scheduler at ``scheduler`` (``tcp://host:port``)."""
    from distributed import Client, LocalCluster

    if scheduler:
        client = Client(scheduler, timeout="20s", set_as_default=False)
        try:
            client.wait_for_workers(1, timeout=60)
            yield client
        finally:
            client.close()
        return
    n = max(1, int(workers or os.cpu_count() or 1))
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=50,
    )
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()
