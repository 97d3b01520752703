"""Sensitivity of ratification to each constituency (docs/design.md, "Analyses").

For every constituency (bloc, lobby, public, chief) and deal:

- **tornado** — the change in each side's and the agreement's probability when the
  constituency's ideal point moves one prior SD toward the deal (never past it) or one prior
  SD away from it on every issue, recomputed on the same worlds (common random numbers), with
  the MCSE of the paired per-draw difference;
- **Sobol indices** — first-order and total indices of the per-draw conditional probability
  p_e on the constituency's parameter group, by recombining the existing draws
  (:mod:`riskmodel.analyses.sobol`); a draw's shock replicates count among the other inputs;
- **pivotality** — how often the side's outcome changes when the constituency's votes are
  redrawn (cast as in another world), and **decisive** — how often they would change it by
  voting the other way (:mod:`riskmodel.analyses.pivotality`); for every member the same two
  and how often it votes for the deal: the whip list. A veto player that always signs is
  decisive in every world and pivotal in none.

Sobol indices are variance shares: estimates outside [0, 1] (sampling error) are clipped, with
the raw estimate and a ±2 SE interval kept beside them. A constituency whose ideal point is
fixed has no prior SD to shift: its tornado is NaN ("not applicable"), while its Sobol index
still counts the rest of its parameter group (a lobby's influence and salience).

A note on reading the tornado: with quadratic utility an actor's net gain from a deal x over
the reversion q rises as its ideal point moves in the direction of ``x - q``, not toward x. An
ideal point beyond the deal (a union wanting more enforcement than the deal gives) that moves
toward the deal therefore likes the deal *less* relative to the reversion, and its "toward"
bar can be negative.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.analyses import pivotality
from riskmodel.analyses.constituency import (
    Constituency,
    Shifter,
    constituencies,
    group_varies,
    ideal_prior_sd,
    recombined_worlds,
    tornado_shift,
)
from riskmodel.analyses.parties import DealParties, deal_parties, mask_outcomes, party_outcomes
from riskmodel.analyses.sobol import derangement, pick_freeze_indices, pick_freeze_standard_errors
from riskmodel.analyses.threads import kernel_threads
from riskmodel.defaults import DEFAULT_SENSITIVITY_SEED
from riskmodel.errors import ParameterError, RiskmodelError
from riskmodel.io import load_netcdf, save_netcdf
from riskmodel.randomness import SeedLike, as_seed_sequence
from riskmodel.results.mcse import mean_and_mcse
from riskmodel.worlds.crn import Baseline, baseline_of

__all__ = [
    "DEFAULT_SENSITIVITY_SEED",
    "MIN_VARYING_DRAWS",
    "analyse_sensitivity",
    "load_sensitivity",
    "save_sensitivity",
]

MIN_VARYING_DRAWS = 10
"""Sobol indices are NaN unless at least this many draws' p_e differ from the median p_e."""
AGREEMENT = "agreement"
DIRECTIONS = ("toward", "away")
PIVOTALITY_GROUP = ("pivotality", "pivotality_mcse", "decisive", "decisive_mcse")
PIVOTALITY_MEMBER = ("member_pivotality", "member_decisive", "member_yes_probability")

Progress = Callable[[int, int], None]
FloatArray = npt.NDArray[np.float64]


def _deal_selection(base: Baseline, deals: Sequence[str] | None) -> tuple[list[str], FloatArray]:
    layout = base.layout
    if deals is None:
        return list(layout.deals), layout.deal_values
    unknown = [name for name in deals if name not in layout.deals]
    if unknown:
        raise RiskmodelError(
            f"unknown deal '{unknown[0]}'; the scenario's deals are: {', '.join(layout.deals)}"
        )
    return list(deals), layout.deal_values[[layout.deals.index(name) for name in deals]]


def _tornado(
    base: Baseline, constituency: Constituency, parties: DealParties, base_pe: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Change and MCSE ``(direction, outcome, deal)`` of moving the ideal point."""
    values = base.layout.deal_values[parties.index]
    shape = (len(DIRECTIONS), base_pe.shape[0], values.shape[0])
    change, mcse = np.zeros(shape), np.zeros(shape)
    sd = ideal_prior_sd(base.layout, constituency)
    if not np.any(sd > 0):
        # a fixed ideal point has no prior SD to move by: not "no effect" (its influence or
        # salience may still matter, as its Sobol index shows), so no number at all
        return np.full(shape, np.nan), np.full(shape, np.nan)
    shifter = Shifter(base, constituency)
    for n, deal in enumerate(values):
        for d, direction in enumerate(DIRECTIONS):
            shift = tornado_shift(base, constituency, deal, toward=direction == "toward", prior_sd=sd)
            worlds, prepared = shifter.engine_input(shift)
            moved = party_outcomes(base.layout, worlds, parties, which=[n], prepared=prepared)[..., 0]
            change[d, :, n], mcse[d, :, n] = mean_and_mcse(moved - base_pe[..., n], axis=1, worlds=worlds)
    return change, mcse


def _sobol(
    base: Baseline,
    constituency: Constituency,
    parties: DealParties,
    base_pe: FloatArray,
    permutation: npt.NDArray[np.int64],
    *,
    n_bootstrap: int,
    seed: np.random.SeedSequence,
) -> FloatArray:
    """``(4, outcome, deal)``: first, its SE, total, its SE."""
    out = np.zeros((4, *base_pe.shape[::2]))
    if group_varies(base, constituency):
        worlds = recombined_worlds(base, constituency, permutation)
        mixed = party_outcomes(base.layout, worlds, parties)
        out[0], out[2] = pick_freeze_indices(base_pe, base_pe[:, permutation], mixed, axis=1)
        out[1], out[3] = pick_freeze_standard_errors(
            base_pe, base_pe[:, permutation], mixed, axis=1, n_bootstrap=n_bootstrap, seed=seed
        )
    # Too few draws away from the typical p_e: the variance cannot be apportioned.
    varying = np.sum(base_pe != np.median(base_pe, axis=1, keepdims=True), axis=1)
    out[:, varying < MIN_VARYING_DRAWS] = np.nan
    return out


def analyse_sensitivity(
    simulation: Any,
    *,
    deals: Sequence[str] | None = None,
    seed: SeedLike = DEFAULT_SENSITIVITY_SEED,
    n_bootstrap: int = 200,
    progress: Progress | None = None,
) -> xr.Dataset:
    """Tornado, Sobol indices and pivotality of every constituency, for the scenario's deals.

    Parameters
    ----------
    simulation
        A :class:`riskmodel.pipeline.Simulation`; its worlds are reused (no prior re-sampling).
    deals
        Names of the deals to analyse (all named deals by default).
    seed
        Seed of the draw recombination and the bootstrap of the Sobol indices.
    n_bootstrap
        Bootstrap resamples for the Sobol indices' standard errors.
    progress
        Called as ``progress(done, total)`` after each constituency.

    Returns
    -------
    xarray.Dataset
        Dims ``constituency``, ``outcome`` (sides, then ``agreement``), ``deal``,
        ``direction`` (toward, away) and ``member``; see :func:`save_sensitivity`.
    """
    base = baseline_of(simulation)
    layout, worlds = base.layout, base.worlds
    names, values = _deal_selection(base, deals)
    if worlds.n_draws < 4:
        raise ParameterError("sensitivity needs at least 4 epistemic draws (raise {n_worlds})")
    # hundreds of engine calls of one worlds' worth of work each
    with kernel_threads(worlds.n_worlds * len(layout.members) * len(names)):
        return _analyse(simulation, base, names, values, seed, n_bootstrap, progress)


def _analyse(
    simulation: Any,
    base: Baseline,
    names: list[str],
    values: FloatArray,
    seed: SeedLike,
    n_bootstrap: int,
    progress: Progress | None,
) -> xr.Dataset:
    layout, worlds = base.layout, base.worlds
    parties = deal_parties(layout, names)
    base_pe = party_outcomes(layout, worlds, parties)  # (O, D, N)
    baseline, baseline_mcse = mean_and_mcse(base_pe, axis=1, worlds=worlds)
    permute_seed, boot_seed, pair_seed = as_seed_sequence(seed).spawn(3)
    permutation = derangement(worlds.n_draws, permute_seed)
    pairing = derangement(worlds.n_draws * worlds.n_replicates, pair_seed)  # worlds, for pivotality
    groups = constituencies(layout)
    boot_seeds = boot_seed.spawn(len(groups))
    votes = [pivotality.deal_votes(layout, worlds, deal) for deal in values]

    n_groups, n_out, n_deals = len(groups), base_pe.shape[0], len(names)
    change = np.zeros((len(DIRECTIONS), n_groups, n_out, n_deals))
    change_mcse = np.zeros_like(change)
    sobol = np.zeros((4, n_groups, n_out, n_deals))
    pivotal = np.full((n_groups, n_deals), np.nan)
    pivotal_mcse = np.full((n_groups, n_deals), np.nan)
    decides = np.full((n_groups, n_deals), np.nan)
    decides_mcse = np.full((n_groups, n_deals), np.nan)
    for g, constituency in enumerate(groups):
        change[:, g], change_mcse[:, g] = _tornado(base, constituency, parties, base_pe)
        sobol[:, g] = _sobol(
            base, constituency, parties, base_pe, permutation, n_bootstrap=n_bootstrap, seed=boot_seeds[g]
        )
        for n, deal_votes in enumerate(votes):
            decisive = _decisive(deal_votes, constituency)
            if decisive is not None:
                decides[g, n], decides_mcse[g, n] = mean_and_mcse(
                    decisive.mean(axis=1), axis=0, worlds=worlds
                )
                swing = _swing(deal_votes, constituency, pairing)
                assert swing is not None
                pivotal[g, n], pivotal_mcse[g, n] = mean_and_mcse(swing.mean(axis=1), axis=0, worlds=worlds)
        if progress is not None:
            progress(g + 1, n_groups)

    decisive_members = [pivotality.member_pivotal(v) for v in votes]
    member_pivotal = np.stack(
        [pivotality.member_swing(v, d) for v, d in zip(votes, decisive_members, strict=True)], axis=-1
    )
    member_decisive = np.stack([d.mean(axis=(0, 1)) for d in decisive_members], axis=-1)
    member_yes = np.stack([v.votes.mean(axis=(0, 1)) for v in votes], axis=-1)
    outcomes = [*layout.sides, AGREEMENT]
    width = np.abs(change[0] - change[1])
    data = {
        "baseline_probability": (("outcome", "deal"), baseline),
        "baseline_mcse": (("outcome", "deal"), baseline_mcse),
        "tornado_change": (("direction", "constituency", "outcome", "deal"), change),
        "tornado_mcse": (("direction", "constituency", "outcome", "deal"), change_mcse),
        "tornado_width": (("constituency", "outcome", "deal"), width),
        **_sobol_variables(sobol),
        "pivotality": (("constituency", "deal"), pivotal),
        "pivotality_mcse": (("constituency", "deal"), pivotal_mcse),
        "decisive": (("constituency", "deal"), decides),
        "decisive_mcse": (("constituency", "deal"), decides_mcse),
        "member_pivotality": (("member", "deal"), member_pivotal),
        "member_decisive": (("member", "deal"), member_decisive),
        "member_yes_probability": (("member", "deal"), member_yes),
    }
    coords = {
        "constituency": [c.label for c in groups],
        "constituency_kind": ("constituency", [c.kind for c in groups]),
        "constituency_side": ("constituency", [layout.sides[c.side] for c in groups]),
        "outcome": outcomes,
        "deal": names,
        "direction": list(DIRECTIONS),
        "member": layout.members,
        "member_bloc": ("member", [layout.blocs[b] for b in layout.member_bloc]),
        "member_chamber": ("member", [layout.chambers[c] for c in layout.member_chamber]),
        "member_side": ("member", [layout.sides[layout.chamber_side[c]] for c in layout.member_chamber]),
        "issue": layout.issues,
    }
    spec = layout.scenario.spec
    attrs = {
        "scenario_name": spec.name,
        "scenario_title": spec.title or spec.name,
        "scenario_digest": layout.scenario.digest,
        "seed": -1 if getattr(simulation, "seed", None) is None else int(simulation.seed),
        "sensitivity_seed": seed if isinstance(seed, int) else -1,
        "n_draws": worlds.n_draws,
        "n_replicates": worlds.n_replicates,
        "n_worlds": worlds.n_worlds,
        "n_bootstrap": n_bootstrap,
        "tornado_shift": "one prior SD per issue; toward stops at the deal's value",
        "sobol_estimator": "recombination pick-freeze: Saltelli et al. 2010 first order, Jansen 1999 total",
        "sobol_clipping": "sobol_first/sobol_total clipped to [0, 1]; *_estimate unclipped; "
        "*_low/*_high = estimate ± 2 SE, clipped to [0, 1]",
        "pivotality": "P(outcome flips if the actor's vote is redrawn from its own distribution); "
        "decisive: P(outcome flips if the actor voted the other way)",
        "issue_units": json.dumps({i.name: i.unit for i in spec.issues}),
    }
    ds = xr.Dataset(data, coords=coords, attrs=attrs)
    ds["deal_value"] = (("deal", "issue"), values)
    return _mask_non_parties(ds, parties) if parties.restricted else ds


def _mask_non_parties(ds: xr.Dataset, parties: DealParties) -> xr.Dataset:
    """NaN for every number about a side a deal does not evaluate (its constituencies, members)."""
    ds = mask_outcomes(ds, parties)
    side = {name: s for s, name in enumerate(ds["side"].to_numpy().tolist())}
    groups = [side[str(s)] for s in ds["constituency_side"].to_numpy()]
    ds[list(PIVOTALITY_GROUP)] = ds[list(PIVOTALITY_GROUP)].where(
        xr.DataArray(parties.evaluated[groups], dims=("constituency", "deal"))
    )
    members = [side[str(s)] for s in ds["member_side"].to_numpy()]
    ds[list(PIVOTALITY_MEMBER)] = ds[list(PIVOTALITY_MEMBER)].where(
        xr.DataArray(parties.evaluated[members], dims=("member", "deal"))
    )
    return ds


def _sobol_variables(sobol: FloatArray) -> dict[str, tuple[tuple[str, ...], FloatArray]]:
    """Sobol indices clipped to [0, 1] (they are variance shares), with raw estimates and intervals.

    A pick-freeze estimate can fall below 0 or above 1 by sampling error; the clipped value is
    what a reader can interpret, the raw estimate stays in ``*_estimate``, and ``*_low`` /
    ``*_high`` (± 2 bootstrap SE, clipped) show how little a wide interval says.
    """
    dims = ("constituency", "outcome", "deal")
    out: dict[str, tuple[tuple[str, ...], FloatArray]] = {}
    for name, estimate, se in (("sobol_first", sobol[0], sobol[1]), ("sobol_total", sobol[2], sobol[3])):
        out[name] = (dims, np.clip(estimate, 0.0, 1.0))
        out[f"{name}_se"] = (dims, se)
        out[f"{name}_estimate"] = (dims, estimate)
        out[f"{name}_low"] = (dims, np.clip(estimate - 2 * se, 0.0, 1.0))
        out[f"{name}_high"] = (dims, np.clip(estimate + 2 * se, 0.0, 1.0))
    return out


def _swing(
    votes: pivotality.DealVotes, constituency: Constituency, pairing: npt.NDArray[np.int64]
) -> npt.NDArray[np.bool_] | None:
    """``(D, R)`` whether the constituency's votes, redrawn from a paired world, change its side."""
    match constituency.kind:
        case "bloc":
            return pivotality.bloc_swing(votes, constituency.index, pairing)
        case "public":
            return pivotality.public_swing(votes, constituency.side, pairing)
    return None


def _decisive(votes: pivotality.DealVotes, constituency: Constituency) -> npt.NDArray[np.bool_] | None:
    """``(D, R)`` whether the constituency's votes decide its side; None if it casts none."""
    match constituency.kind:
        case "bloc":
            return pivotality.bloc_decisive(votes, constituency.index)
        case "public":
            return pivotality.public_decisive(votes, constituency.side)
    return None


def save_sensitivity(sensitivity: xr.Dataset, path: str | Path) -> Path:
    """Save a sensitivity Dataset as netCDF (h5netcdf), atomically."""
    return save_netcdf(sensitivity, path)


def load_sensitivity(path: str | Path) -> xr.Dataset:
    """Load a Dataset saved by :func:`save_sensitivity` (or by the stress sweep)."""
    return load_netcdf(path, kind="riskmodel netCDF")
