"""Backtests through the scenario path: leave one agreement out, no leakage, JSON keys, controls."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from leakage import reverse_votes_from
from typer.testing import CliRunner

from riskmodel.backtest.agreements import AgreementBook, load_agreements
from riskmodel.backtest.runner import Backtester, BacktestSettings
from riskmodel.backtest.scenario_path import agreement_terms, derangement, plan_scenario, write_scenario
from riskmodel.backtest.scenario_runner import (
    ScenarioSettings,
    forecast_by_scenario,
    refit_draws,
    refit_target_accept,
)
from riskmodel.cli.app import app
from riskmodel.errors import RiskmodelError
from riskmodel.model import variables as mv
from riskmodel.model.evidence import add_evidence
from riskmodel.model.layout import build_layout
from riskmodel.model.priors import build_model
from riskmodel.spec.scenario import load_scenario

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "rollcalls"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason="shared roll-call data not present")
SMALL = ScenarioSettings(draws=100, tune=100, n_worlds=400, n_replicates=4, max_refits=0)


@pytest.fixture(scope="module")
def tester_103() -> Backtester:
    return Backtester(DATA, BacktestSettings(max_congress=103))


@needs_data
def test_the_plan_leaves_the_agreement_out_and_sees_nothing_on_or_after_the_day(
    tester_103: Backtester,
) -> None:
    plan = plan_scenario(tester_103.trade, load_agreements(), "s329-103.1994")
    assert plan.record.label == "Uruguay Round/WTO"
    assert set(plan.earlier["label"]) == {"NAFTA"}
    assert (plan.earlier["date"] < tester_103.target("s329-103.1994")["date"]).all()
    assert len(plan.roster) == 100 and plan.roster["yea"].sum() == 76
    # the target's own agreement is left out even when an earlier vote on it exists
    plan = plan_scenario(tester_103.trade, load_agreements(), "s395-103.1993")
    assert "NAFTA" not in set(plan.earlier["label"])
    assert len(plan.earlier) == 0


@needs_data
def test_the_scenario_learns_the_shocks_a_vote_shares(tester_103: Backtester, tmp_path: Path) -> None:
    # each earlier vote draws a chamber shock whose scale is the scenario's common_shock
    # variable, the one the engine draws the target's common shock from; the parties have none
    # of their own (the earlier votes put their scales at the boundary, where fits diverged)
    plan = plan_scenario(tester_103.trade, load_agreements(), "s329-103.1994")
    scenario = load_scenario(write_scenario(plan, tmp_path))
    layout = build_layout(scenario)
    assert scenario.spec.evidence is not None
    model = add_evidence(build_model(layout), layout, scenario.spec.evidence)
    assert model[mv.CHAMBER_COMMON_SHOCK] in model.deterministics
    assert mv.BLOC_COMMON_SHOCK not in model.named_vars
    n_votes = len(plan.earlier)
    # one total per vote, shared by both parties; two earlier votes inform the scale too little
    # for centred draws (the Senate's NAFTA vote would pin its total down): all non-centred
    assert model["earlier0_shock_z"].type.shape == (n_votes, 1)
    assert "earlier0_shock_level" not in model.named_vars


@needs_data
def test_a_vote_without_an_agreement_record_is_a_clear_error(tester_103: Backtester) -> None:
    book = load_agreements()
    partial = AgreementBook([r for r in book.records.values() if r.label != "NAFTA"], book.sources, book.path)
    with pytest.raises(RiskmodelError, match="no agreement record with label 'NAFTA'"):
        plan_scenario(tester_103.trade, partial, "h575-103.1993")


@needs_data
def test_shuffled_terms_move_the_earlier_deals(tmp_path: Path) -> None:
    tester = Backtester(DATA, BacktestSettings(max_congress=109))
    honest = plan_scenario(tester.trade, load_agreements(), "h443-109.2005")
    shuffled = plan_scenario(
        tester.trade, load_agreements(), "h443-109.2005", shuffle=np.random.default_rng(3)
    )
    assert honest.terms.keys() == shuffled.terms.keys()
    assert any(honest.terms[v] != shuffled.terms[v] for v in honest.terms)
    write_scenario(honest, tmp_path / "honest")
    assert (tmp_path / "honest" / "scenario.yaml").read_text().count("vote_id") == len(honest.earlier)


def test_a_derangement_moves_every_item() -> None:
    rng = np.random.default_rng(11)
    seen = set()
    for _ in range(200):
        order = derangement(rng, 4)
        assert sorted(order) == [0, 1, 2, 3]
        assert not np.any(order == np.arange(4))
        seen.add(tuple(order))
    assert len(seen) == 9  # the nine derangements of four items, each reachable
    with pytest.raises(ValueError, match="at least two"):
        derangement(rng, 1)


@needs_data
def test_shuffling_all_agreements_gives_the_target_another_record() -> None:
    tester = Backtester(DATA, BacktestSettings(max_congress=109))
    book = load_agreements()
    honest = plan_scenario(tester.trade, book, "h443-109.2005")
    for seed in range(5):
        plan = plan_scenario(
            tester.trade, book, "h443-109.2005", shuffle=np.random.default_rng(seed), shuffle_scope="all"
        )
        assert plan.record.label != "CAFTA-DR"
        # the target's record comes from an agreement voted on before the day
        assert plan.record.label in set(honest.earlier["label"])
        assert plan.terms.keys() == honest.terms.keys()
        # every earlier vote carries a record other than its own agreement's
        for vote in honest.earlier.itertuples():
            assert plan.terms[vote.vote_id] != honest.terms[vote.vote_id] or _same_terms(
                book, str(vote.label), plan, vote.vote_id
            )
    # the first vote has no earlier agreement to trade records with: nothing moves
    first = Backtester(DATA, BacktestSettings(max_congress=103))
    plan = plan_scenario(
        first.trade, book, "h575-103.1993", shuffle=np.random.default_rng(0), shuffle_scope="all"
    )
    assert plan.record.label == "NAFTA"
    with pytest.raises(ValueError, match="shuffle_scope"):
        plan_scenario(first.trade, book, "h575-103.1993", shuffle_scope="target")


def _same_terms(book: AgreementBook, label: str, plan: object, vote_id: str) -> bool:
    """True when another agreement's record codes to the same terms as ``label``'s own."""
    chamber = "house" if vote_id.startswith("h") else "senate"
    own = agreement_terms(book[label], chamber)
    return any(agreement_terms(book[other], chamber) == own for other in book.labels() if other != label)


@needs_data
@pytest.mark.slow
def test_reversing_every_vote_on_or_after_the_day_changes_no_bit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vote = "s329-103.1994"
    honest = Backtester(DATA, BacktestSettings(max_congress=103))
    before = forecast_by_scenario(honest, vote, settings=SMALL, keep_dir=tmp_path / "before")
    day = honest.target(vote)["date"]
    tampered = Backtester(DATA, BacktestSettings(max_congress=103))
    reverse_votes_from(monkeypatch, tampered.archive, day)
    after = forecast_by_scenario(tampered, vote, settings=SMALL, keep_dir=tmp_path / "after")
    assert (after.members["yea"].to_numpy() != before.members["yea"].to_numpy()).all()
    for name in ("scenario.yaml", "members.csv", "earlier_votes.csv"):
        assert filecmp.cmp(tmp_path / "before" / name, tmp_path / "after" / name, shallow=False)
    np.testing.assert_array_equal(after.members["prob"].to_numpy(), before.members["prob"].to_numpy())
    np.testing.assert_array_equal(after.yes_draws, before.yes_draws)


@needs_data
@pytest.mark.slow
def test_scenario_model_from_the_cli_keeps_the_json_keys(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--data",
            str(DATA),
            "--vote",
            "s329-103.1994",
            "--model",
            "scenario",
            "--draws",
            "100",
            "--max-congress",
            "103",
            "--json",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    for key in (
        "vote_id",
        "n_members",
        "actual_yea",
        "actual_nay",
        "accuracy",
        "apre",
        "brier",
        "log_score",
        "ece",
        "yea_interval_90",
        "p_pass",
        "baselines",
        "member_forecasts",
        "convergence_gate",
    ):
        assert key in data
    assert data["model"] == "scenario" and data["earlier_votes"] == 2
    assert (data["n_members"], data["actual_yea"]) == (100, 76)
    assert set(data["baselines"]) == {"party_line", "nominate_logistic"}
    probs = [row["prob"] for row in data["member_forecasts"]]
    if data["convergence_gate"] == "passed":
        assert all(0.0 <= p <= 1.0 for p in probs)
    else:  # a failed fit's numbers are withheld and kept apart for diagnosis
        assert data["brier"] is None and all(p is None for p in probs)
        assert all(0.0 <= p <= 1.0 for p in data["failed_fit_diagnostics"]["member_probs"])
    assert data["fit_diagnostics"]["target_accept"] == refit_target_accept(0.95, data["refits"])


@needs_data
@pytest.mark.slow
def test_the_suite_on_dask_is_bit_identical_to_serial() -> None:
    from distributed import LocalCluster

    from riskmodel.backtest.suite import run_suite

    votes = ["s329-103.1994", "s395-103.1993"]
    options = {
        "settings": BacktestSettings(max_congress=103),
        "model": "scenario",
        "scenario_settings": SMALL,
    }
    serial = run_suite(DATA, votes, **options)  # type: ignore[arg-type]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        remote = run_suite(DATA, votes, scheduler=cluster.scheduler_address, **options)  # type: ignore[arg-type]
    assert [r["vote_id"] for r in remote] == votes
    assert json.dumps(serial, sort_keys=True, default=str) == json.dumps(remote, sort_keys=True, default=str)


def test_a_refit_draws_enough_for_the_gate_if_ess_grows_with_the_draws() -> None:
    assert refit_draws(3000, 350.0) == 6000  # short by little: at least doubled
    assert refit_draws(3000, 125.0) == 12000  # 1.25 · 400 / 125 = 4
    assert refit_draws(3000, 120.0) == 15000  # ⌈4.17⌉ = 5
    assert refit_draws(3000, 10.0) == 24000  # at most 8 times
    assert refit_draws(3000, 0.0) == 24000  # no ESS measured: the largest step
    assert refit_draws(3000, 499.0) == 6000  # just short of 1.25 × 400: doubled
    assert refit_draws(3000, 500.0) == 3000  # enough already (failed on divergences): kept
    assert refit_draws(3000, 900.0) == 3000


def test_a_refit_takes_smaller_steps_and_the_scenario_says_so(tmp_path: Path) -> None:
    assert [refit_target_accept(0.9, k) for k in range(3)] == pytest.approx([0.9, 0.95, 0.975])
    assert refit_target_accept(0.95, 3) == 0.99  # never above the schema's bound
    assert ScenarioSettings().target_accept == 0.95


@needs_data
def test_the_written_scenario_carries_the_fits_target_accept(tester_103: Backtester, tmp_path: Path) -> None:
    plan = plan_scenario(tester_103.trade, load_agreements(), "s329-103.1994")
    scenario = load_scenario(write_scenario(plan, tmp_path, target_accept=0.95))
    assert scenario.spec.evidence is not None and scenario.spec.evidence.target_accept == 0.95


def test_sample_posterior_takes_smaller_steps_at_a_higher_target_accept() -> None:
    import pymc as pm

    from riskmodel.inference.sampling import sample_posterior

    with pm.Model() as model:
        pm.Normal("x", 0.0, 1.0, shape=3)
    step = {}
    for accept in (0.6, 0.99):
        fit = sample_posterior(model, draws=100, tune=200, chains=1, seed=1, target_accept=accept)
        step[accept] = float(fit["sample_stats"]["step_size"].mean())
    # on a standard normal the adapted step shrinks sharply as the target acceptance nears 1
    assert step[0.99] < 0.6 * step[0.6]
    with pytest.raises(ValueError, match="target_accept"):
        sample_posterior(model, draws=100, target_accept=1.0)


@needs_data
def test_ideal_points_come_only_from_earlier_roll_calls_and_put_republicans_right(
    tester_103: Backtester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from riskmodel.backtest.ideology import ideal_points_before

    day = tester_103.target("s329-103.1994")["date"].normalize()
    ideal = ideal_points_before(tester_103.archive, 103, "s", day)
    party = tester_103.archive.member_votes(103).drop_duplicates("member_id").set_index("member_id")["party"]
    assert len(ideal) >= 95
    of = party.reindex(ideal.index)
    # standardised over the chamber, the parties sit apart: Republicans on the positive side
    assert ideal[of == "R"].mean() > 0.5 and ideal[of == "D"].mean() < -0.5
    reverse_votes_from(monkeypatch, tester_103.archive, day)
    pd.testing.assert_series_equal(ideal_points_before(tester_103.archive, 103, "s", day), ideal)
    # before the congress's first roll calls there is nothing to place members with
    assert ideal_points_before(tester_103.archive, 103, "s", pd.Timestamp("1993-01-01", tz=day.tz)).empty
