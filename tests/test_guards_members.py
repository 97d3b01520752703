"""Member tables: names normalised to NFC and free of control characters, bounded offsets, no table
outside the scenario's folder unless the user allows it."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hostile import TESTS, assert_refused, invoke

from riskmodel.spec.names import MAX_OFFSET
from riskmodel.spec.scenario import load_scenario

# the toy scenario with its house drawn from a member table (the broken fixture minus its flaw)
TABLE_SCENARIO = (TESTS / "fixtures" / "broken" / "members_duplicate_name.yaml").read_text().split("\n", 1)[1]
ROWS = [("m0", "left"), ("m1", "left"), ("m2", "left"), ("m3", "left"), ("m4", "left")]
ROWS += [("m5", "right"), ("m6", "right"), ("m7", "right"), ("m8", "right")]


def _write(
    folder: Path, rows: list[tuple[str, str]], *, offsets: list[str] | None = None, table: str | None = None
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    header = "name,bloc" + (",offset.tariff" if offsets else "")
    lines = [header] + [
        f"{name},{bloc}" + (f",{offsets[i]}" if offsets else "") for i, (name, bloc) in enumerate(rows)
    ]
    (folder / "members.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = folder / "scenario.yaml"
    path.write_text(
        TABLE_SCENARIO.replace("members_duplicate_name.csv", table or "members.csv"), encoding="utf-8"
    )
    return path


def test_the_table_scenario_is_valid(tmp_path: Path) -> None:
    loaded = load_scenario(_write(tmp_path, ROWS))
    assert list(loaded.member_tables[("home", "house")]["name"]) == [name for name, _ in ROWS]


def test_names_differing_only_by_normalisation_are_one_member_refused_as_duplicates(tmp_path: Path) -> None:
    composed = unicodedata.normalize("NFC", "Nuñez")
    decomposed = unicodedata.normalize("NFD", "Nuñez")
    assert composed != decomposed
    rows = [(composed, "left"), (decomposed, "left"), *ROWS[2:]]
    assert_refused(
        invoke("validate", _write(tmp_path, rows)), contains=("duplicate member name", "members.csv:3")
    )


def test_names_are_stored_in_nfc(tmp_path: Path) -> None:
    rows = [(unicodedata.normalize("NFD", "Élise"), "left"), *ROWS[1:]]
    table = load_scenario(_write(tmp_path, rows)).member_tables[("home", "house")]
    assert table["name"].iloc[0] == unicodedata.normalize("NFC", "Élise")


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("m\x00x", "\\x00"),
        ("m\x1b[2Jx", "\\x1b"),
        ("m\u202ex", "[U+202E]"),
        ("m\x85x", "\\x85"),
        ("m\tx", "\\t"),
    ],
)
def test_control_characters_in_member_names_are_refused_escaped(
    tmp_path: Path, name: str, shown: str
) -> None:
    rows = [(name, "left"), *ROWS[1:]]
    line = assert_refused(invoke("validate", _write(tmp_path, rows)), contains=("members.csv:2",))
    assert shown in line


@pytest.mark.parametrize("value", ["1e300", "-1e300", str(MAX_OFFSET * 10)])
def test_offsets_beyond_the_bound_are_refused(tmp_path: Path, value: str) -> None:
    offsets = ["0"] * 9
    offsets[4] = value
    assert_refused(
        invoke("validate", _write(tmp_path, ROWS, offsets=offsets)), contains=("members.csv:6", "offset")
    )


def test_offsets_within_the_bound_are_accepted(tmp_path: Path) -> None:
    offsets = ["0", "1.5", "-2", "0", "0", "0", "0", "0", str(MAX_OFFSET)]
    assert invoke("validate", _write(tmp_path, ROWS, offsets=offsets)).exit_code == 0


def test_a_table_outside_the_scenario_folder_is_refused_unless_allowed(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    _write(outside, ROWS)
    path = _write(tmp_path / "scenario", ROWS, table=str(outside / "members.csv"))
    assert_refused(
        invoke("validate", path), contains=("outside the scenario's folder", "--allow-outside-tables")
    )
    assert invoke("--allow-outside-tables", "validate", path).exit_code == 0
    # the permission lasts for that command only
    assert_refused(invoke("validate", path), contains=("outside the scenario's folder",))


@pytest.mark.parametrize("table", ["../members.csv", "/etc/passwd", "sub/../../members.csv"])
def test_relative_escapes_and_absolute_paths_are_refused(tmp_path: Path, table: str) -> None:
    _write(tmp_path, ROWS)
    path = _write(tmp_path / "inner", ROWS, table=table)
    assert_refused(invoke("validate", path), contains=("outside the scenario's folder",))


def test_a_symlink_inside_pointing_outside_is_refused(tmp_path: Path) -> None:
    _write(tmp_path / "outside", ROWS)
    path = _write(tmp_path / "inner", ROWS, table="link.csv")
    (tmp_path / "inner" / "link.csv").symlink_to(tmp_path / "outside" / "members.csv")
    assert_refused(invoke("validate", path), contains=("outside the scenario's folder",))


def test_a_member_table_that_is_a_folder_or_a_loop_is_named_so(tmp_path: Path) -> None:
    path = _write(tmp_path, ROWS, table="dir.csv")
    (tmp_path / "dir.csv").mkdir()
    assert_refused(invoke("validate", path), contains=("folder",))
    path = _write(tmp_path, ROWS, table="loop.csv")
    (tmp_path / "loop.csv").symlink_to(tmp_path / "loop2.csv")
    (tmp_path / "loop2.csv").symlink_to(tmp_path / "loop.csv")
    assert_refused(invoke("validate", path), contains=("loop",))
