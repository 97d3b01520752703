"""Common shocks of earlier votes: the scales are recovered, and the target's worlds carry them.

The spatial-evidence likelihood gives each earlier vote a chamber shock and a shock per party,
with scales that are the scenario's ``common_shock`` variables (docs/design.md §5a). Here:

* the model these tests fit is the likelihood ``earlier_deals`` evidence adds (same log density);
* a hand-written simulator's net gains are the engine's;
* with fixed scales, the engine's yes count across worlds has the distribution of the binomial
  mixture computed by quadrature (mean, variance, shape), and not that of independent members;
* simulation-based calibration: scales drawn from the prior, votes simulated by hand, the model
  fitted; the rank of each true scale among posterior draws is uniform (χ²) and 80% intervals
  cover at 80% (binomial test), while a confident wrong prior on the scales fails the same check
  (parties of 15, whose shocks are drawn centred, and of 6, drawn non-centred);
* the target vote's forecast: worlds built from the posterior give 90% yes-count intervals that
  cover the simulated count at 90% with a uniform PIT, while the same likelihood with the shocks
  off under-covers.

The studies are ``long`` (hundreds of fits); one fit that must tell a party whose votes swing as
a block from a steady one is their short form, run by ``make test``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pymc as pm
import pytest
from scipy import stats
from spatial_sim import (
    SCALES,
    evidence_yaml,
    hand_gain,
    shock_model,
    simulate_vote,
    simulate_votes,
    terms,
    truth_arrays,
    write_scenario,
    yes_count_pmf,
)

from riskmodel.engine import count_yes, member_gain
from riskmodel.inference.sampling import draw_prior, sample_posterior
from riskmodel.model.evidence import add_evidence
from riskmodel.model.layout import build_layout
from riskmodel.model.priors import build_model
from riskmodel.spec.scenario import load_scenario
from riskmodel.worlds.arrays import deal_features
from riskmodel.worlds.build import make_worlds

CHAINS, DRAWS, TUNE, THIN = 2, 400, 400, 4  # 2 × 400 / 4 = 200 thinned draws: ranks 0 … 200
N_PER_BLOC = 15  # ≥ STRONG_VOTE: every earlier vote's party totals are drawn centred, as in a House
N_SMALL = 6  # < STRONG_VOTE: drawn non-centred, as a senator's few earlier House votes are


def _fit(model: pm.Model, names: list[str], yea: np.ndarray, *, seed: int, cache: dict | None = None):
    """The studies' posterior fit: nutpie, 2 × (400 + 400), the sampler's warnings held back."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sample_posterior(
            model,
            draws=DRAWS,
            tune=TUNE,
            chains=CHAINS,
            sampler="nutpie",
            var_names=names,
            data={"yea": yea},
            compiled_cache=cache,
            seed=seed,
        )


@pytest.mark.parametrize("n_per_bloc", [N_PER_BLOC, N_SMALL], ids=["centred", "non-centred"])
def test_the_fitted_model_is_the_earlier_deals_likelihood(tmp_path: Path, n_per_bloc: int) -> None:
    # the pm.Data model used for the studies has the log density add_evidence gives the
    # scenario with the same votes written as an evidence file
    path = write_scenario(tmp_path, n_per_bloc)
    model, layout = shock_model(path)
    truth = truth_arrays(draw_prior(model, 1, seed=1)["prior"].to_dataset(), 0)
    n = len(layout.members)
    yea = simulate_votes(truth, layout.member_bloc, np.random.default_rng(2))
    scenario = load_scenario(write_scenario(tmp_path, n_per_bloc, evidence=evidence_yaml(tmp_path, yea, n)))
    fitted_layout = build_layout(scenario)
    fitted = add_evidence(build_model(fitted_layout), fitted_layout, scenario.spec.evidence)
    assert sorted(v.name for v in fitted.value_vars) == sorted(v.name for v in model.value_vars)
    with model:
        pm.set_data({"yea": yea})
    ours, theirs = model.compile_logp(), fitted.compile_logp()
    for seed in (3, 4):
        point = fitted.initial_point(random_seed=seed)
        point = {k: v + np.random.default_rng(seed).normal(0, 0.3, np.shape(v)) for k, v in point.items()}
        assert float(ours(point)) == pytest.approx(float(theirs(point)), rel=1e-9)
    with model:  # guard: the votes do enter the density
        pm.set_data({"yea": 1.0 - yea})
    assert abs(float(ours(point)) - float(theirs(point))) > 1.0


def test_the_hand_simulators_gain_is_the_engines(tmp_path: Path) -> None:
    model, layout = shock_model(write_scenario(tmp_path, N_PER_BLOC))
    draws = draw_prior(model, 3, seed=5)["prior"].to_dataset()
    worlds = make_worlds(layout, draws, n_replicates=1, seed=6)
    for k in (0, 4, 7):
        deal, reversion = terms(k)
        # the engine's gain is against the scenario's reversion, the status quo (0, 0) here too
        engine = member_gain(worlds, deal_features(deal[None, :], layout.link_pairs))[:, 0]
        for d in range(3):
            hand = hand_gain(truth_arrays(draws, d), layout.member_bloc, deal, reversion)
            np.testing.assert_allclose(engine[d], hand, rtol=1e-5, atol=1e-6)


FIXED = {"chamber": 0.12, "dem": 0.3, "rep": 0.08}  # distinct, so a misplaced scale shows


def test_the_target_votes_worlds_carry_the_common_shocks(tmp_path: Path) -> None:
    # one epistemic draw (fixed member gains), many shock replicates: the engine's yes count
    # must follow the mixture over the chamber's and parties' shocks of Poisson-binomials
    path = write_scenario(tmp_path, N_PER_BLOC, **FIXED)
    model, layout = shock_model(path)
    draws = draw_prior(model, 2, seed=7)["prior"].to_dataset()
    n_rep = 40_000
    worlds = make_worlds(layout, draws, n_replicates=n_rep, seed=8)
    deal = layout.to_unit(layout.deal_values[0])
    counts = count_yes(worlds, deal_features(deal[None, :], layout.link_pairs))[:, :, 0, 0]
    bloc = layout.member_bloc
    for d in range(2):
        gain = hand_gain(truth_arrays(draws, d), bloc, deal, layout.to_unit(layout.reversion[0]))
        scales = FIXED["chamber"], np.array([FIXED["dem"], FIXED["rep"]])
        pmf = yes_count_pmf(gain, bloc, *scales, member_scale=0.1)
        assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
        y = np.arange(len(pmf))
        mean = pmf @ y
        var = pmf @ (y - mean) ** 2
        mu4 = pmf @ (y - mean) ** 4
        sample = counts[d].astype(np.float64)
        # Monte Carlo standard errors of the sample mean and variance, from the exact distribution
        assert abs(sample.mean() - mean) < 4 * np.sqrt(var / n_rep), (sample.mean(), mean)
        se_var = np.sqrt((mu4 - var**2) / n_rep)
        assert abs(sample.var() - var) < 4 * se_var, (sample.var(), var, se_var)
        # the whole distribution: χ² over counts with ≥ 20 expected, tails pooled
        observed = np.bincount(counts[d], minlength=len(pmf)).astype(np.float64)
        expected = pmf * n_rep
        keep = expected >= 20
        lo, hi = np.flatnonzero(keep)[[0, -1]]
        obs = np.concatenate([[observed[: lo + 1].sum()], observed[lo + 1 : hi], [observed[hi:].sum()]])
        exp = np.concatenate([[expected[: lo + 1].sum()], expected[lo + 1 : hi], [expected[hi:].sum()]])
        assert stats.chisquare(obs, exp * obs.sum() / exp.sum()).pvalue > 1e-4
        # control: members voting independently (no common shock) is far from what the engine does
        independent = yes_count_pmf(gain, bloc, 0.0, np.zeros(2), member_scale=0.1)
        var0 = independent @ (y - independent @ y) ** 2
        assert sample.var() > var0 + 20 * se_var, (sample.var(), var0)
        # and the parties' scales swapped (each party's shock at the other's scale) is too
        swapped = yes_count_pmf(gain, bloc, scales[0], scales[1][::-1], member_scale=0.1)
        var_swapped = swapped @ (y - swapped @ y) ** 2
        assert abs(sample.var() - var_swapped) > 8 * se_var, (sample.var(), var_swapped)


@pytest.mark.slow
def test_one_fit_tells_a_shaken_party_from_a_steady_one(tmp_path: Path) -> None:
    # the short form of the studies below: ten earlier votes on which one party swings as a
    # block (scale 0.4, four member shocks) and the other barely (0.02), the chamber a little
    path = write_scenario(tmp_path, N_PER_BLOC)
    model, layout = shock_model(path)
    truth = truth_arrays(draw_prior(model, 1, seed=51)["prior"].to_dataset(), 0)
    truth |= {"chamber_common_shock": np.array([0.05]), "bloc_common_shock": np.array([0.4, 0.02])}
    yea = simulate_votes(truth, layout.member_bloc, np.random.default_rng(52))
    fit = _fit(model, list(SCALES), yea, seed=53)
    post = fit["posterior"]
    dem, rep = (post["bloc_common_shock"].to_numpy().reshape(-1, 2)).T
    chamber = post["chamber_common_shock"].to_numpy().ravel()
    for draws, true in ((dem, 0.4), (rep, 0.02), (chamber, 0.05)):
        lo, hi = np.quantile(draws, [0.025, 0.975])
        assert lo <= true <= hi, (lo, true, hi)
    assert np.mean(dem > rep) > 0.95, np.mean(dem > rep)
    # the shaken party's scale moved up from the half-normal(0.2) prior (median 0.135)
    assert np.median(dem) > 0.25, np.median(dem)


# ----------------------------------------------------------------- simulation-based calibration

COVERAGE = 0.8
# a confident belief that votes share almost nothing: every scale ~ half-normal(0.05), a
# quarter of the prior the data are drawn from (the backtest scenarios' half-normal(0.2))
WRONG = {"chamber": "{dist: half_normal, sigma: 0.05}", "dem": "{dist: half_normal, sigma: 0.05}"}
WRONG["rep"] = WRONG["dem"]


def sbc(fit_path: Path, truth_path: Path, n_datasets: int, seed: int) -> dict[str, np.ndarray]:
    """Per data set ``(n, 3)``, for the chamber, dem and rep scales: the true value, the rank of
    the true value among thinned posterior draws (``rank``), whether it lies in the central
    ``COVERAGE`` interval (``covered``), and the posterior mean and SD.

    Truths are drawn from the prior of the scenario at ``truth_path``, votes are simulated by
    hand, and the model of the scenario at ``fit_path`` is fitted to them (compiled once).
    """
    truth_model, layout = shock_model(truth_path)
    truths = draw_prior(truth_model, n_datasets, seed=seed)["prior"].to_dataset()
    model, _ = shock_model(fit_path)
    rng = np.random.default_rng(seed + 1)
    cache: dict = {}
    out: dict[str, list[np.ndarray]] = {"truth": [], "rank": [], "covered": [], "mean": [], "sd": []}
    for r in range(n_datasets):
        truth = truth_arrays(truths, r)
        yea = simulate_votes(truth, layout.member_bloc, rng)
        fit = _fit(model, list(SCALES), yea, seed=seed * 1000 + r, cache=cache)
        post = fit["posterior"].to_dataset()
        true = np.concatenate([truth[name] for name in SCALES])
        draws = np.concatenate([post[name].to_numpy().reshape(CHAINS * DRAWS, -1) for name in SCALES], axis=1)
        thinned = draws.reshape(CHAINS, DRAWS, -1)[:, ::THIN].reshape(-1, len(true))
        lo, hi = np.quantile(draws, [(1 - COVERAGE) / 2, (1 + COVERAGE) / 2], axis=0)
        for key, value in (
            ("truth", true),
            ("rank", (thinned < true).sum(axis=0)),
            ("covered", (lo <= true) & (true <= hi)),
            ("mean", draws.mean(axis=0)),
            ("sd", draws.std(axis=0)),
        ):
            out[key].append(value)
    return {key: np.array(values) for key, values in out.items()}


N_DATASETS, N_BINS = 100, 10  # ten data sets expected per rank bin
PRIOR_SD = 0.2 * np.sqrt(1 - 2 / np.pi)  # SD of a half-normal(0.2) scale


def correlations(study: dict[str, np.ndarray]) -> np.ndarray:
    """Per scale, the correlation over data sets of the posterior mean with the true value."""
    return np.array([np.corrcoef(m, t)[0, 1] for m, t in zip(study["mean"].T, study["truth"].T, strict=True)])


def calibration(study: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, str]:
    """Per scale: the χ² p-value of rank uniformity, the binomial p-value of the coverage, and a
    summary line (with how far the posterior moved: its SD against the prior's, and the
    correlation of posterior means with the truths)."""
    ranks, covered = study["rank"], study["covered"]
    bins = ranks * N_BINS // (CHAINS * DRAWS // THIN + 1)
    uniform = np.array([stats.chisquare(np.bincount(b, minlength=N_BINS)).pvalue for b in bins.T])
    n = len(covered)
    coverage = np.array([stats.binomtest(int(c.sum()), n, COVERAGE).pvalue for c in covered.T])
    tracks = np.array(
        [np.corrcoef(m, t)[0, 1] for m, t in zip(study["mean"].T, study["truth"].T, strict=True)]
    )
    shrink = (study["sd"].mean(0) / PRIOR_SD).round(2)
    summary = (
        f"(chamber, dem, rep) rank χ² p {uniform.round(4)}, {COVERAGE:.0%} coverage {covered.mean(0)} "
        f"(binomial p {coverage.round(4)}), posterior SD / prior SD {shrink}, "
        f"corr(posterior mean, truth) {tracks.round(2)}"
    )
    return uniform, coverage, summary


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    right, wrong, small = (tmp_path_factory.mktemp(name) for name in ("right", "wrong", "small"))
    return {
        "right": write_scenario(right, N_PER_BLOC),
        "wrong": write_scenario(wrong, N_PER_BLOC, **WRONG),
        "small": write_scenario(small, N_SMALL),
    }


@pytest.mark.long
def test_sbc_recovers_the_common_shock_scales(scenarios: dict[str, Path]) -> None:
    # the fitted model is the data's: ranks uniform and 80% intervals cover at 80%; with three
    # scales tested each at 0.001, a correct model fails by chance with probability < 0.6%
    study = sbc(scenarios["right"], scenarios["right"], N_DATASETS, seed=31)
    uniform, coverage, summary = calibration(study)
    print(f"\nright prior: {summary}")
    assert uniform.min() > 0.001, summary
    assert coverage.min() > 0.001, summary
    # and not because the data say nothing (a posterior equal to the prior is calibrated too):
    # each party's posterior mean tracks its true scale, 0.3 being three standard errors of a
    # correlation of zero over 100 data sets
    assert min(correlations(study)[1:]) > 0.3, summary


@pytest.mark.long
def test_sbc_catches_a_confident_wrong_prior_on_the_scales(scenarios: dict[str, Path]) -> None:
    # the same data-generating process, fitted under the half-normal(0.05) belief
    uniform, coverage, summary = calibration(sbc(scenarios["wrong"], scenarios["right"], N_DATASETS, seed=31))
    print(f"\nwrong prior: {summary}")
    assert uniform.min() < 0.001, summary
    assert coverage.min() < 0.001, summary


@pytest.mark.long
def test_sbc_recovers_the_scales_from_small_parties(scenarios: dict[str, Path]) -> None:
    # six members a party: the non-centred draws; calibration only, as such votes say little
    study = sbc(scenarios["small"], scenarios["small"], N_DATASETS, seed=32)
    uniform, coverage, summary = calibration(study)
    print(f"\nsmall parties: {summary}")
    assert uniform.min() > 0.001, summary
    assert coverage.min() > 0.001, summary


# ------------------------------------------------ the target's yes count, shocks learned or off

OFF = {"chamber": 0, "dem": 0, "rep": 0}  # the likelihood without common shocks
INTERVAL = 0.9


def target_forecasts(
    fit_path: Path, truth_path: Path, n_datasets: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per data set: whether the 90% yes-count interval of the target vote covers the simulated
    count, and the randomised PIT of that count.

    As ``riskmodel run`` does with evidence: the model is fitted to the earlier votes, worlds are
    built from the posterior's deterministics, and the engine counts the target's yes votes.
    """
    truth_model, layout = shock_model(truth_path)
    truths = draw_prior(truth_model, n_datasets, seed=seed)["prior"].to_dataset()
    model, fit_layout = shock_model(fit_path)
    names = [var.name for var in model.deterministics]
    deal, reversion = layout.to_unit(layout.deal_values[0]), layout.to_unit(layout.reversion[0])
    features = deal_features(deal[None, :], layout.link_pairs)
    rng = np.random.default_rng(seed + 1)
    cache: dict = {}
    covered, pit, divergent = [], [], []
    for r in range(n_datasets):
        truth = truth_arrays(truths, r)
        yea = simulate_votes(truth, layout.member_bloc, rng)
        actual = int(simulate_vote(truth, layout.member_bloc, deal, reversion, rng).sum())
        fit = _fit(model, names, yea, seed=seed * 1000 + r, cache=cache)
        worlds = make_worlds(
            fit_layout, fit["posterior"].to_dataset(), n_replicates=1, seed=seed + r, independent_draws=False
        )
        counts = count_yes(worlds, features)[:, 0, 0, 0]
        lo, hi = np.quantile(counts, [(1 - INTERVAL) / 2, (1 + INTERVAL) / 2])
        covered.append(lo <= actual <= hi)
        pit.append(np.mean(counts < actual) + rng.random() * np.mean(counts == actual))
        divergent.append(int(fit["sample_stats"]["diverging"].sum()))
    return np.array(covered), np.array(pit), np.array(divergent)


N_FORECASTS = 100


@pytest.fixture(scope="module")
def forecast_scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    right, off = tmp_path_factory.mktemp("learned"), tmp_path_factory.mktemp("off")
    return {"right": write_scenario(right, N_PER_BLOC), "off": write_scenario(off, N_PER_BLOC, **OFF)}


@pytest.mark.long
def test_the_target_yes_count_is_calibrated_only_with_the_shocks(forecast_scenarios: dict[str, Path]) -> None:
    # earlier votes and the target vote simulated with common shocks drawn from the prior: the
    # model that learns the scales gives 90% intervals that cover about 90% of the target
    # counts (discrete counts make a central interval cover at least that), uniform PIT; the
    # same likelihood with the shocks switched off under-covers
    learned, pit, divergent = target_forecasts(
        forecast_scenarios["right"], forecast_scenarios["right"], N_FORECASTS, seed=41
    )
    off, pit_off, _ = target_forecasts(
        forecast_scenarios["off"], forecast_scenarios["right"], N_FORECASTS, seed=41
    )
    below = {
        name: stats.binomtest(int(c.sum()), len(c), INTERVAL, alternative="less").pvalue
        for name, c in (("learned", learned), ("off", off))
    }
    uniform = {name: stats.kstest(p, "uniform").pvalue for name, p in (("learned", pit), ("off", pit_off))}
    summary = (
        f"coverage learned {learned.mean():.2f}, off {off.mean():.2f}; "
        f"binomial p(below {INTERVAL}) {below}; PIT KS p {uniform}, mean PIT learned {pit.mean():.3f}; "
        f"fits with divergences {np.count_nonzero(divergent)} of {len(divergent)} ({divergent.sum()} in all)"
    )
    print(f"\n{summary}")
    assert below["learned"] > 0.001 and uniform["learned"] > 0.001, summary
    assert below["off"] < 0.001, summary
