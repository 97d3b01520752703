"""Per-deal statistics over epistemic draws from per-draw success counts, in one compiled pass.

A map of a million deals reduces, per deal and side, the number of replicates that ratified in
each draw: the mean over draws, its MCSE (independent draws: ``sd / sqrt(D)``) and the quantiles
of the per-draw probability. NumPy's ``std`` and ``quantile`` over ``(deal, D)`` blocks cost
more than the sweep that produced the counts, so they are computed here with NumPy's own
arithmetic, operation for operation: the pairwise summation of ``numpy.add.reduce`` on a
contiguous row, and the linear interpolation of ``numpy.quantile`` between order statistics
(found from a histogram of the counts, which take only ``R + 1`` values). The results are the
same floating-point numbers as :func:`riskmodel.results.mcse.mcse` and ``numpy.quantile`` give;
the tests check them bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["draw_statistics", "quantile_plan"]

# numpy's PW_BLOCKSIZE: rows up to this length are summed with 8 accumulators
_BLOCK = 128


@numba.njit(cache=True)
def _block_sum(a: npt.NDArray[np.float64], lo: int, n: int) -> float:  # pragma: no cover - compiled
    # numpy/_core/src/umath/loops_utils.h.src, DOUBLE_pairwise_sum for n <= PW_BLOCKSIZE
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@numba.njit(cache=True)
def _pairwise_sum(
    a: npt.NDArray[np.float64], n: int, frames: npt.NDArray[np.int64], partial: npt.NDArray[np.float64]
) -> float:  # pragma: no cover - compiled
    """NumPy's pairwise sum of ``a[:n]``: halves (rounded to 8) until blocks of 128, left + right.

    The recursion runs on explicit stacks (``frames`` (64, 3), ``partial`` (64,)): numba's
    parallel loops do not take recursive calls reliably.
    """
    if n <= _BLOCK:
        return _block_sum(a, 0, n)
    top = 1
    frames[0, 0], frames[0, 1], frames[0, 2] = 0, n, 0
    held = 0
    while top > 0:
        lo, size, stage = frames[top - 1, 0], frames[top - 1, 1], frames[top - 1, 2]
        if size <= _BLOCK:
            partial[held] = _block_sum(a, lo, size)
            held += 1
            top -= 1
            continue
        half = size // 2
        half -= half % 8
        if stage == 0:
            frames[top - 1, 2] = 1
            frames[top, 0], frames[top, 1], frames[top, 2] = lo, half, 0
            top += 1
        elif stage == 1:
            frames[top - 1, 2] = 2
            frames[top, 0], frames[top, 1], frames[top, 2] = lo + half, size - half, 0
            top += 1
        else:
            partial[held - 2] = partial[held - 2] + partial[held - 1]
            held -= 1
            top -= 1
    return partial[0]


@numba.njit(cache=True)
def _sum(
    a: npt.NDArray[np.float64],
    n: int,
    pairwise: bool,
    frames: npt.NDArray[np.int64],
    partial: npt.NDArray[np.float64],
) -> float:  # pragma: no cover - compiled
    if pairwise:
        return 0.0 + _pairwise_sum(a, n, frames, partial)
    res = 0.0
    for i in range(n):
        res += a[i]
    return res


@numba.njit(parallel=True, cache=True)
def _statistics_kernel(
    per_draw: npt.NDArray[np.int32],
    n_replicates: int,
    want_mcse: bool,
    pairwise: bool,
    q_prev: npt.NDArray[np.int64],
    q_next: npt.NDArray[np.int64],
    q_gamma: npt.NDArray[np.float64],
    total: npt.NDArray[np.int64],
    error: npt.NDArray[np.float64],
    quantile: npt.NDArray[np.float64],
) -> None:  # pragma: no cover - compiled
    n_rows, n_draws, n_deals = per_draw.shape
    n_jobs = n_rows * n_deals
    n_blocks = min(n_jobs, 64)
    for block in numba.prange(n_blocks):
        values = np.empty(n_draws)
        hist = np.zeros(n_replicates + 1, dtype=np.int64)
        frames = np.zeros((64, 3), dtype=np.int64)
        partial = np.zeros(64)
        for job in range(block * n_jobs // n_blocks, (block + 1) * n_jobs // n_blocks):
            _one_deal(
                per_draw,
                job // n_deals,
                job % n_deals,
                n_replicates,
                want_mcse,
                pairwise,
                q_prev,
                q_next,
                q_gamma,
                total,
                error,
                quantile,
                values,
                hist,
                frames,
                partial,
            )


@numba.njit(cache=True)
def _one_deal(
    per_draw: npt.NDArray[np.int32],
    k: int,
    n: int,
    n_replicates: int,
    want_mcse: bool,
    pairwise: bool,
    q_prev: npt.NDArray[np.int64],
    q_next: npt.NDArray[np.int64],
    q_gamma: npt.NDArray[np.float64],
    total: npt.NDArray[np.int64],
    error: npt.NDArray[np.float64],
    quantile: npt.NDArray[np.float64],
    values: npt.NDArray[np.float64],
    hist: npt.NDArray[np.int64],
    frames: npt.NDArray[np.int64],
    partial: npt.NDArray[np.float64],
) -> None:  # pragma: no cover - compiled
    n_draws = per_draw.shape[1]
    n_q = q_prev.shape[0]
    scale = float(n_replicates)
    hist[:] = 0
    whole = 0
    for d in range(n_draws):
        count = per_draw[k, d, n]
        whole += count
        hist[count] += 1
        values[d] = count / scale
    total[k, n] = whole
    if want_mcse:
        # ndarray.std(ddof=1): the mean, the squared deviations, their sum over D - 1
        mean = _sum(values, n_draws, pairwise, frames, partial) / n_draws
        for d in range(n_draws):
            dev = values[d] - mean
            values[d] = dev * dev
        var = _sum(values, n_draws, pairwise, frames, partial) / (n_draws - 1)
        error[k, n] = np.sqrt(var) / np.sqrt(float(n_draws))
    for q in range(n_q):
        # order statistics q_prev and q_next of the counts, from their histogram
        below = 0
        low = -1
        high = -1
        for value in range(n_replicates + 1):
            below += hist[value]
            if low < 0 and below > q_prev[q]:
                low = value
            if high < 0 and below > q_next[q]:
                high = value
                break
        a = low / scale
        b = high / scale
        t = q_gamma[q]
        diff = b - a
        # numpy's _lerp: from the nearer end
        quantile[q, k, n] = b - diff * (1.0 - t) if t >= 0.5 else a + diff * t


def quantile_plan(
    n_draws: int, quantiles: Sequence[float]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Order statistics and weights of ``numpy.quantile(method="linear")`` over ``n_draws`` values.

    Returns ``(previous, next, gamma)`` as NumPy computes them (``_get_indexes``, ``_get_gamma``),
    with indexes past either end resolved to the first or last value.
    """
    q = np.asanyarray(quantiles, dtype=np.float64)
    virtual = (n_draws - 1) * q
    previous = np.floor(virtual)
    following = previous + 1
    above = virtual >= n_draws - 1
    previous[above] = -1
    following[above] = -1
    below = virtual < 0
    previous[below] = 0
    following[below] = 0
    gamma = np.asanyarray(virtual - previous.astype(np.intp), dtype=virtual.dtype)
    resolve = np.where(previous.astype(np.int64) < 0, n_draws - 1, previous).astype(np.int64)
    resolve_next = np.where(following.astype(np.int64) < 0, n_draws - 1, following).astype(np.int64)
    return resolve, np.minimum(resolve_next, n_draws - 1), np.ascontiguousarray(gamma)


def draw_statistics(
    per_draw: npt.NDArray[np.integer[Any]],
    n_replicates: int,
    *,
    mcse: bool,
    pairwise: bool = True,
    quantiles: Sequence[float] = (),
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Totals, MCSE and quantiles of per-draw success counts.

    Parameters
    ----------
    per_draw
        ``(K, D, N)`` successes among ``n_replicates`` replicates per draw, for K outcomes and N deals.
    n_replicates
        Replicates per draw: the per-draw probability is ``per_draw / n_replicates``.
    mcse
        Compute the MCSE of independent draws (``sd / sqrt(D)``, ``ddof=1``; at least 4 draws),
        as :func:`riskmodel.results.mcse.mcse` with ``chains=None``; zeros otherwise.
    pairwise
        How NumPy sums over draws in the reduction being reproduced: pairwise when the draws are
        the contiguous last axis of the block ``mcse`` reduces (one outcome per deal), in order
        when each draw's block holds several outcomes (``mcse`` of ``(K, D, N)`` along axis 1
        with K > 1 reduces ``(N, D, K)`` rows over their middle axis).
    quantiles
        Probabilities of the per-draw probability's quantiles (``numpy.quantile``, linear).

    Returns
    -------
    tuple of numpy.ndarray
        ``(K, N)`` total successes over draws, ``(K, N)`` MCSE, ``(Q, K, N)`` quantiles.
    """
    counts = np.ascontiguousarray(per_draw, dtype=np.int32)
    n_outcomes, n_draws, n_deals = counts.shape
    if counts.size and (counts.min() < 0 or counts.max() > n_replicates):
        raise ValueError(f"per-draw counts must lie in 0..{n_replicates}")
    q_prev, q_next, q_gamma = quantile_plan(n_draws, quantiles)
    total = np.zeros((n_outcomes, n_deals), dtype=np.int64)
    error = np.zeros((n_outcomes, n_deals))
    quantile = np.zeros((len(quantiles), n_outcomes, n_deals))
    _statistics_kernel(counts, n_replicates, mcse, pairwise, q_prev, q_next, q_gamma, total, error, quantile)
    return total, error, quantile
