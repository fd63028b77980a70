"""Where trials run: inline, joblib worker processes, or a Dask cluster.

All three look the same to the study: ``submit(fn, task)`` returns a
future, ``wait_first(futures, timeout)`` returns those done. Workers only
compute: they return the outcome (and, for successive halving, the fitted
model) to the driver, and the driver alone writes to the store. So a
cluster's workers need no access to the project file, and SQLite sees one
writer per driver process.
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Iterable
from typing import Any


class InlineExecutor:
    """Runs each trial in the calling process (``n_jobs=1``)."""

    slots = 1

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def submit(self, fn: Callable, task: dict[str, Any]) -> cf.Future:
        future: cf.Future = cf.Future()
        future.set_result(fn(task, self._data))  # run_trial never raises an Exception
        return future

    def wait_first(self, futures: Iterable[Any], timeout: float | None = None) -> set:
        return {f for f in futures if f.done()}

    def close(self) -> None:
        pass


class JoblibExecutor:
    """``n_jobs`` worker processes through joblib's reusable loky executor."""

    def __init__(self, data: dict[str, Any], n_jobs: int) -> None:
        from joblib import cpu_count
        from joblib.externals.loky import get_reusable_executor

        self.slots = cpu_count() if n_jobs == -1 else int(n_jobs)
        self._pool = get_reusable_executor(max_workers=self.slots, timeout=60)
        self._data = data

    def submit(self, fn: Callable, task: dict[str, Any]) -> cf.Future:
        return self._pool.submit(fn, task, self._data)

    def wait_first(self, futures: Iterable[Any], timeout: float | None = None) -> set:
        done, _ = cf.wait(list(futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        return set(done)

    def close(self) -> None:
        pass  # the loky executor is reused by the next study


class DaskExecutor:
    """Trials on a Dask cluster: the data are scattered once to every worker."""

    def __init__(self, data: dict[str, Any], client: Any, n_jobs: int | None = None) -> None:
        from distributed import wait

        self._client, self._wait = client, wait
        workers = client.scheduler_info().get("workers", {})
        threads = sum(w.get("nthreads", 1) for w in workers.values()) or 1
        self.slots = int(n_jobs) if n_jobs and n_jobs > 1 else threads
        # one future for the whole dict, with a key of its own (hash=False), so
        # a second study on the same client never shares (or cancels) it
        [self._data] = client.scatter([data], broadcast=True, hash=False)

    def submit(self, fn: Callable, task: dict[str, Any]) -> Any:
        return self._client.submit(fn, task, self._data, pure=False)

    def wait_first(self, futures: Iterable[Any], timeout: float | None = None) -> set:
        futures = list(futures)
        try:
            done, _ = self._wait(futures, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return set()
        return set(done)

    def close(self) -> None:
        try:
            self._client.cancel(self._data)
        except Exception:  # pragma: no cover - the cluster may be gone
            pass


def make_executor(data: dict[str, Any], n_jobs: int = 1, client: Any = None):
    """Inline for ``n_jobs=1``, joblib processes for ``n_jobs > 1`` (or -1),
    Dask when a ``distributed.Client`` is given."""
    if client is not None:
        return DaskExecutor(data, client, n_jobs)
    if n_jobs is None or n_jobs == 1:
        return InlineExecutor(data)
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"'n_jobs' must be >= 1 or -1 (all cores). Got {n_jobs!r}.")
    return JoblibExecutor(data, n_jobs)
