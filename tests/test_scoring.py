"""Forecast scores against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from riskmodel.backtest.scoring import (
    apre,
    brier_score,
    brier_skill,
    expected_calibration_error,
    log_score,
    member_scores,
)


def test_known_values() -> None:
    prob = np.array([0.9, 0.8, 0.3, 0.6, 0.1])
    actual = np.array([1, 1, 0, 0, 0])
    assert brier_score(prob, actual) == pytest.approx((0.01 + 0.04 + 0.09 + 0.36 + 0.01) / 5)
    expected_log = (math.log(0.9) + math.log(0.8) + math.log(0.7) + math.log(0.4) + math.log(0.9)) / 5
    assert log_score(prob, actual) == pytest.approx(expected_log)
    # minority = 2 yeas; one error (0.6 on a nay) -> (2 - 1) / 2
    assert apre(prob, actual) == pytest.approx(0.5)
    scores = member_scores(prob, actual)
    assert scores["accuracy"] == pytest.approx(0.8)


def test_calibration_error_bins() -> None:
    prob = np.array([0.25, 0.25, 0.25, 0.25, 0.75, 0.75])
    actual = np.array([1, 0, 0, 0, 1, 0])
    # bin 2: |0.25 - 0.25| = 0 (weight 4/6); bin 7: |0.5 - 0.75| = 0.25 (weight 2/6)
    assert expected_calibration_error(prob, actual) == pytest.approx(0.25 * 2 / 6)
    perfect = np.array([0.0, 1.0])
    assert expected_calibration_error(perfect, np.array([0, 1])) == 0.0


def test_skill_sign_and_unanimous_apre() -> None:
    assert brier_skill(0.1, 0.2) == pytest.approx(0.5)
    assert brier_skill(0.3, 0.2) < 0
    assert math.isnan(apre(np.array([0.9, 0.8]), np.array([1, 1])))
    with pytest.raises(ValueError, match="0 or 1"):
        brier_score(np.array([0.5]), np.array([2]))
