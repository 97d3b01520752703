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

from riskmodel.model.layout import Layout
from riskmodel.model.variables import OPTIONAL_RANDOM_INPUTS, RANDOM_INPUTS
from riskmodel.worlds.arrays import Worlds
from riskmodel.worlds.build import make_worlds

__all__ = [
    "RANDOM_INPUTS",
    "Baseline",
    "baseline_of",
    "flat_draws",
    "member_subset",
    "rebuild_worlds",
    "restore_draws",
    "side_members",
]


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


def member_subset(layout: Layout, members: npt.NDArray[np.int64]) -> Layout:
    """The same scenario restricted to some members (their coefficients are independent)."""
    return dataclasses.replace(
        layout,
        members=[layout.members[m] for m in members],
        member_bloc=layout.member_bloc[members],
        member_chamber=layout.member_chamber[members],
        member_offset=layout.member_offset[members],
        lobby_reach=layout.lobby_reach[:, members],
        member_weight=None if layout.member_weight is None else layout.member_weight[members],
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
    for name in (*RANDOM_INPUTS, *OPTIONAL_RANDOM_INPUTS):
        if name in base.draws and not np.array_equal(base.draws[name], draws[name]):
            raise ValueError(f"{name} changed: the shocks would no longer be common random numbers")
    layout = base.layout
    if layout.member_lead is not None:  # block blocs copy a lead member's coefficients: rebuild all
        members = None
    if members is None:
        fresh = make_worlds(layout, draws, n_replicates=1, seed=0)
        coef = fresh.member_coef
    else:
        subset = np.asarray(members, dtype=np.int64)
        sub_draws = draws.isel(member=subset) if "member" in draws.dims else draws
        fresh = make_worlds(member_subset(layout, subset), sub_draws, n_replicates=1, seed=0)
        coef = base.worlds.member_coef.copy()
        coef[:, subset] = fresh.member_coef
    return dataclasses.replace(
        base.worlds,
        member_coef=coef,
        referendum_coef=fresh.referendum_coef,
        referendum_var=fresh.referendum_var,
        referendum_noise=fresh.referendum_noise,
        referendum_turnout_ok=fresh.referendum_turnout_ok,
        sequences=fresh.sequences if members is None else base.worlds.sequences,
    )
