"""Unequal bargaining power: the asymmetric Nash solution against a numerical optimum."""

from __future__ import annotations

import numpy as np
import pytest
from engine_helpers import fixed_scenario, fixed_side
from scipy import optimize

from riskmodel.analyses.bargaining import nash_bargaining
from riskmodel.analyses.power import bargaining_power
from riskmodel.errors import RiskmodelError
from riskmodel.pipeline import sample_worlds

IDEAL = {"a": 0.2, "b": 0.8}


@pytest.fixture(scope="module")
def simulation():
    """Two sides that always ratify (tiny shocks, large valence); chiefs at 0.2 and 0.8, reversion 0."""
    sides = []
    for name, ideal in IDEAL.items():
        side = fixed_side(name, [0.5], reversion=0.0, chamber={"shock_scale": 0.001})
        side["chambers"][0]["blocs"][0]["valence"] = 5.0
        side["chief"] = {"ideal": {"x": ideal}}
        sides.append(side)
    scenario = fixed_scenario(sides, [{"name": "mid"}])
    return sample_worlds(scenario, n_worlds=200, n_replicates=5, seed=1)


def exact(alpha_a: float) -> float:
    """argmax over x in [0, 1] of α log G_a(x) + (1 - α) log G_b(x), G_s = U_s(x) - U_s(0)."""

    def minus(x: float) -> float:
        gains = [-((x - t) ** 2) + t**2 for t in IDEAL.values()]
        if min(gains) <= 0:
            return np.inf
        return -(alpha_a * np.log(gains[0]) + (1 - alpha_a) * np.log(gains[1]))

    return float(optimize.minimize_scalar(minus, bounds=(1e-6, 0.4 - 1e-6), method="bounded").x)


@pytest.mark.parametrize("alpha", [None, 0.3, 0.7])
def test_asymmetric_nash_solution_against_the_numerical_optimum(simulation, alpha: float | None) -> None:
    solution = nash_bargaining(simulation, power=None if alpha is None else {"a": alpha}, grid=21, rounds=12)
    assert solution.agreement_probability == 1.0
    assert solution.deal[0] == pytest.approx(exact(0.5 if alpha is None else alpha), abs=2e-3)


def test_more_power_moves_the_solution_toward_that_chief(simulation) -> None:
    low = nash_bargaining(simulation, power={"a": 0.3}).deal[0]
    high = nash_bargaining(simulation, power={"a": 0.8}).deal[0]
    assert abs(high - IDEAL["a"]) < abs(low - IDEAL["a"])


@pytest.mark.parametrize(
    ("power", "words"),
    [
        ({"c": 0.5}, "not a side with a chief"),
        ({"a": 1.2}, "strictly between 0 and 1"),
        ({"a": 0.6, "b": 0.6}, "sum to 1"),
    ],
)
def test_bad_powers_are_refused(power: dict[str, float], words: str) -> None:
    with pytest.raises(RiskmodelError, match=words):
        bargaining_power(["a", "b"], power)
