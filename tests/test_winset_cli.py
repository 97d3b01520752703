"""``riskmodel winset / linkage / sidepay / bargain``: tables printed, results written, errors → 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmodel.analyses.winset import load_winset
from riskmodel.cli.app import app

runner = CliRunner()
WIDE = {"COLUMNS": "200", "NO_COLOR": "1"}
SMALL = ["--worlds", "120", "--replicates", "4", "--seed", "7"]


def invoke(*args: str):
    return runner.invoke(app, [*args], env=WIDE)


def test_winset_writes_the_map_and_its_plots(toy_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke(
        "winset", str(toy_path), "--x", "tariff", "--y", "labour", "--grid", "15", *SMALL, "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "overlap (joint)" in result.output and "E[size]" in result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["winset.nc", "winset.png", "winset_away.png", "winset_home.png", "winset_size.png"]
    winset = load_winset(out / "winset.nc")
    assert winset.sizes["x"] == 15 and winset.attrs["scenario_file"] == str(toy_path)
    assert winset.sizes["world"] == 120


def test_linkage_sidepay_and_bargain_write_beside_each_other(toy_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "toy"
    result = invoke("linkage", str(toy_path), "--grid", "3", "--rounds", "2", *SMALL, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "fresh worlds" in result.output
    payload = json.loads((out / "linkage.json").read_text())
    assert set(payload["best"]["deal"]) == {"tariff", "labour"}
    assert set(payload["single_issue"]) == {"tariff", "labour"}
    bundles = pd.read_csv(out / "linkage_bundles.csv")
    assert {"bundle", "agreement_probability", "synergistic"} <= set(bundles.columns)

    result = invoke(
        "sidepay",
        str(toy_path),
        "--deal",
        "low",
        "--budget",
        "0",
        "--budget",
        "0.2",
        *SMALL,
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "Budget needed" in result.output
    curve = pd.read_csv(out / "sidepay.csv")
    assert sorted(curve["budget"].unique()) == [0.0, 0.2]

    tie = ["--tie", "home", "--vote", "passage", "--threshold", "two_thirds"]
    result = invoke("bargain", str(toy_path), "--grid", "5", "--rounds", "2", *SMALL, *tie, "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "Tied hands" in result.output
    payload = json.loads((out / "bargain.json").read_text())
    assert payload["side"] == "home" and set(payload["move"]) == {"tariff", "labour"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["winset", "TOY", "--x", "tarif", "--y", "labour"], "did you mean 'tariff'"),
        (["sidepay", "TOY", "--deal", "lo"], "unknown deal 'lo'"),
        (["linkage", "TOY", "--objective", "chief", "--chief", "away"], "no chief"),
        (["bargain", "TOY", "--tie", "home", "--vote", "passage", "--threshold", "most"], "threshold"),
        (["bargain", "TOY", "--tie", "home", "--bloc", "left", "--shift", "tariff"], "ISSUE=DELTA"),
    ],
)
def test_user_errors_exit_2_with_one_message(toy_path: Path, args: list[str], message: str) -> None:
    argv = [str(toy_path) if a == "TOY" else a for a in args]
    result = invoke(*argv, "--worlds", "20", "--replicates", "2")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
