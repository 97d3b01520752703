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


def save_results(results: xr.Dataset, path: str | Path) -> Path:
    """Save results as netCDF (h5netcdf), atomically."""
    return save_netcdf(results, path)


def load_results(path: str | Path) -> xr.Dataset:
    """Load results saved by :func:`save_results`."""
    return load_netcdf(path, kind="riskmodel results")
