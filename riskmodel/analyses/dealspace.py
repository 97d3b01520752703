"""Deal space helpers shared by deal design and bargaining: bases, issue subsets, search.

Searches work on the unit cube of the issues searched; the other issues stay at a base deal.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from riskmodel.errors import RiskmodelError, did_you_mean
from riskmodel.model.layout import Layout

__all__ = ["MAX_GRID_DEALS", "base_deal", "coarse_grid", "issue_indices", "pattern_search", "unit_to_deals"]

MAX_GRID_DEALS = 20_000


def base_deal(layout: Layout, base: str | None) -> tuple[str, npt.NDArray[np.float64]]:
    """Resolve ``base``: a named deal, or ``"reversion"``/``None`` for the first side's reversion."""
    if base is None or base == "reversion":
        return "reversion", layout.reversion[0].copy()
    if base not in layout.deals:
        choices = [*layout.deals, "reversion"]
        raise RiskmodelError(
            f"unknown base deal '{base}'{did_you_mean(base, choices)}; choose one of: {', '.join(choices)}"
        )
    return base, layout.deal_values[layout.deals.index(base)].copy()


def issue_indices(layout: Layout, issues: list[str] | None) -> list[int]:
    """Indices of the named issues (all issues when ``None``), each once, in the order given."""
    if issues is None:
        return list(range(len(layout.issues)))
    if not issues:
        raise RiskmodelError("give at least one issue to search")
    unknown = [name for name in issues if name not in layout.issues]
    if unknown:
        raise RiskmodelError(
            f"unknown issue '{unknown[0]}'{did_you_mean(unknown[0], layout.issues)}; "
            f"the scenario's issues are: {', '.join(layout.issues)}"
        )
    return [layout.issues.index(name) for name in dict.fromkeys(issues)]


def coarse_grid(n_dims: int, points: int) -> npt.NDArray[np.float64]:
    """A full grid ``(n, n_dims)`` on the unit cube, ``points`` per axis, capped at 20,000 points."""
    per_axis = max(2, min(points, int(MAX_GRID_DEALS ** (1.0 / n_dims))))
    return np.array(list(itertools.product(np.linspace(0.0, 1.0, per_axis), repeat=n_dims)))


def unit_to_deals(
    layout: Layout, base_unit: npt.NDArray[np.float64], searched: list[int], points: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Deals ``(n, K)`` in issue units: ``base_unit`` with the searched issues set to ``points``."""
    unit = np.tile(base_unit, (len(points), 1))
    unit[:, searched] = points
    return np.asarray(layout.issue_low + unit * layout.issue_span, dtype=np.float64)


def pattern_search(
    score: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]],
    start_unit: npt.ArrayLike,
    step: float,
    *,
    rounds: int,
) -> tuple[npt.NDArray[np.float64], int]:
    """Shrinking pattern search on the unit cube: move to the best neighbour, else halve the step.

    Parameters
    ----------
    score
        ``score(points (n, k)) -> (n,)``, larger is better; called once per round with the
        3^k neighbourhood (k ≤ 6) or the 2k axis moves (k > 6), clipped to the cube.
    start_unit
        ``(k,)`` starting point.
    step
        Initial step (unit scale).
    rounds
        Number of rounds.

    Returns
    -------
    (point, n_scored)
    """
    point = np.asarray(start_unit, dtype=np.float64)
    k = point.size
    offsets = (
        np.array(list(itertools.product((-1.0, 0.0, 1.0), repeat=k)))
        if k <= 6
        else np.vstack([np.zeros(k), np.eye(k), -np.eye(k)])
    )
    scored = 0
    for _ in range(rounds):
        candidates = np.unique(np.clip(point + step * offsets, 0.0, 1.0), axis=0)
        values = np.asarray(score(candidates))
        scored += len(candidates)
        here = int(np.flatnonzero(np.all(candidates == point, axis=1))[0])
        best = int(np.argmax(values))
        if values[best] > values[here]:
            point = candidates[best]
        else:
            step /= 2.0
    return point, scored
