"""Pivotality: how often a constituency's votes, or one member's vote, decide a side's outcome.

Two measures. **Decisive** is the counterfactual of the textbooks: the outcome would differ had
the actor voted the other way. A veto player that always signs is decisive in every world,
though nothing it might plausibly do changes anything; so the measure reported as
**pivotality** asks instead how often the outcome changes when the actor's vote is drawn
afresh from its own distribution, everyone else voting as they do: ``P(outcome flips if this
actor's vote is redrawn)``. It is 0 for an actor whose vote never varies, however decisive.
For one member that is the mean over worlds of ``decisive × P(its vote differs from this
world's vote)`` (:func:`member_swing`); for a bloc or a public, whose "vote" is a count or a
share, the redrawn vote is the one it cast in another world, paired by a derangement of the
worlds (:func:`bloc_swing`, :func:`public_swing`).

A member is decisive in a world when switching its vote switches its side's outcome (it votes
yes and the side ratifies only with its vote, or votes no and the side would ratify with it);
absent members are never pivotal. A group of members — a bloc — is decisive when the side's
outcome with all of its members present voting for the deal differs from the outcome with all
of them voting against, everyone else voting as they do in that world. For one member, or a
bloc voting as one, that is the same as flipping its votes. A public is decisive when the
outcome with its referendum won unanimously differs from the outcome with it lost unanimously.
Lobbies and chiefs cast no votes of their own.

Per-member votes come from the engine (:func:`riskmodel.engine.member_votes`, the same float32
comparison as its counts), one deal at a time, and pass through the engine's own vote rules and
procedures.

Axis order: ``D`` epistemic draws, ``R`` shock replicates, ``M`` members, ``C`` chambers,
``Q`` referendums, ``S`` sides, ``V`` votes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskmodel.engine import evaluate_procedure, member_votes, referendum_share, vote_outcomes
from riskmodel.model.layout import Layout
from riskmodel.worlds.arrays import Worlds, deal_features

__all__ = [
    "DealVotes",
    "bloc_decisive",
    "bloc_swing",
    "deal_votes",
    "member_pivotal",
    "member_swing",
    "public_decisive",
    "public_swing",
]

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class DealVotes:
    """Every member's vote on one deal in every world.

    Attributes
    ----------
    layout, worlds
        Where the votes come from.
    votes
        ``(D, R, M)`` the member votes for the deal.
    present
        ``(D, R, M)`` the member votes at all.
    yes
        ``(D, R, C)`` members voting for the deal per chamber.
    share
        ``(D, R, Q)`` yes share of each referendum (from the engine).
    ratified
        ``(S, D, R)`` whether each side ratifies with these votes.
    """

    layout: Layout
    worlds: Worlds
    votes: BoolArray
    present: BoolArray
    yes: npt.NDArray[np.int64]
    share: npt.NDArray[np.float64]
    ratified: BoolArray

    def outcome(
        self, yes: npt.NDArray[np.int64] | None = None, share: npt.NDArray[np.float64] | None = None
    ) -> BoolArray:
        """``(S, D, R)`` each side's outcome with other yes counts or referendum shares."""
        return _side_outcomes(
            self.worlds,
            self.yes if yes is None else yes,
            self.share if share is None else share,
        )


def _side_outcomes(worlds: Worlds, yes: npt.NDArray[np.int64], share: npt.NDArray[np.float64]) -> BoolArray:
    """``(S, D, R)`` each side's outcome from yes counts ``(D, R, C)`` and shares ``(D, R, Q)``."""
    passed, _, _ = vote_outcomes(
        worlds, worlds.vote_rules, yes[:, :, None, :].astype(np.int32), share[:, :, None, :]
    )
    return np.stack([evaluate_procedure(expr, passed)[..., 0] for expr in worlds.procedures])


def deal_votes(layout: Layout, worlds: Worlds, deal: npt.ArrayLike) -> DealVotes:
    """Per-member votes on one deal (issue units ``(K,)``) in every world, as the engine casts them."""
    unit = layout.to_unit(np.asarray(deal, dtype=np.float64))[None, :]
    features = deal_features(unit, worlds.link_pairs)
    votes = member_votes(worlds, features)[:, :, 0, :]  # (D, R, M)
    present = np.isfinite(worlds.member_shock)
    n_chambers = worlds.n_chambers
    yes = np.zeros((*votes.shape[:2], n_chambers), dtype=np.int64)
    for c in range(n_chambers):
        yes[..., c] = votes[..., worlds.member_chamber == c].sum(axis=-1)
    share = referendum_share(worlds, unit, features)[:, :, 0, :]  # (D, R, Q)
    ratified = _side_outcomes(worlds, yes, share)
    return DealVotes(layout, worlds, votes, present, yes, share, ratified)


def bloc_decisive(votes: DealVotes, bloc: int) -> BoolArray:
    """``(D, R)`` whether the bloc's members, all for versus all against, decide their side."""
    layout = votes.layout
    members = layout.member_bloc == bloc
    if not members.any():
        return np.zeros(votes.yes.shape[:2], dtype=bool)
    chamber = int(layout.member_chamber[members][0])
    side = int(layout.bloc_side[bloc])
    bloc_yes = votes.votes[..., members].sum(axis=-1)
    bloc_present = votes.present[..., members].sum(axis=-1)
    all_for, all_against = votes.yes.copy(), votes.yes.copy()
    all_for[..., chamber] += bloc_present - bloc_yes
    all_against[..., chamber] -= bloc_yes
    return votes.outcome(yes=all_for)[side] != votes.outcome(yes=all_against)[side]


def public_decisive(votes: DealVotes, side: int) -> BoolArray | None:
    """``(D, R)`` whether the side's referendums, won versus lost unanimously, decide it.

    ``None`` when the side holds no referendum (its public casts no votes).
    """
    layout = votes.layout
    on_side = layout.chamber_side[votes.worlds.referendum_chambers] == side
    if not on_side.any():
        return None
    won, lost = votes.share.copy(), votes.share.copy()
    won[..., on_side] = 1.0
    lost[..., on_side] = 0.0
    return votes.outcome(share=won)[side] != votes.outcome(share=lost)[side]


def member_pivotal(votes: DealVotes) -> BoolArray:
    """``(D, R, M)`` whether switching the member's vote switches its side's outcome."""
    layout = votes.layout
    pivotal = np.zeros(votes.votes.shape, dtype=bool)
    for c in range(votes.worlds.n_chambers):
        members = layout.member_chamber == c
        if not members.any():
            continue
        side = int(layout.chamber_side[c])
        one_less, one_more = votes.yes.copy(), votes.yes.copy()
        one_less[..., c] -= 1
        one_more[..., c] += 1
        now = votes.ratified[side]
        yes_pivotal = now != votes.outcome(yes=one_less)[side]  # a yes voter switching to no
        no_pivotal = now != votes.outcome(yes=one_more)[side]  # a no voter switching to yes
        chosen = np.where(votes.votes[..., members], yes_pivotal[..., None], no_pivotal[..., None])
        pivotal[..., members] = chosen & votes.present[..., members]
    return pivotal


def member_swing(votes: DealVotes, decisive: BoolArray | None = None) -> npt.NDArray[np.float64]:
    """``(M,)`` P(the side's outcome flips if the member's vote is redrawn from its own distribution).

    The mean over worlds of ``decisive × P(vote ≠ this world's vote)``, where the member's
    probability of voting for the deal is taken over every world (absences count as not voting
    for it): 0 for a member that always votes the same way, however decisive its vote.
    ``decisive`` is :func:`member_pivotal` of ``votes``, when the caller has it already.
    """
    decisive = member_pivotal(votes) if decisive is None else decisive
    p_yes = votes.votes.mean(axis=(0, 1))  # (M,)
    differs = np.where(votes.votes, 1.0 - p_yes, p_yes)
    return np.asarray((decisive * differs).mean(axis=(0, 1)), dtype=np.float64)


def bloc_swing(votes: DealVotes, bloc: int, pairing: npt.NDArray[np.int64]) -> BoolArray:
    """``(D, R)`` whether the side's outcome changes when the bloc votes as in the paired world.

    ``pairing`` maps each flattened world (``D·R``) to another (a derangement): the bloc's yes
    votes come from there, every other member's from this world.
    """
    layout = votes.layout
    members = layout.member_bloc == bloc
    if not members.any():
        return np.zeros(votes.yes.shape[:2], dtype=bool)
    chamber = int(layout.member_chamber[members][0])
    side = int(layout.bloc_side[bloc])
    bloc_yes = votes.votes[..., members].sum(axis=-1)
    elsewhere = bloc_yes.reshape(-1)[pairing].reshape(bloc_yes.shape)
    redrawn = votes.yes.copy()
    redrawn[..., chamber] += elsewhere - bloc_yes
    return votes.outcome(yes=redrawn)[side] != votes.ratified[side]


def public_swing(votes: DealVotes, side: int, pairing: npt.NDArray[np.int64]) -> BoolArray | None:
    """``(D, R)`` whether the side's outcome changes when its referendums go as in the paired world.

    ``None`` when the side holds no referendum (its public casts no votes).
    """
    layout = votes.layout
    on_side = layout.chamber_side[votes.worlds.referendum_chambers] == side
    if not on_side.any():
        return None
    flat = votes.share.reshape(-1, votes.share.shape[-1])
    redrawn = votes.share.copy()
    redrawn[..., on_side] = flat[pairing].reshape(votes.share.shape)[..., on_side]
    return votes.outcome(share=redrawn)[side] != votes.ratified[side]
