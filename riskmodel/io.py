"""Files: atomic writes, package versions, and netCDF save and load for every result kind.

The I/O layer of riskmodel (docs/design.md, "Package layout"): importable from every stage, it
imports nothing of riskmodel but :mod:`riskmodel.errors`. Every file is written atomically (a
temporary file beside the target, renamed into place), so a crash never leaves a half-written
results file. Results, win-set maps, sensitivity and stress Datasets and side-payment curves
are all netCDF (h5netcdf engine) and go through :func:`save_netcdf` and :func:`load_netcdf`.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import signal
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

from riskmodel.errors import RiskmodelError, escape_text
from riskmodel.paths import check_output_folder, input_message, input_problem, os_error_message

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "OUTCOMES_GROUP",
    "check_output_folder",
    "input_message",
    "input_problem",
    "load_draws",
    "load_netcdf",
    "load_results",
    "os_error_message",
    "package_versions",
    "remove_stale_temp_files",
    "remove_temp_files_on_signals",
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


_TEMP = re.compile(r"^\..+\.riskmodel-(?P<pid>\d+)-[^/]*\.tmp$")
# temporary files of versions that did not yet name their process: removed once clearly abandoned
_LEGACY_TEMP = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp$")
_LEGACY_AGE = 3600.0

_live: set[Path] = set()
"""Temporary files this process is writing now (removed by the signal handlers)."""


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def remove_stale_temp_files(folder: str | Path) -> list[Path]:
    """Remove temporary files left in ``folder`` by writes whose process was killed.

    A file of the ``.NAME.riskmodel-PID-XXXX.tmp`` pattern is stale when process PID no longer
    runs (a concurrent writer's file is left alone); an older-style ``.NAME.XXXXXXXX.tmp``
    file when it is more than an hour old. Returns the files removed.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP.match(entry.name)
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            if match is not None:
                stale = not _process_alive(int(match["pid"]))
            elif _LEGACY_TEMP.match(entry.name):
                stale = now - entry.stat(follow_symlinks=False).st_mtime > _LEGACY_AGE
            else:
                continue
            if stale:
                Path(entry.path).unlink(missing_ok=True)
                removed.append(Path(entry.path))
        except OSError:
            continue  # cleaning up is a courtesy; it never fails a run
    return removed


def _remove_live_and_reraise(signum: int, frame: object) -> None:
    for tmp in list(_live):
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    # die of the same signal, as the caller expects (exit status 128 + signum)
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def remove_temp_files_on_signals() -> None:
    """Remove this process's temporary files when SIGTERM, SIGHUP or SIGQUIT stops it.

    SIGINT (Ctrl-C) raises ``KeyboardInterrupt``, which :func:`write_atomic` already cleans
    up after. Only the main thread can install handlers; elsewhere this does nothing.
    """
    import threading

    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGTERM", "SIGHUP", "SIGQUIT"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) in (signal.SIG_DFL, None):
            signal.signal(signum, _remove_live_and_reraise)


def _write_checked(tmp: Path, write: Callable[..., object]) -> None:
    """Call ``write(tmp)`` and fail if any part of the write failed, even silently.

    Some writers (HDF5's, under netCDF) report a failed flush only when their objects are
    garbage-collected, as an "exception ignored" on stderr, and return normally with a file
    that is cut short; such a file must never be renamed into place.
    """
    import gc
    import sys

    ignored: list[str] = []  # text only: keeping the exceptions would keep their file objects alive
    previous = sys.unraisablehook

    def collect(unraisable: object) -> None:
        ignored.append(str(getattr(unraisable, "exc_value", "")))

    # the writer's own report of such a failure (a traceback) is held back: it becomes our one line
    held = io.StringIO()
    sys.unraisablehook = collect
    try:
        with contextlib.redirect_stderr(held):
            try:
                write(tmp)
            finally:
                # close the writer's file objects now, while their failures can be seen
                gc.collect()
    finally:
        sys.unraisablehook = previous
    if not ignored and held.getvalue():
        sys.stderr.write(held.getvalue())  # warnings of a write that worked are the user's to see
    if ignored:
        text = ignored[0]
        found = re.search(r"errno = (\d+)", text)
        code = int(found.group(1)) if found else errno.EIO
        raise OSError(code, os.strerror(code))


def _undo(tmp: Path, created: list[Path]) -> None:
    """Remove the temporary file and the folders this write created (if still empty)."""
    tmp.unlink(missing_ok=True)
    for folder in created:  # deepest first
        try:
            folder.rmdir()
        except OSError:
            break


def write_atomic(path: str | Path, write: Callable[..., object]) -> Path:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, then rename it into place.

    The final file is always whole: either the old file or the new one. File-system failures
    (full disk, read-only folder ...) raise :class:`RiskmodelError` with one line.
    """
    path = Path(path)
    # os.path answers False where Path.exists raises (a name too long): the error comes below
    created = [folder for folder in (path.parent, *path.parent.parents) if not os.path.exists(folder)]  # noqa: PTH110
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RiskmodelError(os_error_message(exc, exc.filename or path.parent)) from None
    if os.path.isdir(path):  # noqa: PTH112
        raise RiskmodelError(f"{escape_text(path)}: this is a folder; a file name was expected")
    remove_stale_temp_files(path.parent)
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{path.name[:180]}.riskmodel-{os.getpid()}-", suffix=".tmp", dir=path.parent
        )
    except OSError as exc:
        raise RiskmodelError(os_error_message(exc, path)) from None
    tmp = Path(tmp_name)
    _live.add(tmp)
    try:
        os.close(fd)
        _write_checked(tmp, write)
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)  # mkstemp makes files private; results are for sharing
        tmp.replace(path)
    except OSError as exc:
        _undo(tmp, created)
        raise RiskmodelError(os_error_message(exc, path)) from None
    except BaseException:
        _undo(tmp, created)
        raise
    finally:
        _live.discard(tmp)
    return path


def save_netcdf(dataset: xr.Dataset | xr.DataTree, path: str | Path) -> Path:
    """Save a Dataset or DataTree as netCDF (h5netcdf), atomically.

    The file is built in memory and written with plain file I/O: HDF5 writing straight to disk
    reports a full disk only when its file is closed, at exit, where it can crash the process.
    """
    content = dataset.to_netcdf(engine="h5netcdf")

    def write(tmp: Path) -> None:
        with tmp.open("wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())

    return write_atomic(path, write)


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
    problem = input_problem(path)
    if problem is not None:
        raise RiskmodelError(f"{escape_text(path)}: {input_message(problem, kind)}")
    import xarray as xr

    try:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            return ds.load()
    except (OSError, ValueError, TypeError, KeyError) as exc:
        detail = " ".join(str(exc).split())[:200]
        raise RiskmodelError(f"{escape_text(path)}: not a {kind} file ({escape_text(detail)})") from None


OUTCOMES_GROUP = "outcomes"
"""The group of a results DataTree that holds the outcome Dataset (:mod:`riskmodel.results.datatree`)."""


def save_results(results: xr.Dataset | xr.DataTree, path: str | Path) -> Path:
    """Save results as netCDF (h5netcdf), atomically.

    ``results`` is the outcome Dataset, or the DataTree of
    :func:`riskmodel.results.datatree.results_tree` (outcomes plus the ArviZ groups of the draws).
    """
    return save_netcdf(results, path)


def _open_tree(path: Path, kind: str) -> xr.DataTree:
    import xarray as xr

    problem = input_problem(path)
    if problem is not None:
        raise RiskmodelError(f"{escape_text(path)}: {input_message(problem, kind)}")
    try:
        with xr.open_datatree(path, engine="h5netcdf") as tree:
            return tree.load()
    except (OSError, ValueError, TypeError, KeyError) as exc:
        detail = " ".join(str(exc).split())[:200]
        raise RiskmodelError(f"{escape_text(path)}: not a {kind} file ({escape_text(detail)})") from None


def load_results(path: str | Path) -> xr.Dataset:
    """Load the outcome Dataset of results saved by :func:`save_results`, checking it.

    Reads both layouts: a DataTree with an ``outcomes`` group, and the single flat Dataset
    that files written before the ArviZ groups hold.

    Raises
    ------
    RiskmodelError
        The file is missing, not netCDF, or not results as riskmodel writes them (a foreign
        or tampered file), in one line.
    """
    path = Path(path)
    tree = _open_tree(path, "riskmodel results")
    if OUTCOMES_GROUP in tree.children:
        dataset = tree[OUTCOMES_GROUP].to_dataset()
        dataset.attrs = {**tree.attrs, **dataset.attrs}
    else:
        dataset = tree.to_dataset()
    from riskmodel.resultsfile import check_results  # pydantic models: built when first needed

    problem = check_results(dataset)
    if problem is not None:
        raise RiskmodelError(
            f"{escape_text(path)}: not riskmodel results as written by `riskmodel run` ({problem})"
        )
    return dataset


def load_draws(path: str | Path) -> xr.DataTree | None:
    """The ArviZ groups of a results file (``prior``, ``posterior`` ...), or None for an old file."""
    import xarray as xr

    tree = _open_tree(Path(path), "riskmodel results")
    groups = {name: tree[name].to_dataset() for name in tree.children if name != OUTCOMES_GROUP}
    return xr.DataTree.from_dict(groups) if groups else None
