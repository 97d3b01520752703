"""HTML and PDF risk reports: one context from saved results, hostile names, optional sections."""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from matplotlib.figure import Figure
from typer.testing import CliRunner

from riskmodel.cli.app import app
from riskmodel.io import save_results
from riskmodel.pipeline import run_scenario
from riskmodel.plots.votes import CARRIES_COLOR, FALLS_SHORT_COLOR, plot_risk_summary, plot_vote_distribution
from riskmodel.report import RATING_BANDS, build_report_context, render_html, risk_rating, sections
from riskmodel.report.context import report_scenario
from riskmodel.report.sections import AnalysisSpec, SectionFigure, analysis_section
from riskmodel.spec.scenario import load_scenario

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{7*7}}", "\u202eevil"]
RLO_SHOWN = "[U+202E]evil"


def hostile_scenario(toy_path: Path, folder: Path) -> Path:
    """toy.yaml with every free-text field (title, labels, descriptions, sources) made hostile."""
    spec = yaml.safe_load(toy_path.read_text())
    joined = " ".join(HOSTILE)
    spec["title"] = joined
    spec["description"] = joined
    spec["sources"] = {"evil": joined}
    spec["issues"][0]["label"] = HOSTILE[2]
    spec["issues"][0]["unit"] = HOSTILE[3]
    spec["deals"][0].update(label=HOSTILE[0], description=joined, source=joined)
    spec["deals"][1]["label"] = HOSTILE[1]
    home = spec["sides"][0]
    home["label"] = HOSTILE[3]
    home["chambers"][0]["label"] = HOSTILE[1]
    home["chambers"][0]["blocs"][0]["label"] = HOSTILE[0]
    home["chambers"][0]["absence"]["source"] = joined
    home["votes"][0]["label"] = HOSTILE[0]
    path = folder / "hostile.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run_to_folder(scenario: Path, folder: Path, **options) -> Path:
    results = run_scenario(load_scenario(scenario), **options)
    results.attrs["scenario_file"] = str(scenario)
    return save_results(results, folder / "results.nc")


@pytest.fixture(scope="module")
def hostile_run(toy_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Results (results.nc) of the hostile toy scenario: 400 worlds."""
    folder = tmp_path_factory.mktemp("hostile")
    return run_to_folder(hostile_scenario(toy_path, folder), folder, n_worlds=400, n_replicates=10, seed=3)


@pytest.fixture(scope="module")
def hostile_context(hostile_run: Path) -> dict:
    return build_report_context(hostile_run)


class _Page(HTMLParser):
    """Every tag with its attributes, and the text a reader sees."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_rating_bands_are_explicit_and_contiguous() -> None:
    assert [b.lower for b in RATING_BANDS] == [0.9, 0.7, 0.4, 0.1, 0.0]
    expected = {
        1.0: "very likely", 0.9: "very likely", 0.8999: "likely", 0.7: "likely", 0.6999: "uncertain",
        0.4: "uncertain", 0.3999: "unlikely", 0.1: "unlikely", 0.0999: "very unlikely", 0.0: "very unlikely",
    }  # fmt: skip
    assert {p: risk_rating(p)["label"] for p in expected} == expected
    assert risk_rating(0.95)["risk"] == "low" and risk_rating(0.05)["risk"] == "extreme"
    assert risk_rating(0.905, 0.003)["borderline"] and not risk_rating(0.95, 0.003)["borderline"]


def test_context_numbers_come_from_the_saved_results(hostile_run: Path, hostile_context: dict) -> None:
    results = xr.open_dataset(hostile_run, engine="h5netcdf").load()
    summary = {deal["name"]: deal for deal in hostile_context["summary"]}
    assert list(summary) == ["low", "high"]
    for deal, entry in summary.items():
        sides = {row["side"]: row for row in entry["rows"]}
        for side in ("home", "away"):
            expected = float(results["ratification_probability"].sel(side=side, deal=deal))
            assert sides[side]["probability"] == expected
        assert entry["joint"]["probability"] == float(results["agreement_probability"].sel(deal=deal))
        assert entry["joint"]["rating"] == risk_rating(entry["joint"]["probability"], entry["joint"]["mcse"])
    votes = {vote["name"]: vote for vote in hostile_context["votes"]}
    assert votes["home.passage"]["needed"] == 5  # majority of 9 seats
    assert votes["home.sign"]["needed"] == 1
    assert votes["away.referendum"]["kind"] == "share" and votes["away.referendum"]["needed"] == 0.5
    assert all(vote["figure"].startswith("data:image/png;base64,") for vote in votes.values())
    p_pass = votes["home.passage"]["deals"][0]["p_pass"]
    assert p_pass == float(results["vote_probability"].sel(vote="home.passage", deal="low"))
    diagnostics = hostile_context["diagnostics"]
    assert diagnostics["independent"] and diagnostics["verdict"] == "not applicable"
    assert diagnostics["ess"] == results.attrs["n_draws"] == 40
    assert diagnostics["mcse_max"] == float(results["ratification_mcse"].max())
    assert hostile_context["reproduce"]["seed"] == 3
    assert "--worlds 400 --replicates 10 --seed 3" in hostile_context["reproduce"]["command"]
    assert {v["name"] for v in hostile_context["reproduce"]["versions"]} >= {"numpy", "pymc", "riskmodel"}
    assert hostile_context["warnings"] == []


def test_every_prior_is_listed_with_its_basis(hostile_context: dict) -> None:
    priors = hostile_context["assumptions"]["priors"]
    assert len(priors) == 29  # the priors toy.yaml sets, counted by hand
    by_key = {(p["entity"], p["parameter"]): p for p in priors}
    left = by_key[("home / house / left", "salience")]
    assert left["prior"] == "Dirichlet(tariff=2, labour=2)" and left["basis"] == "judgement"
    shock = by_key[("home / house", "shock scale")]
    assert shock["prior"] == "90% between 0.05 and 0.2 (gamma, max. entropy)"
    assert by_key[("home / house", "absence")]["basis"] == "source"
    assert by_key[("home / house", "absence")]["prior"] == "Beta(α=1, β=20)"
    assert (
        by_key[("home / house / right", "ideal: tariff")]["prior"]
        == "TruncatedNormal(μ=8, σ=3, lower=0, upper=20)"
    )
    assert by_key[("link tariff × labour", "interaction")]["prior"] == "Uniform(lower=-0.3, upper=0.3)"
    assert ("away / voters", "turnout") in by_key and ("away / voters", "absence") not in by_key
    defaults = {(p["entity"], p["parameter"]) for p in hostile_context["assumptions"]["defaults"]}
    assert ("home / president", "shock scale") in defaults and (
        "home / house / right",
        "salience",
    ) in defaults
    provenance = hostile_context["assumptions"]["provenance"]
    assert [s["key"] for s in provenance["sources"]] == ["evil"]


def test_hostile_names_are_inert_text_in_html(hostile_context: dict) -> None:
    html = render_html(hostile_context)
    page = _Page(html)
    tags = [tag for tag, _ in page.tags]
    assert "script" not in tags and "iframe" not in tags and "object" not in tags
    for tag, attrs in page.tags:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        if tag == "img":
            assert attrs["src"].startswith("data:image/png;base64,")
        if tag == "a":
            assert attrs["href"].startswith("#")
        if tag == "link":
            pytest.fail(f"external resource link: {attrs}")
    text = "".join(page.text)
    for hostile in HOSTILE[:3]:
        assert hostile in text
    assert "\u202e" not in html and RLO_SHOWN in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    csp = next(attrs for tag, attrs in page.tags if attrs.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp["content"]


def test_sections_not_run_say_so_in_one_line(hostile_context: dict) -> None:
    keys = [a["key"] for a in hostile_context["analyses"]]
    assert keys == ["winset", "sensitivity", "stress", "linkage", "side_payments"]
    html = render_html(hostile_context)
    for analysis in hostile_context["analyses"]:
        assert analysis["status"] == "not_run" and analysis["figures"] == [] and analysis["tables"] == []
        assert analysis["note"].startswith("Not run:") and "\n" not in analysis["note"]
        assert f'<section id="{analysis["key"]}">' in html


def test_an_analysis_file_beside_the_results_is_embedded(
    hostile_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = []

    def plot_winset(winset, *, ax=None):
        drawn.append(float(winset["size"].sum()))
        fig = Figure()
        ax = fig.add_subplot()
        ax.plot(winset["size"])
        return fig, ax

    def plot_winset_size(winset, *, ax=None):
        raise ValueError("cannot draw this")

    registered = sections.ANALYSES[0]
    assert registered.key == "winset"
    fake = dataclasses.replace(
        registered,
        figures=(SectionFigure(plot_winset, "map"), SectionFigure(plot_winset_size, "sizes")),
    )
    monkeypatch.setattr(sections, "ANALYSES", (fake, *sections.ANALYSES[1:]))
    xr.Dataset({"size": ("world", np.array([0.25, 0.5]))}).to_netcdf(
        tmp_path / "winset.nc", engine="h5netcdf"
    )
    context = build_report_context(hostile_run, analyses_dir=tmp_path)
    winset = context["analyses"][0]
    assert winset["status"] == "ok" and drawn == [0.75]
    assert [f["uri"][:22] for f in winset["figures"]] == ["data:image/png;base64,"]
    assert winset["problems"][0] == (
        f"{__name__}.test_an_analysis_file_beside_the_results_is_embedded.<locals>.plot_winset_size failed: "
        "ValueError: cannot draw this"
    )
    # the registered table does not fit this file: a visible warning, not a missing section
    assert winset["problems"][1].startswith(
        "riskmodel.report.analysis_tables.winset_report_table failed: KeyError"
    )
    assert all(a["status"] == "not_run" for a in context["analyses"][1:])
    assert "cannot draw this" in render_html(context)


def test_analysis_without_report_functions_lists_its_data(tmp_path: Path) -> None:
    spec = AnalysisSpec(key="x", title="X", file="x.nc", command="riskmodel x")
    data = xr.Dataset(
        {"p": ("deal", [0.25, 0.75]), "big": ("world", np.zeros(1000))}, coords={"deal": ["a", "b"]}
    )
    data.to_netcdf(tmp_path / "x.nc", engine="h5netcdf")
    section = analysis_section(spec, tmp_path)
    assert section["status"] == "ok" and section["figures"] == []
    assert [t["caption"] for t in section["tables"]] == ["p"]  # 1000-cell variables are left out
    assert section["tables"][0]["rows"] == [["a", "0.25"], ["b", "0.75"]]
    (tmp_path / "x.nc").write_bytes(b"not netcdf")
    assert analysis_section(spec, tmp_path)["status"] == "unreadable"


def test_changed_or_missing_scenario_is_reported(hostile_run: Path, tmp_path: Path) -> None:
    results = xr.open_dataset(hostile_run, engine="h5netcdf").load()
    changed = tmp_path / "changed.yaml"
    changed.write_text(Path(hostile_run.parent / "hostile.yaml").read_text().replace("toy", "toy2", 1))
    loaded, warnings = report_scenario(results, changed, None)
    assert loaded is not None and loaded.spec.name == "toy2"
    assert len(warnings) == 1 and "has changed" in warnings[0]
    assert report_scenario(results, None, None)[1] == []  # the file the results name, unchanged
    results.attrs["scenario_file"] = str(tmp_path / "gone.yaml")
    context = build_report_context(results)
    assert "was not found" in context["warnings"][0] and not context["assumptions"]["available"]
    html = render_html(context)
    assert "gone.yaml" in html and "priors and sources are not listed" in html


def test_plots_return_fig_and_ax_and_draw_on_a_given_ax(hostile_run: Path) -> None:
    results = xr.open_dataset(hostile_run, engine="h5netcdf").load()
    fig, ax = plot_risk_summary(results)
    assert isinstance(fig, Figure) and ax.figure is fig
    given = Figure().add_subplot()
    fig, ax = plot_vote_distribution(results, "home.passage", "low", ax=given, needed=5)
    assert ax is given
    steps = ax.patches
    assert [p.get_facecolor()[:3] for p in steps] == [
        tuple(int(c[i : i + 2], 16) / 255 for i in (1, 3, 5)) for c in (FALLS_SHORT_COLOR, CARRIES_COLOR)
    ]
    heights = np.concatenate([p.get_data().values for p in steps])
    assert heights.sum() == pytest.approx(1.0)  # every world is drawn, split at the needed count
    assert [line.get_xdata()[0] for line in ax.lines] == [4.5]
    _, ax = plot_vote_distribution(results, "away.referendum", "low", needed=0.5)
    assert ax.get_xlim() == (0, 1)


def test_cli_writes_the_html_and_fails_cleanly(hostile_run: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "r.html"
    result = runner.invoke(app, ["report", str(hostile_run.parent), "--html", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert not (tmp_path / "r.pdf").exists() and not (hostile_run.parent / "report.pdf").exists()
    result = runner.invoke(app, ["report", str(tmp_path / "missing.nc")])
    assert result.exit_code == 2
    assert "results file not found" in result.output and "Traceback" not in result.output


@pytest.fixture(scope="module")
def every_analysis(toy_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A results folder where the toy scenario's run and every analysis wrote their files."""
    from test_stress import SHOCKS  # the toy scenario's shocks file

    out = tmp_path_factory.mktemp("every_analysis")
    shocks = out / "shocks.yaml"
    shocks.write_text(SHOCKS)
    small = ["--worlds", "60", "--replicates", "3", "--seed", "7", "--out", str(out)]
    commands = [
        ["run", str(toy_path), *small],
        ["winset", str(toy_path), "--x", "tariff", "--y", "labour", "--grid", "5", "--no-plots", *small],
        ["sensitivity", str(toy_path), "--deal", "low", *small],
        ["stress", str(toy_path), "--shocks", str(shocks), "--serial", *small],
        ["linkage", str(toy_path), "--grid", "3", "--rounds", "2", *small],
        ["sidepay", str(toy_path), "--deal", "low", "--budget", "0", "--budget", "0.2", *small],
    ]
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(app, command, env={"COLUMNS": "200"})
        assert result.exit_code == 0, f"{command[0]}: {result.output}"
    return out / "results.nc"


def test_every_registered_figure_and_table_appears_in_the_report(every_analysis: Path) -> None:
    context = build_report_context(every_analysis)
    by_key = {section["key"]: section for section in context["analyses"]}
    assert list(by_key) == [spec.key for spec in sections.ANALYSES]
    html = render_html(context)
    page = "".join(_Page(html).text)
    for spec in sections.ANALYSES:
        section = by_key[spec.key]
        assert section["status"] == "ok", (spec.key, section["note"])
        assert section["problems"] == [], (spec.key, section["problems"])
        assert [f["caption"] for f in section["figures"]] == [f.caption for f in spec.figures]
        assert [t["caption"] for t in section["tables"]] == [t.caption for t in spec.tables]
        for item in (*spec.figures, *spec.tables):
            assert item.caption in page, (spec.key, item.caption)
    winset = by_key["winset"]["tables"][0]
    assert winset["columns"][:3] == ["win-set", "P ≥ 50%", "P ≥ 90%"]
    assert [row[0] for row in winset["rows"]] == ["home", "away", "overlap (joint)"]
