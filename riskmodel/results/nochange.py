"""Deals that change nothing for a side: its deal values equal the side's fallback.

The run's table and the report both mark such ``(deal, side)`` pairs; this module holds the
rule once and imports nothing heavier than xarray (the report's plotting stack stays unloaded
for a plain ``riskmodel run``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

if TYPE_CHECKING:
    from riskmodel.spec.scenario import LoadedScenario

__all__ = ["no_change_pairs"]


def no_change_pairs(results: xr.Dataset, loaded: LoadedScenario | None) -> list[tuple[str, str]]:
    """``(deal, side)`` pairs whose deal values equal the side's fallback (reversion) on every issue.

    For such a side the deal changes nothing: every actor's net gain is zero and its votes are
    decided by the shocks alone, so its P(ratify) is a coin flip that says nothing about risk.

    Parameters
    ----------
    results
        Results of the scenario's named deals (``deal_value`` with dims ``deal``, ``issue``).
    loaded
        The scenario the results came from; ``None`` gives no pairs.

    Returns
    -------
    list of tuple of str
        ``(deal, side)`` names, deals in the results' order, sides in the scenario's.
    """
    if loaded is None:
        return []
    issues = [str(i) for i in results["issue"].to_numpy()]
    pairs = []
    for side in loaded.spec.sides:
        if side.name not in results["side"].to_numpy().tolist() or side.reversion is None:
            continue  # a nested side without a reversion of its own has no fallback to equal
        fallback = np.array([float(side.reversion.get(i, np.nan)) for i in issues])
        for deal in results["deal"].to_numpy().tolist():
            values = results["deal_value"].sel(deal=deal).to_numpy().astype(float)
            if np.allclose(values, fallback, rtol=0, atol=1e-12):
                pairs.append((str(deal), side.name))
    return pairs
