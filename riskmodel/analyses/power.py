"""Unequal bargaining power: the weights α_s of the asymmetric Nash bargaining solution.

The asymmetric solution maximises Π_s S_s(x)^α_s (equivalently Σ_s α_s log S_s); equal α is the
symmetric solution of :func:`riskmodel.analyses.bargaining.nash_bargaining`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from riskmodel.errors import RiskmodelError

__all__ = ["bargaining_power"]


def bargaining_power(chiefs: list[str], power: Mapping[str, float] | None) -> npt.NDArray[np.float64] | None:
    """Each chief's bargaining power α_s (summing to 1) from the powers given for some of them.

    Chiefs not named share what the named ones leave equally; when every chief is named the
    powers must sum to 1. ``None`` (or an empty mapping) is equal power, the symmetric solution.
    """
    if not power:
        return None
    for side, value in power.items():
        if side not in chiefs:
            expected = ", ".join(chiefs)
            raise RiskmodelError(
                f"--power names '{side}', which is not a side with a chief; expected: {expected}"
            )
        if not 0.0 < value < 1.0 or not np.isfinite(value):
            raise RiskmodelError(f"--power {side}={value}: a bargaining power lies strictly between 0 and 1")
    given = sum(power.values())
    rest = [c for c in chiefs if c not in power]
    if rest and given >= 1.0:
        raise RiskmodelError(f"the powers given sum to {given:g}, leaving nothing for {', '.join(rest)}")
    if not rest and abs(given - 1.0) > 1e-9:
        raise RiskmodelError(f"the powers of every chief must sum to 1, not {given:g}")
    return np.array([power.get(c, (1.0 - given) / max(len(rest), 1)) for c in chiefs])
