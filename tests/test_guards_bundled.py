"""Bundled cases run quietly: nothing on stderr beyond progress and warnings a user can act on.

Library noise (PyTensor's "BUG IN FGRAPH.REPLACE" tracebacks from zero-size arrays in the
forward-draw graph, NumPy runtime warnings) reads as a crash, so any of it fails these tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = sorted(
    p for p in (ROOT / "data" / "scenarios").glob("*.yaml") if not p.name.endswith(".facts.yaml")
)
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300", "NO_COLOR": "1"}


def _noise(stderr: str) -> list[str]:
    """Lines of stderr that are not blank (transient progress), an actionable warning or a status line."""
    allowed = ("warning: ", "Wrote ")
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith(allowed)]


def test_there_are_bundled_cases() -> None:
    assert len(BUNDLED) >= 5


@pytest.mark.parametrize("scenario", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_a_bundled_case_runs_without_library_noise(tmp_path: Path, scenario: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "riskmodel", "run", str(scenario), "--worlds", "200", "--out", str(tmp_path)],
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "FGRAPH" not in done.stderr and "Traceback" not in done.stderr
    assert _noise(done.stderr) == [], done.stderr


# each bundled case is checked above; this runs them again through `riskmodel gallery`
@pytest.mark.long
def test_the_gallery_runs_without_library_noise(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "riskmodel", "gallery", "--worlds", "400", "--out", str(tmp_path)],
        env=ENV,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "FGRAPH" not in done.stderr and "Traceback" not in done.stderr
    assert _noise(done.stderr) == [], done.stderr
