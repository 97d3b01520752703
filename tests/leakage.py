"""Leakage tests' tampering: every vote cast on or after a day reversed in an archive."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest


def reverse_votes_from(monkeypatch: pytest.MonkeyPatch, archive: Any, day: pd.Timestamp) -> None:
    """Make ``archive.member_votes`` return every yea or nay cast on or after ``day`` reversed."""
    original = archive.member_votes

    def reversed_from_the_day(congress: int) -> pd.DataFrame:
        votes = original(congress).copy()
        later = (votes["date"] >= day) & votes["vote"].notna()
        votes.loc[later, "vote"] = 1 - votes.loc[later, "vote"]
        return votes

    monkeypatch.setattr(archive, "member_votes", reversed_from_the_day)
