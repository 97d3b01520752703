"""Fact sheets: a machine-readable transcription of the records a scenario cites, checked against it.

A bundled scenario ``<name>.yaml`` has a fact sheet ``<name>.facts.yaml`` beside it. The sheet
copies, from the cited records, the size of each body, its vacancies and party standings, the
rule of each vote, the recorded divisions and what really happened. :func:`check_facts` checks
the scenario against the sheet and the sheet against itself (seat counts add up to the body's
size, a recorded division's total equals the membership, the recorded yeas and nays pass or fail
the cited rule as the record says, every ``source`` names an entry of the scenario's
``sources:``). Multilateral scenarios add Level-I records (which sides consented to a deal and
whether the deal's ``agreement:`` rule passed on that record), weight tables (population
weights of a qualified majority, votes per member) and outcomes of a deal's agreement as a
whole. ``outcome`` entries feed the README gallery: the probability the model gave what really
happened.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from riskmodel.backtest.levelone import (
    LevelOneRecord,
    WeightTable,
    check_level_one,
    deal_rule,
    evaluated_sides,
)
from riskmodel.engine import needed_votes
from riskmodel.errors import ScenarioError, format_location
from riskmodel.spec.scenario import LoadedScenario
from riskmodel.spec.schema import Threshold
from riskmodel.spec.yamlsource import line_for, read_yaml
from riskmodel.worlds.rules import vote_rule

__all__ = [
    "ChamberFacts",
    "Division",
    "FactSheet",
    "Outcome",
    "VoteFacts",
    "check_facts",
    "facts_path",
    "load_facts",
    "rule_passes",
]

Count = Annotated[int, Field(ge=0, strict=True)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class ChamberFacts(_Model):
    """A body's composition on a date, as the cited record gives it."""

    body_size: Annotated[int, Field(ge=1, strict=True)]
    vacancies: Count = 0
    left_out: Count = 0
    left_out_reason: str | None = None
    blocs: dict[str, Count]
    weights: dict[str, Annotated[int, Field(ge=1, strict=True)]] | None = Field(
        default=None, description="Votes per member of each bloc, where the record weights votes."
    )
    date: dt.date
    source: str

    @model_validator(mode="after")
    def _reason_for_left_out(self) -> ChamberFacts:
        if self.left_out and not self.left_out_reason:
            raise ValueError("left_out > 0 needs a left_out_reason")
        return self

    @property
    def modelled(self) -> int:
        """Members the scenario should model: size − vacancies − left out."""
        return self.body_size - self.vacancies - self.left_out


class VoteFacts(_Model):
    """The rule of one vote, as cited."""

    threshold: Threshold
    relative_to: Literal["voting", "seats", "present"] = "voting"
    ties: Literal["fail", "pass"] = "fail"
    polarity: Literal["for", "against"] = "for"
    rule: str
    source: str


class Division(_Model):
    """A recorded division (or, for a referendum, its result)."""

    vote: str
    deal: str
    date: dt.date
    yea: Count | None = None
    nay: Count | None = None
    present: Count = 0
    not_voting: Count = 0
    members: Count | None = None
    yes_share: Annotated[float, Field(ge=0, le=1)] | None = None
    turnout: Annotated[float, Field(ge=0, le=1)] | None = None
    passed: bool
    source: str

    @model_validator(mode="after")
    def _counts_or_share(self) -> Division:
        if (self.yea is None) != (self.nay is None):
            raise ValueError("give both yea and nay")
        if self.yea is None and self.yes_share is None:
            raise ValueError("give yea and nay (a division) or yes_share (a referendum)")
        return self


class Outcome(_Model):
    """What really happened to a deal on one side, or (``side: null``) to its agreement as a whole."""

    side: str | None
    deal: str
    ratified: bool
    date: dt.date
    source: str
    as_of: dt.date | None = Field(
        default=None, description="This side's information cut-off, when it differs from the sheet's."
    )
    note: str | None = None


class FactSheet(_Model):
    """The fact sheet of one scenario."""

    scenario: str
    as_of: dt.date = Field(description="Information cut-off for the scenario's priors.")
    chambers: dict[str, ChamberFacts] = Field(default_factory=dict)
    votes: dict[str, VoteFacts] = Field(default_factory=dict)
    recorded: list[Division] = Field(default_factory=list)
    level_one: list[LevelOneRecord] = Field(default_factory=list)
    weights: dict[str, WeightTable] = Field(default_factory=dict)
    outcome: list[Outcome] = Field(default_factory=list)


def facts_path(scenario_path: str | Path) -> Path:
    """``<name>.facts.yaml`` beside ``<name>.yaml``."""
    path = Path(scenario_path)
    return path.with_name(f"{path.stem}.facts.yaml")


def load_facts(path: str | Path) -> FactSheet:
    """Read and validate a fact sheet; errors name the file, line and location."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read the fact sheet: {exc.strerror}", file=str(file)) from None
    raw, lines = read_yaml(text, str(file))
    try:
        return FactSheet.model_validate(raw)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        raise ScenarioError(
            first["msg"], file=str(file), location=format_location(loc), line=line_for(lines, loc)
        ) from None


def rule_passes(facts: VoteFacts, yea: int, nay: int, *, seats: int | None = None) -> bool:
    """Whether a division passes under the cited rule (the engine's own arithmetic).

    ``yea`` counts votes for the motion; with ``polarity: against`` the motion is one against
    the deal (a resolution of disapproval), and "passes" means the motion carried. Relative to
    ``voting`` or ``present`` the base is yeas plus nays (members answering "present" are not
    counted).
    """
    base = (yea + nay) if facts.relative_to in ("voting", "present") else seats
    if base is None:
        raise ValueError("a rule relative to seats needs the number of seats")
    rule = vote_rule(facts.threshold, relative_to=facts.relative_to, ties=facts.ties)
    return bool(yea >= needed_votes(rule, base))


def _seats(loaded: LoadedScenario, side: str, chamber: str) -> tuple[int, dict[str, int]]:
    spec = next(c for s in loaded.spec.sides if s.name == side for c in s.chambers if c.name == chamber)
    table = loaded.member_tables.get((side, chamber))
    if table is not None:
        counts = table["bloc"].value_counts()
        return len(table), {str(k): int(v) for k, v in counts.items()}
    blocs = {b.name: int(b.seats or 0) for b in spec.blocs}
    return (spec.seats if spec.seats is not None else sum(blocs.values())), blocs


def check_facts(loaded: LoadedScenario, facts: FactSheet) -> list[str]:
    """Every disagreement between a scenario and its fact sheet (empty: they agree)."""
    spec = loaded.spec
    problems: list[str] = []
    if facts.scenario != spec.name:
        problems.append(f"fact sheet is for '{facts.scenario}', scenario is '{spec.name}'")
    chambers = {f"{s.name}.{c.name}": c for s in spec.sides for c in s.chambers}
    votes = {f"{s.name}.{v.name}": (s, v) for s in spec.sides for v in s.votes}
    deals = {d.name for d in spec.deals}
    sources = set(spec.sources)

    def cite(where: str, key: str) -> None:
        if key not in sources:
            problems.append(f"{where}: source '{key}' is not in the scenario's sources")

    for key, chamber in chambers.items():
        if chamber.kind != "referendum" and key not in facts.chambers:
            problems.append(f"chamber {key} has no entry in the fact sheet")
    for key, fact in facts.chambers.items():
        cite(f"chambers.{key}", fact.source)
        if key not in chambers:
            problems.append(f"chambers.{key}: no such chamber in the scenario")
            continue
        side, name = key.split(".", 1)
        seats, blocs = _seats(loaded, side, name)
        if sum(fact.blocs.values()) != fact.modelled:
            problems.append(
                f"chambers.{key}: blocs add up to {sum(fact.blocs.values())}, but body_size − vacancies − "
                f"left_out = {fact.modelled}"
            )
        if seats != fact.modelled:
            problems.append(
                f"chambers.{key}: scenario models {seats} seats, the record gives {fact.modelled}"
            )
        if blocs != fact.blocs:
            problems.append(f"chambers.{key}: scenario blocs {blocs} differ from the record's {fact.blocs}")
        if fact.weights is not None:
            weights = {b.name: int(getattr(b, "weight", None) or 1) for b in chambers[key].blocs}
            if weights != fact.weights:
                problems.append(
                    f"chambers.{key}: scenario bloc weights {weights} differ from the record's {fact.weights}"
                )
    for key in votes:
        if key not in facts.votes:
            problems.append(f"vote {key} has no entry in the fact sheet")
    for key, rule in facts.votes.items():
        cite(f"votes.{key}", rule.source)
        if key not in votes:
            problems.append(f"votes.{key}: no such vote in the scenario")
            continue
        vote = votes[key][1]
        for attr in ("threshold", "relative_to", "ties", "polarity"):
            want, got = getattr(rule, attr), getattr(vote, attr)
            if want != got or type(want) is not type(got):
                problems.append(f"votes.{key}.{attr}: scenario has {got!r}, the cited rule {want!r}")
    for k, division in enumerate(facts.recorded):
        where = f"recorded[{k}] ({division.vote})"
        cite(where, division.source)
        if division.deal not in deals:
            problems.append(f"{where}: deal '{division.deal}' is not in the scenario")
        if division.vote not in facts.votes or division.vote not in votes:
            problems.append(
                f"{where}: vote '{division.vote}' is not in the fact sheet's and scenario's votes"
            )
            continue
        rule = facts.votes[division.vote]
        side_spec, vote_spec = votes[division.vote]
        chamber_key = f"{side_spec.name}.{vote_spec.chamber}"
        if division.yea is None or division.nay is None:
            if division.yes_share is None:
                continue
            passed = division.yes_share > 0.5 if rule.polarity == "for" else division.yes_share <= 0.5
        else:
            members = division.members
            if members is None and chamber_key in facts.chambers:
                members = facts.chambers[chamber_key].body_size - facts.chambers[chamber_key].vacancies
            total = division.yea + division.nay + division.present + division.not_voting
            if members is not None and total != members:
                problems.append(
                    f"{where}: yea + nay + present + not voting = {total}, but the body had {members} members"
                )
            passed = rule_passes(rule, division.yea, division.nay, seats=members)
        if passed != division.passed:
            problems.append(
                f"{where}: under the cited rule the division {'passes' if passed else 'fails'}, "
                f"but the record says passed={division.passed}"
            )
    problems.extend(check_level_one(spec, facts.level_one, facts.weights, cite))
    sides = {s.name for s in spec.sides}
    deal_specs = {d.name: d for d in spec.deals}
    for k, outcome in enumerate(facts.outcome):
        where = f"outcome[{k}]"
        cite(where, outcome.source)
        if outcome.side is not None and outcome.side not in sides:
            problems.append(f"{where}: side '{outcome.side}' is not in the scenario")
        if outcome.deal not in deals:
            problems.append(f"{where}: deal '{outcome.deal}' is not in the scenario")
        elif outcome.side in sides:
            parties, _ = deal_rule(spec, deal_specs[outcome.deal])
            if outcome.side not in evaluated_sides(spec, parties):
                problems.append(f"{where}: side '{outcome.side}' is not a party of '{outcome.deal}'")
        cutoff = outcome.as_of or facts.as_of
        if cutoff >= outcome.date:
            problems.append(
                f"{where}: information cut-off {cutoff} is not before the outcome ({outcome.date})"
            )
    return problems
