"""Member pivotality without abstentions: the shortcut equals the three-outcome definition."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riskmodel.analyses import pivotality
from riskmodel.pipeline import sample_worlds
from riskmodel.spec.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "data" / "scenarios"


@pytest.mark.parametrize("name", ["usmca_2019", "ceta_2016"])
def test_member_pivotal_equals_for_versus_against(name: str) -> None:
    simulation = sample_worlds(
        load_scenario(SCENARIOS / f"{name}.yaml"), n_worlds=400, n_replicates=20, seed=3
    )
    layout, worlds = simulation.layout, simulation.worlds
    found = 0
    for deal in layout.deal_values:
        votes = pivotality.deal_votes(layout, worlds, deal)
        assert votes.abstained is None
        outcomes = pivotality.member_outcomes(votes)
        want = (outcomes[0] != outcomes[1]) & votes.present
        got = pivotality.member_pivotal(votes)
        np.testing.assert_array_equal(got, want)
        found += int(got.sum())
    assert found > 0  # some member is pivotal somewhere: the comparison is not of all-False arrays
