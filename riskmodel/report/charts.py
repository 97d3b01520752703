"""The report's figures as data URIs: the summary dot plot and a chart per vote.

Kept apart from the context (:mod:`riskmodel.report.context`) so that another process can draw
them (:mod:`riskmodel.report.worker`) with the very same code.
"""

from __future__ import annotations

import math

import xarray as xr
from matplotlib.figure import Figure

from riskmodel.plots.votes import plot_risk_summary, plot_vote_distribution
from riskmodel.report.figures import FigureFormat, figure_uri
from riskmodel.report.rating import RATING_BANDS

__all__ = ["FIGURE_DPI", "MAX_VOTE_CHART_DEALS", "summary_figure", "vote_figure"]


FIGURE_DPI = 120
MAX_VOTE_CHART_DEALS = 6
"""Vote charts show the first deals only (every deal is in the tables): a chart per deal and
vote would make a grid of many deals slow to draw and hard to read."""


def summary_figure(dataset: xr.Dataset, per_side: bool, fmt: FigureFormat = "png") -> str:
    """The summary dot plot (a row per deal, or per deal and side with ``per_side``) as a data URI."""
    fig, _ = plot_risk_summary(dataset, bands=[(b.lower, b.label) for b in RATING_BANDS], per_side=per_side)
    return figure_uri(fig, fmt=fmt, dpi=FIGURE_DPI)


def vote_figure(results: xr.Dataset, vote: str, fmt: FigureFormat = "png") -> str:
    """One vote's chart (its support per deal against the count needed) as a data URI."""
    return _vote_figure(results, vote, float(results["vote_needed_full"].sel(vote=vote).item()), fmt)


def _vote_figure(results: xr.Dataset, vote: str, needed: float, fmt: FigureFormat) -> str:
    deals = [str(d) for d in results["deal"].to_numpy()][:MAX_VOTE_CHART_DEALS]
    columns = min(3, len(deals))
    rows = math.ceil(len(deals) / columns)
    height = 2.0 * rows + 0.3
    # Fixed margins, not a layout engine: layout engines re-measure every label several
    # times, and text layout is most of the cost of a chart.
    fig = Figure(figsize=(8.4, height))
    fig.subplots_adjust(
        left=0.08, right=0.98, bottom=0.55 / height, top=1 - 0.3 / height, wspace=0.12, hspace=0.75
    )
    axes = fig.subplots(rows, columns, squeeze=False, sharey=True)
    for ax, deal in zip(axes.flat, deals, strict=False):
        plot_vote_distribution(results, vote, deal, ax=ax, needed=needed)
    for index, ax in enumerate(axes.flat):
        if index >= len(deals):
            ax.set_visible(False)
        elif index % columns:
            ax.set_ylabel("")
    return figure_uri(fig, fmt=fmt, dpi=FIGURE_DPI)
