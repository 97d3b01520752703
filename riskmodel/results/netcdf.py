"""Writing results without loading Dask's distributed scheduler.

xarray asks Dask which scheduler is active on every ``to_netcdf`` (to pick a file lock), and
Dask answers by importing ``distributed`` to look for a client: about a quarter of a second,
the largest single import of a plain ``riskmodel run``, spent to learn that there is none.
While ``distributed`` has never been imported no client can exist in the process, so the
answer is known without the import. And while Dask itself has never been imported (a plain run
never needs it: :mod:`riskmodel.results.lazydask`), no Dask computation can be running and the
data written holds no Dask array, so xarray's process-local lock is the right one and even
Dask's configuration need not be read.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

__all__ = ["without_distributed"]


@contextlib.contextmanager
def without_distributed() -> Iterator[None]:
    """Within the block, xarray's netCDF writers skip the search for a Dask client.

    The scheduler xarray is told is the one it would find itself: Dask's threaded default, or
    none while Dask has not been imported (xarray then takes the same threading lock, and
    Dask's configuration is not read). Once ``distributed`` is loaded (a client may then exist),
    or when Dask is loaded and its configuration names a scheduler or a scheduler address, the
    block changes nothing and xarray asks Dask as usual.
    """
    from xarray.backends import locks, writers

    if "dask" in sys.modules:
        import dask

        configured = dask.config.get("scheduler", None) or dask.config.get("scheduler-address", None)
        if "distributed" in sys.modules or configured:
            yield
            return
    asked = locks.get_dask_scheduler

    def threaded(get: object = None, collection: object = None) -> str | None:
        if get is not None or collection is not None or "distributed" in sys.modules:
            return asked(get, collection)
        if "dask" not in sys.modules:
            # no Dask computation can be running: the lock xarray takes without Dask
            return None
        return "threaded"

    locks.get_dask_scheduler = writers.get_dask_scheduler = threaded
    try:
        yield
    finally:
        locks.get_dask_scheduler = writers.get_dask_scheduler = asked
