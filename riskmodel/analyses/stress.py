"""Stress tests: named shocks applied to a scenario, alone and combined, swept over its deals.

Each unit of work — one shock or one declared combination — produces a shocked scenario:

- preference shocks (shift a bloc, lobby, public or chief; swing approval; scale or flip a
  lobby) modify the draws and rebuild the worlds' coefficients, keeping every shock (CRN);
- structural shocks (seats, thresholds, veto players) modify the scenario spec, and the base
  draws and shocks are carried over to its layout (:mod:`riskmodel.spec.structural`,
  :mod:`riskmodel.worlds.realign`).

Structural shocks of a combination apply first, then its preference shocks, each in the order
listed. The sweep reports, per unit, deal and outcome (each side and the agreement), the
change in probability against the unshocked scenario with the MCSE of the paired per-draw
difference, and ranks the units by their largest change in the probability of agreement on
any deal, up or down (a shock that helps one deal a lot is as worth knowing as one that hurts),
marking each as helping, hurting or unclear (within 2 MCSE of no change).

Units run serially or on Dask (``client``); each unit gets its own child of the sweep's seed
(spawned in the order of the units), so the numbers are bit-identical however they are run.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.analyses.cluster import dask_client
from riskmodel.analyses.constituency import (
    Constituency,
    Kind,
    ideal_prior_sd,
    rebuilt_worlds,
    shifted_worlds,
    touched_members,
)
from riskmodel.analyses.parties import DealParties, deal_parties, mask_outcomes, party_outcomes
from riskmodel.analyses.realigned import realigned_draws
from riskmodel.analyses.threads import kernel_threads
from riskmodel.defaults import DEFAULT_STRESS_SEED
from riskmodel.errors import RiskmodelError
from riskmodel.io import save_netcdf
from riskmodel.model import variables as mv
from riskmodel.model.layout import Layout, build_layout
from riskmodel.randomness import SeedLike, as_seed_sequence
from riskmodel.results.mcse import mean_and_mcse
from riskmodel.spec.shocks import STRUCTURAL_KINDS, ShockSet
from riskmodel.spec.structural import restructured_scenario
from riskmodel.worlds.arrays import Worlds
from riskmodel.worlds.crn import Baseline, baseline_of, flat_draws, restore_draws
from riskmodel.worlds.realign import realign_worlds
from riskmodel.worlds.rules import drop_vetoes

__all__ = ["DEFAULT_STRESS_SEED", "apply_shocks", "dask_client", "save_stress", "stress_test"]

_IDEAL_SHIFTS = frozenset({"shift_bloc", "shift_lobby", "shift_public", "shift_chief"})
FloatArray = npt.NDArray[np.float64]
Progress = Callable[[int, int], None]


def _constituency(layout: Layout, shock: Any) -> tuple[Constituency, str, int]:
    """The constituency a preference shock moves, the variable it edits and the column."""
    side = layout.sides.index(shock.side)
    if hasattr(shock, "bloc"):
        index = layout.blocs.index(f"{shock.side}.{shock.bloc}")
        return Constituency("bloc", index, layout.blocs[index], side), mv.BLOC_IDEAL, index
    if hasattr(shock, "lobby"):
        index = layout.lobbies.index(f"{shock.side}.{shock.lobby}")
        return Constituency("lobby", index, layout.lobbies[index], side), mv.LOBBY_IDEAL, index
    kind: Kind = "chief" if shock.kind == "shift_chief" else "public"
    index = (layout.chiefs if kind == "chief" else layout.publics).index(shock.side)
    return Constituency(kind, index, shock.side, side), mv.ideal_of(kind), index


def _shift_amount(layout: Layout, constituency: Constituency, shock: Any) -> float:
    if shock.by is not None:
        return float(shock.by)
    return float(shock.sd) * float(ideal_prior_sd(layout, constituency)[layout.issues.index(shock.issue)])


def _in_issue_units(layout: Layout, shocks: tuple[Any, ...]) -> tuple[Any, ...]:
    """Shifts given in prior SDs restated in issue units (workers then need no prior maths)."""
    return tuple(
        shock.model_copy(
            update={"by": _shift_amount(layout, _constituency(layout, shock)[0], shock), "sd": None}
        )
        if getattr(shock, "sd", None) is not None
        else shock
        for shock in shocks
    )


def apply_preferences(current: Baseline, shocks: Sequence[Any]) -> tuple[Any, npt.NDArray[np.int64]]:
    """Draws with the preference shocks applied, and the members whose net gain they touch."""
    layout = current.layout
    arrays: dict[str, FloatArray] = {}

    def array(name: str) -> FloatArray:
        if name not in arrays:
            arrays[name] = flat_draws(current.draws, name)
        return arrays[name]

    touched: list[npt.NDArray[np.int64]] = []
    for shock in shocks:
        constituency, variable, index = _constituency(layout, shock)
        touched.append(touched_members(layout, constituency))
        match shock.kind:
            case "scale_lobby" | "flip_lobby":
                factor = -1.0 if shock.kind == "flip_lobby" else float(shock.factor)
                array(mv.LOBBY_INFLUENCE)[:, index] *= factor
            case "shift_approval":
                array(mv.PUBLIC_APPROVAL)[:, index] += float(shock.by)
            case _:
                k = layout.issues.index(shock.issue)
                amount = _shift_amount(layout, constituency, shock)
                array(variable)[:, index, k] += amount
                if constituency.kind == "bloc":
                    array(mv.MEMBER_IDEAL)[:, layout.member_bloc == index, k] += amount
    return restore_draws(current.draws, arrays), np.unique(np.concatenate(touched))


def _shifted(current: Baseline, shocks: Sequence[Any]) -> Worlds:
    """Worlds after ideal-point shifts, by the affine update of :func:`shifted_worlds`.

    No pass through make_worlds is needed: a shift changes no weight, so shifts simply add up.
    """
    layout, worlds = current.layout, current.worlds
    for shock in shocks:
        constituency, _, _ = _constituency(layout, shock)
        shift = np.zeros((worlds.n_draws, len(layout.issues)))
        shift[:, layout.issues.index(shock.issue)] = _shift_amount(layout, constituency, shock)
        worlds = shifted_worlds(Baseline(layout, current.draws, worlds), constituency, shift)
    return worlds


def apply_shocks(
    base: Baseline, shocks: Sequence[Any], *, seed: SeedLike = None, where: str = "shocks"
) -> tuple[Layout, Worlds]:
    """The layout and worlds of the scenario with some shocks applied (CRN with ``base``).

    Parameters
    ----------
    base
        The unshocked baseline.
    shocks
        Validated shocks (:mod:`riskmodel.spec.shocks`); structural ones apply first.
    seed
        Seed for entities the shocks create (new seats, veto players).
    where
        Name of the unit, for error messages.
    """
    rng = np.random.default_rng(as_seed_sequence(seed))
    structural = [shock for shock in shocks if shock.kind in STRUCTURAL_KINDS]
    preference = [shock for shock in shocks if shock.kind not in STRUCTURAL_KINDS]
    layout, draws = base.layout, base.draws
    edits = [shock for shock in structural if shock.kind != "remove_veto"]
    if edits:
        layout = build_layout(restructured_scenario(layout.scenario, edits, where=where))
    reshaped = (layout.members, layout.blocs, layout.chambers) != (
        base.layout.members,
        base.layout.blocs,
        base.layout.chambers,
    )
    if reshaped:
        draws = realigned_draws(base, layout, rng)
    worlds: Worlds
    if not reshaped and preference and all(shock.kind in _IDEAL_SHIFTS for shock in preference):
        worlds = _shifted(Baseline(layout, draws, base.worlds), preference)
    else:
        touched: npt.NDArray[np.int64] | None = None  # with reversion_if, rebuild every shift too
        if preference:
            draws, touched = apply_preferences(Baseline(layout, draws, base.worlds), preference)
            touched = None if base.worlds.sequences else touched
        if reshaped:
            worlds = realign_worlds(base, layout, draws, rng)
        elif preference:
            worlds = rebuilt_worlds(Baseline(layout, base.draws, base.worlds), draws, touched)
        else:
            worlds = base.worlds
    return layout, drop_vetoes(layout, worlds, structural)


def _run_unit(
    base: Baseline, shocks: tuple[Any, ...], seed: np.random.SeedSequence, deals: DealParties, where: str
) -> FloatArray:
    """``(outcome, draw, deal)`` p_e of one unit of work (runs on a Dask worker)."""
    layout, worlds = apply_shocks(base, shocks, seed=seed, where=where)
    return party_outcomes(layout, worlds, deals)


def stress_test(
    simulation: Any,
    shock_set: ShockSet,
    *,
    deals: Sequence[str] | None = None,
    seed: SeedLike = DEFAULT_STRESS_SEED,
    client: Any = None,
    progress: Progress | None = None,
) -> xr.Dataset:
    """Sweep every shock and combination of a shocks file over the scenario's deals.

    Parameters
    ----------
    simulation
        A :class:`riskmodel.pipeline.Simulation`; its worlds are reused (no prior re-sampling).
    shock_set
        Shocks checked against the same scenario (:func:`riskmodel.spec.shockcheck.load_shocks`).
    deals
        Names of the deals (all named deals by default).
    seed
        Seed of the sweep; unit ``i`` uses its ``i``-th spawned child.
    client
        A ``distributed.Client`` to run the units on; serial when None.
    progress
        Called as ``progress(done, total)`` as units finish.

    Returns
    -------
    xarray.Dataset
        ``baseline_probability`` and ``baseline_mcse`` (outcome, deal); ``probability``,
        ``change`` and ``change_mcse`` (shock, outcome, deal); ``danger`` (worst change in the
        probability of agreement over the deals) and ``danger_deal``; ``impact`` (the change
        of largest size over the deals, with its sign) and ``impact_deal``; ``effect``
        (``"helps"``, ``"hurts"``, or ``"unclear"`` when the impact is within 2 MCSE of 0);
        ``rank`` (shock): 1 for the largest impact either way.
    """
    base = baseline_of(simulation)
    layout = base.layout
    names = list(deals) if deals is not None else list(layout.deals)
    for name in names:
        if name not in layout.deals:
            raise RiskmodelError(
                f"unknown deal '{name}'; the scenario's deals are: {', '.join(layout.deals)}"
            )
    values = layout.deal_values[[layout.deals.index(name) for name in names]]
    parties = deal_parties(layout, names)
    units = [(name, kind, _in_issue_units(layout, shocks)) for name, kind, shocks in shock_set.units()]
    seeds = as_seed_sequence(seed).spawn(len(units))
    # serially, one engine call of one worlds' worth of work per unit
    with kernel_threads(base.worlds.n_worlds * len(layout.members) * len(names)):
        base_pe = party_outcomes(layout, base.worlds, parties)
        if client is None:
            shocked = []
            for i, ((name, _, shocks), unit_seed) in enumerate(zip(units, seeds, strict=True)):
                shocked.append(_run_unit(base, shocks, unit_seed, parties, name))
                if progress is not None:
                    progress(i + 1, len(units))
    if client is not None:
        from distributed import as_completed

        shared = client.scatter(base, broadcast=True)
        futures = [
            client.submit(_run_unit, shared, shocks, unit_seed, parties, name, pure=False)
            for (name, _, shocks), unit_seed in zip(units, seeds, strict=True)
        ]
        for done, _ in enumerate(as_completed(futures), start=1):
            if progress is not None:
                progress(done, len(units))
        shocked = client.gather(futures)
    result = _assemble(base, base_pe, np.stack(shocked), units, names, values, seed)
    if parties.restricted:  # sides a deal does not bind are not evaluated for it (NaN)
        result = mask_outcomes(result, parties)
    world_seed = getattr(simulation, "seed", None)  # a report checks the sweep ran on its results' worlds
    return result.assign_attrs(seed=-1 if world_seed is None else int(world_seed))


def _assemble(
    base: Baseline,
    base_pe: FloatArray,
    shocked: FloatArray,
    units: list[tuple[str, str, tuple[Any, ...]]],
    names: list[str],
    values: FloatArray,
    seed: SeedLike,
) -> xr.Dataset:
    worlds = base.worlds
    baseline, baseline_mcse = mean_and_mcse(base_pe, axis=1, worlds=worlds)
    probability = shocked.mean(axis=2)  # (U, O, N)
    change, change_mcse = mean_and_mcse(shocked - base_pe[None], axis=2, worlds=worlds)
    agreement = change[:, -1, :]
    rows = np.arange(len(units))
    worst = np.argmin(agreement, axis=1)
    danger = agreement[rows, worst]
    # a shock matters by its largest effect either way: one that lifts a deal by +0.5 must not
    # rank last because its worst deal moved by +0.000
    largest = np.argmax(np.abs(agreement), axis=1)
    impact = agreement[rows, largest]
    impact_mcse = change_mcse[rows, -1, largest]
    order = np.lexsort((-np.abs(agreement).mean(axis=1), -np.abs(impact)))  # then the larger mean effect
    rank = np.empty(len(units), dtype=np.int64)
    rank[order] = np.arange(1, len(units) + 1)
    effect = np.where(np.abs(impact) <= 2 * impact_mcse, "unclear", np.where(impact > 0, "helps", "hurts"))
    dims = ("shock", "outcome", "deal")
    spec = base.layout.scenario.spec
    return xr.Dataset(
        {
            "baseline_probability": (("outcome", "deal"), baseline),
            "baseline_mcse": (("outcome", "deal"), baseline_mcse),
            "probability": (dims, probability),
            "change": (dims, change),
            "change_mcse": (dims, change_mcse),
            "danger": (("shock",), danger),
            "danger_deal": (("shock",), [names[i] for i in worst]),
            "impact": (("shock",), impact),
            "impact_deal": (("shock",), [names[i] for i in largest]),
            "effect": (("shock",), effect.astype(str)),
            "rank": (("shock",), rank),
            "deal_value": (("deal", "issue"), values),
        },
        coords={
            "shock": [name for name, _, _ in units],
            "shock_kind": ("shock", [kind for _, kind, _ in units]),
            "shock_parts": ("shock", [" + ".join(s.name for s in shocks) for _, _, shocks in units]),
            "outcome": [*base.layout.sides, "agreement"],
            "deal": names,
            "issue": base.layout.issues,
        },
        attrs={
            "scenario_name": spec.name,
            "scenario_digest": base.layout.scenario.digest,
            "stress_seed": seed if isinstance(seed, int) else -1,
            "n_draws": worlds.n_draws,
            "n_replicates": worlds.n_replicates,
            "n_worlds": worlds.n_worlds,
        },
    )


def save_stress(stress: xr.Dataset, path: str | Path) -> Path:
    """Save a stress Dataset as netCDF (h5netcdf), atomically."""
    return save_netcdf(stress, path)
