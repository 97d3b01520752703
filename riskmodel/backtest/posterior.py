"""A backtest scenario's posterior fit, with the sampler settings of its ``evidence:`` block.

The worlds are made exactly as :func:`riskmodel.pipeline.sample_worlds` makes them for a
scenario with evidence (the same seeds, the same thinning, the same gate), except that the
fit also honours ``evidence.target_accept``, and the whole :class:`ConvergenceGate` is kept
(R-hat, ESS and divergences go into the backtest's JSON, so a failed fit says how it failed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from riskmodel.inference.sampling import ConvergenceGate, convergence_gate, sample_posterior
from riskmodel.model.evidence import add_evidence
from riskmodel.model.layout import Layout, build_layout
from riskmodel.model.priors import build_model
from riskmodel.randomness import SeedLike, as_seed_sequence
from riskmodel.spec.scenario import LoadedScenario
from riskmodel.worlds.arrays import Worlds
from riskmodel.worlds.build import make_worlds

__all__ = ["PosteriorWorlds", "posterior_worlds"]


@dataclass(frozen=True)
class PosteriorWorlds:
    """The worlds of a fitted scenario and the fit's convergence gate."""

    layout: Layout
    worlds: Worlds
    gate: ConvergenceGate
    target_accept: float


def posterior_worlds(
    scenario: LoadedScenario, *, n_worlds: int, n_replicates: int, seed: SeedLike
) -> PosteriorWorlds:
    """Condition the scenario's model on its evidence and build worlds from the posterior.

    Parameters
    ----------
    scenario
        A loaded scenario with an ``evidence:`` block (its draws, tune, chains, method and
        target_accept set the fit).
    n_worlds, n_replicates
        Worlds and replicates per epistemic draw, as for ``sample_worlds``.
    seed
        Seed; split into the fit's seed and the shocks' seed as ``sample_worlds`` splits it.
    """
    evidence = scenario.spec.evidence
    if evidence is None:
        raise ValueError(f"scenario {scenario.spec.name!r} has no evidence to fit")
    draw_seed, shock_seed = as_seed_sequence(seed).spawn(2)
    layout = build_layout(scenario)
    model = build_model(layout)
    add_evidence(model, layout, evidence)
    names = [var.name for var in model.deterministics]
    fit = sample_posterior(
        model,
        draws=evidence.draws,
        tune=evidence.tune,
        chains=evidence.chains,
        method=evidence.method,
        var_names=names,
        seed=draw_seed,
        target_accept=evidence.target_accept,
    )
    posterior = fit["posterior"].to_dataset()
    gate_vars = [n for n in names if n in posterior and not n.startswith(("prior_", "salience_"))]
    gate = convergence_gate(fit, var_names=gate_vars)
    n_draws = math.ceil(n_worlds / n_replicates)
    per_chain = max(1, math.ceil(n_draws / int(posterior.sizes["chain"])))
    keep = np.unique(np.linspace(0, posterior.sizes["draw"] - 1, per_chain).round().astype(int))
    worlds = make_worlds(
        layout,
        posterior.isel(draw=keep),
        n_replicates=n_replicates,
        seed=shock_seed,
        independent_draws=False,
    )
    return PosteriorWorlds(layout=layout, worlds=worlds, gate=gate, target_accept=evidence.target_accept)
