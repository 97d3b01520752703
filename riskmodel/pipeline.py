"""The pipeline: scenario → model → draws → worlds → engine → results.

``sample_worlds`` builds and samples once; ``evaluate_deals`` pushes any set of deals through
the same worlds (common random numbers for every analysis); ``run_scenario`` does both for the
scenario's named deals.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.budget import check_budget, estimate_scenario
from riskmodel.defaults import DEFAULT_REPLICATES, DEFAULT_SEED, DEFAULT_WORLDS
from riskmodel.engine import evaluate_chunks, evaluate_in_order, full_attendance_needed
from riskmodel.engine.prime import start_priming, wait_for_priming
from riskmodel.model import variables as mv
from riskmodel.model.layout import Layout, build_layout
from riskmodel.randomness import SeedLike, as_seed_sequence
from riskmodel.results.collect import collect_results
from riskmodel.results.lazydask import defer_dask_array_check
from riskmodel.spec.multilateral import deal_order, evaluated_sides
from riskmodel.spec.scenario import LoadedScenario
from riskmodel.worlds.agreement import deal_agreements, deal_rule
from riskmodel.worlds.arrays import Worlds
from riskmodel.worlds.build import make_worlds

if TYPE_CHECKING:
    import pymc as pm

    from riskmodel.inference.compiled import PriorFunction
    from riskmodel.inference.refits import ScenarioModels
    from riskmodel.inference.sampling import ConvergenceGate
    from riskmodel.spec.evidence import Evidence

__all__ = ["Sampler", "Simulation", "evaluate_deals", "run_scenario", "sample_worlds"]

# Runs build Datasets but no Dask array: xarray need not import dask.array to tell them apart
defer_dask_array_check()

Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each chunk of deals."""


@dataclass(frozen=True)
class Simulation:
    """Sampled worlds of a scenario, ready for any number of deal evaluations.

    It holds no PyMC object: the model is built and sampled inside :func:`sample_worlds`, and
    what comes out of it is the draws (``draws``) and the worlds made from them.
    """

    layout: Layout
    draws: xr.DataTree
    worlds: Worlds
    seed: int | None
    evidence: str = "prior"
    gate: ConvergenceGate | None = None
    """The posterior fit's convergence gate (R-hat, ESS, divergences); None for prior worlds."""


class Sampler(Protocol):
    """Fresh worlds of a scenario from a seed: how an analysis gets new samples.

    Analyses never build or sample the PyMC model themselves; one that needs fresh worlds
    (a re-check on independent worlds, say) takes a ``Sampler`` from its caller, typically a
    closure over :func:`sample_worlds` with the caller's sizes::

        def resample(scenario, seed):
            return sample_worlds(scenario, n_worlds=4000, n_replicates=20, seed=seed)
    """

    def __call__(self, scenario: LoadedScenario, seed: SeedLike, /) -> Simulation:
        """Sample worlds of ``scenario`` with ``seed``."""
        ...


def sample_worlds(
    scenario: LoadedScenario,
    *,
    n_worlds: int = DEFAULT_WORLDS,
    n_replicates: int = DEFAULT_REPLICATES,
    seed: SeedLike = DEFAULT_SEED,
    models: ScenarioModels | None = None,
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
    models
        Models of earlier fits to reuse (refits of a scenario with other sampler settings):
        a scenario with evidence takes its model, compiled already, from here when it is there.
    """
    if n_worlds < 1 or n_replicates < 1:
        raise ValueError("n_worlds and n_replicates must be at least 1")
    check_budget(estimate_scenario(scenario, worlds=n_worlds, replicates=n_replicates))
    root = as_seed_sequence(seed)
    draw_seed, shock_seed = root.spawn(2)
    layout = build_layout(scenario)
    if layout.member_weight is None:  # the fused kernel will count the votes
        # compiled on the other core while this one builds the forward draws and draws (first runs only)
        start_priming()
    n_draws = math.ceil(n_worlds / n_replicates)
    # PyMC is imported here, not at module level: importing the pipeline must not load it
    if scenario.spec.evidence is not None:
        from riskmodel.inference.refits import ScenarioModels

        fitted = (models if models is not None else ScenarioModels()).fitted(scenario, layout)
        return _posterior_worlds(scenario, layout, fitted, n_draws, n_replicates, seed, draw_seed, shock_seed)
    draws = _forward_function(scenario, layout, n_draws).draw(draw_seed)
    worlds = make_worlds(layout, draws["prior"].to_dataset(), n_replicates=n_replicates, seed=shock_seed)
    return Simulation(
        layout=layout,
        draws=draws,
        worlds=worlds,
        seed=seed if isinstance(seed, int) else None,
    )


def _forward_function(scenario: LoadedScenario, layout: Layout, n_draws: int) -> PriorFunction:
    """The scenario's compiled forward draws: from the cache when a run compiled them before.

    A cached function skips PyMC's import, the model build and PyTensor's rewrites; it is the
    function a fresh compile would give, and it is seeded afresh (see
    :mod:`riskmodel.inference.compiled`).
    """
    from riskmodel.inference.compiled import load_prior_function, store_prior_function

    prior = load_prior_function(scenario, n_draws)
    if prior is None:
        from riskmodel.inference.sampling import compile_prior
        from riskmodel.model.priors import build_model

        prior = compile_prior(build_model(layout), n_draws)
        store_prior_function(scenario, prior)
    return prior


def _posterior_worlds(
    scenario: LoadedScenario,
    layout: Layout,
    fitted: tuple[pm.Model, dict[Hashable, object]],
    n_draws: int,
    n_replicates: int,
    seed: SeedLike,
    draw_seed: np.random.SeedSequence,
    shock_seed: np.random.SeedSequence,
) -> Simulation:
    """Condition the model on the scenario's evidence and build worlds from posterior draws.

    The sampler keeps ``evidence.draws`` per chain (enough for the convergence gate); worlds use
    ``n_draws`` of them, evenly thinned within each chain. A failed gate is stored in the draws'
    attrs (``convergence_gate``), carried into the results, and announced with a warning.
    """
    from riskmodel.inference.sampling import ConvergenceGate, convergence_gate, sample_posterior

    evidence = scenario.spec.evidence
    assert evidence is not None
    model, compiled = fitted  # the evidence is attached (riskmodel.inference.refits)
    # The fit keeps what the gate judges: every named deterministic but the members'
    # standardised positions (a latent the ideology evidence writes non-centred;
    # ``member_ideal`` carries them, and keeping both would double the largest arrays of the
    # trace) and the prior vectors behind the named ones. That is every variable the worlds
    # and the poll predictions read; the free variables are not kept.
    names = [var.name for var in model.deterministics if var.name != mv.MEMBER_Z]
    names = [name for name in names if not name.startswith(("prior_", "salience_"))]
    fit = sample_posterior(
        model,
        draws=evidence.draws,
        tune=evidence.tune,
        chains=evidence.chains,
        method=evidence.method,
        var_names=names,
        compiled_cache=compiled,
        seed=draw_seed,
        target_accept=evidence.target_accept,
        max_draws=evidence.max_draws,
        check_every=evidence.check_every,
    )
    posterior = fit["posterior"].to_dataset()
    judged = fit.attrs.get("convergence_gate")  # a fit stopped at a checkpoint was judged there
    gate = (
        ConvergenceGate(**judged)
        if judged
        else convergence_gate(fit, var_names=[n for n in names if n in posterior])
    )
    chains = int(posterior.sizes["chain"])
    per_chain = max(1, math.ceil(n_draws / chains))
    keep = np.unique(np.linspace(0, posterior.sizes["draw"] - 1, per_chain).round().astype(int))
    thinned = posterior.isel(draw=keep)
    groups = {"posterior": thinned, "observed_data": _observed_data(model, evidence)}
    if evidence.polls:  # what the fitted model predicts each poll would show, for az.plot_ppc
        groups["posterior_predictive"] = _poll_predictions(thinned, evidence, draw_seed.spawn(1)[0])
    if "sample_stats" in fit.children:  # the statistics of the kept draws, for ArviZ
        groups["sample_stats"] = fit["sample_stats"].to_dataset().isel(draw=keep)
    draws = xr.DataTree.from_dict(groups)
    draws.attrs.update(
        convergence_gate=gate.status,
        sampler=str(fit.attrs.get("sampler", "")),
        fit_draws=int(fit.attrs["draws"]),
    )
    if not gate.passed:
        warnings.warn(
            f"posterior fit failed the convergence gate ({gate.status}); results are marked as such",
            RuntimeWarning,
            stacklevel=3,
        )
    worlds = make_worlds(layout, thinned, n_replicates=n_replicates, seed=shock_seed, independent_draws=False)
    return Simulation(
        layout=layout,
        draws=draws,
        worlds=worlds,
        seed=seed if isinstance(seed, int) else None,
        evidence="posterior",
        gate=gate,
    )


def _observed_data(model: pm.Model, evidence: Evidence) -> xr.Dataset:
    """The evidence's data (roll-call matrices, poll counts) as ArviZ's ``observed_data``.

    Evidence enters the model as potentials over ``pm.Data`` arrays and constants, so there is
    no observed random variable to take them from: the arrays and the polls are listed here.
    """
    data: dict[str, tuple[tuple[str, ...], npt.NDArray[np.generic]]] = {}
    if evidence.polls:
        data["poll_approve"] = (("poll",), np.array([float(p.approve) for p in evidence.polls]))
        data["poll_sample_size"] = (("poll",), np.array([float(p.sample_size) for p in evidence.polls]))
    for var in model.data_vars:
        value = np.asarray(var.get_value())
        dims = model.named_vars_to_dims.get(var.name) or tuple(
            f"{var.name}_dim_{i}" for i in range(value.ndim)
        )
        data[var.name] = (tuple(dims), value)
    coords = {dim: list(labels) for dim, labels in model.coords.items() if labels is not None}
    used = {dim for dims, _ in data.values() for dim in dims}
    if evidence.polls:
        data["poll_share"] = (("poll",), np.array([p.approve / p.sample_size for p in evidence.polls]))
        coords["poll"] = _poll_labels(evidence)
    return xr.Dataset(data, coords={dim: coords[dim] for dim in used if dim in coords})


def _poll_labels(evidence: Evidence) -> list[str]:
    return [f"{p.side}:{p.deal}:{i}" for i, p in enumerate(evidence.polls)]


def _poll_predictions(posterior: xr.Dataset, evidence: Evidence, seed: np.random.SeedSequence) -> xr.Dataset:
    """Each poll's approval share as the fitted model predicts it: Binomial(n / design effect, share)."""
    rng = np.random.default_rng(seed)
    shares = np.stack([posterior[f"poll{k}_share"].to_numpy() for k in range(len(evidence.polls))], axis=-1)
    n = np.array([max(1, round(p.sample_size / p.design_effect)) for p in evidence.polls])
    predicted = rng.binomial(n, np.clip(shares, 0.0, 1.0)) / n
    coords = {"chain": posterior["chain"].to_numpy(), "draw": posterior["draw"].to_numpy()}
    return xr.Dataset(
        {"poll_share": (("chain", "draw", "poll"), predicted)},
        coords={**coords, "poll": _poll_labels(evidence)},
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
    like: str | None = None,
) -> xr.Dataset:
    """Evaluate deals (issue units, ``(N, K)``; the named deals by default) on the worlds.

    ``like`` names a deal whose parties and Level-I agreement the given deals take (variants of
    a bilateral deal in a linkage search, say); by default they bind every side.
    """
    layout = simulation.layout
    named = deal_values is None
    like_sides: set[str] | None = None
    if deal_values is None:
        values = layout.deal_values
        names = deal_names or layout.deals
    else:
        values = np.atleast_2d(np.asarray(deal_values, dtype=np.float64))
        names = deal_names or [f"deal-{i}" for i in range(values.shape[0])]
    if values.shape[1] != len(layout.issues) or len(names) != values.shape[0]:
        raise ValueError(f"expected {len(names)} deals × {len(layout.issues)} issues, got {values.shape}")
    worlds = simulation.worlds
    spec = layout.scenario.spec
    if worlds.member_weight is None and worlds.abstention_band is None:
        wait_for_priming()  # the fused kernel is then in numba's cache, if it was being compiled
    if named:  # the named deals: each with its parties, agreement and reversion_if sequence
        chunks = evaluate_in_order(
            worlds, layout.to_unit(values), deal_agreements(layout), deal_order(spec), chunk_size=chunk_size
        )
    else:
        rule, like_sides = deal_rule(layout, like) if like is not None else (None, None)
        chunks = evaluate_chunks(
            worlds,
            layout.to_unit(values),
            chunk_size=chunk_size,
            agreements=None if rule is None else [rule] * len(values),
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
        # a referendum chamber has no seats: its rule needs the share itself
        vote_needed=[
            full_attendance_needed(rule, int(worlds.seats[rule.chamber])) for rule in worlds.vote_rules
        ],
        deal_names=list(names),
        deal_values=values,
        chains=worlds.chains,
        independent_draws=worlds.independent_draws,
        vote_detail=vote_detail,
        keep_conditional=keep_conditional,
        evaluated=_evaluated(layout) if named else _like(layout, like, like_sides, len(names)),
        attrs={
            "seed": -1 if simulation.seed is None else simulation.seed,
            "n_replicates": worlds.n_replicates,
            "n_worlds": worlds.n_worlds,
            "evidence": simulation.evidence,
            **(
                {"convergence_gate": str(simulation.draws.attrs.get("convergence_gate", ""))}
                if simulation.evidence == "posterior"
                else {}
            ),
        },
    )


def _evaluated(layout: Layout) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None:
    """``(S, N)`` sides evaluated for each named deal and sides that are its parties.

    ``None`` when every deal binds every side (the results then carry no mask at all).
    """
    spec = layout.scenario.spec
    if all(len(p) == len(layout.sides) for p in layout.deal_parties):
        return None
    evaluated = np.zeros((len(layout.sides), len(layout.deals)), dtype=bool)
    party = np.zeros_like(evaluated)
    for j, parties in enumerate(layout.deal_parties):
        for name in evaluated_sides(spec, parties):
            evaluated[layout.sides.index(name), j] = True
        for name in parties:
            party[layout.sides.index(name), j] = True
    return evaluated, party


def _like(
    layout: Layout, like: str | None, sides: set[str] | None, n_deals: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]] | None:
    """Masks of deals that all take the parties of the named deal ``like`` (``sides``: those it evaluates)."""
    if like is None or sides is None:
        return None
    parties = layout.deal_parties[layout.deals.index(like)]
    evaluated = np.array([side in sides for side in layout.sides])
    party = np.array([side in parties for side in layout.sides])
    return np.repeat(evaluated[:, None], n_deals, axis=1), np.repeat(party[:, None], n_deals, axis=1)


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
