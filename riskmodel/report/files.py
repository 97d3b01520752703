"""A report as built (HTML text, PDF bytes) and as written (paths); the writing of both files.

Kept apart from the builders so that the process that writes a report built elsewhere
(:mod:`riskmodel.report.worker`) loads neither matplotlib nor WeasyPrint to receive it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from riskmodel.collector import collecting_new_objects
from riskmodel.io import write_atomic

__all__ = ["BuiltReport", "ReportFiles", "write_built"]


@dataclass(frozen=True)
class ReportFiles:
    """What :func:`riskmodel.report.build.write_report` wrote, and the warnings the report carries."""

    html: Path | None = None
    pdf: Path | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class BuiltReport:
    """A report built in memory (:func:`riskmodel.report.build.build_report`): HTML text, PDF bytes."""

    html: str
    pdf: bytes | None
    warnings: list[str] = field(default_factory=list)


def write_built(built: BuiltReport, *, html: str | Path | None, pdf: str | Path | None) -> ReportFiles:
    """Write a built report's HTML and PDF files (each atomically); None skips a file."""
    html_path = pdf_path = None
    # the writes' own objects are few: their collections need not walk the report's figures and pages
    with collecting_new_objects():
        if html is not None:
            html_path = write_atomic(html, lambda tmp: tmp.write_text(built.html, encoding="utf-8"))
        if pdf is not None and built.pdf is not None:
            data = built.pdf
            pdf_path = write_atomic(pdf, lambda tmp: tmp.write_bytes(data))
    return ReportFiles(html=html_path, pdf=pdf_path, warnings=list(built.warnings))
