"""A folder of roll-call data in the layout of ``shared/data/rollcalls``, read lazily.

``clerk/`` (member votes per congress), ``voteview/`` (``HSall_members.csv.gz`` and vote
matrices), ``crosswalk/`` (id and roll-call maps) and ``tables/trade_votes_index.csv``. Members of
the clerk files are joined to Voteview's ICPSR ids and DW-NOMINATE scores through the id crosswalk
(House: bioguide id; Senate: LIS id → bioguide id), by congress and chamber.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.spec.rollcalls import (
    RollCallDataError,
    read_checked_csv,
    read_clerk_member_votes,
    read_clerk_rollcalls,
    read_id_crosswalk,
    read_rollcall_map,
    read_voteview_members,
    read_voteview_votes,
)

__all__ = ["CHAMBER_NAMES", "RollCallArchive", "link_members", "voteview_to_clerk"]

CHAMBER_NAMES = {"h": "House", "s": "Senate"}


def link_members(
    member_votes: pd.DataFrame,
    rollcalls: pd.DataFrame,
    voteview_members: pd.DataFrame,
    crosswalk: pd.DataFrame,
) -> pd.DataFrame:
    """One row per congress × chamber × clerk member, with ICPSR id and DW-NOMINATE scores.

    Parameters
    ----------
    member_votes, rollcalls
        From :func:`~riskmodel.spec.rollcalls.read_clerk_member_votes` and
        :func:`~riskmodel.spec.rollcalls.read_clerk_rollcalls` (one congress or several).
    voteview_members
        From :func:`~riskmodel.spec.rollcalls.read_voteview_members`.
    crosswalk
        From :func:`~riskmodel.spec.rollcalls.read_id_crosswalk`.

    Returns
    -------
    pandas.DataFrame
        ``congress, chamber`` (``House``/``Senate``), ``member_id, party, state, bioguide_id,
        icpsr, nominate_dim1, nominate_dim2`` (NaN where Voteview has no match).
    """
    info = rollcalls[["vote_id", "congress", "chamber"]]
    votes = member_votes[["vote_id", "member_id", "party", "state"]].merge(info, on="vote_id", how="inner")
    members = (
        votes.groupby(["congress", "chamber", "member_id"], sort=True)
        .agg(party=("party", "last"), state=("state", "last"))
        .reset_index()
    )
    members["chamber"] = members["chamber"].map(CHAMBER_NAMES)
    lis = crosswalk[crosswalk["lis_id"] != ""].drop_duplicates("lis_id").set_index("lis_id")["bioguide_id"]
    senate = members["chamber"] == "Senate"
    members["bioguide_id"] = np.where(senate, members["member_id"].map(lis), members["member_id"])
    vv = voteview_members[voteview_members["bioguide_id"] != ""]
    vv = vv.drop_duplicates(["congress", "chamber", "bioguide_id"])
    cols = ["congress", "chamber", "bioguide_id", "icpsr", "nominate_dim1", "nominate_dim2"]
    linked = members.merge(vv[cols], on=["congress", "chamber", "bioguide_id"], how="left")
    linked["icpsr"] = linked["icpsr"].astype("Float64")
    return linked


def voteview_to_clerk(votes: pd.DataFrame, rollcall_map: pd.DataFrame) -> pd.DataFrame:
    """Attach clerk vote ids to Voteview votes (``congress, chamber, rollnumber``) via the map."""
    mapping = rollcall_map.rename(columns={"voteview_rollnumber": "rollnumber"})
    mapping = mapping[mapping["clerk_vote_id"] != ""][["congress", "chamber", "rollnumber", "clerk_vote_id"]]
    return votes.merge(mapping, on=["congress", "chamber", "rollnumber"], how="inner")


class RollCallArchive:
    """Lazy, cached access to a roll-call data folder.

    Parameters
    ----------
    root
        A folder with ``clerk/``, ``voteview/``, ``crosswalk/`` and ``tables/`` as in
        ``shared/data/rollcalls``.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise RollCallDataError("roll-call data folder not found", file=self.root)
        if not (self.root / "clerk").is_dir():
            raise RollCallDataError(
                "not a roll-call data folder: expected sub-folders clerk/, voteview/, crosswalk/, tables/",
                file=self.root,
            )

    def _clerk_file(self, congress: int, kind: str) -> Path:
        for suffix in (".csv.gz", ".csv"):
            path = self.root / "clerk" / f"congress{congress}_{kind}{suffix}"
            if path.is_file():
                return path
        raise RollCallDataError(f"no {kind} file for the {congress}th congress", file=self.root / "clerk")

    @functools.lru_cache(maxsize=16)  # noqa: B019 - one archive per run, cached on purpose
    def rollcalls(self, congress: int) -> pd.DataFrame:
        """Roll calls of one congress, both chambers, sorted by date."""
        return read_clerk_rollcalls(self._clerk_file(congress, "rollcalls"))

    @functools.lru_cache(maxsize=16)  # noqa: B019
    def member_votes(self, congress: int) -> pd.DataFrame:
        """Member votes of one congress, with the roll call's chamber and date attached."""
        votes = read_clerk_member_votes(self._clerk_file(congress, "member_votes"))
        info = self.rollcalls(congress)[["vote_id", "chamber", "date"]]
        return votes.merge(info, on="vote_id", how="inner")

    def congresses(self) -> list[int]:
        """Congresses with clerk roll-call files."""
        found = {
            int(path.name.removeprefix("congress").split("_")[0])
            for path in (self.root / "clerk").glob("congress*_rollcalls.csv*")
        }
        return sorted(found)

    @functools.cached_property
    def trade_votes(self) -> pd.DataFrame:
        """The trade-vote index (``tables/trade_votes_index.csv``), sorted by date."""
        path = self.root / "tables" / "trade_votes_index.csv"
        columns = {
            "label": "key",
            "action": "str",
            "chamber": "key",
            "congress": "int",
            "date": "key",
            "clerk_vote_id": "key",
            "yea": "int",
            "nay": "int",
        }
        table = read_checked_csv(path, columns, what="trade-vote index")
        table["date"] = pd.to_datetime(table["date"], format="ISO8601")
        return table.sort_values("date", kind="stable").reset_index(drop=True)

    @functools.cached_property
    def voteview_members(self) -> pd.DataFrame:
        """Voteview's member file with DW-NOMINATE scores."""
        for name in ("HSall_members.csv.gz", "HSall_members.csv"):
            path = self.root / "voteview" / name
            if path.is_file():
                return read_voteview_members(path)
        raise RollCallDataError("HSall_members.csv[.gz] not found", file=self.root / "voteview")

    @functools.cached_property
    def crosswalk(self) -> pd.DataFrame:
        """Legislator id crosswalk (bioguide, LIS, ICPSR)."""
        return read_id_crosswalk(self.root / "crosswalk" / "legislator_id_crosswalk.csv")

    @functools.lru_cache(maxsize=16)  # noqa: B019
    def linked_members(self, congress: int) -> pd.DataFrame:
        """Clerk members of one congress joined to Voteview (see :func:`link_members`)."""
        return link_members(
            self.member_votes(congress), self.rollcalls(congress), self.voteview_members, self.crosswalk
        )

    def voteview_votes(self, congress: int, chamber: str) -> pd.DataFrame:
        """Voteview votes of one congress and chamber (``h``/``s``) with clerk vote ids attached."""
        letter = chamber[0].upper()
        candidates = [
            self.root / "voteview" / f"{letter}{congress}_votes_long.csv.gz",
            self.root / "voteview" / f"{letter}{congress}_votes.csv",
        ]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise RollCallDataError(f"no Voteview votes for {letter}{congress}", file=self.root / "voteview")
        mapping = read_rollcall_map(self.root / "crosswalk" / "voteview_clerk_rollcall_map.csv")
        return voteview_to_clerk(read_voteview_votes(path), mapping)
