"""Ratification procedures: boolean expressions over a side's votes.

``compile_procedure`` turns the scenario's declarative expression into a small tree over vote
indices; ``evaluate_procedure`` applies it to arrays of vote outcomes (pure NumPy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from riskmodel.spec.schema import AllOf, AnyOf, AtLeastOf, NotOf, Procedure

__all__ = ["All", "AtLeast", "Expression", "Not", "VoteRef", "compile_procedure", "evaluate_procedure"]


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


Expression = VoteRef | AtLeast | Not


def All(*clauses: Expression) -> AtLeast:  # noqa: N802 - reads as the procedure keyword
    """Every clause holds."""
    return AtLeast(len(clauses), clauses)


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


def evaluate_procedure(expression: Expression, vote_passed: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Evaluate an expression on vote outcomes.

    Parameters
    ----------
    expression
        A compiled procedure.
    vote_passed
        Boolean array ``(vote, ...)``: whether each vote passed, in any trailing shape.

    Returns
    -------
    numpy.ndarray
        Boolean array of the trailing shape: whether the side ratifies.
    """
    match expression:
        case VoteRef(vote=index):
            return vote_passed[index]
        case Not(clause=clause):
            return ~evaluate_procedure(clause, vote_passed)
        case AtLeast(k=k, clauses=clauses):
            if k <= 0:
                return np.ones(vote_passed.shape[1:], dtype=bool)
            held = np.zeros(vote_passed.shape[1:], dtype=np.int32)
            for clause in clauses:
                held += evaluate_procedure(clause, vote_passed)
            return held >= k
    raise TypeError(f"not an expression: {expression!r}")
