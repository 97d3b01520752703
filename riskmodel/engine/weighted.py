"""Yes and abstention counts for chambers with vote weights or an abstention band.

Scenarios without either use :func:`riskmodel.engine.kernel.count_yes` unchanged; this kernel is
its generalisation: a member's vote counts ``weight`` times, and a member whose net gain plus
shock lies strictly inside ``(-band, band)`` abstains (neither yes nor no). Gains come from
:func:`riskmodel.engine.kernel.member_gain`, so with one vote each and no band the counts are
those of ``count_yes`` exactly.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from riskmodel.engine.kernel import KernelInput, member_gain, prepare
from riskmodel.worlds.arrays import Worlds

__all__ = ["count_weighted"]


@numba.njit(parallel=True, cache=True)
def _count_weighted_kernel(
    gain: npt.NDArray[np.float32],
    neg_shocks: npt.NDArray[np.float32],
    bounds: npt.NDArray[np.int64],
    weight: npt.NDArray[np.int64],
    band: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:  # pragma: no cover - compiled
    # gain (D, N, M) exactly as count_yes computes it; band (D, C). Yes iff gain > -shock (the
    # comparison of count_yes) and not abstaining; abstain iff present and |gain + shock| < band.
    n_draws, n_deals, _ = gain.shape
    n_replicates = neg_shocks.shape[1]
    n_chambers = bounds.shape[0] - 1
    yes = np.zeros((n_draws, n_replicates, n_deals, n_chambers), dtype=np.int64)
    abstain = np.zeros((n_draws, n_replicates, n_deals, n_chambers), dtype=np.int64)
    for d in numba.prange(n_draws):
        for n in range(n_deals):
            for r in range(n_replicates):
                for c in range(n_chambers):
                    b = band[d, c]
                    total_yes = 0
                    total_abstain = 0
                    for m in range(bounds[c], bounds[c + 1]):
                        t = neg_shocks[d, r, m]
                        if t == np.inf:
                            continue
                        g = gain[d, n, m]
                        if abs(g - t) < b:
                            total_abstain += weight[m]
                        elif g > t:
                            total_yes += weight[m]
                    yes[d, r, n, c] = total_yes
                    abstain[d, r, n, c] = total_abstain
    return yes, abstain


def count_weighted(
    worlds: Worlds, features: npt.NDArray[np.float64], *, prepared: KernelInput | None = None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Weighted yes votes and abstentions per chamber, each ``(D, R, N, C)``."""
    kernel_input = prepared if prepared is not None else prepare(worlds)
    n_members = worlds.member_chamber.shape[0]
    weight = worlds.member_weight if worlds.member_weight is not None else np.ones(n_members, np.int64)
    band = (
        worlds.abstention_band
        if worlds.abstention_band is not None
        else np.zeros((worlds.n_draws, worlds.n_chambers), np.float32)
    )
    return _count_weighted_kernel(
        member_gain(worlds, features, prepared=kernel_input),
        kernel_input.neg_shocks,
        kernel_input.bounds,
        np.ascontiguousarray(weight, dtype=np.int64),
        np.ascontiguousarray(band, dtype=np.float32),
    )
