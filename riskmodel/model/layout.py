"""Index a validated scenario: the order of sides, chambers, blocs, members, lobbies and votes.

Every array in the model, the worlds and the engine uses these orders; their names become the
coordinates of the PyMC model and of the results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskmodel.spec.multilateral import deal_parties, member_weights
from riskmodel.spec.scenario import LoadedScenario
from riskmodel.spec.schema import Bloc, Chamber, Chief, Lobby, Public, Side, Vote

__all__ = ["Layout", "build_layout"]


@dataclass(frozen=True)
class Layout:
    """The scenario's entities in a fixed order, with the index arrays that join them."""

    scenario: LoadedScenario
    issues: list[str]
    issue_low: npt.NDArray[np.float64]
    issue_span: npt.NDArray[np.float64]
    # True for a linear issue (a cue): no distance penalty in any actor's utility
    issue_linear: npt.NDArray[np.bool_]
    link_pairs: npt.NDArray[np.int64]
    links: list[str]
    sides: list[str]
    side_specs: list[Side]
    chambers: list[str]
    chamber_specs: list[Chamber]
    chamber_side: npt.NDArray[np.int64]
    referendum_chambers: npt.NDArray[np.int64]
    blocs: list[str]
    bloc_specs: list[Bloc]
    bloc_side: npt.NDArray[np.int64]
    members: list[str]
    member_bloc: npt.NDArray[np.int64]
    member_chamber: npt.NDArray[np.int64]
    member_offset: npt.NDArray[np.float64]
    lobbies: list[str]
    lobby_specs: list[Lobby]
    lobby_side: npt.NDArray[np.int64]
    lobby_reach: npt.NDArray[np.bool_]
    publics: list[str]
    public_specs: list[Public]
    public_side: npt.NDArray[np.int64]
    chiefs: list[str]
    chief_specs: list[Chief]
    chief_side: npt.NDArray[np.int64]
    votes: list[str]
    vote_specs: list[Vote]
    vote_side: npt.NDArray[np.int64]
    vote_chamber: npt.NDArray[np.int64]
    reversion: npt.NDArray[np.float64]
    deals: list[str]
    deal_values: npt.NDArray[np.float64]
    member_weight: npt.NDArray[np.int64] | None = None
    member_lead: npt.NDArray[np.int64] | None = None
    deal_parties: tuple[tuple[str, ...], ...] = ()
    # chambers' member groups (``groups:``): names "side.chamber.value", each group's chamber,
    # and each member's group (−1: none)
    groups: tuple[str, ...] = ()
    group_chamber: npt.NDArray[np.int64] | None = None
    member_group: npt.NDArray[np.int64] | None = None

    @property
    def seats(self) -> npt.NDArray[np.int64]:
        """Votes per chamber: members, or their weights when weighted (0 for referendums)."""
        return np.bincount(
            self.member_chamber, weights=self.member_weight, minlength=len(self.chambers)
        ).astype(np.int64)

    def member_index(self, side: str, chamber: str) -> dict[str, int]:
        """Positions in :attr:`members` of one chamber's members, by their name in its member table."""
        prefix = f"{side}.{chamber}."
        return {n.removeprefix(prefix): m for m, n in enumerate(self.members) if n.startswith(prefix)}

    def to_unit(self, values: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Rescale issue values (..., K) from the issues' own units to [0, 1]."""
        return (np.asarray(values, dtype=np.float64) - self.issue_low) / self.issue_span

    def deal_matrix(self, deals: pd.DataFrame | None = None) -> npt.NDArray[np.float64]:
        """Deal values (N, K) in issue units; the scenario's named deals by default."""
        if deals is None:
            return self.deal_values
        return deals[self.issues].to_numpy(dtype=np.float64)


def build_layout(scenario: LoadedScenario) -> Layout:
    """Fix the order of every entity of a validated scenario."""
    spec = scenario.spec
    issues = [issue.name for issue in spec.issues]
    issue_index = {name: k for k, name in enumerate(issues)}
    low = np.array([issue.range[0] for issue in spec.issues], dtype=np.float64)
    span = np.array([issue.range[1] - issue.range[0] for issue in spec.issues], dtype=np.float64)
    link_pairs = np.array(
        [[issue_index[a], issue_index[b]] for a, b in (link.issues for link in spec.links)], dtype=np.int64
    ).reshape(-1, 2)

    chambers: list[str] = []
    chamber_specs: list[Chamber] = []
    chamber_side: list[int] = []
    blocs: list[str] = []
    bloc_specs: list[Bloc] = []
    bloc_side: list[int] = []
    members: list[str] = []
    member_bloc: list[int] = []
    member_chamber: list[int] = []
    offsets: list[npt.NDArray[np.float64]] = []
    weights: list[int] = []
    lead: list[int] = []  # the member whose vote each member casts (itself unless its bloc is a block)
    attributes: list[dict[str, str]] = []
    lobbies, lobby_specs, lobby_side = [], [], []
    publics, public_specs, public_side = [], [], []
    chiefs, chief_specs, chief_side = [], [], []
    votes: list[str] = []
    vote_specs: list[Vote] = []
    vote_side: list[int] = []
    vote_chamber: list[int] = []
    for s, side in enumerate(spec.sides):
        side_chambers: dict[str, int] = {}
        for chamber in side.chambers:
            c = len(chambers)
            side_chambers[chamber.name] = c
            chambers.append(f"{side.name}.{chamber.name}")
            chamber_specs.append(chamber)
            chamber_side.append(s)
            table = scenario.member_tables.get((side.name, chamber.name))
            for bloc in chamber.blocs:
                b = len(blocs)
                first = len(members)
                blocs.append(f"{side.name}.{bloc.name}")
                bloc_specs.append(bloc)
                bloc_side.append(s)
                for seat in range(bloc.seats or 0):
                    weights.append(bloc.weight)
                    lead.append(first if bloc.block else len(members))
                    members.append(f"{side.name}.{chamber.name}.{bloc.name}-{seat + 1:03d}")
                    member_bloc.append(b)
                    member_chamber.append(c)
                    offsets.append(np.zeros(len(issues)))
                    attributes.append({"side": side.name, "chamber": chamber.name, "bloc": bloc.name})
                if table is not None:
                    rows = table[table["bloc"] == bloc.name]
                    weights.extend(member_weights(rows, {bloc.name: bloc.weight}))
                    for _, row in rows.iterrows():
                        lead.append(first if bloc.block else len(members))
                        members.append(f"{side.name}.{chamber.name}.{row['name']}")
                        member_bloc.append(b)
                        member_chamber.append(c)
                        offsets.append(np.array([float(row.get(f"offset.{name}", 0.0)) for name in issues]))
                        attributes.append(
                            {
                                **{
                                    str(k): str(v) for k, v in row.items() if not str(k).startswith("offset.")
                                },
                                "side": side.name,
                                "chamber": chamber.name,
                            }
                        )
        for lobby in side.lobbies:
            lobbies.append(f"{side.name}.{lobby.name}")
            lobby_specs.append(lobby)
            lobby_side.append(s)
        if side.public is not None:
            publics.append(side.name)
            public_specs.append(side.public)
            public_side.append(s)
        if side.chief is not None:
            chiefs.append(side.name)
            chief_specs.append(side.chief)
            chief_side.append(s)
        for vote in side.votes:
            votes.append(f"{side.name}.{vote.name}")
            vote_specs.append(vote)
            vote_side.append(s)
            vote_chamber.append(side_chambers[vote.chamber])

    member_table = pd.DataFrame(attributes)
    reach = np.zeros((len(lobbies), len(members)), dtype=bool)
    for j, lobby in enumerate(lobby_specs):
        side_name = spec.sides[lobby_side[j]].name
        mask = (member_table["side"] == side_name).to_numpy().copy() if len(members) else np.zeros(0, bool)
        if lobby.reaches.chambers is not None:
            mask &= member_table["chamber"].isin(lobby.reaches.chambers).to_numpy()
        if lobby.reaches.blocs is not None:
            mask &= member_table["bloc"].isin(lobby.reaches.blocs).to_numpy()
        for attribute, allowed in (lobby.reaches.where or {}).items():
            column = member_table.get(attribute)
            values = column.fillna("").astype(str) if column is not None else pd.Series([""] * len(members))
            mask &= values.isin([str(a) for a in allowed]).to_numpy()
        reach[j] = mask

    groups, group_chamber, member_group = _groups(chamber_specs, chambers, member_chamber, attributes)
    as_int = lambda values: np.asarray(values, dtype=np.int64)  # noqa: E731
    referendums = [c for c, chamber in enumerate(chamber_specs) if chamber.kind == "referendum"]
    return Layout(
        scenario=scenario,
        issues=issues,
        issue_low=low,
        issue_span=span,
        issue_linear=np.array([issue.shape == "linear" for issue in spec.issues], dtype=bool),
        link_pairs=link_pairs,
        links=[f"{a}*{b}" for a, b in (link.issues for link in spec.links)],
        sides=[side.name for side in spec.sides],
        side_specs=list(spec.sides),
        chambers=chambers,
        chamber_specs=chamber_specs,
        chamber_side=as_int(chamber_side),
        referendum_chambers=as_int(referendums),
        blocs=blocs,
        bloc_specs=bloc_specs,
        bloc_side=as_int(bloc_side),
        members=members,
        member_bloc=as_int(member_bloc),
        member_chamber=as_int(member_chamber),
        member_offset=np.asarray(offsets, dtype=np.float64).reshape(len(members), len(issues)),
        lobbies=lobbies,
        lobby_specs=lobby_specs,
        lobby_side=as_int(lobby_side),
        lobby_reach=reach,
        publics=publics,
        public_specs=public_specs,
        public_side=as_int(public_side),
        chiefs=chiefs,
        chief_specs=chief_specs,
        chief_side=as_int(chief_side),
        votes=votes,
        vote_specs=vote_specs,
        vote_side=as_int(vote_side),
        vote_chamber=as_int(vote_chamber),
        # a nested side without Level II of its own has no reversion; nothing reads its row
        reversion=np.array(
            [
                [(side.reversion or {}).get(name, low[k]) for k, name in enumerate(issues)]
                for side in spec.sides
            ]
        ),
        deals=[deal.name for deal in spec.deals],
        deal_values=np.array([[deal.values[name] for name in issues] for deal in spec.deals]),
        member_weight=as_int(weights) if any(w != 1 for w in weights) else None,
        member_lead=as_int(lead) if any(j != m for m, j in enumerate(lead)) else None,
        deal_parties=tuple(tuple(parties) for parties in deal_parties(spec)),
        groups=groups,
        group_chamber=group_chamber,
        member_group=member_group,
    )


def _groups(
    chamber_specs: list[Chamber],
    chambers: list[str],
    member_chamber: list[int],
    attributes: list[dict[str, str]],
) -> tuple[tuple[str, ...], npt.NDArray[np.int64] | None, npt.NDArray[np.int64] | None]:
    """Groups of the chambers that declare ``groups:`` (in chamber order, values sorted)."""
    if all(spec.groups is None for spec in chamber_specs):
        return (), None, None
    names: list[str] = []
    owner: list[int] = []
    of_member = np.full(len(member_chamber), -1, dtype=np.int64)
    for c, spec in enumerate(chamber_specs):
        if spec.groups is None:
            continue
        rows = [m for m, chamber in enumerate(member_chamber) if chamber == c]
        value = {m: attributes[m].get(spec.groups.column, "").strip() for m in rows}
        first = len(names)
        labels = sorted({v for v in value.values() if v and v.lower() != "nan"})
        names.extend(f"{chambers[c]}.{label}" for label in labels)
        owner.extend([c] * len(labels))
        position = {label: first + g for g, label in enumerate(labels)}
        for m in rows:
            of_member[m] = position.get(value[m], -1)
    return tuple(names), np.asarray(owner, dtype=np.int64), of_member
