"""The explorer's slower views: levers (tornado and side payments) and win-set maps of two issues.

Both reuse the analyses of ``riskmodel sensitivity``, ``sidepay`` and ``winset`` on the
explorer's worlds: the tornado moves one constituency's ideal point one prior SD toward or away
from the current deal with every other input of every world kept (common random numbers), and
side payments price the cheapest votes each chief must buy in every world.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from riskmodel.analyses.constituency import constituencies, ideal_prior_sd, shifted_worlds, tornado_shift
from riskmodel.analyses.sidepayments import side_payments
from riskmodel.analyses.winset import compute_winset
from riskmodel.pipeline import Simulation
from riskmodel.results.mcse import mean_and_mcse
from riskmodel.results.perdraw import per_draw_outcomes
from riskmodel.worlds.crn import baseline_of

__all__ = ["DEFAULT_MAP_GRID", "DEFAULT_TARGET", "levers", "winset_map"]

DEFAULT_MAP_GRID = 51
DEFAULT_TARGET = 0.9
TOP_LEVERS = 8
Progress = Callable[[int, int], None]
FloatArray = npt.NDArray[np.float64]


def _finite(value: float) -> float | None:
    """JSON has no infinity: an out-of-reach budget is sent as null."""
    return float(value) if np.isfinite(value) else None


def levers(
    simulation: Simulation,
    deal: FloatArray,
    *,
    target: float = DEFAULT_TARGET,
    top: int = TOP_LEVERS,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The constituencies that move the deal's probabilities most, and the cheapest side payments.

    Parameters
    ----------
    simulation
        The explorer's worlds.
    deal
        ``(K,)`` deal values in issue units.
    target
        Probability the side payments must reach.
    top
        Constituencies listed, widest tornado on P(agreement) first.
    progress
        Called as ``progress(done, total)`` after each constituency.

    Returns
    -------
    dict
        ``tornado``: per constituency its side and the change (± MCSE) of its own side's and of
        the agreement's P when its ideal point moves one prior SD toward / away from the deal;
        ``side_payments``: budget needed per side (alone) and for the agreement, ``null`` when
        out of reach.
    """
    layout = simulation.layout
    base = baseline_of(simulation)
    base_pe = per_draw_outcomes(layout, base.worlds, deal[None, :])[..., 0]  # (outcome, D)
    groups = constituencies(layout)
    agreement = base_pe.shape[0] - 1
    rows = []
    for g, constituency in enumerate(groups):
        sd = ideal_prior_sd(layout, constituency)
        if np.any(sd > 0):
            entry: dict[str, Any] = {
                "constituency": constituency.label,
                "kind": constituency.kind,
                "side": layout.sides[constituency.side],
            }
            for direction in ("toward", "away"):
                shift = tornado_shift(base, constituency, deal, toward=direction == "toward", prior_sd=sd)
                worlds = shifted_worlds(base, constituency, shift)
                moved = per_draw_outcomes(layout, worlds, deal[None, :])[..., 0]
                change, error = mean_and_mcse(moved - base_pe, axis=1, worlds=worlds)
                entry[direction] = {
                    "side": float(change[constituency.side]),
                    "side_mcse": float(error[constituency.side]),
                    "agreement": float(change[agreement]),
                    "agreement_mcse": float(error[agreement]),
                }
            entry["width"] = abs(entry["toward"]["agreement"] - entry["away"]["agreement"])
            entry["side_width"] = abs(entry["toward"]["side"] - entry["away"]["side"])
            rows.append(entry)
        if progress is not None:
            progress(g + 1, len(groups) + 1)
    rows.sort(key=lambda row: (-row["width"], -row["side_width"], row["constituency"]))
    payments = side_payments(simulation, deal, target=target)
    if progress is not None:
        progress(len(groups) + 1, len(groups) + 1)
    return {
        "tornado": rows[:top],
        "n_constituencies": len(rows),
        "side_payments": {
            "target": target,
            "unit": str(payments.attrs["budget_unit"]),
            "sides": [
                {
                    "side": side,
                    "unpaid": float(payments["ratification_probability_unpaid"].sel(side=side)),
                    "budget": _finite(float(payments["budget_needed"].sel(side=side))),
                }
                for side in layout.sides
            ],
            "agreement": _finite(float(payments["budget_needed_agreement"])),
        },
    }


def winset_map(
    simulation: Simulation, *, x: str, y: str, base: str, grid: int = DEFAULT_MAP_GRID
) -> dict[str, Any]:
    """A win-set map of two issues (the other issues at a named deal), ready for the page.

    Returns
    -------
    dict
        Axis values ``xs`` and ``ys``; ``agreement`` and per side ``sides[name]``: rows (y) of
        P(deal in the win-set) rounded to 4 decimals; ``tau`` and the agreement zone's share.
    """
    winset = compute_winset(simulation, x=x, y=y, base=base, grid=grid, quantiles=False)

    def rows(values: Any) -> list[list[float]]:
        return np.round(np.asarray(values, dtype=np.float64), 4).tolist()

    return {
        "x": x,
        "y": y,
        "base": base,
        "grid": grid,
        "xs": winset["x"].to_numpy().tolist(),
        "ys": winset["y"].to_numpy().tolist(),
        "agreement": rows(winset["agreement_probability"]),
        "sides": {
            side: rows(winset["ratification_probability"].sel(side=side)) for side in simulation.layout.sides
        },
        "tau": float(winset.attrs["tau"]),
        "zone_share": float(winset.attrs["agreement_zone_share"]),
    }
