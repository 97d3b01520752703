"""Epistemic draws → per-world utility coefficients and idiosyncratic shocks.

Every actor's net gain from a deal x against its side's reversion q is a quadratic in x, so a
member's total net gain — own spatial gain, lobby, public and chief terms — is one coefficient
vector over the features ``[x∘x, x, x_k·x_l (linked pairs), 1]`` (DESIGN.md §3). Issues are on
the unit scale here: every position is rescaled by its issue's declared range first.

Axis order of every array is documented; ``D`` = epistemic draws, ``R`` = shock replicates,
``M`` = members, ``K`` = issues, ``P`` = linked pairs, ``F`` = 2K + P + 1 features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.model.layout import Layout
from riskmodel.randomness import SeedLike, as_seed_sequence

__all__ = ["Worlds", "deal_features", "gain_coefficients", "make_worlds"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Worlds:
    """Everything the engine needs about the sampled worlds (plain arrays).

    Attributes
    ----------
    member_coef
        ``(D, M, F)`` net-gain coefficients of each member in each epistemic draw.
    member_shock
        ``(D, R, M)`` float32 idiosyncratic shock per world; ``-inf`` where the member is absent.
    member_chamber
        ``(M,)`` chamber index of each member.
    present
        ``(D, R, C)`` members voting per chamber and world.
    seats
        ``(C,)`` seats per chamber.
    link_pairs
        ``(P, 2)`` issue indices of the linked pairs.
    referendum_chambers
        ``(Q,)`` chamber index of each referendum.
    referendum_coef
        ``(D, Q, F)`` the public's mean net gain (plus approval) per referendum.
    referendum_var
        ``(D, Q, K, K)`` quadratic form giving the variance of voters' net gain in ``x - q``.
    referendum_reversion
        ``(Q, K)`` the reversion of each referendum's side (unit scale).
    referendum_noise
        ``(D, Q)`` SD of each voter's idiosyncratic shock.
    referendum_campaign
        ``(D, R, Q)`` campaign swing per world.
    referendum_turnout_ok
        ``(D, Q)`` whether turnout reaches the quorum.
    chains
        Number of chains the draws come from (ESS is computed per chain).
    independent_draws
        True for forward draws of the prior (independent by construction); False for MCMC.
    """

    member_coef: FloatArray
    member_shock: npt.NDArray[np.float32]
    member_chamber: npt.NDArray[np.int64]
    present: npt.NDArray[np.int64]
    seats: npt.NDArray[np.int64]
    link_pairs: npt.NDArray[np.int64]
    referendum_chambers: npt.NDArray[np.int64]
    referendum_coef: FloatArray
    referendum_var: FloatArray
    referendum_reversion: FloatArray
    referendum_noise: FloatArray
    referendum_campaign: FloatArray
    referendum_turnout_ok: npt.NDArray[np.bool_]
    chains: int = 1
    independent_draws: bool = True

    @property
    def n_draws(self) -> int:
        """Number of epistemic draws D."""
        return int(self.member_coef.shape[0])

    @property
    def n_replicates(self) -> int:
        """Shock replicates R per draw."""
        return int(self.present.shape[1])

    @property
    def n_worlds(self) -> int:
        """D × R."""
        return self.n_draws * self.n_replicates

    @property
    def n_chambers(self) -> int:
        """Number of chambers C."""
        return int(self.seats.shape[0])


def deal_features(deals: npt.ArrayLike, link_pairs: npt.NDArray[np.int64]) -> FloatArray:
    """Features ``[x∘x, x, x_k·x_l, 1]`` (N, F) of deals (N, K) on the unit scale."""
    x = np.atleast_2d(np.asarray(deals, dtype=np.float64))
    cross = x[:, link_pairs[:, 0]] * x[:, link_pairs[:, 1]]
    return np.concatenate([x * x, x, cross, np.ones((x.shape[0], 1))], axis=1)


def gain_coefficients(
    ideal: FloatArray,
    salience: FloatArray,
    reversion: FloatArray,
    interaction: FloatArray,
    link_pairs: npt.NDArray[np.int64],
) -> FloatArray:
    """Coefficients (..., F) of an actor's net gain U(x) - U(q).

    U(x) = -Σ_k w_k (x_k - θ_k)² - 2 Σ_(k,l) γ_kl √(w_k w_l) (x_k - θ_k)(x_l - θ_l).

    Parameters
    ----------
    ideal, salience
        ``(..., K)`` ideal points θ and weights w (unit scale).
    reversion
        ``(..., K)`` the reversion q, broadcastable to ``ideal``.
    interaction
        ``(..., P)`` link interactions γ, broadcastable.
    link_pairs
        ``(P, 2)``.
    """
    theta, w, q = np.broadcast_arrays(ideal, salience, reversion)
    quad = -w
    lin = 2.0 * w * theta
    const = np.sum(w * (q * q - 2.0 * theta * q), axis=-1, keepdims=True)
    k_idx, l_idx = link_pairs[:, 0], link_pairs[:, 1]
    if len(link_pairs):
        s = np.asarray(interaction) * np.sqrt(w[..., k_idx] * w[..., l_idx])
        cross = -2.0 * s
        lin = lin.copy()
        for p, (first, second) in enumerate(link_pairs):
            lin[..., first] += 2.0 * s[..., p] * theta[..., second]
            lin[..., second] += 2.0 * s[..., p] * theta[..., first]
        const = const + np.sum(
            2.0
            * s
            * (
                q[..., k_idx] * q[..., l_idx]
                - theta[..., l_idx] * q[..., k_idx]
                - theta[..., k_idx] * q[..., l_idx]
            ),
            axis=-1,
            keepdims=True,
        )
    else:
        cross = np.zeros((*theta.shape[:-1], 0))
    return np.concatenate([quad, lin, cross, const], axis=-1)


def _weight_matrix(
    salience: FloatArray, interaction: FloatArray, link_pairs: npt.NDArray[np.int64]
) -> FloatArray:
    """(..., K, K) matrix W with U(x) = -(x-θ)ᵀ W (x-θ)."""
    k = salience.shape[-1]
    weights = np.zeros((*salience.shape, k))
    idx = np.arange(k)
    weights[..., idx, idx] = salience
    for p, (a, b) in enumerate(link_pairs):
        s = interaction[..., p] * np.sqrt(salience[..., a] * salience[..., b])
        weights[..., a, b] = s
        weights[..., b, a] = s
    return weights


def _stack(draws: xr.Dataset, name: str) -> FloatArray:
    """(chain × draw, ...) array of a variable, chains concatenated."""
    values = draws[name].to_numpy()
    return values.reshape(-1, *values.shape[2:]).astype(np.float64)


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
    low, span = layout.issue_low, layout.issue_span
    links = layout.link_pairs
    n_issues = len(layout.issues)
    reversion = layout.to_unit(layout.reversion)  # (S, K)

    def ideal(name: str) -> FloatArray:
        return (_stack(draws, name) - low) / span

    interaction = _stack(draws, "link_interaction") if len(links) else np.zeros((n_draws, 0))
    n_members = len(layout.members)
    coef = np.zeros((n_draws, n_members, 2 * n_issues + len(links) + 1))
    if n_members:
        bloc_of = layout.member_bloc
        side_of = layout.bloc_side[bloc_of]
        salience = _stack(draws, "bloc_salience")[:, bloc_of]
        coef += gain_coefficients(
            ideal("member_ideal"), salience, reversion[side_of], interaction[:, None, :], links
        )
        if layout.lobbies:
            lobby_gain = gain_coefficients(
                ideal("lobby_ideal"),
                _stack(draws, "lobby_salience"),
                reversion[layout.lobby_side],
                interaction[:, None, :],
                links,
            )  # (D, L, F)
            weight = _stack(draws, "lobby_influence")[:, :, None] * layout.lobby_reach[None]  # (D, L, M)
            coef += np.einsum("dlm,dlf->dmf", weight, lobby_gain)
        if layout.publics:
            public_gain = _public_gain(layout, draws, interaction)  # (D, S_pub, F)
            slot = _slot(layout.public_side, len(layout.sides))[side_of]
            has = slot >= 0
            rho = _stack(draws, "bloc_responsiveness")[:, bloc_of]
            coef[:, has] += rho[:, has, None] * public_gain[:, slot[has]]
        if layout.chiefs:
            chief_gain = gain_coefficients(
                ideal("chief_ideal"),
                _stack(draws, "chief_salience"),
                reversion[layout.chief_side],
                interaction[:, None, :],
                links,
            )
            slot = _slot(layout.chief_side, len(layout.sides))[side_of]
            has = slot >= 0
            delta = _stack(draws, "bloc_party_pull")[:, bloc_of]
            coef[:, has] += delta[:, has, None] * chief_gain[:, slot[has]]
        if "bloc_valence" in draws:  # draws saved before the valence term have none: zero
            coef[:, :, -1] += _stack(draws, "bloc_valence")[:, bloc_of]

    children = as_seed_sequence(seed).spawn(n_draws)
    shock_scale = _stack(draws, "chamber_shock_scale")  # (D, C)
    absence = _stack(draws, "chamber_absence")
    member_chamber = layout.member_chamber
    n_chambers = len(layout.chambers)
    referendums = layout.referendum_chambers
    shocks = np.empty((n_draws, n_replicates, n_members), dtype=np.float32)
    present = np.zeros((n_draws, n_replicates, n_chambers), dtype=np.int64)
    campaign = np.empty((n_draws, n_replicates, len(referendums)))
    campaign_scale = _stack(draws, "chamber_campaign_shock")[:, referendums]
    for d, child in enumerate(children):
        rng = np.random.default_rng(child)
        eps = rng.standard_normal((n_replicates, n_members)) * shock_scale[d, member_chamber]
        absent = rng.random((n_replicates, n_members)) < absence[d, member_chamber]
        eps[absent] = -np.inf
        shocks[d] = eps
        for c in range(n_chambers):
            present[d, :, c] = np.sum(~absent[:, member_chamber == c], axis=1)
        campaign[d] = rng.standard_normal((n_replicates, len(referendums))) * campaign_scale[d]

    ref = _referendums(layout, draws, interaction, referendums)
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
        referendum_noise=_stack(draws, "chamber_shock_scale")[:, referendums],
        referendum_campaign=campaign,
        referendum_turnout_ok=ref[3],
        chains=chains,
        independent_draws=independent_draws,
    )


def _slot(owner_side: npt.NDArray[np.int64], n_sides: int) -> npt.NDArray[np.int64]:
    """Map side index → row of a per-side variable (-1 when the side has none)."""
    slot = np.full(n_sides, -1, dtype=np.int64)
    slot[owner_side] = np.arange(len(owner_side))
    return slot


def _public_gain(layout: Layout, draws: xr.Dataset, interaction: FloatArray) -> FloatArray:
    """(D, S_pub, F) the public's mean net gain, approval included in the constant."""
    mean = (_stack(draws, "public_ideal") - layout.issue_low) / layout.issue_span
    gain = gain_coefficients(
        mean,
        _stack(draws, "public_salience"),
        layout.to_unit(layout.reversion)[layout.public_side],
        interaction[:, None, :],
        layout.link_pairs,
    )
    gain[..., -1] += _stack(draws, "public_approval")
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
    salience = _stack(draws, "public_salience")[:, slot]
    spread = _stack(draws, "public_spread")[:, slot] / layout.issue_span
    weights = _weight_matrix(salience, interaction[:, None, :], layout.link_pairs)
    # Voters' θ ~ N(μ, diag σ²): the net gain is linear in θ, with variance 4 uᵀ W Σ W u, u = x - q
    variance = 4.0 * np.einsum("dqkj,dqj,dqjl->dqkl", weights, spread**2, weights)
    turnout = _stack(draws, "chamber_turnout")[:, referendums]
    quorum = np.array([layout.chamber_specs[c].quorum or 0.0 for c in referendums])
    reversion = layout.to_unit(layout.reversion)[layout.chamber_side[referendums]]
    return mean_gain, variance, reversion, turnout >= quorum
