"""Compile a scenario's votes and procedures into the engine's rule objects.

``vote_rule`` reduces one declared vote (threshold, base, polarity, ties) to a
:class:`~riskmodel.worlds.arrays.VoteRule`; ``compile_procedure`` turns a side's declarative
procedure into an expression over vote indices. The arithmetic on these objects (votes needed,
procedure evaluation) lives in :mod:`riskmodel.engine` only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from riskmodel.model.layout import Layout
from riskmodel.spec.schema import AllOf, AnyOf, AtLeastOf, NotOf, Procedure, Vote
from riskmodel.spec.shocks import RemoveVeto
from riskmodel.worlds.arrays import All, AtLeast, Expression, Not, VoteRef, VoteRule, Worlds

__all__ = [
    "NAMED_THRESHOLDS",
    "compile_procedure",
    "compile_rules",
    "drop_vetoes",
    "rule_of_vote",
    "vote_rule",
    "with_rules",
]

NAMED_THRESHOLDS = {
    "majority": Fraction(1, 2),
    "three_fifths": Fraction(3, 5),
    "two_thirds": Fraction(2, 3),
    "unanimity": Fraction(1, 1),
}
"""The share of the base each named threshold needs (``majority`` needs strictly more)."""


def vote_rule(
    threshold: str | int | float,
    *,
    chamber: int = 0,
    relative_to: str = "voting",
    polarity: str = "for",
    ties: str = "fail",
) -> VoteRule:
    """Reduce a vote's declared threshold, base, polarity and tie rule to a :class:`VoteRule`."""
    fraction: Fraction | None
    count: int | None = None
    if isinstance(threshold, str):
        fraction = NAMED_THRESHOLDS[threshold]
    elif isinstance(threshold, int):
        fraction, count = None, threshold
    else:
        fraction = Fraction(threshold).limit_denominator(10_000)
    return VoteRule(
        chamber=chamber,
        fraction=fraction,
        strict=threshold == "majority",
        count=count,
        relative_to_seats=relative_to == "seats",
        polarity_for=polarity == "for",
        ties_pass=ties == "pass",
        relative_to_present=relative_to == "present",
    )


def rule_of_vote(vote: Vote, chamber: int) -> VoteRule:
    """The rule of a validated scenario vote held by chamber index ``chamber``."""
    return vote_rule(
        vote.threshold, chamber=chamber, relative_to=vote.relative_to, polarity=vote.polarity, ties=vote.ties
    )


def compile_procedure(procedure: Procedure | None, votes: Mapping[str, int]) -> Expression:
    """Compile a validated procedure; ``None`` means all of the side's votes."""
    if procedure is None:
        return All(*(VoteRef(index) for index in votes.values()))
    match procedure:
        case str():
            return VoteRef(votes[procedure])
        case AllOf(all=items):
            return All(*(compile_procedure(item, votes) for item in items))
        case AnyOf(any=items):
            return AtLeast(1, tuple(compile_procedure(item, votes) for item in items))
        case NotOf(not_=item):
            return Not(compile_procedure(item, votes))
        case AtLeastOf(at_least=spec):
            return AtLeast(spec.k, tuple(compile_procedure(item, votes) for item in spec.of))
    raise TypeError(f"not a procedure: {procedure!r}")


def compile_rules(layout: Layout) -> tuple[tuple[VoteRule, ...], tuple[Expression, ...]]:
    """Every vote's rule (layout vote order) and every side's compiled procedure (side order)."""
    rules = tuple(
        rule_of_vote(vote, int(chamber))
        for vote, chamber in zip(layout.vote_specs, layout.vote_chamber, strict=True)
    )
    procedures = []
    for s, side in enumerate(layout.side_specs):
        side_votes = {
            layout.vote_specs[v].name: v for v in range(len(layout.votes)) if layout.vote_side[v] == s
        }
        procedures.append(compile_procedure(side.procedure, side_votes))
    return rules, tuple(procedures)


def _always(expression: Expression, vote: int) -> Expression:
    match expression:
        case VoteRef(vote=index):
            return AtLeast(0, ()) if index == vote else expression  # k = 0 always holds
        case Not(clause=clause):
            return Not(_always(clause, vote))
        case AtLeast(k=k, clauses=clauses):
            return AtLeast(k, tuple(_always(clause, vote) for clause in clauses))
    raise TypeError(f"not an expression: {expression!r}")


def with_rules(worlds: Worlds, layout: Layout) -> Worlds:
    """The worlds voting by the rules and procedures of ``layout`` (a modified scenario's)."""
    rules, procedures = compile_rules(layout)
    return dataclasses.replace(worlds, vote_rules=rules, procedures=procedures)


def drop_vetoes(layout: Layout, worlds: Worlds, shocks: Sequence[Any]) -> Worlds:
    """The worlds with the layout's rules, whose procedures treat each ``remove_veto`` vote as passed."""
    worlds = with_rules(worlds, layout)
    procedures = list(worlds.procedures)
    for shock in shocks:
        if isinstance(shock, RemoveVeto):
            side = layout.sides.index(shock.side)
            procedures[side] = _always(procedures[side], layout.votes.index(f"{shock.side}.{shock.vote}"))
    return dataclasses.replace(worlds, procedures=tuple(procedures))
