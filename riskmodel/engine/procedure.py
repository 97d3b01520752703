"""Ratification procedures evaluated on vote outcomes (pure NumPy)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from riskmodel.worlds.arrays import AtLeast, Expression, Not, VoteRef, WeightedCount

__all__ = ["evaluate_procedure"]


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
        case WeightedCount(clauses=clauses, threshold=threshold, share=share, polarity_for=polarity_for):
            weight = np.zeros(vote_passed.shape[1:])
            total = 0.0
            for clause, w in clauses:
                held_clause = evaluate_procedure(clause, vote_passed)
                weight += w * (held_clause if polarity_for else ~held_clause)
                total += w
            needed = threshold * total if share else threshold
            # weights are decimals (population shares): a relative tolerance keeps a count that
            # equals the threshold on paper from failing by a rounding error
            return weight >= needed - 1e-9 * max(total, 1.0)
    raise TypeError(f"not an expression: {expression!r}")
