"""Shared fixtures: paths to the test scenarios and the shared roll-call data."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (seeded from each test's name) and keep no
# example database, so a run never depends on what an earlier run happened to find.
settings.register_profile("riskmodel", derandomize=True, database=None, print_blob=True)
settings.load_profile("riskmodel")

TESTS = Path(__file__).parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return TESTS / "fixtures"


@pytest.fixture(scope="session")
def toy_path(fixtures_dir: Path) -> Path:
    return fixtures_dir / "toy.yaml"


@pytest.fixture
def oversized_scenario(toy_path: Path, tmp_path: Path) -> Path:
    """toy.yaml padded with comment lines to just over ``MAX_SCENARIO_BYTES``: valid but too big."""
    from riskmodel.spec.scenario import MAX_SCENARIO_BYTES

    text = "# BROKEN: padded with comments beyond MAX_SCENARIO_BYTES\n" + toy_path.read_text()
    padding = "# " + "x" * 97 + "\n"
    path = tmp_path / "oversized.yaml"
    path.write_text(text + padding * (MAX_SCENARIO_BYTES // len(padding) + 1))
    assert path.stat().st_size > MAX_SCENARIO_BYTES
    return path


@pytest.fixture
def zero_byte_scenario(tmp_path: Path) -> Path:
    """A scenario file with no bytes at all (no room for an explanatory comment)."""
    path = tmp_path / "zero_bytes.yaml"
    path.write_bytes(b"")
    return path


@pytest.fixture(params=[40, 25], ids=["deep", "shallow"])
def alias_bomb_scenario(toy_path: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """toy.yaml whose procedure is ``all`` of a 2**depth-leaf tree built from YAML anchors.

    Depth 40 also nests past the loader's depth limit; depth 25 stays within it, so only the
    alias-expansion limit can stop it.
    """
    depth = request.param
    tree = "&p0 passage"
    for level in range(1, depth):
        tree = f"&p{level} {{all: [{tree}, *p{level - 1}]}}"
    text = toy_path.read_text()
    old = "procedure: {all: [passage, sign]}"
    assert text.count(old) == 1
    path = tmp_path / "alias_bomb.yaml"
    path.write_text(
        f"# BROKEN: a 'billion laughs' procedure: YAML aliases expand to 2**{depth} leaves\n"
        + text.replace(old, f"procedure: {{all: [{tree}, *p{depth - 1}, sign]}}")
    )
    return path
