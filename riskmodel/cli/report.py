"""``riskmodel report RESULTS``: the HTML and PDF risk report of saved results."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from riskmodel.cli.common import console, errors, fail
from riskmodel.cli.options import status
from riskmodel.collector import fewer_full_collections
from riskmodel.errors import RiskmodelError

__all__ = ["register"]


@fewer_full_collections()  # matplotlib's and WeasyPrint's imports need no repeated full walks
def report(
    results: Annotated[
        Path, typer.Argument(help="Results file (results.nc) or the folder holding it.", show_default=False)
    ],
    html: Annotated[Path | None, typer.Option("--html", help="Write the HTML report to this file.")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Write the PDF report to this file.")] = None,
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", help="Scenario file (default: the one the results name)."),
    ] = None,
) -> None:
    """Write the risk report of saved results (no re-simulation).

    Without --html or --pdf, both are written beside the results as report.html and report.pdf.
    """
    from riskmodel.report import write_report

    path = results / "results.nc" if results.is_dir() else results
    started = time.perf_counter()
    try:
        with status("Writing the report (figures, HTML, PDF)"):
            written = write_report(path, html=html, pdf=pdf, scenario=scenario)
    except RiskmodelError as exc:
        raise fail(exc) from None
    for warning in written.warnings:
        errors.print(Text.assemble(("warning: ", "yellow"), warning), highlight=False, soft_wrap=True)
    files = [str(p) for p in (written.html, written.pdf) if p is not None]
    elapsed = time.perf_counter() - started
    console.print(Text(f"Wrote {' and '.join(files)} in {elapsed:.1f} s."), highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add ``riskmodel report`` to the CLI."""
    app.command(name="report")(report)
