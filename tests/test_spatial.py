"""Spatial evidence from earlier deals: the engine's net gain, recovery of known positions and
simulation-based calibration with a wrong-prior control."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import pytest
from scipy import stats

from riskmodel.errors import ScenarioError
from riskmodel.inference.sampling import draw_prior, sample_posterior
from riskmodel.model import spatial
from riskmodel.model import variables as mv
from riskmodel.model.evidence import add_evidence
from riskmodel.model.layout import build_layout
from riskmodel.model.priors import build_model
from riskmodel.model.spatial import deal_vote_gain, earlier_votes_loglik, ideology_loglik, standardise_within
from riskmodel.spec.scenario import load_scenario
from riskmodel.worlds.arrays import deal_features
from riskmodel.worlds.build import make_worlds

N_PER_BLOC = 15
# earlier deals (labour 0-4, opening 0-1) whose terms differ, all against the status quo
TERMS = [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (2, 0.5), (3, 0.5), (4, 0.5), (0, 0.5), (1, 0.5)]

SCENARIO = """
name: spatial_demo
issues:
  - {{name: labour, unit: index, range: [0, 4]}}
  - {{name: opening, unit: share, range: [0, 1]}}
deals:
  - {{name: strong_labour, values: {{labour: 3, opening: 1}}}}
  - {{name: weak_labour, values: {{labour: 1, opening: 1}}}}
sides:
  - name: us
    reversion: {{labour: 0, opening: 0}}
    chambers:
      - name: house
        members: members.csv
        shock_scale: {{dist: gamma, alpha: 8, beta: 80}}
        blocs:
          - name: dem
            ideal: {{labour: {dem_labour}, opening: {{dist: normal, mu: 0.35, sigma: 0.2}}}}
            spread: {{labour: 0.6, opening: 0.15}}
            salience: {{dirichlet: {{labour: 3, opening: 3}}}}
          - name: rep
            ideal: {{labour: {rep_labour}, opening: {{dist: normal, mu: 0.85, sigma: 0.2}}}}
            spread: {{labour: 0.6, opening: 0.15}}
            salience: {{dirichlet: {{labour: 3, opening: 3}}}}
    votes:
      - {{name: passage, chamber: house}}
{evidence}
"""
RIGHT = {
    "dem_labour": "{dist: normal, mu: 3.0, sigma: 0.6}",
    "rep_labour": "{dist: normal, mu: 1.0, sigma: 0.6}",
}
# a confident prior that has the parties the wrong way round on labour
WRONG = {
    "dem_labour": "{dist: normal, mu: 1.0, sigma: 0.15}",
    "rep_labour": "{dist: normal, mu: 3.0, sigma: 0.15}",
}


def _write(tmp_path: Path, priors: dict[str, str], evidence: str = "") -> Path:
    names = [f"d{i}" for i in range(N_PER_BLOC)] + [f"r{i}" for i in range(N_PER_BLOC)]
    pd.DataFrame(
        {
            "name": names,
            "bloc": ["dem"] * N_PER_BLOC + ["rep"] * N_PER_BLOC,
            "bioguide": [f"B{i:03d}" for i in range(len(names))],
        }
    ).to_csv(tmp_path / "members.csv", index=False)
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO.format(evidence=evidence, **priors))
    return path


def _terms(k: int) -> tuple[np.ndarray, np.ndarray]:
    labour, opening = TERMS[k]
    return np.array([labour / 4, opening]), np.zeros(2)


def _spatial_model(path: Path) -> tuple[pm.Model, int]:
    """The scenario's model with every member's votes on the earlier deals as ``pm.Data``."""
    layout = build_layout(load_scenario(path))
    model = build_model(layout)
    members = np.arange(len(layout.members))
    n = len(members)
    with model:
        model.add_coord("earlier_obs", np.arange(n * len(TERMS)))
        yea = pm.Data("yea", np.zeros(n * len(TERMS)), dims="earlier_obs")
        gains = [deal_vote_gain(model, layout, *_terms(k), members) for k in range(len(TERMS))]
        gain = pm.Deterministic("sim_gain", pt.concatenate(gains), dims="earlier_obs")
        scale = model[mv.CHAMBER_SHOCK_SCALE][np.tile(layout.member_chamber, len(TERMS))]
        pm.Deterministic("sim_scale", scale, dims="earlier_obs")
        pm.Potential("earlier_loglik", earlier_votes_loglik(gain, scale, yea))
    return model, n


def test_gain_on_an_earlier_deal_is_the_engines_net_gain(tmp_path: Path) -> None:
    # against the scenario's own reversion the engine's coefficients give the same Δ_i
    layout = build_layout(load_scenario(_write(tmp_path, RIGHT)))
    model = build_model(layout)
    members = np.arange(len(layout.members))
    deal = layout.to_unit(layout.deal_values[0])
    with model:
        pm.Deterministic(
            "check",
            deal_vote_gain(model, layout, deal, layout.to_unit(layout.reversion[0]), members),
            dims="member",
        )
    draws = draw_prior(model, 20, seed=5)["prior"].to_dataset()
    worlds = make_worlds(layout, draws, n_replicates=1, seed=6)
    features = deal_features(deal[None, :], layout.link_pairs)[0]
    engine = worlds.member_coef @ features
    np.testing.assert_allclose(draws["check"].to_numpy()[0], engine, rtol=1e-5, atol=1e-6)


def _simulate(draws, n_rep: int, seed: int) -> np.ndarray:
    gain = draws["sim_gain"].to_numpy()[0][:n_rep]
    scale = draws["sim_scale"].to_numpy()[0][:n_rep]
    rng = np.random.default_rng(seed)
    return (gain + rng.normal(size=gain.shape) * scale > 0).astype(np.float64)


def _coverage(model: pm.Model, truth_draws, yea: np.ndarray, *, seed: int) -> np.ndarray:
    """For each replication, whether each true bloc and member ideal point is in the 80% interval."""
    cache: dict = {}
    covered = []
    truth_bloc = truth_draws["bloc_ideal"].to_numpy()[0]
    truth_member = truth_draws["member_ideal"].to_numpy()[0]
    for r in range(len(yea)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sample_posterior(
                model,
                draws=400,
                tune=400,
                chains=2,
                sampler="nutpie",
                var_names=["bloc_ideal", "member_ideal"],
                data={"yea": yea[r]},
                compiled_cache=cache,
                seed=seed + r,
            )
        post = fit["posterior"]
        hits = []
        for name, truth in (("bloc_ideal", truth_bloc[r]), ("member_ideal", truth_member[r])):
            values = post[name].to_numpy().reshape(-1, *truth.shape)
            lo, hi = np.quantile(values, [0.1, 0.9], axis=0)
            hits.append(((lo <= truth) & (truth <= hi)).ravel())
        covered.append(np.concatenate(hits))
    return np.array(covered)


@pytest.mark.slow
def test_simulation_based_calibration_with_a_wrong_prior_control(tmp_path: Path) -> None:
    n_rep = 12
    right_model, _ = _spatial_model(_write(tmp_path, RIGHT))
    truth = draw_prior(right_model, n_rep, seed=11)["prior"].to_dataset()
    yea = _simulate(truth, n_rep, seed=12)
    assert 0.2 < yea.mean() < 0.8  # the simulated votes are informative, not one-sided
    right = _coverage(right_model, truth, yea, seed=100)
    # calibrated: true values land in 80% intervals about 80% of the time (pooled over
    # 12 replications × (4 bloc + 60 member) values; the SE of the rate is ~0.02-0.04
    # once within-replication correlation is allowed for)
    assert 0.70 <= right.mean() <= 0.90, right.mean()
    assert 0.55 <= right[:, :4].mean() <= 1.0

    wrong_model, _ = _spatial_model(_write(tmp_path, WRONG))
    wrong = _coverage(wrong_model, truth, yea, seed=200)
    # the same data fitted under a confident, wrong prior: the check fails it
    assert wrong[:, :4].mean() < 0.4, wrong[:, :4].mean()
    assert wrong.mean() < right.mean() - 0.15


EVIDENCE = """
evidence:
  draws: 500
  tune: 500
  earlier_deals:
    - side: us
      chamber: house
      votes: votes.csv
      member_key: bioguide
      deals:
{deals}
"""


def _earlier_evidence(tmp_path: Path, yea: np.ndarray, n: int) -> str:
    rows, deals = [], []
    for k, (labour, opening) in enumerate(TERMS):
        for i in range(n):
            vote = yea[k * n + i]
            rows.append(
                (f"v{k}", f"B{i:03d}", "D" if i < N_PER_BLOC else "R", "XX", "Yea" if vote else "Nay")
            )
        deals.append(f"        - {{vote_id: v{k}, deal: {{labour: {labour}, opening: {opening}}}}}")
    pd.DataFrame(rows, columns=["vote_id", "member_id", "party", "state", "position"]).to_csv(
        tmp_path / "votes.csv", index=False
    )
    return EVIDENCE.format(deals="\n".join(deals))


@pytest.mark.slow
def test_the_scenario_path_recovers_positions_and_the_effect_of_terms(tmp_path: Path) -> None:
    model, n = _spatial_model(_write(tmp_path, RIGHT))
    truth = draw_prior(model, 1, seed=21)["prior"].to_dataset()
    yea = _simulate(truth, 1, seed=22)[0]
    path = _write(tmp_path, RIGHT, _earlier_evidence(tmp_path, yea, n))
    scenario = load_scenario(path)
    layout = build_layout(scenario)
    fitted = add_evidence(build_model(layout), layout, scenario.spec.evidence)
    members = np.arange(n)
    with fitted:
        pm.Deterministic(
            "fit_gain",
            pt.stack([deal_vote_gain(fitted, layout, *_terms(k), members) for k in range(len(TERMS))]),
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sample_posterior(
            fitted, draws=500, tune=500, chains=2, var_names=["member_ideal", "fit_gain"], seed=23
        )
    post = fit["posterior"]["member_ideal"].to_numpy().reshape(-1, n, 2)
    true_ideal = truth["member_ideal"].to_numpy()[0, 0]
    prior_ideal = draw_prior(build_model(layout), 2000, seed=24)["prior"]["member_ideal"].to_numpy()[0]
    # positions: closer to the truth than the prior mean is, member by member on labour
    post_error = np.abs(post.mean(0)[:, 0] - true_ideal[:, 0]).mean()
    prior_error = np.abs(prior_ideal.mean(0)[:, 0] - true_ideal[:, 0]).mean()
    assert post_error < 0.6 * prior_error, (post_error, prior_error)
    # the effect of terms: stronger labour terms raise Democrats' support as the truth says
    gain = truth["sim_gain"].to_numpy()[0, 0].reshape(len(TERMS), n)
    fitted_gain = fit["posterior"]["fit_gain"].to_numpy().reshape(-1, len(TERMS), n).mean(0)
    true_effect = gain[3, :N_PER_BLOC].mean() - gain[1, :N_PER_BLOC].mean()  # labour 3 vs 1
    effect = fitted_gain[3, :N_PER_BLOC].mean() - fitted_gain[1, :N_PER_BLOC].mean()
    assert np.sign(effect) == np.sign(true_effect)
    assert effect == pytest.approx(true_effect, rel=0.5)


def test_unknown_vote_and_issue_are_named(tmp_path: Path) -> None:
    evidence = EVIDENCE.format(deals="        - {vote_id: v99, deal: {labour: 3}}")
    pd.DataFrame(
        [("v0", "B000", "D", "XX", "Yea")], columns=["vote_id", "member_id", "party", "state", "position"]
    ).to_csv(tmp_path / "votes.csv", index=False)
    scenario = load_scenario(_write(tmp_path, RIGHT, evidence))
    layout = build_layout(scenario)
    with pytest.raises(ScenarioError, match=r"vote 'v99' is not in votes.csv"):
        add_evidence(build_model(layout), layout, scenario.spec.evidence)
    evidence = EVIDENCE.format(deals="        - {vote_id: v0, deal: {labor: 3}}")
    scenario = load_scenario(_write(tmp_path, RIGHT, evidence))
    layout = build_layout(scenario)
    with pytest.raises(ScenarioError, match=r"unknown issue 'labor'.*did you mean"):
        add_evidence(build_model(layout), layout, scenario.spec.evidence)


# v0: all 30 members (15 a party: centred draws); v1: four a party (non-centred)
TWO_VOTES = [list(range(30)), [0, 1, 2, 3, 15, 16, 17, 18]]


def _two_vote_model(tmp_path: Path, text: str) -> tuple[Any, Any, Any]:
    """``text`` (SCENARIO with common shocks) conditioned on TWO_VOTES; the model, layout and both gains."""
    votes = [(f"v{k}", f"B{i:03d}", "Yea" if (i + k) % 3 else "Nay") for k in range(2) for i in TWO_VOTES[k]]
    pd.DataFrame(votes, columns=["vote_id", "member_id", "position"]).assign(party="D", state="XX").to_csv(
        tmp_path / "votes.csv", index=False
    )
    path = _write(tmp_path, RIGHT)  # the member table; the scenario is rewritten below
    deals = (
        "        - {vote_id: v0, deal: {labour: 4, opening: 1}}\n        - {vote_id: v1, deal: {labour: 1}}"
    )
    path.write_text(text.format(evidence=EVIDENCE.format(deals=deals), **RIGHT))
    scenario = load_scenario(path)
    layout = build_layout(scenario)
    model = add_evidence(build_model(layout), layout, scenario.spec.evidence)
    members = np.arange(len(layout.members))
    with model:
        gains = pt.stack(
            [
                deal_vote_gain(model, layout, np.array([1.0, 1.0]), np.zeros(2), members),
                deal_vote_gain(model, layout, np.array([0.25, 0.0]), np.zeros(2), members),
            ]
        )
    return model, layout, gains


def test_common_shocks_of_earlier_votes_share_the_scenarios_scales(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each earlier vote adds the chamber's and the member's party's shock to every member's
    # gain, with the scale variables the engine draws the target's common shocks from; one
    # strong vote is drawn centred here (by default that takes five)
    monkeypatch.setattr(spatial, "CENTRED_VOTES", 1)
    shared = "common_shock: {{dist: half_normal, sigma: 0.2}}"
    text = SCENARIO.replace("shock_scale:", f"{shared}\n        shock_scale:").replace(
        "            spread:", f"            {shared}\n            spread:"
    )
    model, layout, gains = _two_vote_model(tmp_path, text)
    voted = TWO_VOTES
    point = model.initial_point(random_seed=3)
    shock = np.random.default_rng(4).normal(size=(2, 2))
    dem, rep, house = 0.15, 0.3, 0.05
    point["prior_half_normal_log__"] = np.log([dem, rep, house])
    # the centred vote draws each party's level: the gain its members share (that of a member
    # at the party's ideal point, member_z = 0) plus the party's total shock
    at_ideal = model.compile_fn(
        model.replace_rvs_by_values([gains]), inputs=model.value_vars, on_unused_input="ignore"
    )({**point, "member_z": np.zeros_like(point["member_z"])})[0]
    shared = at_ideal[0, [0, N_PER_BLOC]]
    point["earlier0_shock_level"], point["earlier0_shock_z"] = shared + shock[:1] * 0.2, shock[1:]
    order = list(model.coords["prior_half_normal_param"])
    assert order == [
        "bloc_common_shock[us.dem]",
        "bloc_common_shock[us.rep]",
        "chamber_common_shock[us.house]",
    ]
    outputs = model.replace_rvs_by_values([gains, model[mv.CHAMBER_SHOCK_SCALE], model.potentials[0]])
    fn = model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore")
    gain, scale, loglik = fn(point)
    bloc = layout.member_bloc
    # the two parties' total shocks: chamber + own party, so they covary by the chamber's part
    cov = np.array([[house**2 + dem**2, house**2], [house**2, house**2 + rep**2]])
    totals = np.vstack([shock[:1] * 0.2, shock[1:] @ np.linalg.cholesky(cov).T])
    expected, independent = 0.0, 0.0
    for k in range(2):
        rows = np.array(voted[k])
        sign = np.where((rows + k) % 3 != 0, 1.0, -1.0)
        expected += stats.norm.logcdf(sign * (gain[k, rows] + totals[k, bloc[rows]]) / scale[0]).sum()
        independent += stats.norm.logcdf(sign * gain[k, rows] / scale[0]).sum()
    assert float(loglik) == pytest.approx(expected, rel=1e-6)
    assert abs(expected - independent) > 1.0  # the shocks at this point do move the likelihood
    # the centred vote's totals have that covariance
    logp = model.compile_logp(vars=[model["earlier0_shock_level"]])(point)
    assert float(logp) == pytest.approx(
        stats.multivariate_normal(np.zeros(2), cov).logpdf(totals[0]), rel=1e-6
    )


def test_a_chamber_shock_alone_is_one_total_per_vote_centred_on_its_parties_mean(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # without party shocks both parties share the chamber's total on a vote: one draw per vote,
    # and a centred vote's level is the mean of the two parties' shared gains plus that total
    monkeypatch.setattr(spatial, "CENTRED_VOTES", 1)
    text = SCENARIO.replace(
        "shock_scale:", "common_shock: {{dist: gamma, alpha: 2, beta: 10}}\n        shock_scale:"
    )
    model, _, gains = _two_vote_model(tmp_path, text)
    voted = TWO_VOTES
    assert model["earlier0_shock_level"].type.shape == (1, 1)
    assert model["earlier0_shock_z"].type.shape == (1, 1)
    point = model.initial_point(random_seed=3)
    house = 0.15
    # the parties' ideals and valences apart, so the mean of their shared gains is not either's
    point["prior_normal"] = point["prior_normal"] + np.random.default_rng(6).normal(
        0.0, 0.5, point["prior_normal"].shape
    )
    assert list(model.coords["prior_gamma_param"]) == [
        "chamber_shock_scale[us.house]",
        "chamber_common_shock[us.house]",
    ]
    point["prior_gamma_log__"] = np.log([0.3, house])
    at_ideal = model.compile_fn(
        model.replace_rvs_by_values([gains]), inputs=model.value_vars, on_unused_input="ignore"
    )({**point, "member_z": np.zeros_like(point["member_z"])})[0]
    shared = at_ideal[0, [0, N_PER_BLOC]]
    assert abs(shared[0] - shared[1]) > 0.05
    mean = shared.mean()
    total0, z1 = 0.7 * house, -1.3
    point["earlier0_shock_level"], point["earlier0_shock_z"] = np.array([[mean + total0]]), np.array([[z1]])
    outputs = model.replace_rvs_by_values([gains, model[mv.CHAMBER_SHOCK_SCALE], model.potentials[0]])
    gain, scale, loglik = model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore")(point)
    expected = 0.0
    for k, total in enumerate((total0, z1 * house)):
        rows = np.array(voted[k])
        sign = np.where((rows + k) % 3 != 0, 1.0, -1.0)
        expected += stats.norm.logcdf(sign * (gain[k, rows] + total) / scale[0]).sum()
    assert float(loglik) == pytest.approx(expected, rel=1e-6)
    logp = model.compile_logp(vars=[model["earlier0_shock_level"]])(point)
    assert float(logp) == pytest.approx(stats.norm(mean, house).logpdf(mean + total0), rel=1e-6)


IDEOLOGY_SCENARIO = """
name: ideology_demo
issues:
  - {name: labour, unit: index, range: [0, 4]}
  - {name: opening, unit: share, range: [0, 1]}
deals:
  - {name: fta, values: {labour: 2, opening: 1}}
sides:
  - name: us
    reversion: {labour: 0, opening: 0}
    chambers:
      - name: house
        members: members.csv
        shock_scale: 0.1
        blocs:
          - {name: dem, ideal: {labour: 3, opening: 0.4}, spread: {labour: 0, opening: 0.3},
             salience: {labour: 1, opening: 1}, valence: 0}
          - {name: rep, ideal: {labour: 1, opening: 0.7}, spread: {labour: 0, opening: 0.3},
             salience: {labour: 1, opening: 1}, valence: 0}
    votes:
      - {name: passage, chamber: house}
evidence:
  draws: 400
  tune: 400
  ideology:
    - {side: us, chamber: house, column: ideology, issue: opening}
  earlier_deals:
    - side: us
      chamber: house
      votes: votes.csv
      member_key: key
      deals:
DEALS
"""
IDEOLOGY_TERMS = [(0, 1), (1, 1), (2, 1), (3, 1), (4, 1), (0, 0.5), (2, 0.5), (4, 0.5)]
TRUE_LOADING = {"dem": 0.8, "rep": -0.5}


def _ideology_files(tmp_path: Path, shuffle: bool) -> Path:
    """A scenario whose earlier votes are simulated from positions loading on ideology as TRUE_LOADING."""
    rng = np.random.default_rng(31)
    n = 40
    bloc = np.repeat(["dem", "rep"], n)
    rho = np.array([TRUE_LOADING[b] for b in bloc])
    ideology = rng.normal(size=2 * n)
    z = rho * ideology + np.sqrt(1 - rho**2) * rng.normal(size=2 * n)
    theta = np.column_stack(
        [np.where(bloc == "dem", 0.75, 0.25), np.where(bloc == "dem", 0.4, 0.7) + 0.3 * z]
    )
    rows, deals = [], []
    for k, (labour, opening) in enumerate(IDEOLOGY_TERMS):
        x = np.array([labour / 4, opening])
        # U(x) − U(q) with equal salience 1/2, q = 0: Σ w (2θx − x²); Δ + ε > 0 is a yea
        gain = 0.5 * (2 * theta * x - x**2).sum(axis=1)
        yea = gain + rng.normal(0, 0.1, size=2 * n) > 0
        rows += [
            (f"v{k}", f"K{i}", "D" if b == "dem" else "R", "XX", "Yea" if y else "Nay")
            for i, (b, y) in enumerate(zip(bloc, yea, strict=True))
        ]
        deals.append(f"        - {{vote_id: v{k}, deal: {{labour: {labour}, opening: {opening}}}}}")
    pd.DataFrame(rows, columns=["vote_id", "member_id", "party", "state", "position"]).to_csv(
        tmp_path / "votes.csv", index=False
    )
    given = rng.permutation(ideology) if shuffle else ideology
    pd.DataFrame(
        {
            "name": [f"m{i}" for i in range(2 * n)],
            "bloc": bloc,
            "key": [f"K{i}" for i in range(2 * n)],
            "ideology": given,
        }
    ).to_csv(tmp_path / "members.csv", index=False)
    (tmp_path / "scenario.yaml").write_text(IDEOLOGY_SCENARIO.replace("DEALS", "\n".join(deals)))
    return tmp_path / "scenario.yaml"


def _ideology_fit(tmp_path: Path, shuffle: bool) -> np.ndarray:
    """Posterior draws of the per-bloc loading."""
    scenario = load_scenario(_ideology_files(tmp_path, shuffle))
    layout = build_layout(scenario)
    assert scenario.spec.evidence is not None
    model = add_evidence(build_model(layout), layout, scenario.spec.evidence)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sample_posterior(model, draws=400, tune=400, chains=2, var_names=["ideology0_loading"], seed=32)
    return fit["posterior"]["ideology0_loading"].to_numpy().reshape(-1, 2)


def test_ideology_makes_position_and_ideal_point_a_correlated_normal_pair() -> None:
    # known answer: N(z; 0, 1) (the prior) × the ideology term is the standard bivariate
    # normal density with correlation ρ, and the standardisation is per bloc
    z, x = np.array([0.3, -1.2, 2.0]), np.array([1.1, -0.4, 0.5])
    rho = np.array([0.7, 0.7, -0.4])
    value = ideology_loglik(pt.as_tensor_variable(z), x, pt.as_tensor_variable(rho)).eval()
    expected = sum(
        stats.multivariate_normal([0, 0], [[1, r], [r, 1]]).logpdf([a, b]) - stats.norm.logpdf(a)
        for a, b, r in zip(z, x, rho, strict=True)
    )
    assert value == pytest.approx(expected, rel=1e-10)
    values = np.array([1.0, 2.0, 3.0, 10.0, 20.0, 30.0, np.nan, 5.0])
    group = np.array([0, 0, 0, 1, 1, 1, 1, 2])
    out = standardise_within(values, group)
    np.testing.assert_allclose(out[:6], np.tile([-np.sqrt(1.5), 0, np.sqrt(1.5)], 2))
    assert np.isnan(out[6:]).all()  # a blank stays blank; a bloc of one has no spread


@pytest.mark.slow
def test_the_ideology_loading_is_recovered_from_simulated_votes(tmp_path: Path) -> None:
    # known answer: votes simulated from positions that load on ideology with 0.8 (dem) and
    # −0.5 (rep); the posterior of each party's loading covers the truth and is near it
    draws = _ideology_fit(tmp_path, shuffle=False)
    for b, name in enumerate(("dem", "rep")):
        lo, hi = np.quantile(draws[:, b], [0.025, 0.975])
        assert lo < TRUE_LOADING[name] < hi, (name, lo, hi)
        assert abs(draws[:, b].mean() - TRUE_LOADING[name]) < 0.2
    # control: ideal points shuffled across members carry no information, and the loadings
    # the fit finds shrink towards zero
    (tmp_path / "control").mkdir()
    control = _ideology_fit(tmp_path / "control", shuffle=True)
    assert np.abs(control.mean(axis=0)).max() < 0.35
    assert abs(control[:, 0].mean()) < abs(draws[:, 0].mean()) - 0.4


def test_an_ideal_point_that_is_not_a_number_is_named(tmp_path: Path) -> None:
    path = _ideology_files(tmp_path, shuffle=False)
    table = pd.read_csv(tmp_path / "members.csv")
    table["ideology"] = table["ideology"].astype(object)
    table.loc[3, "ideology"] = "liberal"
    table.loc[5, "ideology"] = None  # blank: the member takes the bloc's mean
    table.to_csv(tmp_path / "members.csv", index=False)
    scenario = load_scenario(path)
    layout = build_layout(scenario)
    assert scenario.spec.evidence is not None
    with pytest.raises(ScenarioError, match=r"member 'm3' has ideal point 'liberal'.*expected a number"):
        add_evidence(build_model(layout), layout, scenario.spec.evidence)


def test_ideology_positions_are_written_non_centred(tmp_path: Path) -> None:
    # known answer: with the loading fixed at ρ = 0.6, a member with ideal point x (standardised
    # within the bloc) has the position z = ρ·x + √(1 − ρ²)·u, u the free standard normal
    # ``member_u`` — z | x ~ N(ρx, 1 − ρ²), the conditional of the bivariate normal the
    # ideology term defines — and a member without an ideal point has z = u
    path = _ideology_files(tmp_path, shuffle=False)
    path.write_text(path.read_text().replace("issue: opening}", "issue: opening, loading: 0.6}"))
    table = pd.read_csv(tmp_path / "members.csv")
    table.loc[5, "ideology"] = None
    table.to_csv(tmp_path / "members.csv", index=False)
    scenario = load_scenario(path)
    layout = build_layout(scenario)
    assert scenario.spec.evidence is not None
    model = add_evidence(build_model(layout), layout, scenario.spec.evidence)
    assert "ideology0_loglik" not in {p.name for p in model.potentials}
    u = np.random.default_rng(4).normal(size=(len(layout.members), len(layout.issues)))
    z = model[mv.MEMBER_Z].eval({model["member_u"]: u})
    opening = layout.issues.index("opening")
    x = standardise_within(table["ideology"].to_numpy(float), np.repeat([0, 1], 40))
    has = np.isfinite(x)
    np.testing.assert_allclose(z[has, opening], 0.6 * x[has] + 0.8 * u[has, opening], rtol=1e-12)
    np.testing.assert_array_equal(z[~has, opening], u[~has, opening])
    np.testing.assert_array_equal(z[:, 1 - opening], u[:, 1 - opening])


def test_a_second_ideology_item_on_the_same_positions_keeps_its_likelihood(tmp_path: Path) -> None:
    path = _ideology_files(tmp_path, shuffle=False)
    table = pd.read_csv(tmp_path / "members.csv")
    table["nominate"] = table["ideology"] + np.random.default_rng(5).normal(0, 0.3, len(table))
    table.loc[:9, "ideology"] = None  # ten members only the second item places
    table.to_csv(tmp_path / "members.csv", index=False)
    second = "    - {side: us, chamber: house, column: nominate, issue: opening}\n  earlier_deals:"
    path.write_text(path.read_text().replace("  earlier_deals:", second, 1))
    scenario = load_scenario(path)
    layout = build_layout(scenario)
    assert scenario.spec.evidence is not None
    model = add_evidence(build_model(layout), layout, scenario.spec.evidence)
    potentials = {p.name: p for p in model.potentials}
    assert "ideology0_loglik" not in potentials
    # the 70 members the first item places keep the second item's likelihood; the other ten
    # are written non-centred in the second item's loading
    assert "ideology1_loglik" in potentials
    inputs = spatial.ideology_inputs(layout)
    assert inputs[1] is not None and int(inputs[1].centred.sum()) == 70
    assert {"ideology0_loading", "ideology1_loading"} <= set(model.named_vars)
