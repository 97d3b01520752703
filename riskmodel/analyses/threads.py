"""How many threads the engine's kernels use while an analysis evaluates many small units.

Sensitivity analyses and stress tests call the engine hundreds of times, each time on the same
worlds' worth of work (a few milliseconds for a scenario of thousands of worlds), with NumPy
work in between. Starting the kernels' threads for each call costs more than it saves there,
and on a busy machine much more: a worker thread that has to wait for a core delays every call,
and threads spinning between calls take the core the NumPy work needs. Small units therefore
run on one thread; large ones keep every thread. The thread count never changes a number (the
kernels' results do not depend on it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numba

__all__ = ["SERIAL_WORK", "kernel_threads"]

SERIAL_WORK = 50_000_000
"""Member votes (worlds × members × deals) per engine call below which one thread is used.

About 20 ms of kernel time on one core of the reference machine, so a second thread could
save at most some 10 ms per call.
"""


@contextlib.contextmanager
def kernel_threads(work: int) -> Iterator[int]:
    """Within the block, the engine's kernels use one thread if ``work`` is below :data:`SERIAL_WORK`.

    Parameters
    ----------
    work
        Member votes one engine call of the analysis evaluates (worlds × members × deals).

    Yields
    ------
    int
        The number of threads the kernels use inside the block.
    """
    before = numba.get_num_threads()
    threads = 1 if work < SERIAL_WORK else before
    numba.set_num_threads(threads)
    try:
        yield threads
    finally:
        numba.set_num_threads(before)
