"""Constituencies — blocs, lobbies, publics and chiefs — and ways to move their preferences.

A constituency is anything whose preferences can be shifted for sensitivity (docs/design.md, "Vocabulary").
This module says which draws belong to each one, shifts its ideal point (draws and worlds, with
common random numbers), and recombines its parameters across draws for variance-based indices.

Axis order: ``D`` epistemic draws, ``M`` members, ``K`` issues, ``F`` features.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.engine import KernelInput, prepare
from riskmodel.model import variables as mv
from riskmodel.model.layout import Layout
from riskmodel.model.variables import OPTIONAL_RANDOM_INPUTS, ideal_of, salience_of
from riskmodel.spec.priors import Prior
from riskmodel.spec.priors import prior_sd as _prior_sd
from riskmodel.worlds.arrays import Worlds
from riskmodel.worlds.build import member_coefficients
from riskmodel.worlds.crn import (
    RANDOM_INPUTS,
    Baseline,
    flat_draws,
    member_subset,
    rebuild_worlds,
    restore_draws,
    side_members,
)
from riskmodel.worlds.gains import gain_coefficients
from riskmodel.worlds.multilateral import bloc_reversion

__all__ = [
    "Constituency",
    "Kind",
    "Shifter",
    "constituencies",
    "group_varies",
    "ideal_prior_sd",
    "rebuilt_worlds",
    "recombined_draws",
    "recombined_worlds",
    "shifted_draws",
    "shifted_worlds",
    "tornado_shift",
    "touched_members",
]

Kind = Literal["bloc", "lobby", "public", "chief"]
FloatArray = npt.NDArray[np.float64]

# Parameters of each kind of constituency (the variance-based indices swap them as a group).
GROUP_VARIABLES: dict[str, tuple[str, ...]] = {
    "bloc": (
        mv.BLOC_IDEAL,
        mv.BLOC_SPREAD,
        mv.BLOC_SALIENCE,
        mv.BLOC_PARTY_PULL,
        mv.BLOC_RESPONSIVENESS,
        mv.BLOC_VALENCE,
    ),
    "lobby": (mv.LOBBY_IDEAL, mv.LOBBY_SALIENCE, mv.LOBBY_INFLUENCE),
    "public": (mv.PUBLIC_IDEAL, mv.PUBLIC_SPREAD, mv.PUBLIC_SALIENCE, mv.PUBLIC_APPROVAL),
    "chief": (mv.CHIEF_IDEAL, mv.CHIEF_SALIENCE),
}


@dataclass(frozen=True)
class Constituency:
    """One constituency of a layout.

    Attributes
    ----------
    kind
        ``bloc``, ``lobby``, ``public`` or ``chief``.
    index
        Its index among the layout's blocs, lobbies, publics or chiefs.
    name
        Its layout name (``us.house_dem``; the side's name for a public or chief).
    side
        Index of its side.
    """

    kind: Kind
    index: int
    name: str
    side: int

    @property
    def label(self) -> str:
        """``kind:name``, unique within a scenario."""
        return f"{self.kind}:{self.name}"


def constituencies(layout: Layout) -> list[Constituency]:
    """Every constituency of a scenario: blocs, lobbies, publics, then chiefs."""
    found = [Constituency("bloc", i, name, int(layout.bloc_side[i])) for i, name in enumerate(layout.blocs)]
    found += [Constituency("lobby", i, n, int(layout.lobby_side[i])) for i, n in enumerate(layout.lobbies)]
    found += [Constituency("public", i, n, int(layout.public_side[i])) for i, n in enumerate(layout.publics)]
    found += [Constituency("chief", i, n, int(layout.chief_side[i])) for i, n in enumerate(layout.chiefs)]
    return found


def _ideal_priors(layout: Layout, constituency: Constituency) -> list[Prior]:
    specs: dict[str, Sequence[Any]] = {
        "bloc": layout.bloc_specs,
        "lobby": layout.lobby_specs,
        "public": layout.public_specs,
        "chief": layout.chief_specs,
    }
    ideal = specs[constituency.kind][constituency.index].ideal
    return [ideal[issue] for issue in layout.issues]


def ideal_prior_sd(layout: Layout, constituency: Constituency) -> FloatArray:
    """Prior SD of the constituency's ideal point on each issue (issue units; 0 when fixed)."""
    return np.array([_prior_sd(prior) for prior in _ideal_priors(layout, constituency)])


def touched_members(layout: Layout, constituency: Constituency) -> npt.NDArray[np.int64]:
    """Members whose net gain involves the constituency's preferences."""
    match constituency.kind:
        case "bloc":
            return np.flatnonzero(layout.member_bloc == constituency.index).astype(np.int64)
        case "lobby":
            return np.flatnonzero(layout.lobby_reach[constituency.index]).astype(np.int64)
        case _:
            return side_members(layout, constituency.side)


def _ideal(base: Baseline, constituency: Constituency) -> FloatArray:
    """(D, K) the constituency's ideal point per draw, issue units."""
    return flat_draws(base.draws, ideal_of(constituency.kind))[:, constituency.index]


def tornado_shift(
    base: Baseline,
    constituency: Constituency,
    deal: npt.ArrayLike,
    *,
    toward: bool,
    prior_sd: FloatArray | None = None,
) -> FloatArray:
    """Per-draw shift (D, K) of the ideal point by one prior SD toward or away from a deal.

    On each issue and in each draw, toward moves the ideal point closer to the deal's value,
    by one prior SD but never past the deal's value; away moves it one prior SD the other way.
    Issues with a fixed ideal point do not move. ``prior_sd`` (K,) saves recomputing
    :func:`ideal_prior_sd`.
    """
    gap = np.asarray(deal, dtype=np.float64)[None, :] - _ideal(base, constituency)
    sd = (ideal_prior_sd(base.layout, constituency) if prior_sd is None else prior_sd)[None, :]
    if toward:
        return np.sign(gap) * np.minimum(sd, np.abs(gap))
    return -np.sign(gap) * sd


def shifted_draws(base: Baseline, constituency: Constituency, shift: FloatArray) -> xr.Dataset:
    """Draws with the constituency's ideal point moved by ``shift`` (D, K) issue units.

    A bloc's members move with it (``bloc_ideal`` and ``member_ideal``).
    """
    name = ideal_of(constituency.kind)
    ideal = flat_draws(base.draws, name)
    ideal[:, constituency.index] += shift
    updates = {name: ideal}
    if constituency.kind == "bloc":
        members = touched_members(base.layout, constituency)
        member_ideal = flat_draws(base.draws, mv.MEMBER_IDEAL)
        member_ideal[:, members] += shift[:, None, :]
        updates[mv.MEMBER_IDEAL] = member_ideal
    return restore_draws(base.draws, updates)


def shifted_worlds(base: Baseline, constituency: Constituency, shift: FloatArray) -> Worlds:
    """Worlds with the constituency's ideal point moved by ``shift`` (D, K), shocks kept (CRN).

    Equal (to rounding) to ``rebuild_worlds(base, shifted_draws(...))`` but without a pass
    through :func:`riskmodel.worlds.build.make_worlds`: an actor's net gain is affine in its ideal
    point, so the shift adds one coefficient change per draw to every member that weighs that
    actor's gain — 1 for a bloc's own members, the influence for a lobby's reach, the
    responsiveness for a public and the party pull for a chief. To shift one constituency
    several times, :class:`Shifter` reads its draws once.
    """
    return Shifter(base, constituency).worlds(shift)


class Shifter:
    """Worlds with one constituency's ideal point shifted, for any number of shifts.

    What does not depend on the shift — the constituency's draws, the members it reaches and
    how much each weighs it, its net-gain coefficients before the shift — is read once here;
    each :meth:`worlds` then costs one coefficient change and one update of the members'
    coefficients. The numbers are those of :func:`shifted_worlds`.
    """

    def __init__(self, base: Baseline, constituency: Constituency) -> None:
        self.base, self.constituency = base, constituency
        layout, draws, worlds = base.layout, base.draws, base.worlds
        if worlds.sequences:
            return  # every shift is rebuilt (see worlds())
        kind, index = constituency.kind, constituency.index
        links = layout.link_pairs
        n_draws = worlds.n_draws
        self.interaction = flat_draws(draws, mv.LINK_INTERACTION) if len(links) else np.zeros((n_draws, 0))
        self.theta = (_ideal(base, constituency) - layout.issue_low) / layout.issue_span
        self.salience = flat_draws(draws, salience_of(kind))[:, index]
        self.reversion = layout.to_unit(layout.reversion)[constituency.side]
        if kind == "bloc" and mv.BLOC_REVERSION in draws:
            # a bloc with a fallback of its own weighs its members' own gain against it
            self.reversion = bloc_reversion(layout, draws)[:, index]
        self.unshifted = gain_coefficients(
            self.theta, self.salience, self.reversion, self.interaction, links, layout.issue_linear
        )
        self.members = touched_members(layout, constituency)
        bloc_of = layout.member_bloc[self.members]
        match kind:
            case "bloc":
                self.weight = np.ones((n_draws, len(self.members)))
            case "lobby":
                influence = flat_draws(draws, mv.LOBBY_INFLUENCE)[:, index, None]
                self.weight = np.repeat(influence, len(self.members), axis=1)
            case "public":
                self.weight = flat_draws(draws, mv.BLOC_RESPONSIVENESS)[:, bloc_of]
            case _:
                self.weight = flat_draws(draws, mv.BLOC_PARTY_PULL)[:, bloc_of]
        self.on_side = layout.chamber_side[worlds.referendum_chambers] == constituency.side
        self._kernel_input: KernelInput | None = None  # built by the first engine_input()

    def worlds(self, shift: FloatArray) -> Worlds:
        """Worlds with the ideal point moved by ``shift`` (D, K) issue units."""
        base, constituency = self.base, self.constituency
        worlds = base.worlds
        if worlds.sequences:
            # a reversion_if shift is a difference of constant terms, which depend on the ideal
            # points: rebuild coefficients and shifts together rather than update one of them
            return rebuild_worlds(base, shifted_draws(base, constituency, shift))
        change = self._change(shift)
        coef = worlds.member_coef.copy()
        coef[:, self.members] += self.weight[:, :, None] * change[:, None, :]
        return dataclasses.replace(worlds, member_coef=coef, referendum_coef=self._referendum_coef(change))

    def engine_input(self, shift: FloatArray) -> tuple[Worlds, KernelInput | None]:
        """Worlds and kernel input to evaluate deals in the shifted worlds (engine's ``prepared=``).

        The kernel input holds the shifted coefficients as the engine uses them: the base
        worlds' float32 coefficients with the touched members' replaced, the same numbers as
        ``prepare(self.worlds(shift))`` without copying and rearranging every member's
        float64 coefficients. The worlds are the base worlds with the shifted referendum
        coefficients; their ``member_coef`` are the unshifted ones, so they are only meant to
        go to the engine together with this kernel input. With ``reversion_if`` the worlds are
        rebuilt (:meth:`worlds`) and the kernel input is None: the engine prepares them.

        Every call writes the same members' coefficients into one buffer, which the kernel
        input returned by the previous call shares: only the latest one holds its shift.
        """
        worlds = self.base.worlds
        if worlds.sequences:
            return self.worlds(shift), None
        if self._kernel_input is None:
            unshifted = prepare(worlds)
            self._kernel_input = dataclasses.replace(unshifted, coef_t=unshifted.coef_t.copy())
            # (D, F, M_touched): the members' coefficients and weights, laid out as the kernel's
            self._coef_t = np.ascontiguousarray(np.moveaxis(worlds.member_coef[:, self.members], 2, 1))
            self._weight_t = self.weight[:, None, :]
            lo, hi = (int(self.members[0]), int(self.members[-1]) + 1) if len(self.members) else (0, 0)
            contiguous = np.array_equal(self.members, np.arange(lo, hi))
            self._columns: slice | npt.NDArray[np.int64] = slice(lo, hi) if contiguous else self.members
        change = self._change(shift)
        # the same sum, element by element, as worlds() computes, then cast to float32 as prepare() does
        self._kernel_input.coef_t[:, :, self._columns] = self._coef_t + self._weight_t * change[:, :, None]
        evaluated = dataclasses.replace(worlds, referendum_coef=self._referendum_coef(change))
        return evaluated, self._kernel_input

    def _change(self, shift: FloatArray) -> FloatArray:
        """``(D, F)`` the change of the constituency's net-gain coefficients."""
        layout = self.base.layout
        delta = shift / layout.issue_span
        shifted = gain_coefficients(
            self.theta + delta,
            self.salience,
            self.reversion,
            self.interaction,
            layout.link_pairs,
            layout.issue_linear,
        )
        return shifted - self.unshifted

    def _referendum_coef(self, change: FloatArray) -> FloatArray:
        referendum_coef = self.base.worlds.referendum_coef
        if self.constituency.kind == "public":
            referendum_coef = referendum_coef.copy()
            referendum_coef[:, self.on_side] += change[:, None, :]
        return referendum_coef


def _group_columns(base: Baseline, constituency: Constituency) -> list[str]:
    return [name for name in GROUP_VARIABLES[constituency.kind] if name in base.draws]


def group_varies(base: Baseline, constituency: Constituency) -> bool:
    """Whether any of the constituency's parameters differs between draws."""
    for name in _group_columns(base, constituency):
        values = flat_draws(base.draws, name)[:, constituency.index]
        if np.ptp(values.reshape(values.shape[0], -1), axis=0).max(initial=0.0) > 0:
            return True
    return False


def recombined_draws(
    base: Baseline, constituency: Constituency, permutation: npt.NDArray[np.int64]
) -> xr.Dataset:
    """Draws in which the constituency's parameters come from draw ``permutation[e]``.

    Everything else stays in draw ``e``. A bloc's members keep their own standardised
    deviation from the bloc: ``member = bloc' + offset + spread'/spread × (member - bloc -
    offset)`` (members of a bloc with no spread sit at the bloc's ideal point plus offset).
    """
    index = constituency.index
    updates: dict[str, FloatArray] = {}
    for name in _group_columns(base, constituency):
        values = flat_draws(base.draws, name)
        values[:, index] = values[permutation, index]
        updates[name] = values
    if constituency.kind == "bloc" and mv.MEMBER_IDEAL in base.draws:
        layout = base.layout
        members = touched_members(layout, constituency)
        old_ideal = flat_draws(base.draws, mv.BLOC_IDEAL)[:, index]
        old_spread = flat_draws(base.draws, mv.BLOC_SPREAD)[:, index]
        member_ideal = flat_draws(base.draws, mv.MEMBER_IDEAL)
        offset = layout.member_offset[members]
        deviation = member_ideal[:, members] - old_ideal[:, None, :] - offset[None]
        new_spread = old_spread[permutation]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(old_spread > 0, new_spread / old_spread, 0.0)
        member_ideal[:, members] = (
            old_ideal[permutation][:, None, :] + offset[None] + ratio[:, None, :] * deviation
        )
        updates[mv.MEMBER_IDEAL] = member_ideal
    return restore_draws(base.draws, updates)


def recombined_worlds(
    base: Baseline, constituency: Constituency, permutation: npt.NDArray[np.int64]
) -> Worlds:
    """Worlds of :func:`recombined_draws`, with the base worlds' shocks (CRN).

    Only the members the constituency touches get new coefficients (all of them with
    ``reversion_if``, whose sequence shifts are rebuilt with the coefficients).
    """
    draws = recombined_draws(base, constituency, permutation)
    members = None if base.worlds.sequences else touched_members(base.layout, constituency)
    return rebuilt_worlds(base, draws, members)


def rebuilt_worlds(base: Baseline, draws: xr.Dataset, members: npt.NDArray[np.int64] | None) -> Worlds:
    """``rebuild_worlds(base, draws, members=members)``: the same worlds, often for less.

    Where the scenario has no referendum, no ``reversion_if`` and no ``block`` bloc, the
    members' coefficients are all that changes, and they are computed by
    :func:`riskmodel.worlds.build.member_coefficients` alone, as
    :func:`riskmodel.worlds.crn.rebuild_worlds` computes them (the same numbers), without
    drawing the shocks it throws away; otherwise the worlds come from ``rebuild_worlds``.
    """
    layout, worlds = base.layout, base.worlds
    plain = not worlds.sequences and not len(layout.referendum_chambers) and layout.member_lead is None
    if members is None or not plain:
        return rebuild_worlds(base, draws, members=members)
    for name in (*RANDOM_INPUTS, *OPTIONAL_RANDOM_INPUTS):
        if name in base.draws and not np.array_equal(base.draws[name], draws[name]):
            raise ValueError(f"{name} changed: the shocks would no longer be common random numbers")
    sub_draws = draws.isel(member=members) if "member" in draws.dims else draws
    coef = worlds.member_coef.copy()
    coef[:, members] = member_coefficients(
        member_subset(layout, members), sub_draws, layout.to_unit(layout.reversion)
    )
    return dataclasses.replace(worlds, member_coef=coef)
