"""Load and validate scenario files (YAML + CSV member tables).

Everything a user can get wrong is caught here, once, and reported as one
:class:`~riskmodel.errors.ScenarioError` naming the file, the line, the dotted location and
what was expected. Inside the package the returned :class:`LoadedScenario` is trusted.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic

from riskmodel.errors import ScenarioError, did_you_mean
from riskmodel.io import input_message, input_problem
from riskmodel.spec.members import load_member_table
from riskmodel.spec.multilateral import check_multilateral, scenario_digest, table_votes
from riskmodel.spec.priors import Fixed, Prior, prior_support
from riskmodel.spec.schema import (
    AllOf,
    AnyOf,
    AtLeastOf,
    Chamber,
    NotOf,
    Procedure,
    Scenario,
    Side,
)
from riskmodel.spec.yamlsource import LinePath, error_from_validation, line_for, named_location, read_yaml

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MAX_SCENARIO_BYTES", "LoadedScenario", "load_scenario", "parse_scenario"]

MAX_SCENARIO_BYTES = 2_000_000


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with its member tables.

    Attributes
    ----------
    spec
        The validated scenario.
    member_tables
        Member table per ``(side, chamber)`` for chambers that declare one; columns ``name``,
        ``bloc``, optional ``offset.<issue>`` numbers, and string attributes.
    path
        The scenario file, when loaded from disk.
    digest
        SHA-256 of the canonical scenario and its tables: identifies the inputs of a run.
    """

    spec: Scenario
    member_tables: Mapping[tuple[str, str], pd.DataFrame] = field(default_factory=dict)
    path: Path | None = None
    digest: str = ""


# --------------------------------------------------------------------------- semantic checks


class _Checker:
    """Cross-reference checks over a schema-valid scenario; raises on the first problem."""

    def __init__(self, spec: Scenario, raw: Any, file: str, lines: dict, base_dir: Path | None):
        self.spec = spec
        self.raw = raw
        self.file = file
        self.lines = lines
        self.base_dir = base_dir
        self.tables: dict[tuple[str, str], pd.DataFrame] = {}

    def fail(self, path: LinePath, message: str) -> typing.NoReturn:
        raise ScenarioError(
            message,
            file=self.file,
            location=named_location(self.raw, path),
            line=line_for(self.lines, path),
        )

    def unique(self, items: Sequence[Any], path: LinePath, what: str) -> None:
        seen: dict[str, int] = {}
        for i, item in enumerate(items):
            if item.name in seen:
                self.fail(
                    (*path, i, "name"),
                    f"duplicate {what} name '{item.name}' (also item {seen[item.name] + 1})",
                )
            seen[item.name] = i

    def issue_values(self, values: Mapping[str, float], path: LinePath, *, in_range: bool) -> None:
        issues = {issue.name: issue for issue in self.spec.issues}
        for key, value in values.items():
            if key not in issues:
                self.fail((*path, key), f"unknown issue '{key}'{did_you_mean(key, issues)}")
            lo, hi = issues[key].range
            if in_range and not lo <= value <= hi:
                self.fail((*path, key), f"{value} is outside the issue's range [{lo}, {hi}]")
        for name in issues:
            if name not in values:
                self.fail(path, f"missing a value for issue '{name}'")

    def prior_domain(self, prior: Prior, path: LinePath, lo: float, hi: float, what: str) -> None:
        p_lo, p_hi = prior_support(prior)
        if p_lo < lo or p_hi > hi:
            rng = f"[{lo}, {hi}]" if math.isfinite(hi) else f">= {lo}"
            shown = prior.value if isinstance(prior, Fixed) else prior
            self.fail(path, f"{what} must lie in {rng}; this prior allows values outside it ({shown})")

    def preferences(self, prefs: Any, path: LinePath) -> None:
        self.issue_values(prefs.ideal, (*path, "ideal"), in_range=False)
        issues = [issue.name for issue in self.spec.issues]
        salience = prefs.salience
        if salience is None:
            return
        weights = salience.dirichlet if hasattr(salience, "dirichlet") else salience
        sal_path = (*path, "salience", "dirichlet") if hasattr(salience, "dirichlet") else (*path, "salience")
        for key in weights:
            if key not in issues:
                self.fail((*sal_path, key), f"unknown issue '{key}'{did_you_mean(key, issues)}")
        if hasattr(salience, "dirichlet"):
            for name in issues:
                if name not in weights:
                    self.fail(sal_path, f"a Dirichlet salience needs a concentration for issue '{name}'")
        elif sum(weights.values()) <= 0:
            self.fail(sal_path, "salience weights must not all be zero")

    def spread(self, spread: Any, path: LinePath) -> None:
        if isinstance(spread, Mapping):
            issues = [issue.name for issue in self.spec.issues]
            for key, prior in spread.items():
                if key not in issues:
                    self.fail((*path, key), f"unknown issue '{key}'{did_you_mean(key, issues)}")
                self.prior_domain(prior, (*path, key), 0, math.inf, "a spread")
        else:
            self.prior_domain(spread, path, 0, math.inf, "a spread")

    def run(self) -> None:
        spec = self.spec
        self.unique(spec.issues, ("issues",), "issue")
        self.unique(spec.deals, ("deals",), "deal")
        self.unique(spec.sides, ("sides",), "side")
        for d, deal in enumerate(spec.deals):
            self.issue_values(deal.values, ("deals", d, "values"), in_range=True)
        issue_names = [issue.name for issue in spec.issues]
        pairs = set()
        for k, link in enumerate(spec.links):
            for j, name in enumerate(link.issues):
                if name not in issue_names:
                    self.fail(
                        ("links", k, "issues", j), f"unknown issue '{name}'{did_you_mean(name, issue_names)}"
                    )
            if link.issues[0] == link.issues[1]:
                self.fail(("links", k, "issues"), "a link joins two different issues")
            for name in set(link.issues) & {issue.name for issue in spec.issues if issue.shape == "linear"}:
                self.fail(("links", k, "issues"), f"issue {name} is linear (a cue); only quadratic ones link")
            pair = frozenset(link.issues)
            if pair in pairs:
                self.fail(
                    ("links", k, "issues"), f"issues {link.issues[0]} and {link.issues[1]} are linked twice"
                )
            pairs.add(pair)
            p_lo, p_hi = prior_support(link.interaction)
            if p_lo <= -1 or p_hi >= 1:
                self.fail(("links", k, "interaction"), "an interaction must lie strictly inside (-1, 1)")
        check_multilateral(spec, self.fail, self.issue_values)
        for s, side in enumerate(spec.sides):
            self.side(side, ("sides", s))

    def side(self, side: Side, path: LinePath) -> None:
        if side.reversion is not None:
            self.issue_values(side.reversion, (*path, "reversion"), in_range=True)
        self.unique(side.chambers, (*path, "chambers"), "chamber")
        self.unique(side.votes, (*path, "votes"), "vote")
        self.unique(side.lobbies, (*path, "lobbies"), "lobby")
        blocs: dict[str, tuple[str, int]] = {}
        for c, chamber in enumerate(side.chambers):
            for b, bloc in enumerate(chamber.blocs):
                if bloc.name in blocs:
                    self.fail(
                        (*path, "chambers", c, "blocs", b, "name"),
                        f"duplicate bloc name '{bloc.name}' in side '{side.name}' "
                        "(bloc names must be unique within a side)",
                    )
                blocs[bloc.name] = (chamber.name, b)
            self.chamber(side, chamber, (*path, "chambers", c))
        if side.public is not None:
            self.preferences(side.public, (*path, "public"))
            self.spread(side.public.spread, (*path, "public", "spread"))
        if side.chief is not None:
            self.preferences(side.chief, (*path, "chief"))
        chambers = {chamber.name: chamber for chamber in side.chambers}
        for v, vote in enumerate(side.votes):
            self.vote(vote, chambers, (*path, "votes", v))
        if side.procedure is not None:
            self.procedure(side.procedure, [v.name for v in side.votes], (*path, "procedure"))
        for j, lobby in enumerate(side.lobbies):
            lpath = (*path, "lobbies", j)
            self.preferences(lobby, lpath)
            self.prior_domain(lobby.influence, (*lpath, "influence"), 0, math.inf, "an influence")
            reach = lobby.reaches
            for i, name in enumerate(reach.chambers or []):
                if name not in chambers:
                    self.fail(
                        (*lpath, "reaches", "chambers", i),
                        f"unknown chamber '{name}'{did_you_mean(name, chambers)}",
                    )
            for i, name in enumerate(reach.blocs or []):
                if name not in blocs:
                    self.fail(
                        (*lpath, "reaches", "blocs", i), f"unknown bloc '{name}'{did_you_mean(name, blocs)}"
                    )
            for attribute in reach.where or {}:
                columns = {
                    col
                    for (s_name, _), table in self.tables.items()
                    if s_name == side.name
                    for col in table.columns
                }
                if attribute not in columns:
                    self.fail(
                        (*lpath, "reaches", "where", attribute),
                        f"no member table of side '{side.name}' has a column '{attribute}'"
                        f"{did_you_mean(attribute, columns)}",
                    )

    def chamber(self, side: Side, chamber: Chamber, path: LinePath) -> None:
        self.prior_domain(chamber.absence, (*path, "absence"), 0, 1, "an absence probability")
        self.prior_domain(chamber.turnout, (*path, "turnout"), 0, 1, "a turnout")
        self.prior_domain(chamber.shock_scale, (*path, "shock_scale"), 0, math.inf, "a shock scale")
        self.prior_domain(chamber.campaign_shock, (*path, "campaign_shock"), 0, math.inf, "a campaign shock")
        if chamber.kind == "referendum":
            if chamber.blocs or chamber.members:
                self.fail(path, "a referendum chamber is the public: it takes no blocs or member table")
            if side.public is None:
                self.fail(path, f"a referendum needs the side's 'public' to be declared (side '{side.name}')")
            return
        if chamber.quorum is not None:
            self.fail((*path, "quorum"), "a quorum applies only to referendum chambers")
        table = self.member_table(side, chamber, path) if chamber.members else None
        if chamber.groups is not None:  # the schema requires a member table with them
            self.spread(chamber.groups.spread, (*path, "groups", "spread"))
        counts = {}
        for b, bloc in enumerate(chamber.blocs):
            bpath = (*path, "blocs", b)
            self.preferences(bloc, bpath)
            self.spread(bloc.spread, (*bpath, "spread"))
            self.prior_domain(
                bloc.responsiveness, (*bpath, "responsiveness"), 0, math.inf, "a responsiveness"
            )
            in_table = int((table["bloc"] == bloc.name).sum()) if table is not None else 0
            if bloc.seats is not None and in_table:
                self.fail(
                    (*bpath, "seats"),
                    f"bloc '{bloc.name}' has both 'seats' and {in_table} rows in the member table; give one",
                )
            counts[bloc.name] = bloc.seats if bloc.seats is not None else in_table
        total = sum(counts.values())
        if total == 0:
            self.fail(
                path, f"chamber '{chamber.name}' has no members: give blocs with seats or a member table"
            )
        if chamber.seats is not None and chamber.seats != total:
            detail = ", ".join(f"{name} {count}" for name, count in counts.items())
            self.fail(
                (*path, "seats"), f"declared {chamber.seats} seats but the blocs hold {total} ({detail})"
            )

    def member_table(self, side: Side, chamber: Chamber, path: LinePath) -> pd.DataFrame:
        assert chamber.members is not None
        table = load_member_table(
            chamber.members,
            self.base_dir or Path.cwd(),
            bloc_names=[bloc.name for bloc in chamber.blocs],
            issue_names=[issue.name for issue in self.spec.issues],
            required=[chamber.groups.column] if chamber.groups is not None else [],
            fail=lambda message: self.fail((*path, "members"), message),
        )
        self.tables[(side.name, chamber.name)] = table
        return table

    def vote(self, vote: Any, chambers: Mapping[str, Chamber], path: LinePath) -> None:
        if vote.chamber not in chambers:
            self.fail(
                (*path, "chamber"), f"unknown chamber '{vote.chamber}'{did_you_mean(vote.chamber, chambers)}"
            )
        chamber = chambers[vote.chamber]
        if chamber.kind == "referendum":
            if isinstance(vote.threshold, int) and not isinstance(vote.threshold, bool):
                self.fail((*path, "threshold"), "a referendum threshold is a rule or a fraction, not a count")
            if vote.relative_to == "seats":
                self.fail((*path, "relative_to"), "a referendum counts those voting; use relative_to: voting")
            return
        seats = self._seat_count(chamber)
        if isinstance(vote.threshold, int) and vote.threshold > seats:
            self.fail(
                (*path, "threshold"), f"threshold {vote.threshold} is above the chamber's {seats} seats"
            )

    def _seat_count(self, chamber: Chamber) -> int:
        total = 0
        for bloc in chamber.blocs:  # votes: weighted seats
            total += (bloc.seats or 0) * bloc.weight
        for (_, name), table in self.tables.items():
            if name == chamber.name:
                total += table_votes(table, {b.name: b.weight for b in chamber.blocs})
        return total

    def procedure(self, proc: Procedure, votes: Sequence[str], path: LinePath) -> None:
        match proc:
            case str():
                if proc not in votes:
                    self.fail(
                        path,
                        f"the procedure names a vote '{proc}' that the side does not declare"
                        f"{did_you_mean(proc, votes)}",
                    )
            case AllOf(all=items):
                for i, item in enumerate(items):
                    self.procedure(item, votes, (*path, "all", i))
            case AnyOf(any=items):
                for i, item in enumerate(items):
                    self.procedure(item, votes, (*path, "any", i))
            case NotOf(not_=item):
                self.procedure(item, votes, (*path, "not"))
            case AtLeastOf(at_least=spec):
                if spec.k > len(spec.of):
                    self.fail(
                        (*path, "at_least", "k"), f"k = {spec.k} exceeds the {len(spec.of)} clauses listed"
                    )
                for i, item in enumerate(spec.of):
                    self.procedure(item, votes, (*path, "at_least", "of", i))


# --------------------------------------------------------------------------- entry points


def parse_scenario(
    text: str, *, file: str | Path = "<scenario>", base_dir: Path | None = None
) -> LoadedScenario:
    """Validate scenario YAML text (member tables are read relative to ``base_dir``)."""
    file = str(file)
    raw, lines = read_yaml(text, file)
    if not isinstance(raw, Mapping):
        raise ScenarioError("expected a mapping (key: value pairs) at the top of the file", file=file, line=1)
    try:
        spec = Scenario.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise error_from_validation(exc, raw, file, lines) from None
    checker = _Checker(spec, raw, file, lines, base_dir)
    checker.run()
    digest = scenario_digest(spec, checker.tables)
    return LoadedScenario(spec=spec, member_tables=dict(checker.tables), digest=digest)


def load_scenario(path: str | Path) -> LoadedScenario:
    """Load and validate a scenario file.

    Parameters
    ----------
    path
        A YAML scenario file; member tables it names are read relative to its folder.

    Returns
    -------
    LoadedScenario

    Raises
    ------
    ScenarioError
        Naming the file, line and location of the first problem found.
    """
    path = Path(path)
    problem = input_problem(path)
    if problem is not None:
        raise ScenarioError(input_message(problem, "scenario"), file=path)
    size = path.stat().st_size
    if size > MAX_SCENARIO_BYTES:
        raise ScenarioError(
            f"file is {size:,} bytes; scenario files are limited to {MAX_SCENARIO_BYTES:,} bytes "
            "(put member data in CSV member tables)",
            file=path,
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path) from None
    loaded = parse_scenario(text, file=path, base_dir=path.parent)
    return LoadedScenario(
        spec=loaded.spec, member_tables=loaded.member_tables, path=path, digest=loaded.digest
    )
