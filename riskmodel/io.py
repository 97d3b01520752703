"""Files: atomic writes, package versions, and netCDF save and load for every result kind.

The I/O layer of riskmodel (docs/design.md, "Package layout"): importable from every stage, it
imports nothing of riskmodel but :mod:`riskmodel.errors`. Every file is written atomically (a
temporary file beside the target, renamed into place), so a crash never leaves a half-written
results file. Results, win-set maps, sensitivity and stress Datasets and side-payment curves
are all netCDF (h5netcdf engine) and go through :func:`save_netcdf` and :func:`load_netcdf`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import xarray as xr

from riskmodel.errors import RiskmodelError

__all__ = [
    "OUTCOMES_GROUP",
    "load_draws",
    "load_netcdf",
    "load_results",
    "package_versions",
    "save_netcdf",
    "save_results",
    "write_atomic",
]

_PACKAGES = (
    "riskmodel",
    "numpy",
    "pandas",
    "xarray",
    "pymc",
    "pytensor",
    "arviz",
    "numba",
    "preliz",
    "scipy",
)


def package_versions() -> dict[str, str]:
    """Versions of the packages that determine the numbers."""
    found = {}
    for name in _PACKAGES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def write_atomic(path: str | Path, write: Callable[..., object]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        Path(tmp).chmod(0o666 & ~umask)  # mkstemp makes files private; results are for sharing
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_netcdf(dataset: xr.Dataset, path: str | Path) -> Path:
    """Save a Dataset as netCDF (h5netcdf), atomically."""
    return write_atomic(path, lambda tmp: dataset.to_netcdf(tmp, engine="h5netcdf"))


def load_netcdf(path: str | Path, *, kind: str = "riskmodel netCDF") -> xr.Dataset:
    """Load a Dataset saved by :func:`save_netcdf`, fully into memory (the file is closed).

    Parameters
    ----------
    path
        The file.
    kind
        What the file should hold, for the error messages (``"results"``, ``"win-set"`` ...).

    Raises
    ------
    RiskmodelError
        The file is missing or is not netCDF.
    """
    path = Path(path)
    if not path.is_file():
        raise RiskmodelError(f"{path}: {kind} file not found")
    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return ds.load()
    except (OSError, ValueError) as exc:
        raise RiskmodelError(f"{path}: not a {kind} file ({exc})") from None


OUTCOMES_GROUP = "outcomes"
"""The group of a results DataTree that holds the outcome Dataset (:mod:`riskmodel.results.datatree`)."""


def save_results(results: xr.Dataset | xr.DataTree, path: str | Path) -> Path:
    """Save results as netCDF (h5netcdf), atomically.

    ``results`` is the outcome Dataset, or the DataTree of
    :func:`riskmodel.results.datatree.results_tree` (outcomes plus the ArviZ groups of the draws).
    """
    if isinstance(results, xr.DataTree):
        tree = results
        return write_atomic(path, lambda tmp: tree.to_netcdf(tmp, engine="h5netcdf"))
    return save_netcdf(results, path)


def _open_tree(path: Path, kind: str) -> xr.DataTree:
    if not path.is_file():
        raise RiskmodelError(f"{path}: {kind} file not found")
    try:
        with xr.open_datatree(path, engine="h5netcdf") as tree:
            return tree.load()
    except (OSError, ValueError) as exc:
        raise RiskmodelError(f"{path}: not a {kind} file ({exc})") from None


def load_results(path: str | Path) -> xr.Dataset:
    """Load the outcome Dataset of results saved by :func:`save_results`.

    Reads both layouts: a DataTree with an ``outcomes`` group, and the single flat Dataset
    that files written before the ArviZ groups hold.
    """
    path = Path(path)
    kind = "riskmodel results"
    tree = _open_tree(path, kind)
    if OUTCOMES_GROUP in tree.children:
        outcomes = tree[OUTCOMES_GROUP].to_dataset()
        outcomes.attrs = {**tree.attrs, **outcomes.attrs}
        return outcomes
    return tree.to_dataset()


def load_draws(path: str | Path) -> xr.DataTree | None:
    """The ArviZ groups of a results file (``prior``, ``posterior`` ...), or None for an old file."""
    tree = _open_tree(Path(path), "riskmodel results")
    groups = {name: tree[name].to_dataset() for name in tree.children if name != OUTCOMES_GROUP}
    return xr.DataTree.from_dict(groups) if groups else None
