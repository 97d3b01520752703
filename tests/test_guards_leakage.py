"""The IRT cut-off of a backtest: nothing dated on or after the cut-off day enters the fit.

The edge case is a target that is the *first* trade vote of its congress in its chamber, with
other roll calls on the same day, one of them recorded at exactly midnight UTC (the clerk files
hold a few date-only records). The IRT fit must see only roll calls of strictly earlier days.
The fit itself is never run: ``vote_matrix`` (the first use of the selected roll calls) is
replaced by a probe that records its input and stops the forecast, so these tests need no MCMC.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import riskmodel.backtest.runner as runner_module
from riskmodel.backtest.runner import Backtester, BacktestSettings
from riskmodel.backtest.trade_model import TradeVotes


def _utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


# Trade votes (the index): congress 108 has earlier ones; in congress 109 the House's first trade
# vote is h443 on 2005-07-28 and its last is h600 on 2005-12-10; the Senate votes first.
TRADE = pd.DataFrame(
    [
        ("h375-108.2004", "FTA A", "h", 108, "2004-07-14 20:00"),
        ("s170-109.2005", "FTA B", "s", 109, "2005-06-30 18:00"),
        ("h443-109.2005", "FTA B", "h", 109, "2005-07-28 04:03"),
        ("h600-109.2005", "FTA C", "h", 109, "2005-12-10 15:00"),
    ],
    columns=["vote_id", "label", "chamber", "congress", "date"],
)
TRADE["date"] = pd.to_datetime(TRADE["date"], utc=True)
TRADE["action"] = "passage"
TRADE["requires"] = "1/2"
FIRST, LATER = "h443-109.2005", "h600-109.2005"
FIRST_DAY = _utc("2005-07-28")
LATER_DAY = _utc("2005-12-10")

# Roll calls of congress 109 (both chambers), around the cut-off days.
ROLLCALLS = [
    ("h1-109.2005", "h", "2005-01-04 17:34"),
    ("h440-109.2005", "h", "2005-07-27 23:59:59"),  # the last one before the first trade vote's day
    ("h441-109.2005", "h", "2005-07-28 00:00"),  # same day, date-only record (midnight)
    ("h442-109.2005", "h", "2005-07-28 00:15"),  # same day, before the target
    ("h443-109.2005", "h", "2005-07-28 04:03"),  # the target itself
    ("h445-109.2005", "h", "2005-07-28 17:10"),  # same day, after the target
    ("h500-109.2005", "h", "2005-09-01 16:00"),
    ("h599-109.2005", "h", "2005-12-09 23:00"),
    ("h600-109.2005", "h", "2005-12-10 15:00"),
    ("h700-109.2006", "h", "2006-12-08 20:00"),  # the congress's last day
    ("s100-109.2005", "s", "2005-05-01 15:00"),  # Senate: never in a House fit
    ("s170-109.2005", "s", "2005-06-30 18:00"),
]


def _member_votes(congress: int) -> pd.DataFrame:
    assert congress == 109
    rows = [
        {"vote_id": vote_id, "member_id": f"M{m}", "party": "DR"[m % 2], "vote": float(m % 2), "chamber": ch}
        | {"date": _utc(when)}
        for vote_id, ch, when in ROLLCALLS
        for m in range(4)
    ]
    return pd.DataFrame(rows)


class _Stop(Exception):
    """Raised by the probe once the IRT input is recorded."""


def _selected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vote_id: str, cutoff: str) -> pd.DataFrame:
    """The roll calls a forecast of ``vote_id`` hands to the IRT fit."""
    (tmp_path / "clerk").mkdir(exist_ok=True)
    backtester = Backtester(tmp_path, BacktestSettings(irt_cutoff=cutoff))  # type: ignore[arg-type]
    backtester._trade = TradeVotes(  # the index stands in for the archive's
        votes=TRADE, rows=pd.DataFrame(), persons=[], states=[], agreements=[]
    )
    monkeypatch.setattr(backtester.archive, "member_votes", _member_votes)
    seen: list[pd.DataFrame] = []

    def probe(earlier: pd.DataFrame, **kwargs: object) -> None:
        seen.append(earlier.copy())
        raise _Stop

    monkeypatch.setattr(runner_module, "vote_matrix", probe)
    with pytest.raises(_Stop):
        backtester.forecast(vote_id)
    assert len(seen) == 1
    return seen[0]


def _ids(selected: pd.DataFrame) -> list[str]:
    return sorted(set(selected["vote_id"]))


@pytest.mark.parametrize("cutoff", ["first_trade_vote", "vote_day"])
def test_first_trade_vote_of_a_congress_sees_only_earlier_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cutoff: str
) -> None:
    selected = _selected(tmp_path, monkeypatch, FIRST, cutoff)
    # exactly the House roll calls of earlier days: the midnight record of the target's day,
    # the target and everything after it are out, and nothing earlier is lost
    assert _ids(selected) == ["h1-109.2005", "h440-109.2005"]
    assert (selected["date"] < FIRST_DAY).all()
    assert (selected["chamber"] == "h").all()


def test_a_later_vote_is_cut_at_the_first_trade_vote_of_its_congress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    selected = _selected(tmp_path, monkeypatch, LATER, "first_trade_vote")
    assert _ids(selected) == ["h1-109.2005", "h440-109.2005"]


def test_the_vote_day_cut_off_stops_strictly_before_the_vote_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    selected = _selected(tmp_path, monkeypatch, LATER, "vote_day")
    assert _ids(selected) == [
        "h1-109.2005",
        "h440-109.2005",
        "h441-109.2005",
        "h442-109.2005",
        "h443-109.2005",
        "h445-109.2005",
        "h500-109.2005",
        "h599-109.2005",
    ]
    assert (selected["date"] < LATER_DAY).all()


DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "rollcalls"


@pytest.mark.skipif(not DATA.is_dir(), reason="shared roll-call data not present")
def test_cafta_house_vote_sees_none_of_its_days_real_roll_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The House's first trade vote of the 109th (CAFTA, 00:03 EDT) with roll calls minutes before it."""
    backtester = Backtester(DATA, BacktestSettings())
    index = backtester.archive.trade_votes
    rollcalls = backtester.archive.rollcalls(109).set_index("vote_id")
    index = index[index["clerk_vote_id"].isin(rollcalls.index)]
    votes = pd.DataFrame(
        {
            "vote_id": index["clerk_vote_id"].to_numpy(),
            "label": index["label"].to_numpy(),
            "action": index["action"].to_numpy(),
            "chamber": rollcalls.loc[index["clerk_vote_id"], "chamber"].to_numpy(),
            "congress": index["congress"].to_numpy(),
            "date": rollcalls.loc[index["clerk_vote_id"], "date"].to_numpy(),
            "requires": rollcalls.loc[index["clerk_vote_id"], "requires"].to_numpy(),
        }
    )
    house = votes[votes["chamber"] == "h"]
    assert house["date"].min() == rollcalls.loc[FIRST, "date"]  # it is the first House trade vote
    assert len(house) > 1  # and not the last: a congress-end cut-off would differ
    backtester._trade = TradeVotes(votes=votes, rows=pd.DataFrame(), persons=[], states=[], agreements=[])
    same_day = rollcalls[(rollcalls["chamber"] == "h") & (rollcalls["date"].dt.normalize() == FIRST_DAY)]
    assert len(same_day) > 5  # the edge case is real: many roll calls that day
    seen: list[pd.DataFrame] = []

    def probe(earlier: pd.DataFrame, **kwargs: object) -> None:
        seen.append(earlier)
        raise _Stop

    monkeypatch.setattr(runner_module, "vote_matrix", probe)
    with pytest.raises(_Stop):
        backtester.forecast(FIRST)
    selected = seen[0]
    assert not set(selected["vote_id"]) & set(same_day.index)
    assert (selected["date"] < FIRST_DAY).all()
    house_before = rollcalls[(rollcalls["chamber"] == "h") & (rollcalls["date"] < FIRST_DAY)]
    assert set(selected["vote_id"]) == set(house_before.index)
