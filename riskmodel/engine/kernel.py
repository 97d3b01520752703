"""The numba kernels: every member's net gain from every deal, and yes counts per chamber.

A member's net gain is one dot product of its coefficient vector with the deal's features; the
gain is computed in float32 with members innermost (contiguous, so the loops vectorise) and
compared with each shock replicate. :func:`count_yes` and :func:`member_votes` share the same
compiled gain loop, so a member's vote read one way always agrees with the counts read the other.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from riskmodel.worlds.arrays import Worlds

__all__ = [
    "KernelInput",
    "cached_for",
    "chamber_yes",
    "count_yes",
    "gain_into",
    "member_gain",
    "member_votes",
    "prepare",
]


@numba.njit(inline="always", fastmath=True)
def gain_into(
    gain: npt.NDArray[np.float32], coef_d: npt.NDArray[np.float32], features_n: npt.NDArray[np.float32]
) -> None:  # pragma: no cover - compiled
    """Write ``gain (M,) = Σ_f coef_d[f] · features_n[f]`` (float32, accumulated over f in order)."""
    n_features, n_members = coef_d.shape
    weight = features_n[0]
    row = coef_d[0]
    for m in range(n_members):
        gain[m] = row[m] * weight
    for f in range(1, n_features):
        weight = features_n[f]
        row = coef_d[f]
        for m in range(n_members):
            gain[m] += row[m] * weight


@numba.njit(inline="always", fastmath=True)
def chamber_yes(
    gain: npt.NDArray[np.float32], threshold: npt.NDArray[np.float32], lo: int, hi: int
) -> int:  # pragma: no cover - compiled
    """Members ``lo:hi`` whose net gain beats their (negated) shock: the chamber's yes count."""
    one = np.float32(1.0)
    zero = np.float32(0.0)
    g = gain[lo:hi]
    t = threshold[lo:hi]
    total = zero
    for m in range(hi - lo):
        total += one if g[m] > t[m] else zero
    return int(total)


@numba.njit(parallel=True, cache=True, fastmath=True)
def _count_yes_kernel(
    coef_t: npt.NDArray[np.float32],
    features: npt.NDArray[np.float32],
    neg_shocks: npt.NDArray[np.float32],
    bounds: npt.NDArray[np.int64],
) -> npt.NDArray[np.int32]:  # pragma: no cover - compiled
    # coef_t (D, F, M); features (N, F); neg_shocks (D, R, M) = -shock (+inf when absent);
    # bounds (C + 1,): members of chamber c are bounds[c]:bounds[c + 1]. A member votes yes iff
    # gain > -shock. The count is accumulated in float32 (exact below 2**24) because that form
    # vectorises.
    n_draws, _, n_members = coef_t.shape
    n_deals = features.shape[0]
    n_replicates = neg_shocks.shape[1]
    n_chambers = bounds.shape[0] - 1
    counts = np.zeros((n_draws, n_replicates, n_deals, n_chambers), dtype=np.int32)
    for d in numba.prange(n_draws):
        gain = np.empty(n_members, dtype=np.float32)
        coef_d = coef_t[d]
        for n in range(n_deals):
            gain_into(gain, coef_d, features[n])
            for r in range(n_replicates):
                threshold = neg_shocks[d, r]
                for c in range(n_chambers):
                    counts[d, r, n, c] = chamber_yes(gain, threshold, bounds[c], bounds[c + 1])
    return counts


@numba.njit(parallel=True, cache=True, fastmath=True)
def _gain_kernel(
    coef_t: npt.NDArray[np.float32], features: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:  # pragma: no cover - compiled
    n_draws, _, n_members = coef_t.shape
    n_deals = features.shape[0]
    out = np.empty((n_draws, n_deals, n_members), dtype=np.float32)
    for d in numba.prange(n_draws):
        gain = np.empty(n_members, dtype=np.float32)
        coef_d = coef_t[d]
        for n in range(n_deals):
            gain_into(gain, coef_d, features[n])
            out[d, n] = gain
    return out


@dataclass(frozen=True)
class KernelInput:
    """Worlds rearranged once for the kernels: members contiguous in the innermost axis.

    Attributes
    ----------
    coef_t
        ``(D, F, M)`` float32 coefficients.
    neg_shocks
        ``(D, R, M)`` float32 minus the shocks (+inf where the member is absent).
    bounds
        ``(C + 1,)`` members of chamber ``c`` are ``bounds[c]:bounds[c + 1]``.
    present
        ``(D, R, C)`` int64 members voting per chamber and world.
    """

    coef_t: npt.NDArray[np.float32]
    neg_shocks: npt.NDArray[np.float32]
    bounds: npt.NDArray[np.int64]
    present: npt.NDArray[np.int64]


# Kernel inputs derived from a worlds array, keyed by that array's identity and dropped with it.
# Analyses that rebuild worlds around the same shocks (sensitivity, stress tests, side payments)
# then rearrange the shared arrays once instead of once per unit. Worlds arrays are never changed
# in place (modified worlds are new Worlds with new arrays), so identity is enough.
_DERIVED: dict[tuple[str, int], tuple[weakref.ref[npt.NDArray[np.generic]], npt.NDArray[np.generic]]] = {}


def cached_for(
    kind: str, source: npt.NDArray[np.generic], make: Callable[[], npt.NDArray[np.generic]]
) -> Any:
    """``make()`` (read-only), computed once per ``kind`` while the array ``source`` lives."""
    key = (kind, id(source))
    hit = _DERIVED.get(key)
    if hit is not None and hit[0]() is source:
        return hit[1]
    value = make()
    value.flags.writeable = False
    _DERIVED[key] = (weakref.ref(source, functools.partial(_forget, key)), value)
    return value


def _forget(key: tuple[str, int], _: object, cache: dict[Any, Any] = _DERIVED) -> None:
    # the dict is bound at definition: callbacks may run at interpreter exit, after module teardown
    cache.pop(key, None)


def prepare(worlds: Worlds) -> KernelInput:
    """Rearrange worlds for the kernels (members must be ordered by chamber).

    Each rearranged array is cached while the array it comes from lives, so worlds sharing their
    shocks or coefficients with worlds prepared before reuse that work.
    """
    chamber = worlds.member_chamber
    bounds = cached_for(f"bounds{worlds.n_chambers}", chamber, lambda: _bounds(chamber, worlds.n_chambers))
    return KernelInput(
        coef_t=cached_for(
            "coef_t",
            worlds.member_coef,
            lambda: np.ascontiguousarray(np.moveaxis(worlds.member_coef, 2, 1), dtype=np.float32),
        ),
        neg_shocks=cached_for(
            "neg_shocks",
            worlds.member_shock,
            lambda: np.ascontiguousarray(-worlds.member_shock, dtype=np.float32),
        ),
        bounds=bounds,
        present=cached_for(
            "present", worlds.present, lambda: np.array(worlds.present, dtype=np.int64, order="C", copy=True)
        ),
    )


def _bounds(chamber: npt.NDArray[np.int64], n_chambers: int) -> npt.NDArray[np.int64]:
    if np.any(np.diff(chamber) < 0):
        raise ValueError("members must be ordered by chamber")
    return np.searchsorted(chamber, np.arange(n_chambers + 1), side="left").astype(np.int64)


def count_yes(
    worlds: Worlds, features: npt.NDArray[np.float64], *, prepared: KernelInput | None = None
) -> npt.NDArray[np.int32]:
    """Members voting for each deal: ``(D, R, N, C)`` counts per chamber and world."""
    kernel_input = prepared if prepared is not None else prepare(worlds)
    return _count_yes_kernel(
        kernel_input.coef_t,
        np.ascontiguousarray(features, dtype=np.float32),
        kernel_input.neg_shocks,
        kernel_input.bounds,
    )


def member_gain(
    worlds: Worlds, features: npt.NDArray[np.float64], *, prepared: KernelInput | None = None
) -> npt.NDArray[np.float32]:
    """Every member's net gain before its shock, ``(D, N, M)`` float32, exactly as the kernel has it."""
    kernel_input = prepared if prepared is not None else prepare(worlds)
    return _gain_kernel(kernel_input.coef_t, np.ascontiguousarray(features, dtype=np.float32))


def member_votes(
    worlds: Worlds, features: npt.NDArray[np.float64], *, prepared: KernelInput | None = None
) -> npt.NDArray[np.bool_]:
    """Whether each member votes for each deal, ``(D, R, N, M)``; absent members vote no.

    The same comparison as :func:`count_yes` (float32 gain > minus the float32 shock), so the
    members voting yes in a chamber always add up to its count.
    """
    kernel_input = prepared if prepared is not None else prepare(worlds)
    gain = member_gain(worlds, features, prepared=kernel_input)  # (D, N, M)
    return gain[:, None, :, :] > kernel_input.neg_shocks[:, :, None, :]
