"""Nash bargaining between chiefs and the tied-hands experiment (Schelling's conjecture)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize

from riskmodel.analyses.bargaining import (
    constrained_simulation,
    hardened_simulation,
    nash_bargaining,
    tied_hands,
)
from riskmodel.analyses.stress import apply_shocks
from riskmodel.errors import RiskmodelError
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.spec.scenario import load_scenario, parse_scenario
from riskmodel.spec.shocks import ShiftBloc
from riskmodel.spec.tightening import harden_bloc, shift_prior, with_threshold
from riskmodel.worlds.crn import baseline_of

# One issue, reversion 0 on both sides. Chief A's ideal is 0.4 and chief B's 0.8, so both gain
# from any deal in (0, 0.8): G_A = 0.8x - x², G_B = 1.6x - x². Side A's nine legislators have
# ideals θ: a member ratifies iff x < 2θ. Majority (5 of 9) ratifies x < 2·0.33 = 0.66, which
# does not bind the unconstrained Nash solution (≈ 0.488); two-thirds (6 of 9) ratifies only
# x < 2·0.20 = 0.40, which does. Side B (a president at 0.9) ratifies every deal on the map.
THETAS = [0.10, 0.14, 0.17, 0.20, 0.33, 0.36, 0.39, 0.42, 0.45]
TWO_SIDES = """
name: tied
issues: [{name: x, range: [0, 1]}]
deals: [{name: d, values: {x: 0.5}}]
sides:
  - name: a
    reversion: {x: 0.0}
    chief: {ideal: {x: 0.4}}
    chambers:
      - name: house
        shock_scale: 1.0e-6
        blocs:
BLOCS
    votes: [{name: passage, chamber: house}]
  - name: b
    reversion: {x: 0.0}
    chief: {ideal: {x: 0.8}}
    chambers:
      - name: president
        kind: veto_player
        shock_scale: 1.0e-6
        blocs: [{name: p, seats: 1, ideal: {x: 0.9}}]
    votes: [{name: sign, chamber: president}]
"""


def two_sides_text() -> str:
    blocs = "\n".join(
        f"          - {{name: m{i}, seats: 1, ideal: {{x: {t}}}}}" for i, t in enumerate(THETAS)
    )
    return TWO_SIDES.replace("BLOCS", blocs)


@pytest.fixture(scope="module")
def two_sides():
    return sample_worlds(parse_scenario(two_sides_text()), n_worlds=24, n_replicates=3, seed=3)


def analytic_nash(upper: float = 1.0) -> float:
    def minus_log_product(x: float) -> float:
        return -(np.log(0.8 * x - x * x) + np.log(1.6 * x - x * x))

    return float(optimize.minimize_scalar(minus_log_product, bounds=(1e-6, min(upper, 0.8) - 1e-9)).x)


def test_nash_solution_matches_the_analytic_maximiser(two_sides) -> None:
    solution = nash_bargaining(two_sides, grid=21)
    assert solution.agreed and solution.agreement_probability == 1.0
    assert solution.deal[0] == pytest.approx(analytic_nash(), abs=0.005)
    x = solution.deal[0]
    assert solution.surplus["a"] == pytest.approx(0.8 * x - x * x, rel=1e-9)  # P = 1: surplus = gain
    assert solution.surplus["b"] == pytest.approx(1.6 * x - x * x, rel=1e-9)
    assert solution.nash_product == pytest.approx(solution.surplus["a"] * solution.surplus["b"])


def test_tied_hands_move_the_agreement_toward_the_constrained_side(two_sides) -> None:
    result = tied_hands(two_sides, side="a", vote="passage", threshold="two_thirds", grid=21)
    free, tied = result.free.deal[0], result.tied.deal[0]
    assert free == pytest.approx(analytic_nash(), abs=0.005)
    assert tied == pytest.approx(0.40, abs=0.005)  # just inside A's shrunken win-set
    assert result.move["x"] == pytest.approx(0.40 - analytic_nash(), abs=0.01)  # ≈ -0.09: toward A
    assert result.toward_constrained == pytest.approx(-result.move["x"], abs=0.01)  # A's chief sits at 0.4
    assert result.winset_probability_free == 1.0 and result.winset_probability_tied == 0.0
    assert result.tied.agreement_probability == 1.0
    assert result.tied.surplus["a"] > result.free.surplus["a"]  # tied hands are leverage
    assert result.tied.surplus["b"] < result.free.surplus["b"]
    assert "two_thirds" in result.change


def test_hardening_a_bloc_also_ties_hands(two_sides) -> None:
    # Moving m4 (θ = 0.33, the median) to 0.21 makes the median 0.21: A ratifies only x < 0.42.
    result = tied_hands(two_sides, side="a", bloc="m4", shift={"x": -0.12}, grid=21)
    assert result.tied.deal[0] == pytest.approx(0.42, abs=0.005)
    assert result.toward_constrained > 0.05


def test_no_deal_when_the_chiefs_have_opposed_interests() -> None:
    text = two_sides_text().replace("reversion: {x: 0.0}", "reversion: {x: 0.6}")
    text = text.replace("chief: {ideal: {x: 0.8}}", "chief: {ideal: {x: 0.9}}")
    simulation = sample_worlds(parse_scenario(text), n_worlds=8, n_replicates=2, seed=1)
    # A wants x near 0.4 (below the reversion), B wants 0.9 (above it): no deal gains both.
    solution = nash_bargaining(simulation, grid=21)
    assert not solution.agreed and solution.nash_product == 0.0


def test_bloc_hardening_keeps_common_random_numbers(toy_path: Path) -> None:
    toy = load_scenario(toy_path)
    simulation = sample_worlds(toy, n_worlds=60, n_replicates=3, seed=4)
    hardened = harden_bloc(toy, side="home", bloc="left", shift={"tariff": 1.5})
    hard = hardened_simulation(simulation, hardened, side="home", bloc="left", shift={"tariff": 1.5})
    before, after = simulation.draws["prior"], hard.draws["prior"]
    shift = after["bloc_ideal"] - before["bloc_ideal"]
    np.testing.assert_allclose(shift.sel(bloc="home.left", issue="tariff"), 1.5)
    np.testing.assert_allclose(shift.drop_sel(bloc="home.left"), 0.0)
    np.testing.assert_array_equal(after["chamber_shock_scale"], before["chamber_shock_scale"])
    np.testing.assert_array_equal(hard.worlds.member_shock, simulation.worlds.member_shock)
    assert hard.layout.scenario.digest != toy.digest


def test_a_hardened_bloc_is_the_stress_tests_shift_bloc(toy_path: Path) -> None:
    """Tied hands and a stress test move a bloc by the same CRN path: the same worlds."""
    toy = load_scenario(toy_path)
    simulation = sample_worlds(toy, n_worlds=60, n_replicates=3, seed=4)
    hardened = harden_bloc(toy, side="home", bloc="left", shift={"tariff": 1.5})
    hard = hardened_simulation(simulation, hardened, side="home", bloc="left", shift={"tariff": 1.5})
    shock = ShiftBloc(name="hawk", kind="shift_bloc", side="home", bloc="left", issue="tariff", by=1.5)
    _, stressed = apply_shocks(baseline_of(simulation), [shock])
    np.testing.assert_array_equal(hard.worlds.member_coef, stressed.member_coef)
    np.testing.assert_array_equal(hard.worlds.referendum_coef, stressed.referendum_coef)
    np.testing.assert_array_equal(hard.worlds.member_shock, stressed.member_shock)
    as_stress = dataclasses.replace(simulation, worlds=stressed)
    ours = evaluate_deals(hard, vote_detail=False)
    theirs = evaluate_deals(as_stress, vote_detail=False)
    np.testing.assert_array_equal(ours["ratification_probability"], theirs["ratification_probability"])
    np.testing.assert_array_equal(ours["agreement_conditional"], theirs["agreement_conditional"])


def test_tied_hands_hardens_a_bloc_as_a_stress_test_would(two_sides) -> None:
    result = tied_hands(two_sides, side="a", bloc="m4", shift={"x": -0.12}, grid=21)
    shock = ShiftBloc(name="hard", kind="shift_bloc", side="a", bloc="m4", issue="x", by=-0.12)
    _, stressed = apply_shocks(baseline_of(two_sides), [shock])
    as_stress = dataclasses.replace(two_sides, worlds=stressed)
    tied = nash_bargaining(as_stress, grid=21)
    np.testing.assert_array_equal(result.tied.deal, tied.deal)
    p_side = evaluate_deals(as_stress, result.free.deal[None], vote_detail=False)["ratification_probability"]
    assert result.winset_probability_tied == float(p_side[0, 0])


def test_resampling_a_modified_scenario_goes_through_the_callers_sampler(two_sides) -> None:
    calls = []

    def resample(scenario, seed):
        calls.append(seed)
        return sample_worlds(scenario, n_worlds=24, n_replicates=3, seed=seed)

    scenario = with_threshold(two_sides.layout.scenario, side="a", vote="passage", threshold="two_thirds")
    again = constrained_simulation(two_sides, scenario, resample=resample)
    assert calls == [3] and again.layout.scenario is scenario
    np.testing.assert_array_equal(again.worlds.member_shock, two_sides.worlds.member_shock)
    unseeded = dataclasses.replace(two_sides, seed=None)
    with pytest.raises(RiskmodelError, match=r"seeded simulation \(simulation.seed\)"):
        constrained_simulation(unseeded, scenario, resample=resample)


def test_scenario_modifications_validate_and_name_errors(toy_path: Path) -> None:
    toy = load_scenario(toy_path)
    changed = with_threshold(toy, side="home", vote="passage", threshold="two_thirds")
    assert changed.spec.sides[0].votes[0].threshold == "two_thirds"
    assert toy.spec.sides[0].votes[0].threshold == "majority"  # the original is untouched
    assert with_threshold(toy, side="home", vote="passage", threshold=6).spec.sides[0].votes[0].threshold == 6
    with pytest.raises(RiskmodelError, match="above the chamber's 9 seats"):
        with_threshold(toy, side="home", vote="passage", threshold=10)
    with pytest.raises(RiskmodelError, match="threshold"):
        with_threshold(toy, side="home", vote="passage", threshold="three_quarters")
    with pytest.raises(RiskmodelError, match="did you mean 'passage'"):
        with_threshold(toy, side="home", vote="pasage", threshold="two_thirds")
    with pytest.raises(RiskmodelError, match="did you mean 'home'"):
        harden_bloc(toy, side="hom", bloc="left", shift={"tariff": 1.0})
    with pytest.raises(RiskmodelError, match="did you mean 'left'"):
        harden_bloc(toy, side="home", bloc="lef", shift={"tariff": 1.0})
    with pytest.raises(RiskmodelError, match="unknown issue"):
        harden_bloc(toy, side="home", bloc="left", shift={"tarif": 1.0})
    right = harden_bloc(toy, side="home", bloc="right", shift={"tariff": -2.0})
    prior = right.spec.sides[0].chambers[0].blocs[1].ideal["tariff"]
    assert (prior.mu, prior.lower, prior.upper) == (6.0, -2.0, 18.0)


def test_shift_prior_refuses_shapes_a_shift_would_distort() -> None:
    from riskmodel.spec.priors import Beta, Fixed, Uniform

    assert shift_prior(0.5, 0.1) == pytest.approx(0.6)
    assert shift_prior(Fixed(value=1.0), 2.0).value == 3.0
    assert (shift_prior(Uniform(dist="uniform", lower=0, upper=1), 1.0).lower) == 1.0
    with pytest.raises(RiskmodelError, match="cannot shift a beta prior"):
        shift_prior(Beta(dist="beta", alpha=2, beta=2), 0.1)


def test_tied_hands_needs_a_change(two_sides) -> None:
    with pytest.raises(RiskmodelError, match="nothing to tie"):
        tied_hands(two_sides, side="a")
    with pytest.raises(RiskmodelError, match="give the vote"):
        tied_hands(two_sides, side="a", threshold="two_thirds")
