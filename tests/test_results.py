"""Monte Carlo standard errors of the results."""

from __future__ import annotations

import numpy as np
import pytest

from riskmodel.results.collect import _mcse


def test_independent_draws_use_their_count_as_ess() -> None:
    rng = np.random.default_rng(0)
    per_draw = rng.binomial(20, 0.3, size=(400, 3)) / 20
    np.testing.assert_allclose(_mcse(per_draw, None), per_draw.std(axis=0, ddof=1) / np.sqrt(400))


def test_ess_estimate_agrees_on_independent_draws_and_grows_with_autocorrelation() -> None:
    rng = np.random.default_rng(1)
    n_draws = 2000
    iid = rng.normal(size=(n_draws, 1))
    assert _mcse(iid, 1)[0] == pytest.approx(_mcse(iid, None)[0], rel=0.15)
    # AR(1) with phi = 0.9: ESS ≈ n (1 - phi) / (1 + phi), so the MCSE is ≈ 4.4 times larger
    chain = np.zeros((n_draws, 1))
    for t in range(1, n_draws):
        chain[t] = 0.9 * chain[t - 1] + rng.normal()
    ratio = _mcse(chain, 1)[0] / _mcse(chain, None)[0]
    assert 3.0 < ratio < 6.0


def test_constant_estimates_have_zero_error() -> None:
    assert _mcse(np.ones((50, 2)), 1).tolist() == [0.0, 0.0]
    assert _mcse(np.ones((50, 2)), None).tolist() == [0.0, 0.0]
