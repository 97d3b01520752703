"""Deals × worlds → yes counts → votes → procedures → agreement, one chunk of deals at a time.

Deals are processed in chunks so memory stays bounded; nothing random happens here, so chunk
size and thread count cannot change a number.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskmodel.engine.fused import fused_counts
from riskmodel.engine.kernel import KernelInput, prepare
from riskmodel.engine.procedure import evaluate_procedure
from riskmodel.engine.referendum import referendum_share
from riskmodel.engine.votes import needed_counts, vote_outcomes
from riskmodel.engine.weighted import count_weighted
from riskmodel.worlds.arrays import Expression, VoteRule, Worlds, deal_features

__all__ = ["ChunkOutcome", "evaluate_chunks", "level_one", "nest_sides"]


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
    needed
        What each vote needed (votes; share for referendums), broadcastable to ``support``:
        ``(V, D, R, 1)`` when it does not depend on the deal.
    side_ratified
        ``(S, D, R, n)`` whether each side ratified.
    agreed
        ``(D, R, n)`` whether the deal's Level-I agreement holds (by default: every side ratified).
    """

    deal_slice: slice
    vote_passed: npt.NDArray[np.bool_]
    support: npt.NDArray[np.float64]
    needed: npt.NDArray[np.float64]
    side_ratified: npt.NDArray[np.bool_]
    agreed: npt.NDArray[np.bool_]

    @property
    def margin(self) -> npt.NDArray[np.float64]:
        """``(V, D, R, n)`` support minus what was needed (votes; share for referendums), on demand."""
        return np.asarray(self.support - self.needed, dtype=np.float64)


def evaluate_chunks(
    worlds: Worlds,
    deals_unit: npt.ArrayLike,
    rules: Sequence[VoteRule] | None = None,
    procedures: Sequence[Expression] | None = None,
    *,
    chunk_size: int | None = None,
    memory_budget: int = 256 * 2**20,
    agreements: Sequence[Expression | None] | None = None,
    prepared: KernelInput | None = None,
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
    agreements
        One Level-I rule per deal over side outcomes (``None`` entries, or no list: the worlds'
        default agreement, else every side).
    prepared
        The worlds' kernel input (:func:`riskmodel.engine.prepare`) when the caller keeps it
        across calls; prepared here otherwise.

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
    prepared = prepare(worlds) if prepared is None else prepared
    fused = worlds.member_weight is None and worlds.abstention_band is None
    needed = needed_counts(worlds, rules) if fused else None
    for start in range(0, n_deals, chunk_size):
        part = slice(start, min(start + chunk_size, n_deals))
        x = deals[part]
        features = deal_features(x, worlds.link_pairs)
        share = referendum_share(worlds, x, features)
        if fused:
            passed, support, need = fused_counts(worlds, rules, features, share, prepared, needed)
        else:
            weighted_yes, abstain = count_weighted(worlds, features, prepared=prepared)
            passed, support, margin = vote_outcomes(worlds, rules, weighted_yes, share, abstain)
            need = _needed_of(worlds, rules, support, margin)
        sides = np.stack([evaluate_procedure(expr, passed) for expr in procedures])
        nest_sides(worlds, sides)
        yield ChunkOutcome(
            deal_slice=part,
            vote_passed=passed,
            support=support,
            needed=need,
            side_ratified=sides,
            agreed=_agreed(worlds, sides, None if agreements is None else agreements[part]),
        )


def _needed_of(
    worlds: Worlds,
    rules: Sequence[VoteRule],
    support: npt.NDArray[np.float64],
    margin: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """What each vote needed, such that ``support - needed`` is ``margin`` bit for bit.

    Counted votes: ``support - margin`` (whole numbers, exact). Referendums: their fraction,
    which ``vote_outcomes`` subtracted from the share.
    """
    need = support - margin
    referendum = set(worlds.referendum_chambers.tolist())
    for v, rule in enumerate(rules):
        if rule.chamber in referendum:
            need[v] = 1.0 if rule.fraction is None else float(rule.fraction)
    return need


def nest_sides(worlds: Worlds, sides: npt.NDArray[np.bool_]) -> None:
    """Apply nested sides' rules over their members to ``sides`` ``(S, ...)`` in place (members first)."""
    for side, rule in worlds.nested:
        sides[side] &= evaluate_procedure(rule, sides)


def level_one(
    worlds: Worlds, sides: npt.NDArray[np.bool_], agreement: Expression | None = None
) -> npt.NDArray[np.bool_]:
    """Whether the Level-I rule holds over side outcomes ``(S, ...)`` (default: the worlds' own)."""
    rule = agreement if agreement is not None else worlds.agreement
    return np.all(sides, axis=0) if rule is None else evaluate_procedure(rule, sides)


def _agreed(
    worlds: Worlds, sides: npt.NDArray[np.bool_], rules: Sequence[Expression | None] | None
) -> npt.NDArray[np.bool_]:
    """``(D, R, n)`` each deal's Level-I agreement over the sides' outcomes ``(S, D, R, n)``."""
    if rules is None or all(rule is None for rule in rules):
        if worlds.agreement is None:
            return np.all(sides, axis=0)
        return evaluate_procedure(worlds.agreement, sides)
    out = np.empty(sides.shape[1:], dtype=bool)
    for j, rule in enumerate(rules):
        rule = rule if rule is not None else worlds.agreement
        column = sides[..., j : j + 1]
        out[..., j] = (np.all(column, axis=0) if rule is None else evaluate_procedure(rule, column))[..., 0]
    return out
