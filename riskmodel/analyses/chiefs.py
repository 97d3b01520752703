"""The chiefs' own preferences over deals, from the model's ``chief_ideal``/``chief_salience`` draws.

A chief's net gain from a deal x against its side's reversion q is the same quadratic as any
actor's (docs/design.md, "The model"), on the unit scale, with the link interactions of the same draw. One
coefficient vector per (chief, epistemic draw) evaluates any number of deals.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.errors import RiskmodelError, did_you_mean
from riskmodel.model.variables import CHIEF_IDEAL, CHIEF_SALIENCE, LINK_INTERACTION
from riskmodel.pipeline import Simulation
from riskmodel.worlds.arrays import deal_features
from riskmodel.worlds.gains import gain_coefficients

__all__ = ["chief_gain", "chief_ideal", "chief_index"]


def _draws(simulation: Simulation) -> xr.Dataset:
    """The epistemic draws the worlds were made from (posterior when fitted, else prior)."""
    group = "posterior" if "posterior" in simulation.draws.children else "prior"
    return simulation.draws[group].to_dataset()


def _stack(draws: xr.Dataset, name: str) -> npt.NDArray[np.float64]:
    values = draws[name].to_numpy()
    return values.reshape(-1, *values.shape[2:]).astype(np.float64)


def chief_index(simulation: Simulation, side: str) -> int:
    """Row of a side's chief in the model's ``chief`` dimension."""
    layout = simulation.layout
    if side not in layout.chiefs:
        hint = did_you_mean(side, layout.chiefs)
        listed = ", ".join(layout.chiefs) or "none"
        raise RiskmodelError(f"side '{side}' has no chief{hint}; sides with a chief: {listed}")
    return layout.chiefs.index(side)


def chief_ideal(simulation: Simulation) -> npt.NDArray[np.float64]:
    """Each chief's ideal point averaged over draws, ``(chief, K)`` in issue units."""
    if not simulation.layout.chiefs:
        return np.zeros((0, len(simulation.layout.issues)))
    return _stack(_draws(simulation), CHIEF_IDEAL).mean(axis=0)


def chief_gain(simulation: Simulation, deals: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Each chief's net gain U(x) - U(q) from each deal in each epistemic draw.

    Parameters
    ----------
    simulation
        Sampled worlds; the chiefs' draws are aligned with the worlds' epistemic draws.
    deals
        ``(N, K)`` deals in issue units.

    Returns
    -------
    numpy.ndarray
        ``(chief, D, N)`` in utility units (unit-scale issues), chiefs in ``layout.chiefs`` order.
    """
    layout = simulation.layout
    values = np.atleast_2d(np.asarray(deals, dtype=np.float64))
    n_draws = simulation.worlds.n_draws
    if not layout.chiefs:
        return np.zeros((0, n_draws, values.shape[0]))
    draws = _draws(simulation)
    ideal = (_stack(draws, CHIEF_IDEAL) - layout.issue_low) / layout.issue_span  # (D, chief, K)
    salience = _stack(draws, CHIEF_SALIENCE)
    links = layout.link_pairs
    interaction = _stack(draws, LINK_INTERACTION) if len(links) else np.zeros((ideal.shape[0], 0))
    reversion = layout.to_unit(layout.reversion)[layout.chief_side]  # (chief, K)
    coef = gain_coefficients(
        ideal, salience, reversion[None], interaction[:, None, :], links, layout.issue_linear
    )  # (D, chief, F)
    features = deal_features(layout.to_unit(values), links)  # (N, F)
    return np.moveaxis(coef @ features.T, 1, 0)
