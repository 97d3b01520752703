"""Word programs that read votes and sides in place: every way a reference can alias a result."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.engine.procedure import evaluate_procedure
from riskmodel.engine.sweep_program import compile_program
from riskmodel.engine.sweep_run import run_program
from riskmodel.worlds.arrays import AtLeast, Expression, Not, VoteRef, WeightedCount

PROCEDURES: list[Expression] = [
    VoteRef(0),  # stored straight from a vote's row
    AtLeast(1, (VoteRef(2),)),  # one of one: the operand itself
    Not(VoteRef(1)),  # a complement of a vote
    AtLeast(2, (VoteRef(0), VoteRef(0))),  # AND of a row with itself
    AtLeast(1, (Not(VoteRef(3)), VoteRef(3), VoteRef(1))),  # OR whose first operand is a result
    AtLeast(2, (VoteRef(1), Not(VoteRef(0)), VoteRef(0))),  # 2 of 3, references and a result mixed
    WeightedCount(((VoteRef(2), 0.5), (Not(VoteRef(3)), 0.3), (VoteRef(2), 0.2)), 0.6, True, True),
    AtLeast(3, (VoteRef(0), AtLeast(1, (VoteRef(1), VoteRef(2))), VoteRef(3))),  # AND over a nested OR
]
# nested sides, in order: a side's row ANDed with another's, with its own, and with a side
# changed by an earlier nesting (here VoteRef(s) is side s)
NESTED: list[tuple[int, Expression]] = [
    (0, VoteRef(1)),
    (1, Not(VoteRef(0))),
    (2, VoteRef(2)),
    (3, AtLeast(2, (VoteRef(0), VoteRef(4), VoteRef(5)))),
]
AGREEMENTS: list[Expression | None] = [
    None,
    AtLeast(2, (VoteRef(0), VoteRef(3), Not(VoteRef(6)))),
    VoteRef(4),
    Not(VoteRef(7)),
]


@pytest.mark.parametrize("agreement", AGREEMENTS)
@pytest.mark.parametrize(("n_replicates", "seed"), [(1, 0), (20, 1), (64, 2)])
def test_programs_with_references_equal_the_procedures(
    agreement: Expression | None, n_replicates: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    n_votes, width = 4, 97
    passed = rng.random((n_votes, n_replicates, width)) < rng.random((n_votes, 1, 1))
    sides = np.stack([evaluate_procedure(p, passed) for p in PROCEDURES])
    for side, rule in NESTED:
        sides[side] &= evaluate_procedure(rule, sides)
    agreed = np.all(sides, axis=0) if agreement is None else evaluate_procedure(agreement, sides)

    bit = np.uint64(1) << np.arange(n_replicates, dtype=np.uint64)
    words = (passed.astype(np.uint64) * bit[None, :, None]).sum(axis=1, dtype=np.uint64)
    words_before = words.copy()
    ops, weights, depth = compile_program(PROCEDURES, NESTED, agreement)
    outcome = np.zeros((len(PROCEDURES) + 1, width), dtype=np.uint64)
    full = np.uint64(2**n_replicates - 1)
    run_program(ops, weights, words, outcome, np.zeros((depth, width), np.uint64), width, n_replicates, full)
    unpacked = (outcome[:, None, :] & bit[None, :, None]) != 0  # (S + 1, R, width)
    np.testing.assert_array_equal(unpacked[:-1], sides)
    np.testing.assert_array_equal(unpacked[-1], agreed)
    np.testing.assert_array_equal(words, words_before)  # the votes' rows are read, never written
    assert not np.any(outcome & ~full)  # no bit beyond the replicates
