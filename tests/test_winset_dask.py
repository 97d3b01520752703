"""Win-set maps on Dask: blocks of rows as tasks, the same numbers as serially, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from riskmodel.analyses.winset import compute_winset
from riskmodel.pipeline import sample_worlds
from riskmodel.spec.scenario import load_scenario

USMCA = Path(__file__).resolve().parent.parent / "data" / "scenarios" / "usmca_2019.yaml"
GRID = (400, 250)  # a 10⁵-deal slice of a large map


@pytest.fixture(scope="module")
def simulation():
    return sample_worlds(load_scenario(USMCA), n_worlds=40, n_replicates=4, seed=5)


@pytest.fixture(scope="module")
def serial(simulation) -> xr.Dataset:
    seen: list[tuple[int, int]] = []
    winset = compute_winset(
        simulation, x="auto_rvc", y="labour_enforcement", grid=GRID, progress=lambda d, t: seen.append((d, t))
    )
    n_deals = GRID[0] * GRID[1]
    assert seen[-1] == (n_deals, n_deals) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    return winset


def test_blocks_of_rows_and_chunk_sizes_never_change_a_number(simulation, serial) -> None:
    other = compute_winset(
        simulation, x="auto_rvc", y="labour_enforcement", grid=GRID, rows_per_task=7, chunk_size=333
    )
    xr.testing.assert_identical(other.drop_attrs(), serial.drop_attrs())
    probability = serial["agreement_probability"].to_numpy()
    assert probability.min() < probability.max()  # the map is not flat


@pytest.mark.slow
def test_map_is_bit_identical_on_a_two_worker_dask_cluster(simulation, serial) -> None:
    from riskmodel.analyses.stress import dask_client

    seen: list[int] = []
    with dask_client(None, n_workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        on_dask = compute_winset(
            simulation,
            x="auto_rvc",
            y="labour_enforcement",
            grid=GRID,
            client=client,
            progress=lambda done, total: seen.append(done),
        )
    assert seen[-1] == GRID[0] * GRID[1]
    for name, variable in serial.data_vars.items():
        np.testing.assert_array_equal(on_dask[name].to_numpy(), variable.to_numpy(), err_msg=name)
    xr.testing.assert_identical(on_dask.drop_attrs(), serial.drop_attrs())


@pytest.mark.slow
def test_cli_scheduler_local_writes_the_serial_map(toy_path: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from riskmodel.analyses.winset import load_winset
    from riskmodel.cli.app import app

    common = ["winset", str(toy_path), "--x", "tariff", "--y", "labour", "--grid", "31", "--no-plots"]
    common += ["--worlds", "120", "--replicates", "4", "--seed", "7"]
    maps = []
    for extra in ([], ["--scheduler", "local"]):
        out = tmp_path / (extra[-1] if extra else "serial")
        result = CliRunner().invoke(app, [*common, *extra, "--out", str(out)], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        maps.append(load_winset(out / "winset.nc"))
    xr.testing.assert_identical(maps[1].drop_attrs(), maps[0].drop_attrs())
