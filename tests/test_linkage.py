"""Deal design and synergistic linkage on a logroll with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.analyses.dealspace import coarse_grid, pattern_search
from riskmodel.analyses.linkage import compare_bundles, fresh_simulation, optimise_deal
from riskmodel.errors import RiskmodelError
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.spec.scenario import parse_scenario

# Three members, three issues, reversion 0 everywhere. Member i wants issue i moved to 1 (salience
# 0.8) and mildly dislikes any move of the other two (0.1 each). Moving one issue to x > 0 wins
# only its own member (1 of 3); moving two wins two members (each gains 0.8 - 0.1·x² > 0);
# moving all three wins everyone. Every single-issue deal fails; bundles pass.
LOGROLL = """
name: logroll
issues:
  - {name: a, range: [0, 1]}
  - {name: b, range: [0, 1]}
  - {name: c, range: [0, 1]}
deals: [{name: status_quo, values: {a: 0, b: 0, c: 0}}]
sides:
  - name: s
    reversion: {a: 0, b: 0, c: 0}
    chief: {ideal: {a: 1, b: 0, c: 0}}
    chambers:
      - name: house
        shock_scale: 1.0e-6
        blocs:
          - {name: wants_a, seats: 1, ideal: {a: 1, b: 0, c: 0}, salience: {a: 0.8, b: 0.1, c: 0.1}}
          - {name: wants_b, seats: 1, ideal: {a: 0, b: 1, c: 0}, salience: {a: 0.1, b: 0.8, c: 0.1}}
          - {name: wants_c, seats: 1, ideal: {a: 0, b: 0, c: 1}, salience: {a: 0.1, b: 0.1, c: 0.8}}
    votes: [{name: passage, chamber: house}]
"""


@pytest.fixture(scope="module")
def logroll():
    return sample_worlds(parse_scenario(LOGROLL), n_worlds=60, n_replicates=4, seed=3)


def resample(scenario, seed):
    """The caller's sampler: analyses never sample the model themselves."""
    return sample_worlds(scenario, n_worlds=60, n_replicates=4, seed=seed)


def test_every_single_issue_deal_fails(logroll) -> None:
    moves = np.linspace(0.05, 1.0, 20)
    deals = np.zeros((3 * moves.size, 3))
    for k in range(3):
        deals[k * moves.size : (k + 1) * moves.size, k] = moves
    results = evaluate_deals(logroll, deals, vote_detail=False, keep_conditional=False)
    assert float(results["agreement_probability"].max()) == 0.0


def test_optimiser_finds_a_passing_bundle_and_rechecks_it_on_fresh_worlds(logroll) -> None:
    best = optimise_deal(logroll, fresh=resample, fresh_seed=99)
    assert best.probability == 1.0
    assert best.fresh_probability == 1.0 and best.fresh_side_probability == {"s": 1.0}
    assert np.count_nonzero(best.deal > 0.01) >= 2  # a bundle, not a single-issue move
    for issue in ("a", "b", "c"):  # the best deal that moves one issue alone is no better than a coin
        single = optimise_deal(logroll, issues=[issue], fresh=None)
        assert single.probability < 0.9
        assert np.count_nonzero(single.deal) <= 1


def test_bundles_pass_where_their_parts_fail(logroll) -> None:
    table = compare_bundles(logroll, [1.0, 1.0, 1.0]).set_index("bundle")
    assert list(table.index) == ["a", "b", "c", "a+b", "a+c", "b+c", "a+b+c"]
    assert not table.loc[["a", "b", "c"], "passes"].any()
    assert table.loc[["a+b", "a+c", "b+c", "a+b+c"], "synergistic"].all()
    assert table.loc[["a+b", "a+c", "b+c"], "minimal"].all()
    assert not table.loc["a+b+c", "minimal"]  # its pairs already pass
    np.testing.assert_allclose(table["agreement_probability"], [0, 0, 0, 1, 1, 1, 1])
    assert table.attrs == {"base": "reversion", "tau": 0.5}


def test_chief_objective_buys_the_cheapest_ally(logroll) -> None:
    # The chief wants only a = 1 (gain 1/3), which fails alone. The best feasible deal adds the
    # smallest move on b or c that wins its member: 0.8(2y - y²) > 0.1a², i.e. y ≈ a²/16 ≈ 0.062,
    # and gives up a little of a in exchange (a ≈ 1 - 1/128): chief gain ≈ 0.332.
    best = optimise_deal(logroll, objective="chief", tau=0.9, rounds=10, fresh=resample, fresh_seed=5)
    a, b, c = best.deal
    assert best.feasible and best.chief == "s"
    assert best.probability == 1.0 and best.fresh_probability == 1.0
    assert a == pytest.approx(0.99, abs=0.02)
    assert max(b, c) == pytest.approx(0.062, abs=0.01) and min(b, c) == 0.0
    assert 0.33 < best.chief_gains["s"] < 1 / 3


def test_pattern_search_converges_on_a_smooth_function() -> None:
    target = np.array([0.3, 0.71])

    def score(points: np.ndarray) -> np.ndarray:
        return -np.sum((points - target) ** 2, axis=1)

    point, scored = pattern_search(score, [0.5, 0.5], 0.25, rounds=40)
    np.testing.assert_allclose(point, target, atol=1e-3)
    assert scored > 0
    assert coarse_grid(2, 5).shape == (25, 2)
    assert coarse_grid(12, 5).shape == (2**12, 12)  # capped at 20,000 points


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"issues": ["d"]}, "unknown issue 'd'"),
        ({"base": "status_qo"}, "did you mean 'status_quo'"),
        ({"objective": "votes"}, "unknown objective"),
        ({"objective": "chief", "chief": "t"}, "no chief"),
        ({"tau": 1.5}, "tau"),
    ],
)
def test_user_errors_are_named(logroll, options: dict, message: str) -> None:
    with pytest.raises(RiskmodelError, match=message):
        optimise_deal(logroll, **options)


def test_fresh_worlds_come_from_the_callers_sampler(logroll) -> None:
    calls = []

    def counting(scenario, seed):
        calls.append(seed)
        return resample(scenario, seed)

    fresh = fresh_simulation(logroll, counting)
    assert len(calls) == 1 and fresh.layout.scenario is logroll.layout.scenario
    assert not np.array_equal(fresh.worlds.member_shock, logroll.worlds.member_shock)
    # the derived seed is reproducible: the same simulation gets the same fresh worlds
    again = fresh_simulation(logroll, counting)
    np.testing.assert_array_equal(again.worlds.member_coef, fresh.worlds.member_coef)


def test_compare_bundles_needs_a_move(logroll) -> None:
    with pytest.raises(RiskmodelError, match="nothing to move"):
        compare_bundles(logroll, [0.0, 0.0, 0.0])
