"""The scenario schema: pydantic models with ``extra="forbid"``.

Field-level checks live here; checks that need the whole scenario (names referenced across
sections, seat totals, member tables) live in :mod:`riskmodel.spec.scenario`, which reports them
with their exact location.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from riskmodel.spec.evidence import Evidence
from riskmodel.spec.multischema import Abstention, Agreement, ReversionIf
from riskmodel.spec.priors import Number, Prior

__all__ = [
    "Bloc",
    "Chamber",
    "Chief",
    "Deal",
    "Issue",
    "Link",
    "Lobby",
    "Procedure",
    "Public",
    "Reach",
    "Salience",
    "Scenario",
    "Side",
    "Vote",
]

_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

Name = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$",
        max_length=64,
        description="An identifier: a letter, then letters, digits, '_' or '-'.",
    ),
]
MAX_SEATS = 10_000
"""Seats of one body: the largest legislature (China's NPC) has under 3,000; bounds memory."""

Label = Annotated[str, Field(max_length=300)]
Text = Annotated[str, Field(max_length=20_000)]


class _Model(BaseModel):
    model_config = _CONFIG


class Issue(_Model):
    """One dimension of a deal, with its unit and the range used to rescale it to [0, 1]."""

    name: Name
    label: Label | None = None
    unit: Label = ""
    range: tuple[Number, Number]
    shape: Literal["quadratic", "linear"] = Field(
        default="quadratic",
        description=(
            "quadratic: actors weigh a deal's distance from their ideal point; linear: a signed cue "
            "(e.g. the sending president's party), weighed in proportion to the ideal with no "
            "distance penalty."
        ),
    )
    description: Text | None = None

    @model_validator(mode="after")
    def _range_ordered(self) -> Issue:
        if self.range[0] >= self.range[1]:
            raise ValueError(f"range: the lower end ({self.range[0]}) must be below the upper end")
        return self


class Link(_Model):
    """Two issues whose values interact in every actor's utility (a cross term).

    ``interaction`` plays the role of a correlation in the weight matrix and must lie in
    (-1, 1) so that preferences stay single-peaked.
    """

    issues: tuple[Name, Name]
    interaction: Prior
    source: str | None = None


class Deal(_Model):
    """A named point in issue space (values in each issue's own units)."""

    name: Name
    label: Label | None = None
    values: dict[Name, Number]
    parties: list[Name] | None = Field(default=None, description="Sides bound by the deal; default: all.")
    agreement: Agreement | None = Field(default=None, description="Level-I rule over the parties.")
    description: Text | None = None
    source: str | None = None


class Dirichlet(_Model):
    """Uncertain salience weights: a Dirichlet with one concentration per issue."""

    dirichlet: dict[Name, Annotated[float, Field(gt=0, strict=True)]]


Salience = dict[Name, Annotated[float, Field(ge=0, strict=True)]] | Dirichlet
"""Fixed relative weights per issue (normalised to sum to 1), or a Dirichlet prior."""


class Preferences(_Model):
    """Shared fields of every actor with spatial preferences."""

    ideal: dict[Name, Prior] = Field(description="Ideal point per issue, in the issue's units.")
    salience: Salience | None = Field(
        default=None, description="Relative weight of each issue; equal weights when omitted."
    )


class Bloc(Preferences):
    """Members sharing a prior: a party, caucus or region.

    Its members are either ``seats`` anonymous seats or the rows of the chamber's member table
    whose ``bloc`` column names it.
    """

    name: Name
    label: Label | None = None
    seats: Annotated[int, Field(ge=0, le=MAX_SEATS, strict=True)] | None = None
    spread: Prior | dict[Name, Prior] = Field(
        default=0.0, description="SD of members' ideal points around the bloc's, issue units."
    )
    party_pull: Prior = Field(default=0.0, description="Weight on the chief's net gain.")
    responsiveness: Prior = Field(default=0.0, description="Weight on the public's net gain.")
    valence: Prior = Field(
        default=0.0,
        description="Net gain from ratifying whatever the terms (utility units): positive for members "
        "who favour any agreement, negative for those who prefer no deal now or a better deal later; "
        "for a veto player such as a court, its lean independent of the deal.",
    )
    weight: Annotated[int, Field(ge=1, strict=True)] = Field(default=1, description="Votes per member.")
    block: bool = Field(default=False, description="Members cast one common vote.")
    reversion: dict[Name, Prior] | None = Field(
        default=None, description="What this bloc believes failure leads to (per issue)."
    )
    common_shock: Prior = Field(default=0.0, description="Scale of a shock shared by the bloc's members.")
    source: str | None = None


class Groups(_Model):
    """Members who share a member-table attribute (e.g. their state) share a shift of their ideal points.

    Each group's shift on an issue is N(0, spread²), one per group; a member with a blank cell
    belongs to no group. A member with no recorded votes of its own thereby borrows from its
    group as well as its bloc.
    """

    column: str = Field(description="Member-table column naming each member's group, e.g. state.")
    spread: dict[Name, Prior] = Field(description="SD of the groups' shifts per issue (issue units).")
    source: str | None = None


class Chamber(_Model):
    """A body that votes: legislature, cabinet, council, single veto player or referendum."""

    name: Name
    label: Label | None = None
    kind: Literal["legislature", "cabinet", "council", "veto_player", "referendum"] = "legislature"
    seats: Annotated[int, Field(ge=1, le=MAX_SEATS, strict=True)] | None = Field(
        default=None, description="Declared size; checked against the blocs and member table."
    )
    blocs: list[Bloc] = Field(default_factory=list)
    members: str | None = Field(
        default=None, description="CSV member table (path relative to the scenario file)."
    )
    absence: Prior = Field(default=0.0, description="Probability that a member does not vote.")
    shock_scale: Prior = Field(
        default=0.1, description="SD of each member's idiosyncratic shock (utility units)."
    )
    turnout: Prior = Field(default=1.0, description="Referendums: share of the electorate voting.")
    quorum: Annotated[float, Field(ge=0, le=1, strict=True)] | None = Field(
        default=None, description="Referendums: minimum turnout for the result to count."
    )
    campaign_shock: Prior = Field(
        default=0.0, description="Referendums: SD of a campaign swing per world (utility units)."
    )
    abstention: Abstention | None = None
    common_shock: Prior = Field(default=0.0, description="Scale of a shock shared by the chamber's members.")
    groups: Groups | None = Field(default=None, description="Shifts shared by members of one group.")
    source: str | None = None

    @model_validator(mode="after")
    def _groups_need_members(self) -> Chamber:
        if self.groups is not None and self.members is None:
            raise ValueError("groups: members are grouped by a column of the member table (members:)")
        return self


class Reach(_Model):
    """Which members a lobby reaches: every filter given must match (default: all)."""

    chambers: list[Name] | None = None
    blocs: list[Name] | None = None
    where: dict[str, list[str]] | None = Field(
        default=None, description="Member-table attribute filters, e.g. {state: [MI, OH]}."
    )


class Lobby(Preferences):
    """An interest group with preferences and an uncertain influence on the members it reaches."""

    name: Name
    label: Label | None = None
    influence: Prior = Field(description="Weight members it reaches put on its net gain.")
    reaches: Reach = Field(default_factory=Reach)
    source: str | None = None


class Public(Preferences):
    """The electorate: a normal distribution of voters' ideal points per issue."""

    spread: Prior | dict[Name, Prior] = Field(
        default=0.2, description="SD of voters' ideal points around the mean, issue units."
    )
    approval: Prior = Field(
        default=0.0,
        description="Baseline approval of the agreement beyond its terms (utility units).",
    )
    source: str | None = None


class Chief(Preferences):
    """The chief of government / negotiator."""

    label: Label | None = None
    source: str | None = None


def _threshold_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "rule"
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return "count"
    if isinstance(value, float):
        return "fraction"
    return None


THRESHOLD_FORMS = (
    "majority, three_fifths, two_thirds, unanimity, a count of votes (an integer such as 60) "
    "or a fraction written with a decimal point in (0, 1] (such as 0.55)"
)

Threshold = Annotated[
    Annotated[Literal["majority", "three_fifths", "two_thirds", "unanimity"], Tag("rule")]
    | Annotated[int, Field(ge=1, strict=True), Tag("count")]
    | Annotated[float, Field(gt=0, le=1, strict=True), Tag("fraction")],
    Discriminator(
        _threshold_kind,
        custom_error_type="threshold_form",
        custom_error_message=f"expected a threshold: {THRESHOLD_FORMS}",
    ),
]


class Vote(_Model):
    """One decision of a chamber on the deal."""

    name: Name
    label: Label | None = None
    chamber: Name
    threshold: Threshold = "majority"
    relative_to: Literal["voting", "seats", "present"] = "voting"
    polarity: Literal["for", "against"] = "for"
    ties: Literal["fail", "pass"] = "fail"
    source: str | None = None


class AtLeast(_Model):
    k: Annotated[int, Field(ge=1, strict=True)]  # k = 0 would ratify whatever the votes
    of: list[Procedure]


class AllOf(_Model):
    all: list[Procedure] = Field(min_length=1)


class AnyOf(_Model):
    any: list[Procedure] = Field(min_length=1)


class NotOf(_Model):
    not_: Procedure = Field(alias="not")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class AtLeastOf(_Model):
    at_least: AtLeast


PROCEDURE_KEYS = ("all", "any", "not", "at_least")


def _procedure_kind(value: Any) -> str | None:
    if isinstance(value, str):
        return "vote"
    if isinstance(value, BaseModel):
        return {AllOf: "all", AnyOf: "any", NotOf: "not", AtLeastOf: "at_least"}.get(type(value))
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        return key if key in PROCEDURE_KEYS else None
    return None


Procedure = Annotated[
    Annotated[Name, Tag("vote")]
    | Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")]
    | Annotated[AtLeastOf, Tag("at_least")],
    Discriminator(
        _procedure_kind,
        custom_error_type="procedure_form",
        custom_error_message=(
            "expected a procedure: a vote name, or a mapping with exactly one key: "
            "all: [...], any: [...], not: ..., at_least: {k: n, of: [...]}"
        ),
    ),
]
"""A boolean expression over vote names."""

AtLeast.model_rebuild()
AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


class Side(_Model):
    """One Level II polity."""

    name: Name
    label: Label | None = None
    reversion: dict[Name, Number] | None = Field(
        default=None, description="What the side gets if the deal fails (optional for a nested side)."
    )
    reversion_if: list[ReversionIf] = Field(default_factory=list)
    members: list[Name] | None = Field(default=None, description="Member sides of a nested side.")
    agreement: Agreement | None = Field(default=None, description="Rule over the members; default: all.")
    common_shock: Prior = Field(default=0.0, description="Scale of a shock shared by the side's members.")
    chambers: list[Chamber] = Field(default_factory=list)
    votes: list[Vote] = Field(default_factory=list)
    procedure: Procedure | None = Field(
        default=None, description="When the side ratifies; default: all of its votes."
    )
    lobbies: list[Lobby] = Field(default_factory=list)
    public: Public | None = None
    chief: Chief | None = None
    source: str | None = None


class Scenario(_Model):
    """A complete two-level game: issues, candidate deals and every side's Level II."""

    name: Name
    title: Label | None = None
    description: Text | None = None
    sources: dict[str, str] = Field(default_factory=dict)
    issues: list[Issue] = Field(min_length=1)
    links: list[Link] = Field(default_factory=list)
    deals: list[Deal] = Field(min_length=1)
    sides: list[Side] = Field(min_length=1)
    agreement: Agreement | None = Field(default=None, description="Default Level-I rule of every deal.")
    evidence: Evidence | None = Field(
        default=None, description="Roll calls, declared positions and polls that condition the priors."
    )
