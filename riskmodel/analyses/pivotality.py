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
procedures (:func:`riskmodel.engine.vote_outcomes`), nested sides included.

Weighted chambers count a member's vote ``weight`` times, everywhere: in the chamber's yes count,
in what one member switching adds or takes away, and in a bloc's votes. In a chamber with an
abstention band a member votes for, against, or abstains (a present member whose net gain plus
shock lies inside the band, as the engine decides it); abstentions are counted per chamber and
passed to the engine, so ``relative_to: present`` leaves them out of the base exactly as in the
results. A member is then decisive when its voting for and its voting against give different
outcomes (whatever it did in the world), and its swing weighs each of its three votes by how
often it casts it. A member of a ``block: true`` bloc is treated as if it could vote alone; its
bloc's figures are the ones to read.

Axis order: ``D`` epistemic draws, ``R`` shock replicates, ``M`` members, ``C`` chambers,
``Q`` referendums, ``S`` sides, ``V`` votes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskmodel.engine import (
    evaluate_procedure,
    member_gain,
    member_votes,
    prepare,
    referendum_share,
    vote_outcomes,
)
from riskmodel.engine.chunks import nest_sides
from riskmodel.model.layout import Layout
from riskmodel.worlds.arrays import Worlds, deal_features

__all__ = [
    "DealVotes",
    "bloc_decisive",
    "bloc_swing",
    "deal_votes",
    "member_outcomes",
    "member_pivotal",
    "member_swing",
    "public_decisive",
    "public_swing",
]

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


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
        ``(D, R, C)`` votes for the deal per chamber (weighted).
    share
        ``(D, R, Q)`` yes share of each referendum (from the engine).
    ratified
        ``(S, D, R)`` whether each side ratifies with these votes.
    weight
        ``(M,)`` votes each member casts.
    abstain
        ``(D, R, M)`` the member abstains; ``None`` when no chamber has an abstention band.
    abstained
        ``(D, R, C)`` weighted abstentions per chamber, or ``None``.
    by_bloc
        ``(D, R, B)`` every bloc's votes for the deal and members present (weighted), when
        counted once for all blocs (:func:`deal_votes`).
    """

    layout: Layout
    worlds: Worlds
    votes: BoolArray
    present: BoolArray
    yes: IntArray
    share: npt.NDArray[np.float64]
    ratified: BoolArray
    weight: IntArray | None = None
    abstain: BoolArray | None = None
    abstained: IntArray | None = None
    by_bloc: tuple[IntArray, IntArray] | None = None

    def bloc_votes(self, bloc: int) -> tuple[IntArray, IntArray]:
        """``(D, R)`` the bloc's (weighted) votes for the deal, and its members present."""
        if self.by_bloc is not None:
            return self.by_bloc[0][..., bloc], self.by_bloc[1][..., bloc]
        members = self.layout.member_bloc == bloc
        weight = _weights(self)[members]
        yes = self.votes[..., members].astype(np.int64) @ weight
        return yes, self.present[..., members].astype(np.int64) @ weight

    def outcome(
        self,
        yes: IntArray | None = None,
        share: npt.NDArray[np.float64] | None = None,
        abstained: IntArray | None = None,
    ) -> BoolArray:
        """``(S, D, R)`` each side's outcome with other yes counts, shares or abstentions."""
        return _side_outcomes(
            self.worlds,
            self.yes if yes is None else yes,
            self.share if share is None else share,
            self.abstained if abstained is None else abstained,
        )


def _side_outcomes(
    worlds: Worlds, yes: IntArray, share: npt.NDArray[np.float64], abstained: IntArray | None = None
) -> BoolArray:
    """``(S, D, R)`` each side's outcome from yes counts ``(D, R, C)`` and shares ``(D, R, Q)``."""
    passed, _, _ = vote_outcomes(
        worlds,
        worlds.vote_rules,
        yes[:, :, None, :].astype(np.int32),
        share[:, :, None, :],
        None if abstained is None else abstained[:, :, None, :],
    )
    sides = np.stack([evaluate_procedure(expr, passed)[..., 0] for expr in worlds.procedures])
    nest_sides(worlds, sides)
    return sides


def _per_chamber(worlds: Worlds, flags: BoolArray, weight: IntArray) -> IntArray:
    """``(D, R, C)`` the weighted count of members flagged ``(D, R, M)`` in each chamber."""
    out = np.zeros((*flags.shape[:2], worlds.n_chambers), dtype=np.int64)
    for c in range(worlds.n_chambers):
        members = worlds.member_chamber == c
        out[..., c] = flags[..., members].astype(np.int64) @ weight[members]
    return out


def deal_votes(layout: Layout, worlds: Worlds, deal: npt.ArrayLike) -> DealVotes:
    """Per-member votes on one deal (issue units ``(K,)``) in every world, as the engine casts them."""
    unit = layout.to_unit(np.asarray(deal, dtype=np.float64))[None, :]
    features = deal_features(unit, worlds.link_pairs)
    prepared = prepare(worlds)
    votes = member_votes(worlds, features, prepared=prepared)[:, :, 0, :]  # (D, R, M)
    present = np.isfinite(worlds.member_shock)
    n_members = worlds.member_chamber.shape[0]
    weighted = worlds.member_weight is not None
    weight = np.ones(n_members, dtype=np.int64) if worlds.member_weight is None else worlds.member_weight
    abstain = abstained = None
    if worlds.abstention_band is not None:
        # the engine's own test (engine.weighted): float32 |gain + shock| strictly inside the band
        gain = member_gain(worlds, features, prepared=prepared)[:, 0, :]  # (D, M)
        band = worlds.abstention_band[:, worlds.member_chamber]  # (D, M)
        abstain = present & (np.abs(gain[:, None, :] - prepared.neg_shocks) < band[:, None, :])
        votes = votes & ~abstain
        abstained = _per_chamber(worlds, abstain, weight)
    yes = _per_chamber(worlds, votes, weight)
    share = referendum_share(worlds, unit, features)[:, :, 0, :]  # (D, R, Q)
    ratified = _side_outcomes(worlds, yes, share, abstained)
    return DealVotes(
        layout,
        worlds,
        votes,
        present,
        yes,
        share,
        ratified,
        weight if weighted else None,
        abstain,
        abstained,
        (_per_bloc(layout, votes, weight), _per_bloc(layout, present, weight)),
    )


def _per_bloc(layout: Layout, flags: BoolArray, weight: IntArray) -> IntArray:
    """``(D, R, B)`` the weighted count of members flagged ``(D, R, M)`` in each bloc.

    One float64 matrix product for every bloc at once; the counts are integers far below
    2**53, so every partial sum is exact and the result is the integer count.
    """
    onehot = np.zeros((flags.shape[-1], len(layout.blocs)))
    onehot[np.arange(flags.shape[-1]), layout.member_bloc] = weight
    return (
        (flags.reshape(-1, flags.shape[-1]).astype(np.float64) @ onehot)
        .astype(np.int64)
        .reshape(*flags.shape[:-1], len(layout.blocs))
    )


def _weights(votes: DealVotes) -> IntArray:
    return votes.weight if votes.weight is not None else np.ones(votes.votes.shape[-1], dtype=np.int64)


def _weight_groups(votes: DealVotes) -> Iterator[tuple[int, int, BoolArray, int, BoolArray]]:
    """``(chamber, side, now, weight, members)`` per chamber and member weight in it.

    ``now`` is the side's outcome in each world, ``(D, R, 1)``; ``members`` the ``(M,)`` mask
    of the chamber's members of that weight (members of one weight move the count alike).
    """
    layout, weight = votes.layout, _weights(votes)
    for c in range(votes.worlds.n_chambers):
        in_chamber = layout.member_chamber == c
        if not in_chamber.any():
            continue
        side = int(layout.chamber_side[c])
        now = votes.ratified[side][..., None]
        for w in np.unique(weight[in_chamber]).tolist():
            yield c, side, now, w, in_chamber & (weight == w)


def bloc_decisive(votes: DealVotes, bloc: int) -> BoolArray:
    """``(D, R)`` whether the bloc's members, all for versus all against, decide their side."""
    layout = votes.layout
    members = layout.member_bloc == bloc
    if not members.any():
        return np.zeros(votes.yes.shape[:2], dtype=bool)
    chamber = int(layout.member_chamber[members][0])
    side = int(layout.bloc_side[bloc])
    weight = _weights(votes)[members]
    bloc_yes, bloc_present = votes.bloc_votes(bloc)
    all_for, all_against = votes.yes.copy(), votes.yes.copy()
    all_for[..., chamber] += bloc_present - bloc_yes
    all_against[..., chamber] -= bloc_yes
    abstained = None
    if votes.abstain is not None and votes.abstained is not None:
        abstained = votes.abstained.copy()  # the bloc votes: none of it abstains
        abstained[..., chamber] -= votes.abstain[..., members].astype(np.int64) @ weight
    for_outcome = votes.outcome(yes=all_for, abstained=abstained)[side]
    return for_outcome != votes.outcome(yes=all_against, abstained=abstained)[side]


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


def member_outcomes(votes: DealVotes) -> BoolArray:
    """``(3, D, R, M)`` the member's side's outcome had the member voted for, against, or abstained.

    Everyone else votes as in the world; the member's own vote counts ``weight`` times. Where
    the member is absent all three are the world's outcome (it casts no vote to change), and so
    is "abstains" in a chamber without an abstention band.
    """
    abstain = votes.abstain if votes.abstain is not None else np.zeros_like(votes.votes)
    no = votes.present & ~votes.votes & ~abstain
    out = np.empty((3, *votes.votes.shape), dtype=bool)
    for c, side, now, w, members in _weight_groups(votes):

        def moved(d_yes: int, d_abstain: int, c: int = c, side: int = side) -> BoolArray:
            yes = votes.yes.copy()
            yes[..., c] += d_yes
            abstained = None
            if votes.abstained is not None:
                abstained = votes.abstained.copy()
                abstained[..., c] += d_abstain
            return votes.outcome(yes=yes, abstained=abstained)[side][..., None]

        is_yes, is_no, is_abstain = votes.votes[..., members], no[..., members], abstain[..., members]
        # (current vote → target): the change in the chamber's yes and abstention counts
        if votes.abstained is None:
            out[0][..., members] = np.where(is_no, moved(w, 0), now)
            out[1][..., members] = np.where(is_yes, moved(-w, 0), now)
            out[2][..., members] = now
            continue
        out[0][..., members] = np.where(is_no, moved(w, 0), np.where(is_abstain, moved(w, -w), now))
        out[1][..., members] = np.where(is_yes, moved(-w, 0), np.where(is_abstain, moved(0, -w), now))
        out[2][..., members] = np.where(is_yes, moved(-w, w), np.where(is_no, moved(0, w), now))
    return out


def member_pivotal(votes: DealVotes) -> BoolArray:
    """``(D, R, M)`` whether the member voting for rather than against switches its side's outcome."""
    if votes.abstained is not None:
        outcomes = member_outcomes(votes)
        return (outcomes[0] != outcomes[1]) & votes.present
    # Without abstentions a present member votes for or against: voting the other way is the
    # one move that can change anything, so only the outcome with one vote more (for a member
    # voting against) or one less (for a member voting for) is needed — the comparison of
    # member_outcomes' "for" and "against" without building all three (3, D, R, M) outcomes.
    out = np.zeros(votes.votes.shape, dtype=bool)
    for c, side, now, w, members in _weight_groups(votes):
        more, fewer = votes.yes.copy(), votes.yes.copy()
        more[..., c] += w
        fewer[..., c] -= w
        with_more = votes.outcome(yes=more)[side][..., None]
        with_fewer = votes.outcome(yes=fewer)[side][..., None]
        out[..., members] = np.where(votes.votes[..., members], now != with_fewer, with_more != now)
    return out & votes.present


def member_swing(votes: DealVotes, decisive: BoolArray | None = None) -> npt.NDArray[np.float64]:
    """``(M,)`` P(the side's outcome flips if the member's vote is redrawn from its own distribution).

    The mean over worlds of ``decisive × P(vote ≠ this world's vote)``, where the member's
    probability of voting for the deal is taken over every world (absences count as not voting
    for it): 0 for a member that always votes the same way, however decisive its vote.
    ``decisive`` is :func:`member_pivotal` of ``votes``, when the caller has it already. In a
    chamber with an abstention band the redrawn vote is for, against or an abstention, each with
    the member's frequency over every world, and the outcome each gives is compared with the
    world's.
    """
    if votes.abstain is not None:
        outcomes = member_outcomes(votes)
        p_yes = votes.votes.mean(axis=(0, 1))
        p_abstain = votes.abstain.mean(axis=(0, 1))
        p_no = 1.0 - p_yes - p_abstain  # absences count as not voting for, as below
        now = np.where(votes.votes, outcomes[0], np.where(votes.abstain, outcomes[2], outcomes[1]))
        flips = p_yes * (outcomes[0] != now) + p_no * (outcomes[1] != now) + p_abstain * (outcomes[2] != now)
        return np.asarray((flips * votes.present).mean(axis=(0, 1)), dtype=np.float64)
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
    weight = _weights(votes)[members]
    bloc_yes, _ = votes.bloc_votes(bloc)
    elsewhere = bloc_yes.reshape(-1)[pairing].reshape(bloc_yes.shape)
    redrawn = votes.yes.copy()
    redrawn[..., chamber] += elsewhere - bloc_yes
    abstained = None
    if votes.abstain is not None and votes.abstained is not None:
        bloc_abstain = votes.abstain[..., members].astype(np.int64) @ weight
        abstained = votes.abstained.copy()
        abstained[..., chamber] += (
            bloc_abstain.reshape(-1)[pairing].reshape(bloc_abstain.shape) - bloc_abstain
        )
    return votes.outcome(yes=redrawn, abstained=abstained)[side] != votes.ratified[side]


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
