"""Scores of probabilistic vote forecasts against recorded votes (NumPy only).

Member level: accuracy, APRE (aggregate proportional reduction in error against the
everyone-votes-with-the-majority guess), Brier score, log score (mean log probability of what
happened; higher is better), expected calibration error (10 equal-width bins). Total level: the
yes count's interval and whether it covers the recorded total.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "LOG_SCORE_FLOOR",
    "apre",
    "brier_score",
    "brier_skill",
    "expected_calibration_error",
    "log_score",
    "member_scores",
]

LOG_SCORE_FLOOR = 1e-3
"""Probabilities are clipped to [floor, 1 - floor] for the log score only (a 0/1 baseline
would otherwise score minus infinity on one surprise)."""

FloatArray = npt.NDArray[np.float64]


def _check(prob: npt.ArrayLike, actual: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    p = np.asarray(prob, dtype=np.float64)
    y = np.asarray(actual, dtype=np.float64)
    if p.shape != y.shape or p.ndim != 1:
        raise ValueError(f"prob and actual must be 1-D of one length, got {p.shape} and {y.shape}")
    if np.any((p < 0) | (p > 1)) or not np.all(np.isin(y, (0.0, 1.0))):
        raise ValueError("prob must lie in [0, 1] and actual be 0 or 1")
    return p, y


def brier_score(prob: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """Mean squared difference between forecast probability and outcome (lower is better)."""
    p, y = _check(prob, actual)
    return float(np.mean((p - y) ** 2))


def log_score(prob: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """Mean log probability given to the recorded vote (≤ 0, higher is better)."""
    p, y = _check(prob, actual)
    p = np.clip(p, LOG_SCORE_FLOOR, 1 - LOG_SCORE_FLOOR)
    return float(np.mean(np.where(y == 1, np.log(p), np.log1p(-p))))


def apre(prob: npt.ArrayLike, actual: npt.ArrayLike) -> float:
    """Aggregate proportional reduction in error: (minority − errors) / minority.

    Errors count members whose recorded vote differs from the forecast's side of 0.5 (ties
    count as yea); the minority is the smaller of the yea and nay counts (the errors of
    predicting everyone votes with the majority). NaN for a unanimous vote.
    """
    p, y = _check(prob, actual)
    minority = min(y.sum(), (1 - y).sum())
    if minority == 0:
        return float("nan")
    errors = np.sum((p >= 0.5) != (y == 1))
    return float((minority - errors) / minority)


def expected_calibration_error(prob: npt.ArrayLike, actual: npt.ArrayLike, *, n_bins: int = 10) -> float:
    """Σ_b (n_b / n) · |mean outcome − mean forecast| over equal-width probability bins."""
    p, y = _check(prob, actual)
    bins = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        inside = bins == b
        if inside.any():
            total += inside.mean() * abs(y[inside].mean() - p[inside].mean())
    return float(total)


def brier_skill(brier: float, reference: float) -> float:
    """1 − brier / reference: positive when the forecast beats the reference."""
    return float(1.0 - brier / reference) if reference > 0 else float("nan")


def member_scores(prob: npt.ArrayLike, actual: npt.ArrayLike) -> dict[str, float]:
    """Accuracy, APRE, Brier, log score and ECE of member forecasts."""
    p, y = _check(prob, actual)
    return {
        "accuracy": float(np.mean((p >= 0.5) == (y == 1))),
        "apre": apre(p, y),
        "brier": brier_score(p, y),
        "log_score": log_score(p, y),
        "ece": expected_calibration_error(p, y),
    }
