"""A bloc's valence: a net gain from ratifying whatever the terms (known answers)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from riskmodel.pipeline import run_scenario
from riskmodel.spec.scenario import parse_scenario

SCENARIO = """
name: valence
issues:
  - {name: tariff, unit: "%", range: [0, 20]}
deals:
  - {name: same, values: {tariff: 10}}
  - {name: worse, values: {tariff: 14}}
sides:
  - name: home
    reversion: {tariff: 10}
    chambers:
      - name: court
        kind: veto_player
        shock_scale: 0.1
        blocs:
          - {name: judges, seats: 1, ideal: {tariff: 10}, valence: VALENCE}
    votes:
      - {name: ruling, chamber: court}
"""


@pytest.mark.parametrize("valence", [0.1, -0.05, 0.0])
def test_valence_alone_decides_a_deal_equal_to_the_reversion(valence: float) -> None:
    # net gain of the deal equal to the reversion = valence; P(yes) = Φ(valence / shock scale)
    loaded = parse_scenario(SCENARIO.replace("VALENCE", repr(valence)))
    results = run_scenario(loaded, n_worlds=20_000, n_replicates=20, seed=3)
    p = float(results["ratification_probability"].sel(side="home", deal="same"))
    assert p == pytest.approx(norm.cdf(valence / 0.1), abs=0.015)
    # a deal 4 points from the ideal costs (4/20)² = 0.04 of utility on the unit scale
    worse = float(results["ratification_probability"].sel(side="home", deal="worse"))
    assert worse == pytest.approx(norm.cdf((valence - 0.04) / 0.1), abs=0.015)


def test_valence_can_be_uncertain() -> None:
    # valence ~ N(0.1, 0.1²) and shock N(0, 0.1²): P(yes) = Φ(0.1 / √0.02)
    text = SCENARIO.replace("VALENCE", "{dist: normal, mu: 0.1, sigma: 0.1}")
    results = run_scenario(parse_scenario(text), n_worlds=40_000, n_replicates=10, seed=4)
    p = float(results["ratification_probability"].sel(side="home", deal="same"))
    assert p == pytest.approx(norm.cdf(0.1 / np.sqrt(0.02)), abs=0.02)
