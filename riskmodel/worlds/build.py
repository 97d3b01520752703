"""Epistemic draws → worlds: per-world utility coefficients, shocks, absences and vote rules.

Every actor's net gain from a deal x against its side's reversion q is a quadratic in x, so a
member's total net gain — own spatial gain, lobby, public and chief terms — is one coefficient
vector over the features ``[x∘x, x, x_k·x_l (linked pairs), 1]`` (docs/design.md, "The model"). Issues are on
the unit scale here: every position is rescaled by its issue's declared range first.

Axis order of every array is documented; ``D`` = epistemic draws, ``R`` = shock replicates,
``M`` = members, ``K`` = issues, ``P`` = linked pairs, ``F`` = 2K + P + 1 features.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.model import variables as mv
from riskmodel.model.layout import Layout
from riskmodel.randomness import SeedLike, as_seed_sequence
from riskmodel.worlds.agreement import default_agreement, nested_rules
from riskmodel.worlds.arrays import Worlds
from riskmodel.worlds.gains import gain_coefficients, weight_matrix
from riskmodel.worlds.multilateral import bloc_reversion, common_shocks, sequence_shifts, stack
from riskmodel.worlds.rules import compile_rules

__all__ = ["make_worlds", "member_coefficients"]

FloatArray = npt.NDArray[np.float64]


def make_worlds(
    layout: Layout,
    draws: xr.Dataset,
    *,
    n_replicates: int,
    seed: SeedLike = None,
    independent_draws: bool = True,
) -> Worlds:
    """Turn epistemic draws into world arrays, drawing shocks and absences.

    Parameters
    ----------
    layout
        The indexed scenario.
    draws
        Prior or posterior draws with dims ``(chain, draw, ...)`` as from
        :func:`riskmodel.inference.sampling.draw_prior`.
    n_replicates
        Shock replicates R per epistemic draw.
    seed
        Seed for shocks and absences: one child stream per epistemic draw, so the numbers do
        not depend on how the work is later chunked.
    independent_draws
        Whether the draws are independent (prior) rather than MCMC output.
    """
    if n_replicates < 1:
        raise ValueError("n_replicates must be at least 1")
    chains = int(draws.sizes["chain"])
    n_draws = chains * int(draws.sizes["draw"])
    links = layout.link_pairs
    reversion = layout.to_unit(layout.reversion)  # (S, K)
    interaction = stack(draws, mv.LINK_INTERACTION) if len(links) else np.zeros((n_draws, 0))
    n_members = len(layout.members)
    coef = member_coefficients(layout, draws, reversion)
    lead = layout.member_lead
    if lead is not None:  # a block bloc's members cast its first member's vote
        coef = coef[:, lead]
    weight = layout.member_weight

    children = as_seed_sequence(seed).spawn(n_draws)
    shock_scale = stack(draws, mv.CHAMBER_SHOCK_SCALE)  # (D, C)
    absence = stack(draws, mv.CHAMBER_ABSENCE)
    member_chamber = layout.member_chamber
    n_chambers = len(layout.chambers)
    referendums = layout.referendum_chambers
    shocks = np.empty((n_draws, n_replicates, n_members), dtype=np.float32)
    present = np.zeros((n_draws, n_replicates, n_chambers), dtype=np.int64)
    campaign = np.empty((n_draws, n_replicates, len(referendums)))
    campaign_scale = stack(draws, mv.CHAMBER_CAMPAIGN_SHOCK)[:, referendums]
    for d, child in enumerate(children):
        rng = np.random.default_rng(child)
        eps = rng.standard_normal((n_replicates, n_members)) * shock_scale[d, member_chamber]
        absent = rng.random((n_replicates, n_members)) < absence[d, member_chamber]
        if lead is not None:
            eps, absent = eps[:, lead], absent[:, lead]
        eps[absent] = -np.inf
        shocks[d] = eps
        for c in range(n_chambers):
            in_chamber = member_chamber == c
            if weight is None:
                present[d, :, c] = np.sum(~absent[:, in_chamber], axis=1)
            else:
                present[d, :, c] = (~absent[:, in_chamber]) @ weight[in_chamber]
        campaign[d] = rng.standard_normal((n_replicates, len(referendums))) * campaign_scale[d]

    common = common_shocks(layout, draws, seed, n_replicates)
    if common is not None:  # added only when some scale is declared: otherwise bit for bit as before
        shocks += common
    ref = _referendums(layout, draws, interaction, referendums)
    rules, procedures = compile_rules(layout)
    return Worlds(
        member_coef=coef,
        member_shock=shocks,
        member_chamber=member_chamber,
        present=present,
        seats=layout.seats,
        link_pairs=links,
        referendum_chambers=referendums,
        referendum_coef=ref[0],
        referendum_var=ref[1],
        referendum_reversion=ref[2],
        referendum_noise=stack(draws, mv.CHAMBER_SHOCK_SCALE)[:, referendums],
        referendum_campaign=campaign,
        referendum_turnout_ok=ref[3],
        chains=chains,
        independent_draws=independent_draws,
        vote_rules=rules,
        procedures=procedures,
        member_weight=weight,
        abstention_band=(
            stack(draws, mv.CHAMBER_ABSTENTION_BAND).astype(np.float32)
            if mv.CHAMBER_ABSTENTION_BAND in draws
            else None
        ),
        nested=nested_rules(layout),
        agreement=default_agreement(layout),
        sequences=sequence_shifts(layout, coef, lambda rev: member_coefficients(layout, draws, rev)),
    )


def member_coefficients(layout: Layout, draws: xr.Dataset, reversion: FloatArray) -> FloatArray:
    """``(D, M, F)`` members' net-gain coefficients against the sides' reversions ``(S, K)``, unit scale.

    A bloc with its own ``reversion`` uses it in its members' own spatial term; lobby, public and
    chief terms keep their side's (docs/design.md, "Multilateral and nested games").
    """
    n_draws = int(draws.sizes["chain"]) * int(draws.sizes["draw"])
    low, span = layout.issue_low, layout.issue_span
    links = layout.link_pairs
    n_issues = len(layout.issues)

    def ideal(name: str) -> FloatArray:
        return (stack(draws, name) - low) / span

    interaction = stack(draws, mv.LINK_INTERACTION) if len(links) else np.zeros((n_draws, 0))
    n_members = len(layout.members)
    coef = np.zeros((n_draws, n_members, 2 * n_issues + len(links) + 1))
    if n_members:
        bloc_of = layout.member_bloc
        side_of = layout.bloc_side[bloc_of]
        salience = stack(draws, mv.BLOC_SALIENCE)[:, bloc_of]
        own = reversion[side_of]
        if mv.BLOC_REVERSION in draws:
            own = bloc_reversion(layout, draws)[:, bloc_of]
        coef += gain_coefficients(
            ideal(mv.MEMBER_IDEAL), salience, own, interaction[:, None, :], links, layout.issue_linear
        )
        if layout.lobbies:
            lobby_gain = gain_coefficients(
                ideal(mv.LOBBY_IDEAL),
                stack(draws, mv.LOBBY_SALIENCE),
                reversion[layout.lobby_side],
                interaction[:, None, :],
                links,
                layout.issue_linear,
            )  # (D, L, F)
            weight = stack(draws, mv.LOBBY_INFLUENCE)[:, :, None] * layout.lobby_reach[None]  # (D, L, M)
            coef += np.einsum("dlm,dlf->dmf", weight, lobby_gain)
        if layout.publics:
            public_gain = _public_gain(layout, draws, interaction)  # (D, S_pub, F)
            slot = _slot(layout.public_side, len(layout.sides))[side_of]
            has = slot >= 0
            rho = stack(draws, mv.BLOC_RESPONSIVENESS)[:, bloc_of]
            coef[:, has] += rho[:, has, None] * public_gain[:, slot[has]]
        if layout.chiefs:
            chief_gain = gain_coefficients(
                ideal(mv.CHIEF_IDEAL),
                stack(draws, mv.CHIEF_SALIENCE),
                reversion[layout.chief_side],
                interaction[:, None, :],
                links,
                layout.issue_linear,
            )
            slot = _slot(layout.chief_side, len(layout.sides))[side_of]
            has = slot >= 0
            delta = stack(draws, mv.BLOC_PARTY_PULL)[:, bloc_of]
            coef[:, has] += delta[:, has, None] * chief_gain[:, slot[has]]
        if mv.BLOC_VALENCE in draws:  # draws saved before the valence term have none: zero
            coef[:, :, -1] += stack(draws, mv.BLOC_VALENCE)[:, bloc_of]

    return coef


def _slot(owner_side: npt.NDArray[np.int64], n_sides: int) -> npt.NDArray[np.int64]:
    """Map side index → row of a per-side variable (-1 when the side has none)."""
    slot = np.full(n_sides, -1, dtype=np.int64)
    slot[owner_side] = np.arange(len(owner_side))
    return slot


def _public_gain(layout: Layout, draws: xr.Dataset, interaction: FloatArray) -> FloatArray:
    """(D, S_pub, F) the public's mean net gain, approval included in the constant."""
    mean = (stack(draws, mv.PUBLIC_IDEAL) - layout.issue_low) / layout.issue_span
    gain = gain_coefficients(
        mean,
        stack(draws, mv.PUBLIC_SALIENCE),
        layout.to_unit(layout.reversion)[layout.public_side],
        interaction[:, None, :],
        layout.link_pairs,
        layout.issue_linear,
    )
    gain[..., -1] += stack(draws, mv.PUBLIC_APPROVAL)
    return gain


def _referendums(
    layout: Layout, draws: xr.Dataset, interaction: FloatArray, referendums: npt.NDArray[np.int64]
) -> tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.bool_]]:
    n_draws = interaction.shape[0]
    k = len(layout.issues)
    n_features = 2 * k + len(layout.link_pairs) + 1
    if not len(referendums):
        return (
            np.zeros((n_draws, 0, n_features)),
            np.zeros((n_draws, 0, k, k)),
            np.zeros((0, k)),
            np.zeros((n_draws, 0), dtype=bool),
        )
    slot = _slot(layout.public_side, len(layout.sides))[layout.chamber_side[referendums]]
    mean_gain = _public_gain(layout, draws, interaction)[:, slot]
    salience = stack(draws, mv.PUBLIC_SALIENCE)[:, slot]
    spread = stack(draws, mv.PUBLIC_SPREAD)[:, slot] / layout.issue_span
    weights = weight_matrix(salience, interaction[:, None, :], layout.link_pairs)
    # Voters' θ ~ N(μ, diag σ²): the net gain is linear in θ, with variance 4 uᵀ W Σ W u, u = x - q
    variance = 4.0 * np.einsum("dqkj,dqj,dqjl->dqkl", weights, spread**2, weights)
    turnout = stack(draws, mv.CHAMBER_TURNOUT)[:, referendums]
    quorum = np.array([layout.chamber_specs[c].quorum or 0.0 for c in referendums])
    reversion = layout.to_unit(layout.reversion)[layout.chamber_side[referendums]]
    return mean_gain, variance, reversion, turnout >= quorum
