"""Modified epistemic draws → modified worlds, with common random numbers (CRN).

Sensitivity analyses and stress tests change a scenario's preferences (its draws) or its
structure (seats, thresholds, veto players) and compare the outcome with the unmodified
worlds. They never re-sample the priors: the modified draws go through
:func:`riskmodel.worlds.build.make_worlds` for the utility coefficients, and every world keeps the
idiosyncratic shocks, absences and campaign swings of the base worlds. That is exactly what
``make_worlds(layout, modified, n_replicates=R, seed=shock_seed)`` with the simulation's shock
seed would give (the shocks depend only on the seed and on the shock-scale and absence draws,
which no modification touches), without drawing them again — and it works whatever seed the
simulation used.

Axis order: ``D`` epistemic draws, ``R`` shock replicates, ``M`` members, ``C`` chambers,
``S`` sides, ``N`` deals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.engine import evaluate_chunks
from riskmodel.model.layout import Layout
from riskmodel.worlds.arrays import Worlds
from riskmodel.worlds.build import make_worlds

__all__ = [
    "RANDOM_INPUTS",
    "Baseline",
    "baseline_of",
    "flat_draws",
    "mean_and_mcse",
    "per_draw_outcomes",
    "rebuild_worlds",
    "restore_draws",
    "side_members",
]

RANDOM_INPUTS = ("chamber_absence", "chamber_shock_scale", "chamber_campaign_shock")
"""Draws that scale the shocks: a modification must leave them alone for CRN to hold."""


@dataclass(frozen=True)
class Baseline:
    """The unmodified worlds of a simulation and the draws they were made from.

    Attributes
    ----------
    layout
        The indexed scenario.
    draws
        Epistemic draws with dims ``(chain, draw, ...)`` (the simulation's evidence group).
    worlds
        The worlds made from ``draws``.
    """

    layout: Layout
    draws: xr.Dataset
    worlds: Worlds


def baseline_of(simulation: Any) -> Baseline:
    """The baseline of a :class:`riskmodel.pipeline.Simulation` (its model is not kept).

    Only the named deterministics are kept, so the baseline pickles small (Dask workers).
    """
    tree = simulation.draws
    groups = [simulation.evidence, "posterior", "prior"]
    group = next(name for name in groups if name in tree.children)
    draws = tree[group].to_dataset()
    keep = [name for name in draws.data_vars if not str(name).startswith("prior_")]
    return Baseline(layout=simulation.layout, draws=draws[keep], worlds=simulation.worlds)


def flat_draws(draws: xr.Dataset, name: str) -> npt.NDArray[np.float64]:
    """A variable as a float array ``(D, ...)``, chains concatenated (copied)."""
    values = draws[name].to_numpy()
    return np.array(values.reshape(values.shape[0] * values.shape[1], *values.shape[2:]), dtype=np.float64)


def restore_draws(draws: xr.Dataset, updates: dict[str, npt.NDArray[np.float64]]) -> xr.Dataset:
    """A copy of ``draws`` with variables replaced by flat ``(D, ...)`` arrays."""
    return draws.assign(
        {name: (draws[name].dims, flat.reshape(draws[name].shape)) for name, flat in updates.items()}
    )


def side_members(layout: Layout, side: int) -> npt.NDArray[np.int64]:
    """Indices of the members of one side."""
    return np.flatnonzero(layout.bloc_side[layout.member_bloc] == side).astype(np.int64)


def _member_subset(layout: Layout, members: npt.NDArray[np.int64]) -> Layout:
    """The same scenario restricted to some members (their coefficients are independent)."""
    return dataclasses.replace(
        layout,
        members=[layout.members[m] for m in members],
        member_bloc=layout.member_bloc[members],
        member_chamber=layout.member_chamber[members],
        member_offset=layout.member_offset[members],
        lobby_reach=layout.lobby_reach[:, members],
    )


def rebuild_worlds(
    base: Baseline,
    draws: xr.Dataset,
    *,
    members: Sequence[int] | npt.NDArray[np.int64] | None = None,
) -> Worlds:
    """Worlds for modified draws that keep the base worlds' shocks (CRN).

    Parameters
    ----------
    base
        The unmodified baseline; ``draws`` must have the same layout and dims.
    draws
        Modified draws (preferences, influence, approval ... but not the shock scales,
        absences or campaign shocks, which determine the shocks).
    members
        Members whose coefficients can have changed (all by default). The others keep the
        base coefficients, so a modification that reaches few members costs little.

    Returns
    -------
    Worlds
        Coefficients from :func:`riskmodel.worlds.build.make_worlds` on ``draws``; shocks, absences,
        turnout of those voting and campaign swings from ``base.worlds``.
    """
    for name in RANDOM_INPUTS:
        if name in base.draws and not np.array_equal(base.draws[name], draws[name]):
            raise ValueError(f"{name} changed: the shocks would no longer be common random numbers")
    layout = base.layout
    if members is None:
        fresh = make_worlds(layout, draws, n_replicates=1, seed=0)
        coef = fresh.member_coef
    else:
        subset = np.asarray(members, dtype=np.int64)
        sub_draws = draws.isel(member=subset) if "member" in draws.dims else draws
        fresh = make_worlds(_member_subset(layout, subset), sub_draws, n_replicates=1, seed=0)
        coef = base.worlds.member_coef.copy()
        coef[:, subset] = fresh.member_coef
    return dataclasses.replace(
        base.worlds,
        member_coef=coef,
        referendum_coef=fresh.referendum_coef,
        referendum_var=fresh.referendum_var,
        referendum_noise=fresh.referendum_noise,
        referendum_turnout_ok=fresh.referendum_turnout_ok,
    )


def per_draw_outcomes(
    layout: Layout,
    worlds: Worlds,
    deal_values: npt.ArrayLike,
    *,
    chunk_size: int | None = None,
) -> npt.NDArray[np.float64]:
    """Conditional ratification probabilities p_e per side and of the agreement.

    Parameters
    ----------
    layout
        The indexed scenario (its vote rules and procedures are applied).
    worlds
        The worlds.
    deal_values
        ``(N, K)`` deals in issue units.
    chunk_size
        Deals per engine chunk.

    Returns
    -------
    numpy.ndarray
        ``(S + 1, D, N)``: share of each draw's replicates in which each side ratifies (rows
        in side order), and in which every side does (last row).
    """
    values = np.atleast_2d(np.asarray(deal_values, dtype=np.float64))
    n_sides = len(layout.sides)
    out = np.zeros((n_sides + 1, worlds.n_draws, values.shape[0]))
    chunks = evaluate_chunks(worlds, layout.to_unit(values), chunk_size=chunk_size)
    for chunk in chunks:
        part = chunk.deal_slice
        out[:n_sides, :, part] = chunk.side_ratified.sum(axis=2)
        out[n_sides, :, part] = chunk.agreed.sum(axis=1)
    return out / worlds.n_replicates


def mean_and_mcse(
    per_draw: npt.NDArray[np.float64], *, axis: int, worlds: Worlds
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Mean over draws and its Monte Carlo standard error.

    Independent draws (prior forward draws) have an effective sample size equal to their
    number, so the MCSE is ``sd / sqrt(D)``; MCMC draws use ArviZ's ESS-based MCSE. For a
    paired difference of two analyses on common random numbers, pass the per-draw
    differences: their spread is what remains after the shared noise cancels.
    """
    values = np.moveaxis(np.asarray(per_draw, dtype=np.float64), axis, 0)
    n_draws = values.shape[0]
    mean = values.mean(axis=0)
    if n_draws < 2:
        return mean, np.full(mean.shape, np.nan)
    if worlds.independent_draws or worlds.chains < 1:
        return mean, values.std(axis=0, ddof=1) / np.sqrt(n_draws)
    import arviz_stats as azs

    chains = worlds.chains
    shaped = values.reshape(chains, n_draws // chains, -1)
    mcse = np.asarray(azs.mcse(shaped, method="mean", chain_axis=0, draw_axis=1), dtype=np.float64)
    constant = np.ptp(values.reshape(n_draws, -1), axis=0) == 0
    return mean, np.where(constant, 0.0, np.nan_to_num(mcse, nan=0.0)).reshape(mean.shape)
