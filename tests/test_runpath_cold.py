"""A run's first and later start-ups: what it no longer imports or compiles, and that nothing changed.

- xarray's checks for Dask arrays and collections no longer import Dask while no Dask object
  can exist, and still recognise real Dask arrays once ``dask.array`` is imported;
- small chunks are summarised with NumPy's own reductions, the numbers the compiled draw
  statistics give;
- the fused kernel is compiled into numba's cache by a second process, and a run then loads it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_probe import cli_loads

from riskmodel.results import collect
from riskmodel.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "data" / "scenarios" / "ceta_2016.yaml"


def _python(code: str, env: dict[str, str] | None = None) -> str:
    return _interpreter(["-c", code], env)


def _interpreter(args: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_plain_run_imports_no_dask(tmp_path: Path) -> None:
    argv = ["run", str(SCENARIO), "--worlds", "200", "--out", str(tmp_path)]
    exit_code, loaded = cli_loads(argv, ("dask", "dask.array", "distributed"))
    assert exit_code in (0, None), f"riskmodel run exited with {exit_code}"
    assert (tmp_path / "results.nc").is_file()
    assert not loaded, f"a plain `riskmodel run` imports {loaded}"


def test_dask_arrays_are_recognised_once_dask_is_imported(tmp_path: Path) -> None:
    code = f"""
import json, sys
import numpy as np, xarray as xr
import riskmodel.pipeline  # registers the deferred checks
from riskmodel.io import save_netcdf
from riskmodel.results.netcdf import without_distributed
from xarray.namedarray.pycompat import array_type
from xarray.namedarray.utils import is_duck_dask_array
plain = xr.Dataset({{"p": (("deal",), np.arange(4.0))}}, coords={{"deal": list("abcd")}})
before = ["dask" in sys.modules, array_type("dask") == ()]
import dask.array as da
lazy = xr.Dataset({{"p": (("deal",), da.arange(4.0, chunks=2))}}, coords={{"deal": list("abcd")}})
after = [
    array_type("dask") == (da.Array,),
    isinstance(lazy["p"].data, da.Array),
    lazy.chunks == {{"deal": (2, 2)}},
    bool(is_duck_dask_array(lazy["p"].data)),
    not is_duck_dask_array(np.arange(3.0)),
    lazy.compute().identical(plain),
]
with without_distributed():
    save_netcdf(lazy, {str(tmp_path / "lazy.nc")!r})
back = xr.open_dataset({str(tmp_path / "lazy.nc")!r}, engine="h5netcdf").load()
print(json.dumps(before + after + [back.identical(plain)]))
"""
    checks = json.loads(_python(code).strip().splitlines()[-1])
    assert checks[:2] == [False, True], "building a Dataset of NumPy arrays imported Dask"
    assert all(checks[2:]), checks


@pytest.mark.slow
def test_numpy_summaries_equal_the_compiled_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    from riskmodel.pipeline import evaluate_deals, sample_worlds

    simulation = sample_worlds(load_scenario(SCENARIO), n_worlds=1200, n_replicates=12, seed=7)
    layout = simulation.layout
    largest = max(len(layout.sides), len(layout.votes)) * simulation.worlds.n_draws * len(layout.deals)
    assert largest <= collect.NUMPY_BELOW  # every block of this run takes the NumPy path by default
    by_numpy = evaluate_deals(simulation)
    monkeypatch.setattr(collect, "NUMPY_BELOW", -1)
    compiled = evaluate_deals(simulation)
    assert by_numpy.identical(compiled)


@pytest.mark.slow
def test_priming_compiles_the_kernel_a_run_then_loads(tmp_path: Path) -> None:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    primed = """
import json
from riskmodel.engine.fused import kernel_cached
from riskmodel.engine.prime import start_priming, wait_for_priming
before = kernel_cached()
started = start_priming()
again = start_priming()  # one priming process at a time
wait_for_priming()
print(json.dumps([before, started, again, kernel_cached()]))
"""
    assert json.loads(_python(primed, env).strip().splitlines()[-1]) == [False, True, False, True]
    run = f"""
from pathlib import Path
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.spec.scenario import load_scenario
simulation = sample_worlds(load_scenario(Path({str(SCENARIO)!r})), n_worlds=100, n_replicates=10)
evaluate_deals(simulation)
"""
    # numba reports what its cache does on stdout when asked (NUMBA_DEBUG_CACHE)
    log = _python(run, {**env, "NUMBA_DEBUG_CACHE": "1"})
    fused = [line for line in log.splitlines() if "_fused_kernel" in line]
    assert any("data loaded" in line for line in fused), log[-3000:]
    assert not any("data saved" in line for line in fused), "the run compiled the kernel again"


@pytest.mark.slow
def test_installation_priming_compiles_the_draw_statistics_too(tmp_path: Path) -> None:
    # `make` runs this once per installation; a run's own priming compiles the fused kernel only
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    _interpreter(["-m", "riskmodel.engine.prime", "--draw-statistics"], env)
    indexes = {path.name.split("-")[0] for path in (tmp_path / "numba").rglob("*.nbi")}
    assert {"fused._fused_kernel", "draw_stats._statistics_kernel"} <= indexes, indexes
