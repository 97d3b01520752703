"""results.nc as an ArviZ DataTree: prior / posterior groups of the named model variables."""

from __future__ import annotations

import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from typer.testing import CliRunner

from riskmodel.cli.app import app
from riskmodel.io import load_draws, load_results, save_results
from riskmodel.model.variables import VARIABLES
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.results.datatree import results_tree
from riskmodel.spec.scenario import load_scenario

NAMED = set(VARIABLES)


def test_run_writes_prior_group_that_arviz_reads(toy_path: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(toy_path),
            "--worlds",
            "200",
            "--replicates",
            "10",
            "--seed",
            "5",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    tree = az.from_netcdf(tmp_path / "results.nc")
    assert {"outcomes", "prior"} <= set(tree.children)
    prior = tree["prior"].to_dataset()
    # every named variable of the model, and only model variables beside the vector priors
    assert set(prior.data_vars) >= NAMED
    assert {name for name in prior.data_vars if not name.startswith("prior_")} == NAMED
    assert prior["bloc_ideal"].dims == ("chain", "draw", "bloc", "issue")
    assert prior["issue"].to_numpy().tolist() == ["tariff", "labour"]
    assert "home.left" in prior["bloc"].to_numpy().tolist()
    summary = az.summary(tree, group="prior", var_names=["bloc_ideal"])
    assert isinstance(summary, pd.DataFrame) and len(summary) == 3 * 2
    # the outcomes read back as the Dataset of before
    outcomes = load_results(tmp_path / "results.nc")
    assert "ratification_probability" in outcomes and outcomes.attrs["scenario_name"] == "toy"
    draws = load_draws(tmp_path / "results.nc")
    assert draws is not None and "prior" in draws.children


def test_old_flat_results_still_load(toy_path: Path, tmp_path: Path) -> None:
    simulation = sample_worlds(load_scenario(toy_path), n_worlds=100, n_replicates=10, seed=2)
    results = evaluate_deals(simulation)
    flat = save_results(results, tmp_path / "flat.nc")
    tree = save_results(results_tree(results, simulation.draws), tmp_path / "tree.nc")
    old, new = load_results(flat), load_results(tree)
    xr.testing.assert_identical(old.drop_attrs(), new.drop_attrs())
    assert old.attrs["scenario_digest"] == new.attrs["scenario_digest"]
    assert load_draws(flat) is None


EVIDENCE_SCENARIO = """
name: evidence_tree
issues:
  - {name: tariff, unit: "%", range: [0, 20]}
deals:
  - {name: cut, values: {tariff: 4}}
sides:
  - name: home
    reversion: {tariff: 10}
    chambers:
      - name: house
        seats: 11
        shock_scale: 0.05
        blocs:
          - {name: dem, seats: 6, ideal: {tariff: {dist: normal, mu: 10, sigma: 2}}, spread: 3.0}
          - {name: rep, seats: 5, ideal: {tariff: {dist: normal, mu: 6, sigma: 2}}, spread: 3.0}
    votes:
      - {name: passage, chamber: house}
    public:
      ideal: {tariff: {dist: normal, mu: 8, sigma: 2}}
      spread: 4
      approval: {dist: normal, mu: 0, sigma: 0.05}
evidence:
  draws: 200
  tune: 200
  chains: 2
  polls:
    - {side: home, deal: cut, approve: 720, sample_size: 1000}
"""


@pytest.mark.slow
def test_evidence_run_has_posterior_sample_stats_and_observed_data(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(EVIDENCE_SCENARIO)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a short fit may fail the gate
        simulation = sample_worlds(load_scenario(path), n_worlds=400, n_replicates=10, seed=4)
    results = evaluate_deals(simulation)
    save_results(results_tree(results, simulation.draws), tmp_path / "results.nc")
    tree = az.from_netcdf(tmp_path / "results.nc")
    assert {"outcomes", "posterior", "sample_stats", "observed_data"} <= set(tree.children)
    posterior = tree["posterior"].to_dataset()
    assert set(posterior.data_vars) >= NAMED  # and the evidence's own deterministics (poll shares)
    assert posterior.sizes["chain"] == 2
    assert tree["sample_stats"].sizes["draw"] == posterior.sizes["draw"]
    observed = tree["observed_data"].to_dataset()
    assert observed["poll_approve"].to_numpy().tolist() == [720.0]
    summary = az.summary(tree, var_names=["public_approval", "bloc_ideal"])
    assert np.isfinite(summary["r_hat"].to_numpy(dtype=float)).all()
    # the poll: observed share 0.72; the model's predictions of it come from the fitted shares
    assert observed["poll_share"].to_numpy().tolist() == [0.72]
    predicted = tree["posterior_predictive"]["poll_share"]
    assert predicted.dims == ("chain", "draw", "poll")
    assert abs(float(predicted.mean()) - float(posterior["poll0_share"].mean())) < 0.02
    import matplotlib

    matplotlib.use("Agg")
    az.plot_ppc_dist(tree, var_names=["poll_share"])
    az.plot_forest(tree, var_names=["public_approval"])
