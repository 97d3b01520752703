"""Ratification risk per deal and side, and each vote's count against its threshold.

Every function takes a results Dataset (:func:`riskmodel.io.load_results`) and draws it;
nothing is computed beyond picking values out of the Dataset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

__all__ = [
    "CARRIES_COLOR",
    "FALLS_SHORT_COLOR",
    "JOINT_COLOR",
    "PARTIES_JOINT",
    "joint_label",
    "plot_deal_side_heatmap",
    "plot_risk_summary",
    "plot_vote_distribution",
]

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
CARRIES_COLOR = "#0072B2"
FALLS_SHORT_COLOR = "#D55E00"
JOINT_COLOR = "#000000"
_BAND_SHADES = ("#f3f3f3", "#ffffff")


PARTIES_JOINT = "agreement of the parties"
"""The joint figure's name for a deal among some of the sides (its parties' Level-I rule)."""


def joint_label(results: xr.Dataset, deal: str) -> str:
    """How a deal's joint figure reads: every side ratifies, or the agreement of its parties.

    Results whose deals bind a subset of the sides carry ``evaluated`` (side, deal); a deal
    that leaves some side unevaluated is decided by its parties alone.
    """
    evaluated = results.get("evaluated")
    if evaluated is not None and not bool(evaluated.sel(deal=deal).all()):
        return PARTIES_JOINT
    return "all sides (joint)"


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.get_figure(root=True), ax  # type: ignore[return-value]
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _quantile(data: xr.DataArray, q: float) -> float:
    return float(data.sel(quantile=q, method="nearest"))


def plot_risk_summary(
    results: xr.Dataset,
    *,
    ax: Axes | None = None,
    bands: Sequence[tuple[float, str]] = (),
    per_side: bool = True,
) -> tuple[Figure, Axes]:
    """Draw every deal's ratification probability per side and jointly, with intervals.

    A dot is P(ratify), the share of worlds in which the side ratifies; the thick bar is the
    50% and the thin bar the 90% interval of p_e (the probability given one epistemic draw).

    Parameters
    ----------
    results
        A results Dataset.
    ax
        Axes to draw on; a new figure when omitted.
    bands
        ``(lower bound, label)`` of rating bands to shade, highest first.
    per_side
        Draw each side's row under its deal; with False, only the joint probability (for
        many deals and sides, whose per-side numbers the heat map shows).

    Returns
    -------
    (Figure, Axes)
    """
    deals = [str(d) for d in results["deal"].to_numpy()]
    sides = [str(s) for s in results["side"].to_numpy()] if per_side else []
    rows: list[tuple[str, str, Any, Any, bool]] = []
    for deal in deals:
        rows.append((deal, "", None, None, False))
        for side in sides:
            if not np.isfinite(float(results["ratification_probability"].sel(side=side, deal=deal))):
                continue  # not a party to this deal
            rows.append(
                (
                    deal,
                    side,
                    results["ratification_probability"].sel(side=side, deal=deal),
                    results["ratification_conditional_quantile"].sel(side=side, deal=deal),
                    False,
                )
            )
        rows.append(
            (
                deal,
                joint_label(results, deal),
                results["agreement_probability"].sel(deal=deal),
                results["agreement_conditional_quantile"].sel(deal=deal),
                True,
            )
        )
    fig, ax = _axes(ax, (7.5, 0.6 + 0.18 * len(rows)))
    upper = 1.0
    for i, (lower, label) in enumerate(bands):
        ax.axvspan(lower, upper, color=_BAND_SHADES[i % 2], zorder=0)
        ax.text(
            (lower + upper) / 2,
            1.0,
            label,
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=7,
            color="#555555",
        )
        upper = lower
    y = np.arange(len(rows))[::-1]
    labels = []
    for position, (deal, side, probability, quantiles, joint) in zip(y, rows, strict=True):
        if probability is None:
            labels.append(deal)
            continue
        labels.append(side)
        color = JOINT_COLOR if joint else CARRIES_COLOR
        ax.hlines(position, _quantile(quantiles, 0.05), _quantile(quantiles, 0.95), color=color, lw=1)
        ax.hlines(position, _quantile(quantiles, 0.25), _quantile(quantiles, 0.75), color=color, lw=4)
        ax.plot(
            float(probability),
            position,
            "o",
            color="white",
            mec=color,
            mew=1.5,
            ms=6,
            zorder=3,
            clip_on=False,
        )
    ax.set_yticks(y, labels, fontsize=9)
    for tick, (_, side, *_rest) in zip(ax.get_yticklabels(), rows, strict=True):
        if not side:
            tick.set_fontweight("bold")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlabel("probability of ratification (dot: P(ratify); bars: p_e 50% and 90% intervals)")
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", color="#dddddd", lw=0.5)
    ax.set_axisbelow(True)
    return fig, ax


def plot_vote_distribution(
    results: xr.Dataset,
    vote: str,
    deal: str,
    *,
    ax: Axes | None = None,
    needed: float | None = None,
) -> tuple[Figure, Axes]:
    """Draw one vote's support for one deal across worlds, against what it needs.

    Counted votes show the distribution of the count (``support_histogram``): bars at or
    above ``needed`` are drawn in the pass colour. Referendums show the quantiles of the yes
    share (``support_quantile``): 90% and 50% intervals and the median.

    Parameters
    ----------
    results
        A results Dataset with vote detail.
    vote, deal
        Names of the vote and the deal.
    ax
        Axes to draw on; a new figure when omitted.
    needed
        Votes (or, for referendums, the share) needed to carry the vote; marked when given.

    Returns
    -------
    (Figure, Axes)
    """
    if "support_quantile" not in results:
        raise ValueError("these results hold no vote detail (support_histogram / support_quantile)")
    fig, ax = _axes(ax, (4.0, 2.4))
    kind = str(results["vote_kind"].sel(vote=vote).item())
    if kind == "share":
        quantiles = results["support_quantile"].sel(vote=vote, deal=deal)
        low, high = _quantile(quantiles, 0.05), _quantile(quantiles, 0.95)
        q25, q75, median = _quantile(quantiles, 0.25), _quantile(quantiles, 0.75), _quantile(quantiles, 0.5)
        ax.hlines(0, low, high, color=CARRIES_COLOR, lw=1.5)
        ax.hlines(0, q25, q75, color=CARRIES_COLOR, lw=10)
        ax.plot(median, 0, "|", color="white", ms=14, mew=2)
        ax.set_xlim(0, 1)
        ax.set_ylim(-1, 1)
        ax.set_yticks([])
        ax.set_xlabel("yes share")
    else:
        histogram = results["support_histogram"].sel(vote=vote, deal=deal).to_numpy()
        seats = int(results["chamber_seats"].sel(vote=vote).item())
        occupied = np.flatnonzero(histogram > 0)
        lo = int(occupied.min()) if occupied.size else 0
        hi = int(occupied.max()) if occupied.size else seats
        if needed is not None:
            lo, hi = min(lo, int(needed)), max(hi, int(needed))
        pad = max(1, (hi - lo) // 20)
        lo, hi = max(0, lo - pad), min(seats, hi + pad)
        # Two step outlines (below / at or above the needed count), not one patch per count:
        # a chamber of 400 members would otherwise mean 400 bars per chart.
        edges = np.arange(lo, hi + 2) - 0.5
        heights = histogram[lo : hi + 1]
        cut = 0 if needed is None else int(np.clip(np.ceil(needed) - lo, 0, len(heights)))
        if cut > 0:
            ax.stairs(heights[:cut], edges[: cut + 1], fill=True, color=FALLS_SHORT_COLOR, lw=0)
        if cut < len(heights):
            ax.stairs(heights[cut:], edges[cut:], fill=True, color=CARRIES_COLOR, lw=0)
        ax.set_xlim(lo - 0.6, hi + 0.6)
        ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(4))
        ax.set_xlabel(f"votes in the deal's direction (of {seats})")
        ax.set_ylabel("share of worlds")
    if needed is not None:
        position = needed if kind == "share" else needed - 0.5
        ax.axvline(position, color="#333333", ls="--", lw=1)
        shown_needed = f"{needed:.0%}" if kind == "share" else f"{int(needed)}"
        ax.text(
            position,
            0.97,
            f" needed {shown_needed}",
            transform=ax.get_xaxis_transform(),
            ha="left",
            va="top",
            fontsize=8,
            color="#333333",
        )
    ax.set_title(deal, fontsize=9, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def plot_deal_side_heatmap(
    results: xr.Dataset,
    *,
    deal_labels: Sequence[str] | None = None,
    side_labels: Sequence[str] | None = None,
    no_change: Sequence[tuple[str, str]] = (),
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Draw P(ratify) of every deal (rows) and side (columns), and the joint P, as a heat map.

    Each cell holds its probability to two decimals; a side that is not party to a deal
    (NaN) is left blank and marked "n/p", and a deal that changes nothing for a side (its
    values are the side's fallback) is marked "no change" instead of a probability.

    Parameters
    ----------
    results
        A results Dataset.
    deal_labels, side_labels
        Row and column labels (deal and side names by default); keep them short.
    no_change
        ``(deal, side)`` pairs to mark "no change".
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    (Figure, Axes)
    """
    from matplotlib.colors import LinearSegmentedColormap

    deals = [str(d) for d in results["deal"].to_numpy()]
    sides = [str(s) for s in results["side"].to_numpy()]
    values = np.column_stack(
        [
            results["ratification_probability"].sel(side=sides, deal=deals).to_numpy().T,
            results["agreement_probability"].sel(deal=deals).to_numpy(),
        ]
    )
    marked = {(deals.index(d), sides.index(s)) for d, s in no_change if d in deals and s in sides}
    shown = values.copy()
    for i, j in marked:
        shown[i, j] = np.nan
    # with parties the last column is each deal's own rule over its parties, not "every side"
    columns = [*(side_labels or sides), "agreement" if "evaluated" in results else "joint"]
    rows = list(deal_labels or deals)
    longest = max((len(label) for label in rows), default=0)
    width = min(7.4, 0.6 + 0.065 * longest + 0.62 * len(columns))
    fig, ax = _axes(ax, (width, 0.9 + 0.28 * len(rows)))
    # orange (unlikely) to blue (likely): the report's colours, readable with colour-vision deficiencies
    cmap = LinearSegmentedColormap.from_list(
        "risk", [FALLS_SHORT_COLOR, "#f7f7f7", CARRIES_COLOR]
    ).with_extremes(bad="#ffffff")
    ax.imshow(np.ma.masked_invalid(shown), cmap=cmap, vmin=0, vmax=1, aspect="auto")
    size = 7 if len(columns) > 8 else 8
    for i in range(len(rows)):
        for j in range(len(columns)):
            value = values[i, j]
            if (i, j) in marked:
                text, color = "no\nchange", "#333333"
            elif not np.isfinite(value):
                text, color = "n/p", "#777777"
            else:
                text = f"{value:.2f}"
                color = "white" if abs(value - 0.5) > 0.3 else "#1d1d1f"
            weight = "bold" if j == len(columns) - 1 else "normal"
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=size - 1 if "\n" in text else size,
                color=color,
                fontweight=weight,
            )
    ax.set_xticks(
        np.arange(len(columns)),
        columns,
        fontsize=size,
        rotation=45 if len(columns) > 6 else 0,
        ha="left" if len(columns) > 6 else "center",
        rotation_mode="anchor",
    )
    ax.xaxis.tick_top()
    ax.set_yticks(np.arange(len(rows)), rows, fontsize=size)
    ax.axvline(len(columns) - 1.5, color="#1d1d1f", lw=1.2)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return fig, ax
