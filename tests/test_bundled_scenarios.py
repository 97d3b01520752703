"""Every bundled scenario validates and agrees with its fact sheet (the cited records, transcribed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from riskmodel.backtest.facts import FactSheet, VoteFacts, check_facts, facts_path, load_facts, rule_passes
from riskmodel.errors import ScenarioError
from riskmodel.spec.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios"
BUNDLED = sorted(p for p in SCENARIOS.glob("*.yaml") if not p.name.endswith(".facts.yaml"))


def test_there_are_bundled_scenarios_and_no_orphan_fact_sheets() -> None:
    assert BUNDLED
    stems = {p.stem for p in BUNDLED}
    for sheet in SCENARIOS.glob("*.facts.yaml"):
        assert sheet.name.removesuffix(".facts.yaml") in stems, f"{sheet.name} has no scenario"


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_scenario_agrees_with_its_fact_sheet(path: Path) -> None:
    loaded = load_scenario(path)
    assert loaded.spec.name == path.stem
    sheet = facts_path(path)
    assert sheet.exists(), f"{path.name} has no fact sheet {sheet.name}"
    problems = check_facts(loaded, load_facts(sheet))
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_judgement_call_says_so_and_every_record_is_cited(path: Path) -> None:
    """A prior written as a mapping either cites a record of `sources:` or is marked judgement."""
    loaded = load_scenario(path)
    keys = set(loaded.spec.sources)
    unmarked = []

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            if "dist" in node or "between" in node or "value" in node:
                source = str(node.get("source") or "")
                if not node.get("judgement") and not any(k in source for k in keys):
                    unmarked.append(where)
                return
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for k, value in enumerate(node):
                name = value.get("name", k) if isinstance(value, dict) else k
                walk(value, f"{where}.{name}")

    walk(loaded.spec.model_dump(mode="json", by_alias=True, exclude_none=True), path.stem)
    assert unmarked == [], f"priors neither cited nor marked judgement: {unmarked[:10]}"


# ----------------------------------------------------------------------------- the checks can fail


def _usmca() -> tuple:
    path = SCENARIOS / "usmca_2019.yaml"
    return load_scenario(path), load_facts(facts_path(path))


def test_a_wrong_bloc_count_is_caught() -> None:
    loaded, facts = _usmca()
    house = facts.chambers["us.house"]
    wrong = house.model_copy(update={"blocs": {**house.blocs, "house_dem": 232, "house_rep": 198}})
    problems = check_facts(
        loaded, facts.model_copy(update={"chambers": {**facts.chambers, "us.house": wrong}})
    )
    assert any("us.house" in p and "blocs" in p for p in problems)


def test_seats_that_do_not_add_up_are_caught() -> None:
    loaded, facts = _usmca()
    house = facts.chambers["us.house"].model_copy(update={"vacancies": 3})
    problems = check_facts(
        loaded, facts.model_copy(update={"chambers": {**facts.chambers, "us.house": house}})
    )
    assert any("add up to 431" in p for p in problems)
    assert any("scenario models 431 seats, the record gives 432" in p for p in problems)


def test_a_rule_that_differs_from_the_scenario_is_caught() -> None:
    loaded, facts = _usmca()
    rule = facts.votes["us.senate_passage"].model_copy(update={"threshold": "three_fifths"})
    problems = check_facts(
        loaded, facts.model_copy(update={"votes": {**facts.votes, "us.senate_passage": rule}})
    )
    assert problems == [
        "votes.us.senate_passage.threshold: scenario has 'majority', the cited rule 'three_fifths'"
    ]


def test_a_division_total_or_result_that_contradicts_the_record_is_caught() -> None:
    loaded, facts = _usmca()
    first = facts.recorded[0]
    bad = [first.model_copy(update={"not_voting": 4}), first.model_copy(update={"passed": False})]
    problems = check_facts(loaded, facts.model_copy(update={"recorded": bad}))
    assert any("= 430, but the body had 431 members" in p for p in problems)
    assert any("the division passes, but the record says passed=False" in p for p in problems)


def test_uncited_sources_missing_chambers_and_unknown_deals_are_caught() -> None:
    loaded, facts = _usmca()
    chambers = {k: v for k, v in facts.chambers.items() if k != "us.senate"}
    outcome = [facts.outcome[0].model_copy(update={"source": "nowhere", "deal": "nafta_2"})]
    problems = check_facts(loaded, facts.model_copy(update={"chambers": chambers, "outcome": outcome}))
    assert "chamber us.senate has no entry in the fact sheet" in problems
    assert "outcome[0]: source 'nowhere' is not in the scenario's sources" in problems
    assert "outcome[0]: deal 'nafta_2' is not in the scenario" in problems


@pytest.mark.parametrize(
    ("threshold", "relative_to", "ties", "yea", "nay", "seats", "passes"),
    [
        ("majority", "voting", "fail", 217, 215, None, True),  # CAFTA-DR, House 2005
        ("majority", "voting", "fail", 215, 215, None, False),
        ("majority", "voting", "pass", 50, 50, None, True),  # the Vice President breaks the tie
        (60, "voting", "fail", 58, 42, None, False),  # JCPOA disapproval cloture, Senate 2015
        ("two_thirds", "voting", "fail", 66, 34, None, False),
        ("two_thirds", "voting", "fail", 67, 33, None, True),
        ("three_fifths", "seats", "fail", 59, 0, 100, False),
        ("majority", "seats", "fail", 51, 10, 100, True),
        ("unanimity", "voting", "fail", 27, 0, None, True),
        (0.55, "voting", "fail", 55, 45, None, True),
        (0.55, "voting", "fail", 54, 46, None, False),
    ],
)
def test_rule_arithmetic(threshold, relative_to, ties, yea, nay, seats, passes) -> None:  # type: ignore[no-untyped-def]
    rule = VoteFacts(threshold=threshold, relative_to=relative_to, ties=ties, rule="r", source="s")
    assert rule_passes(rule, yea, nay, seats=seats) is passes


def test_a_bad_fact_sheet_names_file_line_and_location(tmp_path: Path) -> None:
    sheet = tmp_path / "x.facts.yaml"
    sheet.write_text("scenario: x\nas_of: 2005-07-27\nchambers:\n  us.house:\n    body_size: many\n")
    with pytest.raises(ScenarioError) as caught:
        load_facts(sheet)
    message = str(caught.value)
    assert "x.facts.yaml" in message and ":5" in message and "chambers.us.house.body_size" in message


def test_fact_sheet_schema_rejects_unknown_keys() -> None:
    with pytest.raises(ValueError, match="extra"):
        FactSheet.model_validate({"scenario": "x", "as_of": "2005-01-01", "seat_count": 3})
