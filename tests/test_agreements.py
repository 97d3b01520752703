"""Agreement records: every trade vote of the roll-call index has a cited record known before it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from riskmodel.backtest.agreements import ISSUES, deal_point, load_agreements, reversion_point
from riskmodel.errors import RiskmodelError

INDEX = (
    Path(__file__).resolve().parents[1]
    / ".."
    / "shared"
    / "data"
    / "rollcalls"
    / "tables"
    / "trade_votes_index.csv"
)


@pytest.fixture(scope="module")
def index() -> pd.DataFrame:
    if not INDEX.exists():
        pytest.skip("shared roll-call data not present")
    return pd.read_csv(INDEX, parse_dates=["date"])


def test_every_indexed_vote_has_a_record_known_before_the_vote(index: pd.DataFrame) -> None:
    book = load_agreements()
    for row in index.itertuples():
        record = book[row.label]
        chamber = "house" if row.chamber == "House" else "senate"
        # raises if a field the forecast of this vote uses is dated on or after the vote
        record.check_known_before(row.date, chamber=chamber)
        assert record.as_of < row.date.date()


def test_later_agreements_use_the_same_label_style() -> None:
    book = load_agreements()
    assert {"TPA 2015", "USMCA"} <= set(book.labels())
    assert book["USMCA"].labour.value == 4  # facility-level rapid response
    assert book["USMCA"].reversion.value == "withdrawal_threat"


def test_terms_follow_the_coding_manual() -> None:
    book = load_agreements()
    # the Trade Act of 2002 agreements enforce only own laws; the May 10 2007 ones core standards
    for label in ("Chile FTA", "Singapore FTA", "Australia FTA", "Morocco FTA", "CAFTA-DR", "Oman FTA"):
        assert book[label].labour.value == 2
    for label in ("Peru TPA", "Colombia TPA", "Panama TPA", "KORUS"):
        assert book[label].labour.value == 3
    assert book["NAFTA"].labour.value == 1
    assert book["TPA 2002"].measure.value == "negotiating_authority"
    assert book["TPA 2002"].opening.value == 0.5
    np.testing.assert_array_equal(deal_point(book["KORUS"]), [3, 3, 1])
    np.testing.assert_array_equal(reversion_point(book["KORUS"]), [0, 0, 0])
    assert len(ISSUES) == 3


def test_every_judgement_is_explained_and_every_source_exists() -> None:
    book = load_agreements()
    for record in book.records.values():
        for place, field in record.cited():
            assert field.source in book.sources, (record.label, place)
            if field.judgement:
                assert field.note, (record.label, place)


def test_a_vote_without_a_record_is_a_clear_error() -> None:
    with pytest.raises(RiskmodelError, match=r"no agreement record with label 'KORUS 2'.*did you mean"):
        load_agreements()["KORUS 2"]


def test_a_field_dated_after_the_vote_is_refused() -> None:
    record = load_agreements()["USMCA"]
    with pytest.raises(RiskmodelError, match="not before the vote"):
        record.check_known_before("2019-12-10", chamber="house")


def test_bad_files_name_the_record_and_field(tmp_path: Path) -> None:
    raw = yaml.safe_load(Path(load_agreements().path).read_text())
    raw["agreements"][0]["labour"]["value"] = "strong"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(RiskmodelError, match=r"agreements\[0\] \('NAFTA'\)\.labour\.value"):
        load_agreements(bad)
    raw = yaml.safe_load(Path(load_agreements().path).read_text())
    raw["agreements"][1]["opening"]["source"] = "nowhere"
    bad.write_text(yaml.safe_dump(raw))
    with pytest.raises(RiskmodelError, match="unknown source 'nowhere'"):
        load_agreements(bad)
