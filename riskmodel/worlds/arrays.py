"""The engine's input contract: plain NumPy arrays and small frozen dataclasses.

Nothing here knows of scenario files, PyMC or plotting; this module imports NumPy alone, so the
engine that reads these objects does too. Axis order of every array is documented; ``D`` =
epistemic draws, ``R`` = shock replicates, ``M`` = members, ``C`` = chambers, ``K`` = issues,
``P`` = linked pairs, ``F`` = 2K + P + 1 features, ``Q`` = referendums, ``V`` = votes.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

__all__ = [
    "All",
    "AtLeast",
    "Expression",
    "Not",
    "SequenceShift",
    "VoteRef",
    "VoteRule",
    "WeightedCount",
    "Worlds",
    "deal_features",
]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class VoteRule:
    """A vote reduced to what the engine needs.

    Attributes
    ----------
    chamber
        Index of the chamber that votes.
    fraction
        Share of the base required (``None`` for an absolute count).
    strict
        True for ``majority``: more than ``fraction`` of the base is needed.
    count
        Absolute number of votes required (``None`` for a share).
    relative_to_seats
        Base is every seat rather than the members voting.
    polarity_for
        True: count votes for the deal; False: count votes against it.
    ties_pass
        A vote exactly at half the base passes (majority rule only).
    relative_to_present
        Base is the yes and no votes only (abstentions left out).
    """

    chamber: int
    fraction: Fraction | None
    strict: bool
    count: int | None
    relative_to_seats: bool
    polarity_for: bool
    ties_pass: bool
    relative_to_present: bool = False


@dataclass(frozen=True)
class VoteRef:
    """The outcome of one vote (index into the scenario's vote order)."""

    vote: int


@dataclass(frozen=True)
class AtLeast:
    """At least ``k`` of the clauses hold; ``all`` is k = n and ``any`` is k = 1."""

    k: int
    clauses: tuple[Expression, ...]


@dataclass(frozen=True)
class Not:
    """The clause does not hold."""

    clause: Expression


@dataclass(frozen=True)
class WeightedCount:
    """The weight of the clauses that hold (or fail, ``polarity_for=False``) reaches a threshold.

    Attributes
    ----------
    clauses
        ``(clause, weight)`` pairs.
    threshold
        A share of the total weight when ``share`` is true, else an absolute weight.
    share
        Whether ``threshold`` is a share of the total.
    polarity_for
        Count the weight of clauses that hold (True) or that do not (False).
    """

    clauses: tuple[tuple[Expression, float], ...]
    threshold: float
    share: bool
    polarity_for: bool = True


Expression = VoteRef | AtLeast | Not | WeightedCount
"""A compiled ratification procedure: a boolean expression over vote outcomes."""


def All(*clauses: Expression) -> AtLeast:  # noqa: N802 - reads as the procedure keyword
    """Every clause holds."""
    return AtLeast(len(clauses), clauses)


@dataclass(frozen=True)
class SequenceShift:
    """A ``reversion_if`` entry: where deal ``deal`` is agreed, ``members`` gain ``shift`` more.

    Attributes
    ----------
    side
        Index of the side whose reversion changes.
    deal
        Index of the named deal whose agreement triggers it.
    members
        ``(m,)`` indices of the side's members.
    shift
        ``(D, m)`` float32 change of each member's net gain (the constant term) per draw.
    """

    side: int
    deal: int
    members: npt.NDArray[np.int64]
    shift: npt.NDArray[np.float32]


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
    vote_rules
        ``(V,)`` one rule per vote, in the scenario's vote order.
    procedures
        ``(S,)`` one compiled ratification procedure per side.
    member_weight
        ``(M,)`` votes per member; ``None`` when every member has one vote.
    abstention_band
        ``(D, C)`` float32 half-width of each chamber's abstention band; ``None`` when no chamber
        has one. A member whose net gain plus shock lies strictly inside the band abstains.
    nested
        ``(side, rule)`` pairs in evaluation order: a nested side ratifies when its own procedure
        holds and ``rule`` (an expression whose references are side indices) holds over the
        sides' outcomes.
    agreement
        The default Level-I rule of a deal (references are side indices); ``None`` means every
        side must ratify.
    sequences
        The ``reversion_if`` entries, side by side in file order (first matching entry wins).
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
    vote_rules: tuple[VoteRule, ...] = ()
    procedures: tuple[Expression, ...] = ()
    member_weight: npt.NDArray[np.int64] | None = None
    abstention_band: npt.NDArray[np.float32] | None = None
    nested: tuple[tuple[int, Expression], ...] = ()
    agreement: Expression | None = None
    sequences: tuple[SequenceShift, ...] = ()

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
