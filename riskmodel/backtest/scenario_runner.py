"""Forecast a recorded trade vote through the scenario path and the engine.

:func:`riskmodel.backtest.scenario_path.write_scenario` writes the target's scenario;
:func:`riskmodel.pipeline.sample_worlds` conditions it on the earlier deals and builds worlds
from the posterior; :func:`riskmodel.engine.kernel.member_votes` decides every member's vote
in every world. A fit that fails the convergence gate is refitted with twice the draws and
warm-up, up to ``max_refits`` times; the result says which fit it comes from and whether
that fit passed.
"""

from __future__ import annotations

import tempfile
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from riskmodel.backtest.agreements import AgreementBook, load_agreements
from riskmodel.backtest.runner import Backtester, VoteForecast, rule_of_requirement
from riskmodel.backtest.scenario_path import plan_scenario, write_scenario
from riskmodel.engine.kernel import member_votes
from riskmodel.pipeline import sample_worlds
from riskmodel.spec.scenario import load_scenario
from riskmodel.worlds.arrays import deal_features

__all__ = ["ScenarioSettings", "forecast_by_scenario"]


@dataclass(frozen=True)
class ScenarioSettings:
    """Sampler and world settings of a scenario-path forecast."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 2
    n_worlds: int = 4000
    n_replicates: int = 10
    max_refits: int = 2
    seed: int = 20_240_601


def forecast_by_scenario(
    tester: Backtester,
    vote_id: str,
    *,
    settings: ScenarioSettings | None = None,
    book: AgreementBook | None = None,
    shuffle_seed: int | None = None,
    keep_dir: str | Path | None = None,
) -> VoteForecast:
    """Forecast one vote of ``tester``'s archive through its scenario.

    Parameters
    ----------
    tester
        Supplies the archive's trade votes (and later the baselines, through ``score``).
    vote_id
        The target (clerk vote id).
    settings
        Sampler settings.
    book
        Agreement records (default: the bundled ones).
    shuffle_seed
        Negative control: permute the earlier agreements' records with this seed.
    keep_dir
        Write the scenario here (default: a temporary folder, removed afterwards).
    """
    s = settings or ScenarioSettings()
    book = book or load_agreements()
    target = tester.target(vote_id)
    shuffle = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
    plan = plan_scenario(tester.trade, book, vote_id, shuffle=shuffle)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(keep_dir) if keep_dir is not None else Path(tmp)
        draws, tune, attempt = s.draws, s.tune, 0
        while True:
            path = write_scenario(plan, folder, draws=draws, tune=tune, chains=s.chains)
            tester.log(
                f"{vote_id}: fitting {len(plan.earlier)} earlier votes, {draws} draws × {s.chains} chains"
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # the gate is reported, not warned
                sim = sample_worlds(
                    load_scenario(path),
                    n_worlds=s.n_worlds,
                    n_replicates=s.n_replicates,
                    seed=np.random.SeedSequence([s.seed, zlib.crc32(vote_id.encode()), attempt]),
                )
            gate = str(sim.draws.attrs.get("convergence_gate", "passed"))
            if gate == "passed" or attempt >= s.max_refits:
                break
            attempt += 1
            draws, tune = 2 * draws, 2 * tune
            tester.log(f"{vote_id}: gate {gate}; refitting longer")
    layout = sim.layout
    features = deal_features(layout.to_unit(layout.deal_values), layout.link_pairs)
    votes = member_votes(sim.worlds, features)[:, :, 0, :]  # (D, R, M)
    position = {name.rsplit(".", 1)[-1]: m for m, name in enumerate(layout.members)}
    index = np.array([position[f"m_{key}"] for key in plan.roster["person_key"]])
    members = plan.roster.rename(columns={"party": "party_label"}).copy()
    members["party"] = (members["party_label"] == "R").astype(int)
    members["prob"] = votes[:, :, index].mean(axis=(0, 1))
    yes_draws = votes[:, :, index].sum(axis=-1).ravel()
    return VoteForecast(
        vote_id=vote_id,
        members=members.reset_index(drop=True),
        yes_draws=yes_draws,
        rule=rule_of_requirement(str(target["requires"]), where=f"vote {vote_id}: requires"),
        irt_gate="passed",
        trade_gate=gate,
        extra={
            "model": "scenario",
            "irt_gate": "not used (no IRT input in the scenario path yet)",
            "earlier_votes": len(plan.earlier),
            "fit_draws": draws,
            "refits": attempt,
            "terms_shuffled": shuffle_seed is not None,
        },
    )
