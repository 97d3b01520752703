"""xarray's check for Dask arrays, without importing Dask's array module to make it.

The first time xarray builds a variable it asks whether the data is a Dask array, and to know
the class it imports ``dask.array`` (with NumPy's FFT, Dask's graph machinery and Jinja2 for
its notebook widgets): a quarter of a second of a plain ``riskmodel run``, none of it used.
While ``dask.array`` has never been imported no Dask array can exist, so the answer is "no"
without the import. :func:`defer_dask_array_check` registers an entry in xarray's own cache of
duck-array modules that gives that answer, and becomes xarray's usual entry the moment
``dask.array`` is imported (or anything asks for Dask's module or version).

Likewise xarray imports Dask itself to ask ``dask.base.is_dask_collection`` about every index
it builds, whose first test is whether the object has a ``__dask_graph__`` method at all:
objects without one (NumPy arrays, pandas indexes) are answered here, and any other object is
still put to Dask.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TypeGuard

from xarray.namedarray import pycompat
from xarray.namedarray import utils as namedarray_utils

if TYPE_CHECKING:
    from dask.typing import DaskCollection

__all__ = ["defer_dask_array_check"]


class _DeferredDask(pycompat.DuckArrayModule):
    """xarray's ``DuckArrayModule("dask")``, made only when something needs more than ``type``."""

    def __init__(self) -> None:  # no import here: that is the point
        pass

    @staticmethod
    def _real() -> pycompat.DuckArrayModule:
        entry = pycompat.DuckArrayModule("dask")
        pycompat._cached_duck_array_modules["dask"] = entry
        return entry

    @property
    def type(self) -> tuple[type[Any], ...]:  # type: ignore[override]
        array = sys.modules.get("dask.array")
        if array is None:
            return ()
        if getattr(array, "Array", None) is None:  # dask.array is being imported right now
            return ()
        return self._real().type

    @property
    def module(self) -> Any:  # type: ignore[override]
        return self._real().module

    @property
    def version(self) -> Any:  # type: ignore[override]
        return self._real().version

    @property
    def available(self) -> bool:  # type: ignore[override]
        return self._real().available


_asks_dask = namedarray_utils.is_dask_collection


def _is_dask_collection(x: object) -> TypeGuard[DaskCollection]:
    # dask.base.is_dask_collection's own first test, without importing Dask for it
    if isinstance(x, type) or not callable(getattr(x, "__dask_graph__", None)):
        return False
    return _asks_dask(x)


def defer_dask_array_check() -> None:
    """Let xarray recognise Dask arrays and collections without importing Dask before one can exist.

    Idempotent; the duck-array entry is left alone once xarray has looked Dask up itself or
    ``dask.array`` is loaded.
    """
    cache = pycompat._cached_duck_array_modules
    if "dask" not in cache and "dask.array" not in sys.modules:
        cache["dask"] = _DeferredDask()
    if namedarray_utils.is_dask_collection is _asks_dask:
        namedarray_utils.is_dask_collection = _is_dask_collection
