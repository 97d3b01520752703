"""The resource budget: sizes parse, the estimate grows with what the run allocates and bounds the
real peak memory, and runs over the limit are refused before anything is allocated."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hostile import TOY, assert_refused, invoke, run_measuring_peak

from riskmodel.budget import (
    BASE_BYTES,
    DEFAULT_SHARE,
    LIMIT_ENV,
    check_budget,
    default_memory_limit,
    estimate_scenario,
    format_bytes,
    memory_limit,
    memory_limit_set,
    parse_size,
)
from riskmodel.errors import RiskmodelError
from riskmodel.spec.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
USMCA = ROOT / "data" / "scenarios" / "usmca_2019.yaml"


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("100", 100),
        ("1kB", 1000),
        ("2KiB", 2048),
        ("1.5GB", 1_500_000_000),
        ("3 GiB", 3 * 2**30),
        ("1T", 10**12),
    ],
)
def test_sizes_parse_in_decimal_and_binary_units(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "abc", "-1GB", "0", "1XB", "GB", "1e9999"])
def test_malformed_sizes_are_refused(text: str) -> None:
    with pytest.raises(RiskmodelError, match="--memory-limit"):
        parse_size(text)


def test_the_default_limit_is_a_share_of_the_machine() -> None:
    meminfo = Path("/proc/meminfo")
    if not meminfo.is_file():
        pytest.skip("no /proc/meminfo")
    total_kib = int(
        next(line for line in meminfo.read_text().splitlines() if line.startswith("MemTotal")).split()[1]
    )
    assert default_memory_limit() == int(total_kib * 1024 * DEFAULT_SHARE)


def test_the_limit_in_force_comes_from_the_option_then_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(LIMIT_ENV, "3GiB")
    assert memory_limit() == 3 * 2**30
    with memory_limit_set(123):
        assert memory_limit() == 123
    monkeypatch.delenv(LIMIT_ENV)
    assert memory_limit() == default_memory_limit()


def test_the_estimate_grows_with_worlds_replicates_deals_and_seats() -> None:
    loaded = load_scenario(TOY)
    small = estimate_scenario(loaded, worlds=1000, replicates=10).total - BASE_BYTES
    assert estimate_scenario(loaded, worlds=100_000, replicates=10).total - BASE_BYTES > 50 * small
    # replicates beyond worlds still make one draw of that many replicates
    assert estimate_scenario(loaded, worlds=1000, replicates=10**6).total - BASE_BYTES > 50 * small
    assert estimate_scenario(loaded, worlds=1000, replicates=10, deals=10**6).total > 10 * small
    assert estimate_scenario(loaded, worlds=1000, replicates=10, extra_members=10_000).total > 10 * small


def test_the_refusal_names_the_estimate_the_limit_and_the_option() -> None:
    loaded = load_scenario(TOY)
    estimate = estimate_scenario(loaded, worlds=10**9, replicates=1)
    with pytest.raises(RiskmodelError) as caught:
        check_budget(estimate, limit=2**30)
    message = str(caught.value)
    assert format_bytes(estimate.total) in message and "1.0 GiB" in message and "--memory-limit" in message
    check_budget(estimate_scenario(loaded, worlds=100, replicates=10), limit=2**30)


def test_the_library_refuses_too_before_allocating() -> None:
    from riskmodel.pipeline import sample_worlds

    with memory_limit_set(2**30), pytest.raises(RiskmodelError, match="memory"):
        sample_worlds(load_scenario(TOY), n_worlds=10**12, n_replicates=20)


def _peak_of_run(tmp_path: Path, scenario: Path, worlds: int, limit: int) -> tuple[int, int, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "300"}
    args = [
        "run",
        str(scenario),
        "--worlds",
        str(worlds),
        "--out",
        str(tmp_path / "out"),
        "--memory-limit",
        str(limit),
    ]
    return run_measuring_peak(args, env, tmp_path)


@pytest.mark.parametrize(
    ("scenario", "worlds"),
    [
        (TOY, 2000),
        pytest.param(USMCA, 20_000, marks=pytest.mark.slow),
        pytest.param(TOY, 200_000, marks=pytest.mark.slow),
    ],
    ids=["toy", "usmca", "toy_large"],
)
def test_the_estimate_bounds_the_real_peak_memory(tmp_path: Path, scenario: Path, worlds: int) -> None:
    """Run with the limit set to the estimate itself: the run is allowed and stays under it."""
    estimate = estimate_scenario(load_scenario(scenario), worlds=worlds, replicates=20).total
    code, peak, stderr = _peak_of_run(tmp_path, scenario, worlds, estimate)
    assert code == 0, stderr
    assert peak <= estimate, f"peak {format_bytes(peak)} above the estimate {format_bytes(estimate)}"
    # and just under the estimate, the same run is refused before it starts
    code, _, stderr = _peak_of_run(tmp_path, scenario, worlds, estimate - 1)
    assert code == 2 and "--memory-limit" in stderr


def test_the_cli_refuses_a_run_over_a_global_limit(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert_refused(
        invoke("--memory-limit", "100MB", "run", TOY, "--out", out), contains=("95.4 MiB",), nothing_in=out
    )
