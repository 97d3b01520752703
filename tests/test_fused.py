"""The fused grid path gives exactly the numbers of counting first and thresholding after."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from riskmodel.engine import count_yes, prepare, vote_outcomes
from riskmodel.engine.fused import fused_outcomes
from riskmodel.engine.referendum import referendum_share
from riskmodel.pipeline import sample_worlds
from riskmodel.spec.scenario import load_scenario
from riskmodel.worlds.arrays import deal_features

SCENARIOS = Path(__file__).resolve().parent.parent / "data" / "scenarios"


@pytest.mark.parametrize("name", ["usmca_2019", "eu_constitution_2005", "jcpoa_2015"])
def test_fused_outcomes_equal_counts_then_thresholds(name: str) -> None:
    simulation = sample_worlds(
        load_scenario(SCENARIOS / f"{name}.yaml"), n_worlds=400, n_replicates=8, seed=3
    )
    worlds, layout = simulation.worlds, simulation.layout
    if worlds.member_weight is not None or worlds.abstention_band is not None:
        pytest.skip("weighted chambers keep the general path")
    rng = np.random.default_rng(0)
    deals = np.vstack([layout.to_unit(layout.deal_values), rng.uniform(0, 1, (40, len(layout.issues)))])
    features = deal_features(deals, worlds.link_pairs)
    share = referendum_share(worlds, deals, features)
    expected = vote_outcomes(worlds, worlds.vote_rules, count_yes(worlds, features), share)
    got = fused_outcomes(worlds, worlds.vote_rules, features, share, prepare(worlds))
    for want, have in zip(expected, got, strict=True):
        assert want.dtype == have.dtype
        np.testing.assert_array_equal(have, want)
    # some votes pass and some fail, so the comparison is not vacuous
    assert 0 < got[0].mean() < 1


def test_prepared_inputs_are_reused_while_their_arrays_live() -> None:
    simulation = sample_worlds(
        load_scenario(SCENARIOS / "usmca_2019.yaml"), n_worlds=40, n_replicates=4, seed=1
    )
    first, second = prepare(simulation.worlds), prepare(simulation.worlds)
    assert first.neg_shocks is second.neg_shocks and first.coef_t is second.coef_t
    assert not first.neg_shocks.flags.writeable
    np.testing.assert_array_equal(first.neg_shocks, -simulation.worlds.member_shock)
