"""Backtest of one real vote end to end (small settings), the baselines, and CLI errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskmodel.cli.app import app

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "rollcalls"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared roll-call data not present")
runner = CliRunner()


@needs_data
@pytest.mark.slow
def test_uruguay_round_senate_vote_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    result = runner.invoke(
        app,
        [
            "backtest",
            "--data",
            str(DATA),
            "--vote",
            "s329-103.1994",
            "--json",
            str(out),
            "--draws",
            "100",
            "--max-rollcalls",
            "40",
            "--max-congress",
            "103",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert (data["n_members"], data["actual_yea"], data["actual_nay"]) == (100, 76, 24)
    for key in ("accuracy", "apre", "brier", "log_score", "ece", "p_pass"):
        assert isinstance(data[key], float)
    lo, hi = data["yea_interval_90"]
    assert 0 <= lo <= hi <= 100
    # the seed fixes the fit: 100 draws are too few to converge, and the failure is announced
    assert data["convergence_gate"].startswith("failed: R-hat"), data["convergence_gate"]
    assert "FAILED" in result.output
    # party line: the most recent earlier Senate trade vote is NAFTA (D 27-28, R 34-10)
    party = data["baselines"]["party_line"]
    forecasts = {row["member_id"]: row for row in data["member_forecasts"]}
    assert len(forecasts) == 100
    expected_brier = (
        sum(((27 / 55 if row["party"] == 0 else 34 / 44) - row["yea"]) ** 2 for row in forecasts.values())
        / 100
    )
    assert party["brier"] == pytest.approx(expected_brier)
    assert set(data["baselines"]["nominate_logistic"]) >= {"accuracy", "apre", "brier", "log_score"}


def test_cli_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["backtest", "--data", str(tmp_path / "nowhere"), "--vote", "h1-1.2000"])
    assert result.exit_code == 2
    assert "roll-call data folder not found" in result.output
    result = runner.invoke(app, ["backtest", "--data", str(tmp_path), "--vote", "x", "--suite", "trade"])
    assert result.exit_code == 2 and "exactly one of --vote" in result.output
    result = runner.invoke(app, ["backtest", "--data", str(tmp_path), "--suite", "farm"])
    assert result.exit_code == 2 and "unknown suite 'farm'" in result.output


@needs_data
@pytest.mark.slow
def test_forecast_uses_nothing_from_the_target_vote_or_later(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reverse every vote cast on or after the target's day: the forecast must not change at all."""
    import numpy as np

    from riskmodel.backtest.runner import Backtester, BacktestSettings

    settings = BacktestSettings(
        irt_draws=100, irt_tune=100, trade_draws=100, trade_tune=100, irt_max_rollcalls=40, max_congress=103
    )
    vote = "s329-103.1994"
    honest = Backtester(DATA, settings)
    before = honest.forecast(vote)
    day = honest.target(vote)["date"]

    tampered = Backtester(DATA, settings)
    original = tampered.archive.member_votes

    def reversed_after(congress: int):  # type: ignore[no-untyped-def]
        votes = original(congress).copy()
        later = (votes["date"] >= day) & votes["vote"].notna()
        votes.loc[later, "vote"] = 1 - votes.loc[later, "vote"]
        return votes

    monkeypatch.setattr(tampered.archive, "member_votes", reversed_after)
    after = tampered.forecast(vote)
    assert (
        after.members["yea"].to_numpy() != before.members["yea"].to_numpy()
    ).all()  # the record did change
    np.testing.assert_array_equal(after.members["prob"].to_numpy(), before.members["prob"].to_numpy())
    np.testing.assert_array_equal(after.yes_draws, before.yes_draws)
