"""Base draws and worlds carried over to a structurally shocked scenario.

The priors are not re-sampled: every bloc, member and chamber that exists in both scenarios
keeps its draws and its shocks (common random numbers); only entities the shock creates — new
seats, a new veto player — get fresh draws from their priors, from the seed of the shock's
unit of work. The shocked scenario itself is :func:`riskmodel.spec.structural.restructured_scenario`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.model import variables as mv
from riskmodel.model.layout import Layout
from riskmodel.spec.priors import to_scipy
from riskmodel.spec.schema import Bloc, Chamber
from riskmodel.worlds.arrays import Worlds
from riskmodel.worlds.build import make_worlds
from riskmodel.worlds.crn import Baseline, flat_draws

__all__ = ["realign_draws", "realign_worlds"]

FloatArray = npt.NDArray[np.float64]
_ENTITY_DIMS = ("bloc", "member", "chamber")


def _sample(prior: Any, n: int, rng: np.random.Generator) -> FloatArray:
    return np.broadcast_to(np.asarray(to_scipy(prior).rvs(size=n, random_state=rng), dtype=np.float64), (n,))


def _per_issue(value: Any, issues: list[str]) -> list[Any]:
    return [value.get(issue, 0.0) for issue in issues] if isinstance(value, dict) else [value] * len(issues)


def _salience(salience: Any, issues: list[str], n: int, rng: np.random.Generator) -> FloatArray:
    if hasattr(salience, "dirichlet"):
        return rng.dirichlet([salience.dirichlet[issue] for issue in issues], size=n)
    weights = np.ones(len(issues)) if salience is None else np.array([salience.get(i, 0.0) for i in issues])
    return np.tile(weights / weights.sum(), (n, 1))


def _new_bloc(bloc: Bloc, issues: list[str], n: int, rng: np.random.Generator) -> dict[str, FloatArray]:
    return {
        mv.BLOC_IDEAL: np.stack([_sample(bloc.ideal[i], n, rng) for i in issues], axis=1),
        mv.BLOC_SPREAD: np.stack([_sample(p, n, rng) for p in _per_issue(bloc.spread, issues)], axis=1),
        mv.BLOC_SALIENCE: _salience(bloc.salience, issues, n, rng),
        mv.BLOC_PARTY_PULL: _sample(bloc.party_pull, n, rng),
        mv.BLOC_RESPONSIVENESS: _sample(bloc.responsiveness, n, rng),
        mv.BLOC_VALENCE: _sample(bloc.valence, n, rng),
    }


def _new_chamber(chamber: Chamber, n: int, rng: np.random.Generator) -> dict[str, FloatArray]:
    return {
        mv.CHAMBER_ABSENCE: _sample(chamber.absence, n, rng),
        mv.CHAMBER_SHOCK_SCALE: _sample(chamber.shock_scale, n, rng),
        mv.CHAMBER_TURNOUT: _sample(chamber.turnout, n, rng),
        mv.CHAMBER_CAMPAIGN_SHOCK: _sample(chamber.campaign_shock, n, rng),
    }


def _carry(flat: FloatArray, old_names: list[str], new_names: list[str]) -> tuple[FloatArray, list[int]]:
    """Rows of ``flat`` (D, old, ...) in the new order; indices of the new names left empty."""
    old_index = {name: i for i, name in enumerate(old_names)}
    out = np.full((flat.shape[0], len(new_names), *flat.shape[2:]), np.nan)
    missing = []
    for i, name in enumerate(new_names):
        if name in old_index:
            out[:, i] = flat[:, old_index[name]]
        else:
            missing.append(i)
    return out, missing


def realign_draws(base: Baseline, layout: Layout, rng: np.random.Generator) -> xr.Dataset:
    """The base draws carried over to a restructured layout, new entities drawn from their priors."""
    old, draws = base.layout, base.draws
    n_draws, issues = base.worlds.n_draws, layout.issues
    fresh: dict[str, dict[int, dict[str, FloatArray]]] = {
        "bloc": {
            i: _new_bloc(layout.bloc_specs[i], issues, n_draws, rng)
            for i, name in enumerate(layout.blocs)
            if name not in set(old.blocs)
        },
        "chamber": {
            i: _new_chamber(layout.chamber_specs[i], n_draws, rng)
            for i, name in enumerate(layout.chambers)
            if name not in set(old.chambers)
        },
        "member": {},
    }
    values: dict[str, FloatArray] = {}
    for name in map(str, draws.data_vars):
        dims = draws[name].dims[2:]
        flat = flat_draws(draws, name)
        if dims and dims[0] in _ENTITY_DIMS:
            flat, missing = _carry(flat, getattr(old, f"{dims[0]}s"), getattr(layout, f"{dims[0]}s"))
            for i in missing:
                if i in fresh[str(dims[0])]:
                    flat[:, i] = fresh[str(dims[0])][i][name]
        values[name] = flat
    if mv.MEMBER_IDEAL in values:
        ideal = values[mv.MEMBER_IDEAL]
        for m in np.flatnonzero(np.isnan(ideal[0, :, 0])):
            b = layout.member_bloc[m]
            z = rng.standard_normal((n_draws, len(issues)))
            ideal[:, m] = (
                values[mv.BLOC_IDEAL][:, b] + layout.member_offset[m] + values[mv.BLOC_SPREAD][:, b] * z
            )
    chains = int(draws.sizes["chain"])
    coords: dict[str, Any] = {str(dim): draws.coords[dim] for dim in draws.coords if dim not in _ENTITY_DIMS}
    coords.update(bloc=layout.blocs, member=layout.members, chamber=layout.chambers)
    data = {
        name: (draws[name].dims, flat.reshape(chains, n_draws // chains, *flat.shape[1:]))
        for name, flat in values.items()
    }
    return xr.Dataset(data, coords={k: v for k, v in coords.items() if any(k in d for d, _ in data.values())})


def realign_worlds(base: Baseline, layout: Layout, draws: xr.Dataset, rng: np.random.Generator) -> Worlds:
    """Worlds of a restructured layout, with the base worlds' shocks wherever they apply.

    Members and referendums that exist in the base keep their shocks, absences and campaign
    swings (CRN); new members get fresh shocks and absences from ``rng``.
    """
    fresh = make_worlds(layout, draws, n_replicates=1, seed=0)
    worlds = base.worlds
    n_draws, n_replicates = worlds.n_draws, worlds.n_replicates
    old_index = {name: i for i, name in enumerate(base.layout.members)}
    take = np.array([old_index.get(name, -1) for name in layout.members], dtype=np.int64)
    shocks = np.empty((n_draws, n_replicates, len(layout.members)), dtype=np.float32)
    known = take >= 0
    shocks[..., known] = worlds.member_shock[..., take[known]]
    new = np.flatnonzero(~known)
    if len(new):
        chamber = layout.member_chamber[new]
        scale = flat_draws(draws, mv.CHAMBER_SHOCK_SCALE)[:, chamber][:, None, :]
        absence = flat_draws(draws, mv.CHAMBER_ABSENCE)[:, chamber][:, None, :]
        eps = rng.standard_normal((n_draws, n_replicates, len(new))) * scale
        eps[rng.random(eps.shape) < absence] = -np.inf
        shocks[..., new] = eps
    weight = (
        layout.member_weight if layout.member_weight is not None else np.ones(len(layout.members), np.int64)
    )
    present = np.stack(
        [
            np.isfinite(shocks[..., layout.member_chamber == c]) @ weight[layout.member_chamber == c]
            for c in range(len(layout.chambers))
        ],
        axis=-1,
    ).astype(np.int64)
    old_ref = {base.layout.chambers[c]: q for q, c in enumerate(worlds.referendum_chambers.tolist())}
    slots = [old_ref[layout.chambers[c]] for c in layout.referendum_chambers.tolist()]
    return dataclasses.replace(
        fresh,
        member_shock=shocks,
        present=present,
        referendum_campaign=worlds.referendum_campaign[..., slots],
        chains=worlds.chains,
        independent_draws=worlds.independent_draws,
    )
