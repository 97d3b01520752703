"""Risk reports in HTML and PDF, built from saved results without re-simulating.

One report context (:func:`build_report_context`) feeds every renderer
(:func:`render_html`, :func:`render_pdf`); :func:`write_report` does both for a results file.

Examples
--------
>>> from riskmodel.report import write_report
>>> written = write_report("reports/usmca_2019/results.nc")  # doctest: +SKIP
>>> written.html, written.pdf  # doctest: +SKIP
(PosixPath('reports/usmca_2019/report.html'), PosixPath('reports/usmca_2019/report.pdf'))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import xarray as xr

from riskmodel.collector import collecting_new_objects
from riskmodel.io import write_atomic
from riskmodel.report.context import build_report_context
from riskmodel.report.figures import FigureFormat
from riskmodel.report.rating import RATING_BANDS, RatingBand, risk_rating
from riskmodel.report.render import print_pdf, render_html, render_pdf
from riskmodel.spec.scenario import LoadedScenario

__all__ = [
    "RATING_BANDS",
    "RatingBand",
    "ReportFiles",
    "build_report_context",
    "render_html",
    "render_pdf",
    "risk_rating",
    "write_report",
]


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`write_report` wrote, and the warnings the report carries."""

    html: Path | None = None
    pdf: Path | None = None
    warnings: list[str] = field(default_factory=list)


def write_report(
    results: str | Path | xr.Dataset,
    *,
    html: str | Path | None = None,
    pdf: str | Path | None = None,
    scenario: str | Path | LoadedScenario | None = None,
    analyses_dir: str | Path | None = None,
    figure_format: FigureFormat = "png",
) -> ReportFiles:
    """Write the HTML and/or PDF report of saved results, from one context.

    Parameters
    ----------
    results
        A results file (``results.nc``), or a results Dataset (then give ``html``/``pdf``).
    html, pdf
        Files to write. When neither is given, both are written beside the results file as
        ``report.html`` and ``report.pdf``.
    scenario, analyses_dir, figure_format
        As for :func:`build_report_context`.

    Returns
    -------
    ReportFiles
        Paths written and the report's warnings (e.g. a scenario changed since the run).
    """
    if html is None and pdf is None:
        if isinstance(results, xr.Dataset):
            raise ValueError("give html= or pdf= when reporting a Dataset rather than a results file")
        folder = Path(results).parent
        html, pdf = folder / "report.html", folder / "report.pdf"
    context = build_report_context(
        results, scenario=scenario, analyses_dir=analyses_dir, figure_format=figure_format
    )
    html_path = pdf_path = None
    page = render_html(context)  # one page for both files: the PDF is printed from the same HTML
    if html is not None:
        with collecting_new_objects():  # the write's collection need not walk the report's figures
            html_path = write_atomic(html, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    if pdf is not None:
        pdf_path = print_pdf(page, pdf)
    return ReportFiles(html=html_path, pdf=pdf_path, warnings=list(context["warnings"]))
