"""Build engine inputs directly from arrays, with no scenario or PyMC involved."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import numpy as np
from scipy import stats

from riskmodel.worlds.arrays import VoteRule, Worlds

RULES = {
    "majority": (Fraction(1, 2), True),
    "three_fifths": (Fraction(3, 5), False),
    "two_thirds": (Fraction(2, 3), False),
    "unanimity": (Fraction(1, 1), False),
}


def rule(
    chamber: int,
    name: str = "majority",
    *,
    polarity_for: bool = True,
    seats: bool = False,
    ties_pass: bool = False,
    count: int | None = None,
) -> VoteRule:
    fraction, strict = (None, False) if count is not None else RULES[name]
    return VoteRule(
        chamber=chamber,
        fraction=fraction,
        strict=strict,
        count=count,
        relative_to_seats=seats,
        polarity_for=polarity_for,
        ties_pass=ties_pass,
    )


def fixed_probability_worlds(
    chamber_probabilities: Sequence[Sequence[float]],
    *,
    n_draws: int,
    n_replicates: int,
    absence: float = 0.0,
    seed: int = 0,
) -> Worlds:
    """Worlds in which member i votes yes with probability p_i, independently, in every world.

    One issue, no epistemic uncertainty: each member's net gain is the constant Φ⁻¹(p_i) and
    its shock is standard normal, so P(yes) = Φ(Φ⁻¹(p_i)) = p_i.
    """
    probs = np.concatenate([np.asarray(p, dtype=float) for p in chamber_probabilities])
    chamber = np.concatenate([np.full(len(p), c) for c, p in enumerate(chamber_probabilities)]).astype(
        np.int64
    )
    n_members = len(probs)
    n_features = 3  # x², x, 1 for one issue
    coef = np.zeros((n_draws, n_members, n_features))
    coef[:, :, -1] = stats.norm.ppf(probs)
    rng = np.random.default_rng(seed)
    shocks = rng.standard_normal((n_draws, n_replicates, n_members))
    absent = rng.random((n_draws, n_replicates, n_members)) < absence
    shocks[absent] = -np.inf
    n_chambers = len(chamber_probabilities)
    present = np.stack(
        [np.sum(~absent[:, :, chamber == c], axis=2) for c in range(n_chambers)], axis=-1
    ).astype(np.int64)
    return Worlds(
        member_coef=coef,
        member_shock=shocks.astype(np.float32),
        member_chamber=chamber,
        present=present,
        seats=np.bincount(chamber, minlength=n_chambers).astype(np.int64),
        link_pairs=np.zeros((0, 2), dtype=np.int64),
        referendum_chambers=np.zeros(0, dtype=np.int64),
        referendum_coef=np.zeros((n_draws, 0, n_features)),
        referendum_var=np.zeros((n_draws, 0, 1, 1)),
        referendum_reversion=np.zeros((0, 1)),
        referendum_noise=np.zeros((n_draws, 0)),
        referendum_campaign=np.zeros((n_draws, n_replicates, 0)),
        referendum_turnout_ok=np.zeros((n_draws, 0), dtype=bool),
    )


def poisson_binomial_pmf(probabilities: Sequence[float]) -> np.ndarray:
    """Exact distribution of the number of successes of independent Bernoulli trials."""
    pmf = np.array([1.0])
    for p in probabilities:
        pmf = np.convolve(pmf, [1.0 - p, p])
    return pmf


def fixed_side(
    name: str,
    probabilities: Sequence[float],
    *,
    threshold: str | int | float = "unanimity",
    relative_to: str = "voting",
    reversion: float = 0.5,
    bloc: Mapping[str, Any] | None = None,
    chamber: Mapping[str, Any] | None = None,
    issues: Sequence[str] = ("x",),
) -> dict[str, Any]:
    """A side of a one-issue scenario whose members vote yes with fixed probabilities.

    Deals sit at the side's reversion, so a member's net gain is its valence Φ⁻¹(p) and its shock
    is standard normal: P(yes) = p exactly. One bloc per member (``bloc`` adds keys to each).
    """
    blocs = [
        {
            "name": f"m{i}",
            "seats": 1,
            "ideal": dict.fromkeys(issues, 0.5),
            "valence": float(stats.norm.ppf(p)),
            **(bloc or {}),
        }
        for i, p in enumerate(probabilities)
    ]
    return {
        "name": name,
        "reversion": dict.fromkeys(issues, reversion),
        "chambers": [{"name": "council", "shock_scale": 1.0, "blocs": blocs, **(chamber or {})}],
        "votes": [{"name": "vote", "chamber": "council", "threshold": threshold, "relative_to": relative_to}],
    }


def fixed_scenario(
    sides: Sequence[Mapping[str, Any]],
    deals: Sequence[Mapping[str, Any]],
    issues: Sequence[str] = ("x",),
    **top: Any,
) -> Any:
    """A validated scenario (issues on [0, 1], deals at 0.5 on each) with the given sides and deals."""
    import yaml

    from riskmodel.spec.scenario import parse_scenario

    spec = {
        "name": "fixed",
        "issues": [{"name": name, "range": [0.0, 1.0]} for name in issues],
        "deals": [{"values": dict.fromkeys(issues, 0.5), **deal} for deal in deals],
        "sides": list(sides),
        **top,
    }
    return parse_scenario(yaml.safe_dump(spec, sort_keys=False))
