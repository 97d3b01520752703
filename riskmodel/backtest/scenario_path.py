"""Backtests through the scenario path: a recorded trade vote forecast as a ``riskmodel`` scenario.

For a target vote the scenario has the chamber's members on that day (those recorded yea or
nay, with party and state), the agreement record's deal and reversion, and, as
``evidence: earlier_deals``, every member's recorded votes on earlier trade agreements whose
terms are known from their records (any chamber, dated before the target, never a vote on the
target's own agreement). Its worlds come from the posterior of the scenario's PyMC model and
the engine decides each member's vote in each world: a member's P(yes) is the share of
worlds in which the engine has the member vote yes.

The issue space (coding manual: ``data/agreements/README.md``): ``labour``, ``environment``
and ``opening`` from the record's terms; ``president`` (+1 a Republican president sends the
measure, −1 a Democratic one); ``dem_leaders`` and ``rep_leaders`` (+1 the party's floor
leadership in that chamber announced support, −1 opposition, 0 split, neutral or unknown).
The last three carry what the two-level game calls the chief's pull and the party's agenda
control as positions on the deal, so every term a member weighs is known before the vote.
They are *linear* issues (cues, :data:`CUES`): a member weighs a cue in proportion to its
ideal, and a cue nobody announced (0) weighs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import yaml

from riskmodel.backtest.agreements import Agreement, AgreementBook
from riskmodel.backtest.trade_model import TradeVotes

__all__ = [
    "ISSUES",
    "PRIORS",
    "ScenarioPlan",
    "agreement_terms",
    "derangement",
    "plan_scenario",
    "write_scenario",
]

ISSUES: dict[str, tuple[float, float]] = {
    "labour": (0.0, 4.0),
    "environment": (0.0, 4.0),
    "opening": (0.0, 1.0),
    "president": (-1.0, 1.0),
    "dem_leaders": (-1.0, 1.0),
    "rep_leaders": (-1.0, 1.0),
}

# Signed cues, not places (rule written 29 November 2026, before any forecast with it was run):
# as quadratic issues with the reversion at 0, every announced cue cost every member w·(x − ½)²
# on the unit scale whatever its ideal — the president's cue alone −w/4 on every deal, 0.4 of
# the valence prior's SD; a leadership's "oppose" weighed 4.3 times its "support" for its own
# members; the other party's leaders cost a member the same whichever way they announced. As
# linear issues the gain is 2w(θ − ½)(x − q): the quadratic's contrast between any two values
# of a cue, so the priors below mean what they meant, without the constant.
CUES = ("president", "dem_leaders", "rep_leaders")

_POSITION = {"support": 1.0, "oppose": -1.0, "split": 0.0, "neutral": 0.0, "unknown": 0.0}


def _normal(mu: float, sigma: float) -> dict[str, Any]:
    return {"dist": "normal", "mu": mu, "sigma": sigma}


# Judgement priors, written with the coding manual; the same for every target vote. Democrats
# favour enforceable labour and environmental terms and are warier of opening; each party
# leans towards its own president and its own leaders: ±1 on a cue (0 is indifference; the
# means were set when the cues were quadratic and ±0.5 was indifference — corrected after the
# first two votes were scored: the first version had ±0.5, which contradicted the intent).
#
# Two party-level coordinates are fixed at their prior means (a convergence decision taken
# from the posterior geometry of one fit, before any forecast with it was scored): nearly
# every deal moves ``opening`` by the same amount, so a party's ideal on it is not identified
# apart from its valence (posterior correlation −0.67, the sampler's slowest direction), and
# labour and environment move together in every record but USMCA's, so only their sum is
# identified. Valence carries a party's general lean towards trade deals and ``labour`` its
# lean on enforceable terms; members still differ on all three issues.
PRIORS: dict[str, dict[str, Any]] = {
    "dem": {
        "ideal": {
            "labour": _normal(3.0, 1.0),
            "environment": 3.0,
            "opening": 0.4,
            "president": _normal(-1.0, 0.5),
            "dem_leaders": _normal(0.8, 0.4),
            "rep_leaders": _normal(0.0, 0.3),
        },
    },
    "rep": {
        "ideal": {
            "labour": _normal(0.5, 1.0),
            "environment": 0.5,
            "opening": 0.9,
            "president": _normal(1.0, 0.5),
            "dem_leaders": _normal(0.0, 0.3),
            "rep_leaders": _normal(0.8, 0.4),
        },
    },
}
# Members differ within their party on the terms (labour, environment, opening); how a party
# weighs its president and its leaders is a party-level coefficient learned from the earlier
# votes (the bloc's ideal on those issues), with no member-level spread: ten-odd earlier votes
# cannot place each member on six dimensions, and the extra member parameters were what kept
# the fits from the convergence gate.
_SPREAD = {
    "labour": 1.0,
    "environment": 1.0,
    "opening": 0.3,
    "president": 0.0,
    "dem_leaders": 0.0,
    "rep_leaders": 0.0,
}
# The member's own shock is the unit of the net gain and stays fixed (with a free one the
# fits failed the gate: it trades off against the spread of positions). What members of one
# vote share is learned: a shock per vote for the chamber (the day's politics), with a
# gamma(2, 10) prior on its scale — mean 0.2, two member shocks (the weakly informative size
# chosen before any forecast was scored), and density zero at zero, the usual remedy for a
# scale at the boundary (Chung et al. 2013, Psychometrika 78: 685–709). The parties have no
# shock of their own. The first version gave each party one as well (half-normal(0.2)); in
# trial House fits the earlier votes put the parties' scales at 0.013–0.027 against the
# chamber's 0.11 — the parties' departures from their coefficients on a vote barely differ
# beyond the chamber's shock — and the sampler diverged where a party's scale neared zero
# (23 divergent transitions in 2 × 1,000 draws; still 1–4 with a gamma prior on the party
# scales at 3,000–6,000 draws; none with the chamber's shock alone). Decided from those fits'
# geometry, not from any score. The earlier votes learn the scale
# (``riskmodel.model.spatial.vote_common_shocks``) and the target's worlds draw their common
# shock from the posterior.
_SHOCK = 0.1
_COMMON_SHOCK = {"dist": "gamma", "alpha": 2.0, "beta": 10.0}
_VALENCE = _normal(0.0, 0.1)
# Ideology (rule written before any forecast with it was scored): each member's ideal point
# from the chamber's roll calls of the congress before the day
# (:func:`riskmodel.backtest.ideology.ideal_points_before`) loads onto ``opening`` — every
# deal in the record book moves it, so it is where a member's general stance on trade shows —
# with a correlation per party learned from the earlier deals (uniform on [−1, 1], no lean
# assumed). How far members of a party spread on ``opening`` is learned too (half-normal with
# σ 0.5, in the issue's 0–1 units): with the spread fixed at 0.3, ideology could move a
# member's net gain by at most about one member shock per standard deviation, whatever the
# earlier votes said.
_IDEOLOGY_ISSUE = "opening"
_IDEOLOGY_LOADING = {"dist": "uniform", "lower": -1.0, "upper": 1.0}
_OPENING_SPREAD = {"dist": "half_normal", "sigma": 0.5}
# Members of one state share a shift on ``opening`` (``groups:``; rule written 29 November 2026,
# before any forecast with it was run): a state's exposure to trade is common to its
# delegation, and a member new to Congress borrows from the state's veterans as well as from
# the party. Half-normal with σ 0.25, half the party spread's prior scale (judgement).
_STATE_GROUPS = {"column": "state", "spread": {"opening": {"dist": "half_normal", "sigma": 0.25}}}


def agreement_terms(record: Agreement, chamber: str) -> tuple[dict[str, float], dict[str, float]]:
    """The record's deal and reversion on :data:`ISSUES` for a vote in ``chamber`` (house/senate)."""
    lead = record.leadership[chamber]  # type: ignore[index]
    by_party = {
        lead.majority.party: lead.majority.position.value,
        lead.minority.party: lead.minority.position.value,
    }
    deal = {
        "labour": float(record.labour.value),
        "environment": float(record.environment.value),
        "opening": float(record.opening.value),
        "president": 1.0 if record.president_party.value == "R" else -1.0,
        "dem_leaders": _POSITION[by_party.get("D", "unknown")],
        "rep_leaders": _POSITION[by_party.get("R", "unknown")],
    }
    t = record.reversion_terms
    reversion = {
        "labour": t.labour,
        "environment": t.environment,
        "opening": t.opening,
        "president": 0.0,
        "dem_leaders": 0.0,
        "rep_leaders": 0.0,
    }
    return deal, reversion


def _chamber_of(vote_id: str) -> str:
    return "house" if vote_id.startswith("h") else "senate"


@dataclass
class ScenarioPlan:
    """What a target vote's scenario holds, before it is written."""

    vote_id: str
    record: Agreement
    roster: pd.DataFrame  # member_id, person_key, party, state, yea (recorded; for scoring only)
    earlier: pd.DataFrame  # the evidence votes: vote_id, label, date, chamber
    earlier_rows: pd.DataFrame  # vote_id, person_key, party, state, yea
    terms: dict[str, tuple[dict[str, float], dict[str, float]]]  # vote_id → (deal, reversion)
    # member_id → ideal point from the chamber's roll calls before the day (missing: none)
    ideology: pd.Series | None = None


def plan_scenario(
    trade: TradeVotes,
    book: AgreementBook,
    vote_id: str,
    *,
    shuffle: np.random.Generator | None = None,
    shuffle_scope: str = "earlier",
) -> ScenarioPlan:
    """Gather the target's members and the earlier votes it may learn from.

    Leave one agreement out: no vote on the target's agreement (earlier or later) and nothing
    dated on or after the target's day is used. ``shuffle`` is the negative control, terms
    that do not belong to the votes: with ``shuffle_scope="earlier"`` it permutes the agreement
    records among the earlier votes' agreements (the target keeps its own); with ``"all"`` it
    deals out the records of the target's agreement and the earlier ones so that each of them
    gets another's (a random derangement, :func:`derangement`) — every record dealt out was
    public before the target's day.
    """
    if shuffle_scope not in ("earlier", "all"):
        raise ValueError(f"shuffle_scope must be 'earlier' or 'all', not {shuffle_scope!r}")
    votes = trade.votes
    target = votes[votes["vote_id"] == vote_id].iloc[0]
    day = pd.Timestamp(target["date"]).normalize()
    record = book[str(target["label"])]
    record.check_known_before(day, chamber=_chamber_of(vote_id))
    rows = trade.rows.assign(vote_id=votes["vote_id"].to_numpy()[trade.rows["vote"].to_numpy()])
    roster = rows[rows["vote_id"] == vote_id]
    roster = roster.assign(person_key=np.asarray(trade.persons)[roster["person"].to_numpy()])
    state_names = np.asarray(trade.states)
    roster = roster.assign(state=state_names[roster["state"].to_numpy()])
    earlier = votes[(votes["date"].dt.normalize() < day) & (votes["label"] != target["label"])]
    earlier = earlier[earlier["label"].isin(book.labels())].copy()
    labels = sorted(earlier["label"].unique())
    mapping = dict(zip(labels, labels, strict=True))
    if shuffle is not None and shuffle_scope == "all" and labels:
        dealt = sorted({*labels, str(target["label"])})
        mapping = dict(zip(dealt, [dealt[i] for i in derangement(shuffle, len(dealt))], strict=True))
        record = book[mapping[str(target["label"])]]
        record.check_known_before(day, chamber=_chamber_of(vote_id))
    elif shuffle is not None and len(labels) > 1:
        mapping = dict(zip(labels, [labels[i] for i in shuffle.permutation(len(labels))], strict=True))
    terms = {}
    for item in earlier.itertuples():
        chamber = _chamber_of(str(item.vote_id))
        record_of = book[mapping[str(item.label)]]
        book[str(item.label)].check_known_before(item.date, chamber=chamber)
        terms[str(item.vote_id)] = agreement_terms(record_of, chamber)
    earlier_rows = rows[rows["vote_id"].isin(earlier["vote_id"])]
    earlier_rows = earlier_rows.assign(
        person_key=np.asarray(trade.persons)[earlier_rows["person"].to_numpy()],
        state=state_names[earlier_rows["state"].to_numpy()],
    )
    return ScenarioPlan(
        vote_id=vote_id,
        record=record,
        roster=roster[["member_id", "person_key", "party_label", "state", "yea"]]
        .rename(columns={"party_label": "party"})
        .reset_index(drop=True),
        earlier=earlier[["vote_id", "label", "date", "chamber"]].reset_index(drop=True),
        earlier_rows=earlier_rows[["vote_id", "person_key", "party_label", "state", "yea"]].rename(
            columns={"party_label": "party"}
        ),
        terms=terms,
    )


def derangement(rng: np.random.Generator, n: int) -> npt.NDArray[np.int64]:
    """A uniformly random permutation of ``0 … n−1`` with no fixed point (``n`` ≥ 2), by rejection.

    About e ≈ 2.7 permutations are drawn on average; the result depends only on ``rng``'s state.
    """
    if n < 2:
        raise ValueError("a derangement needs at least two items")
    while True:
        order = rng.permutation(n)
        if not np.any(order == np.arange(n)):
            return order


def _bloc(party: str) -> str:
    # independents in these congresses caucused with the Democrats except Goode (R from 2002)
    return "rep" if party == "R" else "dem"


def write_scenario(
    plan: ScenarioPlan,
    folder: str | Path,
    *,
    draws: int = 1000,
    max_draws: int | None = None,
    tune: int = 1000,
    chains: int = 2,
    target_accept: float = 0.8,
) -> Path:
    """Write the plan as a scenario (``scenario.yaml``, ``members.csv``, ``earlier_votes.csv``)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chamber = _chamber_of(plan.vote_id)
    roster = plan.roster
    table = pd.DataFrame(
        {
            "name": [f"m_{k}" for k in roster["person_key"]],
            "bloc": [_bloc(p) for p in roster["party"]],
            "state": roster["state"],
            "person_key": roster["person_key"],
        }
    )
    with_ideology = plan.ideology is not None and bool(plan.terms)
    if with_ideology:
        assert plan.ideology is not None
        table["ideology"] = roster["member_id"].map(plan.ideology).round(6).to_numpy()
    table.to_csv(folder / "members.csv", index=False)
    rows = plan.earlier_rows
    pd.DataFrame(
        {
            "vote_id": rows["vote_id"],
            "member_id": rows["person_key"],
            "party": rows["party"],
            "state": rows["state"],
            "position": np.where(rows["yea"].to_numpy() == 1, "Yea", "Nay"),
        }
    ).to_csv(folder / "earlier_votes.csv", index=False)
    deal, reversion = agreement_terms(plan.record, chamber)
    present = {_bloc(p) for p in roster["party"]}
    blocs = [
        {
            "name": name,
            "ideal": PRIORS[name]["ideal"],
            "spread": {**_SPREAD, _IDEOLOGY_ISSUE: _OPENING_SPREAD} if with_ideology else _SPREAD,
            "valence": _VALENCE,
        }
        for name in ("dem", "rep")
        if name in present
    ]
    deals = [
        {"vote_id": v, "deal": plan.terms[v][0], "reversion": plan.terms[v][1]}
        for v in plan.earlier["vote_id"]
        if v in set(rows["vote_id"])
    ]
    spec: dict[str, Any] = {
        "name": f"backtest_{plan.vote_id.replace('.', '_').replace('-', '_')}",
        "title": f"{plan.record.agreement}: {chamber} vote {plan.vote_id}",
        "issues": [
            {"name": k, "range": list(v), **({"shape": "linear"} if k in CUES else {})}
            for k, v in ISSUES.items()
        ],
        "deals": [{"name": "target", "values": deal}],
        "sides": [
            {
                "name": "us",
                "reversion": reversion,
                "chambers": [
                    {
                        "name": chamber,
                        "members": "members.csv",
                        "shock_scale": _SHOCK,
                        "common_shock": _COMMON_SHOCK,
                        "groups": _STATE_GROUPS,
                        "blocs": blocs,
                    }
                ],
                "votes": [{"name": "passage", "chamber": chamber, "threshold": "majority"}],
            }
        ],
    }
    if deals:
        spec["evidence"] = {
            "draws": draws,
            "max_draws": max_draws,
            "tune": tune,
            "chains": chains,
            "target_accept": target_accept,
            "earlier_deals": [
                {
                    "side": "us",
                    "chamber": chamber,
                    "votes": "earlier_votes.csv",
                    "member_key": "person_key",
                    "deals": deals,
                }
            ],
        }
        if with_ideology:
            spec["evidence"]["ideology"] = [
                {
                    "side": "us",
                    "chamber": chamber,
                    "column": "ideology",
                    "issue": _IDEOLOGY_ISSUE,
                    "loading": _IDEOLOGY_LOADING,
                    "source": "1-D IRT mode from the chamber's roll calls of the congress before the day",
                }
            ]
    path = folder / "scenario.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path
