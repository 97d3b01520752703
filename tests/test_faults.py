"""Faults: kills at any moment leave no half-written output and no debris; a full disk and a
read-only folder are one line and exit 2; a failing writer never damages the file it replaces."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hostile import TOY

from riskmodel.errors import RiskmodelError
from riskmodel.io import load_results, remove_stale_temp_files, save_results, write_atomic

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300", "NO_COLOR": "1"}
SMALL = ["--worlds", "40", "--replicates", "4"]


def _riskmodel(*args: object) -> list[str]:
    return [sys.executable, "-m", "riskmodel", *map(str, args)]


def _temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")) if folder.exists() else []


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# ------------------------------------------------------------------------------ the atomic writer


def test_a_writer_failing_half_way_leaves_the_old_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text("old, complete\n")

    def half(tmp: Path) -> None:
        tmp.write_text("new, half")
        raise RuntimeError("disk went away")

    with pytest.raises(RuntimeError, match="disk went away"):
        write_atomic(path, half)
    assert path.read_text() == "old, complete\n"
    assert _temp_files(tmp_path) == []


def test_save_results_never_writes_in_place(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A results writer that fails half-way (netCDF's own writer here) leaves the old results whole."""
    path = tmp_path / "results.nc"
    old = xr.Dataset({"x": ("t", np.arange(3.0))})
    save_results(old, path)
    before = path.read_bytes()

    real_to_netcdf = xr.Dataset.to_netcdf

    def to_netcdf(self: xr.Dataset, target: object = None, *args: object, **kwargs: object) -> object:
        if target is not None:  # a writer straight into the target: half a file, then the disk is full
            Path(str(target)).write_bytes(b"\x89HDF half a file")
            raise OSError(28, "No space left on device")
        return real_to_netcdf(self, None, *args, **kwargs)

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", to_netcdf)
    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(RiskmodelError, match="no space left"):
        save_results(xr.Dataset({"x": ("t", np.arange(5.0))}), path)
    assert path.read_bytes() == before
    assert _temp_files(tmp_path) == []


def test_stale_temp_files_of_dead_processes_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    dead = tmp_path / f".results.nc.riskmodel-{_dead_pid()}-abc123.tmp"
    live = tmp_path / f".results.nc.riskmodel-{os.getpid()}-def456.tmp"
    old_legacy = tmp_path / ".report.pdf.k3j4h5g6.tmp"
    new_legacy = tmp_path / ".report.pdf.a1b2c3d4.tmp"
    unrelated = tmp_path / ".hidden.tmp"
    for path in (dead, live, old_legacy, new_legacy, unrelated):
        path.write_text("x")
    hours_ago = time.time() - 7200
    os.utime(old_legacy, (hours_ago, hours_ago))
    removed = remove_stale_temp_files(tmp_path)
    assert sorted(removed) == sorted([dead, old_legacy])
    assert live.exists() and new_legacy.exists() and unrelated.exists()


def test_the_next_write_in_a_folder_removes_debris_of_a_killed_run(tmp_path: Path) -> None:
    debris = tmp_path / f".summary.csv.riskmodel-{_dead_pid()}-zz.tmp"
    debris.write_text("half")
    write_atomic(tmp_path / "summary.csv", lambda tmp: tmp.write_text("a,b\n"))
    assert _temp_files(tmp_path) == []


_SIGNAL_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from riskmodel.io import remove_temp_files_on_signals, write_atomic
    signum = getattr(signal, sys.argv[2])
    if signum != signal.SIGINT:
        # as from a terminal: under nohup SIGHUP arrives ignored, and an ignored signal stays so
        signal.signal(signum, signal.SIG_DFL)
    elif signal.getsignal(signum) == signal.SIG_IGN:
        # a background job of a non-interactive shell starts with SIGINT ignored, and Python then
        # installs no KeyboardInterrupt handler; from a terminal it does
        signal.signal(signum, signal.default_int_handler)
    remove_temp_files_on_signals()
    def write(tmp):
        tmp.write_text("half")
        os.kill(os.getpid(), signum)
        tmp.write_text("never")
    write_atomic(Path(sys.argv[1]) / "out.txt", write)
    """
)


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGQUIT", "SIGINT"])
def test_a_signal_during_a_write_removes_the_temp_file(tmp_path: Path, name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _SIGNAL_SCRIPT, str(tmp_path), name], env=ENV, capture_output=True, text=True
    )
    assert done.returncode != 0, done.stderr
    if name != "SIGINT":
        assert done.returncode == -getattr(signal, name)  # still dies of the signal, as callers expect
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------ kill -9 at random moments


def _complete_run_outputs(out: Path) -> None:
    """Whatever a killed run left is whole: results that load and check, a CSV that parses."""
    names = {p.name for p in out.iterdir() if not p.name.endswith(".tmp")} if out.exists() else set()
    assert names <= {"results.nc", "summary.csv"}, names
    if "results.nc" in names:
        results = load_results(out / "results.nc")
        assert int(results.attrs["n_worlds"]) == 40
    if "summary.csv" in names:
        table = pd.read_csv(out / "summary.csv")
        assert len(table) > 0 and table["probability"].between(0, 1).all()


def _complete_report_outputs(folder: Path) -> None:
    if (folder / "report.html").exists():
        assert (folder / "report.html").read_text(encoding="utf-8").rstrip().endswith("</html>")
    if (folder / "report.pdf").exists():
        data = (folder / "report.pdf").read_bytes()
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")


def _kill_at(command: list[str], delay: float) -> None:
    process = subprocess.Popen(command, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()


def _timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=ENV, check=True, capture_output=True)
    return time.perf_counter() - started


def _kill_loop(tmp_path: Path, kills_run: int, kills_report: int, seed: int) -> None:
    rng = random.Random(seed)
    out = tmp_path / "out"
    run = _riskmodel("run", TOY, *SMALL, "--out", out)
    duration = _timed(run)
    # kills spread over the whole run, most of them late, where the files are written
    for _ in range(kills_run):
        _kill_at(run, duration * rng.choice([rng.uniform(0, 1), rng.uniform(0.6, 1.1)]))
        _complete_run_outputs(out)
    subprocess.run(run, env=ENV, check=True, capture_output=True)
    assert _temp_files(out) == []
    _complete_run_outputs(out)

    report = _riskmodel("report", out / "results.nc")
    duration = _timed(report)
    for _ in range(kills_report):
        _kill_at(report, duration * rng.choice([rng.uniform(0, 1), rng.uniform(0.6, 1.1)]))
        _complete_report_outputs(out)
    subprocess.run(report, env=ENV, check=True, capture_output=True)
    assert _temp_files(out) == []
    _complete_report_outputs(out)


def test_kill_9_during_run_and_report_leaves_whole_files_and_no_debris_short(tmp_path: Path) -> None:
    _kill_loop(tmp_path, kills_run=2, kills_report=1, seed=1)


@pytest.mark.long
def test_kill_9_during_run_and_report_leaves_whole_files_and_no_debris(tmp_path: Path) -> None:
    _kill_loop(tmp_path, kills_run=12, kills_report=10, seed=20_190_101)


# ------------------------------------------------------------------------------ full disk, read-only folder


@contextlib.contextmanager
def _tmpfs(folder: Path, options: str) -> Iterator[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    if sys.platform != "linux":
        pytest.skip("tmpfs mounts are Linux only")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or 'mount not allowed'})")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "disk", "size=64k") as disk:
        (disk / "filler").write_bytes(b"\0" * 50_000)
        out = disk / "out"
        done = subprocess.run(
            _riskmodel("run", TOY, *SMALL, "--out", out), env=ENV, capture_output=True, text=True
        )
        line = _one_error_line(done)
        assert "no space left" in line and "results.nc" in line
        assert not out.exists()  # not even the folder it would have made


def test_a_read_only_folder_is_one_line_before_any_work(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "ro", "ro,size=64k") as folder:
        started = time.perf_counter()
        done = subprocess.run(
            _riskmodel("run", TOY, "--out", folder / "out"), env=ENV, capture_output=True, text=True
        )
        line = _one_error_line(done)
        assert "read-only" in line
        assert done.stdout == ""  # refused before the simulation (which would print its table)
        assert time.perf_counter() - started < 120
