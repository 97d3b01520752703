"""Stress tests: shocks files are validated precisely; shocks have known effects; sweeps are reproducible."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from test_sensitivity import PIVOT
from typer.testing import CliRunner

from riskmodel.analyses.sensitivity import load_sensitivity
from riskmodel.analyses.stress import apply_shocks, save_stress, stress_test
from riskmodel.cli.app import app
from riskmodel.errors import ScenarioError
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.plots.stress import plot_stress
from riskmodel.results.perdraw import per_draw_outcomes
from riskmodel.results.tables import stress_table
from riskmodel.spec.scenario import load_scenario, parse_scenario
from riskmodel.spec.shockcheck import load_shocks, parse_shocks
from riskmodel.spec.shocks import ShocksError
from riskmodel.worlds.crn import baseline_of

SHOCKS = textwrap.dedent(
    """
    shocks:
      - {name: left_hawk, kind: shift_bloc, side: home, bloc: left, issue: tariff, sd: 1.0}
      - {name: left_hawk_units, kind: shift_bloc, side: home, bloc: left, issue: tariff, by: 2.0}
      - {name: left_still, kind: shift_bloc, side: home, bloc: left, issue: tariff, by: 0.0}
      - {name: unions_flip, kind: flip_lobby, side: home, lobby: unions}
      - {name: unions_negative, kind: scale_lobby, side: home, lobby: unions, factor: -1}
      - {name: sours, kind: shift_approval, side: home, by: -0.05}
      - {name: away_tariff, kind: shift_public, side: away, issue: tariff, by: 4}
      - {name: chief_moves, kind: shift_chief, side: home, issue: labour, by: 0.3}
      - {name: right_gains, kind: move_seats, side: home, from_bloc: left, to_bloc: right, seats: 2}
      - {name: left_grows, kind: set_seats, side: home, bloc: left, seats: 8}
      - {name: unanimity, kind: set_threshold, side: home, vote: passage, threshold: unanimity}
      - {name: no_president, kind: remove_veto, side: home, vote: sign}
      - name: friend
        kind: add_veto
        side: home
        player: friend
        shock_scale: 0.001
        ideal: {tariff: 2, labour: 0.8}
      - name: foe
        kind: add_veto
        side: home
        player: foe
        shock_scale: 0.001
        ideal: {tariff: 10, labour: 0.5}
    combinations:
      - {name: storm, shocks: [right_gains, unions_flip, foe]}
      - {name: calm, shocks: [left_grows, no_president]}
    """
)


@pytest.fixture(scope="module")
def toy(toy_path: Path):
    return load_scenario(toy_path)


@pytest.fixture(scope="module")
def simulation(toy):
    return sample_worlds(toy, n_worlds=600, n_replicates=10, seed=3)


@pytest.fixture(scope="module")
def shock_set(toy):
    return parse_shocks(SHOCKS, toy, file="toy_shocks.yaml")


@pytest.fixture(scope="module")
def stress(simulation, shock_set) -> xr.Dataset:
    return stress_test(simulation, shock_set)


# --------------------------------------------------------------------------- validation

ENTRY = "{name: s, kind: shift_bloc, side: home, bloc: left, issue: tariff, by: 1}"
BAD = {
    "unknown_kind": ("{name: s, kind: shift_blok, side: home}", "shocks.s.kind", "did you mean 'shift_bloc'"),
    "unknown_key": (ENTRY[:-1] + ", sdd: 2}", "shocks.s.sdd", "unknown key 'sdd' (did you mean 'sd'?)"),
    "no_amount": (
        "{name: s, kind: shift_bloc, side: home, bloc: left, issue: tariff}",
        "shocks.s",
        "exactly one",
    ),
    "unknown_side": (ENTRY.replace("side: home", "side: hom"), "shocks.s.side", "did you mean 'home'"),
    "unknown_bloc": (ENTRY.replace("bloc: left", "bloc: lef"), "shocks.s.bloc", "did you mean 'left'"),
    "unknown_issue": (
        ENTRY.replace("issue: tariff", "issue: tarif"),
        "shocks.s.issue",
        "did you mean 'tariff'",
    ),
    "sd_of_fixed": (
        "{name: s, kind: shift_bloc, side: home, bloc: left, issue: labour, sd: 1}",
        "shocks.s.sd",
        "is fixed",
    ),
    "seats_across_chambers": (
        "{name: s, kind: move_seats, side: home, from_bloc: left, to_bloc: pres, seats: 1}",
        "shocks.s.to_bloc",
        "same chamber",
    ),
    "too_many_seats": (
        "{name: s, kind: move_seats, side: home, from_bloc: left, to_bloc: right, seats: 6}",
        "shocks.s.seats",
        "only 5 seats",
    ),
    "count_above_seats": (
        "{name: s, kind: set_threshold, side: home, vote: passage, threshold: 12}",
        "shocks.s.threshold",
        "above the chamber's 9 seats",
    ),
    "no_public": (
        "{name: s, kind: shift_chief, side: away, issue: tariff, by: 1}",
        "shocks.s.side",
        "no chief",
    ),
    "taken_player": (
        "{name: s, kind: add_veto, side: home, player: house, ideal: {tariff: 1, labour: 1}}",
        "shocks.s.player",
        "already has",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_shocks_are_reported_with_file_line_and_location(toy, case: str) -> None:
    entry, location, message = BAD[case]
    with pytest.raises(ShocksError) as info:
        parse_shocks(f"# {case}\nshocks:\n  - {entry}\n", toy, file="bad.yaml")
    err = info.value
    assert err.file == "bad.yaml" and err.line == 3
    assert err.location == location and message in err.message, str(err)


def test_combinations_and_duplicates_are_checked(toy) -> None:
    text = f"shocks:\n  - {ENTRY}\ncombinations:\n  - {{name: c, shocks: [s, t]}}\n"
    with pytest.raises(ShocksError, match=r"combinations\.c\.shocks\[1\]: unknown shock 't'"):
        parse_shocks(text, toy)
    with pytest.raises(ShocksError, match="duplicate shock name 's'"):
        parse_shocks(f"shocks:\n  - {ENTRY}\n  - {ENTRY}\n", toy)
    with pytest.raises(ScenarioError, match="duplicate key 'shocks'"):
        parse_shocks(f"shocks: []\nshocks:\n  - {ENTRY}\n", toy)


def test_load_shocks_reports_missing_file(toy, tmp_path: Path) -> None:
    with pytest.raises(ShocksError, match="shocks file not found"):
        load_shocks(tmp_path / "none.yaml", toy)


# --------------------------------------------------------------------------- known answers


def _probability(stress: xr.Dataset, shock: str, outcome: str = "home") -> np.ndarray:
    return stress["probability"].sel(shock=shock, outcome=outcome).to_numpy()


def test_preference_shocks_have_their_known_effects(stress: xr.Dataset) -> None:
    change = stress["change"]
    assert float(abs(change.sel(shock="left_still")).max()) == 0.0  # CRN: no shift, no change at all
    np.testing.assert_array_equal(_probability(stress, "left_hawk"), _probability(stress, "left_hawk_units"))
    np.testing.assert_array_equal(
        _probability(stress, "unions_flip"), _probability(stress, "unions_negative")
    )
    assert float(abs(change.sel(shock=["sours", "chief_moves", "unions_flip"], outcome="away")).max()) == 0.0
    assert float(abs(change.sel(shock="away_tariff", outcome="home")).max()) == 0.0
    assert float(change.sel(shock="sours", outcome="home", deal="low")) < 0


def test_structural_shocks_have_their_known_effects(simulation, stress: xr.Dataset) -> None:
    results = evaluate_deals(simulation)
    passage = results["vote_probability"].sel(vote="home.passage").to_numpy()
    np.testing.assert_allclose(_probability(stress, "no_president"), passage, atol=1e-12)
    assert (stress["change"].sel(shock="unanimity", outcome="home") <= 0).all()
    assert float(stress["change"].sel(shock="friend", outcome="home", deal="low")) == 0.0  # always signs
    assert float(abs(_probability(stress, "foe")).max()) == 0.0  # always vetoes
    assert float(abs(_probability(stress, "storm", "agreement")).max()) == 0.0


def test_seat_changes_keep_the_shocks_of_members_that_remain(simulation, shock_set) -> None:
    base = baseline_of(simulation)
    right_gains = next(s for s in shock_set.spec.shocks if s.name == "right_gains")
    layout, worlds = apply_shocks(base, [right_gains], seed=1)
    assert layout.seats.tolist() == [9, 1, 0] and len(layout.members) == 10  # the referendum has no seats
    old = {name: m for m, name in enumerate(base.layout.members)}
    kept = [m for m, name in enumerate(layout.members) if name in old]
    assert len(kept) == 8
    np.testing.assert_array_equal(
        worlds.member_shock[..., kept], base.worlds.member_shock[..., [old[layout.members[m]] for m in kept]]
    )
    present = np.isfinite(worlds.member_shock[..., layout.member_chamber == 0]).sum(axis=-1)
    np.testing.assert_array_equal(worlds.present[..., 0], present)
    again = apply_shocks(base, [right_gains], seed=1)[1]
    np.testing.assert_array_equal(again.member_shock, worlds.member_shock)  # the unit's seed fixes new seats


def test_removing_the_sure_no_bloc_makes_the_vote_certain() -> None:
    scenario = parse_scenario(PIVOT)
    simulation = sample_worlds(scenario, n_worlds=200, n_replicates=5, seed=2)
    shocks = parse_shocks(
        "shocks:\n  - {name: gone, kind: set_seats, side: only, bloc: no_bloc, seats: 0}\n", scenario
    )
    layout, worlds = apply_shocks(baseline_of(simulation), shocks.spec.shocks, seed=0)
    assert layout.seats.tolist() == [7]
    np.testing.assert_array_equal(per_draw_outcomes(layout, worlds, layout.deal_values), 1.0)


# --------------------------------------------------------------------------- sweep outputs


def test_sweep_ranks_by_the_largest_change_either_way(stress: xr.Dataset, tmp_path: Path) -> None:
    assert stress.sizes["shock"] == 16 and stress["shock_kind"].sel(shock="storm") == "combination"
    table = stress_table(stress)
    assert table["rank"].tolist() == list(range(1, 17))
    assert table["change"].abs().is_monotonic_decreasing
    change = stress["change"].sel(outcome="agreement").to_numpy()
    largest = np.abs(change).max(axis=1)
    assert table["change"].abs().iloc[0] == pytest.approx(largest.max())
    hurts, helps = stress_table(stress, effect="hurts"), stress_table(stress, effect="helps")
    assert hurts["change"].is_monotonic_increasing and (hurts["change"] < 0).all()
    assert helps["change"].is_monotonic_decreasing and (helps["change"] > 0).all()
    assert hurts["shock"].iloc[0] in {"foe", "storm"}
    # every shock that moves some deal up is a helper, at the deal of its largest rise
    assert set(helps["shock"]) == set(stress["shock"].to_numpy()[change.max(axis=1) > 0])
    assert set(hurts["shock"]) == set(stress["shock"].to_numpy()[change.min(axis=1) < 0])
    path = save_stress(stress, tmp_path / "stress.nc")
    xr.testing.assert_identical(load_sensitivity(path), stress)
    fig, _ = plot_stress(stress)
    assert fig.axes


@pytest.mark.slow
def test_sweep_is_bit_identical_on_a_two_worker_dask_cluster(simulation, shock_set, stress) -> None:
    from distributed import LocalCluster

    from riskmodel.analyses.stress import dask_client

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        dask_client(cluster.scheduler_address) as client,  # as for `riskmodel stress --scheduler ADDR`
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        on_dask = stress_test(simulation, shock_set, client=client)
    xr.testing.assert_identical(on_dask, stress)


def test_a_shock_that_only_helps_leads_the_helpers(toy, simulation) -> None:
    # removing the president's veto can only make agreement likelier: it must lead the helpers
    # even though its worst deal moves by nothing (the old ranking listed such a shock last)
    shocks = parse_shocks(
        textwrap.dedent(
            """
            shocks:
              - {name: sours, kind: shift_approval, side: home, by: -0.05}
              - {name: no_president, kind: remove_veto, side: home, vote: sign}
              - {name: foe, kind: add_veto, side: home, player: foe, shock_scale: 0.001,
                 ideal: {tariff: 10, labour: 0.5}}
            """
        ),
        toy,
    )
    result = stress_test(simulation, shocks)
    change = result["change"].sel(outcome="agreement")
    assert float(change.sel(shock="no_president").min()) >= 0  # it helps or does nothing
    helps = stress_table(result, effect="helps")
    assert helps["shock"].iloc[0] == "no_president"
    assert helps["effect"].iloc[0] == "helps"
    assert helps["change"].iloc[0] == pytest.approx(float(change.sel(shock="no_president").max()))
    assert "no_president" not in set(stress_table(result, effect="hurts")["shock"])
    assert str(result["effect"].sel(shock="no_president").item()) == "helps"


# --------------------------------------------------------------------------- CLI


def test_cli_stress_serial_and_user_errors(toy_path: Path, tmp_path: Path) -> None:
    shocks = tmp_path / "shocks.yaml"
    shocks.write_text(SHOCKS)
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    args = ["stress", str(toy_path), "--shocks", str(shocks), "--worlds", "100", "--replicates", "5"]
    result = runner.invoke(app, [*args, "--serial", "--out", str(tmp_path)], env=env)
    assert result.exit_code == 0, result.output
    assert "largest drop first" in result.output and "largest rise first" in result.output
    assert "16 units swept serially" in result.output
    assert (tmp_path / "stress.nc").is_file()
    both = runner.invoke(app, [*args, "--serial", "--scheduler", "tcp://127.0.0.1:1"], env=env)
    assert both.exit_code == 2 and "--serial runs without Dask" in both.output
    shocks.write_text(f"shocks:\n  - {ENTRY.replace('bloc: left', 'bloc: lef')}\n")
    bad = runner.invoke(app, [*args, "--serial"], env=env)
    assert bad.exit_code == 2 and "shocks.yaml:2 at shocks.s.bloc" in bad.output
    assert "Traceback" not in bad.output


def test_fast_ideal_shifts_equal_rebuilding_the_worlds(simulation, shock_set) -> None:
    from riskmodel.analyses.stress import apply_preferences
    from riskmodel.worlds.crn import rebuild_worlds

    base = baseline_of(simulation)
    shifts = [s for s in shock_set.spec.shocks if s.name in ("left_hawk", "away_tariff", "chief_moves")]
    _, fast = apply_shocks(base, shifts)
    draws, touched = apply_preferences(base, shifts)
    slow = rebuild_worlds(base, draws, members=touched)
    np.testing.assert_allclose(fast.member_coef, slow.member_coef, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fast.referendum_coef, slow.referendum_coef, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(fast.member_shock, slow.member_shock)


def test_bundled_usmca_shocks_fit_the_bundled_scenario() -> None:
    root = Path(__file__).resolve().parent.parent
    usmca = load_scenario(root / "data" / "scenarios" / "usmca_2019.yaml")
    units = load_shocks(root / "data" / "shocks" / "usmca_2019.yaml", usmca).units()
    assert len(units) == 15 and units[-1] == ("bad_politics", "combination", units[-1][2])
