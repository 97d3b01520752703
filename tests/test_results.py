"""Monte Carlo standard errors of the results: the one rule of :func:`riskmodel.results.mcse.mcse`."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.results.mcse import MIN_DRAWS_PER_CHAIN, mcse


def test_independent_draws_use_their_count_as_ess() -> None:
    rng = np.random.default_rng(0)
    per_draw = rng.binomial(20, 0.3, size=(400, 3)) / 20
    np.testing.assert_allclose(mcse(per_draw, None), per_draw.std(axis=0, ddof=1) / np.sqrt(400))


def test_ess_estimate_agrees_on_independent_draws_and_grows_with_autocorrelation() -> None:
    rng = np.random.default_rng(1)
    n_draws = 2000
    iid = rng.normal(size=(n_draws, 1))
    assert mcse(iid, 1)[0] == pytest.approx(mcse(iid, None)[0], rel=0.15)
    # AR(1) with phi = 0.9: ESS ≈ n (1 - phi) / (1 + phi), so the MCSE is ≈ 4.4 times larger
    chain = np.zeros((n_draws, 1))
    for t in range(1, n_draws):
        chain[t] = 0.9 * chain[t - 1] + rng.normal()
    ratio = mcse(chain, 1)[0] / mcse(chain, None)[0]
    assert 3.0 < ratio < 6.0


def test_constant_estimates_have_zero_error() -> None:
    assert mcse(np.ones((50, 2)), 1).tolist() == [0.0, 0.0]
    assert mcse(np.ones((50, 2)), None).tolist() == [0.0, 0.0]


@pytest.mark.parametrize("chains", [None, 1, 2])
def test_too_few_draws_per_chain_give_nan(chains: int | None) -> None:
    n_chains = chains or 1
    few = np.random.default_rng(2).random((n_chains * (MIN_DRAWS_PER_CHAIN - 1), 3))
    assert np.isnan(mcse(few, chains)).all()
    enough = np.random.default_rng(2).random((n_chains * MIN_DRAWS_PER_CHAIN, 3))
    assert np.isfinite(mcse(enough, chains)).all()


def test_draw_axis_and_one_dimensional_input() -> None:
    per_draw = np.random.default_rng(3).random((2, 40, 5))  # (outcome, draw, deal)
    moved = mcse(per_draw, None, axis=1)
    assert moved.shape == (2, 5)
    np.testing.assert_allclose(moved, per_draw.std(axis=1, ddof=1) / np.sqrt(40))
    single = mcse(per_draw[0, :, 0], None)
    assert single.shape == ()
    assert float(single) == pytest.approx(moved[0, 0])


def test_a_deal_gets_the_same_error_in_any_chunk() -> None:
    per_draw = np.random.default_rng(4).random((300, 2, 7))  # (draw, side, deal)
    whole = mcse(per_draw, None)
    for part in (slice(0, 1), slice(2, 5), slice(6, 7)):
        np.testing.assert_array_equal(mcse(per_draw[..., part], None), whole[..., part])


def test_draws_must_split_into_chains() -> None:
    with pytest.raises(ValueError, match="chains"):
        mcse(np.zeros((10, 2)), 3)
