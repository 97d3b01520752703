"""Scenario evidence: roll calls, ideology, earlier deals, declared positions (whip counts), polls.

Each kind is optional; every item conditions the scenario's PyMC model
(:func:`riskmodel.model.evidence.add_evidence`). Checked here field by field; names that refer to
the rest of the scenario (sides, chambers, members, deals) are checked by
:func:`riskmodel.model.evidence.check_evidence`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from riskmodel.spec.priors import Beta, Prior, Uniform

__all__ = [
    "DeclaredPositions",
    "EarlierDeal",
    "EarlierDeals",
    "Evidence",
    "IdeologyEvidence",
    "Poll",
    "RollCallEvidence",
]

_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

Name = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)]


class _Model(BaseModel):
    model_config = _CONFIG


class RollCallEvidence(_Model):
    """Recorded roll calls of one chamber: an IRT fit whose ideal points inform members' positions.

    A linked member's roll-call ideology is ``θ = bloc shift + ρ·z + √(1 − ρ²)·η``, where ``z``
    is the member's standardised deviation from the bloc on ``issue`` (the model's
    ``member_z``), ``ρ`` is ``loading`` and ``η`` ~ N(0, 1): the member's issue position is
    "loading × ideology + bloc offset", with the roll calls deciding the ideology.
    """

    side: Name
    chamber: Name
    votes: str = Field(
        description="Member votes CSV (path relative to the scenario): the clerk layout "
        "(vote_id, member_id, party, state, position) or Voteview's (congress, chamber, "
        "rollnumber, icpsr, cast_code)."
    )
    member_key: str = Field(
        description="Column of the chamber's member table holding the ids used in the votes file."
    )
    issue: Name
    loading: Prior = Field(
        default=Uniform(dist="uniform", lower=-1.0, upper=1.0),
        description="Correlation ρ between roll-call ideology and the issue position within a bloc.",
    )
    dims: Literal[1, 2] = 1
    anchor: str | list[str] = Field(
        default="R",
        description="Party label (clerk files carry parties), or member ids (needed for Voteview files, "
        "which carry none), placed on the positive side of dimension 1.",
    )
    min_minority: Annotated[float, Field(ge=0, lt=0.5)] = 0.025
    source: str | None = None


class IdeologyEvidence(_Model):
    """Members' ideal points from their roll calls (e.g. an IRT fit), as an input to one issue.

    Within each bloc the ideal points are standardised, and a member's standardised ideal
    point ``x`` is tied to its standardised position on ``issue`` (the model's ``member_z``)
    as a bivariate normal with correlation ``ρ_b`` — a *learned* loading per bloc, so earlier
    deals teach how ideology maps onto the issue: ``x ~ N(ρ_b·z, 1 − ρ_b²)``. Given ``x`` the
    member's position is ``bloc ideal + spread·(ρ_b·x + √(1 − ρ_b²)·η)``, i.e. loading ×
    ideal point + bloc offset, and enters the net gain through it. Members with a blank cell
    (no earlier roll calls) take their bloc's mean, with the bloc's spread around it.
    """

    side: Name
    chamber: Name
    column: str = Field(
        description="Column of the chamber's member table holding each member's ideal point (a "
        "number; blank for a member without one)."
    )
    issue: Name
    loading: Prior = Field(
        default=Uniform(dist="uniform", lower=-1.0, upper=1.0),
        description="Prior of each bloc's correlation ρ between the ideal point and the issue position.",
    )
    source: str | None = None


class EarlierDeal(_Model):
    """One recorded vote on an earlier deal whose terms are known."""

    vote_id: str = Field(description="The vote's id in the votes file (e.g. h781-112.2011).")
    deal: dict[str, float] = Field(
        description="The deal voted on, issue → value in the scenario's issue units; an issue left "
        "out is unchanged from the reversion."
    )
    reversion: dict[str, float] = Field(
        default_factory=dict,
        description="What a failed vote left in place, issue → value; an issue left out takes the "
        "side's reversion.",
    )
    label: str | None = None
    date: dt.date | None = None
    source: str | None = None


class EarlierDeals(_Model):
    """Recorded votes of one chamber's members on earlier deals with known terms.

    Each member's recorded yea or nay is a likelihood term P(yea) = Φ(Δ_i / shock scale), with
    Δ_i the net gain the engine uses — utility of the deal over its reversion, plus the chief's
    and the public's pull and the lobbies', plus the bloc's valence — evaluated at the earlier
    deal's terms. Members' positions, salience, party pull and the shock scale are learned from
    how they voted on deals whose terms differed. Members of the votes file who are not in the
    chamber's member table are left out.

    When the scenario declares ``common_shock`` on the chamber, its blocs or the side, each
    earlier vote also draws those shocks (one per vote, shared by the members they reach), so
    the votes learn the scales and the scenario's worlds draw their common shocks from the
    posterior: members of one vote do not move independently.
    """

    side: Name
    chamber: Name
    votes: str = Field(
        description="Member votes CSV (path relative to the scenario) in the clerk layout "
        "(vote_id, member_id, party, state, position)."
    )
    member_key: str = Field(
        description="Column of the chamber's member table holding the ids used in the votes file."
    )
    deals: Annotated[list[EarlierDeal], Field(min_length=1)]
    source: str | None = None


class DeclaredPositions(_Model):
    """Members' stated intentions on a named deal (a whip count)."""

    side: Name
    chamber: Name
    deal: Name
    positions: dict[str, Literal["yes", "no", "undecided"]] = Field(
        description="Member name (as in the member table) → yes, no or undecided."
    )
    reliability: Prior = Field(
        default=Beta(dist="beta", alpha=8.0, beta=2.0),
        description="Probability that a yes/no statement matches the member's eventual vote.",
    )
    source: str | None = None


class Poll(_Model):
    """A poll of the public's approval of a named deal."""

    side: Name
    deal: Name
    approve: Annotated[int, Field(ge=0)]
    sample_size: Annotated[int, Field(ge=1)]
    noise: Prior = Field(
        default=0.1,
        description="SD of a respondent's idiosyncratic taste (utility units) around the public's spread.",
    )
    design_effect: Annotated[float, Field(ge=1)] = 1.0
    source: str | None = None

    @model_validator(mode="after")
    def _approve_within_sample(self) -> Poll:
        if self.approve > self.sample_size:
            raise ValueError(f"approve ({self.approve}) exceeds sample_size ({self.sample_size})")
        return self


class Evidence(_Model):
    """Data that condition the priors; worlds then come from the posterior."""

    rollcalls: list[RollCallEvidence] = Field(default_factory=list)
    ideology: list[IdeologyEvidence] = Field(default_factory=list)
    earlier_deals: list[EarlierDeals] = Field(default_factory=list)
    declared: list[DeclaredPositions] = Field(default_factory=list)
    polls: list[Poll] = Field(default_factory=list)
    draws: Annotated[int, Field(ge=100, le=100_000)] = Field(
        default=1000, description="Posterior draws per chain."
    )
    max_draws: Annotated[int, Field(ge=100, le=800_000)] | None = Field(
        default=None,
        description="Sample to the convergence gate: a fit whose first `draws` per chain fail the "
        "gate goes on with the same chains, judged again every `check_every` draws, up to this "
        "many (default: exactly `draws`). A fit that passes at `draws` is the fit of exactly `draws`.",
    )
    check_every: Annotated[int, Field(ge=50, le=100_000)] | None = Field(
        default=None, description="With `max_draws`: draws between checks (default: a third of `draws`)."
    )
    tune: Annotated[int, Field(ge=100, le=100_000)] = 1000
    chains: Annotated[int, Field(ge=1, le=16)] = 2
    method: Literal["nuts", "advi"] = "nuts"
    target_accept: Annotated[float, Field(ge=0.5, le=0.99)] = Field(
        default=0.8,
        description="NUTS target acceptance rate (0.8 is the samplers' default). Raise it (0.9, "
        "0.95) when a fit reports divergent transitions: smaller steps follow a sharply curved "
        "posterior at the cost of more gradient evaluations per draw.",
    )

    @model_validator(mode="after")
    def _max_draws_not_below_draws(self) -> Evidence:
        if self.max_draws is not None and self.max_draws < self.draws:
            raise ValueError(f"max_draws ({self.max_draws}) must be at least draws ({self.draws})")
        return self
