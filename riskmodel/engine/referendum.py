"""Referendums: the share of the electorate voting for a deal in every world."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from riskmodel.worlds.arrays import Worlds, deal_features

__all__ = ["referendum_share"]


def referendum_share(
    worlds: Worlds, deals_unit: npt.ArrayLike, features: npt.NDArray[np.float64] | None = None
) -> npt.NDArray[np.float64]:
    """Yes share ``(D, R, N, Q)`` of each referendum for deals ``(N, K)`` on the unit scale.

    The voters' net gain is normal given the draw, so the share is a normal probability; zero
    width when the scenario holds no referendum. ``features`` may pass the deals' features when
    the caller has them already.
    """
    deals_unit = np.atleast_2d(np.asarray(deals_unit, dtype=np.float64))
    if not len(worlds.referendum_chambers):
        return np.zeros((worlds.n_draws, worlds.n_replicates, deals_unit.shape[0], 0))
    if features is None:
        features = deal_features(deals_unit, worlds.link_pairs)
    # Explicit products summed over the last axis (not einsum/BLAS, whose blocking depends on N)
    # keep every deal's value bit-identical whatever chunk it is evaluated in.
    mean = (worlds.referendum_coef[:, :, None, :] * features[None, None, :, :]).sum(axis=-1)  # (D, Q, N)
    u = deals_unit[None, :, :] - worlds.referendum_reversion[:, None, :]  # (Q, N, K)
    outer = u[:, :, :, None] * u[:, :, None, :]  # (Q, N, K, K)
    variance = (worlds.referendum_var[:, :, None] * outer[None]).sum(axis=(-1, -2))
    scale = np.sqrt(variance + worlds.referendum_noise[:, :, None] ** 2)  # (D, Q, N)
    z = (mean[:, None] + worlds.referendum_campaign[:, :, :, None]) / scale[:, None]  # (D, R, Q, N)
    # here, not at the top: SciPy's special functions cost a tenth of a second to import, and
    # only scenarios with a referendum need them
    from scipy.special import ndtr

    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(scale[:, None] > 0, ndtr(z), (z > 0).astype(np.float64))
    return np.moveaxis(share, 3, 2)
