"""Variance-based (Sobol) indices of groups of inputs by recombining a sample (pick-freeze).

Given ``N`` independent draws ``A`` of the inputs and outputs ``Y_A = f(A)``, a derangement
``π`` of the draws gives a second independent sample ``B = A[π]`` whose outputs are already
known (``Y_B = Y_A[π]``). For a group ``g`` of inputs, ``C_g`` takes the group from ``B`` and
everything else from ``A``; only ``Y_C = f(C_g)`` needs evaluating. Then

- first order (Saltelli et al. 2010): ``Y_B`` and ``Y_C`` share only the group and ``Y_A`` and
  ``Y_C`` everything else, so ``S_g = E[Y_B (Y_C - Y_A)] / Var(Y)``;
- total (Jansen 1999): ``Y_A`` and ``Y_C`` share everything but the group, so
  ``S_Tg = E[(Y_A - Y_C)²] / (2 Var(Y))``.

No new draws from the prior are needed — the existing draws are recombined — and any group
of any size works, unlike binning or nearest-neighbour estimators. A group that cannot change
the output gives ``Y_C = Y_A`` and so indices of exactly zero. The estimators assume the
groups are independent of each other (true of prior draws; posterior draws give the indices
of the product of their marginals). Standard errors come from a bootstrap over draws.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numba
import numpy as np
import numpy.typing as npt

from riskmodel.randomness import SeedLike, as_seed_sequence

__all__ = [
    "ISHIGAMI_FIRST_ORDER",
    "ISHIGAMI_TOTAL",
    "derangement",
    "ishigami",
    "pick_freeze_indices",
    "pick_freeze_standard_errors",
    "sobol_by_recombination",
]

FloatArray = npt.NDArray[np.float64]

_ISHIGAMI_A, _ISHIGAMI_B = 7.0, 0.1
_V1 = 0.5 * (1 + _ISHIGAMI_B * np.pi**4 / 5) ** 2
_V2 = _ISHIGAMI_A**2 / 8
_V13 = _ISHIGAMI_B**2 * np.pi**8 * (1 / 18 - 1 / 50)
_V = _V1 + _V2 + _V13
ISHIGAMI_FIRST_ORDER = (_V1 / _V, _V2 / _V, 0.0)
"""Analytic first-order indices of the Ishigami function (a=7, b=0.1): 0.314, 0.442, 0."""
ISHIGAMI_TOTAL = ((_V1 + _V13) / _V, _V2 / _V, _V13 / _V)
"""Analytic total indices of the Ishigami function (a=7, b=0.1): 0.558, 0.442, 0.244."""


def ishigami(x: npt.ArrayLike, a: float = _ISHIGAMI_A, b: float = _ISHIGAMI_B) -> FloatArray:
    """The Ishigami function of inputs ``(N, 3)`` uniform on [-π, π]."""
    x = np.asarray(x, dtype=np.float64)
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def derangement(n: int, seed: SeedLike = None) -> npt.NDArray[np.int64]:
    """A random permutation of ``range(n)`` with no fixed point (n ≥ 2): one random cycle."""
    if n < 2:
        raise ValueError("a derangement needs at least two items")
    order = np.random.default_rng(as_seed_sequence(seed)).permutation(n)
    permutation = np.empty(n, dtype=np.int64)
    permutation[order] = np.roll(order, -1)
    return permutation


def pick_freeze_indices(
    y_a: npt.ArrayLike, y_b: npt.ArrayLike, y_c: npt.ArrayLike, *, axis: int = 0
) -> tuple[FloatArray, FloatArray]:
    """First-order and total indices from the three pick-freeze outputs.

    Parameters
    ----------
    y_a
        Outputs at the draws ``A``.
    y_b
        Outputs at the independent draws ``B``.
    y_c
        Outputs at ``C``: the group from ``B``, the rest from ``A``.
    axis
        The draw axis; other axes are independent outputs (deals, sides ...).

    Returns
    -------
    tuple of numpy.ndarray
        ``(first, total)``; NaN where the output does not vary.
    """
    a, b, c = (np.moveaxis(np.asarray(y, dtype=np.float64), axis, 0) for y in (y_a, y_b, y_c))
    variance = a.var(axis=0)
    first_num = (b * (c - a)).mean(axis=0)
    total_num = ((a - c) ** 2).mean(axis=0) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        first = np.where(variance > 0, first_num / variance, np.nan)
        total = np.where(variance > 0, total_num / variance, np.nan)
    return first, total


def pick_freeze_standard_errors(
    y_a: npt.ArrayLike,
    y_b: npt.ArrayLike,
    y_c: npt.ArrayLike,
    *,
    axis: int = 0,
    n_bootstrap: int = 200,
    seed: SeedLike = None,
) -> tuple[FloatArray, FloatArray]:
    """Bootstrap standard errors of :func:`pick_freeze_indices` (draws resampled jointly).

    Resamples in which the output does not vary give no index; when more than 5% of them do
    not, the variance rests on a handful of draws and the standard error is NaN (unknown).
    """
    a, b, c = (np.moveaxis(np.asarray(y, dtype=np.float64), axis, 0) for y in (y_a, y_b, y_c))
    rng = np.random.default_rng(as_seed_sequence(seed))
    n = a.shape[0]
    per_block = max(1, 2_000_000 // max(a.size, 1))  # resamples drawn per call of the generator
    flat_a, flat_b, flat_c = (np.ascontiguousarray(y.reshape(n, -1)) for y in (a, b, c))
    firsts, totals = [], []
    for start in range(0, n_bootstrap, per_block):
        picks = rng.integers(0, n, (n, min(per_block, n_bootstrap - start)))  # one resample per column
        first, total = _resampled_indices(flat_a, flat_b, flat_c, np.ascontiguousarray(picks.T))
        firsts.append(first.reshape(-1, *a.shape[1:]))
        totals.append(total.reshape(-1, *a.shape[1:]))
    first_all, total_all = np.concatenate(firsts), np.concatenate(totals)
    degenerate = np.mean(np.isnan(total_all), axis=0) > 0.05
    with warnings.catch_warnings():  # all-NaN slices: no resample varies
        warnings.simplefilter("ignore", RuntimeWarning)
        first_se = np.nanstd(first_all, axis=0, ddof=1)
        total_se = np.nanstd(total_all, axis=0, ddof=1)
    return np.where(degenerate, np.nan, first_se), np.where(degenerate, np.nan, total_se)


@numba.njit(cache=True)
def _resampled_indices(
    a: FloatArray, b: FloatArray, c: FloatArray, picks: npt.NDArray[np.int64]
) -> tuple[FloatArray, FloatArray]:  # pragma: no cover - compiled
    # pick_freeze_indices of each resample (a[picks[j]], b[picks[j]], c[picks[j]]) without
    # gathering them: every sum runs over the resample's rows in order, from the first, as
    # NumPy reduces the first axis of the gathered arrays, and every step is NumPy's own
    # (mean = sum / n; var = Σ (x - mean)² / n; first = mean(b (c - a)) / var; total =
    # mean((a - c)²) / 2 / var), so the indices are the same bit for bit.
    n_resamples, n = picks.shape
    n_outputs = a.shape[1]
    first = np.empty((n_resamples, n_outputs))
    total = np.empty((n_resamples, n_outputs))
    for j in range(n_resamples):
        rows = picks[j]
        for p in range(n_outputs):
            row = rows[0]
            sum_a = a[row, p]
            sum_first = b[row, p] * (c[row, p] - a[row, p])
            gap = a[row, p] - c[row, p]
            sum_total = gap * gap
            for i in range(1, n):
                row = rows[i]
                sum_a += a[row, p]
                sum_first += b[row, p] * (c[row, p] - a[row, p])
                gap = a[row, p] - c[row, p]
                sum_total += gap * gap
            mean = sum_a / n
            deviation = a[rows[0], p] - mean
            sum_squares = deviation * deviation
            for i in range(1, n):
                deviation = a[rows[i], p] - mean
                sum_squares += deviation * deviation
            variance = sum_squares / n
            if variance > 0:
                first[j, p] = (sum_first / n) / variance
                total[j, p] = (sum_total / n / 2) / variance
            else:
                first[j, p] = np.nan
                total[j, p] = np.nan
    return first, total


def sobol_by_recombination(
    sample: npt.ArrayLike,
    model: Callable[[FloatArray], FloatArray],
    groups: Mapping[str, Sequence[int]],
    *,
    seed: SeedLike = None,
    n_bootstrap: int = 200,
) -> dict[str, tuple[float, float, float, float]]:
    """Sobol indices of column groups of an independent sample, for any model.

    Parameters
    ----------
    sample
        ``(N, P)`` independent draws of the inputs.
    model
        Maps ``(N, P)`` inputs to ``(N,)`` outputs.
    groups
        Name → input columns.
    seed
        Seed for the derangement and the bootstrap.
    n_bootstrap
        Bootstrap resamples for the standard errors.

    Returns
    -------
    dict
        Name → ``(first, first_se, total, total_se)``.
    """
    x = np.asarray(sample, dtype=np.float64)
    permute_seed, boot_seed = as_seed_sequence(seed).spawn(2)
    permutation = derangement(x.shape[0], permute_seed)
    y_a = model(x)
    y_b = y_a[permutation]
    found = {}
    for (name, columns), group_seed in zip(groups.items(), boot_seed.spawn(len(groups)), strict=True):
        mixed = x.copy()
        mixed[:, list(columns)] = x[permutation][:, list(columns)]
        y_c = model(mixed)
        first, total = pick_freeze_indices(y_a, y_b, y_c)
        first_se, total_se = pick_freeze_standard_errors(
            y_a, y_b, y_c, n_bootstrap=n_bootstrap, seed=group_seed
        )
        found[name] = (float(first), float(first_se), float(total), float(total_se))
    return found
