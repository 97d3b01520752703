"""Optional report sections: analyses saved beside the results, drawn if they were run.

Each analysis (win-sets, sensitivity, stress tests, linkage, side payments) saves a file in
the results folder (netCDF; CSV for linkage) and ships its own plot and table functions.
The report never runs an analysis: it looks for the file and the functions, embeds what it
finds, and otherwise says in one line that the analysis was not run. A plot or table that
fails is reported in a note instead of stopping the report.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel.report.figures import FigureFormat, figure_uri
from riskmodel.report.findings import load_linkage

__all__ = ["ANALYSES", "AnalysisSpec", "analysis_section", "dataframe_table"]

MAX_TABLE_ROWS = 40


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
    figures
        ``(module, function, caption)``: ``function(data) -> (fig, ax)``.
    tables
        ``(module, function, caption)``: ``function(data) -> pandas.DataFrame``.
    load
        Reads the file into the ``data`` the functions take (netCDF → Dataset by default).
    """

    key: str
    title: str
    file: str
    command: str
    figures: tuple[tuple[str, str, str], ...] = ()
    tables: tuple[tuple[str, str, str], ...] = ()
    load: Callable[[Path], Any] | None = None


def _load_netcdf(path: Path) -> xr.Dataset:
    with xr.open_dataset(path, engine="h5netcdf") as opened:
        return opened.load()


ANALYSES: tuple[AnalysisSpec, ...] = (
    AnalysisSpec(
        key="winset",
        title="Win-sets",
        file="winset.nc",
        command="riskmodel winset",
        figures=(
            ("riskmodel.plots.winset", "plot_winset", "Win-set map: P(deal ratified) over two issues"),
            ("riskmodel.plots.winset", "plot_winset_size", "Distribution of win-set size across worlds"),
        ),
        tables=(("riskmodel.analyses.winset", "winset_table", "Win-set size"),),
    ),
    AnalysisSpec(
        key="sensitivity",
        title="Sensitivity to each constituency",
        file="sensitivity.nc",
        command="riskmodel sensitivity",
        figures=(
            (
                "riskmodel.plots.sensitivity",
                "plot_tornado",
                "Tornado: ±1 prior SD shift of each constituency",
            ),
            ("riskmodel.plots.sensitivity", "plot_sobol", "Sobol first-order and total indices"),
        ),
        tables=(
            ("riskmodel.analyses.sensitivity", "swing_members_table", "Swing members (most often pivotal)"),
            ("riskmodel.analyses.sensitivity", "sensitivity_table", "Sensitivity by constituency"),
        ),
    ),
    AnalysisSpec(
        key="stress",
        title="Stress tests",
        file="stress.nc",
        command="riskmodel stress",
        figures=(("riskmodel.plots.stress", "plot_stress", "Ratification probability under each shock"),),
        tables=(("riskmodel.analyses.stress", "stress_table", "Stress-test ranking (largest drop first)"),),
    ),
    AnalysisSpec(
        key="linkage",
        title="Linkage",
        file="linkage_bundles.csv",
        command="riskmodel linkage",
        tables=(
            ("riskmodel.report.findings", "linkage_best_table", "Best deal found (joint P on fresh worlds)"),
            ("riskmodel.report.findings", "linkage_bundles_table", "Single-issue moves against bundles"),
        ),
        load=load_linkage,
    ),
    AnalysisSpec(
        key="side_payments",
        title="Side payments",
        file="sidepay.nc",
        command="riskmodel sidepay",
        tables=(
            ("riskmodel.report.findings", "side_payment_curve_table", "P(ratify) by side-payment budget"),
            ("riskmodel.report.findings", "side_payment_budget_table", "Budget needed to reach the target"),
        ),
    ),
)


def _function(module_name: str, name: str) -> Callable[..., Any] | None:
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    function = getattr(module, name, None)
    return function if callable(function) else None


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
    """Small variables of a dataset as tables, for analyses that ship no table function."""
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


def analysis_section(spec: AnalysisSpec, folder: Path | None, *, fmt: FigureFormat = "png") -> dict[str, Any]:
    """Build one optional section from ``folder / spec.file``, if the analysis was run.

    Returns
    -------
    dict
        ``key``, ``title``, ``status`` (``ok``, ``not_run`` or ``unreadable``), ``note`` (one
        line), ``figures`` (caption, uri), ``tables`` and ``problems`` (plots or tables that
        failed).
    """
    section: dict[str, Any] = {
        "key": spec.key,
        "title": spec.title,
        "status": "not_run",
        "note": f"Not run: no {spec.file} beside the results (run `{spec.command}` to add this section).",
        "figures": [],
        "tables": [],
        "problems": [],
    }
    path = folder / spec.file if folder is not None else None
    if path is None or not path.is_file():
        return section
    try:
        dataset = (spec.load or _load_netcdf)(path)
    except (OSError, ValueError, KeyError) as exc:
        section.update(status="unreadable", note=f"{spec.file} could not be read: {exc}")
        return section
    section.update(status="ok", note="")
    for module_name, name, caption in spec.figures:
        function = _function(module_name, name)
        if function is None:
            continue
        try:
            drawn = function(dataset)
            fig = drawn[0] if isinstance(drawn, tuple) else drawn
            section["figures"].append({"caption": caption, "uri": figure_uri(fig, fmt=fmt)})
        except Exception as exc:
            section["problems"].append(f"{module_name}.{name} failed: {type(exc).__name__}: {exc}")
    for module_name, name, caption in spec.tables:
        function = _function(module_name, name)
        if function is None:
            continue
        try:
            frame = pd.DataFrame(function(dataset))
            if not frame.empty:
                section["tables"].append(dataframe_table(frame, caption))
        except Exception as exc:
            section["problems"].append(f"{module_name}.{name} failed: {type(exc).__name__}: {exc}")
    if not section["figures"] and not section["tables"] and isinstance(dataset, xr.Dataset):
        section["tables"] = _generic_tables(dataset)
        section["note"] = (
            f"{spec.file} found; its analysis module ships no report functions, so its data are listed."
        )
    return section
