"""The run path loads only what it uses, and the helpers that keep it cheap are exact.

A plain ``riskmodel run`` needs PyMC, xarray and numba, but not the report's plotting and PDF
stack, not Dask's distributed scheduler and, when every elicited prior is cached, not PreliZ.
Each of these costs a quarter of a second or more at start-up; the checks run the command in a
fresh interpreter, as a user would, and read ``sys.modules`` at its end.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_probe import cli_loads
from pytensor.tensor.random.basic import HalfNormalRV

from riskmodel.collector import FULL_COLLECTION_EVERY, collecting_new_objects, fewer_full_collections

ROOT = Path(__file__).resolve().parent.parent

# A bundled scenario without elicited priors: nothing in it can send the run to PreliZ.
SCENARIO = ROOT / "data" / "scenarios" / "ceta_2016.yaml"

# scipy.stats: PyTensor draws half-normals through it; forward draws use HalfNormalDraws instead
RUN_FORBIDDEN = ("matplotlib", "weasyprint", "distributed", "preliz", "arviz_plots", "scipy.stats")


def test_bundled_scenario_has_no_elicited_prior() -> None:
    # the probe below relies on it: an elicited prior on a cold cache imports PreliZ (and matplotlib)
    assert "mass:" not in SCENARIO.read_text(encoding="utf-8")


def test_plain_run_loads_no_report_stack_nor_distributed(tmp_path: Path) -> None:
    argv = ["run", str(SCENARIO), "--worlds", "200", "--out", str(tmp_path)]
    exit_code, loaded = cli_loads(argv, RUN_FORBIDDEN)
    assert exit_code in (0, None), f"riskmodel run exited with {exit_code}"
    assert (tmp_path / "results.nc").is_file() and (tmp_path / "summary.csv").is_file()
    assert not loaded, f"a plain `riskmodel run` imports {loaded}: import them where they are used"


def test_results_written_without_distributed_read_back_equal(tmp_path: Path) -> None:
    # xarray asks Dask for its scheduler on every to_netcdf; the answer must not need `distributed`
    # and the file must be the file xarray writes on its own
    code = f"""
import json, sys
import numpy as np, xarray as xr
from riskmodel.io import save_netcdf
from riskmodel.results.netcdf import without_distributed
from xarray.backends import locks, writers
asked = locks.get_dask_scheduler
data = xr.Dataset({{"p": (("deal", "side"), np.arange(6.0).reshape(2, 3))}}, coords={{"deal": ["a", "b"]}})
with without_distributed():
    swapped = writers.get_dask_scheduler is not asked
    answer = writers.get_dask_scheduler()
    save_netcdf(data, {str(tmp_path / "quick.nc")!r})
quick = "distributed" in sys.modules
restored = writers.get_dask_scheduler is asked and locks.get_dask_scheduler is asked
save_netcdf(data, {str(tmp_path / "plain.nc")!r})
paths = ({str(tmp_path / "quick.nc")!r}, {str(tmp_path / "plain.nc")!r})
back = [xr.open_dataset(p, engine="h5netcdf").load() for p in paths]
print(json.dumps([swapped, answer, quick, restored, "distributed" in sys.modules,
                  back[0].identical(back[1]), back[0].identical(data)]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    swapped, answer, quick, restored, plain, same, identical = json.loads(
        done.stdout.strip().splitlines()[-1]
    )
    assert swapped and answer == "threaded" and restored
    assert not quick, "writing under without_distributed() imported distributed"
    assert plain, "xarray's own write is expected to import distributed (else the helper is obsolete)"
    assert same and identical


def test_fewer_full_collections_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    with fewer_full_collections():
        inside = gc.get_threshold()
    assert inside[:2] == before[:2] and inside[2] == max(before[2], FULL_COLLECTION_EVERY)
    assert gc.get_threshold() == before


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> _Node:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return a


def test_collecting_new_objects_collects_new_garbage_and_hands_the_old_back() -> None:
    import weakref

    old = _cycle()
    old_ref = weakref.ref(old)
    with collecting_new_objects():
        new = _cycle()
        new_ref = weakref.ref(new)
        del new
        gc.collect()
        assert new_ref() is None, "a cycle made inside the block is still collected inside it"
        del old
        gc.collect()
        assert old_ref() is not None, "objects alive at entry are not walked inside the block"
        with collecting_new_objects():  # nested: the inner block leaves the unfreezing to the outer
            pass
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert old_ref() is None, "after the block the old heap is collected as before"


@pytest.mark.parametrize(
    ("loc", "scale", "size"),
    [
        (0.0, np.array([0.5, 1.0, 2.0]), None),
        (0.0, np.array([[0.3], [1.5]]), (2, 4)),
        (np.zeros((1, 3)), np.array([0.2, 0.7, 1.1]), None),
        (0.0, 0.8, (5, 1, 3)),
        (0.25, np.zeros(4), None),
    ],
    ids=["vector", "broadcast-size", "leading-one", "scalar-size", "zero-scale"],
)
def test_half_normal_draws_equal_scipy_bit_for_bit(loc: object, scale: object, size: object) -> None:
    from scipy import stats

    from riskmodel.inference.sampling import HalfNormalDraws

    ours_rng, scipy_rng = np.random.default_rng(7), np.random.default_rng(7)
    ours = HalfNormalDraws.rng_fn(ours_rng, loc, scale, size)
    theirs = HalfNormalRV.rng_fn(scipy_rng, loc, scale, size)  # PyTensor's own: scipy.stats
    assert ours.shape == theirs.shape and np.array_equal(ours, theirs)
    assert np.array_equal(
        ours,
        np.broadcast_to(
            stats.halfnorm.rvs(loc, scale, size=size, random_state=np.random.default_rng(7)), ours.shape
        ),
    )
    # the generators moved alike: the next draws agree too
    assert ours_rng.standard_normal() == scipy_rng.standard_normal()
