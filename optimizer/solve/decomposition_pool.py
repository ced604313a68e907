"""Where the subproblem chunks are solved: in this process, or on Dask workers.

:class:`LocalPool` calls :func:`evaluate_chunk` here, one chunk after the other (tests, one
core). :class:`DaskPool` scatters each chunk's arrays to the workers once; per iteration only
the first-stage vector goes out and the cut data come back. A chunk whose worker died is sent
again from this process (which keeps every chunk, or, given a ``rebuild`` function, builds the
lost ones again from the data) and solved elsewhere: a lost worker costs its tasks, not the
run. No Pyomo object and no HiGHS object ever crosses a process boundary.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from optimizer.model.size import machine_memory
from optimizer.solve.cluster import start_local_cluster
from optimizer.solve.decomposition_split import ChunkData
from optimizer.solve.decomposition_worker import (
    ChunkResult,
    evaluate_chunk,
    evaluate_chunks,
    forget,
    peak_rss_mb,
)

#: How often a chunk is sent again after its worker was lost, before the solve gives up.
MAX_RESENDS = 3

#: Chunks sent to a worker per ``scatter`` call.
SCATTER_BATCH = 16


#: Above this many columns of the extensive form per process that solves chunks, the chunks'
#: HiGHS objects are not kept between iterations (only their bases): HiGHS's copies of the LP
#: cost about 0.7 KB a column in the process that holds them (benchmarks/README.md,
#: "Decomposition"). Measured at 34 goods x 5 x 60, K = 1,000 (468,000 columns, one process):
#: kept 799 MB peak, 13.1 CPU s; bases only 488 MB, 18.7 CPU s (same simplex iterations: the
#: warm start holds). Per process, since each worker holds only its share of the chunks: at
#: 5,000 samples (1.9M columns) 2 workers keep theirs (964 MB each) and one process does not.
KEEP_SOLVERS_MAX_COLUMNS = 1_000_000


#: HiGHS's copy of a kept chunk, bytes per column of the extensive form (measured: 34 goods x
#: 5 x 60, 5,000 samples, 1.9M columns on 2 workers: 964 MB each kept, 272 MB bases only).
KEPT_BYTES_PER_COLUMN = 750


def keeps_solvers(columns: int, processes: int, memory: float | None = None) -> bool:
    """Whether the chunks' HiGHS objects are kept between iterations when ``columns`` columns of
    the extensive form are spread over ``processes`` processes solving chunks: below
    :data:`KEEP_SOLVERS_MAX_COLUMNS` columns in each, and all the copies together
    (:data:`KEPT_BYTES_PER_COLUMN`) within a quarter of ``memory`` (bytes; None: this
    machine's; 0: unknown, not checked), so that many workers do not multiply it past the
    machine."""
    if memory is None:
        memory = machine_memory()
    fits = not memory or KEPT_BYTES_PER_COLUMN * columns <= memory / 4
    return fits and columns / max(1, processes) < KEEP_SOLVERS_MAX_COLUMNS


class Pool(Protocol):
    workers: int
    keep_solvers: bool
    """Keep each chunk's HiGHS object between calls (else only its basis); may be set after
    the pool opened, before the first :meth:`evaluate`."""

    def evaluate(self, x: np.ndarray, want_primal: bool = False) -> list[ChunkResult]: ...

    def close(self) -> None: ...


class LocalPool:
    """Every chunk solved in this process, in order."""

    def __init__(self, chunks: Sequence[ChunkData], threads: int = 0, keep_solvers: bool = True):
        self.chunks = list(chunks)
        self.threads = threads
        self.keep_solvers = keep_solvers
        self.workers = 1

    def evaluate(self, x: np.ndarray, want_primal: bool = False) -> list[ChunkResult]:
        keep = self.keep_solvers
        return [evaluate_chunk(c, x, want_primal, self.threads, keep) for c in self.chunks]

    def close(self) -> None:
        if self.chunks:
            forget(self.chunks[0].token)


class DaskPool:
    """The chunks spread over the workers of a ``distributed.Client``: each chunk lives on one
    worker; per iteration each worker gets one task evaluating all of its chunks (a task per
    chunk costs a scheduler round trip each, which on a loaded machine took longer than the
    solves)."""

    def __init__(
        self,
        client: Any,
        chunks: Sequence[ChunkData],
        threads: int = 0,
        keep_solvers: bool = True,
        rebuild: Callable[[int], ChunkData] | None = None,
    ):
        self.client = client
        self.chunks: list[ChunkData] | None = list(chunks)
        self.n = len(chunks)
        self.token = chunks[0].token if chunks else ""
        # each worker solves one chunk at a time: the workers are the parallelism. HiGHS's own
        # choice (threads 0: a pool of 2 threads per process on 2 cores) made the chunks 10 %
        # dearer and 2 workers 1.35x against 1.51x with one thread each (34 goods x 5 x 60,
        # 3,000 samples; benchmarks/README.md)
        self.threads = threads or 1
        self.keep_solvers = keep_solvers
        self.rebuild = rebuild
        self.resends = 0
        self.peak_mb: list[float] = []
        self._data: dict[int, Any] = {}
        self._home: dict[int, str] = {}
        self._scatter(range(self.n))
        self.workers = max(1, len(set(self._home.values())))
        if rebuild is not None:
            self.chunks = None  # the workers hold them; a lost worker's are built again

    def _scatter(self, which) -> None:
        """Send chunks to the workers, each chunk to one worker, balanced by size: largest
        first to the worker with the fewest nonzeros so far (the chunks of futures with more
        disruptions are larger and slower; round-robin left one worker waiting for the other
        at the end of every round)."""
        which = list(which)
        workers = sorted(self.client.scheduler_info().get("workers", {}))
        if not workers:
            raise RuntimeError("no Dask worker is available for the subproblems")
        data = {i: self.chunks[i] if self.chunks is not None else self.rebuild(i) for i in which}
        placed = place_by_size({i: data[i].W.nnz for i in which}, workers)
        for w, ids in placed.items():
            # a few chunks per call: scatter serialises its whole list at once (at 20,000
            # futures a worker's half of the chunks was 0.35 GB more at the client's peak)
            for lo in range(0, len(ids), SCATTER_BATCH):
                batch = ids[lo : lo + SCATTER_BATCH]
                futs = self.client.scatter([data[i] for i in batch], workers=[w], hash=False)
                for i, f in zip(batch, futs):
                    self._data[i] = f
                    self._home[i] = w
                    del data[i]

    def evaluate(self, x: np.ndarray, want_primal: bool = False) -> list[ChunkResult]:
        x = np.asarray(x, dtype=float)
        pending = list(range(self.n))
        results: dict[int, ChunkResult] = {}
        tries = 0
        while pending:
            batches: dict[str, list[int]] = {}
            for i in pending:
                batches.setdefault(self._home[i], []).append(i)
            futures = {
                w: self.client.submit(
                    evaluate_chunks,
                    [self._data[i] for i in ids],
                    x,
                    want_primal,
                    self.threads,
                    self.keep_solvers,
                    workers=[w],
                    allow_other_workers=True,
                    pure=False,
                )
                for w, ids in batches.items()
            }
            failed: list[int] = []
            for w, fut in futures.items():
                try:
                    for i, r in zip(batches[w], fut.result()):
                        results[i] = r
                except Exception:  # noqa: BLE001 - a lost worker, its data, a killed task
                    failed.extend(batches[w])
            if not failed:
                break
            tries += 1
            if tries > MAX_RESENDS:
                raise RuntimeError(
                    f"{len(failed)} chunks of futures failed on the workers {MAX_RESENDS} times"
                )
            self.resends += len(failed)
            self._scatter(failed)
            pending = failed
        return [results[i] for i in range(self.n)]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            peaks = self.client.run(peak_rss_mb)
            self.peak_mb = [float(peaks[w]) for w in sorted(peaks)]
        with contextlib.suppress(Exception):
            if self.n:
                self.client.run(forget, self.token)
        with contextlib.suppress(Exception):
            self.client.cancel(list(self._data.values()))


def place_by_size(sizes: dict[int, int], workers: list[str]) -> dict[str, list[int]]:
    """Chunks (index -> size, e.g. nonzeros) to workers: largest first, each to the worker with
    the least placed so far (ties: the first worker); each worker's chunks in index order."""
    load = dict.fromkeys(workers, 0)
    mine: dict[str, list[int]] = {w: [] for w in workers}
    for i in sorted(sizes, key=lambda i: (-sizes[i], i)):
        w = min(workers, key=lambda w: load[w])
        mine[w].append(i)
        load[w] += sizes[i]
    return {w: sorted(ids) for w, ids in mine.items()}


@contextlib.contextmanager
def local_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client on ``workers`` new local processes (one thread each, loopback, no
    dashboard) or on the existing scheduler at ``scheduler`` (``tcp://host:port``)."""
    from distributed import Client

    if scheduler:
        client = Client(scheduler, timeout="20s", set_as_default=False)
        try:
            client.wait_for_workers(1, timeout=60)
            yield client
        finally:
            client.close()
        return
    n = max(1, int(workers or os.cpu_count() or 1))
    cluster = start_local_cluster(n)
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


class open_pool:
    """The pool for a decomposed solve, closed (and a cluster it started stopped) on exit:
    on the open Dask ``client``; else on the ``scheduler`` at ``tcp://HOST:PORT`` or on
    ``workers`` > 1 new local processes; else in this process. ``rebuild`` builds chunk ``c``
    again (a Dask pool then keeps no chunk in this process). The pool keeps its chunks' HiGHS
    objects unless ``keep_solvers`` is set otherwise before the first evaluation (the caller
    decides once the pool's workers are known)."""

    def __init__(
        self,
        client: Any,
        scheduler: str | None,
        workers: int,
        chunks: list[ChunkData],
        threads: int,
        rebuild: Callable[[int], ChunkData] | None = None,
    ):
        self.client, self.scheduler, self.n_workers = client, scheduler, workers
        self.chunks, self.threads, self.rebuild = chunks, threads, rebuild
        self._cm = None

    def __enter__(self) -> Pool:
        chunks, self.chunks = self.chunks, None
        client = self.client
        if client is None and (self.scheduler or self.n_workers > 1):
            self._cm = local_client(self.n_workers, self.scheduler)
            client = self._cm.__enter__()
        if client is not None:
            self.pool = DaskPool(client, chunks, self.threads, rebuild=self.rebuild)
        else:
            self.pool = LocalPool(chunks, self.threads)
        return self.pool

    def __exit__(self, *exc) -> None:
        try:
            self.pool.close()
        finally:
            if self._cm is not None:
                self._cm.__exit__(*exc)
