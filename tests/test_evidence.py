"""Evidence: known-answer posteriors for polls and whip counts, and the net-gain graph vs the engine."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

from riskmodel.inference.sampling import draw_prior, sample_posterior
from riskmodel.model.evidence import declared_loglik, poll_loglik
from riskmodel.model.gain_graph import member_net_gain, public_share
from riskmodel.model.layout import build_layout
from riskmodel.model.priors import build_model
from riskmodel.spec.scenario import load_scenario
from riskmodel.worlds.arrays import deal_features
from riskmodel.worlds.build import make_worlds


@pytest.mark.slow
def test_poll_posterior_is_the_conjugate_beta() -> None:
    # share ~ Beta(2, 3); 60 of 100 approve -> Beta(62, 43)
    with pm.Model() as model:
        share = pm.Beta("share", 2.0, 3.0)
        pm.Potential("poll", poll_loglik(share, 60, 100))
    fit = sample_posterior(model, draws=2000, tune=500, chains=2, sampler="pymc", seed=1)
    draws = fit["posterior"]["share"].to_numpy().ravel()
    a, b = 62, 43
    assert draws.mean() == pytest.approx(a / (a + b), abs=0.006)
    assert draws.std() == pytest.approx(np.sqrt(a * b / ((a + b) ** 2 * (a + b + 1))), rel=0.1)


@pytest.mark.slow
def test_declared_positions_move_the_vote_probability_by_bayes_rule() -> None:
    # p ~ U(0, 1), reliability 0.8: 'yes' gives density ∝ 0.2 + 0.6p (mean 0.6); 'no' mean 0.4;
    # 'undecided' gives ∝ p(1 - p): Beta(2, 2), mean 0.5, SD √0.05.
    with pm.Model() as model:
        p = pm.Uniform("p", 0.0, 1.0, shape=3)
        pm.Potential("declared", declared_loglik(p, ["yes", "no", "undecided"], 0.8))
    fit = sample_posterior(model, draws=2000, tune=500, chains=2, sampler="pymc", seed=2)
    draws = fit["posterior"]["p"].to_numpy().reshape(-1, 3)
    assert draws[:, 0].mean() == pytest.approx(0.6, abs=0.015)
    assert draws[:, 1].mean() == pytest.approx(0.4, abs=0.015)
    assert draws[:, 2].mean() == pytest.approx(0.5, abs=0.015)
    assert draws[:, 2].std() == pytest.approx(np.sqrt(0.05), rel=0.08)


@pytest.mark.slow
def test_net_gain_graph_matches_the_engine_coefficients(toy_path) -> None:
    layout = build_layout(load_scenario(toy_path))
    model = build_model(layout)
    deal = layout.to_unit(layout.deal_values[0])
    members = np.arange(len(layout.members))
    public = layout.publics.index("away")
    referendum = layout.referendum_chambers[0]
    with model:
        pm.Deterministic("gain_check", member_net_gain(model, layout, deal, members), dims="member")
        noise = model["chamber_shock_scale"][referendum]
        pm.Deterministic("share_check", public_share(model, layout, deal, public, noise))
    draws = draw_prior(model, 50, seed=3)["prior"].to_dataset()
    worlds = make_worlds(layout, draws, n_replicates=1, seed=4)
    features = deal_features(deal[None, :], layout.link_pairs)[0]
    expected = worlds.member_coef @ features  # (D, M)
    got = draws["gain_check"].to_numpy().reshape(50, -1)
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)
    mean = worlds.referendum_coef[:, 0] @ features
    u = deal - worlds.referendum_reversion[0]
    variance = np.einsum("dkl,k,l->d", worlds.referendum_var[:, 0], u, u)
    from scipy.stats import norm

    share = norm.cdf(mean / np.sqrt(variance + worlds.referendum_noise[:, 0] ** 2))
    np.testing.assert_allclose(draws["share_check"].to_numpy().ravel(), share, rtol=1e-8)


def test_row_wise_deals_give_each_row_the_gain_of_its_own_deal(toy_path) -> None:
    # earlier_deals evaluates every earlier vote in one graph with a deal per row; each row must
    # get exactly what the single-deal graph gives that member (own, lobby, public, chief terms)
    layout = build_layout(load_scenario(toy_path))
    assert layout.lobbies and layout.publics and layout.chiefs and len(layout.link_pairs)
    model = build_model(layout)
    rng = np.random.default_rng(5)
    n = len(layout.members)
    points = rng.uniform(0.0, 1.0, size=(3, len(layout.issues)))
    members = np.concatenate([np.arange(n), np.arange(n), rng.permutation(n)])
    which = np.repeat(np.arange(3), n)
    single = [member_net_gain(model, layout, points[k], members[which == k]) for k in range(3)]
    rows = member_net_gain(model, layout, points[which], members)
    fn = model.compile_fn(
        model.replace_rvs_by_values([pm.math.concatenate(single), rows]),
        inputs=model.value_vars,
        on_unused_input="ignore",
    )
    start = model.initial_point()
    for _ in range(2):  # any point of the unconstrained space
        point = {name: rng.normal(0.0, 0.5, size=np.shape(value)) for name, value in start.items()}
        expected, got = fn(point)
        assert np.abs(expected).max() > 0.01  # the point gives the terms something to do
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)
