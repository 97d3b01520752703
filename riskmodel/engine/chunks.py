"""Deals × worlds → yes counts → votes → procedures → agreement, one chunk of deals at a time.

Deals are processed in chunks so memory stays bounded; nothing random happens here, so chunk
size and thread count cannot change a number.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskmodel.engine.kernel import count_yes, prepare
from riskmodel.engine.procedure import evaluate_procedure
from riskmodel.engine.referendum import referendum_share
from riskmodel.engine.votes import vote_outcomes
from riskmodel.worlds.arrays import Expression, VoteRule, Worlds, deal_features

__all__ = ["ChunkOutcome", "evaluate_chunks"]


@dataclass(frozen=True)
class ChunkOutcome:
    """Outcomes for one chunk of deals in every world.

    Attributes
    ----------
    deal_slice
        Which deals of the full set this chunk holds.
    vote_passed
        ``(V, D, R, n)`` whether each vote passed.
    support
        ``(V, D, R, n)`` votes cast in the vote's direction (share of those voting for
        referendums).
    margin
        ``(V, D, R, n)`` support minus what was needed (votes; share for referendums).
    side_ratified
        ``(S, D, R, n)`` whether each side ratified.
    agreed
        ``(D, R, n)`` whether every side ratified.
    """

    deal_slice: slice
    vote_passed: npt.NDArray[np.bool_]
    support: npt.NDArray[np.float64]
    margin: npt.NDArray[np.float64]
    side_ratified: npt.NDArray[np.bool_]
    agreed: npt.NDArray[np.bool_]


def evaluate_chunks(
    worlds: Worlds,
    deals_unit: npt.ArrayLike,
    rules: Sequence[VoteRule] | None = None,
    procedures: Sequence[Expression] | None = None,
    *,
    chunk_size: int | None = None,
    memory_budget: int = 256 * 2**20,
) -> Iterator[ChunkOutcome]:
    """Evaluate deals against worlds, one chunk of deals at a time.

    Parameters
    ----------
    worlds
        The sampled worlds.
    deals_unit
        ``(N, K)`` deals on the unit scale.
    rules
        One rule per vote, in the scenario's vote order (default: the worlds' own).
    procedures
        One compiled procedure per side (default: the worlds' own).
    chunk_size
        Deals per chunk; by default as many as fit ``memory_budget`` bytes of outcome arrays.
    memory_budget
        Approximate bytes a chunk may use when ``chunk_size`` is not given.

    Yields
    ------
    ChunkOutcome
    """
    rules = worlds.vote_rules if rules is None else rules
    procedures = worlds.procedures if procedures is None else procedures
    deals = np.atleast_2d(np.asarray(deals_unit, dtype=np.float64))
    n_deals = deals.shape[0]
    per_deal = worlds.n_worlds * (4 * worlds.n_chambers + 17 * len(rules) + 2 * len(procedures) + 1)
    if chunk_size is None:
        chunk_size = max(1, memory_budget // max(per_deal, 1))
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    prepared = prepare(worlds)
    for start in range(0, n_deals, chunk_size):
        part = slice(start, min(start + chunk_size, n_deals))
        x = deals[part]
        features = deal_features(x, worlds.link_pairs)
        yes = count_yes(worlds, features, prepared=prepared)
        share = referendum_share(worlds, x, features)
        passed, support, margin = vote_outcomes(worlds, rules, yes, share)
        sides = np.stack([evaluate_procedure(expr, passed) for expr in procedures])
        yield ChunkOutcome(
            deal_slice=part,
            vote_passed=passed,
            support=support,
            margin=margin,
            side_ratified=sides,
            agreed=np.all(sides, axis=0),
        )
