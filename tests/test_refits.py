"""Refits with other sampler settings: one model build and compile, the same draws, a lean trace."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from riskmodel.inference.refits import ScenarioModels, model_key
from riskmodel.model import variables as mv
from riskmodel.pipeline import sample_worlds
from riskmodel.spec.scenario import LoadedScenario, load_scenario

SCENARIO = """
name: refit_demo
issues:
  - {name: tariff, unit: "%", range: [0, 20]}
deals:
  - {name: cut, values: {tariff: 4}}
sides:
  - name: home
    reversion: {tariff: 10}
    chambers:
      - name: house
        members: members.csv
        shock_scale: 0.05
        blocs:
          - {name: dem, ideal: {tariff: {dist: normal, mu: 10, sigma: 2}}, spread: 3.0}
          - {name: rep, ideal: {tariff: {dist: normal, mu: 6, sigma: 2}}, spread: 3.0}
    votes:
      - {name: passage, chamber: house}
    public:
      ideal: {tariff: 8}
      spread: 4
      approval: {dist: normal, mu: 0, sigma: 0.05}
evidence:
  draws: 100
  tune: 100
  declared:
    - {side: home, chamber: house, deal: cut, positions: {d0: "yes", r0: "no"}, reliability: 0.9}
  polls:
    - {side: home, deal: cut, approve: 720, sample_size: 1000}
"""


def _scenario(folder: Path, text: str = SCENARIO) -> LoadedScenario:
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"d{i}" for i in range(4)] + [f"r{i}" for i in range(4)]
    members = pd.DataFrame({"name": names, "bloc": ["dem"] * 4 + ["rep"] * 4})
    members.to_csv(folder / "members.csv", index=False)
    (folder / "scenario.yaml").write_text(text)
    return load_scenario(folder / "scenario.yaml")


def _with_settings(folder: Path, **settings: object) -> LoadedScenario:
    text = SCENARIO
    for name, value in settings.items():
        text = text.replace(f"  {name}: 100\n", f"  {name}: {value}\n")
        if name not in ("draws", "tune"):
            text = text.replace("evidence:\n", f"evidence:\n  {name}: {value}\n")
    return _scenario(folder, text)


def test_the_model_key_ignores_sampler_settings_only(tmp_path: Path) -> None:
    base = model_key(_scenario(tmp_path / "a"))
    refit = model_key(_with_settings(tmp_path / "b", draws=800, tune=200, target_accept=0.975, chains=4))
    assert refit == base
    other_prior = SCENARIO.replace("mu: 6, sigma: 2", "mu: 6, sigma: 3")
    assert model_key(_scenario(tmp_path / "c", other_prior)) != base
    other_poll = SCENARIO.replace("approve: 720", "approve: 700")
    assert model_key(_scenario(tmp_path / "d", other_poll)) != base


def test_the_model_key_reads_the_votes_files(tmp_path: Path) -> None:
    # the scenario's digest does not cover the votes files its evidence names; the key must
    text = SCENARIO.replace(
        "  declared:\n",
        "  earlier_deals:\n    - {side: home, chamber: house, votes: votes.csv, member_key: name,\n"
        "       deals: [{vote_id: v1, deal: {tariff: 5}}]}\n  declared:\n",
    )
    votes = pd.DataFrame(
        {"vote_id": "v1", "member_id": ["d0", "r0"], "party": ["D", "R"], "state": "XX", "position": "Yea"}
    )
    votes.to_csv(tmp_path / "votes.csv", index=False)
    scenario = _scenario(tmp_path, text)
    before = model_key(scenario)
    votes.assign(position=["Yea", "Nay"]).to_csv(tmp_path / "votes.csv", index=False)
    assert model_key(scenario) != before


def test_a_refit_reuses_the_compiled_model_and_draws_as_a_fresh_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import nutpie

    compiles = []
    compile_pymc_model = nutpie.compile_pymc_model

    def counted(*args: object, **kwargs: object) -> object:
        compiles.append(1)
        return compile_pymc_model(*args, **kwargs)

    monkeypatch.setattr(nutpie, "compile_pymc_model", counted)
    first = _scenario(tmp_path / "first")
    refit = _with_settings(tmp_path / "refit", draws=200, tune=150, target_accept=0.95)
    models = ScenarioModels()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # short fits fail the gate: reported, not raised
        sample_worlds(first, n_worlds=200, n_replicates=2, seed=3, models=models)
        reused = sample_worlds(refit, n_worlds=200, n_replicates=2, seed=4, models=models)
        assert models.builds == 1 and len(compiles) == 1
        fresh = sample_worlds(refit, n_worlds=200, n_replicates=2, seed=4)
    assert len(compiles) == 2
    # the same draws from the reused compiled model as from a fresh build and compile
    # (equal values and coordinates; the attrs carry the time of the fit)
    assert reused.draws["posterior"].to_dataset().equals(fresh.draws["posterior"].to_dataset())
    assert np.array_equal(reused.worlds.member_coef, fresh.worlds.member_coef)
    assert reused.gate == fresh.gate
    sizes = reused.draws["posterior"].sizes
    assert sizes["chain"] * sizes["draw"] == 100  # n_worlds / n_replicates, thinned from the fit's
    # the fit keeps what the gate judges, which holds what the worlds and the poll predictions
    # read; no free variable: not the members' standardised positions, not the prior vectors
    kept = set(reused.draws["posterior"].to_dataset().data_vars)
    assert mv.MEMBER_IDEAL in kept and "poll0_share" in kept
    assert {mv.MEMBER_Z, "prior_normal"}.isdisjoint(kept)
    assert kept <= set(mv.VARIABLES) | set(mv.OPTIONAL_VARIABLES) | {"poll0_share"}


def test_a_refit_in_the_backtest_passes_its_models_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from riskmodel.backtest import scenario_runner

    seen: list[object] = []

    class Stop(Exception):
        pass

    def fake(scenario: LoadedScenario, **kwargs: object) -> object:
        seen.append(kwargs["models"])
        if len(seen) == 2:
            raise Stop
        gate = SimpleNamespace(
            passed=False, status="failed", max_rhat=1.1, min_ess_bulk=50.0, min_ess_tail=50.0, divergences=0
        )
        draws = SimpleNamespace(attrs={"fit_draws": 1000})
        return SimpleNamespace(gate=gate, layout=None, worlds=None, draws=draws)

    monkeypatch.setattr(scenario_runner, "sample_worlds", fake)
    plan = SimpleNamespace(terms=[], earlier=[1], ideology=None)
    monkeypatch.setattr(scenario_runner, "plan_scenario", lambda *args, **kwargs: plan)
    monkeypatch.setattr(scenario_runner, "write_scenario", lambda *args, **kwargs: Path("scenario.yaml"))
    evidence = SimpleNamespace(evidence=object())
    monkeypatch.setattr(scenario_runner, "load_scenario", lambda path: SimpleNamespace(spec=evidence))
    tester = SimpleNamespace(target=lambda vote_id: {}, trade=None, log=lambda message: None)
    with pytest.raises(Stop):
        scenario_runner.forecast_by_scenario(tester, "v1", book=object())  # type: ignore[arg-type]
    assert len(seen) == 2 and seen[0] is seen[1] and isinstance(seen[0], ScenarioModels)
