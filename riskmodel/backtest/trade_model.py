"""A hierarchical model of members' votes on trade agreements, for backtests.

Member i's vote on trade vote v (logit scale)::

    logit P(yea) = a[v, party] + φ_i
    a[v, p]      = m[chamber(v), p] + ω_p δ[agreement(v), p] + τ_p ε[v, p]
    φ_i          = λ_p · (θ_i − θ̄_p) + σ_state ψ[state(i)] + σ_φ z_i

θ_i is the member's roll-call ideal point from an IRT fit on earlier roll calls of the
target's congress (centred within party; zero for people not in that congress), so the
member's trade position is "loading × ideology + bloc offset" with a personal deviation that
earlier trade votes reveal. a[v, p] is how far a party leans towards yes on vote v: a new vote
draws it from the hierarchy (plus the agreement's effect when an earlier vote on the same
agreement was seen), which is where the uncertainty of the total comes from.

The model has a fixed shape for the whole archive of trade votes; a backtest only changes its
data (which votes are observed, and θ), so it is compiled once and reused for every target vote.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from riskmodel.backtest.archive import RollCallArchive

__all__ = ["TradeVotes", "build_trade_model", "collect_trade_votes", "party_group"]

IntArray = npt.NDArray[np.int64]


def party_group(party: pd.Series) -> npt.NDArray[np.int64]:
    """1 for Republicans, 0 for everyone else (Democrats and independents)."""
    return (party.astype(str).str.upper() == "R").to_numpy().astype(np.int64)


@dataclass(frozen=True)
class TradeVotes:
    """Every member's yea/nay on every trade vote of an archive, as index arrays.

    Attributes
    ----------
    votes
        One row per trade vote: ``vote_id, label, chamber`` (``h``/``s``), ``congress, date``
        (UTC timestamp of the roll call), ``requires``; sorted by date.
    rows
        One row per member × vote: ``vote, person, party`` (0 D/other, 1 R), ``party_label,
        state, member_id, yea``.
    persons, states, agreements
        Labels of the person (bioguide id where known), state and agreement indices.
    """

    votes: pd.DataFrame
    rows: pd.DataFrame
    persons: list[str]
    states: list[str]
    agreements: list[str]

    def vote_index(self, vote_id: str) -> int:
        """Position of a vote in :attr:`votes`."""
        matches = np.flatnonzero(self.votes["vote_id"].to_numpy() == vote_id)
        if not len(matches):
            raise KeyError(vote_id)
        return int(matches[0])


def collect_trade_votes(archive: RollCallArchive, *, max_congress: int | None = None) -> TradeVotes:
    """Gather the member votes of every trade vote in the archive's index."""
    index = archive.trade_votes
    if max_congress is not None:
        index = index[index["congress"] <= max_congress]
    lis = archive.crosswalk[archive.crosswalk["lis_id"] != ""].drop_duplicates("lis_id")
    lis_to_bioguide = lis.set_index("lis_id")["bioguide_id"]
    vote_rows, member_rows = [], []
    for congress in sorted(index["congress"].unique()):
        group = index[index["congress"] == congress]
        rollcalls = archive.rollcalls(int(congress)).set_index("vote_id")
        votes = archive.member_votes(int(congress))
        for record in group.itertuples():
            vote_id = str(record.clerk_vote_id)
            if vote_id not in rollcalls.index:
                continue
            info = rollcalls.loc[vote_id]
            vote_rows.append(
                {
                    "vote_id": vote_id,
                    "label": str(record.label),
                    "action": str(record.action),
                    "chamber": str(info["chamber"]),
                    "congress": int(congress),
                    "date": info["date"],
                    "requires": str(info["requires"]),
                }
            )
            cast = votes[(votes["vote_id"] == vote_id) & votes["vote"].notna()]
            member_rows.append(cast[["vote_id", "member_id", "party", "state", "vote"]])
    votes_table = pd.DataFrame(vote_rows).sort_values("date", kind="stable").reset_index(drop=True)
    rows = pd.concat(member_rows, ignore_index=True)
    senate = rows["vote_id"].str.startswith("s")
    bioguide = rows["member_id"].map(lis_to_bioguide)
    rows["person_key"] = np.where(senate & bioguide.notna(), bioguide, rows["member_id"])
    persons = sorted(rows["person_key"].unique())
    states = sorted(rows["state"].unique())
    agreements = sorted(votes_table["label"].unique())
    vote_pos = {v: k for k, v in enumerate(votes_table["vote_id"])}
    person_pos = {p: k for k, p in enumerate(persons)}
    state_pos = {s: k for k, s in enumerate(states)}
    table = pd.DataFrame(
        {
            "vote": rows["vote_id"].map(vote_pos).to_numpy(np.int64),
            "person": rows["person_key"].map(person_pos).to_numpy(np.int64),
            "party": party_group(rows["party"]),
            "party_label": rows["party"].astype(str).str.upper().to_numpy(),
            "state": rows["state"].map(state_pos).to_numpy(np.int64),
            "member_id": rows["member_id"].to_numpy(),
            "yea": rows["vote"].to_numpy(np.int64),
        }
    )
    return TradeVotes(votes=votes_table, rows=table, persons=persons, states=states, agreements=agreements)


def build_trade_model(trade: TradeVotes, *, n_dims: int = 1) -> pm.Model:
    """The trade-vote model with mutable data.

    Data (change with ``pm.set_data`` or nutpie's ``with_data``): ``weight`` (R,) — 1 for the
    observations the fit may use; ``yea`` (R,) — the recorded votes (set with every fit, so that
    nothing recorded on or after a target vote is compiled into the model); ``theta``
    (P, n_dims) — centred ideal points; ``has_theta`` (P,); ``party_now`` (P,) — party of each
    person in the target congress.

    Deterministics ``vote_lean`` (vote, party) and ``trade_position`` (person) give the
    forecast for any vote: ``logistic(vote_lean[v, p] + trade_position[i])``.
    """
    rows = trade.rows
    votes = trade.votes
    n_persons = len(trade.persons)
    chamber = (votes["chamber"].to_numpy() == "s").astype(np.int64)
    agreement = votes["label"].map({a: k for k, a in enumerate(trade.agreements)}).to_numpy(np.int64)
    person_state = rows.groupby("person")["state"].last().reindex(range(n_persons)).to_numpy(np.int64)
    coords = {
        "trade_vote": votes["vote_id"].tolist(),
        "party_group": ["D", "R"],
        "chamber_group": ["h", "s"],
        "agreement": trade.agreements,
        "person": trade.persons,
        "state": trade.states,
        "ideal_dim": [f"dim{d + 1}" for d in range(n_dims)],
    }
    with pm.Model(coords=coords) as model:
        weight = pm.Data("weight", np.zeros(len(rows)))
        yea = pm.Data("yea", rows["yea"].to_numpy(np.float64))
        theta = pm.Data("theta", np.zeros((n_persons, n_dims)))
        has_theta = pm.Data("has_theta", np.zeros(n_persons))
        party_now = pm.Data("party_now", np.zeros(n_persons, dtype=np.int64))

        base = pm.Normal("chamber_party_lean", 0.0, 2.0, dims=("chamber_group", "party_group"))
        tau = pm.HalfNormal("vote_lean_sd", 1.5, dims="party_group")
        eps = pm.Normal("vote_lean_raw", 0.0, 1.0, dims=("trade_vote", "party_group"))
        omega = pm.HalfNormal("agreement_lean_sd", 1.5, dims="party_group")
        delta = pm.Normal("agreement_lean_raw", 0.0, 1.0, dims=("agreement", "party_group"))
        lean = base[chamber] + omega * delta[agreement] + tau * eps
        lean = pm.Deterministic("vote_lean", lean, dims=("trade_vote", "party_group"))

        sigma_state = pm.HalfNormal("state_sd", 1.0)
        psi = pm.Normal("state_raw", 0.0, 1.0, dims="state")
        sigma_person = pm.HalfNormal("person_sd", 2.5)
        z = pm.Normal("person_raw", 0.0, 1.0, dims="person")
        loading = pm.Normal("ideology_loading", 0.0, 2.0, dims=("party_group", "ideal_dim"))
        ideology = has_theta * pt.sum(loading[party_now] * theta, axis=1)
        position = ideology + sigma_state * psi[person_state] + sigma_person * z
        position = pm.Deterministic("trade_position", position, dims="person")

        logit = lean[rows["vote"].to_numpy(), rows["party"].to_numpy()] + position[rows["person"].to_numpy()]
        pm.Potential("trade_loglik", pt.sum(weight * (yea * logit - pt.softplus(logit))))
    return model
