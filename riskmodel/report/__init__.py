"""Risk reports in HTML and PDF, built from saved results without re-simulating.

One report context (:func:`build_report_context`) feeds every renderer
(:func:`render_html`, :func:`render_pdf`); :func:`build_report` does both in memory and
:func:`write_report` writes them for a results file. ``riskmodel run --report`` builds the
report in a child process that starts with the run (:mod:`riskmodel.report.worker`).

The names below are loaded on first use (PEP 562), so that the run can import
:mod:`riskmodel.report.worker` (and fork) before WeasyPrint, matplotlib and xarray are loaded.

Examples
--------
>>> from riskmodel.report import write_report
>>> written = write_report("reports/usmca_2019/results.nc")  # doctest: +SKIP
>>> written.html, written.pdf  # doctest: +SKIP
(PosixPath('reports/usmca_2019/report.html'), PosixPath('reports/usmca_2019/report.pdf'))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from riskmodel.report.build import build_report, write_report
    from riskmodel.report.context import build_report_context
    from riskmodel.report.files import BuiltReport, ReportFiles, write_built
    from riskmodel.report.printing import render_pdf
    from riskmodel.report.rating import RATING_BANDS, RatingBand, risk_rating
    from riskmodel.report.render import render_html

__all__ = [
    "RATING_BANDS",
    "BuiltReport",
    "RatingBand",
    "ReportFiles",
    "build_report",
    "build_report_context",
    "render_html",
    "render_pdf",
    "risk_rating",
    "write_built",
    "write_report",
]


def __getattr__(name: str) -> Any:
    """Load a re-exported name from the module that defines it, on first use."""
    if name in ("build_report", "write_report"):
        from riskmodel.report import build

        value = getattr(build, name)
    elif name in ("BuiltReport", "ReportFiles", "write_built"):
        from riskmodel.report import files

        value = getattr(files, name)
    elif name == "build_report_context":
        from riskmodel.report.context import build_report_context as value
    elif name == "render_pdf":
        from riskmodel.report.printing import render_pdf as value
    elif name in ("RATING_BANDS", "RatingBand", "risk_rating"):
        from riskmodel.report import rating

        value = getattr(rating, name)
    elif name == "render_html":
        from riskmodel.report.render import render_html as value
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
