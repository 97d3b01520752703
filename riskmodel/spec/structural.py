"""Structural shocks as scenario edits: seats, thresholds and veto players.

Seat changes, thresholds and veto players change the scenario itself, so the shocked scenario
is a modified spec (``spec.model_copy(update=...)``) with a digest of its own. Carrying draws
and worlds over to it is :mod:`riskmodel.worlds.realign`; ``remove_veto`` leaves the scenario
alone and changes the compiled procedures (:func:`riskmodel.worlds.rules.drop_vetoes`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from riskmodel.spec.scenario import LoadedScenario
from riskmodel.spec.schema import AllOf, Bloc, Chamber, Scenario, Side, Vote
from riskmodel.spec.shocks import AddVeto, MoveSeats, SetSeats, SetThreshold, ShocksError

__all__ = ["restructured_scenario"]


def _map_side(spec: Scenario, side_name: str, change: Callable[[Side], Side]) -> Scenario:
    sides = [change(side) if side.name == side_name else side for side in spec.sides]
    return spec.model_copy(update={"sides": sides})


def _reseat(side: Side, seats: dict[str, int], where: str) -> Side:
    """The side with new seat counts for some blocs; declared chamber sizes follow."""
    chambers = []
    for chamber in side.chambers:
        blocs = [
            b.model_copy(update={"seats": seats[b.name]}) if b.name in seats else b for b in chamber.blocs
        ]
        update: dict[str, Any] = {"blocs": blocs}
        if chamber.seats is not None:
            update["seats"] = chamber.seats + sum(
                (n.seats or 0) - (o.seats or 0) for n, o in zip(blocs, chamber.blocs, strict=True)
            )
            if update["seats"] < 1:
                raise ShocksError(f"{where}: chamber '{chamber.name}' would have no seats left")
        chambers.append(chamber.model_copy(update=update))
    return side.model_copy(update={"chambers": chambers})


def _seats_of(side: Side, bloc: str) -> int:
    return next(b.seats or 0 for chamber in side.chambers for b in chamber.blocs if b.name == bloc)


def _edit(spec: Scenario, shock: Any, where: str) -> Scenario:
    def change(side: Side) -> Side:
        match shock:
            case SetSeats():
                return _reseat(side, {shock.bloc: shock.seats}, where)
            case MoveSeats():
                left = _seats_of(side, shock.from_bloc) - shock.seats
                if left < 0:
                    raise ShocksError(
                        f"{where}: bloc '{shock.from_bloc}' has too few seats to give {shock.seats}"
                    )
                right = _seats_of(side, shock.to_bloc) + shock.seats
                return _reseat(side, {shock.from_bloc: left, shock.to_bloc: right}, where)
            case SetThreshold():
                extra = {} if shock.relative_to is None else {"relative_to": shock.relative_to}
                votes = [
                    v.model_copy(update={"threshold": shock.threshold, **extra})
                    if v.name == shock.vote
                    else v
                    for v in side.votes
                ]
                return side.model_copy(update={"votes": votes})
            case AddVeto():
                bloc = Bloc(
                    name=shock.player,
                    seats=1,
                    ideal=shock.ideal,
                    salience=shock.salience,
                    party_pull=shock.party_pull,
                    responsiveness=shock.responsiveness,
                )
                chamber = Chamber(
                    name=shock.player,
                    kind="veto_player",
                    seats=1,
                    blocs=[bloc],
                    absence=shock.absence,
                    shock_scale=shock.shock_scale,
                )
                procedure = (
                    side.procedure if side.procedure is None else AllOf(all=[side.procedure, shock.player])
                )
                return side.model_copy(
                    update={
                        "chambers": [*side.chambers, chamber],
                        "votes": [*side.votes, Vote(name=shock.player, chamber=shock.player)],
                        "procedure": procedure,
                    }
                )
        return side

    return _map_side(spec, shock.side, change)


def restructured_scenario(scenario: LoadedScenario, shocks: Sequence[Any], *, where: str) -> LoadedScenario:
    """The scenario with the structural shocks applied in order (``remove_veto`` aside)."""
    spec = scenario.spec
    for shock in shocks:
        spec = _edit(spec, shock, where)
    hasher = hashlib.sha256(scenario.digest.encode())
    hasher.update(json.dumps([s.model_dump(mode="json") for s in shocks], sort_keys=True).encode())
    return LoadedScenario(
        spec=spec, member_tables=scenario.member_tables, path=scenario.path, digest=hasher.hexdigest()
    )
