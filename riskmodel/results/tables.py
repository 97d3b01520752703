"""Tables of saved results: one pandas DataFrame per question, read from a Dataset.

Every function takes what a command saved (``results.nc``, ``winset.nc``, ``sensitivity.nc``,
``stress.nc``) and reshapes it; nothing is recomputed, so the command line and the report show
the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from riskmodel.results.collect import QUANTILES

__all__ = [
    "sensitivity_table",
    "stress_table",
    "summary_table",
    "swing_members",
    "swing_members_table",
    "winset_table",
]

AGREEMENT = "agreement"
"""The outcome label of the whole agreement in sensitivity and stress Datasets."""
OVERLAP = "overlap (joint)"


def summary_table(results: xr.Dataset) -> pd.DataFrame:
    """One row per deal and side (and ``joint``): probability, MCSE and the p_e intervals.

    A deal among a subset of sides lists only the sides it evaluates (its parties and their
    members); ``joint`` is then its Level-I agreement.
    """
    rows = []
    evaluated = results.get("evaluated")
    q = results["quantile"].to_numpy().tolist()
    i05, i25, i50, i75, i95 = (q.index(v) for v in QUANTILES)
    for deal in results["deal"].to_numpy().tolist():
        entries = [
            (
                side,
                results["ratification_probability"].sel(side=side, deal=deal),
                results["ratification_mcse"].sel(side=side, deal=deal),
                results["ratification_conditional_quantile"].sel(side=side, deal=deal),
            )
            for side in results["side"].to_numpy().tolist()
            if evaluated is None or bool(evaluated.sel(side=side, deal=deal))
        ]
        entries.append(
            (
                "joint",
                results["agreement_probability"].sel(deal=deal),
                results["agreement_mcse"].sel(deal=deal),
                results["agreement_conditional_quantile"].sel(deal=deal),
            )
        )
        for side, p, mcse, quant in entries:
            values = quant.to_numpy()
            rows.append(
                {
                    "deal": deal,
                    "side": side,
                    "probability": float(p),
                    "mcse": float(mcse),
                    "conditional_median": float(values[i50]),
                    "conditional_q05": float(values[i05]),
                    "conditional_q25": float(values[i25]),
                    "conditional_q75": float(values[i75]),
                    "conditional_q95": float(values[i95]),
                }
            )
    return pd.DataFrame(rows)


def winset_table(winset: xr.Dataset) -> pd.DataFrame:
    """Win-set size per side and of the overlap (every side ratifies), from a win-set map.

    Returns
    -------
    pandas.DataFrame
        One row per side and a last row ``overlap (joint)``; columns ``win-set``, ``P ≥ 50%``
        and ``P ≥ 90%`` (share of the map's deals with at least that probability of being in
        the win-set), ``E[size]`` (mean share of the map ratified in one world), ``size 5%`` and
        ``size 95%`` (quantiles of that share over worlds) and ``P(size = 0)`` (share of worlds
        in which no deal of the map is ratified). Shares are fractions in [0, 1].
    """
    entries = [
        (str(side), winset["ratification_probability"].sel(side=side), winset["winset_size"].sel(side=side))
        for side in winset["side"].to_numpy()
    ]
    entries.append((OVERLAP, winset["agreement_probability"], winset["overlap_size"]))
    rows = []
    for name, probability, size in entries:
        p = probability.to_numpy()
        s = size.to_numpy()
        rows.append(
            {
                "win-set": name,
                "P ≥ 50%": float(np.mean(p >= 0.5)),
                "P ≥ 90%": float(np.mean(p >= 0.9)),
                "E[size]": float(s.mean()),
                "size 5%": float(np.quantile(s, 0.05)),
                "size 95%": float(np.quantile(s, 0.95)),
                "P(size = 0)": float(np.mean(s == 0)),
            }
        )
    return pd.DataFrame(rows)


def swing_members(sensitivity: xr.Dataset, deal: str, *, top: int = 20) -> pd.DataFrame:
    """The whip list: the ``top`` members most often pivotal on a deal.

    Returns
    -------
    pandas.DataFrame
        Columns ``member``, ``side``, ``chamber``, ``bloc``, ``pivotality``, ``yes_probability``,
        most pivotal first (members never pivotal are left out).
    """
    chosen = sensitivity.sel(deal=deal)
    frame = (
        chosen[["member_pivotality", "member_yes_probability"]]
        .to_dataframe()
        .reset_index()
        .rename(
            columns={
                "member_pivotality": "pivotality",
                "member_yes_probability": "yes_probability",
                "member_side": "side",
                "member_chamber": "chamber",
                "member_bloc": "bloc",
            }
        )
    )
    frame = frame[frame["pivotality"] > 0].sort_values(["pivotality", "member"], ascending=[False, True])
    columns = ["member", "side", "chamber", "bloc", "pivotality", "yes_probability"]
    return frame[columns].head(top).reset_index(drop=True)


def swing_members_table(sensitivity: xr.Dataset, *, top: int = 10) -> pd.DataFrame:
    """The whip list of every deal: its ``top`` most often pivotal members."""
    frames = [
        swing_members(sensitivity, str(deal), top=top).assign(deal=str(deal))
        for deal in sensitivity["deal"].to_numpy()
    ]
    frame = pd.concat(frames, ignore_index=True)
    return frame[["deal", *[c for c in frame.columns if c != "deal"]]]


def sensitivity_table(sensitivity: xr.Dataset) -> pd.DataFrame:
    """One row per deal and constituency, for the probability that its own side ratifies.

    Columns: ``deal``, ``constituency``, ``kind``, ``side``, ``toward`` and ``away`` (tornado
    changes) with ``toward_mcse`` and ``away_mcse``, ``width``, ``sobol_first``, ``sobol_total``
    (with ``_se``) and ``pivotality``; the widest tornado first within each deal.
    """
    rows = []
    for deal in sensitivity["deal"].to_numpy().tolist():
        for label in sensitivity["constituency"].to_numpy().tolist():
            row = sensitivity.sel(deal=deal, constituency=label)
            side = str(row["constituency_side"].item())
            own = row.sel(outcome=side)
            rows.append(
                {
                    "deal": deal,
                    "constituency": label,
                    "kind": str(row["constituency_kind"].item()),
                    "side": side,
                    "toward": float(own["tornado_change"].sel(direction="toward")),
                    "toward_mcse": float(own["tornado_mcse"].sel(direction="toward")),
                    "away": float(own["tornado_change"].sel(direction="away")),
                    "away_mcse": float(own["tornado_mcse"].sel(direction="away")),
                    "width": float(own["tornado_width"]),
                    "sobol_first": float(own["sobol_first"]),
                    "sobol_first_se": float(own["sobol_first_se"]),
                    "sobol_total": float(own["sobol_total"]),
                    "sobol_total_se": float(own["sobol_total_se"]),
                    "pivotality": float(row["pivotality"]),
                }
            )
    frame = pd.DataFrame(rows)
    deal_order = {deal: i for i, deal in enumerate(sensitivity["deal"].to_numpy().tolist())}
    frame = frame.assign(_deal=frame["deal"].map(deal_order))
    return (
        frame.sort_values(["_deal", "width"], ascending=[True, False])
        .drop(columns="_deal")
        .reset_index(drop=True)
    )


def stress_table(stress: xr.Dataset, *, top: int | None = None) -> pd.DataFrame:
    """Units from most to least dangerous: rank, shock, kind, worst deal and Δ P(agreement)."""
    rows = []
    for shock in stress["shock"].to_numpy().tolist():
        unit = stress.sel(shock=shock)
        deal = str(unit["danger_deal"].item())
        rows.append(
            {
                "rank": int(unit["rank"]),
                "shock": shock,
                "kind": str(unit["shock_kind"].item()),
                "parts": str(unit["shock_parts"].item()),
                "worst_deal": deal,
                "change": float(unit["danger"]),
                "mcse": float(unit["change_mcse"].sel(outcome=AGREEMENT, deal=deal)),
                "probability": float(unit["probability"].sel(outcome=AGREEMENT, deal=deal)),
            }
        )
    table = pd.DataFrame(rows).sort_values("rank").reset_index(drop=True)
    return table if top is None else table.head(top)
