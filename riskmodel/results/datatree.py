"""Results as an ArviZ DataTree: the outcomes beside the model variables they came from.

``results.nc`` is one netCDF file with groups (ArviZ's schema, read by ``arviz.from_netcdf``):

``outcomes``
    What ``riskmodel run`` computes: ratification and agreement probabilities with their MCSE,
    p_e quantiles, vote support, per-draw conditional probabilities (the Dataset that
    :func:`riskmodel.io.load_results` returns).
``prior``
    Every named model variable (:data:`riskmodel.model.variables.VARIABLES`) with ``chain`` and
    ``draw`` dims and the scenario's coords (``bloc``, ``issue``, ``member`` ...): the draws the
    worlds were built from, when the run sampled the prior.
``posterior`` and ``sample_stats``
    The same variables and the sampler's statistics, when the scenario has evidence: the draws
    the worlds were built from (evenly thinned within each chain).
``observed_data``
    The evidence's data (roll-call matrices, poll counts and shares), when there is evidence.
``posterior_predictive``
    Each poll's approval share as the fitted model predicts it (``poll_share``, beside the
    observed ``poll_share``), when the evidence has polls: ``az.plot_ppc`` compares the two.
    Roll calls and whip counts enter the model as potentials, with no predictive group.

The outcomes sit in a group of their own, not at the root, because their ``draw`` dimension
(every epistemic draw, chains one after the other) differs from the ``(chain, draw)`` layout
of ``posterior``; a DataTree's children must align with their parent. The root keeps the
run's attrs. Files written before the groups existed (one flat Dataset) load the same way.
"""

from __future__ import annotations

import xarray as xr

__all__ = ["DRAW_GROUPS", "OUTCOMES", "results_tree"]

OUTCOMES = "outcomes"
"""The group holding the outcome Dataset (the same name as :data:`riskmodel.io.OUTCOMES_GROUP`)."""

DRAW_GROUPS = ("prior", "posterior", "posterior_predictive", "sample_stats", "observed_data")
"""The ArviZ groups copied from a simulation's draws, in this order, when present."""


def results_tree(results: xr.Dataset, draws: xr.DataTree | None = None) -> xr.DataTree:
    """Assemble the DataTree of ``results.nc`` from a run's outcomes and its draws.

    Parameters
    ----------
    results
        The outcome Dataset of :func:`riskmodel.pipeline.evaluate_deals`.
    draws
        The simulation's draws (``Simulation.draws``): a DataTree with a ``prior`` group, or
        ``posterior`` (and ``sample_stats``, ``observed_data``) for a run with evidence.

    Returns
    -------
    xarray.DataTree
        Root attrs as the results'; groups ``outcomes`` and those of ``draws``.
    """
    groups: dict[str, xr.Dataset] = {OUTCOMES: results}
    if draws is not None:
        for name in DRAW_GROUPS:
            if name in draws.children:
                groups[name] = draws[name].to_dataset()
    tree = xr.DataTree.from_dict(groups)
    tree.attrs.update(results.attrs)
    if draws is not None:
        tree.attrs.update(
            {f"draws_{k}": v for k, v in draws.attrs.items() if isinstance(v, (str, int, float))}
        )
    return tree
