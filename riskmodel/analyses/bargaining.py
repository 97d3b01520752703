"""Level-I bargaining: the Nash bargaining solution between the chiefs, and tied hands.

Each chief s proposes deals knowing they must be ratified. In epistemic draw e the deal x is
agreed with conditional probability p_e(x) (every side ratifies); if not, each side gets its
reversion q_s. The chief's expected utility of proposing x is therefore

    EU_s(x) = E_e[ p_e(x)·U_s,e(x) + (1 - p_e(x))·U_s,e(q_s) ],

and its surplus over disagreement (the reversion, worth U_s,e(q_s)) is

    S_s(x) = EU_s(x) - E_e[U_s,e(q_s)] = E_e[ p_e(x) · G_s,e(x) ],   G = U(x) - U(q),

with the chief's utility U_s,e from the model's ``chief_ideal``/``chief_salience`` draws: the
chiefs' preferences are as uncertain to us as anything else, and correlate with ratification
(through party pull). The Nash bargaining solution maximises Π_s S_s(x) over the deals that
give every chief a positive surplus; sides without a chief ratify but do not bargain.

Tied hands (Schelling; Putnam): shrinking one side's win-set — a higher threshold, a harder
bloc — and solving again shows where the predicted agreement moves. A threshold change reuses
the very same worlds; a harder bloc moves the bloc's ideal-point draws (and its members') in
every world and keeps every other draw and shock — the common-random-number path of the stress
tests' ``shift_bloc``, so the same shift gives the same worlds in both.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import xarray as xr

from riskmodel.analyses.chiefs import chief_gain, chief_ideal
from riskmodel.analyses.constituency import Constituency, shifted_draws, shifted_worlds
from riskmodel.analyses.dealspace import base_deal, coarse_grid, issue_indices, pattern_search, unit_to_deals
from riskmodel.analyses.power import bargaining_power
from riskmodel.errors import RiskmodelError
from riskmodel.model.layout import build_layout
from riskmodel.pipeline import Sampler, Simulation, evaluate_deals
from riskmodel.spec.scenario import LoadedScenario
from riskmodel.spec.tightening import harden_bloc, with_threshold
from riskmodel.worlds.crn import baseline_of
from riskmodel.worlds.rules import with_rules

__all__ = [
    "NashSolution",
    "TiedHands",
    "constrained_simulation",
    "hardened_simulation",
    "nash_bargaining",
    "tied_hands",
]


@dataclass(frozen=True)
class NashSolution:
    """The predicted agreement.

    Attributes
    ----------
    issues
        Issue names, the order of ``deal``.
    deal
        ``(K,)`` the Nash bargaining solution, issue units (``nan`` when no deal gives every
        chief a positive surplus: disagreement is predicted).
    agreement_probability
        Joint ratification probability of the deal.
    surplus
        Each chief's expected surplus over disagreement, S_s(x).
    chief_gain
        Each chief's net gain from the deal should it be ratified, E_e[G_s,e(x)].
    nash_product
        Π_s S_s(x).
    n_evaluated
        Deals evaluated.
    """

    issues: list[str]
    deal: npt.NDArray[np.float64]
    agreement_probability: float
    surplus: dict[str, float]
    chief_gain: dict[str, float]
    nash_product: float
    n_evaluated: int

    @property
    def agreed(self) -> bool:
        """Whether any deal beats disagreement for every chief."""
        return bool(np.all(np.isfinite(self.deal)))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "deal": dict(zip(self.issues, map(float, self.deal), strict=True)),
            "agreement_probability": self.agreement_probability,
            "surplus": self.surplus,
            "chief_gain": self.chief_gain,
            "nash_product": self.nash_product,
            "n_evaluated": self.n_evaluated,
        }


def _log_nash(
    surplus: npt.NDArray[np.float64], power: npt.NDArray[np.float64] | None = None
) -> npt.NDArray[np.float64]:
    """Σ_s α_s log S_s per deal (chief × deal in), -inf where some chief gains nothing.

    ``power`` α (one per chief) gives the asymmetric Nash solution; ``None`` is the symmetric one.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(surplus > 0.0, np.log(np.where(surplus > 0.0, surplus, 1.0)), -np.inf)
    if power is not None:
        logs = logs * power[:, None]
    return np.asarray(logs.sum(axis=0), dtype=np.float64)


def nash_bargaining(
    simulation: Simulation,
    *,
    issues: list[str] | None = None,
    base: str | None = None,
    grid: int = 9,
    rounds: int = 8,
    chunk_size: int | None = None,
    power: Mapping[str, float] | None = None,
) -> NashSolution:
    """Find the Nash bargaining solution between the sides' chiefs.

    Parameters
    ----------
    simulation
        Sampled worlds: every candidate deal is evaluated on them (common random numbers).
    issues
        Issues bargained over; all by default. The others stay at ``base``.
    base
        Named deal or ``"reversion"`` fixing the issues not bargained over.
    grid
        Points per issue of the coarse grid (capped at 20,000 deals).
    rounds
        Rounds of local refinement (pattern search) around the best grid point.
    chunk_size
        Deals per engine chunk.
    power
        Bargaining power of some chiefs (side → α in (0, 1)), for the asymmetric Nash solution
        max Π_s S_s(x)^α_s; see :func:`bargaining_power`. Equal power by default.
    """
    layout = simulation.layout
    if not layout.chiefs:
        raise RiskmodelError("Nash bargaining needs at least one side with a chief")
    alpha = bargaining_power(list(layout.chiefs), power)
    searched = issue_indices(layout, issues)
    base_unit = layout.to_unit(base_deal(layout, base)[1])

    def deals_of(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return unit_to_deals(layout, base_unit, searched, points)

    def surplus_of(points: npt.NDArray[np.float64]) -> tuple[npt.NDArray[np.float64], ...]:
        deals = deals_of(points)
        results = evaluate_deals(simulation, deals, vote_detail=False, chunk_size=chunk_size)
        p_e = results["agreement_conditional"].to_numpy()  # (D, N)
        gain = chief_gain(simulation, deals)  # (chief, D, N)
        surplus = (p_e[None] * gain).mean(axis=1)
        return surplus, gain.mean(axis=1), results["agreement_probability"].to_numpy()

    coarse = coarse_grid(len(searched), grid)
    score = _log_nash(surplus_of(coarse)[0], alpha)
    evaluated = len(coarse)
    if not np.isfinite(score.max()):
        return NashSolution(
            issues=list(layout.issues),
            deal=np.full(len(layout.issues), np.nan),
            agreement_probability=float("nan"),
            surplus=dict.fromkeys(layout.chiefs, 0.0),
            chief_gain=dict.fromkeys(layout.chiefs, float("nan")),
            nash_product=0.0,
            n_evaluated=evaluated,
        )
    point, refined = pattern_search(
        lambda pts: _log_nash(surplus_of(pts)[0], alpha),
        coarse[int(np.argmax(score))],
        float(coarse[1, -1] - coarse[0, -1]) / 2.0,
        rounds=rounds,
    )
    surplus, gain, probability = surplus_of(point[None])
    return NashSolution(
        issues=list(layout.issues),
        deal=deals_of(point[None])[0],
        agreement_probability=float(probability[0]),
        surplus={c: float(v) for c, v in zip(layout.chiefs, surplus[:, 0], strict=True)},
        chief_gain={c: float(v) for c, v in zip(layout.chiefs, gain[:, 0], strict=True)},
        nash_product=float(np.prod(surplus[:, 0])),
        n_evaluated=evaluated + refined + 1,
    )


@dataclass(frozen=True)
class TiedHands:
    """Where the predicted agreement moves when one side's hands are tied.

    Attributes
    ----------
    side
        The constrained side.
    change
        What was changed, in words.
    free, tied
        The Nash solutions before and after.
    move
        ``tied.deal - free.deal`` per issue, issue units.
    toward_constrained
        How much closer the agreement came to the constrained chief's ideal point (mean over
        draws): the drop in Euclidean distance over the issues bargained over, on the unit
        scale (shares of each issue's range). Positive supports Schelling's conjecture.
    winset_probability_free, winset_probability_tied
        The constrained side's ratification probability of the *free* solution, before and after.
    """

    side: str
    change: str
    free: NashSolution
    tied: NashSolution
    move: dict[str, float]
    toward_constrained: float
    winset_probability_free: float
    winset_probability_tied: float

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "side": self.side,
            "change": self.change,
            "free": self.free.as_dict(),
            "tied": self.tied.as_dict(),
            "move": self.move,
            "toward_constrained": self.toward_constrained,
            "winset_probability_free": self.winset_probability_free,
            "winset_probability_tied": self.winset_probability_tied,
        }


def constrained_simulation(
    simulation: Simulation, scenario: LoadedScenario, *, resample: Sampler | None = None
) -> Simulation:
    """The simulation of a modified scenario with common random numbers.

    Without ``resample`` (vote rules changed, the same entities) the worlds are reused with the
    new layout's rules. With it, the caller's sampler draws the modified scenario again with the
    simulation's seed: prior draws of unchanged priors then repeat exactly (same random
    streams), while a posterior is re-fitted (MCMC does not keep common random numbers under a
    changed prior). A harder bloc needs neither: see :func:`hardened_simulation`.
    """
    if resample is None:
        layout = build_layout(scenario)
        return dataclasses.replace(simulation, layout=layout, worlds=with_rules(simulation.worlds, layout))
    if simulation.seed is None:
        raise RiskmodelError("re-sampling a modified scenario needs a seeded simulation (simulation.seed)")
    return resample(scenario, simulation.seed)


def hardened_simulation(
    simulation: Simulation, scenario: LoadedScenario, *, side: str, bloc: str, shift: Mapping[str, float]
) -> Simulation:
    """The simulation with a bloc's ideal point moved by ``shift``, with common random numbers.

    ``scenario`` is the hardened scenario (:func:`riskmodel.spec.tightening.harden_bloc`; its
    layout and digest label the result). The worlds are not sampled again: in every draw the
    bloc's ideal point and its members' move by ``shift`` (issue units per issue), and the
    coefficients change by the affine update of
    :func:`riskmodel.analyses.constituency.shifted_worlds` — the path of a stress test's
    ``shift_bloc`` — while every other draw, shock and absence stays as it was.
    """
    layout = simulation.layout
    name = f"{side}.{bloc}"
    if name not in layout.blocs:
        raise RiskmodelError(f"side '{side}' has no bloc '{bloc}'")
    unknown = [issue for issue in shift if issue not in layout.issues]
    if unknown:
        raise RiskmodelError(f"unknown issue '{unknown[0]}'")
    index = layout.blocs.index(name)
    constituency = Constituency("bloc", index, name, int(layout.bloc_side[index]))
    base = baseline_of(simulation)
    delta = np.zeros((simulation.worlds.n_draws, len(layout.issues)))
    for issue, amount in shift.items():
        delta[:, layout.issues.index(issue)] = float(amount)
    worlds = shifted_worlds(base, constituency, delta)
    moved = shifted_draws(base, constituency, delta)
    tree = simulation.draws
    group = next(g for g in (simulation.evidence, "posterior", "prior") if g in tree.children)
    groups = {g: tree[g].to_dataset() for g in tree.children}
    groups[group] = groups[group].assign({v: moved[v] for v in moved.data_vars})
    draws = xr.DataTree.from_dict(groups)
    draws.attrs.update(tree.attrs)
    new_layout = build_layout(scenario)
    return dataclasses.replace(
        simulation, layout=new_layout, draws=draws, worlds=with_rules(worlds, new_layout)
    )


def tied_hands(
    simulation: Simulation,
    *,
    side: str,
    vote: str | None = None,
    threshold: str | int | float | None = None,
    bloc: str | None = None,
    shift: dict[str, float] | None = None,
    issues: list[str] | None = None,
    base: str | None = None,
    grid: int = 9,
    rounds: int = 8,
    power: Mapping[str, float] | None = None,
) -> TiedHands:
    """Tie one side's hands (raise a vote's threshold and/or harden a bloc) and re-solve.

    Parameters
    ----------
    simulation
        The unconstrained worlds.
    side
        The side whose win-set shrinks.
    vote, threshold
        Give the side's ``vote`` this threshold (``"two_thirds"``, a count, a fraction).
    bloc, shift
        Shift the ideal point of the side's ``bloc`` by ``shift`` (issue units per issue).
    issues, base, grid, rounds
        As in :func:`nash_bargaining`.
    """
    scenario = simulation.layout.scenario
    changes: list[str] = []
    hardened: dict[str, Any] | None = None
    if threshold is not None:
        if vote is None:
            raise RiskmodelError("give the vote whose threshold changes")
        scenario = with_threshold(scenario, side=side, vote=vote, threshold=threshold)
        changes.append(f"{side}.{vote} threshold → {threshold}")
    if bloc is not None or shift:
        if bloc is None or not shift:
            raise RiskmodelError("hardening a bloc needs both the bloc and a shift per issue")
        scenario = harden_bloc(scenario, side=side, bloc=bloc, shift=shift)
        hardened = {"side": side, "bloc": bloc, "shift": shift}
        changes.append(
            f"{side}.{bloc} ideal shifted by " + ", ".join(f"{k} {v:+g}" for k, v in shift.items())
        )
    if not changes:
        raise RiskmodelError("nothing to tie: give a vote and threshold, or a bloc and shift")
    constrained = constrained_simulation(simulation, scenario)
    if hardened is not None:
        constrained = hardened_simulation(constrained, scenario, **hardened)
    options: dict[str, Any] = {"issues": issues, "base": base, "grid": grid, "rounds": rounds, "power": power}
    free = nash_bargaining(simulation, **options)
    tied = nash_bargaining(constrained, **options)
    layout = simulation.layout
    move = {name: float(t - f) for name, t, f in zip(layout.issues, tied.deal, free.deal, strict=True)}
    toward = float("nan")
    if side in layout.chiefs:
        ideal = layout.to_unit(chief_ideal(simulation)[layout.chiefs.index(side)])
        searched = issue_indices(layout, issues)
        free_unit, tied_unit = layout.to_unit(free.deal), layout.to_unit(tied.deal)
        toward = float(
            np.linalg.norm((free_unit - ideal)[searched]) - np.linalg.norm((tied_unit - ideal)[searched])
        )
    before = after = float("nan")
    if free.agreed:
        s = layout.sides.index(side)
        deal = free.deal[None]
        before = float(
            evaluate_deals(simulation, deal, vote_detail=False, keep_conditional=False)[
                "ratification_probability"
            ][s, 0]
        )
        after = float(
            evaluate_deals(constrained, deal, vote_detail=False, keep_conditional=False)[
                "ratification_probability"
            ][s, 0]
        )
    return TiedHands(
        side=side,
        change="; ".join(changes),
        free=free,
        tied=tied,
        move=move,
        toward_constrained=toward,
        winset_probability_free=before,
        winset_probability_tied=after,
    )
