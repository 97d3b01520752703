"""Modified scenarios for tied-hands experiments: a higher threshold, a harder bloc.

Each function returns a new :class:`~riskmodel.spec.scenario.LoadedScenario` built with pydantic's
``model_copy(update=...)``; the changed field is validated on its own, and the digest records
the change so results of the modified scenario are never mistaken for the original's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import pydantic

from riskmodel.errors import RiskmodelError, did_you_mean
from riskmodel.spec.priors import Elicited, Fixed, Normal, Prior, TruncatedNormal, Uniform
from riskmodel.spec.scenario import LoadedScenario
from riskmodel.spec.schema import Side, Vote

__all__ = ["harden_bloc", "shift_prior", "with_threshold"]


def _side(scenario: LoadedScenario, side: str) -> tuple[int, Side]:
    names = [s.name for s in scenario.spec.sides]
    if side not in names:
        raise RiskmodelError(f"unknown side '{side}'{did_you_mean(side, names)}; sides: {', '.join(names)}")
    index = names.index(side)
    return index, scenario.spec.sides[index]


def _replace_side(scenario: LoadedScenario, index: int, side: Side, change: str) -> LoadedScenario:
    sides = list(scenario.spec.sides)
    sides[index] = side
    spec = scenario.spec.model_copy(update={"sides": sides})
    digest = hashlib.sha256(f"{scenario.digest}|{change}".encode()).hexdigest()
    return LoadedScenario(spec=spec, member_tables=scenario.member_tables, path=scenario.path, digest=digest)


def with_threshold(
    scenario: LoadedScenario, *, side: str, vote: str, threshold: str | int | float
) -> LoadedScenario:
    """The scenario with one vote's threshold changed (``"two_thirds"``, a count, a fraction)."""
    index, spec = _side(scenario, side)
    names = [v.name for v in spec.votes]
    if vote not in names:
        raise RiskmodelError(
            f"side '{side}' has no vote '{vote}'{did_you_mean(vote, names)}; votes: {', '.join(names)}"
        )
    old = spec.votes[names.index(vote)]
    try:
        new = Vote.model_validate(
            {**old.model_dump(by_alias=True, exclude_unset=True), "threshold": threshold}
        )
    except pydantic.ValidationError as exc:
        message = exc.errors()[0]["msg"]
        raise RiskmodelError(f"threshold {threshold!r}: {message}") from None
    if isinstance(threshold, int) and not isinstance(threshold, bool):
        chamber = next(c for c in spec.chambers if c.name == old.chamber)
        seats = sum(b.seats or 0 for b in chamber.blocs) + len(
            scenario.member_tables.get((side, chamber.name), [])
        )
        if threshold > seats:
            raise RiskmodelError(f"threshold {threshold} is above the chamber's {seats} seats")
    votes = list(spec.votes)
    votes[names.index(vote)] = new
    return _replace_side(
        scenario, index, spec.model_copy(update={"votes": votes}), f"{side}.{vote}={threshold}"
    )


def shift_prior(prior: Prior, delta: float) -> Prior:
    """The prior moved by ``delta`` (a location shift: same shape, every value + delta)."""
    match prior:
        case float() | int():
            return float(prior) + delta
        case Fixed(value=value):
            return prior.model_copy(update={"value": value + delta})
        case Normal(mu=mu):
            return prior.model_copy(update={"mu": mu + delta})
        case TruncatedNormal(mu=mu, lower=lower, upper=upper):
            return prior.model_copy(
                update={
                    "mu": mu + delta,
                    "lower": None if lower is None else lower + delta,
                    "upper": None if upper is None else upper + delta,
                }
            )
        case Uniform(lower=lower, upper=upper):
            return prior.model_copy(update={"lower": lower + delta, "upper": upper + delta})
        case Elicited(family="normal", between=(lo, hi)):
            return prior.model_copy(update={"between": (lo + delta, hi + delta)})
    kind = getattr(prior, "dist", None) or getattr(prior, "family", type(prior).__name__)
    raise RiskmodelError(
        f"cannot shift a {kind} prior; shift blocs whose ideal points are numbers or normal priors"
    )


def harden_bloc(
    scenario: LoadedScenario, *, side: str, bloc: str, shift: Mapping[str, float]
) -> LoadedScenario:
    """The scenario with a bloc's ideal point moved by ``shift`` (issue units, per issue).

    This is the declaration (its layout and digest label the results). Its worlds are not
    sampled again: :func:`riskmodel.analyses.bargaining.hardened_simulation` moves the bloc's
    draws in the existing worlds, by the common-random-number path of a stress test's
    ``shift_bloc``.
    """
    index, spec = _side(scenario, side)
    issues = [issue.name for issue in scenario.spec.issues]
    unknown = [name for name in shift if name not in issues]
    if unknown:
        raise RiskmodelError(f"unknown issue '{unknown[0]}'{did_you_mean(unknown[0], issues)}")
    chambers = list(spec.chambers)
    for c, chamber in enumerate(chambers):
        names = [b.name for b in chamber.blocs]
        if bloc in names:
            old = chamber.blocs[names.index(bloc)]
            ideal: dict[str, Any] = dict(old.ideal)
            for issue, delta in shift.items():
                ideal[issue] = shift_prior(ideal[issue], float(delta))
            blocs = list(chamber.blocs)
            blocs[names.index(bloc)] = old.model_copy(update={"ideal": ideal})
            chambers[c] = chamber.model_copy(update={"blocs": blocs})
            change = f"{side}.{bloc}+" + ",".join(f"{k}:{v}" for k, v in sorted(shift.items()))
            return _replace_side(scenario, index, spec.model_copy(update={"chambers": chambers}), change)
    every = [b.name for chamber in spec.chambers for b in chamber.blocs]
    raise RiskmodelError(
        f"side '{side}' has no bloc '{bloc}'{did_you_mean(bloc, every)}; blocs: {', '.join(every)}"
    )
