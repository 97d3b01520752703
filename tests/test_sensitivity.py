"""Sensitivity per constituency: known answers for the tornado, Sobol indices and pivotality."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from riskmodel.analyses.constituency import (
    constituencies,
    recombined_draws,
    shifted_draws,
    shifted_worlds,
    tornado_shift,
    touched_members,
)
from riskmodel.analyses.pivotality import deal_votes, member_pivotal
from riskmodel.analyses.sensitivity import (
    analyse_sensitivity,
    load_sensitivity,
    save_sensitivity,
)
from riskmodel.analyses.sobol import (
    ISHIGAMI_FIRST_ORDER,
    ISHIGAMI_TOTAL,
    derangement,
    ishigami,
    sobol_by_recombination,
)
from riskmodel.cli.app import app
from riskmodel.engine import count_yes
from riskmodel.errors import RiskmodelError
from riskmodel.pipeline import sample_worlds
from riskmodel.plots.sensitivity import plot_sobol, plot_tornado
from riskmodel.randomness import as_seed_sequence
from riskmodel.results.tables import sensitivity_table, swing_members, swing_members_table
from riskmodel.spec.scenario import load_scenario, parse_scenario
from riskmodel.worlds.arrays import deal_features
from riskmodel.worlds.build import make_worlds
from riskmodel.worlds.crn import baseline_of, rebuild_worlds

# One chamber of 11 decided by majority: 4 sure yes votes, 4 sure no votes and a 3-seat swing
# bloc whose uncertain ideal point decides the outcome (6 votes needed). The lobby has no
# influence, no bloc responds to the public or follows the chief: they cannot change a vote.
PIVOT = textwrap.dedent(
    """
    name: pivot
    issues:
      - {name: trade, range: [0, 1]}
      - {name: labour, range: [0, 1]}
    deals:
      - {name: deal, values: {trade: 0.8, labour: 0.5}}
    sides:
      - name: only
        reversion: {trade: 0.2, labour: 0.5}
        chambers:
          - name: floor
            shock_scale: 0.05
            blocs:
              - {name: yes_bloc, seats: 4, ideal: {trade: {dist: normal, mu: 0.9, sigma: 0.02}, labour: 0.5}}
              - {name: no_bloc, seats: 4, ideal: {trade: {dist: normal, mu: 0.1, sigma: 0.02}, labour: 0.5}}
              - name: swing
                seats: 3
                spread: 0.02
                ideal: {trade: {dist: normal, mu: 0.5, sigma: 0.2}, labour: 0.5}
        votes:
          - {name: passage, chamber: floor, threshold: majority}
        lobbies:
          - name: mute
            influence: 0.0
            ideal: {trade: {dist: normal, mu: 0.5, sigma: 0.3}, labour: {dist: normal, mu: 0.5, sigma: 0.3}}
        public:
          ideal: {trade: {dist: normal, mu: 0.5, sigma: 0.2}, labour: 0.5}
          approval: {dist: normal, mu: 0, sigma: 0.1}
        chief:
          ideal: {trade: {dist: normal, mu: 0.6, sigma: 0.2}, labour: 0.5}
    """
)
MUTE = ("lobby:only.mute", "public:only", "chief:only")


@pytest.fixture(scope="module")
def pivot_simulation():
    return sample_worlds(parse_scenario(PIVOT), n_worlds=2000, n_replicates=10, seed=7)


@pytest.fixture(scope="module")
def pivot(pivot_simulation) -> xr.Dataset:
    return analyse_sensitivity(pivot_simulation, seed=1)


@pytest.fixture(scope="module")
def toy_simulation(toy_path: Path):
    return sample_worlds(load_scenario(toy_path), n_worlds=600, n_replicates=10, seed=3)


@pytest.fixture(scope="module")
def toy(toy_simulation) -> xr.Dataset:
    return analyse_sensitivity(toy_simulation, seed=2)


# --------------------------------------------------------------------------- Sobol estimator


def test_recombination_estimator_reproduces_the_ishigami_indices() -> None:
    rng = np.random.default_rng(2024)
    sample = rng.uniform(-np.pi, np.pi, (50_000, 4))  # column 3 is not an input of the function
    found = sobol_by_recombination(
        sample,
        ishigami,
        {"x1": [0], "x2": [1], "x3": [2], "x1x3": [0, 2], "unused": [3]},
        seed=5,
        n_bootstrap=50,
    )
    for name, first, total in zip(("x1", "x2", "x3"), ISHIGAMI_FIRST_ORDER, ISHIGAMI_TOTAL, strict=True):
        assert found[name][0] == pytest.approx(first, abs=0.03)
        assert found[name][2] == pytest.approx(total, abs=0.03)
        assert 0 < found[name][1] < 0.03 and 0 < found[name][3] < 0.03  # bootstrap SEs are plausible
    assert ISHIGAMI_FIRST_ORDER[:2] == pytest.approx((0.314, 0.442), abs=5e-4)
    # a group's first-order index includes its interactions: S1 + S3 + S13 = 1 - S2
    assert found["x1x3"][0] == pytest.approx(1 - ISHIGAMI_FIRST_ORDER[1], abs=0.03)
    assert found["unused"] == (0.0, 0.0, 0.0, 0.0)


def test_derangement_has_no_fixed_point_and_is_reproducible() -> None:
    permutation = derangement(500, seed=3)
    assert sorted(permutation.tolist()) == list(range(500))
    assert not np.any(permutation == np.arange(500))
    np.testing.assert_array_equal(permutation, derangement(500, seed=3))


# --------------------------------------------------------------------------- known answers


def test_constituency_that_cannot_change_a_vote_scores_zero(pivot: xr.Dataset) -> None:
    for label in MUTE:
        one = pivot.sel(constituency=label)
        assert float(abs(one["tornado_change"]).max()) == 0.0
        assert float(one["tornado_width"].max()) == 0.0
        for index in ("sobol_first", "sobol_total"):
            value, se = one[index].to_numpy(), one[f"{index}_se"].to_numpy()
            assert np.all(np.abs(value) <= 2 * se + 1e-12), (label, index, value, se)
    assert np.isnan(pivot["pivotality"].sel(constituency=list(MUTE))).all()  # they cast no votes


def test_single_pivotal_bloc_dominates_every_measure(pivot: xr.Dataset) -> None:
    one = pivot.sel(deal="deal", outcome="only")
    probability = float(pivot["baseline_probability"].sel(deal="deal", outcome="only"))
    assert 0.2 < probability < 0.8
    others = [str(c) for c in pivot["constituency"].to_numpy() if c != "bloc:only.swing"]
    for measure in ("tornado_width", "sobol_first", "sobol_total"):
        swing = float(one[measure].sel(constituency="bloc:only.swing"))
        assert swing > 0.2, measure
        assert swing > float(one[measure].sel(constituency=others).max()) + 0.1, measure
    decisive = pivot["decisive"].sel(deal="deal")
    assert float(decisive.sel(constituency="bloc:only.swing")) == 1.0  # all for passes, all against fails
    # the sure blocs would decide exactly when the swing bloc leaves the outcome to them
    assert float(decisive.sel(constituency="bloc:only.yes_bloc")) == pytest.approx(probability, abs=0.01)
    assert float(
        decisive.sel(constituency=["bloc:only.yes_bloc", "bloc:only.no_bloc"]).sum()
    ) == pytest.approx(1.0)
    # pivotality redraws the votes: the sure blocs never vote otherwise, so they are never
    # pivotal; the swing bloc alone decides, so its redrawn vote flips the outcome with
    # probability 2·P·(1 − P) (the paired world carries when this one fails, or the reverse)
    pivotal = pivot["pivotality"].sel(deal="deal")
    assert float(pivotal.sel(constituency=["bloc:only.yes_bloc", "bloc:only.no_bloc"]).max()) == 0.0
    expected = 2 * probability * (1 - probability)
    assert float(pivotal.sel(constituency="bloc:only.swing")) == pytest.approx(expected, abs=0.03)
    whip = swing_members(pivot, "deal", top=3)  # a swing member also decides when 1 or 2 swing votes do
    assert (whip["bloc"] == "only.swing").all() and len(whip) == 3


def test_tornado_moves_toward_the_deal_and_never_past_it(pivot_simulation, pivot: xr.Dataset) -> None:
    base = baseline_of(pivot_simulation)
    swing = next(c for c in constituencies(base.layout) if c.name == "only.swing")
    deal = base.layout.deal_values[0]
    ideal = base.draws["bloc_ideal"].sel(bloc="only.swing").to_numpy().reshape(-1, 2)
    toward = tornado_shift(base, swing, deal, toward=True)
    away = tornado_shift(base, swing, deal, toward=False)
    assert np.all(np.abs(ideal + toward - deal) <= np.abs(ideal - deal) + 1e-12)
    assert np.all(np.abs(toward[:, 0]) <= 0.2 + 1e-12) and np.all(np.abs(away[:, 0]) == 0.2)
    np.testing.assert_array_equal(toward[:, 1], 0.0)  # labour is fixed: no prior SD to move by
    change = pivot["tornado_change"].sel(constituency="bloc:only.swing", outcome="only", deal="deal")
    assert float(change.sel(direction="toward")) > 0.1 > -0.1 > float(change.sel(direction="away"))


def test_shifted_worlds_equal_make_worlds_with_the_simulation_shock_seed(toy_simulation) -> None:
    base = baseline_of(toy_simulation)
    rng = np.random.default_rng(0)
    for constituency in constituencies(base.layout):
        shift = rng.normal(0, 1.5, (base.worlds.n_draws, len(base.layout.issues)))
        modified = shifted_draws(base, constituency, shift)
        # sample_worlds spawns (draw_seed, shock_seed) from its seed; spawn afresh each time, as a
        # SeedSequence hands out new children on every spawn
        _, shock_seed = as_seed_sequence(toy_simulation.seed).spawn(2)
        reference = make_worlds(base.layout, modified, n_replicates=base.worlds.n_replicates, seed=shock_seed)
        fast = shifted_worlds(base, constituency, shift)
        np.testing.assert_allclose(fast.member_coef, reference.member_coef, rtol=0, atol=1e-12)
        np.testing.assert_allclose(fast.referendum_coef, reference.referendum_coef, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(fast.member_shock, reference.member_shock)
        np.testing.assert_array_equal(fast.present, reference.present)
        np.testing.assert_array_equal(fast.referendum_campaign, reference.referendum_campaign)
        rebuilt = rebuild_worlds(base, modified, members=touched_members(base.layout, constituency))
        np.testing.assert_array_equal(rebuilt.member_coef, reference.member_coef)


def test_recombined_draws_swap_only_the_group(toy_simulation) -> None:
    base = baseline_of(toy_simulation)
    left = next(c for c in constituencies(base.layout) if c.name == "home.left")
    permutation = derangement(base.worlds.n_draws, seed=1)
    mixed = recombined_draws(base, left, permutation)

    def flat(ds: xr.Dataset, name: str) -> np.ndarray:
        return ds[name].to_numpy().reshape(base.worlds.n_draws, *ds[name].shape[2:])

    def deviation(ds: xr.Dataset) -> np.ndarray:
        member = flat(ds, "member_ideal")[:, base.layout.member_bloc == 0]
        return (member - flat(ds, "bloc_ideal")[:, None, 0]) / flat(ds, "bloc_spread")[:, None, 0]

    np.testing.assert_array_equal(
        flat(mixed, "bloc_ideal")[:, 0], flat(base.draws, "bloc_ideal")[permutation, 0]
    )
    np.testing.assert_array_equal(flat(mixed, "bloc_ideal")[:, 1:], flat(base.draws, "bloc_ideal")[:, 1:])
    np.testing.assert_array_equal(flat(mixed, "lobby_ideal"), flat(base.draws, "lobby_ideal"))
    np.testing.assert_allclose(deviation(mixed), deviation(base.draws), atol=1e-9)  # members keep their z


# --------------------------------------------------------------------------- pivotality

# PIVOT with a president who always signs: decisive in every world where the floor passes the
# deal, yet nothing it might plausibly do changes the outcome.
VETO = PIVOT.replace(
    """    votes:
      - {name: passage, chamber: floor, threshold: majority}
""",
    """      - name: president
        kind: veto_player
        shock_scale: 0.01
        blocs:
          - {name: pres, seats: 1, ideal: {trade: 0.95, labour: 0.5}}
    votes:
      - {name: passage, chamber: floor, threshold: majority}
      - {name: sign, chamber: president}
    procedure: {all: [passage, sign]}
""",
)
assert VETO != PIVOT


def test_a_veto_player_that_always_signs_is_decisive_but_not_pivotal() -> None:
    simulation = sample_worlds(parse_scenario(VETO), n_worlds=400, n_replicates=10, seed=2)
    result = analyse_sensitivity(simulation, seed=1, n_bootstrap=10)
    assert float(result["member_yes_probability"].sel(member="only.president.pres-001", deal="deal")) == 1.0
    one = result.sel(deal="deal", constituency="bloc:only.pres")
    probability = float(result["baseline_probability"].sel(deal="deal", outcome="only"))
    assert float(one["decisive"]) == pytest.approx(probability)  # it decides whenever the floor passes
    assert float(one["pivotality"]) == 0.0
    member = result.sel(deal="deal", member="only.president.pres-001")
    assert float(member["member_decisive"]) == pytest.approx(probability)
    assert float(member["member_pivotality"]) == 0.0
    assert "only.president.pres-001" not in set(swing_members(result, "deal")["member"])


def test_member_swing_is_decisive_times_the_chance_of_the_other_vote(toy_simulation) -> None:
    from riskmodel.analyses.pivotality import member_swing

    votes = deal_votes(toy_simulation.layout, toy_simulation.worlds, toy_simulation.layout.deal_values[0])
    decisive = member_pivotal(votes)
    swing = member_swing(votes)
    for m in range(votes.votes.shape[-1]):
        p = votes.votes[..., m].mean()
        by_hand = np.mean(decisive[..., m] * np.where(votes.votes[..., m], 1 - p, p))
        assert swing[m] == pytest.approx(by_hand)
        assert swing[m] <= decisive[..., m].mean() + 1e-12


def test_member_votes_match_the_engine_and_pivotality_matches_brute_force(toy_simulation) -> None:
    base = baseline_of(toy_simulation)
    layout, worlds = base.layout, base.worlds
    deal = layout.deal_values[0]
    votes = deal_votes(layout, worlds, deal)
    engine = count_yes(worlds, deal_features(layout.to_unit(deal)[None], worlds.link_pairs))[:, :, 0, :]
    assert np.mean(engine != votes.yes) < 1e-3  # float32 rounding at indifference only
    pivotal = member_pivotal(votes)
    for m in range(len(layout.members)):
        flipped = votes.votes.copy()
        flipped[..., m] = ~flipped[..., m] & votes.present[..., m]
        chamber = layout.member_chamber[m]
        yes = votes.yes.copy()
        yes[..., chamber] = flipped[..., layout.member_chamber == chamber].sum(axis=-1)
        side = layout.chamber_side[chamber]
        np.testing.assert_array_equal(pivotal[..., m], votes.outcome(yes=yes)[side] != votes.ratified[side])


# --------------------------------------------------------------------------- outputs


def test_toy_sensitivity_dataset_tables_plots_and_round_trip(toy: xr.Dataset, tmp_path: Path) -> None:
    assert set(toy["outcome"].to_numpy()) == {"home", "away", "agreement"}
    assert toy.sizes["constituency"] == 7 and toy.sizes["member"] == 10
    np.testing.assert_allclose(toy["tornado_width"], abs(toy["tornado_change"].diff("direction")).squeeze())
    # home constituencies cannot move the away side
    home = toy.sel(constituency=toy["constituency_side"] == "home", outcome="away")
    assert float(abs(home["tornado_change"]).max()) == 0.0 and float(home["sobol_total"].max()) == 0.0
    # agreement on "high" (almost) never happens: no variance to apportion, so no Sobol index
    assert np.isnan(toy["sobol_first"].sel(deal="high", outcome="agreement")).all()
    table = sensitivity_table(toy)
    assert len(table) == 7 * toy.sizes["deal"] and table["width"].iloc[0] >= table["width"].iloc[1]
    assert set(swing_members_table(toy)["deal"]) <= set(toy["deal"].to_numpy())
    path = save_sensitivity(toy, tmp_path / "out" / "sensitivity.nc")
    xr.testing.assert_identical(load_sensitivity(path), toy)
    for plot in (plot_tornado, plot_sobol):
        fig, ax = plot(toy)
        fig.savefig(io.BytesIO(), format="png")
        assert plot(toy, deal="high", outcome="home", ax=ax)[1] is ax


def test_unknown_deal_is_a_user_error(toy_simulation) -> None:
    with pytest.raises(RiskmodelError, match=r"unknown deal 'mid'.*low, high"):
        analyse_sensitivity(toy_simulation, deals=["mid"])


def test_cli_sensitivity_writes_the_dataset(toy_path: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["sensitivity", str(toy_path), "--worlds", "200", "--replicates", "5", "--out", str(tmp_path)]
    result = runner.invoke(app, [*args, "--deal", "low", "--top", "3"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "swing members" in result.output and "bloc:home.left" in result.output
    assert load_sensitivity(tmp_path / "sensitivity.nc")["deal"].to_numpy().tolist() == ["low"]
    bad = runner.invoke(app, [*args, "--deal", "nope"], env={"COLUMNS": "200"})
    assert bad.exit_code == 2 and "unknown deal 'nope'" in bad.output and "Traceback" not in bad.output


# --------------------------------------------------------------------------- honest estimates


def test_sobol_indices_shown_are_never_negative(toy_path: Path) -> None:
    # 24 draws: the pick-freeze estimates scatter widely, and some fall below 0
    simulation = sample_worlds(load_scenario(toy_path), n_worlds=240, n_replicates=10, seed=1)
    result = analyse_sensitivity(simulation, seed=2, n_bootstrap=20)
    raw = result["sobol_first_estimate"].to_numpy()
    assert np.nanmin(raw) < -0.05  # what the table used to print
    frame = sensitivity_table(result)
    for name in ("sobol_first", "sobol_total"):
        values = frame[[name, f"{name}_low", f"{name}_high"]].dropna().to_numpy()
        assert (values >= 0).all() and (values <= 1).all()
        assert (frame[f"{name}_low"].dropna() <= frame[name].dropna() + 1e-12).all()
    # the clipped value is the raw estimate wherever that lies in [0, 1], and 0 below it
    shown = result["sobol_first"].to_numpy()
    inside = np.isfinite(raw) & (raw >= 0) & (raw <= 1)
    np.testing.assert_array_equal(shown[inside], raw[inside])
    assert np.all(shown[np.isfinite(raw) & (raw < 0)] == 0)


def test_fixed_ideal_lobby_has_no_tornado_number_but_keeps_its_sobol_index(toy: xr.Dataset) -> None:
    # toy.yaml's unions lobby: fixed ideal point, uncertain influence
    unions = toy.sel(constituency="lobby:home.unions")
    assert np.isnan(unions["tornado_change"]).all() and np.isnan(unions["tornado_width"]).all()
    assert float(unions["sobol_total"].sel(outcome="home", deal="low")) >= 0
    row = sensitivity_table(toy).query("constituency == 'lobby:home.unions'").iloc[0]
    assert np.isnan(row["toward"]) and np.isnan(row["width"])
