"""Plain-language ratings of ratification probabilities, and the votes a rule needs."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

__all__ = ["RATING_BANDS", "RatingBand", "needed_to_pass", "risk_rating", "threshold_from_rule"]


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

_FRACTIONS = {
    "majority": Fraction(1, 2),
    "three_fifths": Fraction(3, 5),
    "two_thirds": Fraction(2, 3),
    "unanimity": Fraction(1, 1),
}


def risk_rating(probability: float, mcse: float = 0.0) -> dict[str, Any]:
    """Rate a ratification probability by :data:`RATING_BANDS`.

    Returns
    -------
    dict
        ``label`` (e.g. ``likely``), ``risk`` (risk of failure, e.g. ``moderate``) and
        ``borderline``: True when the probability is within two MCSE of a band edge, so
        more worlds could change the rating.
    """
    band = next(b for b in RATING_BANDS if probability >= b.lower)
    edges = [b.lower for b in RATING_BANDS if b.lower > 0]
    borderline = any(abs(probability - edge) < 2 * mcse for edge in edges)
    return {"label": band.label, "risk": band.risk, "borderline": borderline}


def needed_to_pass(
    threshold: str | int | float, seats: int, *, share: bool, ties_pass: bool = False
) -> float:
    """Votes needed to carry a vote when every member votes (or, for a referendum, the share).

    Members absent in a world lower the count needed under rules relative to those voting,
    so this is the reference line of the report's vote charts, not a per-world number.
    """
    if isinstance(threshold, str):
        fraction = _FRACTIONS[threshold]
    elif isinstance(threshold, int):
        return float(threshold)
    else:
        fraction = Fraction(threshold).limit_denominator(10_000)
    if share:
        return float(fraction)
    if threshold == "majority":
        needed = seats * fraction.numerator // fraction.denominator + 1
        if ties_pass and (seats * fraction.numerator) % fraction.denominator == 0:
            needed -= 1
    else:
        needed = -(-seats * fraction.numerator // fraction.denominator)
    return float(max(needed, 1))


def threshold_from_rule(rule: str) -> str | int | float:
    """Parse the threshold back from a results ``vote_rule`` text (``two thirds for the deal, …``)."""
    head = rule.split(" for the deal")[0].split(" against the deal")[0].strip()
    if head.replace(" ", "_") in _FRACTIONS:
        return head.replace(" ", "_")
    try:
        return int(head)
    except ValueError:
        return float(head)
