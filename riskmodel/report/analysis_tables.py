"""Compact tables of the sensitivity and stress analyses, sized for a printed page.

The command line's tables (:mod:`riskmodel.results.tables`) carry every number in its own
column; on an A4 page with ten sides that is too wide. These keep one column per question
and put each estimate and its uncertainty in one cell.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel.plots.votes import PARTIES_JOINT
from riskmodel.plots.winset import deals_on_map
from riskmodel.results.tables import OVERLAP, sensitivity_table, stress_table, winset_table

__all__ = [
    "sensitivity_report_table",
    "stress_helps_table",
    "stress_hurts_table",
    "winset_deals_table",
    "winset_pairs_table",
    "winset_report_table",
]


def _change(value: float, mcse: float) -> str:
    return "n/a" if value != value else f"{value:+.3f} ± {mcse:.3f}"


def _index(value: float, low: float, high: float) -> str:
    if value != value:
        return "—"
    return f"{value:.2f} [{low:.2f}, {high:.2f}]"


def _stress(stress: xr.Dataset, effect: str) -> pd.DataFrame:
    frame = stress_table(stress, effect=effect)
    return pd.DataFrame(
        {
            "shock": [
                f"{row.shock} = {row.parts}" if row.kind == "combination" else str(row.shock)
                for row in frame.itertuples()
            ],
            "deal": frame["deal"].astype(str),
            "Δ P(agreement) ± MCSE": [
                _change(c, m) + (" (within 2 MCSE)" if e == "unclear" else "")
                for c, m, e in zip(frame["change"], frame["mcse"], frame["effect"], strict=True)
            ],
            "P after": [f"{p:.3f}" for p in frame["probability"]],
        }
    )


def stress_hurts_table(stress: xr.Dataset) -> pd.DataFrame:
    """Shocks that lower some deal's P(agreement): the deal of the largest drop, largest first."""
    return _stress(stress, "hurts")


def stress_helps_table(stress: xr.Dataset) -> pd.DataFrame:
    """Shocks that raise some deal's P(agreement): the deal of the largest rise, largest first."""
    return _stress(stress, "helps")


def _evaluated_constituencies(sensitivity: xr.Dataset, frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of constituencies whose side the deal evaluates (all, without ``evaluated``)."""
    if "evaluated" not in sensitivity:
        return frame
    side_of = dict(
        zip(
            sensitivity["constituency"].to_numpy().tolist(),
            sensitivity["constituency_side"].to_numpy().tolist(),
            strict=True,
        )
    )
    evaluated = sensitivity["evaluated"]
    keep = [
        bool(evaluated.sel(side=side_of[str(c)], deal=str(d)))
        for c, d in zip(frame["constituency"], frame["deal"], strict=True)
    ]
    return frame[keep].reset_index(drop=True)


def sensitivity_report_table(sensitivity: xr.Dataset) -> pd.DataFrame:
    """Per deal and constituency: tornado changes, Sobol indices with intervals, pivotality.

    A deal among some of the sides lists only the constituencies of the sides it evaluates.
    """
    frame = _evaluated_constituencies(sensitivity, sensitivity_table(sensitivity))
    return pd.DataFrame(
        {
            "deal": frame["deal"].astype(str),
            "constituency": frame["constituency"].astype(str),
            "Δ toward": [_change(v, m) for v, m in zip(frame["toward"], frame["toward_mcse"], strict=True)],
            "Δ away": [_change(v, m) for v, m in zip(frame["away"], frame["away_mcse"], strict=True)],
            "Sobol first [±2 SE]": [
                _index(v, lo, hi)
                for v, lo, hi in zip(
                    frame["sobol_first"], frame["sobol_first_low"], frame["sobol_first_high"], strict=True
                )
            ],
            "Sobol total [±2 SE]": [
                _index(v, lo, hi)
                for v, lo, hi in zip(
                    frame["sobol_total"], frame["sobol_total_low"], frame["sobol_total_high"], strict=True
                )
            ],
            "pivotal": ["—" if p != p else f"{p:.3f}" for p in frame["pivotality"]],
        }
    )


def winset_deals_table(winset: xr.Dataset) -> pd.DataFrame:
    """Each named deal: whether the win-set map shows it, and if not where its other issues lie."""
    on_map, elsewhere = deals_on_map(winset)
    base = str(winset.attrs.get("base_deal", ""))
    rows = [{"deal": name, "on the map": "yes", "other issues": f"as '{base}'"} for name in on_map]
    for entry in elsewhere:
        name, _, where = entry.partition(" (")
        rows.append({"deal": name, "on the map": "no", "other issues": where.rstrip(")")})
    return pd.DataFrame(rows, columns=["deal", "on the map", "other issues"])


def _evaluated_sides(winset: xr.Dataset) -> list[str]:
    sides = [str(s) for s in winset["side"].to_numpy()]
    if "evaluated" not in winset.coords and "evaluated" not in winset:
        return sides
    return [side for side, ok in zip(sides, winset["evaluated"].to_numpy().tolist(), strict=True) if ok]


def winset_report_table(winset: xr.Dataset) -> pd.DataFrame:
    """Win-set size per side and of their overlap, for the sides the map's base deal evaluates.

    Around a deal among some of the sides, the other sides' rows (not evaluated) are left out
    and the overlap row is the agreement of the deal's parties.
    """
    frame = winset_table(winset)
    sides = _evaluated_sides(winset)
    if len(sides) == winset.sizes["side"]:
        return frame
    frame = frame[frame["win-set"].isin([*sides, OVERLAP])].reset_index(drop=True)
    frame.loc[frame["win-set"] == OVERLAP, "win-set"] = PARTIES_JOINT
    return frame


def winset_pairs_table(winset: xr.Dataset) -> pd.DataFrame:
    """Each pair of evaluated sides: the share of the map both are likely to ratify.

    ``both P ≥ 50%`` and ``both P ≥ 90%`` are the shares of the map's deals where each of the
    two sides' P(ratify) reaches that level: where a bilateral bargain between them is open,
    whatever the other sides do. Empty with a single side.
    """
    sides = _evaluated_sides(winset)
    columns = ["pair", "both P ≥ 50%", "both P ≥ 90%"]
    if len(sides) < 2:
        return pd.DataFrame(columns=columns)
    p = {side: winset["ratification_probability"].sel(side=side).to_numpy() for side in sides}
    rows = [
        {
            "pair": f"{a} & {b}",
            "both P ≥ 50%": float(np.mean((p[a] >= 0.5) & (p[b] >= 0.5))),
            "both P ≥ 90%": float(np.mean((p[a] >= 0.9) & (p[b] >= 0.9))),
        }
        for a, b in itertools.combinations(sides, 2)
    ]
    return pd.DataFrame(rows, columns=columns)
