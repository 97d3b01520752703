"""Load a shocks file and check it against its scenario: every name it uses must exist there.

:func:`load_shocks` and :func:`parse_shocks` are the entry points; the schema is
:mod:`riskmodel.spec.shocks`. Each problem is raised through ``fail(path, message)``, which
locates it in the file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from riskmodel.errors import did_you_mean
from riskmodel.io import input_message, input_problem
from riskmodel.spec.priors import prior_sd
from riskmodel.spec.scenario import LoadedScenario
from riskmodel.spec.schema import AllOf, AnyOf, AtLeastOf, NotOf, Side
from riskmodel.spec.shocks import (
    MAX_SHOCKS_BYTES,
    AddVeto,
    FlipLobby,
    MoveSeats,
    RemoveVeto,
    ScaleLobby,
    SetSeats,
    SetThreshold,
    ShiftApproval,
    ShiftBloc,
    ShiftChief,
    ShiftLobby,
    ShiftPublic,
    ShockFile,
    ShocksError,
    ShockSet,
    read_shock_file,
)
from riskmodel.spec.yamlsource import LinePath, line_for, named_location

__all__ = ["check_shocks", "load_shocks", "parse_shocks", "vote_polarities"]

Fail = Callable[[LinePath, str], ShocksError]


def vote_polarities(procedure: Any, votes: list[str], positive: bool = True) -> Iterator[tuple[str, bool]]:
    """Yield ``(vote, positive)`` for every vote the procedure names (``None``: all votes)."""
    match procedure:
        case None:
            for vote in votes:
                yield vote, positive
        case str():
            yield procedure, positive
        case AllOf(all=items) | AnyOf(any=items):
            for item in items:
                yield from vote_polarities(item, votes, positive)
        case AtLeastOf(at_least=spec):
            for item in spec.of:
                yield from vote_polarities(item, votes, positive)
        case NotOf(not_=item):
            yield from vote_polarities(item, votes, not positive)


def _known(
    value: str, choices: dict[str, Any], path: LinePath, what: str, fail: Fail, owner: str = "the side"
) -> None:
    if value not in choices:
        listed = ", ".join(choices) or "none"
        raise fail(path, f"unknown {what} '{value}'{did_you_mean(value, choices)}; {owner} has: {listed}")


def _check_shift(shock: Any, prior: Any, path: LinePath, what: str, fail: Fail) -> None:
    if shock.sd is not None and prior_sd(prior) == 0:
        raise fail(
            (*path, "sd"), f"{what}'s ideal point on '{shock.issue}' is fixed; give 'by' in issue units"
        )


def _check_one(shock: Any, side: Side, issues: list[str], path: LinePath, fail: Fail) -> None:
    blocs = {bloc.name: (chamber, bloc) for chamber in side.chambers for bloc in chamber.blocs}
    lobbies = {lobby.name: lobby for lobby in side.lobbies}
    votes = {vote.name: vote for vote in side.votes}
    chambers = {chamber.name: chamber for chamber in side.chambers}
    if hasattr(shock, "issue") and shock.issue not in issues:
        raise fail((*path, "issue"), f"unknown issue '{shock.issue}'{did_you_mean(shock.issue, issues)}")
    match shock:
        case ShiftBloc():
            _known(shock.bloc, blocs, (*path, "bloc"), "bloc", fail)
            _check_shift(shock, blocs[shock.bloc][1].ideal[shock.issue], path, f"bloc '{shock.bloc}'", fail)
        case ShiftLobby() | ScaleLobby() | FlipLobby():
            _known(shock.lobby, lobbies, (*path, "lobby"), "lobby", fail)
            if isinstance(shock, ShiftLobby):
                _check_shift(
                    shock, lobbies[shock.lobby].ideal[shock.issue], path, f"lobby '{shock.lobby}'", fail
                )
        case ShiftPublic() | ShiftApproval():
            if side.public is None:
                raise fail((*path, "side"), f"side '{side.name}' declares no public")
            if isinstance(shock, ShiftPublic):
                _check_shift(shock, side.public.ideal[shock.issue], path, "the public", fail)
        case ShiftChief():
            if side.chief is None:
                raise fail((*path, "side"), f"side '{side.name}' declares no chief")
            _check_shift(shock, side.chief.ideal[shock.issue], path, "the chief", fail)
        case SetSeats() | MoveSeats():
            fields = ("bloc",) if isinstance(shock, SetSeats) else ("from_bloc", "to_bloc")
            for field in fields:
                name = getattr(shock, field)
                _known(name, blocs, (*path, field), "bloc", fail)
                if blocs[name][1].seats is None:
                    raise fail(
                        (*path, field),
                        f"bloc '{name}' takes its members from a member table; seats cannot change",
                    )
            if isinstance(shock, MoveSeats):
                (home, source), (other, _) = blocs[shock.from_bloc], blocs[shock.to_bloc]
                if home.name != other.name or shock.from_bloc == shock.to_bloc:
                    raise fail(
                        (*path, "to_bloc"), "seats move between two different blocs of the same chamber"
                    )
                if (source.seats or 0) < shock.seats:
                    raise fail((*path, "seats"), f"bloc '{shock.from_bloc}' has only {source.seats} seats")
        case SetThreshold():
            _known(shock.vote, votes, (*path, "vote"), "vote", fail)
            chamber = chambers[votes[shock.vote].chamber]
            count = isinstance(shock.threshold, int) and not isinstance(shock.threshold, bool)
            if chamber.kind == "referendum" and (count or shock.relative_to == "seats"):
                raise fail(
                    (*path, "threshold"), "a referendum threshold is a rule or a fraction of those voting"
                )
            seats = sum(bloc.seats or 0 for bloc in chamber.blocs) or chamber.seats or 0
            if count and int(shock.threshold) > seats:
                raise fail(
                    (*path, "threshold"), f"threshold {shock.threshold} is above the chamber's {seats} seats"
                )
        case AddVeto():
            taken = set(chambers) | set(votes) | set(blocs)
            if shock.player in taken:
                raise fail(
                    (*path, "player"),
                    f"side '{side.name}' already has a chamber, vote or bloc '{shock.player}'",
                )
            for key in list(shock.ideal) + list(getattr(shock.salience, "dirichlet", shock.salience) or {}):
                if key not in issues:
                    raise fail((*path, "ideal"), f"unknown issue '{key}'{did_you_mean(key, issues)}")
            missing = [issue for issue in issues if issue not in shock.ideal]
            if missing:
                raise fail((*path, "ideal"), f"missing an ideal point for issue '{missing[0]}'")
        case RemoveVeto():
            _known(shock.vote, votes, (*path, "vote"), "vote", fail)
            uses = [
                positive
                for vote, positive in vote_polarities(side.procedure, list(votes))
                if vote == shock.vote
            ]
            if not uses or not all(uses):
                raise fail(
                    (*path, "vote"),
                    f"vote '{shock.vote}' is not a veto in side '{side.name}': "
                    "the procedure must need it to pass",
                )


def check_shocks(spec: ShockFile, scenario: LoadedScenario, fail: Fail) -> None:
    """Raise ``fail(path, message)`` for the first shock that does not fit the scenario."""
    sides = {side.name: side for side in scenario.spec.sides}
    issues = [issue.name for issue in scenario.spec.issues]
    seen: dict[str, int] = {}
    for i, shock in enumerate(spec.shocks):
        path: LinePath = ("shocks", i)
        if shock.name in seen:
            raise fail(
                (*path, "name"), f"duplicate shock name '{shock.name}' (also shock {seen[shock.name] + 1})"
            )
        seen[shock.name] = i
        _known(shock.side, sides, (*path, "side"), "side", fail, owner="the scenario")
        _check_one(shock, sides[shock.side], issues, path, fail)
    combos: set[str] = set()
    for i, combo in enumerate(spec.combinations):
        path = ("combinations", i)
        if combo.name in seen or combo.name in combos:
            raise fail((*path, "name"), f"the name '{combo.name}' is already used by a shock or combination")
        combos.add(combo.name)
        players: set[tuple[str, str]] = set()
        for j, name in enumerate(combo.shocks):
            if name not in seen:
                raise fail((*path, "shocks", j), f"unknown shock '{name}'{did_you_mean(name, seen)}")
            if combo.shocks.index(name) != j:
                raise fail((*path, "shocks", j), f"shock '{name}' is listed twice")
            shock = spec.shocks[seen[name]]
            if isinstance(shock, AddVeto):
                if (shock.side, shock.player) in players:
                    raise fail((*path, "shocks", j), f"two shocks add the veto player '{shock.player}'")
                players.add((shock.side, shock.player))


# --------------------------------------------------------------------------- entry points


def parse_shocks(text: str, scenario: LoadedScenario, *, file: str | Path = "<shocks>") -> ShockSet:
    """Validate shocks YAML text and check every shock against the scenario."""
    file = str(file)
    spec, raw, lines = read_shock_file(text, file)

    def fail(path: LinePath, message: str) -> ShocksError:
        return ShocksError(message, file=file, location=named_location(raw, path), line=line_for(lines, path))

    check_shocks(spec, scenario, fail)
    return ShockSet(spec=spec)


def load_shocks(path: str | Path, scenario: LoadedScenario) -> ShockSet:
    """Load a shocks file and check it against the scenario.

    Raises
    ------
    ShocksError
        Naming the file, line and location of the first problem found.
    """
    path = Path(path)
    problem = input_problem(path)
    if problem is not None:
        raise ShocksError(input_message(problem, "shocks"), file=path)
    if path.stat().st_size > MAX_SHOCKS_BYTES:
        raise ShocksError(f"file is larger than {MAX_SHOCKS_BYTES:,} bytes", file=path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ShocksError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path) from None
    except OSError as exc:
        raise ShocksError(f"cannot be read: {exc.strerror or exc}", file=path) from None
    loaded = parse_shocks(text, scenario, file=path)
    return ShockSet(spec=loaded.spec, path=path)
