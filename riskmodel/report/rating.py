"""Plain-language ratings of ratification probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["RATING_BANDS", "RatingBand", "risk_rating"]


@dataclass(frozen=True)
class RatingBand:
    """A band of ratification probability: ``lower ≤ P`` (up to the next band) reads ``label``."""

    lower: float
    label: str
    risk: str


RATING_BANDS: tuple[RatingBand, ...] = (
    RatingBand(0.90, "very likely", "low"),
    RatingBand(0.70, "likely", "moderate"),
    RatingBand(0.40, "uncertain", "high"),
    RatingBand(0.10, "unlikely", "very high"),
    RatingBand(0.00, "very unlikely", "extreme"),
)
"""Plain-language ratings of a ratification probability, highest band first."""


def risk_rating(probability: float, mcse: float = 0.0) -> dict[str, Any]:
    """Rate a ratification probability by :data:`RATING_BANDS`.

    Returns
    -------
    dict
        ``label`` (e.g. ``likely``), ``risk`` (risk of failure, e.g. ``moderate``) and
        ``borderline``: True when the probability is within two MCSE of a band edge, so
        more worlds could change the rating.
    """
    if probability != probability:  # NaN: a side that is not party to the deal
        return {"label": "not party", "risk": "—", "borderline": False}
    band = next(b for b in RATING_BANDS if probability >= b.lower)
    edges = [b.lower for b in RATING_BANDS if b.lower > 0]
    borderline = any(abs(probability - edge) < 2 * mcse for edge in edges)
    return {"label": band.label, "risk": band.risk, "borderline": borderline}
