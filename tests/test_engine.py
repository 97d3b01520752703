"""The vote engine against exact answers and invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
from engine_helpers import fixed_probability_worlds, poisson_binomial_pmf, rule
from hypothesis import given, settings
from hypothesis import strategies as st

from riskmodel.engine import evaluate_chunks, full_attendance_needed
from riskmodel.worlds.arrays import All, AtLeast, Not, VoteRef, Worlds
from riskmodel.worlds.gains import gain_coefficients
from riskmodel.worlds.rules import vote_rule

N_DRAWS, N_REPLICATES = 500, 40  # 20,000 worlds
DEAL = np.array([[0.5]])
HOUSE_P = [0.3, 0.45, 0.5, 0.55, 0.6, 0.62, 0.65, 0.7, 0.72, 0.75, 0.8, 0.4, 0.58, 0.66, 0.52]
SENATE_P = [0.85, 0.9, 0.7, 0.95, 0.8, 0.75, 0.88, 0.92, 0.6]


def tail(pmf: np.ndarray, at_least: int) -> float:
    return float(pmf[max(at_least, 0) :].sum())


def simulate(worlds: Worlds, rules, procedures) -> tuple[np.ndarray, np.ndarray]:
    """Share of worlds in which each vote passes and each procedure holds."""
    (chunk,) = list(evaluate_chunks(worlds, DEAL, rules, procedures))
    return chunk.vote_passed.mean(axis=(1, 2))[:, 0], chunk.side_ratified.mean(axis=(1, 2))[:, 0]


def assert_within_mcse(estimate: float, exact: float, n_worlds: int) -> None:
    mcse = math.sqrt(max(exact * (1 - exact), 1e-12) / n_worlds)
    assert abs(estimate - exact) <= 4 * mcse + 1e-12, f"{estimate} vs exact {exact} (MCSE {mcse:.4f})"


@pytest.fixture(scope="module")
def two_chambers() -> Worlds:
    return fixed_probability_worlds([HOUSE_P, SENATE_P], n_draws=N_DRAWS, n_replicates=N_REPLICATES, seed=7)


def test_majority_two_thirds_unanimity_match_poisson_binomial(two_chambers: Worlds) -> None:
    n = len(HOUSE_P)
    pmf_house = poisson_binomial_pmf(HOUSE_P)
    pmf_senate = poisson_binomial_pmf(SENATE_P)
    rules = [rule(0, "majority"), rule(0, "two_thirds"), rule(1, "unanimity"), rule(1, "three_fifths")]
    passed, _ = simulate(two_chambers, rules, [VoteRef(0)])
    exact = [
        tail(pmf_house, n // 2 + 1),
        tail(pmf_house, math.ceil(2 * n / 3)),
        float(pmf_senate[-1]),
        tail(pmf_senate, math.ceil(3 * len(SENATE_P) / 5)),
    ]
    for estimate, value in zip(passed, exact, strict=True):
        assert_within_mcse(estimate, value, two_chambers.n_worlds)


def test_all_over_independent_chambers_is_the_product(two_chambers: Worlds) -> None:
    rules = [rule(0, "majority"), rule(1, "two_thirds")]
    _, ratified = simulate(two_chambers, rules, [All(VoteRef(0), VoteRef(1))])
    exact = tail(poisson_binomial_pmf(HOUSE_P), 8) * tail(poisson_binomial_pmf(SENATE_P), 6)
    assert_within_mcse(ratified[0], exact, two_chambers.n_worlds)


def test_jcpoa_review_procedure_matches_exact_value(two_chambers: Worlds) -> None:
    # The deal survives unless both chambers vote against it by two-thirds (a veto override).
    against = [0.7, 0.75, 0.8, 0.7, 0.65, 0.72, 0.78, 0.69, 0.74, 0.71, 0.68, 0.77, 0.73, 0.66, 0.7]
    worlds = fixed_probability_worlds(
        [[1 - p for p in against], [0.2] * 9], n_draws=N_DRAWS, n_replicates=N_REPLICATES, seed=11
    )
    rules = [rule(0, "two_thirds", polarity_for=False), rule(1, "two_thirds", polarity_for=False)]
    _, ratified = simulate(worlds, rules, [Not(All(VoteRef(0), VoteRef(1)))])
    override_house = tail(poisson_binomial_pmf(against), math.ceil(2 * 15 / 3))
    override_senate = tail(poisson_binomial_pmf([0.8] * 9), 6)
    assert_within_mcse(ratified[0], 1 - override_house * override_senate, worlds.n_worlds)


def test_ties_fail_unless_a_tie_breaker_is_named() -> None:
    probs = [0.5] * 10
    worlds = fixed_probability_worlds([probs], n_draws=N_DRAWS, n_replicates=N_REPLICATES, seed=3)
    passed, _ = simulate(worlds, [rule(0, "majority"), rule(0, "majority", ties_pass=True)], [VoteRef(0)])
    pmf = poisson_binomial_pmf(probs)
    assert_within_mcse(passed[0], tail(pmf, 6), worlds.n_worlds)
    assert_within_mcse(passed[1], tail(pmf, 5), worlds.n_worlds)


def test_absences_against_all_seats_and_absolute_counts() -> None:
    absence = 0.2
    worlds = fixed_probability_worlds(
        [HOUSE_P], n_draws=N_DRAWS, n_replicates=N_REPLICATES, absence=absence, seed=5
    )
    rules = [rule(0, "majority", seats=True), rule(0, count=6)]
    passed, _ = simulate(worlds, rules, [VoteRef(0)])
    pmf = poisson_binomial_pmf([p * (1 - absence) for p in HOUSE_P])
    assert_within_mcse(passed[0], tail(pmf, 8), worlds.n_worlds)
    assert_within_mcse(passed[1], tail(pmf, 6), worlds.n_worlds)


def test_at_least_k_of_three() -> None:
    worlds = fixed_probability_worlds(
        [[0.9], [0.5], [0.2]], n_draws=N_DRAWS, n_replicates=N_REPLICATES, seed=2
    )
    rules = [rule(c, "majority") for c in range(3)]
    _, ratified = simulate(worlds, rules, [AtLeast(2, (VoteRef(0), VoteRef(1), VoteRef(2)))])
    p = [0.9, 0.5, 0.2]
    exact = p[0] * p[1] + p[0] * p[2] + p[1] * p[2] - 2 * p[0] * p[1] * p[2]
    assert_within_mcse(ratified[0], exact, worlds.n_worlds)


# --------------------------------------------------------------------------- properties


def spatial_worlds(
    seed: int, n_members: int, n_issues: int, n_draws: int = 8, n_replicates: int = 5
) -> tuple[Worlds, np.ndarray]:
    """Worlds of members with ideal points in [0.6, 1]^K and random saliences."""
    rng = np.random.default_rng(seed)
    ideal = rng.uniform(0.6, 1.0, (n_draws, n_members, n_issues))
    salience = rng.dirichlet(np.ones(n_issues), (n_draws, n_members))
    reversion = np.full(n_issues, 0.3)
    coef = gain_coefficients(ideal, salience, reversion, np.zeros((0,)), np.zeros((0, 2), dtype=np.int64))
    base = fixed_probability_worlds(
        [[0.5] * n_members], n_draws=n_draws, n_replicates=n_replicates, seed=seed
    )
    shocks = (rng.standard_normal((n_draws, n_replicates, n_members)) * 0.1).astype(np.float32)
    worlds = Worlds(
        **{
            **base.__dict__,
            "member_coef": coef,
            "member_shock": shocks,
            "referendum_coef": np.zeros((n_draws, 0, coef.shape[-1])),
            "referendum_var": np.zeros((n_draws, 0, n_issues, n_issues)),
            "referendum_reversion": np.zeros((0, n_issues)),
        }
    )
    return worlds, ideal


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_members=st.integers(1, 25),
    n_issues=st.integers(1, 3),
    start=st.floats(0.0, 0.55),
    step=st.floats(0.0, 1.0),
)
def test_moving_toward_every_ideal_point_never_lowers_support(seed, n_members, n_issues, start, step) -> None:
    worlds, _ = spatial_worlds(seed, n_members, n_issues)
    x = np.full((1, n_issues), start)
    closer = x + step * (0.6 - x)  # still below every ideal point, nearer to all of them
    rules = [rule(0, "majority"), rule(0, "two_thirds"), rule(0, "unanimity")]
    (far,) = list(evaluate_chunks(worlds, x, rules, [VoteRef(0)]))
    (near,) = list(evaluate_chunks(worlds, closer, rules, [VoteRef(0)]))
    assert np.all(near.support >= far.support)
    assert np.all(near.vote_passed >= far.vote_passed)
    assert near.side_ratified.mean() >= far.side_ratified.mean()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n_members=st.integers(1, 30), n_deals=st.integers(1, 6))
def test_threshold_and_procedure_orderings(seed, n_members, n_deals) -> None:
    worlds, _ = spatial_worlds(seed, n_members, 2)
    deals = np.random.default_rng(seed).uniform(0, 1, (n_deals, 2))
    rules = [rule(0, "unanimity"), rule(0, "two_thirds"), rule(0, "majority"), rule(0, "three_fifths")]
    votes = (VoteRef(0), VoteRef(1), VoteRef(2))
    procedures = [All(*votes), AtLeast(1, votes)]
    (chunk,) = list(evaluate_chunks(worlds, deals, rules, procedures))
    unanimity, two_thirds, majority, _ = chunk.vote_passed
    assert np.all(unanimity <= two_thirds)
    assert np.all(two_thirds <= majority)
    all_of, any_of = chunk.side_ratified
    for vote in chunk.vote_passed[:3]:
        assert np.all(all_of <= vote)
        assert np.all(vote <= any_of)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n_deals=st.integers(1, 9), chunk_size=st.integers(1, 9))
def test_chunk_size_never_changes_a_number(seed, n_deals, chunk_size) -> None:
    worlds, _ = spatial_worlds(seed, 12, 2)
    deals = np.random.default_rng(seed + 1).uniform(0, 1, (n_deals, 2))
    rules = [rule(0, "majority"), rule(0, "two_thirds", polarity_for=False)]
    procedures = [Not(VoteRef(1)), VoteRef(0)]
    whole = next(iter(evaluate_chunks(worlds, deals, rules, procedures, chunk_size=n_deals)))
    parts = list(evaluate_chunks(worlds, deals, rules, procedures, chunk_size=chunk_size))
    assert len(parts) == math.ceil(n_deals / chunk_size)
    np.testing.assert_array_equal(np.concatenate([p.support for p in parts], axis=-1), whole.support)
    np.testing.assert_array_equal(np.concatenate([p.agreed for p in parts], axis=-1), whole.agreed)


def test_gain_coefficients_reproduce_the_utility_difference() -> None:
    rng = np.random.default_rng(0)
    k = 3
    pairs = np.array([[0, 1], [1, 2]])
    theta, w, q = rng.uniform(0, 1, k), rng.dirichlet(np.ones(k)), rng.uniform(0, 1, k)
    gamma = np.array([0.4, -0.3])
    weights = np.diag(w)
    for (a, b), g in zip(pairs, gamma, strict=True):
        weights[a, b] = weights[b, a] = g * np.sqrt(w[a] * w[b])

    def utility(x: np.ndarray) -> float:
        return float(-(x - theta) @ weights @ (x - theta))

    coef = gain_coefficients(theta, w, q, gamma, pairs)
    from riskmodel.worlds.arrays import deal_features

    for x in rng.uniform(0, 1, (5, k)):
        expected = utility(x) - utility(q)
        assert deal_features(x, pairs)[0] @ coef == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("threshold", "seats", "share", "ties", "expected"),
    [
        ("majority", 431, False, False, 216),
        ("majority", 100, False, False, 51),
        ("majority", 100, False, True, 50),
        ("three_fifths", 100, False, False, 60),
        ("two_thirds", 100, False, False, 67),
        ("two_thirds", 99, False, False, 66),
        ("unanimity", 9, False, False, 9),
        (60, 100, False, False, 60),
        (0.55, 100, False, False, 55),
        ("majority", 0, True, False, 0.5),
        ("two_thirds", 0, True, False, 2 / 3),
    ],
)
def test_full_attendance_needed_known_answers(threshold, seats, share, ties, expected) -> None:
    rule = vote_rule(threshold, ties="pass" if ties else "fail")
    assert full_attendance_needed(rule, 0 if share else seats) == pytest.approx(expected)
