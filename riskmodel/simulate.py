"""The pipeline: scenario → model → draws → worlds → engine → results.

``sample_worlds`` builds and samples once; ``evaluate_deals`` pushes any set of deals through
the same worlds (common random numbers for every analysis); ``run_scenario`` does both for the
scenario's named deals.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pymc as pm
import xarray as xr

from riskmodel.engine import evaluate_chunks
from riskmodel.inference import draw_prior
from riskmodel.layout import Layout, build_layout
from riskmodel.priors import build_model
from riskmodel.randomness import SeedLike, as_seed_sequence
from riskmodel.results import collect_results
from riskmodel.scenario import LoadedScenario
from riskmodel.worlds import Worlds, make_worlds

__all__ = ["Simulation", "evaluate_deals", "run_scenario", "sample_worlds"]

DEFAULT_WORLDS = 4000
DEFAULT_REPLICATES = 20
DEFAULT_SEED = 20_190_101

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each chunk of deals."""


@dataclass(frozen=True)
class Simulation:
    """Sampled worlds of a scenario, ready for any number of deal evaluations."""

    layout: Layout
    model: pm.Model
    draws: xr.DataTree
    worlds: Worlds
    seed: int | None
    evidence: str = "prior"


def sample_worlds(
    scenario: LoadedScenario,
    *,
    n_worlds: int = DEFAULT_WORLDS,
    n_replicates: int = DEFAULT_REPLICATES,
    seed: SeedLike = DEFAULT_SEED,
) -> Simulation:
    """Build the scenario's model and sample its worlds.

    Parameters
    ----------
    scenario
        A validated scenario.
    n_worlds
        Worlds wanted; the epistemic draws are ``ceil(n_worlds / n_replicates)``.
    n_replicates
        Shock replicates per epistemic draw (p_e is estimated from them).
    seed
        One seed for the whole run; children are spawned for the draws and the shocks.
    """
    if n_worlds < 1 or n_replicates < 1:
        raise ValueError("n_worlds and n_replicates must be at least 1")
    root = as_seed_sequence(seed)
    draw_seed, shock_seed = root.spawn(2)
    layout = build_layout(scenario)
    model = build_model(layout)
    n_draws = math.ceil(n_worlds / n_replicates)
    draws = draw_prior(model, n_draws, seed=draw_seed)
    worlds = make_worlds(layout, draws["prior"].to_dataset(), n_replicates=n_replicates, seed=shock_seed)
    return Simulation(
        layout=layout,
        model=model,
        draws=draws,
        worlds=worlds,
        seed=seed if isinstance(seed, int) else None,
    )


def evaluate_deals(
    simulation: Simulation,
    deal_values: npt.ArrayLike | None = None,
    deal_names: list[str] | None = None,
    *,
    chunk_size: int | None = None,
    vote_detail: bool = True,
    keep_conditional: bool = True,
    progress: Progress | None = None,
) -> xr.Dataset:
    """Evaluate deals (issue units, ``(N, K)``; the named deals by default) on the worlds."""
    layout = simulation.layout
    if deal_values is None:
        values = layout.deal_values
        names = deal_names or layout.deals
    else:
        values = np.atleast_2d(np.asarray(deal_values, dtype=np.float64))
        names = deal_names or [f"deal-{i}" for i in range(values.shape[0])]
    if values.shape[1] != len(layout.issues) or len(names) != values.shape[0]:
        raise ValueError(f"expected {len(names)} deals × {len(layout.issues)} issues, got {values.shape}")
    worlds = simulation.worlds
    chunks = evaluate_chunks(
        worlds, layout.to_unit(values), layout.vote_rules, layout.procedures, chunk_size=chunk_size
    )

    def reported() -> object:
        done = 0
        for chunk in chunks:
            done += chunk.deal_slice.stop - chunk.deal_slice.start
            yield chunk
            if progress is not None:
                progress(done, len(names))

    return collect_results(
        layout,
        reported(),  # type: ignore[arg-type]
        deal_names=list(names),
        deal_values=values,
        chains=worlds.chains,
        independent_draws=worlds.independent_draws,
        vote_detail=vote_detail,
        keep_conditional=keep_conditional,
        attrs={
            "seed": -1 if simulation.seed is None else simulation.seed,
            "n_replicates": worlds.n_replicates,
            "n_worlds": worlds.n_worlds,
            "evidence": simulation.evidence,
        },
    )


def run_scenario(
    scenario: LoadedScenario,
    *,
    n_worlds: int = DEFAULT_WORLDS,
    n_replicates: int = DEFAULT_REPLICATES,
    seed: SeedLike = DEFAULT_SEED,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> xr.Dataset:
    """Sample worlds and evaluate the scenario's named deals: the results of ``riskmodel run``."""
    simulation = sample_worlds(scenario, n_worlds=n_worlds, n_replicates=n_replicates, seed=seed)
    return evaluate_deals(simulation, chunk_size=chunk_size, progress=progress)
