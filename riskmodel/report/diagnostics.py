"""Model diagnostics for the report: Monte Carlo error always, MCMC checks when draws are MCMC.

Forward draws of the prior are independent by construction: their effective sample size is
their number, and R-hat, divergences and a convergence gate do not apply. Posterior draws
(MCMC) are checked per side and deal on the conditional ratification probability p_e: rank
R-hat and bulk ESS (Vehtari et al. 2021), with the gate R-hat ≤ 1.01 and ESS ≥ 400, plus
the sampler's divergences when the results record them.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import xarray as xr

from riskmodel import resultsfile

__all__ = ["ESS_MIN", "RHAT_MAX", "diagnostics"]

# the sampler's gate values, not a copy of them
RHAT_MAX, ESS_MIN = resultsfile.RHAT_MAX, resultsfile.ESS_MIN


def _attr(results: xr.Dataset, name: str, default: Any = None) -> Any:
    value = results.attrs.get(name, default)
    return value.item() if isinstance(value, np.generic) else value


def _mcmc_checks(results: xr.Dataset, chains: int) -> list[dict[str, Any]]:
    """R-hat and bulk ESS of p_e per side and deal (and jointly)."""
    rows: list[dict[str, Any]] = []
    if "ratification_conditional" not in results or chains < 2:
        return rows
    import arviz_stats as azs  # only MCMC results need it

    series: list[tuple[str, str, np.ndarray]] = []
    for side in results["side"].to_numpy().tolist():
        for deal in results["deal"].to_numpy().tolist():
            values = results["ratification_conditional"].sel(side=side, deal=deal).to_numpy()
            series.append((str(deal), str(side), values))
    if "agreement_conditional" in results:
        for deal in results["deal"].to_numpy().tolist():
            series.append((str(deal), "joint", results["agreement_conditional"].sel(deal=deal).to_numpy()))
    for deal, side, values in series:
        if values.size % chains:
            continue
        shaped = values.reshape(chains, -1)
        constant = bool(np.all(shaped == shaped.flat[0]))
        rhat = math.nan if constant else float(azs.rhat(shaped, chain_axis=0, draw_axis=1))
        ess = math.nan if constant else float(azs.ess(shaped, chain_axis=0, draw_axis=1))
        rows.append({"deal": deal, "side": side, "rhat": rhat, "ess": ess, "constant": constant})
    return rows


def diagnostics(results: xr.Dataset) -> dict[str, Any]:
    """Summarise how far the report's numbers can be trusted as Monte Carlo estimates.

    Parameters
    ----------
    results
        A results Dataset.

    Returns
    -------
    dict
        ``independent`` (prior forward draws), ``statement`` (plain words), ``n_draws``,
        ``chains``, ``ess`` (draws' effective sample size when known), ``mcse_max`` and
        ``mcse_joint_max``, ``checks`` (per side and deal: R-hat, ESS), ``divergences``,
        ``verdict`` (``pass``, ``fail``, ``not applicable`` or ``not recorded``) and
        ``verdict_reason``.
    """
    evidence = str(_attr(results, "evidence", "prior"))
    n_draws = int(_attr(results, "n_draws", results.sizes.get("draw", 0)))
    chains = int(_attr(results, "chains", 1))
    independent = evidence == "prior"
    out: dict[str, Any] = {
        "evidence": evidence,
        "independent": independent,
        "n_draws": n_draws,
        "chains": chains,
        "n_replicates": int(_attr(results, "n_replicates", 0)),
        "n_worlds": int(_attr(results, "n_worlds", 0)),
        "mcse_max": float(results["ratification_mcse"].max()),
        "mcse_joint_max": float(results["agreement_mcse"].max()),
        "checks": [],
        "divergences": _attr(results, "divergences"),
        "rhat_max": RHAT_MAX,
        "rhat_worst": None,
        "ess_min": ESS_MIN,
    }
    if independent:
        out.update(
            ess=n_draws,
            statement=(
                f"The {n_draws:,} epistemic draws are independent forward draws of the prior "
                "(no evidence was conditioned on), so MCMC diagnostics (R-hat, divergences, a "
                "convergence gate) do not apply: the effective sample size is the number of "
                "draws. The Monte Carlo standard error (MCSE) of each probability is shown."
            ),
            verdict="not applicable",
            verdict_reason="no MCMC was run",
        )
        return out
    checks = _mcmc_checks(results, chains)
    out["checks"] = checks
    finite = [c for c in checks if not c["constant"]]
    out["ess"] = min((c["ess"] for c in finite), default=None)
    out["rhat_worst"] = max((c["rhat"] for c in finite), default=None)
    out["statement"] = (
        f"The draws come from MCMC ({chains} chains × {n_draws // max(chains, 1):,} draws) "
        f"conditioned on evidence ({evidence}). R-hat and bulk ESS are computed on p_e per side "
        "and deal; a p_e that is the same in every draw has no R-hat."
    )
    recorded = _attr(results, "convergence")
    if recorded is not None:
        verdict = json.loads(recorded) if isinstance(recorded, str) and recorded.startswith("{") else recorded
        if isinstance(verdict, dict):
            out.update(
                verdict=str(verdict.get("verdict", "not recorded")),
                verdict_reason=str(verdict.get("reason", "")),
            )
        else:
            out.update(verdict=str(verdict), verdict_reason="as recorded by the sampler")
        return out
    if not finite:
        out.update(verdict="not recorded", verdict_reason="no chains to compare in these results")
        return out
    worst_rhat = out["rhat_worst"]
    reasons = []
    if worst_rhat > RHAT_MAX:
        reasons.append(f"max R-hat {worst_rhat:.3f} > {RHAT_MAX}")
    if out["ess"] is not None and out["ess"] < ESS_MIN:
        reasons.append(f"min ESS {out['ess']:.0f} < {ESS_MIN}")
    if out["divergences"]:
        reasons.append(f"{out['divergences']} divergent transitions")
    out.update(
        verdict="fail" if reasons else "pass",
        verdict_reason="; ".join(reasons) or f"R-hat ≤ {RHAT_MAX}, ESS ≥ {ESS_MIN}, no divergences recorded",
    )
    return out
