"""The packed map sweep: the same counts as the row sweep's outcomes, and word programs = procedures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riskmodel.engine.procedure import evaluate_procedure
from riskmodel.engine.sweep import sweep_chunks
from riskmodel.engine.sweep_map import map_supported, sweep_map_counts
from riskmodel.engine.sweep_program import compile_program
from riskmodel.engine.sweep_run import run_program
from riskmodel.pipeline import sample_worlds
from riskmodel.spec.scenario import load_scenario
from riskmodel.worlds.agreement import deal_rule
from riskmodel.worlds.arrays import AtLeast, Not, VoteRef, WeightedCount

SCENARIOS = Path(__file__).resolve().parent.parent / "data" / "scenarios"


@pytest.mark.parametrize(
    ("name", "replicates", "chunk_size"),
    [
        ("usmca_2019", 20, 100),  # three sides, whole rows per chunk
        ("ceta_2016", 3, 10),  # nested sides, a Level-I rule, parts of a row per chunk
        ("asean_us_2025", 5, 64),  # a deal among a subset of sides
        ("eu_constitution_2005", 4, 50),  # referendums
    ],
)
def test_counts_equal_the_row_sweeps_outcomes(name: str, replicates: int, chunk_size: int) -> None:
    simulation = sample_worlds(
        load_scenario(SCENARIOS / f"{name}.yaml"), n_worlds=24 * replicates, n_replicates=replicates, seed=11
    )
    worlds, layout = simulation.worlds, simulation.layout
    assert map_supported(worlds)
    rule, _ = deal_rule(layout, layout.deals[-1])
    options = {
        "base_unit": layout.to_unit(layout.deal_values[-1]),
        "x_index": len(layout.issues) - 1,
        "y_index": 0,
        "x_unit": np.linspace(-0.1, 1.1, 29),
        "y_unit": np.linspace(0.0, 1.0, 13),
        "chunk_size": chunk_size,
        "agreement": rule,
    }
    expected = list(sweep_chunks(worlds, worlds.vote_rules, worlds.procedures, **options))
    counted = list(sweep_map_counts(worlds, worlds.vote_rules, worlds.procedures, **options))
    assert [c.deal_slice for c in counted] == [c.deal_slice for c in expected]
    outcomes = 0
    for chunk, counts in zip(expected, counted, strict=True):
        held = np.concatenate([chunk.side_ratified, chunk.agreed[None]])  # (S + 1, D, R, n)
        np.testing.assert_array_equal(counts.per_draw, np.count_nonzero(held, axis=2))
        np.testing.assert_array_equal(counts.size, np.count_nonzero(held, axis=3))
        outcomes += int(held.sum())
    assert outcomes > 0  # something ratified somewhere


def test_word_programs_evaluate_procedures_nested_sides_and_agreements_exactly() -> None:
    rng = np.random.default_rng(3)
    n_votes, n_replicates, width = 5, 37, 300
    passed = rng.random((n_votes, n_replicates, width)) < rng.random((n_votes, 1, 1))
    procedures = [
        AtLeast(2, (VoteRef(0), Not(VoteRef(1)), VoteRef(2))),  # 2 of 3: counted bit by bit
        WeightedCount(((VoteRef(1), 0.3), (VoteRef(3), 0.45), (Not(VoteRef(4)), 0.25)), 0.55, True, True),
        WeightedCount(((VoteRef(0), 2.0), (VoteRef(2), 1.0)), 2.0, False, False),
        AtLeast(1, (VoteRef(4), AtLeast(2, (VoteRef(0), VoteRef(3))))),
        AtLeast(0, ()),
    ]
    nested = [(4, AtLeast(3, (VoteRef(0), VoteRef(1), VoteRef(2))))]  # VoteRef: a side here
    agreement = AtLeast(3, tuple(VoteRef(s) for s in range(5)))

    sides = np.stack([evaluate_procedure(p, passed) for p in procedures])
    for side, rule in nested:
        sides[side] &= evaluate_procedure(rule, sides)
    agreed = evaluate_procedure(agreement, sides)

    bit = np.uint64(1) << np.arange(n_replicates, dtype=np.uint64)
    words = (passed.astype(np.uint64) * bit[None, :, None]).sum(axis=1, dtype=np.uint64)
    ops, weights, depth = compile_program(procedures, nested, agreement)
    outcome = np.zeros((len(procedures) + 1, width), dtype=np.uint64)
    full = np.uint64(2**n_replicates - 1)
    run_program(ops, weights, words, outcome, np.zeros((depth, width), np.uint64), width, n_replicates, full)
    unpacked = (outcome[:, None, :] & bit[None, :, None]) != 0  # (S + 1, R, width)
    np.testing.assert_array_equal(unpacked[:-1], sides)
    np.testing.assert_array_equal(unpacked[-1], agreed)


def test_default_agreement_is_every_side() -> None:
    rng = np.random.default_rng(4)
    passed = rng.random((2, 5, 40)) < 0.7
    procedures = [VoteRef(0), VoteRef(1)]
    sides = np.stack([evaluate_procedure(p, passed) for p in procedures])
    ops, weights, depth = compile_program(procedures, [], None)
    bit = np.uint64(1) << np.arange(5, dtype=np.uint64)
    words = (passed.astype(np.uint64) * bit[None, :, None]).sum(axis=1, dtype=np.uint64)
    outcome = np.zeros((3, 40), dtype=np.uint64)
    run_program(ops, weights, words, outcome, np.zeros((depth, 40), np.uint64), 40, 5, np.uint64(31))
    unpacked = (outcome[:, None, :] & bit[None, :, None]) != 0
    np.testing.assert_array_equal(unpacked[-1], np.all(sides, axis=0))
