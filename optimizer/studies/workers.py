"""The worker machinery the studies share: a Dask client (a local cluster or an existing
scheduler) for batches, and a process pool for sweeps spread over worker processes.

HiGHS fixes its thread count once per process, so the workers run one HiGHS thread each.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from optimizer.studies.batch_file import BatchRunError
from optimizer.studies.progress import Progress


def _worker_address() -> str | None:
    try:
        from distributed import get_worker

        return get_worker().address
    except Exception:  # noqa: BLE001 - not in a Dask worker
        return None


@contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask's own log messages off (the batch reports lost workers itself), then back."""
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def dask_client(
    workers: int | None = None,
    scheduler: str | None = None,
    allowed_failures: int = 0,
    wait_for_workers: float = 60.0,
    preload: Sequence[str] = (),
    connect_timeout: float = 20.0,
) -> Iterator[Any]:
    """A Dask client: on a new local cluster of ``workers`` processes (one thread each, all on
    127.0.0.1, no dashboard), or on the existing scheduler at ``scheduler``.

    ``allowed_failures``: how many times a run whose worker died is tried again on the local
    cluster before it is recorded as ``worker_lost`` (a remote scheduler keeps its own
    setting). ``preload``: modules each local worker imports as it starts (the solver's
    imports take seconds: better while the cluster starts than in the first run)."""
    from distributed import Client

    from optimizer.solve.cluster import start_local_cluster

    if scheduler:
        probe_scheduler(scheduler, connect_timeout)
        try:
            client = Client(scheduler, timeout=f"{connect_timeout}s", set_as_default=False)
        except Exception as exc:  # noqa: BLE001 - any failure to connect is the user's to fix
            raise BatchRunError(
                f"cannot connect to the Dask scheduler at {scheduler}: {type(exc).__name__}: {exc}"
            ) from None
        try:
            try:
                client.wait_for_workers(1, timeout=wait_for_workers)
            except (TimeoutError, OSError):
                raise BatchRunError(
                    f"no Dask worker joined the scheduler at {scheduler} within "
                    f"{wait_for_workers:g} s"
                ) from None
            yield client
        finally:
            client.close()
        return
    n = max(1, int(workers or os.cpu_count() or 1))
    try:
        cluster = start_local_cluster(
            n,
            silence_logs=logging.CRITICAL,
            scheduler_kwargs={"allowed_failures": allowed_failures},
            preload=list(preload),
        )
    except Exception as exc:  # noqa: BLE001 - e.g. worker processes that cannot start
        raise BatchRunError(
            f"could not start a local Dask cluster of {n} worker process(es): "
            f"{type(exc).__name__}: {exc} (a script that runs a batch must guard its main code "
            "with `if __name__ == '__main__':`, as worker processes import it)"
        ) from None
    try:
        client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


#: The largest first message a Dask scheduler sends (its handshake: a few hundred bytes).
_HANDSHAKE_MAX_BYTES = 1 << 20


def probe_scheduler(address: str, timeout: float = 20.0) -> None:
    """Check, within ``timeout`` seconds, that ``address`` (``tcp://HOST:PORT``) is a Dask
    scheduler before Dask's client talks to it: a Dask scheduler sends its handshake as soon as
    a connection opens, starting with the message's length as 8 bytes. Raises
    :class:`BatchRunError` with one plain message for each way it is not: an address that is
    not ``tcp://HOST:PORT`` (``tls://`` needs certificates this command does not take), nothing
    listening, a listener that stays silent, one that answers bytes Dask would not send (which
    made Dask's client try to allocate exabytes)."""
    import socket
    import struct
    from urllib.parse import urlsplit

    scheme, _, rest = address.partition("://")
    if scheme == "tls":
        raise BatchRunError(
            f"{address}: a tls:// scheduler needs the cluster's certificates, which `stockpile "
            "batch` does not take; reach it through tcp:// (for example over an SSH tunnel)"
        )
    try:
        parts = urlsplit(f"//{rest}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if scheme != "tcp" or not host or port is None:
        raise BatchRunError(
            f"{address} is not a Dask scheduler address: give tcp://HOST:PORT, e.g. "
            "tcp://10.0.0.5:8786"
        )
    deadline = time.monotonic() + timeout
    while True:  # a scheduler still starting refuses connections: try again until the deadline
        try:
            sock = socket.create_connection(
                (host, port), timeout=max(0.1, deadline - time.monotonic())
            )
            break
        except TimeoutError:
            raise BatchRunError(
                f"cannot reach the Dask scheduler at {address}: no answer to the connection "
                f"within {timeout:g} s (a firewall, or the wrong host)"
            ) from None
        except OSError as exc:
            if time.monotonic() + 0.2 < deadline and isinstance(exc, ConnectionRefusedError):
                time.sleep(0.2)
                continue
            raise BatchRunError(
                f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc} (is the "
                "scheduler running, and is the port right?)"
            ) from None
    with sock:
        sock.settimeout(timeout)
        head = b""
        try:
            while len(head) < 8:
                chunk = sock.recv(8 - len(head))
                if not chunk:
                    break
                head += chunk
        except TimeoutError:
            raise BatchRunError(
                f"something listens at {address} but says nothing within {timeout:g} s: it is "
                "not a Dask scheduler (give the scheduler's own port, usually 8786; "
                "--connect-timeout sets the wait)"
            ) from None
        except OSError as exc:
            raise BatchRunError(
                f"the connection to {address} failed: {exc.strerror or exc}"
            ) from None
    if len(head) < 8:
        raise BatchRunError(
            f"something at {address} closed the connection without a word: it is not a Dask "
            "scheduler (give the scheduler's own port, usually 8786)"
        )
    (length,) = struct.unpack("Q", head)  # native order, as Dask writes it
    if not 0 < length <= _HANDSHAKE_MAX_BYTES:
        raise BatchRunError(
            f"something at {address} answers, but not as a Dask scheduler (another service on "
            "that port?); give the scheduler's own address, usually tcp://HOST:8786"
        )


def _slots(client) -> int:
    """Threads of the cluster's workers (at least 1)."""
    try:
        return max(1, sum(client.nthreads().values()))
    except Exception:  # noqa: BLE001
        return 1


def _n_workers(client) -> int:
    try:
        return len(client.scheduler_info(n_workers=-1)["workers"])
    except TypeError:  # older distributed: no n_workers argument
        return len(client.scheduler_info()["workers"])
    except Exception:  # noqa: BLE001
        return 0


def _pool(workers: int, initializer=None, initargs=()):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, not fork: a forked child would inherit HiGHS's thread pool in an unknown state
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=initializer,
        initargs=initargs,
    )


def _collect(futures, total: int, progress: Progress | None) -> list:
    from concurrent.futures import as_completed

    out = []
    for n, fut in enumerate(as_completed(futures), start=1):
        out.append(fut.result())
        if progress:
            progress(n, total)
    return out
