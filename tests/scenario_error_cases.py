"""The broken-scenario table shared by the loader and CLI error tests.

Each YAML file in ``tests/fixtures/broken`` is ``tests/fixtures/toy.yaml`` with one defect,
described in its first-line comment. The ``members_*`` files point their ``house`` chamber at a
CSV member table beside them; the YAML is otherwise valid (``test_scenario_valid`` loads it with
a good table), so the defect is in the CSV. Files that would be megabytes, or that would hang a
loader that has the bug, are written at test time by fixtures in ``conftest.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from riskmodel.errors import ScenarioError
from riskmodel.spec.scenario import load_scenario

BROKEN = Path(__file__).parent / "fixtures" / "broken"

# Generated cases: case name -> conftest fixture that writes the file.
GENERATED = {"oversized": "oversized_scenario", "zero_bytes": "zero_byte_scenario"}


@dataclass(frozen=True)
class Case:
    """What loading one broken file must report.

    Attributes
    ----------
    name
        Fixture stem in ``tests/fixtures/broken`` (or a key of ``GENERATED``).
    location
        Substring expected in the error's dotted location; ``None`` for whole-file problems.
    words
        Substrings expected in the message.
    line
        Expected line (or acceptable lines) in ``file``; ``None`` when no line is meaningful.
    file
        Name of the file the error must blame; the scenario itself when ``None``.
    bug
        Known loader weakness: the test is ``xfail(strict=True)`` with this reason.
    rejected
        False when today's loader accepts the file or crashes on it; the CLI tests then
        xfail too (a wrong location or message still gives exit code 2 in the CLI).
    cli_bug
        Known CLI weakness for this file: the CLI tests are ``xfail(strict=True)``.
    """

    name: str
    location: str | None
    words: tuple[str, ...]
    line: int | tuple[int, ...] | None = None
    file: str | None = None
    bug: str | None = None
    rejected: bool = True
    cli_bug: str | None = None

    @property
    def lines(self) -> tuple[int, ...]:
        if self.line is None:
            return ()
        return self.line if isinstance(self.line, tuple) else (self.line,)


HOUSE = "sides.home.chambers.house"

CLI_MARKUP = (
    "riskmodel.cli.app._fail prints the message with rich markup=True and no escaping: text in "
    "[brackets] is eaten as a style tag ('{between: [lo, hi], ...}' prints as '{between: , ...}', "
    "the pydantic tag list in the location is mangled) and '[/x]' raises rich.errors.MarkupError"
)

CASES = [
    # --- rejected correctly today -------------------------------------------------------------
    Case(
        "unknown_key_typo", f"{HOUSE}.blocs.left.seets", ("unknown key 'seets'", "did you mean 'seats'"), 22
    ),
    Case("wrong_type_seats", f"{HOUSE}.seats", ("integer",), 17),
    Case("negative_shock_scale", f"{HOUSE}.shock_scale", ("shock scale", "-0.1"), 19),
    Case("absence_above_one", f"{HOUSE}.absence", ("absence probability", "[0, 1]"), 18),
    Case("empty_chamber", "sides.home.chambers.president", ("no members",), 32),
    Case("bloc_seats_mismatch", f"{HOUSE}.seats", ("declared 10 seats", "hold 9"), 17),
    Case("threshold_above_seats", "sides.home.votes.passage.threshold", ("threshold 12", "9 seats"), 37),
    Case("procedure_unknown_vote", "sides.home.procedure.all[1]", ("'sgn'", "did you mean 'sign'"), 39),
    Case(
        "vote_unknown_chamber",
        "sides.home.votes.passage.chamber",
        ("unknown chamber 'hose'", "did you mean 'house'"),
        37,
    ),
    Case("nan_value", f"{HOUSE}.blocs.left.responsiveness", ("finite",), 27),
    Case("infinite_value", "issues.tariff.range", ("finite",), 5),
    Case("duplicate_bloc_name", f"{HOUSE}.blocs", ("duplicate bloc name 'left'",), 28),
    Case("duplicate_deal_name", "deals.low", ("duplicate deal name 'low'",), 11),
    Case("duplicate_yaml_key", None, ("duplicate key 'seats'", "line 17"), 18),
    Case("yaml_syntax_error", None, ("YAML",), (10, 11)),
    Case("python_tag", None, ("python/object/apply", "not allowed"), 3),
    Case("deal_value_out_of_range", "deals.high.values.tariff", ("25", "outside", "range"), 11),
    Case("deal_missing_values", "deals.high", ("missing required key 'values'",), 11),
    Case(
        "deal_unknown_issue",
        "deals.high.values.tarif",
        ("unknown issue 'tarif'", "did you mean 'tariff'"),
        11,
    ),
    Case("issue_range_reversed", "issues.tariff", ("must be below",), 5),
    Case("referendum_with_blocs", "sides.away.chambers.voters", ("referendum", "blocs"), (54, 59)),
    Case(
        "lobby_unknown_bloc",
        "sides.home.lobbies.unions.reaches.blocs",
        ("unknown bloc 'lefty'", "did you mean 'left'"),
        44,
    ),
    Case("link_interaction_out_of_range", "links[0].interaction", ("(-1, 1)",), 8),
    Case("at_least_k_too_large", "sides.home.procedure.at_least", ("k = 3", "2 clauses"), 39),
    Case("top_level_list", None, ("mapping",), (1, 2)),
    Case("empty_file", None, ("mapping",)),
    Case(
        "members_duplicate_name",
        "name",
        ("duplicate member name 'm1'", "line 3"),
        5,
        file="members_duplicate_name.csv",
    ),
    Case(
        "members_unknown_bloc",
        "bloc",
        ("unknown bloc 'rigth'", "did you mean 'right'"),
        9,
        file="members_unknown_bloc.csv",
    ),
    Case("members_missing_column", None, ("missing column 'bloc'",), 1, file="members_missing_column.csv"),
    Case(
        "markup_in_key",
        "[/x]",
        ("unknown key '[/x]'",),
        4,
    ),
    Case("oversized", None, ("bytes", "limited")),
    Case("zero_bytes", None, ("mapping",)),
    # --- multilateral and nested games ----------------------------------------------------------
    Case("multi_party_not_a_side", "deals.high.parties[1]", ("unknown side 'abroad'",), 11),
    Case(
        "multi_weight_not_a_party",
        "deals.high.agreement.weighted.weights.away",
        ("weight for 'away'", "not a party"),
        11,
    ),
    Case(
        "multi_nested_weight_not_a_member",
        "sides.union.agreement.weighted.weights.away",
        ("weight for 'away'", "not a member"),
        63,
    ),
    Case(
        "multi_weighted_threshold_above_total",
        "deals.high.agreement.weighted.threshold",
        ("threshold 6", "total weight 5"),
        11,
    ),
    Case("multi_at_least_k_zero", "deals.high.agreement.at_least.k", ("k = 0", "[1, 2]"), 11),
    Case("multi_at_least_k_too_large", "deals.high.agreement.at_least.k", ("k = 3", "[1, 2]"), 11),
    Case("multi_nested_cycle", "sides.bloc_a.members", ("cycle", "bloc_a -> bloc_b -> bloc_a"), 63),
    Case(
        "multi_reversion_if_cycle",
        "sides.home.reversion_if[0].ratified",
        ("cycle of deals", "low -> high -> low"),
        15,
    ),
    # --- cases that once exposed loader weaknesses --------------------------------------------
    Case(
        "negative_spread_sigma",
        f"{HOUSE}.blocs.right.spread.sigma",
        ("greater than 0",),
        31,
    ),
    Case(
        "nan_prior_parameter",
        f"{HOUSE}.blocs.left.party_pull.sigma",
        ("finite",),
        26,
    ),
    Case(
        "elicited_interval_reversed",
        f"{HOUSE}.shock_scale",
        ("must be below",),
        19,
    ),
    Case(
        "unknown_prior_family",
        f"{HOUSE}.blocs.left.ideal.tariff",
        ("'normall'", "did you mean 'normal'"),
        23,
    ),
    Case(
        "truncated_bounds_reversed",
        f"{HOUSE}.blocs.right.ideal.tariff",
        ("lower (20.0) must be below upper (0.0)",),
        30,
    ),
    Case(
        "procedure_unknown_key",
        "sides.home.procedure",
        ("'alll'", "did you mean 'all'"),
        39,
    ),
    Case(
        "threshold_fraction_above_one",
        "sides.home.votes.passage.threshold",
        ("fraction",),
        37,
    ),
    Case(
        "non_string_key",
        None,
        ("a key must be text", "int 1"),
        4,
    ),
    Case(
        "members_ragged_row",
        None,
        ("fields",),
        6,
        file="members_ragged_row.csv",
    ),
    Case(
        "bool_deal_value",
        "deals.low.values.labour",
        ("number",),
        10,
    ),
    Case(
        "bool_threshold",
        "sides.home.votes.passage.threshold",
        ("threshold",),
        37,
    ),
    Case(
        "members_duplicate_column",
        None,
        ("duplicate column",),
        1,
        file="members_duplicate_column.csv",
    ),
    Case(
        "complex_key",
        None,
        ("key",),
        4,
    ),
    Case(
        "deep_nesting",
        None,
        ("nest",),
        4,
    ),
]

CASES_BY_NAME = {case.name: case for case in CASES}


def case_params(*, cli: bool = False) -> list[Any]:
    """``pytest.param`` per case; known weaknesses are strict xfails.

    For the CLI only files the loader accepts or crashes on, and known CLI weaknesses, are
    expected to fail: a vague loader message still exits with code 2 and names file and location.
    """
    params = []
    for case in CASES:
        marks = []
        if case.bug is not None and (not cli or not case.rejected):
            marks.append(pytest.mark.xfail(strict=True, reason=case.bug))
        elif cli and case.cli_bug is not None:
            marks.append(pytest.mark.xfail(strict=True, reason=case.cli_bug))
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def load_error(path: Path) -> ScenarioError:
    """The ScenarioError from loading ``path``; a crash or an accepted file fails the test briefly.

    A crash is reported in one line: a RecursionError's traceback would take seconds to render.
    """
    outcome = f"load_scenario accepted {path.name}"
    try:
        load_scenario(path)
    except ScenarioError as err:
        return err
    except Exception as exc:
        outcome = f"load_scenario crashed with {type(exc).__name__}: {exc}"
    # failing outside the except block keeps the crash out of the exception chain pytest renders
    pytest.fail(outcome, pytrace=False)


def case_path(case: Case, request: pytest.FixtureRequest) -> Path:
    """The scenario file of a case (written by a conftest fixture for generated cases)."""
    if case.name in GENERATED:
        return request.getfixturevalue(GENERATED[case.name])
    return BROKEN / f"{case.name}.yaml"


def location_in_file(raw: Any, location: str, *, may_be_missing: bool) -> bool:
    """Whether a dotted location names real keys of the YAML data (list items by ``name``).

    Only the last part may be absent, and only for a "missing key" error; anything else
    (pydantic union tags such as ``tagged-union[...]`` or ``constrained-str``) is a leak.
    Keys are matched as whole strings, so a key such as ``[/x]`` is not taken for an index.
    """

    def walk(node: Any, rest: str, first: bool) -> bool:
        if not rest:
            return True
        dot = "" if first else "."
        steps: list[tuple[str, Any]] = []
        if isinstance(node, list):
            steps += [(f"[{i}]", item) for i, item in enumerate(node)]
            steps += [
                (dot + item["name"], item)
                for item in node
                if isinstance(item, Mapping) and isinstance(item.get("name"), str)
            ]
        elif isinstance(node, Mapping):
            steps += [(dot + str(key), value) for key, value in node.items()]
        for step, child in steps:
            tail = rest[len(step) :]
            if rest.startswith(step) and (not tail or tail[0] in ".[") and walk(child, tail, False):
                return True
        return (
            may_be_missing
            and isinstance(node, Mapping)
            and re.fullmatch(rf"{re.escape(dot)}\w+", rest) is not None
        )

    return walk(raw, location, True)
