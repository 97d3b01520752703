"""The Monte Carlo standard error of a mean over epistemic draws: one function, one rule.

Every analysis reports its probabilities with the MCSE computed here (docs/design.md, "The
model"): worlds that share an epistemic draw are not independent, so the error comes from the
per-draw estimates and their effective sample size, never from the number of worlds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from riskmodel.worlds.arrays import Worlds

__all__ = ["MIN_DRAWS_PER_CHAIN", "draw_chains", "mcse", "mean_and_mcse"]

MIN_DRAWS_PER_CHAIN = 4
"""Fewer draws than this (per chain; independent draws count as one chain) give a NaN MCSE."""

FloatArray = npt.NDArray[np.float64]


def draw_chains(worlds: Worlds) -> int | None:
    """The ``chains`` argument of :func:`mcse` for worlds: None when their draws are independent."""
    return None if worlds.independent_draws or worlds.chains < 1 else int(worlds.chains)


def mcse(per_draw: npt.ArrayLike, chains: int | None, *, axis: int = 0) -> FloatArray:
    """Monte Carlo standard error of the mean over draws, from their effective sample size.

    The rule, the same for every analysis:

    - **independent draws** (``chains=None``: forward draws of the prior): the ESS is the
      number of draws D by construction, so the MCSE is ``sd / sqrt(D)`` (sample SD, ``ddof=1``)
      exactly; estimating the ESS would only add noise;
    - **MCMC draws** (``chains`` chains, concatenated along ``axis`` chain after chain): ArviZ's
      ESS-based MCSE of the mean (``arviz_stats.mcse(method="mean")``), computed per chain and
      deal; estimates that are constant over every draw have an MCSE of exactly 0, and an ESS
      ArviZ cannot estimate otherwise stays NaN (it never reads as a zero error);
    - **small samples**: fewer than :data:`MIN_DRAWS_PER_CHAIN` (4) draws per chain give NaN.

    The rounding does not depend on how many deals share the array: each deal's block
    (last axis) is made contiguous before reducing, so a deal's MCSE is the same whatever the
    chunk it was evaluated in.

    Parameters
    ----------
    per_draw
        Per-draw estimates (e.g. p_e, or paired per-draw differences on common random numbers),
        draws along ``axis``, deals (if any) last.
    chains
        Number of MCMC chains, or None for independent draws.
    axis
        The draw axis.

    Returns
    -------
    numpy.ndarray
        The MCSE, shaped like ``per_draw`` without ``axis``.

    Raises
    ------
    ValueError
        The number of draws is not a multiple of ``chains``.
    """
    values = np.moveaxis(np.asarray(per_draw, dtype=np.float64), axis, 0)
    squeeze = values.ndim == 1
    if squeeze:
        values = values[:, None]
    n_draws = values.shape[0]
    n_chains = 1 if chains is None else int(chains)
    if n_chains < 1 or n_draws % n_chains:
        raise ValueError(f"{n_draws} draws cannot be split into {chains} chains")
    if n_draws // n_chains < MIN_DRAWS_PER_CHAIN:
        out = np.full(values.shape[1:], np.nan)
        return out[0] if squeeze else out
    rows = np.ascontiguousarray(np.moveaxis(values, -1, 0))  # (deal, D, ...)
    if chains is None:
        error = rows.std(axis=1, ddof=1) / np.sqrt(n_draws)
    else:
        import arviz_stats as azs  # only MCMC runs need it

        shaped = rows.reshape(rows.shape[0], n_chains, n_draws // n_chains, -1)
        error = np.stack(
            [
                np.asarray(azs.mcse(block, method="mean", chain_axis=0, draw_axis=1), dtype=np.float64)
                for block in shaped
            ]
        ).reshape(rows.shape[0], *rows.shape[2:])
        constant = np.ptp(rows, axis=1) == 0
        error = np.where(constant, 0.0, error)
    out = np.asarray(np.moveaxis(error, 0, -1), dtype=np.float64)
    return out[..., 0] if squeeze else out


def mean_and_mcse(per_draw: npt.ArrayLike, *, axis: int, worlds: Worlds) -> tuple[FloatArray, FloatArray]:
    """Mean over draws and its MCSE (:func:`mcse`) for per-draw estimates made in ``worlds``.

    For a paired difference of two analyses on common random numbers, pass the per-draw
    differences: their spread is what remains after the shared noise cancels.
    """
    values = np.moveaxis(np.asarray(per_draw, dtype=np.float64), axis, 0)
    return values.mean(axis=0), mcse(values, draw_chains(worlds), axis=0)
