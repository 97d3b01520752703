"""The hand-written IRT gradient equals the PyMC model's, and the fast fit recovers known ideal points."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from irt_helpers import dense_matrix, long_votes, simulate

from riskmodel.inference.irt_kernel import (
    IDENTIFIED,
    exp_neg,
    fit_irt_kernel,
    kernel_data,
    log1p_unit,
    logp_and_grad,
    posterior_mode,
)
from riskmodel.inference.sampling import convergence_gate
from riskmodel.model.irt import build_irt_model, vote_matrix


def test_branch_free_exp_and_log1p_are_accurate() -> None:
    x = -np.linspace(0.0, 40.0, 20_001)
    exp = np.array([exp_neg(v) for v in x])
    np.testing.assert_allclose(exp, np.exp(x), rtol=5e-14)
    assert exp_neg(-1000.0) == pytest.approx(np.exp(-40.0), rel=1e-12)  # clamped: e^-40 < 5e-18
    e = np.linspace(0.0, 1.0, 20_001)
    np.testing.assert_allclose([log1p_unit(v) for v in e], np.log1p(e), rtol=2e-15, atol=0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kernel_matches_the_pymc_model_logp_and_gradient(seed: int) -> None:
    rng = np.random.default_rng(seed)
    _, _, _, yea = simulate(15, 11, rng)
    matrix = dense_matrix(yea)
    observed = rng.random(yea.shape) > 0.15  # some members did not vote
    matrix = dataclasses.replace(matrix, observed=observed)
    model = build_irt_model(matrix)
    assert [v.name for v in model.value_vars] == ["irt_ideal_raw", "irt_cutpoint", "irt_discrimination_log__"]
    logp, dlogp = model.compile_logp(), model.compile_dlogp()
    data = kernel_data(matrix)
    values = []
    for scale in (0.3, 1.0, 3.0):  # 3.0: |η| up to ~100 exercises the clamp and both branches of σ
        x = rng.normal(size=15 + 22) * scale
        point = {"irt_ideal_raw": x[:15], "irt_cutpoint": x[15:26], "irt_discrimination_log__": x[26:]}
        value, grad = logp_and_grad(x, data)
        np.testing.assert_allclose(grad, dlogp(point), rtol=1e-10, atol=1e-9)
        values.append((float(logp(point)), value))
    # the kernel drops PyMC's normalising constants: differences between points agree
    (a0, b0), (a1, b1), (a2, b2) = values
    assert b1 - b0 == pytest.approx(a1 - a0, rel=1e-10, abs=1e-8)
    assert b2 - b0 == pytest.approx(a2 - a0, rel=1e-10, abs=1e-8)


def test_missing_votes_do_not_count() -> None:
    rng = np.random.default_rng(4)
    _, _, _, yea = simulate(6, 5, rng)
    observed = np.ones(yea.shape, dtype=bool)
    observed[2, 3] = False
    flipped = yea.copy()
    flipped[2, 3] = 1 - flipped[2, 3]
    x = rng.normal(size=6 + 10)
    base = dataclasses.replace(dense_matrix(yea), observed=observed)
    other = dataclasses.replace(dense_matrix(flipped), observed=observed)
    a, ga = logp_and_grad(x, kernel_data(base))
    b, gb = logp_and_grad(x, kernel_data(other))
    assert a == b and np.array_equal(ga, gb)


def test_fast_fit_recovers_simulated_ideal_points_and_passes_the_gate() -> None:
    rng = np.random.default_rng(11)
    theta, _, _, yea = simulate(40, 40, rng)
    party = np.where(theta > 0, "R", "D")
    matrix = vote_matrix(long_votes(yea, party), min_minority=0.0, min_votes=1)
    fit = fit_irt_kernel(matrix, draws=1000, tune=1000, chains=2, seed=5)
    assert fit.attrs["sampler"] == "nutpie-kernel"
    steps = int(fit["sample_stats"]["n_steps"].sum())
    assert fit.attrs["gradient_evaluations"] > steps >= 2 * 1000  # warm-up's steps are counted too
    gate = convergence_gate(fit, var_names=["irt_ideal"])
    assert gate.passed, gate.status
    ideal = fit["posterior"]["irt_ideal"].mean(("chain", "draw")).to_numpy()[:, 0]
    truth = theta[[int(m[1:]) for m in matrix.members]]
    assert np.corrcoef(ideal, truth)[0, 1] > 0.9  # R anchored positive: the sign is right too


def test_posterior_mode_is_a_stationary_point() -> None:
    rng = np.random.default_rng(12)
    theta, _, _, yea = simulate(30, 25, rng)
    matrix = vote_matrix(long_votes(yea, np.where(theta > 0, "R", "D")), min_minority=0.0, min_votes=1)
    mode = posterior_mode(matrix)
    value, grad = logp_and_grad(mode, kernel_data(matrix))
    start_value, start_grad = logp_and_grad(np.zeros_like(mode), kernel_data(matrix))
    assert np.abs(grad).max() < 0.01 < np.abs(start_grad).max()  # L-BFGS's tolerance, not exact
    assert value > start_value


def test_sampling_to_the_gate_stops_at_a_checkpoint_and_depends_on_the_seed_alone() -> None:
    rng = np.random.default_rng(11)
    theta, _, _, yea = simulate(40, 40, rng)
    matrix = vote_matrix(long_votes(yea, np.where(theta > 0, "R", "D")), min_minority=0.0, min_votes=1)
    fits = [fit_irt_kernel(matrix, draws=3000, tune=500, chains=2, seed=5, check_every=250) for _ in range(2)]
    kept = fits[0]["posterior"].sizes["draw"]
    assert 500 <= kept < 3000 and kept % 250 == 0 and fits[0].attrs["draws"] == kept  # stopped early
    assert convergence_gate(fits[0], var_names=IDENTIFIED).passed
    # the checkpoint that passed, and every draw, are the same however fast the machine ran
    for name in IDENTIFIED:
        np.testing.assert_array_equal(
            fits[0]["posterior"][name].to_numpy(), fits[1]["posterior"][name].to_numpy()
        )
