"""The two baselines a backtest is measured against, fitted in the same run.

* ``party_line``: each member gets their party's yes share on the most recent earlier trade
  vote in the same chamber (members of a party absent from that vote get its overall share).
* ``nominate_logistic``: a logistic regression of earlier trade votes of the chamber on
  DW-NOMINATE dimensions 1 and 2 and a Republican indicator. DW-NOMINATE scores are estimated
  from whole careers, later votes included: that is leakage, tolerated for this named baseline
  only (it makes the yardstick stronger than anything a forecaster could have had).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from riskmodel.backtest.archive import CHAMBER_NAMES, RollCallArchive
from riskmodel.backtest.trade_model import TradeVotes

__all__ = ["fit_logistic", "nominate_logistic", "party_line"]


def party_line(trade: TradeVotes, vote_id: str, earlier: npt.NDArray[np.bool_]) -> dict[str, float] | None:
    """Member id → the party's yes share on the most recent earlier trade vote in the chamber."""
    votes = trade.votes
    t = trade.vote_index(vote_id)
    chamber = votes["chamber"].iloc[t]
    candidates = np.flatnonzero(earlier & (votes["chamber"].to_numpy() == chamber))
    if not len(candidates):
        return None
    last = int(candidates[-1])  # votes are sorted by date
    rows = trade.rows
    previous = rows[rows["vote"] == last]
    shares = previous.groupby("party_label")["yea"].mean()
    overall = float(previous["yea"].mean())
    voters = rows[rows["vote"] == t]
    prob = voters["party_label"].map(shares).fillna(overall)
    return dict(zip(voters["member_id"], prob.astype(float), strict=True))


def fit_logistic(
    features: npt.NDArray[np.float64], outcome: npt.NDArray[np.float64], *, penalty: float = 1e-3
) -> npt.NDArray[np.float64]:
    """Coefficients (intercept first) of an L2-penalised logistic regression (L-BFGS)."""
    x = np.column_stack([np.ones(len(features)), features])

    def loss(beta: npt.NDArray[np.float64]) -> tuple[float, npt.NDArray[np.float64]]:
        eta = x @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        value = np.sum(np.logaddexp(0.0, eta) - outcome * eta) + 0.5 * penalty * beta[1:] @ beta[1:]
        grad = x.T @ (p - outcome)
        grad[1:] += penalty * beta[1:]
        return float(value), grad

    fit = optimize.minimize(loss, np.zeros(x.shape[1]), jac=True, method="L-BFGS-B")
    return np.asarray(fit.x)


def _nominate(archive: RollCallArchive, congress: int, chamber: str) -> pd.DataFrame:
    linked = archive.linked_members(congress)
    linked = linked[linked["chamber"] == CHAMBER_NAMES[chamber]]
    return linked.set_index("member_id")[["nominate_dim1", "nominate_dim2"]]


def _features(rows: pd.DataFrame, scores: pd.DataFrame) -> npt.NDArray[np.float64]:
    dims = scores.reindex(rows["member_id"]).to_numpy(dtype=np.float64)
    republican = (rows["party_label"].to_numpy() == "R").astype(np.float64)
    for d in range(2):  # a member without a Voteview match gets the party mean
        missing = np.isnan(dims[:, d])
        if missing.any():
            for value in (0.0, 1.0):
                group = republican == value
                fill = np.nanmean(dims[group & ~missing, d]) if (group & ~missing).any() else 0.0
                dims[missing & group, d] = fill
    return np.column_stack([dims, republican])


def nominate_logistic(
    trade: TradeVotes, archive: RollCallArchive, vote_id: str, earlier: npt.NDArray[np.bool_]
) -> dict[str, float] | None:
    """Member id → P(yea) from a logistic regression on DW-NOMINATE and party."""
    votes = trade.votes
    t = trade.vote_index(vote_id)
    chamber = str(votes["chamber"].iloc[t])
    used = np.flatnonzero(earlier & (votes["chamber"].to_numpy() == chamber))
    if not len(used):
        return None
    rows = trade.rows
    features, outcome = [], []
    for v in used:
        part = rows[rows["vote"] == v]
        features.append(_features(part, _nominate(archive, int(votes["congress"].iloc[v]), chamber)))
        outcome.append(part["yea"].to_numpy(np.float64))
    beta = fit_logistic(np.concatenate(features), np.concatenate(outcome))
    voters = rows[rows["vote"] == t]
    x = _features(voters, _nominate(archive, int(votes["congress"].iloc[t]), chamber))
    prob = 1.0 / (1.0 + np.exp(-(beta[0] + x @ beta[1:])))
    return dict(zip(voters["member_id"], prob.astype(float), strict=True))
