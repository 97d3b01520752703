# ruff: noqa: E501  (the hostile cases read best one per line)
"""Fuzz: hostile scenarios and shocks files, hand-written and generated, end in a clean refusal or a run.

Every case either validates (exit 0) or is refused with one escaped ``error:`` line and exit 2:
no traceback, no other exit code, nothing written. Generated cases mutate the valid toy
scenario and a valid shocks file one key at a time (delete, replace by a hostile value, add a
stray key). Valid mutants are also run, in a subprocess under a lowered ``--memory-limit``, and
their peak memory must stay under it. The short form runs in ``make test``; the long form
(``-m slow``) tries many more cases.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile import RAW_CONTROL, TOY, error_lines, invoke, run_measuring_peak, toy_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmodel.errors import ScenarioError
from riskmodel.spec.scenario import load_scenario
from riskmodel.spec.shockcheck import parse_shocks

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300", "NO_COLOR": "1"}
FUZZ_LIMIT = 1200 * 2**20  # a lowered --memory-limit: a tenth of a typical machine's default


def check_outcome(result, out: Path | None = None) -> bool:
    """Exit 0, or exit 2 with one clean line; returns whether the input was accepted."""
    output = result.output
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 2), f"exit {result.exit_code}: {output}"
    if result.exit_code == 2:
        lines = error_lines(output)
        assert len(lines) == 1 and lines[0].startswith("error: "), output
        assert not RAW_CONTROL.search(output), repr(output)
        if out is not None:
            assert not out.exists() or not any(out.iterdir())
    return result.exit_code == 0


# ------------------------------------------------------------------------------ hand-written cases

_TOY = toy_text()


def _swap(old: str, new: str) -> str:
    assert old in _TOY, old
    return _TOY.replace(old, new, 1)


HANDWRITTEN: dict[str, str] = {
    "empty": "",
    "only_comment": "# nothing\n",
    "null": "~\n",
    "list_top": "- a\n- b\n",
    "scalar_top": "42\n",
    "string_top": "hello\n",
    "bom": "\ufeff" + _TOY,
    "nul_byte": _TOY.replace("title:", "ti\x00tle:", 1),
    "esc_in_title": _swap("title: A two-side toy scenario", 'title: "\\e[2J\\e[31mred"'),
    "bidi_in_title": _swap("title: A two-side toy scenario", 'title: "a\\u202eb"'),
    "c1_in_value": _swap("title: A two-side toy scenario", 'title: "a\\x85b\\x9bc"'),
    "python_tag": "name: !!python/object/apply:os.system ['echo hi']\n",
    "custom_tag": _swap("name: toy", "name: !custom toy"),
    "set_tag": "!!set {a, b}\n",
    "binary_tag": "name: !!binary aGVsbG8=\n",
    "merge_key": "base: &b {x: 1}\nother:\n  <<: *b\n",
    "alias_reuse": "a: &a [1]\nb: [*a, *a, *a]\n",
    "alias_bomb": "a: &a [x,x,x,x,x,x,x,x,x]\n"
    + "".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)),
    "deep_nesting": "a: " + "[" * 200 + "]" * 200 + "\n",
    "deep_mapping": "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "v\n",
    "duplicate_key": _TOY + "name: again\n",
    "int_key": _swap("name: toy", "name: toy\n1: one"),
    "bool_key": _swap("name: toy", "name: toy\ntrue: yes"),
    "null_key": _swap("name: toy", "name: toy\n~: nothing"),
    "complex_key": _swap("name: toy", "name: toy\n? [a, b]\n: c"),
    "tabs": _TOY.replace("  ", "\t", 3),
    "unclosed_bracket": _swap(
        "{name: low, values: {tariff: 2, labour: 0.8}}", "{name: low, values: {tariff: 2"
    ),
    "unclosed_quote": _swap("title: A two-side toy scenario", 'title: "unclosed'),
    "huge_int": _swap("seats: 9", "seats: " + "9" * 400),
    "seats_4e12": _swap("seats: 9", "seats: 4000000000000"),
    "seats_negative": _swap("seats: 9", "seats: -9"),
    "seats_float": _swap("seats: 9", "seats: 9.5"),
    "seats_string": _swap("seats: 9", "seats: nine"),
    "seats_bool": _swap("seats: 9", "seats: true"),
    "seats_null": _swap("seats: 9", "seats: null"),
    "seats_list": _swap("seats: 9", "seats: [9]"),
    "seats_hex": _swap("seats: 9", "seats: 0x9"),
    "seats_sexagesimal": _swap("seats: 9", "seats: 1:30"),
    "nan_value": _swap(
        "{name: low, values: {tariff: 2, labour: 0.8}}", "{name: low, values: {tariff: .nan, labour: 0.8}}"
    ),
    "inf_value": _swap(
        "{name: low, values: {tariff: 2, labour: 0.8}}", "{name: low, values: {tariff: .inf, labour: 0.8}}"
    ),
    "huge_float": _swap(
        "{name: low, values: {tariff: 2, labour: 0.8}}", "{name: low, values: {tariff: 1e308, labour: 0.8}}"
    ),
    "tiny_float": _swap(
        "{name: low, values: {tariff: 2, labour: 0.8}}", "{name: low, values: {tariff: 1e-320, labour: 0.8}}"
    ),
    "overflow_float": _swap(
        "{name: low, values: {tariff: 2, labour: 0.8}}", "{name: low, values: {tariff: 1e999, labour: 0.8}}"
    ),
    "sigma_zero": _swap("mu: 5, sigma: 2}", "mu: 5, sigma: 0}"),
    "sigma_negative": _swap("mu: 5, sigma: 2}", "mu: 5, sigma: -2}"),
    "sigma_huge": _swap("mu: 5, sigma: 2}", "mu: 5, sigma: 1e300}"),
    "mu_huge": _swap("mu: 5, sigma: 2}", "mu: 1e300, sigma: 2}"),
    "half_normal_mu": _swap("{dist: half_normal, sigma: 0.5}", "{dist: half_normal, mu: 0.5}"),
    "unknown_dist": _swap("{dist: half_normal, sigma: 0.5}", "{dist: cauchy, sigma: 0.5}"),
    "beta_zero": _swap("{dist: beta, alpha: 1, beta: 20}", "{dist: beta, alpha: 0, beta: 20}"),
    "dirichlet_zero": _swap("{dirichlet: {tariff: 2, labour: 2}}", "{dirichlet: {tariff: 0, labour: 2}}"),
    "dirichlet_huge": _swap("{dirichlet: {tariff: 2, labour: 2}}", "{dirichlet: {tariff: 1e300, labour: 2}}"),
    "salience_negative": _swap("{dirichlet: {tariff: 2, labour: 2}}", "{tariff: -1, labour: 2}"),
    "salience_all_zero": _swap("{dirichlet: {tariff: 2, labour: 2}}", "{tariff: 0, labour: 0}"),
    "at_least_zero_empty": _swap(
        "procedure: {all: [passage, sign]}", "procedure: {at_least: {k: 0, of: []}}"
    ),
    "at_least_too_many": _swap(
        "procedure: {all: [passage, sign]}", "procedure: {at_least: {k: 5, of: [passage]}}"
    ),
    "at_least_negative": _swap(
        "procedure: {all: [passage, sign]}", "procedure: {at_least: {k: -1, of: [passage]}}"
    ),
    "procedure_empty_all": _swap("procedure: {all: [passage, sign]}", "procedure: {all: []}"),
    "procedure_unknown_vote": _swap("procedure: {all: [passage, sign]}", "procedure: {all: [passage, sgn]}"),
    "procedure_two_keys": _swap(
        "procedure: {all: [passage, sign]}", "procedure: {all: [passage], any: [sign]}"
    ),
    "procedure_deep_not": _swap(
        "procedure: {all: [passage, sign]}", "procedure: " + "{not: " * 60 + "passage" + "}" * 60
    ),
    "threshold_zero": _swap("threshold: majority", "threshold: 0"),
    "threshold_above_seats": _swap("threshold: majority", "threshold: 10"),
    "threshold_fraction_above_one": _swap("threshold: majority", "threshold: 1.5"),
    "threshold_unknown": _swap("threshold: majority", "threshold: most"),
    "threshold_nan": _swap("threshold: majority", "threshold: .nan"),
    "quorum_above_one": _swap("quorum: 0.3", "quorum: 3"),
    "range_reversed": _swap("range: [0, 20]", "range: [20, 0]"),
    "range_equal": _swap("range: [0, 20]", "range: [5, 5]"),
    "range_three": _swap("range: [0, 20]", "range: [0, 10, 20]"),
    "range_infinite": _swap("range: [0, 20]", "range: [0, .inf]"),
    "range_huge": _swap("range: [0, 20]", "range: [-1e308, 1e308]"),
    "name_with_space": _swap("name: toy", "name: to y"),
    "name_with_slash": _swap("name: toy", "name: ../../etc"),
    "name_empty": _swap("name: toy", 'name: ""'),
    "name_long": _swap("name: toy", "name: " + "a" * 5000),
    "name_unicode": _swap("name: toy", "name: tøy"),
    "name_rtl": _swap("name: toy", 'name: "to\\u202ey"'),
    "name_newline": _swap("name: toy", 'name: "to\\ny"'),
    "title_huge": _swap("title: A two-side toy scenario", "title: " + "x" * 100_000),
    "unknown_top_key": _swap("name: toy", "name: toy\nextra: 1"),
    "escape_key": _swap("name: toy", 'name: toy\n"\\e[2J\\e[H": 1'),
    "bidi_key": _swap("name: toy", 'name: toy\n"\\u202egnp.exe": 1'),
    "missing_issues": _TOY.replace("issues:", "ignored_issues:", 1),
    "issues_empty": _swap("issues:\n", "issues: []\nold_issues:\n"),
    "deal_unknown_issue": _swap(
        "{name: low, values: {tariff: 2, labour: 0.8}}", "{name: low, values: {tarif: 2, labour: 0.8}}"
    ),
    "deal_out_of_range": _swap(
        "{name: low, values: {tariff: 2, labour: 0.8}}", "{name: low, values: {tariff: 200, labour: 0.8}}"
    ),
    "deal_duplicate": _swap("{name: high,", "{name: low,"),
    "members_absolute": _swap("seats: 9\n", "seats: 9\n        members: /etc/passwd\n"),
    "members_traversal": _swap("seats: 9\n", "seats: 9\n        members: ../../../../etc/passwd\n"),
    "members_dev_zero": _swap("seats: 9\n", "seats: 9\n        members: /dev/zero\n"),
    "members_nul": _swap("seats: 9\n", 'seats: 9\n        members: "a\\0b.csv"\n'),
    "members_missing": _swap("seats: 9\n", "seats: 9\n        members: nothere.csv\n"),
    "evidence_draws_huge": _TOY
    + "evidence:\n  draws: 1000000000000\n  polls:\n    - {side: home, deal: low, approve: 5, sample_size: 10}\n",
    "evidence_chains_huge": _TOY
    + "evidence:\n  chains: 1000\n  polls:\n    - {side: home, deal: low, approve: 5, sample_size: 10}\n",
    "evidence_bad_side": _TOY
    + "evidence:\n  polls:\n    - {side: nope, deal: low, approve: 5, sample_size: 10}\n",
    "evidence_bad_deal": _TOY
    + "evidence:\n  polls:\n    - {side: home, deal: nope, approve: 5, sample_size: 10}\n",
    "evidence_approve_above": _TOY
    + "evidence:\n  polls:\n    - {side: home, deal: low, approve: 50, sample_size: 10}\n",
    "evidence_votes_outside": _TOY
    + "evidence:\n  rollcalls:\n    - {side: home, chamber: house, votes: /etc/passwd, member_key: name, issue: tariff}\n",
    "link_self": _swap("{issues: [tariff, labour]", "{issues: [tariff, tariff]"),
    "link_interaction_huge": _swap("interaction: {dist: uniform, lower: -0.3, upper: 0.3}", "interaction: 5"),
    "chamber_referendum_with_seats": _swap("kind: referendum\n", "kind: referendum\n        seats: 10\n"),
    "absence_one": _swap("absence: {dist: beta, alpha: 1, beta: 20}", "absence: 1.0"),
    "absence_above_one": _swap("absence: {dist: beta, alpha: 1, beta: 20}", "absence: 2"),
    "shock_scale_zero": _swap(
        "shock_scale: {between: [0.05, 0.2], mass: 0.9, family: gamma}", "shock_scale: 0"
    ),
    "between_reversed": _swap(
        "{between: [0.05, 0.2], mass: 0.9, family: gamma}", "{between: [0.2, 0.05], mass: 0.9, family: gamma}"
    ),
    "mass_one": _swap(
        "{between: [0.05, 0.2], mass: 0.9, family: gamma}", "{between: [0.05, 0.2], mass: 1.0, family: gamma}"
    ),
}


def _write(tmp_path: Path, text: str | bytes, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(HANDWRITTEN))
def test_handwritten_hostile_scenarios_are_refused_cleanly_or_valid(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, HANDWRITTEN[name])
    check_outcome(invoke("validate", path))


BYTES: dict[str, bytes] = {
    "latin1": "name: tøy\n".encode("latin-1"),
    "utf16": _TOY.encode("utf-16"),
    "lone_continuation": b"name: \x80\n",
    "overlong": b"name: \xc0\xaf\n",
    "c1_raw": b"name: a\xc2\x85b\n",
    "nul_only": b"\x00" * 100,
    "random_binary": bytes(range(256)) * 4,
    "crlf": _TOY.replace("\n", "\r\n").encode(),
    "cr_only": _TOY.replace("\n", "\r").encode(),
    "gzip_magic": b"\x1f\x8b\x08\x00" + b"\x00" * 50,
}


@pytest.mark.parametrize("name", sorted(BYTES))
def test_hostile_bytes_are_refused_cleanly_or_valid(tmp_path: Path, name: str) -> None:
    check_outcome(invoke("validate", _write(tmp_path, BYTES[name])))


# ------------------------------------------------------------------------------ generated: scenarios

TOY_DATA: dict[str, Any] = yaml.safe_load(_TOY)

HOSTILE_VALUES = st.one_of(
    st.sampled_from(
        [
            None,
            True,
            0,
            -1,
            1,
            2**63,
            4_000_000_000_000,
            -(10**30),
            1e308,
            -1e308,
            1e-320,
            0.5,
            "",
            " ",
            "\x1b[2J\x1b[H",
            "a\u202eb",
            "nul\x00byte",
            "c1\x85\x9b",
            "line\nbreak",
            "x" * 10_000,
            "../../../etc/passwd",
            "/dev/zero",
            [],
            {},
            [None],
            {"dist": "normal"},
            {"dist": "half_normal", "mu": 1},
            {"dist": "normal", "mu": 1e300, "sigma": 1e300},
            {"between": [1, 0], "mass": 2},
            {"k": 0, "of": []},
            {"all": []},
            "majority",
            "two_thirds",
            "nan",
            "inf",
        ]
    ),
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _mutate(data: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    mutated = copy.deepcopy(data)
    parent = mutated
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "replace":
        parent[last] = value
    elif action == "stray_key" and isinstance(parent[last], dict):
        parent[last][str(value)[:40] or "stray"] = value
    else:
        parent[last] = [value, parent[last]]
    return mutated


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000)


def mutations(data: Any) -> st.SearchStrategy[tuple[tuple[Any, ...], str, Any]]:
    """One mutation of ``data``: a key or item, what to do to it, and the hostile value."""
    return st.tuples(
        st.sampled_from(_paths(data)),
        st.sampled_from(["delete", "replace", "replace", "stray_key", "wrap"]),
        HOSTILE_VALUES,
    )


def _check_mutant(tmp_path: Path, mutation: tuple[tuple[Any, ...], str, Any]) -> bool:
    path, action, value = mutation
    text = _dump(_mutate(TOY_DATA, path, action, value))
    target = _write(tmp_path, text)
    return check_outcome(invoke("validate", target))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations(TOY_DATA))
def test_scenarios_mutated_key_by_key_are_refused_cleanly_or_valid(
    tmp_path: Path, mutation: tuple[tuple[Any, ...], str, Any]
) -> None:
    _check_mutant(tmp_path, mutation)


@pytest.mark.long
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutation=mutations(TOY_DATA))
def test_many_more_scenario_mutants(tmp_path: Path, mutation: tuple[tuple[Any, ...], str, Any]) -> None:
    _check_mutant(tmp_path, mutation)


# ------------------------------------------------------------------------------ generated: shocks files

SHOCKS_DATA: dict[str, Any] = {
    "shocks": [
        {
            "name": "left_sours",
            "kind": "shift_bloc",
            "side": "home",
            "bloc": "left",
            "issue": "tariff",
            "by": 2,
        },
        {
            "name": "left_sd",
            "kind": "shift_bloc",
            "side": "home",
            "bloc": "right",
            "issue": "tariff",
            "sd": -1,
        },
        {"name": "unions_flip", "kind": "flip_lobby", "side": "home", "lobby": "unions"},
        {
            "name": "more_left",
            "kind": "move_seats",
            "side": "home",
            "from_bloc": "right",
            "to_bloc": "left",
            "seats": 1,
        },
        {"name": "bigger", "kind": "set_seats", "side": "home", "bloc": "left", "seats": 7},
        {
            "name": "super",
            "kind": "set_threshold",
            "side": "home",
            "vote": "passage",
            "threshold": "two_thirds",
        },
    ],
    "combinations": [{"name": "storm", "shocks": ["left_sours", "unions_flip"]}],
}


@pytest.fixture(scope="module")
def toy_scenario():
    return load_scenario(TOY)


def test_the_base_shocks_file_is_valid(toy_scenario) -> None:
    parse_shocks(_dump(SHOCKS_DATA), toy_scenario, file="shocks.yaml")


def _check_shocks(toy_scenario, mutation: tuple[tuple[Any, ...], str, Any]) -> None:
    path, action, value = mutation
    text = _dump(_mutate(SHOCKS_DATA, path, action, value))
    try:
        parse_shocks(text, toy_scenario, file="shocks.yaml")
    except ScenarioError as exc:
        message = str(exc)
        assert "\n" not in message and not RAW_CONTROL.search(message), repr(message)
        assert message.startswith("shocks.yaml"), message
        if exc.location:  # a located problem carries its line
            assert exc.line is not None, message


@settings(max_examples=120, deadline=None)
@given(mutation=mutations(SHOCKS_DATA))
def test_shocks_files_mutated_key_by_key_are_refused_cleanly_or_valid(
    toy_scenario, mutation: tuple[tuple[Any, ...], str, Any]
) -> None:
    _check_shocks(toy_scenario, mutation)


@pytest.mark.long
@settings(max_examples=1500, deadline=None)
@given(mutation=mutations(SHOCKS_DATA))
def test_many_more_shocks_mutants(toy_scenario, mutation: tuple[tuple[Any, ...], str, Any]) -> None:
    _check_shocks(toy_scenario, mutation)


# ------------------------------------------------------------------------------ runs under a lowered budget

RUN_CASES = {
    "toy": _TOY,
    "toy_more_seats": _swap("seats: 9", "seats: 504").replace(
        "            seats: 5\n", "            seats: 500\n", 1
    ),
    "no_lobby_influence": _swap("influence: {dist: gamma, alpha: 2, beta: 10}", "influence: 0"),
    "everyone_absent_often": _swap("absence: {dist: beta, alpha: 1, beta: 20}", "absence: 0.99"),
    "procedure_any": _swap("procedure: {all: [passage, sign]}", "procedure: {any: [passage, sign]}"),
    "at_least_one": _swap(
        "procedure: {all: [passage, sign]}", "procedure: {at_least: {k: 1, of: [passage, sign]}}"
    ),
    "threshold_count": _swap("threshold: majority", "threshold: 9"),
    "deal_at_bounds": _swap(
        "{name: low, values: {tariff: 2, labour: 0.8}}", "{name: low, values: {tariff: 0, labour: 1}}"
    ),
}


def _run_case(tmp_path: Path, name: str, worlds: int) -> None:
    path = _write(tmp_path, RUN_CASES[name])
    out = tmp_path / "out"
    args = ["run", str(path), "--out", str(out), "--worlds", str(worlds), "--replicates", "5"]
    code, peak, stderr = run_measuring_peak([*args, "--memory-limit", str(FUZZ_LIMIT)], ENV, tmp_path)
    assert "Traceback" not in stderr, stderr
    assert code in (0, 2), stderr
    assert peak < FUZZ_LIMIT, f"peak {peak / 2**20:.0f} MiB over the limit"
    if code == 0:
        assert (out / "results.nc").is_file() and (out / "summary.csv").is_file()
        assert [line for line in stderr.splitlines() if line.strip()] == []
    else:
        assert len([line for line in stderr.splitlines() if line.strip()]) == 1
        assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("name", ["toy", "everyone_absent_often"])
def test_runs_stay_under_a_lowered_memory_limit(tmp_path: Path, name: str) -> None:
    _run_case(tmp_path, name, worlds=200)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RUN_CASES))
@pytest.mark.parametrize("worlds", [100, 20_000])
def test_every_run_case_stays_under_a_lowered_memory_limit(tmp_path: Path, name: str, worlds: int) -> None:
    _run_case(tmp_path, name, worlds=worlds)


def test_a_run_beyond_the_lowered_limit_is_refused_not_attempted(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("run", TOY, "--out", out, "--worlds", "20000000", "--memory-limit", str(FUZZ_LIMIT))
    assert not check_outcome(result, out)
    assert "--memory-limit" in result.output
