"""Simulation-based calibration of a small IRT model, with a negative control.

100 data sets are drawn from the model's prior; each is fitted with short NUTS chains (one
compiled model, new data each time) and the rank of the true value among thinned posterior
draws is recorded. Ranks of a calibrated fit are uniform (χ² over 20 bins); data drawn with a
deliberately wrong prior scale for the ideal points must be flagged.
"""

from __future__ import annotations

import numpy as np
import pytest
from irt_helpers import dense_matrix, simulate
from scipy import stats

from riskmodel.inference.sampling import sample_posterior
from riskmodel.model.irt import build_irt_model, irt_data

N_MEMBERS, N_ROLLCALLS = 6, 8
N_DATASETS = 100
N_BINS = 20
THIN = 3
DRAWS = 297  # 99 thinned draws: ranks 0..99, five per bin


def _ranks(theta_scale: float, seed: int, cache: dict) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    model = build_irt_model(dense_matrix(np.zeros((N_MEMBERS, N_ROLLCALLS), dtype=np.int8)))
    cache.setdefault("model", model)
    model = cache["model"]
    ranks: dict[str, list[int]] = {"theta": [], "cutpoint": [], "discrimination": []}
    for k in range(N_DATASETS):
        theta, cut, beta, yea = simulate(N_MEMBERS, N_ROLLCALLS, rng, theta_scale=theta_scale)
        data = {f"irt_{key}": value for key, value in irt_data(dense_matrix(yea)).items()}
        fit = sample_posterior(
            model,
            draws=DRAWS,
            tune=300,
            chains=1,
            data=data,
            compiled_cache=cache,
            seed=1000 * seed + k,
            var_names=["irt_ideal_raw", "irt_cutpoint", "irt_discrimination"],
        )
        post = fit["posterior"].to_dataset().isel(chain=0, draw=slice(None, None, THIN))
        ranks["theta"].append(int((post["irt_ideal_raw"].to_numpy()[:, 0] < theta[0]).sum()))
        ranks["cutpoint"].append(int((post["irt_cutpoint"].to_numpy()[:, 0] < cut[0]).sum()))
        ranks["discrimination"].append(int((post["irt_discrimination"].to_numpy()[:, 0] < beta[0]).sum()))
    return {name: np.asarray(values) for name, values in ranks.items()}


def _uniformity_p(ranks: np.ndarray) -> float:
    n_draws = DRAWS // THIN
    counts = np.bincount(ranks * N_BINS // (n_draws + 1), minlength=N_BINS)
    return float(stats.chisquare(counts).pvalue)


@pytest.fixture(scope="module")
def compiled() -> dict:
    return {}


@pytest.mark.slow
def test_sbc_ranks_are_uniform(compiled: dict) -> None:
    ranks = _ranks(1.0, seed=1, cache=compiled)
    p_values = {name: _uniformity_p(r) for name, r in ranks.items()}
    assert min(p_values.values()) > 0.001, p_values


@pytest.mark.slow
def test_sbc_catches_a_wrong_prior_scale(compiled: dict) -> None:
    ranks = _ranks(3.0, seed=2, cache=compiled)  # data: θ ~ N(0, 3²); model: N(0, 1)
    assert _uniformity_p(ranks["theta"]) < 0.001
