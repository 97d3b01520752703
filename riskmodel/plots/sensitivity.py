"""Tornado, Sobol and stress-ranking charts of saved sensitivity and stress Datasets.

Each function draws values picked out of a Dataset from
:func:`riskmodel.analyses.sensitivity.analyse_sensitivity`
or :func:`riskmodel.analyses.stress.stress_test` (or their saved netCDF files); nothing is computed.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["plot_sobol", "plot_stress_ranking", "plot_tornado", "short_label"]

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies.
TOWARD_COLOR = "#0072B2"
AWAY_COLOR = "#D55E00"
FIRST_COLOR = "#0072B2"
TOTAL_COLOR = "#56B4E9"
_GRID = "#dddddd"


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.get_figure(root=True), ax  # type: ignore[return-value]
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _pick(ds: xr.Dataset, deal: str | None, outcome: str | None) -> tuple[str, str]:
    deal = str(ds["deal"].to_numpy()[0]) if deal is None else deal
    outcome = "agreement" if outcome is None else outcome
    return deal, outcome


def plot_tornado(
    sensitivity: xr.Dataset,
    *,
    deal: str | None = None,
    outcome: str | None = None,
    top: int = 15,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Draw the change in probability when each constituency moves ±1 prior SD.

    Bars run from zero to the change with the ideal point moved toward the deal (blue) and
    away from it (orange), widest first, with ±2 MCSE whiskers.

    Parameters
    ----------
    sensitivity
        A sensitivity Dataset.
    deal
        Deal to draw (the first by default).
    outcome
        A side's name or ``agreement`` (default).
    top
        Constituencies drawn, widest first; constituencies that change nothing are left out.
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    (Figure, Axes)
    """
    deal, outcome = _pick(sensitivity, deal, outcome)
    chosen = sensitivity.sel(deal=deal, outcome=outcome)
    width = chosen["tornado_width"].to_numpy()
    order = [i for i in np.argsort(-width, kind="stable") if width[i] > 0][:top]
    names = chosen["constituency"].to_numpy()[order]
    fig, ax = _axes(ax, (7.0, 1.0 + 0.32 * max(len(order), 1)))
    y = np.arange(len(order))[::-1]
    for direction, color in (("toward", TOWARD_COLOR), ("away", AWAY_COLOR)):
        change = chosen["tornado_change"].sel(direction=direction).to_numpy()[order]
        mcse = chosen["tornado_mcse"].sel(direction=direction).to_numpy()[order]
        ax.barh(y, change, color=color, height=0.6, label=f"ideal point {direction} the deal")
        ax.errorbar(change, y, xerr=2 * mcse, fmt="none", ecolor="#333333", elinewidth=0.8, capsize=2)
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_yticks(y, [short_label(str(n), 34) for n in names], fontsize=8)
    baseline = float(chosen["baseline_probability"])
    ax.set_xlabel(f"change in P({outcome}) from {baseline:.3f}, deal {deal} (whiskers: ±2 MCSE)")
    if not order:
        ax.text(0.5, 0.5, "no constituency changes this probability", transform=ax.transAxes, ha="center")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(axis="x", color=_GRID, lw=0.5)
    ax.set_axisbelow(True)
    return fig, ax


def plot_sobol(
    sensitivity: xr.Dataset,
    *,
    deal: str | None = None,
    outcome: str | None = None,
    top: int = 15,
    ax: Axes | None = None,
) -> tuple[Figure, Axes]:
    """Draw first-order and total Sobol indices of each constituency, with ±2 SE whiskers.

    Parameters
    ----------
    sensitivity
        A sensitivity Dataset.
    deal
        Deal to draw (the first by default).
    outcome
        A side's name or ``agreement`` (default).
    top
        Constituencies drawn, largest total index first (zero indices are left out).
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    (Figure, Axes)
    """
    deal, outcome = _pick(sensitivity, deal, outcome)
    chosen = sensitivity.sel(deal=deal, outcome=outcome)
    total = np.nan_to_num(chosen["sobol_total"].to_numpy())
    first = np.nan_to_num(chosen["sobol_first"].to_numpy())
    order = [i for i in np.argsort(-total, kind="stable") if total[i] > 0 or first[i] != 0][:top]
    fig, ax = _axes(ax, (7.0, 1.0 + 0.4 * max(len(order), 1)))
    y = np.arange(len(order))[::-1]
    bars = (
        ("sobol_total", "sobol_total_se", TOTAL_COLOR, "total", 0.2),
        ("sobol_first", "sobol_first_se", FIRST_COLOR, "first order", -0.2),
    )
    for name, se_name, color, label, offset in bars:
        values = chosen[name].to_numpy()[order]
        se = chosen[se_name].to_numpy()[order]
        ax.barh(y + offset, values, height=0.38, color=color, label=label)
        ax.errorbar(values, y + offset, xerr=2 * se, fmt="none", ecolor="#333333", elinewidth=0.8, capsize=2)
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_yticks(y, [short_label(str(n), 34) for n in chosen["constituency"].to_numpy()[order]], fontsize=8)
    ax.set_xlabel(f"Sobol index of p_e for P({outcome}), deal {deal} (whiskers: ±2 bootstrap SE)")
    if not order:
        ax.text(0.5, 0.5, "no constituency explains any variance", transform=ax.transAxes, ha="center")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.grid(axis="x", color=_GRID, lw=0.5)
    ax.set_axisbelow(True)
    return fig, ax


def plot_stress_ranking(stress: xr.Dataset, *, top: int = 20, ax: Axes | None = None) -> tuple[Figure, Axes]:
    """Draw the shocks with the largest effect on P(agreement), helping (blue) or hurting (orange).

    Each bar is a shock's largest change in the probability of agreement on any deal, up or
    down, labelled with that deal; shocks are ordered by the size of that change.

    Parameters
    ----------
    stress
        A stress Dataset.
    top
        Shocks drawn, largest effect first (by the Dataset's ``rank``).
    ax
        Axes to draw on; a new figure when omitted.

    Returns
    -------
    (Figure, Axes)
    """
    rank = stress["rank"].to_numpy()
    order = np.argsort(rank, kind="stable")[:top]
    if "impact" in stress:
        effect = stress["impact"].to_numpy()[order]
        deals = stress["impact_deal"].to_numpy()[order]
    else:  # files written before the largest-change ranking: their worst change
        effect = stress["danger"].to_numpy()[order]
        deals = stress["danger_deal"].to_numpy()[order]
    mcse = np.array(
        [
            float(stress["change_mcse"].isel(shock=i).sel(outcome="agreement", deal=str(deal)))
            for i, deal in zip(order, deals, strict=True)
        ]
    )
    fig, ax = _axes(ax, (6.5, 1.2 + 0.3 * max(len(order), 1)))
    y = np.arange(len(order))[::-1]
    colors = [AWAY_COLOR if value < 0 else TOWARD_COLOR for value in effect]
    ax.barh(y, effect, color=colors, height=0.6)
    ax.errorbar(effect, y, xerr=2 * mcse, fmt="none", ecolor="#333333", elinewidth=0.8, capsize=2)
    labels = [
        short_label(f"{shock} ({deal})", 34)
        for shock, deal in zip(stress["shock"].to_numpy()[order], deals, strict=True)
    ]
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="#333333", lw=0.8)
    ax.set_xlabel(
        "largest change in P(agreement) on any deal\n(blue: helps, orange: hurts; whiskers ±2 MCSE)"
    )
    ax.grid(axis="x", color=_GRID, lw=0.5)
    ax.set_axisbelow(True)
    return fig, ax


def short_label(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with an ellipsis, so axis labels keep the plot's width."""
    return text if len(text) <= width else text[: width - 1] + "…"
