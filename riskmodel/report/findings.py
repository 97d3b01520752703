"""Report tables for the deal-design analyses, read from the files their commands write.

``riskmodel linkage`` writes ``linkage.json`` (the best deal) and ``linkage_bundles.csv``
(single-issue moves against bundles); ``riskmodel sidepay`` writes ``sidepay.nc`` (P(ratify)
against the chiefs' side-payment budget). These functions only reshape what was saved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

__all__ = [
    "linkage_best_table",
    "linkage_bundles_table",
    "load_linkage",
    "side_payment_budget_table",
    "side_payment_curve_table",
]

MAX_CURVE_ROWS = 11


def load_linkage(path: Path) -> dict[str, Any]:
    """Read ``linkage_bundles.csv`` and, beside it, ``linkage.json`` when present."""
    found: dict[str, Any] = {"bundles": pd.read_csv(path), "best": None}
    best = path.parent / "linkage.json"
    if best.is_file():
        found["best"] = json.loads(best.read_text(encoding="utf-8"))
    return found


def linkage_best_table(linkage: dict[str, Any]) -> pd.DataFrame:
    """The best deal found and the single-issue optima: values and P on fresh worlds."""
    payload = linkage.get("best")
    if not payload:
        return pd.DataFrame()
    rows = []
    entries = [("best deal", payload.get("best", {}))]
    entries += [
        (f"best move of {name} alone", item) for name, item in payload.get("single_issue", {}).items()
    ]
    for what, item in entries:
        deal = item.get("deal", {})
        rows.append(
            {
                "deal": what,
                **{issue: f"{value:.4g}" for issue, value in deal.items()},
                "P(agreement), fresh worlds": item.get("probability_fresh_worlds"),
                "MCSE": item.get("mcse_fresh_worlds"),
            }
        )
    return pd.DataFrame(rows)


def linkage_bundles_table(linkage: dict[str, Any]) -> pd.DataFrame:
    """Bundles of moves toward the best deal: joint P, pass, and whether linkage is synergistic."""
    bundles: pd.DataFrame = linkage["bundles"]
    wanted = [
        c for c in ("bundle", "agreement_probability", "passes", "parts_fail", "synergistic") if c in bundles
    ]
    return bundles[wanted] if wanted else bundles


def side_payment_curve_table(sidepay: xr.Dataset) -> pd.DataFrame:
    """P(ratify) per side and jointly at a few budgets (every chief pays for its own side)."""
    budgets = sidepay["budget"].to_numpy()
    shown = np.unique(np.linspace(0, len(budgets) - 1, min(len(budgets), MAX_CURVE_ROWS)).astype(int))
    rows = []
    for i in shown:
        row: dict[str, Any] = {"budget": f"{budgets[i]:.4g}"}
        for side in sidepay["side"].to_numpy().tolist():
            row[str(side)] = float(sidepay["ratification_probability"].sel(side=side)[i])
        row["joint"] = float(sidepay["agreement_probability"][i])
        rows.append(row)
    return pd.DataFrame(rows)


def side_payment_budget_table(sidepay: xr.Dataset) -> pd.DataFrame:
    """Budget each chief needs to reach the target probability (∞: purchases cannot reach it)."""
    rows = [
        {
            "side": str(side),
            "P without payments": float(sidepay["ratification_probability_unpaid"].sel(side=side)),
            "budget for own ratification": float(sidepay["budget_needed"].sel(side=side)),
            "budget for agreement, this chief alone pays": float(
                sidepay["budget_needed_one_payer"].sel(side=side)
            ),
        }
        for side in sidepay["side"].to_numpy().tolist()
    ]
    if "budget_needed_agreement" in sidepay:
        rows.append(
            {
                "side": "every chief pays",
                "budget for agreement, this chief alone pays": float(sidepay["budget_needed_agreement"]),
            }
        )
    return pd.DataFrame(rows)
