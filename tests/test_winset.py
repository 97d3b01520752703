"""Win-set maps: analytic intervals, agreement with the engine, sizes, saving and plotting."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from engine_helpers import rule
from matplotlib.figure import Figure

from riskmodel.analyses.winset import compute_winset, load_winset, save_winset
from riskmodel.engine import count_yes, evaluate_chunks
from riskmodel.engine.sweep import grid_polynomials, sweep_chunks
from riskmodel.engine.sweep_kernels import sweep_counts
from riskmodel.errors import RiskmodelError
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.plots.winset import plot_winset, plot_winset_size
from riskmodel.results.mcse import mcse
from riskmodel.spec.scenario import load_scenario, parse_scenario
from riskmodel.worlds.arrays import All, AtLeast, Not, VoteRef, Worlds, deal_features

IDEALS = [0.1, 0.3, 0.45, 0.7, 0.9]  # five deterministic members on issue x; reversion x = 0.2


def line_scenario(threshold: str) -> str:
    """One chamber of five members who care only about x (salience 0 on y), no noise to speak of."""
    blocs = "\n".join(
        f"          - {{name: m{i}, seats: 1, ideal: {{x: {t}, y: 5}}, salience: {{x: 1, y: 0}}}}"
        for i, t in enumerate(IDEALS)
    )
    return f"""
name: line
issues:
  - {{name: x, label: Tariff, unit: "%", range: [0, 1]}}
  - {{name: y, range: [0, 10]}}
deals: [{{name: d, values: {{x: 0.5, y: 5}}}}]
sides:
  - name: s
    reversion: {{x: 0.2, y: 5}}
    chambers:
      - name: house
        shock_scale: 1.0e-6
        blocs:
{blocs}
    votes: [{{name: passage, chamber: house, threshold: {threshold}}}]
"""


@pytest.fixture(scope="module")
def toy_simulation(toy_path: Path):
    return sample_worlds(load_scenario(toy_path), n_worlds=400, n_replicates=8, seed=11)


@pytest.fixture(scope="module")
def toy_map(toy_simulation) -> xr.Dataset:
    return compute_winset(toy_simulation, x="tariff", y="labour", grid=(13, 9), base="low", chunk_size=30)


# Pivot: the member whose vote decides. Majority of 5 needs 3 (the median, 0.45); two-thirds
# needs 4 (the second lowest, 0.3); unanimity needs the lowest (0.1), whose interval (0, 0.2)
# lies where every other member prefers the reversion: an empty win-set.
@pytest.mark.parametrize(
    ("threshold", "pivot"), [("majority", 0.45), ("two_thirds", 0.3), ("unanimity", None)]
)
@pytest.mark.parametrize("method", ["sweep", "engine"])
def test_one_dimensional_winset_is_the_pivots_interval(
    threshold: str, pivot: float | None, method: str
) -> None:
    simulation = sample_worlds(parse_scenario(line_scenario(threshold)), n_worlds=24, n_replicates=4, seed=2)
    winset = compute_winset(
        simulation, x="x", y="y", grid=(100, 4), method=method
    )  # x = k/99: never 0.2 or 0.7
    x = winset["x"].to_numpy()
    q = 0.2
    inside = np.zeros_like(x, dtype=bool) if pivot is None else np.abs(x - pivot) < abs(q - pivot)
    probability = winset["ratification_probability"].sel(side="s").to_numpy()  # (y, x)
    np.testing.assert_array_equal(probability, np.broadcast_to(inside.astype(float), probability.shape))
    np.testing.assert_allclose(winset["winset_size"].to_numpy(), inside.mean())  # same size in every world
    zone = winset["agreement_zone"].to_numpy()
    np.testing.assert_array_equal(zone, np.broadcast_to(inside, zone.shape))


def test_sweep_and_engine_give_identical_maps(toy_simulation, toy_map) -> None:
    # The toy has a linked pair, absences, lobbies, a public, party pull and a referendum.
    engine = compute_winset(toy_simulation, x="tariff", y="labour", grid=(13, 9), base="low", method="engine")
    for name in ("ratification_probability", "agreement_probability", "winset_size", "overlap_size"):
        xr.testing.assert_equal(toy_map[name], engine[name])
    assert float(toy_map["agreement_probability"].std()) > 0.05  # the map is not flat


def test_map_probabilities_are_those_of_evaluate_deals(toy_simulation, toy_map) -> None:
    # Same definitions as the run's results: P, its MCSE and the p_e quantiles, deal by deal.
    xs, ys = toy_map["x"].to_numpy(), toy_map["y"].to_numpy()
    deals = np.stack([np.tile(xs, ys.size), np.repeat(ys, xs.size)], axis=1)
    results = evaluate_deals(toy_simulation, deals, vote_detail=False, keep_conditional=False)
    shape = (ys.size, xs.size)
    for name in ("ratification_probability", "ratification_mcse", "agreement_probability", "agreement_mcse"):
        expected = results[name].to_numpy().reshape(*results[name].shape[:-1], *shape)
        np.testing.assert_allclose(toy_map[name].to_numpy(), expected, rtol=1e-12, atol=1e-15)
    expected = results["agreement_conditional_quantile"].to_numpy().reshape(-1, *shape)
    np.testing.assert_allclose(toy_map["agreement_conditional_quantile"].to_numpy(), expected, atol=1e-15)


def test_mcse_from_chains_agrees_with_independent_draws() -> None:
    per_draw = np.random.default_rng(0).random((400, 3))
    independent = mcse(per_draw, None)
    np.testing.assert_allclose(independent, per_draw.std(axis=0, ddof=1) / 20)
    np.testing.assert_allclose(mcse(per_draw, 2), independent, rtol=0.25)


def test_chunking_does_not_change_the_map(toy_simulation, toy_map) -> None:
    for chunk_size in (1, 5, 13, 10_000):  # part of a row, several rows, everything
        other = compute_winset(
            toy_simulation, x="tariff", y="labour", grid=(13, 9), base="low", chunk_size=chunk_size
        )
        xr.testing.assert_identical(other.drop_attrs(), toy_map.drop_attrs())


def test_sizes_and_probabilities_are_consistent(toy_map) -> None:
    # E[size] = mean over the grid of P(deal ∈ W): both count the same (world, deal) successes.
    np.testing.assert_allclose(
        toy_map["winset_size"].mean("world"), toy_map["ratification_probability"].mean(("x", "y")), rtol=1e-12
    )
    np.testing.assert_allclose(
        toy_map["overlap_size"].mean(), toy_map["agreement_probability"].mean(), rtol=1e-12
    )
    assert (toy_map["overlap_size"] <= toy_map["winset_size"].min("side") + 1e-12).all()
    assert (toy_map["agreement_probability"] <= toy_map["ratification_probability"].min("side") + 1e-12).all()
    assert (toy_map["agreement_zone"] == (toy_map["agreement_probability"] >= 0.5)).all()
    q = toy_map["ratification_conditional_quantile"]
    assert (q.diff("quantile") >= 0).all()
    assert ((toy_map["ratification_mcse"] >= 0) & (toy_map["ratification_mcse"] < 0.1)).all()


def test_grid_axes_and_base_are_in_issue_units(toy_map) -> None:
    np.testing.assert_allclose(toy_map["x"], np.linspace(0, 20, 13))
    np.testing.assert_allclose(toy_map["y"], np.linspace(0, 1, 9))
    assert toy_map.attrs["base_deal"] == "low"
    np.testing.assert_allclose(toy_map["base_value"], [2.0, 0.8])
    assert toy_map.sizes["world"] == 400


def random_worlds(seed: int, n_draws: int = 6, n_replicates: int = 5) -> Worlds:
    """Arbitrary coefficients: concave, convex, linear, near-linear and constant gains; absences."""
    rng = np.random.default_rng(seed)
    n_members, n_features = 23, 6  # K = 2 issues, one linked pair
    coef = rng.normal(size=(n_draws, n_members, n_features))
    coef[:, :4, 0] = 0.0  # linear in u
    coef[:, 4:6, [0, 2, 4]] = 0.0  # constant along a row
    coef[:, 6:9, 0] = np.abs(coef[:, 6:9, 0])  # convex in u
    coef[:, 9:11, 0] = -1e-9  # concave with the vertex far off the grid (the stable root formula)
    shocks = rng.normal(size=(n_draws, n_replicates, n_members)).astype(np.float32)
    shocks[rng.random(shocks.shape) < 0.1] = -np.inf
    chamber = np.repeat([0, 1], [15, 8]).astype(np.int64)
    present = np.stack([np.isfinite(shocks[..., chamber == c]).sum(-1) for c in range(2)], axis=-1)
    return Worlds(
        member_coef=coef,
        member_shock=shocks,
        member_chamber=chamber,
        present=present.astype(np.int64),
        seats=np.array([15, 8]),
        link_pairs=np.array([[0, 1]]),
        referendum_chambers=np.zeros(0, dtype=np.int64),
        referendum_coef=np.zeros((n_draws, 0, n_features)),
        referendum_var=np.zeros((n_draws, 0, 2, 2)),
        referendum_reversion=np.zeros((0, 2)),
        referendum_noise=np.zeros((n_draws, 0)),
        referendum_campaign=np.zeros((n_draws, n_replicates, 0)),
        referendum_turnout_ok=np.zeros((n_draws, 0), dtype=bool),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sweep_counts_match_the_engine_on_arbitrary_quadratics(seed: int) -> None:
    worlds = random_worlds(seed)
    xs, ys = np.linspace(-0.3, 1.2, 31), np.linspace(0.0, 1.0, 7)
    deals = np.stack([np.tile(xs, ys.size), np.repeat(ys, xs.size)], axis=1)
    engine = count_yes(worlds, deal_features(deals, worlds.link_pairs))
    poly = grid_polynomials(worlds.member_coef, np.zeros(2), 0, 1, worlds.link_pairs)
    thresholds = np.ascontiguousarray(np.moveaxis(-worlds.member_shock.astype(np.float64), 1, 2))
    sweep = sweep_counts(poly, thresholds, worlds.member_chamber, 2, xs[0], xs[1] - xs[0], 0, xs.size, ys)
    differ = sweep != engine  # the engine works in float32: allow a rare flip at indifference
    assert np.abs(sweep.astype(int) - engine).max() <= 1
    assert differ.mean() < 1e-3
    rules = [rule(0, "majority"), rule(1, "two_thirds"), rule(1, "majority", polarity_for=False)]
    procedures = [All(VoteRef(0), Not(VoteRef(2))), AtLeast(1, (VoteRef(1), VoteRef(0)))]
    by_engine = list(evaluate_chunks(worlds, deals, rules, procedures, chunk_size=50))
    by_sweep = list(
        sweep_chunks(
            worlds,
            rules,
            procedures,
            base_unit=np.zeros(2),
            x_index=0,
            y_index=1,
            x_unit=xs,
            y_unit=ys,
            chunk_size=50,
        )
    )
    engine_sides = np.concatenate([c.side_ratified for c in by_engine], axis=-1)
    sweep_sides = np.concatenate([c.side_ratified for c in by_sweep], axis=-1)
    assert (engine_sides != sweep_sides).mean() < 1e-3


def test_save_and_load_round_trip(toy_map, tmp_path: Path) -> None:
    path = save_winset(toy_map, tmp_path / "run" / "winset.nc")
    assert [p.name for p in path.parent.iterdir()] == ["winset.nc"]
    loaded = load_winset(path)
    xr.testing.assert_identical(loaded, toy_map)
    assert loaded["agreement_zone"].dtype == bool
    with pytest.raises(RiskmodelError, match="not found"):
        load_winset(tmp_path / "missing.nc")


def test_plots_draw_heat_map_contours_and_markers(toy_map, tmp_path: Path) -> None:
    fig, ax = plot_winset(toy_map)
    assert isinstance(fig, Figure)
    assert ax.get_xlabel() == "Tariff (%)"
    labels = ax.get_legend_handles_labels()[1]
    assert "reversion (home)" in labels and "reversion (away)" in labels
    assert any(text.get_text() == "low" for text in ax.texts)  # named deals are labelled
    fig.savefig(tmp_path / "map.png")
    fig2, ax2 = plot_winset(toy_map, side="away", ax=fig.add_subplot(2, 1, 2))
    assert fig2 is fig and "away" in ax2.get_title()
    fig3, ax3 = plot_winset_size(toy_map)
    assert len(ax3.patches) == 3  # two sides and the overlap
    fig3.savefig(tmp_path / "size.png")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"x": "tarif", "y": "labour"}, "did you mean 'tariff'"),
        ({"x": "tariff", "y": "tariff"}, "two different issues"),
        ({"x": "tariff", "y": "labour", "base": "lo"}, "unknown deal 'lo'"),
        ({"x": "tariff", "y": "labour", "grid": 1}, "at least 2"),
        ({"x": "tariff", "y": "labour", "tau": 0.0}, "tau"),
        ({"x": "tariff", "y": "labour", "x_range": (5.0, 1.0)}, "lower end"),
    ],
)
def test_user_errors_are_named(toy_simulation, options: dict, message: str) -> None:
    with pytest.raises(RiskmodelError, match=message):
        compute_winset(toy_simulation, **options)
