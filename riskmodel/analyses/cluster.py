"""Dask clients for the analyses that run units of work on a cluster (stress tests, win-set maps)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from riskmodel.errors import RiskmodelError
from riskmodel.worlds.arrays import Worlds

__all__ = ["dask_client"]


def _warm_worker() -> bool:
    """Import the engine and load its compiled kernel, so the first unit does not pay for it."""
    from riskmodel.engine import count_yes

    one = np.ones((1, 1, 1), dtype=np.int64)
    tiny = Worlds(
        member_coef=np.zeros((1, 1, 3)),
        member_shock=np.zeros((1, 1, 1), dtype=np.float32),
        member_chamber=np.zeros(1, dtype=np.int64),
        present=one,
        seats=np.ones(1, dtype=np.int64),
        link_pairs=np.zeros((0, 2), dtype=np.int64),
        referendum_chambers=np.zeros(0, dtype=np.int64),
        referendum_coef=np.zeros((1, 0, 3)),
        referendum_var=np.zeros((1, 0, 1, 1)),
        referendum_reversion=np.zeros((0, 1)),
        referendum_noise=np.zeros((1, 0)),
        referendum_campaign=np.zeros((1, 1, 0)),
        referendum_turnout_ok=np.zeros((1, 0), dtype=bool),
    )
    count_yes(tiny, np.zeros((1, 3)))
    return True


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, *, n_workers: int | None = None) -> Iterator[Any]:
    """A Dask client: a user's cluster at ``scheduler``, else a local cluster of processes.

    The local cluster runs one task at a time per worker process, and the engine's kernel in
    each process uses its share of the cores.
    Workers are warmed up (imports, compiled kernel) before the client is handed out.
    """
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except OSError as exc:
            raise RiskmodelError(f"cannot reach the Dask scheduler at {scheduler} ({exc})") from None
        with client:
            client.run(_warm_worker)
            yield client
        return
    # Workers that ran the (numba-threaded) engine can take a few seconds to exit; the nanny
    # then kills them and warns, which is noise for a cluster we own and discard.
    # The engine's kernel is multithreaded: share the cores between the worker processes.
    threads = max(1, (os.cpu_count() or 1) // n_workers) if n_workers else 1
    nanny_log = logging.getLogger("distributed.nanny")
    level = nanny_log.level
    nanny_log.setLevel(logging.ERROR)
    try:
        with (
            LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env={"NUMBA_NUM_THREADS": str(threads)},
            ) as cluster,
            Client(cluster) as client,
        ):
            client.run(_warm_worker)
            yield client
    finally:
        nanny_log.setLevel(level)
