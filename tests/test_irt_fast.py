"""The float32 IRT density matches the float64 reference within stated tolerances."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from irt_helpers import dense_matrix, simulate

from riskmodel.inference.irt_fast import exp_neg32, log1p32, logp_grad32, vote_codes
from riskmodel.inference.irt_reference import kernel_data, logp_and_grad
from riskmodel.model.irt import VoteMatrix


def _matrix(seed: int, n: int = 60, j: int = 80) -> VoteMatrix:
    rng = np.random.default_rng(seed)
    _, _, _, yea = simulate(n, j, rng)
    return dataclasses.replace(dense_matrix(yea), observed=rng.random(yea.shape) > 0.1)


def test_float32_exp_and_log1p_are_accurate() -> None:
    a = np.linspace(0.0, 20.0, 40_001, dtype=np.float32)
    exp = np.array([exp_neg32(v) for v in a], dtype=np.float64)
    np.testing.assert_allclose(exp, np.exp(-a.astype(np.float64)), rtol=3e-7)
    assert exp_neg32(np.float32(1000.0)) == pytest.approx(np.exp(-20.0), rel=1e-6)  # clamped at 20
    e = np.linspace(0.0, 1.0, 40_001, dtype=np.float32)
    log = np.array([log1p32(v) for v in e], dtype=np.float64)
    np.testing.assert_allclose(log, np.log1p(e.astype(np.float64)), rtol=5e-7, atol=2e-7)


@pytest.mark.parametrize("seed", [1, 2])
def test_float32_density_matches_the_float64_reference(seed: int) -> None:
    """Value within 1e-7 of |log p| (plus 1e-5), gradient within 2e-6 of its largest entry.

    Both are far below what a sampler can notice: the value's rounding is a bounded,
    deterministic perturbation of the log density, and a leapfrog step stays reversible and
    volume-preserving for any deterministic gradient.
    """
    matrix = _matrix(seed)
    rng = np.random.default_rng(seed + 10)
    n, j = matrix.shape
    yea, weight = vote_codes(matrix)
    for scale in (0.3, 1.0, 3.0):  # 3.0: |η| far beyond the clamp, both branches of σ
        x = rng.normal(size=n + 2 * j) * scale
        reference, ref_grad = logp_and_grad(x, kernel_data(matrix))
        grad = np.empty_like(x)
        value = logp_grad32(x, yea, weight, grad)
        assert abs(value - reference) <= 1e-7 * abs(reference) + 1e-5
        assert np.abs(grad - ref_grad).max() <= 2e-6 * np.abs(ref_grad).max()
        again = np.empty_like(x)
        assert logp_grad32(x, yea, weight, again) == value and np.array_equal(again, grad)


def test_missing_votes_do_not_count_in_float32() -> None:
    matrix = _matrix(3, 8, 6)
    flipped = matrix.yea.copy()
    flipped[~matrix.observed] = 1 - flipped[~matrix.observed]
    other = dataclasses.replace(matrix, yea=flipped)
    x = np.random.default_rng(3).normal(size=8 + 12)
    grads = [np.empty_like(x), np.empty_like(x)]
    values = [logp_grad32(x, *vote_codes(m), g) for m, g in zip((matrix, other), grads, strict=True)]
    assert values[0] == values[1] and np.array_equal(grads[0], grads[1])
