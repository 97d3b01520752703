"""Scenario → PyMC priors → worlds → engine → results, end to end on small scenarios."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from riskmodel.inference.sampling import draw_prior
from riskmodel.io import load_results, save_results
from riskmodel.model.layout import build_layout
from riskmodel.model.priors import build_model, to_scipy
from riskmodel.model.variables import MEMBER_Z, RANDOM_INPUTS, VARIABLES
from riskmodel.pipeline import evaluate_deals, run_scenario, sample_worlds
from riskmodel.results.tables import summary_table
from riskmodel.spec.scenario import load_scenario, parse_scenario


@pytest.fixture(scope="module")
def toy(toy_path: Path):
    return load_scenario(toy_path)


@pytest.fixture(scope="module")
def toy_results(toy) -> xr.Dataset:
    return run_scenario(toy, n_worlds=600, n_replicates=10, seed=3)


def test_model_has_named_coordinates(toy) -> None:
    layout = build_layout(toy)
    model = build_model(layout)
    assert model.coords["bloc"] == ("home.left", "home.right", "home.pres")
    assert model.named_vars_to_dims["member_ideal"] == ("member", "issue")
    assert len(model.coords["member"]) == 10
    assert "lobby_influence" in model.named_vars


def test_model_variables_are_the_registry(toy) -> None:
    """The builder's named variables are exactly the registry's, with the registry's dims."""
    model = build_model(build_layout(toy))
    named = {
        var.name: model.named_vars_to_dims[var.name]
        for var in model.deterministics
        if not var.name.startswith("prior_")
    }
    assert named == {name: variable.dims for name, variable in VARIABLES.items()}
    assert RANDOM_INPUTS == ("chamber_absence", "chamber_shock_scale", "chamber_campaign_shock")
    assert all(VARIABLES[name].random_input for name in RANDOM_INPUTS)
    assert MEMBER_Z in model.named_vars


def test_prior_draws_follow_the_declared_priors(toy) -> None:
    layout = build_layout(toy)
    draws = draw_prior(build_model(layout), 4000, seed=1)["prior"]
    tariff_left = draws["bloc_ideal"].sel(bloc="home.left", issue="tariff").to_numpy().ravel()
    assert tariff_left.mean() == pytest.approx(5.0, abs=0.15)
    assert tariff_left.std() == pytest.approx(2.0, abs=0.1)
    right = draws["bloc_ideal"].sel(bloc="home.right", issue="tariff").to_numpy().ravel()
    assert right.min() >= 0 and right.max() <= 20
    expected = to_scipy(layout.bloc_specs[1].ideal["tariff"])
    assert right.mean() == pytest.approx(expected.mean(), abs=0.15)
    salience = draws["bloc_salience"].to_numpy()
    np.testing.assert_allclose(salience.sum(axis=-1), 1.0)
    # elicited gamma prior: 90% of its mass between 0.05 and 0.2
    shock = draws["chamber_shock_scale"].sel(chamber="home.house").to_numpy().ravel()
    assert np.mean((shock > 0.05) & (shock < 0.2)) == pytest.approx(0.9, abs=0.03)
    # members scatter around their bloc with the declared spread
    ideal = draws["member_ideal"].sel(member="home.house.left-001", issue="tariff").to_numpy().ravel()
    assert ideal.std() == pytest.approx(np.hypot(2.0, 1.0), rel=0.08)


def test_same_seed_same_numbers_other_seed_other_numbers(toy, toy_results) -> None:
    again = run_scenario(toy, n_worlds=600, n_replicates=10, seed=3, chunk_size=1)
    xr.testing.assert_identical(toy_results.drop_attrs(), again.drop_attrs())
    other = run_scenario(toy, n_worlds=600, n_replicates=10, seed=4)
    assert not np.array_equal(other["ratification_conditional"], toy_results["ratification_conditional"])


def test_results_hold_probabilities_intervals_and_vote_distributions(toy_results) -> None:
    r = toy_results
    assert r.sizes["draw"] == 60 and r.attrs["n_worlds"] == 600
    p = r["ratification_probability"]
    assert ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p, r["ratification_conditional"].mean("draw"))
    q = r["ratification_conditional_quantile"]
    assert (q.diff("quantile") >= 0).all()
    assert (r["agreement_probability"] <= p.min("side") + 1e-12).all()
    hist = r["support_histogram"].sel(vote="home.passage")
    np.testing.assert_allclose(hist.sum("count"), 1.0)
    assert r["vote_kind"].sel(vote="away.referendum") == "share"
    assert {"scenario_digest", "seed", "package_versions"} <= set(r.attrs)


def test_results_round_trip_through_netcdf(toy_results, tmp_path: Path) -> None:
    path = save_results(toy_results, tmp_path / "out" / "results.nc")
    assert [p.name for p in path.parent.iterdir()] == ["results.nc"]  # no temporary left behind
    loaded = load_results(path)
    xr.testing.assert_identical(loaded, toy_results)
    table = summary_table(loaded)
    assert list(table["side"].unique()) == ["home", "away", "joint"]


REFERENDUM = """
name: ref
issues: [{name: tax, range: [0, 1]}]
deals: [{name: d, values: {tax: 0.7}}]
sides:
  - name: s
    reversion: {tax: 0.2}
    public: {ideal: {tax: 0.5}, spread: 0.3, approval: APPROVAL}
    chambers: [{name: voters, kind: referendum, shock_scale: 0.05, turnout: 0.6, quorum: QUORUM}]
    votes: [{name: ref, chamber: voters}]
"""


def test_referendum_share_matches_brute_force_voters() -> None:
    text = REFERENDUM.replace("APPROVAL", "0.0").replace("QUORUM", "0.5")
    simulation = sample_worlds(parse_scenario(text), n_worlds=20, n_replicates=1, seed=0)
    results = evaluate_deals(simulation)
    share = float(results["support_quantile"].sel(quantile=0.5, vote="s.ref", deal="d"))
    rng = np.random.default_rng(0)
    theta = rng.normal(0.5, 0.3, 400_000)
    gain = -((0.7 - theta) ** 2) + (0.2 - theta) ** 2 + rng.normal(0, 0.05, theta.size)
    assert share == pytest.approx(np.mean(gain > 0), abs=0.003)
    assert float(results["ratification_probability"].item()) == float(share > 0.5)


def test_referendum_fails_below_quorum_and_approval_shifts_it() -> None:
    below = evaluate_deals(
        sample_worlds(
            parse_scenario(REFERENDUM.replace("APPROVAL", "0.5").replace("QUORUM", "0.7")),
            n_worlds=10,
            n_replicates=1,
        )
    )
    assert float(below["ratification_probability"].item()) == 0.0
    boosted = evaluate_deals(
        sample_worlds(
            parse_scenario(REFERENDUM.replace("APPROVAL", "0.5").replace("QUORUM", "0.5")),
            n_worlds=10,
            n_replicates=1,
        )
    )
    share = float(boosted["support_mean"].item())
    mean_gain = -((0.7 - 0.5) ** 2) + (0.2 - 0.5) ** 2 + 0.5  # spatial net gain of the mean voter + approval
    sd = np.sqrt(4 * 0.3**2 * (0.7 - 0.2) ** 2 + 0.05**2)  # voters' ideal spread + idiosyncratic shock
    assert share == pytest.approx(stats.norm.cdf(mean_gain / sd), abs=1e-9)
    assert float(boosted["ratification_probability"].item()) == 1.0


def test_member_table_attributes_drive_lobby_reach(tmp_path: Path) -> None:
    (tmp_path / "members.csv").write_text(
        "name,bloc,state,offset.tax\nA,dem,MI,0.1\nB,dem,CA,0\nC,rep,MI,-0.1\n"
    )
    text = textwrap.dedent(
        """
        name: table
        issues: [{name: tax, range: [0, 1]}]
        deals: [{name: d, values: {tax: 0.7}}]
        sides:
          - name: s
            reversion: {tax: 0.2}
            chambers:
              - name: house
                members: members.csv
                blocs:
                  - {name: dem, ideal: {tax: 0.6}}
                  - {name: rep, ideal: {tax: 0.3}}
            votes: [{name: passage, chamber: house}]
            lobbies:
              - {name: autos, ideal: {tax: 0.0}, influence: 1.0, reaches: {where: {state: [MI]}}}
        """
    )
    layout = build_layout(parse_scenario(text, base_dir=tmp_path))
    assert layout.members == ["s.house.A", "s.house.B", "s.house.C"]
    np.testing.assert_array_equal(layout.lobby_reach, [[True, False, True]])
    np.testing.assert_allclose(layout.member_offset[:, 0], [0.1, 0.0, -0.1])
