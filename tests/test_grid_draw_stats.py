"""Per-deal statistics from per-draw counts: NumPy's numbers, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.engine.draw_stats import draw_statistics, quantile_plan
from riskmodel.results.collect import QUANTILES
from riskmodel.results.mcse import mcse


@pytest.mark.parametrize("n_draws", [4, 7, 13, 200, 257, 1000])
@pytest.mark.parametrize("n_replicates", [1, 3, 20, 64])
def test_totals_mcse_and_quantiles_equal_numpys(n_draws: int, n_replicates: int) -> None:
    rng = np.random.default_rng(n_draws * 100 + n_replicates)
    for n_outcomes in (1, 3):
        counts = rng.integers(0, n_replicates + 1, size=(n_outcomes, n_draws, 61)).astype(np.int32)
        counts[:, :, :4] = rng.integers(0, 2, size=(n_outcomes, n_draws, 4))  # nearly constant
        counts[:, :, 4] = n_replicates  # constant: an MCSE of exactly 0
        share = counts.astype(np.int64) / n_replicates
        total, error, quantile = draw_statistics(
            counts, n_replicates, mcse=True, pairwise=n_outcomes == 1, quantiles=QUANTILES
        )
        np.testing.assert_array_equal(total, counts.sum(axis=1))
        # as the win-set map reduces its sides: (S, D, n) over axis 1
        assert np.array_equal(error, mcse(share, None, axis=1))
        assert np.array_equal(quantile, np.quantile(share, QUANTILES, axis=1))
        # and its agreement: (D, n) over axis 0
        _, joint_error, _ = draw_statistics(counts[:1], n_replicates, mcse=True, pairwise=True)
        assert np.array_equal(joint_error[0], mcse(share[0], None, axis=0))
        assert error[:, 4].tolist() == [0.0] * n_outcomes


def test_quantile_plan_matches_numpy_interpolation() -> None:
    values = np.arange(9.0)
    previous, following, gamma = quantile_plan(9, QUANTILES)
    expected = np.quantile(values, QUANTILES)
    np.testing.assert_array_equal(values[previous] + (values[following] - values[previous]) * gamma, expected)


def test_counts_outside_the_replicates_are_refused() -> None:
    with pytest.raises(ValueError, match=r"0\.\.3"):
        draw_statistics(np.full((1, 5, 2), 4, dtype=np.int32), 3, mcse=True)
