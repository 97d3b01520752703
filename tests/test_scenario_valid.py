"""Valid scenarios load, and the digest identifies exactly the inputs of a run (no PyMC here)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydantic
import pytest
from scenario_error_cases import BROKEN

from riskmodel.spec.priors import Elicited, Prior
from riskmodel.spec.scenario import load_scenario, parse_scenario

MEMBERS_CASES = sorted(path.stem for path in BROKEN.glob("members_*.yaml"))


def _replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def test_toy_loads(toy_path: Path) -> None:
    loaded = load_scenario(toy_path)
    spec = loaded.spec
    assert loaded.path == toy_path
    assert [issue.name for issue in spec.issues] == ["tariff", "labour"]
    assert [deal.name for deal in spec.deals] == ["low", "high"]
    assert [side.name for side in spec.sides] == ["home", "away"]
    assert [chamber.name for chamber in spec.sides[0].chambers] == ["house", "president"]
    assert loaded.member_tables == {}
    assert len(loaded.digest) == 64


def test_digest_is_stable_across_loads(toy_path: Path) -> None:
    text = toy_path.read_text()
    first = parse_scenario(text, file=toy_path, base_dir=toy_path.parent)
    second = parse_scenario(text, file=toy_path, base_dir=toy_path.parent)
    assert first.digest == second.digest
    assert load_scenario(toy_path).digest == first.digest


def test_digest_ignores_comments_and_layout(toy_path: Path) -> None:
    text = toy_path.read_text()
    reformatted = "# a comment changes nothing\n" + _replace_once(
        text,
        "{name: low, values: {tariff: 2, labour: 0.8}}",
        "{name: low,   values: {tariff: 2.0, labour: 0.80}}",
    )
    assert parse_scenario(reformatted).digest == parse_scenario(text).digest


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("tariff: 15,", "tariff: 14,"),  # a deal value
        ("alpha: 1, beta: 20", "alpha: 1, beta: 21"),  # a prior parameter
        ("between: [0.05, 0.2]", "between: [0.05, 0.25]"),  # an elicited interval
        ("responsiveness: 0.2", "responsiveness: 0.3"),  # a fixed prior
    ],
)
def test_digest_changes_when_a_number_changes(toy_path: Path, old: str, new: str) -> None:
    text = toy_path.read_text()
    changed = _replace_once(text, old, new)
    assert parse_scenario(changed, file=toy_path).digest != parse_scenario(text, file=toy_path).digest


def test_digest_covers_member_tables(fixtures_dir: Path, tmp_path: Path) -> None:
    shutil.copy(BROKEN / "members_unknown_bloc.yaml", tmp_path / "scenario.yaml")
    table = (fixtures_dir / "members_ok.csv").read_text()
    (tmp_path / "members_unknown_bloc.csv").write_text(table)
    before = load_scenario(tmp_path / "scenario.yaml").digest
    (tmp_path / "members_unknown_bloc.csv").write_text(table.replace("m8,right,OH,4.0", "m8,right,OH,4.5"))
    assert load_scenario(tmp_path / "scenario.yaml").digest != before


def test_elicited_gamma_prior_passes_validation(toy_path: Path) -> None:
    elicited = {"between": [0.05, 0.2], "mass": 0.9, "family": "gamma"}
    prior = pydantic.TypeAdapter(Prior).validate_python(elicited)
    assert isinstance(prior, Elicited)
    assert (prior.between, prior.mass, prior.family) == ((0.05, 0.2), 0.9, "gamma")

    # also in a second place of a scenario, where the loader checks the prior's support
    text = _replace_once(
        toy_path.read_text(), "spread: 0.5", "spread: {between: [0.05, 0.2], mass: 0.9, family: gamma}"
    )
    loaded = parse_scenario(text, file="elicited.yaml")
    right = loaded.spec.sides[0].chambers[0].blocs[1]
    assert right.spread == prior


@pytest.mark.parametrize("name", MEMBERS_CASES)
def test_member_table_fixtures_load_with_a_good_table(name: str, fixtures_dir: Path, tmp_path: Path) -> None:
    """The members_* YAML files are valid: their one defect is in the CSV beside them."""
    shutil.copy(BROKEN / f"{name}.yaml", tmp_path / f"{name}.yaml")
    shutil.copy(fixtures_dir / "members_ok.csv", tmp_path / f"{name}.csv")
    loaded = load_scenario(tmp_path / f"{name}.yaml")
    table = loaded.member_tables[("home", "house")]
    assert len(table) == 9
    assert set(table["bloc"]) == {"left", "right"}
