"""Where work units run: serially, in local processes, or on a Dask cluster.

A work unit is a picklable callable with its arguments; its random streams come from its own
arguments (parameter draw, replication), so results are identical whatever the executor and
however many workers. Results come back as they finish, tagged with the unit's index. Local
worker processes die with the command that started them, even when it is killed.
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
        for index, args in enumerate(units):
            yield index, func(*shared, *args)
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
        pending: dict[Future[T], int] = {}
        queue = iter(enumerate(units))
        limit = workers * MAX_PENDING_PER_WORKER
        for index, args in queue:
            pending[pool.submit(_call, func, args)] = index
            if len(pending) >= limit:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                yield index, future.result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending[pool.submit(_call, func, nxt[1])] = nxt[0]
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
        futures = {}
        for index, args in enumerate(units):
            futures[client.submit(func, *common, *args, pure=False)] = index
        for future in as_completed(futures):
            yield futures[future], future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
