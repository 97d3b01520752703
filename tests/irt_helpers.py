"""Simulated roll calls from the IRT model's own prior (for recovery and SBC tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.model.irt import BETA_SCALE, CUTPOINT_SCALE, VoteMatrix


def simulate(
    n_members: int, n_rollcalls: int, rng: np.random.Generator, *, theta_scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(theta, cutpoint, discrimination, yea) drawn from the prior (theta scaled by ``theta_scale``)."""
    theta = rng.normal(0.0, theta_scale, n_members)
    cut = rng.normal(0.0, CUTPOINT_SCALE, n_rollcalls)
    beta = np.abs(rng.normal(0.0, BETA_SCALE, n_rollcalls))
    p = 1.0 / (1.0 + np.exp(-(theta[:, None] - cut[None, :]) * beta[None, :]))
    return theta, cut, beta, (rng.random(p.shape) < p).astype(np.int8)


def dense_matrix(yea: np.ndarray) -> VoteMatrix:
    n, j = yea.shape
    return VoteMatrix(
        members=[f"m{i}" for i in range(n)],
        rollcalls=[f"r{k}" for k in range(j)],
        yea=yea.astype(np.int8),
        observed=np.ones((n, j), dtype=bool),
        polarity=np.ones(j, dtype=np.int8),
        party=np.array(["R"] * n),
        pure_item=0,
        sign_item=1,
    )


def long_votes(yea: np.ndarray, party: np.ndarray) -> pd.DataFrame:
    n, j = yea.shape
    return pd.DataFrame(
        {
            "vote_id": np.tile([f"r{k}" for k in range(j)], n),
            "member_id": np.repeat([f"m{i}" for i in range(n)], j),
            "party": np.repeat(party, j),
            "vote": yea.reshape(-1).astype(float),
        }
    )
