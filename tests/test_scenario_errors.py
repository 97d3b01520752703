"""Every deliberately broken scenario is refused with one precise ScenarioError (no PyMC here)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from scenario_error_cases import (
    BROKEN,
    CASES_BY_NAME,
    GENERATED,
    Case,
    case_params,
    case_path,
    load_error,
    location_in_file,
)


@pytest.mark.parametrize("case", case_params())
def test_broken_scenario_is_refused_precisely(case: Case, request: pytest.FixtureRequest) -> None:
    path = case_path(case, request)
    err = load_error(path)
    text = str(err)

    blamed = path if case.file is None else path.parent / case.file
    assert err.file is not None
    assert Path(err.file).resolve() == blamed.resolve(), text
    assert err.file in text

    if case.lines:
        assert err.line in case.lines, text
        assert f"{err.file}:{err.line}" in text
    if case.location is not None:
        assert err.location is not None, text
        assert case.location in err.location, text
        assert f" at {err.location}" in text
        if case.file is None:
            raw = yaml.safe_load(path.read_text())
            assert location_in_file(raw, err.location, may_be_missing="missing" in err.message), (
                f"location {err.location!r} is not a path of keys in {path.name}"
            )
    for word in case.words:
        assert word in err.message, text
    assert err.message in text


def test_every_broken_file_has_a_case_and_a_comment() -> None:
    stems = {path.stem for path in BROKEN.glob("*.yaml")}
    assert stems == set(CASES_BY_NAME) - set(GENERATED)
    assert len(CASES_BY_NAME) >= 24
    for path in BROKEN.glob("*.yaml"):
        first = path.read_text().splitlines()[0]
        assert first.startswith("# BROKEN: "), path.name


def test_every_broken_table_is_used() -> None:
    referenced = {
        line.split("members:")[1].strip()
        for path in BROKEN.glob("*.yaml")
        for line in path.read_text().splitlines()
        if line.strip().startswith("members:")
    }
    assert referenced == {path.name for path in BROKEN.glob("*.csv")}


def test_alias_bomb_is_refused_quickly(alias_bomb_scenario: Path) -> None:
    script = textwrap.dedent(
        """
        import sys
        from riskmodel.errors import ScenarioError
        from riskmodel.spec.scenario import load_scenario
        try:
            load_scenario(sys.argv[1])
        except ScenarioError as err:
            print(err)
            sys.exit(3)
        """
    )
    try:
        result = subprocess.run(  # a subprocess: a hung loader cannot be interrupted in process
            [sys.executable, "-c", script, str(alias_bomb_scenario)],
            capture_output=True,
            text=True,
            timeout=60,  # mostly interpreter start and imports on a loaded machine; the bomb never ends
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("load_scenario did not refuse the alias bomb within 60 s")
    assert result.returncode == 3, result.stderr
    assert str(alias_bomb_scenario) in result.stdout
