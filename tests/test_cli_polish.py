"""The command line as a user meets it: --version, clean help, JSON output, folded tables."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from riskmodel.cli.app import app
from riskmodel.io import package_versions

COMMANDS = ["validate", "run", "winset", "sensitivity", "stress", "report", "gallery"]


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"riskmodel {package_versions()['riskmodel']}"


@pytest.mark.parametrize("command", COMMANDS)
def test_help_names_arguments_and_hides_flag_types(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0
    assert "<bool>" not in result.output
    assert not re.search(r"\{[a-z_]+\}", result.output), result.output
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    assert "[OPTIONS]" in usage


def test_help_paragraphs_are_not_hard_wrapped() -> None:
    # the stress docstring wraps mid-sentence in the source; help must reflow it to the width
    result = CliRunner().invoke(app, ["stress", "--help"], env={"COLUMNS": "200"})
    assert "Every unit of work has its own seed" in result.output


def test_run_json_parses_and_matches_the_csv(toy_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["run", str(toy_path), "--worlds", "100", "--replicates", "10", "--out", str(tmp_path), "--json"],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    rows = payload["rows"]
    assert {row["deal"] for row in rows} == {"low", "high"}
    assert {row["side"] for row in rows} == {"home", "away", "joint"}
    csv = (tmp_path / "summary.csv").read_text().splitlines()
    assert len(csv) == len(rows) + 1
    assert payload["attrs"]["n_worlds"] == 100


def test_narrow_terminal_folds_rather_than_truncates(toy_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["run", str(toy_path), "--worlds", "100", "--replicates", "10", "--out", str(tmp_path)],
        env={"COLUMNS": "50"},
    )
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    # every number of the table survives, if on two lines: the MCSE follows each probability
    assert result.stdout.count("±") >= 6


STRESS_SHOCKS = """
shocks:
  - {name: no_president, kind: remove_veto, side: home, vote: sign}
  - {name: sours, kind: shift_approval, side: home, by: -0.2}
"""


@pytest.mark.parametrize("command", ["winset", "sensitivity", "stress"])
def test_analysis_commands_print_parseable_json(command: str, toy_path: Path, tmp_path: Path) -> None:
    shocks = tmp_path / "shocks.yaml"
    shocks.write_text(STRESS_SHOCKS)
    extra = {
        "winset": ["--x", "tariff", "--y", "labour", "--grid", "5", "--no-plots"],
        "sensitivity": ["--deal", "low"],
        "stress": ["--shocks", str(shocks), "--serial"],
    }[command]
    args = [command, str(toy_path), *extra, "--worlds", "100", "--replicates", "10", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    if command == "winset":
        assert payload["rows"][-1]["win-set"] == "overlap (joint)"
    elif command == "sensitivity":
        rows = payload["constituencies"]
        assert {row["deal"] for row in rows} == {"low"}
        assert all(row["sobol_first"] is None or row["sobol_first"] >= 0 for row in rows)
    else:
        assert {row["shock"] for row in payload["ranking"]} == {"no_president", "sours"}
        assert all(row["change"] > 0 for row in payload["helps"])
        assert all(row["change"] < 0 for row in payload["hurts"])


def test_run_marks_a_deal_equal_to_the_fallback_as_no_change(toy_path: Path, tmp_path: Path) -> None:
    import yaml

    spec = yaml.safe_load(toy_path.read_text())
    spec["deals"].append({"name": "status_quo", "values": dict(spec["sides"][0]["reversion"])})
    path = tmp_path / "fallback.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    args = ["run", str(path), "--worlds", "100", "--replicates", "10", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    flagged = {(row["deal"], row["side"]) for row in rows if row["no_change"]}
    assert flagged == {("status_quo", "home"), ("status_quo", "away")}
    shown = CliRunner().invoke(app, args, env={"COLUMNS": "160"})
    assert shown.stdout.count("(no change)") == 2
