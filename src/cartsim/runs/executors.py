"""Where work units run: serially, in local processes, or on a Dask cluster.

A work unit is a picklable callable with its arguments; its random streams come from its own
arguments (parameter draw, replication), so results are identical whatever the executor and
however many workers. Results come back as they finish, tagged with the unit's index. Local
worker processes die with the command that started them, even when it is killed.

Units travel in batches of consecutive units (one task, one message each way), so the cost of a
task is paid once per batch rather than once per unit (a unit function with a ``many`` method
runs a whole batch in one call, serially too); at most ``MAX_PENDING_PER_WORKER`` batches per
worker are in flight with either executor, so memory stays flat however many units there are.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, TypeVar

from cartsim.inputs.errors import CartsimError

T = TypeVar("T")
MAX_PENDING_PER_WORKER = 4
MAX_BATCH = 16  # units per task at most


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


_SHARED: tuple[Any, ...] = ()
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux); exit if it has already."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(1)


def _share(shared: tuple[Any, ...], parent: int) -> None:
    """Worker initialiser: die with the parent, leave Ctrl-C to it, keep the shared arguments."""
    global _SHARED
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _SHARED = shared


def _call(func: Callable[..., T], args: tuple[Any, ...]) -> T:
    return func(*_SHARED, *args)


def _call_batch(func: Callable[..., T], batch: Sequence[tuple[Any, ...]]) -> list[T]:
    return list(_each(func, batch, _SHARED))


def _call_batch_with(
    func: Callable[..., T], batch: Sequence[tuple[Any, ...]], *shared: Any
) -> list[T]:
    return list(_each(func, batch, shared))


def _each(
    func: Callable[..., T], batch: Sequence[tuple[Any, ...]], shared: tuple[Any, ...]
) -> Iterator[T]:
    """``func(*shared, *unit)`` of every unit of ``batch``, in order, as each is done: from one
    call of ``func.many(*shared, batch)`` where ``func`` has one (units that do some of their
    work together, giving the results each gives alone), else unit by unit."""
    many = getattr(func, "many", None)
    if many is not None:
        yield from many(*shared, batch)
    else:
        for args in batch:
            yield func(*shared, *args)


def batch_size(units: int, workers: int) -> int:
    """Units per task: a few tasks per worker's share of the window, at most ``MAX_BATCH``."""
    per_worker = units // max(1, workers * MAX_PENDING_PER_WORKER * 2)
    return max(1, min(MAX_BATCH, per_worker))


def _batches(
    units: Sequence[tuple[Any, ...]], size: int
) -> Iterator[tuple[int, Sequence[tuple[Any, ...]]]]:
    for start in range(0, len(units), size):
        yield start, units[start : start + size]


def run_units(
    func: Callable[..., T],
    units: Sequence[tuple[Any, ...]],
    workers: int = 1,
    scheduler: str | None = None,
    shared: tuple[Any, ...] = (),
) -> Iterator[tuple[int, T]]:
    """Yield ``(index, func(*shared, *units[index]))`` for every unit, in completion order.

    ``shared`` arguments (a scenario, say) go to each worker once rather than with every unit.
    ``scheduler``: None runs locally (serially when ``workers`` is 1, else in that many
    processes); ``"local"`` starts a Dask LocalCluster; any other value is the address of an
    existing Dask scheduler (``tcp://host:8786``).
    """
    if scheduler is not None:
        yield from _dask(func, units, workers, scheduler, shared)
    elif workers <= 1 or len(units) <= 1:
        size = MAX_BATCH if hasattr(func, "many") else 1  # a unit at a time, unless batched
        for start, batch in _batches(units, size):
            for offset, result in enumerate(_each(func, batch, shared)):  # each as it is done
                yield start + offset, result
    else:
        yield from _processes(func, units, workers, shared)


def _processes(
    func: Callable[..., T], units: Sequence[tuple[Any, ...]], workers: int, shared: tuple[Any, ...]
) -> Iterator[tuple[int, T]]:
    """A bounded number of units in flight, so memory stays flat however many units there are."""
    pool = ProcessPoolExecutor(
        max_workers=workers, initializer=_share, initargs=(shared, os.getpid())
    )
    try:
        pending: dict[Future[list[T]], int] = {}
        queue = _batches(units, batch_size(len(units), workers))
        limit = workers * MAX_PENDING_PER_WORKER
        for start, batch in queue:
            pending[pool.submit(_call_batch, func, batch)] = start
            if len(pending) >= limit:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                start = pending.pop(future)
                for offset, result in enumerate(future.result()):
                    yield start + offset, result
                nxt = next(queue, None)
                if nxt is not None:
                    pending[pool.submit(_call_batch, func, nxt[1])] = nxt[0]
    except BaseException:  # Ctrl-C or a failed unit: stop the units in flight, do not wait
        workers_left = list((pool._processes or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in workers_left:
            process.terminate()
        raise
    pool.shutdown()


def _dask(
    func: Callable[..., T],
    units: Sequence[tuple[Any, ...]],
    workers: int,
    scheduler: str,
    shared: tuple[Any, ...],
) -> Iterator[tuple[int, T]]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise CartsimError(
            "needs the 'distributed' package: pip install 'cartsim[dask]'", field="--scheduler"
        ) from None
    cluster = None
    try:
        if scheduler == "local":
            import dask

            # background work a local cluster does not need, however little work there is: the
            # workers' statistical profiler (every 10 ms), the event-loop lag tick (20 ms), the
            # system and memory monitors, and stealing work (units come in a bounded window)
            settings: dict[str, Any] = {
                "distributed.worker.profile.enabled": False,
                "distributed.admin.tick.interval": "1s",
                "distributed.admin.system-monitor.interval": "5s",
                "distributed.worker.memory.monitor-interval": "1s",
                "distributed.scheduler.work-stealing": False,
            }
            if sys.platform.startswith("linux"):
                # forked workers start with this process's imports; spawned ones import it all
                settings["distributed.worker.multiprocessing-method"] = "fork"
            with dask.config.set(settings):
                cluster = LocalCluster(
                    n_workers=max(1, workers),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
            client = Client(cluster)
        else:
            client = Client(scheduler, timeout="10s")
    except OSError as exc:
        raise CartsimError(f"cannot reach the Dask scheduler: {exc}", field="--scheduler") from None
    try:
        common = [client.scatter(value, broadcast=True) for value in shared]
        size = max(1, workers) if scheduler == "local" else len(client.scheduler_info()["workers"])
        queue = _batches(units, batch_size(len(units), size))
        starts: dict[Any, int] = {}
        window = as_completed()

        def submit() -> bool:
            item = next(queue, None)
            if item is None:
                return False
            future = client.submit(_call_batch_with, func, item[1], *common, pure=False)
            starts[future] = item[0]
            window.add(future)
            return True

        for _ in range(max(1, size) * MAX_PENDING_PER_WORKER):
            if not submit():
                break
        for future in window:
            start = starts.pop(future)
            results = future.result()
            future.release()
            for offset, result in enumerate(results):
                yield start + offset, result
            submit()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
