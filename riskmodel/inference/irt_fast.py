"""The IRT log density and gradient in float32 on int8 votes: what nutpie evaluates.

:mod:`riskmodel.inference.irt_reference` holds the float64 reference (checked against the PyMC
model). The vote loop here runs in float32 on int8 votes: sixteen votes per AVX-512 instruction
instead of eight, and 0.8 MB of votes for a House congress instead of 6.3 MB (they stay in a
core's 2 MB L2 cache). exp is a degree-7 polynomial after the usual 2ⁿ range reduction (2ⁿ from
the exponent bits) and log1p a degree-8 polynomial on [0, 1]: no division beyond σ's one. Row
sums are float32, the total float64. On the 109th House this is about 3× faster than the float64
loop. There the value is within ~1e-8 relative of the reference (a few 1e-3 on −8×10⁴: a
bounded, deterministic perturbation of the log density, far below Monte Carlo error) and the
gradient within ~1e-6 relative; a leapfrog step is reversible and volume-preserving for any
deterministic gradient, so the gradient's rounding costs at most a little acceptance, never
correctness. ``tests/test_irt_fast.py`` states the tolerances.

Tried and dropped (109th House, 2 chains × 1,500 draws): sampling in coordinates whitened by the
posterior mode's curvature (each roll call's cutpoint and log discrimination decorrelated, |r|
up to 0.92) took 15 leapfrog steps per draw instead of 27, but the shorter trajectories mixed the
within-party spread of the ideal points so slowly that the gate failed in two of three fits
(min bulk ESS 19–101, also with trajectories forced to ≥ 31 steps). A target acceptance of
0.65, or a maximum tree depth of 4, also gave 15 steps per draw, but the gate then first passed
at 2,000 draws instead of 1,250 (same seed): no fewer gradients.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt
from numba import types
from numba.extending import intrinsic

from riskmodel.model.irt import BETA_SCALE, CUTPOINT_SCALE, VoteMatrix

__all__ = ["exp_neg32", "log1p32", "logp_grad32", "vote_codes"]

FloatArray = npt.NDArray[np.float64]
Int8Array = npt.NDArray[np.int8]


@intrinsic
def _bits_to_float32(typingctx, bits):  # pragma: no cover - numba
    """Reinterpret an int32's bits as a float32 (LLVM bitcast; vectorises)."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))

    return sig, codegen


_F = np.float32
_LOG2E = _F(1.4426950408889634)
_LN2_HI = _F(0.693359375)  # ln 2 split so that n·LN2_HI is exact for n < 2¹⁰ (Cody–Waite)
_LN2_LO = _F(-2.12194440e-4)
_MAX_A = _F(20.0)  # e^-20 = 2e-9: below float32 resolution next to 1 in σ and log1p


@numba.njit(fastmath=True, inline="always", error_model="numpy", cache=True)
def exp_neg32(a: np.float32) -> np.float32:  # pragma: no cover - numba
    """exp(−a) in float32 for a ≥ 0 (clamped at 20), branch-free: 2⁻ⁿ·exp(f), |f| ≤ ln2/2."""
    a = np.minimum(a, _MAX_A)
    n = np.int32(a * _LOG2E + _F(0.5))
    nf = _F(n)
    f = (nf * _LN2_HI - a) + nf * _LN2_LO
    p = _F(1.0 / 5040.0)
    p = p * f + _F(1.0 / 720.0)
    p = p * f + _F(1.0 / 120.0)
    p = p * f + _F(1.0 / 24.0)
    p = p * f + _F(1.0 / 6.0)
    p = p * f + _F(0.5)
    p = p * f + _F(1.0)
    p = p * f + _F(1.0)
    return p * _bits_to_float32((np.int32(127) - n) << 23)  # type: ignore[call-arg]


# log1p(e)/e on [0, 1]: Chebyshev interpolant of degree 8 in monomial form (numpy.polynomial
# chebinterpolate, converted and rounded to float32); max error of e·q(e) 1.6e-7 absolute.
_L8, _L7, _L6 = _F(0.0051261018961668015), _F(-0.029074065387248993), _F(0.0775160863995552)
_L5, _L4, _L3 = _F(-0.13602247834205627), _F(0.19076880812644958), _F(-0.2483539879322052)
_L2, _L1, _L0 = _F(0.3331812024116516), _F(-0.4999944567680359), _F(0.9999999403953552)


@numba.njit(fastmath=True, inline="always", error_model="numpy", cache=True)
def log1p32(e: np.float32) -> np.float32:  # pragma: no cover - numba
    """log(1 + e) in float32 for e in [0, 1], a polynomial (no division)."""
    q = _L8 * e + _L7
    q = q * e + _L6
    q = q * e + _L5
    q = q * e + _L4
    q = q * e + _L3
    q = q * e + _L2
    q = q * e + _L1
    q = q * e + _L0
    return e * q


def vote_codes(matrix: VoteMatrix) -> tuple[Int8Array, Int8Array]:
    """``(yea, weight)`` as C-contiguous int8 ``(N, J)`` arrays (both 0 where no vote was cast)."""
    weight = matrix.observed.astype(np.int8)
    return np.ascontiguousarray(matrix.yea.astype(np.int8) * weight), np.ascontiguousarray(weight)


@numba.njit(nogil=True, fastmath=True, error_model="numpy", cache=True)
def logp_grad32(
    x: FloatArray, yea: Int8Array, weight: Int8Array, grad: FloatArray
) -> float:  # pragma: no cover
    """Log density (up to a constant) at raw point ``x``; its gradient is written into ``grad``."""
    n, j = yea.shape
    inv_c = 1.0 / (CUTPOINT_SCALE * CUTPOINT_SCALE)
    inv_b = 1.0 / (BETA_SCALE * BETA_SCALE)
    theta = x[:n]
    cut64 = x[n : n + j]
    u = x[n + j :]
    beta64 = np.exp(u)
    cut = cut64.astype(np.float32)
    beta = beta64.astype(np.float32)
    r_sum = np.zeros(j, dtype=np.float32)
    rd_sum = np.zeros(j, dtype=np.float32)
    half = _F(0.5)
    one = _F(1.0)
    total = 0.0
    for i in range(n):
        t = _F(theta[i])
        y = yea[i]
        w = weight[i]
        acc = _F(0.0)
        row = _F(0.0)
        for k in range(j):
            wk = _F(w[k])
            d = t - cut[k]
            eta = d * beta[k]
            a = abs(eta)
            e = exp_neg32(a)
            inv = one / (one + e)
            # σ(η) = 1/(1+e) for η > 0, e/(1+e) otherwise; softplus(η) = max(η, 0) + log(1 + e)
            p = inv if eta > 0 else e * inv
            row += wk * (_F(y[k]) * eta - half * (eta + a) - log1p32(e))
            r = wk * (_F(y[k]) - p)
            acc += r * beta[k]
            r_sum[k] += r
            rd_sum[k] += r * d
        grad[i] = acc - theta[i]
        total += row - 0.5 * theta[i] * theta[i]
    for k in range(j):
        total += -0.5 * cut64[k] * cut64[k] * inv_c - 0.5 * beta64[k] * beta64[k] * inv_b + u[k]
        grad[n + k] = -r_sum[k] * beta64[k] - cut64[k] * inv_c
        grad[n + j + k] = rd_sum[k] * beta64[k] - beta64[k] * beta64[k] * inv_b + 1.0
    return total
