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
from matplotlib.collections import QuadMesh
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D

__all__ = ["deals_on_map", "plot_winset", "plot_winset_size"]

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


def _evenly_spaced(values: np.ndarray) -> bool:
    steps = np.diff(values)
    return values.size > 1 and bool(np.all(steps > 0)) and np.allclose(steps, steps[0], rtol=1e-6, atol=0.0)


def _heat_map(ax: Axes, xs: np.ndarray, ys: np.ndarray, values: np.ndarray) -> AxesImage | QuadMesh:
    """Cells centred on the grid points, coloured by probability.

    A map's grid is evenly spaced, so it is drawn as an image: one bitmap rather than a path per
    cell, which the legend's "best" placement and the label layout would otherwise walk through.
    """
    style = {"vmin": 0.0, "vmax": 1.0, "cmap": "viridis"}
    if not (_evenly_spaced(xs) and _evenly_spaced(ys)):
        return ax.pcolormesh(xs, ys, values, shading="nearest", **style)  # type: ignore[arg-type]
    half_x, half_y = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
    extent = (xs[0] - half_x, xs[-1] + half_x, ys[0] - half_y, ys[-1] + half_y)
    return ax.imshow(
        values,
        origin="lower",
        extent=extent,
        aspect="auto",
        interpolation="nearest",
        **style,  # type: ignore[arg-type]
    )


def _axis_label(winset: xr.Dataset, axis: str) -> str:
    label = str(winset.attrs.get(f"{axis}_label", winset.attrs.get(f"{axis}_issue", axis)))
    unit = str(winset.attrs.get(f"{axis}_unit", ""))
    return f"{label} ({unit})" if unit else label


def plot_winset(
    winset: xr.Dataset, *, side: str | None = None, ax: Axes | None = None
) -> tuple[Figure, Axes]:
    """Draw the probability of win-set membership over the grid as a heat map.

    Contours mark 50% and 90%; each side's reversion is a cross. A named deal is a dot only
    when its other issues equal the map's base deal (otherwise the map's colour under it would
    not be its probability); the others are listed under the map (:func:`deals_on_map`).
    Labels are placed so they do not overlap.

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
    mesh = _heat_map(ax, xs, ys, values)
    fig.colorbar(mesh, ax=ax, label="probability")
    levels = [level for level in _CONTOURS if np.nanmin(values) < level < np.nanmax(values)]
    styles: dict[float, Literal["--", "-"]] = {0.5: "--", 0.9: "-"}
    if levels:
        lines = ax.contour(
            xs, ys, values, levels=levels, colors="white", linestyles=[styles[level] for level in levels]
        )
        ax.clabel(lines, fmt={level: f"{level:.0%}" for level in levels}, fontsize=8)
    x_issue, y_issue = str(winset.attrs["x_issue"]), str(winset.attrs["y_issue"])
    on_map, elsewhere = deals_on_map(winset)
    points = []
    for name in on_map:
        point = winset["named_deal_value"].sel(named_deal=name)
        px, py = float(point.sel(issue=x_issue)), float(point.sel(issue=y_issue))
        ax.plot(px, py, "o", color="white", markeredgecolor="black", markersize=7)
        points.append((str(name), px, py))
    _label_points(fig, ax, points)
    if elsewhere:
        ax.text(
            0.0,
            -0.16,
            "Not on this map (other issues differ from the base deal): " + ", ".join(elsewhere),
            transform=ax.transAxes,
            fontsize=7,
            va="top",
            wrap=True,
        )
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


def deals_on_map(winset: xr.Dataset) -> tuple[list[str], list[str]]:
    """Named deals that lie on the map (other issues equal the base deal's) and those that do not.

    Returns
    -------
    (list of str, list of str)
        Deals to draw on the map, and deals described as ``name (issue = value, ...)`` by where
        their other issues differ from the base deal.
    """
    values = winset["named_deal_value"]
    names = [str(n) for n in winset["named_deal"].to_numpy()]
    base = str(winset.attrs.get("base_deal", names[0] if names else ""))
    mapped = {str(winset.attrs["x_issue"]), str(winset.attrs["y_issue"])}
    others = [str(i) for i in values["issue"].to_numpy() if str(i) not in mapped]
    if base not in names or not others:
        return names, []
    reference = values.sel(named_deal=base, issue=others).to_numpy()
    on_map, elsewhere = [], []
    for name in names:
        own = values.sel(named_deal=name, issue=others).to_numpy()
        if np.allclose(own, reference, rtol=0, atol=1e-9):
            on_map.append(name)
        else:
            where = ", ".join(
                f"{i} = {v:g}" for i, v, r in zip(others, own, reference, strict=True) if v != r
            )
            elsewhere.append(f"{name} ({where})")
    return on_map, elsewhere


def _label_points(fig: Figure, ax: Axes, points: list[tuple[str, float, float]], fontsize: float = 8) -> None:
    """Label points so that no two labels overlap: each takes the first free spot around its dot.

    A greedy search over eight offsets (right, left, above, below and the diagonals, then twice
    as far), measured in display points from the dot; a label that finds no free spot takes
    the first candidate.
    """
    if not points:
        return
    fig.draw_without_rendering()  # fix the layout, so data → display coordinates are final
    to_display = ax.transData
    scale = fig.dpi / 72.0
    height = 1.25 * fontsize * scale
    steps = [(6, 4), (-6, 4), (6, -10), (-6, -10), (0, 10), (0, -16), (10, 0), (-10, 0)]
    candidates = steps + [(2 * dx, 2 * dy) for dx, dy in steps]
    taken: list[tuple[float, float, float, float]] = []
    for text, px, py in sorted(points, key=lambda p: (p[1], p[2])):
        width = 0.62 * fontsize * scale * len(text)
        cx, cy = to_display.transform((px, py))
        chosen = candidates[0]
        for dx, dy in candidates:
            left = cx + dx * scale - (width if dx < 0 else (width / 2 if dx == 0 else 0))
            box = (left, cy + dy * scale, left + width, cy + dy * scale + height)
            if not any(_overlap(box, other) for other in taken):
                chosen = (dx, dy)
                break
        dx, dy = chosen
        left = cx + dx * scale - (width if dx < 0 else (width / 2 if dx == 0 else 0))
        taken.append((left, cy + dy * scale, left + width, cy + dy * scale + height))
        ax.annotate(
            text,
            (px, py),
            textcoords="offset points",
            xytext=(dx, dy),
            ha="right" if dx < 0 else ("center" if dx == 0 else "left"),
            va="bottom",
            fontsize=fontsize,
            color="white",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "black", "alpha": 0.45, "linewidth": 0},
        )


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


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
