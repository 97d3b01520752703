"""Sampling to the convergence gate (``sample_posterior(max_draws=…)``): where a fit stops, what it keeps."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pymc as pm
import pytest
import xarray as xr

from riskmodel.inference.sampling import convergence_gate, sample_posterior
from riskmodel.spec.evidence import Evidence


def correlated() -> pm.Model:
    """Two coordinates correlated at 0.995: NUTS with a diagonal mass matrix mixes slowly."""
    with pm.Model() as model:
        pm.MvNormal("x", mu=np.zeros(2), cov=np.array([[1.0, 0.995], [0.995, 1.0]]))
    return model


def funnel() -> pm.Model:
    """Neal's funnel, non-centred nowhere: divergent transitions at a low target acceptance."""
    with pm.Model() as model:
        v = pm.Normal("v", 0.0, 3.0)
        pm.Normal("x", 0.0, pm.math.exp(v / 2), shape=9)
    return model


def test_a_fit_that_fails_at_draws_goes_on_with_the_same_chains_to_a_passing_checkpoint() -> None:
    model = correlated()
    first = sample_posterior(model, draws=200, tune=500, chains=2, seed=3)
    assert not convergence_gate(first).passed  # too few draws for ESS 400
    to_gate = sample_posterior(model, draws=200, max_draws=6000, check_every=200, tune=500, chains=2, seed=3)
    kept = to_gate["posterior"].sizes["draw"]
    assert 200 < kept < 6000 and kept % 200 == 0 and to_gate.attrs["draws"] == kept
    assert convergence_gate(to_gate).passed
    assert to_gate.attrs["convergence_gate"] == asdict(convergence_gate(to_gate))  # the verdict it carries
    # the kept draws are the first draws of one run of max_draws, and the checkpoint before
    # the kept one fails: it stopped at the first that passes
    whole = sample_posterior(model, draws=6000, tune=500, chains=2, seed=3)
    np.testing.assert_array_equal(
        to_gate["posterior"]["x"].to_numpy(), whole["posterior"]["x"].to_numpy()[:, :kept]
    )
    np.testing.assert_array_equal(
        first["posterior"]["x"].to_numpy(), whole["posterior"]["x"].to_numpy()[:, :200]
    )
    assert not convergence_gate(whole.isel(draw=slice(0, kept - 200))).passed


def test_a_fit_that_passes_at_draws_is_the_fit_of_exactly_draws() -> None:
    model = correlated()
    plain = sample_posterior(model, draws=3000, tune=500, chains=2, seed=4)
    assert convergence_gate(plain).passed
    to_gate = sample_posterior(model, draws=3000, max_draws=6000, tune=500, chains=2, seed=4)
    assert to_gate.attrs["draws"] == plain.attrs["draws"] == 3000
    for group in ("posterior", "sample_stats"):
        xr.testing.assert_equal(to_gate[group].to_dataset(), plain[group].to_dataset())  # attrs: timestamps


def test_divergent_transitions_end_the_fit_at_the_first_checkpoint() -> None:
    fit = sample_posterior(funnel(), draws=300, max_draws=3000, tune=300, chains=2, seed=1, target_accept=0.6)
    assert convergence_gate(fit).divergences > 0
    assert fit.attrs["draws"] == 300  # a longer run would keep the same divergences


def test_pymcs_sampler_keeps_the_same_checkpoint_judged_after_its_run() -> None:
    model = correlated()
    fit = sample_posterior(
        model, draws=200, max_draws=2000, check_every=200, tune=500, chains=2, seed=3, sampler="pymc"
    )
    kept = fit.attrs["draws"]
    assert fit["posterior"].sizes["draw"] == kept
    assert convergence_gate(fit).passed or kept == 2000
    if kept > 200:
        assert not convergence_gate(fit.isel(draw=slice(0, kept - 200))).passed


def test_max_draws_below_draws_is_refused() -> None:
    with pytest.raises(ValueError, match="max_draws"):
        Evidence(draws=1000, max_draws=500)
    with pytest.raises(ValueError, match="max_draws"):
        sample_posterior(correlated(), draws=300, max_draws=200)


class _UnevenSampler:
    """A stand-in for nutpie's background sampler whose chains run unevenly.

    A copy (``inspect``) holds chain 0's draws up to ``ahead`` past the checkpoint and chain
    1's up to the checkpoint, NaN beyond; the sampler has finished once the last checkpoint is
    judged (``is_finished`` turns true at the last ``resume``): what made the fits of a loaded
    machine keep the last copy before the fix.
    """

    def __init__(self, whole: xr.DataTree, checkpoints: list[int], ahead: int) -> None:
        self.whole, self.checkpoints, self.ahead = whole, checkpoints, ahead
        self.judged = 0
        self.finished = False
        self.waited = 0

    @property
    def is_finished(self) -> bool:
        return self.finished

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        self.judged += 1
        self.finished = self.judged >= len(self.checkpoints)

    def inspect(self) -> xr.DataTree:
        upto = self.checkpoints[self.judged]
        x = self.whole["posterior"]["x"].to_numpy()[:, : upto + self.ahead].copy()
        x[1, upto:] = np.nan
        post = xr.Dataset({"x": (("chain", "draw", "x_dim_0"), x)})
        return xr.DataTree.from_dict({"posterior": post})

    def wait(self) -> xr.DataTree:
        self.waited += 1
        return self.whole

    def cancel(self) -> None:
        raise AssertionError("no checkpoint passed: nothing to cancel")


def test_a_fit_that_fails_every_checkpoint_returns_the_whole_trace_not_a_copy() -> None:
    from riskmodel.inference.to_gate import Progress, complete_draws, sample_to_gate

    whole = sample_posterior(correlated(), draws=600, tune=100, chains=2, seed=5)
    checkpoints = [300, 400, 500]
    sampler = _UnevenSampler(whole, checkpoints, ahead=50)
    progress = Progress(tune=100)
    progress.kept = 600
    trace, stop = sample_to_gate(sampler, progress, checkpoints, lambda tree: "more")
    assert stop is None and sampler.waited == 1 and sampler.judged == 3
    assert trace is whole and complete_draws(trace) == 600


def test_a_trace_short_of_its_kept_draws_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import riskmodel.inference.sampling as sampling

    real = sampling.sample_to_gate

    def short(*args: object, **kwargs: object) -> tuple[xr.DataTree, int | None]:
        trace, _ = real(*args, **kwargs)  # type: ignore[arg-type]
        groups = {name: trace[name].to_dataset() for name in ("posterior", "sample_stats")}
        x = groups["posterior"]["x"].copy()
        x[1, -10:] = np.nan  # one chain behind the other, as in a running sampler's copy
        return xr.DataTree.from_dict({**groups, "posterior": groups["posterior"].assign(x=x)}), None

    monkeypatch.setattr(sampling, "sample_to_gate", short)
    with pytest.raises(RuntimeError, match="fewer than the 400 draws"):
        sample_posterior(correlated(), draws=200, max_draws=400, check_every=100, tune=100, chains=2, seed=6)
