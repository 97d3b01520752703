"""The pooled table of a backtest suite, and what a vote's result withholds when its fit failed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from riskmodel.backtest.scoring import brier_skill, member_scores

__all__ = ["BASELINES", "FIT_KEYS", "pooled_summary", "withhold"]

BASELINES = ("party_line", "nominate_logistic")

# the keys of a vote's result that are numbers from its fit (withheld when the fit failed)
FIT_KEYS = (
    "accuracy",
    "apre",
    "brier",
    "log_score",
    "ece",
    "yea_predicted_mean",
    "yea_interval_90",
    "yea_covered",
    "p_pass",
)


def withhold(result: dict[str, Any]) -> None:
    """Withhold a failed fit's numbers from a vote's result (in place).

    A fit that failed the convergence gate is no result: its scores become ``None``, members'
    probabilities are dropped, and the numbers move under ``failed_fit_diagnostics`` (with
    ``member_probs``), which says what they are and is never pooled or shown as a score.
    """
    kept = {key: result[key] for key in FIT_KEYS}
    kept["member_probs"] = [row["prob"] for row in result["member_forecasts"]]
    kept["note"] = "from a fit that failed the convergence gate: for diagnosis only, not a result"
    for key in FIT_KEYS:
        result[key] = None
    for row in result["member_forecasts"]:
        row["prob"] = None
    result["failed_fit_diagnostics"] = kept


def pooled_summary(results: list[dict[str, Any]]) -> pd.DataFrame:
    """Per-vote rows and a pooled row.

    Pooled member-level scores treat every member of every vote as one forecast; pooled APRE
    is (Σ minority − Σ errors) / Σ minority; ``yea_covered`` pooled is the share of votes whose
    90% interval covered the recorded yes count; Brier skill is against each baseline. Only
    votes whose fit passed the convergence gate are pooled (a failed fit's scores are withheld
    and its row's scores are empty); the baselines are pooled over the same votes.
    """
    rows = []
    for r in results:
        row = {
            k: r[k] for k in ("vote_id", "label", "action", "date", "n_members", "actual_yea", "actual_nay")
        }
        row.update({k: r[k] for k in ("accuracy", "apre", "brier", "log_score", "ece", "p_pass")})
        row["yea_mean"] = r["yea_predicted_mean"]
        row["yea_lo90"], row["yea_hi90"] = r["yea_interval_90"] or (None, None)
        row["yea_covered"] = r["yea_covered"]
        for name in BASELINES:
            scores = r["baselines"].get(name) or {}
            for metric in ("accuracy", "apre", "brier", "log_score"):
                row[f"{name}_{metric}"] = scores.get(metric, np.nan)
        row["convergence_gate"] = r["convergence_gate"]
        rows.append(row)
    table = pd.DataFrame(rows)
    if not rows:
        return table
    table = table.astype(dict.fromkeys(("accuracy", "apre", "brier", "log_score", "ece", "p_pass"), float))
    passed = (table["convergence_gate"] == "passed").to_numpy()
    pooled: dict[str, Any] = {
        "vote_id": "pooled",
        "label": f"{int(passed.sum())} of {len(results)} votes (fits that passed the gate)",
        "convergence_gate": f"{int(passed.sum())}/{len(table)} passed",
    }
    if not passed.any():
        return pd.concat([table, pd.DataFrame([pooled])], ignore_index=True)
    good = [r for r, ok in zip(results, passed, strict=True) if ok]
    forecasts = pd.concat([pd.DataFrame(r["member_forecasts"]) for r in good], ignore_index=True)
    pooled.update(member_scores(forecasts["prob"].to_numpy(float), forecasts["yea"].to_numpy()))
    part = table[passed]
    n = part["n_members"].to_numpy()
    minority = np.minimum(part["actual_yea"].to_numpy(), part["actual_nay"].to_numpy())
    pooled.update(
        n_members=int(n.sum()),
        actual_yea=int(part["actual_yea"].sum()),
        actual_nay=int(part["actual_nay"].sum()),
        apre=float((minority.sum() - ((1 - part["accuracy"]) * n).sum()) / minority.sum()),
        yea_covered=float(part["yea_covered"].astype(float).mean()),
    )
    for name in BASELINES:
        ok = part[f"{name}_brier"].notna().to_numpy()
        if not ok.any():
            continue
        for metric in ("accuracy", "brier", "log_score"):
            pooled[f"{name}_{metric}"] = float(np.average(part.loc[ok, f"{name}_{metric}"], weights=n[ok]))
        errors = ((1 - part.loc[ok, f"{name}_accuracy"]) * n[ok]).sum()
        pooled[f"{name}_apre"] = float((minority[ok].sum() - errors) / minority[ok].sum())
        model_brier = float(np.average(part.loc[ok, "brier"], weights=n[ok]))
        pooled[f"brier_skill_vs_{name}"] = brier_skill(model_brier, pooled[f"{name}_brier"])
    return pd.concat([table, pd.DataFrame([pooled])], ignore_index=True)
