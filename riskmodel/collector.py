"""Garbage-collector settings for one-shot work: fewer walks over a heap that only grows.

A ``riskmodel run`` imports PyMC, PyTensor, numba, SciPy and xarray (about a million objects)
and frees almost nothing before it exits. CPython's collector still walks the whole heap each
time it has grown by a quarter (five full collections during those imports, a quarter of a
second on a quiet machine), and every atomic write ends with an explicit ``gc.collect()``
(:func:`riskmodel.io.write_atomic`) that walks it again. Both are wasted on objects that
cannot be garbage. Neither manager below stops a collection; each only narrows what it walks,
and both put the collector back as they found it.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["FULL_COLLECTION_EVERY", "collecting_new_objects", "fewer_full_collections"]

_nesting = 0
"""Blocks of :func:`collecting_new_objects` now open (the permanent generation is not ours to
count: CPython itself leaves a few hundred objects there at start-up)."""

FULL_COLLECTION_EVERY = 1000
"""Young-generation collections between full ones (CPython's default is 10), as mypy does."""


@contextlib.contextmanager
def fewer_full_collections() -> Iterator[None]:
    """Within the block, full collections are rare: the young generations are collected as usual.

    Cyclic garbage is still found (young cycles at once, old ones at the next full
    collection); what changes is that the long-lived heap a command's imports build is not
    walked again and again while it grows.
    """
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, max(full, FULL_COLLECTION_EVERY))
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)


@contextlib.contextmanager
def collecting_new_objects() -> Iterator[None]:
    """Within the block, garbage collection looks only at objects created inside it.

    Objects alive at entry are moved to the collector's permanent generation (``gc.freeze``)
    and handed back at exit (``gc.unfreeze``), so nothing is kept longer than the block: a
    writer's file objects, created inside it, are collected as before; the rest of the heap is
    not walked again. Blocks nest: an inner block freezes what the outer one has created
    since, and the outermost block hands everything back.
    """
    global _nesting
    _nesting += 1
    gc.freeze()
    try:
        yield
    finally:
        _nesting -= 1
        if _nesting == 0:
            gc.unfreeze()
