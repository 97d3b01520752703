"""Paths the user names: why an input cannot be read, whether an output folder can be written.

Shared by every stage (it imports nothing of riskmodel but :mod:`riskmodel.errors`): the
loaders of scenarios, shocks, member tables and results name the real problem of a path (a
folder, a device, a FIFO, a symlink loop) rather than "not found", and commands check their
output folder before any work. Operating-system errors become one readable line.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from riskmodel.errors import RiskmodelError, escape_text

__all__ = ["cache_folder", "check_output_folder", "input_message", "input_problem", "os_error_message"]

_HINTS = {
    errno.ENOSPC: "no space left on the device; free some space or write elsewhere",
    errno.EDQUOT: "disk quota exceeded; free some space or write elsewhere",
    errno.EROFS: "the file system is read-only; write elsewhere",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "this is a folder; a file was expected",
    errno.ELOOP: "too many levels of symbolic links (a symlink loop?)",
    errno.EEXIST: "already exists",
}


def cache_folder() -> Path:
    """The cache folder of riskmodel: ``$XDG_CACHE_HOME/riskmodel``, by default ``~/.cache/riskmodel``.

    It holds what later runs reuse and any run could rebuild (elicited priors' fits, compiled
    forward draws); deleting it only costs time.
    """
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "riskmodel"


def os_error_message(exc: OSError, path: str | Path | None = None) -> str:
    """One line naming the file and what the operating system refused, for any ``OSError``."""
    name = path if path is not None else exc.filename
    hint = _HINTS.get(exc.errno or -1) or exc.strerror or str(exc) or type(exc).__name__
    where = f"{escape_text(name)}: " if name is not None else ""
    return f"{where}{escape_text(hint)}"


def _first_existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def check_output_folder(folder: str | Path, *, option: str = "--out") -> Path:
    """Refuse, before any work, an output folder that cannot be created or written.

    Checks that no part of the path is a file, that every name fits the file system's limit
    and that the nearest existing folder is writable. Nothing is created.

    Raises
    ------
    RiskmodelError
        One line naming the folder, the option and the problem.
    """
    folder = Path(folder)
    shown = escape_text(folder)
    try:
        existing = _first_existing(folder.absolute())
        if not existing.is_dir():
            problem = (
                "this is a file" if existing == folder.absolute() else f"{escape_text(existing)} is a file"
            )
            raise RiskmodelError(f"{shown}: {option} must be a folder, and {problem}")
        limit = os.pathconf(existing, "PC_NAME_MAX")
        for part in folder.parts:
            if len(os.fsencode(part)) > limit:
                raise RiskmodelError(
                    f"{shown}: {option} has a name longer than the file system allows ({limit} bytes)"
                )
        if not os.access(existing, os.W_OK | os.X_OK):
            reason = "read-only file system" if _read_only(existing) else "permission denied"
            raise RiskmodelError(f"{shown}: {option} cannot be written ({escape_text(existing)}: {reason})")
        # some folders pass every check and still refuse new entries (/proc, full inode tables)
        Path(tempfile.mkdtemp(prefix=".riskmodel-probe-", dir=existing)).rmdir()
    except OSError as exc:
        hint = _HINTS.get(exc.errno or -1) or exc.strerror or str(exc)
        raise RiskmodelError(f"{shown}: {option} cannot be written ({escape_text(hint)})") from None
    return folder


def _read_only(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def input_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be read as an input file, in a few words; ``None`` when it can.

    Tells apart a missing file, a folder, a FIFO or device (``/dev/zero``), a symlink loop
    and a file the user may not read.
    """
    path = Path(path)
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            return "a symbolic link to a file that does not exist"
        return "not found"
    except OSError as exc:
        return _HINTS.get(exc.errno or -1) or exc.strerror or str(exc)
    if stat.S_ISDIR(info.st_mode):
        return "this is a folder; a file was expected"
    if stat.S_ISFIFO(info.st_mode):
        return "this is a named pipe (FIFO), not a regular file"
    if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode):
        return "this is a device, not a regular file"
    if stat.S_ISSOCK(info.st_mode):
        return "this is a socket, not a regular file"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return None


def input_message(problem: str, what: str) -> str:
    """``"<what> file not found"`` or ``"<what> file: <problem>"`` for :func:`input_problem`'s answer."""
    return f"{what} file not found" if problem == "not found" else f"{what} file: {problem}"
