"""Compiled procedure programs give exactly what the NumPy expression walker gives."""

from __future__ import annotations

import dataclasses

import numpy as np
from engine_helpers import fixed_probability_worlds
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.engine.chunks import level_one, nest_sides
from riskmodel.engine.procedure import evaluate_procedure
from riskmodel.engine.program import level_outcomes
from riskmodel.worlds.arrays import AtLeast, Expression, Not, VoteRef, WeightedCount


def expressions(n_refs: int) -> st.SearchStrategy[Expression]:
    leaves = st.builds(VoteRef, st.integers(0, n_refs - 1))

    def extend(children: st.SearchStrategy[Expression]) -> st.SearchStrategy[Expression]:
        lists = st.lists(children, min_size=1, max_size=4).map(tuple)
        weighted = st.lists(
            st.tuples(children, st.sampled_from([0.1, 0.2, 0.3, 1.0, 2.5, 1 / 3])), min_size=1, max_size=4
        ).map(tuple)
        return st.one_of(
            st.builds(Not, children),
            st.builds(AtLeast, st.integers(-1, 4), lists),
            st.builds(
                WeightedCount,
                weighted,
                st.sampled_from([0.0, 0.3, 0.5, 0.6, 2 / 3, 1.0, 2.0]),
                st.booleans(),
                st.booleans(),
            ),
        )

    return st.recursive(leaves, extend, max_leaves=10)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), seed=st.integers(0, 10_000))
def test_programs_match_the_numpy_walker(data, seed) -> None:
    n_votes, n_sides = 5, 4
    procedures = [data.draw(expressions(n_votes)) for _ in range(n_sides)]
    nested = ((3, data.draw(expressions(3))),)  # side 3 also needs a rule over sides 0-2
    per_deal = [data.draw(st.one_of(st.none(), expressions(n_sides))) for _ in range(3)]
    worlds = dataclasses.replace(
        fixed_probability_worlds([[0.5]], n_draws=2, n_replicates=3), nested=nested, agreement=per_deal[0]
    )
    passed = np.random.default_rng(seed).random((n_votes, 2, 3, 3)) < 0.5
    sides, agreed = level_outcomes(worlds, procedures, passed, per_deal)

    expected = np.stack([evaluate_procedure(expr, passed) for expr in procedures])
    nest_sides(worlds, expected)
    np.testing.assert_array_equal(sides, expected)
    for n, rule in enumerate(per_deal):
        np.testing.assert_array_equal(agreed[..., n], level_one(worlds, expected[..., n], rule))


def test_parallel_and_serial_passes_agree(monkeypatch) -> None:
    from riskmodel.engine import program

    procedures = [
        AtLeast(2, (VoteRef(0), Not(VoteRef(1)), VoteRef(2))),
        WeightedCount(((VoteRef(1), 0.3), (VoteRef(3), 0.7)), 0.5, True),
    ]
    worlds = dataclasses.replace(
        fixed_probability_worlds([[0.5]], n_draws=30, n_replicates=20), agreement=None
    )
    passed = np.random.default_rng(1).random((4, 30, 20, 50)) < 0.6
    serial = level_outcomes(worlds, procedures, passed)
    monkeypatch.setattr(program, "PARALLEL_FROM", 0)
    parallel = level_outcomes(worlds, procedures, passed)
    for one, other in zip(serial, parallel, strict=True):
        np.testing.assert_array_equal(one, other)
    assert 0 < serial[1].mean() < 1
