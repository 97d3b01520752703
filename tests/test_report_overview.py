"""Page 1 at any size: short labels, "no change" cells, levers, and analyses on other worlds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from riskmodel.analyses.stress import save_stress, stress_test
from riskmodel.io import save_results
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.report import build_report_context, render_html
from riskmodel.report.overview import consistency_warnings, levers, no_change_pairs, short_labels
from riskmodel.spec.scenario import load_scenario
from riskmodel.spec.shockcheck import parse_shocks

SHOCKS = """
shocks:
  - {name: no_president, kind: remove_veto, side: home, vote: sign}
  - {name: sours, kind: shift_approval, side: home, by: -0.2}
"""


@pytest.fixture(scope="module")
def fallback_scenario(toy_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """toy.yaml with a third deal equal to the home side's fallback (reversion)."""
    spec = yaml.safe_load(toy_path.read_text())
    spec["deals"].append({"name": "status_quo", "values": dict(spec["sides"][0]["reversion"])})
    path = tmp_path_factory.mktemp("fallback") / "fallback.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def run_folder(fallback_scenario: Path) -> Path:
    loaded = load_scenario(fallback_scenario)
    simulation = sample_worlds(loaded, n_worlds=200, n_replicates=10, seed=4)
    results = evaluate_deals(simulation)
    results.attrs["scenario_file"] = str(fallback_scenario)
    save_results(results, fallback_scenario.parent / "results.nc")
    shocks = parse_shocks(SHOCKS, loaded)
    save_stress(stress_test(simulation, shocks), fallback_scenario.parent / "stress.nc")
    return fallback_scenario.parent


def test_short_labels_are_unique_and_keep_short_ones() -> None:
    labels = {"us": "United States Congress", "mx": "Mexico", "longname_side": "A very long label indeed"}
    found = short_labels(["us", "mx", "longname_side"], labels)
    assert [s["short"] for s in found] == ["us", "Mexico", "longname_…"]
    assert [s["abbreviated"] for s in found] == [True, False, True]
    clash = short_labels(["abcdefghijkl1", "abcdefghijkl2"], {})
    assert len({s["short"] for s in clash}) == 2


def test_a_deal_equal_to_the_fallback_is_no_change(run_folder: Path) -> None:
    from riskmodel.io import load_results

    results = load_results(run_folder / "results.nc")
    assert no_change_pairs(results, load_scenario(run_folder / "fallback.yaml")) == [
        ("status_quo", "home"),
        ("status_quo", "away"),
    ]  # both fall back to (10, 0.5)
    # what the report used to show: a coin flip of indifferent voters
    assert 0.2 < float(results["ratification_probability"].sel(deal="status_quo", side="home")) < 0.8
    context = build_report_context(run_folder / "results.nc")
    deal = next(d for d in context["summary"] if d["name"] == "status_quo")
    home = next(r for r in deal["rows"] if r["side"] == "home")
    assert home["no_change"]
    assert deal["weakest"] is None or deal["weakest"]["side"] != "home"
    html = render_html(context)
    assert "no change: the deal is this side" in html


def test_levers_box_lists_the_largest_stress_change(run_folder: Path) -> None:
    found = levers(run_folder, {})
    assert 1 <= len(found) <= 3
    sizes = [abs(lever["change"]) for lever in found]
    assert sizes == sorted(sizes, reverse=True)
    html = render_html(build_report_context(run_folder / "results.nc"))
    assert "What would change this" in html


def test_analysis_on_other_worlds_gets_a_banner(run_folder: Path, tmp_path: Path) -> None:
    from riskmodel.io import load_results

    results = load_results(run_folder / "results.nc")
    assert consistency_warnings(results, run_folder) == []  # the stress sweep ran on the same worlds
    other = results.copy()
    other.attrs.update(n_worlds=4000, seed=99)
    lines = consistency_warnings(other, run_folder)
    assert len(lines) == 1 and lines[0].startswith("stress.nc was computed on other worlds")
    assert "worlds 200 (results: 4000)" in lines[0] and "seed" in lines[0]


def test_report_tolerates_a_side_not_party_to_a_deal(run_folder: Path, tmp_path: Path) -> None:
    from riskmodel.io import load_results

    results = load_results(run_folder / "results.nc")
    for name in ("ratification_probability", "ratification_mcse", "ratification_conditional_quantile"):
        results[name].loc[{"deal": "low", "side": "away"}] = np.nan
    context = build_report_context(results, scenario=run_folder / "fallback.yaml", analyses_dir=tmp_path)
    html = render_html(context)
    assert "not party to this deal" in html
    deal = next(d for d in context["summary"] if d["name"] == "low")
    assert deal["weakest"] is None or deal["weakest"]["side"] != "away"


def _fake_winset(deals: dict[str, tuple[float, float, float]]) -> Any:
    """A win-set map over issues a × b with a third issue c, and the named deals given."""
    import xarray as xr

    grid = np.linspace(0, 1, 11)
    names = list(deals)
    return xr.Dataset(
        {
            "agreement_probability": (("x", "y"), np.add.outer(grid, grid) / 2),
            "ratification_probability": (("side", "x", "y"), np.add.outer(grid, grid)[None] / 2),
            "named_deal_value": (("named_deal", "issue"), np.array([deals[n] for n in names])),
            "reversion": (("side", "issue"), np.array([[0.5, 0.5, 0.5]])),
        },
        coords={"x": grid, "y": grid, "side": ["home"], "issue": ["a", "b", "c"], "named_deal": names},
        attrs={"x_issue": "a", "y_issue": "b", "base_deal": names[0]},
    )


def test_winset_map_marks_only_deals_on_its_plane_and_labels_do_not_overlap() -> None:
    from riskmodel.plots.winset import deals_on_map, plot_winset
    from riskmodel.report.analysis_tables import winset_deals_table

    deals = {
        f"deal_{k}": (0.5 + 0.01 * k, 0.5, 0.2) for k in range(6)
    }  # six dots almost on top of each other
    deals["elsewhere"] = (0.3, 0.3, 0.9)  # other issue differs from the base deal
    winset = _fake_winset(deals)
    on_map, elsewhere = deals_on_map(winset)
    assert on_map == [f"deal_{k}" for k in range(6)]
    assert elsewhere == ["elsewhere (c = 0.9)"]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig, ax = plot_winset(winset)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text().startswith("deal_")]
    assert len(boxes) == 6
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (a, b)
    assert any("Not on this map" in t.get_text() and "elsewhere" in t.get_text() for t in ax.texts)
    table = winset_deals_table(winset)
    assert table.set_index("deal").loc["elsewhere", "on the map"] == "no"
