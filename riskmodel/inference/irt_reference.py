"""The 1-D IRT log density and gradient in float64: the reference the fast path is checked against.

:func:`riskmodel.model.irt.build_irt_model` is the model's definition (a PyMC graph, used by PyMC's
sampler, by SBC and by scenarios with roll-call evidence). For large stand-alone fits (a whole
House congress, ≈440 members × ≈1,000 roll calls) its compiled gradient makes several passes
over the members × roll calls arrays with temporaries. This module computes the *same* log
density (up to an additive constant) and its gradient in one fused numba loop over the votes.
``tests/test_irt_kernel.py`` checks value differences and gradients against the PyMC model's own
``logp``/``dlogp`` at random points; ``tests/test_irt_fast.py`` checks the float32 kernel that
nutpie runs (:mod:`riskmodel.inference.irt_fast`) against this one.

Unconstrained parameters, in the PyMC model's order: raw ideal points θ (N), cutpoints c (J),
log discriminations u = log β (J; PyMC's log transform of the half-normal). With
η = (θ_i − c_j) β_j over observed votes::

    log p = Σ [y η − softplus(η)] − Σ θ²/2 − Σ c²/(2 s_c²) − Σ β²/(2 s_β²) + Σ u
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from riskmodel.model.irt import BETA_SCALE, CUTPOINT_SCALE, VoteMatrix

__all__ = ["exp_neg", "kernel_data", "log1p_unit", "logp_and_grad"]

FloatArray = npt.NDArray[np.float64]


def kernel_data(matrix: VoteMatrix) -> tuple[FloatArray, FloatArray]:
    """``(yea, weight)``: two ``(N, J)`` float arrays (weight 0 where the member did not vote)."""
    weight = matrix.observed.astype(np.float64)
    return np.ascontiguousarray(matrix.yea * weight), np.ascontiguousarray(weight)


@numba.njit(fastmath=True, inline="always", error_model="numpy", cache=True)
def exp_neg(x: float) -> float:  # pragma: no cover - numba
    """exp(x) for x ≤ 0 (clamped at −40; e^−40 < 5e-18), branch-free so the loop vectorises.

    numba's scalar ``exp`` and ``log1p`` are libm calls that keep the vote loop scalar (≈ 36 ns per
    element here); Taylor series of exp(x/64) squared six times is accurate to ~2e-14 relative.
    """
    r = max(x, -40.0) * (1.0 / 64.0)
    p = 1.0 / 1307674368000.0
    p = p * r + 1.0 / 87178291200.0
    p = p * r + 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    p = p * p
    return p * p


@numba.njit(fastmath=True, inline="always", error_model="numpy", cache=True)
def log1p_unit(e: float) -> float:  # pragma: no cover - numba
    """log(1 + e) for e in [0, 1] as 2·atanh(e / (2 + e)) (series in s² ≤ 1/9; ~5e-16 relative)."""
    s = e / (2.0 + e)
    z = s * s
    q = 2.0 / 35.0
    q = q * z + 2.0 / 33.0
    q = q * z + 2.0 / 31.0
    q = q * z + 2.0 / 29.0
    q = q * z + 2.0 / 27.0
    q = q * z + 2.0 / 25.0
    q = q * z + 2.0 / 23.0
    q = q * z + 2.0 / 21.0
    q = q * z + 2.0 / 19.0
    q = q * z + 2.0 / 17.0
    q = q * z + 2.0 / 15.0
    q = q * z + 2.0 / 13.0
    q = q * z + 2.0 / 11.0
    q = q * z + 2.0 / 9.0
    q = q * z + 2.0 / 7.0
    q = q * z + 2.0 / 5.0
    q = q * z + 2.0 / 3.0
    q = q * z + 2.0
    return s * q


@numba.njit(nogil=True, fastmath=True, error_model="numpy", cache=True)
def _logp_grad(
    x: FloatArray, yea: FloatArray, weight: FloatArray, grad: FloatArray
) -> float:  # pragma: no cover - numba
    n, j = yea.shape
    inv_c = 1.0 / (CUTPOINT_SCALE * CUTPOINT_SCALE)
    inv_b = 1.0 / (BETA_SCALE * BETA_SCALE)
    theta = x[:n]
    cut = x[n : n + j]
    u = x[n + j :]
    beta = np.exp(u)
    r_sum = np.zeros(j)
    rd_sum = np.zeros(j)
    total = 0.0
    for i in range(n):
        t = theta[i]
        y = yea[i]
        w = weight[i]
        acc = 0.0
        for k in range(j):
            d = t - cut[k]
            eta = d * beta[k]
            a = abs(eta)
            e = exp_neg(-a)
            inv = 1.0 / (1.0 + e)
            # σ(η) = 1/(1+e) for η > 0, e/(1+e) otherwise; softplus(η) = max(η, 0) + log(1 + e)
            p = inv if eta > 0 else e * inv
            total += w[k] * (y[k] * eta - 0.5 * (eta + a) - log1p_unit(e))
            r = w[k] * (y[k] - p)
            acc += r * beta[k]
            r_sum[k] += r
            rd_sum[k] += r * d
        grad[i] = acc - t
        total -= 0.5 * t * t
    for k in range(j):
        total += -0.5 * cut[k] * cut[k] * inv_c - 0.5 * beta[k] * beta[k] * inv_b + u[k]
        grad[n + k] = -r_sum[k] * beta[k] - cut[k] * inv_c
        grad[n + j + k] = rd_sum[k] * beta[k] - beta[k] * beta[k] * inv_b + 1.0
    return total


def logp_and_grad(x: FloatArray, data: tuple[FloatArray, FloatArray]) -> tuple[float, FloatArray]:
    """Log density (up to a constant) and its gradient at unconstrained point ``x``.

    ``data`` is :func:`kernel_data` of the vote matrix.
    """
    grad = np.empty(len(x))
    value = _logp_grad(np.ascontiguousarray(x, dtype=np.float64), data[0], data[1], grad)
    return float(value), grad
