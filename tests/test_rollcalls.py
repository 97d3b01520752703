"""Roll-call readers: both layouts, clear errors, the crosswalk join checked against the shared table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from riskmodel.backtest.archive import RollCallArchive, link_members
from riskmodel.spec.rollcalls import (
    RollCallDataError,
    read_clerk_member_votes,
    read_clerk_rollcalls,
    read_voteview_members,
    read_voteview_votes,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "rollcalls"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared roll-call data not present")


def test_voteview_download_layout_with_prob_column(tmp_path: Path) -> None:
    path = tmp_path / "H116_votes.csv"
    path.write_text(
        "congress,chamber,rollnumber,icpsr,cast_code,prob\n"
        "116,House,1,20100,1,99.1\n"
        "116,House,1,20101,6,80.0\n"
        "116,House,1,20102,9,\n"
        "116,House,1,20103,0,\n"
        "116,President,1,99912,1,\n"
        "116,House,2,20100,4,70.2\n"
    )
    votes = read_voteview_votes(path)
    assert votes["icpsr"].tolist() == [20100, 20101, 20102, 20100]
    assert votes["vote"].tolist()[:2] == [1.0, 0.0]
    assert np.isnan(votes["vote"].iloc[2])
    assert votes["vote"].iloc[3] == 0.0


def test_bad_cell_names_file_line_and_expectation(tmp_path: Path) -> None:
    path = tmp_path / "H116_votes.csv"
    path.write_text("congress,chamber,rollnumber,icpsr,cast_code\n116,House,1,20100,1\n116,House,x,20101,6\n")
    with pytest.raises(
        RollCallDataError, match=r"H116_votes.csv:3: column 'rollnumber': expected a whole number, got 'x'"
    ):
        read_voteview_votes(path)


def test_unknown_cast_code_and_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "v.csv"
    path.write_text("congress,chamber,rollnumber,icpsr,cast_code\n116,House,1,20100,12\n")
    with pytest.raises(RollCallDataError, match=r"v.csv:2: column 'cast_code': expected one of 0, 1"):
        read_voteview_votes(path)
    path.write_text("congress,chamber,rollnumber,icpsr\n116,House,1,20100\n")
    with pytest.raises(
        RollCallDataError, match=r"v.csv:1: not a Voteview vote file: missing column\(s\) cast_code"
    ):
        read_voteview_votes(path)


def test_clerk_files_and_missing_file(tmp_path: Path) -> None:
    rollcalls = tmp_path / "congress1_rollcalls.csv"
    rollcalls.write_text(
        "vote_id,congress,chamber,session_year,number,date,category,question,bill_type,bill_number,"
        "requires,result,n_yea,n_nay\n"
        "h2-1.2005,1,h,2005,2,2005-07-28T23:57:00-04:00,passage,On Passage,hr,3045,1/2,Passed,2,1\n"
        "h1-1.2005,1,h,2005,1,not-a-date,passage,On Passage,hr,3045,1/2,Passed,2,1\n"
    )
    with pytest.raises(RollCallDataError, match=r"congress1_rollcalls.csv:3: column 'date'"):
        read_clerk_rollcalls(rollcalls)
    votes = tmp_path / "congress1_member_votes.csv"
    votes.write_text(
        "vote_id,member_id,party,state,position\nh2-1.2005,A1,R,TX,Aye\nh2-1.2005,B2,D,CA,No\n"
        "h2-1.2005,C3,D,NY,Not Voting\nh2-1.2005,VP,,,Yea\n"
    )
    table = read_clerk_member_votes(votes)
    assert table["member_id"].tolist() == ["A1", "B2", "C3"]
    assert table["vote"].tolist()[:2] == [1.0, 0.0] and np.isnan(table["vote"].iloc[2])
    with pytest.raises(RollCallDataError, match="file not found"):
        read_voteview_members(tmp_path / "HSall_members.csv")


@needs_data
def test_crosswalk_join_reproduces_the_shared_linked_table() -> None:
    archive = RollCallArchive(DATA)
    linked = link_members(
        archive.member_votes(101), archive.rollcalls(101), archive.voteview_members, archive.crosswalk
    )
    reference = pd.read_csv(DATA / "crosswalk" / "clerk_members_linked.csv.gz")
    reference = reference[reference["congress"] == 101]
    merged = linked.merge(reference, on=["congress", "chamber", "member_id"], suffixes=("", "_ref"))
    assert len(merged) == int((reference["member_id"] != "VP").sum())  # the reader drops the VP
    same_icpsr = merged["icpsr"].astype(float).fillna(-1) == merged["icpsr_ref"].fillna(-1)
    assert same_icpsr.all()
    assert np.allclose(merged["nominate_dim1"], merged["nominate_dim1_ref"], equal_nan=True)


@needs_data
def test_voteview_and_clerk_agree_on_cafta() -> None:
    archive = RollCallArchive(DATA)
    voteview = archive.voteview_votes(109, "h")
    cafta = voteview[voteview["clerk_vote_id"] == "h443-109.2005"]
    assert (int((cafta["vote"] == 1).sum()), int((cafta["vote"] == 0).sum())) == (217, 215)
    clerk = archive.member_votes(109)
    clerk = clerk[clerk["vote_id"] == "h443-109.2005"]
    assert (int((clerk["vote"] == 1).sum()), int((clerk["vote"] == 0).sum())) == (217, 215)
