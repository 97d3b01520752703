"""Backtest of one real vote end to end (small settings), the baselines, and CLI errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from leakage import reverse_votes_from
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
    # the seed fixes the fit: 100 draws are too few to converge, and the failure is announced
    assert data["convergence_gate"].startswith("failed: R-hat"), data["convergence_gate"]
    assert "FAILED" in result.output and "withheld" in result.output
    # ... and a failed fit's numbers are no result: withheld, kept apart for diagnosis only
    for key in ("accuracy", "apre", "brier", "log_score", "ece", "p_pass", "yea_interval_90"):
        assert data[key] is None
    assert all(row["prob"] is None for row in data["member_forecasts"])
    diagnostics = data["failed_fit_diagnostics"]
    assert "not a result" in diagnostics["note"]
    lo, hi = diagnostics["yea_interval_90"]
    assert 0 <= lo <= hi <= 100 and len(diagnostics["member_probs"]) == 100
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
    result = runner.invoke(
        app, ["backtest", "--data", str(tmp_path), "--suite", "trade", "--shuffle-scope", "target"]
    )
    assert result.exit_code == 2 and "--shuffle-scope must be all or earlier" in result.output


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
    reverse_votes_from(monkeypatch, tampered.archive, day)
    after = tampered.forecast(vote)
    assert (
        after.members["yea"].to_numpy() != before.members["yea"].to_numpy()
    ).all()  # the record did change
    np.testing.assert_array_equal(after.members["prob"].to_numpy(), before.members["prob"].to_numpy())
    np.testing.assert_array_equal(after.yes_draws, before.yes_draws)


def _result(vote_id: str, gate: str, probs: list[float], yea: list[int]) -> dict[str, Any]:
    from riskmodel.backtest.scoring import member_scores
    from riskmodel.backtest.summary import withhold

    result = {
        "vote_id": vote_id,
        "label": "X",
        "action": "passage",
        "date": "2000-01-01",
        "n_members": len(yea),
        "actual_yea": sum(yea),
        "actual_nay": len(yea) - sum(yea),
        **member_scores(np.array(probs), np.array(yea)),
        "yea_predicted_mean": float(sum(probs)),
        "yea_interval_90": [0.0, float(len(yea))],
        "yea_covered": True,
        "p_pass": 0.5,
        "convergence_gate": gate,
        "baselines": {
            "party_line": member_scores(np.full(len(yea), 0.5), np.array(yea)),
            "nominate_logistic": None,
        },
        "member_forecasts": [
            {"member_id": f"{vote_id}{k}", "party": 0, "party_label": "D", "yea": y, "prob": p}
            for k, (p, y) in enumerate(zip(probs, yea, strict=True))
        ],
    }
    if gate != "passed":
        withhold(result)
    return result


def test_the_pooled_row_counts_only_fits_that_passed_the_gate() -> None:
    from riskmodel.backtest.summary import pooled_summary

    good = _result("a", "passed", [0.9, 0.8, 0.2, 0.1], [1, 1, 0, 0])
    bad = _result("b", "failed: 3 divergent transitions", [0.1, 0.1, 0.9, 0.9], [1, 1, 0, 0])
    assert bad["brier"] is None and bad["failed_fit_diagnostics"]["brier"] == pytest.approx(0.81)
    table = pooled_summary([good, bad])
    pooled = table.iloc[-1]
    # Brier of the passed vote alone: (0.01 + 0.04 + 0.04 + 0.01) / 4
    assert pooled["brier"] == pytest.approx(0.025)
    assert pooled["n_members"] == 4 and pooled["apre"] == pytest.approx(1.0)
    assert pooled["party_line_brier"] == pytest.approx(0.25)
    assert pooled["convergence_gate"] == "1/2 passed"
    assert table.iloc[1][["accuracy", "brier", "yea_lo90"]].isna().all()
    only_failed = pooled_summary([bad]).iloc[-1]
    assert only_failed["convergence_gate"] == "0/1 passed" and np.isnan(only_failed["brier"])
