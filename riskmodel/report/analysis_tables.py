"""Compact tables of the sensitivity and stress analyses, sized for a printed page.

The command line's tables (:mod:`riskmodel.results.tables`) carry every number in its own
column; on an A4 page with ten sides that is too wide. These keep one column per question
and put each estimate and its uncertainty in one cell.
"""

from __future__ import annotations

import pandas as pd
import xarray as xr

from riskmodel.plots.winset import deals_on_map
from riskmodel.results.tables import sensitivity_table, stress_table

__all__ = ["sensitivity_report_table", "stress_helps_table", "stress_hurts_table", "winset_deals_table"]


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


def sensitivity_report_table(sensitivity: xr.Dataset) -> pd.DataFrame:
    """Per deal and constituency: tornado changes, Sobol indices with intervals, pivotality."""
    frame = sensitivity_table(sensitivity)
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
