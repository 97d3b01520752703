"""The gallery: headline rows per deal and the probability given to what really happened."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from riskmodel.backtest.facts import FactSheet, Outcome
from riskmodel.backtest.gallery import gallery_markdown, gallery_rows, outcome_rows

USMCA = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "usmca_2019.yaml"


def _results() -> xr.Dataset:
    p = np.array([[0.9, 0.2], [0.7, 0.6]])
    coords = {"side": ["a", "b"], "deal": ["x", "y"]}
    return xr.Dataset(
        {
            "ratification_probability": (("side", "deal"), p),
            "ratification_mcse": (("side", "deal"), np.full((2, 2), 0.01)),
        },
        coords=coords,
    )


def test_probability_of_what_happened_known_answer() -> None:
    facts = FactSheet(
        scenario="s",
        as_of="2000-01-01",
        outcome=[
            Outcome(side="a", deal="x", ratified=True, date="2000-02-01", source="k"),
            Outcome(side="a", deal="y", ratified=False, date="2000-02-01", source="k"),
        ],
    )
    rows = outcome_rows(_results(), facts)
    assert [r["p_what_happened"] for r in rows] == pytest.approx([0.9, 0.8])
    assert [r["brier"] for r in rows] == pytest.approx([0.01, 0.04])
    table = gallery_markdown(
        pd.DataFrame(
            [
                {
                    "scenario": "s",
                    "deal": "x",
                    "p_agreement": 0.63,
                    "mcse_agreement": 0.02,
                    "sides": "a 0.90",
                    "as_of": "2000",
                }
            ]
        ),
        pd.DataFrame([{"scenario": "s", **r} for r in rows]),
    )
    assert "| `s` | a | `y` | not ratified | 0.800 ± 0.010 | 0.040 |" in table
    assert "Mean Brier score over the 2 recorded outcomes: 0.025" in table


def test_gallery_runs_the_bundled_example() -> None:
    headlines, outcomes = gallery_rows([USMCA], n_worlds=200, seed=5)
    assert list(headlines["deal"]) == ["text_2018", "amended_2019", "no_labour_mechanism"]
    assert ((headlines["p_agreement"] >= 0) & (headlines["p_agreement"] <= 1)).all()
    us_amended = outcomes[(outcomes["side"] == "us") & (outcomes["deal"] == "amended_2019")].iloc[0]
    assert us_amended["p_what_happened"] == pytest.approx(us_amended["p_ratified"])
    us_2018 = outcomes[(outcomes["side"] == "us") & (outcomes["deal"] == "text_2018")].iloc[0]
    assert us_2018["p_what_happened"] == pytest.approx(1 - us_2018["p_ratified"])
