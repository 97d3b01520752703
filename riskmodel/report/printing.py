"""The PDF as two documents laid out apart: the appendix, which needs only the scenario, and the rest.

The appendix (every prior the scenario sets with its basis, the parameters left at the package
defaults, the data provenance) is most of the PDF's pages and of its layout time, and depends on
the scenario alone. It is laid out as a document of its own, so that ``riskmodel run --report``
can lay it out in a child process while the run samples (:mod:`riskmodel.report.worker`); the
pages of both documents are then written as one PDF, in the HTML's order. Its pages are numbered
apart ("appendix, page 2 of 14"): when it is laid out, the page count of the part before it is
not known yet.

Both documents are printed from the one report template (``part="main"`` leaves the appendix
out; ``appendix.html.j2`` holds the appendix alone), so the PDF shows what the HTML shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from riskmodel.collector import collecting_new_objects
from riskmodel.io import write_atomic
from riskmodel.report.files import BuiltReport
from riskmodel.report.render import render_template, weasyprint_modules

__all__ = ["finish_report", "pdf_bytes", "print_appendix", "print_main", "render_pdf"]


def _document(html: str) -> Any:
    weasyprint, url_fetcher = weasyprint_modules()
    return weasyprint.HTML(
        string=html, base_url=None, url_fetcher=url_fetcher(allowed_protocols={"data"})
    ).render()


def print_appendix(context: dict[str, Any]) -> Any:
    """Lay out the appendix as a document of its own (WeasyPrint).

    Parameters
    ----------
    context
        A report context, or :func:`riskmodel.report.assumptions.appendix_context` (only
        ``title`` and ``assumptions`` are read).

    Returns
    -------
    weasyprint.Document
        The laid-out appendix, for :func:`pdf_bytes`.

    Raises
    ------
    RiskmodelError
        When WeasyPrint or its system libraries (Pango) are missing.
    """
    return _document(render_template("appendix.html.j2", context, part="appendix"))


def print_main(context: dict[str, Any]) -> Any:
    """Lay out everything before the appendix (WeasyPrint), from the full report context.

    Raises
    ------
    RiskmodelError
        When WeasyPrint or its system libraries (Pango) are missing.
    """
    return _document(render_template("report.html.j2", context, part="main"))


def pdf_bytes(main: Any, appendix: Any) -> bytes:
    """Write the pages of both laid-out documents as one PDF (the main part's metadata).

    Parameters
    ----------
    main, appendix
        From :func:`print_main` and :func:`print_appendix`, in the same process.

    Returns
    -------
    bytes
        The PDF file's content.
    """
    data: bytes = main.copy([*main.pages, *appendix.pages]).write_pdf()
    return data


def finish_report(
    context: dict[str, Any], page: str, *, pdf: bool = True, appendix: Any = None
) -> BuiltReport:
    """The built report of a context and its rendered page: print the PDF (unless ``pdf`` is False).

    Parameters
    ----------
    context
        From :func:`riskmodel.report.build_report_context` (here or in another process).
    page
        :func:`riskmodel.report.render.render_html` of the same context.
    pdf
        Also print the PDF.
    appendix
        The appendix already laid out (:func:`print_appendix`), or None to lay it out here.
    """
    data = None
    if pdf:
        data = pdf_bytes(print_main(context), appendix if appendix is not None else print_appendix(context))
    return BuiltReport(html=page, pdf=data, warnings=list(context["warnings"]))


def render_pdf(context: dict[str, Any], path: str | Path) -> Path:
    """Print the report context to a PDF file (WeasyPrint, from the report's HTML), atomically.

    Parameters
    ----------
    context
        From :func:`riskmodel.report.build_report_context`.
    path
        The PDF file to write.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    RiskmodelError
        When WeasyPrint or its system libraries (Pango) are missing.
    """
    weasyprint_modules()  # a missing WeasyPrint is reported before anything is laid out
    data = pdf_bytes(print_main(context), print_appendix(context))
    with collecting_new_objects():  # the laid-out pages are not garbage until the write is done
        return write_atomic(path, lambda tmp: tmp.write_bytes(data))
