"""CLI outputs checked by content, not by their mere existence."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hostile import TOY, invoke

from riskmodel.io import load_results

SMALL = ["--worlds", "200", "--replicates", "5", "--seed", "7"]


@pytest.fixture(scope="module")
def stress_and_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[xr.Dataset, xr.Dataset, str]:
    folder = tmp_path_factory.mktemp("stress")
    shocks = folder / "shocks.yaml"
    shocks.write_text(
        "shocks:\n"
        "  - {name: left_up, kind: shift_bloc, side: home, bloc: left, issue: tariff, by: 5}\n"
        "  - {name: left_down, kind: shift_bloc, side: home, bloc: left, issue: tariff, by: -5}\n"
    )
    result = invoke("stress", TOY, "--shocks", shocks, "--serial", *SMALL, "--out", folder / "s")
    assert result.exit_code == 0, result.output
    run = invoke("run", TOY, *SMALL, "--out", folder / "r")
    assert run.exit_code == 0, run.output
    with xr.open_dataset(folder / "s" / "stress.nc", engine="h5netcdf") as stress:
        return stress.load(), load_results(folder / "r" / "results.nc"), result.output


def test_stress_baseline_is_the_run_with_the_same_seed(stress_and_run) -> None:
    stress, results, _ = stress_and_run
    np.testing.assert_allclose(
        stress["baseline_probability"].sel(outcome="agreement").to_numpy(),
        results["agreement_probability"].sel(deal=stress["deal"].to_numpy()).to_numpy(),
    )


def test_stress_changes_are_shocked_minus_baseline(stress_and_run) -> None:
    stress, _, _ = stress_and_run
    np.testing.assert_allclose(stress["change"], stress["probability"] - stress["baseline_probability"])
    assert float(stress["probability"].min()) >= 0 and float(stress["probability"].max()) <= 1


def test_stress_shift_signs_move_support_the_expected_way(stress_and_run) -> None:
    """The low-tariff deal loses support when the left bloc wants higher tariffs, and not otherwise."""
    stress, _, _ = stress_and_run
    change = stress["change"].sel(outcome="home", deal="low")
    assert float(change.sel(shock="left_up")) < 0
    assert float(change.sel(shock="left_down")) >= 0


def test_stress_ranking_is_printed_most_dangerous_first(stress_and_run) -> None:
    stress, _, output = stress_and_run
    order = stress["shock"].to_numpy()[np.argsort(stress["rank"].to_numpy())].tolist()
    assert order[0] == "left_up"
    assert output.index("left_up") < output.index("left_down")
