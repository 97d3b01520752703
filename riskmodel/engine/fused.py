"""Yes counts and vote thresholds in one kernel: deals × worlds → (passed, support, needed).

The counts are those of :func:`riskmodel.engine.kernel.count_yes` (the same float32 gain and
comparison); each counted vote's needed votes depend on who is present, not on the deal, so they
come in once per (vote, draw, replicate) from :func:`riskmodel.engine.votes.needed_counts` and
the kernel compares every deal's count with them as it goes. Neither the ``(D, R, N, C)`` counts
nor an int64 copy of them is ever materialised. Chambers with vote weights or an abstention band
keep the general path (:func:`riskmodel.engine.weighted.count_weighted`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numba
import numpy as np
import numpy.typing as npt

from riskmodel.engine.kernel import KernelInput, chamber_yes, gain_into
from riskmodel.engine.votes import needed_counts, referendum_outcomes
from riskmodel.worlds.arrays import VoteRule, Worlds

__all__ = [
    "compile_kernel",
    "fused_counts",
    "fused_outcomes",
    "kernel_cached",
    "kernel_signature",
    "vote_layout",
]


@numba.njit(parallel=True, cache=True, fastmath=True)
def _fused_kernel(
    coef_t: npt.NDArray[np.float32],
    features: npt.NDArray[np.float32],
    neg_shocks: npt.NDArray[np.float32],
    bounds: npt.NDArray[np.int64],
    vote_chamber: npt.NDArray[np.int64],
    vote_for: npt.NDArray[np.bool_],
    needed: npt.NDArray[np.int64],
    present: npt.NDArray[np.int64],
    passed: npt.NDArray[np.bool_],
    support: npt.NDArray[np.float64],
) -> None:  # pragma: no cover - compiled
    # Counting exactly as _count_yes_kernel does; votes of chamber -1 (referendums) are skipped.
    n_draws, _, n_members = coef_t.shape
    n_deals = features.shape[0]
    n_replicates = neg_shocks.shape[1]
    n_chambers = bounds.shape[0] - 1
    n_votes = vote_chamber.shape[0]
    for d in numba.prange(n_draws):
        gain = np.empty(n_members, dtype=np.float32)
        counts = np.empty((n_replicates, n_chambers, n_deals), dtype=np.int64)
        coef_d = coef_t[d]
        for n in range(n_deals):
            gain_into(gain, coef_d, features[n])
            for r in range(n_replicates):
                threshold = neg_shocks[d, r]
                for c in range(n_chambers):
                    counts[r, c, n] = chamber_yes(gain, threshold, bounds[c], bounds[c + 1])
        for v in range(n_votes):
            c = vote_chamber[v]
            if c < 0:
                continue
            for r in range(n_replicates):
                need = needed[v, d, r]
                row = counts[r, c]
                passed_row = passed[v, d, r]
                support_row = support[v, d, r]
                if vote_for[v]:
                    for n in range(n_deals):
                        count = row[n]
                        passed_row[n] = count >= need
                        support_row[n] = count
                else:
                    here = present[d, r, c]
                    for n in range(n_deals):
                        count = here - row[n]
                        passed_row[n] = count >= need
                        support_row[n] = count


def vote_layout(
    worlds: Worlds, rules: Sequence[VoteRule]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """``(vote_chamber, vote_for)`` per vote, the chamber -1 for a referendum."""
    referendum = set(worlds.referendum_chambers.tolist())
    chamber = np.array([-1 if r.chamber in referendum else r.chamber for r in rules], dtype=np.int64)
    return chamber, np.array([r.polarity_for for r in rules], dtype=np.bool_)


def fused_counts(
    worlds: Worlds,
    rules: Sequence[VoteRule],
    features: npt.NDArray[np.float64],
    share: npt.NDArray[np.float64],
    prepared: KernelInput,
    needed: npt.NDArray[np.int64] | None = None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``(passed, support)`` ``(V, D, R, N)`` and what each vote needed, ``(V, D, R, 1)``.

    The margin ``support - needed`` is what ``vote_outcomes`` gives, bit for bit: a difference
    of whole counts, or for a referendum the yes share minus its fraction (the same subtraction);
    it is left to whoever needs it rather than written for every world and deal.

    Parameters
    ----------
    worlds
        Worlds with one vote per member and no abstention band.
    rules
        One rule per vote.
    features
        ``(N, F)`` the deals' features.
    share
        ``(D, R, N, Q)`` referendum yes shares.
    prepared
        The worlds' kernel input.
    needed
        ``(V, D, R)`` :func:`riskmodel.engine.needed_counts` when the caller has it already.
    """
    n_deals = features.shape[0]
    shape = (len(rules), worlds.n_draws, worlds.n_replicates, n_deals)
    passed = np.empty(shape, dtype=bool)
    support = np.empty(shape)
    vote_chamber, vote_for = vote_layout(worlds, rules)
    counts_needed = needed_counts(worlds, rules) if needed is None else needed
    _fused_kernel(
        prepared.coef_t,
        np.ascontiguousarray(features, dtype=np.float32),
        prepared.neg_shocks,
        prepared.bounds,
        vote_chamber,
        vote_for,
        counts_needed,
        prepared.present,
        passed,
        support,
    )
    referendum_outcomes(worlds, rules, share, passed, support)
    need = counts_needed.astype(np.float64)[..., None]
    for v, rule in enumerate(rules):
        if vote_chamber[v] < 0:  # referendum_outcomes' fraction
            need[v] = 1.0 if rule.fraction is None else float(rule.fraction)
    return passed, support, need


def fused_outcomes(
    worlds: Worlds,
    rules: Sequence[VoteRule],
    features: npt.NDArray[np.float64],
    share: npt.NDArray[np.float64],
    prepared: KernelInput,
    needed: npt.NDArray[np.int64] | None = None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``(passed, support, margin)``, each ``(V, D, R, N)``, as ``vote_outcomes`` gives them.

    :func:`fused_counts` with the margin written out (the same parameters).
    """
    passed, support, need = fused_counts(worlds, rules, features, share, prepared, needed)
    return passed, support, support - need


def kernel_signature() -> tuple[Any, ...]:
    """The argument types of the fused kernel as :func:`fused_counts` calls it (numba types).

    The prepared worlds (:func:`riskmodel.engine.prepare`) are read-only; the deals' features,
    the vote layout, the needed votes and the outputs are fresh writable arrays; all C-contiguous.
    """
    from numba import types

    def array(dtype: Any, ndim: int, *, readonly: bool = False) -> Any:
        return types.Array(dtype, ndim, "C", readonly=readonly)

    f32, i64, flag = types.float32, types.int64, types.boolean
    return (
        array(f32, 3, readonly=True),  # coef_t
        array(f32, 2),  # features
        array(f32, 3, readonly=True),  # neg_shocks
        array(i64, 1, readonly=True),  # bounds
        array(i64, 1),  # vote_chamber
        array(flag, 1),  # vote_for
        array(i64, 3),  # needed
        array(i64, 3, readonly=True),  # present
        array(flag, 4),  # passed
        array(types.float64, 4),  # support
    )


def kernel_cached() -> bool:
    """Whether numba's on-disk cache holds the fused kernel for :func:`kernel_signature`.

    Read from the cache's index (numba's own file, keyed by signature and source); True when
    it cannot be read in this numba version, so that nothing is done about a cache that may
    well be there.
    """
    try:
        # numba has no public query for this; its index maps (signature, target, code) keys
        dispatcher: Any = _fused_kernel
        index = dispatcher._cache._cache_file._load_index()
        return any(key[0] == kernel_signature() for key in index)
    except Exception:  # any change in numba's internals: assume cached, as before
        return True


def compile_kernel() -> None:
    """Compile the fused kernel for :func:`kernel_signature` (into numba's cache, if not there)."""
    _fused_kernel.compile(kernel_signature())
