"""Where backtest tasks run: in this process, on a local process pool, or on a Dask cluster.

:func:`run_tasks` maps a module-level function over tasks and returns the results **in task order**,
whatever ran them, so a backtest's results do not depend on the executor or the number of workers. Tasks
travel in chunks (about four per worker) to keep the per-task overhead small. Dask is imported only here,
and only when asked for: a scheduler address connects to a running cluster (``dask scheduler`` / ``dask
worker``) with a short connect timeout; otherwise a ``LocalCluster`` is started on 127.0.0.1 only (worker
processes, no dashboard) and closed afterwards.

Example:
    >>> run_tasks([1, 2, 3], abs, executor="serial")
    [1, 2, 3]
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, Literal, TextIO, TypeVar

from scalinglaws.backtest.errors import BacktestError, SchedulerUnreachableError

__all__ = ["CONNECT_TIMEOUT", "WORKER_ENV", "Executor", "Progress", "run_tasks"]

T = TypeVar("T")
R = TypeVar("R")

Executor = Literal["serial", "processes", "dask"]

#: Seconds to wait for a Dask scheduler before giving up.
CONNECT_TIMEOUT = 5.0

#: Environment of local pool workers: one BLAS/OpenMP thread each, as Dask's nanny sets for its workers, so
#: that N workers use N cores instead of fighting over them with idle BLAS threads.
WORKER_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


class Progress:
    """A one-line progress bar on a stream (stderr by default); does nothing when disabled.

    Example:
        >>> import io
        >>> out = io.StringIO()
        >>> bar = Progress(4, enabled=True, stream=out)
        >>> bar.advance(4); bar.close()
        >>> out.getvalue().splitlines()[-1].strip()
        'backtest [########################################] 4/4 tasks'
    """

    def __init__(self, total: int, *, enabled: bool, stream: TextIO | None = None, width: int = 40) -> None:
        self.total, self.done, self.enabled, self.width = total, 0, enabled and total > 0, width
        self.stream = stream or sys.stderr

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.enabled:
            filled = self.width * self.done // self.total
            bar = "#" * filled + "." * (self.width - filled)
            self.stream.write(f"\rbacktest [{bar}] {self.done}/{self.total} tasks")
            self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def _chunks(items: Sequence[T], parts: int) -> list[list[T]]:
    """``items`` cut into ``parts`` contiguous chunks of near-equal size (none empty)."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for i in range(parts):
        stop = start + size + (i < extra)
        out.append(list(items[start:stop]))
        start = stop
    return out


def _run_chunk(fn: Callable[[T], R], chunk: list[T]) -> list[R]:
    return [fn(item) for item in chunk]


def run_tasks(
    tasks: Sequence[T],
    fn: Callable[[T], R],
    *,
    executor: Executor = "serial",
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
) -> list[R]:
    """``[fn(t) for t in tasks]``, run by ``executor`` with ``workers`` processes (default: all cores).

    ``fn`` and the tasks must pickle for ``processes`` and ``dask``; ``scheduler`` (``tcp://host:port``)
    selects a running Dask cluster, else ``dask`` starts a LocalCluster on 127.0.0.1.
    """
    bar = progress or Progress(len(tasks), enabled=False)
    if workers is not None and workers < 1:
        raise BacktestError(f"workers must be >= 1, got {workers}")
    if executor == "serial" or not tasks:
        out = []
        for task in tasks:
            out.append(fn(task))
            bar.advance()
        return out
    n_workers = workers or os.cpu_count() or 1
    chunks = _chunks(tasks, 4 * n_workers)
    if executor == "processes":
        return _run_pool(chunks, fn, n_workers, bar)
    if executor == "dask":
        return _run_dask(chunks, fn, n_workers, scheduler, bar)
    raise BacktestError(f"unknown executor {executor!r}; use serial, processes or dask")


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the processes started inside the block, then restore them."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _run_pool(chunks: list[list[T]], fn: Callable[[T], R], workers: int, bar: Progress) -> list[R]:
    results: list[list[R]] = [[] for _ in chunks]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context) as pool:
        with _environ(WORKER_ENV):  # the workers start (spawn) on these submissions
            futures = {pool.submit(_run_chunk, fn, chunk): i for i, chunk in enumerate(chunks)}
        try:
            for future in as_completed(futures):
                i = futures[future]
                results[i] = future.result()
                bar.advance(len(chunks[i]))
        except BrokenProcessPool:
            raise BacktestError(
                "a worker process died before finishing its tasks (out of memory, or a script without an "
                "`if __name__ == '__main__':` guard, which spawned workers run again)"
            ) from None
    return [r for chunk in results for r in chunk]


def _connect(scheduler: str) -> Any:
    from distributed import Client

    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        message = f"cannot reach the Dask scheduler at {scheduler} ({reason})"
        raise SchedulerUnreachableError(message) from None


def _run_dask(
    chunks: list[list[T]], fn: Callable[[T], R], workers: int, scheduler: str | None, bar: Progress
) -> list[R]:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError:
        raise BacktestError(
            "the Dask executor needs dask[distributed]: pip install 'scalinglaws[dask]'"
        ) from None
    cluster = None
    if scheduler:
        client = _connect(scheduler)
    else:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            worker_dashboard_address=None,
            # no dashboard; the scheduler's health endpoint on a free loopback port, not on 8787
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        )
        client = Client(cluster)
    try:
        futures = [client.submit(_run_chunk, fn, chunk, pure=False) for chunk in chunks]
        index = {future.key: i for i, future in enumerate(futures)}
        results: list[list[R]] = [[] for _ in chunks]
        for future in dask_completed(futures):
            i = index[future.key]
            results[i] = future.result()
            bar.advance(len(chunks[i]))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return [r for chunk in results for r in chunk]
