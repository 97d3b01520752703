"""The float32 IRT density matches the float64 reference within stated tolerances; whitening is exact."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from irt_helpers import dense_matrix, long_votes, simulate

from riskmodel.inference.irt_fast import (
    curvature,
    exp_neg32,
    log1p32,
    logp_grad32,
    vote_codes,
    whitened_logp_grad,
    whitening,
)
from riskmodel.inference.irt_kernel import kernel_data, logp_and_grad, posterior_mode
from riskmodel.model.irt import VoteMatrix, vote_matrix


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


def test_curvature_is_the_negative_hessian() -> None:
    """Diagonal and (c_j, log β_j) blocks against central differences of the float64 gradient."""
    matrix = _matrix(4, 12, 9)
    n, j = matrix.shape
    x = np.random.default_rng(4).normal(size=n + 2 * j)
    member, block = curvature(x, *vote_codes(matrix))
    step = 1e-5
    hessian = np.empty((n + 2 * j, n + 2 * j))
    for k in range(n + 2 * j):
        e = np.zeros_like(x)
        e[k] = step
        up, down = logp_and_grad(x + e, kernel_data(matrix))[1], logp_and_grad(x - e, kernel_data(matrix))[1]
        hessian[k] = -(up - down) / (2 * step)
    np.testing.assert_allclose(member, np.diag(hessian)[:n], rtol=1e-6)
    c, u = np.arange(n, n + j), np.arange(n + j, n + 2 * j)
    np.testing.assert_allclose(block[:, 0], hessian[c, c], rtol=1e-6)
    np.testing.assert_allclose(block[:, 1], hessian[c, u], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(block[:, 2], hessian[u, u], rtol=1e-6)


def test_whitening_makes_the_mode_curvature_the_identity_and_chains_its_gradient() -> None:
    rng = np.random.default_rng(12)
    theta, _, _, yea = simulate(30, 25, rng)
    matrix = vote_matrix(long_votes(yea, np.where(theta > 0, "R", "D")), min_minority=0.0, min_votes=1)
    n, j = matrix.shape
    mode = posterior_mode(matrix)
    white = whitening(mode, matrix)
    member, block = curvature(mode, *vote_codes(matrix))
    np.testing.assert_allclose(member * white.member_scale**2, 1.0, rtol=1e-12)
    for k in range(j):
        l11, l21, l22 = white.lower[k]
        lower = np.array([[l11, 0.0], [l21, l22]])
        hess = np.array([[block[k, 0], block[k, 1]], [block[k, 1], block[k, 2]]])
        np.testing.assert_allclose(lower.T @ hess @ lower, np.eye(2), atol=1e-9)
    assert np.array_equal(white.to_raw(np.zeros(n + 2 * j)), mode)
    # value: the float32 density at the raw point; gradient: the chain rule Tᵀ∇, against differences
    z = rng.normal(size=n + 2 * j)
    grad = np.empty_like(z)
    value = whitened_logp_grad(z, white.centre, white.member_scale, white.lower, *vote_codes(matrix), grad)
    raw_grad = np.empty_like(z)
    assert value == logp_grad32(white.to_raw(z), *vote_codes(matrix), raw_grad)
    direction = rng.normal(size=n + 2 * j)
    ends = [logp_and_grad(white.to_raw(z + s * direction), kernel_data(matrix))[0] for s in (1e-5, -1e-5)]
    assert grad @ direction == pytest.approx((ends[0] - ends[1]) / 2e-5, rel=1e-5)
