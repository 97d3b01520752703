"""Net-gain coefficients of an actor with a quadratic utility (NumPy only).

Every actor's net gain from a deal x against its side's reversion q is a quadratic in x, so it
is one coefficient vector over the features ``[x∘x, x, x_k·x_l (linked pairs), 1]`` of
:func:`riskmodel.worlds.arrays.deal_features` (docs/design.md, "The model").
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["gain_coefficients", "weight_matrix"]

FloatArray = npt.NDArray[np.float64]


def gain_coefficients(
    ideal: FloatArray,
    salience: FloatArray,
    reversion: FloatArray,
    interaction: FloatArray,
    link_pairs: npt.NDArray[np.int64],
    linear: npt.NDArray[np.bool_] | None = None,
) -> FloatArray:
    """Coefficients (..., F) of an actor's net gain U(x) - U(q).

    U(x) = -Σ_k w_k (x_k - θ_k)² - 2 Σ_(k,l) γ_kl √(w_k w_l) (x_k - θ_k)(x_l - θ_l), where a
    linear issue k (a cue, ``linear[k]``) contributes 2 w_k (θ_k - ½)(x_k - ½) instead of its
    square: the same contrast between any two values, without the distance penalty (linear
    issues are never linked).

    Parameters
    ----------
    ideal, salience
        ``(..., K)`` ideal points θ and weights w (unit scale).
    reversion
        ``(..., K)`` the reversion q, broadcastable to ``ideal``.
    interaction
        ``(..., P)`` link interactions γ, broadcastable.
    link_pairs
        ``(P, 2)``.
    linear
        ``(K,)`` which issues are linear (default: none).
    """
    theta, w, q = np.broadcast_arrays(ideal, salience, reversion)
    flags = np.zeros(theta.shape[-1], dtype=bool) if linear is None else np.asarray(linear)
    square = np.where(flags, 0.0, 1.0)  # the x∘x and q∘q terms only for quadratic issues
    slope = theta - np.where(flags, 0.5, 0.0)
    quad = -w * square
    lin = 2.0 * w * slope
    const = np.sum(w * (square * q * q - 2.0 * slope * q), axis=-1, keepdims=True)
    k_idx, l_idx = link_pairs[:, 0], link_pairs[:, 1]
    if len(link_pairs):
        s = np.asarray(interaction) * np.sqrt(w[..., k_idx] * w[..., l_idx])
        cross = -2.0 * s
        lin = lin.copy()
        for p, (first, second) in enumerate(link_pairs):
            lin[..., first] += 2.0 * s[..., p] * theta[..., second]
            lin[..., second] += 2.0 * s[..., p] * theta[..., first]
        const = const + np.sum(
            2.0
            * s
            * (
                q[..., k_idx] * q[..., l_idx]
                - theta[..., l_idx] * q[..., k_idx]
                - theta[..., k_idx] * q[..., l_idx]
            ),
            axis=-1,
            keepdims=True,
        )
    else:
        cross = np.zeros((*theta.shape[:-1], 0))
    return np.concatenate([quad, lin, cross, const], axis=-1)


def weight_matrix(
    salience: FloatArray, interaction: FloatArray, link_pairs: npt.NDArray[np.int64]
) -> FloatArray:
    """(..., K, K) matrix W with U(x) = -(x-θ)ᵀ W (x-θ)."""
    k = salience.shape[-1]
    weights = np.zeros((*salience.shape, k))
    idx = np.arange(k)
    weights[..., idx, idx] = salience
    for p, (a, b) in enumerate(link_pairs):
        s = interaction[..., p] * np.sqrt(salience[..., a] * salience[..., b])
        weights[..., a, b] = s
        weights[..., b, a] = s
    return weights
