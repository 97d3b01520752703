"""Hostile input: every failure a user can cause is one escaped ``error:`` line, exit 2, nothing written."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr
from hostile import TOY, assert_refused, invoke, toy_copy, toy_text

from riskmodel.errors import escape_text

# ------------------------------------------------------------------------------ input paths


def test_a_folder_given_as_scenario_is_named_a_folder(tmp_path: Path) -> None:
    assert_refused(invoke("validate", tmp_path), contains=("folder",))


def test_dev_zero_is_named_a_device() -> None:
    assert_refused(invoke("validate", "/dev/zero"), contains=("device",))


def test_a_fifo_is_named_a_fifo_and_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    assert_refused(invoke("validate", fifo), contains=("FIFO",))


def test_a_symlink_loop_is_named_a_loop(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "b.yaml")
    (tmp_path / "b.yaml").symlink_to(tmp_path / "a.yaml")
    assert_refused(invoke("validate", tmp_path / "a.yaml"), contains=("symlink loop",))


def test_a_dangling_symlink_says_so(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").symlink_to(tmp_path / "gone.yaml")
    assert_refused(invoke("validate", tmp_path / "a.yaml"), contains=("does not exist",))


def test_a_missing_scenario_is_not_found(tmp_path: Path) -> None:
    assert_refused(invoke("validate", tmp_path / "nope.yaml"), contains=("not found",))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file; permissions cannot be tested")
def test_an_unreadable_scenario_says_permission_denied(tmp_path: Path) -> None:
    path = toy_copy(tmp_path)
    path.chmod(0)
    assert_refused(invoke("validate", path), contains=("permission denied",))


def test_a_file_name_with_a_newline_and_escapes_stays_on_one_line(tmp_path: Path) -> None:
    path = toy_copy(tmp_path, "name: [", name="bad\nname\x1b[2J\u202e.yaml")
    line = assert_refused(invoke("validate", path))
    assert "bad\\nname\\x1b[2J[U+202E].yaml" in line


# ------------------------------------------------------------------------------ terminal injection


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        ("\x1b[2Jevil", "\\x1b[2Jevil"),
        ("a\u202eb", "a[U+202E]b"),
        ("c\x85d", "c\\x85d"),
        ("e\u200bf", "e[U+200B]f"),
        ("bell\x07", "bell\\x07"),
    ],
)
def test_control_characters_in_an_unknown_key_are_shown_escaped(tmp_path: Path, key: str, shown: str) -> None:
    text = toy_text().replace("name: toy\n", f'name: toy\n"{json.dumps(key)[1:-1]}": 1\n')
    path = toy_copy(tmp_path, text)
    line = assert_refused(invoke("validate", path), contains=("unknown key",))
    assert shown in line


@pytest.mark.parametrize("raw", [b"\x00", b"\x85", b"\x1b", b"\xc2\x85", b"\xc2\x9b"])
def test_nul_and_c1_bytes_in_yaml_give_one_line(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_bytes(TOY.read_bytes().replace(b"title: ", b"title: x" + raw + b"y ", 1))
    result = invoke("validate", path)
    if result.exit_code == 0:  # a C1 character YAML accepts in text is harmless data
        return
    assert_refused(result)


def test_escape_text_is_idempotent_and_keeps_printable_unicode() -> None:
    text = "Nuñez 中文 \x1b[31m\u202e\x00\n"
    once = escape_text(text)
    assert escape_text(once) == once
    assert once == "Nuñez 中文 \\x1b[31m[U+202E]\\x00\\n"


# ------------------------------------------------------------------------------ messages


def test_half_normal_with_mu_does_not_suggest_mu(tmp_path: Path) -> None:
    text = toy_text().replace(
        "party_pull: {dist: half_normal, sigma: 0.5}", "party_pull: {dist: half_normal, mu: 1}"
    )
    line = assert_refused(invoke("validate", toy_copy(tmp_path, text)), contains=("mu",))
    assert "did you mean 'mu'" not in line


def test_at_least_zero_of_nothing_is_refused(tmp_path: Path) -> None:
    text = toy_text().replace("procedure: {all: [passage, sign]}", "procedure: {at_least: {k: 0, of: []}}")
    assert_refused(invoke("validate", toy_copy(tmp_path, text)), contains=("at_least",))


def test_at_least_zero_of_votes_is_refused(tmp_path: Path) -> None:
    text = toy_text().replace(
        "procedure: {all: [passage, sign]}", "procedure: {at_least: {k: 0, of: [passage]}}"
    )
    assert_refused(invoke("validate", toy_copy(tmp_path, text)), contains=("at_least",))


def test_evidence_reference_errors_carry_the_line(tmp_path: Path) -> None:
    text = toy_text() + "evidence:\n  polls:\n    - {side: hom, deal: low, approve: 5, sample_size: 10}\n"
    path = toy_copy(tmp_path, text)
    line_no = text.splitlines().index("    - {side: hom, deal: low, approve: 5, sample_size: 10}") + 1
    assert_refused(invoke("validate", path), contains=(f"scenario.yaml:{line_no} at evidence.polls[0].side",))


def test_shock_reference_errors_carry_the_line(tmp_path: Path) -> None:
    path = toy_copy(tmp_path)
    shocks = tmp_path / "shocks.yaml"
    shocks.write_text(
        "shocks:\n"
        "  - {name: ok, kind: shift_bloc, side: home, bloc: left, issue: tariff, by: 1}\n"
        "  - {name: bad, kind: shift_bloc, side: home, bloc: lefty, issue: tariff, by: 1}\n"
    )
    out = tmp_path / "out"
    result = invoke("stress", path, "--shocks", shocks, "--serial", "--out", out)
    assert_refused(result, contains=("shocks.yaml:3", "lefty"), nothing_in=out)


# ------------------------------------------------------------------------------ sizes


@pytest.mark.parametrize(
    "args",
    [
        ("--worlds", str(10**12)),
        ("--replicates", str(10**12)),
        ("--worlds", str(10**9), "--replicates", "1"),
    ],
    ids=["worlds", "replicates", "draws"],
)
def test_runs_too_large_for_memory_are_refused_before_work(tmp_path: Path, args: tuple[str, ...]) -> None:
    out = tmp_path / "out"
    line = assert_refused(invoke("run", TOY, "--out", out, *args), nothing_in=out)
    assert "--memory-limit" in line and "memory" in line


def test_a_huge_winset_grid_is_refused_before_sampling(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = invoke("winset", TOY, "--x", "tariff", "--y", "labour", "--grid", "100000", "--out", out)
    assert_refused(result, contains=("--memory-limit",), nothing_in=out)


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("seats: 9\n", "seats: 4000000000000\n", "seats"),
        ("            seats: 5\n", "            seats: 4000000000000\n", "seats"),
        ("evidence", "evidence", "draws"),
    ],
    ids=["chamber", "bloc", "evidence_draws"],
)
def test_schema_refuses_physically_impossible_sizes(tmp_path: Path, old: str, new: str, where: str) -> None:
    text = toy_text()
    if where == "draws":
        poll = "    - {side: home, deal: low, approve: 5, sample_size: 10}\n"
        text += "evidence:\n  draws: 1000000000000\n  polls:\n" + poll
    else:
        text = text.replace(old, new, 1)
    out = tmp_path / "out"
    assert_refused(invoke("run", toy_copy(tmp_path, text), "--out", out), contains=(where,), nothing_in=out)


def test_set_seats_beyond_any_legislature_is_refused(tmp_path: Path) -> None:
    path = toy_copy(tmp_path)
    shocks = tmp_path / "shocks.yaml"
    shocks.write_text(
        "shocks:\n  - {name: big, kind: set_seats, side: home, bloc: left, seats: 3000000000}\n"
    )
    out = tmp_path / "out"
    result = invoke("stress", path, "--shocks", shocks, "--serial", "--out", out)
    assert_refused(result, contains=("shocks.yaml:2", "seats"), nothing_in=out)


def test_a_lowered_memory_limit_refuses_an_ordinary_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    line = assert_refused(invoke("run", TOY, "--out", out, "--memory-limit", "10MB"), nothing_in=out)
    assert "9.5 MiB" in line  # the limit, named
    line = assert_refused(invoke("--memory-limit", "10MB", "run", TOY, "--out", out), nothing_in=out)
    assert "9.5 MiB" in line


@pytest.mark.parametrize("value", ["abc", "-5GB", "0", "12XB", "1e9999"])
def test_a_malformed_memory_limit_is_one_line(tmp_path: Path, value: str) -> None:
    assert_refused(
        invoke("run", TOY, "--out", tmp_path / "o", "--memory-limit", value), contains=("--memory-limit",)
    )


# ------------------------------------------------------------------------------ options and outputs


@pytest.mark.parametrize("seed", [str(2**64), str(2**63), "-1", "1e3"])
def test_seeds_that_cannot_be_stored_are_refused_up_front(tmp_path: Path, seed: str) -> None:
    out = tmp_path / "out"
    assert_refused(invoke("run", TOY, "--out", out, "--seed", seed), contains=("--seed",), nothing_in=out)


def test_out_under_an_existing_file_is_refused_up_front(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_refused(invoke("run", TOY, "--out", blocker / "sub"), contains=("is a file",))
    assert blocker.read_text() == "x"


def test_out_naming_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_refused(invoke("run", TOY, "--out", blocker), contains=("must be a folder",))


def test_a_300_character_folder_name_is_refused_up_front(tmp_path: Path) -> None:
    out = tmp_path / ("x" * 300)
    assert_refused(invoke("run", TOY, "--out", out), contains=("too long",))
    assert os.listdir(tmp_path) == []


def test_an_unwritable_system_path_is_refused_up_front() -> None:
    assert_refused(invoke("run", TOY, "--out", "/proc/riskmodel-out"), contains=("cannot be written",))
    assert not Path("/proc/riskmodel-out").exists()


def test_report_html_naming_a_folder_is_one_line(tmp_path: Path, small_results: Path) -> None:
    folder = tmp_path / "a_folder"
    folder.mkdir()
    assert_refused(invoke("report", small_results, "--html", folder), contains=("folder",))
    assert list(folder.iterdir()) == []


# ------------------------------------------------------------------------------ results files


@pytest.fixture(scope="module")
def small_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results")
    result = invoke("run", TOY, "--worlds", "40", "--replicates", "4", "--out", out)
    assert result.exit_code == 0, result.output
    return out / "results.nc"


def _tampered(small_results: Path, tmp_path: Path, **attrs: object) -> Path:
    with xr.open_dataset(small_results, engine="h5netcdf") as ds:
        data = ds.load()
    for key, value in attrs.items():
        if value is None:
            data.attrs.pop(key, None)
        else:
            data.attrs[key] = value
    path = tmp_path / "results.nc"
    data.to_netcdf(path, engine="h5netcdf")
    return path


@pytest.mark.parametrize(
    ("attrs", "named"),
    [
        ({"package_versions": "not json {"}, "package_versions"),
        ({"seed": "twelve"}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"n_worlds": -3}, "n_worlds"),
        ({"evidence": "\x1b[2Jmagic"}, "evidence"),
        ({"scenario_digest": "abc"}, "scenario_digest"),
        ({"issue_units": "[1, 2]"}, "issue_units"),
        ({"scenario_name": None}, "scenario_name"),
    ],
)
def test_report_refuses_tampered_attributes(
    small_results: Path, tmp_path: Path, attrs: dict[str, object], named: str
) -> None:
    path = _tampered(small_results, tmp_path, **attrs)
    line = assert_refused(invoke("report", path), contains=(named, "not riskmodel results"))
    assert not (tmp_path / "report.html").exists() and not (tmp_path / "report.pdf").exists()
    assert "\x1b" not in line


def test_report_refuses_a_foreign_netcdf(tmp_path: Path) -> None:
    path = tmp_path / "results.nc"
    xr.Dataset({"x": ("t", [1.0, 2.0])}, attrs={"title": "someone else's"}).to_netcdf(path, engine="h5netcdf")
    assert_refused(invoke("report", path), contains=("not riskmodel results",))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.nc"]


def test_report_refuses_probabilities_outside_zero_one(small_results: Path, tmp_path: Path) -> None:
    with xr.open_datatree(small_results, engine="h5netcdf") as tree:
        data = tree.load()
    outcomes = data["outcomes"].to_dataset()
    outcomes["ratification_probability"][:] = 7.0
    data["outcomes"] = xr.DataTree(outcomes)
    path = tmp_path / "results.nc"
    data.to_netcdf(path, engine="h5netcdf")
    assert_refused(invoke("report", path), contains=("outside [0, 1]",))


@pytest.mark.parametrize("content", [b"", b"hello", b"\x89HDF\r\n\x1a\n" + b"\x00" * 64])
def test_report_refuses_files_that_are_not_netcdf(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "results.nc"
    path.write_bytes(content)
    assert_refused(invoke("report", path), contains=("not a riskmodel results file",))


def test_report_on_a_missing_results_file_is_not_found(tmp_path: Path) -> None:
    assert_refused(invoke("report", tmp_path / "results.nc"), contains=("not found",))


# ------------------------------------------------------------------------------ debug


def test_a_bug_is_one_line_without_debug_and_a_traceback_with_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import riskmodel.spec.scenario as scenario_module

    def broken(path: object) -> None:
        raise ZeroDivisionError("planted")

    # the command imports load_scenario when it runs, so the planted bug is found there
    monkeypatch.setattr(scenario_module, "load_scenario", broken)
    plain = invoke("validate", TOY)
    assert plain.exit_code == 1 and "Traceback" not in plain.output
    (line,) = [line for line in plain.output.splitlines() if line.strip()]
    assert "internal error (ZeroDivisionError: planted)" in line and "--debug" in line
    debug = invoke("--debug", "validate", TOY)
    assert isinstance(debug.exception, ZeroDivisionError)


def test_user_errors_in_a_subprocess_are_one_line_on_stderr(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]), "COLUMNS": "300"}
    broken = tmp_path / "results.nc"
    broken.write_bytes(b"junk")
    done = subprocess.run(
        [sys.executable, "-m", "riskmodel", "report", str(broken)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stdout == ""
    assert len([line for line in done.stderr.splitlines() if line.strip()]) == 1
