"""Optional report sections: analyses saved beside the results, drawn if they were run.

Each analysis (win-sets, sensitivity, stress tests, linkage, side payments) saves a file in
the results folder (netCDF; CSV for linkage). The report never runs an analysis: it looks for
the file and, when it is there, embeds the figures and tables the section's registry entry
names; otherwise it says in one line that the analysis was not run.

The registry (:data:`ANALYSES`) holds the plot and table functions themselves, imported at the
top of this module from :mod:`riskmodel.plots` and :mod:`riskmodel.results.tables` (or
:mod:`riskmodel.report.findings`): nothing is looked up by name, so a renamed or missing
function fails at import (and in the tests), never silently. A figure or table that fails on
the file at hand becomes a visible warning in its section instead of stopping the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel.errors import RiskmodelError
from riskmodel.io import load_netcdf
from riskmodel.plots.sensitivity import plot_sobol, plot_tornado
from riskmodel.plots.stress import plot_stress
from riskmodel.plots.winset import plot_winset, plot_winset_size
from riskmodel.report.analysis_tables import (
    sensitivity_report_table,
    stress_helps_table,
    stress_hurts_table,
    winset_deals_table,
    winset_pairs_table,
    winset_report_table,
)
from riskmodel.report.figures import FigureFormat, figure_uri
from riskmodel.report.findings import (
    linkage_best_table,
    linkage_bundles_table,
    load_linkage,
    side_payment_budget_table,
    side_payment_curve_table,
)
from riskmodel.results.tables import swing_members_table

__all__ = [
    "ANALYSES",
    "AnalysisSpec",
    "SectionFigure",
    "SectionTable",
    "analysis_section",
    "analysis_sections",
    "dataframe_table",
]

MAX_TABLE_ROWS = 40


def _name(function: Callable[..., Any]) -> str:
    return f"{getattr(function, '__module__', '?')}.{getattr(function, '__qualname__', repr(function))}"


@dataclass(frozen=True)
class SectionFigure:
    """A figure of a section: ``function(data) -> (fig, ax)`` and its caption."""

    function: Callable[[Any], Any]
    caption: str

    @property
    def name(self) -> str:
        """The function's dotted name (for warnings)."""
        return _name(self.function)


@dataclass(frozen=True)
class SectionTable:
    """A table of a section: ``function(data) -> pandas.DataFrame`` and its caption."""

    function: Callable[[Any], pd.DataFrame]
    caption: str
    when_empty: str | None = None
    """What an empty table means, said as a note (by default an empty table is a problem)."""

    @property
    def name(self) -> str:
        """The function's dotted name (for warnings)."""
        return _name(self.function)


@dataclass(frozen=True)
class AnalysisSpec:
    """Where an analysis saves its results and which functions draw and tabulate them.

    Attributes
    ----------
    key, title
        Section identifier and heading.
    file
        File name in the results folder.
    command
        How a user runs the analysis (shown when it was not run).
    figures, tables
        What the section shows, in order.
    load
        Reads the file into the ``data`` the functions take (netCDF → Dataset by default).
    """

    key: str
    title: str
    file: str
    command: str
    figures: tuple[SectionFigure, ...] = ()
    tables: tuple[SectionTable, ...] = ()
    load: Callable[[Path], Any] | None = None


ANALYSES: tuple[AnalysisSpec, ...] = (
    AnalysisSpec(
        key="winset",
        title="Win-sets",
        file="winset.nc",
        command="riskmodel winset",
        figures=(
            SectionFigure(plot_winset, "Win-set map: P(deal ratified) over two issues"),
            SectionFigure(plot_winset_size, "Distribution of win-set size across worlds"),
        ),
        tables=(
            SectionTable(winset_report_table, "Win-set size per side and their overlap"),
            SectionTable(
                winset_pairs_table,
                "Overlap of each pair of sides' win-sets (share of the map both are likely to ratify)",
                when_empty="One side only: no pair of win-sets to overlap.",
            ),
            SectionTable(
                winset_deals_table,
                "Named deals on the map: a deal whose other issues differ from the base deal is not "
                "drawn (the map's colour under it would not be its probability)",
            ),
        ),
    ),
    AnalysisSpec(
        key="sensitivity",
        title="Sensitivity to each constituency",
        file="sensitivity.nc",
        command="riskmodel sensitivity",
        figures=(
            SectionFigure(plot_tornado, "Tornado: ±1 prior SD shift of each constituency"),
            SectionFigure(plot_sobol, "Sobol first-order and total indices"),
        ),
        tables=(
            SectionTable(swing_members_table, "Swing members (most often pivotal)"),
            SectionTable(
                sensitivity_report_table,
                "Sensitivity by constituency: change in its side's P(ratify) (n/a: fixed ideal point), "
                "Sobol indices in [0, 1] with ±2 SE intervals, pivotality (P(outcome flips if its votes "
                "are redrawn))",
            ),
        ),
    ),
    AnalysisSpec(
        key="stress",
        title="Stress tests",
        file="stress.nc",
        command="riskmodel stress",
        figures=(SectionFigure(plot_stress, "Largest change in P(agreement) under each shock, either way"),),
        tables=(
            SectionTable(
                stress_hurts_table,
                "Shocks that lower P(agreement), largest drop first",
                when_empty="No shock lowers the probability of agreement of any deal swept.",
            ),
            SectionTable(
                stress_helps_table,
                "Shocks that raise P(agreement), largest rise first",
                when_empty="No shock raises the probability of agreement of any deal swept.",
            ),
        ),
    ),
    AnalysisSpec(
        key="linkage",
        title="Linkage",
        file="linkage_bundles.csv",
        command="riskmodel linkage",
        tables=(
            SectionTable(linkage_best_table, "Best deal found (joint P on fresh worlds)"),
            SectionTable(linkage_bundles_table, "Single-issue moves against bundles"),
        ),
        load=load_linkage,
    ),
    AnalysisSpec(
        key="side_payments",
        title="Side payments",
        file="sidepay.nc",
        command="riskmodel sidepay",
        tables=(
            SectionTable(side_payment_curve_table, "P(ratify) by side-payment budget"),
            SectionTable(side_payment_budget_table, "Budget needed to reach the target"),
        ),
    ),
)
"""The report's optional sections, in the order they appear."""


def _cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return "—" if np.isnan(value) else f"{float(value):.3g}"
    return str(value)


def dataframe_table(frame: pd.DataFrame, caption: str, *, max_rows: int = MAX_TABLE_ROWS) -> dict[str, Any]:
    """A DataFrame as a report table: caption, column names, rows of strings, rows left out."""
    frame = frame.reset_index() if not isinstance(frame.index, pd.RangeIndex) else frame
    shown = frame.head(max_rows)
    return {
        "caption": caption,
        "columns": [str(c) for c in shown.columns],
        "rows": [[_cell(v) for v in row] for row in shown.itertuples(index=False)],
        "more": max(0, len(frame) - max_rows),
    }


def _generic_tables(dataset: xr.Dataset) -> list[dict[str, Any]]:
    """Small variables of a dataset as tables, for analyses that show nothing else."""
    tables = []
    for name, variable in dataset.data_vars.items():
        if 1 <= variable.ndim <= 2 and variable.size <= 400:
            frame = (
                variable.to_series().unstack()
                if variable.ndim == 2
                else variable.to_dataframe(name=str(name))
            )
            tables.append(dataframe_table(frame, str(name)))
    return tables


def _load_netcdf(path: Path) -> xr.Dataset:
    return load_netcdf(path, kind="riskmodel netCDF")


def analysis_section(spec: AnalysisSpec, folder: Path | None, *, fmt: FigureFormat = "png") -> dict[str, Any]:
    """Build one optional section from ``folder / spec.file``, if the analysis was run.

    Returns
    -------
    dict
        ``key``, ``title``, ``status`` (``ok``, ``not_run`` or ``unreadable``), ``note`` (one
        line), ``figures`` (caption, uri), ``tables`` and ``problems`` (figures or tables that
        failed or had nothing to show, one line each; the report shows them as warnings).
    """
    section: dict[str, Any] = {
        "key": spec.key,
        "title": spec.title,
        "status": "not_run",
        "note": f"Not run: no {spec.file} beside the results (run `{spec.command}` to add this section).",
        "figures": [],
        "tables": [],
        "notes": [],
        "problems": [],
    }
    path = folder / spec.file if folder is not None else None
    if path is None or not path.is_file():
        return section
    try:
        dataset = (spec.load or _load_netcdf)(path)
    except (RiskmodelError, OSError, ValueError, KeyError) as exc:
        section.update(status="unreadable", note=f"{spec.file} could not be read: {exc}")
        return section
    section.update(status="ok", note="")
    for figure in spec.figures:
        try:
            drawn = figure.function(dataset)
            fig = drawn[0] if isinstance(drawn, tuple) else drawn
            section["figures"].append({"caption": figure.caption, "uri": figure_uri(fig, fmt=fmt)})
        except Exception as exc:
            section["problems"].append(f"{figure.name} failed: {type(exc).__name__}: {exc}")
    for table in spec.tables:
        try:
            frame = pd.DataFrame(table.function(dataset))
        except Exception as exc:
            section["problems"].append(f"{table.name} failed: {type(exc).__name__}: {exc}")
            continue
        if frame.empty and table.when_empty is not None:
            section["notes"].append(table.when_empty)
        elif frame.empty:
            section["problems"].append(f"{table.caption}: {spec.file} holds nothing to tabulate.")
        else:
            section["tables"].append(dataframe_table(frame, table.caption))
    if not section["figures"] and not section["tables"] and isinstance(dataset, xr.Dataset):
        section["tables"] = _generic_tables(dataset)
        section["note"] = (
            f"{spec.file} found; this section has no figures or tables of its own, so its data are listed."
            if not spec.figures and not spec.tables
            else f"{spec.file} found, but none of its figures or tables could be drawn; its data are listed."
        )
    return section


def analysis_sections(
    folder: Path | None, *, fmt: FigureFormat = "png", analyses: Sequence[AnalysisSpec] | None = None
) -> list[dict[str, Any]]:
    """Every optional section of the registry (:data:`ANALYSES` unless ``analyses`` is given)."""
    return [analysis_section(spec, folder, fmt=fmt) for spec in (ANALYSES if analyses is None else analyses)]
