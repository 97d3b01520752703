"""Side payments: hand-computed prices on a five-member chamber, consistency with the engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riskmodel.analyses.sidepayments import budget_needed, side_payments
from riskmodel.errors import RiskmodelError
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.spec.scenario import load_scenario, parse_scenario

# Deal x = 0.6 against reversion 0, salience 1: member i's net gain is (0 - θ)² - (0.6 - θ)²
# = 1.2θ - 0.36, i.e. [0.24, -0.06, -0.12, -0.24, -0.36] for θ = [0.5, 0.25, 0.2, 0.1, 0.0].
# One member votes yes. A majority (3 of 5) needs two more: the cheapest are 0.06 and 0.12.
FIVE = """
name: five
issues: [{name: x, range: [0, 1]}]
deals: [{name: d, values: {x: 0.6}}]
sides:
  - name: s
    reversion: {x: 0.0}
    chambers:
      - name: house
        shock_scale: 1.0e-7
        blocs:
          - {name: m1, seats: 1, ideal: {x: 0.5}}
          - {name: m2, seats: 1, ideal: {x: 0.25}}
          - {name: m3, seats: 1, ideal: {x: 0.2}}
          - {name: m4, seats: 1, ideal: {x: 0.1}}
          - {name: m5, seats: 1, ideal: {x: 0.0}}
    votes: VOTES
    PROCEDURE
"""


def five(votes: str, procedure: str = "") -> object:
    text = FIVE.replace("VOTES", votes).replace("PROCEDURE", procedure)
    return sample_worlds(parse_scenario(text), n_worlds=12, n_replicates=3, seed=1)


def test_majority_price_is_the_two_smallest_shortfalls() -> None:
    result = side_payments(five("[{name: passage, chamber: house}]"), "d", budgets=[0.0, 0.179, 0.181, 0.2])
    np.testing.assert_allclose(result["ratification_cost"], 0.06 + 0.12, atol=1e-5)
    assert float(result["budget_needed"].item()) == pytest.approx(0.18, abs=1e-5)
    np.testing.assert_allclose(result["ratification_probability"].sel(side="s"), [0, 0, 1, 1])
    assert float(result["ratification_probability_unpaid"].item()) == 0.0
    assert result.attrs["deal"] == "d"


def test_cost_model_is_pluggable() -> None:
    def fee_and_weight(shortfall: np.ndarray, members: np.ndarray) -> np.ndarray:
        return 0.01 + shortfall * (1.0 + members)  # a fee, and later members are dearer

    simulation = five("[{name: passage, chamber: house}]")
    result = side_payments(simulation, "d", cost_model=fee_and_weight)
    # prices: m2 0.01 + 0.06·2 = 0.13, m3 0.01 + 0.12·3 = 0.37, m4 0.01 + 0.24·4 = 0.97 ...
    np.testing.assert_allclose(result["ratification_cost"], 0.13 + 0.37, atol=1e-5)
    assert result.attrs["cost_model"] == "fee_and_weight"
    with pytest.raises(RiskmodelError, match="shape"):
        side_payments(simulation, "d", cost_model=lambda s, m: s[..., :1])


def test_same_chamber_votes_share_purchases_and_other_procedures_combine() -> None:
    votes = "[{name: simple, chamber: house}, {name: super, chamber: house, threshold: two_thirds}]"
    # two-thirds of 5 needs 4: buy 0.06 + 0.12 + 0.24 = 0.42, which also carries the majority
    both = side_payments(five(votes, "procedure: {all: [simple, super]}"), "d")
    np.testing.assert_allclose(both["ratification_cost"], 0.42, atol=1e-5)
    np.testing.assert_allclose(
        both["vote_cost"].sel(vote=["s.simple", "s.super"]).mean("world"), [0.18, 0.42], atol=1e-5
    )
    either = side_payments(five(votes, "procedure: {any: [simple, super]}"), "d")
    np.testing.assert_allclose(either["ratification_cost"], 0.18, atol=1e-5)


def test_defeating_a_vote_against_the_deal() -> None:
    # Four members vote against; an override needs two-thirds (4 of 5) against, so it carries.
    # Flipping one against-voter defeats it: the cheapest is 0.06.
    votes = "[{name: override, chamber: house, threshold: two_thirds, polarity: against}]"
    result = side_payments(five(votes, "procedure: {not: override}"), "d")
    np.testing.assert_allclose(result["ratification_cost"], 0.06, atol=1e-5)
    assert float(result["ratification_probability_unpaid"].item()) == 0.0


def test_unpaid_ratification_matches_the_engine_and_money_only_helps(toy_path: Path) -> None:
    simulation = sample_worlds(load_scenario(toy_path), n_worlds=400, n_replicates=8, seed=2)
    engine = evaluate_deals(simulation)
    for deal in ("low", "high"):
        result = side_payments(simulation, deal)
        expected = engine["ratification_probability"].sel(deal=deal).to_numpy()
        np.testing.assert_allclose(result["ratification_probability_unpaid"], expected, atol=1 / 400)
        np.testing.assert_allclose(result["ratification_probability"].isel(budget=0), expected, atol=1 / 400)
        assert (result["ratification_probability"].diff("budget") >= 0).all()
        away = result["ratification_probability"].sel(side="away")  # a referendum: nobody to buy
        assert float(away.max()) == float(away.min())
        assert np.isinf(result["ratification_cost"].sel(side="away")).any()
        assert (
            result["agreement_probability"] <= result["ratification_probability"].min("side") + 1e-12
        ).all()


def test_budget_needed_is_the_empirical_quantile() -> None:
    costs = np.array([0.0, 1.0, 2.0, 3.0])
    assert budget_needed(costs, 0.25) == 0.0
    assert budget_needed(costs, 0.5) == 1.0
    assert budget_needed(costs, 0.75) == 2.0
    assert budget_needed(costs, 1.0) == 3.0
    assert budget_needed(np.array([0.0, np.inf]), 0.9) == np.inf
    np.testing.assert_array_equal(budget_needed(np.array([[0.0, 5.0], [1.0, 2.0]]), 0.5), [0.0, 1.0])
