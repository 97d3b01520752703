"""Backtests: forecast recorded trade votes from what was known before them, and score them.

For a target vote (a clerk vote id such as ``h443-109.2005``) the forecast uses only

* roll calls of the target's congress and chamber held on *earlier days* — a Bayesian IRT fit
  (:mod:`riskmodel.model.irt`), once per congress, chamber and day, cached;
* earlier trade votes of the archive's index (both chambers, any congress), with members'
  party and state — the hierarchical trade model (:mod:`riskmodel.backtest.trade_model`), compiled once
  and re-fitted with the target's data.

Nothing is estimated from the target vote or later votes. Two baselines are scored in the same
run: ``party_line`` (each member gets the party's yes share on the most recent earlier trade
vote in the chamber) and ``nominate_logistic`` (a logistic regression on DW-NOMINATE dimensions
and party fitted to earlier trade votes of the chamber; DW-NOMINATE is estimated from whole
careers, so this baseline sees the future — it is a deliberately strong yardstick).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from riskmodel.backtest.archive import RollCallArchive
from riskmodel.backtest.baselines import nominate_logistic, party_line
from riskmodel.backtest.scoring import member_scores
from riskmodel.backtest.summary import withhold
from riskmodel.backtest.trade_model import TradeVotes, build_trade_model, collect_trade_votes
from riskmodel.defaults import DEFAULT_BACKTEST_SEED
from riskmodel.engine import needed_votes
from riskmodel.errors import RiskmodelError, did_you_mean
from riskmodel.inference.irt_kernel import fit_irt_kernel
from riskmodel.inference.sampling import convergence_gate, default_sampler, sample_posterior
from riskmodel.model.irt import build_irt_model, irt_data, vote_matrix
from riskmodel.randomness import SeedLike, as_seed_sequence
from riskmodel.worlds.arrays import VoteRule
from riskmodel.worlds.rules import vote_rule

__all__ = ["BacktestSettings", "Backtester", "VoteForecast"]

_PAD = {"h": (460, None), "s": (110, None)}


@dataclass(frozen=True)
class BacktestSettings:
    """Sampler settings of a backtest (defaults: the ones the reported numbers use)."""

    irt_dims: int = 1
    irt_cutoff: Literal["first_trade_vote", "vote_day"] = "first_trade_vote"
    irt_max_rollcalls: int | None = None
    irt_min_minority: float = 0.025
    irt_draws: int = 1500
    irt_tune: int = 700
    trade_draws: int = 1500
    trade_tune: int = 1000
    chains: int = 2
    method: Literal["nuts", "advi"] = "nuts"
    sampler: Literal["auto", "nutpie", "pymc"] = "auto"
    seed: int = DEFAULT_BACKTEST_SEED
    max_congress: int | None = None


@dataclass
class VoteForecast:
    """A forecast of one vote with the recorded outcome."""

    vote_id: str
    members: pd.DataFrame  # member_id, party, state, yea (recorded), prob
    yes_draws: np.ndarray
    rule: VoteRule
    irt_gate: str
    trade_gate: str
    extra: dict[str, Any] = field(default_factory=dict)


class Backtester:
    """Runs backtests on a roll-call data folder, caching IRT fits and the compiled trade model.

    Parameters
    ----------
    data_dir
        A folder laid out like ``shared/data/rollcalls``.
    settings
        Sampler settings.
    log
        Called with progress messages.
    """

    def __init__(
        self,
        data_dir: str | Path,
        settings: BacktestSettings | None = None,
        *,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings or BacktestSettings()
        self.archive = RollCallArchive(data_dir)
        self.log = log or (lambda message: None)
        self._trade: TradeVotes | None = None
        self._trade_model: Any = None
        self._compiled: dict[Any, object] = {}
        self._irt_models: dict[Any, Any] = {}
        self._ideal: dict[tuple[int, str, str], tuple[pd.DataFrame, str]] = {}

    @property
    def trade(self) -> TradeVotes:
        """Every trade vote of the archive with its member votes (read once)."""
        if self._trade is None:
            self.log("reading trade votes")
            self._trade = collect_trade_votes(self.archive, max_congress=self.settings.max_congress)
        return self._trade

    def target(self, vote_id: str) -> pd.Series:
        """The trade-vote index row of a vote id, or a clear error."""
        votes = self.trade.votes
        if vote_id not in set(votes["vote_id"]):
            within = (
                ""
                if self.settings.max_congress is None
                else f" (up to congress {self.settings.max_congress})"
            )
            raise RiskmodelError(
                f"vote '{vote_id}' is not in tables/trade_votes_index.csv{within}"
                f"{did_you_mean(vote_id, votes['vote_id'])}"
            )
        return votes.iloc[self.trade.vote_index(vote_id)]

    # ----------------------------------------------------------------------- stage 1: IRT

    def ideal_points(self, congress: int, chamber: str, day: pd.Timestamp) -> tuple[pd.DataFrame, str]:
        """Posterior-mean ideal points from roll calls before ``day`` (cached), and the gate status."""
        key = (congress, chamber, str(day.date()))
        if key in self._ideal:
            return self._ideal[key]
        s = self.settings
        votes = self.archive.member_votes(congress)
        earlier = votes[(votes["chamber"] == chamber) & (votes["date"] < day)]
        seed = np.random.SeedSequence([s.seed, congress, ord(chamber), day.toordinal()])
        matrix = vote_matrix(
            earlier, min_minority=s.irt_min_minority, max_rollcalls=s.irt_max_rollcalls, seed=seed
        )
        self.log(f"IRT {chamber}{congress} before {day.date()}: {matrix.shape[0]} × {matrix.shape[1]}")
        if (
            s.irt_dims == 1
            and s.method == "nuts"
            and s.sampler in ("auto", "nutpie")
            and default_sampler() == "nutpie"
        ):
            # the fast path: nutpie on the hand-written gradient of the same model
            fit = fit_irt_kernel(matrix, draws=s.irt_draws, tune=s.irt_tune, chains=s.chains, seed=seed)
        else:
            rows = max(_PAD[chamber][0] or 0, matrix.shape[0])
            cols = max(s.irt_max_rollcalls or matrix.shape[1], matrix.shape[1])
            shape = (rows, cols)
            model_key = (s.irt_dims, shape)
            if model_key not in self._irt_models:
                self._irt_models[model_key] = build_irt_model(matrix, n_dims=s.irt_dims, pad_to=shape)
            fit = sample_posterior(
                self._irt_models[model_key],
                draws=s.irt_draws,
                tune=s.irt_tune,
                chains=s.chains,
                method=s.method,
                sampler=s.sampler,
                var_names=["irt_ideal", "irt_cut", "irt_slope"],
                data={f"irt_{k}": v for k, v in irt_data(matrix, pad_to=shape).items()},
                compiled_cache=self._compiled,
                seed=seed,
            )
        n = matrix.shape[0]
        posterior = fit["posterior"].to_dataset().isel(irt_member=slice(0, n))
        posterior = posterior.isel(irt_rollcall=slice(0, matrix.shape[1]))
        # Only the ideal points flow downstream: the gate checks them (item parameters of
        # party-line roll calls are nuisance, prior-dominated and slow to mix).
        gate = convergence_gate(_posterior_tree(posterior, fit), var_names=["irt_ideal"])
        mean = posterior["irt_ideal"].mean(("chain", "draw")).to_numpy()
        table = pd.DataFrame({"member_id": matrix.members, "party": matrix.party})
        for d in range(mean.shape[1]):
            table[f"theta{d + 1}"] = mean[:, d]
        self._ideal[key] = (table, gate.status)
        return table, gate.status

    # ----------------------------------------------------------------------- stage 2: trade model

    def forecast(self, vote_id: str, *, seed: SeedLike = None) -> VoteForecast:
        """Forecast every member's vote and the total of one trade vote."""
        s = self.settings
        trade = self.trade
        target = self.target(vote_id)
        t = trade.vote_index(vote_id)
        day = target["date"].normalize()
        if s.irt_cutoff == "first_trade_vote":
            votes = trade.votes
            same = votes[(votes["congress"] == target["congress"]) & (votes["chamber"] == target["chamber"])]
            day = same["date"].min().normalize()
        ideal, irt_status = self.ideal_points(int(target["congress"]), str(target["chamber"]), day)
        rows = trade.rows
        earlier = (trade.votes["date"] < target["date"]).to_numpy()
        weight = earlier[rows["vote"].to_numpy()].astype(np.float64)

        n_persons = len(trade.persons)
        theta = np.zeros((n_persons, s.irt_dims))
        has_theta = np.zeros(n_persons)
        party_now = np.zeros(n_persons, dtype=np.int64)
        voters = rows[rows["vote"] == t]
        person_of_member = dict(zip(voters["member_id"], voters["person"], strict=True))
        ideal = ideal.copy()
        ideal["group"] = (ideal["party"].str.upper() == "R").astype(int)
        cols = [f"theta{d + 1}" for d in range(s.irt_dims)]
        ideal[cols] = ideal[cols] - ideal.groupby("group")[cols].transform("mean")
        for record in ideal.itertuples():
            person = person_of_member.get(record.member_id)
            if person is not None:
                theta[person] = [getattr(record, c) for c in cols]
                has_theta[person] = 1.0
                party_now[person] = 1 if record.group else 0
        party_now[voters["person"].to_numpy()] = voters["party"].to_numpy()

        if self._trade_model is None:
            self._trade_model = build_trade_model(trade, n_dims=s.irt_dims)
        fit = sample_posterior(
            self._trade_model,
            draws=s.trade_draws,
            tune=s.trade_tune,
            chains=s.chains,
            method=s.method,
            sampler=s.sampler,
            var_names=["vote_lean", "trade_position", "vote_lean_sd", "person_sd", "state_sd"],
            data={
                "weight": weight,
                # votes the fit may not use are zeroed as well as weighted out
                "yea": np.where(weight > 0, rows["yea"].to_numpy(np.float64), 0.0),
                "theta": theta,
                "has_theta": has_theta,
                "party_now": party_now,
            },
            compiled_cache=self._compiled,
            seed=np.random.SeedSequence([s.seed, t]),
        )
        posterior = fit["posterior"].to_dataset()
        gate = convergence_gate(fit, var_names=["vote_lean_sd", "person_sd", "state_sd"])
        lean = posterior["vote_lean"].to_numpy().reshape(-1, *posterior["vote_lean"].shape[2:])[:, t]
        position = posterior["trade_position"].to_numpy().reshape(-1, n_persons)
        logit = lean[:, voters["party"].to_numpy()] + position[:, voters["person"].to_numpy()]
        prob_draws = 1.0 / (1.0 + np.exp(-logit))  # (draws, members)
        rng = np.random.default_rng(
            as_seed_sequence(seed) if seed is not None else np.random.SeedSequence([s.seed, t, 1])
        )
        yes_draws = (rng.random(prob_draws.shape) < prob_draws).sum(axis=1)
        members = voters[["member_id", "person", "party", "party_label", "yea"]].copy()
        members["prob"] = prob_draws.mean(axis=0)
        return VoteForecast(
            vote_id=vote_id,
            members=members.reset_index(drop=True),
            yes_draws=yes_draws,
            rule=rule_of_requirement(str(target["requires"]), where=f"vote {vote_id}: requires"),
            irt_gate=irt_status,
            trade_gate=gate.status,
        )

    # ----------------------------------------------------------------------- scoring

    def score(self, vote_id: str, *, forecast: VoteForecast | None = None) -> dict[str, Any]:
        """Forecast one vote, score it and its baselines: the ``--json`` object.

        ``forecast`` replaces the trade model's forecast (the scenario path gives its own).
        """
        if forecast is None:
            forecast = self.forecast(vote_id)
        target = self.target(vote_id)
        members = forecast.members
        actual = members["yea"].to_numpy()
        n = len(members)
        yes = forecast.yes_draws
        lo, hi = np.quantile(yes, [0.05, 0.95])
        result: dict[str, Any] = {
            "vote_id": vote_id,
            "label": str(target["label"]),
            "action": str(target["action"]),
            "date": str(target["date"].date()),
            "n_members": n,
            "actual_yea": int(actual.sum()),
            "actual_nay": int(n - actual.sum()),
            **member_scores(members["prob"].to_numpy(), actual),
            "yea_predicted_mean": float(yes.mean()),
            "yea_interval_90": [float(lo), float(hi)],
            "yea_covered": bool(lo <= actual.sum() <= hi),
            "p_pass": float(np.mean(yes >= needed_votes(forecast.rule, n))),
            "passed": bool(actual.sum() >= needed_votes(forecast.rule, n)),
            "convergence_gate": _combined_gate(forecast.irt_gate, forecast.trade_gate),
            "irt_gate": forecast.irt_gate,
            "trade_gate": forecast.trade_gate,
            **forecast.extra,
            "baselines": {},
        }
        earlier = self.trade.votes["date"] < target["date"]
        party = party_line(self.trade, vote_id, earlier.to_numpy())
        nominate = nominate_logistic(self.trade, self.archive, vote_id, earlier.to_numpy())
        for name, prob in (("party_line", party), ("nominate_logistic", nominate)):
            if prob is None:
                result["baselines"][name] = None
                continue
            aligned = members["member_id"].map(prob).fillna(0.5).to_numpy()
            result["baselines"][name] = member_scores(aligned, actual)
        result["member_forecasts"] = members.assign(prob=members["prob"].round(4))[
            ["member_id", "party", "party_label", "yea", "prob"]
        ].to_dict(orient="records")
        if result["convergence_gate"] != "passed":
            withhold(result)
        return result


def _posterior_tree(posterior: Any, fit: Any) -> Any:
    """A DataTree with a sliced posterior and the fit's sample stats (for the gate)."""
    import xarray as xr

    tree = xr.DataTree.from_dict(
        {"posterior": posterior, "sample_stats": fit["sample_stats"].to_dataset()}
        if "sample_stats" in fit.children
        else {"posterior": posterior}
    )
    tree.attrs.update(fit.attrs)
    return tree


_REQUIRES = {"1/2": "majority", "3/5": "three_fifths", "2/3": "two_thirds"}


def rule_of_requirement(requires: str, *, where: str = "requires") -> VoteRule:
    """The vote rule of a roll-call index ``requires`` entry (``1/2``, ``3/5``, ``2/3`` of those voting)."""
    try:
        return vote_rule(_REQUIRES[requires.strip()])
    except KeyError:
        raise RiskmodelError(
            f"{where}: unknown vote requirement {requires!r} (expected one of {', '.join(_REQUIRES)})"
        ) from None


def _combined_gate(*statuses: str) -> str:
    failed = [s.removeprefix("failed: ") for s in statuses if s != "passed"]
    return "passed" if not failed else "failed: " + "; ".join(failed)
