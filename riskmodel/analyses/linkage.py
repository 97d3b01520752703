"""Deal design and synergistic linkage: which deal maximises ratification, and which bundles pass.

The search runs on one set of worlds (common random numbers): a coarse grid over the issues
searched, then local refinement (a shrinking pattern search around the best point). Every
candidate is scored on the same worlds, so differences between candidates are not noise of
resampling — but the winner is the candidate the worlds happen to favour most, so its
probability is re-estimated on *fresh* worlds (a new seed) before it is reported.

Linkage compares moving one issue at a time from a base deal with moving several at once
(Putnam's synergistic linkage): a bundle can pass where each of its single-issue parts fails.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskmodel.analyses.chiefs import chief_gain, chief_index
from riskmodel.analyses.dealspace import base_deal, coarse_grid, issue_indices, pattern_search, unit_to_deals
from riskmodel.errors import ParameterError, RiskmodelError
from riskmodel.pipeline import Sampler, Simulation, evaluate_deals
from riskmodel.randomness import SeedLike, as_seed_sequence

__all__ = ["OptimisedDeal", "compare_bundles", "fresh_simulation", "optimise_deal"]

Objective = Literal["agreement", "chief"]
_FRESH_STREAM = 0x46524553  # mixed into the seed: fresh worlds never repeat the search's worlds
MAX_BUNDLE_ISSUES = 10


@dataclass(frozen=True)
class OptimisedDeal:
    """The deal a search found, with its probability on the search's and on fresh worlds.

    Attributes
    ----------
    issues
        Issue names, the order of ``deal``.
    deal
        ``(K,)`` the deal, issue units.
    searched
        Issues the search could move (the others stay at the base deal).
    objective
        ``"agreement"`` (maximise the joint probability) or ``"chief"`` (maximise the chief's
        expected net gain subject to joint probability ≥ ``tau``).
    probability
        Joint probability on the search's own worlds (optimistic: the search picked it there).
    fresh_probability, fresh_mcse
        Joint probability and its MCSE re-estimated on fresh worlds (``nan`` when skipped).
    fresh_side_probability
        Each side's probability on fresh worlds.
    chief
        Side whose chief's gain was maximised (``objective="chief"``), else ``None``.
    chief_gains
        Every chief's expected net gain from the deal against its side's reversion.
    feasible
        Whether the deal meets the constraint (always true for ``"agreement"``).
    n_evaluated
        Deals evaluated by the search.
    """

    issues: list[str]
    deal: npt.NDArray[np.float64]
    searched: list[str]
    objective: str
    probability: float
    fresh_probability: float
    fresh_mcse: float
    fresh_side_probability: dict[str, float]
    chief: str | None
    chief_gains: dict[str, float]
    feasible: bool
    n_evaluated: int

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary."""
        return {
            "deal": dict(zip(self.issues, map(float, self.deal), strict=True)),
            "searched": self.searched,
            "objective": self.objective,
            "probability_search_worlds": self.probability,
            "probability_fresh_worlds": self.fresh_probability,
            "mcse_fresh_worlds": self.fresh_mcse,
            "side_probability_fresh_worlds": self.fresh_side_probability,
            "chief": self.chief,
            "chief_gains": self.chief_gains,
            "feasible": self.feasible,
            "n_evaluated": self.n_evaluated,
        }


def fresh_simulation(simulation: Simulation, resample: Sampler, seed: SeedLike = None) -> Simulation:
    """New worlds of the same scenario with another seed, sampled by the caller's ``resample``.

    ``resample(scenario, seed)`` samples the worlds (typically a closure over
    :func:`riskmodel.pipeline.sample_worlds` with the simulation's sizes): this module never
    samples the model itself. By default the seed is derived from the simulation's (a distinct
    stream, reproducible); an unseeded simulation gets fresh entropy.
    """
    if seed is None and simulation.seed is not None:
        seed = np.random.SeedSequence([simulation.seed, _FRESH_STREAM])
    return resample(simulation.layout.scenario, as_seed_sequence(seed))


def optimise_deal(
    simulation: Simulation,
    *,
    objective: Objective = "agreement",
    chief: str | None = None,
    tau: float = 0.5,
    issues: list[str] | None = None,
    base: str | None = None,
    grid: int = 5,
    rounds: int = 8,
    fresh: Simulation | Sampler | None = None,
    fresh_seed: SeedLike = None,
    chunk_size: int | None = None,
) -> OptimisedDeal:
    """Search issue space for the deal that maximises joint ratification (or a chief's gain).

    Parameters
    ----------
    simulation
        The worlds the search runs on (common random numbers for every candidate).
    objective
        ``"agreement"``: maximise P(every side ratifies); ``"chief"``: maximise the chief's
        expected net gain over deals with joint probability ≥ ``tau``.
    chief
        Side whose chief's gain is maximised (``objective="chief"``); the first chief by default.
    tau
        Probability constraint of the ``"chief"`` objective.
    issues
        Issues the search may move; all by default. The others stay at ``base``.
    base
        Named deal or ``"reversion"`` fixing the issues not searched (default: reversion).
    grid
        Points per searched issue of the coarse grid (fewer if the grid would exceed 20,000 deals).
    rounds
        Rounds of local refinement.
    fresh
        Re-estimate the winner on fresh worlds: a Simulation is used as is, a
        :class:`~riskmodel.pipeline.Sampler` samples them (:func:`fresh_simulation`), ``None``
        skips the re-check.
    fresh_seed
        Seed of the fresh worlds when ``fresh`` is a Sampler.
    chunk_size
        Deals per engine chunk.
    """
    layout = simulation.layout
    if objective not in ("agreement", "chief"):
        raise RiskmodelError(f"unknown objective '{objective}'; choose agreement or chief")
    if not 0.0 < tau <= 1.0:
        raise ParameterError("{tau} must be in (0, 1], got {value}", value=tau)
    if grid < 2 or rounds < 0:
        raise ParameterError("{grid} must be at least 2 and {rounds} at least 0")
    searched = issue_indices(layout, issues)
    base_name, base_values = base_deal(layout, base)
    base_unit = layout.to_unit(base_values)
    chief_row = None
    if objective == "chief":
        if chief is None and not layout.chiefs:
            raise RiskmodelError("objective 'chief' needs a side with a chief")
        chief = chief if chief is not None else layout.chiefs[0]
        chief_row = chief_index(simulation, chief)

    def deals_of(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return unit_to_deals(layout, base_unit, searched, points)

    def evaluate(points: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        deals = deals_of(points)
        results = evaluate_deals(
            simulation,
            deals,
            vote_detail=False,
            keep_conditional=False,
            chunk_size=chunk_size,
            like=base_name,
        )
        probability = results["agreement_probability"].to_numpy()
        if chief_row is None:
            return probability, probability
        gain = chief_gain(simulation, deals)[chief_row].mean(axis=0)
        # Feasible deals rank above infeasible ones; among infeasible ones, higher probability first.
        score = np.where(probability >= tau, gain, probability - tau - 1e6)
        return probability, score

    coarse = coarse_grid(len(searched), grid)
    _, score = evaluate(coarse)
    # Ties (a plateau of equal scores) go to the candidate closest to the base deal.
    tied = np.flatnonzero(score == score.max())
    best = int(tied[np.argmin(np.linalg.norm(coarse[tied] - base_unit[searched], axis=1))])
    cache: dict[bytes, float] = {}

    def refine_score(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        new = [p for p in points if p.tobytes() not in cache]
        if new:
            _, values = evaluate(np.array(new))
            cache.update({p.tobytes(): float(v) for p, v in zip(new, values, strict=True)})
        return np.array([cache[p.tobytes()] for p in points])

    spacing = float(coarse[1, -1] - coarse[0, -1])
    point, n_refined = pattern_search(refine_score, coarse[best], spacing / 2.0, rounds=rounds)
    deal = deals_of(point[None])[0]
    final_probability = float(evaluate(point[None])[0][0])
    gains = chief_gain(simulation, deal[None]).mean(axis=1)[:, 0]
    fresh_p, fresh_mcse, fresh_sides = float("nan"), float("nan"), {}
    if fresh is not None:
        other = fresh if isinstance(fresh, Simulation) else fresh_simulation(simulation, fresh, fresh_seed)
        check = evaluate_deals(other, deal[None], vote_detail=False, keep_conditional=False, like=base_name)
        fresh_p = float(check["agreement_probability"][0])
        fresh_mcse = float(check["agreement_mcse"][0])
        fresh_sides = {s: float(check["ratification_probability"].sel(side=s)[0]) for s in layout.sides}
    return OptimisedDeal(
        issues=list(layout.issues),
        deal=deal,
        searched=[layout.issues[k] for k in searched],
        objective=objective,
        probability=final_probability,
        fresh_probability=fresh_p,
        fresh_mcse=fresh_mcse,
        fresh_side_probability=fresh_sides,
        chief=chief if objective == "chief" else None,
        chief_gains={name: float(g) for name, g in zip(layout.chiefs, gains, strict=True)},
        feasible=objective == "agreement" or final_probability >= tau,
        n_evaluated=len(coarse) + n_refined + 1,
    )


def compare_bundles(
    simulation: Simulation,
    target: npt.ArrayLike,
    *,
    base: str | None = None,
    tau: float = 0.5,
    chunk_size: int | None = None,
) -> pd.DataFrame:
    """Move every subset of issues from the base deal to the target, and say which bundles pass.

    Parameters
    ----------
    simulation
        The worlds (common random numbers for every bundle).
    target
        ``(K,)`` target deal, issue units (e.g. an :class:`OptimisedDeal`'s ``deal``).
    base
        Named deal or ``"reversion"`` the moves start from (default: reversion).
    tau
        Joint probability at which a deal "passes".
    chunk_size
        Deals per engine chunk.

    Returns
    -------
    pandas.DataFrame
        One row per non-empty subset of the issues on which target and base differ (single
        issues first): ``bundle``, ``n_issues``, the joint ``agreement_probability`` and its
        ``agreement_mcse``, each side's probability, ``passes`` (≥ τ), ``parts_fail`` (every
        single-issue move of the bundle fails), ``synergistic`` (passes although every
        single-issue part fails) and ``minimal`` (passes although every smaller bundle of its
        issues fails).
    """
    layout = simulation.layout
    base_name, base_values = base_deal(layout, base)
    goal = np.asarray(target, dtype=np.float64)
    moved = [k for k in range(len(layout.issues)) if not np.isclose(goal[k], base_values[k])]
    if not moved:
        raise RiskmodelError(f"the target deal equals the base deal '{base_name}': nothing to move")
    if len(moved) > MAX_BUNDLE_ISSUES:
        raise RiskmodelError(
            f"{len(moved)} issues differ; bundles are compared for at most {MAX_BUNDLE_ISSUES}"
        )
    subsets = [c for size in range(1, len(moved) + 1) for c in itertools.combinations(moved, size)]
    deals = np.tile(base_values, (len(subsets), 1))
    for row, subset in enumerate(subsets):
        deals[row, list(subset)] = goal[list(subset)]
    names = ["+".join(layout.issues[k] for k in subset) for subset in subsets]
    results = evaluate_deals(
        simulation,
        deals,
        names,
        vote_detail=False,
        keep_conditional=False,
        chunk_size=chunk_size,
        like=base_name,
    )
    probability = results["agreement_probability"].to_numpy()
    passes = {subset: bool(p >= tau) for subset, p in zip(subsets, probability, strict=True)}
    table = pd.DataFrame({"bundle": names, "n_issues": [len(s) for s in subsets]})
    table["agreement_probability"] = probability
    table["agreement_mcse"] = results["agreement_mcse"].to_numpy()
    for side in layout.sides:
        table[f"p_{side}"] = results["ratification_probability"].sel(side=side).to_numpy()
    table["passes"] = [passes[s] for s in subsets]
    table["parts_fail"] = [all(not passes[(k,)] for k in s) for s in subsets]
    table["synergistic"] = table["passes"] & table["parts_fail"] & (table["n_issues"] > 1)
    table["minimal"] = [
        passes[s] and all(not passes[c] for size in range(1, len(s)) for c in itertools.combinations(s, size))
        for s in subsets
    ]
    table.attrs.update(base=base_name, tau=tau)
    return table
