"""Build the report in memory (:func:`build_report`) and write it (:func:`write_report`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xarray as xr

from riskmodel.report.context import build_report_context
from riskmodel.report.figures import FigureFormat
from riskmodel.report.files import BuiltReport, ReportFiles, write_built
from riskmodel.report.printing import finish_report
from riskmodel.report.render import render_html, weasyprint_modules
from riskmodel.spec.scenario import LoadedScenario

__all__ = ["build_report", "write_report"]


def build_report(
    results: str | Path | xr.Dataset,
    *,
    scenario: str | Path | LoadedScenario | None = None,
    analyses_dir: str | Path | None = None,
    figure_format: FigureFormat = "png",
    results_file: str | Path | None = None,
    pdf: bool = True,
    appendix: Any = None,
    vote_figures: Mapping[str, str] | None = None,
) -> BuiltReport:
    """Build the HTML page and (optionally) the PDF of results, from one context, writing nothing.

    Parameters
    ----------
    results, scenario, analyses_dir, figure_format, results_file, vote_figures
        As for :func:`build_report_context`.
    pdf
        Also print the PDF.
    appendix
        The appendix already laid out (:func:`riskmodel.report.printing.print_appendix` of the
        same scenario), or None to lay it out here.

    Returns
    -------
    BuiltReport
        The page, the PDF's bytes (None without ``pdf``) and the report's warnings.
    """
    if pdf:
        weasyprint_modules()  # a missing WeasyPrint is reported before the figures are drawn
    context = build_report_context(
        results,
        scenario=scenario,
        analyses_dir=analyses_dir,
        figure_format=figure_format,
        results_file=results_file,
        vote_figures=vote_figures,
    )
    return finish_report(context, render_html(context), pdf=pdf, appendix=appendix)


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
    built = build_report(
        results,
        scenario=scenario,
        analyses_dir=analyses_dir,
        figure_format=figure_format,
        pdf=pdf is not None,
    )
    return write_built(built, html=html, pdf=pdf)
