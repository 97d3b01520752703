"""Helpers for the hostile-input, fault and fuzz tests: the one-line refusal, checked."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from riskmodel.cli.app import app

TESTS = Path(__file__).parent
TOY = TESTS / "fixtures" / "toy.yaml"
MEMBERS_OK = TESTS / "fixtures" / "members_ok.csv"
WIDE = {"COLUMNS": "2000", "NO_COLOR": "1", "TERM": "dumb"}

# what a terminal would act on: C0 controls but newline, DEL, C1 controls, bidi and other format characters
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):
    """Run the CLI in this process (fast), with a wide terminal so lines never wrap."""
    return runner.invoke(app, [str(a) for a in args], env={**WIDE, **(env or {})})


def error_lines(output: str) -> list[str]:
    """The non-blank lines of the output (progress bars leave blank lines behind)."""
    return [line for line in output.splitlines() if line.strip()]


def assert_refused(result, *, contains: tuple[str, ...] = (), nothing_in: Path | None = None) -> str:
    """A clean refusal: exit 2, one ``error:`` line, no traceback, no raw control characters.

    Returns the line. ``nothing_in``: a folder that must not exist or must be empty afterwards.
    """
    output = result.output
    assert result.exit_code == 2, f"exit {result.exit_code}: {output!r} {result.exception!r}"
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    lines = error_lines(output)
    assert len(lines) == 1, output
    line = lines[0]
    assert line.startswith("error: "), line
    assert not RAW_CONTROL.search(output), repr(output)
    for part in contains:
        assert part in line, f"{part!r} not in {line!r}"
    if nothing_in is not None:
        assert not nothing_in.exists() or not any(nothing_in.iterdir()), list(nothing_in.iterdir())
    return line


def toy_copy(folder: Path, text: str | None = None, *, name: str = "scenario.yaml") -> Path:
    """The toy scenario (or ``text``) written into ``folder`` with its member table beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "members_ok.csv").write_bytes(MEMBERS_OK.read_bytes())
    path = folder / name
    path.write_text(TOY.read_text() if text is None else text, encoding="utf-8")
    return path


def toy_text() -> str:
    """The toy scenario's text."""
    return TOY.read_text()


_PEAK_WRAPPER = """
import atexit, re, runpy, sys
from pathlib import Path

record = Path(sys.argv[1])

def _record():
    status = Path("/proc/self/status").read_text()
    record.write_text(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1))

atexit.register(_record)
sys.argv = ["riskmodel", *sys.argv[2:]]
runpy.run_module("riskmodel", run_name="__main__", alter_sys=True)
"""


def run_measuring_peak(args: list[str], env: dict[str, str], folder: Path) -> tuple[int, int, str]:
    """Exit code, peak resident memory (bytes) and stderr of ``riskmodel ARGS`` in a child process.

    The peak is the child's own high-water mark (``VmHWM``), read as it exits: a child's
    ``ru_maxrss`` would include the memory of the parent that forked it.
    """
    import subprocess
    import sys

    record = folder / "peak_kib.txt"
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_WRAPPER, str(record), *args], env=env, capture_output=True, text=True
    )
    assert record.is_file(), f"the child recorded no peak: {done.stderr}"
    peak = int(record.read_text()) * 1024
    record.unlink()
    assert peak > 100 * 2**20, peak  # Python with NumPy loaded: a real measurement
    return done.returncode, peak, done.stderr
