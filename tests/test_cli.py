"""The command line on valid input: `run` prints the table and writes its files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from riskmodel.cli.app import BUNDLED_EXAMPLE, app
from riskmodel.io import load_results

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


def test_run_prints_the_table_and_writes_results_and_summary(toy_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "toy"
    result = runner.invoke(
        app,
        ["run", str(toy_path), "--worlds", "300", "--replicates", "5", "--seed", "0", "--out", str(out)],
        env=WIDE,
    )
    assert result.exit_code == 0, result.output
    assert "P(ratify) ± MCSE" in result.output
    assert "joint" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["results.nc", "summary.csv"]
    summary = pd.read_csv(out / "summary.csv")
    results = load_results(out / "results.nc")
    assert results.attrs["seed"] == 0 and results.attrs["n_worlds"] == 300
    joint = summary[summary["side"] == "joint"].set_index("deal")["probability"]
    np.testing.assert_allclose(
        joint.to_numpy(), results["agreement_probability"].sel(deal=joint.index).to_numpy()
    )
    # the printed probability of the first row matches the file
    first = summary.iloc[0]
    assert f"{first['probability']:.3f} ± {first['mcse']:.3f}" in result.output


def test_seed_zero_is_a_seed(toy_path: Path, tmp_path: Path) -> None:
    args = ["run", str(toy_path), "--worlds", "100", "--replicates", "5", "--seed", "0"]
    first = runner.invoke(app, [*args, "--out", str(tmp_path / "a")], env=WIDE)
    second = runner.invoke(app, [*args, "--out", str(tmp_path / "b")], env=WIDE)
    assert first.exit_code == second.exit_code == 0
    assert (tmp_path / "a" / "summary.csv").read_text() == (tmp_path / "b" / "summary.csv").read_text()


def test_validate_reports_a_valid_file(toy_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(toy_path)], env=WIDE)
    assert result.exit_code == 0
    assert "valid — 2 issues, 2 deals, 2 sides, 3 chambers" in result.output


def test_out_must_be_a_folder(toy_path: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("keep me")
    result = runner.invoke(app, ["run", str(toy_path), "--worlds", "10", "--out", str(blocker)], env=WIDE)
    assert result.exit_code == 2
    assert blocker.read_text() == "keep me"


@pytest.mark.slow
def test_run_without_a_scenario_runs_the_bundled_example(tmp_path: Path) -> None:
    assert BUNDLED_EXAMPLE.is_file()
    result = runner.invoke(app, ["run", "--worlds", "400", "--out", str(tmp_path / "usmca")], env=WIDE)
    assert result.exit_code == 0, result.output
    results = load_results(tmp_path / "usmca" / "results.nc")
    assert results.attrs["scenario_name"] == "usmca_2019"
    assert list(results["side"].values) == ["us", "mexico", "canada"]
    # The amended text passed everywhere in 2019-20; the model must not call it a likely failure.
    assert float(results["agreement_probability"].sel(deal="amended_2019")) > 0.8
