"""The CLI turns every broken scenario into exit code 2 and one message, and writes nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from scenario_error_cases import BROKEN, Case, case_params, case_path, load_error
from typer.testing import CliRunner

from riskmodel.cli.app import app
from riskmodel.errors import ScenarioError

runner = CliRunner()
WIDE = {"COLUMNS": "400", "NO_COLOR": "1"}


def _check_one_message(err: ScenarioError, result) -> None:
    output = result.output
    assert result.exit_code == 2, output
    # CliRunner catches unexpected exceptions itself, so check for one as well as for its text
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    squashed = "".join(output.split())  # immune to any line wrapping of long paths
    assert "".join(str(err).split()) in squashed, output
    assert err.file is not None
    assert Path(err.file).name in squashed
    if err.location is not None:
        assert err.location in squashed


@pytest.mark.parametrize("case", case_params(cli=True))
def test_validate_exits_2_with_one_message(case: Case, request: pytest.FixtureRequest) -> None:
    path = case_path(case, request)
    err = load_error(path)
    result = runner.invoke(app, ["validate", str(path)], env=WIDE)
    _check_one_message(err, result)


@pytest.mark.parametrize("case", case_params(cli=True))
def test_run_exits_2_and_writes_nothing(case: Case, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    path = case_path(case, request)
    # first, because if the loader accepted the file `run` would start a real PyMC fit
    err = load_error(path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(path), "--out", str(out), "--worlds", "10"], env=WIDE)
    _check_one_message(err, result)
    assert not out.exists() or not any(out.iterdir())


def test_validate_names_a_file_whose_name_has_brackets(tmp_path: Path) -> None:
    path = tmp_path / "[bold]scenario.yaml"
    shutil.copy(BROKEN / "bloc_seats_mismatch.yaml", path)
    err = load_error(path)
    result = runner.invoke(app, ["validate", str(path)], env=WIDE)
    _check_one_message(err, result)


def test_parameter_errors_name_parameters_in_the_library_and_flags_on_the_command_line() -> None:
    from riskmodel.cli.options import with_flags
    from riskmodel.errors import ParameterError, RiskmodelError

    error = ParameterError("{tau} must be in (0, 1], got {value}", value="{odd}")
    assert str(error) == "tau must be in (0, 1], got {odd}"
    assert str(with_flags(error, {"tau": "--tau"})) == "--tau must be in (0, 1], got {odd}"
    plain = RiskmodelError("tau is fine as text")
    assert with_flags(plain, {"tau": "--tau"}) is plain
