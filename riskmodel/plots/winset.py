"""Win-set maps and the distribution of win-set size.

Both functions take a win-set Dataset (:func:`riskmodel.analyses.winset.compute_winset` or
:func:`riskmodel.analyses.winset.load_winset`) and draw it; nothing is computed beyond picking values
out of the Dataset.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

__all__ = ["plot_winset", "plot_winset_size"]

# Okabe-Ito colours, as in riskmodel.plots.votes.
_SIDE_COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
_JOINT_COLOR = "#000000"
_CONTOURS = (0.5, 0.9)


MAX_DRAWN = 301  # grid points per axis a map is drawn from (a 1000×1000 grid: every 4th)


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.get_figure(root=True), ax  # type: ignore[return-value]
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _axis_label(winset: xr.Dataset, axis: str) -> str:
    label = str(winset.attrs.get(f"{axis}_label", winset.attrs.get(f"{axis}_issue", axis)))
    unit = str(winset.attrs.get(f"{axis}_unit", ""))
    return f"{label} ({unit})" if unit else label


def plot_winset(
    winset: xr.Dataset, *, side: str | None = None, ax: Axes | None = None
) -> tuple[Figure, Axes]:
    """Draw the probability of win-set membership over the grid as a heat map.

    Contours mark 50% and 90%; named deals are dots (at their values of the two issues; their
    other issues may differ from the map's base deal) and each side's reversion is a cross.

    Parameters
    ----------
    winset
        A win-set Dataset.
    side
        The side whose win-set to draw; the overlap of all sides (joint ratification) by default.
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    (Figure, Axes)
    """
    fig, ax = _axes(ax, (6.4, 5.2))
    if side is None:
        probability = winset["agreement_probability"]
        title = "Agreement: P(every side ratifies)"
    else:
        probability = winset["ratification_probability"].sel(side=side)
        title = f"Win-set of {side}: P(ratify)"
    # a figure cannot show more cells than it has pixels: draw every k-th grid point at most
    step = {axis: max(1, -(-winset.sizes[axis] // MAX_DRAWN)) for axis in ("x", "y")}
    probability = probability.isel(x=slice(None, None, step["x"]), y=slice(None, None, step["y"]))
    xs = probability["x"].to_numpy()
    ys = probability["y"].to_numpy()
    values = probability.transpose("y", "x").to_numpy()
    mesh = ax.pcolormesh(xs, ys, values, vmin=0.0, vmax=1.0, cmap="viridis", shading="nearest")
    fig.colorbar(mesh, ax=ax, label="probability")
    levels = [level for level in _CONTOURS if np.nanmin(values) < level < np.nanmax(values)]
    styles: dict[float, Literal["--", "-"]] = {0.5: "--", 0.9: "-"}
    if levels:
        lines = ax.contour(
            xs, ys, values, levels=levels, colors="white", linestyles=[styles[level] for level in levels]
        )
        ax.clabel(lines, fmt={level: f"{level:.0%}" for level in levels}, fontsize=8)
    x_issue, y_issue = str(winset.attrs["x_issue"]), str(winset.attrs["y_issue"])
    for name in winset["named_deal"].to_numpy():
        point = winset["named_deal_value"].sel(named_deal=name)
        px, py = float(point.sel(issue=x_issue)), float(point.sel(issue=y_issue))
        ax.plot(px, py, "o", color="white", markeredgecolor="black", markersize=7)
        ax.annotate(str(name), (px, py), textcoords="offset points", xytext=(6, 4), fontsize=8, color="white")
    for s, name in enumerate(winset["side"].to_numpy()):
        point = winset["reversion"].sel(side=name)
        color = _SIDE_COLORS[s % len(_SIDE_COLORS)]
        px, py = float(point.sel(issue=x_issue)), float(point.sel(issue=y_issue))
        ax.plot(px, py, "X", color=color, markeredgecolor="white", markersize=10, label=f"reversion ({name})")
    handles, labels = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color="black", linestyle=styles[level]) for level in levels]
    labels += [f"{level:.0%} contour" for level in levels]
    ax.legend(handles, labels, loc="best", fontsize=7, framealpha=0.8)
    ax.set_xlabel(_axis_label(winset, "x"))
    ax.set_ylabel(_axis_label(winset, "y"))
    base = winset.attrs.get("base_deal", "")
    ax.set_title(f"{title}\nother issues at '{base}'", fontsize=10)
    return fig, ax


def plot_winset_size(winset: xr.Dataset, *, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Draw the distribution over worlds of each side's win-set size and of the overlap.

    Size is the share of the map's grid ratified in one world: a small win-set is Putnam's
    tied hands — ratification risk and bargaining leverage at once.

    Parameters
    ----------
    winset
        A win-set Dataset.
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    (Figure, Axes)
    """
    fig, ax = _axes(ax, (6.4, 4.0))
    bins = np.linspace(0.0, 1.0, 41).tolist()
    for s, name in enumerate(winset["side"].to_numpy()):
        sizes = winset["winset_size"].sel(side=name).to_numpy()
        color = _SIDE_COLORS[s % len(_SIDE_COLORS)]
        ax.hist(sizes, bins=bins, histtype="step", linewidth=1.6, color=color, density=True, label=str(name))
    overlap = winset["overlap_size"].to_numpy()
    ax.hist(
        overlap,
        bins=bins,
        histtype="stepfilled",
        alpha=0.25,
        color=_JOINT_COLOR,
        density=True,
        label="overlap",
    )
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("win-set size (share of the map's deals ratified in a world)")
    ax.set_ylabel("density over worlds")
    ax.legend(fontsize=8)
    ax.set_title(
        f"Win-set size over {winset.attrs.get('n_worlds', len(overlap)):,} worlds "
        f"({winset.attrs.get('x_issue')} × {winset.attrs.get('y_issue')})",
        fontsize=10,
    )
    return fig, ax
