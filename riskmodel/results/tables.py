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
    changes, NaN for a fixed ideal point) with ``toward_mcse`` and ``away_mcse``, ``width``,
    ``sobol_first``, ``sobol_total`` (in [0, 1], with ``_se`` and ``_low`` / ``_high``: ±2 SE
    clipped to [0, 1]) and ``pivotality``; the widest tornado first within each deal.
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
                    **_sobol_intervals(own),
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


def _sobol_intervals(own: xr.Dataset) -> dict[str, float]:
    """±2 SE intervals of the Sobol indices in [0, 1] (computed here for files that predate them)."""
    out = {}
    for name in ("sobol_first", "sobol_total"):
        if f"{name}_low" in own:
            out[f"{name}_low"] = float(own[f"{name}_low"])
            out[f"{name}_high"] = float(own[f"{name}_high"])
        else:
            value, se = float(own[name]), float(own[f"{name}_se"])
            out[f"{name}_low"] = float(np.clip(value - 2 * se, 0.0, 1.0))
            out[f"{name}_high"] = float(np.clip(value + 2 * se, 0.0, 1.0))
    return out


def stress_table(stress: xr.Dataset, *, top: int | None = None, effect: str | None = None) -> pd.DataFrame:
    """Units by the size of their largest effect on P(agreement), helping or hurting.

    Parameters
    ----------
    stress
        A stress Dataset.
    top
        Rows kept (after ``effect`` selects).
    effect
        ``"helps"`` (``"hurts"``): one row per unit that raises (lowers) some deal's probability
        of agreement, at the deal of its largest rise (drop), largest first; a unit that helps
        one deal and hurts another is in both. Every unit, by overall rank, by default.

    Returns
    -------
    pandas.DataFrame
        Columns ``rank``, ``shock``, ``kind``, ``parts``, ``effect``, ``deal`` (where the
        largest change is), ``change``, ``mcse`` and ``probability`` (there, after the shock),
        and ``worst_deal`` / ``worst_change`` (the largest drop, for files without ``impact``).
    """
    rows = []
    has_impact = "impact" in stress
    for shock in stress["shock"].to_numpy().tolist():
        unit = stress.sel(shock=shock)
        worst = str(unit["danger_deal"].item())
        deal = str(unit["impact_deal"].item()) if has_impact else worst
        change = float(unit["impact"]) if has_impact else float(unit["danger"])
        mcse = float(unit["change_mcse"].sel(outcome=AGREEMENT, deal=deal))
        if has_impact:
            kind = str(unit["effect"].item())
        else:
            kind = "unclear" if abs(change) <= 2 * mcse else ("helps" if change > 0 else "hurts")
        rows.append(
            {
                "rank": int(unit["rank"]),
                "shock": shock,
                "kind": str(unit["shock_kind"].item()),
                "parts": str(unit["shock_parts"].item()),
                "effect": kind,
                "deal": deal,
                "change": change,
                "mcse": mcse,
                "probability": float(unit["probability"].sel(outcome=AGREEMENT, deal=deal)),
                "worst_deal": worst,
                "worst_change": float(unit["danger"]),
            }
        )
    table = pd.DataFrame(rows).sort_values("rank").reset_index(drop=True)
    if effect is not None:
        table = _one_way(stress, table, effect)
    return table if top is None else table.head(top)


def _one_way(stress: xr.Dataset, table: pd.DataFrame, effect: str) -> pd.DataFrame:
    """Each unit's largest rise (``helps``) or drop (``hurts``) on any deal, largest first."""
    if effect not in ("helps", "hurts"):
        raise ValueError(f"effect must be 'helps' or 'hurts', not {effect!r}")
    change = stress["change"].sel(outcome=AGREEMENT)  # (shock, deal)
    signed = change if effect == "helps" else -change
    pick = signed.argmax("deal").to_numpy()
    deals = stress["deal"].to_numpy()
    rows = []
    for i, shock in enumerate(stress["shock"].to_numpy().tolist()):
        deal = str(deals[pick[i]])
        value = float(change.sel(shock=shock, deal=deal))
        if value * (1.0 if effect == "helps" else -1.0) <= 0:
            continue
        mcse = float(stress["change_mcse"].sel(shock=shock, outcome=AGREEMENT, deal=deal))
        rows.append(
            {
                "rank": int(table.loc[table["shock"] == shock, "rank"].iloc[0]),
                "shock": shock,
                "kind": str(stress["shock_kind"].sel(shock=shock).item()),
                "parts": str(stress["shock_parts"].sel(shock=shock).item()),
                "effect": effect if abs(value) > 2 * mcse else "unclear",
                "deal": deal,
                "change": value,
                "mcse": mcse,
                "probability": float(stress["probability"].sel(shock=shock, outcome=AGREEMENT, deal=deal)),
            }
        )
    columns = ["rank", "shock", "kind", "parts", "effect", "deal", "change", "mcse", "probability"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("change", ascending=effect == "hurts", kind="stable").reset_index(drop=True)
