"""A report that holds up at scale: ten sides with long labels, twenty deals, analyses beside it.

Renders a synthetic scenario to HTML and PDF with small worlds and checks what a reader would:
every side, deal and table's last column is in the PDF's text (nothing cut at the page edge),
the pages' right margins are blank, page 1 carries the deal × side heat map, and no HTML cell
overflows in Chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import yaml
from cdp import chromium, chromium_executable, record_page
from PIL import Image

from riskmodel.analyses.sensitivity import analyse_sensitivity, save_sensitivity
from riskmodel.analyses.stress import save_stress, stress_test
from riskmodel.io import save_results
from riskmodel.pipeline import evaluate_deals, sample_worlds
from riskmodel.report import write_report
from riskmodel.results.datatree import results_tree
from riskmodel.spec.scenario import load_scenario
from riskmodel.spec.shockcheck import parse_shocks

pytestmark = pytest.mark.slow

N_SIDES, N_DEALS = 10, 20
NOT_PARTY = ("deal-03", "side-02")  # a (deal, side) pair left NaN, as for a side not party to it
FALLBACK = ("deal-05", "side-04")  # the deal equals this side's fallback: "no change"


def side_label(i: int) -> str:
    return f"Federal Legislative Assembly of Side Number {i:02d}"


def deal_label(n: int) -> str:
    return f"Package {n:02d}: tariff and labour terms"


def _deal_values(n: int) -> dict[str, float]:
    return {"tariff": round(1.3 + 0.8 * n, 1), "labour": round(0.6 + 0.01 * n, 2)}


def write_scenario(folder: Path) -> Path:
    """Ten sides of one 7-seat chamber each (two blocs), twenty deals over two issues.

    Low-tariff deals are likely everywhere and high-tariff ones unlikely, so the joint
    probability spans the range; side-04's fallback is deal-05 (a "no change" cell).
    """
    sides = []
    for i in range(1, N_SIDES + 1):
        reversion = {"tariff": 10.0, "labour": 0.5}
        if f"side-{i:02d}" == FALLBACK[1]:
            reversion = _deal_values(int(FALLBACK[0].split("-")[1]))
        sides.append(
            {
                "name": f"side-{i:02d}",
                "label": side_label(i),
                "reversion": reversion,
                "chambers": [
                    {
                        "name": "assembly",
                        "label": f"Assembly {i:02d}",
                        "seats": 7,
                        "shock_scale": 0.05,
                        "blocs": [
                            {
                                "name": "reformers",
                                "seats": 5,
                                "ideal": {
                                    "tariff": {"dist": "normal", "mu": 2 + 0.2 * i, "sigma": 1},
                                    "labour": 0.7,
                                },
                            },
                            {
                                "name": "guardians",
                                "seats": 2,
                                "ideal": {"tariff": {"dist": "normal", "mu": 12, "sigma": 2}, "labour": 0.3},
                            },
                        ],
                    }
                ],
                "votes": [
                    {"name": "passage", "label": f"Passage in assembly {i:02d}", "chamber": "assembly"}
                ],
            }
        )
    spec = {
        "name": "scale",
        "title": "Ten sides and twenty deals",
        "issues": [
            {"name": "tariff", "label": "Tariff", "unit": "%", "range": [0, 20]},
            {"name": "labour", "label": "Labour enforcement", "unit": "index", "range": [0, 1]},
        ],
        "deals": [
            {"name": f"deal-{n:02d}", "label": deal_label(n), "values": _deal_values(n)}
            for n in range(1, N_DEALS + 1)
        ],
        "sides": sides,
    }
    path = folder / "scale.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


SHOCKS = """
shocks:
  - {name: reformers_lose_heart, kind: shift_bloc, side: side-01, bloc: reformers, issue: tariff, by: 6}
  - {name: guardians_soften, kind: shift_bloc, side: side-01, bloc: guardians, issue: tariff, by: -6}
  - {name: side_three_supermajority, kind: set_threshold, side: side-03, vote: passage, threshold: two_thirds}
"""


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("scale")
    path = write_scenario(folder)
    loaded = load_scenario(path)
    simulation = sample_worlds(loaded, n_worlds=200, n_replicates=10, seed=11)
    results = evaluate_deals(simulation)
    deal, side = NOT_PARTY
    for name in ("ratification_probability", "ratification_mcse", "ratification_conditional_quantile"):
        results[name].loc[{"deal": deal, "side": side}] = np.nan
    results.attrs["scenario_file"] = str(path)
    save_results(results_tree(results, simulation.draws), folder / "results.nc")
    save_stress(
        stress_test(simulation, parse_shocks(SHOCKS, loaded), deals=["deal-01", "deal-10"]),
        folder / "stress.nc",
    )
    save_sensitivity(
        analyse_sensitivity(simulation, deals=["deal-01"], n_bootstrap=10), folder / "sensitivity.nc"
    )
    written = write_report(folder / "results.nc")
    return {"folder": folder, "written": written, "html": written.html.read_text(encoding="utf-8")}


def _require(tool: str | None, what: str) -> str:
    if tool:
        return tool
    message = f"{what} is not installed: run scripts/install-system-deps.sh test"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _run(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _squash(text: str) -> str:
    """Text without whitespace or soft hyphens: a label wrapped over lines still matches."""
    return re.sub(r"[\s\u00ad]+", "", text)


class _Tables(HTMLParser):
    """Every table's header row and rows as lists of cell texts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables and self.tables[-1]:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_every_side_deal_and_last_column_is_in_the_pdf_text(reports: dict) -> None:
    _require(shutil.which("pdftotext"), "poppler-utils")
    pdf = str(reports["written"].pdf)
    text = _squash(_run("pdftotext", pdf, "-"))
    for i in range(1, N_SIDES + 1):
        assert _squash(side_label(i)) in text, side_label(i)
    for n in range(1, N_DEALS + 1):
        assert _squash(deal_label(n)) in text, deal_label(n)
    tables = [t for t in _Tables(reports["html"]).tables if t and any(t)]
    assert len(tables) >= 10
    checked = 0
    for table in tables:
        for row in table:
            if row and row[-1] and len(row) > 1:
                assert _squash(row[-1]) in text, (row[-1], row)
                checked += 1
    assert checked > 200
    info = _run("pdfinfo", pdf)
    assert "595.276 x 841.89 pts (A4)" in info or "595.28 x 841.89" in info


def test_page_one_has_the_heat_map_and_the_levers(reports: dict) -> None:
    _require(shutil.which("pdftotext"), "poppler-utils")
    pdf = str(reports["written"].pdf)
    first = _squash(_run("pdftotext", "-f", "1", "-l", "1", pdf, "-"))
    assert _squash("P(ratify) of every deal") in first  # the heat map's caption
    assert _squash("What would change this") in first
    assert _squash("reformers_lose_heart") in first  # the largest lever: it knocks out side-01
    listed = [line.split() for line in _run("pdfimages", "-list", "-f", "1", "-l", "1", pdf).splitlines()[2:]]
    assert any(row[2] == "image" for row in listed)
    html = reports["html"]
    assert html.index('id="assumptions"') > html.index('id="reproduce"')  # priors in the appendix
    assert "Appendix: assumptions and data" in html
    assert "no change" in html and "n/p" in html


def test_page_images_have_a_blank_right_margin(reports: dict, tmp_path: Path) -> None:
    _require(shutil.which("pdftoppm"), "poppler-utils")
    pdf = str(reports["written"].pdf)
    _run("pdftoppm", "-r", "40", "-png", pdf, str(tmp_path / "page"))
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 5
    for page in pages:
        grey = np.asarray(Image.open(page).convert("L"))
        margin = grey[
            :, -int(grey.shape[1] * 0.05) :
        ]  # the right 10.5 mm of 210 mm; the page margin is 13 mm
        assert margin.min() > 240, f"{page.name}: something is printed in the right margin"


OVERFLOW_PROBE = """JSON.stringify({
  pageWidth: document.documentElement.scrollWidth,
  viewport: window.innerWidth,
  cells: Array.from(document.querySelectorAll('td, th, caption')).filter(
    c => c.scrollWidth > c.clientWidth + 1).map(c => c.innerText.slice(0, 60)),
  spilled: Array.from(document.querySelectorAll('td .rating, th .rating')).filter(b => {
    const cell = b.closest('td, th').getBoundingClientRect(), box = b.getBoundingClientRect();
    return box.right > cell.right + 0.5 || box.left < cell.left - 0.5;
  }).map(b => b.innerText),
  figures: Array.from(document.querySelectorAll('figure img')).filter(
    i => i.getBoundingClientRect().right > document.body.getBoundingClientRect().right + 0.5).length,
})"""


@pytest.mark.parametrize("width", [1200, 900])
def test_no_html_cell_overflows_in_chromium(reports: dict, tmp_path: Path, width: int) -> None:
    _require(chromium_executable(), "chromium")
    with chromium(tmp_path / "profile") as browser:
        page = record_page(browser, reports["written"].html, width=width, height=1200, probe=OVERFLOW_PROBE)
    found = page.dom
    assert found["cells"] == [], found["cells"][:10]
    assert found["spilled"] == []
    assert found["figures"] == 0
    assert found["pageWidth"] <= found["viewport"]
