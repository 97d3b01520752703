"""Renderers of the report context: one HTML template, printed to PDF by WeasyPrint.

Text from scenario files is treated as hostile. The template environment escapes every
value (autoescape) and, through ``finalize``, turns bidirectional-override characters into
visible ``[U+202E]`` marks, so a label can neither inject markup nor reorder the text around
it. The HTML loads nothing (figures are data URIs, CSS is inline, no JavaScript) and says so
with a Content-Security-Policy; the PDF renderer is only allowed ``data:`` URIs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2

from riskmodel.collector import collecting_new_objects
from riskmodel.errors import RiskmodelError
from riskmodel.io import write_atomic

__all__ = ["BIDI_CONTROLS", "inert_text", "print_pdf", "render_html", "render_template", "weasyprint_modules"]

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")


def inert_text(value: object) -> object:
    """Make bidirectional control characters visible (``[U+202E]``); other values pass."""
    if isinstance(value, str) and not isinstance(value, jinja2.runtime.Markup):
        return _BIDI.sub(lambda m: f"[U+{ord(m.group()):04X}]", value)
    return value


def _probability(value: float | None, digits: int = 3) -> str:
    return "—" if value is None or value != value else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _number(value: float | None, digits: int = 3) -> str:
    if value is None or value != value:  # None or NaN
        return "—"
    return f"{value:.{digits}g}"


_ENVIRONMENT: jinja2.Environment | None = None


def _environment() -> jinja2.Environment:
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        environment = jinja2.Environment(
            loader=jinja2.PackageLoader("riskmodel.report", "templates"),
            autoescape=True,
            finalize=inert_text,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        environment.filters.update(probability=_probability, percent=_percent, number=_number)
        _ENVIRONMENT = environment
    return _ENVIRONMENT


def render_template(name: str, context: dict[str, Any], *, part: str) -> str:
    """Render one of the report's templates with the report context.

    Parameters
    ----------
    name
        ``report.html.j2`` (the report) or ``appendix.html.j2`` (the appendix alone).
    context
        From :func:`riskmodel.report.build_report_context`.
    part
        ``page`` (the whole report), ``main`` (all but the appendix) or ``appendix``.
    """
    return _environment().get_template(name).render(**context, part=part)


def render_html(context: dict[str, Any]) -> str:
    """Render the report context as one self-contained HTML page.

    Parameters
    ----------
    context
        From :func:`riskmodel.report.build_report_context`.

    Returns
    -------
    str
        The HTML document: inline CSS, figures as data URIs, no scripts, no external links.
    """
    return render_template("report.html.j2", context, part="page")


def print_pdf(html: str, path: str | Path) -> Path:
    """Print an HTML page of :func:`render_html` to a PDF file (WeasyPrint), atomically.

    The report itself is printed in two documents (:mod:`riskmodel.report.printing`); this
    prints any one page whole.

    Parameters
    ----------
    html
        The report page.
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
    weasyprint, url_fetcher = weasyprint_modules()
    document = weasyprint.HTML(
        string=html, base_url=None, url_fetcher=url_fetcher(allowed_protocols={"data"})
    ).render()
    # the write's own objects are few; the laid-out document (every box of every page) is not
    # garbage until the write is done, so the write's collection need not walk it
    with collecting_new_objects():
        return write_atomic(path, lambda tmp: document.write_pdf(tmp))


def weasyprint_modules() -> tuple[Any, Any]:
    """WeasyPrint and its URL fetcher class, imported when first needed.

    Raises
    ------
    RiskmodelError
        When WeasyPrint or its system libraries (Pango) are missing.
    """
    try:
        import weasyprint
        from weasyprint.urls import URLFetcher
    except (ImportError, OSError) as exc:
        raise RiskmodelError(
            f"PDF reports need WeasyPrint and the Pango library ({exc}); install them with "
            "'pip install weasyprint' and 'scripts/install-system-deps.sh'"
        ) from None
    return weasyprint, URLFetcher
